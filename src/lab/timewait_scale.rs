//! `netdx lab timewait-scale`: thousands of short connections from one
//! client to one server port. TIME_WAIT accumulates on the side that closes
//! first (counted with sock_diag inside the client's namespace); with
//! `ip_local_port_range` narrowed to 200 ports, connect() runs out of
//! ephemeral ports (EADDRNOTAVAIL); then what SO_REUSEADDR (nothing),
//! `tcp_tw_reuse` (reuse once the TIME_WAIT socket is old enough) and
//! connection reuse (one TIME_WAIT for many requests) each change, and a
//! server that closes first keeping TIME_WAIT itself. Every sysctl changed
//! is the lab's own namespace's, gone with it.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::calls;
use super::hosts;
use super::netns::Host;
use super::observe::tcp_table;
use super::{Actor, Conclusion, LabError, Need, Transcript, duration_text, failed_with};
use crate::sockets::state;
use crate::sockopt::Value;

/// The server's ports, one per part of the lab.
const PORT_MANY: u16 = 8000;
const PORT_RANGE: u16 = 8001;
const PORT_REUSE: u16 = 8002;
const PORT_SERVER_CLOSES: u16 = 8003;
/// Short connections in the first part, and how often they are counted.
const MANY: usize = 2000;
const BATCH: usize = 500;
/// The narrowed ephemeral range: 200 ports.
const RANGE_LOW: u16 = 40000;
const RANGE_HIGH: u16 = 40199;
/// At most this many connects while exhausting the range.
const RANGE_TRIES: usize = 400;
/// Requests over one kept connection.
const REQUESTS: usize = 1000;
/// Connections the server closes first.
const SERVER_FIRST: usize = 5;
/// How long sock_diag is asked until the table settles.
const SETTLE: Duration = Duration::from_secs(3);
/// How long connect() is retried once tcp_tw_reuse is on, and how often.
const REUSE_WAIT: Duration = Duration::from_secs(4);
const REUSE_EVERY: Duration = Duration::from_millis(20);
/// The bound on every blocking call of the server threads.
const BOUND: Duration = Duration::from_secs(2);

/// What a server thread does with each connection it accepts.
#[derive(Clone, Copy)]
enum Mode {
    /// Reads until the client closes, then closes: the client closed first.
    WaitForClose,
    /// Echoes every request until the client closes.
    Echo,
    /// Closes at once: the server closes first.
    CloseFirst,
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let pair = hosts::pair(t, 1500)?;
    let (a, b) = (&pair.a, &pair.b);
    t.note(format!(
        "clients in A ({}), the server in B ({})",
        a.v4(),
        b.v4()
    ));
    let mut listeners = Vec::new();
    for (port, mode) in [
        (PORT_MANY, Mode::WaitForClose),
        (PORT_RANGE, Mode::WaitForClose),
        (PORT_REUSE, Mode::Echo),
        (PORT_SERVER_CLOSES, Mode::CloseFirst),
    ] {
        let listener = hosts::socket(t, Actor::Server, (b, "B"), false, true)?;
        calls::bind(
            t,
            Actor::Server,
            &listener,
            SocketAddr::from((b.v4(), port)),
        )
        .need("bind")?;
        calls::listen(t, Actor::Server, &listener, 4096)?;
        listener
            .set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(|source| LabError::Call {
                what: "the server's accept timeout".into(),
                source,
            })?;
        listeners.push((TcpListener::from(listener), mode));
    }
    t.note("four listeners in B, each served on its own thread: 8000 and 8001 wait for the client to close first, 8002 echoes requests, 8003 closes first");
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for (listener, mode) in listeners {
            let stop = &stop;
            scope.spawn(move || serve(listener, mode, stop));
        }
        let outcome = parts(t, a, b);
        stop.store(true, Ordering::Relaxed);
        outcome
    })
}

