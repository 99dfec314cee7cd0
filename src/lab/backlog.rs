//! `netdx lab backlog`: listen(backlog) with a server that never accepts.
//! The kernel completes handshakes until the accept queue is full, then
//! drops further SYNs; those connects stay in progress.
#![forbid(unsafe_code)]

use std::time::Duration;

use super::calls;
use super::observe;
use super::{Actor, Conclusion, LabError, Need, Transcript};

const BACKLOG: i32 = 2;
const CLIENTS: usize = 6;

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let listener = calls::tcp(t, Actor::Server, false)?;
    let address = calls::any_port(false);
    calls::bind(t, Actor::Server, &listener, address).need("bind")?;
    calls::listen(t, Actor::Server, &listener, BACKLOG)?;
    let _ = calls::getsockopt(t, Actor::Server, &listener, "SO_ACCEPTCONN")?;
    t.note("a listener; the server never calls accept()");
    let target = calls::local(&listener).unwrap_or(address);
    let mut completed = 0;
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let client = calls::tcp(t, Actor::Client, false)?;
        let (_, done) = calls::connect_nonblocking(
            t,
            Actor::Client,
            &client,
            target,
            Duration::from_millis(300),
        )?;
        if done {
            completed += 1;
            t.note("the handshake completed: the kernel queued the connection for accept()");
        } else {
            t.note("no answer within 0.3 s: the accept queue is full, so the SYN was dropped; the client will retry it at 1 s, 3 s, 7 s …");
        }
        clients.push(client);
    }
    let sockets = observe::listing(t, target.port())?;
    let queued = sockets
        .iter()
        .find(|s| s.state == crate::sockets::state::LISTEN)
        .map_or(0, |s| s.recv_q);
    let pending = sockets
        .iter()
        .filter(|s| s.state == crate::sockets::state::SYN_SENT)
        .count();
    t.note(format!(
        "the listener's Recv-Q is the accept queue ({queued} waiting), its Send-Q the backlog; {pending} clients are still in SYN-SENT"
    ));
    let expected = (BACKLOG + 1) as usize;
    let as_expected = completed == expected && pending == CLIENTS - expected;
    let text = format!(
        "With listen({BACKLOG}) and no accept(), {completed} of {CLIENTS} connects completed — Linux queues backlog + 1 finished connections — and the other {pending} got no answer: their SYNs were dropped, so they wait in SYN-SENT, retrying, until accept() makes room or they time out. The backlog is not a limit on connections, only on connections waiting to be accepted; a server that falls behind on accept() makes new clients wait seconds. (net.core.somaxconn caps it.)"
    );
    drop(clients);
    Ok(Conclusion::new(as_expected, text))
}
