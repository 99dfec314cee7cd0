//! The control connection's framing and messages (docs/perf-protocol.md).
//!
//! A frame is a 4-byte big-endian length and that many bytes of one JSON
//! object, which always carries `"netdx_perf": VERSION` and a `"type"`.
//! A length above [`MAX_FRAME`] is refused before anything is allocated,
//! so a peer (or a stranger: an iperf3 client, a port scanner) cannot make
//! the reader hold more than that whatever it announces.
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use super::{Measure, Protocol};

/// The protocol version this build speaks; a peer with another is refused.
pub const VERSION: u32 = 1;

/// The largest frame body accepted (64 KiB: a results frame for 128
/// streams is a few KiB).
pub const MAX_FRAME: u32 = 64 * 1024;

/// iperf3's control states as single bytes (its server answers a client's
/// cookie with PARAM_EXCHANGE, or ACCESS_DENIED when busy): seen as the
/// first byte of an answer they mean the peer is an iperf3 server.
const IPERF3_STATES: [u8; 4] = [9, 0xff, 0xfe, 0xfd];

/// What the test is: sent by the client in `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TestParams {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Streams in each direction.
    pub streams: u32,
    /// How long the senders send, in milliseconds.
    pub duration_ms: u64,
    /// The server sends, the client receives.
    pub reverse: bool,
    /// Both send at once (`streams` each way).
    pub bidir: bool,
    /// Bytes per write (TCP) or per datagram (UDP).
    pub length: usize,
    /// Bits per second each sending stream is held to; 0: unlimited.
    pub rate_bps: u64,
    /// UDP: the client's local ports, one per stream in index order.
    #[serde(default)]
    pub udp_ports: Vec<u16>,
    /// TCP senders (on either end) send with sendfile(2) from a file in
    /// memory instead of writing a buffer (iperf3's `-Z`). Added in
    /// netdx 0.x with a default, so version 1 peers without it still agree.
    #[serde(default)]
    pub zerocopy: bool,
}

/// One control message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// Client → server, first frame of a control connection: run this test.
    Hello {
        /// The test.
        test: TestParams,
    },
    /// Server → client: the test is set up; data connections give `cookie`.
    Accept {
        /// Names this test on its data connections.
        cookie: String,
        /// UDP: the server's ports, one per stream in index order.
        #[serde(default)]
        udp_ports: Vec<u16>,
    },
    /// Server → client: the test will not run, and why.
    Refuse {
        /// Why, in words for the user.
        reason: String,
        /// True when the server is at its --max-clients limit.
        #[serde(default)]
        busy: bool,
    },
    /// Client → server, first frame of a TCP data connection.
    Stream {
        /// The test's cookie.
        cookie: String,
        /// The stream's index, from 0.
        index: u32,
    },
    /// Server → client: every data connection is in; send now.
    Start,
    /// Client → server: stop sending now (Ctrl-C); `done` follows as usual.
    Stop,
    /// Either way: this side's senders have finished.
    Done,
    /// Server → client: the server side of every stream.
    Results {
        /// One per stream.
        streams: Vec<Measure>,
    },
    /// Either way: the test failed on this side.
    Error {
        /// What went wrong.
        message: String,
    },
}

/// The envelope of every frame.
#[derive(Serialize)]
struct Envelope<'a> {
    netdx_perf: u32,
    #[serde(flatten)]
    message: &'a Message,
}

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer closed the connection before a whole frame.
    #[error("the peer closed the connection")]
    Closed,
    /// The peer answered with iperf3's state bytes.
    #[error(
        "that is not a netdx perf server (an iperf3 server? it answered with iperf3's state byte {0})"
    )]
    Iperf3Server(u8),
    /// The peer opened with text that is not a frame (an iperf3 client's cookie, HTTP…).
    #[error(
        "that is not a netdx perf peer: it sent {0:?} where a frame's length belongs (an iperf3 client's cookie, or another protocol)"
    )]
    NotNetdx(String),
    /// The announced length is over the limit.
    #[error(
        "a control frame of {0} bytes is over the {MAX_FRAME}-byte limit: not a netdx perf peer"
    )]
    TooLarge(u32),
    /// The body is not a JSON object of this protocol.
    #[error("a garbled control frame: {0}")]
    Garbage(String),
    /// The peer speaks another version.
    #[error(
        "the peer speaks netdx perf protocol version {theirs}, this netdx speaks {ours}: run the same netdx version on both ends"
    )]
    Version {
        /// Its version.
        theirs: u64,
        /// Ours.
        ours: u32,
    },
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Writes `message` as one frame.
pub fn write_frame(out: &mut impl Write, message: &Message) -> io::Result<()> {
    let body = serde_json::to_vec(&Envelope {
        netdx_perf: VERSION,
        message,
    })
    .map_err(io::Error::other)?;
    let length = u32::try_from(body.len())
        .ok()
        .filter(|&n| n <= MAX_FRAME)
        .ok_or_else(|| io::Error::other("control frame over the limit"))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&body);
    out.write_all(&frame)?;
    out.flush()
}

