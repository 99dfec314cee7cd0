//! Interfaces: links, their addresses and counters, as the kernel reports them.
//!
//! Everything comes from two rtnetlink dumps (RTM_GETLINK, RTM_GETADDR), the
//! same source `ip` reads. The if-addrs crate (getifaddrs) is not used here
//! because it cannot deliver what `ifconfig` shows: it drops the peer of a
//! point-to-point address, has no address scope, and resolves each address's
//! interface by name, which fails for labelled aliases such as `eth0:1`.
#![forbid(unsafe_code)]

mod collect;
pub mod ethernet;
pub mod flags;
pub mod link_type;

use std::net::{IpAddr, Ipv4Addr};

use schemars::JsonSchema;
use serde::Serialize;

pub use collect::collect;
pub use flags::IfFlags;
pub use link_type::LinkType;

use crate::netlink::NetlinkError;

/// Longest interface name the kernel accepts (IFNAMSIZ without the NUL).
pub const IFNAME_MAX: usize = 15;

/// Which interfaces a listing includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Interfaces that are administratively up (ifconfig's default).
    Up,
    /// Every interface (`-a`).
    All,
    /// Exactly one interface, whatever its state.
    Named(IfaceName),
}

/// A syntactically valid interface name (checked at the command-line edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfaceName(String);

impl IfaceName {
    /// The name as the kernel spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for IfaceName {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.is_empty() {
            return Err("an interface name can't be empty".into());
        }
        if name.len() > IFNAME_MAX {
            return Err(format!(
                "'{name}' is longer than the {IFNAME_MAX} characters an interface name can have"
            ));
        }
        if name == "." || name == ".." || name.contains(['/', ' ', '\t', '\n', '\0']) {
            return Err(format!("'{name}' is not a valid interface name"));
        }
        Ok(IfaceName(name.to_string()))
    }
}

impl std::fmt::Display for IfaceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One network interface at the moment it was read.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Interface {
    /// Kernel name, e.g. `eth0`.
    pub name: String,
    /// Kernel interface index.
    pub index: u32,
    /// Names of the set IFF_* flags, in the order ifconfig prints them.
    #[schemars(schema_with = "flag_names_schema")]
    pub flags: Vec<&'static str>,
    /// The IFF_* bits as SIOCGIFFLAGS reports them (what ifconfig prints as `flags=`).
    pub flags_value: u32,
    /// Maximum transmission unit in bytes.
    pub mtu: Option<u32>,
    /// Link-layer address, formatted as `ip` formats it.
    pub mac: Option<String>,
    /// Transmit queue length in packets.
    pub txqueuelen: Option<u32>,
    /// RFC 2863 operational state, spelled as `ip` spells it (`UP`, `DOWN`, `UNKNOWN` …;
    /// `UNKNOWN(N)` for a state number RFC 2863 does not define).
    #[schemars(schema_with = "operstate_schema")]
    pub operstate: Option<String>,
    /// Link-layer type, spelled as `ip` spells it (`ether`, `loopback`, `none` …).
    pub link_type: LinkType,
    /// Every IPv4 and IPv6 address on the interface, in kernel order.
    pub addresses: Vec<Address>,
    /// Packet counters; `None` if the kernel sent none.
    pub stats: Option<Stats>,
}

/// The RFC 2863 states, as `ip` spells them.
pub const OPERSTATES: [&str; 7] = [
    "UP",
    "DOWN",
    "LOWERLAYERDOWN",
    "DORMANT",
    "TESTING",
    "NOTPRESENT",
    "UNKNOWN",
];

fn flag_names_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = flags::names().collect();
    schemars::json_schema!({
        "type": "array",
        "items": {"type": "string", "enum": names},
    })
}

fn operstate_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            {"type": "string", "enum": OPERSTATES},
            {"type": "string", "pattern": "^UNKNOWN\\([0-9]+\\)$"},
            {"type": "null"},
        ],
    })
}

impl Interface {
    /// The decoded IFF_* flag set.
    pub fn if_flags(&self) -> IfFlags {
        IfFlags::from_bits(self.flags_value)
    }
}

/// Address family of an interface address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

