//! `netdx scan` arguments: nmap's, for the scans netdx does.

use std::time::Duration;

use clap::Args;

use super::values;
use crate::net::FamilyChoice;
use crate::ping::TargetSpec;
use crate::scan::Method;
use crate::targets::ListSource;

pub(super) const SCAN_EXAMPLES: &str = "\
Examples:
  netdx scan 10.9.0.2                  a TCP connect scan of the common ports
  netdx scan -p- 10.9.0.2              every TCP port, 1-65535
  netdx scan --syn -p 1-1024 10.9.0.2  half-open SYN scan (CAP_NET_RAW)
  netdx scan --udp -p 53,123,161 host  UDP, with DNS/NTP/SNMP payloads where they apply
  netdx scan --udp --exact -p 1-100 h  wait out the target's ICMP rate limit: every port classified
  netdx scan --banner -p 21,22,25 h    what the services say first
  netdx scan -p 22,80 10.9.0.0/29      every host of a network (network and broadcast excluded)
  netdx scan --json -p- 10.9.0.2       every port as JSON
  netdx scan --json-stream -p- host    a JSON line per port as it is classified

Scan only hosts you own or are allowed to scan: a port scan is what an
intrusion detection system is built to notice.

States and reasons are nmap's: open (syn-ack, udp-response), closed (reset,
conn-refused, port-unreach), filtered (ICMP unreachable 1, 2, 3 (SYN), 9, 10,
13, or no-response after every retry), open|filtered (UDP, no-response).
Closed ports answered by ICMP are limited by the target's kernel to about one
a second (net.ipv4.icmp_ratelimit): when that is what kept an answer away,
the port is unclassified (icmp-rate-limited), never guessed; --exact paces
its probes to the measured rate so every port gets its answer.

Concurrency follows the open-files limit (raised to the hard limit), and the
timeout follows the measured round trips (srtt + 4 rttvar), so a LAN host is
not waited on for seconds. --syn needs CAP_NET_RAW; --tcp and --udp do not.
Exit status: 0 if at least one port is open, 1 if none is, 2 on errors.";

// `netdx scan [OPTIONS] TARGET...` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Hosts, addresses or CIDR blocks to scan
    #[arg(value_name = "TARGET", value_parser = TargetSpec::parse, required_unless_present = "file")]
    pub targets: Vec<TargetSpec>,
    /// Read the targets from FILE, one a line ('-': standard input)
    #[arg(long = "file", value_name = "FILE", value_parser = ListSource::parse)]
    pub file: Option<ListSource>,
    /// TCP connect scan (the default; no privileges needed)
    #[arg(long, conflicts_with = "syn")]
    pub tcp: bool,
    /// Half-open SYN scan on a raw socket (CAP_NET_RAW)
    #[arg(long)]
    pub syn: bool,
    /// UDP scan (with --tcp or --syn: both)
    #[arg(long)]
    pub udp: bool,
    /// Ports, nmap's syntax: 22, 1-1024, - (all), 22,80,8000-8100, T:80,U:53
    #[arg(
        short = 'p',
        value_name = "PORTS",
        allow_hyphen_values = true,
        conflicts_with = "top"
    )]
    pub ports: Option<String>,
    /// The N most commonly open ports
    #[arg(long, value_name = "N", value_parser = top)]
    pub top: Option<usize>,
    /// At most PPS probes a second
    #[arg(long, value_name = "PPS", value_parser = rate)]
    pub rate: Option<u32>,
    /// The longest wait for one probe's answer, in seconds
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = values::positive_seconds)]
    pub timeout: Duration,
    /// Probes after the first for a port that does not answer
    #[arg(long, value_name = "N", default_value = "2", value_parser = retries)]
    pub retries: u8,
    /// Wait out the target's ICMP rate limit so every port is classified
    #[arg(long)]
    pub exact: bool,
    /// Read what open TCP ports send first (up to 256 bytes; connect scan)
    #[arg(long, conflicts_with = "syn")]
    pub banner: bool,
    /// Allow sweeps larger than a /16
    #[arg(long)]
    pub force: bool,
    /// Use IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Numeric output: no service names
    #[arg(short = 'n')]
    pub numeric: bool,
}

impl ScanArgs {
    /// The address family asked for.
    pub fn family(&self) -> FamilyChoice {
        FamilyChoice::from_flags(self.ipv4, self.ipv6)
    }

    /// The scans to run, in order: TCP (connect or SYN), then UDP.
    pub fn methods(&self) -> Vec<Method> {
        let mut methods = Vec::new();
        if self.syn {
            methods.push(Method::Syn);
        } else if self.tcp || !self.udp {
            methods.push(Method::Tcp);
        }
        if self.udp {
            methods.push(Method::Udp);
        }
        methods
    }
}

fn top(text: &str) -> Result<usize, String> {
    match text.trim().parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as usize),
        _ => Err(format!("'{text}': --top takes 1 to 65535")),
    }
}

fn rate(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n @ 1..) => Ok(n),
        _ => Err(format!(
            "'{text}': --rate takes packets per second, at least 1"
        )),
    }
}

fn retries(text: &str) -> Result<u8, String> {
    match text.trim().parse::<u8>() {
        Ok(n @ 0..=10) => Ok(n),
        _ => Err(format!("'{text}': --retries takes 0 to 10")),
    }
}
