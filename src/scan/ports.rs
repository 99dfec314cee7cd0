//! Which ports a scan probes: nmap's `-p` syntax parsed into typed sets,
//! netdx's default list, and `--top N` from nmap's frequency table.
//!
//! # The `-p` syntax, as nmap reads it (nmap(1), "Port Specification")
//!
//! * A list of comma-separated entries; spaces around an entry are allowed,
//!   one trailing comma is allowed, an empty entry in the middle (`22,,80`)
//!   is an error, as in nmap.
//! * An entry is a port (`22`), a range (`1-1024`), or a range with either
//!   end left out: `-1024` starts at 1, `1000-` ends at 65535, and `-` alone
//!   (`-p-`) is 1–65535.
//! * Or a service name from /etc/services (`http,ssh`), matched against
//!   names and aliases without regard to case, with `*` and `?` wildcards
//!   (`http*`). A name adds its port for each protocol it is registered for
//!   (and the qualifier allows); a name registered for none of them is an
//!   error. nmap matches names against its own nmap-services; netdx uses
//!   /etc/services, so `http` is 80 here where nmap also adds 8008.
//! * `T:` and `U:` qualify what follows as TCP or UDP. A qualifier lasts
//!   until the next one (`U:53,111,T:21-25,80` is UDP 53 and 111, TCP 21–25
//!   and 80). Entries before any qualifier go to both protocols. Qualifiers
//!   are upper case (nmap rejects `t:` too); `S:` (SCTP) and `P:` (IP
//!   protocols) are nmap's but netdx scans neither, so they are errors here
//!   where nmap would warn and skip. A qualifier with nothing after it
//!   (`T:22,U:`) is allowed.
//! * Duplicates merge (nmap warns about them; the set is the same).
//! * Differences from nmap, on purpose: port 0 is an error (nmap scans it
//!   when named explicitly; it is not a port a service can listen on), and
//!   nmap's `[1-1024]` ("only ports in nmap-services") is not supported.
//!
//! Whether a protocol ends up with no ports is for the command to judge
//! against what it scans: [`PortSpec::require`] fails only when every
//! scanned protocol is empty, and [`PortSpec::unused`] names the
//! protocols that got ports but are not scanned (nmap warns about both).
#![forbid(unsafe_code)]

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::names::services::{Services, Transport};

/// The highest port number.
pub const MAX_PORT: u16 = u16::MAX;

/// Where nmap keeps its port frequency table (read at run time, never copied).
pub const NMAP_SERVICES: &str = "/usr/share/nmap/nmap-services";

/// Why a port list could not be read; each message ends with what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortsError {
    /// A number outside 1–65535.
    #[error("port {0} is out of range: ports are 1 to 65535")]
    OutOfRange(String),
    /// A range whose start is above its end.
    #[error("port range {lo}-{hi} is reversed: write {hi}-{lo}")]
    Reversed {
        /// The start as written.
        lo: u16,
        /// The end as written.
        hi: u16,
    },
    /// A name no service in /etc/services has (for the protocols it applies to).
    #[error(
        "no {protos} service named '{name}' in /etc/services: use a port number, or a name from /etc/services (wildcards * and ? allowed)"
    )]
    UnknownService {
        /// The name or pattern as written.
        name: String,
        /// The protocols searched (`tcp`, `udp`, `tcp or udp`).
        protos: &'static str,
    },
    /// No ports at all.
    #[error("the port list is empty: give ports like 22,80,8000-8100, or - for 1-65535")]
    Empty,
    /// An empty entry between two commas.
    #[error("'{0}' has an empty entry: separate ports with single commas, as in 22,80,443")]
    EmptyEntry(String),
    /// A protocol qualifier other than `T:` and `U:`.
    #[error("unknown protocol qualifier '{0}:': use T: for TCP or U: for UDP")]
    BadPrefix(String),
    /// An entry that is neither a port, a range nor a name.
    #[error(
        "'{0}' is not a port, a range or a service name: write 22, 1-1024, -1024, 1024-, - or a name such as ssh"
    )]
    Syntax(String),
    /// Nothing to scan for any protocol the scan uses.
    #[error(
        "no {proto} ports in the port list: add some, e.g. T:22 or U:53, or unqualified ports for both"
    )]
    NothingToScan {
        /// The protocol(s) scanned.
        proto: &'static str,
    },
    /// `--top 0`.
    #[error("--top needs at least 1 port")]
    TopZero,
}

