//! `netdx lab recv`: the three cases of a blocking recv() — data buffered,
//! nothing buffered while the peer is open, the peer closed — and what
//! MSG_PEEK, MSG_WAITALL and MSG_DONTWAIT change.
#![forbid(unsafe_code)]

use std::time::Duration;

use nix::sys::socket::MsgFlags;
use socket2::Socket;

use super::calls;
use super::{Actor, Conclusion, LabError, Transcript, duration_text, failed_with};

/// How long the empty-buffer recv() may block before SO_RCVTIMEO ends it.
const TIMEOUT: Duration = Duration::from_millis(300);
/// How long after a recv() starts the helper thread sends.
const LATE: Duration = Duration::from_millis(150);
/// The bound on every later recv() (none of them should come near it).
const BOUND: Duration = Duration::from_secs(2);

/// Starts a thread that sends `data` on a copy of `client` after [`LATE`],
/// recorded as an observation and flushed first, so a `--step` pause does
/// not eat into the delay.
fn send_late(
    t: &mut Transcript<'_>,
    client: &Socket,
    data: &'static [u8],
) -> Result<std::thread::JoinHandle<()>, LabError> {
    let sender = client.try_clone().map_err(|source| LabError::Call {
        what: "dup".into(),
        source,
    })?;
    t.observe(
        "helper thread",
        format!(
            "client sends {} in {} ms",
            calls::quote(data),
            LATE.as_millis()
        ),
        "started",
    )?;
    t.flush()?;
    Ok(std::thread::spawn(move || {
        std::thread::sleep(LATE);
        let _ = sender.send_with_flags(data, libc::MSG_NOSIGNAL);
    }))
}

