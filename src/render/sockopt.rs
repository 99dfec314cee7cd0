//! Socket options as a table: the value getsockopt read back next to the
//! value asked for, and why they differ.

use crate::sockopt::Reading;

use super::table;
use super::{Output, Role};

/// `Option  Level  Requested  Effective  Note` for every reading.
pub fn table(readings: &[Reading], out: &Output) -> String {
    let mut grid = table::new(
        &["Option", "Level", "Requested", "Effective", "Note"],
        &[],
        out,
    );
    for reading in readings {
        let requested = reading
            .requested
            .as_ref()
            .map_or_else(|| "-".to_string(), ToString::to_string);
        let (effective, role) = match (&reading.value, &reading.error) {
            (Some(value), _) => (value.to_string(), None),
            (None, Some(error)) => (error.clone(), Some(Role::Bad)),
            (None, None) => ("?".to_string(), None),
        };
        let note = reading
            .note
            .as_deref()
            .unwrap_or(if reading.requested.is_some() {
                ""
            } else {
                reading.meaning
            });
        let effective = match role {
            Some(role) => table::cell(effective, role),
            None if reading.note.is_some() => table::cell(effective, Role::Name),
            None => comfy_table::Cell::new(effective),
        };
        grid.add_row(vec![
            comfy_table::Cell::new(reading.name),
            comfy_table::Cell::new(reading.level.name()),
            comfy_table::Cell::new(requested),
            effective,
            comfy_table::Cell::new(note),
        ]);
    }
    table::finish(&grid)
}
