//! The kernel's neighbour table from one RTM_GETNEIGH netlink dump, filtered
//! as `ip neigh show` filters it.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use schemars::JsonSchema;
use serde::Serialize;

use super::NeighError;
use crate::iface::{Family, IfaceName};
use crate::netlink::{Conn, NETLINK_ROUTE};

/// One neighbour-cache state bit (NUD_*), named as `ip neigh` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// An address-resolution request is out and unanswered.
    Incomplete,
    /// Confirmed recently (by a reply or by upper-layer progress).
    Reachable,
    /// Known, but not confirmed within the reachable time; checked on next use.
    Stale,
    /// Used while stale: waiting a moment for upper-layer confirmation.
    Delay,
    /// Being re-checked with unicast probes.
    Probe,
    /// Resolution failed: no one answered.
    Failed,
    /// No resolution needed (point-to-point, multicast, loopback).
    Noarp,
    /// Set by an administrator; never expires.
    Permanent,
}

impl State {
    /// Every state with its NUD_* bit, in the order `ip neigh` prints them.
    pub const ALL: [(State, u16); 8] = [
        (State::Incomplete, 0x01),
        (State::Reachable, 0x02),
        (State::Stale, 0x04),
        (State::Delay, 0x08),
        (State::Probe, 0x10),
        (State::Failed, 0x20),
        (State::Noarp, 0x40),
        (State::Permanent, 0x80),
    ];

    /// The name `ip neigh` prints.
    pub fn name(self) -> &'static str {
        match self {
            State::Incomplete => "INCOMPLETE",
            State::Reachable => "REACHABLE",
            State::Stale => "STALE",
            State::Delay => "DELAY",
            State::Probe => "PROBE",
            State::Failed => "FAILED",
            State::Noarp => "NOARP",
            State::Permanent => "PERMANENT",
        }
    }

    /// Parses `--state` values: a state name, in any case.
    pub fn parse(text: &str) -> Result<State, String> {
        State::ALL
            .iter()
            .map(|(state, _)| *state)
            .find(|state| state.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                let names: Vec<&str> = State::ALL.iter().map(|(s, _)| s.name()).collect();
                format!(
                    "'{text}' is not a neighbour state; use one of {}",
                    names.join(", ")
                )
            })
    }

    fn bit(self) -> u16 {
        State::ALL
            .iter()
            .find(|(state, _)| *state == self)
            .map_or(0, |(_, bit)| *bit)
    }

    /// The states set in a NUD_* bit mask, in `ip neigh`'s order.
    pub fn from_bits(bits: u16) -> Vec<State> {
        State::ALL
            .iter()
            .filter(|(_, bit)| bits & bit != 0)
            .map(|(state, _)| *state)
            .collect()
    }
}

/// Which entries to show, as `ip neigh show [nud STATE]…` chooses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateFilter {
    /// `ip neigh`'s default: every entry but NOARP-only and state-less ones.
    Default,
    /// Every entry, whatever its state (`nud all`).
    All,
    /// Entries in any of these states.
    Any(Vec<State>),
}

impl StateFilter {
    /// iproute2's test: the entry's state bits against the filter's, with
    /// proxy and externally learnt entries always shown.
    fn admits(&self, bits: u16, flags: NeighbourFlags) -> bool {
        let mask: u16 = match self {
            StateFilter::Default => 0xFF & !State::Noarp.bit(),
            StateFilter::All => return true,
            StateFilter::Any(states) => states.iter().map(|s| s.bit()).fold(0, |a, b| a | b),
        };
        bits & mask != 0
            || flags.contains(NeighbourFlags::Proxy)
            || flags.contains(NeighbourFlags::ExtLearned)
    }
}

/// One entry of the neighbour table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Neighbour {
    /// The neighbour's IP address.
    pub address: IpAddr,
    /// `inet` (ARP) or `inet6` (NDP).
    pub family: Family,
    /// Its link-layer address, when the kernel knows one.
    pub mac: Option<String>,
    /// The NUD states set, as `ip -j neigh` lists them (usually one; none for proxy entries).
    pub state: Vec<State>,
    /// The interface the entry belongs to.
    pub interface: String,
    /// The neighbour said it is a router (IPv6 router advertisement or NA with R set).
    pub router: bool,
}

/// What to read from the table.
#[derive(Debug, Clone)]
pub struct Query {
    /// IPv4 entries.
    pub v4: bool,
    /// IPv6 entries.
    pub v6: bool,
    /// Only this interface's entries.
    pub interface: Option<IfaceName>,
    /// Which states to show.
    pub states: StateFilter,
}

