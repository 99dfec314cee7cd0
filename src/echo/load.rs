//! `netdx echo probe --connections N`: load through an echo service.
//!
//! N connections (or connected UDP sockets), each with one message in
//! flight: the next goes as soon as the echo of the last is back and
//! checked byte for byte. They are spread over one thread per core, each
//! thread driving its share with epoll, so a thousand connections need
//! two threads, not a thousand.
#![forbid(unsafe_code)]

use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use schemars::JsonSchema;
use serde::Serialize;
use socket2::{SockAddr, Socket};

use super::payload::{self, Fill, Generator};
use super::probe::{Counts, Report, Throughput};
use super::setup::{self, Failure, SocketOptions};
use super::{EchoError, Framing, Proto};
use crate::net::poll_timeout;
use crate::rtt::Rtt;
use crate::signals::Interrupts;

/// How often workers look at the clock, deadlines and the stop flag.
const TICK: Duration = Duration::from_millis(10);

/// Datagrams read from one socket per wake-up.
const READS_PER_WAKE: usize = 256;

/// What the load run was asked to do.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The echo service.
    pub target: SocketAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// Concurrent connections.
    pub connections: usize,
    /// Stop sending after this long.
    pub duration: Option<Duration>,
    /// Messages per connection.
    pub count: Option<u64>,
    /// Payload bytes per message.
    pub size: usize,
    /// TCP messages as length-prefixed frames.
    pub framing: Framing,
    /// Socket options.
    pub options: SocketOptions,
    /// Local address to connect from (port ignored).
    pub bind: Option<SocketAddr>,
    /// How long a connect may take.
    pub connect_timeout: Duration,
    /// How long an echo may take before it counts as late (TCP) or lost (UDP).
    pub timeout: Duration,
}

/// How the connections fared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Connections {
    /// Asked for.
    pub requested: u64,
    /// Connected.
    pub established: u64,
    /// Could not connect, or broke during the run.
    pub failed: u64,
    /// Fewest good echoes on one connection (a starved connection shows here).
    pub min_messages: u64,
    /// Most good echoes on one connection.
    pub max_messages: u64,
}

/// A live reading for the progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Since the start.
    pub elapsed: Duration,
    /// Good echoes so far.
    pub messages: u64,
    /// Payload bytes of good echoes so far.
    pub bytes: u64,
}

/// How many readings a [`History`] keeps: a day of them.
pub const KEPT_READINGS: usize = 86_400;

/// The last [`KEPT_READINGS`] progress readings of a run, for `--plot`.
#[derive(Debug, Clone, Default)]
pub struct History {
    readings: std::collections::VecDeque<Progress>,
    forgotten: bool,
}

/// The load between two readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// When the interval ended, seconds since the start.
    pub at_s: f64,
    /// Good echoes per second.
    pub echoes_per_s: f64,
    /// Echoed payload, Mbit/s.
    pub mbit_per_s: f64,
}

impl History {
    /// Adds a reading, forgetting the oldest beyond [`KEPT_READINGS`].
    pub fn record(&mut self, reading: &Progress) {
        if self.readings.len() == KEPT_READINGS {
            self.readings.pop_front();
            self.forgotten = true;
        }
        self.readings.push_back(*reading);
    }

    /// The rate over each interval between readings kept (the first from
    /// the start of the run, unless older readings were forgotten).
    pub fn rates(&self) -> Vec<Rate> {
        let origin = Progress {
            elapsed: Duration::ZERO,
            messages: 0,
            bytes: 0,
        };
        let first = (!self.forgotten).then_some(&origin);
        let readings: Vec<&Progress> = first.into_iter().chain(&self.readings).collect();
        readings
            .windows(2)
            .filter_map(|pair| {
                let seconds = pair[1].elapsed.checked_sub(pair[0].elapsed)?.as_secs_f64();
                (seconds > 0.0).then(|| Rate {
                    at_s: pair[1].elapsed.as_secs_f64(),
                    echoes_per_s: pair[1].messages.saturating_sub(pair[0].messages) as f64
                        / seconds,
                    mbit_per_s: pair[1].bytes.saturating_sub(pair[0].bytes) as f64 * 8.0
                        / seconds
                        / 1e6,
                })
            })
            .collect()
    }
}

/// Counters every worker adds to as it goes (for the progress line).
#[derive(Default)]
struct Live {
    messages: AtomicU64,
    stop: AtomicBool,
}

/// One worker's results.
#[derive(Default)]
struct Tally {
    transmitted: u64,
    received: u64,
    lost: u64,
    corrupted: u64,
    late: u64,
    stray: u64,
    errors: u64,
    established: u64,
    failed: u64,
    per_connection: Vec<u64>,
    latency: Rtt,
    first_error: Option<EchoError>,
}

