//! `netdx neigh` arguments: the neighbour table (ip neigh, arp -n).

use std::time::Duration;

use clap::{Args, Subcommand};

use super::values;

use crate::iface::IfaceName;
use crate::neigh::State;

pub(super) const NEIGH_EXAMPLES: &str = "\
Examples:
  netdx neigh                    the neighbour table in arp -n's columns, IPv4 and IPv6
  netdx neigh -4 -I eth0         the ARP entries of one interface
  netdx neigh --state stale      only STALE entries (--state may repeat; 'all' shows NOARP too)
  netdx neigh --json             [{address, family, mac, state, interface, router}]

States are the kernel's (ip neigh's): INCOMPLETE (a request is out), REACHABLE
(confirmed recently), STALE (known but unconfirmed; checked on next use), DELAY
and PROBE (being checked), FAILED (nobody answered), PERMANENT (set by hand),
NOARP (no resolution needed). Like ip neigh, NOARP-only entries are shown only
with --state noarp or --state all. Flags as arp -n prints them: C complete,
M permanent.

Exit status: 0 when an entry is shown, 1 when none matches, 2 on errors.";

/// One `--state` value: a state, or every entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChoice {
    /// Entries in this state.
    One(State),
    /// Every entry (`all`).
    All,
}

fn state_choice(text: &str) -> Result<StateChoice, String> {
    if text.eq_ignore_ascii_case("all") {
        return Ok(StateChoice::All);
    }
    State::parse(text)
        .map(StateChoice::One)
        .map_err(|err| format!("{err}, or 'all'"))
}

// `netdx neigh [-4|-6] [-I IFACE] [--state STATE]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NeighArgs {
    /// Instead of reading the table, ask the segment
    #[command(subcommand)]
    pub command: Option<NeighCommand>,
    /// IPv4 (ARP) entries only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 (NDP) entries only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Only this interface's entries
    #[arg(short = 'I', long = "interface", value_name = "IFACE")]
    pub interface: Option<IfaceName>,
    /// Only entries in STATE: reachable, stale, delay, probe, failed, incomplete, permanent, noarp, or all
    #[arg(long = "state", value_name = "STATE", value_parser = state_choice)]
    pub states: Vec<StateChoice>,
}

pub(super) const SCAN_EXAMPLES: &str = "\
Examples:
  netdx neigh scan -I eth1                  every address of eth1's subnet: who answers ARP
  netdx neigh scan -I eth1 10.0.0.0/28      a chosen network
  netdx neigh scan -I eth1 --rate 200 --retries 2
                                            gentler: 200 requests a second, two more tries
  netdx neigh scan -I eth1 -6               IPv6: every node on the link answers an all-nodes echo
  netdx neigh scan -I eth1 fd00::/120       IPv6: a solicitation to each address, and the echo
  netdx neigh scan -I eth1 --json           {interface, network, hosts: [{address, mac, vendor, rtt_ms, duplicate, …}]}

Each address is asked once (IPv4: an ARP request from the interface's address
in the network; IPv6: a neighbour solicitation to the address's solicited-node
group, from the interface's link-local address), paced at --rate, and the
silent ones again after --timeout, up to --retries more times. With IPv6 an
echo request to all nodes (ff02::1) goes first and is repeated as often: it
finds the hosts outside the CIDR, by the link-local address they answer from.
An interface's own IPv6 /64 is too large to ask address by address, so -6
without a CIDR relies on that echo alone (hosts that ignore multicast echoes,
net.ipv6.icmp.echo_ignore_multicast=1, are then missed: give a CIDR of /112
or longer to ask each address). Two MACs answering for one address are flagged as a
duplicate (a classic misconfiguration: both hosts will lose traffic), one MAC
answering for several addresses as shared (a router's proxy ARP, or aliases).
Vendors come from the IEEE registry Debian installs (arp-scan's ieee-oui.txt
or ieee-data's oui.txt), when one is there. The interface defaults to the one
the route to the network (or the default route) uses: scan only networks you
may.

Needs CAP_NET_RAW; capabilities are dropped once the socket is open.

Exit status: 0 when a host answered, 1 when none did, 2 on errors.";

// What to ask the segment (no doc comment: it would replace `netdx neigh`'s summary).
#[derive(Debug, Subcommand)]
pub enum NeighCommand {
    /// Who is on this segment: ARP requests (or IPv6 neighbour solicitations) to every address of a network, every answer's MAC and vendor (arp-scan)
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(NeighScanArgs),
}

// `netdx neigh scan [-I IFACE] [CIDR] …`
#[derive(Debug, Args)]
pub struct NeighScanArgs {
    /// The network to scan, IPv4 or IPv6 [default: the interface's own subnet]
    #[arg(value_name = "CIDR", value_parser = network)]
    pub network: Option<ipnet::IpNet>,
    /// IPv6: neighbour solicitations to each address, and an echo to all nodes (implied by an IPv6 CIDR)
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// The interface to scan from [default: the one the route to the network uses]
    #[arg(short = 'I', long = "interface", value_name = "IFACE")]
    pub interface: Option<IfaceName>,
    /// Requests per second at most
    #[arg(long = "rate", value_name = "PPS", default_value_t = 1000.0, value_parser = rate)]
    pub rate: f64,
    /// More requests to an address that has not answered
    #[arg(long = "retries", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub retries: u32,
    /// Seconds each request waits for its answer before the next try
    #[arg(long = "timeout", value_name = "SECS", default_value = "0.25", value_parser = values::positive_seconds)]
    pub timeout: Duration,
}

fn network(text: &str) -> Result<ipnet::IpNet, String> {
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Ok(net.trunc());
    }
    if let Ok(address) = text.parse::<std::net::IpAddr>() {
        return Ok(ipnet::IpNet::from(address));
    }
    Err(format!(
        "'{text}' is not a network (CIDR such as 10.0.0.0/24 or fd00::/120, or one address)"
    ))
}

fn rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && (1.0..=100_000.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "'{text}' is not a rate from 1 to 100000 requests a second"
        )),
    }
}
