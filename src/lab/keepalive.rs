//! `netdx lab keepalive`: a peer that vanishes without a word. Three idle
//! connections from A to B; then B's end of the cable goes down. The plain
//! connection stays ESTABLISHED, however long; the one with SO_KEEPALIVE
//! and TCP_KEEPIDLE/INTVL/CNT of seconds probes (sock_diag's keepalive
//! timer, tcp_info's probes) and ends in ETIMEDOUT after idle + intvl × cnt;
//! the one with TCP_USER_TIMEOUT ends in ETIMEDOUT that long after data was
//! sent into the void, its retransmissions counted.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags};
use socket2::Socket;

use super::hosts::{self, inside};
use super::netns::Host;
use super::{
    Actor, Conclusion, LabError, Need, Transcript, calls, duration_text, failed_with, observe,
};
use crate::sockets::tcp_info::TcpInfoView;
use crate::sockets::{self, TimerKind, state};
use crate::sockopt::Value;

/// TCP_KEEPIDLE, TCP_KEEPINTVL (seconds) and TCP_KEEPCNT.
const KEEPIDLE: u64 = 1;
const KEEPINTVL: u64 = 1;
const KEEPCNT: u64 = 3;
/// TCP_USER_TIMEOUT.
const USER_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long the plain connection is watched at least.
const IDLE_WATCH: Duration = Duration::from_secs(2);
/// How far a measured end may be from the one computed, either way (the
/// kernel's timers run on jiffies and are allowed some slack).
const TOLERANCE: Duration = Duration::from_millis(300);
/// How long the kernel waits before trying again a keepalive probe that
/// could not leave the host (TCP_RESOURCE_PROBE_INTERVAL, HZ / 2).
const RESOURCE_PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// How often sock_diag and tcp_info are read while waiting.
const SAMPLE: Duration = Duration::from_millis(50);
/// At most this many observations per wait (each one is a change).
const MOST_OBSERVATIONS: usize = 16;
/// Bounds the receives below: the one that matters finds its error queued.
const BOUND: Duration = Duration::from_secs(1);

/// What tcp_info says of a socket's probing and retransmitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Probing {
    probes: u8,
    backoff: u8,
    retransmits: u8,
    total_retrans: u32,
}

fn probing(socket: &Socket) -> Probing {
    let Ok(bytes) = crate::net::tcp_info::read(socket) else {
        return Probing::default();
    };
    let Some(view) = TcpInfoView::new(&bytes) else {
        return Probing::default();
    };
    Probing {
        probes: view.probes().unwrap_or(0),
        backoff: view.backoff().unwrap_or(0),
        retransmits: view.retransmits().unwrap_or(0),
        total_retrans: view.total_retrans().unwrap_or(0),
    }
}

/// A counter of A's /proc/net/netstat `TcpExt` group (`TCPKeepAlive`).
fn tcp_ext(a: &Host, name: &str) -> Result<i64, LabError> {
    let text = a.read_proc_net("netstat")?;
    let groups =
        crate::protostats::parse(&text, crate::protostats::Format::Pairs, "/proc/net/netstat")
            .map_err(|err| LabError::Call {
                what: "reading /proc/net/netstat".into(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, err.to_string()),
            })?;
    Ok(groups
        .iter()
        .find(|g| g.name == "TcpExt")
        .and_then(|g| g.counters.iter().find(|(n, _)| n == name))
        .map_or(0, |(_, v)| *v))
}

/// A's end of the connection from `local_port`, as sock_diag lists it in A.
fn diag(a: &Host, server_port: u16, local_port: u16) -> Result<Option<sockets::Socket>, LabError> {
    let table = inside(a, || observe::tcp_table(server_port))?;
    Ok(table.into_iter().find(|s| s.local_port() == local_port))
}

fn timer_name(kind: TimerKind) -> &'static str {
    match kind {
        TimerKind::On => "retransmit",
        TimerKind::Keepalive => "keepalive",
        TimerKind::Timewait => "timewait",
        TimerKind::Persist => "persist",
    }
}

/// inet_diag's number for the timer (`idiag_timer`).
fn timer_code(kind: TimerKind) -> u8 {
    match kind {
        TimerKind::On => 1,
        TimerKind::Keepalive => 2,
        TimerKind::Timewait => 3,
        TimerKind::Persist => 4,
    }
}

