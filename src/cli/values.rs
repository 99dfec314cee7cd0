//! Value parsers shared by the subcommands: user text → domain types, with
//! messages that say what is accepted.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Duration;

use crate::echo::{MAX_FRAME, MAX_UDP_PAYLOAD_V6};
use crate::iface::IfaceName;
use crate::ping::echo::Source;
use crate::ping::session::Pattern;

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

/// A byte count: `4096`, `64K`, `1M`, `1G` (binary multiples).
fn bytes(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let (digits, scale) = match trimmed.char_indices().last() {
        Some((at, 'k' | 'K')) => (&trimmed[..at], 1u64 << 10),
        Some((at, 'm' | 'M')) => (&trimmed[..at], 1 << 20),
        Some((at, 'g' | 'G')) => (&trimmed[..at], 1 << 30),
        _ => (trimmed, 1),
    };
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size in bytes (e.g. 4096, 64K, 1M)"))?;
    // Past u64 is past every limit: say the limit, not "overflow".
    Ok(value.saturating_mul(scale))
}

/// A byte count of at most `max`; anything larger is refused in the one
/// wording every size option shares.
fn bytes_at_most(text: &str, max: u64) -> Result<u64, String> {
    let value = bytes(text)?;
    if value > max {
        return Err(format!(
            "'{text}' is too large: at most {}",
            size_words(max)
        ));
    }
    Ok(value)
}

/// `1G (1073741824 bytes)`, `65527 bytes`: a limit as a user would type it, and exactly.
fn size_words(bytes: u64) -> String {
    let suffixed = [(30, 'G'), (20, 'M'), (10, 'K')]
        .into_iter()
        .find(|(shift, _)| bytes >= 1 << shift && bytes % (1 << shift) == 0)
        .map(|(shift, suffix)| format!("{}{suffix} (", bytes >> shift));
    match suffixed {
        Some(short) => format!("{short}{bytes} bytes)"),
        None => format!("{bytes} bytes"),
    }
}

/// A socket buffer or option size: up to the kernel's `int`, 2147483647.
pub fn byte_size(text: &str) -> Result<usize, String> {
    bytes_at_most(text, i32::MAX as u64).map(|n| n as usize)
}

/// A UDP datagram size limit: 1 to 65527.
pub fn datagram_size(text: &str) -> Result<usize, String> {
    match bytes_at_most(text, MAX_UDP_PAYLOAD_V6 as u64)? {
        0 => Err(format!(
            "0: datagrams of 0 bytes carry nothing to echo; give 1 to {MAX_UDP_PAYLOAD_V6}"
        )),
        n => Ok(n as usize),
    }
}

/// A frame body limit: 1 byte to [`MAX_FRAME`] (1G).
pub fn frame_size(text: &str) -> Result<u32, String> {
    match bytes_at_most(text, u64::from(MAX_FRAME))? {
        0 => Err(format!(
            "0: a limit of 0 bytes refuses every frame with a body; give 1 to {}",
            size_words(u64::from(MAX_FRAME))
        )),
        n => Ok(n as u32),
    }
}

/// A probe payload: 1 byte to 16 MiB (the UDP limit is checked with the protocol).
pub fn probe_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n < 1 => Err(format!("size {n}: a probe needs at least 1 byte")),
        Ok(n) if n > 16 << 20 => Err(format!("size {n}: at most 16777216 bytes (16 MiB)")),
        Ok(n) => Ok(n as usize),
        Err(_) => Err(format!("'{text}' is not a size in bytes")),
    }
}

/// Splits `host:port` / `[v6]:port`; the port as text.
fn split_host_port(text: &str) -> Result<(&str, &str), String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{text}': missing ']' after the IPv6 address"))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("'{text}': expected [ADDRESS]:PORT"))?;
        return Ok((host, port));
    }
    match text.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => Err(format!(
            "'{text}': write IPv6 addresses in brackets, e.g. [::1]:7007"
        )),
        Some((host, port)) => Ok((host, port)),
        None => Err(format!(
            "'{text}' has no port: expected HOST:PORT, e.g. 127.0.0.1:7007"
        )),
    }
}