/// A set of ports 1–65535 as a bitset: 8 KiB whatever it holds, sorted by
/// construction, so a full `-p-` costs the same as `-p 22`.
#[derive(Clone, PartialEq, Eq)]
pub struct PortSet {
    words: Box<[u64; WORDS]>,
    len: usize,
}

const WORDS: usize = (MAX_PORT as usize + 1) / 64;

impl PortSet {
    /// No ports.
    pub fn new() -> PortSet {
        PortSet {
            words: Box::new([0; WORDS]),
            len: 0,
        }
    }

    /// Every port, 1–65535 (`-p-`).
    pub fn full() -> PortSet {
        let mut set = PortSet::new();
        set.insert_range(1, MAX_PORT);
        set
    }

    /// Adds `port`; returns whether it was new. Port 0 is never held.
    pub fn insert(&mut self, port: u16) -> bool {
        if port == 0 {
            return false;
        }
        let (word, bit) = (usize::from(port / 64), port % 64);
        let new = self.words[word] & (1 << bit) == 0;
        self.words[word] |= 1 << bit;
        self.len += usize::from(new);
        new
    }

    /// Adds every port of `lo..=hi` (port 0 skipped).
    pub fn insert_range(&mut self, lo: u16, hi: u16) {
        for port in lo.max(1)..=hi {
            self.insert(port);
        }
    }

    /// Adds every port of `other`.
    pub fn union(&mut self, other: &PortSet) {
        for port in other.iter() {
            self.insert(port);
        }
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.words[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }

    /// How many ports the set holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no port.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ports in ascending order (the order results are reported in).
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        self.words.iter().enumerate().flat_map(|(index, &word)| {
            let base = (index * 64) as u16;
            Bits(word).map(move |bit| base + bit)
        })
    }

    /// The ports as maximal inclusive ranges, ascending.
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut ranges: Vec<(u16, u16)> = Vec::new();
        for port in self.iter() {
            match ranges.last_mut() {
                Some((_, hi)) if *hi + 1 == port => *hi = port,
                _ => ranges.push((port, port)),
            }
        }
        ranges
    }

    /// The ports in a random order drawn from `seed` (the order probes go
    /// out in, as nmap randomises it, so a rate limiter or IDS keyed on
    /// sequential ports sees no pattern). The same seed gives the same
    /// order; 2 bytes per port, 128 KiB for all of them.
    pub fn shuffled(&self, seed: u64) -> Vec<u16> {
        let mut ports: Vec<u16> = self.iter().collect();
        let mut rng = SplitMix64(seed);
        // Fisher–Yates.
        for i in (1..ports.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            ports.swap(i, j);
        }
        ports
    }
}

impl Default for PortSet {
    fn default() -> Self {
        PortSet::new()
    }
}

impl FromIterator<u16> for PortSet {
    fn from_iter<I: IntoIterator<Item = u16>>(ports: I) -> Self {
        let mut set = PortSet::new();
        for port in ports {
            set.insert(port);
        }
        set
    }
}

/// Written as nmap writes a port list: `22,80,8000-8100`.
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (lo, hi)) in self.ranges().into_iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PortSet({self})")
    }
}

/// The set bits of a word, lowest first.
struct Bits(u64);

