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
