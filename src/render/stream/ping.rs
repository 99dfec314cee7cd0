//! `netdx ping --json-stream`: `start`, then a `reply`, `error` or
//! `timeout` line per probe as it is decided, and a `summary` per target as
//! it finishes (an interim one on SIGQUIT).

use std::io;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::StreamWriter;
use crate::ping::session::{Prepared, Shape};
use crate::ping::{
    Corruption, Event, IcmpErrorKind, IcmpErrorReport, Mode, Reply, ReplyRecord, ReplyStatus,
    Target, TargetReport,
};
use crate::render::ping as view;

/// One line of `ping --json-stream` (schema `ping.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PingEvent<'a> {
    /// Before the first probe.
    Start(Start),
    /// An echo reply: good, duplicate, late or corrupted.
    Reply(ReplyEvent<'a>),
    /// An ICMP error about a probe, or a local error sending it.
    Error(ErrorEvent<'a>),
    /// A probe's timeout passed with no reply.
    Timeout(TimeoutEvent<'a>),
    /// A target's statistics: when it is done, or interim on SIGQUIT.
    Summary(SummaryEvent<'a>),
}

/// One host (iputils) or a sweep (fping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunShape {
    /// One host, iputils-style.
    Host,
    /// Several hosts or networks, fping-style.
    Sweep,
}

/// What the run is about to do.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Start {
    /// One host or a sweep.
    pub shape: RunShape,
    /// The target as given (one host; `null` for a sweep).
    pub target: Option<String>,
    /// The address pinged (one host; `null` for a sweep).
    pub address: Option<IpAddr>,
    /// How many targets the run has.
    pub targets: u64,
    /// The source address, with `-I`.
    pub source: Option<IpAddr>,
    /// ICMP payload bytes per probe (`-s`).
    pub payload_bytes: usize,
    /// Probes per target (`-c`); `null`: until stopped (one host) or until answered (sweep).
    pub count: Option<u64>,
    /// Sweeps without `-c`: attempts after the first (`--retries`).
    pub retries: Option<u32>,
    /// Least time between any two probes (`-i`), milliseconds.
    pub interval_ms: f64,
    /// Least time between two probes to one target (`--period`), milliseconds.
    pub period_ms: f64,
    /// How long a probe waits for its reply (`-W`), milliseconds.
    pub timeout_ms: f64,
    /// The whole run's limit (`-w`), milliseconds.
    pub deadline_ms: Option<f64>,
}

/// How a reply counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// The first intact reply within `-W`: received.
    Good,
    /// A further reply to a probe already answered.
    Duplicate,
    /// After `-W`: not received.
    Late,
    /// Bad checksum or data: not received.
    Corrupted,
}

/// An echo reply.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReplyEvent<'a> {
    /// The target as given.
    pub target: &'a str,
    /// The address pinged.
    pub address: IpAddr,
    /// Who sent the reply.
    pub from: IpAddr,
    /// Size of the ICMP message.
    pub bytes: usize,
    /// `seq`, `ttl`, `rtt_ms`, `dup`, as in the `--json` document's `replies`.
    #[serde(flatten)]
    pub record: ReplyRecord,
    /// How it counts.
    pub status: ReplyKind,
    /// What was wrong with a corrupted reply; `null` otherwise.
    pub corruption: Option<Corruption>,
}

/// Where an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorOrigin {
    /// An ICMP (ICMPv6) error from a router or the target.
    Icmp,
    /// The local stack refused the datagram after sending (error queue).
    Local,
    /// sendto() itself failed.
    Send,
}

/// An error about one probe.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ErrorEvent<'a> {
    /// The target as given.
    pub target: &'a str,
    /// The address pinged.
    pub address: IpAddr,
    /// The probe's icmp_seq.
    pub seq: u16,
    /// Where it came from.
    pub origin: ErrorOrigin,
    /// The ICMP error's sender (`icmp` only).
    pub from: Option<IpAddr>,
    /// ICMP type (`icmp` only; ICMPv6 numbering for IPv6 targets).
    pub icmp_type: Option<u8>,
    /// ICMP code (`icmp` only).
    pub icmp_code: Option<u8>,
    /// The errno (`local` and `send` only).
    pub errno: Option<i32>,
    /// What happened, in iputils' words (`Destination Host Unreachable`).
    pub message: String,
}

/// A probe given up on.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TimeoutEvent<'a> {
    /// The target as given.
    pub target: &'a str,
    /// The address pinged.
    pub address: IpAddr,
    /// The probe's icmp_seq.
    pub seq: u16,
}

/// A target's statistics.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SummaryEvent<'a> {
    /// The fields of one element of the `--json` document (`replies` is
    /// empty: every reply had its own line).
    #[serde(flatten)]
    pub report: &'a TargetReport,
    /// `true` for SIGQUIT's snapshot of a target still running.
    pub interim: bool,
}

