//! Human-readable quantities, computed the way the classic tools compute them.

/// ifconfig's `(54.7 MiB)` rendering of a byte count: binary units, one
/// truncated (not rounded) decimal, a unit only above 1024.
pub fn ifconfig_bytes(bytes: u64) -> String {
    const UNITS: [(u128, &str); 6] = [
        (1 << 60, "EiB"),
        (1 << 50, "PiB"),
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    let bytes = u128::from(bytes);
    let (tenths, unit) = UNITS
        .iter()
        .find(|(size, _)| bytes > *size)
        .map(|(size, unit)| (bytes * 10 / size, *unit))
        .unwrap_or((bytes * 10, "B"));
    format!("{}.{} {}", tenths / 10, tenths % 10, unit)
}

/// Milliseconds with three decimals, as ping and traceroute print them.
pub fn millis(ms: f64) -> String {
    format!("{ms:.3} ms")
}

/// The two round-trip lines under ping-style statistics (`rtt
/// min/avg/max/mdev = …` and `rtt p50/p90/p99 = …`), each value truncated
/// to the microsecond as the per-probe lines are.
pub fn rtt_lines(rtt: &crate::rtt::RttSummary) -> String {
    let ms = |v: f64| format!("{:.3}", (v * 1000.0).floor() / 1000.0);
    format!(
        "rtt min/avg/max/mdev = {}/{}/{}/{} ms\nrtt p50/p90/p99 = {}/{}/{} ms\n",
        ms(rtt.min),
        ms(rtt.avg),
        ms(rtt.max),
        ms(rtt.mdev),
        ms(rtt.p50),
        ms(rtt.p90),
        ms(rtt.p99)
    )
}

/// Hex and ASCII, 16 bytes a line with their offset, like `xxd`; at most
/// `limit` bytes, then how many more there are.
pub fn hex_dump(bytes: &[u8], limit: usize, indent: &str) -> String {
    use std::fmt::Write;
    let mut text = String::new();
    for (row, chunk) in bytes.chunks(16).take(limit.div_ceil(16)).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(
            text,
            "{indent}{:04x}  {:<47}  {ascii}",
            row * 16,
            hex.join(" ")
        );
    }
    let shown = limit.div_ceil(16) * 16;
    if bytes.len() > shown {
        let _ = writeln!(text, "{indent}… {} more bytes", bytes.len() - shown);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::ifconfig_bytes;

    #[test]
    fn byte_counts_match_ifconfig() {
        assert_eq!(ifconfig_bytes(0), "0.0 B");
        assert_eq!(ifconfig_bytes(1024), "1024.0 B");
        assert_eq!(ifconfig_bytes(3193), "3.1 KiB");
        assert_eq!(ifconfig_bytes(35984), "35.1 KiB");
        assert_eq!(ifconfig_bytes(28_090_688), "26.7 MiB");
        assert_eq!(ifconfig_bytes(u64::MAX), "15.9 EiB");
    }
}
