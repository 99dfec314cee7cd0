//! `netdx echo probe`: ping through an echo service.
//!
//! One connection (TCP) or connected socket (UDP); every probe carries its
//! sequence number and must come back byte-identical. TCP echoes are
//! matched in order (a stream keeps it) and read whole however the bytes
//! are split; UDP echoes are matched by the sequence number they carry, so
//! loss, duplicates, reordering and late arrivals are told apart. A single
//! thread, blocking on poll() with Ctrl-C as one of the descriptors: no
//! async runtime.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{MsgFlags, recv};
use serde::Serialize;
use socket2::Socket;

use super::latency::Latency;
use super::payload::{self, Difference, Fill, Generator};
use super::setup::{self, Failure, SocketOptions};
use super::{EchoError, Framing, Proto};
use crate::ping::RttSummary;
use crate::signals::Interrupts;
use crate::sockopt::{self, Reading};

/// Expired probes kept waiting for a late echo; older ones count as lost.
const LATE_HORIZON: usize = 1024;

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

/// How one echo compared with what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Byte-identical, within the timeout.
    Good,
    /// Different from what was sent.
    Corrupted(Difference),
    /// Byte-identical, after the timeout.
    Late,
}

/// Something the probe saw, as it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// An echo of probe `seq`.
    Echo {
        /// The probe.
        seq: u64,
        /// Bytes echoed.
        bytes: usize,
        /// Round trip.
        rtt: Duration,
        /// Good, corrupted or late.
        verdict: Verdict,
        /// It came after the echo of a later probe.
        reordered: bool,
    },
    /// A second echo of probe `seq`.
    Duplicate {
        /// The probe.
        seq: u64,
        /// Bytes echoed.
        bytes: usize,
        /// Time since it was sent.
        rtt: Duration,
    },
    /// A datagram that matches no probe of this run.
    Stray {
        /// Its size.
        bytes: usize,
    },
    /// Probe `seq` has had no echo within the timeout (it may still come, late).
    NoEcho {
        /// The probe.
        seq: u64,
    },
    /// The connection failed (refused, reset, closed by the service).
    Failed {
        /// The probe it cost, if one.
        seq: Option<u64>,
        /// What happened.
        error: Failure,
    },
}

/// What became of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its echo came: good, corrupted or late.
    Echoed(Verdict),
    /// A further copy of an echo already counted.
    Duplicate,
    /// No echo came.
    Lost,
    /// The connection failed with it outstanding.
    Error(Failure),
}

/// One probe's fate, for `--json --verbose` (JSON: `outcome` is `ok`,
/// `corrupted`, `late`, `duplicate`, `lost` or `error`; a corrupted echo adds
/// `difference`, an error its words in `error`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "RecordJson")]
pub struct Record {
    /// The probe.
    pub seq: u64,
    /// What became of it.
    pub outcome: Outcome,
    /// Bytes echoed (0 when none came).
    pub bytes: usize,
    /// Round trip in milliseconds, when an echo came.
    pub rtt_ms: Option<f64>,
    /// It came after the echo of a later probe.
    pub reordered: bool,
}

/// A record as `--json` has always spelt it.
#[derive(Serialize)]
struct RecordJson {
    seq: u64,
    outcome: &'static str,
    bytes: usize,
    rtt_ms: Option<f64>,
    reordered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    difference: Option<Difference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<Record> for RecordJson {
    fn from(record: Record) -> Self {
        let (outcome, difference, error) = match record.outcome {
            Outcome::Echoed(Verdict::Good) => ("ok", None, None),
            Outcome::Echoed(Verdict::Corrupted(difference)) => {
                ("corrupted", Some(difference), None)
            }
            Outcome::Echoed(Verdict::Late) => ("late", None, None),
            Outcome::Duplicate => ("duplicate", None, None),
            Outcome::Lost => ("lost", None, None),
            Outcome::Error(failure) => ("error", None, Some(failure.to_string())),
        };
        RecordJson {
            seq: record.seq,
            outcome,
            bytes: record.bytes,
            rtt_ms: record.rtt_ms,
            reordered: record.reordered,
            difference,
            error,
        }
    }
}

/// Messages per second and payload bytes per second (one way) that came back good.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Throughput {
    /// Good echoes per second.
    pub messages_per_sec: f64,
    /// Payload bytes of good echoes per second.
    pub bytes_per_sec: f64,
}

/// The run's summary (`--json`: docs/json.md).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The service.
    pub target: SocketAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// Payload bytes per probe.
    pub size: usize,
    /// Probes sent.
    pub transmitted: u64,
    /// Good echoes: byte-identical and in time.
    pub received: u64,
    /// Probes with no echo at all.
    pub lost: u64,
    /// Echoes that differed from the probe.
    pub corrupted: u64,
    /// Extra echoes of a probe already answered.
    pub duplicated: u64,
    /// In-time echoes that came after a later probe's (late ones count as late).
    pub reordered: u64,
    /// Byte-identical echoes that came after the timeout.
    pub late: u64,
    /// Connection failures (refused, reset, closed); their probes count as lost.
    pub errors: u64,
    /// Datagrams that matched no probe.
    pub stray: u64,
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

