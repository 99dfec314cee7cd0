//! Entry point: parse the command line, dispatch, map the result to an exit code.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use netdx::cli::Cli;
use netdx::error::Outcome;

fn main() -> ExitCode {
    // A panic is a bug, but the user still gets one line and exit 2, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "netdx: internal error{place}: {} (this is a bug; please report it)",
            netdx::render::printable(&what)
        );
        std::process::exit(2);
    }));
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return netdx::error::report_usage(err, &args),
    };
    match netdx::cmd::dispatch(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Negative) => ExitCode::from(1),
        Err(err) => netdx::error::report(&err),
    }
}
