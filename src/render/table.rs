//! Tables: comfy-table with borders on a terminal, plain aligned columns in a pipe.

use comfy_table::{
    Attribute, Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, presets,
};

use super::{Output, Role};

/// A table ready for rows; `numeric` lists the right-aligned columns.
pub fn new(headers: &[&str], numeric: &[usize], out: &Output) -> Table {
    let mut table = Table::new();
    if out.tty {
        table.load_style(presets::UTF8_FULL_CONDENSED.with_rounded_corners());
    } else {
        // No borders: one line per row that grep and awk can split on blanks.
        table.load_style(presets::NOTHING);
    }
    table.set_content_arrangement(ContentArrangement::Disabled);
    if out.style.colored() {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table.set_header(headers.to_vec());
    for &index in numeric {
        if let Some(column) = table.column_mut(index) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    for column in table.column_iter_mut() {
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
    table
}

/// A cell coloured for `role` (comfy-table measures its width without the escape codes).
pub fn cell(text: impl ToString, role: Role) -> Cell {
    let cell = Cell::new(text.to_string());
    match role {
        Role::Name => cell.add_attribute(Attribute::Bold),
        Role::Inet => cell.fg(Color::Magenta),
        Role::Inet6 => cell.fg(Color::Blue),
        Role::Mac => cell.fg(Color::Yellow),
        Role::Good => cell.fg(Color::Green),
        Role::Bad => cell.fg(Color::Red),
    }
}

/// The table as text with trailing blanks trimmed and a final newline.
pub fn finish(table: &Table) -> String {
    let mut text = String::new();
    for line in table.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
