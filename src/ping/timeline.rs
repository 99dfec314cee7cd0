//! Each probe's fate in order, for `--plot`: when it went out and its
//! round trip, or none when it was lost. Only the last [`KEPT_PROBES`]
//! are kept, so a ping left running for days stays in bounded memory.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use super::{Event, ReplyStatus};

/// How many probes a timeline keeps: a day at one a second, ~3 MiB.
pub const KEPT_PROBES: usize = 86_400;

/// One probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Its icmp_seq.
    pub seq: u16,
    /// When it went out, from the start of the run.
    pub sent: Duration,
    /// Its first good reply's round trip; `None`: lost (no reply, a late,
    /// damaged or ICMP-error answer, or a send that failed).
    pub rtt: Option<Duration>,
}

/// The probes of one target's run, oldest first.
#[derive(Debug, Clone)]
pub struct Timeline {
    start: SystemTime,
    probes: VecDeque<Probe>,
    forgotten: u64,
    limit: usize,
}

impl Timeline {
    /// An empty timeline of a run that starts at `start`.
    pub fn new(start: SystemTime) -> Self {
        Self::with_limit(start, KEPT_PROBES)
    }

    /// An empty timeline that keeps at most `limit` probes.
    pub fn with_limit(start: SystemTime, limit: usize) -> Self {
        Timeline {
            start,
            probes: VecDeque::new(),
            forgotten: 0,
            limit: limit.max(1),
        }
    }

    /// Notes what `event`, seen at `now`, says about a probe.
    pub fn record(&mut self, event: &Event, now: SystemTime) {
        match event {
            Event::Sent { seq, .. } | Event::SendFailed { seq, .. } => self.sent(*seq, now),
            Event::Reply { reply, .. } if reply.status == ReplyStatus::Good => {
                self.answered(reply.seq, reply.rtt)
            }
            _ => {}
        }
    }

    /// A probe with sequence number `seq` went out at `at`.
    pub fn sent(&mut self, seq: u16, at: SystemTime) {
        if self.probes.len() == self.limit {
            self.probes.pop_front();
            self.forgotten += 1;
        }
        let sent = at.duration_since(self.start).unwrap_or_default();
        self.probes.push_back(Probe {
            seq,
            sent,
            rtt: None,
        });
    }

    /// The latest probe numbered `seq` got its good reply after `rtt`.
    pub fn answered(&mut self, seq: u16, rtt: Duration) {
        // Replies answer recent probes: the search from the back is short.
        if let Some(probe) = self.probes.iter_mut().rev().find(|p| p.seq == seq) {
            probe.rtt = Some(rtt);
        }
    }

    /// When the run started (wall clock).
    pub fn start(&self) -> SystemTime {
        self.start
    }

    /// The probes kept, oldest first.
    pub fn probes(&self) -> impl Iterator<Item = &Probe> {
        self.probes.iter()
    }

    /// How many probes were kept.
    pub fn len(&self) -> usize {
        self.probes.len()
    }

    /// Whether no probe was kept.
    pub fn is_empty(&self) -> bool {
        self.probes.is_empty()
    }

    /// Older probes no longer kept.
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn unanswered_probes_stay_lost_and_replies_find_their_probe() {
        let mut timeline = Timeline::new(at(1000));
        for (i, seq) in [1u16, 2, 3].into_iter().enumerate() {
            timeline.sent(seq, at(1000 + 100 * i as u64));
        }
        timeline.answered(3, Duration::from_millis(5));
        timeline.answered(1, Duration::from_millis(7));
        let probes: Vec<_> = timeline.probes().map(|p| (p.seq, p.sent, p.rtt)).collect();
        let ms = Duration::from_millis;
        assert_eq!(
            probes,
            [
                (1, ms(0), Some(ms(7))),
                (2, ms(100), None),
                (3, ms(200), Some(ms(5)))
            ]
        );
    }

    #[test]
    fn a_long_run_keeps_only_the_latest_probes_and_counts_the_rest() {
        let mut timeline = Timeline::with_limit(at(0), 3);
        for seq in 0..10u16 {
            timeline.sent(seq, at(u64::from(seq)));
        }
        assert_eq!(timeline.len(), 3);
        assert_eq!(timeline.forgotten(), 7);
        assert_eq!(
            timeline.probes().map(|p| p.seq).collect::<Vec<_>>(),
            [7, 8, 9]
        );
    }

    #[test]
    fn a_wrapped_sequence_number_answers_the_latest_probe() {
        let mut timeline = Timeline::new(at(0));
        timeline.sent(5, at(0));
        timeline.sent(5, at(10));
        timeline.answered(5, Duration::from_millis(1));
        let rtts: Vec<_> = timeline.probes().map(|p| p.rtt.is_some()).collect();
        assert_eq!(rtts, [false, true]);
    }
}
