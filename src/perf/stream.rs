//! One data stream, on a thread of its own, the same on both ends: a TCP
//! or UDP sender that sends until the test's deadline (paced where asked),
//! or a receiver that counts until the end of the stream (TCP: EOF; UDP:
//! the peer's `done`, then what is already queued). Counters are atomics
//! the client's reporter samples every interval.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::pace::Pacer;
use super::udp::{self, Header};
use super::{Measure, Protocol};

/// How long a blocked read or write waits before looking at the flags.
const POLL: Duration = Duration::from_millis(50);

/// A stream's data socket.
#[derive(Debug)]
pub enum DataSocket {
    /// A TCP data connection.
    Tcp(TcpStream),
    /// A UDP socket connected to the peer's.
    Udp(UdpSocket),
}

impl DataSocket {
    /// Another handle on the same socket (for TCP_INFO while the thread runs).
    pub fn try_clone(&self) -> io::Result<DataSocket> {
        Ok(match self {
            DataSocket::Tcp(s) => DataSocket::Tcp(s.try_clone()?),
            DataSocket::Udp(s) => DataSocket::Udp(s.try_clone()?),
        })
    }

    /// The kernel's TCP facts for a TCP socket: retransmits, cwnd in bytes, RTT in µs.
    pub fn tcp_facts(&self) -> Option<TcpFacts> {
        let DataSocket::Tcp(socket) = self else {
            return None;
        };
        let bytes = crate::net::tcp_info::read(socket).ok()?;
        let info = crate::sockets::tcp_info::TcpInfoView::new(&bytes)?.parse(None);
        Some(TcpFacts {
            retransmits: u64::from(info.total_retrans?),
            cwnd: u64::from(info.cwnd?) * u64::from(info.mss?),
            rtt: (info.rtt_ms? * 1000.0).round() as u32,
            bytes_received: info.bytes_received?,
        })
    }
}

/// What TCP_INFO says about a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpFacts {
    /// Segments retransmitted over the connection's life.
    pub retransmits: u64,
    /// Congestion window in bytes (segments × MSS).
    pub cwnd: u64,
    /// Smoothed RTT in microseconds.
    pub rtt: u32,
    /// Bytes the kernel has received on the connection (tcpi_bytes_received).
    pub bytes_received: u64,
}

/// What a stream does.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// This end sends (else it receives).
    pub sending: bool,
    /// Bytes per write or datagram.
    pub length: usize,
    /// Bits per second for a UDP sender; 0: as fast as it goes.
    pub rate_bps: u64,
    /// A TCP sender sends with sendfile(2) instead of write().
    pub zerocopy: bool,
    /// When the test started on this end.
    pub start: Instant,
    /// When a sender stops.
    pub deadline: Instant,
}

impl Plan {
    /// What stream `index` of `test` does on the client's end (`client`)
    /// or the server's, for a test starting at `start`.
    pub fn of(
        test: &super::control::TestParams,
        index: usize,
        client: bool,
        start: Instant,
    ) -> Plan {
        Plan {
            protocol: test.protocol,
            sending: test.client_sends(index) == client,
            length: test.length,
            // TCP is paced by the kernel (SO_MAX_PACING_RATE), UDP here.
            rate_bps: match test.protocol {
                Protocol::Udp => test.rate_bps,
                Protocol::Tcp => 0,
            },
            zerocopy: test.zerocopy && test.protocol == Protocol::Tcp,
            start,
            deadline: start + test.duration(),
        }
    }
}

/// Counters a stream thread keeps and others read.
#[derive(Debug, Default)]
pub struct Counters {
    /// Bytes sent or received.
    pub bytes: AtomicU64,
    /// UDP datagrams sent.
    pub packets: AtomicU64,
    /// UDP receiver accounting.
    pub udp: Mutex<udp::Receiver>,
    /// When the stream ended, in nanoseconds since the start (0: running).
    pub ended_ns: AtomicU64,
    /// A receiver: when its last bytes arrived, in nanoseconds since the start.
    pub last_ns: AtomicU64,
}

