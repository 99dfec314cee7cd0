//! `netdx lab reuseaddr`: restarting a server whose old connection is in
//! TIME_WAIT fails with EADDRINUSE; SO_REUSEADDR, set from the start, fixes it.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use super::calls;
use super::observe;
use super::{Actor, Conclusion, LabError, Need, Transcript, failed_with};
use crate::sockopt::Value;

/// Serves one connection and closes it from the server's side first, so
/// the server's end of it lingers in TIME_WAIT. Returns the port.
fn serve_and_close_first(t: &mut Transcript<'_>, reuse: bool) -> Result<(u16, bool), LabError> {
    let listener = calls::tcp(t, Actor::Server, false)?;
    if reuse {
        calls::setsockopt(
            t,
            Actor::Server,
            &listener,
            "SO_REUSEADDR",
            Value::Bool(true),
        )?;
    }
    let address = calls::any_port(false);
    calls::bind(t, Actor::Server, &listener, address).need("bind")?;
    calls::listen(t, Actor::Server, &listener, 1)?;
    let port = calls::local(&listener).map_or(0, |a| a.port());
    let client = calls::tcp(t, Actor::Client, false)?;
    let target = SocketAddr::from(([127, 0, 0, 1], port));
    calls::connect(t, Actor::Client, &client, target).need("connect")?;
    let (conn, _) = calls::accept(t, Actor::Server, &listener).need("accept")?;
    calls::close(t, Actor::Server, conn)?;
    t.note("the server closes first: its end of the connection will wait in TIME_WAIT");
    calls::close(t, Actor::Client, client)?;
    calls::close(t, Actor::Server, listener)?;
    // The FIN/ACK exchange finishes on the kernel's time: ask until the
    // server's end has reached TIME_WAIT, or two seconds have passed.
    let (_, waiting) =
        observe::listing_until(t, port, std::time::Duration::from_secs(2), |table| {
            table
                .iter()
                .any(|s| s.state == crate::sockets::state::TIME_WAIT && s.local_port() == port)
        })?;
    t.note(if waiting {
        "the old connection still holds the port, in TIME_WAIT (60 s on Linux), though no process has it open"
    } else {
        "no TIME_WAIT socket is left on the port (net.ipv4.tcp_max_tw_buckets may be exhausted, or the state was reused)"
    });
    Ok((port, waiting))
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    // 1. A server that does not set SO_REUSEADDR, restarted.
    let (port, waiting) = serve_and_close_first(t, false)?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let restarted = calls::tcp(t, Actor::Server, false)?;
    let plain = calls::bind(t, Actor::Server, &restarted, address)?;
    if failed_with(&plain, libc::EADDRINUSE) {
        t.note("the restarted server can't bind: the TIME_WAIT connection still uses the address");
    }
    calls::close(t, Actor::Server, restarted)?;
    let late = calls::tcp(t, Actor::Server, false)?;
    calls::setsockopt(t, Actor::Server, &late, "SO_REUSEADDR", Value::Bool(true))?;
    let late_bind = calls::bind(t, Actor::Server, &late, address)?;
    t.note(if late_bind.is_ok() {
        "with SO_REUSEADDR set now, the bind succeeds"
    } else {
        "setting SO_REUSEADDR only now is not enough on Linux: the socket in TIME_WAIT did not have it"
    });
    calls::close(t, Actor::Server, late)?;

    // 2. The fix: the server sets SO_REUSEADDR from the start.
    let (port2, waiting2) = serve_and_close_first(t, true)?;
    let address2 = SocketAddr::from(([127, 0, 0, 1], port2));
    let fixed = calls::tcp(t, Actor::Server, false)?;
    calls::setsockopt(t, Actor::Server, &fixed, "SO_REUSEADDR", Value::Bool(true))?;
    let fixed_bind = calls::bind(t, Actor::Server, &fixed, address2)?;
    let fixed_listen = fixed_bind.is_ok();
    if fixed_listen {
        calls::listen(t, Actor::Server, &fixed, 16)?;
        t.note("the restarted server is listening again while the old connection is still in TIME_WAIT");
    }
    calls::close(t, Actor::Server, fixed)?;

    let failed_first = failed_with(&plain, libc::EADDRINUSE);
    let as_expected = failed_first && fixed_listen;
    let mut text = String::new();
    if failed_first {
        text.push_str("A server that closes a connection first leaves it in TIME_WAIT, and a restart without SO_REUSEADDR fails with EADDRINUSE. ");
    } else if !waiting {
        text.push_str("This time no TIME_WAIT socket held the port, so the plain restart could bind; the lab depends on TIME_WAIT being kept. ");
    } else {
        text.push_str("Unexpectedly, the restart bound despite TIME_WAIT; some kernels reuse TIME_WAIT ports for binding (check net.ipv4.tcp_tw_reuse and the kernel version). ");
    }
    if late_bind.is_err() {
        text.push_str("Setting SO_REUSEADDR only on the new socket is not enough on Linux: the old socket must have had it too. ");
    }
    if fixed_listen {
        text.push_str("A server that sets SO_REUSEADDR before every bind restarts at once, TIME_WAIT or not. ");
    } else if waiting2 {
        text.push_str("Even with SO_REUSEADDR on both sockets the bind failed: another socket is listening on the port. ");
    }
    text.push_str("Set SO_REUSEADDR on every TCP listening socket.");
    Ok(Conclusion::new(as_expected, text))
}
