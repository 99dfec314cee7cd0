//! `route get`: which route the kernel chooses for one destination, asked
//! with one RTM_GETROUTE request as `ip route get` asks it.
#![forbid(unsafe_code)]

use std::io;
use std::net::IpAddr;

use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteMetric,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use schemars::JsonSchema;
use serde::Serialize;

use super::{ip, type_name};
use crate::iface::IfaceName;
use crate::neigh::{self, State};
use crate::netlink::{Conn, NETLINK_ROUTE, NetlinkError};

/// What to look up: `ADDR [from SRC] [iif IFACE] [oif IFACE] [mark N]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The destination.
    pub destination: IpAddr,
    /// The source address a packet would carry (`from`).
    pub from: Option<IpAddr>,
    /// The interface the packet would arrive on, for a forwarded packet (`iif`).
    pub iif: Option<IfaceName>,
    /// The interface the packet must leave by (`oif`).
    pub oif: Option<IfaceName>,
    /// The firewall mark policy routing would see (`mark`).
    pub mark: Option<u32>,
}

/// The kernel's answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Lookup {
    /// The destination asked about.
    pub destination: IpAddr,
    /// Route type as `ip` names it: unicast, local, broadcast, unreachable, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The source address asked about (`from`), as the kernel echoes it.
    pub from: Option<IpAddr>,
    /// The next-hop gateway; none when the destination is on the link.
    pub gateway: Option<IpAddr>,
    /// The outgoing interface.
    pub interface: Option<String>,
    /// The incoming interface asked about (`iif`).
    pub iif: Option<String>,
    /// The source address the kernel would choose (`src` in `ip route get`).
    pub source: Option<IpAddr>,
    /// The routing table the route came from, by number (254 = main, 255 = local).
    pub table: u32,
    /// The route's own MTU (a `mtu` on the route, or a learnt path MTU), when it has one.
    pub route_mtu: Option<u32>,
    /// The MTU in effect: the route's, else the outgoing interface's.
    pub mtu: Option<u32>,
    /// The firewall mark asked about.
    pub mark: Option<u32>,
    /// The user id the lookup was made for (the kernel adds it for locally sent packets).
    pub uid: Option<u32>,
    /// The neighbour entry of the next hop (the gateway, or the destination when it is on the link), when the kernel has one.
    pub next_hop: Option<NextHop>,
}

/// The next hop's neighbour-table entry.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NextHop {
    /// Its address.
    pub address: IpAddr,
    /// Its link-layer address, when resolved.
    pub mac: Option<String>,
    /// Its neighbour states.
    pub state: Vec<State>,
}

/// A failed lookup.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// An interface named in the query does not exist.
    #[error("interface '{0}' not found ('netdx ifconfig -a' lists every interface)")]
    NoSuchInterface(String),
    /// `from` is of the other family than the destination.
    #[error("from {from} is not of the same family as {destination}")]
    MixedFamilies {
        /// The destination.
        destination: IpAddr,
        /// The source asked for.
        from: IpAddr,
    },
    /// The kernel has no route (or refused the combination asked for).
    #[error("no route to {destination}: {reason}{hint}")]
    NoRoute {
        /// The destination.
        destination: IpAddr,
        /// The kernel's errno, in words.
        reason: String,
        /// What to try.
        hint: &'static str,
    },
    /// Talking to the kernel failed.
    #[error("route lookup: {0}")]
    Netlink(NetlinkError),
}

/// Asks the kernel which route `query` takes.
pub fn lookup(query: &Query) -> Result<Lookup, RouteError> {
    let v6 = query.destination.is_ipv6();
    if let Some(from) = query.from
        && from.is_ipv6() != v6
    {
        return Err(RouteError::MixedFamilies {
            destination: query.destination,
            from,
        });
    }
    let names = crate::iface::names_by_index();
    let index_of = |name: &IfaceName| {
        names
            .iter()
            .find(|(_, n)| n.as_str() == name.as_str())
            .map(|(i, _)| *i)
            .ok_or_else(|| RouteError::NoSuchInterface(name.to_string()))
    };
    let bits = if v6 { 128 } else { 32 };
    let mut request = RouteMessage::default();
    request.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    request.header.destination_prefix_length = bits;
    // As ip route get asks: name the table the route was found in, not main.
    request.header.table = 0;
    request.header.flags = RouteFlags::LookupTable;
    request
        .attributes
        .push(RouteAttribute::Destination(route_address(
            query.destination,
        )));
    if let Some(from) = query.from {
        request.header.source_prefix_length = bits;
        request
            .attributes
            .push(RouteAttribute::Source(route_address(from)));
    }
    if let Some(iif) = &query.iif {
        request.attributes.push(RouteAttribute::Iif(index_of(iif)?));
    }
    if let Some(oif) = &query.oif {
        request.attributes.push(RouteAttribute::Oif(index_of(oif)?));
    }
    if let Some(mark) = query.mark {
        request.attributes.push(RouteAttribute::Mark(mark));
    }
    let mut conn = Conn::open(NETLINK_ROUTE).map_err(RouteError::Netlink)?;
    let answer = conn
        .request("route", RouteNetlinkMessage::GetRoute(request))
        .map_err(|err| refused(err, query))?;
    let RouteNetlinkMessage::NewRoute(message) = answer else {
        return Err(RouteError::Netlink(NetlinkError::Decode {
            what: "route",
            detail: "the answer was not a route".into(),
        }));
    };
    Ok(describe(&message, query, &names))
}

