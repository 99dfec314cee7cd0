//! PLACEHOLDER until branch `scanparts` lands its `src/scan/ports.rs` (the
//! full nmap `-p` syntax, service names, `--top N`): the integrator keeps
//! theirs. This one reads numbers, ranges (`1-1024`, `-`, `1000-`), lists
//! and `T:`/`U:` qualifiers, refusing port 0, 65536 and reversed ranges.
#![forbid(unsafe_code)]

use super::Proto;

/// netdx's default short list (common services), used without `-p`.
pub const DEFAULT_TCP: &[u16] = &[
    21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 587, 993, 995, 1723, 3306, 3389,
    5432, 5900, 6379, 8080, 8443,
];
/// netdx's default short UDP list.
pub const DEFAULT_UDP: &[u16] = &[53, 67, 69, 123, 137, 161, 500, 514, 1900, 5353];

/// Ports per protocol, ascending and unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortSpec {
    /// TCP ports.
    pub tcp: Vec<u16>,
    /// UDP ports.
    pub udp: Vec<u16>,
}

impl PortSpec {
    /// The default lists.
    pub fn default_lists() -> PortSpec {
        PortSpec {
            tcp: DEFAULT_TCP.to_vec(),
            udp: DEFAULT_UDP.to_vec(),
        }
    }

    /// Parses nmap's `-p` syntax (numbers, ranges, `T:`/`U:`).
    pub fn parse(text: &str) -> Result<PortSpec, String> {
        let mut spec = PortSpec::default();
        let mut scope: Option<Proto> = None;
        for entry in text.split(',') {
            let mut entry = entry.trim();
            if let Some(rest) = entry.strip_prefix("T:") {
                scope = Some(Proto::Tcp);
                entry = rest;
            } else if let Some(rest) = entry.strip_prefix("U:") {
                scope = Some(Proto::Udp);
                entry = rest;
            }
            if entry.is_empty() {
                continue;
            }
            let (lo, hi) = match entry.split_once('-') {
                Some((lo, hi)) => (
                    if lo.is_empty() { 1 } else { number(lo)? },
                    if hi.is_empty() { 65535 } else { number(hi)? },
                ),
                None => {
                    let port = number(entry)?;
                    (port, port)
                }
            };
            if lo > hi {
                return Err(format!("port range {lo}-{hi} is reversed: write {hi}-{lo}"));
            }
            for port in lo..=hi {
                if scope != Some(Proto::Udp) {
                    spec.tcp.push(port);
                }
                if scope != Some(Proto::Tcp) {
                    spec.udp.push(port);
                }
            }
        }
        for list in [&mut spec.tcp, &mut spec.udp] {
            list.sort_unstable();
            list.dedup();
        }
        if spec.tcp.is_empty() && spec.udp.is_empty() {
            return Err("no ports given: -p 22, -p 1-1024, -p- (all), -p T:80,U:53".into());
        }
        Ok(spec)
    }

    /// The ports of `proto`.
    pub fn ports(&self, proto: Proto) -> &[u16] {
        match proto {
            Proto::Tcp => &self.tcp,
            Proto::Udp => &self.udp,
        }
    }
}

fn number(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        Ok(n) => Err(format!("port {n} is out of range: ports are 1 to 65535")),
        Err(_) => Err(format!(
            "'{text}' is not a port number (this build reads numbers and ranges: 22, 1-1024, -p-)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_ranges_and_qualifiers() {
        let spec = PortSpec::parse("22,80-82,U:53").unwrap();
        assert_eq!(spec.tcp, [22, 80, 81, 82]);
        assert_eq!(spec.udp, [22, 53, 80, 81, 82]);
        assert_eq!(PortSpec::parse("-").unwrap().tcp.len(), 65535);
        assert!(PortSpec::parse("0").is_err());
        assert!(PortSpec::parse("65536").is_err());
        assert!(PortSpec::parse("90-80").is_err());
    }
}
