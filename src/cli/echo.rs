//! `netdx echo serve` and `netdx echo probe` arguments.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::values::{self, Endpoint};
use crate::ping::session::Pattern;

pub(super) const ECHO_EXAMPLES: &str = "\
Examples:
  netdx echo serve                            TCP and UDP echo on 127.0.0.1:7007
  netdx echo serve -v --bind [::1]:9000       IPv6, logging every connection
  netdx echo probe 127.0.0.1:7007 -c 5        five TCP round trips, ping-style
  netdx echo probe --udp localhost:7007 -i 0 -c 1000 -q
                                              UDP ping-pong, summary only
  netdx echo probe 127.0.0.1:7007 --connections 100 --duration 10
                                              load: 100 connections for 10 s";

const SERVE_EXAMPLES: &str = "\
Examples:
  netdx echo serve                            TCP and UDP on 127.0.0.1:7007
  netdx echo serve --tcp --bind 0.0.0.0:7007  reachable from the network (warns)
  netdx echo serve --bind [::]:7007           dual-stack: IPv4 clients too (--v6only: not)
  netdx echo serve --framing length --max-frame 65536
                                              echo whole length-prefixed frames
  netdx echo serve --max-conns 100 --idle-timeout 30 -v
  netdx echo serve --rcvbuf 4096 --show-sockopts
                                              see what the kernel made of the request

TCP echoes every byte back in order; when the client shuts down its side, the
server finishes echoing and closes. UDP answers each datagram with the same
bytes, to its sender; datagrams over --max-datagram are dropped, never cut.
Ctrl-C (or SIGTERM) stops the server and prints the totals.
Exit status: 0 after a clean stop, 2 if the service could not start.";

const PROBE_EXAMPLES: &str = "\
Examples:
  netdx echo probe 127.0.0.1:7007                 TCP, one probe a second until Ctrl-C
  netdx echo probe --udp [::1]:7007 -c 10 -i 0.2  ten UDP probes, 200 ms apart
  netdx echo probe 127.0.0.1:7007 -i 0 -c 10000 -q
                                                  ping-pong as fast as echoes return
  netdx echo probe 127.0.0.1:7007 -s 65536 --random -c 3
                                                  64 KiB of fresh random bytes each time
  netdx echo probe 127.0.0.1:7007 --connections 100 --duration 10
                                                  load: messages/s, MB/s, percentiles
  netdx echo probe 127.0.0.1:7007 --rcvbuf 4096 --show-sockopts -c 1
                                                  the options as getsockopt reads them

Every probe carries a sequence number and must come back byte-identical:
an echo that differs is 'corrupted', one after -W is 'late', a second copy is
'duplicated', one overtaken by a later probe's is 'reordered' (UDP).
Exit status: 0 if at least one good echo came back, 1 if none, 2 on errors.";

// `netdx echo …` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct EchoArgs {
    /// Serve or probe.
    #[command(subcommand)]
    pub command: EchoCommand,
}

// The two halves of an echo (no doc comment: it would replace `netdx echo`'s summary).
#[derive(Debug, Subcommand)]
pub enum EchoCommand {
    /// Run a TCP/UDP echo service
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Measure round trips through an echo service, check every byte, or load it
    #[command(after_help = PROBE_EXAMPLES)]
    Probe(ProbeArgs),
}

/// How length-prefixed TCP messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FramingChoice {
    /// Bytes as they come
    Raw,
    /// 4-byte big-endian length, then the message
    Length,
}

/// How `-v` events are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of text per event
    Text,
    /// One JSON object per line per event
    Json,
}

/// Socket options both sides understand.
#[derive(Debug, Args)]
pub struct SocketArgs {
    /// SO_RCVBUF: receive buffer bytes to ask for (Linux doubles it)
    #[arg(long, value_name = "BYTES", value_parser = values::byte_size)]
    pub rcvbuf: Option<usize>,
    /// SO_SNDBUF: send buffer bytes to ask for (Linux doubles it)
    #[arg(long, value_name = "BYTES", value_parser = values::byte_size)]
    pub sndbuf: Option<usize>,
    /// TCP_NODELAY: send small segments at once (no Nagle)
    #[arg(long)]
    pub nodelay: bool,
    /// SO_KEEPALIVE: probe idle connections
    #[arg(long)]
    pub keepalive: bool,
    /// Print every socket option as getsockopt reads it back, after applying them
    #[arg(long)]
    pub show_sockopts: bool,
}

