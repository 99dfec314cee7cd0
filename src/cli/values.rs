//! Value parsers shared by the subcommands: user text → domain types, with
//! messages that say what is accepted.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Duration;

use crate::iface::IfaceName;
use crate::ping::session::Pattern;
use crate::ping::socket::Source;

/// Seconds as a decimal number (`1`, `0.2`, `1.5`), zero allowed.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("'{text}': seconds must be zero or more"));
    }
    if value > 1e9 {
        return Err(format!("'{text}': more than a billion seconds"));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Seconds, strictly more than zero.
pub fn positive_seconds(text: &str) -> Result<Duration, String> {
    let duration = seconds(text)?;
    if duration.is_zero() {
        return Err(format!("'{text}': must be more than zero seconds"));
    }
    Ok(duration)
}

/// A count of at least one.
pub fn count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(n) if n >= 1 && n <= i128::from(u64::MAX) => Ok(n as u64),
        Ok(n) => Err(format!("{n}: the count must be at least 1")),
        Err(_) => Err(format!("'{text}' is not a whole number")),
    }
}

/// A TTL / hop limit, 1 to 255.
pub fn ttl(text: &str) -> Result<u8, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=255).contains(&n) => Ok(n as u8),
        Ok(n) => Err(format!("ttl {n} out of range: 1 to 255")),
        Err(_) => Err(format!("'{text}' is not a TTL (1 to 255)")),
    }
}

/// A payload size in bytes (the per-family limit is checked once the family is known).
pub fn payload_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (0..=65_527).contains(&n) => Ok(n as usize),
        Ok(n) if n < 0 => Err(format!("{n}: the size can't be negative")),
        Ok(n) => Err(format!(
            "{n} bytes is too large: at most 65507 for IPv4, 65527 for IPv6"
        )),
        Err(_) => Err(format!("'{text}' is not a size in bytes")),
    }
}

/// A fill pattern: up to 16 bytes as hex digits, as iputils' `-p`.
pub fn pattern(text: &str) -> Result<Pattern, String> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("'{text}': patterns are hex digits, e.g. ff00"));
    }
    if text.len() > 32 {
        return Err(format!("'{text}': at most 16 bytes (32 hex digits)"));
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            u8::from_str_radix(digits, 16).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(Pattern)
}

/// `-I`: an address of this host, or an interface name.
pub fn source(text: &str) -> Result<Source, String> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(Source::Address(address));
    }
    text.parse::<IfaceName>().map(Source::Interface)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_decimals_and_refuse_negatives() {
        assert_eq!(seconds("0.2").unwrap(), Duration::from_millis(200));
        assert_eq!(seconds("0").unwrap(), Duration::ZERO);
        assert!(seconds("-1").is_err());
        assert!(seconds("abc").is_err());
        assert!(seconds("inf").is_err());
        assert!(seconds("NaN").is_err());
        assert!(positive_seconds("0").is_err());
    }

    #[test]
    fn counts_start_at_one() {
        assert_eq!(count("3").unwrap(), 3);
        assert!(count("0").unwrap_err().contains("at least 1"));
        assert!(count("-5").unwrap_err().contains("at least 1"));
        assert!(count("x").is_err());
    }

    #[test]
    fn ttl_is_one_to_255() {
        assert_eq!(ttl("64").unwrap(), 64);
        assert!(ttl("0").unwrap_err().contains("out of range"));
        assert!(ttl("256").unwrap_err().contains("out of range"));
    }

    #[test]
    fn patterns_are_hex_bytes() {
        assert_eq!(pattern("ff00").unwrap().0, vec![0xff, 0x00]);
        assert_eq!(pattern("abc").unwrap().0, vec![0xab, 0x0c]);
        assert!(pattern("xyz").is_err());
        assert!(pattern(&"a".repeat(33)).is_err());
    }

    #[test]
    fn source_is_an_address_or_an_interface() {
        assert_eq!(
            source("127.0.0.1").unwrap(),
            Source::Address("127.0.0.1".parse().unwrap())
        );
        assert!(matches!(source("lo").unwrap(), Source::Interface(_)));
        assert!(source("a/b").is_err());
    }
}
