//! `netdx dhcp` arguments: the interface, the timeout, the client MAC, and
//! whether to take (and give back) a lease.

use std::time::Duration;

use clap::Args;

use super::values;
use crate::iface::IfaceName;
use crate::wire::arp::Mac;

pub(super) const DHCP_EXAMPLES: &str = "\
Examples:
  netdx dhcp -I eth0                 which DHCP servers answer, and what each offers
  netdx dhcp -I eth0 --request       take the first offer (REQUEST, ACK), then release it
  netdx dhcp -I eth0 --wire          every reply's BOOTP fields at their offsets, and its bytes
  netdx dhcp -I eth0 --json          the offers as JSON

A DHCPDISCOVER is broadcast on the interface from a random, locally
administered client MAC (or --mac), with the broadcast flag set so servers
broadcast their answers; the interface's own address and lease are never
touched, and port 68 is never bound (a running DHCP client is not
disturbed). Every OFFER that comes within the timeout is listed with its
options by name; more than one server answering is flagged (a rogue server?).
With --request the first offer is requested, the ACK or NAK shown, and an
ACKed lease released at once (unicast to the server, from the leased
address). The interface is required: a DISCOVER reaches every server on the
link, so netdx does not pick one.

Needs CAP_NET_RAW (root, or: setcap cap_net_raw+ep $(command -v netdx));
capabilities are dropped once the socket is open.

Exit status: 0 an offer came (with --request: and an ACK). 1 no offer (with
--request: a NAK or no answer). 2 on errors.";

// `netdx dhcp -I IFACE [OPTIONS]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct DhcpArgs {
    /// The interface to ask on (required: netdx does not guess which link to broadcast on)
    #[arg(short = 'I', long = "interface", value_name = "IFACE")]
    pub interface: Option<IfaceName>,
    /// Seconds to collect offers, and then to wait for the ACK [default: 5]
    #[arg(long, allow_hyphen_values = true, value_name = "SECS", value_parser = values::positive_seconds)]
    pub timeout: Option<Duration>,
    /// The client hardware address to ask as [default: a random locally administered one]
    #[arg(long, value_name = "MAC")]
    pub mac: Option<Mac>,
    /// Complete the exchange with the first offer (REQUEST, ACK), then release the lease
    #[arg(long)]
    pub request: bool,
    /// Show every reply's BOOTP fields and options at their offsets, and its bytes in hex
    #[arg(long)]
    pub wire: bool,
}
