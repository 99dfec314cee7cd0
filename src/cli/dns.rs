//! `netdx dns` arguments: dig's, in any order (`netdx dns @10.0.0.53
//! example.org MX +short`): a word starting with `@` names the server, one
//! starting with `+` is a dig option, a record type or class word is that,
//! and anything else is a name to look up.

use std::time::Duration;

use clap::Args;
use hickory_proto::rr::{DNSClass, RecordType};

use super::values;
use crate::dns::{DnsError, Question, question};
use crate::net::FamilyChoice;
use crate::targets::ListSource;

pub(super) const DNS_EXAMPLES: &str = "\
Examples:
  netdx dns example.org                  its A records, dig's layout
  netdx dns example.org MX +short        only the answer data
  netdx dns @10.0.0.53 example.org AAAA  ask that server (else /etc/resolv.conf's first)
  netdx dns @ns1.example:5353 example.org TXT
  netdx dns -x 192.0.2.10                the PTR of an address (so does a bare address)
  netdx dns example.org SOA --tcp        over TCP
  netdx dns --json example.org A AAAA    every message as JSON

A UDP query carries EDNS0 with a 4096-byte buffer; a truncated answer is
asked again over TCP, and the output says so. Responses are matched to the
query by ID and question: anything else that arrives is dropped.
Exit status: 0 when every question got data, 1 for NXDOMAIN, no data, or no
reply, 2 on errors.";

// `netdx dns [OPTIONS] [NAME|TYPE|CLASS|@SERVER|+OPTION]...` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Names to look up, record types (A, MX, TYPE65, …), a class (IN, CH), @SERVER[:PORT], and +short, +tcp, +norecurse, +dnssec, +noedns, +wire, +trace, +tls, +https, +validate, in any order
    #[arg(value_name = "ARG")]
    pub words: Vec<String>,
    /// Look up the PTR record of ADDR (its in-addr.arpa / ip6.arpa name)
    #[arg(short = 'x', value_name = "ADDR")]
    pub reverse: Vec<std::net::IpAddr>,
    /// The server's port (default 53; 853 with --tls)
    #[arg(short = 'p', value_name = "PORT", value_parser = port)]
    pub port: Option<u16>,
    /// Ask over TCP (as +tcp)
    #[arg(long)]
    pub tcp: bool,
    /// DNS over TLS (RFC 7858, port 853), the certificate verified against the system's trust store or --cacert (as +tls)
    #[arg(long)]
    pub tls: bool,
    /// DNS over HTTPS (RFC 8484, HTTP/2) to URL (https://HOST[:PORT]/PATH); with @SERVER, HOST is reached at SERVER (as +https, which uses https://SERVER/dns-query)
    #[arg(long, value_name = "URL")]
    pub https: Option<String>,
    /// Validate the answer's chain of trust (RRSIG → DNSKEY → DS → … → a trust anchor) and say which link failed (as +validate; sets +dnssec)
    #[arg(long)]
    pub validate: bool,
    /// Trust anchors for --validate: DNSKEY or DS records in zone-file form (default: the root's keys)
    #[arg(long, value_name = "FILE")]
    pub trust_anchor: Option<std::path::PathBuf>,
    /// Trust the CA certificates in FILE (PEM) instead of the system's, for --tls and --https
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<std::path::PathBuf>,
    /// Print only the answer data (as +short)
    #[arg(long)]
    pub short: bool,
    /// Resolve iteratively from the root, printing each delegation and the server that answered (as +trace)
    #[arg(long)]
    pub trace: bool,
    /// Show the query and the response field by field with their offsets, name compression and a hex dump (as +wire)
    #[arg(long)]
    pub wire: bool,
    /// Clear the RD bit: ask the server for what it holds itself (as +norecurse)
    #[arg(long)]
    pub norecurse: bool,
    /// How long each try waits, in seconds (default: resolv.conf's timeout, 5 unless it says)
    #[arg(long, value_name = "SECS", value_parser = values::positive_seconds)]
    pub timeout: Option<Duration>,
    /// Tries after the first over UDP (default: resolv.conf's attempts less one, 1 unless it says)
    #[arg(long, value_name = "N", value_parser = retries)]
    pub retries: Option<u32>,
    /// Read questions from FILE, one a line: NAME [TYPE] ('-': standard input); resolved concurrently
    #[arg(long = "file", value_name = "FILE", value_parser = ListSource::parse)]
    pub file: Option<ListSource>,
    /// Queries in flight at most with --file or --json-stream
    #[arg(long, value_name = "N", default_value = "100", value_parser = concurrency)]
    pub concurrency: usize,
    /// Queries sent per second at most with --file or --json-stream, retries included (default: no limit but --concurrency)
    #[arg(long, value_name = "QPS", value_parser = rate)]
    pub rate: Option<f64>,
    /// Use IPv4 only (the server's address)
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only (the server's address)
    #[arg(short = '6')]
    pub ipv6: bool,
}

/// What the words and options ask for.
#[derive(Debug, Clone)]
pub struct Request {
    /// The questions, in the order asked.
    pub questions: Vec<Question>,
    /// `@SERVER`, as given.
    pub server: Option<String>,
    /// Only the answer data.
    pub short: bool,
    /// Over TCP from the start.
    pub tcp: bool,
    /// Both messages field by field.
    pub wire: bool,
    /// Iterative resolution from the root, step by step.
    pub trace: bool,
    /// DNS over TLS.
    pub tls: bool,
    /// DNS over HTTPS (`+https` or `--https URL`).
    pub https: bool,
    /// Validate the chain of trust.
    pub validate: bool,
    /// The RD bit.
    pub recurse: bool,
    /// The DO bit.
    pub dnssec: bool,
    /// An OPT record.
    pub edns: bool,
    /// The types named on the command line (for `--file` lines without one).
    pub types: Vec<RecordType>,
    /// The class asked.
    pub class: DNSClass,
}

/// A word or option that cannot be used, as the user should read it.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not a dig option netdx knows.
    #[error(
        "unknown option {0}: netdx dns takes +short, +tcp, +norecurse, +dnssec, +noedns, +wire, +trace, +tls, +https, +validate (and their +no forms)"
    )]
    UnknownOption(String),
    /// Two servers.
    #[error("one @SERVER at a time (got {0} and {1})")]
    TwoServers(String, String),
    /// Nothing to look up.
    #[error("name what to look up: netdx dns NAME [TYPE] [@SERVER] (or -x ADDR)")]
    NoName,
    /// A name or type that cannot be asked.
    #[error(transparent)]
    Dns(#[from] DnsError),
}

