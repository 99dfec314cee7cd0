//! `netdx lab nonblocking`: recv on an empty non-blocking socket fails with
//! EAGAIN; poll() waits for readiness; a non-blocking connect returns
//! EINPROGRESS and SO_ERROR tells how it ended.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::Duration;

use nix::poll::PollFlags;

use super::calls::{self, fd};
use super::{Actor, Conclusion, LabError, Transcript, failed_with};
use crate::sockopt::Value;

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let (listener, client, server) = calls::tcp_pair(t)?;
    calls::setsockopt(t, Actor::Server, &server, "O_NONBLOCK", Value::Bool(true))?;
    t.note("O_NONBLOCK is a file status flag, set with fcntl(), not a socket option");
    let empty = calls::recv(t, Actor::Server, &server, 100)?;
    let eagain = failed_with(&empty, libc::EAGAIN);
    if eagain {
        t.note("nothing to read: a blocking recv() would wait; this one fails at once with EAGAIN");
    }
    let sender = client.try_clone().map_err(|source| LabError::Call {
        what: "dup".into(),
        source,
    })?;
    let helper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let _ = sender.send(b"ping");
    });
    t.observe(
        "helper thread",
        "client sends \"ping\" in 100 ms",
        "started",
    )?;
    let ready = calls::poll(
        t,
        Actor::Server,
        &server,
        PollFlags::POLLIN,
        Duration::from_secs(2),
    )?;
    let woke = matches!(&ready, Ok(flags) if flags.contains(PollFlags::POLLIN));
    t.note("poll() sleeps until the socket is readable: no busy loop");
    let _ = helper.join();
    let got = calls::recv(t, Actor::Server, &server, 100)?.unwrap_or_default();

    // A non-blocking connect to a listener.
    let address = calls::local(&listener).unwrap_or(calls::any_port(false));
    let connecting = calls::tcp(t, Actor::Client, false)?;
    calls::setsockopt(
        t,
        Actor::Client,
        &connecting,
        "O_NONBLOCK",
        Value::Bool(true),
    )?;
    let started = calls::connect(t, Actor::Client, &connecting, address)?;
    let in_progress = failed_with(&started, libc::EINPROGRESS);
    t.note(if in_progress {
        "EINPROGRESS: the handshake has started; the call does not wait for it"
    } else {
        "the connect finished at once (possible on loopback)"
    });
    let _ = calls::poll(
        t,
        Actor::Client,
        &connecting,
        PollFlags::POLLOUT,
        Duration::from_secs(2),
    )?;
    let outcome = calls::getsockopt(t, Actor::Client, &connecting, "SO_ERROR")?;
    let connected = matches!(&outcome, Ok(value) if value.to_string().starts_with('0'));
    t.note("writable, and SO_ERROR 0: connected");

    // A non-blocking connect to a port nobody listens on.
    let probe = calls::tcp(t, Actor::Client, false)?;
    let closed_port = {
        // An address, not a string: a string would link getaddrinfo (NSS) into the binary.
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let spare = std::net::TcpListener::bind(loopback).map_err(|source| LabError::Call {
            what: "finding a free port".into(),
            source,
        })?;
        spare.local_addr().map_or(0, |a| a.port())
    };
    let nowhere = SocketAddr::from(([127, 0, 0, 1], closed_port));
    let _ = calls::connect_nonblocking(t, Actor::Client, &probe, nowhere, Duration::from_secs(2))?;
    t.note(
        "poll() reports the socket ready too: ready means the attempt ended, not that it worked",
    );
    let refused = calls::getsockopt(t, Actor::Client, &probe, "SO_ERROR")?;
    let refused_seen = matches!(&refused, Ok(value) if value.to_string().contains("ECONNREFUSED"));
    t.note("SO_ERROR says how it ended: ECONNREFUSED (and reading it clears it)");
    drop(client);
    let _ = fd(&server);

    let as_expected = eagain && woke && got == b"ping" && connected && refused_seen;
    let text = format!(
        "A non-blocking recv() with nothing queued {}; poll() {} until data came. A non-blocking connect() {}, and only SO_ERROR after poll() says whether it worked: {} for a listener, {} for a closed port. This is the loop every event-driven server runs: try, get EAGAIN, wait for readiness, try again.",
        if eagain {
            "failed at once with EAGAIN"
        } else {
            "did not fail with EAGAIN"
        },
        if woke {
            "slept"
        } else {
            "did not wake as expected"
        },
        if in_progress {
            "returned EINPROGRESS"
        } else {
            "completed at once"
        },
        if connected { "0" } else { "not 0" },
        if refused_seen {
            "ECONNREFUSED"
        } else {
            "no ECONNREFUSED"
        }
    );
    Ok(Conclusion::new(as_expected, text))
}
