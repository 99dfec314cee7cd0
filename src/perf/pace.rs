//! User-space pacing for `-b RATE` on UDP: each datagram waits until the
//! stream's average since its start is back under the rate (iperf3's way),
//! with the catch-up after a stall capped so a late thread does not burst.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

/// The most a stream may fall behind and then catch up on at full speed.
const MAX_BACKLOG: Duration = Duration::from_millis(100);

/// Holds one stream to a rate in bits per second.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate_bps: u64,
    origin: Instant,
    /// Bits sent since `origin`.
    bits: u128,
}

impl Pacer {
    /// A pacer for `rate_bps` bits per second (more than 0), starting at `now`.
    pub fn new(rate_bps: u64, now: Instant) -> Self {
        Pacer {
            rate_bps: rate_bps.max(1),
            origin: now,
            bits: 0,
        }
    }

    /// How long to wait, at `now`, before the next send.
    pub fn wait(&mut self, now: Instant) -> Duration {
        let due = self.due();
        if now > due + MAX_BACKLOG {
            // Behind by more than the backlog allows: start again from now.
            self.origin = now;
            self.bits = 0;
            return Duration::ZERO;
        }
        due.saturating_duration_since(now)
    }

    /// Counts `bytes` as sent.
    pub fn sent(&mut self, bytes: usize) {
        self.bits += bytes as u128 * 8;
    }

    fn due(&self) -> Instant {
        let nanos = self.bits * 1_000_000_000 / u128::from(self.rate_bps);
        self.origin + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SimClock};

    /// Sends `len`-byte datagrams as the pacer allows for `secs` simulated
    /// seconds, the clock moving only by the waits; returns bytes sent.
    fn simulate(rate: u64, len: usize, secs: u64, stall_at: Option<u64>) -> u64 {
        let clock = SimClock::new();
        let start = clock.now();
        let end = start + Duration::from_secs(secs);
        let mut pacer = Pacer::new(rate, start);
        let mut sent = 0u64;
        let mut stalled = false;
        loop {
            let wait = pacer.wait(clock.now());
            clock.advance(wait);
            if clock.now() >= end {
                return sent;
            }
            if let Some(at) = stall_at
                && !stalled
                && clock.now() >= start + Duration::from_secs(at)
            {
                stalled = true;
                clock.advance(Duration::from_secs(1));
                continue;
            }
            pacer.sent(len);
            sent += len as u64;
            clock.advance(Duration::from_micros(1));
        }
    }

    #[test]
    fn a_stream_is_held_to_its_rate() {
        // 1 Mbit/s for 10 s: 1.25 MB, within one datagram.
        let sent = simulate(1_000_000, 1460, 10, None);
        assert!(sent.abs_diff(1_250_000) <= 1460, "{sent}");
        let sent = simulate(10_000_000_000, 65_000, 1, None);
        assert!(sent.abs_diff(1_250_000_000) <= 65_000, "{sent}");
    }

    #[test]
    fn a_stall_is_not_made_up_for_with_a_burst() {
        // A 1 s stall at 5 s: the rest of the run keeps the rate, so about
        // 9 s worth goes out, not 10 s worth in a burst after the stall.
        let sent = simulate(1_000_000, 1000, 10, Some(5));
        let nine_secs = 1_125_000u64;
        assert!(sent.abs_diff(nine_secs) <= 13_000, "{sent}");
    }
}