impl Iterator for Bits {
    type Item = u16;
    fn next(&mut self) -> Option<u16> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as u16;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

/// A small, fast, seedable generator (Steele et al., SplitMix64): enough
/// to decorrelate probe order, not for anything secret.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A parsed `-p` argument: the ports for each protocol.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PortSpec {
    /// TCP ports (unqualified entries and those after `T:`).
    pub tcp: PortSet,
    /// UDP ports (unqualified entries and those after `U:`).
    pub udp: PortSet,
    /// Whether a `T:` / `U:` qualifier was written (for [`PortSpec::unused`]).
    qualified: [bool; 2],
}

impl PortSpec {
    /// Parses nmap's `-p` syntax (see the module docs), resolving service
    /// names with `services`.
    pub fn parse(text: &str, services: &Services) -> Result<PortSpec, PortsError> {
        let mut spec = PortSpec::default();
        let mut qualifier: Option<Transport> = None;
        let entries: Vec<&str> = text.split(',').collect();
        let last = entries.len() - 1;
        for (n, entry) in entries.into_iter().enumerate() {
            let mut entry = entry.trim();
            if let Some((prefix, rest)) = entry.split_once(':') {
                qualifier = Some(match prefix {
                    "T" => Transport::Tcp,
                    "U" => Transport::Udp,
                    other => return Err(PortsError::BadPrefix(other.to_string())),
                });
                if let Some(proto) = qualifier {
                    spec.qualified[proto as usize] = true;
                }
                entry = rest.trim();
                if entry.is_empty() {
                    continue;
                }
            }
            if entry.is_empty() {
                // nmap takes one trailing comma, not an empty entry between two.
                if n == last && n > 0 {
                    break;
                }
                return Err(if text.trim().is_empty() {
                    PortsError::Empty
                } else {
                    PortsError::EmptyEntry(text.to_string())
                });
            }
            let protos: &[Transport] = match &qualifier {
                None => &Transport::ALL,
                Some(proto) => std::slice::from_ref(proto),
            };
            if entry.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                let (lo, hi) = parse_range(entry)?;
                for proto in protos {
                    spec.ports_mut(*proto).insert_range(lo, hi);
                }
            } else {
                spec.add_named(entry, protos, qualifier, services)?;
            }
        }
        if spec.tcp.is_empty() && spec.udp.is_empty() {
            return Err(PortsError::Empty);
        }
        Ok(spec)
    }

    /// The same set for both protocols (a default list, or `--top`).
    pub fn both(ports: PortSet) -> PortSpec {
        PortSpec {
            tcp: ports.clone(),
            udp: ports,
            qualified: [false; 2],
        }
    }

    /// The ports for `proto`.
    pub fn ports(&self, proto: Transport) -> &PortSet {
        match proto {
            Transport::Tcp => &self.tcp,
            Transport::Udp => &self.udp,
        }
    }

    fn ports_mut(&mut self, proto: Transport) -> &mut PortSet {
        match proto {
            Transport::Tcp => &mut self.tcp,
            Transport::Udp => &mut self.udp,
        }
    }

    /// Fails when none of the `scanned` protocols has a port (nmap: "No
    /// ports specified"); one empty protocol of two is skipped, as nmap does.
    pub fn require(&self, scanned: &[Transport]) -> Result<(), PortsError> {
        if scanned.iter().any(|proto| !self.ports(*proto).is_empty()) {
            return Ok(());
        }
        Err(PortsError::NothingToScan {
            proto: protos_word(scanned),
        })
    }

    /// Protocols that were given ports explicitly but are not `scanned`
    /// (nmap warns: "Your ports include U: but you haven't specified UDP scan").
    pub fn unused(&self, scanned: &[Transport]) -> Vec<Transport> {
        Transport::ALL
            .into_iter()
            .filter(|proto| {
                !scanned.contains(proto)
                    && self.qualified[*proto as usize]
                    && !self.ports(*proto).is_empty()
            })
            .collect()
    }

    fn add_named(
        &mut self,
        name: &str,
        protos: &[Transport],
        qualifier: Option<Transport>,
        services: &Services,
    ) -> Result<(), PortsError> {
        if name.contains(|c: char| c.is_whitespace() || c == '[' || c == ']') {
            return Err(PortsError::Syntax(name.to_string()));
        }
        let mut found = false;
        for proto in protos {
            for port in services.ports_named(name, *proto) {
                found |= port != 0;
                self.ports_mut(*proto).insert(port);
            }
        }
        if !found {
            return Err(PortsError::UnknownService {
                name: name.to_string(),
                protos: match qualifier {
                    None => "tcp or udp",
                    Some(proto) => proto.as_str(),
                },
            });
        }
        Ok(())
    }
}

