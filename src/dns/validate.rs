//! `--validate`: the answer's chain of trust, link by link, up to a trust
//! anchor (the root's keys, built into hickory-proto, or `--trust-anchor
//! FILE`). Each link is asked of the same server with the DO bit:
//!
//! 1. the answer's RRset is signed (RRSIG) by a key of its zone's DNSKEY set;
//! 2. that DNSKEY set is signed by one of its own keys;
//! 3. that key is a trust anchor — or the parent's DS set holds its digest,
//!    and the DS set is then the RRset whose signature is checked, in the
//!    parent, from step 1.
//!
//! The signatures are checked by hickory-proto (the canonical form of the
//! RRset, RFC 4034 §6, and ring's RSA, ECDSA and Ed25519); the walk, the
//! validity windows and the report of which link failed are netdx's.
//! Denials (NXDOMAIN and NODATA, proven by NSEC/NSEC3) are not validated:
//! the command says so rather than calling them secure.
#![forbid(unsafe_code)]

use std::path::Path;

use hickory_proto::dnssec::rdata::{DNSKEY, DNSSECRData, DS, RRSIG};
use hickory_proto::dnssec::{
    Algorithm, DigestType, PublicKey, PublicKeyBuf, TrustAnchors, Verifier,
};
use hickory_proto::op::Message;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::client::{Lookup, Options, lookup};
use super::{DnsError, Question, Server};

/// Zones walked at most (a name has at most 127 labels; real chains are short).
const MAX_LINKS: usize = 16;

/// A key the chain may end at.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// The zone whose key it is.
    pub zone: Name,
    /// The key, or the digest of one.
    pub key: AnchorKey,
}

/// A trust anchor's form.
#[derive(Debug, Clone)]
pub enum AnchorKey {
    /// A DNSKEY's public key.
    Key(PublicKeyBuf),
    /// A DS record: the digest of a key.
    Ds(DS),
}

/// The root's trust anchors (KSK-2017 and KSK-2024).
pub fn root_anchors() -> Vec<Anchor> {
    let roots = TrustAnchors::default();
    (0..roots.len())
        .filter_map(|i| roots.get(i))
        .map(|key| Anchor {
            zone: Name::root(),
            key: AnchorKey::Key(key.clone()),
        })
        .collect()
}

/// Trust anchors from a file of DNSKEY or DS records in zone-file form
/// (dnssec-keygen's `K*.key`, dnssec-dsfromkey's output, `dig DNSKEY`
/// lines); `;` comments and blank lines skipped.
pub fn read_anchors(path: &Path) -> Result<Vec<Anchor>, DnsError> {
    let bad = |reason: String| DnsError::Trust {
        from: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|err| bad(err.to_string()))?;
    let mut anchors = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split(';').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |reason: &str| bad(format!("line {}: {reason}", number + 1));
        let mut words = line.split_whitespace().peekable();
        let owner = words.next().ok_or_else(|| at("no owner"))?;
        let zone = Name::from_ascii(owner).map_err(|_| at("the owner is not a name"))?;
        // Optional TTL and class before the type.
        while let Some(word) = words.peek() {
            if word.parse::<u32>().is_ok() || word.eq_ignore_ascii_case("IN") {
                words.next();
            } else {
                break;
            }
        }
        let kind = words
            .next()
            .ok_or_else(|| at("no record type"))?
            .to_ascii_uppercase();
        let numbers: Vec<&str> = words.by_ref().take(3).collect();
        let rest: String = words.collect();
        let number = |i: usize| -> Result<u32, DnsError> {
            numbers
                .get(i)
                .and_then(|w| w.parse().ok())
                .ok_or_else(|| at("a field that should be a number is not"))
        };
        let key = match kind.as_str() {
            "DNSKEY" => {
                let bytes = super::dnssec::base64_decode(&rest)
                    .ok_or_else(|| at("the public key is not base64"))?;
                AnchorKey::Key(PublicKeyBuf::new(
                    bytes,
                    Algorithm::from_u8(number(2)? as u8),
                ))
            }
            "DS" => {
                let digest =
                    super::dnssec::hex_decode(&rest).ok_or_else(|| at("the digest is not hex"))?;
                AnchorKey::Ds(DS::new(
                    number(0)? as u16,
                    Algorithm::from_u8(number(1)? as u8),
                    DigestType::from(number(2)? as u8),
                    digest,
                ))
            }
            other => return Err(at(&format!("{other} is not DNSKEY or DS"))),
        };
        anchors.push(Anchor { zone, key });
    }
    if anchors.is_empty() {
        return Err(bad("no DNSKEY or DS record in it".into()));
    }
    Ok(anchors)
}

