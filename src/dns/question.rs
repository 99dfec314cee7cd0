//! What is asked: a name (a bare address becomes its in-addr.arpa or
//! ip6.arpa name), a record type and a class, checked before anything is
//! sent.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::str::FromStr;

use hickory_proto::rr::{DNSClass, Name, RecordType};

use super::DnsError;

/// One question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked for, fully qualified.
    pub name: Name,
    /// The record type.
    pub rtype: RecordType,
    /// The class (IN unless asked otherwise).
    pub class: DNSClass,
}

/// The record type a word names (`MX`, `mx`, `TYPE65`), if it names one.
/// Zone transfers are not lookups and are not offered.
pub fn record_type(word: &str) -> Option<RecordType> {
    let upper = word.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("TYPE") {
        return number.parse::<u16>().ok().map(RecordType::from);
    }
    match RecordType::from_str(&upper) {
        Ok(RecordType::AXFR | RecordType::TSIG | RecordType::NULL) | Err(_) => None,
        Ok(rtype) => Some(rtype),
    }
}

/// The class a word names (`IN`, `CH`, `HS`, `CLASS3`), if it names one.
pub fn record_class(word: &str) -> Option<DNSClass> {
    let upper = word.to_ascii_uppercase();
    if let Some(number) = upper.strip_prefix("CLASS") {
        return number.parse::<u16>().ok().map(DNSClass::from);
    }
    match upper.as_str() {
        "IN" => Some(DNSClass::IN),
        "CH" | "CHAOS" => Some(DNSClass::CH),
        "HS" | "HESIOD" => Some(DNSClass::HS),
        _ => None,
    }
}

/// The name to ask for: an address gives its reverse-lookup name (what
/// `-x` does), anything else must be a DNS name (labels of at most 63
/// bytes, 255 in all).
pub fn query_name(text: &str) -> Result<Name, DnsError> {
    if let Ok(address) = text.parse::<IpAddr>() {
        return Ok(reverse_name(address));
    }
    let bad = |reason: String| DnsError::BadName {
        name: text.to_string(),
        reason,
    };
    if text.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if text != "." {
        let labels = || text.trim_end_matches('.').split('.');
        if labels().any(|label| label.len() > 63) {
            return Err(bad("a label is longer than 63 bytes".into()));
        }
        if labels().any(str::is_empty) {
            return Err(bad("it has an empty label (two dots in a row)".into()));
        }
    }
    let mut name = Name::from_utf8(text)
        .or_else(|_| Name::from_ascii(text))
        .map_err(|err| bad(err.to_string()))?;
    name.set_fqdn(true);
    if name.len() > 255 {
        return Err(bad("it is longer than 255 bytes".into()));
    }
    Ok(name)
}

/// `192.0.2.10` → `10.2.0.192.in-addr.arpa.`; IPv6 by nibbles under ip6.arpa.
pub fn reverse_name(address: IpAddr) -> Name {
    Name::from(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_words_are_case_blind_and_typennn_is_numeric() {
        assert_eq!(record_type("mx"), Some(RecordType::MX));
        assert_eq!(record_type("AAAA"), Some(RecordType::AAAA));
        assert_eq!(record_type("TYPE65"), Some(RecordType::from(65)));
        assert_eq!(record_type("type65534"), Some(RecordType::from(65534)));
        assert_eq!(record_type("example"), None);
        assert_eq!(record_type("TYPE70000"), None);
        assert_eq!(record_type("AXFR"), None);
    }

    #[test]
    fn an_address_asks_for_its_reverse_name() {
        let name = query_name("192.0.2.10").unwrap();
        assert_eq!(name.to_ascii(), "10.2.0.192.in-addr.arpa.");
        let name = query_name("2001:db8::1").unwrap();
        assert!(
            name.to_ascii().ends_with(".8.b.d.0.1.0.0.2.ip6.arpa."),
            "{name}"
        );
        assert!(name.to_ascii().starts_with("1.0.0.0."), "{name}");
    }

    #[test]
    fn names_too_long_or_with_empty_labels_are_refused() {
        let long = "a".repeat(64);
        assert!(query_name(&format!("{long}.example")).is_err());
        let many = ["abcdefghi"; 30].join(".");
        assert!(query_name(&many).is_err(), "{} bytes", many.len());
        assert!(query_name("a..b").is_err());
        assert!(query_name("").is_err());
        assert_eq!(
            query_name("example.org").unwrap().to_ascii(),
            "example.org."
        );
        assert_eq!(query_name(".").unwrap().to_ascii(), ".");
    }
}
