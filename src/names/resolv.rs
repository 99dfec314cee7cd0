//! /etc/resolv.conf (resolv.conf(5)): the nameservers to ask, the search
//! domains and the timing options, with glibc's defaults and limits.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::time::Duration;

/// Where the system keeps its resolver configuration.
pub const PATH: &str = "/etc/resolv.conf";
/// The DNS port.
pub const PORT: u16 = 53;
/// At most this many nameservers are used (glibc's MAXNS).
pub const MAX_NAMESERVERS: usize = 3;
/// At most this many search domains are kept.
pub const MAX_SEARCH: usize = 6;
/// glibc's caps on the options.
const MAX_NDOTS: u8 = 15;
const MAX_TIMEOUT_SECS: u64 = 30;
const MAX_ATTEMPTS: u8 = 5;

/// What the resolver is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// The servers to ask, in order (127.0.0.1 when the file names none, as glibc does).
    pub nameservers: Vec<SocketAddr>,
    /// Domains tried after a name with fewer than `ndots` dots.
    pub search: Vec<String>,
    /// Names with at least this many dots are tried as given (default 1).
    pub ndots: u8,
    /// How long to wait for one server's answer (default 5 s).
    pub timeout: Duration,
    /// How many rounds over the servers (default 2).
    pub attempts: u8,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), PORT)],
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
        }
    }
}

impl ResolvConf {
    /// Reads [`PATH`]; a missing file gives the defaults.
    pub fn load() -> ResolvConf {
        std::fs::read_to_string(PATH)
            .map(|text| ResolvConf::parse(&text))
            .unwrap_or_default()
    }

    /// Parses resolv.conf(5) text. Unknown keywords and options, and
    /// nameservers beyond [`MAX_NAMESERVERS`], are ignored; of `domain` and
    /// `search` the last one wins.
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf {
            nameservers: Vec::new(),
            ..ResolvConf::default()
        };
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    if let Some(server) = words.next().and_then(nameserver)
                        && conf.nameservers.len() < MAX_NAMESERVERS
                    {
                        conf.nameservers.push(server);
                    }
                }
                Some("domain") => {
                    conf.search = words.next().map(domain).into_iter().flatten().collect();
                }
                Some("search") => {
                    conf.search = words.filter_map(domain).take(MAX_SEARCH).collect();
                }
                Some("options") => words.for_each(|option| conf.option(option)),
                _ => {}
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers = ResolvConf::default().nameservers;
        }
        conf
    }

    fn option(&mut self, option: &str) {
        let Some((name, value)) = option.split_once(':') else {
            return;
        };
        let Ok(value) = value.parse::<u64>() else {
            return;
        };
        match name {
            "ndots" => self.ndots = value.min(u64::from(MAX_NDOTS)) as u8,
            "timeout" => self.timeout = Duration::from_secs(value.clamp(1, MAX_TIMEOUT_SECS)),
            "attempts" => self.attempts = value.clamp(1, u64::from(MAX_ATTEMPTS)) as u8,
            _ => {}
        }
    }
}

/// A `nameserver` address: IPv4, or IPv6 with an optional `%zone`.
fn nameserver(text: &str) -> Option<SocketAddr> {
    let (address, zone) = match text.split_once('%') {
        Some((address, zone)) => (address, Some(zone)),
        None => (text, None),
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => {
            let scope = zone.map_or(Some(0), super::zone_index)?;
            Some(SocketAddr::V6(SocketAddrV6::new(v6, PORT, 0, scope)))
        }
        v4 => Some(SocketAddr::new(v4, PORT)),
    }
}

/// A search domain without its trailing dot; the root (`.`) is no domain.
fn domain(text: &str) -> Option<String> {
    let domain = text.trim_end_matches('.');
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_empty_file_gives_glibc_defaults() {
        let conf = ResolvConf::parse("");
        assert_eq!(conf, ResolvConf::default());
        assert_eq!(conf.nameservers, [server("127.0.0.1:53")]);
        assert_eq!((conf.ndots, conf.attempts), (1, 2));
        assert_eq!(conf.timeout, Duration::from_secs(5));
    }

    #[test]
    fn nameservers_past_the_third_and_unparsable_ones_are_ignored() {
        let conf = ResolvConf::parse(
            "# local\nnameserver 10.0.0.1\nnameserver bogus\nnameserver ::1\n\
             nameserver 10.0.0.2 ; trailing\nnameserver 10.0.0.3\n",
        );
        assert_eq!(
            conf.nameservers,
            [
                server("10.0.0.1:53"),
                server("[::1]:53"),
                server("10.0.0.2:53")
            ]
        );
    }

    #[test]
    fn a_numeric_zone_scopes_a_link_local_nameserver() {
        let conf = ResolvConf::parse("nameserver fe80::1%7\n");
        let SocketAddr::V6(v6) = conf.nameservers[0] else {
            panic!("{conf:?}")
        };
        assert_eq!((v6.scope_id(), v6.port()), (7, 53));
    }

    #[test]
    fn the_last_of_search_and_domain_wins() {
        let conf = ResolvConf::parse("search a.test B.test. .\ndomain c.test\n");
        assert_eq!(conf.search, ["c.test"]);
        let conf = ResolvConf::parse("domain c.test\nsearch a.test b.test\n");
        assert_eq!(conf.search, ["a.test", "b.test"]);
    }

    #[test]
    fn options_are_read_and_capped_as_glibc_caps_them() {
        let conf = ResolvConf::parse("options ndots:3 timeout:2 attempts:4 rotate edns0\n");
        assert_eq!((conf.ndots, conf.attempts), (3, 4));
        assert_eq!(conf.timeout, Duration::from_secs(2));
        let conf = ResolvConf::parse("options ndots:99 timeout:0 attempts:40 ndots:x\n");
        assert_eq!((conf.ndots, conf.attempts), (15, 5));
        assert_eq!(conf.timeout, Duration::from_secs(1));
    }
}