/// Reads the table with one dump and keeps what `query` asks for, in the
/// kernel's order (as `ip neigh` prints it).
pub fn read(query: &Query) -> Result<Vec<Neighbour>, NeighError> {
    let names = crate::iface::names_by_index();
    let index = match &query.interface {
        Some(name) => Some(
            names
                .iter()
                .find(|(_, n)| n.as_str() == name.as_str())
                .map(|(i, _)| *i)
                .ok_or_else(|| NeighError::NoSuchInterface(name.to_string()))?,
        ),
        None => None,
    };
    let family = match (query.v4, query.v6) {
        (true, false) => AddressFamily::Inet,
        (false, true) => AddressFamily::Inet6,
        _ => AddressFamily::Unspec,
    };
    let mut request = NeighbourMessage::default();
    request.header.family = family;
    if let Some(index) = index {
        request.header.ifindex = index;
    }
    let mut conn = Conn::open(NETLINK_ROUTE)?;
    let entries = conn.dump(
        "neighbour",
        RouteNetlinkMessage::GetNeighbour(request),
        |m| match m {
            RouteNetlinkMessage::NewNeighbour(message) => Some(message),
            _ => None,
        },
    )?;
    Ok(entries
        .into_iter()
        .filter_map(|message| entry(message, &names, index, &query.states))
        .collect())
}

/// All entries of one family on one interface, whatever their state: what
/// `neigh scan` compares its answers with.
pub fn on_interface(interface: &IfaceName, v6: bool) -> Result<Vec<Neighbour>, NeighError> {
    read(&Query {
        v4: !v6,
        v6,
        interface: Some(interface.clone()),
        states: StateFilter::All,
    })
}

fn entry(
    message: NeighbourMessage,
    names: &HashMap<u32, String>,
    index: Option<u32>,
    states: &StateFilter,
) -> Option<Neighbour> {
    let header = &message.header;
    let family = match header.family {
        AddressFamily::Inet => Family::Inet,
        AddressFamily::Inet6 => Family::Inet6,
        _ => return None,
    };
    if index.is_some_and(|i| i != header.ifindex) {
        return None;
    }
    let bits = u16::from(header.state);
    if !states.admits(bits, header.flags) {
        return None;
    }
    let mut address = None;
    let mut mac = None;
    for attribute in &message.attributes {
        match attribute {
            NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                address = Some(IpAddr::V4(*v4));
            }
            NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                address = Some(IpAddr::V6(*v6));
            }
            NeighbourAttribute::LinkLayerAddress(bytes) => mac = Some(link_address(bytes)),
            _ => {}
        }
    }
    Some(Neighbour {
        address: address?,
        family,
        mac,
        state: State::from_bits(bits),
        interface: names
            .get(&header.ifindex)
            .cloned()
            .unwrap_or_else(|| header.ifindex.to_string()),
        router: header.flags.contains(NeighbourFlags::Router),
    })
}

/// A link-layer address as iproute2 prints it: lower-case hex bytes joined
/// by colons (an Ethernet MAC, or a longer address such as InfiniBand's).
pub fn link_address(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            text.push(':');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_filter_hides_noarp_and_stateless_entries_as_ip_neigh_does() {
        let none = NeighbourFlags::empty();
        assert!(StateFilter::Default.admits(0x02, none));
        assert!(!StateFilter::Default.admits(0x40, none));
        assert!(!StateFilter::Default.admits(0x00, none));
        assert!(StateFilter::Default.admits(0x00, NeighbourFlags::Proxy));
        assert!(StateFilter::All.admits(0x40, none));
        let stale = StateFilter::Any(vec![State::Stale]);
        assert!(stale.admits(0x04, none) && !stale.admits(0x02, none));
    }

    #[test]
    fn state_bits_decode_in_ip_neighs_order() {
        assert_eq!(
            State::from_bits(0x82),
            vec![State::Reachable, State::Permanent]
        );
        assert!(State::from_bits(0).is_empty());
        assert_eq!(State::parse("stale"), Ok(State::Stale));
        assert!(State::parse("gone").unwrap_err().contains("REACHABLE"));
    }

    #[test]
    fn link_addresses_print_as_iproute2_prints_them() {
        assert_eq!(link_address(&[2, 0xfc, 0, 0, 0, 5]), "02:fc:00:00:00:05");
        assert_eq!(link_address(&[]), "");
    }
}
