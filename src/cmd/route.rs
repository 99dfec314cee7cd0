//! `netdx route get`: the route the kernel would choose.

use crate::cli::route::{RouteArgs, RouteCommand};
use crate::error::{Error, Outcome};
use crate::render::{self, Output};
use crate::routes::get;

/// Looks the route up and prints it.
pub fn run(args: &RouteArgs, out: &Output) -> Result<Outcome, Error> {
    let RouteCommand::Get(get_args) = &args.command;
    let query = get_args.query().map_err(Error::Usage)?;
    let lookup = get::lookup(&query).map_err(Error::Route)?;
    let text = if out.json {
        render::json::document(&lookup)
    } else {
        render::route::lookup(&lookup)
    };
    render::print(&text)?;
    Ok(Outcome::Success)
}
