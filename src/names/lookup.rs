//! Name → addresses and address → name the way musl's resolver does it, so
//! that the statically linked binary never calls NSS: /etc/hosts first,
//! then DNS to the nameservers of /etc/resolv.conf.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::sync::OnceLock;

use super::dns;
use super::hosts::Hosts;
use super::resolv::ResolvConf;
use super::{FamilyChoice, NameError};
use crate::wire::dns::{MAX_LABEL, MAX_NAME, RecordType};

/// A host as the user named it, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Its addresses of the family asked for, the preferred one first; never empty.
    pub addresses: Vec<IpAddr>,
    /// The IPv6 zone of an address literal (`fe80::1%eth0`), else 0.
    pub scope_id: u32,
    /// Whether the host was a name rather than an address literal.
    pub named: bool,
}

/// The host table and resolver configuration lookups read.
#[derive(Debug)]
pub struct Resolver {
    /// /etc/hosts, read only when a name (not an address) is looked up.
    hosts: OnceLock<Hosts>,
    /// /etc/resolv.conf, read only when a lookup gets as far as DNS.
    conf: OnceLock<ResolvConf>,
}

impl Resolver {
    /// A resolver over the given table and configuration.
    pub fn new(hosts: Hosts, conf: ResolvConf) -> Resolver {
        Resolver {
            hosts: OnceLock::from(hosts),
            conf: OnceLock::from(conf),
        }
    }

    /// The system's files, each read once per process.
    pub fn system() -> &'static Resolver {
        static SYSTEM: OnceLock<Resolver> = OnceLock::new();
        SYSTEM.get_or_init(|| Resolver {
            hosts: OnceLock::new(),
            conf: OnceLock::new(),
        })
    }

    fn hosts(&self) -> &Hosts {
        self.hosts.get_or_init(Hosts::load)
    }

    fn conf(&self) -> &ResolvConf {
        self.conf.get_or_init(ResolvConf::load)
    }

    /// Resolves `host`: an address literal (IPv6 with an optional `%zone`)
    /// as it is; a name from the hosts file (its lines in file order), else
    /// from DNS — A records before AAAA when either family will do — trying
    /// the search domains first for names with fewer than `ndots` dots.
    pub fn resolve(&self, host: &str, family: FamilyChoice) -> Result<Resolved, NameError> {
        if let Some(literal) = literal(host) {
            let (address, scope_id) = literal?;
            if !family.admits(&address) {
                return Err(NameError::NoAddress { family });
            }
            return Ok(Resolved {
                addresses: vec![address],
                scope_id,
                named: false,
            });
        }
        let addresses = self.addresses(host, family)?;
        Ok(Resolved {
            addresses,
            scope_id: 0,
            named: true,
        })
    }

    fn addresses(&self, name: &str, family: FamilyChoice) -> Result<Vec<IpAddr>, NameError> {
        let from_file = self.hosts().addresses(name, family);
        if !from_file.is_empty() {
            return Ok(from_file);
        }
        let bare = name.strip_suffix('.').unwrap_or(name);
        if !valid_name(bare) || is_special(bare, "invalid") {
            return Err(NameError::NotFound);
        }
        // RFC 6761 6.3: localhost names are loopback, whatever DNS says.
        if is_special(bare, "localhost") {
            let loopback = [
                IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ];
            return Ok(loopback.into_iter().filter(|a| family.admits(a)).collect());
        }
        let mut result = Err(NameError::NotFound);
        for candidate in self.candidates(name) {
            match self.ask(&candidate, family) {
                Ok(addresses) if !addresses.is_empty() => return Ok(addresses),
                Ok(_) => result = Err(NameError::NoAddress { family }),
                Err(NameError::NotFound) => {}
                // A server that fails or is silent would fail the other candidates too.
                Err(err) => return Err(err),
            }
        }
        result
    }

    /// A and/or AAAA for one fully qualified candidate; `NotFound` for NXDOMAIN.
    fn ask(&self, name: &str, family: FamilyChoice) -> Result<Vec<IpAddr>, NameError> {
        let kinds: &[RecordType] = match family {
            FamilyChoice::V4 => &[RecordType::A],
            FamilyChoice::V6 => &[RecordType::AAAA],
            FamilyChoice::Any => &[RecordType::A, RecordType::AAAA],
        };
        let mut found = Vec::new();
        for kind in kinds {
            match dns::addresses(self.conf(), name, *kind)? {
                None => return Err(NameError::NotFound),
                Some(addresses) => found.extend(addresses),
            }
            // Either family will do: one that has addresses is enough.
            if !found.is_empty() {
                break;
            }
        }
        Ok(found)
    }

    /// The names to ask DNS for, in order (as musl orders them): with fewer
    /// than `ndots` dots, the name under each search domain, then as given;
    /// otherwise, or with a trailing dot, only as given.
    fn candidates(&self, name: &str) -> Vec<String> {
        if let Some(absolute) = name.strip_suffix('.') {
            return vec![absolute.to_string()];
        }
        let dots = name.matches('.').count();
        let mut candidates = Vec::new();
        if dots < usize::from(self.conf().ndots) {
            for domain in &self.conf().search {
                let joined = format!("{name}.{domain}");
                if valid_name(&joined) {
                    candidates.push(joined);
                }
            }
        }
        candidates.push(name.to_string());
        candidates
    }

    /// The name of `address`: the hosts file's, else the PTR record's. Names
    /// that only echo the address are no names.
    pub fn name(&self, address: &IpAddr) -> Option<String> {
        if let Some(name) = self.hosts().name(address) {
            return Some(name.to_string());
        }
        dns::pointer(self.conf(), address)
            .ok()
            .flatten()
            .filter(|name| !name.is_empty() && *name != address.to_string())
    }
}