/// `ESTABLISHED, keepalive timer (fires in 812 ms, 1 probe sent)`.
fn diag_text(socket: Option<&sockets::Socket>) -> String {
    let Some(socket) = socket else {
        return "gone from the table".into();
    };
    let timer = match &socket.timer {
        None => "no timer".to_string(),
        Some(timer) => format!(
            "{} timer (idiag_timer {}, fires in {} ms, idiag_retrans {})",
            timer_name(timer.kind),
            timer_code(timer.kind),
            timer.expires_ms,
            timer.retransmits
        ),
    };
    format!("{}, {timer}, Send-Q {}", socket.state.name(), socket.send_q)
}

fn probing_text(p: Probing) -> String {
    format!(
        "tcp_info: probes {}, backoff {}, retransmits {}, total_retrans {}",
        p.probes, p.backoff, p.retransmits, p.total_retrans
    )
}

/// What waiting on a connection showed.
struct Watched {
    /// How long after `since` its error came, if it came by the deadline.
    died: Option<Duration>,
    /// The most keepalive probes tcp_info reported.
    most_probes: u8,
    /// The most retransmission timeouts in a row tcp_info reported.
    most_retransmits: u8,
    /// Whether sock_diag showed a keepalive timer at some point.
    keepalive_timer: bool,
    /// Whether sock_diag showed a retransmit timer at some point.
    retransmit_timer: bool,
    /// tcp_info's total retransmissions at the end.
    total_retrans: u32,
    /// The idle connection's states, each time it was looked at.
    idle_states: Vec<(Duration, String)>,
}

/// The connection being waited on, and the idle one watched beside it.
struct Watch<'s> {
    socket: &'s Socket,
    port: u16,
    /// The idle connection's port, and when the link went down.
    idle: Option<(u16, Instant)>,
}

/// Waits for `watch`'s socket to fail (poll: POLLERR/POLLHUP/POLLIN),
/// reading sock_diag and tcp_info every [`SAMPLE`] and recording each
/// change; looks at the idle connection too after [`IDLE_WATCH`] and at
/// the end. `since` is when the connection last heard from its peer.
fn wait_for_error(
    t: &mut Transcript<'_>,
    a: &Host,
    server_port: u16,
    watch: &Watch<'_>,
    since: Instant,
    limit: Duration,
) -> Result<Watched, LabError> {
    let mut seen = Watched {
        died: None,
        most_probes: 0,
        most_retransmits: 0,
        keepalive_timer: false,
        retransmit_timer: false,
        total_retrans: 0,
        idle_states: Vec::new(),
    };
    let mut last_key = None;
    let mut last_timer: Option<(Instant, u64)> = None;
    let mut observations = 0;
    let fd = watch.socket.as_raw_fd();
    loop {
        let diag_now = diag(a, server_port, watch.port)?;
        let info = probing(watch.socket);
        seen.most_probes = seen.most_probes.max(info.probes);
        seen.most_retransmits = seen.most_retransmits.max(info.retransmits);
        seen.total_retrans = info.total_retrans;
        let timer = diag_now.as_ref().and_then(|s| s.timer);
        seen.keepalive_timer |= timer.is_some_and(|t| t.kind == TimerKind::Keepalive);
        seen.retransmit_timer |= timer.is_some_and(|t| t.kind == TimerKind::On);
        let key = (
            diag_now.as_ref().map(|s| s.state),
            timer.map(|t| (t.kind, t.retransmits)),
            info,
        );
        let elapsed = since.elapsed();
        // A timer pushed back further than time has passed was re-armed.
        let rearmed = match (last_timer, timer) {
            (Some((at, expires)), Some(now)) => {
                let passed = u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX);
                now.expires_ms > expires.saturating_sub(passed) + 100
            }
            _ => false,
        };
        last_timer = timer.map(|t| (Instant::now(), t.expires_ms));
        if (last_key != Some(key) || rearmed) && observations < MOST_OBSERVATIONS {
            observations += 1;
            t.observe(
                "sock_diag",
                format!(
                    "A's fd {fd} (port {}), {} after its last segment from B",
                    watch.port,
                    duration_text(elapsed)
                ),
                format!("{}; {}", diag_text(diag_now.as_ref()), probing_text(info)),
            )?;
            last_key = Some(key);
        }
        if let Some((idle, down)) = watch.idle
            && down.elapsed() >= IDLE_WATCH
            && seen.idle_states.is_empty()
        {
            record_idle(t, a, server_port, idle, down.elapsed(), &mut seen)?;
        }
        let mut fds = [PollFd::new(watch.socket.as_fd(), PollFlags::POLLIN)];
        let ready = nix::poll::poll(&mut fds, crate::net::poll_timeout(SAMPLE)).unwrap_or(0);
        if ready > 0 {
            seen.died = Some(since.elapsed());
            break;
        }
        if since.elapsed() >= limit {
            break;
        }
    }
    if let Some((idle, down)) = watch.idle {
        record_idle(t, a, server_port, idle, down.elapsed(), &mut seen)?;
    }
    Ok(seen)
}

