//! `netdx lab timeout`: SO_RCVTIMEO makes a blocking recv() give up with
//! EAGAIN; a connect to a listener whose backlog is full gets no answer and
//! times out (SO_SNDTIMEO, or a non-blocking connect and poll()).
#![forbid(unsafe_code)]

use std::time::Duration;

use socket2::Socket;

use super::calls;
use super::{Actor, Conclusion, LabError, Need, Transcript, duration_text, failed_with};
use crate::sockopt::Value;

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let (_listener, _client, server) = calls::tcp_pair(t)?;
    calls::receive_timeout(t, Actor::Server, &server, Duration::from_millis(500))?;
    let waited = calls::recv(t, Actor::Server, &server, 100)?;
    let recv_time = t
        .last_elapsed()
        .map_or_else(String::new, |d| format!(" after {}", duration_text(d)));
    let timed_out = failed_with(&waited, libc::EAGAIN);
    t.note("after 0.5 s with nothing to read, recv() gives up with EAGAIN — not ETIMEDOUT");

    // A listener that never accepts, with room for one connection.
    let full = calls::tcp(t, Actor::Server, false)?;
    let address = calls::any_port(false);
    calls::bind(t, Actor::Server, &full, address).need("bind")?;
    calls::listen(t, Actor::Server, &full, 0)?;
    t.note("backlog 0: Linux queues one finished connection, and the server never accepts it");
    let target = calls::local(&full).unwrap_or(address);
    let first = calls::tcp(t, Actor::Client, false)?;
    let first_ok = calls::connect(t, Actor::Client, &first, target)?.is_ok();
    t.note(
        "the queue now holds one connection: it is full, and further SYNs are dropped unanswered",
    );

    let second = calls::tcp(t, Actor::Client, false)?;
    calls::setsockopt(
        t,
        Actor::Client,
        &second,
        "SO_SNDTIMEO",
        Value::Duration(Some(Duration::from_secs(1))),
    )?;
    let bounded = calls::connect(t, Actor::Client, &second, target)?;
    let connect_timed_out =
        failed_with(&bounded, libc::EINPROGRESS) || failed_with(&bounded, libc::ETIMEDOUT);
    t.note("SO_SNDTIMEO bounds a blocking connect(): after 1 s it gives up (EINPROGRESS on Linux) while the SYN goes unanswered");

    let third: Socket = calls::tcp(t, Actor::Client, false)?;
    let (_, ended) =
        calls::connect_nonblocking(t, Actor::Client, &third, target, Duration::from_secs(1))?;
    let poll_timed_out = !ended;
    t.note("the portable way: a non-blocking connect and poll() with a timeout; 0 means no answer in time");

    let as_expected = timed_out && first_ok && connect_timed_out && poll_timed_out;
    let text = format!(
        "SO_RCVTIMEO turned a blocking recv() into {}{}. A listener whose accept queue is full drops new SYNs, so a connect to it gets no answer: SO_SNDTIMEO {} and a non-blocking connect with poll() {}. Without a timeout, connect() would retry the SYN for about two minutes before ETIMEDOUT.",
        if timed_out {
            "EAGAIN"
        } else {
            "something other than EAGAIN"
        },
        recv_time,
        if connect_timed_out {
            "ended the blocking connect after 1 s"
        } else {
            "did not end the connect as expected"
        },
        if poll_timed_out {
            "timed out after 1 s"
        } else {
            "did not time out (the SYN was answered)"
        },
    );
    Ok(Conclusion::new(as_expected, text))
}
