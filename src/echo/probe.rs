//! `netdx echo probe`: ping through an echo service.
//!
//! One connection (TCP) or connected socket (UDP); every probe carries its
//! sequence number and must come back byte-identical. This module moves
//! the bytes and keeps the time; [`super::matcher`] tells good, corrupted,
//! late, duplicated, reordered and stray echoes apart. A single thread,
//! blocking on poll() with Ctrl-C as one of the descriptors: no async
//! runtime.
#![forbid(unsafe_code)]

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{MsgFlags, recv};
use schemars::JsonSchema;
use serde::Serialize;
use socket2::Socket;

use super::matcher::Matcher;
pub use super::matcher::{Counts, Observation, Outcome, Record, Verdict};
use super::payload::{self, Fill, Generator};
use super::setup::{self, Failure, SocketOptions};
use super::{EchoError, Framing, Proto};
use crate::net::poll_timeout;
use crate::rtt::{Rtt, RttSummary};
use crate::signals::Interrupts;
use crate::sockopt::{self, Reading};

/// Reads one wake-up may make before the run loop looks at the clock.
const READS_PER_WAKE: usize = 256;

/// What the probe was asked to do.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// The echo service.
    pub target: SocketAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// Stop after this many probes (`-c`).
    pub count: Option<u64>,
    /// Time between probes; zero: the next as soon as the last is back (`-i 0`).
    pub interval: Duration,
    /// How long an echo may take before it counts as late (`-W`).
    pub timeout: Duration,
    /// Stop after this long whatever the count (`-w`).
    pub deadline: Option<Duration>,
    /// Payload bytes per probe (`-s`).
    pub size: usize,
    /// What fills the payload.
    pub fill: Fill,
    /// Send TCP probes as length-prefixed frames (for `serve --framing length`).
    pub framing: Framing,
    /// Socket options.
    pub options: SocketOptions,
    /// Local address to send from.
    pub bind: Option<SocketAddr>,
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
    /// Keep a record of every probe (`--json --verbose`).
    pub keep_records: bool,
}

/// Messages per second and payload bytes per second (one way) that came back good.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Throughput {
    /// Good echoes per second.
    pub messages_per_sec: f64,
    /// Payload bytes of good echoes per second.
    pub bytes_per_sec: f64,
}

/// The run's summary (`--json`: docs/json.md).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    /// The service.
    pub target: SocketAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// Payload bytes per probe.
    pub size: usize,
    /// What the probes came to (flattened: `--json` has always listed
    /// the counts beside the target).
    #[serde(flatten)]
    pub counts: Counts,
    /// Wall time of the run.
    pub elapsed_ms: f64,
    /// Round trips of good echoes; `null` when there were none.
    pub rtt_ms: Option<RttSummary>,
    /// For back-to-back runs (`-i 0`) and load; `null` otherwise.
    pub throughput: Option<Throughput>,
    /// Every probe, with `--json --verbose`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<Record>,
}

/// What sees each observation as it happens; its error is the output's.
pub type Observer<'a> = dyn FnMut(&Observation) -> io::Result<()> + 'a;

/// Hands `observation` to the observer; a failure there is a failure to
/// write output, never a socket's.
fn tell(observe: &mut Observer<'_>, observation: &Observation) -> Result<(), EchoError> {
    observe(observation).map_err(EchoError::Output)
}

/// A connected probe, ready to run.
pub struct Session {
    config: ProbeConfig,
    socket: Option<Socket>,
    local: Option<SocketAddr>,
    readings: Vec<Reading>,
    generator: Generator,
    matcher: Matcher,
    buf: Vec<u8>,
    next_seq: u64,
}

/// Opens and connects the probe's socket (errors here are fatal: exit 2).
pub fn connect(config: ProbeConfig) -> Result<Session, EchoError> {
    let (socket, readings) = open_socket(&config)?;
    let local = socket.local_addr().ok().and_then(|a| a.as_socket());
    let generator = Generator::new(config.size, config.fill.clone(), payload::seed());
    let matcher = Matcher::new(
        config.proto,
        config.timeout,
        generator.clone(),
        config.keep_records,
    );
    Ok(Session {
        socket: Some(socket),
        local,
        readings,
        generator,
        matcher,
        buf: vec![0; 65_536.max(config.size + 4)],
        next_seq: 1,
        config,
    })
}

