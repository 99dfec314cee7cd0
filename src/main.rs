//! Entry point: parse the command line, dispatch, map the result to an exit code.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use netdx::cli::Cli;
use netdx::error::{Error, Outcome};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return netdx::error::report_usage(err),
    };
    match netdx::cmd::dispatch(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Negative) => ExitCode::from(1),
        Err(Error::BrokenPipe) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("netdx: {err}");
            ExitCode::from(2)
        }
    }
}
