//! `perf`: throughput tests between `netdx perf run` and `netdx perf serve`
//! (iperf3's measurements, a server that runs many tests at once).
//!
//! A test is a control connection ([`control`]: versioned, length-prefixed
//! JSON frames) and one data connection (TCP) or socket pair (UDP) per
//! stream, each driven by a thread of its own ([`stream`]). The client
//! ([`run`]) samples its streams every interval; at the end the server
//! sends its side of every stream, so the report has both the sender's and
//! the receiver's count. UDP datagrams carry a sequence number and a send
//! time ([`udp`]) for jitter, loss and reordering; `-b` paces UDP in user
//! space ([`pace`]) and TCP with SO_MAX_PACING_RATE.
#![forbid(unsafe_code)]

pub mod control;
pub mod pace;
mod report;
pub mod run;
pub mod serve;
pub mod session;
pub mod stream;
pub mod udp;

use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use report::{
    Connected, ConnectingTo, End, EndStream, Interval, Measure, Report, Start, TestStart, percent,
    rate,
};

/// The port netdx perf serve listens on unless told otherwise (iperf3's).
pub const DEFAULT_PORT: u16 = 5201;
/// TCP's default write size (iperf3's 128 KiB).
pub const DEFAULT_TCP_LEN: usize = 128 * 1024;
/// UDP's default datagram payload (iperf3's).
pub const DEFAULT_UDP_LEN: usize = 1460;
/// UDP's default rate when -b is not given: iperf3's "1 Mbit/s", which it
/// defines as 1024 × 1024 bits a second (its `-b 1M` is 1,000,000).
pub const DEFAULT_UDP_RATE: u64 = 1024 * 1024;
/// The most streams a test may have in one direction.
pub const MAX_STREAMS: u32 = 128;
/// The longest test, in seconds.
pub const MAX_SECONDS: u64 = 86_400;

/// The transport a test measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    /// TCP streams.
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP datagrams.
    #[serde(rename = "UDP")]
    Udp,
}

impl Protocol {
    /// The name iperf3 prints: `TCP`, `UDP`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// What `netdx perf run` asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The server as given.
    pub host: String,
    /// Its resolved address.
    pub target: SocketAddr,
    /// The test sent to the server.
    pub test: control::TestParams,
    /// How often the client reports.
    pub interval: Duration,
}

/// Why a perf test could not run.
#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    /// The server could not be resolved.
    #[error("{host}: {reason}")]
    Resolve {
        /// The host.
        host: String,
        /// Why not.
        reason: String,
    },
    /// Connecting to the server failed.
    #[error("perf {target}: {source} (is `netdx perf serve` running there?)")]
    Connect {
        /// The server.
        target: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The server is at its --max-clients limit.
    #[error("perf {target}: the server is busy: {reason}")]
    Busy {
        /// The server.
        target: SocketAddr,
        /// What it said.
        reason: String,
    },
    /// The server refused the test.
    #[error("perf {target}: the server refused the test: {reason}")]
    Refused {
        /// The server.
        target: SocketAddr,
        /// What it said.
        reason: String,
    },
    /// The peer broke the protocol, or is not netdx perf.
    #[error("perf {peer}: {source}")]
    Protocol {
        /// The other end.
        peer: SocketAddr,
        /// What was wrong.
        source: control::FrameError,
    },
    /// The peer reported a failure.
    #[error("perf {peer}: the other end failed: {message}")]
    Peer {
        /// The other end.
        peer: SocketAddr,
        /// What it said.
        message: String,
    },
    /// The peer sent a message out of turn.
    #[error(
        "perf {peer}: expected {expected}, got another message: not a netdx perf peer of this version"
    )]
    Unexpected {
        /// The other end.
        peer: SocketAddr,
        /// What was due.
        expected: &'static str,
    },
    /// The listening socket could not be set up.
    #[error(
        "perf serve {bind}: {source} (another server on that port? pick one with --bind ADDR:PORT)"
    )]
    Bind {
        /// The address.
        bind: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// A socket operation failed.
    #[error("perf {peer}: {what}: {source}")]
    Io {
        /// The other end.
        peer: SocketAddr,
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The test's parameters are out of range.
    #[error("{0}")]
    Invalid(String),
    /// Writing the report failed.
    #[error("writing output: {0}")]
    Output(std::io::Error),
}

impl PerfError {
    /// A protocol error from `peer`, with a failure to read turned into an I/O error.
    pub fn frame(peer: SocketAddr, source: control::FrameError) -> Self {
        PerfError::Protocol { peer, source }
    }
}

/// Splits `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 address into
/// the host and the port (5201 when none is given).
pub fn split_server(text: &str) -> Result<(String, u16), PerfError> {
    let bad_port =
        |port: &str| PerfError::Invalid(format!("'{port}' in '{text}' is not a port (1-65535)"));
    let parse_port = |port: &str| match port.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(bad_port(port)),
    };
    if text.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok((text.to_string(), DEFAULT_PORT));
    }
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, "")) => Ok((host.to_string(), DEFAULT_PORT)),
            Some((host, port)) if port.starts_with(':') => {
                Ok((host.to_string(), parse_port(&port[1..])?))
            }
            _ => Err(PerfError::Invalid(format!(
                "'{text}' is not HOST, HOST:PORT or [IPv6]:PORT"
            ))),
        };
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (host, parse_port(port)?),
        None => (text, DEFAULT_PORT),
    };
    if host.is_empty() {
        return Err(PerfError::Invalid(format!("'{text}' names no host")));
    }
    Ok((host.to_string(), port))
}

