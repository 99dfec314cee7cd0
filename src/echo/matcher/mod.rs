//! The probe's bookkeeping, with no sockets and no clock: probes sent,
//! bytes and datagrams received and timeouts passing go in (each with the
//! instant it happened), observations and counts come out. TCP echoes are
//! matched in order, however the stream splits them; UDP echoes by the
//! sequence number they carry, so loss, duplicates, reordering, late
//! arrivals and corruption are told apart. The tests below script those
//! cases event by event.
#![forbid(unsafe_code)]

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;

use super::Proto;
use super::payload::{self, Difference, Generator};
use super::setup::Failure;
use crate::rtt::Rtt;

/// Expired probes kept waiting for a late echo; older ones count as lost.
pub const LATE_HORIZON: usize = 1024;

/// Answered probes remembered, to tell a duplicate from a stray.
const ANSWERED_MEMORY: usize = 65_536;

/// How one echo compared with what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Byte-identical, within the timeout.
    Good,
    /// Different from what was sent.
    Corrupted(Difference),
    /// Byte-identical, after the timeout.
    Late,
}

/// Something the probe saw, as it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// An echo of probe `seq`.
    Echo {
        /// The probe.
        seq: u64,
        /// Bytes echoed.
        bytes: usize,
        /// Round trip.
        rtt: Duration,
        /// Good, corrupted or late.
        verdict: Verdict,
        /// It came after the echo of a later probe.
        reordered: bool,
    },
    /// A second echo of probe `seq`.
    Duplicate {
        /// The probe.
        seq: u64,
        /// Bytes echoed.
        bytes: usize,
        /// Time since it was sent.
        rtt: Duration,
    },
    /// A datagram that matches no probe of this run.
    Stray {
        /// Its size.
        bytes: usize,
    },
    /// Probe `seq` has had no echo within the timeout (it may still come, late).
    NoEcho {
        /// The probe.
        seq: u64,
    },
    /// The connection failed (refused, reset, closed by the service).
    Failed {
        /// The probe it cost, if one.
        seq: Option<u64>,
        /// What happened.
        error: Failure,
    },
}

/// What became of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Its echo came: good, corrupted or late.
    Echoed(Verdict),
    /// A further copy of an echo already counted.
    Duplicate,
    /// No echo came.
    Lost,
    /// The connection failed with it outstanding.
    Error(Failure),
}

/// One probe's fate, for `--json --verbose` (JSON: `outcome` is `ok`,
/// `corrupted`, `late`, `duplicate`, `lost` or `error`; a corrupted echo adds
/// `difference`, an error its words in `error`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(into = "RecordJson")]
#[schemars(with = "RecordJson")]
pub struct Record {
    /// The probe.
    pub seq: u64,
    /// What became of it.
    pub outcome: Outcome,
    /// Bytes echoed (0 when none came).
    pub bytes: usize,
    /// Round trip in milliseconds, when an echo came.
    pub rtt_ms: Option<f64>,
    /// It came after the echo of a later probe.
    pub reordered: bool,
}

/// One probe's fate (`--json --verbose`), as `--json` has always spelt it.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Record")]
struct RecordJson {
    /// The probe's sequence number.
    seq: u64,
    /// What became of it.
    outcome: OutcomeWord,
    /// Bytes echoed (0 when none came).
    bytes: usize,
    /// Round trip in milliseconds, when an echo came.
    rtt_ms: Option<f64>,
    /// It came after the echo of a later probe.
    reordered: bool,
    /// A corrupted echo: where it first differs from the probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Difference")]
    difference: Option<Difference>,
    /// An error: what went wrong, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    error: Option<String>,
}

/// [`Outcome`] as `--json` has always spelt it.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Outcome")]
enum OutcomeWord {
    /// A good echo, in time.
    Ok,
    /// The echo differs from the probe.
    Corrupted,
    /// The echo came after the timeout.
    Late,
    /// A further echo of a probe already answered.
    Duplicate,
    /// No echo came.
    Lost,
    /// The connection failed with the probe outstanding.
    Error,
}

