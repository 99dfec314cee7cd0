//! Layer 2 neighbours: the kernel's neighbour table (ARP and NDP entries,
//! `ip neigh`, `arp -n`) and, in [`scan`], who answers ARP or neighbour
//! solicitation on a segment (arp-scan).
#![forbid(unsafe_code)]

pub mod table;

pub use table::{Neighbour, State, StateFilter};

/// A failure reading or probing neighbours.
#[derive(Debug, thiserror::Error)]
pub enum NeighError {
    /// `-I` named an interface that does not exist.
    #[error("interface '{0}' not found ('netdx ifconfig -a' lists every interface)")]
    NoSuchInterface(String),
    /// The kernel's table could not be read.
    #[error("reading the neighbour table: {0}")]
    Netlink(#[from] crate::netlink::NetlinkError),
}
