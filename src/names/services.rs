//! Service names from /etc/services (no DNS, ever): port → name for the
//! tables netstat and scan print, and name → ports for `scan -p http,ssh`.
//!
//! One parser for both directions, so a name netstat shows for a port is
//! the name scan accepts for it.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;

/// Where the services table lives (services(5)).
pub const PATH: &str = "/etc/services";

/// The transport protocols a service is registered for that netdx uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Transport {
    /// Both, TCP first (the order nmap reports them in).
    pub const ALL: [Transport; 2] = [Transport::Tcp, Transport::Udp];

    /// The word services(5) and nmap use: `tcp`, `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }

    /// Reads the protocol column of services(5); other protocols (sctp, ddp) are `None`.
    pub fn from_services(word: &str) -> Option<Transport> {
        match word {
            "tcp" => Some(Transport::Tcp),
            "udp" => Some(Transport::Udp),
            _ => None,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Service names by port and protocol, and ports by name or alias.
#[derive(Debug, Default, Clone)]
pub struct Services {
    by_port: HashMap<(u16, Transport), String>,
    /// Every name and alias, in file order, with the entry it names.
    by_name: Vec<(String, u16, Transport)>,
}

impl Services {
    /// Reads /etc/services; an unreadable file gives an empty table (numbers are shown).
    pub fn load() -> Self {
        std::fs::read_to_string(PATH)
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses the services(5) format; the first name listed for a port wins.
    pub fn parse(text: &str) -> Self {
        let mut table = Services::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            let Some(proto) = Transport::from_services(proto) else {
                continue;
            };
            table
                .by_port
                .entry((port, proto))
                .or_insert_with(|| name.to_string());
            for word in std::iter::once(name).chain(words) {
                table.by_name.push((word.to_string(), port, proto));
            }
        }
        table
    }

    /// The name of `port` for `proto`, if it has one.
    pub fn name(&self, port: u16, proto: Transport) -> Option<&str> {
        self.by_port.get(&(port, proto)).map(String::as_str)
    }

    /// The ports whose name or alias matches `pattern` for `proto`: an exact
    /// name (case-insensitive), or a glob with `*` (any run) and `?` (one
    /// character), as nmap's `-p ftp,http*` takes.
    pub fn ports_named(&self, pattern: &str, proto: Transport) -> Vec<u16> {
        let mut ports: Vec<u16> = self
            .by_name
            .iter()
            .filter(|(name, _, p)| *p == proto && glob_matches(pattern, name))
            .map(|(_, port, _)| *port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// Whether `name` matches `pattern` (`*` and `?` wildcards, ASCII case ignored).
fn glob_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.as_bytes(), name.as_bytes());
    // Iterative matcher with one backtrack point: linear in practice, and
    // no recursion a hostile pattern could deepen.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&name[n]) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# comment\nssh\t\t22/tcp\t\t\t\t# SSH\ndomain 53/udp\ndomain 53/tcp\nhttp 80/tcp www\nwww-alias 80/tcp\nhttps 443/tcp\nhttp-alt 8080/tcp webcache\nbroken line\nodd 99999/tcp\nsctp-only 9/sctp\n";

    #[test]
    fn services_file_maps_ports_to_names() {
        let table = Services::parse(SAMPLE);
        assert_eq!(table.name(22, Transport::Tcp), Some("ssh"));
        assert_eq!(table.name(53, Transport::Udp), Some("domain"));
        assert_eq!(table.name(80, Transport::Tcp), Some("http"));
        assert_eq!(table.name(22, Transport::Udp), None);
        assert_eq!(table.name(9, Transport::Tcp), None);
    }

    #[test]
    fn names_and_aliases_find_their_ports_per_protocol() {
        let table = Services::parse(SAMPLE);
        assert_eq!(table.ports_named("ssh", Transport::Tcp), [22]);
        assert_eq!(table.ports_named("SSH", Transport::Tcp), [22]);
        assert_eq!(table.ports_named("ssh", Transport::Udp), [] as [u16; 0]);
        assert_eq!(table.ports_named("www", Transport::Tcp), [80]);
        assert_eq!(table.ports_named("domain", Transport::Udp), [53]);
        assert_eq!(table.ports_named("nosuch", Transport::Tcp), [] as [u16; 0]);
    }

    #[test]
    fn wildcards_match_as_nmap_globs_do() {
        let table = Services::parse(SAMPLE);
        assert_eq!(table.ports_named("http*", Transport::Tcp), [80, 443, 8080]);
        assert_eq!(table.ports_named("http?", Transport::Tcp), [443]);
        assert_eq!(table.ports_named("*", Transport::Udp), [53]);
        assert_eq!(table.ports_named("*-alt", Transport::Tcp), [8080]);
        assert!(glob_matches("a*b*c", "axxbyyc"));
        assert!(!glob_matches("a*b*c", "axxbyy"));
        assert!(!glob_matches("", "a"));
        assert!(glob_matches("**", ""));
    }
}
