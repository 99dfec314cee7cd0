//! Sockets: the kernel's socket table (sock_diag, or /proc/net when netlink
//! is missing), the processes holding each socket, and the filters that
//! narrow the table — pushed into the kernel request wherever it can apply them.
#![deny(unsafe_code)]

pub mod bpf_iter;
mod diag;
pub mod filter;
pub mod owners;
pub mod port;
mod procfs;
pub mod state;
pub mod tcp_info;

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

pub use filter::{Filter, PortRange, Prefix};
pub use owners::Holder;
pub use state::{State, StateMask};
pub use tcp_info::TcpInfo;

use crate::netlink::NetlinkError;

/// Transport protocol of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// Raw IP (ICMP and other protocols).
    Raw,
    /// Unix domain.
    Unix,
}

impl Proto {
    /// The transport whose service names apply (/etc/services), if any.
    pub fn transport(self) -> Option<crate::names::services::Transport> {
        use crate::names::services::Transport;
        match self {
            Proto::Tcp => Some(Transport::Tcp),
            Proto::Udp => Some(Transport::Udp),
            Proto::Raw | Proto::Unix => None,
        }
    }
}

/// Address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
    /// Unix domain.
    Unix,
}

/// The type of a unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnixType {
    /// SOCK_STREAM.
    Stream,
    /// SOCK_DGRAM.
    Dgram,
    /// SOCK_SEQPACKET.
    Seqpacket,
}

/// One end of a socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Endpoint {
    /// An IP address and port (for raw sockets the port is the IP protocol number).
    Inet {
        /// The address (unspecified for a wildcard).
        address: IpAddr,
        /// The port (0 for none).
        port: u16,
    },
    /// A unix socket: its bound path (abstract names start with `@`) and inode.
    Unix {
        /// The path, if bound.
        path: Option<String>,
        /// The socket inode (the peer's, on the peer side; 0 if none).
        inode: u32,
    },
}

/// Which TCP timer runs, named as ss names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TimerKind {
    /// The retransmit timer (ss: `on`).
    On,
    /// The keepalive timer.
    Keepalive,
    /// TIME-WAIT's timer.
    Timewait,
    /// The zero-window probe timer.
    Persist,
}

/// A kernel timer running on a TCP socket (`-o`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Timer {
    /// Which timer.
    pub kind: TimerKind,
    /// Milliseconds until it fires.
    pub expires_ms: u64,
    /// Retransmissions (or probes) so far.
    pub retransmits: u8,
}

/// Socket memory (`-m`, SK_MEMINFO), bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Memory {
    /// Memory used by the receive queue (`r`).
    pub rmem_alloc: u32,
    /// Receive buffer size (`rb`).
    pub rcvbuf: u32,
    /// Memory of packets handed to the device (`t`).
    pub wmem_alloc: u32,
    /// Send buffer size (`tb`).
    pub sndbuf: u32,
    /// Pre-allocated, unused (`f`).
    pub fwd_alloc: u32,
    /// Memory of the send queue (`w`).
    pub wmem_queued: u32,
    /// Option memory (`o`).
    pub optmem: u32,
    /// Backlog length (`bl`).
    pub backlog: u32,
    /// Packets dropped (`d`).
    pub drops: u32,
}

/// One socket, as the kernel reports it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Socket {
    /// Transport protocol.
    pub proto: Proto,
    /// Address family.
    pub family: Family,
    /// Unix socket type (unix sockets only).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "UnixType")]
    pub unix_type: Option<UnixType>,
    /// State, as ss names it.
    pub state: State,
    /// Bytes received and not yet read (for listeners: connections waiting to be accepted).
    pub recv_q: u32,
    /// Bytes not yet acknowledged (for listeners: the backlog).
    pub send_q: u32,
    /// Local end.
    pub local: Endpoint,
    /// Remote end.
    pub peer: Endpoint,
    /// Interface the socket is bound to (SO_BINDTODEVICE), if any.
    pub interface: Option<String>,
    /// Owner's user id (`null` where the source does not say).
    pub uid: Option<u32>,
    /// Socket inode.
    pub inode: u32,
    /// Every process holding a descriptor for it (`-p`).
    pub processes: Vec<Holder>,
    /// TCP internals (`-i`).
    pub tcp_info: Option<Box<TcpInfo>>,
    /// Active timer (`-o`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Timer")]
    pub timer: Option<Timer>,
    /// Socket memory (`-m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Memory")]
    pub memory: Option<Box<Memory>>,
}

impl Socket {
    /// The local port (0 for unix sockets).
    pub fn local_port(&self) -> u16 {
        match self.local {
            Endpoint::Inet { port, .. } => port,
            Endpoint::Unix { .. } => 0,
        }
    }

