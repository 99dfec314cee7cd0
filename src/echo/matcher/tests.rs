//! Scenario tests: each scripts what the far end does, event by event,
//! with made-up instants: no sockets, no sleeps.

use std::time::{Duration, Instant};

use super::*;
use crate::echo::payload::{Fill, Generator};

const TIMEOUT: Duration = Duration::from_millis(100);

/// A probe run on paper: what was sent, what comes back, and when.
struct Script {
    matcher: Matcher,
    generator: Generator,
    start: Instant,
    messages: HashMap<u64, Vec<u8>>,
}

impl Script {
    fn new(proto: Proto, size: usize) -> Script {
        let generator = Generator::new(size, Fill::default(), 42);
        Script {
            matcher: Matcher::new(proto, TIMEOUT, generator.clone(), true),
            generator,
            start: Instant::now(),
            messages: HashMap::new(),
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    fn send(&mut self, seq: u64, ms: u64) {
        let message = self.generator.message(seq);
        self.messages.insert(seq, message.clone());
        let at = self.at(ms);
        self.matcher.sent(seq, message, at);
    }

    fn message(&self, seq: u64) -> Vec<u8> {
        self.messages[&seq].clone()
    }

    /// The service echoes probe `seq` at `ms`.
    fn echo(&mut self, seq: u64, ms: u64) -> Observation {
        let bytes = self.message(seq);
        self.bytes(&bytes, ms)
    }

    fn bytes(&mut self, bytes: &[u8], ms: u64) -> Observation {
        let at = self.at(ms);
        self.matcher.datagram(bytes, at)
    }

    fn expire(&mut self, ms: u64) -> Result<Vec<Observation>, Failure> {
        let mut seen = Vec::new();
        let at = self.at(ms);
        self.matcher.expire(at, &mut seen).map(|()| seen)
    }

    fn finish(self) -> (Counts, Vec<Record>) {
        let (counts, records, _) = self.matcher.finish();
        (counts, records)
    }
}

fn verdict_of(observation: &Observation) -> Option<Verdict> {
    match observation {
        Observation::Echo { verdict, .. } => Some(*verdict),
        _ => None,
    }
}

fn outcome_of(records: &[Record], seq: u64) -> Outcome {
    records
        .iter()
        .find(|r| r.seq == seq && r.outcome != Outcome::Duplicate)
        .map(|r| r.outcome.clone())
        .unwrap_or_else(|| panic!("no record for {seq}"))
}

#[test]
fn a_probe_with_no_echo_is_reported_at_its_timeout_and_lost_at_the_end() {
    let mut script = Script::new(Proto::Udp, 64);
    script.send(1, 0);
    script.send(2, 10);
    script.send(3, 20);
    assert_eq!(verdict_of(&script.echo(1, 5)), Some(Verdict::Good));
    assert_eq!(verdict_of(&script.echo(3, 25)), Some(Verdict::Good));
    assert!(script.expire(100).unwrap().is_empty(), "2 is due until 110");
    assert_eq!(
        script.expire(111).unwrap(),
        vec![Observation::NoEcho { seq: 2 }]
    );
    assert!(!script.matcher.waiting());
    let (counts, records) = script.finish();
    assert_eq!(
        (counts.transmitted, counts.received, counts.lost),
        (3, 2, 1)
    );
    assert_eq!(outcome_of(&records, 2), Outcome::Lost);
}

#[test]
fn a_second_copy_of_an_echo_is_a_duplicate_not_a_second_reply() {
    let mut script = Script::new(Proto::Udp, 64);
    script.send(1, 0);
    assert_eq!(verdict_of(&script.echo(1, 3)), Some(Verdict::Good));
    assert_eq!(
        script.echo(1, 4),
        Observation::Duplicate {
            seq: 1,
            bytes: 64,
            rtt: Duration::from_millis(4)
        }
    );
    let (counts, _) = script.finish();
    assert_eq!(
        (counts.received, counts.duplicated, counts.stray),
        (1, 1, 0)
    );
}

#[test]
fn an_echo_overtaken_by_a_later_probes_is_reordered_but_good() {
    let mut script = Script::new(Proto::Udp, 64);
    script.send(1, 0);
    script.send(2, 1);
    let second = script.echo(2, 5);
    assert!(matches!(
        second,
        Observation::Echo {
            seq: 2,
            reordered: false,
            ..
        }
    ));
    let first = script.echo(1, 6);
    assert!(
        matches!(
            first,
            Observation::Echo {
                seq: 1,
                reordered: true,
                verdict: Verdict::Good,
                ..
            }
        ),
        "{first:?}"
    );
    let (counts, _) = script.finish();
    assert_eq!((counts.received, counts.reordered), (2, 1));
}

#[test]
fn an_echo_after_the_timeout_is_late_not_lost_nor_reordered() {
    let mut script = Script::new(Proto::Udp, 64);
    script.send(1, 0);
    script.send(2, 50);
    assert_eq!(verdict_of(&script.echo(2, 60)), Some(Verdict::Good));
    assert_eq!(
        script.expire(101).unwrap(),
        vec![Observation::NoEcho { seq: 1 }]
    );
    let late = script.echo(1, 300);
    assert!(
        matches!(
            late,
            Observation::Echo {
                seq: 1,
                verdict: Verdict::Late,
                reordered: false,
                ..
            }
        ),
        "{late:?}"
    );
    let (counts, records) = script.finish();
    assert_eq!(
        (counts.received, counts.late, counts.lost, counts.reordered),
        (1, 1, 0, 0)
    );
    assert_eq!(outcome_of(&records, 1), Outcome::Echoed(Verdict::Late));
}

#[test]
fn a_flipped_byte_is_found_in_the_body_and_in_the_header() {
    let mut script = Script::new(Proto::Udp, 64);
    script.send(1, 0);
    script.send(2, 0);
    let mut body = script.message(1);
    body[40] ^= 0x01;
    let expected = Difference {
        offset: 40,
        sent: Some(script.message(1)[40]),
        got: Some(body[40]),
    };
    assert_eq!(
        verdict_of(&script.bytes(&body, 2)),
        Some(Verdict::Corrupted(expected))
    );
    // A damaged run token: the oldest waiting probe of that size.
    let mut header = script.message(2);
    header[9] ^= 0xff;
    let observation = script.bytes(&header, 3);
    assert!(
        matches!(
            observation,
            Observation::Echo {
                seq: 2,
                verdict: Verdict::Corrupted(Difference { offset: 9, .. }),
                ..
            }
        ),
        "{observation:?}"
    );
    let (counts, _) = script.finish();
    assert_eq!((counts.corrupted, counts.received, counts.lost), (2, 0, 0));
}

#[test]
fn an_echo_of_a_sequence_never_sent_is_stray() {
    let mut script = Script::new(Proto::Udp, 64);
    script.send(1, 0);
    let never_sent = script.generator.message(99);
    assert_eq!(
        script.bytes(&never_sent, 1),
        Observation::Stray { bytes: 64 }
    );
    assert_eq!(script.bytes(b"junk", 2), Observation::Stray { bytes: 4 });
    assert!(script.matcher.waiting(), "probe 1 still waits");
    let (counts, _) = script.finish();
    assert_eq!((counts.stray, counts.lost), (2, 1));
}

#[test]
fn one_byte_probes_wrap_their_sequence_and_match_the_oldest_waiting() {
    // A 1-byte probe carries only the low byte of its sequence: 1 and 257
    // look the same, and an echo is the oldest waiting probe it equals.
    let mut script = Script::new(Proto::Udp, 1);
    script.send(1, 0);
    script.send(257, 1);
    assert_eq!(script.message(1), script.message(257));
    let first = script.echo(1, 2);
    assert!(matches!(
        first,
        Observation::Echo {
            seq: 1,
            verdict: Verdict::Good,
            ..
        }
    ));
    let second = script.echo(257, 3);
    assert!(
        matches!(
            second,
            Observation::Echo {
                seq: 257,
                verdict: Verdict::Good,
                reordered: false,
                ..
            }
        ),
        "{second:?}"
    );
    assert_eq!(script.echo(1, 4), Observation::Stray { bytes: 1 });
    let (counts, _) = script.finish();
    assert_eq!((counts.received, counts.stray), (2, 1));
}

#[test]
fn udp_gives_up_on_the_oldest_expired_probes_past_the_horizon() {
    let mut script = Script::new(Proto::Udp, 64);
    let total = LATE_HORIZON as u64 + 6;
    for seq in 1..=total {
        script.send(seq, 0);
    }
    assert_eq!(script.expire(200).unwrap().len(), total as usize);
    assert_eq!(script.matcher.counts().lost, 6);
    // The oldest are forgotten: their echo is a stray now; the rest still count late.
    assert_eq!(script.echo(1, 300), Observation::Stray { bytes: 64 });
    assert_eq!(verdict_of(&script.echo(7, 300)), Some(Verdict::Late));
}

#[test]
fn an_icmp_error_costs_the_oldest_waiting_probe() {
    let mut script = Script::new(Proto::Udp, 64);
    script.send(1, 0);
    script.send(2, 1);
    assert_eq!(
        script.matcher.refused(Failure::Refused),
        Observation::Failed {
            seq: Some(1),
            error: Failure::Refused
        }
    );
    let (counts, records) = script.finish();
    assert_eq!((counts.errors, counts.lost), (1, 2));
    assert_eq!(outcome_of(&records, 1), Outcome::Error(Failure::Refused));
    assert_eq!(outcome_of(&records, 2), Outcome::Lost);
}

#[test]
fn tcp_echoes_are_matched_in_order_however_the_stream_splits_them() {
    let mut script = Script::new(Proto::Tcp, 64);
    script.send(1, 0);
    script.send(2, 1);
    let both: Vec<u8> = [script.message(1), script.message(2)].concat();
    let mut seen = Vec::new();
    for (ms, piece) in [(2, &both[..10]), (3, &both[10..70]), (4, &both[70..])] {
        let at = script.at(ms);
        script.matcher.stream(piece, at, &mut seen).unwrap();
    }
    let seqs: Vec<u64> = seen
        .iter()
        .filter_map(|o| match o {
            Observation::Echo {
                seq,
                verdict: Verdict::Good,
                ..
            } => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, vec![1, 2]);
}

#[test]
fn tcp_bytes_beyond_every_echo_due_are_refused_and_the_connection_is_broken() {
    let mut script = Script::new(Proto::Tcp, 64);
    script.send(1, 0);
    let mut flood = script.message(1);
    flood.extend_from_slice(&[0; 1000]);
    let mut seen = Vec::new();
    let at = script.at(1);
    assert_eq!(
        script.matcher.stream(&flood, at, &mut seen),
        Err(Failure::Unasked(1000))
    );
    assert_eq!(seen.len(), 1, "the echo that was due still counts");
    script.send(2, 2);
    let failed = script.matcher.broken(Failure::Unasked(1000));
    assert_eq!(
        failed,
        Observation::Failed {
            seq: Some(2),
            error: Failure::Unasked(1000)
        }
    );
    let (counts, _) = script.finish();
    assert_eq!((counts.received, counts.errors, counts.lost), (1, 1, 1));
}

#[test]
fn a_tcp_service_that_stops_echoing_is_given_up_past_the_horizon() {
    let mut script = Script::new(Proto::Tcp, 64);
    for seq in 1..=LATE_HORIZON as u64 + 1 {
        script.send(seq, 0);
    }
    assert_eq!(script.expire(200), Err(Failure::StoppedEchoing));
}

fn json(outcome: Outcome) -> serde_json::Value {
    serde_json::to_value(Record {
        seq: 7,
        outcome,
        bytes: 64,
        rtt_ms: Some(0.5),
        reordered: false,
    })
    .unwrap()
}

#[test]
fn records_keep_their_json_spelling() {
    assert_eq!(json(Outcome::Echoed(Verdict::Good))["outcome"], "ok");
    assert_eq!(json(Outcome::Echoed(Verdict::Late))["outcome"], "late");
    assert_eq!(json(Outcome::Duplicate)["outcome"], "duplicate");
    assert_eq!(json(Outcome::Lost)["outcome"], "lost");
    let corrupted = json(Outcome::Echoed(Verdict::Corrupted(Difference {
        offset: 3,
        sent: Some(1),
        got: None,
    })));
    assert_eq!(corrupted["outcome"], "corrupted");
    assert_eq!(corrupted["difference"]["offset"], 3);
    let error = json(Outcome::Error(Failure::Refused));
    assert_eq!(error["outcome"], "error");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("connection refused")
    );
    let good = json(Outcome::Echoed(Verdict::Good));
    assert!(good.get("difference").is_none() && good.get("error").is_none());
    assert_eq!(good["seq"], 7);
    assert_eq!(good["rtt_ms"], 0.5);
}
