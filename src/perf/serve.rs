//! `netdx perf serve`: the server. Every connection gets a thread; a
//! control connection's `hello` starts a test of its own (up to
//! --max-clients at once), a data connection's `stream` frame joins the
//! test its cookie names. Tests share nothing but the listening socket
//! and the cookie table, and a client that vanishes ends only its test.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::control::{self, FrameError, Message, TestParams};
use super::session::{self, Streams};
use super::stream::{DataSocket, Plan};
use super::{PerfError, Protocol};

/// How long a new connection has to say what it is, and a test to get its
/// data connections in.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long past its duration a test waits for its client.
const CLIENT_GRACE: Duration = Duration::from_secs(30);

/// What the server is told to do.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Where it listens.
    pub bind: SocketAddr,
    /// Tests at once, at most.
    pub max_clients: usize,
}

/// What happens on the server, for its log (and each line of `perf serve
/// --json-stream`, schema `perf-serve.stream`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServeEvent {
    /// The listening socket is up.
    Listening {
        /// Where.
        address: SocketAddr,
    },
    /// A test started.
    TestStarted {
        /// The client.
        peer: SocketAddr,
        /// Its test.
        test: TestParams,
    },
    /// A test ended with results sent.
    TestEnded {
        /// The client.
        peer: SocketAddr,
        /// Bytes this server sent and received over all streams.
        bytes: u64,
        /// Seconds the test took here.
        seconds: f64,
    },
    /// A test was refused.
    Refused {
        /// The client.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
    /// A connection or test failed.
    Failed {
        /// The other end.
        peer: SocketAddr,
        /// What went wrong.
        error: String,
    },
}

/// Where each test waiting for its data connections takes them.
type Pending = Mutex<HashMap<String, mpsc::Sender<(u32, TcpStream)>>>;

/// Connections that have not yet said what they are, at most: each holds
/// a thread for up to the setup timeout, so a flood of silent ones must
/// not grow without bound.
const MAX_GREETING: usize = 256;

struct Shared {
    settings: Settings,
    active: AtomicUsize,
    greeting: AtomicUsize,
    pending: Pending,
    log: Box<dyn Fn(ServeEvent) + Send + Sync>,
}

/// Serves tests until the process ends.
pub fn serve(
    settings: Settings,
    log: Box<dyn Fn(ServeEvent) + Send + Sync>,
) -> Result<(), PerfError> {
    let bind = settings.bind;
    let listener = TcpListener::bind(bind).map_err(|source| PerfError::Bind { bind, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| PerfError::Bind { bind, source })?;
    let shared = Arc::new(Shared {
        settings,
        active: AtomicUsize::new(0),
        greeting: AtomicUsize::new(0),
        pending: Mutex::new(HashMap::new()),
        log,
    });
    (shared.log)(ServeEvent::Listening { address: local });
    loop {
        let (connection, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            // Out of descriptors, a connection reset before accept: the
            // server goes on.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        // Counted here, before its thread starts, so a burst cannot pass the limit.
        if shared.greeting.fetch_add(1, Ordering::AcqRel) >= MAX_GREETING {
            shared.greeting.fetch_sub(1, Ordering::AcqRel);
            // Closed at once: the tests already running go on.
            drop(connection);
            continue;
        }
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            if let Err(error) = handle(connection, peer, &shared) {
                (shared.log)(ServeEvent::Failed {
                    peer,
                    error: error.to_string(),
                });
            }
        });
    }
}

fn handle(mut connection: TcpStream, peer: SocketAddr, shared: &Shared) -> Result<(), PerfError> {
    let io = |what, source| PerfError::Io { peer, what, source };
    // The accept loop counted this connection among the greeting ones.
    let greeting = Slot(&shared.greeting);
    connection
        .set_read_timeout(Some(SETUP_TIMEOUT))
        .map_err(|e| io("setup", e))?;
    let _ = connection.set_nodelay(true);
    let first = control::read_frame(&mut connection);
    drop(greeting);
    match first {
        Ok(Message::Hello { test }) => run_test(connection, peer, test, shared),
        Ok(Message::Stream { cookie, index }) => {
            let taker = shared
                .pending
                .lock()
                .ok()
                .and_then(|pending| pending.get(&cookie).cloned());
            match taker {
                Some(taker) => {
                    let _ = connection.set_read_timeout(None);
                    let _ = taker.send((index, connection));
                    Ok(())
                }
                None => Err(PerfError::Peer {
                    peer,
                    message: "a data connection for no test waiting".into(),
                }),
            }
        }
        Ok(_) => {
            refuse(&mut connection, "expected hello or stream", false);
            Err(PerfError::Unexpected {
                peer,
                expected: "hello or stream",
            })
        }
        Err(FrameError::Closed) => Ok(()),
        Err(err) => {
            let message = err.to_string();
            let _ = control::write_frame(&mut connection, &Message::Error { message });
            Err(PerfError::frame(peer, err))
        }
    }
}

fn refuse(connection: &mut TcpStream, reason: &str, busy: bool) {
    let _ = control::write_frame(
        connection,
        &Message::Refuse {
            reason: reason.to_string(),
            busy,
        },
    );
}

/// Holds a place in a count (a test among --max-clients, a connection
/// among the greeting ones); gives it back on drop.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Removes a test's cookie from the table on drop.
struct Registration<'a> {
    pending: &'a Pending,
    cookie: String,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&self.cookie);
        }
    }
}

