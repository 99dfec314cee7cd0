//! `netdx echo serve`: a TCP and UDP echo service on tokio.
//!
//! Each TCP connection is a task that holds no buffer while it waits: it
//! reads into its worker thread's buffer and writes straight back, and
//! only what the peer is not yet ready to take is kept (then reading stops
//! until it is written, so a client that never reads costs one chunk, not
//! an ever-growing queue, and never delays anyone else). UDP answers each
//! datagram with exactly what arrived, to its sender; datagrams over
//! `--max-datagram` are dropped, so replies are never larger than requests.
#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use nix::sys::socket::{MsgFlags, SockaddrStorage, recvmsg};
use schemars::JsonSchema;
use serde::Serialize;
use socket2::SockRef;
use std::pin::Pin;
use std::task::Poll;

use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::TcpStream;

use super::framer::{FrameTooLarge, Framer};
use super::setup::{self, SocketOptions};
use super::{EchoError, Framing, Proto};
use crate::net;
use crate::sockopt::{self, Reading};

/// How much one read takes from a connection.
const CHUNK: usize = 32 * 1024;

/// What the server was asked to do.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address and port to bind (port 0: any free port, the same for TCP and UDP).
    pub bind: SocketAddr,
    /// Serve TCP.
    pub tcp: bool,
    /// Serve UDP.
    pub udp: bool,
    /// Socket options for the listening sockets (accepted ones inherit them).
    pub options: SocketOptions,
    /// SO_REUSEADDR on the UDP socket. Not implied by the TCP default:
    /// UDP has no TIME_WAIT, and on UDP the option lets a second server
    /// bind the same port unnoticed.
    pub udp_reuseaddr: bool,
    /// listen() backlog.
    pub backlog: i32,
    /// Close a connection with no traffic either way for this long.
    pub idle_timeout: Option<Duration>,
    /// Past this many open connections, new ones are accepted and closed at once.
    pub max_conns: Option<u64>,
    /// UDP datagrams larger than this are dropped, not echoed.
    pub max_datagram: usize,
    /// Raw bytes or length-prefixed frames.
    pub framing: Framing,
    /// Report every connection and drop, not just the start.
    pub events: bool,
}

/// Something the server did, for `-v` and `--log json` (render's
/// `stream::serve` writes the JSON lines, words included).
#[derive(Debug, Clone)]
pub enum Event {
    /// A socket is bound and serving.
    Listening {
        /// TCP or UDP.
        proto: Proto,
        /// Where.
        address: SocketAddr,
    },
    /// A TCP connection was accepted.
    Connected {
        /// Connection number, from 1.
        id: u64,
        /// The client.
        peer: SocketAddr,
    },
    /// A TCP connection ended.
    Closed {
        /// Connection number.
        id: u64,
        /// The client.
        peer: SocketAddr,
        /// Bytes received from it.
        bytes_in: u64,
        /// Bytes echoed back.
        bytes_out: u64,
        /// How long it was open.
        duration_ms: f64,
        /// Why.
        close: Close,
    },
    /// A connection past `--max-conns` was accepted and closed at once.
    Rejected {
        /// The client.
        peer: SocketAddr,
        /// The limit.
        max_conns: u64,
    },
    /// A UDP datagram over `--max-datagram` was dropped.
    Oversized {
        /// The sender.
        peer: SocketAddr,
        /// Its size.
        bytes: usize,
        /// The limit.
        max_datagram: usize,
    },
    /// accept() failed (out of descriptors, …); the server goes on.
    AcceptFailed {
        /// Why: the errno (the words are render's).
        errno: i32,
    },
}

