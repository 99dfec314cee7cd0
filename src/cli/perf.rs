//! `netdx perf` arguments: a throughput server (serve) and client (run), iperf3's options.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::values;

pub(super) const PERF_EXAMPLES: &str = "\
Examples:
  netdx perf serve                          a server on 0.0.0.0:5201 for many clients at once
  netdx perf run 10.0.0.2                   10 s of TCP to it, a line a second (iperf3 -c)
  netdx perf run 10.0.0.2 -P 4 -t 5 -R      four streams for 5 s, the server sending
  netdx perf run 10.0.0.2 --udp -b 100M     UDP at 100 Mbit/s: jitter, loss, out of order

Exit status: 0 when the test ran, 2 on errors (refused, a busy server, not a
netdx perf server at all).";

pub(super) const SERVE_EXAMPLES: &str = "\
Examples:
  netdx perf serve                          on 0.0.0.0:5201, up to 16 tests at once
  netdx perf serve --bind 10.0.0.2:5301     one address and port
  netdx perf serve --bind [::]:5201         IPv6 (and IPv4-mapped) clients
  netdx perf serve --max-clients 2          a third client at once is refused, and told why

Unlike iperf3 -s, the server runs every test it accepts at once, each with
its own streams, and never needs a restart between tests; a client that
vanishes mid-test ends only its own test. A client beyond --max-clients is
refused with a message saying so (its netdx perf run exits 2). Each test is
logged as a line when it starts and ends. Only netdx perf run speaks its
protocol (docs/perf-protocol.md); an iperf3 client is turned away.

Exit status: 2 when the server cannot listen; otherwise it runs until killed.";

pub(super) const RUN_EXAMPLES: &str = "\
Examples:
  netdx perf run 10.0.0.2                   TCP, one stream, 10 s, a line a second
  netdx perf run 10.0.0.2:5301 -P 4 -t 2    four streams for 2 s to another port
  netdx perf run 10.0.0.2 -R                the server sends, this end receives
  netdx perf run 10.0.0.2 --bidir           both at once
  netdx perf run 10.0.0.2 -b 500M           TCP paced by the kernel (SO_MAX_PACING_RATE)
  netdx perf run 10.0.0.2 --udp -b 10M -l 1200
                                            UDP at 10 Mbit/s in 1200-byte datagrams
  netdx perf run 10.0.0.2 --json            iperf3 -J's shape: start, intervals, end

Lines are iperf3's: per stream and interval the transfer and bitrate, for a
TCP sender the retransmits and congestion window (TCP_INFO), for a UDP
receiver the jitter (RFC 3550), lost/total datagrams and reordering; at the
end the sender's and the receiver's totals of each stream. UDP is sent at
iperf3's 1 Mbit/s (1048576 bits/s) unless -b says otherwise; -b 0 is
unlimited. Ctrl-C ends the test early, on both ends, with its totals so
far. Rates are
bits per second with K, M, G or T (1000-based, as iperf3): 10M, 1G, 2500000.

Exit status: 0 when the test ran, 2 on errors: the server refused or is
busy, it is not a netdx perf server (an iperf3 server is named as such),
bad arguments.";

// `netdx perf serve|run` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct PerfArgs {
    /// The server or the client
    #[command(subcommand)]
    pub command: PerfCommand,
}

// The two ends of a test (no doc comment: it would replace `netdx perf`'s summary).
#[derive(Debug, Subcommand)]
pub enum PerfCommand {
    /// Serve throughput tests to many clients at once (iperf3 -s without the one-test limit)
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(PerfServeArgs),
    /// Measure throughput to a netdx perf server: TCP or UDP, streams, reverse, bidirectional (iperf3 -c)
    #[command(after_help = RUN_EXAMPLES)]
    Run(PerfRunArgs),
}

// `netdx perf serve [--bind ADDR:PORT] [--max-clients N]`
#[derive(Debug, Args)]
pub struct PerfServeArgs {
    /// Where to listen: ADDR:PORT, [IPv6]:PORT, or PORT (on 127.0.0.1)
    #[arg(long = "bind", value_name = "ADDR:PORT", default_value = "0.0.0.0:5201", value_parser = values::bind_address)]
    pub bind: SocketAddr,
    /// Tests at once, at most; more clients are refused
    #[arg(long = "max-clients", value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_clients: u32,
}

