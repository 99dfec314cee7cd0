//! `tcping`: ping for TCP handshakes. Each probe is a non-blocking
//! connect() timed from the SYN to the completed handshake, closed with an
//! abort (SO_LINGER 0, an RST) so no TIME_WAIT is left on either side; a
//! refusal (RST) is a "closed" probe, an error, not a reply.
//!
//! The engine ([`engine::run`]) is generic over the dialer and the clock,
//! so its tests script late, refused, lost and out-of-order handshakes; the
//! real dialer ([`dial::SocketDialer`]) holds the sockets.
#![forbid(unsafe_code)]

pub mod dial;
pub mod engine;

#[cfg(test)]
mod engine_tests;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::rtt::RttSummary;

/// What a run does.
#[derive(Debug, Clone)]
pub struct Request {
    /// Where the handshakes go.
    pub target: SocketAddr,
    /// Stop after this many probes; `None`: until interrupted.
    pub count: Option<u64>,
    /// Time between the starts of two probes.
    pub interval: Duration,
    /// How long a probe waits for its handshake to complete.
    pub timeout: Duration,
}

/// How one probe ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The handshake completed (SYN, SYN-ACK, ACK).
    Connected,
    /// The host answered the SYN with an RST: nothing listens on the port.
    Closed,
    /// No answer within the timeout (a firewall dropping SYNs, or no host).
    Timeout,
    /// The kernel reported another failure (unreachable, no route…).
    Error,
}

/// One probe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Probe {
    /// Sequence number, from 1.
    pub seq: u64,
    /// How it ended.
    pub status: Status,
    /// The round trip shown: the kernel's handshake time when it has one,
    /// else connect() to its completion as this process saw it.
    pub time_ms: Option<f64>,
    /// The kernel's measure of the handshake (TCP_INFO tcpi_rtt after the
    /// first sample: the SYN's departure to the SYN-ACK's arrival, in µs);
    /// absent when the SYN was retransmitted (no sample is taken then).
    pub kernel_rtt_ms: Option<f64>,
    /// connect() to the moment poll() reported the outcome, in this process.
    pub connect_ms: Option<f64>,
    /// SYNs the kernel sent again before the answer (tcpi_total_retrans).
    pub syn_retransmits: Option<u32>,
    /// The local port the probe used.
    pub local_port: Option<u16>,
    /// What the kernel said, for errors (and refusals).
    pub error: Option<String>,
}

/// The statistics of a run, and every probe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Report {
    /// The host as given.
    pub host: String,
    /// The address probed.
    pub address: IpAddr,
    /// The port probed.
    pub port: u16,
    /// Probes started.
    pub transmitted: u64,
    /// Handshakes completed.
    pub connected: u64,
    /// Probes refused with an RST.
    pub closed: u64,
    /// Probes that timed out.
    pub timeouts: u64,
    /// Probes that failed otherwise.
    pub errors: u64,
    /// Probes without a completed handshake, in percent of those transmitted.
    pub loss_percent: f64,
    /// Round trips of the completed handshakes.
    pub rtt: Option<RttSummary>,
    /// From the first probe to the end, in milliseconds.
    pub elapsed_ms: f64,
    /// Every probe in order (the last 10,000 at most; the counts are exact).
    pub probes: Vec<Probe>,
}

impl Report {
    /// Whether the run succeeded as ping's exit status counts it: at least
    /// one handshake completed.
    pub fn success(&self) -> bool {
        self.connected > 0
    }
}

