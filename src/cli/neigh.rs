//! `netdx neigh` arguments: the neighbour table (ip neigh, arp -n).

use clap::Args;

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
pub struct NeighArgs {
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