/// What the server did in all, printed when it stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Totals {
    /// TCP connections accepted and served.
    pub connections: u64,
    /// Still open when the server stopped.
    pub active: u64,
    /// Accepted and closed at once because of `--max-conns`.
    pub rejected: u64,
    /// Closed by `--idle-timeout`.
    pub timed_out: u64,
    /// Closed for sending a frame over `--max-frame`.
    pub frames_too_large: u64,
    /// Connections that ended in an error (reset, …).
    pub errors: u64,
    /// Bytes received over TCP and UDP.
    pub bytes_in: u64,
    /// Bytes echoed over TCP and UDP.
    pub bytes_out: u64,
    /// UDP datagrams received.
    pub datagrams_in: u64,
    /// UDP datagrams echoed.
    pub datagrams_out: u64,
    /// UDP datagrams dropped for exceeding `--max-datagram`.
    pub datagrams_oversized: u64,
    /// UDP replies the kernel would not take (send buffer full).
    pub datagrams_unanswered: u64,
    /// How long the server ran.
    pub uptime_ms: u64,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    active: AtomicU64,
    rejected: AtomicU64,
    timed_out: AtomicU64,
    frames_too_large: AtomicU64,
    errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    datagrams_in: AtomicU64,
    datagrams_out: AtomicU64,
    datagrams_oversized: AtomicU64,
    datagrams_unanswered: AtomicU64,
}