impl From<Record> for RecordJson {
    fn from(record: Record) -> Self {
        let (outcome, difference, error) = match record.outcome {
            Outcome::Echoed(Verdict::Good) => (OutcomeWord::Ok, None, None),
            Outcome::Echoed(Verdict::Corrupted(difference)) => {
                (OutcomeWord::Corrupted, Some(difference), None)
            }
            Outcome::Echoed(Verdict::Late) => (OutcomeWord::Late, None, None),
            Outcome::Duplicate => (OutcomeWord::Duplicate, None, None),
            Outcome::Lost => (OutcomeWord::Lost, None, None),
            Outcome::Error(failure) => (OutcomeWord::Error, None, Some(failure.to_string())),
        };
        RecordJson {
            seq: record.seq,
            outcome,
            bytes: record.bytes,
            rtt_ms: record.rtt_ms,
            reordered: record.reordered,
            difference,
            error,
        }
    }
}

/// What the probes came to, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Counts {
    /// Probes sent (or attempted).
    pub transmitted: u64,
    /// Good echoes: byte-identical and in time.
    pub received: u64,
    /// Probes with no echo at all.
    pub lost: u64,
    /// Echoes that differed from the probe.
    pub corrupted: u64,
    /// Extra echoes of a probe already answered.
    pub duplicated: u64,
    /// In-time echoes that came after a later probe's (late ones count as late).
    pub reordered: u64,
    /// Byte-identical echoes that came after the timeout.
    pub late: u64,
    /// Connection failures (refused, reset, closed); their probes count as lost.
    pub errors: u64,
    /// Datagrams that matched no probe.
    pub stray: u64,
}

/// A probe waiting for its echo.
#[derive(Debug)]
struct Pending {
    seq: u64,
    sent_at: Instant,
    deadline: Instant,
    message: Vec<u8>,
    expired: bool,
}

/// Matches echoes to probes.
#[derive(Debug)]
pub struct Matcher {
    proto: Proto,
    timeout: Duration,
    /// Recognises this run's sequence numbers.
    generator: Generator,
    keep_records: bool,
    pending: VecDeque<Pending>,
    /// Recently answered probes and when they were sent (for duplicates).
    answered: HashMap<u64, Instant>,
    answered_order: VecDeque<u64>,
    highest_answered: Option<u64>,
    /// TCP bytes received but not yet a whole echo.
    stream: Vec<u8>,
    counts: Counts,
    latency: Rtt,
    records: Vec<Record>,
}

