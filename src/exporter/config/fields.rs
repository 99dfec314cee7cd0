//! Reading one YAML mapping: typed values taken key by key, every problem
//! collected, and every key left over named (with the reason when it is an
//! option of blackbox_exporter's that netdx does not carry out).
#![forbid(unsafe_code)]

use std::time::Duration;

use serde_norway::{Mapping, Value};

/// blackbox_exporter's options that netdx knows but does not carry out:
/// a config using them is refused, with this reason beside each.
const NOT_CARRIED_OUT: &[(&str, &str)] = &[
    (
        "query_response",
        "TCP send/expect dialogues are not supported",
    ),
    ("tls", "TCP over TLS is not supported"),
    (
        "tls_config",
        "only insecure_skip_verify and ca_file are supported (http)",
    ),
    (
        "dont_fragment",
        "the DF bit is not settable on netdx's echo sockets",
    ),
    (
        "dns_over_tls",
        "DNS over TLS is not supported by the dns prober",
    ),
    (
        "validate_answer_rrs",
        "RR regexp validation is not supported",
    ),
    (
        "validate_authority_rrs",
        "RR regexp validation is not supported",
    ),
    (
        "validate_additional_rrs",
        "RR regexp validation is not supported",
    ),
    ("compression", "netdx does not decompress bodies"),
    ("basic_auth", "HTTP authentication is not supported"),
    ("authorization", "HTTP authentication is not supported"),
    ("bearer_token", "HTTP authentication is not supported"),
    ("bearer_token_file", "HTTP authentication is not supported"),
    ("oauth2", "HTTP authentication is not supported"),
    ("proxy_url", "proxies are not supported"),
    ("proxy_connect_header", "proxies are not supported"),
    ("no_proxy", "proxies are not supported"),
    ("proxy_from_environment", "proxies are not supported"),
    ("skip_resolve_phase_with_proxy", "proxies are not supported"),
    ("enable_http3", "netdx speaks HTTP/1.1 only"),
];

/// Problems found while reading, all reported together.
#[derive(Debug, Default)]
pub(super) struct Problems {
    unsupported: Vec<String>,
    invalid: Vec<String>,
}

impl Problems {
    pub(super) fn unsupported(&mut self, path: &str, why: &str) {
        self.unsupported.push(format!("{path} ({why})"));
    }

    pub(super) fn invalid(&mut self, path: &str, why: &str) {
        self.invalid.push(format!("{path}: {why}"));
    }

    pub(super) fn into_result<T>(self, value: T) -> Result<T, String> {
        let mut parts = Vec::new();
        if !self.invalid.is_empty() {
            parts.push(self.invalid.join("; "));
        }
        if !self.unsupported.is_empty() {
            parts.push(format!(
                "options netdx does not support: {}",
                self.unsupported.join(", ")
            ));
        }
        if parts.is_empty() {
            Ok(value)
        } else {
            Err(one_line(&parts.join("; ")))
        }
    }
}

/// One mapping being read: each key taken is marked, and [`Fields::finish`]
/// reports the rest.
pub(super) struct Fields<'a> {
    map: &'a Mapping,
    path: String,
    taken: Vec<String>,
    pub(super) problems: &'a mut Problems,
}

