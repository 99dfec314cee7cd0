//! Round-trip times at nanosecond resolution: exact min, max, mean and
//! standard deviation; exact nearest-rank percentiles while there are up
//! to [`EXACT_SAMPLES`] samples, and from an HDR histogram (three
//! significant digits) beyond, so memory stays flat however many millions
//! of echoes a load run records.
#![forbid(unsafe_code)]

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::ping::RttSummary;

/// The longest round trip the histogram tells apart.
const HOUR_NS: u64 = 3_600_000_000_000;

/// Up to this many samples are kept for exact percentiles.
pub const EXACT_SAMPLES: usize = 100_000;

/// Accumulated round trips.
#[derive(Debug, Clone)]
pub struct Latency {
    histogram: Histogram<u64>,
    samples: Vec<u64>,
    count: u64,
    sum_ns: u128,
    sum_sq_ns: u128,
    min_ns: u64,
    max_ns: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            // 1 ns to an hour at three significant digits (about 200 KiB);
            // longer round trips are recorded as an hour.
            histogram: Histogram::new_with_bounds(1, HOUR_NS, 3)
                .unwrap_or_else(|_| unreachable!("valid fixed bounds")),
            samples: Vec::new(),
            count: 0,
            sum_ns: 0,
            sum_sq_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
        }
    }
}

impl Latency {
    /// Adds one round trip.
    pub fn add(&mut self, rtt: Duration) {
        let ns = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX).max(1);
        self.histogram.saturating_record(ns);
        if self.samples.len() < EXACT_SAMPLES && self.count == self.samples.len() as u64 {
            self.samples.push(ns);
        }
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.sum_sq_ns += u128::from(ns) * u128::from(ns);
        self.min_ns = self.min_ns.min(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Adds everything `other` recorded.
    pub fn merge(&mut self, other: &Latency) {
        if other.count == 0 {
            return;
        }
        // Both histograms auto-resize, so adding cannot run out of range.
        let _ = self.histogram.add(&other.histogram);
        if self.count + other.count <= EXACT_SAMPLES as u64
            && self.count == self.samples.len() as u64
            && other.count == other.samples.len() as u64
        {
            self.samples.extend_from_slice(&other.samples);
        }
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.sum_sq_ns += other.sum_sq_ns;
        self.min_ns = self.min_ns.min(other.min_ns);
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// How many round trips were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value at percentile `p` (0–100), in nanoseconds: nearest rank
    /// over every sample while all are kept, the histogram's value beyond.
    pub fn percentile_ns(&self, p: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        if self.samples.len() as u64 == self.count {
            let mut sorted = self.samples.clone();
            sorted.sort_unstable();
            let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            return Some(sorted[rank.clamp(1, sorted.len()) - 1]);
        }
        Some(
            self.histogram
                .value_at_quantile(p / 100.0)
                .clamp(self.min_ns, self.max_ns),
        )
    }

    /// Mean, in nanoseconds.
    pub fn mean_ns(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / self.count as f64)
    }

    /// Population standard deviation (ping's "mdev"), in nanoseconds.
    pub fn mdev_ns(&self) -> Option<f64> {
        let mean = self.mean_ns()?;
        let variance = self.sum_sq_ns as f64 / self.count as f64 - mean * mean;
        Some(variance.max(0.0).sqrt())
    }

    /// min/avg/max/mdev and percentiles in milliseconds; `None` without samples.
    pub fn summary(&self) -> Option<RttSummary> {
        let ms = |ns: f64| ns.round() / 1e6;
        let ns_ms = |ns: u64| ms(ns as f64);
        Some(RttSummary {
            min: ns_ms(self.min_ns),
            avg: ms(self.mean_ns()?),
            max: ns_ms(self.max_ns),
            mdev: ms(self.mdev_ns()?),
            p50: ns_ms(self.percentile_ns(50.0)?),
            p90: ns_ms(self.percentile_ns(90.0)?),
            p99: ns_ms(self.percentile_ns(99.0)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latency(us: &[u64]) -> Latency {
        let mut latency = Latency::default();
        for &value in us {
            latency.add(Duration::from_micros(value));
        }
        latency
    }

    #[test]
    fn mean_and_mdev_are_exact_population_statistics() {
        let l = latency(&[112, 40, 51]);
        assert_eq!(l.mean_ns(), Some(67_666.666_666_666_67));
        // population sd of 112, 40, 51 µs is 31.67 µs
        assert!((l.mdev_ns().unwrap() - 31_668.0).abs() < 10.0);
        let s = l.summary().unwrap();
        assert_eq!((s.min, s.max), (0.040, 0.112));
    }

    #[test]
    fn percentiles_are_within_a_thousandth() {
        let l = latency(&(1..=1000).collect::<Vec<_>>());
        let p50 = l.percentile_ns(50.0).unwrap() as f64;
        let p99 = l.percentile_ns(99.0).unwrap() as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.001, "{p50}");
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.001, "{p99}");
        assert_eq!(Latency::default().summary(), None);
    }

    #[test]
    fn few_samples_give_exact_nearest_rank_percentiles() {
        let l = latency(&[88, 160]);
        assert_eq!(l.percentile_ns(50.0), Some(88_000));
        assert_eq!(l.percentile_ns(99.0), Some(160_000));
    }

    #[test]
    fn merged_latencies_equal_one_recording_everything() {
        let mut a = latency(&[10, 20]);
        a.merge(&latency(&[30, 40]));
        let all = latency(&[10, 20, 30, 40]);
        assert_eq!(a.summary(), all.summary());
        assert_eq!(a.count(), 4);
    }
}