    /// The remote port (0 for unix sockets).
    pub fn peer_port(&self) -> u16 {
        match self.peer {
            Endpoint::Inet { port, .. } => port,
            Endpoint::Unix { .. } => 0,
        }
    }
}

/// Which protocols a listing includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Protocols {
    /// TCP.
    pub tcp: bool,
    /// UDP.
    pub udp: bool,
    /// Raw.
    pub raw: bool,
    /// Unix.
    pub unix: bool,
}

/// Which address families a listing includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Families {
    /// IPv4.
    pub v4: bool,
    /// IPv6.
    pub v6: bool,
}

/// Where the table is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceChoice {
    /// sock_diag, falling back to /proc/net where netlink is unavailable.
    #[default]
    Auto,
    /// /proc/net only.
    Proc,
}

/// What to list and what to learn about each socket.
#[derive(Debug, Clone)]
pub struct Query {
    /// Protocols.
    pub protocols: Protocols,
    /// Families (for TCP, UDP and raw).
    pub families: Families,
    /// States to keep.
    pub states: StateMask,
    /// Port and address conditions.
    pub filter: Filter,
    /// Find the processes holding each socket.
    pub owners: bool,
    /// Ask for TCP internals.
    pub tcp_info: bool,
    /// With them, the congestion control's name (a string per socket the
    /// kernel writes and netdx copies: `top` has no use for it).
    pub congestion: bool,
    /// Ask for socket memory.
    pub memory: bool,
    /// Where to read the table from.
    pub source: SourceChoice,
}

/// Where a listing came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// sock_diag netlink, filtered in the kernel.
    Netlink,
    /// /proc/net files, filtered here; `reason` says why.
    Proc {
        /// Why netlink was not used.
        reason: String,
    },
}

/// The result of a listing.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The sockets, in kernel order per protocol and family.
    pub sockets: Vec<Socket>,
    /// Where they were read from.
    pub source: Source,
    /// Processes whose descriptors could not be read (other users' without root).
    pub hidden_processes: usize,
}

/// Why sockets could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The kernel refused or failed a sock_diag request, and /proc/net could not stand in.
    #[error("reading the socket table: {0}")]
    Netlink(#[from] NetlinkError),
    /// A /proc/net file could not be read.
    #[error("reading {path}: {source}")]
    Proc {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Host names for every address in `sockets` (reverse DNS, for `--resolve`).
pub fn resolve_names(sockets: &[Socket]) -> std::collections::HashMap<IpAddr, String> {
    crate::names::reverse(sockets.iter().flat_map(|socket| {
        [&socket.local, &socket.peer]
            .into_iter()
            .filter_map(|endpoint| match endpoint {
                Endpoint::Inet { address, .. } => Some(*address),
                _ => None,
            })
    }))
}

/// Hands every socket `query` asks for to `each` as it is read, with its
/// holders filled in from `owners` when given (scan them first with
/// [`owners::scan_all`]); nothing is kept, so a table of any size costs
/// only what the caller keeps. Returns where the sockets came from.
pub fn visit(
    query: &Query,
    owners: Option<&owners::OwnerIndex>,
    mut each: impl FnMut(Socket),
) -> Result<Source, SocketError> {
    let mut deliver = |mut socket: Socket| {
        if let Some(index) = owners {
            socket.processes = index.holders(socket.inode);
        }
        each(socket);
    };
    match query.source {
        SourceChoice::Proc => {
            procfs::visit(query, &mut deliver)?;
            Ok(Source::Proc {
                reason: "asked for with --source proc".into(),
            })
        }
        SourceChoice::Auto => {
            let mut delivered = false;
            let result = diag::visit(query, &mut |socket| {
                delivered = true;
                deliver(socket);
            });
            match result {
                Ok(()) => Ok(Source::Netlink),
                // Nothing was handed over yet: the whole table can come from /proc instead.
                Err(err) if !delivered => {
                    procfs::visit(query, &mut deliver)?;
                    Ok(Source::Proc {
                        reason: err.to_string(),
                    })
                }
                Err(err) => Err(err.into()),
            }
        }
    }
}

/// Lists the sockets `query` asks for, with owners when asked (the holders
/// of just these inodes, found after the dump).
pub fn list(query: &Query) -> Result<Listing, SocketError> {
    let mut sockets = Vec::new();
    let source = visit(query, None, |socket| sockets.push(socket))?;
    let mut hidden_processes = 0;
    if query.owners && !sockets.is_empty() {
        let map = owners::scan(sockets.iter().map(|s| s.inode));
        hidden_processes = map.hidden;
        for socket in &mut sockets {
            if let Some(holders) = map.holders.get(&socket.inode) {
                socket.processes = holders.clone();
            }
        }
    }
    Ok(Listing {
        sockets,
        source,
        hidden_processes,
    })
}