fn parts(t: &mut Transcript<'_>, a: &Host, b: &Host) -> Result<Conclusion, LabError> {
    let server = |port| SocketAddr::from((b.v4(), port));

    // 1. Thousands of short connections, the client closing first.
    let buckets = a.read_sysctl("net/ipv4/tcp_max_tw_buckets")?;
    t.observe(
        "sysctl",
        "net.ipv4.tcp_max_tw_buckets (in A)",
        buckets.trim(),
    )?;
    t.note("the most TIME_WAIT sockets A's kernel keeps; beyond it, a closing connection skips TIME_WAIT");
    hosts::sysctl(t, (a, "A"), "net/ipv4/tcp_rfc1337", "1")?;
    t.note("TIME_WAIT sockets now ignore RSTs (RFC 1337: TIME-WAIT assassination)");
    t.note("so that the count is of TIME_WAIT as it lasts: a RST that arrives for a connection in TIME_WAIT would otherwise end it at once");
    let resets_before = tcp_counter(b, "OutRsts")?;
    let ext_before = tcp_ext(b)?;
    let mut counts = Vec::new();
    for done in (BATCH..=MANY).step_by(BATCH) {
        let made = batch(t, a, server(PORT_MANY), BATCH)?;
        let waiting = count_until(t, a, PORT_MANY, Side::Client, done, SETTLE)?;
        t.note(format!("{done} connections made so far ({made} of this batch): each left its client end in TIME_WAIT"));
        counts.push(waiting);
    }
    let resets = tcp_counter(b, "OutRsts")?.saturating_sub(resets_before);
    let ext_after = tcp_ext(b)?;
    let moved: Vec<String> = ext_after
        .iter()
        .filter(|(name, _)| {
            ["Rst", "Abort", "Overflow", "Drop", "Challenge"]
                .iter()
                .any(|w| name.contains(w))
        })
        .filter_map(|(name, after)| {
            let before = ext_before
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, v)| *v);
            (*after > before).then(|| format!("{name} +{}", after - before))
        })
        .collect();
    t.observe(
        "snmp",
        "in B: Tcp OutRsts during these connections",
        format!("{resets} RST(s) sent"),
    )?;
    t.observe(
        "netstat",
        "in B: TcpExt counters of resets, aborts, drops and overflows that moved",
        if moved.is_empty() {
            "none".to_string()
        } else {
            moved.join(", ")
        },
    )?;
    t.note(if resets == 0 {
        "B sent no RST: every connection ended with FIN and ACK".to_string()
    } else {
        format!("B sent {resets} RST(s) (this lab does not capture which segment each answered): with tcp_rfc1337 set in A, none can end a client's TIME_WAIT early, so the count stays one per connection")
    });
    let accumulated = counts
        .iter()
        .enumerate()
        .all(|(i, &n)| n == (i + 1) * BATCH);

    // 2. A narrow ephemeral range runs out.
    let range_text = format!("{RANGE_LOW} {RANGE_HIGH}");
    hosts::sysctl(t, (a, "A"), "net/ipv4/ip_local_port_range", &range_text)?;
    let range_size = usize::from(RANGE_HIGH - RANGE_LOW) + 1;
    t.note(format!("{range_size} ephemeral ports"));
    t.note("a new connection's local port comes from this range; a port is free for a destination unless a socket — TIME_WAIT included — already joins it to that same destination");
    let started = Instant::now();
    let exhaust = t.call(
        Actor::Clients,
        "connect+close",
        format!(
            "up to {RANGE_TRIES} × (socket, connect {}, close), until a connect() fails",
            server(PORT_RANGE)
        ),
        || {
            a.run(|| connect_close(server(PORT_RANGE), RANGE_TRIES, true))
                .map_err(io::Error::other)
        },
        Burst::text,
    )?;
    let exhaust = exhaust.unwrap_or_default();
    let exhausted_at = started + exhaust.last_close;
    let oldest_close = started + exhaust.first_close;
    let in_range = count_until(t, a, PORT_RANGE, Side::Client, exhaust.made, SETTLE)?;
    // Every one of them had entered TIME_WAIT by now (sock_diag saw them all):
    // the newest TIME_WAIT's age is measured from here.
    let all_waiting_at = Instant::now();
    let refused = connect_once(t, a, server(PORT_RANGE), false)?;
    let exhausted = exhaust.made == range_size
        && failed_with(&refused, libc::EADDRNOTAVAIL)
        && exhaust.first_errno == Some(libc::EADDRNOTAVAIL);
    t.note(if exhausted {
        format!("EADDRNOTAVAIL: all {range_size} ports of the range are held by TIME_WAIT connections to {} — exactly the range's size connected first", server(PORT_RANGE))
    } else {
        format!("{} connects succeeded of a {range_size}-port range before the first failure", exhaust.made)
    });

    // 3. SO_REUSEADDR on the client changes nothing for connect().
    let with_reuseaddr = connect_once(t, a, server(PORT_RANGE), true)?;
    let reuseaddr_useless = failed_with(&with_reuseaddr, libc::EADDRNOTAVAIL);
    t.note(if reuseaddr_useless {
        "still EADDRNOTAVAIL: SO_REUSEADDR is about bind() (a listener's port held by old connections); connect() never takes over a TIME_WAIT connection's four-tuple for it"
    } else {
        "with SO_REUSEADDR, connect() did not fail as before"
    });

    // 4. tcp_tw_reuse: a TIME_WAIT port may be taken once it is old enough.
    let delay_ms: u64 = a
        .read_sysctl("net/ipv4/tcp_tw_reuse_delay")
        .ok()
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(1000);
    let reuse_default = hosts::sysctl(t, (a, "A"), "net/ipv4/tcp_tw_reuse", "1")?;
    t.note(format!("tcp_tw_reuse was {reuse_default}: {}; now a connect() may take over a TIME_WAIT connection's port once it has been in TIME_WAIT for tcp_tw_reuse_delay = {delay_ms} ms (with TCP timestamps, so its old segments are told apart)", reuse_word(&reuse_default)));
    let waited = t.call(
        Actor::Clients,
        "connect",
        format!(
            "{}, retried every {} ms until one succeeds (at most {})",
            server(PORT_RANGE),
            REUSE_EVERY.as_millis(),
            duration_text(REUSE_WAIT)
        ),
        || {
            a.run(|| retry_connect(server(PORT_RANGE)))
                .map_err(io::Error::other)
        },
        |r: &Retry| r.text(oldest_close, exhausted_at),
    )?;
    let waited = waited.unwrap_or_default();
    let since_oldest = waited
        .at
        .map(|at| at.saturating_duration_since(oldest_close));
    let delay = Duration::from_millis(delay_ms);
    let reused =
        since_oldest.is_some_and(|d| d + Duration::from_millis(50) >= delay) && waited.refusals > 0;
    t.note(match since_oldest {
        Some(d) => format!("{} after the oldest TIME_WAIT connection's close (tcp_tw_reuse_delay {delay_ms} ms): refused {} time(s) before, then a TIME_WAIT port was taken over", duration_text(d), waited.refusals),
        None => "no connect succeeded in time".to_string(),
    });
    // Each TIME_WAIT socket becomes reusable on its own, tcp_tw_reuse_delay
    // after it entered TIME_WAIT; the 200 entered it over a few ms, so right
    // after the first success only the oldest few are free (a burst then
    // runs out again part-way). Let the newest age past the delay too.
    let all_old_at = all_waiting_at + delay + Duration::from_millis(50);
    let pause = all_old_at.saturating_duration_since(Instant::now());
    std::thread::sleep(pause);
    t.note(format!(
        "waited {} more, until even the newest TIME_WAIT socket (all {in_range} seen by sock_diag {} ago) is older than tcp_tw_reuse_delay: each becomes reusable on its own, {delay_ms} ms after it entered TIME_WAIT",
        duration_text(pause),
        duration_text(all_waiting_at.elapsed())
    ));
    let after = t.call(
        Actor::Clients,
        "connect+close",
        format!("50 × (socket, connect {}, close)", server(PORT_RANGE)),
        || {
            a.run(|| connect_close(server(PORT_RANGE), 50, false))
                .map_err(io::Error::other)
        },
        Burst::text,
    )?;
    let after = after.unwrap_or_default();
    let keeps_reusing = after.made == 50;
    t.note(if keeps_reusing {
        "with tcp_tw_reuse every one succeeds, in the same 200-port range: each takes over a TIME_WAIT socket older than the delay".to_string()
    } else {
        format!("only {} of 50 connects succeeded with tcp_tw_reuse: the range's TIME_WAIT sockets were not all older than the delay", after.made)
    });

    // 5. Connection reuse: many requests, one connection, one TIME_WAIT.
    let kept = hosts::socket(t, Actor::Client, (a, "A"), false, true)?;
    calls::receive_timeout(t, Actor::Client, &kept, BOUND)?;
    calls::connect(t, Actor::Client, &kept, server(PORT_REUSE)).need("connect")?;
    let answered = t.call(
        Actor::Client,
        "send+recv",
        format!(
            "{REQUESTS} × (send 8-byte request, recv its 8-byte answer) on {}",
            calls::fd(&kept)
        ),
        || exchange(&kept, REQUESTS),
        |n| format!("{n} requests answered over one connection"),
    )?;
    let answered = answered.unwrap_or(0);
    calls::close(t, Actor::Client, kept)?;
    let reuse_waiting = count_until(t, a, PORT_REUSE, Side::Client, 1, SETTLE)?;
    let one_wait = answered == REQUESTS && reuse_waiting == 1;
    t.note(if one_wait {
        format!("{REQUESTS} requests, one TIME_WAIT — where {MANY} connections left {MANY}")
    } else {
        format!("{answered} requests answered, {reuse_waiting} TIME_WAIT left")
    });

    // 6. The server closes first: TIME_WAIT moves to its side.
    let server_first = t.call(
        Actor::Clients,
        "connect+recv+close",
        format!(
            "{SERVER_FIRST} × (socket, connect {}, recv → 0, close)",
            server(PORT_SERVER_CLOSES)
        ),
        || {
            a.run(|| server_closes(server(PORT_SERVER_CLOSES), SERVER_FIRST))
                .map_err(io::Error::other)
        },
        |n| {
            format!(
                "{n} connections ended by the server (recv() returned 0 before the client closed)"
            )
        },
    )?;
    let server_first = server_first.unwrap_or(0);
    let on_server = count_until(t, b, PORT_SERVER_CLOSES, Side::Server, SERVER_FIRST, SETTLE)?;
    let on_client = count_until(t, a, PORT_SERVER_CLOSES, Side::Client, 0, Duration::ZERO)?;
    let moved = server_first == SERVER_FIRST && on_server == SERVER_FIRST && on_client == 0;
    t.note(if moved {
        format!("{SERVER_FIRST} TIME_WAIT sockets in B, on the server's port, and none in A: TIME_WAIT stays with whoever closes first")
    } else {
        format!("{on_server} TIME_WAIT in B, {on_client} in A")
    });

    let as_expected = accumulated
        && exhausted
        && reuseaddr_useless
        && reused
        && keeps_reusing
        && one_wait
        && moved;
    let mut text = String::new();
    // The run as a whole first: `lab all` shows this sentence.
    text.push_str(&if as_expected {
        format!("TIME_WAIT piled up one per client-closed connection ({MANY} of {MANY}); a {range_size}-port range gave exactly {} connects then EADDRNOTAVAIL, with or without SO_REUSEADDR; tcp_tw_reuse took ports back {} after the oldest close; one kept connection left one TIME_WAIT, and a server closing first kept its own. ", exhaust.made, since_oldest.map_or_else(|| "never".to_string(), duration_text))
    } else {
        "Not every step ended as the lesson says; what differed is below. ".to_string()
    });
    text.push_str(&if accumulated {
        format!("{MANY} short connections whose client closed first left {MANY} TIME_WAIT sockets in the client's namespace, counted by sock_diag at {}. ", counts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    } else {
        format!("The short connections' TIME_WAIT sockets were counted at {}, not one per connection. ", counts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    });
    text.push_str(&format!(
        "With ip_local_port_range narrowed to {range_size} ports, {} connect()s to one server port succeeded ({in_range} then in TIME_WAIT) and the next failed with {}. ",
        exhaust.made,
        refused.as_ref().err().map_or("no error".to_string(), |e| super::errno_parts(e).0)
    ));
    text.push_str(if reuseaddr_useless {
        "SO_REUSEADDR on the client did not help: connect() still failed with EADDRNOTAVAIL. "
    } else {
        "SO_REUSEADDR on the client made a difference here. "
    });
    text.push_str(&match since_oldest {
        Some(d) if reused => format!("tcp_tw_reuse = 1 made connect() succeed again {} after the oldest TIME_WAIT connection had closed (the kernel waits tcp_tw_reuse_delay, {delay_ms} ms, after a socket enters TIME_WAIT), and {}. ", duration_text(d), if keeps_reusing { "once every TIME_WAIT socket was older than that, 50 connects in a row did".to_string() } else { format!("of 50 connects after, {} did", after.made) }),
        Some(d) => format!("tcp_tw_reuse = 1 let connect() succeed {} after the oldest close, sooner than tcp_tw_reuse_delay ({delay_ms} ms) or without a refusal first. ", duration_text(d)),
        None => "tcp_tw_reuse = 1 did not make connect() succeed in time. ".to_string(),
    });
    text.push_str(&format!(
        "{REQUESTS} requests over one kept connection left {reuse_waiting} TIME_WAIT; when the server closed first, TIME_WAIT was on the server's side ({on_server} in B, {on_client} in A). "
    ));
    text.push_str("TIME_WAIT is the closer's cost of a clean close and not an error: a client that opens a connection per request exhausts its ports; reuse connections (HTTP keep-alive, pools), let tcp_tw_reuse take over old ones, or widen the range — SO_REUSEADDR is for the server's bind(), not the client's connect().");
    Ok(Conclusion::new(as_expected, text))
}

/// A counter of the `Tcp:` lines of `host`'s /proc/net/snmp (0 if absent).
fn tcp_counter(host: &Host, name: &str) -> Result<u64, LabError> {
    let snmp = host.read_proc_net("snmp")?;
    let mut tcp = snmp.lines().filter(|l| l.starts_with("Tcp:"));
    let (Some(names), Some(values)) = (tcp.next(), tcp.next()) else {
        return Ok(0);
    };
    Ok(names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0))
}

