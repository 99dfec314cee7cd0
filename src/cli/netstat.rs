//! `netdx netstat` arguments.

use clap::Args;

use crate::sockets::state::parse_states;
use crate::sockets::{PortRange, Prefix, StateMask};

pub(super) const NETSTAT_EXAMPLES: &str = "\
Examples:
  netdx netstat -tulpn             what is listening, with the owning processes (netstat -tulpn)
  netdx netstat -tan               every TCP socket, numeric (ss -tan)
  netdx netstat -t --state time-wait,close-wait
  netdx netstat -t --dport 443 -i  connections to port 443 with rtt, cwnd, retransmits
  netdx netstat -x -a              unix sockets
  netdx netstat -s                 protocol counters (netstat -s)
  netdx netstat -r                 routing table (netstat -rn)
  netdx netstat -i                 interface counters (netstat -i)

Sockets come from the kernel's sock_diag netlink interface, filtered in the
kernel by state, port and address; /proc/net is read only where netlink is not
available (a note on stderr says so). Without -n, ports are named from
/etc/services; addresses are never looked up in DNS unless --resolve.";

// `netdx netstat [OPTIONS]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct NetstatArgs {
    /// TCP sockets
    #[arg(short = 't', long = "tcp")]
    pub tcp: bool,
    /// UDP sockets
    #[arg(short = 'u', long = "udp")]
    pub udp: bool,
    /// Raw sockets
    #[arg(short = 'w', long = "raw")]
    pub raw: bool,
    /// Unix sockets
    #[arg(short = 'x', long = "unix")]
    pub unix: bool,
    /// Listening sockets only (and unconnected UDP/raw)
    #[arg(short = 'l', long = "listening", conflicts_with_all = ["all", "state"])]
    pub listening: bool,
    /// Sockets in every state (default: connected only)
    #[arg(short = 'a', long = "all", conflicts_with = "state")]
    pub all: bool,
    /// IPv4 sockets only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 sockets only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Only these states: established, time-wait, listening, connected, synchronized, … (comma-separated)
    #[arg(long = "state", value_name = "STATES", value_parser = parse_states)]
    pub state: Option<StateMask>,
    /// Local port (or range 8000-8100)
    #[arg(long = "sport", value_name = "PORT", allow_negative_numbers = true)]
    pub sport: Option<PortRange>,
    /// Remote port (or range)
    #[arg(long = "dport", value_name = "PORT", allow_negative_numbers = true)]
    pub dport: Option<PortRange>,
    /// Port at either end (or range)
    #[arg(long = "port", value_name = "PORT", allow_negative_numbers = true)]
    pub port: Option<PortRange>,
    /// Address at either end, ADDR or ADDR/PREFIX
    #[arg(long = "addr", value_name = "ADDR[/PREFIX]")]
    pub addr: Option<Prefix>,
    /// Show the processes holding each socket (pid, name, fd)
    #[arg(short = 'p', long = "processes")]
    pub processes: bool,
    /// Show the owner's uid and the socket inode
    #[arg(short = 'e', long = "extended")]
    pub extended: bool,
    /// Show TCP timers
    #[arg(short = 'o', long = "timers")]
    pub timers: bool,
    /// With -t: TCP internals (rtt, cwnd, retransmits …); alone: the interface table
    #[arg(short = 'i', long = "info")]
    pub info: bool,
    /// Show socket memory
    #[arg(short = 'm', long = "memory")]
    pub memory: bool,
    /// Numeric ports (no /etc/services names)
    #[arg(short = 'n', long = "numeric")]
    pub numeric: bool,
    /// Look up host names for addresses (reverse DNS)
    #[arg(long = "resolve", conflicts_with = "numeric")]
    pub resolve: bool,
    /// Protocol statistics (netstat -s)
    #[arg(short = 's', long = "statistics", conflicts_with_all = ["route", "processes", "state", "listening", "all"])]
    pub statistics: bool,
    /// Routing table (netstat -rn)
    #[arg(short = 'r', long = "route", conflicts_with_all = ["processes", "state", "listening", "all", "info"])]
    pub route: bool,
    /// Where to read sockets from: the kernel's netlink (default, falls back to /proc) or /proc only
    #[arg(long = "source", value_name = "FROM", value_parser = ["auto", "proc"], default_value = "auto")]
    pub source: String,
}
