//! The one place failures become exit codes.
//!
//! Every domain has its own error enum whose messages say what failed and, where
//! there is one, what the user can do about it. [`Error`] gathers them; `main`
//! prints it as a single `netdx: …` line on stderr and exits 2.

use std::process::ExitCode;

use crate::echo::EchoError;
use crate::iface::IfaceError;
use crate::netlink::NetlinkError;
use crate::ping::PingError;
use crate::protostats::StatsError;
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
    /// Protocol statistics could not be read.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// Talking to the kernel over netlink failed.
    #[error(transparent)]
    Netlink(#[from] NetlinkError),
    /// The arguments are valid one by one but not together.
    #[error("{0}")]
    Usage(String),
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

impl From<EchoError> for Error {
    fn from(err: EchoError) -> Self {
        match err {
            EchoError::Output(io) => Error::from(io),
            other => Error::Echo(other),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Output(err)
        }
    }
}

/// Reports a command-line parsing failure (or a `--help`/`--version` request).
///
/// clap's own report spans several lines; netdx promises one line on stderr
/// and exit 2 for bad input, so the first line of clap's message is kept and
/// the command's `--help` is named as the remedy.
pub fn report_usage(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Printing help can only fail on a closed pipe; nothing to add then.
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(2)
        }
        _ => {
            eprintln!("netdx: {}", usage_line(&err.render().to_string()));
            ExitCode::from(2)
        }
    }
}

/// Condenses clap's multi-line error text into `what went wrong; try '… --help'`.
fn usage_line(rendered: &str) -> String {
    let mut lines = rendered
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty());
    let first = lines.next().unwrap_or("invalid arguments");
    let mut message = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // "the following required arguments were not provided:" lists them on
    // the lines below; fold them into the one line.
    if message.ends_with(':') {
        let listed: Vec<&str> = lines
            .take_while(|line| !line.is_empty() && !line.starts_with("Usage:"))
            .collect();
        if !listed.is_empty() {
            message = format!("{} {}", message, listed.join(", "));
        }
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
        .unwrap_or_else(|| "netdx".to_string());
    format!("{message}; try '{command} --help'")
}

#[cfg(test)]
mod tests {
    use super::usage_line;

    #[test]
    fn clap_report_becomes_one_line_naming_the_commands_help() {
        let rendered = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: netdx ifconfig [OPTIONS] [IFACE]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            usage_line(rendered),
            "unexpected argument '--bogus' found; try 'netdx ifconfig --help'"
        );
    }

    #[test]
    fn listed_missing_arguments_are_folded_into_the_line() {
        let rendered = "error: the following required arguments were not provided:\n  --kill[=<SIGNAL>]\n\nUsage: netdx port --kill[=<SIGNAL>] --yes <PORT>...\n";
        assert_eq!(
            usage_line(rendered),
            "the following required arguments were not provided: --kill[=<SIGNAL>]; try 'netdx port --help'"
        );
    }

    #[test]
    fn report_without_usage_line_falls_back_to_top_level_help() {
        assert_eq!(
            usage_line("error: something odd\n"),
            "something odd; try 'netdx --help'"
        );
    }
}