impl DnsArgs {
    /// The address family asked for.
    pub fn family(&self) -> FamilyChoice {
        FamilyChoice::from_flags(self.ipv4, self.ipv6)
    }

    /// Sorts the words into names, types, class, server and options.
    pub fn request(&self) -> Result<Request, RequestError> {
        let mut names = Vec::new();
        let mut types: Vec<RecordType> = Vec::new();
        let mut class = DNSClass::IN;
        let mut server: Option<String> = None;
        let mut request = Request {
            questions: Vec::new(),
            server: None,
            short: self.short,
            tcp: self.tcp,
            wire: self.wire,
            trace: self.trace,
            tls: self.tls,
            https: self.https.is_some(),
            validate: self.validate,
            recurse: !self.norecurse,
            dnssec: false,
            edns: true,
            types: Vec::new(),
            class: DNSClass::IN,
        };
        for word in &self.words {
            if let Some(at) = word.strip_prefix('@') {
                if let Some(first) = &server {
                    return Err(RequestError::TwoServers(first.clone(), at.to_string()));
                }
                server = Some(at.to_string());
            } else if let Some(option) = word.strip_prefix('+') {
                dig_option(option, word, &mut request)?;
            } else if let Some(rtype) = question::record_type(word) {
                types.push(rtype);
            } else if looks_numeric_type(word) {
                return Err(DnsError::BadType(word.clone()).into());
            } else if let Some(c) = question::record_class(word) {
                class = c;
            } else {
                names.push((
                    question::query_name(word)?,
                    word.parse::<std::net::IpAddr>().is_ok(),
                ));
            }
        }
        for address in &self.reverse {
            names.push((question::reverse_name(*address), true));
        }
        if names.is_empty() && self.file.is_none() {
            return Err(RequestError::NoName);
        }
        for (name, reverse) in names {
            let default = if reverse {
                RecordType::PTR
            } else {
                RecordType::A
            };
            let asked: &[RecordType] = if types.is_empty() { &[default] } else { &types };
            for &rtype in asked {
                request.questions.push(Question {
                    name: name.clone(),
                    rtype,
                    class,
                });
            }
        }
        request.server = server;
        request.types = types;
        request.class = class;
        Ok(request)
    }
}

