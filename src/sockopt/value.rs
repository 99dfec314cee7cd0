//! Option values: what getsockopt returns and setsockopt takes, parsed from
//! and printed as people write them (`on`, `8192`, `1.5s`, `on,5`, `cubic`).
#![forbid(unsafe_code)]

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

/// The shape of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// On or off.
    Bool,
    /// A whole number.
    Int,
    /// A time; `0` or `off` means none.
    Duration,
    /// SO_LINGER: off, or on with a time.
    Linger,
    /// A name (TCP_CONGESTION).
    Text,
    /// Read-only description (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR).
    Fixed,
}

/// What an integer option may be set to: setsockopt reads a C int, and no
/// integer option in the catalog means anything by a negative one.
pub const INT_RANGE: std::ops::RangeInclusive<i64> = 0..=i32::MAX as i64;

/// One option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A flag.
    Bool(bool),
    /// A number.
    Int(i64),
    /// A time, or none (0).
    Duration(Option<Duration>),
    /// SO_LINGER: `None` when off.
    Linger(Option<Duration>),
    /// A name.
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(true) => f.write_str("on"),
            Value::Bool(false) => f.write_str("off"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Duration(None) => f.write_str("0 (none)"),
            Value::Duration(Some(d)) => f.write_str(&seconds(*d)),
            Value::Linger(None) => f.write_str("off"),
            Value::Linger(Some(d)) => write!(f, "on, {}", seconds(*d)),
            Value::Text(text) => f.write_str(text),
        }
    }
}

/// `1.5s`, `200ms`, `30s`.
fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) && d.subsec_micros() % 1000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        let text = format!("{:.6}", d.as_secs_f64());
        format!("{}s", text.trim_end_matches('0'))
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(n) => serializer.serialize_i64(*n),
            // Times in seconds; none / off as null.
            Value::Duration(d) | Value::Linger(d) => match d {
                Some(d) => serializer.serialize_f64(d.as_secs_f64()),
                None => serializer.serialize_none(),
            },
            Value::Text(text) => serializer.serialize_str(text),
        }
    }
}

/// Serialised by kind: a flag, a number, seconds (a fraction) or `null`, a name.
impl schemars::JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OptionValue".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An option's value: on/off as a boolean, a number, a time in seconds (`null`: none, or SO_LINGER off), or a name.",
            "type": ["boolean", "number", "string", "null"],
        })
    }
}

impl Value {
    /// Parses `text` as a value of `kind`.
    pub fn parse(kind: Kind, text: &str) -> Result<Value, String> {
        let text = text.trim();
        match kind {
            Kind::Bool => parse_bool(text).map(Value::Bool),
            Kind::Int => text
                .parse::<i128>()
                .map_err(|_| format!("'{text}' is not a whole number"))
                .and_then(Value::int),
            Kind::Duration => parse_duration(text).map(Value::Duration),
            Kind::Linger => parse_linger(text).map(Value::Linger),
            Kind::Text if !text.is_empty() && text.len() < 16 => Ok(Value::Text(text.into())),
            Kind::Text => Err(format!("'{text}': expected a name of 1 to 15 characters")),
            Kind::Fixed => Err("this option can only be read".into()),
        }
    }

    /// An integer option's value, if it is one setsockopt can take.
    pub fn int(n: i128) -> Result<Value, String> {
        i64::try_from(n)
            .ok()
            .filter(|n| INT_RANGE.contains(n))
            .map(Value::Int)
            .ok_or_else(|| {
                format!(
                    "{n} is out of range: give {} to {} (setsockopt takes a C int)",
                    INT_RANGE.start(),
                    INT_RANGE.end()
                )
            })
    }

    /// The value as a number, where it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(format!(
            "'{text}' is not on/off (1, 0, on, off, true, false)"
        )),
    }
}