/// Checks a test's parameters as both ends require them.
pub fn validate(test: &control::TestParams) -> Result<(), String> {
    if test.streams == 0 || test.streams > MAX_STREAMS {
        return Err(format!(
            "streams must be 1 to {MAX_STREAMS}, not {}",
            test.streams
        ));
    }
    if test.duration_ms == 0 || test.duration_ms > MAX_SECONDS * 1000 {
        return Err(format!("the duration must be up to {MAX_SECONDS} seconds"));
    }
    let (low, high) = match test.protocol {
        // iperf3's limit; a sender holds one buffer of it per stream.
        Protocol::Tcp => (1, 1024 * 1024),
        Protocol::Udp => (udp::HEADER_LEN, 65_507),
    };
    if !(low..=high).contains(&test.length) {
        return Err(format!(
            "-l: the length for {} must be {low} to {high} bytes, not {}",
            test.protocol.name(),
            test.length
        ));
    }
    if test.protocol == Protocol::Udp && test.udp_ports.len() != test.socket_count() {
        return Err("one UDP port per stream is needed".into());
    }
    Ok(())
}

impl control::TestParams {
    /// How many data connections or socket pairs the test has.
    pub fn socket_count(&self) -> usize {
        self.streams as usize * if self.bidir { 2 } else { 1 }
    }

    /// Whether the client sends on stream `index` (the first `streams`
    /// go the test's way; with --bidir the rest go back).
    pub fn client_sends(&self, index: usize) -> bool {
        let forward = index < self.streams as usize;
        forward != self.reverse
    }

    /// The test's duration.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_split_with_the_default_port() {
        let ok = |t: &str| split_server(t).unwrap();
        assert_eq!(ok("10.0.0.2"), ("10.0.0.2".into(), 5201));
        assert_eq!(ok("host:5301"), ("host".into(), 5301));
        assert_eq!(ok("fd00::2"), ("fd00::2".into(), 5201));
        assert_eq!(ok("[fd00::2]:80"), ("fd00::2".into(), 80));
        assert_eq!(ok("[fd00::2]"), ("fd00::2".into(), 5201));
        for bad in [":80", "host:0", "host:x", "[fd00::2]x", "host:70000"] {
            assert!(split_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bidir_sends_the_first_half_one_way_and_the_rest_back() {
        let mut test = control::TestParams {
            protocol: Protocol::Tcp,
            streams: 2,
            duration_ms: 1000,
            reverse: false,
            bidir: true,
            length: 1000,
            rate_bps: 0,
            udp_ports: vec![],
            zerocopy: false,
        };
        assert_eq!(test.socket_count(), 4);
        let sends: Vec<bool> = (0..4).map(|i| test.client_sends(i)).collect();
        assert_eq!(sends, [true, true, false, false]);
        test.bidir = false;
        test.reverse = true;
        assert!(!test.client_sends(0));
        assert!(validate(&test).is_ok());
        test.streams = 0;
        assert!(validate(&test).is_err());
    }
}