fn protos_word(protos: &[Transport]) -> &'static str {
    match protos {
        [Transport::Tcp] => "tcp",
        [Transport::Udp] => "udp",
        _ => "tcp or udp",
    }
}

/// Reads `-p`'s argument, names resolved from /etc/services (for clap's `value_parser`).
impl FromStr for PortSpec {
    type Err = PortsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PortSpec::parse(text, &Services::load())
    }
}

/// `22`, `1-1024`, `-1024`, `1024-`, `-`: an inclusive range.
fn parse_range(entry: &str) -> Result<(u16, u16), PortsError> {
    let (lo, hi) = match entry.split_once('-') {
        None => {
            let port = parse_port(entry, entry)?;
            return Ok((port, port));
        }
        Some((lo, hi)) => (lo.trim(), hi.trim()),
    };
    let lo = if lo.is_empty() {
        1
    } else {
        parse_port(lo, entry)?
    };
    let hi = if hi.is_empty() {
        MAX_PORT
    } else {
        parse_port(hi, entry)?
    };
    if lo > hi {
        return Err(PortsError::Reversed { lo, hi });
    }
    Ok((lo, hi))
}

fn parse_port(text: &str, entry: &str) -> Result<u16, PortsError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortsError::Syntax(entry.to_string()));
    }
    match text.parse::<u64>() {
        Ok(port @ 1..=65_535) => Ok(port as u16),
        // All digits, so only 0 or too large: say which, without the padding.
        _ => {
            let digits = text.trim_start_matches('0');
            let shown: String = digits.chars().take(12).collect();
            Err(PortsError::OutOfRange(
                match (digits.is_empty(), digits.len() > 12) {
                    (true, _) => "0".into(),
                    (false, true) => format!("{shown}…"),
                    (false, false) => shown,
                },
            ))
        }
    }
}

/// netdx's default TCP ports when no `-p` or `--top` is given.
///
/// How it was chosen: the services an administrator commonly runs and
/// expects to find — remote access, mail, web, name and directory
/// services, file sharing, databases, message brokers, printing, routing
/// and monitoring — each one a port that Debian's /etc/services (netbase)
/// names, so every row of the default scan has a service name. It is
/// netdx's own short list, not nmap's frequency data.
pub const COMMON_TCP: &[u16] = &[
    21,    // ftp
    22,    // ssh
    23,    // telnet
    25,    // smtp
    53,    // domain
    80,    // http
    88,    // kerberos
    110,   // pop3
    111,   // sunrpc
    119,   // nntp
    135,   // epmap
    139,   // netbios-ssn
    143,   // imap2
    179,   // bgp
    389,   // ldap
    443,   // https
    445,   // microsoft-ds
    465,   // submissions
    514,   // shell
    515,   // printer
    587,   // submission
    631,   // ipp
    636,   // ldaps
    873,   // rsync
    993,   // imaps
    995,   // pop3s
    1080,  // socks
    1194,  // openvpn
    1433,  // ms-sql-s
    2049,  // nfs
    3260,  // iscsi-target
    3306,  // mysql
    3389,  // ms-wbt-server
    4369,  // epmd
    5060,  // sip
    5222,  // xmpp-client
    5269,  // xmpp-server
    5432,  // postgresql
    5666,  // nrpe
    5672,  // amqp
    6000,  // x11
    6379,  // redis
    6667,  // ircd
    8080,  // http-alt
    9418,  // git
    10050, // zabbix-agent
];