impl Matcher {
    /// Matching for `proto`, echoes due within `timeout`, sequence numbers
    /// read with `generator`'s run token; `keep_records` keeps every probe's fate.
    pub fn new(proto: Proto, timeout: Duration, generator: Generator, keep_records: bool) -> Self {
        Matcher {
            proto,
            timeout,
            generator,
            keep_records,
            pending: VecDeque::new(),
            answered: HashMap::new(),
            answered_order: VecDeque::new(),
            highest_answered: None,
            stream: Vec::new(),
            counts: Counts::default(),
            latency: Rtt::default(),
            records: Vec::new(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// Whether a probe still waits for its echo within its timeout.
    pub fn waiting(&self) -> bool {
        self.pending.iter().any(|p| !p.expired)
    }

    /// When the next waiting probe's timeout passes.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending
            .iter()
            .filter(|p| !p.expired)
            .map(|p| p.deadline)
            .min()
    }

    /// Probe `seq` left, as `message`, at `at`.
    pub fn sent(&mut self, seq: u64, message: Vec<u8>, at: Instant) {
        self.counts.transmitted += 1;
        self.pending.push_back(Pending {
            seq,
            sent_at: at,
            deadline: at + self.timeout,
            message,
            expired: false,
        });
    }

    /// Probe `seq` could not leave at all (no connection).
    pub fn unsent(&mut self, seq: u64, error: Failure) -> Observation {
        self.counts.transmitted += 1;
        self.counts.errors += 1;
        self.lost(seq, Some(error.clone()));
        Observation::Failed {
            seq: Some(seq),
            error,
        }
    }

    /// TCP: `bytes` arrived at `at`; every whole echo they complete is
    /// observed. Bytes beyond every echo still due are an error: the
    /// caller closes the connection ([`Matcher::broken`]).
    pub fn stream(
        &mut self,
        bytes: &[u8],
        at: Instant,
        seen: &mut Vec<Observation>,
    ) -> Result<(), Failure> {
        self.stream.extend_from_slice(bytes);
        let mut used = 0;
        while let Some(probe) = self.pending.front() {
            let need = probe.message.len();
            if self.stream.len() - used < need {
                break;
            }
            let Some(probe) = self.pending.pop_front() else {
                break;
            };
            let verdict = verdict(&probe, &self.stream[used..used + need], at);
            used += need;
            seen.push(self.settle(probe, need, at, verdict, false));
        }
        self.stream.drain(..used);
        // What is left must be the start of an echo still due; anything
        // more was never asked for, and keeping it would let a chatty peer
        // fill memory (and shift every later echo out of place).
        let due: usize = self.pending.iter().map(|p| p.message.len()).sum();
        if self.stream.len() > due {
            return Err(Failure::Unasked(self.stream.len() - due));
        }
        Ok(())
    }

    /// UDP: `datagram` arrived at `at`.
    pub fn datagram(&mut self, datagram: &[u8], at: Instant) -> Observation {
        let seq = self.generator.seq_of(datagram).or_else(|| {
            // Shorter than a header: the oldest waiting probe it is a prefix of.
            (datagram.len() < payload::HEADER)
                .then(|| {
                    self.pending
                        .iter()
                        .find(|p| p.message.as_slice() == datagram)
                        .map(|p| p.seq)
                })
                .flatten()
        });
        let position = seq.and_then(|seq| self.pending.iter().position(|p| p.seq == seq));
        if let Some(probe) = position.and_then(|index| self.pending.remove(index)) {
            let verdict = verdict(&probe, datagram, at);
            // Late echoes are out of order by nature; they count as late.
            let reordered =
                verdict != Verdict::Late && self.highest_answered.is_some_and(|h| h > probe.seq);
            return self.settle(probe, datagram.len(), at, verdict, reordered);
        }
        let answered = seq.and_then(|seq| self.answered.get(&seq).map(|sent_at| (seq, *sent_at)));
        if let Some((seq, sent_at)) = answered {
            self.counts.duplicated += 1;
            let rtt = at.saturating_duration_since(sent_at);
            self.record(Record {
                seq,
                outcome: Outcome::Duplicate,
                bytes: datagram.len(),
                rtt_ms: Some(ms(rtt)),
                reordered: false,
            });
            return Observation::Duplicate {
                seq,
                bytes: datagram.len(),
                rtt,
            };
        }
        // A damaged header: it is the echo of the oldest waiting probe of
        // its size, and it is corrupted.
        let same_size = self
            .pending
            .iter()
            .position(|p| p.message.len() == datagram.len());
        match same_size.filter(|_| seq.is_none()) {
            Some(index) => match self.pending.remove(index) {
                Some(probe) => {
                    let verdict = verdict(&probe, datagram, at);
                    self.settle(probe, datagram.len(), at, verdict, false)
                }
                None => self.stray(datagram.len()),
            },
            None => self.stray(datagram.len()),
        }
    }

    fn stray(&mut self, bytes: usize) -> Observation {
        self.counts.stray += 1;
        Observation::Stray { bytes }
    }

    /// UDP: an ICMP error for an earlier datagram (port unreachable, …);
    /// it costs the oldest probe still waiting.
    pub fn refused(&mut self, error: Failure) -> Observation {
        self.counts.errors += 1;
        let seq = self.pending.pop_front().map(|p| p.seq);
        if let Some(seq) = seq {
            self.lost(seq, Some(error.clone()));
        }
        Observation::Failed { seq, error }
    }

    /// The connection is gone: its waiting probes are lost.
    pub fn broken(&mut self, error: Failure) -> Observation {
        self.stream.clear();
        self.counts.errors += 1;
        let first = self.pending.front().map(|p| p.seq);
        while let Some(probe) = self.pending.pop_front() {
            self.lost(probe.seq, Some(error.clone()));
        }
        Observation::Failed { seq: first, error }
    }

    /// Marks probes past their timeout at `now` (each observed as
    /// [`Observation::NoEcho`]). Past [`LATE_HORIZON`] expired probes, UDP
    /// gives the oldest up as lost; TCP, whose echoes come in order, says
    /// the service stopped echoing (the caller closes the connection).
    pub fn expire(&mut self, now: Instant, seen: &mut Vec<Observation>) -> Result<(), Failure> {
        for probe in self
            .pending
            .iter_mut()
            .filter(|p| !p.expired && p.deadline <= now)
        {
            probe.expired = true;
            seen.push(Observation::NoEcho { seq: probe.seq });
        }
        let mut expired = self.pending.iter().filter(|p| p.expired).count();
        if expired > LATE_HORIZON && self.proto == Proto::Tcp {
            return Err(Failure::StoppedEchoing);
        }
        while expired > LATE_HORIZON {
            let Some(index) = self.pending.iter().position(|p| p.expired) else {
                break;
            };
            if let Some(probe) = self.pending.remove(index) {
                self.lost(probe.seq, None);
            }
            expired -= 1;
        }
        Ok(())
    }

    /// The run is over: whatever is unanswered is lost.
    pub fn finish(mut self) -> (Counts, Vec<Record>, Rtt) {
        while let Some(probe) = self.pending.pop_front() {
            self.lost(probe.seq, None);
        }
        (self.counts, self.records, self.latency)
    }

    /// Counts an answered probe and says what happened to it.
    fn settle(
        &mut self,
        probe: Pending,
        bytes: usize,
        arrived: Instant,
        verdict: Verdict,
        reordered: bool,
    ) -> Observation {
        let rtt = arrived.saturating_duration_since(probe.sent_at);
        match verdict {
            Verdict::Good => {
                self.counts.received += 1;
                self.latency.add(rtt);
            }
            Verdict::Corrupted(_) => self.counts.corrupted += 1,
            Verdict::Late => self.counts.late += 1,
        }
        if reordered {
            self.counts.reordered += 1;
        }
        self.highest_answered = Some(
            self.highest_answered
                .map_or(probe.seq, |h| h.max(probe.seq)),
        );
        self.answered.insert(probe.seq, probe.sent_at);
        self.answered_order.push_back(probe.seq);
        if self.answered_order.len() > ANSWERED_MEMORY {
            if let Some(old) = self.answered_order.pop_front() {
                self.answered.remove(&old);
            }
        }
        self.record(Record {
            seq: probe.seq,
            outcome: Outcome::Echoed(verdict),
            bytes,
            rtt_ms: Some(ms(rtt)),
            reordered,
        });
        Observation::Echo {
            seq: probe.seq,
            bytes,
            rtt,
            verdict,
            reordered,
        }
    }

    fn lost(&mut self, seq: u64, error: Option<Failure>) {
        self.counts.lost += 1;
        self.record(Record {
            seq,
            outcome: error.map_or(Outcome::Lost, Outcome::Error),
            bytes: 0,
            rtt_ms: None,
            reordered: false,
        });
    }

    fn record(&mut self, record: Record) {
        if self.keep_records {
            self.records.push(record);
        }
    }
}

/// Good, corrupted or late.
fn verdict(probe: &Pending, echo: &[u8], arrived: Instant) -> Verdict {
    if let Some(difference) = payload::difference(&probe.message, echo) {
        Verdict::Corrupted(difference)
    } else if arrived > probe.deadline {
        Verdict::Late
    } else {
        Verdict::Good
    }
}

fn ms(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e6
}

#[cfg(test)]
mod tests;