/// `netdx echo serve [OPTIONS]`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve TCP (without --tcp or --udp: both)
    #[arg(long)]
    pub tcp: bool,
    /// Serve UDP (without --tcp or --udp: both)
    #[arg(long)]
    pub udp: bool,
    /// Address and port to listen on: ADDR:PORT, [V6ADDR]:PORT, or PORT (on 127.0.0.1); port 0 picks a free one
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:7007", value_parser = values::bind_address)]
    pub bind: SocketAddr,
    /// SO_REUSEADDR off: see a restart fail while old connections sit in TIME_WAIT
    #[arg(long = "no-reuseaddr")]
    pub no_reuseaddr: bool,
    /// SO_REUSEADDR on: the default for TCP, as servers do; on UDP only when given (there it lets two servers share a port)
    #[arg(long, conflicts_with = "no_reuseaddr")]
    pub reuseaddr: bool,
    /// SO_REUSEPORT: several servers share the port, the kernel spreads clients
    #[arg(long)]
    pub reuseport: bool,
    /// IPV6_V6ONLY on an IPv6 address: IPv6 clients only (default: IPv4 ones too, on [::])
    #[arg(long)]
    pub v6only: bool,
    /// listen() backlog: connections the kernel completes before they are accepted
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(i32).range(1..=65535))]
    pub backlog: i32,
    /// Close connections with no traffic either way for SECS
    #[arg(long, value_name = "SECS", value_parser = values::positive_seconds)]
    pub idle_timeout: Option<Duration>,
    /// Accept at most N connections at once; more are accepted and closed at once, and counted
    #[arg(long, value_name = "N", value_parser = values::count)]
    pub max_conns: Option<u64>,
    /// Drop (never cut) UDP datagrams over BYTES [default: 65507, 65527 on IPv6]
    #[arg(long, value_name = "BYTES", value_parser = values::datagram_size)]
    pub max_datagram: Option<usize>,
    /// TCP message framing: raw bytes, or 4-byte big-endian length-prefixed frames echoed whole
    #[arg(long, value_enum, value_name = "KIND", default_value = "raw")]
    pub framing: FramingChoice,
    /// With --framing length: the largest frame body, 1 to 1G; a larger one closes the connection [default: 1M]
    #[arg(long, value_name = "BYTES", value_parser = values::frame_size)]
    pub max_frame: Option<u32>,
    /// Log every connection and its end (peer, bytes, duration)
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Log format for events (json: one object per line, the lines of --json-stream; implies -v)
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub log: LogFormat,
    /// Socket options.
    #[command(flatten)]
    pub socket: SocketArgs,
}

/// `netdx echo probe HOST:PORT [OPTIONS]`
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The echo service: HOST:PORT, or [IPV6]:PORT
    #[arg(value_name = "HOST:PORT", value_parser = values::endpoint)]
    pub target: Endpoint,
    /// Probe over TCP (the default)
    #[arg(long, conflicts_with = "udp")]
    pub tcp: bool,
    /// Probe over UDP
    #[arg(long)]
    pub udp: bool,
    /// Stop after COUNT probes (per connection with --connections)
    #[arg(short = 'c', long = "count", allow_hyphen_values = true, value_name = "COUNT", value_parser = values::count)]
    pub count: Option<u64>,
    /// Seconds between probes; 0: the next as soon as the last echo is back (ping-pong) [default: 1]
    #[arg(short = 'i', allow_hyphen_values = true, value_name = "SECS", value_parser = values::seconds)]
    pub interval: Option<Duration>,
    /// Payload bytes per probe (UDP: at most 65507, 65527 on IPv6)
    #[arg(short = 's', allow_hyphen_values = true, value_name = "BYTES", default_value = "64", value_parser = values::probe_size)]
    pub size: usize,
    /// Seconds an echo may take; later ones count as late, not received
    #[arg(short = 'W', allow_hyphen_values = true, value_name = "SECS", default_value = "2", value_parser = values::positive_seconds)]
    pub timeout: Duration,
    /// Stop after SECS seconds, whatever the count
    #[arg(short = 'w', allow_hyphen_values = true, value_name = "SECS", value_parser = values::positive_seconds)]
    pub deadline: Option<Duration>,
    /// Fill the payload with this hex pattern (up to 16 bytes), e.g. -p ff00
    #[arg(short = 'p', value_name = "HEX", value_parser = values::pattern, conflicts_with = "random")]
    pub pattern: Option<Pattern>,
    /// Fill every payload with fresh random bytes
    #[arg(long)]
    pub random: bool,
    /// Quiet: only the header and the summary
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Say when a probe's timeout passes with no echo yet
    #[arg(short = 'O')]
    pub report_outstanding: bool,
    /// With --json: every probe's record too
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Load mode: N concurrent connections, each sending as fast as its echoes return
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub connections: Option<u32>,
    /// Load mode: run for SECS seconds
    #[arg(long, value_name = "SECS", value_parser = values::positive_seconds)]
    pub duration: Option<Duration>,
    /// Load mode: when the run ends, write a chart of its echoes per second and Mbit/s to FILE (.svg or .png)
    #[arg(long, value_name = "FILE", requires = "connections", value_parser = crate::render::plot::PlotFile::parse)]
    pub plot: Option<crate::render::plot::PlotFile>,
    /// TCP messages as 4-byte length-prefixed frames (for 'serve --framing length')
    #[arg(long, value_enum, value_name = "KIND", default_value = "raw")]
    pub framing: FramingChoice,
    /// Local address to send from: ADDR or ADDR:PORT
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = values::local_address)]
    pub bind: Option<SocketAddr>,
    /// IP_TTL / IPV6_UNICAST_HOPS of the probes, 1-255
    #[arg(long, value_name = "TTL", value_parser = values::ttl)]
    pub ttl: Option<u8>,
    /// IP_TOS / IPV6_TCLASS byte of the probes, 0-255
    #[arg(long, value_name = "TOS", value_parser = clap::value_parser!(u8))]
    pub tos: Option<u8>,
    /// Use IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
    /// Seconds a TCP connect may take
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = values::positive_seconds)]
    pub connect_timeout: Duration,
    /// Socket options.
    #[command(flatten)]
    pub socket: SocketArgs,
}
