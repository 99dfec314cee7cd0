//! `netdx lsof` arguments: the part of lsof that `netdx port` answers.

use clap::Args;

/// `netdx lsof -i [4|6][tcp|udp][@ADDR][:PORT]` — the part of lsof that `netdx port` answers.
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
