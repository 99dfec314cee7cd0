//! Which interface, MAC and source address an arping uses: -I and -s when
//! given, else what the kernel's route to the address says — and a clear
//! refusal when the address is not on any link of this host.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr};

use super::{ArpingError, Mode};
use crate::iface::flags::IFF_UP;
use crate::iface::link_type::ARPHRD_ETHER;
use crate::iface::{IfaceName, Interface, Selection};
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
    let iface =
        crate::iface::collect(&Selection::Named(name.clone())).map_err(|err| match err {
            crate::iface::IfaceError::NotFound(name) => ArpingError::NoSuchInterface(name),
            other => ArpingError::Iface(other),
        })?;
    let iface = iface
        .into_iter()
        .next()
        .ok_or_else(|| ArpingError::NoSuchInterface(name.to_string()))?;
    let mac = ethernet_mac(&iface)?;
    if iface.flags_value & IFF_UP == 0 {
        return Err(ArpingError::Down(iface.name));
    }
    let source = match mode {
        Mode::Dad => Ipv4Addr::UNSPECIFIED,
        Mode::AnnounceRequest | Mode::AnnounceReply => target,
        Mode::Probe => source
            .or(route_source)
            .or_else(|| interface_source(&iface, target))
            .ok_or_else(|| ArpingError::NoSource(iface.name.clone()))?,
    };
    Ok(Setup {
        ifindex: iface.index,
        interface: iface.name,
        mac,
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

fn ethernet_mac(iface: &Interface) -> Result<Mac, ArpingError> {
    let not_ethernet = || ArpingError::NotEthernet {
        interface: iface.name.clone(),
        kind: iface.link_type.name(),
    };
    if iface.link_type.0 != ARPHRD_ETHER {
        return Err(not_ethernet());
    }
    iface
        .mac
        .as_deref()
        .and_then(|mac| mac.parse::<Mac>().ok())
        .ok_or_else(not_ethernet)
}

/// An IPv4 address of `iface`: the one whose subnet holds `target`, else the first.
fn interface_source(iface: &Interface, target: Ipv4Addr) -> Option<Ipv4Addr> {
    let mut first = None;
    for address in &iface.addresses {
        let IpAddr::V4(v4) = address.address else {
            continue;
        };
        first.get_or_insert(v4);
        let bits = u32::from(address.prefix_len.min(32));
        let mask = if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        };
        if u32::from(v4) & mask == u32::from(target) & mask {
            return Some(v4);
        }
    }
    first
}