/// One link of the chain, as checked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Link {
    /// The zone the link is in.
    pub zone: String,
    /// What was checked (`www.example.test. A signed by example.test.`).
    pub check: String,
    /// Whether it held.
    pub ok: bool,
    /// The key, algorithm and validity window that made it hold, or why it did not.
    pub detail: String,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct Validation {
    /// `secure` (every link held up to a trust anchor), `bogus` (a link
    /// failed), `insecure` (the answer carries no signature), or
    /// `unvalidated` (a denial: NSEC/NSEC3 proofs are not checked).
    pub status: String,
    /// The links checked, from the answer up.
    pub links: Vec<Link>,
    /// The link that failed or why nothing could be validated.
    pub reason: Option<String>,
}

impl Validation {
    fn ended(status: &str, links: Vec<Link>, reason: Option<String>) -> Validation {
        Validation {
            status: status.into(),
            links,
            reason,
        }
    }
}

/// Validates `answer` (the response to `question`) with keys asked of `server`.
pub fn validate(
    answer: &Message,
    question: &Question,
    server: &Server,
    options: &Options,
    anchors: &[Anchor],
    now: u32,
) -> Result<Validation, DnsError> {
    let owner = question.name.clone();
    let rtype = answer
        .answers
        .iter()
        .find(|r| r.name == owner && r.record_type() != RecordType::RRSIG)
        .map(Record::record_type);
    let Some(rtype) = rtype else {
        return Ok(Validation::ended(
            "unvalidated",
            Vec::new(),
            Some(
                "no answer to validate: denials of existence (NSEC/NSEC3 proofs) are not validated"
                    .into(),
            ),
        ));
    };
    let mut rrset: Vec<Record> = rrset_of(answer, &owner, rtype);
    let mut sigs: Vec<RRSIG> = sigs_of(answer, &owner, rtype);
    let mut owner = owner;
    let mut rtype = rtype;
    let mut links = Vec::new();
    let fetch = |name: &Name, rtype: RecordType| -> Result<Option<Message>, DnsError> {
        let options = Options {
            dnssec: true,
            edns: true,
            ..options.clone()
        };
        let question = Question {
            name: name.clone(),
            rtype,
            class: DNSClass::IN,
        };
        Ok(match lookup(&question, server, &options)? {
            Lookup::Answered(exchange) => Some(exchange.message),
            Lookup::NoReply { .. } => None,
        })
    };
    for _ in 0..MAX_LINKS {
        let what = format!("{owner} {rtype}");
        let Some(signer) = sigs
            .iter()
            .map(|s| s.input().signer_name.clone())
            .find(|signer| signer.zone_of(&owner))
        else {
            let reason = "not signed: no RRSIG by a zone above it covers it (an unsigned zone? \
                          the absence of its DS is not proven here)"
                .to_string();
            links.push(failed(&owner, &what, &reason));
            return Ok(Validation::ended(
                "insecure",
                links,
                Some(format!("{what}: {reason}")),
            ));
        };
        let zone = signer.to_ascii();
        let Some(keys_message) = fetch(&signer, RecordType::DNSKEY)? else {
            let reason = format!("no reply to DNSKEY {zone}");
            return Ok(bogus(
                links,
                &signer,
                &format!("{what} signed by {zone}"),
                reason,
            ));
        };
        let key_records = rrset_of(&keys_message, &signer, RecordType::DNSKEY);
        let keys: Vec<DNSKEY> = key_records.iter().filter_map(dnskey).collect();
        // 1. The RRset signed by a key of the signer's DNSKEY set.
        let check = format!("{what} signed by {zone}");
        match verify(&owner, &rrset, &sigs, &keys, now) {
            Ok((detail, _)) => links.push(held(&signer, &check, detail)),
            Err(reason) => {
                return Ok(bogus(links, &signer, &check, reason));
            }
        }
        // 2. The DNSKEY set signed by one of its own keys.
        let key_sigs = sigs_of(&keys_message, &signer, RecordType::DNSKEY);
        let check = format!("{zone} DNSKEY signed by its own key");
        let entry = match verify(&signer, &key_records, &key_sigs, &keys, now) {
            // The keys that sign the set: where the chain enters the zone.
            Ok((detail, signers)) => {
                links.push(held(&signer, &check, detail));
                signers
            }
            Err(reason) => {
                return Ok(bogus(links, &signer, &check, reason));
            }
        };
        // 3. A trust anchor here?
        let here: Vec<&Anchor> = anchors.iter().filter(|a| a.zone == signer).collect();
        if !here.is_empty() {
            let check = format!("{zone} key is a trust anchor");
            match entry
                .iter()
                .find(|key| here.iter().any(|a| anchor_matches(a, &signer, key)))
            {
                Some(key) => {
                    links.push(held(&signer, &check, key_name(key)));
                    return Ok(Validation::ended("secure", links, None));
                }
                None => {
                    let reason = format!(
                        "no key that signs the DNSKEY set of {zone} matches its trust anchor"
                    );
                    return Ok(bogus(links, &signer, &check, reason));
                }
            }
        }
        if signer.is_root() {
            let reason = "reached the root without a trust anchor for it".to_string();
            return Ok(bogus(links, &signer, "root key is a trust anchor", reason));
        }
        // 4. The parent's DS set holds the digest of an entry key.
        let check = format!("{zone} DS at the parent matches a key");
        let Some(ds_message) = fetch(&signer, RecordType::DS)? else {
            let reason = format!("no reply to DS {zone}");
            return Ok(bogus(links, &signer, &check, reason));
        };
        let ds_records = rrset_of(&ds_message, &signer, RecordType::DS);
        let matched = ds_records.iter().filter_map(ds_of).find_map(|ds| {
            entry
                .iter()
                .find(|key| ds.covers(&signer, key).unwrap_or(false))
                .map(|key| (ds.key_tag(), key_name(key)))
        });
        match matched {
            Some((tag, key)) => links.push(held(
                &signer,
                &check,
                format!("DS {tag} is the digest of {key}"),
            )),
            None => {
                let reason = if ds_records.is_empty() {
                    format!(
                        "the parent has no DS for {zone}: an unsigned delegation, the chain ends here"
                    )
                } else {
                    format!("no DS for {zone} is the digest of a key that signs its DNSKEY set")
                };
                return Ok(bogus(links, &signer, &check, reason));
            }
        }
        sigs = sigs_of(&ds_message, &signer, RecordType::DS);
        rrset = ds_records;
        owner = signer;
        rtype = RecordType::DS;
    }
    Ok(Validation::ended(
        "bogus",
        links,
        Some(format!("more than {MAX_LINKS} links: given up")),
    ))
}