/// Checks the service answers at all before the run starts (TCP: one
/// connect, closed again), so a refused or unreachable target is one clear
/// error, not a thousand failed connections.
pub fn preflight(config: &LoadConfig) -> Result<(), EchoError> {
    if config.proto == Proto::Udp {
        return Ok(());
    }
    let opened = setup::open(config.proto, config.target.ip(), &config.options)?;
    if let Some(local) = config.bind {
        setup::bind(
            &opened.socket,
            SocketAddr::new(local.ip(), 0),
            config.proto,
            &config.options,
        )?;
    }
    setup::connect(
        &opened.socket,
        config.target,
        config.proto,
        config.connect_timeout,
    )
}

/// Runs the load; `progress` is called about once a second.
pub fn run(
    config: &LoadConfig,
    interrupts: &Interrupts,
    progress: &mut dyn FnMut(&Progress) -> io::Result<()>,
) -> Result<(Report, Connections, Rtt), EchoError> {
    setup::raise_fd_limit();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(config.connections)
        .max(1);
    let live = Arc::new(Live::default());
    let started = Instant::now();
    let seed = payload::seed();
    let tallies: Vec<Tally> = std::thread::scope(|scope| -> Result<Vec<Tally>, EchoError> {
        let workers: Vec<_> = (0..threads)
            .map(|index| {
                let share = config.connections / threads
                    + usize::from(index < config.connections % threads);
                let live = Arc::clone(&live);
                let seed = seed.wrapping_add(index as u64 * 0x9E37_79B9);
                scope.spawn(move || Worker::new(config, share, seed, live, started).run())
            })
            .collect();
        let mut last = Instant::now();
        while !workers.iter().all(|w| w.is_finished()) {
            let [stop, status] = interrupts.fds();
            let mut fds = [
                PollFd::new(stop, PollFlags::POLLIN),
                PollFd::new(status, PollFlags::POLLIN),
            ];
            let _ = poll(&mut fds, poll_timeout(Duration::from_millis(100)));
            if interrupts.take().stop {
                live.stop.store(true, Relaxed);
            }
            if last.elapsed() >= Duration::from_secs(1) {
                last = Instant::now();
                let messages = live.messages.load(Relaxed);
                progress(&Progress {
                    elapsed: started.elapsed(),
                    messages,
                    bytes: messages * config.size as u64,
                })
                .map_err(EchoError::Output)?;
            }
        }
        Ok(workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect())
    })?;
    let elapsed = started.elapsed();
    let mut all = Tally::default();
    for tally in tallies {
        all.transmitted += tally.transmitted;
        all.received += tally.received;
        all.lost += tally.lost;
        all.corrupted += tally.corrupted;
        all.late += tally.late;
        all.stray += tally.stray;
        all.errors += tally.errors;
        all.established += tally.established;
        all.failed += tally.failed;
        all.per_connection.extend(tally.per_connection);
        all.latency.merge(&tally.latency);
        all.first_error = all.first_error.or(tally.first_error);
    }
    if all.established == 0 {
        return Err(all.first_error.unwrap_or(EchoError::Connect {
            address: config.target,
            proto: config.proto,
            reason: Failure::Os("no connection could be made".into()),
        }));
    }
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let report = Report {
        target: config.target,
        proto: config.proto,
        size: config.size,
        counts: Counts {
            transmitted: all.transmitted,
            received: all.received,
            lost: all.lost,
            corrupted: all.corrupted,
            duplicated: 0,
            reordered: 0,
            late: all.late,
            errors: all.errors,
            stray: all.stray,
        },
        elapsed_ms: (seconds * 1e6).round() / 1000.0,
        rtt_ms: all.latency.summary(),
        throughput: Some(Throughput {
            messages_per_sec: all.received as f64 / seconds,
            bytes_per_sec: (all.received * config.size as u64) as f64 / seconds,
        }),
        records: Vec::new(),
    };
    let connections = Connections {
        requested: config.connections as u64,
        established: all.established,
        failed: all.failed,
        min_messages: all.per_connection.iter().copied().min().unwrap_or(0),
        max_messages: all.per_connection.iter().copied().max().unwrap_or(0),
    };
    Ok((report, connections, all.latency))
}

/// Where a connection is in its ping-pong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Non-blocking connect under way.
    Connecting,
    /// Message partly written.
    Sending,
    /// Waiting for (the rest of) the echo.
    Receiving,
    /// Finished or failed.
    Done,
}

