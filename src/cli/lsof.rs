//! `netdx lsof` arguments: the part of lsof that `netdx port` answers.

use clap::Args;

pub(super) const LSOF_EXAMPLES: &str = "\
Examples:
  netdx lsof -i :8080            who holds port 8080 (lsof -i :8080)
  netdx lsof -i tcp:80 -t        only the PIDs, one per line (lsof -t)
  netdx lsof -i 4udp:53          IPv4 UDP sockets on port 53
  netdx lsof -i 6tcp:8000-8100   IPv6 TCP sockets on a range of ports

Host names and addresses (@HOST) are not taken: 'netdx netstat --addr' filters
by address.
Exit status: 0 if a socket uses the port, 1 if none does, 2 on errors.";

// `netdx lsof -i [4|6][tcp|udp][@ADDR][:PORT]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct LsofArgs {
    /// The internet address spec, e.g. :8080, tcp:80, udp:53, 4tcp:8000-8100
    #[arg(short = 'i', value_name = "SPEC", required = true)]
    pub internet: String,
    /// Print only the PIDs (lsof -t)
    #[arg(short = 't')]
    pub terse: bool,
    /// No host names (netdx never resolves them here)
    #[arg(short = 'n')]
    pub numeric: bool,
    /// No port names (netdx never resolves them here)
    #[arg(short = 'P')]
    pub numeric_ports: bool,
}
