//! `netdx echo serve --json-stream` and `--log json` (the same lines): one
//! line per server event as it happens, `listening` first, and `stopped`
//! with the totals last.

use std::net::SocketAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::echo::Proto;
use crate::echo::serve::{Close, Event, Totals};
use crate::render::echo::{close_detail, errno_words};

/// One line of `echo serve --json-stream` / `--log json` (schema
/// `echo-serve.stream`): the server's [`Event`]s, with the words for a
/// close or an accept failure, and the stop.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ServeEvent {
    /// A socket is bound and serving.
    Listening {
        /// TCP or UDP.
        proto: Proto,
        /// Where.
        address: SocketAddr,
    },
    /// A TCP connection was accepted.
    Connected {
        /// Connection number, from 1.
        id: u64,
        /// The client.
        peer: SocketAddr,
    },
    /// A TCP connection ended.
    Closed {
        /// Connection number.
        id: u64,
        /// The client.
        peer: SocketAddr,
        /// Bytes received from it.
        bytes_in: u64,
        /// Bytes echoed back.
        bytes_out: u64,
        /// How long it was open, milliseconds.
        duration_ms: f64,
        /// Why: `reason`.
        #[serde(flatten)]
        close: Close,
        /// The reason in words (`peer closed mid-frame (5 of 9 bytes)`).
        detail: String,
    },
    /// A connection past `--max-conns` was accepted and closed at once.
    Rejected {
        /// The client.
        peer: SocketAddr,
        /// The limit.
        max_conns: u64,
    },
    /// A UDP datagram over `--max-datagram` was dropped, never echoed.
    Oversized {
        /// The sender.
        peer: SocketAddr,
        /// Its size.
        bytes: usize,
        /// The limit.
        max_datagram: usize,
    },
    /// accept() failed (out of descriptors, …); the server goes on.
    AcceptFailed {
        /// Why, in words (`EMFILE (Too many open files)`).
        error: String,
    },
    /// The server stopped (Ctrl-C, SIGTERM, or its reader went away): the last line.
    Stopped {
        /// What it did in all.
        totals: Totals,
    },
}

impl From<&Event> for ServeEvent {
    fn from(event: &Event) -> Self {
        match *event {
            Event::Listening { proto, address } => ServeEvent::Listening { proto, address },
            Event::Connected { id, peer } => ServeEvent::Connected { id, peer },
            Event::Closed {
                id,
                peer,
                bytes_in,
                bytes_out,
                duration_ms,
                close,
            } => ServeEvent::Closed {
                id,
                peer,
                bytes_in,
                bytes_out,
                duration_ms,
                close,
                detail: close_detail(&close),
            },
            Event::Rejected { peer, max_conns } => ServeEvent::Rejected { peer, max_conns },
            Event::Oversized {
                peer,
                bytes,
                max_datagram,
            } => ServeEvent::Oversized {
                peer,
                bytes,
                max_datagram,
            },
            Event::AcceptFailed { errno } => ServeEvent::AcceptFailed {
                error: errno_words(errno),
            },
        }
    }
}

/// The last line: the stop, with the totals.
pub fn stopped(totals: &Totals) -> ServeEvent {
    ServeEvent::Stopped { totals: *totals }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;

    fn line(event: &Event) -> Value {
        serde_json::to_value(ServeEvent::from(event)).unwrap()
    }

    fn peer() -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }

    #[test]
    fn close_events_keep_their_reason_codes_and_get_their_words_here() {
        let closed = |close| Event::Closed {
            id: 3,
            peer: peer(),
            bytes_in: 10,
            bytes_out: 8,
            duration_ms: 1.5,
            close,
        };
        for (close, reason, detail) in [
            (Close::PeerClosed, "peer_closed", "peer closed"),
            (
                Close::PeerClosedMidFrame { have: 5, want: 9 },
                "peer_closed",
                "peer closed mid-frame (5 of 9 bytes)",
            ),
            (
                Close::IdleTimeout {
                    limit: Duration::from_millis(1500),
                },
                "idle_timeout",
                "idle for 1.5 s",
            ),
            (
                Close::FrameTooLarge {
                    length: 101,
                    max: 100,
                },
                "frame_too_large",
                "frame of 101 bytes is over --max-frame 100",
            ),
            (Close::Reset, "reset", "connection reset by peer"),
        ] {
            assert_eq!(
                line(&closed(close)),
                json!({"event": "closed", "id": 3, "peer": "127.0.0.1:40000", "bytes_in": 10,
                       "bytes_out": 8, "duration_ms": 1.5, "reason": reason, "detail": detail})
            );
        }
        let error = line(&closed(Close::Error {
            errno: libc::ETIMEDOUT,
        }));
        assert_eq!(error["reason"], "error");
        assert!(
            error["detail"].as_str().unwrap().contains("timed out"),
            "{error}"
        );
    }

    #[test]
    fn every_other_event_is_its_fields_under_its_name() {
        let failed = line(&Event::AcceptFailed {
            errno: libc::EMFILE,
        });
        assert_eq!(failed.as_object().unwrap().len(), 2, "{failed}");
        assert_eq!(failed["event"], "accept_failed");
        assert!(
            failed["error"].as_str().unwrap().contains("open files"),
            "{failed}"
        );
        let cases = [
            (
                Event::Listening {
                    proto: Proto::Udp,
                    address: peer(),
                },
                json!({"event": "listening", "proto": "udp", "address": "127.0.0.1:40000"}),
            ),
            (
                Event::Connected {
                    id: 1,
                    peer: peer(),
                },
                json!({"event": "connected", "id": 1, "peer": "127.0.0.1:40000"}),
            ),
            (
                Event::Rejected {
                    peer: peer(),
                    max_conns: 2,
                },
                json!({"event": "rejected", "peer": "127.0.0.1:40000", "max_conns": 2}),
            ),
            (
                Event::Oversized {
                    peer: peer(),
                    bytes: 9000,
                    max_datagram: 1500,
                },
                json!({"event": "oversized", "peer": "127.0.0.1:40000", "bytes": 9000,
                       "max_datagram": 1500}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(line(&event), expected);
        }
        let totals = Totals {
            connections: 4,
            ..Totals::default()
        };
        let mut expected = json!({"event": "stopped"});
        expected["totals"] = serde_json::to_value(totals).unwrap();
        assert_eq!(serde_json::to_value(stopped(&totals)).unwrap(), expected);
    }
}
