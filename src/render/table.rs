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

/// Table cells stored back to back in one string: building a 50 000-row
/// table costs a handful of allocations, not one per cell.
#[derive(Debug, Default)]
pub struct Rows {
    text: String,
    /// Where each cell ends in `text` (it starts where the previous one ends).
    ends: Vec<u32>,
    columns: usize,
    /// The widest cell of each column so far, kept as cells arrive so the
    /// table needs no second look at them before it is laid out.
    widths: Vec<usize>,
    /// The column the next cell goes in.
    column: usize,
}

impl Rows {
    /// An empty table of `columns` columns.
    pub fn new(columns: usize) -> Self {
        Rows {
            text: String::new(),
            ends: Vec::new(),
            columns,
            widths: vec![0; columns],
            column: 0,
        }
    }

    /// Makes room for `rows` more rows of about `bytes` each, so a large
    /// table's text grows once instead of doubling its way up.
    pub fn reserve(&mut self, rows: usize, bytes: usize) {
        self.text.reserve(rows.saturating_mul(bytes));
        self.ends.reserve(rows.saturating_mul(self.columns));
    }

    /// Appends one cell (rows fill left to right, `columns` cells each).
    pub fn push(&mut self, value: impl std::fmt::Display) {
        use std::fmt::Write;
        let _ = write!(self.text, "{value}");
        self.end_cell();
    }

    /// Appends one cell of plain text.
    pub fn push_str(&mut self, value: &str) {
        self.text.push_str(value);
        self.end_cell();
    }

    /// Appends one cell of a number, without the formatting machinery
    /// (a 50,000-row socket table has 100,000 of them).
    pub fn push_u64(&mut self, value: u64) {
        push_decimal(&mut self.text, value);
        self.end_cell();
    }

    /// Appends one cell written by `write` straight into the table's text.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.end_cell();
    }

    fn end_cell(&mut self) {
        let start = self.ends.last().map_or(0, |&end| end as usize);
        let width = display_width(self.text.get(start..).unwrap_or_default());
        if let Some(widest) = self.widths.get_mut(self.column) {
            *widest = (*widest).max(width);
        }
        self.column = if self.column + 1 >= self.columns {
            0
        } else {
            self.column + 1
        };
        // Offsets fit in u32: a table of 4 GiB of text is not printed.
        self.ends.push(self.text.len() as u32);
    }

    /// Number of complete rows.
    pub fn len(&self) -> usize {
        self.ends.len().checked_div(self.columns).unwrap_or(0)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn row(&self, index: usize) -> impl Iterator<Item = &str> {
        let first = index * self.columns;
        (first..first + self.columns).map(move |cell| {
            let start = if cell == 0 {
                0
            } else {
                self.ends[cell - 1] as usize
            };
            &self.text[start..self.ends[cell] as usize]
        })
    }
}

/// Appends `value` in decimal.
pub fn push_decimal(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    // ASCII digits, pushed as chars: no UTF-8 check and no copy call for
    // the 150,000 short numbers of a large table.
    out.extend(digits[at..].iter().map(|&digit| char::from(digit)));
}

/// How many digits `value` has in decimal.
pub fn decimal_width(mut value: u64) -> usize {
    let mut digits = 1;
    while value >= 10 {
        value /= 10;
        digits += 1;
    }
    digits
}

/// Appends `count` spaces.
fn push_spaces(out: &mut String, mut count: usize) {
    const SPACES: &str = "                                                                ";
    while count > 0 {
        let n = count.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        count -= n;
    }
}

/// How many columns `text` takes in a table (its chars; its bytes when ASCII).
pub fn display_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// Rows as a table (see [`grid_to`]), returned as text.
pub fn grid(headers: &[&str], rows: &Rows, numeric: &[usize], out: &Output) -> String {
    if out.tty {
        return finish(&framed(headers, rows, numeric, out));
    }
    // The cells, and about as much again for padding (separators, short cells).
    let mut text = String::with_capacity(rows.text.len().saturating_mul(2));
    // Appending to a String cannot fail.
    let _ = plain_lines(headers, rows, numeric, &mut |line| {
        text.push_str(line);
        Ok(())
    });
    text
}

/// Rows as a table, written to `w`: comfy-table with borders on a
/// terminal; in a pipe, columns padded to their widths and separated by two
/// spaces, so `awk` and `cut` work and 50 000 rows print quickly.
pub fn grid_to(
    headers: &[&str],
    rows: &Rows,
    numeric: &[usize],
    out: &Output,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if out.tty {
        return w.write_all(finish(&framed(headers, rows, numeric, out)).as_bytes());
    }
    plain_lines(headers, rows, numeric, &mut |line| {
        w.write_all(line.as_bytes())
    })
}

/// The rows in a comfy-table, for a terminal.
fn framed(headers: &[&str], rows: &Rows, numeric: &[usize], out: &Output) -> Table {
    let mut table = new(headers, numeric, out);
    for index in 0..rows.len() {
        table.add_row(rows.row(index).collect::<Vec<_>>());
    }
    table
}

/// Rows below which laying out the second half on another thread costs
/// more than it saves.
pub const SPLIT_AT: usize = 4096;

