//! Metric families as Prometheus' text exposition format (0.0.4) and as
//! OpenMetrics 1.0.0: what `/probe`, `/metrics` and `--textfile` write.
#![forbid(unsafe_code)]

use std::fmt::Write;

use crate::exporter::Format;
use crate::exporter::metrics::{Family, Kind, format_value};

/// The families in `format`.
pub fn families(families: &[Family], format: Format) -> String {
    let mut out = String::with_capacity(64 * families.len());
    for family in families {
        // A family without samples is left out, as client_golang does.
        if family.samples.is_empty() {
            continue;
        }
        let kind = match family.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        };
        // The text format names a counter by its samples' `_total` name;
        // OpenMetrics by the name without it.
        let name = match (format, family.kind) {
            (Format::Text, Kind::Counter) => format!("{}_total", family.name),
            _ => family.name.clone(),
        };
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help, format));
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for sample in &family.samples {
            out.push_str(&family.sample_name(sample));
            if !sample.labels.is_empty() {
                out.push('{');
                for (at, (label, value)) in sample.labels.iter().enumerate() {
                    if at > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{label}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", format_value(sample.value));
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

fn escape_help(help: &str, format: Format) -> String {
    let mut out = String::with_capacity(help.len());
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if format == Format::OpenMetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::metrics::{Histogram, RTT_BUCKETS};

    #[test]
    fn gauges_and_counters_are_written_as_client_golang_writes_them() {
        let families = [
            Family::single(
                "probe_success",
                "Displays whether or not the probe was a success",
                1.0,
            ),
            Family::counter("probe_icmp_packets_sent", "Sent").with(&[], 3.0),
            Family::gauge("probe_icmp_duration_seconds", "Duration")
                .with(&[("phase", "rtt")], 0.000_012),
        ];
        assert_eq!(
            super::families(&families, Format::Text),
            "# HELP probe_success Displays whether or not the probe was a success\n\
             # TYPE probe_success gauge\n\
             probe_success 1\n\
             # HELP probe_icmp_packets_sent_total Sent\n\
             # TYPE probe_icmp_packets_sent_total counter\n\
             probe_icmp_packets_sent_total 3\n\
             # HELP probe_icmp_duration_seconds Duration\n\
             # TYPE probe_icmp_duration_seconds gauge\n\
             probe_icmp_duration_seconds{phase=\"rtt\"} 1.2e-05\n"
        );
    }

    #[test]
    fn openmetrics_names_counters_without_total_and_ends_with_eof() {
        let families = [Family::counter("probe_icmp_packets_sent", "Sent").with(&[], 3.0)];
        let text = super::families(&families, Format::OpenMetrics);
        assert!(text.starts_with("# HELP probe_icmp_packets_sent Sent\n# TYPE probe_icmp_packets_sent counter\nprobe_icmp_packets_sent_total 3\n"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        let families = [Family::gauge("x", "h").with(&[("target", "a\"b\\c\nd")], 1.0)];
        let text = super::families(&families, Format::Text);
        assert!(text.contains(r#"x{target="a\"b\\c\nd"} 1"#), "{text}");
    }

    #[test]
    fn a_histogram_has_its_buckets_sum_and_count() {
        let mut histogram = Histogram::new(&RTT_BUCKETS);
        histogram.observe(0.001);
        let text = super::families(&[histogram.family("rtt_seconds", "h")], Format::Text);
        assert!(
            text.contains("rtt_seconds_bucket{le=\"0.0016\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "rtt_seconds_bucket{le=\"+Inf\"} 1\nrtt_seconds_sum 0.001\nrtt_seconds_count 1\n"
            ),
            "{text}"
        );
    }
}
