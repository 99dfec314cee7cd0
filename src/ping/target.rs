//! Targets: host names and addresses resolved once, and CIDR blocks and
//! address ranges expanded lazily so a /16 never sits in memory as a list.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::PingError;
pub use crate::net::FamilyChoice;
use crate::targets::{Limits, ListError, ListSource};

/// A network in CIDR notation, e.g. `10.0.0.0/24` or `fd00::/120`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not in CIDR notation (ADDRESS/PREFIX)"))?;
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("'{text}': '{address}' is not an IP address"))?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("'{text}': the prefix length must be 0 to {max}"))?;
        Ok(Cidr {
            network: mask(address, prefix),
            prefix,
        })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let bits = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & bits))
        }
        IpAddr::V6(v6) => {
            let bits = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & bits))
        }
    }
}

impl Cidr {
    /// The network's address family is IPv6.
    pub fn is_ipv6(&self) -> bool {
        self.network.is_ipv6()
    }

    /// Host bits of the block.
    fn host_bits(&self) -> u32 {
        let width = if self.network.is_ipv4() { 32 } else { 128 };
        width - u32::from(self.prefix)
    }

    /// The addresses fping would ping: all of them for /31 and /32 (and
    /// IPv6 /127, /128), otherwise without the network address and, for
    /// IPv4, without the broadcast address.
    pub fn host_range(&self) -> (u128, u128) {
        let span = self.span();
        (span.first, span.last)
    }

    fn span(&self) -> Span {
        let base = match self.network {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        let bits = self.host_bits();
        let size = if bits >= 128 {
            u128::MAX
        } else {
            1u128 << bits
        };
        let last = base + (size - 1);
        let v6 = self.network.is_ipv6();
        let (first, last) = if bits <= 1 {
            (base, last)
        } else if v6 {
            (base + 1, last)
        } else {
            (base + 1, last - 1)
        };
        Span { first, last, v6 }
    }

    /// How many targets the block expands to.
    pub fn host_count(&self) -> u128 {
        self.span().count()
    }

    /// Whether the block is larger than a /16 worth of hosts.
    pub fn larger_than_slash16(&self) -> bool {
        self.host_bits() > 16
    }

    /// The targets, generated one at a time.
    pub fn hosts(&self) -> impl Iterator<Item = IpAddr> + use<> {
        self.span().hosts()
    }
}

/// An inclusive range of IPv4 addresses, fping's `-g START END`: every
/// address from START to END, both ends included (no network or broadcast
/// address is left out), none when START is past END.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Range {
    first: Ipv4Addr,
    last: Ipv4Addr,
}

/// A /16's worth of addresses: the most a range holds without `--force`.
const SLASH16: u128 = 1 << 16;

impl Ipv4Range {
    /// START to END, inclusive.
    pub fn new(first: Ipv4Addr, last: Ipv4Addr) -> Self {
        Ipv4Range { first, last }
    }

    fn span(&self) -> Span {
        Span {
            first: u128::from(u32::from(self.first)),
            last: u128::from(u32::from(self.last)),
            v6: false,
        }
    }

    /// How many targets the range expands to (0 when START is past END).
    pub fn host_count(&self) -> u128 {
        self.span().count()
    }

    /// Whether the range holds more addresses than a /16.
    pub fn larger_than_slash16(&self) -> bool {
        self.host_count() > SLASH16
    }

    /// The targets, generated one at a time.
    pub fn hosts(&self) -> impl Iterator<Item = IpAddr> + use<> {
        self.span().hosts()
    }
}

impl std::fmt::Display for Ipv4Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.first, self.last)
    }
}

/// Consecutive addresses of one family, as numbers: what a block or a
/// range expands to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    first: u128,
    last: u128,
    v6: bool,
}

impl Span {
    fn count(&self) -> u128 {
        if self.first > self.last {
            0
        } else {
            // An IPv6 /0 holds 2^128 addresses, one more than u128 counts.
            (self.last - self.first).saturating_add(1)
        }
    }

