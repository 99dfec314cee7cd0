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
pub mod run;
pub mod serve;
pub mod session;
pub mod stream;
pub mod udp;

use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// One stream's figures over an interval or the whole test, or their sum
/// (iperf3's interval and end objects, one shape).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Measure {
    /// The stream's id (absent on sums).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<u32>,
    /// Seconds from the test's start.
    pub start: f64,
    /// Seconds from the test's start.
    pub end: f64,
    /// `end - start`.
    pub seconds: f64,
    /// Bytes sent (sender) or received (receiver).
    pub bytes: u64,
    /// `bytes * 8 / seconds`.
    pub bits_per_second: f64,
    /// Whether these are the sending side's figures.
    pub sender: bool,
    /// TCP sender: segments retransmitted (TCP_INFO tcpi_total_retrans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retransmits: Option<u64>,
    /// TCP sender: congestion window at the interval's end, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snd_cwnd: Option<u64>,
    /// TCP sender: the largest congestion window seen, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_snd_cwnd: Option<u64>,
    /// TCP sender: smoothed RTT at the end, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt: Option<u32>,
    /// TCP receiver, end totals: the kernel's count of bytes received on
    /// the connection (TCP_INFO tcpi_bytes_received: the sequence space
    /// taken, so the sender's FIN adds one; on the server's end the
    /// connection's opening `stream` frame is in it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_bytes_received: Option<u64>,
    /// UDP: datagrams sent or received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
    /// UDP receiver: RFC 3550 interarrival jitter, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<f64>,
    /// UDP receiver: datagrams lost (the end: sent minus received).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_packets: Option<u64>,
    /// UDP receiver: lost in percent of those sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_percent: Option<f64>,
    /// UDP receiver: datagrams that arrived after a later one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_order: Option<u64>,
}

impl Measure {
    /// A measure of `bytes` over `start..end` (seconds since the test began).
    pub fn over(socket: Option<u32>, start: f64, end: f64, bytes: u64, sender: bool) -> Self {
        let seconds = (end - start).max(0.0);
        Measure {
            socket,
            start,
            end,
            seconds,
            bytes,
            bits_per_second: rate(bytes, seconds),
            sender,
            ..Measure::default()
        }
    }

    /// The sum of `parts` (iperf3's `sum`): bytes, retransmits, datagrams
    /// and losses added, the longest time span, the mean jitter.
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a Measure>, sender: bool) -> Measure {
        let parts: Vec<&Measure> = parts.into_iter().collect();
        let start = parts.iter().map(|m| m.start).fold(f64::INFINITY, f64::min);
        let end = parts.iter().map(|m| m.end).fold(0.0, f64::max);
        let start = if start.is_finite() { start } else { 0.0 };
        let bytes = parts.iter().map(|m| m.bytes).sum();
        let mut sum = Measure::over(None, start, end, bytes, sender);
        let add = |field: fn(&Measure) -> Option<u64>| {
            parts.iter().filter_map(|m| field(m)).reduce(|a, b| a + b)
        };
        sum.retransmits = add(|m| m.retransmits);
        sum.packets = add(|m| m.packets);
        sum.lost_packets = add(|m| m.lost_packets);
        sum.out_of_order = add(|m| m.out_of_order);
        let jitters: Vec<f64> = parts.iter().filter_map(|m| m.jitter_ms).collect();
        if !jitters.is_empty() {
            sum.jitter_ms = Some(jitters.iter().sum::<f64>() / jitters.len() as f64);
        }
        if let Some(lost) = sum.lost_packets {
            sum.lost_percent = Some(percent(lost, sum.packets.unwrap_or(0) + lost));
        }
        sum
    }
}

/// Bits per second of `bytes` over `seconds` (0 over no time).
pub fn rate(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes as f64 * 8.0 / seconds
    } else {
        0.0
    }
}

/// `part` in percent of `whole` (0 of nothing).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// One data connection as iperf3's `start.connected` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Connected {
    /// The stream's id.
    pub socket: u32,
    /// This side's address.
    pub local_host: String,
    /// This side's port.
    pub local_port: u16,
    /// The server's address.
    pub remote_host: String,
    /// The server's port.
    pub remote_port: u16,
    /// Whether this client sends on it (false: it receives).
    pub sender: bool,
}

