//! Which interface, MAC and source address an arping uses: -I and -s when
//! given, else what the kernel's route to the address says — and a clear
//! refusal when the address is not on any link of this host.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr};

use super::{ArpingError, Mode};
use crate::iface::ethernet::EthernetLink;
use crate::iface::{IfaceName, Selection};
use crate::routes::get::{self, Query};
use crate::wire::arp::Mac;

/// The link an arping runs on.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Interface index, for binding the packet socket.
    pub ifindex: u32,
    /// Interface name.
    pub interface: String,
    /// Its MAC: the sender of every request.
    pub mac: Mac,
    /// The sender IPv4 address in the requests.
    pub source: Ipv4Addr,
}

/// Chooses the interface and source for `target`.
pub fn prepare(
    target: Ipv4Addr,
    interface: Option<&IfaceName>,
    source: Option<Ipv4Addr>,
    mode: Mode,
) -> Result<Setup, ArpingError> {
    let announcing = matches!(mode, Mode::AnnounceRequest | Mode::AnnounceReply);
    let (name, route_source) = match interface {
        Some(name) => (name.clone(), None),
        None => route_interface(target, announcing)?,
    };
    let link = EthernetLink::open(&name)?;
    let source = match mode {
        Mode::Dad => Ipv4Addr::UNSPECIFIED,
        Mode::AnnounceRequest | Mode::AnnounceReply => target,
        Mode::Probe => source
            .or(route_source)
            .or_else(|| link.source_for(target))
            .ok_or_else(|| ArpingError::NoSource(link.interface.name.clone()))?,
    };
    Ok(Setup {
        ifindex: link.interface.index,
        interface: link.interface.name,
        mac: link.mac,
        source,
    })
}

/// The interface the kernel's route to `target` uses, and the source
/// address it would pick; an address routed via a gateway is refused.
fn route_interface(
    target: Ipv4Addr,
    announcing: bool,
) -> Result<(IfaceName, Option<Ipv4Addr>), ArpingError> {
    let lookup = get::lookup(&Query {
        destination: IpAddr::V4(target),
        from: None,
        iif: None,
        oif: None,
        mark: None,
    })
    .map_err(|err| ArpingError::NoRoute {
        target,
        reason: err.to_string(),
    })?;
    if lookup.kind == "local" {
        // One of our own addresses: its interface is the one it is on.
        if let Some(name) = holder_of(target) {
            return Ok((name, None));
        }
    }
    if let Some(gateway) = lookup.gateway
        && !announcing
    {
        return Err(ArpingError::OffLink {
            target,
            gateway,
            interface: lookup.interface.unwrap_or_else(|| "?".into()),
        });
    }
    let name = lookup
        .interface
        .and_then(|name| name.parse::<IfaceName>().ok())
        .ok_or_else(|| ArpingError::NoRoute {
            target,
            reason: "the route names no interface".into(),
        })?;
    let source = match lookup.source {
        Some(IpAddr::V4(v4)) => Some(v4),
        _ => None,
    };
    Ok((name, source))
}

/// The interface `address` is configured on.
fn holder_of(address: Ipv4Addr) -> Option<IfaceName> {
    let interfaces = crate::iface::collect(&Selection::All).ok()?;
    interfaces
        .iter()
        .find(|i| i.addresses.iter().any(|a| a.address == IpAddr::V4(address)))
        .and_then(|i| i.name.parse().ok())
}
