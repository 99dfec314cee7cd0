//! `netdx lab reuseport`: two listeners on one port with SO_REUSEPORT and
//! how the kernel spreads connections between them.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nix::poll::PollFlags;

use socket2::Socket;

use super::calls::{self, fd};
use super::{Actor, Conclusion, LabError, Transcript};
use crate::sockopt::Value;

const CLIENTS: usize = 20;

fn listener(
    t: &mut Transcript<'_>,
    actor: Actor,
    address: SocketAddr,
    reuse: bool,
) -> Result<(Socket, bool), LabError> {
    let socket = calls::tcp(t, actor, false)?;
    if reuse {
        calls::setsockopt(t, actor, &socket, "SO_REUSEPORT", Value::Bool(true))?;
    }
    let bound = calls::bind(t, actor, &socket, address)?;
    if bound.is_ok() {
        calls::listen(t, actor, &socket, 64)?;
    }
    Ok((socket, bound.is_ok()))
}

/// Accepts every queued connection without waiting.
fn drain(t: &mut Transcript<'_>, actor: Actor, socket: &Socket) -> Result<usize, LabError> {
    let accepted = t.call(
        actor,
        "accept",
        format!("{} (non-blocking, until EAGAIN)", fd(socket)),
        || {
            socket.set_nonblocking(true)?;
            let mut count = 0;
            loop {
                match socket.accept() {
                    Ok(_) => count += 1,
                    Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return Ok(count),
                    Err(err) => return Err(err),
                }
            }
        },
        |count| format!("{count} connections"),
    )?;
    Ok(accepted.unwrap_or(0))
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let (a, _) = listener(t, Actor::ServerA, calls::any_port(false), true)?;
    let address = calls::local(&a).unwrap_or(calls::any_port(false));
    let (plain, plain_bound) = listener(t, Actor::ServerC, address, false)?;
    if !plain_bound {
        t.note("a listener without SO_REUSEPORT can't join: every socket on the port must set it");
    }
    calls::close(t, Actor::ServerC, plain)?;
    let (b, b_bound) = listener(t, Actor::ServerB, address, true)?;
    if b_bound {
        t.note("two listening sockets now share one port");
    }
    let clients = t.call(
        Actor::Clients,
        "connect",
        format!("{CLIENTS} sockets, {address}"),
        || {
            let mut held = Vec::new();
            for _ in 0..CLIENTS {
                let client = Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
                client.connect(&address.into())?;
                held.push(client);
            }
            Ok(held)
        },
        |held| format!("{} connected", held.len()),
    )?;
    let mut to_a = drain(t, Actor::ServerA, &a)?;
    let mut to_b = drain(t, Actor::ServerB, &b)?;
    if to_a + to_b < CLIENTS {
        t.note(format!(
            "{} of {CLIENTS} connections are in no accept queue yet: connect() returns once the client has sent the handshake's last ACK, and the server's side of loopback had not processed it",
            CLIENTS - to_a - to_b
        ));
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while to_a + to_b < CLIENTS && Instant::now() < deadline {
        // Whether A became readable or not, both queues are drained again.
        let _readable = calls::poll(
            t,
            Actor::ServerA,
            &a,
            PollFlags::POLLIN,
            Duration::from_millis(20),
        )?;
        to_a += drain(t, Actor::ServerA, &a)?;
        to_b += drain(t, Actor::ServerB, &b)?;
    }
    t.note(format!("the kernel put {to_a} connections on A and {to_b} on B, by a hash of each client's address and port"));
    drop(clients);
    let refused_plain = !plain_bound;
    let spread = to_a > 0 && to_b > 0 && to_a + to_b == CLIENTS;
    let mut text = String::new();
    if refused_plain {
        text.push_str("Without SO_REUSEPORT a second socket can't bind a port in use. ");
    }
    if b_bound {
        text.push_str("With SO_REUSEPORT on every socket, two listeners share the port, ");
        if spread {
            text.push_str(&format!("and the kernel spread {CLIENTS} connections across them ({to_a} and {to_b}): a hash of the client's address, not round robin. "));
        } else {
            text.push_str(&format!("but this time the hash put {to_a} and {to_b} of {CLIENTS} connections on them; with few clients one side can get most or all. "));
        }
    }
    text.push_str("It lets one accept loop per thread or process each own a listener.");
    let as_expected = refused_plain && b_bound && spread;
    Ok(Conclusion::new(as_expected, text))
}