    fn hosts(self) -> impl Iterator<Item = IpAddr> {
        let v6 = self.v6;
        (self.first..=self.last).map(move |n| {
            if v6 {
                IpAddr::V6(Ipv6Addr::from(n))
            } else {
                IpAddr::V4(Ipv4Addr::from(n as u32))
            }
        })
    }
}

/// One thing to ping, as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// A host name or address.
    Host(String),
    /// Every host of a network.
    Network(Cidr),
    /// Every address from START to END (`-g START END`).
    Range(Ipv4Range),
}

impl TargetSpec {
    /// Reads `text` as a CIDR block when it has a `/`, else as a host.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.contains('/') {
            text.parse().map(TargetSpec::Network)
        } else if text.is_empty() {
            Err("an empty host name".into())
        } else {
            Ok(TargetSpec::Host(text.to_string()))
        }
    }
}

/// The most targets a list (`--file`, standard input) may hold: a /16's
/// worth, as for a block, unless `--force`; even then a ceiling, since
/// every listed target is kept (and resolved) before the first probe.
pub fn list_limits(force: bool) -> Limits {
    if force {
        Limits {
            max_targets: 1 << 20,
            remedy: "the most one run takes; split the list",
            words: false,
        }
    } else {
        Limits {
            max_targets: 1 << 16,
            remedy: "lists larger than a /16 need --force",
            words: false,
        }
    }
}

/// Reads a target list: one host, address or CIDR block a line.
pub fn read_list(source: &ListSource, force: bool) -> Result<Vec<TargetSpec>, ListError> {
    crate::targets::read(source, list_limits(force), TargetSpec::parse)
}

/// Reads `-g`'s targets the way fping does: networks in CIDR notation
/// (several of them here), or two IPv4 addresses START END that stand for
/// every address between them, both included.
pub fn generate(specs: &[TargetSpec]) -> Result<Vec<TargetSpec>, PingError> {
    let literal = |spec: &TargetSpec| match spec {
        TargetSpec::Host(host) => host.parse::<IpAddr>().ok(),
        _ => None,
    };
    match specs {
        [] => Err(PingError::Usage(
            "-g needs a network (10.0.0.0/24) or a range START END (10.0.0.1 10.0.0.20)".into(),
        )),
        [start, end] if literal(start).is_some() || literal(end).is_some() => {
            match (literal(start), literal(end)) {
                (Some(IpAddr::V4(first)), Some(IpAddr::V4(last))) => {
                    Ok(vec![TargetSpec::Range(Ipv4Range::new(first, last))])
                }
                (Some(IpAddr::V6(_)), _) | (_, Some(IpAddr::V6(_))) => Err(PingError::Usage(
                    "-g START END takes IPv4 addresses (as fping's does); sweep IPv6 as a network in CIDR notation (fd00::/120)".into(),
                )),
                _ => {
                    let other = if literal(start).is_some() { end } else { start };
                    Err(PingError::Usage(format!(
                        "-g START END takes two IPv4 addresses: '{}' is not one",
                        spec_text(other)
                    )))
                }
            }
        }
        _ => match specs
            .iter()
            .find(|spec| !matches!(spec, TargetSpec::Network(_)))
        {
            Some(host) => Err(PingError::Usage(format!(
                "-g sweeps networks: '{}' is not in CIDR notation (e.g. 10.0.0.0/24); a range is two IPv4 addresses, -g START END",
                spec_text(host)
            ))),
            None => Ok(specs.to_vec()),
        },
    }
}

/// A target as the user wrote it, for a message.
fn spec_text(spec: &TargetSpec) -> String {
    match spec {
        TargetSpec::Host(host) => host.clone(),
        TargetSpec::Network(cidr) => cidr.to_string(),
        TargetSpec::Range(range) => range.to_string(),
    }
}