impl Counters {
    fn totals(&self, uptime: Duration) -> Totals {
        Totals {
            connections: self.connections.load(Relaxed),
            active: self.active.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            timed_out: self.timed_out.load(Relaxed),
            frames_too_large: self.frames_too_large.load(Relaxed),
            errors: self.errors.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            datagrams_in: self.datagrams_in.load(Relaxed),
            datagrams_out: self.datagrams_out.load(Relaxed),
            datagrams_oversized: self.datagrams_oversized.load(Relaxed),
            datagrams_unanswered: self.datagrams_unanswered.load(Relaxed),
            uptime_ms: u64::try_from(uptime.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Where events go. An error (stdout closed, say) stops the server, which
/// then returns it from [`run`] as [`EchoError::Output`].
pub type Sink = Arc<dyn Fn(&Event) -> io::Result<()> + Send + Sync>;

/// Sockets bound and ready to serve.
pub struct Bound {
    config: ServeConfig,
    tcp: Option<std::net::TcpListener>,
    udp: Option<std::net::UdpSocket>,
    /// Each socket's options as the kernel reports them, after the requests.
    pub readings: Vec<(Proto, SocketAddr, Vec<Reading>)>,
}

impl Bound {
    /// Where the server listens.
    pub fn addresses(&self) -> Vec<(Proto, SocketAddr)> {
        self.readings
            .iter()
            .map(|(proto, addr, _)| (*proto, *addr))
            .collect()
    }
}

/// Binds the sockets (errors come out here, before anything runs).
pub fn bind(config: ServeConfig) -> Result<Bound, EchoError> {
    let mut readings = Vec::new();
    let mut address = config.bind;
    let tcp = if config.tcp {
        let opened = setup::open(Proto::Tcp, address.ip(), &config.options)?;
        setup::bind(&opened.socket, address, Proto::Tcp, &config.options)?;
        opened
            .socket
            .listen(config.backlog)
            .map_err(|source| EchoError::Socket {
                what: format!("listen on {address}"),
                source,
            })?;
        address = local_address(&opened.socket).unwrap_or(address);
        readings.push((
            Proto::Tcp,
            address,
            sockopt::read_all(&opened.socket, opened.shape, &opened.requested),
        ));
        Some(std::net::TcpListener::from(opened.socket))
    } else {
        None
    };
    let udp = if config.udp {
        let options = SocketOptions {
            reuseaddr: config.udp_reuseaddr.then_some(true),
            ..config.options.clone()
        };
        let opened = setup::open(Proto::Udp, address.ip(), &options)?;
        setup::bind(&opened.socket, address, Proto::Udp, &options)?;
        let bound = local_address(&opened.socket).unwrap_or(address);
        readings.push((
            Proto::Udp,
            bound,
            sockopt::read_all(&opened.socket, opened.shape, &opened.requested),
        ));
        Some(std::net::UdpSocket::from(opened.socket))
    } else {
        None
    };
    Ok(Bound {
        config,
        tcp,
        udp,
        readings,
    })
}

fn local_address(socket: &socket2::Socket) -> Option<SocketAddr> {
    socket.local_addr().ok()?.as_socket()
}

/// Serves until SIGINT or SIGTERM, then returns the totals; or until the
/// sink fails, then returns its error.
///
/// One single-threaded tokio runtime per core, each owning the
/// connections handed to it: no work stealing, so an echo is read and
/// written by the thread that epoll woke, with no cross-thread hand-off.
/// A plain thread accepts and deals connections out in turn.
pub fn run(bound: Bound, sink: Sink) -> Result<Totals, EchoError> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let start = |what: &'static str| move |source| EchoError::Start { what, source };
    // Signals first, so a Ctrl-C during start-up is not lost.
    let mut signals =
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(start("signal handling"))?;
    let shared = Arc::new(Shared {
        stop: signals.handle(),
        sink_failed: std::sync::Mutex::new(None),
        idle_timeout: bound.config.idle_timeout,
        max_conns: bound.config.max_conns,
        max_datagram: bound.config.max_datagram,
        framing: bound.config.framing,
        events: bound.config.events,
        counters: Counters::default(),
        next_id: AtomicU64::new(1),
        sink,
    });
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut handles = Vec::with_capacity(threads);
    for index in 0..threads {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_io();
        // The timer wheel is only needed for --idle-timeout; without it
        // the runtime parks straight in epoll_wait.
        if shared.idle_timeout.is_some() {
            builder.enable_time();
        }
        let runtime = builder.build().map_err(start("the server runtime"))?;
        handles.push(runtime.handle().clone());
        std::thread::Builder::new()
            .name(format!("netdx-echo-{index}"))
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .map_err(start("the server threads"))?;
    }
    let started = Instant::now();
    if let Some(socket) = bound.udp {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("netdx-udp".into())
            .spawn(move || udp_loop(&socket, &shared))
            .map_err(start("the UDP thread"))?;
    }
    if let Some(listener) = bound.tcp {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("netdx-accept".into())
            .spawn(move || accept_loop(&listener, &shared, &handles))
            .map_err(start("the accept thread"))?;
    }
    for (proto, address, _) in &bound.readings {
        shared.deliver(&Event::Listening {
            proto: *proto,
            address: *address,
        });
    }
    // Block until SIGINT or SIGTERM (or a failed sink closes the handle);
    // the runtimes' threads end with the process.
    let _ = signals.forever().next();
    if let Some(err) = shared.sink_failed.lock().ok().and_then(|mut e| e.take()) {
        return Err(EchoError::Output(err));
    }
    Ok(shared.counters.totals(started.elapsed()))
}

/// Asks the server [`run`] is running to stop as SIGTERM does (totals and
/// all), from any of its threads: for when nothing it writes can be read
/// any more. Its events have started by then ([`Event::Listening`] comes
/// after the signal handlers are in place).
pub fn request_stop() {
    // Only fails for an invalid signal number.
    let _ = signal_hook::low_level::raise(signal_hook::consts::SIGTERM);
}

/// Accepts connections and deals them out to the runtimes in turn.
fn accept_loop(
    listener: &std::net::TcpListener,
    shared: &Arc<Shared>,
    runtimes: &[tokio::runtime::Handle],
) {
    let mut turn = 0usize;
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                // Out of descriptors or memory: say so, give the
                // connections that hold them a moment, and go on.
                shared.counters.errors.fetch_add(1, Relaxed);
                shared.deliver(&Event::AcceptFailed {
                    errno: err.raw_os_error().unwrap_or(0),
                });
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let counters = &shared.counters;
        if let Some(max_conns) = shared.max_conns {
            if counters.active.load(Relaxed) >= max_conns {
                counters.rejected.fetch_add(1, Relaxed);
                drop(stream);
                shared.emit(Event::Rejected { peer, max_conns });
                continue;
            }
        }
        counters.connections.fetch_add(1, Relaxed);
        counters.active.fetch_add(1, Relaxed);
        let id = shared.next_id.fetch_add(1, Relaxed);
        let shared = Arc::clone(shared);
        turn = (turn + 1) % runtimes.len();
        runtimes[turn].spawn(async move {
            let registered = stream
                .set_nonblocking(true)
                .and_then(|()| TcpStream::from_std(stream));
            match registered {
                Ok(stream) => connection(stream, peer, id, shared).await,
                Err(err) => {
                    shared.counters.active.fetch_sub(1, Relaxed);
                    shared.counters.errors.fetch_add(1, Relaxed);
                    shared.deliver(&Event::AcceptFailed {
                        errno: err.raw_os_error().unwrap_or(0),
                    });
                }
            }
        });
    }
}

/// What every task shares.
struct Shared {
    /// Ends the wait in [`run`] when the sink fails.
    stop: signal_hook::iterator::Handle,
    /// The sink's first error, for [`run`] to return.
    sink_failed: std::sync::Mutex<Option<io::Error>>,
    idle_timeout: Option<Duration>,
    max_conns: Option<u64>,
    max_datagram: usize,
    framing: Framing,
    events: bool,
    counters: Counters,
    next_id: AtomicU64,
    sink: Sink,
}

impl Shared {
    fn emit(&self, event: Event) {
        if self.events {
            self.deliver(&event);
        }
    }

    /// Hands `event` to the sink; its first failure stops the server (a
    /// log nobody reads any more ends it, as `yes | head -1` ends yes).
    fn deliver(&self, event: &Event) {
        if let Err(err) = (self.sink)(event) {
            if let Ok(mut first) = self.sink_failed.lock() {
                first.get_or_insert(err);
            }
            self.stop.close();
        }
    }

    /// Waits for readiness, or gives up after the idle timeout.
    async fn wait(&self, ready: impl Future<Output = io::Result<()>>) -> Result<(), Close> {
        let outcome = match self.idle_timeout {
            Some(limit) => tokio::time::timeout(limit, ready)
                .await
                .map_err(|_| Close::IdleTimeout { limit })?,
            None => ready.await,
        };
        outcome.map_err(Close::from_io)
    }
}

/// Why a connection ended (JSON: `reason`, one of `peer_closed`,
/// `idle_timeout`, `frame_too_large`, `reset` or `error`; the details are
/// render's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Close {
    /// The client shut down its side, and everything was echoed.
    PeerClosed,
    /// The client shut down its side in the middle of a frame.
    // Written as `peer_closed` too; the schema has that word once, from
    // `PeerClosed`, or `oneOf` would match it twice.
    #[serde(rename = "peer_closed")]
    #[schemars(skip)]
    PeerClosedMidFrame {
        /// Bytes of the frame received, prefix included.
        #[serde(skip)]
        have: usize,
        /// Bytes the whole frame needs, prefix included.
        #[serde(skip)]
        want: usize,
    },
    /// No traffic either way for `--idle-timeout`.
    IdleTimeout {
        /// The limit.
        #[serde(skip)]
        limit: Duration,
    },
    /// A frame announced more than `--max-frame`.
    FrameTooLarge {
        /// The length announced.
        #[serde(skip)]
        length: u32,
        /// The limit.
        #[serde(skip)]
        max: u32,
    },
    /// The client reset the connection.
    Reset,
    /// Another socket error.
    Error {
        /// Its errno (0 when the error carried none).
        #[serde(skip)]
        errno: i32,
    },
}

impl Close {
    fn from_io(err: io::Error) -> Close {
        match err.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => Close::Reset,
            _ => Close::Error {
                errno: err.raw_os_error().unwrap_or(0),
            },
        }
    }
}

