//! The one place failures become exit codes.
//!
//! Every domain has its own error enum whose messages say what failed and, where
//! there is one, what the user can do about it. [`Error`] gathers them; `main`
//! prints it as a single `netdx: …` line on stderr and exits 2.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::process::ExitCode;

use crate::echo::EchoError;
use crate::iface::IfaceError;
use crate::netlink::NetlinkError;
use crate::ping::PingError;
use crate::protostats::StatsError;
use crate::render::printable;
use crate::sockets::SocketError;

/// How a command that ran to completion answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: the facts were reported, or the answer was yes.
    Success,
    /// Exit 1: a negative answer (no reply, port free, nothing matched).
    Negative,
}

/// Everything that can make netdx exit with code 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Interface inspection failed.
    #[error(transparent)]
    Iface(#[from] IfaceError),
    /// A ping run could not start or go on.
    #[error(transparent)]
    Ping(PingError),
    /// The socket table could not be read.
    #[error(transparent)]
    Sockets(#[from] SocketError),
    /// An echo service or probe could not start or go on.
    #[error(transparent)]
    Echo(EchoError),
    /// A lab could not run to its end.
    #[error("lab {lab}: {source}")]
    Lab {
        /// The lab.
        lab: &'static str,
        /// What failed.
        source: crate::lab::LabError,
    },
    /// An ICMP probe could not be built, sent or received.
    #[error(transparent)]
    Icmp(crate::icmp::IcmpError),
    /// A trace could not start or go on.
    #[error(transparent)]
    Trace(crate::trace::TraceError),
    /// A scan could not start or go on.
    #[error(transparent)]
    Scan(crate::scan::ScanError),
    /// A DNS lookup could not be made.
    #[error(transparent)]
    Dns(crate::dns::DnsError),
    /// An HTTP request could not be made or its response read.
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    /// The neighbour table could not be read, or a neighbour probe failed.
    #[error(transparent)]
    Neigh(crate::neigh::NeighError),
    /// An arping could not start or go on.
    #[error(transparent)]
    Arping(crate::arping::ArpingError),
    /// A tcping could not start or go on.
    #[error(transparent)]
    Tcping(crate::tcping::TcpingError),
    /// A perf test or server could not start or go on.
    #[error(transparent)]
    Perf(crate::perf::PerfError),
    /// The exporter could not start.
    #[error(transparent)]
    Exporter(#[from] crate::exporter::ExporterError),
    /// A DHCP run could not start or go on.
    #[error(transparent)]
    Dhcp(crate::dhcp::DhcpError),
    /// A route lookup failed.
    #[error(transparent)]
    Route(crate::routes::get::RouteError),
    /// The socket to inspect could not be created.
    #[error(transparent)]
    Sockopt(#[from] crate::sockopt::session::SockoptError),
    /// An address calculation was given bad input.
    #[error(transparent)]
    Calc(#[from] crate::calc::CalcError),
    /// Protocol statistics could not be read.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// A target list (`--file`, standard input) could not be read.
    #[error(transparent)]
    Targets(#[from] crate::targets::ListError),
    /// Talking to the kernel over netlink failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// The arguments are valid one by one but not together.
    #[error("{0}")]
    Usage(String),
    /// The answer to a confirmation prompt could not be read.
    #[error("reading the answer from stdin: {0}")]
    Prompt(std::io::Error),
    /// A file or directory netdx was asked to write could not be.
    #[error("{action} {}: {source}", path.display())]
    File {
        /// What was being done: "writing", "creating directory".
        action: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// A `--plot` chart could not be drawn.
    #[error(transparent)]
    Plot(#[from] crate::render::plot::PlotError),
    /// stdout could not be written (other than a closed pipe).
    #[error("writing output: {0}")]
    Output(std::io::Error),
    /// The reader of our output went away (`netdx … | head`): stop quietly.
    #[error("output pipe closed")]
    BrokenPipe,
}

impl From<PingError> for Error {
    fn from(err: PingError) -> Self {
        match err {
            PingError::Output(io) => Error::from(io),
            other => Error::Ping(other),
        }
    }
}

impl From<crate::icmp::IcmpError> for Error {
    fn from(err: crate::icmp::IcmpError) -> Self {
        match err {
            crate::icmp::IcmpError::Output(io) => Error::from(io),
            other => Error::Icmp(other),
        }
    }
}

impl From<crate::trace::TraceError> for Error {
    fn from(err: crate::trace::TraceError) -> Self {
        match err {
            crate::trace::TraceError::Output(io) => Error::from(io),
            other => Error::Trace(other),
        }
    }
}

impl From<crate::scan::ScanError> for Error {
    fn from(err: crate::scan::ScanError) -> Self {
        match err {
            crate::scan::ScanError::Output(io) => Error::from(io),
            other => Error::Scan(other),
        }
    }
}

impl From<crate::dns::DnsError> for Error {
    fn from(err: crate::dns::DnsError) -> Self {
        match err {
            crate::dns::DnsError::Output(io) => Error::from(io),
            other => Error::Dns(other),
        }
    }
}

impl From<crate::perf::PerfError> for Error {
    fn from(err: crate::perf::PerfError) -> Self {
        match err {
            crate::perf::PerfError::Output(io) => Error::from(io),
            other => Error::Perf(other),
        }
    }
}

impl From<EchoError> for Error {
    fn from(err: EchoError) -> Self {
        match err {
            EchoError::Output(io) => Error::from(io),
            other => Error::Echo(other),
        }
    }
}

impl From<crate::top::TopError> for Error {
    fn from(err: crate::top::TopError) -> Self {
        match err {
            crate::top::TopError::Sockets(err) => Error::Sockets(err),
            crate::top::TopError::Interfaces(err) => Error::Iface(err),
        }
    }
}

impl From<std::io::Error> for Error {
    /// An output failure: quiet when stdout's reader left, reported otherwise.
    fn from(err: std::io::Error) -> Self {
        if crate::render::output_closed(&err) {
            Error::BrokenPipe
        } else {
            Error::Output(err)
        }
    }
}

/// Prints `err` as the one `netdx: …` line (control and bidi characters
/// escaped, so an argument quoted in it can't break the line or the
/// terminal) and returns the exit code it stands for.
pub fn report(err: &Error) -> ExitCode {
    if matches!(err, Error::BrokenPipe) {
        return ExitCode::SUCCESS;
    }
    eprintln!("netdx: {}", printable(&err.to_string()));
    ExitCode::from(2)
}

/// Reports a command-line parsing failure (or a `--help`/`--version` request).
///
/// clap's own report spans several lines; netdx promises one line on stderr
/// and exit 2 for bad input, so the first line of clap's message is kept and
/// the command's `--help` is named as the remedy. `args` is the command line
/// as given: arguments quoted in the message are escaped as a whole, and
/// anything after `--version` is refused rather than ignored.
pub fn report_usage(err: clap::Error, args: &[OsString]) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayVersion => match after_version(args) {
            Some(extra) => {
                eprintln!(
                    "netdx: unexpected argument '{}' after --version; try 'netdx --version'",
                    printable(&extra.to_string_lossy())
                );
                ExitCode::from(2)
            }
            None => {
                // Printing can only fail on a closed pipe; nothing to add then.
                let _ = err.print();
                ExitCode::SUCCESS
            }
        },
        ErrorKind::DisplayHelp => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprintln!("netdx: {}", missing_command_line(&err.render().to_string()));
            ExitCode::from(2)
        }
        _ => {
            let rendered = escape_arguments(&unstyled(err, args), args);
            let line = usage_line(&rendered, &command_path(args));
            eprintln!("netdx: {}", printable(&line));
            ExitCode::from(2)
        }
    }
}

/// clap's report with the user's text as given: clap's plain rendering
/// strips every escape sequence, the user's included, which would hide
/// what was wrong with an argument; parsing again with unstyled output
/// keeps them, for [`printable`] to show.
fn unstyled(err: clap::Error, args: &[OsString]) -> String {
    use clap::CommandFactory;
    let plain = crate::cli::Cli::command().styles(clap::builder::Styles::plain());
    match plain.try_get_matches_from(args) {
        Err(again) if again.kind() == err.kind() => again.render().ansi().to_string(),
        _ => err.render().to_string(),
    }
}

/// The first argument after `--version`/`-V`, which clap would silently drop.
fn after_version(args: &[OsString]) -> Option<&OsString> {
    let at = args
        .iter()
        .skip(1)
        .position(|arg| arg == "--version" || arg == "-V")?;
    args.get(at + 2)
}

/// `rendered` with every argument that holds a control or format character
/// replaced by its escaped form, so a newline inside a value can't end the
/// message early.
fn escape_arguments(rendered: &str, args: &[OsString]) -> String {
    let mut text = rendered.to_string();
    for arg in args.iter().skip(1) {
        let arg = arg.to_string_lossy();
        let mut pieces = vec![arg.as_ref()];
        // `--set=NAME=VALUE` reaches the value parser as `NAME=VALUE`.
        pieces.extend(arg.match_indices('=').map(|(at, _)| &arg[at + 1..]));
        for piece in pieces {
            let escaped = printable(piece);
            if matches!(escaped, std::borrow::Cow::Owned(_)) && !piece.is_empty() {
                text = text.replace(piece, &escaped);
            }
        }
    }
    text
}

/// `a command is needed; usage: netdx [OPTIONS] <COMMAND>; try 'netdx --help'`, for
/// a command line that names no command, instead of the whole help.
fn missing_command_line(rendered: &str) -> String {
    let usage = rendered
        .lines()
        .find_map(|line| line.trim().strip_prefix("Usage: "))
        .unwrap_or("netdx [OPTIONS] <COMMAND>");
    let command: Vec<&str> = usage
        .split_whitespace()
        .take_while(|word| !word.starts_with(['[', '<', '-']))
        .collect();
    let command = if command.is_empty() {
        "netdx".to_string()
    } else {
        command.join(" ")
    };
    let what = if usage.contains("<COMMAND>") {
        "a command is needed"
    } else {
        "arguments are needed"
    };
    format!("{what}; usage: {usage}; try '{command} --help'")
}

/// The subcommands named on the command line (`netdx sockopt`), for the
/// `--help` to point at when clap's report has no usage line.
fn command_path(args: &[OsString]) -> String {
    use clap::CommandFactory;
    let mut command = crate::cli::Cli::command();
    command.build();
    let mut path = vec!["netdx".to_string()];
    let mut skip_value = false;
    for arg in args.iter().skip(1) {
        let Some(arg) = arg.to_str() else { break };
        if std::mem::take(&mut skip_value) {
            continue;
        }
        if let Some(long) = arg.strip_prefix("--") {
            skip_value = !long.contains('=')
                && command
                    .get_arguments()
                    .any(|a| a.get_long() == Some(long) && a.get_action().takes_values());
            continue;
        }
        if arg.starts_with('-') {
            continue;
        }
        let Some(sub) = command.find_subcommand(arg).cloned() else {
            break;
        };
        path.push(sub.get_name().to_string());
        command = sub;
    }
    path.join(" ")
}

/// Condenses clap's multi-line error text into `what went wrong; try '… --help'`;
/// `fallback` is the command to name when the text has no usage line.
fn usage_line(rendered: &str, fallback: &str) -> String {
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // "the following required arguments were not provided:" lists them on
    // the lines below, "invalid value" its possible values: fold them into
    // the one line.
    let continued: Vec<&str> = lines
        .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"))
        .collect();
    if !continued.is_empty() {
        let joiner = if message.ends_with(':') { ", " } else { " " };
        message = format!("{message} {}", continued.join(joiner));
    }
    let command = rendered
        .lines()
        .find_map(|line| line.trim().strip_prefix("Usage: "))
        .map(|usage| {
            usage
                .split_whitespace()
                .take_while(|word| !word.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|command| !command.is_empty())
        .unwrap_or_else(|| fallback.to_string());
    format!("{message}; try '{command} --help'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_report_becomes_one_line_naming_the_commands_help() {
        let rendered = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: netdx ifconfig [OPTIONS] [IFACE]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(rendered, "netdx"),
            "unexpected argument '--bogus' found; try 'netdx ifconfig --help'"
        );
    }

    #[test]
    fn listed_missing_arguments_are_folded_into_the_line() {
        let rendered = "error: the following required arguments were not provided:\n  --kill[=<SIGNAL>]\n\nUsage: netdx port --kill[=<SIGNAL>] --yes <PORT>...\n";
        assert_eq!(
            usage_line(rendered, "netdx"),
            "the following required arguments were not provided: --kill[=<SIGNAL>]; try 'netdx port --help'"
        );
    }

    #[test]
    fn report_without_usage_line_falls_back_to_top_level_help() {
        assert_eq!(
            usage_line("error: something odd\n", "netdx"),
            "something odd; try 'netdx --help'"
        );
    }

    #[test]
    fn arguments_with_control_characters_are_replaced_by_their_escaped_form() {
        let args: Vec<OsString> = ["netdx", "ifconfig", "lo\n\nx"]
            .iter()
            .map(OsString::from)
            .collect();
        let rendered =
            "error: invalid value 'lo\n\nx' for '[IFACE]'\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(&escape_arguments(rendered, &args), "netdx"),
            "invalid value 'lo\\n\\nx' for '[IFACE]'; try 'netdx --help'"
        );
    }

    #[test]
    fn only_the_argument_after_version_is_reported() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(after_version(&args(&["netdx", "--version"])), None);
        assert_eq!(
            after_version(&args(&["netdx", "--version", "x"])),
            Some(&OsString::from("x"))
        );
        assert_eq!(after_version(&args(&["netdx", "ping", "-V"])), None);
    }

    #[test]
    fn a_missing_command_is_one_usage_line() {
        let rendered =
            "Network diagnostics\n\nUsage: netdx [OPTIONS] <COMMAND>\n\nCommands:\n  ifconfig  x\n";
        assert_eq!(
            missing_command_line(rendered),
            "a command is needed; usage: netdx [OPTIONS] <COMMAND>; try 'netdx --help'"
        );
    }

    #[test]
    fn the_help_named_is_the_subcommand_given_even_after_global_options() {
        let args = |list: &[&str]| list.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            command_path(&args(&["netdx", "sockopt", "--set", "x"])),
            "netdx sockopt"
        );
        assert_eq!(
            command_path(&args(&["netdx", "--color", "never", "echo", "probe", "x"])),
            "netdx echo probe"
        );
        assert_eq!(command_path(&args(&["netdx", "--bogus"])), "netdx");
    }
}