fn open_socket(config: &ProbeConfig) -> Result<(Socket, Vec<Reading>), EchoError> {
    let opened = setup::open(config.proto, config.target.ip(), &config.options)?;
    if let Some(local) = config.bind {
        setup::bind(&opened.socket, local, config.proto, &config.options)?;
    }
    setup::connect(
        &opened.socket,
        config.target,
        config.proto,
        config.connect_timeout,
    )?;
    // Blocking, so a ping-pong run waits in recv() itself (one system call
    // per echo, as sockperf does); every other read passes MSG_DONTWAIT.
    let limit = Some(config.timeout.max(Duration::from_millis(1)));
    let timeouts = opened
        .socket
        .set_read_timeout(limit)
        .and_then(|()| opened.socket.set_write_timeout(limit));
    timeouts.map_err(|source| EchoError::Socket {
        what: "setting SO_RCVTIMEO/SO_SNDTIMEO".into(),
        source,
    })?;
    let readings = sockopt::read_all(&opened.socket, opened.shape, &opened.requested);
    Ok((opened.socket, readings))
}

impl Session {
    /// The local address probes leave from.
    pub fn local(&self) -> Option<SocketAddr> {
        self.local
    }

    /// The socket's options as getsockopt reports them after connecting.
    pub fn readings(&self) -> &[Reading] {
        &self.readings
    }

    /// Runs until the count, the deadline or Ctrl-C; `observe` sees each event.
    pub fn run(
        mut self,
        interrupts: &Interrupts,
        observe: &mut Observer<'_>,
    ) -> Result<(Report, Rtt), EchoError> {
        let started = Instant::now();
        let end = self.config.deadline.map(|d| started + d);
        let mut next_send = started;
        loop {
            if interrupts.take().stop {
                break;
            }
            let now = Instant::now();
            let out_of_time = end.is_some_and(|end| now >= end);
            let all_sent = self
                .config
                .count
                .is_some_and(|c| self.matcher.counts().transmitted >= c);
            let waiting = self.matcher.waiting();
            if out_of_time || (all_sent && !waiting) {
                break;
            }
            let pingpong = self.config.interval.is_zero();
            // Ping-pong: the next probe only once the last is answered or expired.
            let blocked = pingpong && waiting;
            let may_send = !all_sent && !blocked;
            if may_send && now >= next_send {
                self.send(observe)?;
                next_send = if pingpong {
                    now
                } else {
                    (next_send + self.config.interval).max(now)
                };
                continue;
            }
            let mut wake = self.matcher.next_deadline();
            if may_send {
                wake = Some(wake.map_or(next_send, |w| w.min(next_send)));
            }
            if let Some(end) = end {
                wake = Some(wake.map_or(end, |w| w.min(end)));
            }
            if pingpong && waiting && self.socket.is_some() {
                // Back to back: sit in recv() until the echo comes.
                self.receive(true, observe)?;
            } else {
                self.wait(interrupts, wake)?;
                self.receive(false, observe)?;
            }
            self.expire(Instant::now(), observe)?;
        }
        let elapsed = started.elapsed();
        let (counts, records, latency) = self.matcher.finish();
        let throughput = (self.config.interval.is_zero() && !elapsed.is_zero()).then(|| {
            let seconds = elapsed.as_secs_f64();
            Throughput {
                messages_per_sec: counts.received as f64 / seconds,
                bytes_per_sec: (counts.received * self.config.size as u64) as f64 / seconds,
            }
        });
        let report = Report {
            target: self.config.target,
            proto: self.config.proto,
            size: self.config.size,
            counts,
            elapsed_ms: (elapsed.as_secs_f64() * 1e6).round() / 1000.0,
            rtt_ms: latency.summary(),
            throughput,
            records,
        };
        Ok((report, latency))
    }

