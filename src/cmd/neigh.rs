//! `netdx neigh`: the kernel's neighbour table.

use crate::cli::NeighArgs;
use crate::cli::neigh::StateChoice;
use crate::error::{Error, Outcome};
use crate::neigh::table::{self, Query, StateFilter};
use crate::render::{self, Output};

/// Prints the neighbour entries the arguments select.
pub fn run(args: &NeighArgs, out: &Output) -> Result<Outcome, Error> {
    let states = if args.states.is_empty() {
        StateFilter::Default
    } else if args.states.contains(&StateChoice::All) {
        StateFilter::All
    } else {
        StateFilter::Any(
            args.states
                .iter()
                .filter_map(|choice| match choice {
                    StateChoice::One(state) => Some(*state),
                    StateChoice::All => None,
                })
                .collect(),
        )
    };
    let entries = table::read(&Query {
        v4: args.ipv4 || !args.ipv6,
        v6: args.ipv6 || !args.ipv4,
        interface: args.interface.clone(),
        states,
    })
    .map_err(Error::Neigh)?;
    let text = if out.json {
        render::json::document(&entries)
    } else {
        render::neigh::table(&entries)
    };
    render::print(&text)?;
    Ok(if entries.is_empty() {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}