/// Hands `emit` each line of the plain table (header first), newline
/// included. A long table's second half is laid out on another thread
/// meanwhile, into text handed over once the first half is out.
fn plain_lines(
    headers: &[&str],
    rows: &Rows,
    numeric: &[usize],
    emit: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| display_width(h).max(rows.widths.get(i).copied().unwrap_or(0)))
        .collect();
    let mut line = PlainLine::new(&widths, numeric);
    emit(line.of(&mut headers.iter().copied()))?;
    let count = rows.len();
    let write = |line: &mut PlainLine<'_>,
                 range: std::ops::Range<usize>,
                 emit: &mut dyn FnMut(&str) -> std::io::Result<()>| {
        range
            .into_iter()
            .try_for_each(|index| emit(line.of(&mut rows.row(index))))
    };
    if count < SPLIT_AT {
        return write(&mut line, 0..count, emit);
    }
    let middle = count / 2;
    std::thread::scope(|scope| {
        let second = scope.spawn(|| {
            let mut text = String::with_capacity(rows.text.len());
            // Appending to a String cannot fail.
            let _ = write(
                &mut PlainLine::new(&widths, numeric),
                middle..count,
                &mut |l| {
                    text.push_str(l);
                    Ok(())
                },
            );
            text
        });
        write(&mut line, 0..middle, emit)?;
        match second.join() {
            Ok(text) => emit(&text),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Lines of a plain table written cell by cell: cells padded to their
/// column's width (the `numeric` columns to the right), two spaces apart,
/// no trailing blanks, a newline. [`grid_to`] lays its rows out with it; a
/// table that knows its columns' widths before its rows are written can
/// use it directly, without collecting the cells first.
pub struct PlainLine<'a> {
    widths: &'a [usize],
    numeric: &'a [usize],
    line: String,
    column: usize,
    /// A right-aligned cell, written before its padding is known.
    scratch: String,
}

impl<'a> PlainLine<'a> {
    /// A line of columns `widths` wide.
    pub fn new(widths: &'a [usize], numeric: &'a [usize]) -> Self {
        PlainLine {
            widths,
            numeric,
            line: String::new(),
            column: 0,
            scratch: String::new(),
        }
    }

    /// Starts the next cell; returns how wide its column is.
    fn start_cell(&mut self) -> usize {
        if self.column == 0 {
            self.line.clear();
        } else {
            self.line.push_str("  ");
        }
        self.widths.get(self.column).copied().unwrap_or(0)
    }

    /// Appends the next cell.
    pub fn cell(&mut self, text: &str) {
        let width = self.start_cell();
        let pad = width.saturating_sub(display_width(text));
        if self.numeric.contains(&self.column) {
            push_spaces(&mut self.line, pad);
            self.line.push_str(text);
        } else {
            self.line.push_str(text);
            push_spaces(&mut self.line, pad);
        }
        self.column += 1;
    }

    /// Appends the next cell as `write` writes it.
    pub fn cell_with(&mut self, write: impl FnOnce(&mut String)) {
        if self.numeric.contains(&self.column) {
            let mut text = std::mem::take(&mut self.scratch);
            text.clear();
            write(&mut text);
            self.cell(&text);
            self.scratch = text;
            return;
        }
        let width = self.start_cell();
        let start = self.line.len();
        write(&mut self.line);
        let pad = width.saturating_sub(display_width(&self.line[start..]));
        push_spaces(&mut self.line, pad);
        self.column += 1;
    }

    /// Appends the next cell, a number.
    pub fn cell_u64(&mut self, value: u64) {
        self.cell_with(|text| push_decimal(text, value));
    }

    /// Ends the line: trailing blanks trimmed, a newline. The next cell
    /// starts a new line.
    pub fn end(&mut self) -> &str {
        let trimmed = self.line.trim_end().len();
        self.line.truncate(trimmed);
        self.line.push('\n');
        self.column = 0;
        &self.line
    }

    /// One whole line of `cells`.
    fn of(&mut self, cells: &mut dyn Iterator<Item = &str>) -> &str {
        for cell in cells {
            self.cell(cell);
        }
        self.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{ColorChoice, Style};

    fn pipe() -> Output {
        Output {
            json: false,
            stream: false,
            tty: false,
            style: Style::resolve(ColorChoice::Never, false, false),
        }
    }

    #[test]
    fn a_long_table_laid_out_in_two_halves_reads_as_one() {
        let mut rows = Rows::new(3);
        for i in 0..SPLIT_AT as u64 + 3 {
            rows.push_u64(i * 7);
            rows.push_str(if i % 5 == 0 { "" } else { "name" });
            // The widest cell of a column sits in the second half.
            rows.push_str(if i == SPLIT_AT as u64 {
                "a long last cell  "
            } else {
                "x"
            });
        }
        let headers = ["N", "Name", "Last"];
        let text = grid(&headers, &rows, &[0], &pipe());
        let widths = [rows.widths[0].max(1), 4, rows.widths[2]];
        let mut line = PlainLine::new(&widths, &[0]);
        let mut expected = line.of(&mut headers.iter().copied()).to_string();
        for index in 0..rows.len() {
            expected.push_str(line.of(&mut rows.row(index)));
        }
        assert_eq!(text, expected);
        assert_eq!(text.lines().count(), rows.len() + 1);
        assert!(
            text.lines().all(|l| l == l.trim_end()),
            "no trailing blanks"
        );
        assert!(
            text.lines().nth(1).unwrap().starts_with("    0"),
            "numbers to the right"
        );
        let mut streamed = Vec::new();
        grid_to(&headers, &rows, &[0], &pipe(), &mut streamed).unwrap();
        assert_eq!(String::from_utf8(streamed).unwrap(), text);
    }

    #[test]
    fn a_line_written_cell_by_cell_pads_numbers_left_and_text_right() {
        let widths = [5, 6, 4];
        let mut line = PlainLine::new(&widths, &[0]);
        line.cell_u64(42);
        line.cell_with(|text| text.push_str("héllo"));
        line.cell("a");
        assert_eq!(line.end(), "   42  héllo   a\n");
        // A new line after end(); an empty last cell leaves no blanks.
        line.cell_with(|text| text.push('7'));
        line.cell("x");
        line.cell("");
        assert_eq!(line.end(), "    7  x\n");
    }
}