/// A port number; `zero_ok` for binding (0: the kernel picks one).
fn port(text: &str, zero_ok: bool) -> Result<u16, String> {
    match text.trim().parse::<i64>() {
        Ok(0) if zero_ok => Ok(0),
        Ok(0) => Err("port 0 can't be connected to; give 1 to 65535".into()),
        Ok(n) if (1..=65_535).contains(&n) => Ok(n as u16),
        Ok(n) => Err(format!("port {n} out of range: 1 to 65535")),
        Err(_) => Err(format!("'{text}' is not a port number")),
    }
}

/// A service's address as given: a name or address, and a port (resolved
/// later, with the address family the command asks for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address (without brackets).
    pub host: String,
    /// Port, 1-65535.
    pub port: u16,
}

/// `HOST:PORT` or `[IPV6]:PORT` of a service to reach.
pub fn endpoint(text: &str) -> Result<Endpoint, String> {
    let (host, port_text) = split_host_port(text)?;
    if host.is_empty() {
        return Err(format!("'{text}' has no host: expected HOST:PORT"));
    }
    Ok(Endpoint {
        host: host.to_string(),
        port: port(port_text, false)?,
    })
}

/// Where a server listens: `ADDR:PORT`, `[V6]:PORT`, or `PORT` (on 127.0.0.1).
pub fn bind_address(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(number) = text.trim().parse::<i64>() {
        let port = port(&number.to_string(), true)?;
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let (host, port_text) = split_host_port(text)?;
    let address: IpAddr = host
        .parse()
        .map_err(|_| format!("'{host}' is not an IP address of this host"))?;
    Ok(std::net::SocketAddr::new(address, port(port_text, true)?))
}

/// A local address to send from: `ADDR` or `ADDR:PORT`.
pub fn local_address(text: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(address) = text.trim().trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(std::net::SocketAddr::new(address, 0));
    }
    bind_address(text)
}

/// `NAME=VALUE` for `netdx sockopt --set`: a known option, a value of its kind.
pub fn setting(text: &str) -> Result<crate::sockopt::session::Setting, String> {
    use crate::sockopt::{self, Kind};
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}': expected NAME=VALUE, e.g. SO_RCVBUF=4096"))?;
    let spec = sockopt::find(name).ok_or_else(|| {
        let close = sockopt::suggestions(name);
        format!(
            "unknown socket option '{name}'; did you mean {}? ('netdx sockopt' lists them all)",
            close.join(", ")
        )
    })?;
    if spec.kind == Kind::Fixed || spec.name == "SO_ACCEPTCONN" {
        return Err(format!("{} can only be read, not set", spec.name));
    }
    let value = if spec.kind == Kind::Int {
        // byte_size bounds a size to i32::MAX, inside Value::int's range.
        byte_size(value)
            .map(|n| sockopt::Value::Int(n as i64))
            .or_else(|size_error| {
                let suffixed = value.trim().ends_with(char::is_alphabetic);
                sockopt::Value::parse(Kind::Int, value)
                    .map_err(|int_error| if suffixed { size_error } else { int_error })
            })
    } else {
        sockopt::Value::parse(spec.kind, value)
    }
    .map_err(|why| format!("{}: {why}", spec.name))?;
    Ok(crate::sockopt::session::Setting { spec, value })
}

/// A destination port, 1 to 65535.
pub fn destination_port(text: &str) -> Result<u16, String> {
    port(text, false)
}

/// A number that fits `max`, decimal or 0x-prefixed hex.
fn bounded(text: &str, max: u32, what: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    let parsed = match trimmed
        .strip_prefix("0x")
        .or_else(|| trimmed.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => trimmed.parse::<i64>(),
    };
    match parsed {
        Ok(n) if (0..=i64::from(max)).contains(&n) => Ok(n as u32),
        Ok(n) => Err(format!("{what} {n} out of range: 0 to {max}")),
        Err(_) => Err(format!("'{text}' is not a {what} (0 to {max})")),
    }
}