/// The `TcpExt:` counters of `host`'s /proc/net/netstat, by name.
fn tcp_ext(host: &Host) -> Result<Vec<(String, u64)>, LabError> {
    let netstat = host.read_proc_net("netstat")?;
    let mut ext = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (ext.next(), ext.next()) else {
        return Ok(Vec::new());
    };
    Ok(names
        .split_whitespace()
        .zip(values.split_whitespace())
        .skip(1)
        .filter_map(|(n, v)| Some((n.to_string(), v.parse().ok()?)))
        .collect())
}

fn reuse_word(value: &str) -> &'static str {
    match value {
        "0" => "never",
        "1" => "always",
        "2" => "for loopback only",
        _ => "unknown",
    }
}

/// Which end of the connections to count in TIME_WAIT.
#[derive(Clone, Copy)]
enum Side {
    /// Sockets whose peer is the server's port (in the client's namespace).
    Client,
    /// Sockets on the server's port (in the server's namespace).
    Server,
}

/// Asks sock_diag inside `host` until `want` connections of `port` are in
/// TIME_WAIT on `side` or `deadline` passes; records the count by state.
fn count_until(
    t: &mut Transcript<'_>,
    host: &Host,
    port: u16,
    side: Side,
    want: usize,
    deadline: Duration,
) -> Result<usize, LabError> {
    let started = Instant::now();
    let ours = |s: &crate::sockets::Socket| match side {
        Side::Client => s.peer_port() == port,
        Side::Server => s.local_port() == port && s.state != state::LISTEN,
    };
    let (waiting, others) = loop {
        let table = host.run(|| tcp_table(port))?;
        let waiting = table
            .iter()
            .filter(|s| ours(s) && s.state == state::TIME_WAIT)
            .count();
        let mut others: Vec<(String, usize)> = Vec::new();
        for s in table
            .iter()
            .filter(|s| ours(s) && s.state != state::TIME_WAIT)
        {
            match others.iter_mut().find(|(name, _)| name == s.state.name()) {
                Some((_, n)) => *n += 1,
                None => others.push((s.state.name().to_string(), 1)),
            }
        }
        if waiting == want || started.elapsed() >= deadline {
            break (waiting, others);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (where_, end) = match side {
        Side::Client => ("A", format!("dport = :{port}")),
        Side::Server => ("B", format!("sport = :{port}")),
    };
    let mut text = format!("{waiting} TIME-WAIT");
    for (name, n) in &others {
        text.push_str(&format!(", {n} {name}"));
    }
    t.observe("sock_diag", format!("in {where_}: tcp {end}"), text)?;
    Ok(waiting)
}

/// A burst of short connections: how many were made, the errno that ended
/// it, and when (after the burst began) the first and last were closed.
#[derive(Default)]
struct Burst {
    made: usize,
    failed: usize,
    first_errno: Option<i32>,
    first_close: Duration,
    last_close: Duration,
}

impl Burst {
    fn text(&self) -> String {
        let mut text = format!("{} connected and closed", self.made);
        if let Some(errno) = self.first_errno {
            let name = super::errno_parts(&io::Error::from_raw_os_error(errno)).0;
            text.push_str(&format!("; then connect() failed: {name}"));
        } else if self.failed > 0 {
            text.push_str(&format!("; {} failed", self.failed));
        }
        text
    }
}

/// `count` short connections to `server` in the calling thread's
/// namespace, the client closing first; stops at the first failure when
/// `until_failure`.
fn connect_close(server: SocketAddr, count: usize, until_failure: bool) -> Burst {
    let started = Instant::now();
    let mut burst = Burst::default();
    for _ in 0..count {
        let attempt = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .and_then(|socket| socket.connect(&server.into()).map(|()| socket));
        match attempt {
            Ok(socket) => {
                drop(socket);
                let now = started.elapsed();
                if burst.made == 0 {
                    burst.first_close = now;
                }
                burst.last_close = now;
                burst.made += 1;
            }
            Err(err) => {
                burst.failed += 1;
                burst.first_errno = burst.first_errno.or(err.raw_os_error());
                if until_failure {
                    break;
                }
            }
        }
    }
    burst
}

/// `count` short connections, recorded as one step.
fn batch(
    t: &mut Transcript<'_>,
    host: &Host,
    server: SocketAddr,
    count: usize,
) -> Result<usize, LabError> {
    let burst = t.call(
        Actor::Clients,
        "connect+close",
        format!("{count} × (socket, connect {server}, close)"),
        || {
            host.run(|| connect_close(server, count, false))
                .map_err(io::Error::other)
        },
        Burst::text,
    )?;
    Ok(burst.map_or(0, |b| b.made))
}

/// One connect() in A, recorded: with or without SO_REUSEADDR first.
fn connect_once(
    t: &mut Transcript<'_>,
    a: &Host,
    server: SocketAddr,
    reuseaddr: bool,
) -> Result<io::Result<()>, LabError> {
    let socket = hosts::socket(t, Actor::Client, (a, "A"), false, true)?;
    if reuseaddr {
        calls::setsockopt(t, Actor::Client, &socket, "SO_REUSEADDR", Value::Bool(true))?;
    }
    let result = calls::connect(t, Actor::Client, &socket, server)?;
    let shown = match &result {
        Ok(()) => Ok(()),
        Err(err) => Err(io::Error::from_raw_os_error(
            err.raw_os_error().unwrap_or(0),
        )),
    };
    calls::close(t, Actor::Client, socket)?;
    Ok(shown)
}

/// How the retried connect ended: refusals first, then when it succeeded.
#[derive(Default)]
struct Retry {
    refusals: usize,
    at: Option<Instant>,
}

impl Retry {
    fn text(&self, oldest: Instant, newest: Instant) -> String {
        match self.at {
            Some(at) => format!(
                "0 after {} refusal(s) (EADDRNOTAVAIL): {} after the oldest TIME_WAIT connection's close, {} after the newest",
                self.refusals,
                duration_text(at.saturating_duration_since(oldest)),
                duration_text(at.saturating_duration_since(newest))
            ),
            None => format!("still failing after {} attempts", self.refusals),
        }
    }
}

/// connect() every 20 ms until one succeeds (its socket is closed at once).
fn retry_connect(server: SocketAddr) -> Retry {
    let started = Instant::now();
    let mut retry = Retry::default();
    while started.elapsed() < REUSE_WAIT {
        let attempt = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
            .and_then(|socket| socket.connect(&server.into()));
        match attempt {
            Ok(()) => {
                retry.at = Some(Instant::now());
                return retry;
            }
            Err(_) => retry.refusals += 1,
        }
        std::thread::sleep(REUSE_EVERY);
    }
    retry
}

/// `count` request/answer exchanges over `socket`.
fn exchange(socket: &Socket, count: usize) -> io::Result<usize> {
    let mut answer = [0u8; 8];
    for i in 0..count {
        let request = format!("req {:04}", i % 10_000);
        (&*socket).write_all(request.as_bytes())?;
        (&*socket).read_exact(&mut answer)?;
        if answer != request.as_bytes() {
            return Ok(i);
        }
    }
    Ok(count)
}

/// Connections the server ends: wait for its FIN (recv → 0), then close.
fn server_closes(server: SocketAddr, count: usize) -> usize {
    let mut ended = 0;
    for _ in 0..count {
        let Ok(socket) = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)) else {
            continue;
        };
        if socket.set_read_timeout(Some(BOUND)).is_err() || socket.connect(&server.into()).is_err()
        {
            continue;
        }
        let mut byte = [0u8; 1];
        if matches!((&socket).read(&mut byte), Ok(0)) {
            ended += 1;
        }
    }
    ended
}

/// A server thread: accepts until `stop`, handling each connection by `mode`.
fn serve(listener: TcpListener, mode: Mode, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        handle(stream, mode);
    }
}

fn handle(mut stream: TcpStream, mode: Mode) {
    let _ = stream.set_read_timeout(Some(BOUND));
    let mut buf = [0u8; 512];
    match mode {
        Mode::CloseFirst => {}
        Mode::WaitForClose => while matches!(stream.read(&mut buf), Ok(n) if n > 0) {},
        Mode::Echo => {
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
}
