//! `netdx trace` arguments: traceroute's, plus mtr's report rounds.

use clap::Args;

use super::values;
use crate::net::FamilyChoice;
use crate::render::plot::PlotFile;
use crate::trace::{Method, Wait};

pub(super) const TRACE_EXAMPLES: &str = "\
Examples:
  netdx trace 10.0.3.2                 UDP probes, three per hop, like traceroute
  netdx trace -n --icmp 10.0.3.2       ICMP echo probes, numeric output
  netdx trace --tcp -p 443 10.0.3.2    TCP SYNs to port 443 (through firewalls that pass it)
  netdx trace -n -c 10 -q 1 10.0.3.2   ten rounds: loss and min/avg/max per hop, like mtr --report
  netdx trace --json -n 10.0.3.2       every probe as JSON
  netdx trace --json-stream 10.0.3.2   a JSON line per hop as it completes
  netdx trace -6 -n example.net        the IPv6 path (ICMPv6 errors, hop limits)

Probes for up to -N hops are in flight at once (traceroute -N), and a hop is
printed as soon as all of its probes are answered or given up on. -w MAX,HERE,NEAR
works as traceroute's: wait at most MAX seconds, or HERE times the round trip of
an answer from the same hop, or NEAR times one from a later hop.

Paris traceroute: routers that balance load per flow hash the addresses,
protocol and ports. netdx keeps all of these the same for every probe of a
trace, so every probe follows one path and the hops line up. UDP probes are told
apart by their checksum (two payload bytes are chosen to give each probe its
own), TCP probes by their sequence number, ICMP probes by their sequence number;
routers quote these back in Time Exceeded messages.

Needs CAP_NET_RAW (root, or setcap cap_net_raw+ep). IPv4 and IPv6 targets;
-4 / -6 choose when a name has addresses of both families.
Exit status: 0 if the target answered, 1 if it did not, 2 on errors.";

// `netdx trace [OPTIONS] HOST` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Host name, IPv4 or IPv6 address
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Use IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// ICMP echo probes (traceroute -I)
    #[arg(long, conflicts_with_all = ["udp", "tcp"])]
    pub icmp: bool,
    /// UDP probes (the default)
    #[arg(long, conflicts_with = "tcp")]
    pub udp: bool,
    /// TCP SYN probes (traceroute -T)
    #[arg(long)]
    pub tcp: bool,
    /// Last TTL to try
    #[arg(short = 'm', value_name = "HOPS", default_value = "30", value_parser = values::ttl)]
    pub max_hops: u8,
    /// First TTL
    #[arg(short = 'f', value_name = "TTL", default_value = "1", value_parser = values::ttl)]
    pub first_ttl: u8,
    /// Probes per hop, 1-10
    #[arg(short = 'q', value_name = "N", default_value = "3", value_parser = values::probes_per_hop)]
    pub probes: u8,
    /// Seconds to wait: MAX[,HERE,NEAR] as traceroute's -w
    #[arg(short = 'w', value_name = "MAX[,HERE,NEAR]", default_value = "5,3,10", value_parser = values::trace_wait)]
    pub wait: Wait,
    /// Destination port [default: 33434 for UDP, 80 for TCP]
    #[arg(short = 'p', value_name = "PORT", value_parser = values::destination_port)]
    pub port: Option<u16>,
    /// Probes in flight at once
    #[arg(short = 'N', value_name = "N", default_value = "16", value_parser = values::simultaneous)]
    pub simultaneous: usize,
    /// Rounds; more than one prints an mtr-style report (loss, min/avg/max per hop)
    #[arg(short = 'c', value_name = "COUNT", value_parser = values::count)]
    pub count: Option<u64>,
    /// Numeric output: no reverse DNS for hops
    #[arg(short = 'n')]
    pub numeric: bool,
    /// When the trace ends, write a chart of it to FILE (.svg or .png): each probe's round trip per hop, unanswered ones marked, and each hop's loss
    #[arg(long = "plot", value_name = "FILE", value_parser = PlotFile::parse)]
    pub plot: Option<PlotFile>,
}

impl TraceArgs {
    /// The address family asked for (`-4`, `-6`, or whichever HOST has).
    pub fn family(&self) -> FamilyChoice {
        FamilyChoice::from_flags(self.ipv4, self.ipv6)
    }

    /// The probe method chosen.
    pub fn method(&self) -> Method {
        if self.icmp {
            Method::Icmp
        } else if self.tcp {
            Method::Tcp
        } else {
            Method::Udp
        }
    }
}