// `netdx perf run HOST[:PORT] …`
#[derive(Debug, Args)]
pub struct PerfRunArgs {
    /// The server: HOST, HOST:PORT, [IPv6]:PORT [default port: 5201]
    #[arg(value_name = "HOST[:PORT]")]
    pub target: String,
    /// TCP streams (the default)
    #[arg(long = "tcp", conflicts_with = "udp")]
    pub tcp: bool,
    /// UDP datagrams, at 1 Mbit/s unless -b says otherwise
    #[arg(short = 'u', long = "udp")]
    pub udp: bool,
    /// Streams in each direction
    #[arg(short = 'P', long = "parallel", value_name = "STREAMS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=128))]
    pub streams: u32,
    /// Seconds to send
    #[arg(short = 't', long = "time", value_name = "SECS", default_value = "10", value_parser = test_seconds)]
    pub time: Duration,
    /// Reverse: the server sends, this end receives
    #[arg(short = 'R', long = "reverse", conflicts_with = "bidir")]
    pub reverse: bool,
    /// Both ends send at once
    #[arg(long = "bidir")]
    pub bidir: bool,
    /// Bits per second per stream (10M, 1G; 0: unlimited) [default: unlimited for TCP, 1M for UDP]
    #[arg(short = 'b', long = "bitrate", value_name = "RATE", value_parser = bit_rate)]
    pub rate: Option<u64>,
    /// Bytes per write (TCP, default 128K) or per datagram (UDP, default 1460)
    #[arg(short = 'l', long = "length", value_name = "LEN", value_parser = values::byte_size)]
    pub length: Option<usize>,
    /// TCP senders (either end) send with sendfile(2) from a file in memory, not write() (iperf3's -Z)
    #[arg(short = 'Z', long = "zerocopy", conflicts_with = "udp")]
    pub zerocopy: bool,
    /// Seconds between reports
    #[arg(short = 'i', long = "interval", value_name = "SECS", default_value = "1", value_parser = report_seconds)]
    pub interval: Duration,
    /// When the test ends, write a chart of its throughput per interval to FILE (.svg or .png)
    #[arg(long = "plot", value_name = "FILE", value_parser = crate::render::plot::PlotFile::parse)]
    pub plot: Option<crate::render::plot::PlotFile>,
}

fn test_seconds(text: &str) -> Result<Duration, String> {
    let duration = values::positive_seconds(text)?;
    if duration > Duration::from_secs(crate::perf::MAX_SECONDS) {
        return Err(format!(
            "'{text}': a test lasts {} seconds at most",
            crate::perf::MAX_SECONDS
        ));
    }
    Ok(duration)
}

fn report_seconds(text: &str) -> Result<Duration, String> {
    let duration = values::positive_seconds(text)?;
    if duration < Duration::from_millis(100) {
        return Err(format!("'{text}': reports are 0.1 seconds apart at least"));
    }
    Ok(duration)
}

/// A rate as iperf3 reads one: bits per second, with K, M, G or T
/// (1000-based, either case), fractions allowed (`1.5G`).
pub fn bit_rate(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.char_indices().last() {
        Some((at, suffix)) if suffix.is_ascii_alphabetic() => {
            let scale = match suffix.to_ascii_uppercase() {
                'K' => 1e3,
                'M' => 1e6,
                'G' => 1e9,
                'T' => 1e12,
                _ => {
                    return Err(format!(
                        "'{text}' is not a rate: the unit is K, M, G or T (bits per second)"
                    ));
                }
            };
            (&trimmed[..at], scale)
        }
        _ => (trimmed, 1.0),
    };
    match number.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 && value * scale <= 1e15 => {
            Ok((value * scale).round() as u64)
        }
        _ => Err(format!(
            "'{text}' is not a rate: bits per second such as 10M, 1G or 2500000 (0: unlimited)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_iperf3_reads_them() {
        assert_eq!(bit_rate("10M"), Ok(10_000_000));
        assert_eq!(bit_rate("1G"), Ok(1_000_000_000));
        assert_eq!(bit_rate("1g"), Ok(1_000_000_000));
        assert_eq!(bit_rate("100k"), Ok(100_000));
        assert_eq!(bit_rate("1.5M"), Ok(1_500_000));
        assert_eq!(bit_rate("2500000"), Ok(2_500_000));
        assert_eq!(bit_rate("0"), Ok(0));
        for bad in ["", "M", "10X", "-1M", "fast", "1e99", "10M/100"] {
            assert!(bit_rate(bad).is_err(), "{bad}");
        }
    }
}