/// The `start` line for `prepared`.
pub fn start(prepared: &Prepared) -> Start {
    let plan = &prepared.plan;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let (count, retries) = match plan.mode {
        Mode::Count(count) => (count, None),
        Mode::UntilAlive { retries } => (None, Some(retries)),
    };
    Start {
        shape: match prepared.shape {
            Shape::OneHost => RunShape::Host,
            Shape::Sweep => RunShape::Sweep,
        },
        target: prepared.host.as_ref().map(|host| host.name.clone()),
        address: prepared.host.as_ref().map(|host| host.address),
        targets: u64::try_from(prepared.total).unwrap_or(u64::MAX),
        source: prepared.source_shown.as_ref().map(|(address, _)| *address),
        payload_bytes: plan.payload.len(),
        count,
        retries,
        interval_ms: ms(plan.interval),
        period_ms: ms(plan.period),
        timeout_ms: ms(plan.timeout),
        deadline_ms: plan.deadline.map(ms),
    }
}

/// The `reply` line for `reply` to a probe to `target`.
pub fn reply<'a>(target: &'a Target, reply: &Reply) -> ReplyEvent<'a> {
    let (status, corruption) = match reply.status {
        ReplyStatus::Good => (ReplyKind::Good, None),
        ReplyStatus::Duplicate => (ReplyKind::Duplicate, None),
        ReplyStatus::Late => (ReplyKind::Late, None),
        ReplyStatus::Corrupted(corruption) => (ReplyKind::Corrupted, Some(corruption)),
    };
    ReplyEvent {
        target: &target.name,
        address: target.address,
        from: reply.from,
        bytes: reply.bytes,
        record: ReplyRecord::from(reply),
        status,
        corruption,
    }
}

/// The `error` line for an ICMP or local error about a probe to `target`.
pub fn error<'a>(target: &'a Target, error: &IcmpErrorReport) -> ErrorEvent<'a> {
    let base = ErrorEvent {
        target: &target.name,
        address: target.address,
        seq: error.seq,
        origin: ErrorOrigin::Icmp,
        from: None,
        icmp_type: None,
        icmp_code: None,
        errno: None,
        message: String::new(),
    };
    match error.kind {
        IcmpErrorKind::Icmp {
            from,
            v6,
            icmp_type,
            code,
            info,
        } => ErrorEvent {
            from: Some(from.unwrap_or(target.address)),
            icmp_type: Some(icmp_type),
            icmp_code: Some(code),
            message: view::icmp_error_text(v6, icmp_type, code, info),
            ..base
        },
        IcmpErrorKind::Local { errno, .. } => ErrorEvent {
            origin: ErrorOrigin::Local,
            errno: Some(errno),
            message: view::local_error_text(error).unwrap_or_default(),
            ..base
        },
    }
}

/// The `error` line for a probe to `target` that sendto() refused.
pub fn send_failed<'a>(target: &'a Target, seq: u16, failure: &io::Error) -> ErrorEvent<'a> {
    ErrorEvent {
        target: &target.name,
        address: target.address,
        seq,
        origin: ErrorOrigin::Send,
        from: None,
        icmp_type: None,
        icmp_code: None,
        errno: failure.raw_os_error(),
        message: failure.to_string(),
    }
}

/// Writes ping's events as JSON lines.
pub struct PingStream {
    writer: StreamWriter,
}

impl Default for PingStream {
    fn default() -> Self {
        PingStream::new()
    }
}

impl PingStream {
    /// A stream on stdout.
    pub fn new() -> Self {
        PingStream {
            writer: StreamWriter::stdout(),
        }
    }

    /// The `start` line.
    pub fn start(&mut self, prepared: &Prepared) -> io::Result<()> {
        self.writer.emit(&PingEvent::Start(start(prepared)))
    }

    /// The line for `event`, if it has one (probes sent and `-O`'s
    /// reminders have none: the `timeout` line says it).
    pub fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        let line = match event {
            Event::Reply { target, reply: r } => PingEvent::Reply(reply(target, r)),
            Event::Error { target, error: e } => PingEvent::Error(error(target, e)),
            Event::SendFailed { target, seq, error } => {
                PingEvent::Error(send_failed(target, *seq, error))
            }
            Event::Timeout { target, seq } => PingEvent::Timeout(TimeoutEvent {
                target: &target.name,
                address: target.address,
                seq: *seq,
            }),
            Event::Status(report) => PingEvent::Summary(SummaryEvent {
                report,
                interim: true,
            }),
            Event::Done(report) => PingEvent::Summary(SummaryEvent {
                report,
                interim: false,
            }),
            Event::Sent { .. } | Event::NoAnswerYet { .. } => return Ok(()),
        };
        self.writer.emit(&line)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn target() -> Target {
        Target {
            index: 0,
            name: "gw".into(),
            address: IpAddr::from([10, 0, 0, 1]),
            scope_id: 0,
            named: true,
        }
    }