/// How long the last call took, as a duration (zero if nothing was recorded).
fn took(t: &Transcript<'_>) -> Duration {
    t.last_elapsed().unwrap_or_default()
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let (_listener, client, server) = calls::tcp_pair(t)?;

    // 1. Data buffered: returned at once, however much was asked for.
    let message = b"hello world";
    let _ = calls::send(t, Actor::Client, &client, message)?;
    let buffered = calls::recv(t, Actor::Server, &server, 100)?;
    let short = matches!(&buffered, Ok(data) if data == message);
    t.note(match &buffered {
        Ok(data) => format!(
            "{} bytes were queued and 100 asked for: recv() returned the {} it had at once — it does not wait to fill the buffer",
            message.len(),
            data.len()
        ),
        Err(_) => "the queued bytes could not be read".to_string(),
    });

    // 2. Nothing buffered, peer open: recv() blocks.
    calls::receive_timeout(t, Actor::Server, &server, TIMEOUT)?;
    t.note("a timer on every blocking receive, so the wait below ends");
    let empty = calls::recv(t, Actor::Server, &server, 100)?;
    let blocked_for = took(t);
    let blocked = failed_with(&empty, libc::EAGAIN) && blocked_for >= TIMEOUT.mul_f64(0.9);
    t.note(if blocked {
        format!(
            "nothing queued and the peer still open: recv() slept {} until SO_RCVTIMEO ran out, then failed with EAGAIN; without the timer it would sleep until data or a FIN came",
            duration_text(blocked_for)
        )
    } else {
        format!(
            "recv() came back after {} without the timeout's EAGAIN",
            duration_text(blocked_for)
        )
    });
    calls::receive_timeout(t, Actor::Server, &server, BOUND)?;
    t.note("a longer timer, only as a bound: this time data is coming");
    let helper = send_late(t, &client, b"late")?;
    let woken = calls::recv(t, Actor::Server, &server, 100)?;
    let woke_after = took(t);
    let _ = helper.join();
    let woke = matches!(&woken, Ok(data) if data == b"late") && woke_after >= LATE.mul_f64(0.5);
    t.note(format!(
        "the same blocking recv() with data on its way: it slept {} and returned when the bytes arrived",
        duration_text(woke_after)
    ));

    // 3. The peer closed: 0, at once, every time.
    calls::close(t, Actor::Client, client)?;
    t.note("close() sends a FIN after the data");
    let end = calls::recv(t, Actor::Server, &server, 100)?;
    let end_after = took(t);
    let again = calls::recv(t, Actor::Server, &server, 100)?;
    let end_of_stream = matches!(&end, Ok(data) if data.is_empty())
        && matches!(&again, Ok(data) if data.is_empty())
        && end_after < BOUND / 2;
    t.note(if end_of_stream {
        "recv() returns 0 without waiting, and again on every later call: end of stream, not an error"
    } else {
        "recv() did not report end of stream as 0"
    });
    drop(server);

    // The flags, on a fresh connection.
    let (_listener, client, server) = calls::tcp_pair(t)?;
    calls::receive_timeout(t, Actor::Server, &server, BOUND)?;
    t.note("only a bound: none of the calls below should come near it");
    let _ = calls::send(t, Actor::Client, &client, b"peekaboo")?;
    let peeked = calls::recv_with(t, Actor::Server, &server, 100, MsgFlags::MSG_PEEK)?;
    t.note("MSG_PEEK copies the bytes out and leaves them queued");
    let read = calls::recv(t, Actor::Server, &server, 100)?;
    let peek_kept = matches!(&peeked, Ok((8, data)) if data == b"peekaboo")
        && matches!(&read, Ok(data) if data == b"peekaboo");
    t.note(if peek_kept {
        "the next recv() reads the same bytes again, and only now removes them"
    } else {
        "the peeked bytes were not read again"
    });

    let _ = calls::send(t, Actor::Client, &client, b"01234")?;
    let part = calls::recv(t, Actor::Server, &server, 10)?;
    let partial = matches!(&part, Ok(data) if data == b"01234");
    t.note("10 asked for, 5 queued: a plain recv() returns the 5");
    let _ = calls::send(t, Actor::Client, &client, b"01234")?;
    let helper = send_late(t, &client, b"56789")?;
    let whole = calls::recv_with(t, Actor::Server, &server, 10, MsgFlags::MSG_WAITALL)?;
    let waited_all = took(t);
    let _ = helper.join();
    let full = matches!(&whole, Ok((10, data)) if data == b"0123456789")
        && waited_all >= LATE.mul_f64(0.5);
    t.note(if full {
        format!(
            "MSG_WAITALL held the call {} until all 10 bytes were there (a signal, an error, the timer or end of stream can still cut it short)",
            duration_text(waited_all)
        )
    } else {
        format!(
            "MSG_WAITALL returned after {} without the full 10 bytes",
            duration_text(waited_all)
        )
    });

    let now = calls::recv_with(t, Actor::Server, &server, 100, MsgFlags::MSG_DONTWAIT)?;
    let at_once = took(t);
    let dontwait = failed_with(&now, libc::EAGAIN) && at_once < BOUND / 2;
    t.note(format!(
        "MSG_DONTWAIT makes this one call non-blocking: {} after {}, though the socket is blocking with a {} timer",
        if failed_with(&now, libc::EAGAIN) {
            "EAGAIN"
        } else {
            "no EAGAIN"
        },
        duration_text(at_once),
        duration_text(BOUND)
    ));
    drop(client);

    let as_expected =
        short && blocked && woke && end_of_stream && peek_kept && partial && full && dontwait;
    let text = format!(
        "A blocking recv() {}, {} with nothing queued and the peer open (and {} when data came), and {} once the peer had closed. {}, {}, and {}. A count from recv() is never a message length: loop until you have what the protocol needs (or ask MSG_WAITALL), and treat 0 as the peer's end of stream.",
        if short {
            format!(
                "returned the {} queued bytes of the 100 asked for at once",
                message.len()
            )
        } else {
            "did not return the queued bytes as they were".to_string()
        },
        if blocked {
            format!(
                "slept {} until SO_RCVTIMEO ended it with EAGAIN",
                duration_text(blocked_for)
            )
        } else {
            "did not block until its timeout".to_string()
        },
        if woke {
            format!("woke after {}", duration_text(woke_after))
        } else {
            "did not wake as expected".to_string()
        },
        if end_of_stream {
            "returned 0 at once, and again on the next call,"
        } else {
            "did not return 0"
        },
        if peek_kept {
            "MSG_PEEK left the bytes queued for the next recv()"
        } else {
            "MSG_PEEK did not leave the bytes queued"
        },
        if full {
            format!(
                "MSG_WAITALL waited {} for all 10 bytes where a plain recv() returned {}",
                duration_text(waited_all),
                if partial { "5" } else { "something else" }
            )
        } else {
            "MSG_WAITALL did not wait for all 10 bytes".to_string()
        },
        if dontwait {
            "MSG_DONTWAIT failed at once with EAGAIN on the blocking socket"
        } else {
            "MSG_DONTWAIT did not fail at once with EAGAIN"
        },
    );
    Ok(Conclusion::new(as_expected, text))
}
