//! `netdx echo probe --json-stream`: `start`, a `probe` line per echo and
//! per probe whose timeout passes, `stray` and `error` lines as they
//! happen, an `interval` a second in load mode, and the `--json` document
//! as the `summary`. (`echo serve --json-stream` writes the server's own
//! events, `crate::echo::serve::Event`, as `--log json` does.)

use std::net::SocketAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::echo::Proto;
use crate::echo::load::Progress;
use crate::echo::payload::Difference;
use crate::echo::probe::{Observation, Verdict};
use crate::render::echo::ProbeDocument;

/// One line of `echo probe --json-stream` (schema `echo-probe.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ProbeEvent<'a> {
    /// Before the first probe.
    Start(Start),
    /// An echo, or a probe whose timeout passed without one.
    Probe(ProbeLine),
    /// A datagram that matches no probe of this run.
    Stray(Stray),
    /// The connection failed (refused, reset, closed by the service).
    Error(ErrorLine),
    /// Load mode: what the last second (about) carried.
    Interval(Interval),
    /// The run is over: the `--json` document.
    Summary(Summary<'a>),
}

/// What the run is about to do.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Start {
    /// The service.
    pub target: SocketAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// The local address probes leave from (one connection); `null` in load mode.
    pub local: Option<SocketAddr>,
    /// Payload bytes per probe.
    pub size: usize,
    /// Probes (`-c`; per connection in load mode); `null`: no limit.
    pub count: Option<u64>,
    /// Time between probes (`-i`), milliseconds; 0: back to back; `null` in load mode.
    pub interval_ms: Option<f64>,
    /// How long an echo may take (`-W`), milliseconds.
    pub timeout_ms: f64,
    /// The run's limit (`-w`; `--duration` in load mode), milliseconds.
    pub deadline_ms: Option<f64>,
    /// Load mode: connections (`--connections`); `null` otherwise.
    pub connections: Option<u64>,
}

/// What became of a probe, as far as is known when the line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// Byte-identical, within `-W`.
    Ok,
    /// Different from what was sent.
    Corrupted,
    /// Byte-identical, after `-W` (its `timeout` line came first).
    Late,
    /// A further copy of an echo already counted.
    Duplicate,
    /// `-W` passed with no echo (one may still come, `late`).
    Timeout,
}

/// One probe's news.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ProbeLine {
    /// The probe.
    pub seq: u64,
    /// What happened to it.
    pub outcome: ProbeOutcome,
    /// Bytes echoed (0 for `timeout`).
    pub bytes: usize,
    /// Round trip, milliseconds (time since it was sent, for `duplicate`); `null` for `timeout`.
    pub rtt_ms: Option<f64>,
    /// It came after the echo of a later probe.
    pub reordered: bool,
    /// A corrupted echo's first differing byte, `{offset, sent, got}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Difference")]
    pub difference: Option<Difference>,
}

/// A datagram no probe asked for.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Stray {
    /// Its size.
    pub bytes: usize,
}

/// A connection failure.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ErrorLine {
    /// The first probe it cost (every probe still waiting is lost); `null` if none was.
    pub seq: Option<u64>,
    /// What happened, in words.
    pub error: String,
}

/// Load mode: one interval's good echoes.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Interval {
    /// End of the interval, since the start, milliseconds.
    pub elapsed_ms: f64,
    /// Length of the interval, milliseconds.
    pub interval_ms: f64,
    /// Good echoes in it, over every connection.
    pub messages: u64,
    /// Their payload bytes (one way).
    pub bytes: u64,
    /// `messages` per second.
    pub messages_per_sec: f64,
    /// `bytes` per second.
    pub bytes_per_sec: f64,
}

/// The whole run: the `--json` document, every field.
pub type Summary<'a> = ProbeDocument<'a>;

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The line for `observation`.
pub fn observation(observation: &Observation) -> ProbeEvent<'static> {
    let probe = |seq, outcome, bytes, rtt: Option<Duration>, reordered, difference| {
        ProbeEvent::Probe(ProbeLine {
            seq,
            outcome,
            bytes,
            rtt_ms: rtt.map(ms),
            reordered,
            difference,
        })
    };
    match observation {
        Observation::Echo {
            seq,
            bytes,
            rtt,
            verdict,
            reordered,
        } => {
            let (outcome, difference) = match verdict {
                Verdict::Good => (ProbeOutcome::Ok, None),
                Verdict::Late => (ProbeOutcome::Late, None),
                Verdict::Corrupted(difference) => (ProbeOutcome::Corrupted, Some(*difference)),
            };
            probe(*seq, outcome, *bytes, Some(*rtt), *reordered, difference)
        }
        Observation::Duplicate { seq, bytes, rtt } => probe(
            *seq,
            ProbeOutcome::Duplicate,
            *bytes,
            Some(*rtt),
            false,
            None,
        ),
        Observation::NoEcho { seq } => probe(*seq, ProbeOutcome::Timeout, 0, None, false, None),
        Observation::Stray { bytes } => ProbeEvent::Stray(Stray { bytes: *bytes }),
        Observation::Failed { seq, error } => ProbeEvent::Error(ErrorLine {
            seq: *seq,
            error: error.to_string(),
        }),
    }
}