impl Request {
    /// The questions of one line of a `--file` list: `NAME [TYPE]` (the
    /// command line's types when the line names none).
    pub fn list_line(&self, line: &str) -> Result<Vec<Question>, String> {
        let mut words = line.split_whitespace();
        let text = words.next().ok_or("an empty line")?;
        let name = question::query_name(text).map_err(|err| err.to_string())?;
        let reverse = text.parse::<std::net::IpAddr>().is_ok();
        let types: Vec<RecordType> = match words.next() {
            Some(word) => vec![question::record_type(word).ok_or_else(|| {
                format!("{word:?} is not a record type (A, AAAA, MX, TXT, TYPEnnn, …)")
            })?],
            None if !self.types.is_empty() => self.types.clone(),
            None if reverse => vec![RecordType::PTR],
            None => vec![RecordType::A],
        };
        if let Some(extra) = words.next() {
            return Err(format!("{extra:?} after the type: a line is NAME [TYPE]"));
        }
        Ok(types
            .into_iter()
            .map(|rtype| Question {
                name: name.clone(),
                rtype,
                class: self.class,
            })
            .collect())
    }
}

/// One `+option` (`word` as given, `option` without its `+`).
fn dig_option(option: &str, word: &str, request: &mut Request) -> Result<(), RequestError> {
    let lower = option.to_ascii_lowercase();
    let (on, name) = match lower.strip_prefix("no") {
        Some(rest) => (false, rest),
        None => (true, lower.as_str()),
    };
    match name {
        "short" => request.short = on,
        "tcp" | "vc" => request.tcp = on,
        "recurse" | "rec" => request.recurse = on,
        "dnssec" => request.dnssec = on,
        "edns" => request.edns = on,
        "wire" => request.wire = on,
        "trace" => request.trace = on,
        "tls" => request.tls = on,
        "https" => request.https = on,
        "validate" => request.validate = on,
        _ => return Err(RequestError::UnknownOption(word.to_string())),
    }
    Ok(())
}

/// `TYPE` and digits that are not a 16-bit number: a type meant, not a name.
fn looks_numeric_type(word: &str) -> bool {
    word.get(..4)
        .is_some_and(|t| t.eq_ignore_ascii_case("TYPE"))
        && word.len() > 4
        && word[4..].bytes().all(|b| b.is_ascii_digit())
}

fn port(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(n @ 1..) => Ok(n),
        _ => Err(format!("'{text}': -p takes a port, 1 to 65535")),
    }
}

fn concurrency(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n @ 1..=10000) => Ok(n),
        _ => Err(format!("'{text}': --concurrency takes 1 to 10000")),
    }
}

fn rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && (0.1..=1_000_000.0).contains(&r) => Ok(r),
        _ => Err(format!(
            "'{text}': --rate takes 0.1 to 1000000 queries a second"
        )),
    }
}

fn retries(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n @ 0..=10) => Ok(n),
        _ => Err(format!("'{text}': --retries takes 0 to 10")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        dns: DnsArgs,
    }

    fn request(args: &[&str]) -> Result<Request, RequestError> {
        let mut full = vec!["dns"];
        full.extend_from_slice(args);
        Cli::parse_from(full).dns.request()
    }

    #[test]
    fn words_go_in_any_order_as_dig_takes_them() {
        let r = request(&["@10.0.0.53", "example.org", "MX", "+short"]).unwrap();
        assert_eq!(r.server.as_deref(), Some("10.0.0.53"));
        assert!(r.short);
        assert_eq!(r.questions.len(), 1);
        assert_eq!(r.questions[0].rtype, RecordType::MX);
        assert_eq!(r.questions[0].name.to_ascii(), "example.org.");
        let r = request(&["mx", "example.org", "+norec", "CH"]).unwrap();
        assert_eq!(r.questions[0].rtype, RecordType::MX);
        assert_eq!(r.questions[0].class, DNSClass::CH);
        assert!(!r.recurse);
    }

    #[test]
    fn an_address_or_dash_x_asks_for_ptr() {
        let r = request(&["192.0.2.10"]).unwrap();
        assert_eq!(r.questions[0].rtype, RecordType::PTR);
        assert_eq!(r.questions[0].name.to_ascii(), "10.2.0.192.in-addr.arpa.");
        let r = request(&["-x", "2001:db8::1"]).unwrap();
        assert_eq!(r.questions[0].rtype, RecordType::PTR);
    }

    #[test]
    fn every_name_is_asked_every_type() {
        let r = request(&["a.example", "b.example", "A", "AAAA"]).unwrap();
        assert_eq!(r.questions.len(), 4);
    }

    #[test]
    fn bad_words_are_refused_with_what_is_wrong() {
        assert!(matches!(
            request(&["+bogus", "x.org"]),
            Err(RequestError::UnknownOption(_))
        ));
        assert!(matches!(
            request(&["@a", "@b", "x.org"]),
            Err(RequestError::TwoServers(..))
        ));
        assert!(matches!(request(&["MX"]), Err(RequestError::NoName)));
        assert!(request(&[&format!("{}.org", "a".repeat(64))]).is_err());
    }
}
