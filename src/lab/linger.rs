//! `netdx lab linger`: close() with SO_LINGER {on, 0} resets the connection
//! instead of closing it — the peer's recv() fails with ECONNRESET instead
//! of returning 0, and neither side passes through TIME_WAIT — compared with
//! a normal close on the same listener, which leaves the closer in TIME_WAIT.
#![forbid(unsafe_code)]

use std::time::Duration;

use socket2::Socket;

use super::calls;
use super::observe;
use super::{Actor, Conclusion, LabError, Need, Transcript, failed_with};
use crate::sockets::{self, state};
use crate::sockopt::Value;

/// How long netdx asks the kernel for a connection's final state.
const SETTLE: Duration = Duration::from_secs(2);
/// The bound on the peer's recv() (the FIN or RST is already on its way).
const BOUND: Duration = Duration::from_secs(2);

/// A client connected to `listener`, the server's end of it, and the
/// client's port (which names the connection in the socket table).
fn connection(
    t: &mut Transcript<'_>,
    listener: &Socket,
) -> Result<(Socket, Socket, u16), LabError> {
    let address = calls::local(listener).unwrap_or(calls::any_port(false));
    let client = calls::tcp(t, Actor::Client, false)?;
    calls::connect(t, Actor::Client, &client, address).need("connect")?;
    let (server, _) = calls::accept(t, Actor::Server, listener).need("accept")?;
    calls::receive_timeout(t, Actor::Server, &server, BOUND)?;
    t.note("only a bound on the server's recv() below");
    let port = calls::local(&client).map_or(0, |a| a.port());
    Ok((client, server, port))
}

/// The sockets of the connection between the client's `port` and the
/// server's `server`: both ports, since the table for the server's port
/// can also hold TIME_WAIT sockets of an earlier listener that had it.
fn of_connection(table: &[sockets::Socket], server: u16, port: u16) -> Vec<&sockets::Socket> {
    table
        .iter()
        .filter(|s| {
            (s.local_port() == port && s.peer_port() == server)
                || (s.local_port() == server && s.peer_port() == port)
        })
        .collect()
}

