//! Time as the engines see it: a monotonic clock for schedules and timeouts,
//! and the wall clock that kernel receive timestamps are read against.
//!
//! Engines take a [`Clock`] instead of calling `Instant::now()`, so their
//! tests can run whole scenarios — minutes of probing, a wall-clock jump —
//! in microseconds with a [`SimClock`] that only moves when told to.
#![forbid(unsafe_code)]

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of time.
pub trait Clock {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock now (what SO_TIMESTAMPNS stamps are taken from).
    fn wall(&self) -> SystemTime;
}

/// The machine's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until advanced; clones share one time, so a
/// simulated network and the engine it feeds agree on what "now" is.
#[derive(Debug, Clone)]
pub struct SimClock {
    base: Instant,
    elapsed: Rc<Cell<Duration>>,
    /// Wall clock minus monotonic clock, in signed nanoseconds: a jump of the
    /// wall clock (NTP step, `date -s`) changes only this.
    wall_offset_ns: Rc<Cell<i128>>,
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}

impl SimClock {
    /// A clock at an arbitrary fixed wall-clock time (2026-01-01).
    pub fn new() -> Self {
        SimClock {
            base: Instant::now(),
            elapsed: Rc::new(Cell::new(Duration::ZERO)),
            wall_offset_ns: Rc::new(Cell::new(1_767_225_600_000_000_000)),
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.elapsed.set(self.elapsed.get() + by);
    }

    /// Moves time forward to `at` (never backward).
    pub fn advance_to(&self, at: Instant) {
        let target = at.saturating_duration_since(self.base);
        if target > self.elapsed.get() {
            self.elapsed.set(target);
        }
    }

    /// Time since the clock was made.
    pub fn elapsed(&self) -> Duration {
        self.elapsed.get()
    }

    /// Steps the wall clock by `ns` nanoseconds (negative: backwards);
    /// the monotonic clock does not move.
    pub fn jump_wall(&self, ns: i128) {
        self.wall_offset_ns.set(self.wall_offset_ns.get() + ns);
    }
}

impl Clock for SimClock {
    fn now(&self) -> Instant {
        self.base + self.elapsed.get()
    }

    fn wall(&self) -> SystemTime {
        let ns = self.wall_offset_ns.get() + self.elapsed.get().as_nanos() as i128;
        let ns = u64::try_from(ns.max(0)).unwrap_or(u64::MAX);
        UNIX_EPOCH + Duration::from_nanos(ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sim_clock_moves_only_when_advanced_and_clones_share_it() {
        let clock = SimClock::new();
        let other = clock.clone();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        other.advance(Duration::from_millis(5));
        assert_eq!(clock.now() - start, Duration::from_millis(5));
        clock.advance_to(start + Duration::from_millis(3));
        assert_eq!(clock.elapsed(), Duration::from_millis(5), "never backwards");
    }

    #[test]
    fn a_wall_clock_jump_leaves_the_monotonic_clock_alone() {
        let clock = SimClock::new();
        let (mono, wall) = (clock.now(), clock.wall());
        clock.jump_wall(-3_600_000_000_000);
        assert_eq!(clock.now(), mono);
        assert_eq!(
            wall.duration_since(clock.wall()).unwrap(),
            Duration::from_secs(3600)
        );
    }
}
