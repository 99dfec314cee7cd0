//! One thin module per subcommand: arguments → domain → render → exit code.
#![forbid(unsafe_code)]

pub mod completions;
pub mod echo;
pub mod icmp;
pub mod ifconfig;
pub mod lab;
pub mod man;
pub mod netstat;
pub mod ping;
pub mod port;
pub mod sockopt;
pub mod trace;

use crate::cli::{Cli, Command};
use crate::error::{Error, Outcome};
use crate::render::Output;

/// Runs the command the user asked for.
pub fn dispatch(cli: Cli) -> Result<Outcome, Error> {
    let out = Output::for_stdout(cli.global.json, cli.global.color);
    match cli.command {
        Command::Ifconfig(args) => ifconfig::run(&args, &out),
        Command::Ping(args) => ping::run(&args, &out),
        Command::Netstat(args) => netstat::run(&args, &out),
        Command::Port(args) => port::run(&args, &out),
        Command::Lsof(args) => port::run_lsof(&args, &out),
        Command::Echo(args) => echo::run(&args, &out),
        Command::Sockopt(args) => sockopt::run(&args, &out),
        Command::Lab(args) => lab::run(&args, &out),
        Command::Icmp(args) => icmp::run(&args, &out),
        Command::Trace(args) => trace::run(&args, &out),
        Command::Completions(args) => completions::run(&args, &out),
        Command::Man(args) => man::run(&args, &out),
    }
}