/// Which end of the connection a socket is: the client's end has its port.
fn end_name(socket: &sockets::Socket, client_port: u16) -> &'static str {
    if socket.local_port() == client_port {
        "the client's"
    } else {
        "the server's"
    }
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let listener = calls::tcp(t, Actor::Server, false)?;
    calls::bind(t, Actor::Server, &listener, calls::any_port(false)).need("bind")?;
    calls::listen(t, Actor::Server, &listener, 16)?;
    let port = calls::local(&listener).map_or(0, |a| a.port());

    // 1. A normal close, for comparison.
    let (client, server, normal_port) = connection(t, &listener)?;
    calls::close(t, Actor::Client, client)?;
    t.note("a normal close: the kernel sends FIN after any queued data");
    let eof = calls::recv(t, Actor::Server, &server, 100)?;
    let normal_eof = matches!(&eof, Ok(data) if data.is_empty());
    t.note(if normal_eof {
        "the server reads end of stream: recv() returns 0"
    } else {
        "the server did not read end of stream"
    });
    calls::close(t, Actor::Server, server)?;
    // Settled: the client's end in TIME_WAIT, the server's gone (LAST_ACK
    // ends with the client's final ACK).
    let (table, settled) = observe::listing_until(t, port, SETTLE, |table| {
        matches!(of_connection(table, port, normal_port)[..],
            [only] if only.state == state::TIME_WAIT && only.local_port() == normal_port)
    })?;
    let normal: Vec<_> = of_connection(&table, port, normal_port);
    let normal_waiting: Vec<&str> = normal
        .iter()
        .filter(|s| s.state == state::TIME_WAIT)
        .map(|s| end_name(s, normal_port))
        .collect();
    let closer_waits = settled && normal_waiting == ["the client's"];
    t.note(if closer_waits {
        "the client's end — the side that closed first — waits in TIME_WAIT (60 s on Linux); the server's end is gone".to_string()
    } else if normal_waiting.is_empty() {
        "no TIME_WAIT for this connection (net.ipv4.tcp_max_tw_buckets may be exhausted)".to_string()
    } else {
        format!("{} end in TIME_WAIT, and not only the closer's", normal_waiting.join(" and "))
    });

    // 2. SO_LINGER {on, 0}: an abortive close.
    let (client, server, abort_port) = connection(t, &listener)?;
    calls::setsockopt(
        t,
        Actor::Client,
        &client,
        "SO_LINGER",
        Value::Linger(Some(Duration::ZERO)),
    )?;
    t.note("l_onoff 1, l_linger 0: close() will neither wait nor send FIN");
    calls::close(t, Actor::Client, client)?;
    t.note("an abortive close: the kernel sends RST, throws away anything unsent and frees the socket at once");
    let reset = calls::recv(t, Actor::Server, &server, 100)?;
    let peer_reset = failed_with(&reset, libc::ECONNRESET);
    t.note(match &reset {
        Err(_) if peer_reset => {
            "the peer's recv() fails with ECONNRESET: an error, where a normal close gave 0"
                .to_string()
        }
        Err(err) => format!(
            "the peer's recv() failed with {}",
            super::errno_parts(err).0
        ),
        Ok(data) => format!(
            "the peer's recv() returned {} bytes, not ECONNRESET",
            data.len()
        ),
    });
    let after = calls::recv(t, Actor::Server, &server, 100)?;
    let reported_once = matches!(&after, Ok(data) if data.is_empty());
    t.note(if reported_once {
        "the error is reported once; after it, recv() returns 0"
    } else {
        "the error was not followed by end of stream"
    });
    calls::close(t, Actor::Server, server)?;
    let (table, gone) = observe::listing_until(t, port, SETTLE, |table| {
        of_connection(table, port, abort_port).is_empty()
    })?;
    let left: Vec<String> = of_connection(&table, port, abort_port)
        .iter()
        .map(|s| format!("{} end in {}", end_name(s, abort_port), s.state.name()))
        .collect();
    let abort_waits = of_connection(&table, port, abort_port)
        .iter()
        .any(|s| s.state == state::TIME_WAIT);
    t.note(if gone {
        format!(
            "nothing is left of the reset connection (client port {abort_port}) on either side: no TIME_WAIT"
        )
    } else {
        format!("the reset connection is still listed: {}", left.join(", "))
    });
    calls::close(t, Actor::Server, listener)?;

    let as_expected = normal_eof && closer_waits && peer_reset && gone;
    let mut text = format!(
        "With SO_LINGER {{on, 0}}, close() {} and sock_diag {}; the normal close before it {} and left {}. ",
        if peer_reset {
            "reset the connection: the peer's recv() failed with ECONNRESET"
        } else {
            "did not make the peer's recv() fail with ECONNRESET"
        },
        if gone {
            "showed no TIME_WAIT on either side of that connection".to_string()
        } else if abort_waits {
            "still showed TIME_WAIT for it".to_string()
        } else {
            format!("still listed it ({})", left.join(", "))
        },
        if normal_eof {
            "gave the peer 0 (end of stream)"
        } else {
            "did not give the peer 0"
        },
        if normal_waiting.is_empty() {
            "no TIME_WAIT behind".to_string()
        } else {
            format!("{} end in TIME_WAIT", normal_waiting.join(" and "))
        },
    );
    text.push_str(
        "That is why it is no TIME_WAIT fix: the peer gets an error instead of an orderly end, whatever was still unsent is thrown away, and without TIME_WAIT a delayed segment of the old connection can be taken as data of a new one on the same ports. A server that cannot rebind after a restart wants SO_REUSEADDR (netdx lab reuseaddr); one drowning in TIME_WAIT wants its clients to close first, or its connections reused. Keep {on, 0} for aborting a connection that is already broken.",
    );
    Ok(Conclusion::new(as_expected, text))
}