/// One address configured on an interface.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Address {
    /// `inet` or `inet6`.
    pub family: Family,
    /// The local address.
    pub address: IpAddr,
    /// Prefix length of the on-link network.
    pub prefix_len: u8,
    /// Dotted netmask (IPv4 only).
    pub netmask: Option<Ipv4Addr>,
    /// Broadcast address (IPv4 only, when configured).
    pub broadcast: Option<Ipv4Addr>,
    /// Far end of a point-to-point link, when configured.
    pub peer: Option<IpAddr>,
    /// Address scope as `ip` names it (`global`, `link`, `host`, `site`, …).
    pub scope: String,
    /// IPv4 alias label such as `eth0:1`, when it differs from the interface name.
    pub label: Option<String>,
}

/// Interface counters, with the same meaning as ifconfig's (and /proc/net/dev's) columns.
///
/// The kernel keeps finer counters; these sums are what ifconfig shows:
/// `rx_dropped` = dropped + missed, `rx_frame` = length + over + crc + frame
/// errors, `tx_carrier` = carrier + aborted + window + heartbeat errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Stats {
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Receive errors of any kind.
    pub rx_errors: u64,
    /// Received packets dropped (no buffer, missed by the NIC).
    pub rx_dropped: u64,
    /// Receive FIFO overruns.
    pub rx_overruns: u64,
    /// Framing errors (length, overflow, CRC, frame alignment).
    pub rx_frame: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Transmit errors of any kind.
    pub tx_errors: u64,
    /// Packets dropped on transmit.
    pub tx_dropped: u64,
    /// Transmit FIFO overruns.
    pub tx_overruns: u64,
    /// Carrier errors (carrier, aborted, window, heartbeat).
    pub tx_carrier: u64,
    /// Collisions on the medium.
    pub collisions: u64,
}

/// Why interfaces could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum IfaceError {
    /// The name given matches no interface.
    #[error("interface '{0}' not found ('netdx ifconfig -a' lists every interface)")]
    NotFound(String),
    /// The kernel could not be asked.
    #[error("listing interfaces: {0}")]
    Netlink(#[from] NetlinkError),
}

/// Interface names by index (if_nameindex), for tables that carry only indices.
pub fn names_by_index() -> std::collections::HashMap<u32, String> {
    nix::net::if_::if_nameindex()
        .map(|list| {
            list.iter()
                .map(|i| (i.index(), i.name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Scope names as iproute2's `rtnl_rtscope_n2a` prints them.
pub fn scope_name(scope: u8) -> String {
    match scope {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        other => other.to_string(),
    }
}

/// Orders names as ifconfig does: digit runs compare as numbers (`eth2` < `eth10`).
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let order = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_digit_runs_as_numbers() {
        let mut names = vec!["eth10", "lo", "eth2", "eth0", "veth1a", "eth02"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["eth0", "eth2", "eth02", "eth10", "lo", "veth1a"]);
    }

    #[test]
    fn interface_names_are_checked_at_the_edge() {
        assert!("eth0".parse::<IfaceName>().is_ok());
        assert!("".parse::<IfaceName>().is_err());
        assert!("a-name-that-is-too-long".parse::<IfaceName>().is_err());
        assert!("a/b".parse::<IfaceName>().is_err());
        assert!("..".parse::<IfaceName>().is_err());
    }
}

/// The kernel's IPV6_ADDR_* scope bits of an address, as /proc/net/if_inet6
/// (and so ifconfig's `scopeid 0x20<link>`) reports them.
pub fn ipv6_scope_bits(address: &std::net::Ipv6Addr) -> u32 {
    const LOOPBACK: u32 = 0x10;
    const LINKLOCAL: u32 = 0x20;
    const SITELOCAL: u32 = 0x40;
    const COMPAT_V4: u32 = 0x80;
    let segments = address.segments();
    if address.is_loopback() {
        LOOPBACK
    } else if segments[0] & 0xffc0 == 0xfe80 {
        LINKLOCAL
    } else if segments[0] & 0xffc0 == 0xfec0 {
        SITELOCAL
    } else if segments[..6].iter().all(|&s| s == 0) && !address.is_unspecified() {
        COMPAT_V4
    } else {
        0
    }
}

#[cfg(test)]
mod scope_tests {
    use super::ipv6_scope_bits;

    #[test]
    fn scope_bits_follow_the_address_type() {
        let bits = |text: &str| ipv6_scope_bits(&text.parse().unwrap());
        assert_eq!(bits("::1"), 0x10);
        assert_eq!(bits("fe80::1"), 0x20);
        assert_eq!(bits("fec0::1"), 0x40);
        assert_eq!(bits("::10.0.0.1"), 0x80);
        assert_eq!(bits("fd00::2"), 0);
        assert_eq!(bits("2001:db8::1"), 0);
    }
}
