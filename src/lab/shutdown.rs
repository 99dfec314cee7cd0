//! `netdx lab shutdown`: the peer closes and recv() returns 0; a half-close
//! with shutdown(SHUT_WR) still reads the answer; writing to a closed peer
//! ends in EPIPE or ECONNRESET.
#![forbid(unsafe_code)]

use std::net::Shutdown;
use std::time::Duration;

use super::calls;
use super::observe;
use super::{Actor, Conclusion, LabError, Transcript};

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    // End of stream.
    let (_listener, client, server) = calls::tcp_pair(t)?;
    calls::close(t, Actor::Client, client)?;
    t.note("close() sends a FIN: the peer will read end of stream");
    let eof = calls::recv(t, Actor::Server, &server, 100)?;
    let end_of_stream = matches!(&eof, Ok(data) if data.is_empty());
    t.note("recv() returns 0: end of stream, not an error — the peer has closed");
    drop(server);

    // Half-close: done sending, still reading.
    let (_listener, client, server) = calls::tcp_pair(t)?;
    let _ = calls::send(t, Actor::Client, &client, b"request")?;
    let _ = calls::shutdown(t, Actor::Client, &client, Shutdown::Write)?;
    t.note("SHUT_WR: \"I am done sending\"; the client can still read");
    let request = calls::recv(t, Actor::Server, &server, 100)?.unwrap_or_default();
    let eof_after = calls::recv(t, Actor::Server, &server, 100)?;
    let saw_end = matches!(&eof_after, Ok(data) if data.is_empty());
    t.note("the server reads the request, then end of stream: it knows the request is complete");
    let _ = calls::send(t, Actor::Server, &server, b"response")?;
    let response = calls::recv(t, Actor::Client, &client, 100)?.unwrap_or_default();
    let half_close = request == b"request" && saw_end && response == b"response";
    t.note("the half-closed client still receives the answer");
    let after_shut = calls::send(t, Actor::Client, &client, b"more")?;
    let epipe_after_shut = super::failed_with(&after_shut, libc::EPIPE);
    t.note("sending after SHUT_WR fails with EPIPE");
    drop(client);
    drop(server);

    // Writing to a peer that has closed.
    let (listener, client, server) = calls::tcp_pair(t)?;
    calls::close(t, Actor::Server, server)?;
    let first = calls::send(t, Actor::Client, &client, b"hello?")?;
    t.note(
        "the local kernel accepts the data: the peer's kernel will answer it with a reset (RST)",
    );
    // The reset comes back on the kernel's time: ask until the client's end
    // has left the table (a reset socket is closed and unhashed).
    let client_port = calls::local(&client).map_or(0, |a| a.port());
    let server_port = calls::local(&listener).map_or(0, |a| a.port());
    let (_, reset) = observe::listing_until(t, server_port, Duration::from_secs(2), |table| {
        !table.iter().any(|s| s.local_port() == client_port)
    })?;
    t.note(if reset {
        "the client's end is gone from the socket table: the peer's RST closed it"
    } else {
        "the client's end is still listed: no reset came back within 2 s"
    });
    let second = calls::send(t, Actor::Client, &client, b"anyone?")?;
    let broken = match &second {
        Err(err) => matches!(
            err.raw_os_error(),
            Some(libc::EPIPE) | Some(libc::ECONNRESET)
        ),
        Ok(_) => false,
    };
    t.note("after the reset, writing fails: EPIPE (with MSG_NOSIGNAL; otherwise SIGPIPE kills the process) or ECONNRESET");

    let as_expected = end_of_stream && half_close && epipe_after_shut && first.is_ok() && broken;
    let errno = match &second {
        Err(err) => super::errno_parts(err).0,
        Ok(n) => format!("success ({n} bytes)"),
    };
    let text = format!(
        "When the peer closes, recv() returns 0{}. shutdown(SHUT_WR) is a half-close: the other side reads end of stream and can still answer, and the half-closed side {} the answer. Writing to a peer that has closed succeeds once — the data is only queued — and the reset that comes back makes the next write fail: here {errno}. Send with MSG_NOSIGNAL (or ignore SIGPIPE) and treat EPIPE/ECONNRESET as the peer gone.",
        if end_of_stream {
            " (end of stream)"
        } else {
            " — not this time"
        },
        if half_close {
            "still read"
        } else {
            "did not read"
        },
    );
    Ok(Conclusion::new(as_expected, text))
}