/// An address literal with its zone, or `None` when `host` is a name.
fn literal(host: &str) -> Option<Result<(IpAddr, u32), NameError>> {
    let (address, zone) = match host.split_once('%') {
        Some((address, zone)) => (address, Some(zone)),
        None => (host, None),
    };
    let address = address.parse::<IpAddr>().ok()?;
    Some(match zone {
        None => Ok((address, 0)),
        Some(zone) => super::zone_index(zone)
            .map(|scope| (address, scope))
            .ok_or_else(|| NameError::NoSuchZone(zone.to_string())),
    })
}

/// Whether `name` can be a DNS name at all: labels of 1 to 63 bytes of
/// letters, digits, `-` and `_`, at most 253 bytes in all (as musl checks).
fn valid_name(name: &str) -> bool {
    name.len() < MAX_NAME - 1
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether `name` is `special` or under it (`x.invalid`).
fn is_special(name: &str, special: &str) -> bool {
    name.eq_ignore_ascii_case(special)
        || name.len() > special.len()
            && name
                .get(name.len() - special.len() - 1..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(&format!(".{special}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(hosts: &str, conf: &str) -> Resolver {
        // A nameserver nothing listens on; no test below gets as far as asking it.
        Resolver::new(Hosts::parse(hosts), ResolvConf::parse(conf))
    }

    #[test]
    fn literals_resolve_without_any_lookup() {
        let none = resolver("", "nameserver 127.0.0.254");
        let found = none.resolve("192.0.2.1", FamilyChoice::Any).unwrap();
        assert_eq!(
            (found.addresses[0].to_string(), found.named),
            ("192.0.2.1".into(), false)
        );
        let zoned = none.resolve("fe80::1%1", FamilyChoice::V6).unwrap();
        assert_eq!(zoned.scope_id, 1);
        assert!(matches!(
            none.resolve("fe80::1%no-such-interface0", FamilyChoice::Any),
            Err(NameError::NoSuchZone(_))
        ));
        assert!(matches!(
            none.resolve("::1", FamilyChoice::V4),
            Err(NameError::NoAddress {
                family: FamilyChoice::V4
            })
        ));
    }

    #[test]
    fn the_hosts_file_answers_before_dns() {
        let files = resolver("10.0.0.5 web.test web\n", "nameserver 127.0.0.254");
        let found = files.resolve("WEB", FamilyChoice::Any).unwrap();
        assert_eq!(found.addresses, ["10.0.0.5".parse::<IpAddr>().unwrap()]);
        assert!(found.named);
        assert_eq!(
            files.name(&"10.0.0.5".parse().unwrap()).as_deref(),
            Some("web.test")
        );
    }

    #[test]
    fn invalid_and_malformed_names_fail_without_a_query() {
        let none = resolver("", "nameserver 127.0.0.254");
        for name in [
            "nosuch.invalid",
            "x.INVALID.",
            "bad name",
            "a..b",
            "a_b c",
            "",
        ] {
            assert!(
                matches!(
                    none.resolve(name, FamilyChoice::Any),
                    Err(NameError::NotFound)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn localhost_names_are_loopback() {
        let none = resolver("", "nameserver 127.0.0.254");
        let found = none.resolve("app.localhost", FamilyChoice::V6).unwrap();
        assert_eq!(found.addresses, [IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)]);
    }

    #[test]
    fn search_domains_come_first_for_short_names_only() {
        let conf = resolver("", "search a.test b.test\noptions ndots:2\n");
        assert_eq!(conf.candidates("web"), ["web.a.test", "web.b.test", "web"]);
        assert_eq!(
            conf.candidates("web.x"),
            ["web.x.a.test", "web.x.b.test", "web.x"]
        );
        assert_eq!(conf.candidates("web.x.y"), ["web.x.y"]);
        assert_eq!(conf.candidates("web."), ["web"]);
    }
}