    /// Sends the next probe (reconnecting a TCP connection that broke).
    fn send(&mut self, observe: &mut Observer<'_>) -> Result<(), EchoError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.socket.is_none() {
            match open_socket(&self.config) {
                Ok((socket, _)) => self.socket = Some(socket),
                Err(err) => {
                    let error = match err {
                        EchoError::Connect { reason, .. } => reason,
                        other => Failure::Reconnect(other.to_string()),
                    };
                    let failed = self.matcher.unsent(seq, error);
                    return tell(observe, &failed);
                }
            }
        }
        let mut message = self.generator.message(seq);
        if let Framing::Length { .. } = self.config.framing {
            if self.config.proto == Proto::Tcp {
                let mut framed = (message.len() as u32).to_be_bytes().to_vec();
                framed.append(&mut message);
                message = framed;
            }
        }
        let sent_at = Instant::now();
        let result = self.send_all(&message);
        self.matcher.sent(seq, message, sent_at);
        if let Err(failure) = result {
            self.broken(failure, observe)?;
        }
        Ok(())
    }

    /// Writes a whole message, waiting for room up to the timeout (SO_SNDTIMEO).
    fn send_all(&mut self, message: &[u8]) -> Result<(), Failure> {
        let Some(socket) = self.socket.as_ref() else {
            return Err(Failure::Closed);
        };
        let mut written = 0;
        while written < message.len() {
            match socket.send_with_flags(&message[written..], libc::MSG_NOSIGNAL) {
                Ok(n) => written += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    return Err(Failure::StoppedReading);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(Failure::of(&err, self.config.timeout)),
            }
        }
        Ok(())
    }

    /// Sleeps until the socket is readable, Ctrl-C, or `until`.
    fn wait(&self, interrupts: &Interrupts, until: Option<Instant>) -> Result<(), EchoError> {
        let timeout = until.map(|u| u.saturating_duration_since(Instant::now()));
        let [stop, status] = interrupts.fds();
        let mut fds = vec![
            PollFd::new(stop, PollFlags::POLLIN),
            PollFd::new(status, PollFlags::POLLIN),
        ];
        if let Some(socket) = self.socket.as_ref() {
            fds.push(PollFd::new(socket.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout.map_or(PollTimeout::NONE, poll_timeout)) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
            Err(errno) => Err(EchoError::Socket {
                what: "waiting for echoes".into(),
                source: io::Error::from_raw_os_error(errno as i32),
            }),
        }
    }

    /// Reads everything that has arrived and matches it to probes; with
    /// `block`, the first read waits (up to SO_RCVTIMEO) for something to come.
    fn receive(&mut self, mut block: bool, observe: &mut Observer<'_>) -> Result<(), EchoError> {
        let blocking = block;
        // A service that never stops sending must not keep the probe from
        // its timeouts, its deadline and Ctrl-C: after this many reads the
        // run loop looks at the time (and comes straight back if more waits).
        for _ in 0..READS_PER_WAKE {
            let Some(socket) = self.socket.as_ref() else {
                return Ok(());
            };
            let flags = if block {
                MsgFlags::empty()
            } else {
                MsgFlags::MSG_DONTWAIT
            };
            block = false;
            let result = recv(socket.as_raw_fd(), &mut self.buf, flags).map_err(io::Error::from);
            let arrived = Instant::now();
            match result {
                Ok(0) if self.config.proto == Proto::Tcp => {
                    return self.broken(Failure::Closed, observe);
                }
                Ok(n) => {
                    match self.config.proto {
                        Proto::Tcp => {
                            let mut seen = Vec::new();
                            let matched = self.matcher.stream(&self.buf[..n], arrived, &mut seen);
                            for observation in &seen {
                                tell(observe, observation)?;
                            }
                            if let Err(failure) = matched {
                                return self.broken(failure, observe);
                            }
                        }
                        Proto::Udp => {
                            let observation = self.matcher.datagram(&self.buf[..n], arrived);
                            tell(observe, &observation)?;
                        }
                    }
                    if blocking {
                        // Ping-pong: wait on only while the echo is still
                        // incomplete; a read that could only say EAGAIN
                        // would cost a system call per round trip.
                        if !self.matcher.waiting() {
                            return Ok(());
                        }
                        block = true;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if self.config.proto == Proto::Udp => {
                    // An ICMP error for an earlier datagram (port unreachable, …).
                    let failed = self.matcher.refused(Failure::of(&err, self.config.timeout));
                    tell(observe, &failed)?;
                }
                Err(err) => return self.broken(Failure::of(&err, self.config.timeout), observe),
            }
        }
        Ok(())
    }

    /// Marks probes whose timeout has passed; a TCP service that has
    /// stopped echoing altogether loses its connection.
    fn expire(&mut self, now: Instant, observe: &mut Observer<'_>) -> Result<(), EchoError> {
        let mut seen = Vec::new();
        let expired = self.matcher.expire(now, &mut seen);
        for observation in &seen {
            tell(observe, observation)?;
        }
        match expired {
            Ok(()) => Ok(()),
            Err(failure) => self.broken(failure, observe),
        }
    }

    /// The TCP connection is gone: its waiting probes are lost; the next
    /// probe reconnects.
    fn broken(&mut self, error: Failure, observe: &mut Observer<'_>) -> Result<(), EchoError> {
        self.socket = None;
        let failed = self.matcher.broken(error);
        tell(observe, &failed)
    }
}
