//! The table of probes in flight, indexed by icmp_seq.
//!
//! Allocated in small chunks as sequence numbers come into use, so a run that
//! sends a few probes does not pay for all 64 Ki slots.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Slots per chunk; 256 chunks cover the 16-bit sequence space.
const CHUNK: usize = 256;
const CHUNKS: usize = (1 << 16) / CHUNK;

/// A probe as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Unique per probe; 0 marks an empty slot.
    pub token: u64,
    /// Index of the target it went to.
    pub target: usize,
    /// Wall-clock send time (compared with kernel receive timestamps).
    pub sent_wall: SystemTime,
    /// Monotonic send time (fallback when the wall clock jumps).
    pub sent_mono: Instant,
    /// A good reply or an error already answered it.
    pub answered: bool,
    /// Its timeout passed unanswered.
    pub expired: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    token: u64,
    target: usize,
    wall_ns: u64,
    mono_ns: u64,
    answered: bool,
    expired: bool,
}

/// Probes by sequence number.
pub struct ProbeTable {
    base: Instant,
    chunks: Vec<Option<Box<[Slot]>>>,
}

fn place(seq: u16) -> (usize, usize) {
    let seq = usize::from(seq);
    (seq / CHUNK, seq % CHUNK)
}

impl ProbeTable {
    /// An empty table; `base` is the run's start (monotonic times are stored relative to it).
    pub fn new(base: Instant) -> Self {
        ProbeTable {
            base,
            chunks: vec![None; CHUNKS],
        }
    }

    fn slot(&self, seq: u16) -> Option<&Slot> {
        let (chunk, index) = place(seq);
        self.chunks[chunk].as_ref().map(|slots| &slots[index])
    }

    fn slot_mut(&mut self, seq: u16) -> &mut Slot {
        let (chunk, index) = place(seq);
        let slots = self.chunks[chunk]
            .get_or_insert_with(|| vec![Slot::default(); CHUNK].into_boxed_slice());
        &mut slots[index]
    }

    /// The probe in slot `seq`, if one was ever sent with it.
    pub fn get(&self, seq: u16) -> Option<Probe> {
        let slot = self.slot(seq).filter(|slot| slot.token != 0)?;
        Some(Probe {
            token: slot.token,
            target: slot.target,
            sent_wall: UNIX_EPOCH + Duration::from_nanos(slot.wall_ns),
            sent_mono: self.base + Duration::from_nanos(slot.mono_ns),
            answered: slot.answered,
            expired: slot.expired,
        })
    }

    /// Records a probe just sent, replacing whatever used the slot before.
    pub fn insert(
        &mut self,
        seq: u16,
        token: u64,
        target: usize,
        sent_wall: SystemTime,
        sent_mono: Instant,
    ) {
        let base = self.base;
        *self.slot_mut(seq) = Slot {
            token,
            target,
            wall_ns: sent_wall
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            mono_ns: u64::try_from(sent_mono.saturating_duration_since(base).as_nanos())
                .unwrap_or(u64::MAX),
            answered: false,
            expired: false,
        };
    }

    /// Marks the probe answered (a reply or an error arrived).
    pub fn mark_answered(&mut self, seq: u16) {
        self.slot_mut(seq).answered = true;
    }

    /// Marks the probe expired (its timeout passed).
    pub fn mark_expired(&mut self, seq: u16) {
        self.slot_mut(seq).expired = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip_their_probe() {
        let base = Instant::now();
        let mut table = ProbeTable::new(base);
        assert_eq!(table.get(7), None);
        let wall = UNIX_EPOCH + Duration::from_nanos(1_795_000_000_123_456_789);
        let mono = base + Duration::from_micros(250);
        table.insert(7, 42, 3, wall, mono);
        let probe = table.get(7).unwrap();
        assert_eq!(
            (probe.token, probe.target, probe.sent_wall, probe.sent_mono),
            (42, 3, wall, mono)
        );
        assert!(!probe.answered && !probe.expired);
        table.mark_answered(7);
        table.mark_expired(7);
        let probe = table.get(7).unwrap();
        assert!(probe.answered && probe.expired);
        table.insert(7, 43, 1, wall, mono);
        assert!(!table.get(7).unwrap().answered, "a new probe starts fresh");
    }

    #[test]
    fn every_sequence_number_has_a_slot() {
        let base = Instant::now();
        let mut table = ProbeTable::new(base);
        for seq in [0, 1, 255, 256, 1024, 65_535] {
            table.insert(seq, u64::from(seq) + 1, 0, UNIX_EPOCH, base);
            assert_eq!(table.get(seq).unwrap().token, u64::from(seq) + 1);
        }
        assert_eq!(table.get(2), None);
    }
}
