//! `netdx tcping` arguments: ping's, for TCP handshakes.

use std::time::Duration;

use clap::Args;

use super::values;

pub(super) const TCPING_EXAMPLES: &str = "\
Examples:
  netdx tcping example.test:443        a handshake a second until Ctrl-C, and ping's statistics
  netdx tcping -c 5 10.0.0.2:22        five handshakes
  netdx tcping -c 3 [fd00::2]:80       IPv6 (brackets around the address), or: netdx tcping fd00::2 80
  netdx tcping -c 10 -i 0.2 -W 1 host:8080
                                       faster, and a shorter wait for each
  netdx tcping -c 3 --json host:443    every probe and the statistics as JSON

Each probe is a non-blocking connect(): the time shown is the kernel's own
measure of the handshake (TCP_INFO's RTT sample, from the SYN leaving to the
SYN-ACK arriving), or connect()'s time when the SYN had to be sent again (the
kernel takes no sample then). The connection is closed at once with an RST
(SO_LINGER 0), so neither side is left in TIME_WAIT. A port that answers with
an RST is 'closed': an error, not a reply; a SYN nobody answers (a firewall's
DROP) times out after -W. Works where ICMP is blocked and needs no privileges.

Exit status: 0 when a handshake completed, 1 when none did, 2 on errors (bad
arguments, a name that does not resolve).";

// `netdx tcping [OPTIONS] HOST:PORT [PORT]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct TcpingArgs {
    /// HOST:PORT, [IPv6]:PORT, or HOST with the port as the next argument
    #[arg(value_name = "HOST:PORT")]
    pub target: String,
    /// The port, when not given after a colon
    #[arg(value_name = "PORT")]
    pub port: Option<String>,
    /// Stop after COUNT probes [default: until Ctrl-C]
    #[arg(short = 'c', allow_hyphen_values = true, value_name = "COUNT", value_parser = values::count)]
    pub count: Option<u64>,
    /// Seconds between the starts of two probes
    #[arg(short = 'i', allow_hyphen_values = true, value_name = "SECS", default_value = "1", value_parser = values::positive_seconds)]
    pub interval: Duration,
    /// Seconds each probe waits for its handshake
    #[arg(short = 'W', allow_hyphen_values = true, value_name = "SECS", default_value = "2", value_parser = values::positive_seconds)]
    pub timeout: Duration,
    /// IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Only the statistics at the end
    #[arg(short = 'q')]
    pub quiet: bool,
}
