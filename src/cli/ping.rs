//! `netdx ping` arguments: iputils' options for one host, fping's for many.

use std::time::Duration;

use clap::Args;

use super::values;
use crate::ping::TargetSpec;
use crate::ping::echo::Source;
use crate::ping::session::Pattern;
use crate::render::plot::PlotFile;
use crate::targets::ListSource;

pub(super) const PING_EXAMPLES: &str = "\
Examples:
  netdx ping localhost                   ping until Ctrl-C, like iputils ping
  netdx ping -c 5 -i 0.2 10.0.0.1        five probes, 200 ms apart
  netdx ping -6 -c 3 ::1                 ICMPv6
  netdx ping -c 20000 -f 10.0.0.1        flood (root or CAP_NET_RAW)
  netdx ping 10.0.0.1 10.0.0.2 host3     several hosts at once: a table at the end
  netdx ping -a -g 10.0.0.0/24           print the hosts of a network that answer
  netdx ping -u 10.0.0.0/24 --retries 0  print the ones that don't
  netdx ping -a -g 10.0.0.1 10.0.0.20    a range, both ends included (fping -g START END)
  netdx ping -a --file hosts.txt         the hosts of a list that answer (fping -f)
  grep -v '^#' hosts | netdx ping -u     no target given: the list is read from stdin
  netdx ping --json -c 3 localhost       statistics and every reply as JSON
  netdx ping --json-stream localhost     a JSON line per reply as it comes; Ctrl-C for the summary

One host behaves like iputils ping: -i is the gap between probes, -W how long a
probe waits for its reply (later replies are reported as late, not received).
Several hosts or a CIDR block behave like fping: -i is the gap between any two
probes (default 0.01 s), --period the gap between probes to one host (default
1 s), -W the per-probe timeout (default 0.5 s); without -c each host is probed
until it answers, at most 1 + --retries times (default 3). A list (--file, or
stdin when no target is given) holds one target a line and is always a sweep;
an empty list or range pings nothing and exits 1, printing nothing.

Ctrl-C prints the statistics and stops; SIGQUIT (Ctrl-\\) prints them and goes on.
Exit status: one host: 0 if a reply came back (with -w, if -c replies did), 1 if
none; many hosts: 0 if every host answered, 1 if any did not; 2 on errors.";

// `netdx ping [OPTIONS] TARGET…` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct PingArgs {
    /// Host names, addresses, or CIDR blocks (10.0.0.0/24); several make an fping-style sweep; none: read them from standard input when it is not a terminal (as fping does)
    #[arg(value_name = "TARGET", value_parser = TargetSpec::parse)]
    pub targets: Vec<TargetSpec>,
    /// Read the targets from FILE, one a line, '-' for standard input; blank lines and # comments are skipped (fping -f; -f here is iputils' flood)
    #[arg(long = "file", value_name = "FILE", value_parser = ListSource::parse, conflicts_with_all = ["targets", "generate"])]
    pub file: Option<ListSource>,
    /// Stop after COUNT probes (per host when sweeping)
    #[arg(short = 'c', allow_hyphen_values = true, value_name = "COUNT", value_parser = values::count)]
    pub count: Option<u64>,
    /// Seconds between probes; below 0.002 needs privilege (0.001 when sweeping)
    #[arg(short = 'i', allow_hyphen_values = true, value_name = "SECS", value_parser = values::seconds)]
    pub interval: Option<Duration>,
    /// Seconds a probe waits for its reply [default: 10 for one host, 0.5 when sweeping]
    #[arg(short = 'W', allow_hyphen_values = true, value_name = "SECS", value_parser = values::positive_seconds)]
    pub timeout: Option<Duration>,
    /// Stop after SECS seconds, whatever else
    #[arg(short = 'w', allow_hyphen_values = true, value_name = "SECS", value_parser = values::positive_seconds)]
    pub deadline: Option<Duration>,
    /// Payload bytes per probe
    #[arg(short = 's', allow_hyphen_values = true, value_name = "BYTES", default_value = "56", value_parser = values::payload_size)]
    pub size: usize,
    /// TTL (IPv6 hop limit) of the probes, 1-255
    #[arg(short = 't', allow_hyphen_values = true, value_name = "TTL", value_parser = values::ttl)]
    pub ttl: Option<u8>,
    /// Quiet: only the header and the summary
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Prefix each line with the Unix time [seconds.microseconds]
    #[arg(short = 'D')]
    pub timestamps: bool,
    /// Numeric output only: no names for replying addresses
    #[arg(short = 'n')]
    pub numeric: bool,
    /// Use IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Send from this interface or local address
    #[arg(short = 'I', value_name = "IFACE|ADDR", value_parser = values::source)]
    pub source: Option<Source>,
    /// Flood: '.' per probe, backspace per reply, as fast as replies come (needs privilege)
    #[arg(short = 'f')]
    pub flood: bool,
    /// Fill the payload with this hex pattern (up to 16 bytes), e.g. -p ff00
    #[arg(short = 'p', value_name = "HEX", value_parser = values::pattern)]
    pub pattern: Option<Pattern>,
    /// Report probes still unanswered when the next one is sent
    #[arg(short = 'O')]
    pub report_outstanding: bool,
    /// Sweep networks, or the range START END, both ends included (fping -g); 10.0.0.0/24 sweeps on its own too
    #[arg(short = 'g', long = "generate")]
    pub generate: bool,
    /// Print only the targets that answered, one per line (fping -a)
    #[arg(short = 'a', long = "alive", conflicts_with = "unreachable")]
    pub alive: bool,
    /// Print only the targets that did not answer, one per line (fping -u)
    #[arg(short = 'u', long = "unreachable")]
    pub unreachable: bool,
    /// Extra attempts per host when sweeping without -c (fping -r) [default: 3]
    #[arg(long = "retries", value_name = "N")]
    pub retries: Option<u32>,
    /// Seconds between probes to the same host when sweeping with -c (fping -p) [default: 1]
    #[arg(long = "period", value_name = "SECS", value_parser = values::positive_seconds)]
    pub period: Option<Duration>,
    /// Allow sweeps (blocks, ranges, lists) larger than a /16
    #[arg(long = "force")]
    pub force: bool,
    /// When the run ends, write a chart of it to FILE (.svg or .png): round trips over time with lost probes marked, and their histogram; one target only
    #[arg(long = "plot", value_name = "FILE", value_parser = PlotFile::parse)]
    pub plot: Option<PlotFile>,
}