/// Where the test went.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConnectingTo {
    /// The host as given.
    pub host: String,
    /// The server's port.
    pub port: u16,
}

/// The test as run (iperf3's `start.test_start`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TestStart {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Streams in each direction.
    pub num_streams: u32,
    /// Bytes per write or datagram.
    pub blksize: usize,
    /// Seconds the senders send.
    pub duration: f64,
    /// 1 when the server sends (-R).
    pub reverse: u8,
    /// 1 when both send (--bidir).
    pub bidir: u8,
    /// Bits per second each stream is held to; 0: unlimited.
    pub target_bitrate: u64,
    /// Seconds between reports.
    pub interval: f64,
}

/// Before the first interval (iperf3's `start`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Start {
    /// Every data connection or socket pair.
    pub connected: Vec<Connected>,
    /// `netdx perf` and its version.
    pub version: String,
    /// The server.
    pub connecting_to: ConnectingTo,
    /// The test.
    pub test_start: TestStart,
}

/// One report interval (iperf3's `intervals[]` item), from this client's
/// side of each stream.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Interval {
    /// Each stream.
    pub streams: Vec<Measure>,
    /// The streams of the test's direction (client → server, or with -R
    /// server → client) added up.
    pub sum: Measure,
    /// --bidir: the streams of the other direction added up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum_bidir_reverse: Option<Measure>,
}

/// One stream's totals from both ends.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EndStream {
    /// The sending end's count.
    pub sender: Measure,
    /// The receiving end's count.
    pub receiver: Measure,
    /// UDP: the receiver's count again, where iperf3 puts it (`udp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub udp: Option<Measure>,
}

/// The totals (iperf3's `end`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct End {
    /// Each stream, both ends.
    pub streams: Vec<EndStream>,
    /// The test direction's senders added up.
    pub sum_sent: Measure,
    /// The test direction's receivers added up.
    pub sum_received: Measure,
    /// UDP: `sum_received` again, where iperf3 puts it (`sum`: jitter, loss).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<Measure>,
    /// --bidir: the other direction's senders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum_sent_bidir_reverse: Option<Measure>,
    /// --bidir: the other direction's receivers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum_received_bidir_reverse: Option<Measure>,
}

/// A whole test (`netdx perf run --json`, iperf3's `-J` shape).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Report {
    /// The setup.
    pub start: Start,
    /// Every interval (the last 10,000 at most; `end` counts everything).
    pub intervals: Vec<Interval>,
    /// The totals.
    pub end: End,
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
    fn sums_add_counts_and_span_the_longest_time() {
        let mut a = Measure::over(Some(1), 0.0, 1.0, 1000, true);
        a.retransmits = Some(2);
        let mut b = Measure::over(Some(2), 0.0, 1.5, 500, true);
        b.retransmits = Some(1);
        let sum = Measure::sum([&a, &b], true);
        assert_eq!(sum.bytes, 1500);
        assert_eq!(sum.seconds, 1.5);
        assert_eq!(sum.bits_per_second, 8000.0);
        assert_eq!(sum.retransmits, Some(3));
        assert_eq!(sum.socket, None);
        assert_eq!(sum.packets, None);
    }

    #[test]
    fn udp_sums_average_jitter_and_take_loss_over_all_sent() {
        let mut a = Measure::over(Some(1), 0.0, 1.0, 0, false);
        (a.packets, a.lost_packets, a.jitter_ms) = (Some(90), Some(10), Some(1.0));
        let mut b = a.clone();
        (b.packets, b.lost_packets, b.jitter_ms) = (Some(100), Some(0), Some(3.0));
        let sum = Measure::sum([&a, &b], false);
        assert_eq!(sum.lost_packets, Some(10));
        assert_eq!(sum.lost_percent, Some(5.0));
        assert_eq!(sum.jitter_ms, Some(2.0));
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