/// Bytes through one connection.
#[derive(Default)]
struct Tally {
    bytes_in: u64,
    bytes_out: u64,
}

impl Tally {
    fn received(&mut self, counters: &Counters, n: usize) {
        self.bytes_in += n as u64;
        counters.bytes_in.fetch_add(n as u64, Relaxed);
    }

    fn sent(&mut self, counters: &Counters, n: usize) {
        self.bytes_out += n as u64;
        counters.bytes_out.fetch_add(n as u64, Relaxed);
    }
}

async fn connection(mut stream: TcpStream, peer: SocketAddr, id: u64, shared: Arc<Shared>) {
    let started = Instant::now();
    shared.emit(Event::Connected { id, peer });
    let mut tally = Tally::default();
    let close = echo_stream(&mut stream, &shared, &mut tally).await;
    // Counted and logged before the peer sees the close: a client that
    // reacts to it (and stops the server) finds its `closed` line written
    // before `stopped`, and the totals counting it.
    let counters = &shared.counters;
    counters.active.fetch_sub(1, Relaxed);
    match close {
        Close::IdleTimeout { .. } => counters.timed_out.fetch_add(1, Relaxed),
        Close::FrameTooLarge { .. } => counters.frames_too_large.fetch_add(1, Relaxed),
        Close::Reset | Close::Error { .. } => counters.errors.fetch_add(1, Relaxed),
        Close::PeerClosed | Close::PeerClosedMidFrame { .. } => 0,
    };
    shared.emit(Event::Closed {
        id,
        peer,
        bytes_in: tally.bytes_in,
        bytes_out: tally.bytes_out,
        duration_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1000.0,
        close,
    });
    drop(stream);
}

