//! Round-trip times, accumulated the one way ping and echo both use: exact
//! count, min, max, mean and standard deviation (in nanoseconds, and in
//! iputils' truncated integer microseconds); exact nearest-rank percentiles
//! while at most [`EXACT_SAMPLES`] samples have been added, and from an HDR
//! histogram (three significant digits) beyond — so memory stays flat
//! however long `ping -f` or an echo load run goes on.
#![forbid(unsafe_code)]

use std::time::Duration;

use hdrhistogram::Histogram;
use schemars::JsonSchema;
use serde::Serialize;

/// Up to this many samples are kept for exact percentiles.
pub const EXACT_SAMPLES: usize = 10_000;

/// The longest round trip the histogram tells apart; longer ones count as an hour.
const HOUR_NS: u64 = 3_600_000_000_000;

/// A round-trip summary in milliseconds, as `--json` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
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

/// Accumulated round trips.
#[derive(Debug, Clone, Default)]
pub struct Rtt {
    count: u64,
    sum_ns: u128,
    sum_sq_ns: u128,
    min_ns: u64,
    max_ns: u64,
    sum_us: u128,
    sum_sq_us: u128,
    /// iputils' smoothed RTT, times eight, in microseconds.
    ewma8_us: Option<u64>,
    /// Every sample (ns) while there are at most EXACT_SAMPLES; then empty.
    samples: Vec<u64>,
    /// Every sample once there are more.
    histogram: Option<Box<Histogram<u64>>>,
}

