//! `netdx sockopt` arguments.

use clap::builder::PossibleValue;
use clap::{Args, Subcommand};

use super::completing::Completing;
use super::values;
use crate::sockopt::session::Setting;

pub(super) const SOCKOPT_EXAMPLES: &str = "\
Examples:
  netdx sockopt                                  every option of a fresh TCP socket
  netdx sockopt --set SO_RCVBUF=4096             see the kernel double it
  netdx sockopt --udp -6 --set IPV6_V6ONLY=on --bind [::]:0
  netdx sockopt --set SO_LINGER=on,5 --set SO_RCVTIMEO=1.5s --set nonblocking=1
  netdx sockopt --set TCP_MAXSEG=1000 --connect 127.0.0.1:22
                                                 some options only mean something after connect
  netdx sockopt --unix --bind /tmp/demo.sock --listen
  netdx sockopt explain SO_REUSEADDR             what it does, its default here, its pitfalls

Values: on/off (1/0), numbers (4096, 64K), times (1.5s, 200ms, off), SO_LINGER as
off or on,SECONDS, TCP_CONGESTION as a name. Names may drop their SO_/TCP_/IP_
prefix and are not case-sensitive.
Exit status: 0 when every request was honoured, 1 when the kernel refused one
(its row says why), 2 on bad names, values or other errors.";

// `netdx sockopt …` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SockoptArgs {
    /// `explain NAME`.
    #[command(subcommand)]
    pub command: Option<SockoptCommand>,
    /// A TCP socket (the default)
    #[arg(long, conflicts_with_all = ["udp", "raw", "unix"])]
    pub tcp: bool,
    /// A UDP socket
    #[arg(long, conflicts_with_all = ["raw", "unix"])]
    pub udp: bool,
    /// A raw ICMP socket (needs CAP_NET_RAW)
    #[arg(long, conflicts_with = "unix")]
    pub raw: bool,
    /// A unix stream socket
    #[arg(long)]
    pub unix: bool,
    /// AF_INET6 instead of AF_INET
    #[arg(short = '6', conflicts_with = "unix")]
    pub ipv6: bool,
    /// setsockopt NAME to VALUE, in the order given (repeatable)
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = values::setting)]
    pub settings: Vec<Setting>,
    /// bind() to ADDR[:PORT] (a path with --unix), after the options
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
    /// listen() after binding
    #[arg(long, conflicts_with = "connect")]
    pub listen: bool,
    /// connect() to ADDR:PORT (a path with --unix), after the options and bind
    #[arg(long, value_name = "ADDR")]
    pub connect: Option<String>,
}

// `netdx sockopt explain NAME` (no doc comment: it would replace `netdx sockopt`'s summary).
#[derive(Debug, Subcommand)]
pub enum SockoptCommand {
    /// What an option does, its default on this kernel, when to use it, its pitfalls
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain {
        /// The option: SO_REUSEADDR, reuseaddr, TCP_NODELAY, …
        #[arg(value_name = "NAME", value_parser = Completing(explained_names), hide_possible_values = true)]
        name: String,
    },
}

const EXPLAIN_EXAMPLES: &str = "\
Examples:
  netdx sockopt explain SO_REUSEADDR     what it does, its default here, its pitfalls
  netdx sockopt explain nodelay          names may drop their prefix, in any case
  netdx sockopt explain SO_LINGER --json the explanation as JSON

'netdx sockopt' lists every option with its value on a fresh socket.
Exit status: 0 when the option is explained, 2 when netdx does not know it.";

/// The options `explain` knows, by their C names, with the catalog's one line
/// on each (the help lists none: `netdx sockopt` shows them all).
fn explained_names() -> Vec<PossibleValue> {
    crate::sockopt::CATALOG
        .iter()
        .filter(|spec| crate::sockopt::explain::explanation(spec.name).is_some())
        .map(|spec| PossibleValue::new(spec.name).help(spec.meaning))
        .collect()
}