/// The chain broken at `check`: the failing link added, the verdict made.
fn bogus(mut links: Vec<Link>, zone: &Name, check: &str, reason: String) -> Validation {
    links.push(failed(zone, check, &reason));
    Validation::ended("bogus", links, Some(format!("{check}: {reason}")))
}

fn held(zone: &Name, check: &str, detail: String) -> Link {
    Link {
        zone: zone.to_ascii(),
        check: check.into(),
        ok: true,
        detail,
    }
}

fn failed(zone: &Name, check: &str, reason: &str) -> Link {
    Link {
        zone: zone.to_ascii(),
        check: check.into(),
        ok: false,
        detail: reason.into(),
    }
}

fn rrset_of(message: &Message, owner: &Name, rtype: RecordType) -> Vec<Record> {
    message
        .answers
        .iter()
        .filter(|r| r.name == *owner && r.record_type() == rtype)
        .cloned()
        .collect()
}

fn sigs_of(message: &Message, owner: &Name, rtype: RecordType) -> Vec<RRSIG> {
    message
        .answers
        .iter()
        .filter(|r| r.name == *owner)
        .filter_map(|r| match &r.data {
            RData::DNSSEC(DNSSECRData::RRSIG(sig)) if sig.input().type_covered == rtype => {
                Some(sig.clone())
            }
            _ => None,
        })
        .collect()
}

