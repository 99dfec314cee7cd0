//! `netdx http URL`: the arguments → the requests → the response, the
//! waterfall and TCP_INFO as text or JSON → exit 0 (2xx/3xx), 1 (4xx/5xx,
//! a timeout) or 2.

use crate::cli::HttpArgs;
use crate::error::{Error, Outcome};
use crate::http::client;
use crate::render::http::View;
use crate::render::{self, Output};

/// Makes the requests and prints what came back.
pub fn run(args: &HttpArgs, out: &Output) -> Result<Outcome, Error> {
    let request = args.request().map_err(Error::Usage)?;
    // Only where TLS can happen: an https URL, or redirects that may lead to one.
    if request.insecure && (request.url.scheme == crate::http::Scheme::Https || request.follow) {
        eprint!("{}", render::http::insecure_warning());
    }
    let report = client::run(&request)?;
    let text = if out.json {
        render::json::document(&report)
    } else {
        render::http::report(
            &report,
            View {
                head_only: args.head,
                picture: out.tty,
            },
        )
    };
    render::print(&text)?;
    if let Some(timeout) = &report.timeout {
        eprint!("{}", render::http::timeout_line(timeout));
        return Ok(Outcome::Negative);
    }
    Ok(if report.status >= 400 {
        Outcome::Negative
    } else {
        Outcome::Success
    })
}