/// `1.5s`, `1.5`, `200ms`, `0`, `off`.
pub fn parse_duration(text: &str) -> Result<Option<Duration>, String> {
    let lower = text.to_ascii_lowercase();
    if matches!(lower.as_str(), "off" | "none" | "0" | "0s" | "0ms") {
        return Ok(None);
    }
    let (number, scale) = if let Some(ms) = lower.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(us) = lower.strip_suffix("us") {
        (us, 1e-6)
    } else if let Some(s) = lower.strip_suffix('s') {
        (s, 1.0)
    } else {
        (lower.as_str(), 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a time (e.g. 1.5s, 200ms, off)"))?;
    if !value.is_finite() || value < 0.0 || value * scale > 1e9 {
        return Err(format!(
            "'{text}': the time must be between 0 and 10⁹ seconds"
        ));
    }
    let duration = Duration::from_secs_f64(value * scale);
    Ok((!duration.is_zero()).then_some(duration))
}

/// `off`, `on,5`, `on,1.5s`, `5` (on with that time).
fn parse_linger(text: &str) -> Result<Option<Duration>, String> {
    let lower = text.to_ascii_lowercase();
    let (switch, time) = match lower.split_once(',') {
        Some((switch, time)) => (switch.trim(), Some(time.trim())),
        None if matches!(lower.as_str(), "off" | "on" | "0" | "1") => (lower.as_str(), None),
        None => ("on", Some(lower.as_str())),
    };
    let on = parse_bool(switch)
        .map_err(|_| format!("'{text}': SO_LINGER is off, or on,SECONDS (e.g. on,5)"))?;
    if !on {
        return Ok(None);
    }
    // A bare `on` would mean on,0: close() resets the connection. That has
    // to be asked for in so many words.
    let time = time.ok_or_else(|| {
        format!(
            "'{text}' needs the time: on,SECONDS (e.g. on,5; on,0 resets the connection on close)"
        )
    })?;
    let time = parse_duration(time)
        .map_err(|_| format!("'{text}': SO_LINGER is off, or on,SECONDS (e.g. on,5)"))?
        .unwrap_or_default();
    Ok(Some(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_people_write_them() {
        assert_eq!(Value::parse(Kind::Bool, "on"), Ok(Value::Bool(true)));
        assert_eq!(Value::parse(Kind::Bool, "0"), Ok(Value::Bool(false)));
        assert_eq!(Value::parse(Kind::Int, "8192"), Ok(Value::Int(8192)));
        assert_eq!(
            Value::parse(Kind::Duration, "1.5s"),
            Ok(Value::Duration(Some(Duration::from_millis(1500))))
        );
        assert_eq!(
            Value::parse(Kind::Duration, "200ms"),
            Ok(Value::Duration(Some(Duration::from_millis(200))))
        );
        assert_eq!(
            Value::parse(Kind::Duration, "off"),
            Ok(Value::Duration(None))
        );
        assert_eq!(
            Value::parse(Kind::Linger, "on,5"),
            Ok(Value::Linger(Some(Duration::from_secs(5))))
        );
        assert_eq!(Value::parse(Kind::Linger, "off"), Ok(Value::Linger(None)));
        assert_eq!(
            Value::parse(Kind::Text, "cubic"),
            Ok(Value::Text("cubic".into()))
        );
        assert!(Value::parse(Kind::Bool, "maybe").is_err());
        assert!(Value::parse(Kind::Int, "1.5").is_err());
        assert!(Value::parse(Kind::Duration, "-1s").is_err());
        assert_eq!(
            Value::parse(Kind::Linger, "on,0"),
            Ok(Value::Linger(Some(Duration::ZERO)))
        );
        assert!(
            Value::parse(Kind::Linger, "sometimes")
                .unwrap_err()
                .contains("on,SECONDS")
        );
    }

    #[test]
    fn integers_setsockopt_cannot_take_are_refused_naming_the_range() {
        assert_eq!(
            Value::parse(Kind::Int, "2147483647"),
            Ok(Value::Int(2_147_483_647))
        );
        for text in ["4294967297", "-1", "2147483648", "99999999999999999999999"] {
            let why = Value::parse(Kind::Int, text).unwrap_err();
            assert!(why.contains("0 to 2147483647"), "{text}: {why}");
        }
    }

    #[test]
    fn linger_on_without_a_time_is_refused() {
        for text in ["on", "1", "ON"] {
            let why = Value::parse(Kind::Linger, text).unwrap_err();
            assert!(why.contains("on,SECONDS"), "{text}: {why}");
        }
    }

    #[test]
    fn values_print_as_they_were_written() {
        assert_eq!(Value::Bool(true).to_string(), "on");
        assert_eq!(
            Value::Duration(Some(Duration::from_millis(1500))).to_string(),
            "1.5s"
        );
        assert_eq!(
            Value::Duration(Some(Duration::from_millis(200))).to_string(),
            "200ms"
        );
        assert_eq!(
            Value::Linger(Some(Duration::from_secs(5))).to_string(),
            "on, 5s"
        );
        assert_eq!(Value::Duration(None).to_string(), "0 (none)");
    }
}