/// Turns the load's running totals into intervals.
#[derive(Debug, Default)]
pub struct Intervals {
    last: Option<Progress>,
}

impl Intervals {
    /// The interval since the previous reading (or the start).
    pub fn next(&mut self, now: &Progress) -> ProbeEvent<'static> {
        let (elapsed, messages, bytes) = self
            .last
            .map_or((Duration::ZERO, 0, 0), |p| (p.elapsed, p.messages, p.bytes));
        self.last = Some(*now);
        let length = now.elapsed.saturating_sub(elapsed);
        let seconds = length.as_secs_f64().max(1e-9);
        let messages = now.messages.saturating_sub(messages);
        let bytes = now.bytes.saturating_sub(bytes);
        ProbeEvent::Interval(Interval {
            elapsed_ms: ms(now.elapsed),
            interval_ms: ms(length),
            messages,
            bytes,
            messages_per_sec: messages as f64 / seconds,
            bytes_per_sec: bytes as f64 / seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schemas_of_every_line_name_the_fields_written() {
        fn properties<T: JsonSchema>() -> Vec<String> {
            let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
            let mut names: Vec<String> = schema["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            names.sort();
            names
        }
        fn written(event: ProbeEvent<'_>) -> Vec<String> {
            let value = serde_json::to_value(event).unwrap();
            let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            names.retain(|name| name != "event");
            names.sort();
            names
        }
        let reading = Progress {
            elapsed: Duration::from_secs(1),
            messages: 1,
            bytes: 64,
        };
        assert_eq!(
            properties::<Interval>(),
            written(Intervals::default().next(&reading))
        );
        let failed = Observation::Failed {
            seq: None,
            error: crate::echo::setup::Failure::Reset,
        };
        assert_eq!(properties::<ErrorLine>(), written(observation(&failed)));
        let stray = Observation::Stray { bytes: 9 };
        assert_eq!(properties::<Stray>(), written(observation(&stray)));
        // A corrupted echo's line is the one with every field.
        let corrupted = Observation::Echo {
            seq: 1,
            bytes: 64,
            rtt: Duration::from_micros(10),
            verdict: Verdict::Corrupted(Difference {
                offset: 0,
                sent: Some(1),
                got: Some(2),
            }),
            reordered: false,
        };
        assert_eq!(properties::<ProbeLine>(), written(observation(&corrupted)));
        let start = Start {
            target: "127.0.0.1:7".parse().unwrap(),
            proto: Proto::Udp,
            local: None,
            size: 64,
            count: None,
            interval_ms: None,
            timeout_ms: 1000.0,
            deadline_ms: None,
            connections: None,
        };
        assert_eq!(properties::<Start>(), written(ProbeEvent::Start(start)));
    }

    #[test]
    fn intervals_are_the_differences_of_the_running_totals() {
        let mut intervals = Intervals::default();
        let reading = |s: u64, messages: u64| Progress {
            elapsed: Duration::from_secs(s),
            messages,
            bytes: messages * 10,
        };
        let first = serde_json::to_value(intervals.next(&reading(1, 100))).unwrap();
        let second = serde_json::to_value(intervals.next(&reading(3, 500))).unwrap();
        assert_eq!(first["event"], "interval");
        assert_eq!(
            (first["messages"].as_u64(), first["bytes"].as_u64()),
            (Some(100), Some(1000))
        );
        assert_eq!(second["interval_ms"], 2000.0);
        assert_eq!(second["messages"], 400);
        assert_eq!(second["messages_per_sec"], 200.0);
        assert_eq!(second["bytes_per_sec"], 2000.0);
    }

    #[test]
    fn a_timeout_line_has_no_bytes_and_no_round_trip_and_a_corrupted_one_its_difference() {
        let value = serde_json::to_value(observation(&Observation::NoEcho { seq: 4 })).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"event": "probe", "seq": 4, "outcome": "timeout", "bytes": 0,
                               "rtt_ms": null, "reordered": false})
        );
        let corrupted = Observation::Echo {
            seq: 5,
            bytes: 64,
            rtt: Duration::from_micros(1500),
            verdict: Verdict::Corrupted(Difference {
                offset: 9,
                sent: Some(1),
                got: None,
            }),
            reordered: false,
        };
        let value = serde_json::to_value(observation(&corrupted)).unwrap();
        assert_eq!(value["outcome"], "corrupted");
        assert_eq!(value["rtt_ms"], 1.5);
        assert_eq!(
            value["difference"],
            serde_json::json!({"offset": 9, "sent": 1, "got": null})
        );
    }
}
