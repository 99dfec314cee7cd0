//! The few facts of an X.509 certificate netdx shows — subject, issuer,
//! validity — read from its DER through checked bounds (rustls verifies
//! certificates but does not describe them).
#![forbid(unsafe_code)]

use crate::calendar::{Utc, days_from_civil};
use std::time::{SystemTime, UNIX_EPOCH};

use super::Certificate;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0] EXPLICIT Version` at the start of a TBSCertificate.
const VERSION_TAG: u8 = 0xa0;
/// `[3] EXPLICIT Extensions` at the end of a TBSCertificate.
const EXTENSIONS_TAG: u8 = 0xa3;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
/// id-ce-subjectAltName, 2.5.29.17.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// `[2] IMPLICIT IA5String`: a GeneralName's dNSName.
const DNS_NAME_TAG: u8 = 0x82;

/// One DER element: its tag, its contents, and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let bytes = rest.get(..count)?;
        let length = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, &rest[count..])
    };
    let contents = rest.get(..length)?;
    Some((tag, contents, &rest[length..]))
}

/// The contents of an element with `tag`, and what follows.
fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, contents, rest) = element(input)?;
    (found == tag).then_some((contents, rest))
}

/// Subject, issuer and validity of a DER certificate; `None` if it is not one.
pub fn describe(der: &[u8], now: SystemTime) -> Option<Certificate> {
    let (certificate, _) = expect(der, SEQUENCE)?;
    let (tbs, _) = expect(certificate, SEQUENCE)?;
    let mut rest = tbs;
    if rest.first() == Some(&VERSION_TAG) {
        rest = element(rest)?.2;
    }
    let (_serial, _, rest) = element(rest)?;
    let (_, rest) = expect(rest, SEQUENCE)?; // signature algorithm
    let (issuer, rest) = expect(rest, SEQUENCE)?;
    let (validity, rest) = expect(rest, SEQUENCE)?;
    let (subject, rest) = expect(rest, SEQUENCE)?;
    let (not_before, validity) = time(validity)?;
    let (not_after, _) = time(validity)?;
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Some(Certificate {
        subject: name(subject),
        issuer: name(issuer),
        not_before: iso(not_before),
        not_after: iso(not_after),
        days_left: (not_after - now).div_euclid(86_400),
        not_after_unix: not_after,
        chain_earliest_expiry_unix: not_after,
        dns_names: dns_names(rest),
        sha256_fingerprint: sha256_hex(der),
        go_subject: go_name(subject),
        go_issuer: go_name(issuer),
    })
}

/// The dNSNames of the subjectAltName extension, from what follows the
/// subject (subjectPublicKeyInfo, the optional unique IDs, then `[3]`).
fn dns_names(after_subject: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = after_subject;
    while let Some((tag, contents, next)) = element(rest) {
        rest = next;
        if tag != EXTENSIONS_TAG {
            continue;
        }
        let Some((mut extensions, _)) = expect(contents, SEQUENCE) else {
            break;
        };
        while let Some((extension, next)) = expect(extensions, SEQUENCE) {
            extensions = next;
            let Some((oid, mut value)) = expect(extension, OID) else {
                continue;
            };
            if oid != SUBJECT_ALT_NAME {
                continue;
            }
            if value.first() == Some(&BOOLEAN) {
                let Some((_, _, after)) = element(value) else {
                    break;
                };
                value = after;
            }
            let Some((inner, _)) = expect(value, OCTET_STRING) else {
                continue;
            };
            let Some((mut general, _)) = expect(inner, SEQUENCE) else {
                continue;
            };
            while let Some((tag, contents, next)) = element(general) {
                general = next;
                if tag == DNS_NAME_TAG {
                    names.push(String::from_utf8_lossy(contents).into_owned());
                }
            }
        }
    }
    names
}

/// The certificate's SHA-256 fingerprint in lower-case hex.
fn sha256_hex(der: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// A distinguished name as Go's `pkix.Name.String()` writes it, which is
/// what blackbox_exporter puts in `probe_ssl_last_chain_info`: the known
/// attributes regrouped (C, ST, L, STREET, POSTALCODE, O, OU, then the last
/// CN and SERIALNUMBER), written in reverse, comma-separated, several
/// values of one attribute joined with `+`; other attributes are left out.
fn go_name(rdns: &[u8]) -> String {
    const ORDER: [(&[u8], &str); 9] = [
        (&[0x55, 0x04, 0x06], "C"),
        (&[0x55, 0x04, 0x08], "ST"),
        (&[0x55, 0x04, 0x07], "L"),
        (&[0x55, 0x04, 0x09], "STREET"),
        (&[0x55, 0x04, 0x11], "POSTALCODE"),
        (&[0x55, 0x04, 0x0a], "O"),
        (&[0x55, 0x04, 0x0b], "OU"),
        (&[0x55, 0x04, 0x03], "CN"),
        (&[0x55, 0x04, 0x05], "SERIALNUMBER"),
    ];
    let mut values: [Vec<String>; 9] = Default::default();
    for (oid, text) in attributes(rdns) {
        if let Some(slot) = ORDER.iter().position(|(known, _)| *known == oid) {
            let text = String::from_utf8_lossy(text).into_owned();
            // CN and SERIALNUMBER keep one value: the last, as Go's does.
            if slot >= 7 {
                values[slot].clear();
            }
            values[slot].push(text);
        }
    }
    let mut groups = Vec::new();
    for (slot, (_, label)) in ORDER.iter().enumerate().rev() {
        if values[slot].is_empty() {
            continue;
        }
        let group: Vec<String> = values[slot]
            .iter()
            .map(|value| format!("{label}={}", go_escape(value)))
            .collect();
        groups.push(group.join("+"));
    }
    groups.join(",")
}

/// Go's RFC 2253 escaping of one attribute value.
fn go_escape(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    for (i, &c) in chars.iter().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i + 1 == chars.len() && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A distinguished name as `CN=…, O=…` (RFC 4514's short names, in certificate order).
fn name(rdns: &[u8]) -> String {
    let mut parts = Vec::new();
    for (oid, text) in attributes(rdns) {
        let label = match oid {
            [0x55, 0x04, 0x03] => "CN".to_string(),
            [0x55, 0x04, 0x06] => "C".to_string(),
            [0x55, 0x04, 0x07] => "L".to_string(),
            [0x55, 0x04, 0x08] => "ST".to_string(),
            [0x55, 0x04, 0x0a] => "O".to_string(),
            [0x55, 0x04, 0x0b] => "OU".to_string(),
            other => format!("OID{}", hex(other)),
        };
        parts.push(format!("{label}={}", String::from_utf8_lossy(text)));
    }
    parts.join(", ")
}

/// A distinguished name's attributes (type OID, value bytes), in certificate order.
fn attributes(mut rdns: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut found = Vec::new();
    while let Some((set, rest)) = expect(rdns, SET) {
        rdns = rest;
        let mut attributes = set;
        while let Some((attribute, rest)) = expect(attributes, SEQUENCE) {
            attributes = rest;
            let Some((oid, value)) = expect(attribute, OID) else {
                continue;
            };
            if let Some((_, text, _)) = element(value) {
                found.push((oid, text));
            }
        }
    }
    found
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A UTCTime or GeneralizedTime as seconds since the epoch, and what follows.
fn time(input: &[u8]) -> Option<(i64, &[u8])> {
    let (tag, contents, rest) = element(input)?;
    let text = std::str::from_utf8(contents).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| digits.get(range)?.parse::<i64>().ok();
    let (year, at) = match (tag, digits.len()) {
        (UTC_TIME, 12) => {
            let yy = number(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        (GENERALIZED_TIME, 14) => (number(0..4)?, 4),
        _ => return None,
    };
    let month = number(at..at + 2)?;
    let day = number(at + 2..at + 4)?;
    let hour = number(at + 4..at + 6)?;
    let minute = number(at + 6..at + 8)?;
    let second = number(at + 8..at + 10)?;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second, rest))
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn iso(seconds: i64) -> String {
    let t = Utc::from_unix(seconds);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn both_time_forms_are_read() {
        let utc = [
            UTC_TIME, 13, b'2', b'6', b'1', b'2', b'0', b'2', b'0', b'0', b'0', b'0', b'0', b'0',
            b'Z',
        ];
        assert_eq!(
            time(&utc).map(|(t, _)| iso(t)),
            Some("2026-12-02T00:00:00Z".into())
        );
        let mut general = vec![GENERALIZED_TIME, 15];
        general.extend_from_slice(b"20500101120000Z");
        assert_eq!(
            time(&general).map(|(t, _)| iso(t)),
            Some("2050-01-01T12:00:00Z".into())
        );
        assert_eq!(time(&[UTC_TIME, 3, b'1', b'2', b'Z']), None);
    }

    #[test]
    fn an_openssl_certificate_is_described() {
        // fuzz/corpus/http_message/certificate.der: openssl req -x509 -subj /CN=web.test/O=netdx -days 30.
        let der = include_bytes!("../../fuzz/corpus/http_message/certificate.der");
        let made = UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        let cert = describe(der, made).unwrap();
        assert_eq!(cert.subject, "CN=web.test, O=netdx");
        assert_eq!(cert.issuer, cert.subject, "self-signed");
        assert_eq!(cert.go_subject, "CN=web.test,O=netdx", "Go's order");
        assert_eq!(cert.sha256_fingerprint.len(), 64);
        assert!(cert.not_after > cert.not_before);
        // Every truncation is refused, never a panic.
        for cut in 0..der.len() {
            assert_eq!(describe(&der[..cut], made), None);
        }
    }

    #[test]
    fn garbage_and_truncations_are_not_certificates() {
        assert_eq!(describe(b"", SystemTime::now()), None);
        assert_eq!(
            describe(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], SystemTime::now()),
            None
        );
        let nested = [0x30, 0x06, 0x30, 0x04, 0x02, 0x01, 0x01, 0x30];
        for cut in 0..nested.len() {
            assert_eq!(describe(&nested[..cut], SystemTime::now()), None);
        }
    }
}