impl<'a> Fields<'a> {
    pub(super) fn new(map: &'a Mapping, path: &str, problems: &'a mut Problems) -> Fields<'a> {
        Fields {
            map,
            path: path.to_string(),
            taken: Vec::new(),
            problems,
        }
    }

    pub(super) fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(super) fn invalid(&mut self, key: &str, why: &str) {
        let path = self.at(key);
        self.problems.invalid(&path, why);
    }

    fn take(&mut self, key: &str) -> Option<&'a Value> {
        self.taken.push(key.to_string());
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    /// Takes `key` as known when `ok` holds for its value; otherwise leaves
    /// it for `finish` to report as unsupported.
    pub(super) fn accept_if(&mut self, key: &str, ok: impl Fn(&Value) -> bool) {
        if self.map.get(key).is_none_or(ok) {
            self.taken.push(key.to_string());
        }
    }

    pub(super) fn string(&mut self, key: &str) -> Option<String> {
        let value = self.take(key)?;
        match scalar(value) {
            Some(text) => Some(text),
            None => {
                self.invalid(key, "expected a string");
                None
            }
        }
    }

    pub(super) fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let value = self.take(key)?;
        let list = value
            .as_sequence()
            .map(|items| items.iter().map(scalar).collect::<Option<Vec<String>>>());
        match list {
            Some(Some(list)) => Some(list),
            _ => {
                self.invalid(key, "expected a list of strings");
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, key: &str) -> Option<bool> {
        let value = self.take(key)?;
        match value.as_bool() {
            Some(flag) => Some(flag),
            None => {
                self.invalid(key, "expected true or false");
                None
            }
        }
    }

    pub(super) fn integer(&mut self, key: &str, least: u64, most: u64) -> Option<u64> {
        let value = self.take(key)?;
        match value.as_u64() {
            Some(n) if (least..=most).contains(&n) => Some(n),
            _ => {
                self.invalid(
                    key,
                    &format!("expected a whole number from {least} to {most}"),
                );
                None
            }
        }
    }

    pub(super) fn integers(&mut self, key: &str, least: u64, most: u64) -> Option<Vec<u64>> {
        let value = self.take(key)?;
        let list = value.as_sequence().map(|items| {
            items
                .iter()
                .map(|item| item.as_u64().filter(|n| (least..=most).contains(n)))
                .collect::<Option<Vec<u64>>>()
        });
        match list {
            Some(Some(list)) => Some(list),
            _ => {
                self.invalid(
                    key,
                    &format!("expected a list of numbers from {least} to {most}"),
                );
                None
            }
        }
    }

    pub(super) fn duration(&mut self, key: &str) -> Option<Duration> {
        let text = self.string(key)?;
        match parse_duration(&text) {
            Some(duration) => Some(duration),
            None => {
                self.invalid(
                    key,
                    &format!("{text:?} is not a duration (5s, 1m30s, 500ms)"),
                );
                None
            }
        }
    }

    pub(super) fn bytes(&mut self, key: &str) -> Option<u64> {
        let value = self.take(key)?;
        if let Some(n) = value.as_u64() {
            return Some(n);
        }
        let text = scalar(value).unwrap_or_default();
        match parse_bytes(&text) {
            Some(n) => Some(n),
            None => {
                self.invalid(key, &format!("{text:?} is not a size (1024, 10KB, 5MiB)"));
                None
            }
        }
    }

    pub(super) fn mapping(&mut self, key: &str) -> Option<Mapping> {
        let value = self.take(key)?;
        match value {
            Value::Mapping(map) => Some(map.clone()),
            _ => {
                self.invalid(key, "expected a mapping");
                None
            }
        }
    }

    pub(super) fn sequence(&mut self, key: &str) -> Option<Vec<Value>> {
        let value = self.take(key)?;
        match value {
            Value::Sequence(items) => Some(items.clone()),
            _ => {
                self.invalid(key, "expected a list");
                None
            }
        }
    }

    /// Reports every key not taken: blackbox's own options netdx does not
    /// carry out with the reason, anything else as unknown.
    pub(super) fn finish(self) {
        for key in self.map.keys() {
            let name = key.as_str().map_or_else(|| show(key), str::to_string);
            if self.taken.contains(&name) {
                continue;
            }
            let path = if self.path.is_empty() {
                name.clone()
            } else {
                format!("{}.{name}", self.path)
            };
            let why = NOT_CARRIED_OUT
                .iter()
                .find(|(option, _)| *option == name)
                .map_or("not an option netdx knows", |(_, why)| why);
            self.problems.unsupported(&path, why);
        }
    }
}

/// A scalar's text (strings, numbers and booleans alike, as YAML writes them).
pub(super) fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A YAML value shown in an error.
pub(super) fn show(value: &Value) -> String {
    serde_norway::to_string(value)
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Text on one line: YAML errors span several.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Prometheus' duration syntax: `1h30m`, `5s`, `500ms`, `2d` (units y w d
/// h m s ms, largest first), or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    const UNITS: [(&str, u64); 7] = [
        ("ms", 1),
        ("s", 1_000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
        ("w", 604_800_000),
        ("y", 31_536_000_000),
    ];
    let mut total: u64 = 0;
    let mut rest = text;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (rank, (unit, millis)) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (unit, _))| rest.starts_with(unit))
            // "ms" before "m": the longest unit that matches.
            .max_by_key(|(_, (unit, _))| unit.len())?;
        // Each unit smaller than the one before (`1m30s`, not `30s1m`).
        if rank >= last_rank {
            return None;
        }
        last_rank = rank;
        rest = &rest[unit.len()..];
        total = total.checked_add(number.checked_mul(*millis)?)?;
    }
    Some(Duration::from_millis(total))
}

/// A size: bytes, or with a unit (KB, MB, GB as 1000s; KiB, MiB, GiB as 1024s).
pub(super) fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u64 = text[..split].parse().ok()?;
    let factor: u64 = match text[split..].trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}