thread_local! {
    /// Each worker thread's read buffer: connections borrow it for one
    /// read-and-echo step, so waiting connections hold none.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; CHUNK]);
}

/// Echoes until the peer closes (then finishes echoing and half-closes
/// its own side), or the connection fails or times out.
async fn echo_stream(stream: &mut TcpStream, shared: &Shared, tally: &mut Tally) -> Close {
    let counters = &shared.counters;
    // Read but not yet echoed (the peer is not taking it): only ever one
    // chunk, or one frame, because reading stops until it is gone.
    let mut pending: Vec<u8> = Vec::new();
    let mut written = 0usize;
    let mut framer = match shared.framing {
        Framing::Raw => None,
        Framing::Length { max_frame } => Some(Framer::new(max_frame)),
    };
    let mut eof = false;
    loop {
        if written < pending.len() {
            if let Err(close) = shared.wait(stream.writable()).await {
                return close;
            }
            match stream.try_write(&pending[written..]) {
                Ok(n) => {
                    written += n;
                    tally.sent(counters, n);
                    if written == pending.len() {
                        pending = Vec::new();
                        written = 0;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) => return Close::from_io(err),
            }
            continue;
        }
        if eof {
            let _ = SockRef::from(&*stream).shutdown(std::net::Shutdown::Write);
            return match framer.as_ref().and_then(Framer::partial) {
                Some((have, want)) => Close::PeerClosedMidFrame { have, want },
                None => Close::PeerClosed,
            };
        }
        // Read through AsyncRead rather than try_read: a short read tells
        // tokio the socket is drained, which saves the read() that would
        // only return EAGAIN before every wait.
        let read = std::future::poll_fn(|cx| {
            BUFFER.with_borrow_mut(|buf| {
                let mut filled = ReadBuf::new(buf);
                match Pin::new(&mut *stream).poll_read(cx, &mut filled) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(err)) => Poll::Ready(Err(Close::from_io(err))),
                    Poll::Ready(Ok(())) if filled.filled().is_empty() => {
                        eof = true;
                        Poll::Ready(Ok(()))
                    }
                    Poll::Ready(Ok(())) => {
                        let data = filled.filled();
                        tally.received(counters, data.len());
                        Poll::Ready(match framer.as_mut() {
                            None => echo_now(stream, data, tally, counters, &mut pending),
                            // Whole frames are written from where the framer
                            // left them: no second copy of a large frame.
                            Some(framer) => framer
                                .feed(data, &mut pending)
                                .map_err(|FrameTooLarge { length, max }| Close::FrameTooLarge {
                                    length,
                                    max,
                                })
                                .and_then(|()| {
                                    if pending.is_empty() {
                                        return Ok(());
                                    }
                                    written = write_now(stream, &pending, tally, counters)?;
                                    if written == pending.len() {
                                        pending = Vec::new();
                                        written = 0;
                                    }
                                    Ok(())
                                }),
                        })
                    }
                }
            })
        });
        let outcome = match shared.idle_timeout {
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .unwrap_or(Err(Close::IdleTimeout { limit })),
            None => read.await,
        };
        if let Err(close) = outcome {
            return close;
        }
    }
}

