//! `netdx top` arguments: bandwhich/nethogs from the kernel's counters.

use std::time::Duration;

use clap::{Args, ValueEnum};

use super::values;

pub(super) const TOP_EXAMPLES: &str = "\
Examples:
  netdx top                        processes by traffic, refreshed every second (q or Ctrl-C quits)
  netdx top --by connection        each TCP connection, with its RTT and retransmits
  netdx top --by interface -i 2    interfaces, every 2 seconds
  netdx top --once --json          one 1-second measurement for scripts

The rates are the kernel's own counters between two refreshes: TCP_INFO's
bytes_acked and bytes_received of every TCP connection (sock_diag), its
holder from /proc/PID/fd, and each interface's IFLA_STATS64. No packet is
captured, nothing needs promiscuous mode, and it runs unprivileged: without
root, other users' processes are not matched to their connections (their
connections are shown without a pid, and the count is said). UDP and raw
sockets have no per-socket byte counters (their bytes are in the
interfaces' rates), and a connection that opens and closes between two
refreshes is not seen. Not a terminal: one --json-stream line per refresh.";

/// What the table shows, a row per …
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopBy {
    /// process
    Process,
    /// TCP connection
    Connection,
    /// interface
    Interface,
}

/// Row order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TopSort {
    /// bytes per second over the last refresh
    Rate,
    /// bytes since netdx top started
    Total,
}

// `netdx top [OPTIONS]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct TopArgs {
    /// A row per process, connection or interface
    #[arg(long = "by", value_enum, default_value = "process")]
    pub by: TopBy,
    /// Row order
    #[arg(long = "sort", value_enum, default_value = "rate")]
    pub sort: TopSort,
    /// Seconds between refreshes
    #[arg(short = 'i', allow_hyphen_values = true, value_name = "SECS", default_value = "1", value_parser = refresh_seconds)]
    pub interval: Duration,
    /// Addresses as numbers (no reverse DNS; the default: names are not looked up)
    #[arg(short = 'n')]
    pub numeric: bool,
    /// One measurement over -i seconds, then exit (with --json: one document)
    #[arg(long = "once")]
    pub once: bool,
}

fn refresh_seconds(text: &str) -> Result<Duration, String> {
    let duration = values::positive_seconds(text)?;
    if duration < Duration::from_millis(100) {
        return Err(format!(
            "'{text}': refreshes are 0.1 seconds apart at least"
        ));
    }
    Ok(duration)
}