/// A resolved target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Position in the run (order of the command line, then of each block).
    pub index: usize,
    /// How the user named it (a host name, or the address itself).
    pub name: String,
    /// The address probes go to.
    pub address: IpAddr,
    /// IPv6 zone (interface index) for link-local targets, else 0.
    pub scope_id: u32,
    /// Whether `name` is a host name rather than an address literal.
    pub named: bool,
}

/// Resolves one host once: address literals directly, names through
/// netdx's own resolver (/etc/hosts, then DNS; never NSS), keeping the first
/// address of the family asked for.
pub fn resolve(host: &str, family: FamilyChoice) -> Result<(IpAddr, u32, bool), PingError> {
    match crate::names::resolve(host, family) {
        Ok(resolved) => {
            let address = resolved
                .addresses
                .first()
                .copied()
                .ok_or(PingError::Resolve {
                    host: host.to_string(),
                    reason: crate::names::NameError::NotFound.to_string(),
                })?;
            Ok((address, resolved.scope_id, resolved.named))
        }
        Err(crate::names::NameError::NoAddress {
            family: family @ (FamilyChoice::V4 | FamilyChoice::V6),
        }) => Err(PingError::WrongFamily {
            host: host.to_string(),
            flag: family.flag(),
        }),
        Err(err) => Err(PingError::Resolve {
            host: host.to_string(),
            reason: err.to_string(),
        }),
    }
}

/// Yields every target of a run in order, resolving host names up front
/// (so a bad name fails before anything is sent) and expanding blocks and
/// ranges lazily.
pub struct Targets {
    hosts: std::vec::IntoIter<(String, IpAddr, u32, bool)>,
    spans: std::vec::IntoIter<Span>,
    current: Option<Box<dyn Iterator<Item = IpAddr>>>,
    next_index: usize,
    total: u128,
}

impl Targets {
    /// Resolves and checks `specs`; `force` lifts the /16 limit on blocks and ranges.
    pub fn new(specs: &[TargetSpec], family: FamilyChoice, force: bool) -> Result<Self, PingError> {
        let mut hosts = Vec::new();
        let mut spans = Vec::new();
        let mut total: u128 = 0;
        for spec in specs {
            let (span, too_large) = match spec {
                TargetSpec::Host(host) => {
                    let (address, scope_id, named) = resolve(host, family)?;
                    hosts.push((host.clone(), address, scope_id, named));
                    total += 1;
                    continue;
                }
                TargetSpec::Network(cidr) => (cidr.span(), cidr.larger_than_slash16()),
                TargetSpec::Range(range) => (range.span(), range.larger_than_slash16()),
            };
            let wanted = match family {
                FamilyChoice::V4 => !span.v6,
                FamilyChoice::V6 => span.v6,
                FamilyChoice::Any => true,
            };
            if !wanted {
                return Err(PingError::WrongFamily {
                    host: spec_text(spec),
                    flag: family.flag(),
                });
            }
            if too_large && !force {
                return Err(PingError::SweepTooLarge {
                    network: spec_text(spec),
                    hosts: span.count(),
                });
            }
            total = total.saturating_add(span.count());
            spans.push(span);
        }
        Ok(Targets {
            hosts: hosts.into_iter(),
            spans: spans.into_iter(),
            current: None,
            next_index: 0,
            total,
        })
    }

    /// Which address families the run needs: (IPv4, IPv6).
    pub fn families(&self) -> (bool, bool) {
        let hosts = self.hosts.as_slice();
        let spans: Vec<&Span> = self
            .spans
            .as_slice()
            .iter()
            .filter(|s| s.count() > 0)
            .collect();
        let v4 = hosts.iter().any(|h| h.1.is_ipv4()) || spans.iter().any(|s| !s.v6);
        let v6 = hosts.iter().any(|h| h.1.is_ipv6()) || spans.iter().any(|s| s.v6);
        (v4, v6)
    }

