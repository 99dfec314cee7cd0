//! Round-trip statistics, computed exactly the way iputils ping computes
//! them (integer microseconds, population standard deviation), plus the
//! percentiles iputils does not print.
#![forbid(unsafe_code)]

use std::time::Duration;

use serde::Serialize;

/// Accumulated round-trip times of one target.
#[derive(Debug, Clone, Default)]
pub struct RttStats {
    samples_us: Vec<u64>,
    sum_us: u128,
    sum_sq_us: u128,
    min_us: u64,
    max_us: u64,
}

/// The summary `--json` reports, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RttSummary {
    /// Fastest round trip.
    pub min: f64,
    /// Mean round trip.
    pub avg: f64,
    /// Slowest round trip.
    pub max: f64,
    /// Population standard deviation (iputils' "mdev").
    pub mdev: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// iputils' four numbers, in whole microseconds, as it prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IputilsRtt {
    /// Minimum.
    pub min_us: u64,
    /// Mean, truncated.
    pub avg_us: u64,
    /// Maximum.
    pub max_us: u64,
    /// Integer square root of the integer variance.
    pub mdev_us: u64,
}

impl RttStats {
    /// Adds one round trip (truncated to whole microseconds, as iputils does).
    pub fn add(&mut self, rtt: Duration) {
        let us = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX);
        if self.samples_us.is_empty() || us < self.min_us {
            self.min_us = us;
        }
        if us > self.max_us {
            self.max_us = us;
        }
        self.sum_us += u128::from(us);
        self.sum_sq_us += u128::from(us) * u128::from(us);
        self.samples_us.push(us);
    }

    /// How many round trips were added.
    pub fn count(&self) -> usize {
        self.samples_us.len()
    }

    /// The samples in arrival order, in microseconds.
    pub fn samples_us(&self) -> &[u64] {
        &self.samples_us
    }

    /// Largest sample so far.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_us)
    }

    /// min/avg/max/mdev with iputils' integer arithmetic: avg = sum/n,
    /// variance = (Σx² − (Σx)²/n)/n, mdev = ⌊√variance⌋.
    pub fn iputils(&self) -> Option<IputilsRtt> {
        let n = self.samples_us.len() as u128;
        if n == 0 {
            return None;
        }
        let variance = (self.sum_sq_us - (self.sum_us * self.sum_us) / n) / n;
        Some(IputilsRtt {
            min_us: self.min_us,
            avg_us: u64::try_from(self.sum_us / n).unwrap_or(u64::MAX),
            max_us: self.max_us,
            mdev_us: u64::try_from(isqrt(variance)).unwrap_or(u64::MAX),
        })
    }

    /// The value at percentile `p` (nearest rank), in microseconds.
    pub fn percentile_us(&self, p: f64) -> Option<u64> {
        if self.samples_us.is_empty() {
            return None;
        }
        let mut sorted = self.samples_us.clone();
        sorted.sort_unstable();
        Some(nearest_rank(&sorted, p))
    }

    /// Everything `--json` reports; `None` without samples.
    pub fn summary(&self) -> Option<RttSummary> {
        let classic = self.iputils()?;
        let mut sorted = self.samples_us.clone();
        sorted.sort_unstable();
        let ms = |us: u64| us as f64 / 1000.0;
        Some(RttSummary {
            min: ms(classic.min_us),
            avg: ms(classic.avg_us),
            max: ms(classic.max_us),
            mdev: ms(classic.mdev_us),
            p50: ms(nearest_rank(&sorted, 50.0)),
            p90: ms(nearest_rank(&sorted, 90.0)),
            p99: ms(nearest_rank(&sorted, 99.0)),
        })
    }
}

/// Nearest-rank percentile of a sorted, non-empty slice.
fn nearest_rank(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Integer square root (floor), as iputils' `llsqrt`.
fn isqrt(value: u128) -> u128 {
    if value < 2 {
        return value;
    }
    let mut x = value;
    let mut y = x.div_ceil(2);
    while y < x {
        x = y;
        y = (x + value / x) / 2;
    }
    x
}

/// Packet loss as iputils computes and prints it: single-precision percent, `%g`.
pub fn loss_percent(transmitted: u64, received: u64) -> f64 {
    if transmitted == 0 {
        return 0.0;
    }
    let lost = transmitted.saturating_sub(received) as f64;
    f64::from((lost * 100.0 / transmitted as f64) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(us: &[u64]) -> RttStats {
        let mut stats = RttStats::default();
        for &value in us {
            stats.add(Duration::from_micros(value));
        }
        stats
    }

    #[test]
    fn mdev_is_the_population_standard_deviation_in_integer_microseconds() {
        // iputils: 0.040/0.067/0.112/0.031 for 112, 40, 51 µs (see README).
        let classic = stats(&[112, 40, 51]).iputils().unwrap();
        assert_eq!(
            classic,
            IputilsRtt {
                min_us: 40,
                avg_us: 67,
                max_us: 112,
                mdev_us: 31
            }
        );
    }

    #[test]
    fn single_sample_has_zero_mdev() {
        let classic = stats(&[23]).iputils().unwrap();
        assert_eq!((classic.avg_us, classic.mdev_us), (23, 0));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let s = stats(&(1..=100).collect::<Vec<_>>());
        assert_eq!(s.percentile_us(50.0), Some(50));
        assert_eq!(s.percentile_us(90.0), Some(90));
        assert_eq!(s.percentile_us(99.0), Some(99));
        let one = stats(&[7]);
        assert_eq!(one.percentile_us(99.0), Some(7));
        assert_eq!(RttStats::default().percentile_us(50.0), None);
    }

    #[test]
    fn integer_square_root_floors() {
        for (value, root) in [
            (0, 0),
            (1, 1),
            (3, 1),
            (4, 2),
            (961, 31),
            (1023, 31),
            (1024, 32),
        ] {
            assert_eq!(isqrt(value), root);
        }
        assert_eq!(isqrt(u128::from(u64::MAX)), u128::from(u32::MAX));
    }

    #[test]
    fn loss_is_single_precision_like_iputils() {
        assert_eq!(loss_percent(3, 3), 0.0);
        assert_eq!(loss_percent(3, 0), 100.0);
        assert_eq!(loss_percent(3, 2), f64::from(100.0f32 / 3.0));
        assert_eq!(loss_percent(0, 0), 0.0);
    }
}

impl RttStats {
    /// iputils' smoothed RTT ("ewma", shown with flood): rtt₀ = 8·x₀, then
    /// rtt += x − rtt/8; printed as rtt/8, in microseconds.
    pub fn ewma_us(&self) -> Option<u64> {
        let mut iter = self.samples_us.iter();
        let mut rtt = iter.next()? * 8;
        for &sample in iter {
            rtt = (rtt + sample).saturating_sub(rtt / 8);
        }
        Some(rtt / 8)
    }
}

#[cfg(test)]
mod ewma_tests {
    use super::*;

    #[test]
    fn ewma_follows_iputils_recurrence() {
        let mut stats = RttStats::default();
        assert_eq!(stats.ewma_us(), None);
        stats.add(Duration::from_micros(80));
        assert_eq!(stats.ewma_us(), Some(80));
        stats.add(Duration::from_micros(160));
        // 640 + 160 − 80 = 720 → 90
        assert_eq!(stats.ewma_us(), Some(90));
    }
}