fn dnskey(record: &Record) -> Option<DNSKEY> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::DNSKEY(key)) => Some(key.clone()),
        _ => None,
    }
}

fn ds_of(record: &Record) -> Option<DS> {
    match &record.data {
        RData::DNSSEC(DNSSECRData::DS(ds)) => Some(ds.clone()),
        _ => None,
    }
}

fn key_name(key: &DNSKEY) -> String {
    format!(
        "key {} ({})",
        key.calculate_key_tag().unwrap_or(0),
        key.algorithm()
    )
}

/// Seconds since the epoch, as RRSIG validity windows count them.
pub fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

/// RFC 1982 serial arithmetic: `a` is at or before `b`.
fn not_after(a: u32, b: u32) -> bool {
    b.wrapping_sub(a) < 1 << 31
}

/// Every key of `keys` whose signature over `records` verifies within its
/// window at `now`, with the first described; else why none did.
fn verify(
    owner: &Name,
    records: &[Record],
    sigs: &[RRSIG],
    keys: &[DNSKEY],
    now: u32,
) -> Result<(String, Vec<DNSKEY>), String> {
    if records.is_empty() {
        return Err("the RRset is empty".into());
    }
    if sigs.is_empty() {
        return Err("no RRSIG covers it".into());
    }
    let mut reasons = Vec::new();
    let mut detail = None;
    let mut verified: Vec<DNSKEY> = Vec::new();
    for sig in sigs {
        let input = sig.input();
        let tag = input.key_tag;
        let (inception, expiration) = (input.sig_inception.get(), input.sig_expiration.get());
        if !not_after(inception, now) {
            reasons.push(format!(
                "the RRSIG by key {tag} is not valid before {}",
                super::dnssec::timestamp(inception)
            ));
            continue;
        }
        if !not_after(now, expiration) {
            reasons.push(format!(
                "the RRSIG by key {tag} expired at {}",
                super::dnssec::timestamp(expiration)
            ));
            continue;
        }
        let candidates: Vec<&DNSKEY> = keys
            .iter()
            .filter(|k| k.algorithm() == input.algorithm && k.calculate_key_tag().ok() == Some(tag))
            .collect();
        if candidates.is_empty() {
            reasons.push(format!(
                "no DNSKEY with tag {tag} and algorithm {}",
                input.algorithm
            ));
            continue;
        }
        for key in candidates {
            match key.verify_rrsig(owner, DNSClass::IN, sig, records.iter()) {
                Ok(()) => {
                    detail.get_or_insert_with(|| {
                        format!(
                            "{}, valid {} to {}",
                            key_name(key),
                            super::dnssec::timestamp(inception),
                            super::dnssec::timestamp(expiration)
                        )
                    });
                    if !verified.contains(key) {
                        verified.push(key.clone());
                    }
                }
                Err(_) => reasons.push(format!(
                    "the RRSIG by key {tag} does not verify: the records or the signature were changed"
                )),
            }
        }
    }
    match detail {
        Some(detail) => Ok((detail, verified)),
        None => Err(reasons.join("; ")),
    }
}

fn anchor_matches(anchor: &Anchor, zone: &Name, key: &DNSKEY) -> bool {
    match &anchor.key {
        AnchorKey::Key(public) => {
            public.public_bytes() == key.public_key().public_bytes()
                && public.algorithm() == key.algorithm()
        }
        AnchorKey::Ds(ds) => ds.covers(zone, key).unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_arithmetic_orders_times_across_the_wrap() {
        assert!(not_after(10, 20));
        assert!(!not_after(20, 10));
        assert!(
            not_after(u32::MAX - 5, 3),
            "3 comes after a time just before the wrap"
        );
    }

    #[test]
    fn the_root_anchors_are_the_two_root_ksks() {
        let roots = root_anchors();
        assert_eq!(roots.len(), 2);
        assert!(roots.iter().all(|a| a.zone.is_root()));
    }
}
