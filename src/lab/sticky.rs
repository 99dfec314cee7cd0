//! `netdx lab sticky`: TCP is a byte stream with no message boundaries.
//! Two send() calls come out of one recv(), a small recv() takes part of a
//! message; then length-prefixed framing and a delimiter put them back.
#![forbid(unsafe_code)]

use std::time::Duration;

use nix::sys::socket::MsgFlags;

use super::calls;
use super::{Actor, Conclusion, LabError, Transcript};

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let (_listener, client, server) = calls::tcp_pair(t)?;

    // The problem: two messages, one read.
    let _ = calls::send(t, Actor::Client, &client, b"hello")?;
    let _ = calls::send(t, Actor::Client, &client, b"world")?;
    std::thread::sleep(Duration::from_millis(50));
    t.observe(
        "sleep",
        "50 ms",
        "the server reads only once both sends have arrived",
    )?;
    let merged = calls::recv(t, Actor::Server, &server, 1024)?.unwrap_or_default();
    let stuck = merged == b"helloworld";
    t.note(if stuck {
        "two send() calls, one recv(): the stream kept the bytes and their order, not where one message ended"
    } else {
        "this time the two sends came out separately; TCP may merge them or not, and code must not depend on either"
    });

    // A small read takes part of a message.
    let _ = calls::send(t, Actor::Client, &client, b"0123456789")?;
    std::thread::sleep(Duration::from_millis(20));
    let part = calls::recv(t, Actor::Server, &server, 4)?.unwrap_or_default();
    t.note("recv(4) returns 4 bytes of the 10 sent; the rest waits for the next recv()");
    let rest = calls::recv(t, Actor::Server, &server, 1024)?.unwrap_or_default();
    let split = part == b"0123" && rest == b"456789";

    // Fix 1: a 4-byte big-endian length before each message.
    let mut frames = Vec::new();
    for message in [&b"hello"[..], &b"world"[..]] {
        let mut frame = (message.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(message);
        let _ = calls::send(t, Actor::Client, &client, &frame)?;
    }
    std::thread::sleep(Duration::from_millis(20));
    for _ in 0..2 {
        let header = calls::recv_with(t, Actor::Server, &server, 4, MsgFlags::MSG_WAITALL)?
            .map(|(_, data)| data)
            .unwrap_or_default();
        let length = header
            .get(..4)
            .map_or(0, |h| u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize);
        t.note(format!("the length prefix says {length} bytes follow"));
        let body = calls::recv_with(t, Actor::Server, &server, length, MsgFlags::MSG_WAITALL)?
            .map(|(_, data)| data)
            .unwrap_or_default();
        frames.push(body);
    }
    let framed = frames == [b"hello".to_vec(), b"world".to_vec()];
    t.note(if framed {
        "length-prefixed framing: each message read whole (MSG_WAITALL waits for exactly that many bytes)"
    } else {
        "the frames did not come back as sent"
    });

    // Fix 2: a delimiter, with a message split across two sends.
    let _ = calls::send(t, Actor::Client, &client, b"hello\nwor")?;
    let _ = calls::send(t, Actor::Client, &client, b"ld\n")?;
    std::thread::sleep(Duration::from_millis(20));
    let mut buffer = calls::recv(t, Actor::Server, &server, 1024)?.unwrap_or_default();
    if !buffer.ends_with(b"\n") {
        buffer.extend(calls::recv(t, Actor::Server, &server, 1024)?.unwrap_or_default());
    }
    let lines: Vec<&[u8]> = buffer
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let shown: Vec<String> = lines.iter().map(|l| calls::quote(l)).collect();
    t.observe(
        "split on \\n",
        calls::quote(&buffer),
        format!("{} messages: {}", lines.len(), shown.join(", ")),
    )?;
    let delimited = lines == [&b"hello"[..], &b"world"[..]];

    let as_expected = stuck && split && framed && delimited;
    let mut text = String::new();
    if stuck {
        text.push_str("TCP delivered two send() calls to one recv() as \"helloworld\": it is a byte stream and keeps no message boundaries (the \"sticky packet\" problem). ");
    } else {
        text.push_str("The two sends happened to arrive separately this time, but TCP is free to merge them: it is a byte stream. ");
    }
    if split {
        text.push_str("A recv() smaller than the message returned part of it. ");
    }
    text.push_str("The fixes put the boundaries back in the data: a length prefix read with MSG_WAITALL (or a read-exactly loop), or a delimiter with a buffer that keeps partial lines until the rest arrives.");
    Ok(Conclusion::new(as_expected, text))
}