fn run_test(
    mut control: TcpStream,
    peer: SocketAddr,
    test: TestParams,
    shared: &Shared,
) -> Result<(), PerfError> {
    let io = |what, source| PerfError::Io { peer, what, source };
    if let Err(reason) = super::validate(&test) {
        refuse(&mut control, &reason, false);
        (shared.log)(ServeEvent::Refused { peer, reason });
        return Ok(());
    }
    let max = shared.settings.max_clients;
    let running = shared.active.fetch_add(1, Ordering::AcqRel);
    let _slot = Slot(&shared.active);
    if running >= max {
        let reason = format!(
            "{running} of {max} tests running (--max-clients {max}); try again when one has ended"
        );
        refuse(&mut control, &reason, true);
        (shared.log)(ServeEvent::Refused { peer, reason });
        return Ok(());
    }
    let cookie = new_cookie().map_err(|e| io("making a cookie", e))?;
    let (taker, arrivals) = mpsc::channel();
    if let Ok(mut pending) = shared.pending.lock() {
        pending.insert(cookie.clone(), taker);
    }
    let registration = Registration {
        pending: &shared.pending,
        cookie: cookie.clone(),
    };
    let count = test.socket_count();
    let local_ip = control.local_addr().map_err(|e| io("control", e))?.ip();
    let mut udp = Vec::new();
    let mut udp_ports = Vec::new();
    if test.protocol == Protocol::Udp {
        for port in &test.udp_ports {
            let socket =
                UdpSocket::bind(SocketAddr::new(local_ip, 0)).map_err(|e| io("binding UDP", e))?;
            socket
                .connect(SocketAddr::new(peer.ip(), *port))
                .map_err(|e| io("connecting UDP", e))?;
            udp_ports.push(
                socket
                    .local_addr()
                    .map_err(|e| io("binding UDP", e))?
                    .port(),
            );
            udp.push(DataSocket::Udp(socket));
        }
    }
    control::write_frame(
        &mut control,
        &Message::Accept {
            cookie: cookie.clone(),
            udp_ports,
        },
    )
    .map_err(|e| io("accepting", e))?;
    let sockets = match test.protocol {
        Protocol::Udp => udp,
        Protocol::Tcp => collect_streams(&control, &arrivals, count, &test, peer)?,
    };
    drop(registration);
    (shared.log)(ServeEvent::TestStarted {
        peer,
        test: test.clone(),
    });
    control::write_frame(&mut control, &Message::Start).map_err(|e| io("starting", e))?;
    let start = Instant::now();
    let plans = (0..count)
        .map(|index| Plan::of(&test, index, false, start))
        .collect();
    let streams = Streams::new(plans, &sockets);
    let result = session::drive(
        &control,
        peer,
        sockets,
        &streams,
        test.duration() + CLIENT_GRACE,
        false,
        &mut |_| None,
    );
    if let Err(err) = result {
        let _ = control::write_frame(
            &mut control,
            &Message::Error {
                message: err.to_string(),
            },
        );
        return Err(err);
    }
    let totals = streams.totals();
    let bytes = totals.iter().map(|m| m.bytes).sum();
    control::write_frame(&mut control, &Message::Results { streams: totals })
        .map_err(|e| io("sending results", e))?;
    // The client closes once it has read them.
    let _ = control.set_read_timeout(Some(SETUP_TIMEOUT));
    let _ = control.read(&mut [0u8; 1]);
    (shared.log)(ServeEvent::TestEnded {
        peer,
        bytes,
        seconds: start.elapsed().as_secs_f64(),
    });
    Ok(())
}

/// Takes the test's `count` data connections as they arrive, in index order.
fn collect_streams(
    control: &TcpStream,
    arrivals: &mpsc::Receiver<(u32, TcpStream)>,
    count: usize,
    test: &TestParams,
    peer: SocketAddr,
) -> Result<Vec<DataSocket>, PerfError> {
    let mut slots: Vec<Option<TcpStream>> = (0..count).map(|_| None).collect();
    let deadline = Instant::now() + SETUP_TIMEOUT;
    while slots.iter().any(Option::is_none) {
        let wait = deadline.saturating_duration_since(Instant::now());
        let (index, stream) = match arrivals.recv_timeout(wait.min(Duration::from_millis(100))) {
            Ok(arrival) => arrival,
            Err(_) if client_gone(control) => {
                return Err(PerfError::Peer {
                    peer,
                    message: "it closed the control connection before its streams were in".into(),
                });
            }
            Err(_) if wait.is_zero() => {
                return Err(PerfError::Peer {
                    peer,
                    message: "not every data connection arrived in time".into(),
                });
            }
            Err(_) => continue,
        };
        let slot = slots
            .get_mut(index as usize)
            .filter(|slot| slot.is_none())
            .ok_or(PerfError::Unexpected {
                peer,
                expected: "one data connection per stream",
            })?;
        if !test.client_sends(index as usize) && test.rate_bps > 0 {
            super::stream::pace_tcp(&stream, test.rate_bps).map_err(|source| PerfError::Io {
                peer,
                what: "setting SO_MAX_PACING_RATE",
                source,
            })?;
        }
        *slot = Some(stream);
    }
    Ok(slots.into_iter().flatten().map(DataSocket::Tcp).collect())
}

/// Whether the client has closed (or reset) its control connection: a
/// test set up for a client that has gone must not hold its slot.
fn client_gone(control: &TcpStream) -> bool {
    if control.set_nonblocking(true).is_err() {
        return false;
    }
    let gone = match control.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(err) => err.kind() != std::io::ErrorKind::WouldBlock,
    };
    let _ = control.set_nonblocking(false);
    gone
}

/// 128 random bits in hex, from the kernel's generator.
fn new_cookie() -> std::io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
