//! A test once its sockets are up, the same on both ends: a thread per
//! stream, a thread reading the peer's `done` off the control connection,
//! and this end's `done` sent when its own senders have finished. The
//! caller's `on_wake` is called at the times it asks for (the client's
//! interval reports).
#![forbid(unsafe_code)]

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::control::{self, FrameError, Message};
use super::stream::{self, Counters, DataSocket, Flags, Plan};
use super::{Measure, PerfError};

/// How often the loop looks at the streams when nobody asked sooner.
const TICK: Duration = Duration::from_millis(100);

/// The streams of one test on this end.
pub struct Streams {
    /// What each stream does.
    pub plans: Vec<Plan>,
    /// What each has counted.
    pub counters: Vec<Counters>,
    /// Second handles on the sockets, for TCP_INFO.
    pub probes: Vec<Option<DataSocket>>,
    /// The largest congestion window seen on each, in bytes.
    pub max_cwnd: Vec<AtomicU64>,
    /// The flags every stream watches.
    pub flags: Flags,
}

impl Streams {
    /// Streams for `plans`, nothing counted yet.
    pub fn new(plans: Vec<Plan>, sockets: &[DataSocket]) -> Self {
        let probes = sockets.iter().map(|s| s.try_clone().ok()).collect();
        Streams {
            counters: plans.iter().map(|_| Counters::default()).collect(),
            max_cwnd: plans.iter().map(|_| AtomicU64::new(0)).collect(),
            plans,
            probes,
            flags: Flags::default(),
        }
    }

    fn ended(&self, index: usize) -> bool {
        self.counters[index].ended_ns.load(Ordering::Acquire) > 0
    }

    fn sample_cwnd(&self) {
        for (index, probe) in self.probes.iter().enumerate() {
            if !self.plans[index].sending || self.ended(index) {
                continue;
            }
            if let Some(facts) = probe.as_ref().and_then(DataSocket::tcp_facts) {
                self.max_cwnd[index].fetch_max(facts.cwnd, Ordering::Relaxed);
            }
        }
    }

    /// The kernel's TCP facts on stream `index` now (a TCP stream).
    pub fn facts(&self, index: usize) -> Option<stream::TcpFacts> {
        self.probes
            .get(index)
            .and_then(Option::as_ref)
            .and_then(DataSocket::tcp_facts)
    }

    /// Every stream's totals on this end (ids from 1).
    pub fn totals(&self) -> Vec<Measure> {
        (0..self.plans.len())
            .map(|index| {
                stream::totals(
                    index as u32 + 1,
                    &self.plans[index],
                    &self.counters[index],
                    self.facts(index),
                    self.max_cwnd[index].load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}

/// Runs the streams to their end; `on_wake(now)` is called on every turn
/// and returns when it next wants to be called. `local_stop`: this end
/// (the client) may raise `flags.stop` and then tells the peer with
/// `stop`; otherwise a `stop` from the peer raises it. Fails when the peer
/// goes away or reports an error before its `done`.
pub fn drive(
    control: &TcpStream,
    peer: SocketAddr,
    sockets: Vec<DataSocket>,
    streams: &Streams,
    peer_wait: Duration,
    local_stop: bool,
    on_wake: &mut dyn FnMut(Instant) -> Option<Instant>,
) -> Result<(), PerfError> {
    let io = |what, source| PerfError::Io { peer, what, source };
    let mut reader = control.try_clone().map_err(|e| io("control", e))?;
    let mut writer = control.try_clone().map_err(|e| io("control", e))?;
    reader
        .set_read_timeout(Some(peer_wait))
        .map_err(|e| io("control", e))?;
    let (tx, rx) = mpsc::channel::<Result<Message, FrameError>>();
    std::thread::scope(|scope| {
        for ((socket, plan), counters) in sockets
            .into_iter()
            .zip(&streams.plans)
            .zip(&streams.counters)
        {
            let flags = &streams.flags;
            scope.spawn(move || {
                if stream::run(socket, plan, counters, flags).is_err() {
                    // A broken data connection ends the test for everyone.
                    flags.abort.store(true, Ordering::Release);
                }
            });
        }
        // The peer's frames up to its `done` (or an error) are read here;
        // what follows is read by the caller once the streams are over.
        scope.spawn(move || {
            loop {
                let frame = control::read_frame(&mut reader);
                let last = !matches!(frame, Ok(Message::Stop));
                if tx.send(frame).is_err() || last {
                    return;
                }
            }
        });
        let mut failure = None;
        let mut done_sent = false;
        let mut stop_sent = false;
        let mut peer_done = false;
        let count = streams.plans.len();
        loop {
            let now = Instant::now();
            let next = on_wake(now);
            streams.sample_cwnd();
            // One look at the streams per turn: one that ends between two
            // looks must not be "over" without `done` having been sent.
            let ended: Vec<bool> = (0..count).map(|i| streams.ended(i)).collect();
            let senders_over = (0..count).all(|i| !streams.plans[i].sending || ended[i]);
            if local_stop && !stop_sent && !done_sent && streams.flags.stop.load(Ordering::Acquire)
            {
                // The peer's senders stop too, before this end says done.
                stop_sent = true;
                if let Err(err) = control::write_frame(&mut writer, &Message::Stop) {
                    failure.get_or_insert(io("sending stop", err));
                }
            }
            // The end that may stop the test says done only once the peer
            // has (or has been told to stop), so a `stop` never follows
            // its `done`; the peer's reader stops at `done`.
            let may_say_done = !local_stop || peer_done || stop_sent;
            if senders_over && may_say_done && !done_sent {
                done_sent = true;
                if let Err(err) = control::write_frame(&mut writer, &Message::Done) {
                    failure.get_or_insert(io("sending done", err));
                    streams.flags.abort.store(true, Ordering::Release);
                }
            }
            if ended.iter().all(|&e| e) && (peer_done || failure.is_some()) {
                break;
            }
            let wait = next
                .map_or(TICK, |at| at.saturating_duration_since(now))
                .min(TICK);
            match rx.recv_timeout(wait) {
                Ok(Ok(Message::Stop)) if !local_stop => {
                    streams.flags.stop.store(true, Ordering::Release);
                }
                Ok(Ok(Message::Done)) => {
                    peer_done = true;
                    streams.flags.peer_done.store(true, Ordering::Release);
                }
                Ok(Ok(Message::Error { message })) => {
                    failure.get_or_insert(PerfError::Peer { peer, message });
                    streams.flags.abort.store(true, Ordering::Release);
                }
                Ok(Ok(_)) => {
                    failure.get_or_insert(PerfError::Unexpected {
                        peer,
                        expected: "done",
                    });
                    streams.flags.abort.store(true, Ordering::Release);
                }
                Ok(Err(err)) => {
                    let err = match err {
                        FrameError::Closed => PerfError::Peer {
                            peer,
                            message: "it closed the control connection mid-test".into(),
                        },
                        other => PerfError::frame(peer, other),
                    };
                    failure.get_or_insert(err);
                    streams.flags.abort.store(true, Ordering::Release);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // The reader has ended (it stops after the peer's `done`,
                // which a receiving-only peer sends at the start): the
                // wait is a sleep now, or this loop would spin beside the
                // streams for the whole test.
                Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(wait),
            }
        }
        on_wake(Instant::now());
        match failure {
            Some(err) => {
                // Unblocks the reader if the peer never said done.
                let _ = control.shutdown(std::net::Shutdown::Read);
                Err(err)
            }
            None => Ok(()),
        }
    })
}