struct Conn {
    socket: Socket,
    phase: Phase,
    seq: u64,
    message: Vec<u8>,
    written: usize,
    echo: Vec<u8>,
    received: usize,
    sent_at: Instant,
    deadline: Instant,
    expired: bool,
    good: u64,
    sent: u64,
}

struct Worker<'c> {
    config: &'c LoadConfig,
    share: usize,
    generator: Generator,
    live: Arc<Live>,
    started: Instant,
    tally: Tally,
    reported: u64,
}

impl<'c> Worker<'c> {
    fn new(
        config: &'c LoadConfig,
        share: usize,
        seed: u64,
        live: Arc<Live>,
        started: Instant,
    ) -> Self {
        Worker {
            config,
            share,
            generator: Generator::new(config.size, Fill::default(), seed),
            live,
            started,
            tally: Tally::default(),
            reported: 0,
        }
    }

    fn run(mut self) -> Tally {
        let epoll = match Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC) {
            Ok(epoll) => epoll,
            Err(errno) => {
                self.tally.failed = self.share as u64;
                self.tally.first_error = Some(EchoError::Epoll(errno));
                return self.tally;
            }
        };
        let mut conns: Vec<Conn> = Vec::with_capacity(self.share);
        for index in 0..self.share {
            match self.open() {
                Ok(socket) => {
                    let flags = EpollFlags::EPOLLIN | EpollFlags::EPOLLOUT;
                    if let Err(errno) = epoll.add(&socket, EpollEvent::new(flags, index as u64)) {
                        self.fail(None, EchoError::Epoll(errno));
                        continue;
                    }
                    let now = Instant::now();
                    conns.push(Conn {
                        socket,
                        phase: Phase::Connecting,
                        seq: 0,
                        message: Vec::new(),
                        written: 0,
                        echo: Vec::new(),
                        received: 0,
                        sent_at: now,
                        deadline: now + self.config.connect_timeout,
                        expired: false,
                        good: 0,
                        sent: 0,
                    });
                }
                Err(reason) => self.fail(None, reason),
            }
        }
        let mut events = vec![EpollEvent::empty(); 256];
        let mut read_buf = vec![0u8; 65_536];
        let mut open = conns.len();
        let mut last_tick = Instant::now();
        while open > 0 {
            let n = epoll
                .wait(
                    &mut events,
                    EpollTimeout::try_from(TICK).unwrap_or(EpollTimeout::NONE),
                )
                .unwrap_or(0);
            for event in &events[..n] {
                let index = event.data() as usize;
                let Some(conn) = conns.get_mut(index) else {
                    continue;
                };
                if conn.phase == Phase::Done {
                    continue;
                }
                let was_open = conn.phase != Phase::Done;
                self.step(conn, event.events(), &epoll, index, &mut read_buf);
                if was_open && conn.phase == Phase::Done {
                    open -= 1;
                }
            }
            let now = Instant::now();
            if now.duration_since(last_tick) >= TICK {
                last_tick = now;
                for (index, conn) in conns.iter_mut().enumerate() {
                    if conn.phase != Phase::Done {
                        self.check_time(conn, now, &epoll, index);
                        if conn.phase == Phase::Done {
                            open -= 1;
                        }
                    }
                }
                self.publish();
            }
        }
        self.publish();
        self.tally.per_connection = conns.iter().map(|c| c.good).collect();
        self.tally
    }

    /// A non-blocking socket with a connect under way.
    fn open(&self) -> Result<Socket, EchoError> {
        let opened = setup::open(
            self.config.proto,
            self.config.target.ip(),
            &self.config.options,
        )?;
        let socket = opened.socket;
        if let Some(local) = self.config.bind {
            let local = SocketAddr::new(local.ip(), 0);
            setup::bind(&socket, local, self.config.proto, &self.config.options)?;
        }
        socket
            .set_nonblocking(true)
            .map_err(|source| EchoError::Socket {
                what: "setting O_NONBLOCK".into(),
                source,
            })?;
        match socket.connect(&SockAddr::from(self.config.target)) {
            Ok(()) => Ok(socket),
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => Ok(socket),
            Err(err) => Err(self.broke(Failure::of(&err, self.config.connect_timeout))),
        }
    }

    /// A connection to the target failed this way.
    fn broke(&self, reason: Failure) -> EchoError {
        EchoError::Connect {
            address: self.config.target,
            proto: self.config.proto,
            reason,
        }
    }

    fn fail(&mut self, conn: Option<&mut Conn>, reason: EchoError) {
        self.tally.failed += 1;
        self.tally.errors += 1;
        if let Some(conn) = conn {
            if matches!(conn.phase, Phase::Sending | Phase::Receiving) {
                self.tally.lost += 1;
            }
            conn.phase = Phase::Done;
            let _ = conn.socket.shutdown(std::net::Shutdown::Both);
        }
        self.tally.first_error.get_or_insert(reason);
    }

    fn stopping(&self, now: Instant) -> bool {
        self.live.stop.load(Relaxed)
            || self
                .config
                .duration
                .is_some_and(|d| now.duration_since(self.started) >= d)
    }

    /// Sends the connection's next message, or closes it if it is done.
    fn next(&mut self, conn: &mut Conn, epoll: &Epoll, index: usize) {
        let now = Instant::now();
        let counted_out = self.config.count.is_some_and(|c| conn.sent >= c);
        if counted_out || self.stopping(now) {
            conn.phase = Phase::Done;
            let _ = conn.socket.shutdown(std::net::Shutdown::Both);
            return;
        }
        conn.seq += 1;
        conn.sent += 1;
        self.tally.transmitted += 1;
        let size = self.config.size;
        let framed = self.config.proto == Proto::Tcp
            && matches!(self.config.framing, Framing::Length { .. });
        let offset = if framed { 4 } else { 0 };
        if conn.message.len() != size + offset {
            conn.message = vec![0; size + offset];
            if framed {
                conn.message[..4].copy_from_slice(&(size as u32).to_be_bytes());
            }
            conn.echo = vec![0; size + offset];
        }
        self.generator
            .fill_into(conn.seq, &mut conn.message[offset..]);
        conn.written = 0;
        conn.received = 0;
        conn.sent_at = now;
        conn.deadline = now + self.config.timeout;
        conn.expired = false;
        conn.phase = Phase::Sending;
        self.write(conn, epoll, index);
    }

    fn write(&mut self, conn: &mut Conn, epoll: &Epoll, index: usize) {
        while conn.written < conn.message.len() {
            match conn
                .socket
                .send_with_flags(&conn.message[conn.written..], libc::MSG_NOSIGNAL)
            {
                Ok(n) => conn.written += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    let flags = EpollFlags::EPOLLIN | EpollFlags::EPOLLOUT;
                    let _ = epoll.modify(&conn.socket, &mut EpollEvent::new(flags, index as u64));
                    return;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    let reason = self.broke(Failure::of(&err, self.config.timeout));
                    self.fail(Some(conn), reason);
                    return;
                }
            }
        }
        conn.phase = Phase::Receiving;
    }

    fn step(
        &mut self,
        conn: &mut Conn,
        flags: EpollFlags,
        epoll: &Epoll,
        index: usize,
        buf: &mut [u8],
    ) {
        if conn.phase == Phase::Connecting {
            if !flags.intersects(EpollFlags::EPOLLOUT | EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP)
            {
                return;
            }
            match conn.socket.take_error() {
                Ok(None) => {
                    self.tally.established += 1;
                    let _ = epoll.modify(
                        &conn.socket,
                        &mut EpollEvent::new(EpollFlags::EPOLLIN, index as u64),
                    );
                    self.next(conn, epoll, index);
                }
                Ok(Some(err)) | Err(err) => {
                    let reason = self.broke(Failure::of(&err, self.config.connect_timeout));
                    self.fail(Some(conn), reason);
                }
            }
            return;
        }
        if conn.phase == Phase::Sending && flags.contains(EpollFlags::EPOLLOUT) {
            self.write(conn, epoll, index);
            if conn.phase == Phase::Receiving {
                let _ = epoll.modify(
                    &conn.socket,
                    &mut EpollEvent::new(EpollFlags::EPOLLIN, index as u64),
                );
            }
        }
        if flags.intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP) {
            match self.config.proto {
                Proto::Tcp => self.read_stream(conn, epoll, index),
                Proto::Udp => self.read_datagrams(conn, epoll, index, buf),
            }
        }
    }

    fn read_stream(&mut self, conn: &mut Conn, epoll: &Epoll, index: usize) {
        while conn.phase == Phase::Receiving || conn.phase == Phase::Sending {
            let want = conn.message.len();
            if conn.received == want {
                break;
            }
            match (&conn.socket).read(&mut conn.echo[conn.received..want]) {
                Ok(0) => {
                    self.fail(Some(conn), self.broke(Failure::Closed));
                    return;
                }
                Ok(n) => conn.received += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    let reason = self.broke(Failure::of(&err, self.config.timeout));
                    self.fail(Some(conn), reason);
                    return;
                }
            }
        }
        if conn.received == conn.message.len() && conn.phase == Phase::Receiving {
            let now = Instant::now();
            if conn.echo != conn.message {
                self.tally.corrupted += 1;
            } else if conn.expired {
                self.tally.late += 1;
            } else {
                self.tally.received += 1;
                conn.good += 1;
                self.tally.latency.add(now.duration_since(conn.sent_at));
            }
            self.next(conn, epoll, index);
        }
    }

    fn read_datagrams(&mut self, conn: &mut Conn, epoll: &Epoll, index: usize, buf: &mut [u8]) {
        // A bounded batch: a socket that never drains (a service flooding
        // it) must leave the worker its other connections and the clock;
        // epoll is level-triggered, so what is left wakes it again.
        for _ in 0..READS_PER_WAKE {
            let n = match (&conn.socket).read(buf) {
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    // ICMP port unreachable and friends: this message is lost.
                    self.tally.errors += 1;
                    if self.tally.first_error.is_none() {
                        let reason = self.broke(Failure::of(&err, self.config.timeout));
                        self.tally.first_error = Some(reason);
                    }
                    if conn.phase == Phase::Receiving {
                        self.tally.lost += 1;
                        self.next(conn, epoll, index);
                    }
                    continue;
                }
            };
            let now = Instant::now();
            let datagram = &buf[..n];
            match self.generator.seq_of(datagram) {
                Some(seq) if seq == conn.seq && conn.phase == Phase::Receiving => {
                    if datagram != conn.message.as_slice() {
                        self.tally.corrupted += 1;
                    } else {
                        self.tally.received += 1;
                        conn.good += 1;
                        self.tally.latency.add(now.duration_since(conn.sent_at));
                    }
                    self.next(conn, epoll, index);
                }
                // An echo of an earlier message, already counted lost at its timeout.
                Some(seq) if seq < conn.seq && self.tally.lost > 0 => {
                    self.tally.lost -= 1;
                    self.tally.late += 1;
                }
                None if conn.phase == Phase::Receiving && n == conn.message.len() => {
                    self.tally.corrupted += 1;
                    self.next(conn, epoll, index);
                }
                _ => self.tally.stray += 1,
            }
            if conn.phase == Phase::Done {
                return;
            }
        }
    }

    /// Connect and echo timeouts.
    fn check_time(&mut self, conn: &mut Conn, now: Instant, epoll: &Epoll, index: usize) {
        if now < conn.deadline {
            return;
        }
        match (conn.phase, self.config.proto) {
            (Phase::Connecting, _) => {
                let reason = self.broke(Failure::NoAnswer(self.config.connect_timeout));
                self.fail(Some(conn), reason);
            }
            // UDP: the message is lost (or late, if it still comes); go on.
            (Phase::Receiving, Proto::Udp) => {
                self.tally.lost += 1;
                self.next(conn, epoll, index);
            }
            // TCP: the echo can only come in order: wait, it will count
            // as late; once the run is over, give up on it.
            (Phase::Receiving | Phase::Sending, Proto::Tcp) => {
                conn.expired = true;
                if self.stopping(now) && now >= conn.deadline + self.config.timeout {
                    self.tally.lost += 1;
                    conn.phase = Phase::Done;
                }
            }
            _ => {}
        }
    }

    fn publish(&mut self) {
        let delta = self.tally.received - self.reported;
        if delta > 0 {
            self.live.messages.fetch_add(delta, Relaxed);
            self.reported = self.tally.received;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_the_differences_between_readings_from_the_start() {
        let reading = |s, messages| Progress {
            elapsed: Duration::from_secs(s),
            messages,
            bytes: messages * 125,
        };
        let mut history = History::default();
        for (s, messages) in [(1, 100), (2, 300), (2, 300), (4, 500)] {
            history.record(&reading(s, messages));
        }
        let rates: Vec<_> = history
            .rates()
            .iter()
            .map(|r| (r.at_s, r.echoes_per_s, r.mbit_per_s))
            .collect();
        assert_eq!(
            rates,
            [(1.0, 100.0, 0.1), (2.0, 200.0, 0.2), (4.0, 100.0, 0.1)]
        );
    }

    #[test]
    fn a_load_against_nothing_listening_fails_with_the_reason() {
        let config = LoadConfig {
            target: "127.0.0.1:9".parse().unwrap(),
            proto: Proto::Tcp,
            connections: 3,
            duration: None,
            count: Some(1),
            size: 64,
            framing: Framing::Raw,
            options: SocketOptions::default(),
            bind: None,
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        };
        let interrupts = Interrupts::install().unwrap();
        let err = run(&config, &interrupts, &mut |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("refused"), "{err}");
    }
}
