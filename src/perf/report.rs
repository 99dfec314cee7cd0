//! What a test reports: iperf3 `-J`'s objects (`start`, `intervals`,
//! `end`) and the one measure shape they are all made of.
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Protocol;

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
    /// 1 when TCP senders use sendfile(2) (-Z).
    pub zerocopy: u8,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