/// Writes `data` now as far as the socket takes it; keeps the rest in `pending`.
fn echo_now(
    stream: &TcpStream,
    data: &[u8],
    tally: &mut Tally,
    counters: &Counters,
    pending: &mut Vec<u8>,
) -> Result<(), Close> {
    let written = write_now(stream, data, tally, counters)?;
    if written < data.len() {
        pending.extend_from_slice(&data[written..]);
    }
    Ok(())
}

/// Writes as much of `data` as the socket takes now; how much that was.
fn write_now(
    stream: &TcpStream,
    data: &[u8],
    tally: &mut Tally,
    counters: &Counters,
) -> Result<usize, Close> {
    let written = match stream.try_write(data) {
        Ok(n) => n,
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => 0,
        Err(err) => return Err(Close::from_io(err)),
    };
    tally.sent(counters, written);
    Ok(written)
}

/// Answers datagrams on a thread of its own, blocking in recvmsg(): one
/// receive and one send per datagram, nothing else.
fn udp_loop(socket: &std::net::UdpSocket, shared: &Shared) {
    let counters = &shared.counters;
    let max = shared.max_datagram;
    let mut buf = vec![0u8; max.max(1)];
    let replies = SockRef::from(socket);
    loop {
        let (len, peer) = match receive(socket, &mut buf) {
            Ok(Some(got)) => got,
            Ok(None) => continue,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                // ICMP errors for earlier replies and the like: count, go on.
                counters.errors.fetch_add(1, Relaxed);
                continue;
            }
        };
        counters.datagrams_in.fetch_add(1, Relaxed);
        counters.bytes_in.fetch_add(len as u64, Relaxed);
        if len > max {
            counters.datagrams_oversized.fetch_add(1, Relaxed);
            shared.emit(Event::Oversized {
                peer,
                bytes: len,
                max_datagram: max,
            });
            continue;
        }
        // Never wait for room: a reply the kernel can't take now is dropped.
        match replies.send_to_with_flags(&buf[..len], &peer.into(), libc::MSG_DONTWAIT) {
            Ok(_) => {
                counters.datagrams_out.fetch_add(1, Relaxed);
                counters.bytes_out.fetch_add(len as u64, Relaxed);
            }
            Err(_) => {
                counters.datagrams_unanswered.fetch_add(1, Relaxed);
            }
        }
    }
}

/// One datagram: its real length (MSG_TRUNC: even when longer than `buf`)
/// and its sender; `None` for a sender that is not an IP address.
fn receive(
    socket: &std::net::UdpSocket,
    buf: &mut [u8],
) -> io::Result<Option<(usize, SocketAddr)>> {
    let mut iov = [IoSliceMut::new(buf)];
    let message =
        recvmsg::<SockaddrStorage>(socket.as_raw_fd(), &mut iov, None, MsgFlags::MSG_TRUNC)
            .map_err(|errno| io::Error::from_raw_os_error(errno as i32))?;
    let peer = message
        .address
        .and_then(|address| net::socket_addr_of(&address));
    Ok(peer.map(|peer| (message.bytes, peer)))
}