    fn line(event: &PingEvent<'_>) -> serde_json::Value {
        serde_json::to_value(event).unwrap()
    }

    #[test]
    fn a_reply_line_carries_the_documents_reply_fields_and_its_status() {
        let target = target();
        let reply_ = Reply {
            from: target.address,
            seq: 7,
            bytes: 64,
            ttl: Some(63),
            rtt: Duration::from_micros(1250),
            at: SystemTime::UNIX_EPOCH,
            status: ReplyStatus::Corrupted(Corruption::WrongByte {
                offset: 3,
                expected: 3,
                got: 9,
            }),
        };
        let value = line(&PingEvent::Reply(reply(&target, &reply_)));
        assert_eq!(
            value,
            serde_json::json!({
                "event": "reply", "target": "gw", "address": "10.0.0.1", "from": "10.0.0.1",
                "bytes": 64, "seq": 7, "ttl": 63, "rtt_ms": 1.25, "dup": false,
                "status": "corrupted",
                "corruption": {"kind": "wrong_byte", "offset": 3, "expected": 3, "got": 9}
            })
        );
    }

    #[test]
    fn icmp_errors_name_their_sender_type_and_words() {
        let target = target();
        let report = IcmpErrorReport {
            seq: 2,
            kind: IcmpErrorKind::Icmp {
                from: Some(IpAddr::from([10, 0, 0, 254])),
                v6: false,
                icmp_type: 3,
                code: 1,
                info: 0,
            },
            at: SystemTime::UNIX_EPOCH,
        };
        let value = line(&PingEvent::Error(error(&target, &report)));
        assert_eq!(value["event"], "error");
        assert_eq!(value["origin"], "icmp");
        assert_eq!(value["from"], "10.0.0.254");
        assert_eq!(
            (value["icmp_type"].as_u64(), value["icmp_code"].as_u64()),
            (Some(3), Some(1))
        );
        assert_eq!(value["message"], "Destination Host Unreachable");
        assert_eq!(value["errno"], serde_json::Value::Null);
    }

    /// The property names of `T`'s JSON Schema.
    fn schema_properties<T: JsonSchema>() -> Vec<String> {
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

    fn keys(value: &serde_json::Value) -> Vec<String> {
        let mut names: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        names.retain(|name| name != "event");
        names.sort();
        names
    }

    #[test]
    fn the_schemas_of_every_line_name_the_fields_written() {
        let target = target();
        let reply_ = Reply {
            from: target.address,
            seq: 1,
            bytes: 64,
            ttl: None,
            rtt: Duration::from_micros(80),
            at: SystemTime::UNIX_EPOCH,
            status: ReplyStatus::Good,
        };
        assert_eq!(
            schema_properties::<ReplyEvent<'_>>(),
            keys(&line(&PingEvent::Reply(reply(&target, &reply_))))
        );
        let report = TargetReport::new(&target);
        let summary = SummaryEvent {
            report: &report,
            interim: true,
        };
        assert_eq!(
            schema_properties::<SummaryEvent<'_>>(),
            keys(&line(&PingEvent::Summary(summary)))
        );
        let error_ = send_failed(&target, 1, &io::Error::from_raw_os_error(libc::ENETUNREACH));
        assert_eq!(error_.errno, Some(libc::ENETUNREACH));
        assert_eq!(
            schema_properties::<ErrorEvent<'_>>(),
            keys(&line(&PingEvent::Error(error_)))
        );
        let timeout = TimeoutEvent {
            target: &target.name,
            address: target.address,
            seq: 3,
        };
        assert_eq!(
            schema_properties::<TimeoutEvent<'_>>(),
            keys(&line(&PingEvent::Timeout(timeout)))
        );
        let start = Start {
            shape: RunShape::Host,
            target: None,
            address: None,
            targets: 1,
            source: None,
            payload_bytes: 56,
            count: None,
            retries: None,
            interval_ms: 1000.0,
            period_ms: 1000.0,
            timeout_ms: 10000.0,
            deadline_ms: None,
        };
        assert_eq!(
            schema_properties::<Start>(),
            keys(&line(&PingEvent::Start(start)))
        );
    }

    #[test]
    fn summaries_are_the_documents_target_object_with_interim_beside_it() {
        let target = target();
        let report = TargetReport::new(&target);
        let value = line(&PingEvent::Summary(SummaryEvent {
            report: &report,
            interim: false,
        }));
        let mut document = serde_json::to_value(&report).unwrap();
        let fields = document.as_object_mut().unwrap();
        fields.insert("event".into(), "summary".into());
        fields.insert("interim".into(), false.into());
        assert_eq!(value, document);
    }
}
