//! The routing table from rtnetlink (RTM_GETROUTE), like `netstat -rn` / `ip route`.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteHeader, RouteMessage};
use schemars::JsonSchema;
use serde::Serialize;

use crate::iface::Family;
use crate::netlink::{Conn, NETLINK_ROUTE, NetlinkError};

pub mod get;

/// One route (one next hop of it, for multipath routes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Route {
    /// `inet` or `inet6`.
    pub family: Family,
    /// Destination network (`0.0.0.0` / `::` for the default route).
    pub destination: IpAddr,
    /// Prefix length of the destination.
    pub prefix_len: u8,
    /// Next-hop gateway, if the route goes through one.
    pub gateway: Option<IpAddr>,
    /// Outgoing interface.
    pub interface: Option<String>,
    /// Metric (RTA_PRIORITY).
    pub metric: u32,
    /// Route type as `ip` names it: unicast, blackhole, unreachable, …
    #[serde(rename = "type")]
    pub kind: String,
    /// Who installed it: kernel, boot, static, dhcp, ra, …
    pub protocol: String,
    /// Scope: global, link, host, …
    pub scope: String,
    /// Preferred source address.
    pub source: Option<IpAddr>,
    /// netstat's flags: U (up), G (gateway), H (host), ! (reject).
    pub flags: String,
}

/// Routing table id of the main table.
const MAIN_TABLE: u32 = 254;

/// Reads the main table's routes for the families asked for.
pub fn list(v4: bool, v6: bool) -> Result<Vec<Route>, NetlinkError> {
    let mut conn = Conn::open(NETLINK_ROUTE)?;
    let names = crate::iface::names_by_index();
    let mut routes = Vec::new();
    for (wanted, family) in [
        (v4, netlink_packet_route::AddressFamily::Inet),
        (v6, netlink_packet_route::AddressFamily::Inet6),
    ] {
        if !wanted {
            continue;
        }
        let mut request = RouteMessage::default();
        request.header.address_family = family;
        let messages = conn.dump(
            "route",
            RouteNetlinkMessage::GetRoute(request),
            |msg| match msg {
                RouteNetlinkMessage::NewRoute(route) => Some(route),
                _ => None,
            },
        )?;
        for message in messages {
            routes.extend(expand(message, &names));
        }
    }
    Ok(routes)
}

fn ip(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

/// One message as routes: a row per next hop; none outside the main table.
fn expand(message: RouteMessage, names: &HashMap<u32, String>) -> Vec<Route> {
    let header: &RouteHeader = &message.header;
    let v6 = header.address_family == netlink_packet_route::AddressFamily::Inet6;
    let mut table = u32::from(header.table);
    let mut destination = None;
    let mut gateway = None;
    let mut oif = None;
    let mut metric = 0;
    let mut source = None;
    let mut hops = Vec::new();
    for attribute in &message.attributes {
        match attribute {
            RouteAttribute::Destination(address) => destination = ip(address),
            RouteAttribute::Gateway(address) => gateway = ip(address),
            RouteAttribute::Oif(index) => oif = Some(*index),
            RouteAttribute::Priority(value) => metric = *value,
            RouteAttribute::Table(value) => table = *value,
            RouteAttribute::PrefSource(address) => source = ip(address),
            RouteAttribute::MultiPath(next_hops) => {
                for hop in next_hops {
                    let via = hop.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Gateway(address) => ip(address),
                        _ => None,
                    });
                    hops.push((via, Some(hop.interface_index)));
                }
            }
            _ => {}
        }
    }
    if table != MAIN_TABLE {
        return Vec::new();
    }
    if hops.is_empty() {
        hops.push((gateway, oif));
    }
    let unspecified = if v6 {
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    };
    let kind = type_name(u8::from(header.kind));
    let host_len = if v6 { 128 } else { 32 };
    hops.into_iter()
        .map(|(gateway, oif)| {
            let mut flags = String::new();
            if matches!(kind.as_str(), "unreachable" | "prohibit" | "blackhole") {
                flags.push('!');
            } else {
                flags.push('U');
            }
            if gateway.is_some() {
                flags.push('G');
            }
            if header.destination_prefix_length == host_len {
                flags.push('H');
            }
            Route {
                family: if v6 { Family::Inet6 } else { Family::Inet },
                destination: destination.unwrap_or(unspecified),
                prefix_len: header.destination_prefix_length,
                gateway,
                interface: oif.map(|i| names.get(&i).cloned().unwrap_or_else(|| i.to_string())),
                metric,
                kind: kind.clone(),
                protocol: header.protocol.to_string(),
                scope: crate::iface::scope_name(u8::from(header.scope)),
                source,
                flags,
            }
        })
        .collect()
}

/// Route types as iproute2 names them.
fn type_name(kind: u8) -> String {
    match kind {
        1 => "unicast",
        2 => "local",
        3 => "broadcast",
        4 => "anycast",
        5 => "multicast",
        6 => "blackhole",
        7 => "unreachable",
        8 => "prohibit",
        9 => "throw",
        10 => "nat",
        other => return other.to_string(),
    }
    .to_string()
}