/// Reads one frame, or says plainly what the peer is instead.
pub fn read_frame(input: &mut impl Read) -> Result<Message, FrameError> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(FrameError::Io(err)),
        }
        // iperf3's server sends its state byte alone and waits: say so
        // now rather than wait for three more bytes that never come.
        if got > 0 && IPERF3_STATES.contains(&header[0]) {
            return Err(FrameError::Iperf3Server(header[0]));
        }
    }
    if got < 4 {
        return Err(FrameError::Closed);
    }
    let length = u32::from_be_bytes(header);
    if length > MAX_FRAME {
        if header.iter().all(|b| b.is_ascii_graphic()) {
            return Err(FrameError::NotNetdx(
                String::from_utf8_lossy(&header).into_owned(),
            ));
        }
        return Err(FrameError::TooLarge(length));
    }
    // Bounded by MAX_FRAME above.
    let mut body = vec![0u8; length as usize];
    input.read_exact(&mut body).map_err(|err| {
        if err.kind() == io::ErrorKind::UnexpectedEof {
            FrameError::Closed
        } else {
            FrameError::Io(err)
        }
    })?;
    parse_body(&body)
}

fn parse_body(body: &[u8]) -> Result<Message, FrameError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|err| FrameError::Garbage(err.to_string()))?;
    let version = value
        .get("netdx_perf")
        .ok_or_else(|| FrameError::Garbage("no netdx_perf version field".into()))?;
    let theirs = version
        .as_u64()
        .ok_or_else(|| FrameError::Garbage("the version is not a number".into()))?;
    if theirs != u64::from(VERSION) {
        return Err(FrameError::Version {
            theirs,
            ours: VERSION,
        });
    }
    serde_json::from_value(value).map_err(|err| FrameError::Garbage(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut frame = (body.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(body);
        frame
    }

    #[test]
    fn every_message_survives_a_round_trip() {
        let messages = [
            Message::Hello {
                test: TestParams {
                    protocol: Protocol::Udp,
                    streams: 4,
                    duration_ms: 2000,
                    reverse: true,
                    bidir: false,
                    length: 1460,
                    rate_bps: 1_000_000,
                    udp_ports: vec![4000, 4001],
                    zerocopy: false,
                },
            },
            Message::Accept {
                cookie: "abc".into(),
                udp_ports: vec![],
            },
            Message::Refuse {
                reason: "busy".into(),
                busy: true,
            },
            Message::Stream {
                cookie: "abc".into(),
                index: 3,
            },
            Message::Start,
            Message::Stop,
            Message::Done,
            Message::Results { streams: vec![] },
            Message::Error {
                message: "x".into(),
            },
        ];
        let mut wire = Vec::new();
        for message in &messages {
            write_frame(&mut wire, message).unwrap();
        }
        let mut input = &wire[..];
        for message in &messages {
            assert_eq!(&read_frame(&mut input).unwrap(), message);
        }
        assert!(matches!(read_frame(&mut input), Err(FrameError::Closed)));
    }

    #[test]
    fn a_frame_carries_the_version_and_type() {
        let mut wire = Vec::new();
        write_frame(&mut wire, &Message::Start).unwrap();
        assert_eq!(&wire[4..], br#"{"netdx_perf":1,"type":"start"}"#);
        assert_eq!(&wire[..4], &(wire.len() as u32 - 4).to_be_bytes());
    }

    #[test]
    fn an_oversized_length_is_refused_without_reading_the_body() {
        let mut wire = (MAX_FRAME + 1).to_be_bytes().to_vec();
        wire.extend_from_slice(&[0; 16]);
        assert!(matches!(
            read_frame(&mut &wire[..]),
            Err(FrameError::TooLarge(n)) if n == MAX_FRAME + 1
        ));
        let huge = [0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            read_frame(&mut &huge[..]),
            Err(FrameError::TooLarge(_))
        ));
    }

    #[test]
    fn an_iperf3_cookie_or_state_byte_is_named() {
        // iperf3's client opens with a 37-byte cookie of letters and digits.
        let cookie = b"abcdefghijklmnopqrstuvwxyz01234567890\0";
        let err = read_frame(&mut &cookie[..]).unwrap_err();
        assert!(matches!(err, FrameError::NotNetdx(_)), "{err}");
        assert!(
            err.to_string().contains("an iperf3 client's cookie"),
            "{err}"
        );
        // iperf3's server answers with PARAM_EXCHANGE (9), alone.
        let err = read_frame(&mut &[9u8][..]).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a netdx perf server (an iperf3 server?"),
            "{err}"
        );
        assert!(matches!(
            read_frame(&mut &[0xffu8, 0, 0, 0][..]),
            Err(FrameError::Iperf3Server(0xff))
        ));
    }

    #[test]
    fn garbage_truncation_and_versions_are_clear_errors() {
        for body in [
            &b"not json"[..],
            b"[1,2]",
            br#"{"type":"start"}"#,
            br#"{"netdx_perf":"1","type":"start"}"#,
            br#"{"netdx_perf":1,"type":"launch"}"#,
            br#"{"netdx_perf":1,"type":"hello"}"#,
        ] {
            let err = read_frame(&mut &framed(body)[..]).unwrap_err();
            assert!(matches!(err, FrameError::Garbage(_)), "{body:?}: {err}");
        }
        let err = read_frame(&mut &framed(br#"{"netdx_perf":2,"type":"start"}"#)[..]).unwrap_err();
        assert!(matches!(err, FrameError::Version { theirs: 2, ours: 1 }));
        assert!(err.to_string().contains("version 2"), "{err}");
        // Every truncation of a good frame is Closed, never a panic.
        let mut wire = Vec::new();
        write_frame(&mut wire, &Message::Done).unwrap();
        for cut in 0..wire.len() {
            assert!(matches!(
                read_frame(&mut &wire[..cut]),
                Err(FrameError::Closed)
            ));
        }
    }
}