/// Looks at the idle connection once and records what it is.
fn record_idle(
    t: &mut Transcript<'_>,
    a: &Host,
    server_port: u16,
    idle: u16,
    elapsed: Duration,
    seen: &mut Watched,
) -> Result<(), LabError> {
    let socket = diag(a, server_port, idle)?;
    t.observe(
        "sock_diag",
        format!(
            "A's connection without keepalive (port {idle}), {} after the link went down",
            duration_text(elapsed)
        ),
        diag_text(socket.as_ref()),
    )?;
    seen.idle_states.push((
        elapsed,
        socket.map_or_else(|| "gone".to_string(), |s| s.state.name().to_string()),
    ));
    Ok(())
}

/// A connection from A to B's listener: A's socket, its port and B's end.
fn connect(
    t: &mut Transcript<'_>,
    a: &Host,
    listener: &Socket,
    to: SocketAddr,
) -> Result<(Socket, u16, Socket), LabError> {
    let client = hosts::socket(t, Actor::Client, (a, "A"), false, true)?;
    calls::connect(t, Actor::Client, &client, to).need("connect")?;
    let (server, _) = calls::accept(t, Actor::Server, listener).need("accept")?;
    calls::receive_timeout(t, Actor::Client, &client, BOUND)?;
    t.note("only a bound: the recv() that matters below finds its error already queued");
    let port = calls::local(&client).map_or(0, |address| address.port());
    Ok((client, port, server))
}

