//! Metrics as plain data: families of samples with labels, built by the
//! probers and the exporter's own counters, and written out by the render
//! layer (`render::prometheus`) in the text format or OpenMetrics.
#![forbid(unsafe_code)]

/// What kind of metric a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count that only goes up (its samples end in `_total`).
    Counter,
    /// Observations in cumulative buckets, with their sum and count.
    Histogram,
}

/// One sample: labels and a value; `suffix` is `_bucket`, `_sum`,
/// `_count` or `_total` where the kind calls for one.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Appended to the family's name.
    pub suffix: &'static str,
    /// Label pairs, in order.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

/// A metric family: a name, its help, its kind and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The name, without `_total` for a counter.
    pub name: String,
    /// The HELP text.
    pub help: String,
    /// Gauge, counter or histogram.
    pub kind: Kind,
    /// The samples.
    pub samples: Vec<Sample>,
}

impl Family {
    /// A gauge family with no samples yet.
    pub fn gauge(name: &str, help: &str) -> Family {
        Family {
            name: name.to_string(),
            help: help.to_string(),
            kind: Kind::Gauge,
            samples: Vec::new(),
        }
    }

    /// A counter family (`name` without `_total`).
    pub fn counter(name: &str, help: &str) -> Family {
        Family {
            kind: Kind::Counter,
            ..Family::gauge(name, help)
        }
    }

    /// A gauge with one unlabelled value.
    pub fn single(name: &str, help: &str, value: f64) -> Family {
        Family::gauge(name, help).with(&[], value)
    }

    /// Adds a sample with these labels.
    pub fn with(mut self, labels: &[(&str, &str)], value: f64) -> Family {
        self.push(labels, value);
        self
    }

    /// Adds a sample with these labels.
    pub fn push(&mut self, labels: &[(&str, &str)], value: f64) {
        let suffix = if self.kind == Kind::Counter {
            "_total"
        } else {
            ""
        };
        self.samples.push(Sample {
            suffix,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        });
    }

    /// The name a sample of this family is written with.
    pub fn sample_name(&self, sample: &Sample) -> String {
        format!("{}{}", self.name, sample.suffix)
    }
}

/// Upper bounds of the RTT histogram, in seconds: smokeping_prober's
/// defaults (50 µs doubling to 26.2 s).
pub const RTT_BUCKETS: [f64; 20] = [
    0.00005, 0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512,
    0.1024, 0.2048, 0.4096, 0.8192, 1.6384, 3.2768, 6.5536, 13.1072, 26.2144,
];

/// A histogram being filled: fixed buckets, so its size never follows how
/// many observations it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending).
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    /// Counts one observation.
    pub fn observe(&mut self, value: f64) {
        if let Some(at) = self.bounds.iter().position(|bound| value <= *bound) {
            self.counts[at] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The family: cumulative `_bucket`s (with `+Inf`), `_sum`, `_count`.
    pub fn family(&self, name: &str, help: &str) -> Family {
        let mut samples = Vec::with_capacity(self.bounds.len() + 3);
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count;
            samples.push(Sample {
                suffix: "_bucket",
                labels: vec![("le".into(), format_value(*bound))],
                value: cumulative as f64,
            });
        }
        samples.push(Sample {
            suffix: "_bucket",
            labels: vec![("le".into(), "+Inf".into())],
            value: self.count as f64,
        });
        samples.push(Sample {
            suffix: "_sum",
            labels: Vec::new(),
            value: self.sum,
        });
        samples.push(Sample {
            suffix: "_count",
            labels: Vec::new(),
            value: self.count as f64,
        });
        Family {
            name: name.to_string(),
            help: help.to_string(),
            kind: Kind::Histogram,
            samples,
        }
    }
}

/// A value as the exposition formats write it, byte for byte as Go's
/// client does (`strconv.FormatFloat(v, 'g', -1, 64)`): the shortest
/// digits that read back the same, in exponent form below 1e-4 and from
/// 1e6 (`1.3151e-05`, `3.668918509e+09`), `NaN`, `+Inf`, `-Inf`.
pub fn format_value(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..6).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    } else {
        format!("{value}")
    }
}

/// blackbox_exporter's `probe_ip_addr_hash`: FNV-1a (32 bits) of the
/// address's bytes (4 for IPv4, 16 for IPv6).
pub fn ip_hash(address: std::net::IpAddr) -> f64 {
    let bytes: Vec<u8> = match address {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    };
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    f64::from(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_in_inf() {
        let mut histogram = Histogram::new(&RTT_BUCKETS);
        for rtt in [0.00001, 0.00007, 0.00007, 100.0] {
            histogram.observe(rtt);
        }
        let family = histogram.family("x", "y");
        let bucket = |le: &str| {
            family
                .samples
                .iter()
                .find(|s| s.labels == vec![("le".to_string(), le.to_string())])
                .map(|s| s.value)
        };
        assert_eq!(bucket("5e-05"), Some(1.0));
        assert_eq!(bucket("0.0001"), Some(3.0));
        assert_eq!(bucket("26.2144"), Some(3.0));
        assert_eq!(bucket("+Inf"), Some(4.0));
        assert_eq!(histogram.count(), 4);
    }

    #[test]
    fn values_are_written_as_prometheus_writes_them() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.25), "0.25");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(-3.0), "-3");
        assert_eq!(format_value(1.3151e-05), "1.3151e-05");
        assert_eq!(format_value(0.000105907), "0.000105907");
        assert_eq!(format_value(3_668_918_509.0), "3.668918509e+09");
        assert_eq!(format_value(999_999.0), "999999");
        assert_eq!(format_value(1e6), "1e+06");
    }

    #[test]
    fn ip_hash_is_blackboxs_fnv1a_of_the_address_bytes() {
        // FNV-1a 32 of 127.0.0.1's four bytes.
        assert_eq!(ip_hash("127.0.0.1".parse().unwrap()), 3_668_918_509.0);
    }
}