/// A probe waiting for its echo.
struct Pending {
    seq: u64,
    sent_at: Instant,
    deadline: Instant,
    message: Vec<u8>,
    expired: bool,
}

/// A connected probe, ready to run.
pub struct Session {
    config: ProbeConfig,
    socket: Option<Socket>,
    local: Option<SocketAddr>,
    readings: Vec<Reading>,
    generator: Generator,
    pending: VecDeque<Pending>,
    /// Recently answered probes and when they were sent (for duplicates).
    answered: HashMap<u64, Instant>,
    answered_order: VecDeque<u64>,
    highest_answered: Option<u64>,
    stream: Vec<u8>,
    buf: Vec<u8>,
    next_seq: u64,
    report: Report,
    latency: Latency,
}

/// Opens and connects the probe's socket (errors here are fatal: exit 2).
pub fn connect(config: ProbeConfig) -> Result<Session, EchoError> {
    let (socket, readings) = open_socket(&config)?;
    let local = socket.local_addr().ok().and_then(|a| a.as_socket());
    let report = Report {
        target: config.target,
        proto: config.proto,
        size: config.size,
        transmitted: 0,
        received: 0,
        lost: 0,
        corrupted: 0,
        duplicated: 0,
        reordered: 0,
        late: 0,
        errors: 0,
        stray: 0,
        elapsed_ms: 0.0,
        rtt_ms: None,
        throughput: None,
        records: Vec::new(),
    };
    let generator = Generator::new(config.size, config.fill.clone(), payload::seed());
    Ok(Session {
        socket: Some(socket),
        local,
        readings,
        generator,
        pending: VecDeque::new(),
        answered: HashMap::new(),
        answered_order: VecDeque::new(),
        highest_answered: None,
        stream: Vec::new(),
        buf: vec![0; 65_536.max(config.size + 4)],
        next_seq: 1,
        report,
        latency: Latency::default(),
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
    ) -> Result<(Report, Latency), EchoError> {
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
                .is_some_and(|c| self.report.transmitted >= c);
            let waiting = self.pending.iter().any(|p| !p.expired);
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
            let mut wake = self
                .pending
                .iter()
                .filter(|p| !p.expired)
                .map(|p| p.deadline)
                .min();
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
        // Whatever is still unanswered is lost.
        while let Some(probe) = self.pending.pop_front() {
            self.lost(probe.seq, None);
        }
        let elapsed = started.elapsed();
        self.report.elapsed_ms = (elapsed.as_secs_f64() * 1e6).round() / 1000.0;
        self.report.rtt_ms = self.latency.summary();
        if self.config.interval.is_zero() && !elapsed.is_zero() {
            let seconds = elapsed.as_secs_f64();
            self.report.throughput = Some(Throughput {
                messages_per_sec: self.report.received as f64 / seconds,
                bytes_per_sec: (self.report.received * self.config.size as u64) as f64 / seconds,
            });
        }
        Ok((self.report, self.latency))
    }

    /// Sends the next probe (reconnecting a TCP connection that broke).
    fn send(&mut self, observe: &mut Observer<'_>) -> Result<(), EchoError> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.report.transmitted += 1;
        if self.socket.is_none() {
            match open_socket(&self.config) {
                Ok((socket, _)) => self.socket = Some(socket),
                Err(err) => {
                    let error = match err {
                        EchoError::Connect { reason, .. } => reason,
                        other => Failure::Reconnect(other.to_string()),
                    };
                    self.report.errors += 1;
                    self.lost(seq, Some(error.clone()));
                    tell(
                        observe,
                        &Observation::Failed {
                            seq: Some(seq),
                            error,
                        },
                    )?;
                    return Ok(());
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
        self.pending.push_back(Pending {
            seq,
            sent_at,
            deadline: sent_at + self.config.timeout,
            message,
            expired: false,
        });
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
        loop {
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
                            self.stream.extend_from_slice(&self.buf[..n]);
                            self.match_stream(arrived, observe)?;
                            // What is left must be the start of an echo still
                            // due; anything more was never asked for, and
                            // keeping it would let a chatty peer fill memory
                            // (and shift every later echo out of place).
                            let due: usize = self.pending.iter().map(|p| p.message.len()).sum();
                            if self.stream.len() > due {
                                let unasked = Failure::Unasked(self.stream.len() - due);
                                return self.broken(unasked, observe);
                            }
                        }
                        Proto::Udp => {
                            let buf = std::mem::take(&mut self.buf);
                            let matched = self.match_datagram(&buf[..n], arrived, observe);
                            self.buf = buf;
                            matched?;
                        }
                    }
                    if blocking {
                        // Ping-pong: wait on only while the echo is still
                        // incomplete; a read that could only say EAGAIN
                        // would cost a system call per round trip.
                        if !self.pending.iter().any(|p| !p.expired) {
                            return Ok(());
                        }
                        block = true;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if self.config.proto == Proto::Udp => {
                    // An ICMP error for an earlier datagram (port unreachable, …):
                    // it costs the oldest probe still waiting.
                    self.report.errors += 1;
                    let error = Failure::of(&err, self.config.timeout);
                    let seq = self.pending.pop_front().map(|p| p.seq);
                    if let Some(seq) = seq {
                        self.lost(seq, Some(error.clone()));
                    }
                    tell(observe, &Observation::Failed { seq, error })?;
                }
                Err(err) => return self.broken(Failure::of(&err, self.config.timeout), observe),
            }
        }
    }

    /// TCP: the stream holds echoes in the order probes were sent.
    fn match_stream(
        &mut self,
        arrived: Instant,
        observe: &mut Observer<'_>,
    ) -> Result<(), EchoError> {
        let mut used = 0;
        while let Some(probe) = self.pending.front() {
            let need = probe.message.len();
            if self.stream.len() - used < need {
                break;
            }
            let Some(probe) = self.pending.pop_front() else {
                break;
            };
            let echo = &self.stream[used..used + need];
            used += need;
            let verdict = verdict(&probe, echo, arrived);
            let observation = self.settle(probe, need, arrived, verdict, false);
            tell(observe, &observation)?;
        }
        self.stream.drain(..used);
        Ok(())
    }

    /// UDP: each datagram names its probe.
    fn match_datagram(
        &mut self,
        datagram: &[u8],
        arrived: Instant,
        observe: &mut Observer<'_>,
    ) -> Result<(), EchoError> {
        let seq = self.generator.seq_of(datagram).or_else(|| {
            // Shorter than a header: the oldest waiting probe it is a prefix of.
            (datagram.len() < payload::HEADER)
                .then(|| {
                    self.pending
                        .iter()
                        .find(|p| p.message.as_slice() == datagram)
                        .map(|p| p.seq)
                })
                .flatten()
        });
        let position = seq.and_then(|seq| self.pending.iter().position(|p| p.seq == seq));
        let observation = match (seq, position) {
            (_, Some(index)) => {
                let probe = self
                    .pending
                    .remove(index)
                    .unwrap_or_else(|| unreachable!("index from position"));
                let verdict = verdict(&probe, datagram, arrived);
                // Late echoes are out of order by nature; they count as late.
                let reordered = verdict != Verdict::Late
                    && self.highest_answered.is_some_and(|h| h > probe.seq);
                self.settle(probe, datagram.len(), arrived, verdict, reordered)
            }
            (Some(seq), None) if self.answered.contains_key(&seq) => {
                self.report.duplicated += 1;
                let rtt = self
                    .answered
                    .get(&seq)
                    .map_or(Duration::ZERO, |t| arrived.saturating_duration_since(*t));
                self.record(Record {
                    seq,
                    outcome: Outcome::Duplicate,
                    bytes: datagram.len(),
                    rtt_ms: Some(ms(rtt)),
                    reordered: false,
                });
                Observation::Duplicate {
                    seq,
                    bytes: datagram.len(),
                    rtt,
                }
            }
            _ => {
                // A damaged header: it is the echo of the oldest waiting
                // probe of its size, and it is corrupted.
                match self
                    .pending
                    .iter()
                    .position(|p| p.message.len() == datagram.len())
                {
                    Some(index) if seq.is_none() => {
                        let probe = self
                            .pending
                            .remove(index)
                            .unwrap_or_else(|| unreachable!("index from position"));
                        let verdict = verdict(&probe, datagram, arrived);
                        self.settle(probe, datagram.len(), arrived, verdict, false)
                    }
                    _ => {
                        self.report.stray += 1;
                        Observation::Stray {
                            bytes: datagram.len(),
                        }
                    }
                }
            }
        };
        tell(observe, &observation)?;
        Ok(())
    }

    /// Counts an answered probe and says what happened to it.
    fn settle(
        &mut self,
        probe: Pending,
        bytes: usize,
        arrived: Instant,
        verdict: Verdict,
        reordered: bool,
    ) -> Observation {
        let rtt = arrived.saturating_duration_since(probe.sent_at);
        match verdict {
            Verdict::Good => {
                self.report.received += 1;
                self.latency.add(rtt);
            }
            Verdict::Corrupted(_) => self.report.corrupted += 1,
            Verdict::Late => self.report.late += 1,
        }
        if reordered {
            self.report.reordered += 1;
        }
        self.highest_answered = Some(
            self.highest_answered
                .map_or(probe.seq, |h| h.max(probe.seq)),
        );
        self.answered.insert(probe.seq, probe.sent_at);
        self.answered_order.push_back(probe.seq);
        if self.answered_order.len() > 65_536 {
            if let Some(old) = self.answered_order.pop_front() {
                self.answered.remove(&old);
            }
        }
        self.record(Record {
            seq: probe.seq,
            outcome: Outcome::Echoed(verdict),
            bytes,
            rtt_ms: Some(ms(rtt)),
            reordered,
        });
        Observation::Echo {
            seq: probe.seq,
            bytes,
            rtt,
            verdict,
            reordered,
        }
    }

    /// Marks probes past their timeout; drops the oldest beyond the horizon.
    fn expire(&mut self, now: Instant, observe: &mut Observer<'_>) -> Result<(), EchoError> {
        let mut newly = Vec::new();
        for probe in self
            .pending
            .iter_mut()
            .filter(|p| !p.expired && p.deadline <= now)
        {
            probe.expired = true;
            newly.push(probe.seq);
        }
        for seq in newly {
            tell(observe, &Observation::NoEcho { seq })?;
        }
        let expired = self.pending.iter().filter(|p| p.expired).count();
        if expired > LATE_HORIZON {
            if self.config.proto == Proto::Tcp {
                return self.broken(Failure::StoppedEchoing, observe);
            }
            while self.pending.iter().filter(|p| p.expired).count() > LATE_HORIZON {
                if let Some(index) = self.pending.iter().position(|p| p.expired) {
                    if let Some(probe) = self.pending.remove(index) {
                        self.lost(probe.seq, None);
                    }
                }
            }
        }
        Ok(())
    }

    /// The TCP connection is gone: its waiting probes are lost; the next
    /// probe reconnects.
    fn broken(&mut self, error: Failure, observe: &mut Observer<'_>) -> Result<(), EchoError> {
        self.socket = None;
        self.stream.clear();
        self.report.errors += 1;
        let first = self.pending.front().map(|p| p.seq);
        while let Some(probe) = self.pending.pop_front() {
            self.lost(probe.seq, Some(error.clone()));
        }
        tell(observe, &Observation::Failed { seq: first, error })?;
        Ok(())
    }

    fn lost(&mut self, seq: u64, error: Option<Failure>) {
        self.report.lost += 1;
        self.record(Record {
            seq,
            outcome: error.map_or(Outcome::Lost, Outcome::Error),
            bytes: 0,
            rtt_ms: None,
            reordered: false,
        });
    }

    fn record(&mut self, record: Record) {
        if self.config.keep_records {
            self.report.records.push(record);
        }
    }
}

/// Good, corrupted or late.
fn verdict(probe: &Pending, echo: &[u8], arrived: Instant) -> Verdict {
    if let Some(difference) = payload::difference(&probe.message, echo) {
        Verdict::Corrupted(difference)
    } else if arrived > probe.deadline {
        Verdict::Late
    } else {
        Verdict::Good
    }
}

fn ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

/// poll()'s millisecond timeout, rounded up so a wait never ends early.
pub fn poll_timeout(d: Duration) -> PollTimeout {
    let ms = d.as_nanos().div_ceil(1_000_000);
    PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(outcome: Outcome) -> serde_json::Value {
        serde_json::to_value(Record {
            seq: 7,
            outcome,
            bytes: 64,
            rtt_ms: Some(0.5),
            reordered: false,
        })
        .unwrap()
    }

    #[test]
    fn records_keep_their_json_spelling() {
        assert_eq!(json(Outcome::Echoed(Verdict::Good))["outcome"], "ok");
        assert_eq!(json(Outcome::Echoed(Verdict::Late))["outcome"], "late");
        assert_eq!(json(Outcome::Duplicate)["outcome"], "duplicate");
        assert_eq!(json(Outcome::Lost)["outcome"], "lost");
        let corrupted = json(Outcome::Echoed(Verdict::Corrupted(Difference {
            offset: 3,
            sent: Some(1),
            got: None,
        })));
        assert_eq!(corrupted["outcome"], "corrupted");
        assert_eq!(corrupted["difference"]["offset"], 3);
        let error = json(Outcome::Error(Failure::Refused));
        assert_eq!(error["outcome"], "error");
        assert!(
            error["error"]
                .as_str()
                .unwrap()
                .starts_with("connection refused")
        );
        let good = json(Outcome::Echoed(Verdict::Good));
        assert!(good.get("difference").is_none() && good.get("error").is_none());
        assert_eq!(good["seq"], 7);
        assert_eq!(good["rtt_ms"], 0.5);
    }
}