/// One byte: a code, a TOS value (decimal or 0x10).
pub fn byte(text: &str) -> Result<u8, String> {
    bounded(text, 255, "byte value").map(|n| n as u8)
}

/// A 16-bit field: identifier, sequence.
pub fn word(text: &str) -> Result<u16, String> {
    bounded(text, 65_535, "16-bit value").map(|n| n as u16)
}

/// `echo`, `timestamp`, or a type number.
pub fn icmp_type(text: &str) -> Result<crate::icmp::MessageType, String> {
    use crate::icmp::MessageType;
    match text.trim().to_ascii_lowercase().as_str() {
        "echo" | "echo-request" => Ok(MessageType::Echo),
        "timestamp" | "timestamp-request" => Ok(MessageType::Timestamp),
        other => bounded(other, 255, "ICMP type")
            .map(|n| MessageType::Number(n as u8))
            .map_err(|_| format!("'{text}' is not an ICMP type: echo, timestamp, or 0 to 255")),
    }
}

/// Bytes given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

/// `0x`-prefixed hex bytes, or text taken as its bytes.
pub fn payload(text: &str) -> Result<Bytes, String> {
    payload_bytes(text).map(Bytes)
}

fn payload_bytes(text: &str) -> Result<Vec<u8>, String> {
    let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) else {
        return if text.len() > 65_507 {
            Err(format!("{} bytes of payload: at most 65507", text.len()))
        } else {
            Ok(text.as_bytes().to_vec())
        };
    };
    if hex.len() % 2 != 0 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "'{text}' is not hex bytes: an even number of 0-9a-f digits after 0x"
        ));
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    if bytes.len() > 65_507 {
        return Err(format!("{} bytes of payload: at most 65507", bytes.len()));
    }
    Ok(bytes)
}

/// Probes per hop, 1 to 10 (traceroute's limit).
pub fn probes_per_hop(text: &str) -> Result<u8, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=10).contains(&n) => Ok(n as u8),
        Ok(n) => Err(format!("{n} probes per hop: 1 to 10")),
        Err(_) => Err(format!("'{text}' is not a number of probes (1 to 10)")),
    }
}

/// Probes in flight at once, 1 to 1024.
pub fn simultaneous(text: &str) -> Result<usize, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n as usize),
        Ok(n) => Err(format!("{n} probes in flight: 1 to 1024")),
        Err(_) => Err(format!("'{text}' is not a number of probes (1 to 1024)")),
    }
}

