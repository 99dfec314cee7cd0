//! `netdx ifconfig`: interfaces as ifconfig shows them.

use crate::cli::IfconfigArgs;
use crate::error::{Error, Outcome};
use crate::iface::{self, Selection};
use crate::render::{self, Output};

/// Lists the selected interfaces in the chosen view.
pub fn run(args: &IfconfigArgs, out: &Output) -> Result<Outcome, Error> {
    let selection = match (&args.iface, args.all) {
        (Some(name), _) => Selection::Named(name.clone()),
        (None, true) => Selection::All,
        (None, false) => Selection::Up,
    };
    let interfaces = iface::collect(&selection)?;
    let text = if out.json {
        render::json::document(&interfaces)
    } else if args.short {
        render::iface::short_table(&interfaces, out)
    } else {
        render::iface::classic(&interfaces, &out.style)
    };
    render::print(&text)?;
    Ok(Outcome::Success)
}
