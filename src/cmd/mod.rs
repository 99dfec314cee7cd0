//! One thin module per subcommand: arguments → domain → render → exit code.

pub mod ifconfig;
pub mod ping;

use crate::cli::{Cli, Command};
use crate::error::{Error, Outcome};
use crate::render::Output;

/// Runs the command the user asked for.
pub fn dispatch(cli: Cli) -> Result<Outcome, Error> {
    let out = Output::for_stdout(cli.global.json, cli.global.color);
    match cli.command {
        Command::Ifconfig(args) => ifconfig::run(&args, &out),
        Command::Ping(args) => ping::run(&args, &out),
    }
}
