//! An Ethernet interface ready for layer-2 probes (arping, neigh scan):
//! it exists, is up, and has a 6-byte MAC; and the IPv4 address on it that
//! faces a given address.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::flags::IFF_UP;
use super::link_type::ARPHRD_ETHER;
use super::{IfaceError, IfaceName, Interface, Selection};
use crate::wire::arp::Mac;

/// Why an interface cannot carry layer-2 probes.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The interface does not exist.
    #[error("interface '{0}' not found ('netdx ifconfig -a' lists every interface)")]
    NoSuchInterface(String),
    /// ARP needs an Ethernet-like link.
    #[error(
        "interface {interface} has no Ethernet address ({kind}): ARP runs on Ethernet links; choose one with -I"
    )]
    NotEthernet {
        /// The interface.
        interface: String,
        /// Its link type.
        kind: String,
    },
    /// The interface is down.
    #[error("interface {0} is down: bring it up first (ip link set {0} up)")]
    Down(String),
    /// Reading the interface failed.
    #[error(transparent)]
    Iface(IfaceError),
}

/// An up Ethernet interface and its MAC.
#[derive(Debug, Clone)]
pub struct EthernetLink {
    /// Everything `ifconfig` knows about it.
    pub interface: Interface,
    /// Its MAC.
    pub mac: Mac,
}

impl EthernetLink {
    /// Reads `name` and checks it can carry ARP.
    pub fn open(name: &IfaceName) -> Result<EthernetLink, LinkError> {
        let interface = super::collect(&Selection::Named(name.clone()))
            .map_err(|err| match err {
                IfaceError::NotFound(name) => LinkError::NoSuchInterface(name),
                other => LinkError::Iface(other),
            })?
            .into_iter()
            .next()
            .ok_or_else(|| LinkError::NoSuchInterface(name.to_string()))?;
        let not_ethernet = || LinkError::NotEthernet {
            interface: interface.name.clone(),
            kind: interface.link_type.name(),
        };
        if interface.link_type.0 != ARPHRD_ETHER {
            return Err(not_ethernet());
        }
        let mac = interface
            .mac
            .as_deref()
            .and_then(|mac| mac.parse::<Mac>().ok())
            .ok_or_else(not_ethernet)?;
        if interface.flags_value & IFF_UP == 0 {
            return Err(LinkError::Down(interface.name));
        }
        Ok(EthernetLink { interface, mac })
    }

    /// The interface's IPv4 addresses with their prefix lengths.
    pub fn ipv4(&self) -> impl Iterator<Item = (Ipv4Addr, u8)> + '_ {
        self.interface
            .addresses
            .iter()
            .filter_map(|a| match a.address {
                IpAddr::V4(v4) => Some((v4, a.prefix_len.min(32))),
                IpAddr::V6(_) => None,
            })
    }

    /// The interface's IPv6 addresses with their prefix lengths.
    pub fn ipv6(&self) -> impl Iterator<Item = (Ipv6Addr, u8)> + '_ {
        self.interface
            .addresses
            .iter()
            .filter_map(|a| match a.address {
                IpAddr::V6(v6) => Some((v6, a.prefix_len.min(128))),
                IpAddr::V4(_) => None,
            })
    }

    /// The IPv4 address whose subnet holds `target`, else the first one.
    pub fn source_for(&self, target: Ipv4Addr) -> Option<Ipv4Addr> {
        let mut first = None;
        for (address, prefix) in self.ipv4() {
            first.get_or_insert(address);
            if same_subnet(address, target, prefix) {
                return Some(address);
            }
        }
        first
    }
}

fn same_subnet(a: Ipv4Addr, b: Ipv4Addr, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    u32::from(a) & mask == u32::from(b) & mask
}