/// netdx's default UDP ports, chosen as [`COMMON_TCP`] was: the datagram
/// services commonly run (names, time, management, discovery, VPN, voice),
/// each named in Debian's /etc/services.
pub const COMMON_UDP: &[u16] = &[
    53,   // domain
    67,   // bootps
    69,   // tftp
    88,   // kerberos
    111,  // sunrpc
    123,  // ntp
    137,  // netbios-ns
    138,  // netbios-dgm
    161,  // snmp
    162,  // snmp-trap
    389,  // ldap
    443,  // https (QUIC)
    500,  // isakmp
    514,  // syslog
    520,  // route
    1194, // openvpn
    1701, // l2f (L2TP)
    1812, // radius
    1813, // radius-acct
    2049, // nfs
    4500, // ipsec-nat-t
    5060, // sip
    5353, // mdns
];

/// netdx's default list for `proto`.
pub fn common(proto: Transport) -> PortSet {
    match proto {
        Transport::Tcp => COMMON_TCP.iter().copied().collect(),
        Transport::Udp => COMMON_UDP.iter().copied().collect(),
    }
}

/// The ports `--top N` chose, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopPorts {
    /// The chosen ports (N of them, or fewer when the source has fewer).
    pub ports: PortSet,
    /// True when nmap's table was not there and netdx's own list stood in
    /// (the UI says so: the choice is not by measured frequency).
    pub fallback: bool,
}

/// The `n` ports most often found open for `proto`, from nmap's
/// nmap-services at [`NMAP_SERVICES`] when installed, else the first `n`
/// of netdx's [`common`] list with `fallback` set.
pub fn top(n: usize, proto: Transport) -> Result<TopPorts, PortsError> {
    let table = std::fs::read_to_string(NMAP_SERVICES).ok();
    top_from(table.as_deref(), n, proto)
}

/// [`top`] over the text of an nmap-services file (`None`: not installed).
/// Ports are ranked by open-frequency, highest first; equal frequencies go
/// lowest port first. A table with no usable line for `proto` counts as
/// absent. Checked against nmap 7.93's own `--top-ports` 100 and 1000,
/// TCP and UDP: the same sets.
pub fn top_from(table: Option<&str>, n: usize, proto: Transport) -> Result<TopPorts, PortsError> {
    if n == 0 {
        return Err(PortsError::TopZero);
    }
    let mut ranked: Vec<(f64, u16)> = table
        .map(|text| {
            text.lines()
                .filter_map(|line| frequency_line(line, proto))
                .collect()
        })
        .unwrap_or_default();
    if ranked.is_empty() {
        let list = match proto {
            Transport::Tcp => COMMON_TCP,
            Transport::Udp => COMMON_UDP,
        };
        return Ok(TopPorts {
            ports: list.iter().copied().take(n).collect(),
            fallback: true,
        });
    }
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut ports = PortSet::new();
    for (_, port) in ranked {
        if ports.len() == n {
            break;
        }
        ports.insert(port);
    }
    Ok(TopPorts {
        ports,
        fallback: false,
    })
}

/// One nmap-services line (`name port/proto frequency # comment`) for
/// `proto`: its frequency and port. Anything else (comments, other
/// protocols, malformed lines) is `None`.
fn frequency_line(line: &str, proto: Transport) -> Option<(f64, u16)> {
    let line = line.split('#').next()?;
    let mut words = line.split_whitespace();
    let _name = words.next()?;
    let (port, p) = words.next()?.split_once('/')?;
    if Transport::from_services(p)? != proto {
        return None;
    }
    let port: u16 = port.parse().ok().filter(|&port| port != 0)?;
    let frequency: f64 = words.next()?.parse().ok().filter(|f: &f64| f.is_finite())?;
    Some((frequency, port))
}

#[cfg(test)]
#[path = "ports_tests.rs"]
mod tests;
