//! /etc/hosts (hosts(5)): addresses by name and the name of an address,
//! the first line that matches winning, as the files backend of glibc and
//! musl read it.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use super::FamilyChoice;

/// Where the system keeps its static host table.
pub const PATH: &str = "/etc/hosts";

/// One line of the table: an address and its names, the canonical one first.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    address: IpAddr,
    names: Vec<String>,
}

/// The host table, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    entries: Vec<Entry>,
}

impl Hosts {
    /// Reads [`PATH`]; a missing or unreadable file is an empty table.
    pub fn load() -> Hosts {
        std::fs::read_to_string(PATH)
            .map(|text| Hosts::parse(&text))
            .unwrap_or_default()
    }

    /// Parses hosts(5) text: `ADDRESS NAME [ALIAS…]`, `#` starts a comment,
    /// lines whose address does not parse are skipped.
    pub fn parse(text: &str) -> Hosts {
        let entries = text
            .lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or("");
                let mut words = line.split_whitespace();
                let address = words.next()?;
                // A zone (`fe80::1%eth0`) names an interface; the address is what is matched.
                let address = address.split('%').next().unwrap_or(address);
                let address: IpAddr = address.parse().ok()?;
                let names: Vec<String> = words.map(str::to_string).collect();
                (!names.is_empty()).then_some(Entry { address, names })
            })
            .collect();
        Hosts { entries }
    }

    /// The addresses of `name` that `family` admits, in file order (so the
    /// first line that names it comes first); names match without regard to
    /// case or a trailing dot.
    pub fn addresses(&self, name: &str, family: FamilyChoice) -> Vec<IpAddr> {
        let name = name.strip_suffix('.').unwrap_or(name);
        let mut found = Vec::new();
        for entry in &self.entries {
            if family.admits(&entry.address)
                && entry.names.iter().any(|n| n.eq_ignore_ascii_case(name))
                && !found.contains(&entry.address)
            {
                found.push(entry.address);
            }
        }
        found
    }

    /// The canonical name of the first line that lists `address`.
    pub fn name(&self, address: &IpAddr) -> Option<&str> {
        self.entries
            .iter()
            .find(|entry| entry.address == *address)
            .and_then(|entry| entry.names.first())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment line
127.0.0.1\tlocalhost
127.0.1.1  box.example.org box   # the machine itself
::1 localhost ip6-localhost ip6-loopback
fe80::1%eth0 router-ll
10.0.0.5 Web.Example.org web
10.0.0.6 web
not-an-address some-name
10.0.0.7
";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn names_and_aliases_resolve_in_file_order() {
        let hosts = Hosts::parse(SAMPLE);
        assert_eq!(
            hosts.addresses("localhost", FamilyChoice::Any),
            [ip("127.0.0.1"), ip("::1")]
        );
        assert_eq!(hosts.addresses("box", FamilyChoice::Any), [ip("127.0.1.1")]);
        assert_eq!(
            hosts.addresses("web", FamilyChoice::Any),
            [ip("10.0.0.5"), ip("10.0.0.6")]
        );
    }

    #[test]
    fn names_match_without_case_or_trailing_dot() {
        let hosts = Hosts::parse(SAMPLE);
        assert_eq!(
            hosts.addresses("WEB.example.ORG.", FamilyChoice::Any),
            [ip("10.0.0.5")]
        );
    }

    #[test]
    fn the_family_filters_addresses() {
        let hosts = Hosts::parse(SAMPLE);
        assert_eq!(hosts.addresses("localhost", FamilyChoice::V6), [ip("::1")]);
        assert_eq!(
            hosts.addresses("localhost", FamilyChoice::V4),
            [ip("127.0.0.1")]
        );
        assert!(hosts.addresses("box", FamilyChoice::V6).is_empty());
    }

    #[test]
    fn comments_bad_addresses_and_nameless_lines_are_skipped() {
        let hosts = Hosts::parse(SAMPLE);
        assert!(hosts.addresses("some-name", FamilyChoice::Any).is_empty());
        assert!(hosts.addresses("comment", FamilyChoice::Any).is_empty());
        assert!(hosts.addresses("machine", FamilyChoice::Any).is_empty());
        assert_eq!(hosts.name(&ip("10.0.0.7")), None);
    }

    #[test]
    fn an_address_is_named_by_the_first_line_that_lists_it() {
        let hosts = Hosts::parse("10.0.0.5 first alias\n10.0.0.5 second\n");
        assert_eq!(hosts.name(&ip("10.0.0.5")), Some("first"));
        assert_eq!(Hosts::parse(SAMPLE).name(&ip("fe80::1")), Some("router-ll"));
        assert_eq!(Hosts::parse(SAMPLE).name(&ip("10.9.9.9")), None);
    }
}
