//! `netdx arping` arguments: iputils arping's options.

use std::net::Ipv4Addr;
use std::time::Duration;

use clap::Args;

use super::values;
use crate::iface::IfaceName;

pub(super) const ARPING_EXAMPLES: &str = "\
Examples:
  netdx arping -c 3 10.0.0.2          three ARP requests: which MAC answers, and how fast
  netdx arping -I eth1 -c 1 10.0.0.2  on a chosen interface
  netdx arping -D -c 2 10.0.0.9       is 10.0.0.9 free? (duplicate address detection)
  netdx arping -U -c 1 10.0.0.1       announce our own address (gratuitous ARP request)
  netdx arping -c 5 --json 10.0.0.2   every reply and the statistics as JSON

The interface is the one the kernel's route to ADDR uses, and the source the
address it would send from; an address routed through a gateway is not on the
link and is refused (name the interface with -I to ask anyway). After the
first reply the requests go to the replier's MAC alone, as iputils arping's
do; -b keeps broadcasting (and so sees every MAC that answers). Round trips
are the kernel's receive time minus the send time of the probe answered.

Needs CAP_NET_RAW (root, or: setcap cap_net_raw+ep $(command -v netdx));
capabilities are dropped once the socket is open.

Exit status: 0 a reply came (with -w and -c: that many replies); with -D, the
address is free; with -U/-A, the announcements were sent. 1 no reply; with -D,
someone holds the address. 2 on errors.";

// `netdx arping [OPTIONS] ADDR` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct ArpingArgs {
    /// The IPv4 address (or host name) to ask for
    #[arg(value_name = "ADDR")]
    pub target: String,
    /// Stop after COUNT requests (with -w: after COUNT replies)
    #[arg(short = 'c', allow_hyphen_values = true, value_name = "COUNT", value_parser = values::count)]
    pub count: Option<u64>,
    /// Stop after SECS seconds, whatever else
    #[arg(short = 'w', allow_hyphen_values = true, value_name = "SECS", value_parser = values::positive_seconds)]
    pub deadline: Option<Duration>,
    /// Seconds between requests [default: 1]
    #[arg(short = 'i', allow_hyphen_values = true, value_name = "SECS", value_parser = values::positive_seconds)]
    pub interval: Option<Duration>,
    /// Seconds the last request waits for its reply when there is no -w [default: the interval]
    #[arg(short = 'W', allow_hyphen_values = true, value_name = "SECS", value_parser = values::positive_seconds)]
    pub wait: Option<Duration>,
    /// The interface to send on [default: the one the route to ADDR uses]
    #[arg(short = 'I', value_name = "IFACE")]
    pub interface: Option<IfaceName>,
    /// The sender IPv4 address in the requests [default: the route's source]
    #[arg(short = 's', value_name = "SOURCE")]
    pub source: Option<Ipv4Addr>,
    /// Duplicate address detection: ask from 0.0.0.0; exit 0 if nobody answers
    #[arg(short = 'D', conflicts_with_all = ["announce_request", "announce_reply", "source"])]
    pub dad: bool,
    /// Announce ADDR with gratuitous ARP requests (updates neighbours' caches)
    #[arg(short = 'U', conflicts_with = "announce_reply")]
    pub announce_request: bool,
    /// Announce ADDR with gratuitous ARP replies
    #[arg(short = 'A')]
    pub announce_reply: bool,
    /// Keep broadcasting after a reply instead of asking the replier directly
    #[arg(short = 'b')]
    pub broadcast: bool,
    /// Stop at the first reply
    #[arg(short = 'f')]
    pub first: bool,
    /// Print nothing; only the exit status tells
    #[arg(short = 'q')]
    pub quiet: bool,
}
