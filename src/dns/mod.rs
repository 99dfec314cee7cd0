//! DNS lookups, dig's way: one question at a time to one server, over UDP
//! with EDNS0 (a 4,096-byte buffer) or TCP, a truncated answer asked again
//! over TCP; every response matched to its query by ID and question, so a
//! stray or spoofed datagram is read and dropped, never taken as the answer.
//!
//! Messages are encoded and decoded by hickory-proto; the sockets, the
//! timing, the matching and the typed view of a response ([`message`]) are
//! netdx's.
#![forbid(unsafe_code)]

pub mod bulk;
pub mod client;
pub mod dnssec;
pub mod https;
pub mod message;
pub mod question;
pub mod tls;
pub mod trace;
pub mod validate;

use std::net::SocketAddr;

pub use client::{Exchange, Lookup, Options};
pub use message::Response;
pub use question::Question;

/// How a query travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// One datagram each way (the default).
    Udp,
    /// A TCP connection, each message after its two-byte length.
    Tcp,
    /// The TCP exchange inside TLS (DNS over TLS, RFC 7858).
    Tls,
    /// A POST over HTTP/2 inside TLS (DNS over HTTPS, RFC 8484).
    Https,
}

impl Transport {
    /// dig's word for it: `UDP`, `TCP`.
    pub fn upper(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Https => "HTTPS",
        }
    }
}

/// The server asked, and how the user named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Where queries go.
    pub address: SocketAddr,
    /// The name the user gave (`@ns1.example`), or the address.
    pub name: String,
}

/// What can stop a lookup. A timeout is not here: no reply is a
/// negative answer ([`Lookup::NoReply`]), not an error.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    /// The name cannot be put in a DNS message.
    #[error("{name:?} is not a DNS name: {reason}")]
    BadName {
        /// As given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Not a record type netdx knows, nor TYPEnnn.
    #[error("unknown record type {0:?}: use a mnemonic (A, AAAA, MX, TXT, …) or TYPEnnn")]
    BadType(String),
    /// `@SERVER` or `-p` cannot be used.
    #[error("server {server:?}: {reason}")]
    BadServer {
        /// As given.
        server: String,
        /// Why not.
        reason: String,
    },
    /// /etc/resolv.conf names no server of the family asked for.
    #[error("no {family} nameserver in {path}: name one with @SERVER (netdx dns @10.0.0.53 NAME)")]
    NoServer {
        /// The file read.
        path: &'static str,
        /// `IPv4`, `IPv6`.
        family: &'static str,
    },
    /// The server refused the connection or cannot be reached.
    #[error("{server} ({transport}): {source}; is a DNS server listening there?")]
    Unreachable {
        /// `address#port`.
        server: String,
        /// `UDP` or `TCP`.
        transport: &'static str,
        /// What the kernel said.
        source: std::io::Error,
    },
    /// A socket could not be opened, sent on or read.
    #[error("{action} ({server}): {source}")]
    Socket {
        /// What was being done.
        action: &'static str,
        /// `address#port`.
        server: String,
        /// What the kernel said.
        source: std::io::Error,
    },
    /// The server's answer over TCP is not a DNS message for our query.
    #[error("{server} ({transport}): malformed response: {reason}")]
    Malformed {
        /// `address#port`.
        server: String,
        /// `TCP` or `TLS`.
        transport: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The certificates to trust cannot be loaded.
    #[error("reading what to trust from {from}: {reason}")]
    Trust {
        /// The file, or the system store.
        from: String,
        /// Why not.
        reason: String,
    },
    /// The TLS session could not be made (the certificate among the reasons).
    #[error("{server} (TLS): {reason}")]
    Tls {
        /// `address#port`.
        server: String,
        /// rustls's reason, with a remedy.
        reason: String,
    },
    /// The DNS-over-HTTPS exchange failed above TLS.
    #[error("{url}: {reason}")]
    Https {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The query could not be encoded.
    #[error("encoding the query: {0}")]
    Encode(String),
    /// stdout could not be written.
    #[error("writing output: {0}")]
    Output(#[from] std::io::Error),
}

/// `address#port`, as dig writes a server.
pub fn server_label(address: SocketAddr) -> String {
    format!("{}#{}", address.ip(), address.port())
}
