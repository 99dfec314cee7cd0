//! Link-layer (ARPHRD_*) types and how their hardware addresses are written.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

/// Ethernet.
pub const ARPHRD_ETHER: u16 = 1;
/// PPP.
pub const ARPHRD_PPP: u16 = 512;
/// IPIP tunnel.
pub const ARPHRD_TUNNEL: u16 = 768;
/// IP6IP6 tunnel.
pub const ARPHRD_TUNNEL6: u16 = 769;
/// Loopback.
pub const ARPHRD_LOOPBACK: u16 = 772;
/// SIT (IPv6-in-IPv4) tunnel.
pub const ARPHRD_SIT: u16 = 776;
/// GRE over IPv4.
pub const ARPHRD_IPGRE: u16 = 778;
/// GRE over IPv6.
pub const ARPHRD_IP6GRE: u16 = 823;
/// No hardware header (tun, WireGuard).
pub const ARPHRD_NONE: u16 = 0xfffe;
/// Void (dummy without address).
pub const ARPHRD_VOID: u16 = 0xffff;

/// The types `ip` names, and their names; any other is `[N]`.
const KNOWN: [(u16, &str); 13] = [
    (ARPHRD_ETHER, "ether"),
    (ARPHRD_PPP, "ppp"),
    (ARPHRD_TUNNEL, "ipip"),
    (ARPHRD_TUNNEL6, "tunnel6"),
    (ARPHRD_LOOPBACK, "loopback"),
    (ARPHRD_SIT, "sit"),
    (ARPHRD_IPGRE, "gre"),
    (ARPHRD_IP6GRE, "ip6gre"),
    (ARPHRD_NONE, "none"),
    (ARPHRD_VOID, "void"),
    (32, "infiniband"),
    (801, "ieee802.11"),
    (803, "ieee802.11/radiotap"),
];

/// An ARPHRD_* link-layer type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkType(pub u16);

impl LinkType {
    /// The name `ip -d link` uses for this type (`ether`, `loopback`, …).
    pub fn name(self) -> String {
        match KNOWN.iter().find(|(number, _)| *number == self.0) {
            Some((_, name)) => (*name).to_string(),
            None => format!("[{}]", self.0),
        }
    }

    /// Writes a hardware address the way `ip` does: tunnels carry IP
    /// addresses, everything else is colon-separated hex.
    pub fn format_address(self, bytes: &[u8]) -> String {
        match (self.0, bytes.len()) {
            (ARPHRD_TUNNEL | ARPHRD_SIT | ARPHRD_IPGRE, 4) => {
                Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()
            }
            (ARPHRD_TUNNEL6 | ARPHRD_IP6GRE, 16) => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(bytes);
                Ipv6Addr::from(octets).to_string()
            }
            _ => bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        }
    }
}

impl Serialize for LinkType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

/// Serialised as its name: one `ip` knows, or `[N]`.
impl schemars::JsonSchema for LinkType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LinkType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = KNOWN.iter().map(|(_, name)| *name).collect();
        schemars::json_schema!({
            "description": "Link-layer type as `ip -d` spells it; `[N]` for an ARPHRD number it has no name for.",
            "anyOf": [
                {"type": "string", "enum": names},
                {"type": "string", "pattern": "^\\[[0-9]+\\]$"},
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_addresses_are_colon_hex() {
        let mac = [0x02, 0xfc, 0, 0, 0, 1];
        assert_eq!(
            LinkType(ARPHRD_ETHER).format_address(&mac),
            "02:fc:00:00:00:01"
        );
    }

    #[test]
    fn ipip_tunnel_addresses_are_dotted_quads() {
        assert_eq!(
            LinkType(ARPHRD_TUNNEL).format_address(&[10, 0, 0, 1]),
            "10.0.0.1"
        );
    }

    #[test]
    fn unknown_types_are_named_by_number() {
        assert_eq!(LinkType(4242).name(), "[4242]");
    }
}
