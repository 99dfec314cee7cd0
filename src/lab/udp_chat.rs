//! `netdx lab udp-chat`: two UDP peers talk with sendto()/recvfrom() — no
//! connection, the sender's address arriving with each datagram — a third
//! peer injects a message, and connect() on a UDP socket filters peers and
//! turns an ICMP port unreachable into ECONNREFUSED on the next recv().
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::Duration;

use nix::sys::socket::MsgFlags;

use super::calls;
use super::{Actor, Conclusion, LabError, Need, Transcript, duration_text, failed_with};

/// The bound on receives that should not wait at all.
const BOUND: Duration = Duration::from_secs(2);
/// How long the unconnected socket waits for an error it will not be told.
const QUIET: Duration = Duration::from_millis(300);

/// A loopback UDP port nobody has bound (the kernel's pick, let go again).
fn closed_port() -> Result<SocketAddr, LabError> {
    // An address, not a string: a string would link getaddrinfo (NSS) into the binary.
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let spare = std::net::UdpSocket::bind(loopback).map_err(|source| LabError::Call {
        what: "finding a free port".into(),
        source,
    })?;
    let port = spare.local_addr().map_or(0, |a| a.port());
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let a = calls::udp(t, Actor::PeerA)?;
    calls::receive_timeout(t, Actor::PeerA, &a, BOUND)?;
    t.note("only a bound: every datagram A waits for below is already sent");
    calls::bind(t, Actor::PeerA, &a, calls::any_port(false)).need("bind")?;
    let a_address = calls::local(&a).unwrap_or(calls::any_port(false));
    let b = calls::udp(t, Actor::PeerB)?;
    calls::receive_timeout(t, Actor::PeerB, &b, BOUND)?;
    calls::bind(t, Actor::PeerB, &b, calls::any_port(false)).need("bind")?;
    let b_address = calls::local(&b).unwrap_or(calls::any_port(false));
    t.note("no listen(), accept() or connect(): each peer only has an address");

    // B talks first; A learns where to answer from the datagram itself.
    let _ = calls::sendto(t, Actor::PeerB, &b, b"hi A, it's B", a_address)?;
    let first = calls::recvfrom(t, Actor::PeerA, &a, 100)?;
    let from_b =
        matches!(&first, Ok((data, from)) if data == b"hi A, it's B" && *from == b_address);
    t.note("each datagram arrives with its sender's address: that is whom A answers");
    let reply_to = first.as_ref().map_or(b_address, |(_, from)| *from);
    let _ = calls::sendto(t, Actor::PeerA, &a, b"hi B", reply_to)?;
    let answer = calls::recvfrom(t, Actor::PeerB, &b, 100)?;
    let from_a = matches!(&answer, Ok((data, from)) if data == b"hi B" && *from == a_address);

    // A third peer, never introduced.
    let c = calls::udp(t, Actor::PeerC)?;
    let _ = calls::sendto(t, Actor::PeerC, &c, b"it's B, really", a_address)?;
    t.note("C never bound: its first sendto() gave it a port");
    let injected = calls::recvfrom(t, Actor::PeerA, &a, 100)?;
    // C is bound to the wildcard address (0.0.0.0): its port names it.
    let c_port = calls::local(&c).map(|address| address.port());
    let injected_seen = matches!(&injected, Ok((data, from))
        if data == b"it's B, really" && Some(from.port()) == c_port && *from != b_address);
    t.note(if injected_seen {
        "A takes C's datagram like any other: only the source address (and on a real network even that can be forged) says it is not B"
    } else {
        "C's datagram did not reach A as expected"
    });

    // connect() on a UDP socket: one peer only.
    calls::connect(t, Actor::PeerA, &a, b_address).need("connect")?;
    t.note("connect() on UDP sends nothing: it fixes A's peer, and the kernel now delivers A only B's datagrams");
    let c_sent = calls::sendto(t, Actor::PeerC, &c, b"still me", a_address)?.is_ok();
    t.note("C's send succeeds, and C, unconnected, is never told that A's kernel dropped it");
    let _ = calls::sendto(t, Actor::PeerB, &b, b"only B now", a_address)?;
    let only_b = calls::recv(t, Actor::PeerA, &a, 100)?;
    let got_b = matches!(&only_b, Ok(data) if data == b"only B now");
    let nothing_else = calls::recv_with(t, Actor::PeerA, &a, 100, MsgFlags::MSG_DONTWAIT)?;
    let filtered = c_sent && got_b && failed_with(&nothing_else, libc::EAGAIN);
    t.note(if filtered {
        "C's datagram, sent first, was never queued for A: EAGAIN, nothing else to read"
    } else {
        "A's queue did not look filtered"
    });

    // Sending to a port nobody listens on.
    let nowhere = closed_port()?;
    let d = calls::udp(t, Actor::PeerA)?;
    calls::receive_timeout(t, Actor::PeerA, &d, BOUND)?;
    calls::connect(t, Actor::PeerA, &d, nowhere).need("connect")?;
    let sent = calls::send(t, Actor::PeerA, &d, b"anyone?")?.is_ok();
    t.note("the send succeeds: there is no handshake, the datagram just leaves; the port's kernel answers with ICMP port unreachable");
    let refused = calls::recv(t, Actor::PeerA, &d, 100)?;
    let connrefused = sent && failed_with(&refused, libc::ECONNREFUSED);
    t.note(match &refused {
        Err(_) if connrefused => "the ICMP error was queued on the connected socket: the next recv() reports it as ECONNREFUSED".to_string(),
        Err(err) => format!("the next recv() failed with {}, not ECONNREFUSED (no ICMP port unreachable came back?)", super::errno_parts(err).0),
        Ok(data) => format!("the next recv() returned {} bytes", data.len()),
    });
    let e = calls::udp(t, Actor::PeerB)?;
    calls::receive_timeout(t, Actor::PeerB, &e, QUIET)?;
    let _ = calls::sendto(t, Actor::PeerB, &e, b"anyone?", nowhere)?;
    let unanswered = calls::recvfrom(t, Actor::PeerB, &e, 100)?;
    let waited = t.last_elapsed().unwrap_or_default();
    let not_told = failed_with(&unanswered, libc::EAGAIN);
    t.note(if not_told {
        format!("an unconnected socket is not told: the same ICMP error is dropped (unless IP_RECVERR is on), and recvfrom() just times out after {}", duration_text(waited))
    } else {
        "the unconnected socket was told of the error".to_string()
    });

    let as_expected = from_b && from_a && injected_seen && filtered && connrefused && not_told;
    let text = format!(
        "The UDP peers never connected: {}; a third peer's datagram {}. After connect(), {}; and a connected socket's datagram to a closed port {}, where an unconnected socket's {}. Whoever answers UDP must answer the address each datagram came from and check it is a peer it knows; a client talking to one server should connect() its socket, to hear only that server and to learn when nothing listens there.",
        if from_b && from_a {
            "each datagram arrived with its sender's address and the answer went back to it"
        } else {
            "the sender addresses did not come through as expected"
        },
        if injected_seen {
            "reached A like B's, told apart only by its source address"
        } else {
            "did not reach A"
        },
        if filtered {
            "the kernel dropped the third peer's datagram and delivered only B's"
        } else {
            "A's socket was not filtered as expected"
        },
        if connrefused {
            "came back as ECONNREFUSED on the next recv()"
        } else {
            "did not come back as ECONNREFUSED"
        },
        if not_told {
            "recvfrom() only timed out"
        } else {
            "was reported too"
        },
    );
    Ok(Conclusion::new(as_expected, text))
}
