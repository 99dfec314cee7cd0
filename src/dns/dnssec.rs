//! The DNSSEC records' data (RFC 4034, 5155) decoded from their bytes and
//! written as dig writes them: base64 and hex in chunks of 56, RRSIG times
//! as YYYYMMDDHHMMSS, NSEC/NSEC3 type bitmaps as mnemonics. hickory-proto
//! decodes these only with its ring or aws-lc-rs features; their data holds
//! no compressed names, so it is read here from the raw bytes.
#![forbid(unsafe_code)]

use std::fmt::Write;

use hickory_proto::rr::RecordType;

use super::message::{Data, type_name};

/// The data of a DNSSEC type `code` from its bytes; `None` when it is not
/// one, or its bytes do not hold one (then it is shown raw).
pub fn decode(code: u16, bytes: &[u8]) -> Option<Data> {
    match code {
        // DNSKEY, CDNSKEY
        48 | 60 => {
            let [f0, f1, protocol, algorithm, key @ ..] = bytes else {
                return None;
            };
            Some(Data::Dnskey {
                flags: u16::from_be_bytes([*f0, *f1]),
                protocol: *protocol,
                algorithm: *algorithm,
                public_key: base64(key),
            })
        }
        // DS, CDS
        43 | 59 => {
            let [t0, t1, algorithm, digest_type, digest @ ..] = bytes else {
                return None;
            };
            Some(Data::Ds {
                key_tag: u16::from_be_bytes([*t0, *t1]),
                algorithm: *algorithm,
                digest_type: *digest_type,
                digest: hex(digest),
            })
        }
        // RRSIG
        46 => {
            if bytes.len() < 18 {
                return None;
            }
            let u32_at = |at: usize| {
                u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
            };
            let (signer, used) = name(&bytes[18..])?;
            Some(Data::Rrsig {
                type_covered: type_name(RecordType::from(u16::from_be_bytes([bytes[0], bytes[1]]))),
                algorithm: bytes[2],
                labels: bytes[3],
                original_ttl: u32_at(4),
                expiration: timestamp(u32_at(8)),
                inception: timestamp(u32_at(12)),
                key_tag: u16::from_be_bytes([bytes[16], bytes[17]]),
                signer,
                signature: base64(&bytes[18 + used..]),
            })
        }
        // NSEC
        47 => {
            let (next, used) = name(bytes)?;
            Some(Data::Nsec {
                next,
                types: bitmap(&bytes[used..])?,
            })
        }
        // NSEC3
        50 => {
            let [algorithm, flags, i0, i1, salt_len, rest @ ..] = bytes else {
                return None;
            };
            let salt = rest.get(..usize::from(*salt_len))?;
            let rest = &rest[salt.len()..];
            let (&hash_len, rest) = rest.split_first()?;
            let hash = rest.get(..usize::from(hash_len))?;
            let types = bitmap(&rest[hash.len()..])?;
            let mut text = format!(
                "{algorithm} {flags} {} {} {}",
                u16::from_be_bytes([*i0, *i1]),
                salt_text(salt),
                base32hex(hash)
            );
            for t in &types {
                text.push(' ');
                text.push_str(t);
            }
            Some(Data::Other { text })
        }
        // NSEC3PARAM
        51 => {
            let [algorithm, flags, i0, i1, salt_len, rest @ ..] = bytes else {
                return None;
            };
            let salt = rest.get(..usize::from(*salt_len))?;
            Some(Data::Other {
                text: format!(
                    "{algorithm} {flags} {} {}",
                    u16::from_be_bytes([*i0, *i1]),
                    salt_text(salt)
                ),
            })
        }
        _ => None,
    }
}

/// An uncompressed name at the start of `bytes` (DNSSEC data never
/// compresses), and how many bytes it took.
fn name(bytes: &[u8]) -> Option<(String, usize)> {
    let mut text = String::new();
    let mut at = 0;
    loop {
        let len = usize::from(*bytes.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        for &b in bytes.get(at..at + len)? {
            match b {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    text.push('\\');
                    text.push(b as char);
                }
                0x21..=0x7e => text.push(b as char),
                _ => {
                    let _ = write!(text, "\\{b:03}");
                }
            }
        }
        text.push('.');
        at += len;
        if at > 255 {
            return None;
        }
    }
    if text.is_empty() {
        text.push('.');
    }
    Some((text, at))
}

