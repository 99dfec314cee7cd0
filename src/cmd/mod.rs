//! One thin module per subcommand: arguments → domain → render → exit code.
#![forbid(unsafe_code)]

pub mod arping;
pub mod calc;
pub mod completions;
pub mod dhcp;
pub mod dns;
pub mod echo;
pub mod exporter;
pub mod http;
pub mod icmp;
pub mod ifconfig;
pub mod lab;
pub mod man;
pub mod neigh;
pub mod netstat;
pub mod perf;
pub mod ping;
pub mod port;
pub mod route;
pub mod scan;
pub mod schema;
pub mod sockopt;
pub mod tcping;
pub mod top;
pub mod trace;

use crate::cli::{Cli, Command};
use crate::error::{Error, Outcome};
use crate::render::Output;
use crate::signals::Interrupts;

/// Runs the command the user asked for.
pub fn dispatch(cli: Cli) -> Result<Outcome, Error> {
    if cli.global.json_stream {
        // clap's conflicts_with catches both flags on one level only; one
        // before the command and one after it reach here.
        if cli.global.json {
            return Err(Error::Usage(
                "the argument '--json-stream' cannot be used with '--json': --json prints one document at the end, --json-stream a line per event".into(),
            ));
        }
        check_streams(&cli.command)?;
    }
    let out =
        Output::for_stdout(cli.global.json, cli.global.color).streaming(cli.global.json_stream);
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
        Command::Scan(args) => scan::run(&args, &out),
        Command::Calc(args) => calc::run(&args, &out),
        Command::Dns(args) => dns::run(&args, &out),
        Command::Http(args) => http::run(&args, &out),
        Command::Neigh(args) => neigh::run(&args, &out),
        Command::Arping(args) => arping::run(&args, &out),
        Command::Dhcp(args) => dhcp::run(&args, &out),
        Command::Route(args) => route::run(&args, &out),
        Command::Tcping(args) => tcping::run(&args, &out),
        Command::Top(args) => top::run(&args, &out),
        Command::Perf(args) => perf::run(&args, &out),
        Command::Exporter(args) => exporter::run(&args, &out),
        Command::Schema(args) => schema::run(&args, &out),
        Command::Completions(args) => completions::run(&args, &out),
        Command::Man(args) => man::run(&args, &out),
    }
}

/// `--json-stream` is for commands that run a while and report as they go;
/// the others print one document, and say so instead of ignoring the flag.
/// Every command is named here, so a new one has to decide.
fn check_streams(command: &Command) -> Result<(), Error> {
    use crate::cli::EchoCommand;
    let name = match command {
        Command::Ping(_)
        | Command::Trace(_)
        | Command::Scan(_)
        | Command::Dns(_)
        | Command::Arping(_)
        | Command::Tcping(_)
        | Command::Top(_) => {
            return Ok(());
        }
        Command::Echo(echo) => match echo.command {
            EchoCommand::Serve(_) | EchoCommand::Probe(_) => return Ok(()),
        },
        Command::Ifconfig(_) => "ifconfig",
        Command::Netstat(_) => "netstat",
        Command::Port(_) => "port",
        Command::Lsof(_) => "lsof",
        Command::Sockopt(_) => "sockopt",
        Command::Lab(_) => "lab",
        Command::Icmp(_) => "icmp",
        Command::Neigh(neigh) if neigh.command.is_some() => return Ok(()),
        Command::Perf(_) => return Ok(()),
        Command::Dhcp(_) => "dhcp",
        Command::Http(_) => "http",
        Command::Neigh(_) => "neigh",
        Command::Route(_) => "route",
        Command::Exporter(_) => {
            return Err(Error::Usage(
                "--json-stream: `exporter` serves Prometheus' text format and logs a text line per probe".into(),
            ));
        }
        Command::Calc(_) => "calc",
        Command::Schema(_) => "schema",
        Command::Completions(_) | Command::Man(_) => {
            return Err(Error::Usage(
                "--json-stream: `completions` and `man` print a shell script or roff, not JSON"
                    .into(),
            ));
        }
    };
    Err(Error::Usage(format!(
        "--json-stream: `{name}` prints one document; use --json (streaming: ping, tcping, top, perf run, perf serve, trace, scan, dns, arping, neigh scan, echo probe, echo serve)"
    )))
}

/// With `--json-stream`, a reader that goes away stops the run as Ctrl-C
/// would, at once rather than at the next line (which may be a probe
/// interval away); the last lines then fail to write, quietly.
fn stop_when_reader_leaves(out: &Output, interrupts: &Interrupts) -> std::io::Result<()> {
    if !out.stream {
        return Ok(());
    }
    let stopper = interrupts.stopper()?;
    crate::render::stream::when_reader_leaves(move || stopper.stop())
}