/// Why a tcping could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum TcpingError {
    /// No port was given.
    #[error("'{0}' names no port: give HOST:PORT (e.g. {0}:443), [IPv6]:PORT, or HOST PORT")]
    NoPort(String),
    /// An IPv6 address with no brackets: its last group cannot be a port.
    #[error(
        "'{0}' reads as an IPv6 address with no port: put the address in brackets ([{0}]:PORT) or give the port as the next argument"
    )]
    BareIpv6(String),
    /// The port is not a number from 1 to 65535.
    #[error("'{0}' is not a port (1-65535)")]
    BadPort(String),
    /// The host could not be resolved.
    #[error("cannot resolve '{host}': {reason}")]
    Resolve {
        /// The host.
        host: String,
        /// Why not.
        reason: String,
    },
    /// The host has no address of the family asked for.
    #[error("{host} has no address for {flag}: drop {flag}, or name another host")]
    WrongFamily {
        /// The host.
        host: String,
        /// `-4` or `-6`.
        flag: &'static str,
    },
    /// Waiting on the sockets failed.
    #[error("tcping {target}: {source}")]
    Io {
        /// The target.
        target: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

/// Splits `HOST:PORT`, `[V6]:PORT` or `HOST` plus a separate `PORT`.
pub fn split_target(target: &str, port: Option<&str>) -> Result<(String, u16), TcpingError> {
    let parse_port = |text: &str| match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(TcpingError::BadPort(text.to_string())),
    };
    if let Some(port) = port {
        let host = target
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(target);
        return Ok((host.to_string(), parse_port(port)?));
    }
    if let Some(rest) = target.strip_prefix('[') {
        return match rest.split_once("]:") {
            Some((host, port)) => Ok((host.to_string(), parse_port(port)?)),
            None => Err(TcpingError::NoPort(target.to_string())),
        };
    }
    // A bare IPv6 address has colons but no port.
    if target.parse::<std::net::Ipv6Addr>().is_ok() {
        return Err(TcpingError::BareIpv6(target.to_string()));
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Ok((host.to_string(), parse_port(port)?)),
        _ => Err(TcpingError::NoPort(target.to_string())),
    }
}

/// Resolves `host` through netdx's own resolver (/etc/hosts, then DNS;
/// never NSS) to the first address of the family asked for, with `port`.
pub fn resolve(
    host: &str,
    port: u16,
    family: crate::net::FamilyChoice,
) -> Result<SocketAddr, TcpingError> {
    use crate::names::NameError;
    let resolved = crate::names::resolve(host, family).map_err(|err| match err {
        NameError::NoAddress {
            family: family @ (crate::net::FamilyChoice::V4 | crate::net::FamilyChoice::V6),
        } => TcpingError::WrongFamily {
            host: host.to_string(),
            flag: family.flag(),
        },
        other => TcpingError::Resolve {
            host: host.to_string(),
            reason: other.to_string(),
        },
    })?;
    let address = resolved
        .addresses
        .first()
        .copied()
        .ok_or_else(|| TcpingError::Resolve {
            host: host.to_string(),
            reason: NameError::NotFound.to_string(),
        })?;
    Ok(match address {
        IpAddr::V6(v6) => {
            SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, resolved.scope_id))
        }
        v4 => SocketAddr::new(v4, port),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_split_as_host_port_bracketed_v6_or_two_words() {
        let ok = |t: &str, p: Option<&str>| split_target(t, p).unwrap();
        assert_eq!(ok("example.test:443", None), ("example.test".into(), 443));
        assert_eq!(ok("10.0.0.1:22", None), ("10.0.0.1".into(), 22));
        assert_eq!(ok("[fd00::1]:80", None), ("fd00::1".into(), 80));
        assert_eq!(ok("fd00::1", Some("80")), ("fd00::1".into(), 80));
        assert_eq!(ok("[fd00::1]", Some("80")), ("fd00::1".into(), 80));
        assert_eq!(ok("host", Some("8080")), ("host".into(), 8080));
        for (bad, port) in [
            ("host", None),
            ("fd00::1", None),
            ("[fd00::1]", None),
            (":80", None),
            ("host:0", None),
            ("host:http", None),
            ("host:70000", None),
            ("host", Some("-1")),
        ] {
            assert!(split_target(bad, port).is_err(), "{bad} {port:?}");
        }
    }
}