/// traceroute's `-w MAX[,HERE,NEAR]`.
pub fn trace_wait(text: &str) -> Result<crate::trace::Wait, String> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > 3 {
        return Err(format!("'{text}': expected MAX[,HERE[,NEAR]]"));
    }
    let max = positive_seconds(parts[0])?;
    let factor = |i: usize, default: f64| -> Result<f64, String> {
        match parts.get(i) {
            None => Ok(default),
            Some(p) => match p.trim().parse::<f64>() {
                Ok(f) if f.is_finite() && (0.0..=1000.0).contains(&f) => Ok(f),
                _ => Err(format!("'{p}' in '{text}': a factor from 0 to 1000")),
            },
        }
    };
    Ok(crate::trace::Wait {
        max,
        here: factor(1, 3.0)?,
        near: factor(2, 10.0)?,
    })
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
    fn endpoints_need_a_host_and_a_real_port() {
        let target = endpoint("localhost:7007").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("localhost", 7007));
        assert_eq!(endpoint("[::1]:7").unwrap().host, "::1");
        assert!(endpoint("127.0.0.1:0").unwrap_err().contains("port 0"));
        assert!(
            endpoint("127.0.0.1:70000")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(endpoint("127.0.0.1").unwrap_err().contains("no port"));
        assert!(endpoint("::1:7007").unwrap_err().contains("brackets"));
    }

    #[test]
    fn bind_addresses_take_a_bare_port_and_port_zero() {
        assert_eq!(
            bind_address("9000").unwrap(),
            "127.0.0.1:9000".parse().unwrap()
        );
        assert_eq!(bind_address("[::]:0").unwrap(), "[::]:0".parse().unwrap());
        assert!(bind_address("example.com:80").is_err());
        assert_eq!(local_address("::1").unwrap(), "[::1]:0".parse().unwrap());
    }

    #[test]
    fn settings_name_a_known_option_and_a_value_of_its_kind() {
        let setting = setting("rcvbuf=64K").unwrap();
        assert_eq!(setting.spec.name, "SO_RCVBUF");
        assert_eq!(setting.value, crate::sockopt::Value::Int(65_536));
        let err = setting_err("SO_RCVBUFF=1");
        assert!(err.contains("did you mean SO_RCVBUF"), "{err}");
        assert!(setting_err("SO_LINGER=sometimes").starts_with("SO_LINGER: "));
        assert!(setting_err("SO_TYPE=1").contains("only be read"));
        assert!(setting_err("SO_RCVBUF").contains("NAME=VALUE"));
    }

    fn setting_err(text: &str) -> String {
        setting(text).err().unwrap()
    }

    #[test]
    fn byte_sizes_take_binary_suffixes() {
        assert_eq!(byte_size("64K").unwrap(), 65_536);
        assert_eq!(byte_size("1m").unwrap(), 1 << 20);
        assert!(byte_size("lots").is_err());
        assert!(datagram_size("0").is_err());
        assert!(datagram_size("70000").is_err());
        assert_eq!(byte_size("2147483647").unwrap(), 2_147_483_647);
        assert_eq!(
            byte_size("2G").unwrap_err(),
            "'2G' is too large: at most 2147483647 bytes"
        );
        assert!(probe_size("0").unwrap_err().contains("at least 1 byte"));
    }

    #[test]
    fn frame_limits_refuse_zero_and_share_one_ceiling_in_one_wording() {
        assert_eq!(frame_size("1G").unwrap(), 1 << 30);
        assert_eq!(frame_size("64K").unwrap(), 65_536);
        assert!(frame_size("0").unwrap_err().contains("refuses every frame"));
        for too_large in ["2G", "2147483647", "1073741825", "17179869184G"] {
            let err = frame_size(too_large).unwrap_err();
            assert!(
                err.ends_with("is too large: at most 1G (1073741824 bytes)"),
                "{too_large}: {err}"
            );
        }
        assert!(frame_size("lots").unwrap_err().contains("not a size"));
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

    #[test]
    fn icmp_fields_take_decimal_and_hex_and_refuse_overflow() {
        assert_eq!(byte("0x10").unwrap(), 16);
        assert_eq!(byte("255").unwrap(), 255);
        assert!(byte("256").is_err());
        assert!(word("-1").is_err());
        assert_eq!(word("0xffff").unwrap(), 65_535);
        assert_eq!(
            icmp_type("Timestamp").unwrap(),
            crate::icmp::MessageType::Timestamp
        );
        assert_eq!(
            icmp_type("42").unwrap(),
            crate::icmp::MessageType::Number(42)
        );
        assert!(icmp_type("ping").is_err());
    }

    #[test]
    fn payloads_are_hex_after_0x_or_text() {
        assert_eq!(
            payload("0xdeadBEEF").unwrap().0,
            vec![0xde, 0xad, 0xbe, 0xef]
        );
        assert_eq!(payload("hi").unwrap().0, b"hi".to_vec());
        assert!(payload("0xabc").is_err());
        assert!(payload("0xzz").is_err());
    }

    #[test]
    fn trace_wait_reads_max_here_near() {
        let wait = trace_wait("2,1.5").unwrap();
        assert_eq!(wait.max, Duration::from_secs(2));
        assert_eq!((wait.here, wait.near), (1.5, 10.0));
        assert!(trace_wait("0").is_err());
        assert!(trace_wait("1,2,3,4").is_err());
        assert!(trace_wait("1,x").is_err());
    }
}
