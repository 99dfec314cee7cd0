//! `netdx perf run`: the client. It sends the test, opens the data
//! connections, reports each interval from its own side of every stream,
//! and puts the server's side next to its own at the end.
#![forbid(unsafe_code)]

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use super::control::{self, Message, TestParams};
use super::session::{self, Streams};
use super::stream::{DataSocket, Plan};
use super::udp::Tally;
use super::{
    Connected, ConnectingTo, End, EndStream, Interval, Measure, PerfError, Protocol, Report,
    Request, Start, TestStart, percent,
};

/// How long the client waits for the server at each step of the setup.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long past the test's end the client waits for the server's results.
const RESULTS_GRACE: Duration = Duration::from_secs(30);
/// The most intervals a report keeps (the totals count everything).
const MAX_INTERVALS: usize = 10_000;

/// What the client reports as the test goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// The test is set up and about to start.
    Start(&'a Start),
    /// An interval ended.
    Interval(&'a Interval),
}

/// Runs one test against the server in `request`; `on_event` sees the
/// start and every interval as they happen. When `interrupted()` turns
/// true (Ctrl-C) both ends stop sending and the test ends early, with its
/// totals so far.
pub fn run(
    request: &Request,
    interrupted: &dyn Fn() -> bool,
    on_event: &mut dyn FnMut(Event<'_>) -> std::io::Result<()>,
) -> Result<Report, PerfError> {
    let target = request.target;
    // Checked before any connection, with a port per stream to come.
    super::validate(&TestParams {
        udp_ports: vec![0; request.test.socket_count()],
        ..request.test.clone()
    })
    .map_err(PerfError::Invalid)?;
    let io = |what, source| PerfError::Io {
        peer: target,
        what,
        source,
    };
    let mut control = TcpStream::connect_timeout(&target, SETUP_TIMEOUT)
        .map_err(|source| PerfError::Connect { target, source })?;
    control
        .set_read_timeout(Some(SETUP_TIMEOUT))
        .map_err(|e| io("control", e))?;
    let _ = control.set_nodelay(true);
    let local_ip = control.local_addr().map_err(|e| io("control", e))?.ip();
    let mut test = request.test.clone();
    let count = test.socket_count();
    let mut udp_sockets = Vec::new();
    if test.protocol == Protocol::Udp {
        for _ in 0..count {
            let socket =
                UdpSocket::bind(SocketAddr::new(local_ip, 0)).map_err(|e| io("binding UDP", e))?;
            test.udp_ports.push(
                socket
                    .local_addr()
                    .map_err(|e| io("binding UDP", e))?
                    .port(),
            );
            udp_sockets.push(socket);
        }
    }
    control::write_frame(&mut control, &Message::Hello { test: test.clone() })
        .map_err(|e| io("sending the test", e))?;
    let (cookie, server_ports) = expect(&mut control, target, "accept", |message| match message {
        Message::Accept { cookie, udp_ports } => Ok(Ok((cookie, udp_ports))),
        Message::Refuse { reason, busy: true } => Ok(Err(PerfError::Busy { target, reason })),
        Message::Refuse { reason, .. } => Ok(Err(PerfError::Refused { target, reason })),
        other => Err(other),
    })?;
    let mut sockets = Vec::with_capacity(count);
    let mut connected = Vec::with_capacity(count);
    for index in 0..count {
        let sender = test.client_sends(index);
        let socket = match test.protocol {
            Protocol::Tcp => {
                let mut data = TcpStream::connect_timeout(&target, SETUP_TIMEOUT)
                    .map_err(|source| PerfError::Connect { target, source })?;
                control::write_frame(
                    &mut data,
                    &Message::Stream {
                        cookie: cookie.clone(),
                        index: index as u32,
                    },
                )
                .map_err(|e| io("opening a stream", e))?;
                if sender && test.rate_bps > 0 {
                    super::stream::pace_tcp(&data, test.rate_bps)
                        .map_err(|e| io("setting SO_MAX_PACING_RATE", e))?;
                }
                DataSocket::Tcp(data)
            }
            Protocol::Udp => {
                let socket = udp_sockets.remove(0);
                let port = *server_ports.get(index).ok_or(PerfError::Unexpected {
                    peer: target,
                    expected: "a UDP port per stream",
                })?;
                socket
                    .connect(SocketAddr::new(target.ip(), port))
                    .map_err(|e| io("connecting UDP", e))?;
                DataSocket::Udp(socket)
            }
        };
        let (local, remote) = match &socket {
            DataSocket::Tcp(s) => (s.local_addr(), s.peer_addr()),
            DataSocket::Udp(s) => (s.local_addr(), s.peer_addr()),
        };
        let (local, remote) = (
            local.map_err(|e| io("data socket", e))?,
            remote.map_err(|e| io("data socket", e))?,
        );
        connected.push(Connected {
            socket: index as u32 + 1,
            local_host: local.ip().to_string(),
            local_port: local.port(),
            remote_host: remote.ip().to_string(),
            remote_port: remote.port(),
            sender,
        });
        sockets.push(socket);
    }
    expect(&mut control, target, "start", |message| match message {
        Message::Start => Ok(Ok(())),
        other => Err(other),
    })?;
    let start_info = Start {
        connected,
        version: format!("netdx perf {}", env!("CARGO_PKG_VERSION")),
        connecting_to: ConnectingTo {
            host: request.host.clone(),
            port: target.port(),
        },
        test_start: TestStart {
            protocol: test.protocol,
            num_streams: test.streams,
            blksize: test.length,
            duration: test.duration().as_secs_f64(),
            reverse: u8::from(test.reverse),
            bidir: u8::from(test.bidir),
            target_bitrate: test.rate_bps,
            zerocopy: u8::from(test.zerocopy),
            interval: request.interval.as_secs_f64(),
        },
    };
    on_event(Event::Start(&start_info)).map_err(PerfError::Output)?;
    let start = Instant::now();
    let deadline = start + test.duration();
    let plans = (0..count)
        .map(|index| Plan::of(&test, index, true, start))
        .collect();
    let streams = Streams::new(plans, &sockets);
    let mut reporter = Reporter::new(&test, request.interval, start, deadline);
    let mut output_error = None;
    let mut on_wake = |now: Instant| {
        if interrupted() {
            streams
                .flags
                .stop
                .store(true, std::sync::atomic::Ordering::Release);
            reporter.stop_at(now);
        }
        reporter.report(now, &streams, on_event, &mut output_error);
        reporter.next()
    };
    session::drive(
        &control,
        target,
        sockets,
        &streams,
        test.duration() + RESULTS_GRACE,
        true,
        &mut on_wake,
    )?;
    // A receiving client's streams end with the server's senders, whose
    // clock started when the server sent `start`, a little before this
    // end's: the test's last interval ends when they did, not later.
    let now = Instant::now();
    reporter.stop_at(now);
    reporter.report(now, &streams, on_event, &mut output_error);
    if let Some(err) = output_error {
        return Err(PerfError::Output(err));
    }
    control
        .set_read_timeout(Some(RESULTS_GRACE))
        .map_err(|e| io("control", e))?;
    let remote = expect(&mut control, target, "results", |message| match message {
        Message::Results { streams } => Ok(Ok(streams)),
        other => Err(other),
    })?;
    let end = combine(&test, streams.totals(), &remote, target)?;
    Ok(Report {
        start: start_info,
        intervals: reporter.intervals,
        end,
    })
}

/// Reads the next frame and has `pick` take what it expects from it (or
/// give the message back); the peer's error, or a message out of turn, is
/// an error naming `expected`.
fn expect<T>(
    control: &mut TcpStream,
    peer: SocketAddr,
    expected: &'static str,
    pick: impl FnOnce(Message) -> Result<Result<T, PerfError>, Message>,
) -> Result<T, PerfError> {
    let message = control::read_frame(control).map_err(|err| PerfError::frame(peer, err))?;
    match pick(message) {
        Ok(taken) => taken,
        Err(Message::Error { message }) => Err(PerfError::Peer { peer, message }),
        Err(_) => Err(PerfError::Unexpected { peer, expected }),
    }
}

/// Puts each stream's two ends together and adds them up.
fn combine(
    test: &TestParams,
    local: Vec<Measure>,
    remote: &[Measure],
    peer: SocketAddr,
) -> Result<End, PerfError> {
    let mut streams = Vec::with_capacity(local.len());
    for (index, mine) in local.into_iter().enumerate() {
        let theirs = remote
            .iter()
            .find(|m| m.socket == mine.socket)
            .cloned()
            .ok_or(PerfError::Unexpected {
                peer,
                expected: "results for every stream",
            })?;
        let (sender, mut receiver) = if test.client_sends(index) {
            (mine, theirs)
        } else {
            (theirs, mine)
        };
        if let (Some(sent), Some(received)) = (sender.packets, receiver.packets) {
            // Over the whole test the sender's count is known: what did
            // not arrive is lost, the trailing datagrams too.
            let lost = sent.saturating_sub(received);
            receiver.lost_packets = Some(lost);
            receiver.lost_percent = Some(percent(lost, sent));
        }
        let udp = (test.protocol == Protocol::Udp).then(|| receiver.clone());
        streams.push(EndStream {
            sender,
            receiver,
            udp,
        });
    }
    let forward = test.streams as usize;
    let sum = |range: std::ops::Range<usize>, sender: bool| {
        Measure::sum(
            streams[range]
                .iter()
                .map(|s| if sender { &s.sender } else { &s.receiver }),
            sender,
        )
    };
    let mut end = End {
        sum_sent: sum(0..forward, true),
        sum_received: sum(0..forward, false),
        sum_sent_bidir_reverse: None,
        sum_received_bidir_reverse: None,
        sum: None,
        streams: Vec::new(),
    };
    fix_sum_loss(&mut end.sum_received, &end.sum_sent);
    if test.protocol == Protocol::Udp {
        end.sum = Some(end.sum_received.clone());
    }
    if test.bidir {
        let all = streams.len();
        let sent = sum(forward..all, true);
        let mut received = sum(forward..all, false);
        fix_sum_loss(&mut received, &sent);
        end.sum_sent_bidir_reverse = Some(sent);
        end.sum_received_bidir_reverse = Some(received);
    }
    end.streams = streams;
    Ok(end)
}

/// A UDP receivers' sum loses what its senders sent and it did not get.
fn fix_sum_loss(received: &mut Measure, sent: &Measure) {
    if let (Some(lost), Some(sent)) = (received.lost_packets, sent.packets) {
        received.lost_percent = Some(percent(lost, sent));
    }
}

/// Cuts the test into intervals from this end's counters.
struct Reporter {
    test: TestParams,
    every: Duration,
    start: Instant,
    deadline: Instant,
    /// Intervals reported so far.
    count: u32,
    /// Counters at the last interval's end, per stream.
    last: Vec<Snapshot>,
    last_at: Duration,
    intervals: Vec<Interval>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Snapshot {
    bytes: u64,
    packets: u64,
    retransmits: u64,
    udp: Tally,
}

impl Reporter {
    fn new(test: &TestParams, every: Duration, start: Instant, deadline: Instant) -> Self {
        Reporter {
            test: test.clone(),
            every,
            start,
            deadline,
            count: 0,
            last: vec![Snapshot::default(); test.socket_count()],
            last_at: Duration::ZERO,
            intervals: Vec::new(),
        }
    }

    /// When the next interval ends; `None` once the test's time is over.
    fn next(&self) -> Option<Instant> {
        let last = self.start + self.last_at;
        (last < self.deadline)
            .then(|| (self.start + self.every * (self.count + 1)).min(self.deadline))
    }

    /// The interval that ended by `now`, if one did.
    fn due(&mut self, now: Instant, streams: &Streams) -> Option<Interval> {
        let at = self.next()?;
        if now < at {
            return None;
        }
        let (from, to) = (self.last_at.as_secs_f64(), (now - self.start).as_secs_f64());
        let mut measures = Vec::with_capacity(self.last.len());
        for (index, last) in self.last.iter_mut().enumerate() {
            let counters = &streams.counters[index];
            let plan = &streams.plans[index];
            let now_snapshot = Snapshot {
                bytes: counters.bytes.load(std::sync::atomic::Ordering::Relaxed),
                packets: counters.packets.load(std::sync::atomic::Ordering::Relaxed),
                retransmits: 0,
                udp: counters.udp_tally(),
            };
            let mut measure = Measure::over(
                Some(index as u32 + 1),
                from,
                to,
                now_snapshot.bytes - last.bytes,
                plan.sending,
            );
            let mut retransmits = 0;
            match (plan.protocol, plan.sending) {
                (Protocol::Tcp, true) => {
                    if let Some(facts) = streams.facts(index) {
                        retransmits = facts.retransmits;
                        measure.retransmits =
                            Some(facts.retransmits.saturating_sub(last.retransmits));
                        measure.snd_cwnd = Some(facts.cwnd);
                        measure.rtt = Some(facts.rtt);
                    }
                }
                (Protocol::Tcp, false) => {}
                (Protocol::Udp, true) => {
                    measure.packets = Some(now_snapshot.packets - last.packets);
                }
                (Protocol::Udp, false) => {
                    let (now_udp, last_udp) = (now_snapshot.udp, last.udp);
                    let packets = now_udp.packets - last_udp.packets;
                    let lost = (now_udp.lost - last_udp.lost).max(0) as u64;
                    measure.packets = Some(packets);
                    measure.lost_packets = Some(lost);
                    measure.lost_percent = Some(percent(lost, packets + lost));
                    measure.out_of_order = Some(now_udp.out_of_order - last_udp.out_of_order);
                    measure.jitter_ms = Some(now_udp.jitter * 1000.0);
                }
            }
            *last = Snapshot {
                retransmits,
                ..now_snapshot
            };
            measures.push(measure);
        }
        self.count += 1;
        self.last_at = now - self.start;
        let forward = self.test.streams as usize;
        let sender_of = |m: &[Measure]| m.first().is_some_and(|m| m.sender);
        let sum = Measure::sum(&measures[..forward], sender_of(&measures[..forward]));
        let sum_bidir_reverse = self.test.bidir.then(|| {
            let rest = &measures[forward..];
            Measure::sum(rest, sender_of(rest))
        });
        Some(Interval {
            streams: measures,
            sum,
            sum_bidir_reverse,
        })
    }

    /// Hands the interval that ended by `now`, if one did, to `on_event`
    /// (the first output error is kept, and later intervals still counted).
    fn report(
        &mut self,
        now: Instant,
        streams: &Streams,
        on_event: &mut dyn FnMut(Event<'_>) -> std::io::Result<()>,
        output_error: &mut Option<std::io::Error>,
    ) {
        if let Some(interval) = self.due(now, streams) {
            if output_error.is_none()
                && let Err(err) = on_event(Event::Interval(&interval))
            {
                *output_error = Some(err);
            }
            self.keep(interval);
        }
    }

    /// Ends the test's time at `now` (Ctrl-C, or a receiver's streams
    /// over before this end's clock): one last, short interval.
    fn stop_at(&mut self, now: Instant) {
        if now < self.deadline {
            self.deadline = now;
        }
    }

    fn keep(&mut self, interval: Interval) {
        if self.intervals.len() == MAX_INTERVALS {
            self.intervals.remove(0);
        }
        self.intervals.push(interval);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::clock::{Clock, SimClock};
    use crate::perf::udp::Header;

    fn udp_test(reverse: bool, secs: u64) -> TestParams {
        TestParams {
            protocol: Protocol::Udp,
            streams: 1,
            duration_ms: secs * 1000,
            reverse,
            bidir: false,
            length: 100,
            rate_bps: 0,
            udp_ports: vec![],
            zerocopy: false,
        }
    }

    #[test]
    fn streams_over_before_this_ends_deadline_still_get_their_last_interval_once() {
        let clock = SimClock::new();
        let test = udp_test(true, 1);
        let start = clock.now();
        let streams = Streams::new(vec![Plan::of(&test, 0, true, start)], &[]);
        let mut reporter = Reporter::new(
            &test,
            Duration::from_secs(1),
            start,
            start + test.duration(),
        );
        let mut lines = 0;
        let mut on_event = |_: Event<'_>| {
            lines += 1;
            Ok(())
        };
        let mut error = None;
        // The server's senders, started 2 ms earlier, are done at 0.998 s here.
        clock.advance(Duration::from_millis(998));
        record(&streams, 0, 500);
        reporter.report(clock.now(), &streams, &mut on_event, &mut error);
        assert!(reporter.intervals.is_empty(), "not due by the clock");
        reporter.stop_at(clock.now());
        reporter.report(clock.now(), &streams, &mut on_event, &mut error);
        assert_eq!(reporter.intervals.len(), 1);
        assert_eq!(reporter.intervals[0].streams[0].end, 0.998);
        assert_eq!(reporter.intervals[0].streams[0].packets, Some(1));
        // A later look adds nothing.
        clock.advance(Duration::from_millis(10));
        reporter.stop_at(clock.now());
        reporter.report(clock.now(), &streams, &mut on_event, &mut error);
        assert_eq!(reporter.intervals.len(), 1);
        assert_eq!(lines, 1);
        assert!(error.is_none());
    }

    #[test]
    fn intervals_are_cut_at_each_tick_with_a_short_last_one_on_a_stop() {
        let clock = SimClock::new();
        let test = udp_test(true, 10);
        let start = clock.now();
        let plans = vec![Plan::of(&test, 0, true, start)];
        let streams = Streams::new(plans, &[]);
        let every = Duration::from_secs(1);
        let mut reporter = Reporter::new(&test, every, start, start + test.duration());
        // Datagram n arrives at n × 10 ms; 10 and 11 are lost, 12 arrives late.
        let mut arrived = 0;
        let mut feed = |until_ms: u64| {
            while arrived * 10 < until_ms {
                if arrived != 10 && arrived != 11 && arrived != 12 {
                    record(&streams, arrived, arrived * 10);
                }
                if arrived == 15 {
                    record(&streams, 12, 150);
                }
                arrived += 1;
            }
        };
        assert_eq!(reporter.next(), Some(start + every));
        clock.advance(Duration::from_millis(999));
        feed(999);
        assert!(reporter.due(clock.now(), &streams).is_none(), "not yet");
        clock.advance(Duration::from_millis(1));
        let first = reporter.due(clock.now(), &streams).unwrap();
        let stream = &first.streams[0];
        assert_eq!((stream.start, stream.end), (0.0, 1.0));
        assert_eq!(stream.packets, Some(98));
        assert_eq!(stream.lost_packets, Some(2), "10 and 11");
        assert_eq!(stream.out_of_order, Some(1), "12");
        assert_eq!(stream.bytes, 9800);
        assert!(!stream.sender);
        assert_eq!(first.sum.bytes, 9800);
        // Ctrl-C at 1.25 s: one more interval, 0.25 s long, then none.
        clock.advance(Duration::from_millis(250));
        feed(1250);
        reporter.stop_at(clock.now());
        let last = reporter.due(clock.now(), &streams).unwrap();
        let stream = &last.streams[0];
        assert_eq!((stream.start, stream.end), (1.0, 1.25));
        assert_eq!(stream.packets, Some(25));
        assert_eq!(stream.lost_packets, Some(0));
        assert_eq!(reporter.next(), None);
        assert!(reporter.due(clock.now(), &streams).is_none());
    }

    fn record(streams: &Streams, seq: u64, at_ms: u64) {
        let counters = &streams.counters[0];
        counters.bytes.fetch_add(100, Ordering::Relaxed);
        let sent = Duration::from_millis(seq * 10);
        counters.udp.lock().unwrap().record(
            Header { seq, sent },
            100,
            Duration::from_millis(at_ms),
        );
    }

    #[test]
    fn the_ends_are_put_together_with_udp_loss_from_the_senders_count() {
        let test = udp_test(false, 1);
        let mut sent = Measure::over(Some(1), 0.0, 1.0, 1000, true);
        sent.packets = Some(10);
        let mut received = Measure::over(Some(1), 0.0, 1.0, 700, false);
        (received.packets, received.lost_packets) = (Some(7), Some(1));
        let peer: SocketAddr = "10.0.0.2:5201".parse().unwrap();
        let end = combine(&test, vec![sent], &[received], peer).unwrap();
        let stream = &end.streams[0];
        // The trailing losses count too: 10 sent, 7 received.
        assert_eq!(stream.receiver.lost_packets, Some(3));
        assert_eq!(stream.receiver.lost_percent, Some(30.0));
        assert_eq!(end.sum_received.lost_packets, Some(3));
        assert_eq!(end.sum_received.lost_percent, Some(30.0));
        assert_eq!(end.sum.as_ref(), Some(&end.sum_received));
        assert_eq!(stream.udp.as_ref(), Some(&stream.receiver));
        // A server that leaves a stream out is a protocol error.
        assert!(combine(&test, vec![Measure::default()], &[], peer).is_err());
    }
}
