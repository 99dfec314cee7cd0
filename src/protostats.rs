//! Protocol statistics (`netstat -s`): the kernel's SNMP and extended
//! counters and the socket summary, read from /proc/net.
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::Serialize;

/// One group of counters (`Ip`, `Tcp`, `TcpExt`, `Ip6`, `sockets` …) in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Group {
    /// Group name as the kernel prints it.
    pub name: String,
    /// Counter names and values, in the kernel's order.
    pub counters: Vec<(String, i64)>,
}

/// Why statistics could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// A line did not have the kernel's shape.
    #[error("{path}: line {line} is not in the kernel's format: {text:?}")]
    Malformed {
        /// The file.
        path: &'static str,
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
}

/// Reads every statistics file this kernel has.
pub fn read() -> Result<Vec<Group>, StatsError> {
    let mut groups = Vec::new();
    for (path, format) in [
        ("/proc/net/sockstat", Format::Sockstat),
        ("/proc/net/sockstat6", Format::Sockstat),
        ("/proc/net/snmp", Format::Pairs),
        ("/proc/net/netstat", Format::Pairs),
        ("/proc/net/snmp6", Format::Lines),
    ] {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(StatsError::Read { path, source }),
        };
        groups.extend(parse(&text, format, path)?);
    }
    Ok(groups)
}

/// The three layouts /proc/net uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// snmp, netstat: a header line of names and a line of values per group.
    Pairs,
    /// snmp6: one `Name value` per line, grouped by name prefix.
    Lines,
    /// sockstat: `Group: name value name value …` per line.
    Sockstat,
}

/// Parses one file.
pub fn parse(text: &str, format: Format, path: &'static str) -> Result<Vec<Group>, StatsError> {
    let malformed = |line: usize, text: &str| StatsError::Malformed {
        path,
        line,
        text: text.to_string(),
    };
    let number = |value: &str, line: usize, text: &str| {
        value.parse::<i64>().map_err(|_| malformed(line, text))
    };
    let mut groups: Vec<Group> = Vec::new();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    match format {
        Format::Pairs => {
            for (i, pair) in lines.chunks(2).enumerate() {
                let line = i * 2 + 1;
                let [names, values] = pair else {
                    return Err(malformed(line, pair[0]));
                };
                let (group, names) = names
                    .split_once(':')
                    .ok_or_else(|| malformed(line, names))?;
                let (group2, values) = values
                    .split_once(':')
                    .ok_or_else(|| malformed(line + 1, values))?;
                let names: Vec<&str> = names.split_whitespace().collect();
                let values: Vec<&str> = values.split_whitespace().collect();
                if group != group2 || names.len() != values.len() {
                    return Err(malformed(line + 1, pair[1]));
                }
                let counters = names
                    .iter()
                    .zip(&values)
                    .map(|(name, value)| Ok((name.to_string(), number(value, line + 1, pair[1])?)))
                    .collect::<Result<Vec<_>, StatsError>>()?;
                groups.push(Group {
                    name: group.to_string(),
                    counters,
                });
            }
        }
        Format::Lines => {
            for (i, text) in lines.iter().enumerate() {
                let mut words = text.split_whitespace();
                let (Some(name), Some(value), None) = (words.next(), words.next(), words.next())
                else {
                    return Err(malformed(i + 1, text));
                };
                let value = number(value, i + 1, text)?;
                // Ip6InReceives → group Ip6; Icmp6InMsgs → Icmp6; Udp6… → Udp6.
                let split = name
                    .find(|c: char| c.is_ascii_digit())
                    .map_or(name.len(), |d| d + 1);
                let (group, counter) = name.split_at(split.min(name.len()));
                match groups.last_mut() {
                    Some(last) if last.name == group => {
                        last.counters.push((counter.to_string(), value))
                    }
                    _ => groups.push(Group {
                        name: group.to_string(),
                        counters: vec![(counter.to_string(), value)],
                    }),
                }
            }
        }
        Format::Sockstat => {
            for (i, text) in lines.iter().enumerate() {
                let (group, rest) = text.split_once(':').ok_or_else(|| malformed(i + 1, text))?;
                let words: Vec<&str> = rest.split_whitespace().collect();
                if words.len() % 2 != 0 {
                    return Err(malformed(i + 1, text));
                }
                let counters = words
                    .chunks(2)
                    .map(|pair| Ok((pair[0].to_string(), number(pair[1], i + 1, text)?)))
                    .collect::<Result<Vec<_>, StatsError>>()?;
                groups.push(Group {
                    name: group.to_string(),
                    counters,
                });
            }
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snmp_pairs_become_groups() {
        let text = "Ip: Forwarding DefaultTTL InReceives\nIp: 1 64 1234\nTcp: RtoAlgorithm MaxConn\nTcp: 1 -1\n";
        let groups = parse(text, Format::Pairs, "/proc/net/snmp").unwrap();
        assert_eq!(groups[0].name, "Ip");
        assert_eq!(groups[0].counters[2], ("InReceives".into(), 1234));
        assert_eq!(groups[1].counters[1], ("MaxConn".into(), -1));
    }

    #[test]
    fn snmp6_lines_group_by_prefix() {
        let text = "Ip6InReceives                   \t10\nIp6InHdrErrors 0\nIcmp6InMsgs 3\nUdp6InDatagrams 7\n";
        let groups = parse(text, Format::Lines, "/proc/net/snmp6").unwrap();
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Ip6", "Icmp6", "Udp6"]);
        assert_eq!(groups[0].counters[0], ("InReceives".into(), 10));
    }

    #[test]
    fn sockstat_lines_become_groups() {
        let text = "sockets: used 186\nTCP: inuse 5 orphan 0 tw 2 alloc 6 mem 1\n";
        let groups = parse(text, Format::Sockstat, "/proc/net/sockstat").unwrap();
        assert_eq!(groups[1].name, "TCP");
        assert_eq!(groups[1].counters[2], ("tw".into(), 2));
    }

    #[test]
    fn odd_lines_are_errors_naming_file_and_line() {
        let err = parse("Ip: A B\nIp: 1\n", Format::Pairs, "/proc/net/snmp").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/net/snmp: line 2 is not in the kernel's format: \"Ip: 1\""
        );
        assert!(parse("Ip: A\n", Format::Pairs, "x").is_err());
        assert!(parse("Ip: A\nTcp: 1\n", Format::Pairs, "x").is_err());
        assert!(parse("Ip6InReceives ten\n", Format::Lines, "x").is_err());
        assert!(parse("TCP: inuse\n", Format::Sockstat, "x").is_err());
    }

    #[test]
    fn this_kernel_statistics_parse() {
        let groups = read().unwrap();
        assert!(groups.iter().any(|g| g.name == "Tcp"));
        assert!(groups.iter().any(|g| g.name == "sockets"));
    }
}
