//! `netdx lab buffers`: a peer that never reads. A blocking send() with a
//! timeout returns a partial count, then EAGAIN; a non-blocking one fails
//! at once; the buffer sizes in effect are shown.
#![forbid(unsafe_code)]

use std::time::Duration;

use super::calls;
use super::observe;
use super::{Actor, Conclusion, LabError, Need, Transcript, failed_with};
use crate::sockopt::Value;

const CHUNK: usize = 1 << 20;
/// Blocking sends tried after the first before giving up on EAGAIN.
const MORE_SENDS: usize = 12;

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    // Small buffers on both sides, set before the connection exists.
    let listener = calls::tcp(t, Actor::Reader, false)?;
    calls::setsockopt(t, Actor::Reader, &listener, "SO_RCVBUF", Value::Int(4096))?;
    let address = calls::any_port(false);
    calls::bind(t, Actor::Reader, &listener, address).need("bind")?;
    calls::listen(t, Actor::Reader, &listener, 1)?;
    let target = calls::local(&listener).unwrap_or(address);
    let writer = calls::tcp(t, Actor::Writer, false)?;
    calls::setsockopt(t, Actor::Writer, &writer, "SO_SNDBUF", Value::Int(4096))?;
    calls::connect(t, Actor::Writer, &writer, target).need("connect")?;
    let (reader, _) = calls::accept(t, Actor::Reader, &listener).need("accept")?;
    let rcvbuf = calls::getsockopt(t, Actor::Reader, &reader, "SO_RCVBUF")?;
    t.note(
        "the accepted socket inherits the listener's SO_RCVBUF: 4096 asked, the kernel doubled it",
    );
    let sndbuf = calls::getsockopt(t, Actor::Writer, &writer, "SO_SNDBUF")?;
    t.note("SO_SNDBUF doubled too; the reader never calls recv() from here on");

    calls::setsockopt(
        t,
        Actor::Writer,
        &writer,
        "SO_SNDTIMEO",
        Value::Duration(Some(Duration::from_millis(500))),
    )?;
    let big = vec![b'x'; CHUNK];
    let first = calls::send_bulk(t, Actor::Writer, &writer, &big, 0)?;
    let partial = matches!(&first, Ok(n) if *n > 0 && *n < CHUNK);
    t.note(match &first {
        Ok(n) if *n < CHUNK => format!("a partial count: {n} of {CHUNK} bytes fit in the buffers before the 0.5 s timeout; the rest was not sent"),
        Ok(_) => "everything was sent: the buffers were larger than expected".to_string(),
        Err(_) => "nothing was sent".to_string(),
    });
    // Acknowledgements arriving meanwhile can free a little room, so a send
    // or two may still place some bytes before one finds none at all.
    let mut blocked = false;
    for _ in 0..MORE_SENDS {
        let next = calls::send_bulk(t, Actor::Writer, &writer, &big, 0)?;
        if failed_with(&next, libc::EAGAIN) {
            blocked = true;
            t.note("no room at all: after the timeout a blocking send() fails with EAGAIN");
            break;
        }
        t.note("a few more bytes fit: acknowledgements freed some send-buffer space meanwhile");
    }
    let third = calls::send_bulk(
        t,
        Actor::Writer,
        &writer,
        &big[..65_536],
        libc::MSG_DONTWAIT,
    )?;
    let nonblocking = failed_with(&third, libc::EAGAIN);
    t.note("non-blocking (MSG_DONTWAIT): EAGAIN at once, without waiting");
    let port = target.port();
    observe::listing(t, port)?;
    t.note("the bytes sent sit in the writer's send queue (Send-Q) and the reader's receive queue (Recv-Q), waiting for a recv() that never comes");

    let as_expected = partial && blocked && nonblocking;
    let sizes = match (&rcvbuf, &sndbuf) {
        (Ok(r), Ok(s)) => {
            format!("SO_RCVBUF {r} and SO_SNDBUF {s} (4096 asked for each, doubled by the kernel)")
        }
        _ => "the buffer sizes".to_string(),
    };
    let text = format!(
        "With a reader that never reads, the sender's data fills {sizes}. A blocking send() with SO_SNDTIMEO then {} and the next one {}; a non-blocking send {}. send() may write less than asked: that is why every sender loops until all bytes are written (or the connection fails), and why a stalled peer must be timed out.",
        if partial {
            "returned a partial count"
        } else {
            "did not return a partial count"
        },
        if blocked {
            "failed with EAGAIN"
        } else {
            "did not fail with EAGAIN"
        },
        if nonblocking {
            "failed with EAGAIN at once"
        } else {
            "did not fail"
        }
    );
    Ok(Conclusion::new(as_expected, text))
}
