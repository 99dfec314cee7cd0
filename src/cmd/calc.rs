//! `netdx calc`: address arithmetic, as ipcalc and sipcalc do it.

use crate::calc::{self, CalcError, Request};
use crate::cli::CalcArgs;
use crate::error::{Error, Outcome};
use crate::render::{self, Output};

/// Answers the request in the chosen view; with `--contains`, exit 1 when
/// an address is outside the network.
pub fn run(args: &CalcArgs, out: &Output) -> Result<Outcome, Error> {
    let document = calc::answer(&request(args)?)?;
    let text = if out.json {
        render::json::document(&document)
    } else {
        render::calc::text(&document, args.binary)
    };
    render::print(&text)?;
    Ok(if document.all_contained() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// The arguments as a domain request (clap has checked which go together).
fn request(args: &CalcArgs) -> Result<Request, CalcError> {
    if !args.summarize.is_empty() {
        let networks = args.summarize.iter().map(calc::Target::network_or_host);
        return Ok(Request::Summarize(networks.collect()));
    }
    if let [start, end] = args.range[..] {
        return Ok(Request::Range(start, end));
    }
    let Some(target) = &args.target else {
        return Err(CalcError::BadAddress(String::new()));
    };
    let net = target.network(args.mask)?;
    Ok(match args.split {
        Some(prefix) => Request::Split(net, prefix),
        None if !args.contains.is_empty() => Request::Contains(net, args.contains.clone()),
        None => Request::Facts(net),
    })
}