impl Counters {
    fn arrived(&self, start: Instant) {
        let at = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_ns.store(at, Ordering::Relaxed);
    }

    /// The UDP receiver's tally so far.
    pub fn udp_tally(&self) -> udp::Tally {
        self.udp.lock().map(|rx| rx.tally()).unwrap_or_default()
    }
}

/// Flags the owner of a stream raises.
#[derive(Debug, Default)]
pub struct Flags {
    /// The peer's senders are done: UDP receivers take what is queued and end.
    pub peer_done: AtomicBool,
    /// Stop everything now (the peer vanished, an error).
    pub abort: AtomicBool,
    /// Senders stop now, as at their deadline (Ctrl-C on the client).
    pub stop: AtomicBool,
}

impl Flags {
    /// Whether a sender should stop before its deadline.
    fn sender_stops(&self) -> bool {
        self.abort.load(Ordering::Relaxed) || self.stop.load(Ordering::Relaxed)
    }
}

fn timed_out(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Runs one stream to its end.
pub fn run(socket: DataSocket, plan: &Plan, counters: &Counters, flags: &Flags) -> io::Result<()> {
    let result = match (socket, plan.sending) {
        (DataSocket::Tcp(s), true) => tcp_send(s, plan, counters, flags),
        (DataSocket::Tcp(s), false) => tcp_receive(s, plan, counters, flags),
        (DataSocket::Udp(s), true) => udp_send(&s, plan, counters, flags),
        (DataSocket::Udp(s), false) => udp_receive(&s, plan, counters, flags),
    };
    let ended = u64::try_from(plan.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    counters.ended_ns.store(ended.max(1), Ordering::Release);
    result
}

/// Sets the kernel's pacing of a TCP sender to `rate_bps` (SO_MAX_PACING_RATE).
pub fn pace_tcp(socket: &TcpStream, rate_bps: u64) -> io::Result<()> {
    crate::net::socket::set_max_pacing_rate(&socket.as_fd(), rate_bps / 8)
}

fn tcp_send(
    mut socket: TcpStream,
    plan: &Plan,
    counters: &Counters,
    flags: &Flags,
) -> io::Result<()> {
    socket.set_write_timeout(Some(POLL))?;
    let buffer = payload(plan.length);
    // -Z: the same bytes, from page-cache pages the kernel sends by reference.
    let file = if plan.zerocopy {
        Some(crate::net::socket::memory_file("netdx-perf", &buffer)?)
    } else {
        None
    };
    while Instant::now() < plan.deadline && !flags.sender_stops() {
        let sent = match &file {
            Some(file) => crate::net::socket::send_file(&socket, file, plan.length),
            None => socket.write(&buffer),
        };
        match sent {
            Ok(n) => {
                counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(err) if timed_out(&err) => {}
            Err(err) => return Err(err),
        }
    }
    // The receiver reads to this end of stream.
    let _ = socket.shutdown(Shutdown::Write);
    Ok(())
}

fn tcp_receive(
    mut socket: TcpStream,
    plan: &Plan,
    counters: &Counters,
    flags: &Flags,
) -> io::Result<()> {
    socket.set_read_timeout(Some(POLL))?;
    let mut buffer = vec![0u8; 128 * 1024];
    loop {
        match socket.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                counters.arrived(plan.start);
            }
            Err(err) if timed_out(&err) => {
                if flags.abort.load(Ordering::Relaxed) {
                    return Ok(());
                }
            }
            Err(err) => return Err(err),
        }
    }
}

fn udp_send(socket: &UdpSocket, plan: &Plan, counters: &Counters, flags: &Flags) -> io::Result<()> {
    socket.set_write_timeout(Some(POLL))?;
    let mut datagram = payload(plan.length);
    let mut pacer = (plan.rate_bps > 0).then(|| Pacer::new(plan.rate_bps, plan.start));
    let mut seq = 0u64;
    loop {
        let now = Instant::now();
        if now >= plan.deadline || flags.sender_stops() {
            return Ok(());
        }
        if let Some(pacer) = &mut pacer {
            let wait = pacer.wait(now);
            if !wait.is_zero() {
                // Short naps, so a stop or the deadline is seen in time.
                let left = plan.deadline - now;
                std::thread::sleep(wait.min(left).min(POLL));
                continue;
            }
        }
        Header {
            seq,
            sent: now - plan.start,
        }
        .emit(&mut datagram);
        match socket.send(&datagram) {
            Ok(n) => {
                seq += 1;
                counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                counters.packets.fetch_add(1, Ordering::Relaxed);
                if let Some(pacer) = &mut pacer {
                    pacer.sent(n);
                }
            }
            // A full queue, or the peer's port not open yet or any more
            // (ICMP port unreachable): the datagram is not sent; go on.
            Err(err)
                if timed_out(&err)
                    || matches!(err.raw_os_error(), Some(libc::ENOBUFS | libc::ECONNREFUSED)) => {}
            Err(err) => return Err(err),
        }
    }
}

fn udp_receive(
    socket: &UdpSocket,
    plan: &Plan,
    counters: &Counters,
    flags: &Flags,
) -> io::Result<()> {
    socket.set_read_timeout(Some(POLL))?;
    let mut buffer = vec![0u8; 65_536];
    loop {
        match socket.recv(&mut buffer) {
            Ok(n) => {
                let arrival = plan.start.elapsed();
                let Some(header) = Header::parse(&buffer[..n]) else {
                    continue;
                };
                counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                counters.last_ns.store(
                    u64::try_from(arrival.as_nanos()).unwrap_or(u64::MAX),
                    Ordering::Relaxed,
                );
                if let Ok(mut rx) = counters.udp.lock() {
                    rx.record(header, n, arrival);
                }
            }
            Err(err) if timed_out(&err) => {
                if flags.peer_done.load(Ordering::Acquire) || flags.abort.load(Ordering::Relaxed) {
                    return Ok(());
                }
            }
            Err(err) if err.raw_os_error() == Some(libc::ECONNREFUSED) => {}
            Err(err) => return Err(err),
        }
    }
}

/// The bytes a sender writes: a fixed pattern (not zeros, so nothing on
/// the path can compress them away).
fn payload(length: usize) -> Vec<u8> {
    (0..length).map(|i| (i % 251) as u8).collect()
}

/// The totals of one finished stream on this end, `socket` being its id.
pub fn totals(
    socket: u32,
    plan: &Plan,
    counters: &Counters,
    facts: Option<TcpFacts>,
    max_cwnd: u64,
) -> Measure {
    let ended = counters.ended_ns.load(Ordering::Acquire);
    let end = if ended > 0 {
        Duration::from_nanos(ended)
    } else {
        plan.start.elapsed()
    };
    // A sender's time is the test's; a receiver's runs to its last byte.
    let last = counters.last_ns.load(Ordering::Relaxed);
    let seconds = if plan.sending {
        end.min(plan.deadline - plan.start)
    } else if last > 0 {
        Duration::from_nanos(last)
    } else {
        end
    };
    let bytes = counters.bytes.load(Ordering::Relaxed);
    let mut measure = Measure::over(
        Some(socket),
        0.0,
        seconds.as_secs_f64(),
        bytes,
        plan.sending,
    );
    match plan.protocol {
        Protocol::Tcp if plan.sending => {
            if let Some(facts) = facts {
                measure.retransmits = Some(facts.retransmits);
                measure.snd_cwnd = Some(facts.cwnd);
                measure.max_snd_cwnd = Some(max_cwnd.max(facts.cwnd));
                measure.rtt = Some(facts.rtt);
            }
        }
        Protocol::Tcp => {
            measure.kernel_bytes_received = facts.map(|facts| facts.bytes_received);
        }
        Protocol::Udp if plan.sending => {
            measure.packets = Some(counters.packets.load(Ordering::Relaxed));
        }
        Protocol::Udp => {
            let tally = counters.udp_tally();
            measure.packets = Some(tally.packets);
            measure.jitter_ms = Some(tally.jitter * 1000.0);
            measure.out_of_order = Some(tally.out_of_order);
            measure.lost_packets = Some(tally.lost.max(0) as u64);
        }
    }
    measure
}
