//! Targets: host names and addresses resolved once, and CIDR blocks
//! expanded lazily so a /16 never sits in memory as a list.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::PingError;
pub use crate::net::FamilyChoice;

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
        if bits <= 1 {
            (base, last)
        } else if self.network.is_ipv4() {
            (base + 1, last - 1)
        } else {
            (base + 1, last)
        }
    }

    /// How many targets the block expands to.
    pub fn host_count(&self) -> u128 {
        let (first, last) = self.host_range();
        last - first + 1
    }

    /// Whether the block is larger than a /16 worth of hosts.
    pub fn larger_than_slash16(&self) -> bool {
        self.host_bits() > 16
    }

    /// The targets, generated one at a time.
    pub fn hosts(&self) -> impl Iterator<Item = IpAddr> + use<> {
        let (first, last) = self.host_range();
        let v4 = self.network.is_ipv4();
        (first..=last).map(move |n| {
            if v4 {
                IpAddr::V4(Ipv4Addr::from(n as u32))
            } else {
                IpAddr::V6(Ipv6Addr::from(n))
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
/// (so a bad name fails before anything is sent) and expanding blocks lazily.
pub struct Targets {
    hosts: std::vec::IntoIter<(String, IpAddr, u32, bool)>,
    blocks: std::vec::IntoIter<Cidr>,
    current: Option<Box<dyn Iterator<Item = IpAddr>>>,
    next_index: usize,
    total: u128,
}

impl Targets {
    /// Resolves and checks `specs`; `force` lifts the /16 limit on blocks.
    pub fn new(specs: &[TargetSpec], family: FamilyChoice, force: bool) -> Result<Self, PingError> {
        let mut hosts = Vec::new();
        let mut blocks = Vec::new();
        let mut total: u128 = 0;
        for spec in specs {
            match spec {
                TargetSpec::Host(host) => {
                    let (address, scope_id, named) = resolve(host, family)?;
                    hosts.push((host.clone(), address, scope_id, named));
                    total += 1;
                }
                TargetSpec::Network(cidr) => {
                    let wanted = match family {
                        FamilyChoice::V4 => !cidr.is_ipv6(),
                        FamilyChoice::V6 => cidr.is_ipv6(),
                        FamilyChoice::Any => true,
                    };
                    if !wanted {
                        return Err(PingError::WrongFamily {
                            host: cidr.to_string(),
                            flag: family.flag(),
                        });
                    }
                    if cidr.larger_than_slash16() && !force {
                        return Err(PingError::SweepTooLarge {
                            network: cidr.to_string(),
                            hosts: cidr.host_count(),
                        });
                    }
                    total = total.saturating_add(cidr.host_count());
                    blocks.push(*cidr);
                }
            }
        }
        Ok(Targets {
            hosts: hosts.into_iter(),
            blocks: blocks.into_iter(),
            current: None,
            next_index: 0,
            total,
        })
    }

    /// Which address families the run needs: (IPv4, IPv6).
    pub fn families(&self) -> (bool, bool) {
        let hosts = self.hosts.as_slice();
        let blocks = self.blocks.as_slice();
        let v4 = hosts.iter().any(|h| h.1.is_ipv4()) || blocks.iter().any(|b| !b.is_ipv6());
        let v6 = hosts.iter().any(|h| h.1.is_ipv6()) || blocks.iter().any(Cidr::is_ipv6);
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
            let block = self.blocks.next()?;
            self.current = Some(Box::new(block.hosts()));
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
