//! `netdx lab udp-boundaries`: UDP keeps message boundaries, and a datagram
//! larger than the receive buffer is cut, MSG_TRUNC telling its real size.
#![forbid(unsafe_code)]

use nix::sys::socket::MsgFlags;

use super::calls;
use super::{Actor, Conclusion, LabError, Need, Transcript};

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let receiver = calls::udp(t, Actor::Receiver)?;
    let address = calls::any_port(false);
    calls::bind(t, Actor::Receiver, &receiver, address).need("bind")?;
    let target = calls::local(&receiver).unwrap_or(address);
    let sender = calls::udp(t, Actor::Sender)?;
    calls::connect(t, Actor::Sender, &sender, target).need("connect")?;
    t.note("connect() on UDP only fixes the destination: nothing is sent");
    let messages: [&[u8]; 3] = [b"one", b"two three", b"four five six"];
    for message in messages {
        let _ = calls::send(t, Actor::Sender, &sender, message)?;
    }
    let mut kept = true;
    for message in messages {
        let got = calls::recv(t, Actor::Receiver, &receiver, 1024)?.unwrap_or_default();
        kept &= got == message;
    }
    if kept {
        t.note("three sends, three receives, each exactly one datagram, even with room for more");
    }
    let big = vec![b'x'; 2000];
    let _ = calls::send_bulk(t, Actor::Sender, &sender, &big, 0)?;
    let cut = calls::recv_with(t, Actor::Receiver, &receiver, 100, MsgFlags::MSG_TRUNC)?;
    let truncated = matches!(&cut, Ok((2000, data)) if data.len() == 100);
    t.note("a 100-byte buffer gets the first 100 bytes; MSG_TRUNC makes recv() return the real size, 2000");
    let after = calls::recv_with(t, Actor::Receiver, &receiver, 2000, MsgFlags::MSG_DONTWAIT)?;
    let gone = matches!(&after, Err(err) if err.kind() == std::io::ErrorKind::WouldBlock);
    if gone {
        t.note("the other 1900 bytes are gone: a datagram is read whole or cut, never continued");
    }
    let as_expected = kept && truncated && gone;
    let text = format!(
        "UDP {}: each recv() returned exactly one datagram. A datagram larger than the buffer {}; the rest was discarded. Size receive buffers for the largest datagram (65507 bytes over IPv4), or pass MSG_TRUNC to learn what was lost.",
        if kept {
            "kept every message boundary"
        } else {
            "did not return the messages one by one this time"
        },
        if truncated {
            "was cut to fit, and MSG_TRUNC reported its real size (2000)"
        } else {
            "was not reported as truncated"
        }
    );
    Ok(Conclusion::new(as_expected, text))
}
