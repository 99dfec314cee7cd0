//! Layer 2 neighbours: the kernel's neighbour table (ARP and NDP entries,
//! `ip neigh`, `arp -n`) and, in [`scan`], who answers ARP or neighbour
//! solicitation on a segment (arp-scan).
#![forbid(unsafe_code)]

pub mod oui;
pub mod scan;
pub mod table;

pub use table::{Neighbour, State, StateFilter};

/// A failure reading or probing neighbours.
#[derive(Debug, thiserror::Error)]
pub enum NeighError {
    /// `-I` named an interface that does not exist.
    #[error("interface '{0}' not found ('netdx ifconfig -a' lists every interface)")]
    NoSuchInterface(String),
    /// The interface cannot carry ARP.
    #[error(transparent)]
    Link(#[from] crate::iface::ethernet::LinkError),
    /// No CIDR was given and the interface has no IPv4 network to scan.
    #[error(
        "interface {0} has no IPv4 address: give the network to scan (netdx neigh scan -I {0} 10.0.0.0/24)"
    )]
    NoNetwork(String),
    /// `-6` with an IPv4 network.
    #[error("-6 asks IPv6 neighbours, but {0} is an IPv4 network: drop -6, or give an IPv6 CIDR")]
    Family(String),
    /// Neighbour discovery needs a link-local source.
    #[error(
        "interface {0} has no IPv6 link-local address, which neighbour solicitations come from (is IPv6 disabled? sysctl net.ipv6.conf.{0}.disable_ipv6)"
    )]
    NoLinkLocal(String),
    /// The network holds more addresses than one scan asks.
    #[error(
        "{network} holds {addresses} addresses; a scan asks at most 65,536 (an IPv4 /16, an IPv6 /112): split it"
    )]
    TooLarge {
        /// The network.
        network: String,
        /// How many addresses it holds.
        addresses: u128,
    },
    /// No interface was given and none could be chosen.
    #[error("no interface to scan ({0}); name one with -I IFACE")]
    NoInterface(String),
    /// The packet socket could not be opened.
    #[error(transparent)]
    Socket(#[from] crate::net::SocketError),
    /// Capabilities could not be dropped after opening the socket.
    #[error(transparent)]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// Sending or receiving failed.
    #[error("scanning {interface}: {source}")]
    Io {
        /// The interface.
        interface: String,
        /// The error.
        source: std::io::Error,
    },
    /// The kernel's table could not be read.
    #[error("reading the neighbour table: {0}")]
    Netlink(#[from] crate::netlink::NetlinkError),
}