fn route_address(address: IpAddr) -> RouteAddress {
    match address {
        IpAddr::V4(v4) => RouteAddress::Inet(v4),
        IpAddr::V6(v6) => RouteAddress::Inet6(v6),
    }
}

/// The kernel's refusals, in the user's terms.
fn refused(err: NetlinkError, query: &Query) -> RouteError {
    let NetlinkError::Refused { source, .. } = &err else {
        return RouteError::Netlink(err);
    };
    let foreign_source = query.iif.is_none() && query.from.is_some_and(|from| !is_local(from));
    let hint = match source.raw_os_error() {
        _ if foreign_source => {
            " (a 'from' address must be one of this host's, unless 'iif' says where the packet arrives)"
        }
        Some(libc::ENETUNREACH) | Some(libc::EHOSTUNREACH) => {
            " ('netdx netstat -r' shows the routing table)"
        }
        Some(libc::EINVAL) if query.iif.is_some() => {
            " (with 'iif', the kernel checks the packet as if forwarded: is forwarding on, and does 'from' pass reverse-path filtering?)"
        }
        Some(libc::EINVAL) => {
            " (the kernel answers so when the matching route is a blackhole: 'netdx netstat -r' shows the routing table)"
        }
        Some(libc::EACCES) => " (a prohibit route matches it)",
        Some(libc::ENODEV) => " (an interface named is down)",
        _ => "",
    };
    RouteError::NoRoute {
        destination: query.destination,
        reason: io_reason(source),
        hint,
    }
}

/// Whether `address` is configured on one of this host's interfaces.
fn is_local(address: IpAddr) -> bool {
    crate::iface::collect(&crate::iface::Selection::All)
        .map(|interfaces| {
            interfaces
                .iter()
                .any(|i| i.addresses.iter().any(|a| a.address == address))
        })
        .unwrap_or(true)
}

/// An errno in words, without Rust's "(os error N)" suffix.
fn io_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

fn describe(
    message: &RouteMessage,
    query: &Query,
    names: &std::collections::HashMap<u32, String>,
) -> Lookup {
    let name = |index: u32| {
        names
            .get(&index)
            .cloned()
            .unwrap_or_else(|| index.to_string())
    };
    let mut lookup = Lookup {
        destination: query.destination,
        kind: type_name(u8::from(message.header.kind)),
        from: None,
        gateway: None,
        interface: None,
        iif: None,
        source: None,
        table: u32::from(message.header.table),
        route_mtu: None,
        mtu: None,
        mark: None,
        uid: None,
        next_hop: None,
    };
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Destination(address) => {
                lookup.destination = ip(address).unwrap_or(query.destination);
            }
            RouteAttribute::Source(address) => lookup.from = ip(address),
            RouteAttribute::Gateway(address) => lookup.gateway = ip(address),
            RouteAttribute::Oif(index) => lookup.interface = Some(name(*index)),
            RouteAttribute::Iif(index) => lookup.iif = Some(name(*index)),
            RouteAttribute::PrefSource(address) => lookup.source = ip(address),
            RouteAttribute::Table(table) => lookup.table = *table,
            RouteAttribute::Mark(mark) => lookup.mark = Some(*mark),
            RouteAttribute::Uid(uid) => lookup.uid = Some(*uid),
            RouteAttribute::Metrics(metrics) => {
                for metric in metrics {
                    if let RouteMetric::Mtu(mtu) = metric {
                        lookup.route_mtu = Some(*mtu);
                    }
                }
            }
            _ => {}
        }
    }
    lookup.mtu = lookup.route_mtu.or_else(|| {
        let name = lookup.interface.as_deref()?.parse::<IfaceName>().ok()?;
        let interfaces = crate::iface::collect(&crate::iface::Selection::Named(name)).ok()?;
        interfaces.first()?.mtu
    });
    if lookup.kind == "unicast"
        && let Some(interface) = &lookup.interface
        && let Ok(interface) = interface.parse::<IfaceName>()
    {
        let hop = lookup.gateway.unwrap_or(lookup.destination);
        lookup.next_hop = neigh::table::on_interface(&interface, hop.is_ipv6())
            .ok()
            .and_then(|entries| entries.into_iter().find(|e| e.address == hop))
            .map(|entry| NextHop {
                address: hop,
                mac: entry.mac,
                state: entry.state,
            });
    }
    lookup
}
