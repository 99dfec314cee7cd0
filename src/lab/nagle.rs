//! `netdx lab nagle`: write-write-read with Nagle's algorithm on and off.
//! The second small write waits for the ACK of the first, which the peer
//! delays: about 40 ms a round, until TCP_NODELAY turns Nagle off.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::calls;
use super::{Actor, Conclusion, LabError, Transcript, duration_text};
use crate::sockopt::Value;

const ROUNDS: usize = 20;
const HEADER: usize = 4;
const BODY: usize = 100;

/// One mode's rounds: the median and every round's time.
fn rounds(t: &mut Transcript<'_>, nodelay: bool) -> Result<(Duration, Vec<Duration>), LabError> {
    let (_listener, client, server) = calls::tcp_pair(t)?;
    if nodelay {
        calls::setsockopt(t, Actor::Client, &client, "TCP_NODELAY", Value::Bool(true))?;
    } else {
        let _ = calls::getsockopt(t, Actor::Client, &client, "TCP_NODELAY")?;
        t.note("Nagle's algorithm is on by default");
    }
    // The server answers each request once all of it is in: one byte back.
    let server: TcpStream = server.into();
    let responder = std::thread::spawn(move || {
        let mut server = server;
        let mut request = [0u8; HEADER + BODY];
        while server.read_exact(&mut request).is_ok() {
            if server.write_all(b"k").is_err() {
                break;
            }
        }
    });
    t.observe(
        "server thread",
        format!("reads {} bytes, answers 1", HEADER + BODY),
        "running",
    )?;
    let header = [b'h'; HEADER];
    let body = [b'b'; BODY];
    let mut times = Vec::with_capacity(ROUNDS);
    // The first round is shown call by call; the rest are timed only.
    let started = Instant::now();
    let _ = calls::send(t, Actor::Client, &client, &header)?;
    let _ = calls::send(t, Actor::Client, &client, &body)?;
    if !nodelay {
        t.note("Nagle holds this segment until the first one is acknowledged");
    }
    let _ = calls::recv(t, Actor::Client, &client, 1)?;
    times.push(started.elapsed());
    for _ in 1..ROUNDS {
        let started = Instant::now();
        let round = client
            .send(&header)
            .and_then(|_| client.send(&body))
            .and_then(|_| (&client).read_exact(&mut [0u8; 1]));
        if round.is_err() {
            break;
        }
        times.push(started.elapsed());
    }
    drop(client);
    let _ = responder.join();
    let mut sorted = times.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let shown: Vec<String> = times
        .iter()
        .map(|d| format!("{:.1}", d.as_secs_f64() * 1000.0))
        .collect();
    t.observe(
        "timed",
        format!("{} write-write-read rounds", times.len()),
        format!(
            "median {}; each (ms): {}",
            duration_text(median),
            shown.join(" ")
        ),
    )?;
    Ok((median, times))
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let (nagle, _) = rounds(t, false)?;
    t.note(
        "the peer delays its ACK (delayed ACK, 40 ms minimum on Linux) while Nagle waits for it",
    );
    let (nodelay, _) = rounds(t, true)?;
    t.note("with TCP_NODELAY the second write goes at once");
    let as_expected = nagle >= Duration::from_millis(20) && nodelay < nagle / 4;
    let text = if as_expected {
        format!(
            "With Nagle's algorithm on, each write-write-read round took {} (median): the second small write waited for the ACK of the first, and the peer delays ACKs. With TCP_NODELAY it took {}. Write a request in one send() where you can, and set TCP_NODELAY for request/response protocols.",
            duration_text(nagle),
            duration_text(nodelay)
        )
    } else {
        format!(
            "This time rounds took {} with Nagle and {} without: the stall did not show. Quick-ACK mode (the kernel acknowledges at once early in a connection, or after it sees a pause) can hide it; the effect needs Nagle on one side and delayed ACKs on the other.",
            duration_text(nagle),
            duration_text(nodelay)
        )
    };
    Ok(Conclusion::new(as_expected, text))
}
