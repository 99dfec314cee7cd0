//! `netdx port` arguments.

use clap::Args;

use crate::process::SignalChoice;
use crate::sockets::port::{PortList, parse_specs};

pub(super) const PORT_EXAMPLES: &str = "\
Examples:
  netdx port 8080                  who is using port 8080, at either end (lsof -i :8080)
  netdx port 8080 || start-server  exit 1 when nothing uses the port
  netdx port tcp:80,udp:53 --listen
  netdx port 8000-8100 -t          only the PIDs, one per line (lsof -t)
  netdx port 8080 --kill --yes     SIGTERM the owners (never pid 1 or netdx)
  netdx port 8080 --kill=KILL      ask first on a terminal, then SIGKILL

Exit status: 0 if a socket uses the port, 1 if none does, 2 on errors.";

// `netdx port PORT[,PORT…]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct PortArgs {
    /// Ports: 8080, :8080, tcp:8080, udp:53, 8000-8100, comma-separated
    #[arg(value_name = "PORT", required = true, value_parser = parse_specs)]
    pub ports: Vec<PortList>,
    /// TCP only
    #[arg(long = "tcp", conflicts_with = "udp")]
    pub tcp: bool,
    /// UDP only
    #[arg(long = "udp")]
    pub udp: bool,
    /// IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Listening sockets only (and bound UDP)
    #[arg(short = 'l', long = "listen")]
    pub listen: bool,
    /// Match the local port only, not the remote one
    #[arg(long = "local")]
    pub local: bool,
    /// Print only the PIDs, one per line (lsof -t)
    #[arg(short = 't', long = "terse", conflicts_with = "json")]
    pub terse: bool,
    /// Signal the owning processes (default TERM); asks on a terminal
    #[arg(long = "kill", value_name = "SIGNAL", num_args = 0..=1, require_equals = true, default_missing_value = "TERM")]
    pub kill: Option<SignalChoice>,
    /// Do not ask before --kill (required when stdin is not a terminal)
    #[arg(short = 'y', long = "yes", requires = "kill")]
    pub yes: bool,
    /// Hidden: accepted for lsof habits (netdx never resolves names here)
    #[arg(short = 'n', short_alias = 'P', hide = true)]
    pub numeric: bool,
}