impl Rtt {
    /// Adds one round trip.
    pub fn add(&mut self, rtt: Duration) {
        let ns = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX);
        let us = ns / 1000;
        if self.count == 0 || ns < self.min_ns {
            self.min_ns = ns;
        }
        self.max_ns = self.max_ns.max(ns);
        self.count += 1;
        self.sum_ns += u128::from(ns);
        self.sum_sq_ns += u128::from(ns) * u128::from(ns);
        self.sum_us += u128::from(us);
        self.sum_sq_us += u128::from(us) * u128::from(us);
        // iputils: rtt₀ = 8·x₀, then rtt += x − rtt/8.
        self.ewma8_us = Some(match self.ewma8_us {
            None => us.saturating_mul(8),
            Some(rtt) => rtt.saturating_add(us).saturating_sub(rtt / 8),
        });
        self.record(ns);
    }

    fn record(&mut self, ns: u64) {
        if let Some(histogram) = &mut self.histogram {
            histogram.saturating_record(ns.max(1));
        } else if self.samples.len() < EXACT_SAMPLES {
            self.samples.push(ns);
        } else {
            let mut histogram = Self::new_histogram();
            for &sample in &self.samples {
                histogram.saturating_record(sample.max(1));
            }
            histogram.saturating_record(ns.max(1));
            self.samples = Vec::new();
            self.histogram = Some(histogram);
        }
    }

    fn new_histogram() -> Box<Histogram<u64>> {
        // 1 ns to an hour at three significant digits.
        Box::new(
            Histogram::new_with_bounds(1, HOUR_NS, 3)
                .unwrap_or_else(|_| unreachable!("valid fixed bounds")),
        )
    }

    /// Adds everything `other` recorded (the smoothed RTT is not merged).
    pub fn merge(&mut self, other: &Rtt) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 || other.min_ns < self.min_ns {
            self.min_ns = other.min_ns;
        }
        self.max_ns = self.max_ns.max(other.max_ns);
        self.count += other.count;
        self.sum_ns += other.sum_ns;
        self.sum_sq_ns += other.sum_sq_ns;
        self.sum_us += other.sum_us;
        self.sum_sq_us += other.sum_sq_us;
        match &other.histogram {
            Some(theirs) => {
                let mine = self.histogram.get_or_insert_with(Self::new_histogram);
                for sample in self.samples.drain(..) {
                    mine.saturating_record(sample.max(1));
                }
                // Same bounds on both sides: adding cannot fail.
                let _ = mine.add(theirs.as_ref());
            }
            None => {
                for &sample in &other.samples {
                    self.record(sample);
                }
            }
        }
    }

    /// How many round trips were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value at percentile `p` (0–100), in nanoseconds: nearest rank over
    /// every sample while all are kept, the histogram's value beyond.
    pub fn percentile_ns(&self, p: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        if let Some(histogram) = &self.histogram {
            return Some(
                histogram
                    .value_at_quantile(p / 100.0)
                    .clamp(self.min_ns, self.max_ns),
            );
        }
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        Some(sorted[rank.clamp(1, sorted.len()) - 1])
    }

    /// The value at percentile `p`, in (truncated) microseconds.
    pub fn percentile_us(&self, p: f64) -> Option<u64> {
        self.percentile_ns(p).map(|ns| ns / 1000)
    }

    /// Mean, in nanoseconds.
    pub fn mean_ns(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / self.count as f64)
    }

    /// Population standard deviation, in nanoseconds.
    pub fn mdev_ns(&self) -> Option<f64> {
        let mean = self.mean_ns()?;
        let variance = self.sum_sq_ns as f64 / self.count as f64 - mean * mean;
        Some(variance.max(0.0).sqrt())
    }

    /// min/avg/max/mdev with iputils' integer arithmetic over truncated
    /// microseconds: avg = Σx/n, variance = (Σx² − (Σx)²/n)/n, mdev = ⌊√variance⌋.
    pub fn iputils(&self) -> Option<IputilsRtt> {
        let n = u128::from(self.count);
        if n == 0 {
            return None;
        }
        let variance = (self.sum_sq_us - (self.sum_us * self.sum_us) / n) / n;
        Some(IputilsRtt {
            min_us: self.min_ns / 1000,
            avg_us: u64::try_from(self.sum_us / n).unwrap_or(u64::MAX),
            max_us: self.max_ns / 1000,
            mdev_us: u64::try_from(isqrt(variance)).unwrap_or(u64::MAX),
        })
    }

    /// iputils' smoothed RTT ("ewma", shown with flood), in microseconds.
    pub fn ewma_us(&self) -> Option<u64> {
        self.ewma8_us.map(|rtt| rtt / 8)
    }

    /// The summary at nanosecond precision (echo's).
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

    /// The summary in iputils' integer microseconds (ping's).
    pub fn iputils_summary(&self) -> Option<RttSummary> {
        let classic = self.iputils()?;
        let ms = |us: u64| us as f64 / 1000.0;
        Some(RttSummary {
            min: ms(classic.min_us),
            avg: ms(classic.avg_us),
            max: ms(classic.max_us),
            mdev: ms(classic.mdev_us),
            p50: ms(self.percentile_us(50.0)?),
            p90: ms(self.percentile_us(90.0)?),
            p99: ms(self.percentile_us(99.0)?),
        })
    }

    /// How the samples spread from min to max: `buckets` counts of equal
    /// width, with the min and max in microseconds; `None` without samples.
    pub fn distribution_us(&self, buckets: usize) -> Option<(u64, u64, Vec<u64>)> {
        if self.count == 0 || buckets == 0 {
            return None;
        }
        let (min, max) = (self.min_ns / 1000, self.max_ns / 1000);
        let width = u128::from((max - min).max(1));
        let mut counts = vec![0u64; buckets];
        let mut put = |us: u64, n: u64| {
            let at = u128::from(us.clamp(min, max) - min) * (buckets as u128 - 1) / width;
            counts[(at as usize).min(buckets - 1)] += n;
        };
        match &self.histogram {
            Some(histogram) => {
                for value in histogram.iter_recorded() {
                    put(value.value_iterated_to() / 1000, value.count_at_value());
                }
            }
            None => self.samples.iter().for_each(|&ns| put(ns / 1000, 1)),
        }
        Some((min, max, counts))
    }

    /// Bytes this accumulator holds beyond its own size (samples, histogram).
    pub fn heap_bytes(&self) -> usize {
        self.samples.capacity() * 8
            + self
                .histogram
                .as_ref()
                .map_or(0, |h| h.distinct_values() * 8)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rtt_us(us: &[u64]) -> Rtt {
        let mut rtt = Rtt::default();
        for &value in us {
            rtt.add(Duration::from_micros(value));
        }
        rtt
    }

    #[test]
    fn mdev_is_the_population_standard_deviation_in_integer_microseconds() {
        // iputils: 0.040/0.067/0.112/0.031 for 112, 40, 51 µs.
        let classic = rtt_us(&[112, 40, 51]).iputils().unwrap();
        assert_eq!(
            classic,
            IputilsRtt {
                min_us: 40,
                avg_us: 67,
                max_us: 112,
                mdev_us: 31
            }
        );
        assert_eq!(rtt_us(&[23]).iputils().unwrap().mdev_us, 0);
    }

    #[test]
    fn iputils_numbers_use_truncated_microseconds() {
        let mut rtt = Rtt::default();
        rtt.add(Duration::from_nanos(1_999));
        rtt.add(Duration::from_nanos(2_999));
        assert_eq!(rtt.iputils().unwrap().avg_us, 1, "(1 + 2) / 2 truncated");
        assert_eq!(rtt.mean_ns(), Some(2_499.0));
    }

    #[test]
    fn mean_and_mdev_are_exact_population_statistics() {
        let l = rtt_us(&[112, 40, 51]);
        assert_eq!(l.mean_ns(), Some(67_666.666_666_666_67));
        assert!((l.mdev_ns().unwrap() - 31_668.0).abs() < 10.0);
        let s = l.summary().unwrap();
        assert_eq!((s.min, s.max), (0.040, 0.112));
    }

    #[test]
    fn few_samples_give_exact_nearest_rank_percentiles() {
        let s = rtt_us(&(1..=100).collect::<Vec<_>>());
        assert_eq!(s.percentile_us(50.0), Some(50));
        assert_eq!(s.percentile_us(90.0), Some(90));
        assert_eq!(s.percentile_us(99.0), Some(99));
        assert_eq!(rtt_us(&[7]).percentile_us(99.0), Some(7));
        assert_eq!(Rtt::default().percentile_us(50.0), None);
        assert_eq!(Rtt::default().summary(), None);
    }

    #[test]
    fn many_samples_keep_percentiles_within_a_thousandth_in_bounded_memory() {
        let mut rtt = Rtt::default();
        for n in 0..600_000u64 {
            rtt.add(Duration::from_micros(1 + n % 1000));
        }
        let p50 = rtt.percentile_ns(50.0).unwrap() as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.001, "{p50}");
        let small = {
            let mut rtt = Rtt::default();
            for n in 0..30_000u64 {
                rtt.add(Duration::from_micros(1 + n % 1000));
            }
            rtt
        };
        assert_eq!(
            rtt.heap_bytes(),
            small.heap_bytes(),
            "600k samples cost what 30k do"
        );
        assert_eq!(rtt.count(), 600_000);
        assert_eq!(rtt.iputils().unwrap().min_us, 1);
        assert_eq!(rtt.iputils().unwrap().max_us, 1000);
    }

    #[test]
    fn ewma_follows_iputils_recurrence() {
        let mut rtt = Rtt::default();
        assert_eq!(rtt.ewma_us(), None);
        rtt.add(Duration::from_micros(80));
        assert_eq!(rtt.ewma_us(), Some(80));
        rtt.add(Duration::from_micros(160));
        // 640 + 160 − 80 = 720 → 90
        assert_eq!(rtt.ewma_us(), Some(90));
    }

    #[test]
    fn merged_accumulators_equal_one_recording_everything() {
        let mut a = rtt_us(&[10, 20]);
        a.merge(&rtt_us(&[30, 40]));
        assert_eq!(a.summary(), rtt_us(&[10, 20, 30, 40]).summary());
        assert_eq!(a.count(), 4);
        let big: Vec<u64> = (1..=(EXACT_SAMPLES as u64 + 10)).collect();
        let mut b = rtt_us(&[5]);
        b.merge(&rtt_us(&big));
        assert_eq!(b.count(), big.len() as u64 + 1);
        assert_eq!(b.iputils().unwrap().min_us, 1);
    }

    #[test]
    fn the_distribution_spreads_samples_from_min_to_max() {
        let (min, max, counts) = rtt_us(&[10, 10, 20, 30]).distribution_us(3).unwrap();
        assert_eq!((min, max, counts), (10, 30, vec![2, 1, 1]));
        assert_eq!(Rtt::default().distribution_us(4), None);
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
}