/// Whether `measured` is within [`TOLERANCE`] of `expected`.
fn close_to(measured: Duration, expected: Duration) -> bool {
    measured.abs_diff(expected) <= TOLERANCE
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let pair = hosts::pair(t, 1500)?;
    let (a, b) = (&pair.a, &pair.b);
    let listener = hosts::socket(t, Actor::Server, (b, "B"), false, true)?;
    calls::bind(t, Actor::Server, &listener, SocketAddr::from((b.v4(), 0))).need("bind")?;
    calls::listen(t, Actor::Server, &listener, 8)?;
    let to = calls::local(&listener).unwrap_or(SocketAddr::from((b.v4(), 0)));
    let server_port = to.port();

    let (plain, plain_port, _plain_server) = connect(t, a, &listener, to)?;
    t.note("connection 1: no keepalive");
    let (user, user_port, _user_server) = connect(t, a, &listener, to)?;
    t.note("connection 2: for TCP_USER_TIMEOUT, later");
    calls::setsockopt(
        t,
        Actor::Client,
        &user,
        "TCP_USER_TIMEOUT",
        Value::Duration(Some(USER_TIMEOUT)),
    )?;
    t.note("sent data may stay unacknowledged 1.5 s, then the connection is given up");
    let (kept, kept_port, kept_server) = connect(t, a, &listener, to)?;
    t.note("connection 3: keepalive");
    calls::setsockopt(t, Actor::Client, &kept, "SO_KEEPALIVE", Value::Bool(true))?;
    for (name, value) in [
        (
            "TCP_KEEPIDLE",
            Value::Duration(Some(Duration::from_secs(KEEPIDLE))),
        ),
        (
            "TCP_KEEPINTVL",
            Value::Duration(Some(Duration::from_secs(KEEPINTVL))),
        ),
        ("TCP_KEEPCNT", Value::Int(KEEPCNT as i64)),
    ] {
        calls::setsockopt(t, Actor::Client, &kept, name, value)?;
    }
    t.note("probe after 1 s of silence, every 1 s, give up after 3 unanswered: instead of 2 hours, 75 s and 9");
    // The keepalive clock runs from the last segment A received: B speaks
    // last, so that A has nothing unacknowledged (which would be the
    // retransmit timer's business, not keepalive's).
    calls::send(t, Actor::Server, &kept_server, b"!").need("send")?;
    calls::recv(t, Actor::Client, &kept, 10).need("recv")?;
    let last_heard = Instant::now();
    t.note("the last segment A will ever receive from B");
    let keepalives_before = tcp_ext(a, "TCPKeepAlive")?;

    t.must(
        Actor::Netdx,
        "ip",
        format!("link set {} down (in B)", b.ifname()),
        || b.set_link(false).map_err(hosts::io_error),
        |()| "0".into(),
    )?;
    let link_down = Instant::now();
    t.note("B's cable is pulled: both veth ends lose carrier, and nothing B sends or is sent reaches anyone. Nobody tells A: no FIN, no RST");

    // Keepalive: idle, then KEEPCNT probes KEEPINTVL apart, then the end.
    let expected = Duration::from_secs(KEEPIDLE + KEEPINTVL * KEEPCNT);
    let kept_watch = Watch {
        socket: &kept,
        port: kept_port,
        idle: Some((plain_port, link_down)),
    };
    let keepalive = wait_for_error(t, a, server_port, &kept_watch, last_heard, expected * 2)?;
    let keepalives = tcp_ext(a, "TCPKeepAlive")? - keepalives_before;
    t.observe(
        "/proc/net/netstat",
        "TcpExt TCPKeepAlive in A: keepalive probes sent since B last spoke",
        format!("+{keepalives}"),
    )?;
    // A probe the link itself refused (sent before A's kernel had noticed
    // the carrier loss: veth drops it at once) is not counted; the kernel
    // tries again after TCP_RESOURCE_PROBE_INTERVAL.
    let uncounted = u32::try_from(keepalives - KEEPCNT as i64).unwrap_or(0);
    let expected_here = expected + RESOURCE_PROBE_INTERVAL * uncounted;
    let kept_end = calls::recv(t, Actor::Client, &kept, 10)?;
    let kept_timedout = failed_with(&kept_end, libc::ETIMEDOUT);
    let kept_on_time = keepalive.died.is_some_and(|d| close_to(d, expected_here));
    t.note(match keepalive.died {
        Some(died) if kept_timedout => format!(
            "ETIMEDOUT {} after the last segment from B; idle + intvl × cnt = {KEEPIDLE} + {KEEPINTVL} × {KEEPCNT} = {} s{}{}",
            duration_text(died),
            expected.as_secs(),
            if uncounted > 0 {
                format!(", plus {} ms: {uncounted} probe(s) could not leave A (the veth dropped it before A's kernel had taken in the carrier loss) and were sent again 500 ms later, uncounted", RESOURCE_PROBE_INTERVAL.as_millis() * u128::from(uncounted))
            } else {
                String::new()
            },
            if kept_on_time { "" } else { ": not within 0.3 s of it" }
        ),
        Some(died) => format!("the connection ended {} after B's last segment, but not with ETIMEDOUT", duration_text(died)),
        None => "the keepalive connection was still alive at the deadline".to_string(),
    });

    // TCP_USER_TIMEOUT: data sent into the void.
    let held_before = tcp_ext(a, "TCPSpuriousRtxHostQueues")?;
    let sent = calls::send(t, Actor::Client, &user, b"anyone there?")?;
    let sent_at = Instant::now();
    t.note("the send succeeds: the data is only queued, and TCP retransmits it, unanswered");
    let user_watch = Watch {
        socket: &user,
        port: user_port,
        idle: Some((plain_port, link_down)),
    };
    let retransmitted = wait_for_error(t, a, server_port, &user_watch, sent_at, USER_TIMEOUT * 3)?;
    let held = tcp_ext(a, "TCPSpuriousRtxHostQueues")? - held_before;
    t.observe(
        "/proc/net/netstat",
        "TcpExt TCPSpuriousRtxHostQueues in A: retransmissions skipped because the last copy had not left the host yet",
        format!("+{held}"),
    )?;
    let user_end = calls::recv(t, Actor::Client, &user, 10)?;
    let user_timedout = sent.is_ok() && failed_with(&user_end, libc::ETIMEDOUT);
    let user_on_time = retransmitted
        .died
        .is_some_and(|d| close_to(d, USER_TIMEOUT));
    let timeouts = retransmitted.most_retransmits;
    let resent = probing(&user)
        .total_retrans
        .max(retransmitted.total_retrans);
    t.note(match retransmitted.died {
        Some(died) if user_timedout => format!(
            "ETIMEDOUT {} after the send (TCP_USER_TIMEOUT {} ms), after {timeouts} retransmission timeout(s), each twice as long as the last (tcpi_retransmits, tcpi_backoff); {}",
            duration_text(died),
            USER_TIMEOUT.as_millis(),
            if resent == 0 && held > 0 {
                "tcpi_total_retrans stayed 0: with B's link down its MAC address could not be resolved again, so the first copy was still queued in A waiting for it, and the kernel does not queue a second".to_string()
            } else {
                format!("{resent} copy(ies) actually sent again (tcpi_total_retrans)")
            }
        ),
        Some(died) => format!("the connection ended {} after the send, but not with ETIMEDOUT", duration_text(died)),
        None => "the connection was still alive at the deadline".to_string(),
    });

    let idle_states: Vec<&(Duration, String)> = keepalive
        .idle_states
        .iter()
        .chain(retransmitted.idle_states.iter())
        .collect();
    let established = state::ESTABLISHED.name();
    let idle_stayed = idle_states.len() >= 2 && idle_states.iter().all(|(_, s)| s == established);
    let idle_for = idle_states.last().map_or(Duration::ZERO, |(d, _)| *d);
    let plain_now = diag(a, server_port, plain_port)?;
    t.observe(
        "sock_diag",
        format!("A's connection without keepalive (port {plain_port}), at the end"),
        diag_text(plain_now.as_ref()),
    )?;
    let plain_alive = plain_now
        .as_ref()
        .is_some_and(|s| s.state == state::ESTABLISHED);
    t.note(if plain_alive {
        "still ESTABLISHED: without keepalive or data to send, nothing ever tells A that B is gone"
    } else {
        "the connection without keepalive is no longer ESTABLISHED"
    });
    drop(plain);

    let probed = keepalive.keepalive_timer && keepalive.most_probes >= 1;
    let as_expected = idle_stayed
        && plain_alive
        && probed
        && kept_timedout
        && kept_on_time
        && user_timedout
        && user_on_time
        && retransmitted.retransmit_timer
        && timeouts >= 1;
    let verdict = match (keepalive.died, retransmitted.died) {
        (Some(kept_died), Some(user_died)) if as_expected => format!(
            "B vanished silently: the plain connection stayed ESTABLISHED, keepalive ended its connection in ETIMEDOUT {} after B's last segment, and TCP_USER_TIMEOUT ended one with data in flight {} after the send.",
            duration_text(kept_died),
            duration_text(user_died)
        ),
        _ => "The connections to the vanished peer did not end as the lab expects; see below."
            .to_string(),
    };
    let text = format!(
        "{verdict} After B's link went down, the connection without keepalive {}. With SO_KEEPALIVE and TCP_KEEPIDLE {KEEPIDLE} s, TCP_KEEPINTVL {KEEPINTVL} s, TCP_KEEPCNT {KEEPCNT}, {}; recv() then {}{}. With TCP_USER_TIMEOUT {} ms, data sent into the silence {}. Keepalive finds a dead peer of an idle connection, and TCP_USER_TIMEOUT one that leaves sent data unacknowledged; without either a connection to a vanished host lasts until the application sends (then about 15 minutes of retransmissions) or forever.",
        if idle_stayed && plain_alive {
            format!(
                "stayed ESTABLISHED, with no timer running, for the {} the lab watched it",
                duration_text(idle_for.max(IDLE_WATCH))
            )
        } else {
            "did not stay ESTABLISHED".to_string()
        },
        if probed {
            format!(
                "sock_diag showed the keepalive timer and tcp_info up to {} unanswered probe(s)",
                keepalive.most_probes
            )
        } else {
            "no keepalive probing was seen".to_string()
        },
        if kept_timedout {
            "failed with ETIMEDOUT"
        } else {
            "did not fail with ETIMEDOUT"
        },
        match keepalive.died {
            Some(died) => format!(
                ", {} after the last segment from B (idle + intvl × cnt = {} s{})",
                duration_text(died),
                expected.as_secs(),
                if uncounted > 0 {
                    ", and 0.5 s for a probe the link refused, sent again uncounted"
                } else {
                    ""
                }
            ),
            None => String::new(),
        },
        USER_TIMEOUT.as_millis(),
        match retransmitted.died {
            Some(died) if user_timedout => format!(
                "ran into {timeouts} retransmission timeout(s) and the connection failed with ETIMEDOUT {} after the send",
                duration_text(died)
            ),
            Some(died) => format!(
                "ended the connection after {}, not with ETIMEDOUT",
                duration_text(died)
            ),
            None => "did not end the connection in time".to_string(),
        },
    );
    Ok(Conclusion::new(as_expected, text))
}