/// A type bitmap (RFC 4034 §4.1.2): window, length, bits.
fn bitmap(mut bytes: &[u8]) -> Option<Vec<String>> {
    let mut types = Vec::new();
    while let [window, len, rest @ ..] = bytes {
        let len = usize::from(*len);
        if len == 0 || len > 32 {
            return None;
        }
        let bits = rest.get(..len)?;
        for (i, byte) in bits.iter().enumerate() {
            for bit in 0..8 {
                if byte & (0x80 >> bit) != 0 {
                    let code = u16::from(*window) * 256 + (i * 8 + bit) as u16;
                    types.push(type_name(RecordType::from(code)));
                }
            }
        }
        bytes = &rest[len..];
    }
    Some(types)
}

fn salt_text(salt: &[u8]) -> String {
    if salt.is_empty() {
        "-".into()
    } else {
        hex(salt).replace(' ', "")
    }
}

/// Seconds since the epoch as YYYYMMDDHHMMSS (UTC), RRSIG's zone-file form.
pub(crate) fn timestamp(seconds: u32) -> String {
    let t = crate::calendar::Utc::from_unix(i64::from(seconds));
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// `text` split into chunks of 56 characters, as dig writes long fields.
fn chunked(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 56);
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i % 56 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                text.push('=');
            }
        }
    }
    chunked(&text)
}

/// The bytes of base64 text (whitespace ignored, `=` padding optional).
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = bits << 6 | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(bytes)
}

/// The bytes of hex text (whitespace ignored).
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(text, "{b:02X}");
    }
    chunked(&text)
}

fn base32hex(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHIJKLMNOPQRSTUV";
    let mut text = String::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for &b in bytes {
        buffer = buffer << 8 | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            text.push(ALPHABET[(buffer >> bits & 31) as usize] as char);
        }
    }
    if bits > 0 {
        text.push(ALPHABET[(buffer << (5 - bits) & 31) as usize] as char);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rrsig_times_are_utc_civil_dates() {
        assert_eq!(timestamp(0), "19700101000000");
        assert_eq!(timestamp(1_798_741_596), "20261231182636");
        assert_eq!(timestamp(951_782_400), "20000229000000");
    }

    #[test]
    fn base64_and_hex_decode_what_they_encode() {
        for bytes in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0xff, 0, 0x7f, 0x80],
        ] {
            assert_eq!(base64_decode(&base64(bytes)).as_deref(), Some(bytes));
            assert_eq!(hex_decode(&hex(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(base64_decode("Zm9v YmFy"), Some(b"foobar".to_vec()));
        assert_eq!(base64_decode("Zm9v!"), None);
        assert_eq!(hex_decode("abc"), None);
    }

    #[test]
    fn base64_and_base32hex_encode_as_the_rfcs_say() {
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base32hex(b"foobar"), "CPNMUOJ1E8");
        assert_eq!(hex(&[0xAB; 30]).split(' ').next().unwrap().len(), 56);
    }

    #[test]
    fn nsec_bitmaps_name_their_types() {
        // A NS SOA TXT RRSIG NSEC DNSKEY, then TYPE65534 in window 255.
        let window0 = [0, 7, 0x62, 0, 0x80, 0, 0, 3, 0x80];
        assert_eq!(
            bitmap(&window0).unwrap(),
            ["A", "NS", "SOA", "TXT", "RRSIG", "NSEC", "DNSKEY"]
        );
        let mut window255 = vec![255, 32];
        window255.extend([0; 31]);
        window255.push(2);
        assert_eq!(bitmap(&window255).unwrap(), ["TYPE65534"]);
        assert!(bitmap(&[0, 40]).is_none());
    }
}