    /// How many targets the run has in all.
    pub fn total(&self) -> u128 {
        self.total
    }
}

impl Iterator for Targets {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        let index = self.next_index;
        if let Some((name, address, scope_id, named)) = self.hosts.next() {
            self.next_index += 1;
            return Some(Target {
                index,
                name,
                address,
                scope_id,
                named,
            });
        }
        loop {
            if let Some(address) = self.current.as_mut().and_then(Iterator::next) {
                self.next_index += 1;
                return Some(Target {
                    index,
                    name: address.to_string(),
                    address,
                    scope_id: 0,
                    named: false,
                });
            }
            let span = self.spans.next()?;
            self.current = Some(Box::new(span.hosts()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash24_excludes_network_and_broadcast() {
        let cidr: Cidr = "10.0.0.77/24".parse().unwrap();
        assert_eq!(cidr.to_string(), "10.0.0.0/24");
        let hosts: Vec<IpAddr> = cidr.hosts().collect();
        assert_eq!(hosts.len(), 254);
        assert_eq!(hosts[0], "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(hosts[253], "10.0.0.254".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn tiny_blocks_keep_every_address() {
        assert_eq!("10.0.0.0/31".parse::<Cidr>().unwrap().host_count(), 2);
        assert_eq!("10.0.0.5/32".parse::<Cidr>().unwrap().host_count(), 1);
        assert_eq!("fd00::/127".parse::<Cidr>().unwrap().host_count(), 2);
        assert_eq!("fd00::/120".parse::<Cidr>().unwrap().host_count(), 255);
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0/24",
            "10.0.0.0/",
            "fd00::/129",
            "x/8",
            "10.0.0.0/-1",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn blocks_over_a_slash16_need_force() {
        let specs = [TargetSpec::parse("10.0.0.0/15").unwrap()];
        assert!(matches!(
            Targets::new(&specs, FamilyChoice::Any, false),
            Err(PingError::SweepTooLarge { .. })
        ));
        assert!(Targets::new(&specs, FamilyChoice::Any, true).is_ok());
        let slash16 = [TargetSpec::parse("10.0.0.0/16").unwrap()];
        let targets = Targets::new(&slash16, FamilyChoice::Any, false).unwrap();
        assert_eq!(targets.total(), 65_534);
    }

    #[test]
    fn targets_are_numbered_in_order_and_generated_lazily() {
        let specs = [
            TargetSpec::parse("127.0.0.1").unwrap(),
            TargetSpec::parse("10.1.0.0/30").unwrap(),
        ];
        let targets: Vec<Target> = Targets::new(&specs, FamilyChoice::Any, false)
            .unwrap()
            .collect();
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["127.0.0.1", "10.1.0.1", "10.1.0.2"]);
        assert_eq!(
            targets.iter().map(|t| t.index).collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    fn range(start: &str, end: &str) -> Result<Vec<TargetSpec>, PingError> {
        generate(&[
            TargetSpec::parse(start).unwrap(),
            TargetSpec::parse(end).unwrap(),
        ])
    }

    fn names(specs: &[TargetSpec]) -> Vec<String> {
        Targets::new(specs, FamilyChoice::Any, false)
            .unwrap()
            .map(|t| t.name)
            .collect()
    }

    #[test]
    fn a_range_holds_both_ends_and_everything_between() {
        let specs = range("10.0.0.254", "10.0.1.1").unwrap();
        assert_eq!(
            names(&specs),
            ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1"],
            "no address is left out as network or broadcast"
        );
        assert_eq!(names(&range("10.0.0.7", "10.0.0.7").unwrap()), ["10.0.0.7"]);
    }

    #[test]
    fn a_range_whose_start_is_past_its_end_is_empty() {
        let specs = range("10.0.0.5", "10.0.0.1").unwrap();
        let targets = Targets::new(&specs, FamilyChoice::Any, false).unwrap();
        assert_eq!(targets.total(), 0);
        assert_eq!(targets.families(), (false, false), "no socket to open");
        assert_eq!(targets.count(), 0);
    }

    #[test]
    fn ranges_over_a_slash16_need_force() {
        let slash16 = range("10.0.0.0", "10.0.255.255").unwrap();
        assert_eq!(
            Targets::new(&slash16, FamilyChoice::Any, false)
                .unwrap()
                .total(),
            65_536
        );
        let over = range("10.0.0.0", "10.1.0.0").unwrap();
        let err = Targets::new(&over, FamilyChoice::Any, false).err().unwrap();
        assert_eq!(
            err.to_string(),
            "'10.0.0.0 10.1.0.0' expands to 65537 targets; sweeps larger than a /16 need --force"
        );
        let all = range("0.0.0.0", "255.255.255.255").unwrap();
        let forced = Targets::new(&all, FamilyChoice::Any, true).unwrap();
        assert_eq!(forced.total(), 1 << 32);
    }

    #[test]
    fn generate_takes_networks_or_one_ipv4_range_and_refuses_the_rest() {
        let blocks = [
            TargetSpec::parse("10.0.0.0/30").unwrap(),
            TargetSpec::parse("10.0.1.0/30").unwrap(),
        ];
        assert_eq!(generate(&blocks).unwrap(), blocks);
        let refused = |specs: &[&str]| {
            let specs: Vec<TargetSpec> = specs
                .iter()
                .map(|s| TargetSpec::parse(s).unwrap())
                .collect();
            generate(&specs).unwrap_err().to_string()
        };
        assert!(refused(&[]).contains("-g needs a network"));
        assert!(refused(&["localhost"]).contains("'localhost' is not in CIDR notation"));
        assert!(refused(&["10.0.0.1", "10.0.0.2", "10.0.0.3"]).contains("not in CIDR notation"));
        assert!(refused(&["10.0.0.0/24", "host"]).contains("'host' is not in CIDR notation"));
        assert!(refused(&["::1", "::3"]).contains("IPv4 addresses"));
        assert!(refused(&["10.0.0.1", "fd00::1"]).contains("IPv4 addresses"));
        assert!(refused(&["10.0.0.1", "gateway"]).contains("'gateway' is not one"));
        assert!(refused(&["10.0.0.1", "10.0.0.0/24"]).contains("'10.0.0.0/24' is not one"));
    }

    #[test]
    fn a_range_is_ipv4_so_dash_6_refuses_it() {
        let specs = range("10.0.0.1", "10.0.0.3").unwrap();
        assert!(matches!(
            Targets::new(&specs, FamilyChoice::V6, false),
            Err(PingError::WrongFamily { .. })
        ));
    }

    #[test]
    fn a_list_holds_hosts_and_blocks_one_a_line() {
        let text = b"# lab hosts\n127.0.0.1\n\n10.1.0.0/30  # rack 1\r\n";
        let specs =
            crate::targets::read_from(&text[..], "'hosts'", list_limits(false), TargetSpec::parse)
                .unwrap();
        assert_eq!(names(&specs), ["127.0.0.1", "10.1.0.1", "10.1.0.2"]);
        let err = crate::targets::read_from(
            &b"127.0.0.1\n10.0.0.0/33\n"[..],
            "'hosts'",
            list_limits(false),
            TargetSpec::parse,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "'hosts' line 2: '10.0.0.0/33': the prefix length must be 0 to 32"
        );
    }

    #[test]
    fn family_flags_are_checked_against_literals() {
        assert!(matches!(
            resolve("::1", FamilyChoice::V4),
            Err(PingError::WrongFamily { .. })
        ));
        assert!(matches!(
            resolve("127.0.0.1", FamilyChoice::V6),
            Err(PingError::WrongFamily { .. })
        ));
        assert!(resolve("::1", FamilyChoice::V6).is_ok());
    }
}
