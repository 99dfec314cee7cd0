//! TCP/UDP echo: `serve` answers every byte and datagram, `probe` measures
//! round trips through any echo service and checks every byte came back,
//! `load` drives many connections at once.
//!
//! Sockets are built with socket2 and configured through the option
//! catalog in [`crate::sockopt`], so what was asked for and what the
//! kernel made of it can be shown side by side.
#![forbid(unsafe_code)]

pub mod framer;
pub mod load;
pub mod matcher;
pub mod payload;
pub mod probe;
pub mod serve;
pub mod setup;

use std::fmt;
use std::io;
use std::net::SocketAddr;

use schemars::JsonSchema;
use serde::Serialize;

/// The transport an echo runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// A TCP stream: every byte back, in order.
    Tcp,
    /// UDP: each datagram back to its sender.
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// How a TCP stream is cut into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Framing {
    /// No framing: bytes are echoed as they arrive.
    #[default]
    Raw,
    /// Each message is a 4-byte big-endian length, then that many bytes;
    /// frames are echoed whole, and a frame over `max_frame` bytes closes
    /// the connection.
    Length {
        /// The largest frame body accepted, in bytes.
        max_frame: u32,
    },
}

/// The largest frame body `--framing length` accepts (1 GiB): the one
/// ceiling for `--max-frame`, however it is written.
pub const MAX_FRAME: u32 = 1 << 30;

/// The frame body limit when `--max-frame` is not given (1 MiB).
pub const DEFAULT_MAX_FRAME: u32 = 1 << 20;

/// The largest UDP payload over IPv4 (65535 − 20 − 8).
pub const MAX_UDP_PAYLOAD_V4: usize = 65_507;
/// The largest UDP payload over IPv6 without jumbograms (65535 − 8).
pub const MAX_UDP_PAYLOAD_V6: usize = 65_527;

/// Why an echo command could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum EchoError {
    /// The target name did not resolve.
    #[error("cannot resolve '{host}': {reason}")]
    Resolve {
        /// The name given.
        host: String,
        /// Why.
        reason: String,
    },
    /// A socket call other than bind/connect failed.
    #[error("{what}: {}", crate::sockopt::errno_text(source))]
    Socket {
        /// What was being done (`setting SO_RCVBUF=…`).
        what: String,
        /// The error.
        source: io::Error,
    },
    /// Binding the local address failed.
    #[error("bind {address} ({proto}): {reason}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// TCP or UDP.
        proto: Proto,
        /// Why, with who holds the port and what would help.
        reason: setup::BindFailure,
    },
    /// Connecting to the echo service failed.
    #[error("connect to {address} ({proto}): {reason}")]
    Connect {
        /// The service.
        address: SocketAddr,
        /// TCP or UDP.
        proto: Proto,
        /// Why, with a remedy.
        reason: setup::Failure,
    },
    /// The load's workers could not wait for their sockets.
    #[error("epoll: {} (raise the open-files limit: ulimit -n)", .0.desc())]
    Epoll(nix::errno::Errno),
    /// The server's runtime or signal handling could not start.
    #[error("starting {what}: {source}")]
    Start {
        /// What.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
    /// Writing events or results failed. Built only where stdout or
    /// stderr is written (an observer's error), never from a socket's.
    #[error("writing output: {0}")]
    Output(io::Error),
}
