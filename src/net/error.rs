//! The one error vocabulary of the raw-socket domains (ping, icmp, trace):
//! what failed, the errno, and what the user can do about it.
#![forbid(unsafe_code)]

use std::io;
use std::net::IpAddr;

use thiserror::Error;

use crate::privilege::RAW_REMEDY;

/// Why a probe socket could not be opened, set up or used.
#[derive(Debug, Error)]
pub enum SocketError {
    /// Neither an ICMP datagram socket nor a raw one could be opened.
    #[error(
        "cannot open an {family} ICMP socket: datagram socket refused ({}), raw socket refused ({}); either allow your group ping sockets: sysctl -w net.ipv4.ping_group_range=\"0 2147483647\", or grant raw sockets: setcap cap_net_raw+ep $(command -v netdx) (or run as root)",
        refusal(datagram),
        refusal(raw)
    )]
    NoIcmpSocket {
        /// "IPv4" or "IPv6".
        family: &'static str,
        /// Why SOCK_DGRAM failed.
        datagram: io::Error,
        /// Why SOCK_RAW failed.
        raw: io::Error,
    },
    /// A raw socket was refused to a command that builds its own packets.
    #[error(
        "a raw {family} socket was refused ({source}): netdx {command} builds its probes itself and needs CAP_NET_RAW; {RAW_REMEDY}"
    )]
    NeedRaw {
        /// "ICMP", "ICMPv6", "UDP" …
        family: &'static str,
        /// The netdx command.
        command: &'static str,
        /// The errno.
        source: io::Error,
    },
    /// A socket option was refused.
    #[error("setting {option}: {source}")]
    Option {
        /// The option.
        option: &'static str,
        /// The errno.
        source: io::Error,
    },
    /// The source address could not be bound.
    #[error("binding to {address}: {source} (is it an address of this host?)")]
    Bind {
        /// The address.
        address: IpAddr,
        /// The errno.
        source: io::Error,
    },
    /// The socket could not be tied to one peer (connect).
    #[error("connecting to {peer}: {source}")]
    Connect {
        /// The peer.
        peer: IpAddr,
        /// The errno.
        source: io::Error,
    },
    /// The interface could not be bound (SO_BINDTODEVICE).
    #[error("using interface '{name}': {source}")]
    Device {
        /// The interface.
        name: String,
        /// The errno.
        source: io::Error,
    },
    /// A probe could not be sent.
    #[error("sending to {target}: {source}")]
    Send {
        /// Where it was going.
        target: IpAddr,
        /// The errno.
        source: io::Error,
    },
    /// Reading a socket failed.
    #[error("receiving: {0}")]
    Receive(io::Error),
    /// Waiting for packets failed.
    #[error("waiting for packets: {0}")]
    Poll(io::Error),
}

/// An errno as a short reason: EACCES on a ping socket means the group is
/// outside net.ipv4.ping_group_range.
fn refusal(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(libc::EACCES) => "not permitted for this group".into(),
        Some(libc::EPERM) => "operation not permitted".into(),
        _ => err.to_string(),
    }
}
