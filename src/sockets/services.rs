//! Port numbers to service names, from /etc/services (no DNS, ever).
#![forbid(unsafe_code)]

use std::collections::HashMap;

use super::Proto;

/// Service names by port and protocol.
#[derive(Debug, Default, Clone)]
pub struct Services(HashMap<(u16, Proto), String>);

impl Services {
    /// Reads /etc/services; an unreadable file gives an empty table (numbers are shown).
    pub fn load() -> Self {
        std::fs::read_to_string("/etc/services")
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses the services(5) format; the first name listed for a port wins.
    pub fn parse(text: &str) -> Self {
        let mut map = HashMap::new();
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
            let proto = match proto {
                "tcp" => Proto::Tcp,
                "udp" => Proto::Udp,
                _ => continue,
            };
            map.entry((port, proto)).or_insert_with(|| name.to_string());
        }
        Services(map)
    }

    /// The name of `port` for `proto`, if it has one.
    pub fn name(&self, port: u16, proto: Proto) -> Option<&str> {
        self.0.get(&(port, proto)).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_file_maps_ports_to_names() {
        let table = Services::parse(
            "# comment\nssh\t\t22/tcp\t\t\t\t# SSH\ndomain 53/udp\ndomain 53/tcp\nhttp 80/tcp www\nwww-alias 80/tcp\nbroken line\nodd 99999/tcp\n",
        );
        assert_eq!(table.name(22, Proto::Tcp), Some("ssh"));
        assert_eq!(table.name(53, Proto::Udp), Some("domain"));
        assert_eq!(table.name(80, Proto::Tcp), Some("http"));
        assert_eq!(table.name(22, Proto::Udp), None);
    }
}
