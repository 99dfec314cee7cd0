//! The timeout of a probe from the round trips measured so far, as nmap's
//! RTT estimator (and TCP's, RFC 6298) computes it: a smoothed RTT and
//! its variation, timeout = srtt + 4·rttvar, clamped to the plan's bounds,
//! so a LAN host answering in 100 µs is waited on for the minimum, not
//! for seconds.
#![forbid(unsafe_code)]

use std::time::Duration;

use super::Timing;

/// The smoothed round trip and its variation.
#[derive(Debug, Clone, Copy)]
pub struct RttEstimator {
    timing: Timing,
    /// Smoothed RTT in microseconds (None: nothing measured yet).
    srtt: Option<f64>,
    /// RTT variation in microseconds.
    rttvar: f64,
}

impl RttEstimator {
    /// An estimator with nothing measured, bounded by `timing`.
    pub fn new(timing: Timing) -> Self {
        RttEstimator {
            timing,
            srtt: None,
            rttvar: 0.0,
        }
    }

    /// Takes in one measured round trip.
    pub fn sample(&mut self, rtt: Duration) {
        let r = rtt.as_secs_f64() * 1e6;
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2.0;
            }
            Some(srtt) => {
                self.rttvar = 0.75 * self.rttvar + 0.25 * (srtt - r).abs();
                self.srtt = Some(0.875 * srtt + 0.125 * r);
            }
        }
    }

    /// How long to wait for a probe's answer now.
    pub fn timeout(&self) -> Duration {
        let Some(srtt) = self.srtt else {
            return self.timing.initial.clamp(self.timing.min, self.timing.max);
        };
        let micros = srtt + 4.0 * self.rttvar;
        Duration::from_secs_f64(micros / 1e6).clamp(self.timing.min, self.timing.max)
    }

    /// The smoothed round trip, once one was measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt.map(|us| Duration::from_secs_f64(us / 1e6))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing() -> Timing {
        Timing {
            initial: Duration::from_secs(1),
            min: Duration::from_millis(50),
            max: Duration::from_secs(2),
        }
    }

    #[test]
    fn before_any_answer_the_initial_timeout_holds() {
        assert_eq!(
            RttEstimator::new(timing()).timeout(),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn a_fast_host_is_waited_on_for_the_minimum() {
        let mut rtt = RttEstimator::new(timing());
        for _ in 0..10 {
            rtt.sample(Duration::from_micros(100));
        }
        assert_eq!(rtt.timeout(), Duration::from_millis(50));
    }

    #[test]
    fn jitter_widens_the_timeout_and_the_maximum_caps_it() {
        let mut rtt = RttEstimator::new(timing());
        for ms in [100, 300, 100, 300, 100, 300] {
            rtt.sample(Duration::from_millis(ms));
        }
        let timeout = rtt.timeout();
        assert!(timeout > Duration::from_millis(300), "{timeout:?}");
        rtt.sample(Duration::from_secs(30));
        assert_eq!(rtt.timeout(), Duration::from_secs(2));
    }
}
