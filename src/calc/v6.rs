//! The facts of an IPv6 network: sipcalc's forms and range, today's address
//! spaces (RFC 6890's registry, ULA, documentation) and embedded IPv4.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::Ipv6Net;
use schemars::JsonSchema;
use serde::Serialize;

/// An IPv6 network, as sipcalc shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Ipv6Facts {
    /// The address as given, host bits and all.
    pub address: Ipv6Addr,
    /// The prefix length.
    pub prefix: u8,
    /// The address with every group in four digits and no `::`.
    pub expanded: String,
    /// The address in RFC 5952's form (an IPv4-mapped address ends in dotted IPv4).
    pub compressed: String,
    /// The prefix as a mask.
    pub netmask: Ipv6Addr,
    /// The network, address AND netmask, with its prefix.
    pub network: Ipv6Net,
    /// The first address of the network.
    pub first: Ipv6Addr,
    /// The last address of the network.
    pub last: Ipv6Addr,
    /// The number of addresses, in decimal (2^128 for a /0 is beyond JSON's numbers).
    pub addresses: String,
    /// The special-purpose block the address is in (IANA's registry), or global or reserved.
    pub space: Ipv6Space,
    /// The IPv4 address inside an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 address; else null.
    pub embedded_ipv4: Option<Ipv4Addr>,
}

impl Ipv6Facts {
    /// The facts of `net`, whose address may have host bits set.
    pub fn of(net: Ipv6Net) -> Ipv6Facts {
        let address = net.addr();
        let host_bits = 128 - u32::from(net.prefix_len());
        let addresses = match 1u128.checked_shl(host_bits) {
            Some(count) if host_bits < 128 => count.to_string(),
            _ => "340282366920938463463374607431768211456".to_string(),
        };
        let space = Ipv6Space::of(address);
        Ipv6Facts {
            address,
            prefix: net.prefix_len(),
            expanded: expanded(address),
            compressed: address.to_string(),
            netmask: net.netmask(),
            network: net.trunc(),
            first: net.network(),
            last: net.broadcast(),
            addresses,
            space,
            embedded_ipv4: embedded_ipv4(address, space),
        }
    }
}

/// `address` with all eight groups in four hex digits.
pub fn expanded(address: Ipv6Addr) -> String {
    let mut text = String::with_capacity(39);
    for (i, group) in address.segments().iter().enumerate() {
        if i > 0 {
            text.push(':');
        }
        let _ = write!(text, "{group:04x}");
    }
    text
}

/// The special-purpose IPv6 blocks (IANA's registry), and the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Ipv6Space {
    /// ::/128 (RFC 4291).
    Unspecified,
    /// ::1/128 (RFC 4291).
    Loopback,
    /// ::ffff:0:0/96: an IPv4 address as IPv6 (RFC 4291).
    Ipv4Mapped,
    /// 64:ff9b::/96: NAT64's well-known prefix (RFC 6052).
    Nat64,
    /// 100::/64: discard-only (RFC 6666).
    Discard,
    /// 2001::/32: Teredo (RFC 4380).
    Teredo,
    /// 2001:2::/48: benchmarking (RFC 5180).
    Benchmarking,
    /// 2001:10::/28 and 2001:20::/28: ORCHID (RFC 4843, RFC 7343).
    Orchid,
    /// 2001:db8::/32 (RFC 3849) and 3fff::/20 (RFC 9637).
    Documentation,
    /// 2002::/16: 6to4, an IPv4 address in bits 16 to 47 (RFC 3056).
    #[serde(rename = "6to4")]
    SixToFour,
    /// fc00::/7: unique local addresses (RFC 4193).
    Ula,
    /// fe80::/10 (RFC 4291).
    LinkLocal,
    /// fec0::/10: the deprecated site-local addresses (RFC 3879).
    SiteLocal,
    /// ff00::/8 (RFC 4291).
    Multicast,
    /// The rest of 2000::/3: global unicast (RFC 4291).
    Global,
    /// Everything else: reserved or unassigned by IETF.
    Reserved,
}

/// The blocks, most specific first where they nest; each address is its
/// top bits (`0x2001_0db8 << 96` is 2001:db8::).
const SPACES: &[(Ipv6Net, Ipv6Space)] = &[
    (block(0, 128), Ipv6Space::Unspecified),
    (block(1, 128), Ipv6Space::Loopback),
    (block(0xffff << 32, 96), Ipv6Space::Ipv4Mapped),
    (block(0x0064_ff9b << 96, 96), Ipv6Space::Nat64),
    (block(0x0100 << 112, 64), Ipv6Space::Discard),
    (block(0x2001_0002 << 96, 48), Ipv6Space::Benchmarking),
    (block(0x2001_0010 << 96, 28), Ipv6Space::Orchid),
    (block(0x2001_0020 << 96, 28), Ipv6Space::Orchid),
    (block(0x2001_0000 << 96, 32), Ipv6Space::Teredo),
    (block(0x2001_0db8 << 96, 32), Ipv6Space::Documentation),
    (block(0x3fff << 112, 20), Ipv6Space::Documentation),
    (block(0x2002 << 112, 16), Ipv6Space::SixToFour),
    (block(0x2000 << 112, 3), Ipv6Space::Global),
    (block(0xfc00 << 112, 7), Ipv6Space::Ula),
    (block(0xfe80 << 112, 10), Ipv6Space::LinkLocal),
    (block(0xfec0 << 112, 10), Ipv6Space::SiteLocal),
    (block(0xff00 << 112, 8), Ipv6Space::Multicast),
];

/// The network of `bits`/`prefix`, at compile time.
const fn block(bits: u128, prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::from_bits(bits), prefix)
}

impl Ipv6Space {
    /// The block `address` is in.
    pub fn of(address: Ipv6Addr) -> Ipv6Space {
        SPACES
            .iter()
            .find(|(block, _)| block.contains(&address))
            .map_or(Ipv6Space::Reserved, |&(_, space)| space)
    }
}

/// The IPv4 address an address of `space` carries, if it carries one.
fn embedded_ipv4(address: Ipv6Addr, space: Ipv6Space) -> Option<Ipv4Addr> {
    let bits = address.to_bits();
    match space {
        Ipv6Space::Ipv4Mapped | Ipv6Space::Nat64 => Some(Ipv4Addr::from(bits as u32)),
        Ipv6Space::SixToFour => Some(Ipv4Addr::from((bits >> 80) as u32)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> Ipv6Facts {
        Ipv6Facts::of(text.parse().unwrap())
    }

    #[test]
    fn a_64_spans_2_to_the_64_addresses_from_its_network() {
        let f = facts("2001:db8::1/64");
        assert_eq!(f.expanded, "2001:0db8:0000:0000:0000:0000:0000:0001");
        assert_eq!(f.compressed, "2001:db8::1");
        assert_eq!(f.network.to_string(), "2001:db8::/64");
        assert_eq!(f.last.to_string(), "2001:db8::ffff:ffff:ffff:ffff");
        assert_eq!(f.netmask.to_string(), "ffff:ffff:ffff:ffff::");
        assert_eq!(f.addresses, "18446744073709551616");
        assert_eq!(f.space, Ipv6Space::Documentation);
    }

    #[test]
    fn the_edges_count_one_and_two_to_the_128_addresses() {
        assert_eq!(facts("::1/128").addresses, "1");
        assert_eq!(facts("::1/128").space, Ipv6Space::Loopback);
        assert_eq!(
            facts("::/0").addresses,
            "340282366920938463463374607431768211456"
        );
        assert_eq!(facts("8000::/1").addresses, (1u128 << 127).to_string());
    }

    #[test]
    fn mapped_nat64_and_6to4_addresses_carry_their_ipv4_address() {
        let v4 = |text: &str| facts(text).embedded_ipv4.map(|a| a.to_string());
        assert_eq!(v4("::ffff:10.1.2.3/128").as_deref(), Some("10.1.2.3"));
        assert_eq!(v4("64:ff9b::192.0.2.33/96").as_deref(), Some("192.0.2.33"));
        assert_eq!(v4("2002:c000:0204::1/48").as_deref(), Some("192.0.2.4"));
        assert_eq!(v4("2001:db8::1/64"), None);
    }

    #[test]
    fn special_blocks_are_named_inside_global_unicast() {
        let space = |text: &str| Ipv6Space::of(text.parse().unwrap());
        assert_eq!(space("fd12::1"), Ipv6Space::Ula);
        assert_eq!(space("fe80::1"), Ipv6Space::LinkLocal);
        assert_eq!(space("ff02::1"), Ipv6Space::Multicast);
        assert_eq!(space("2001::1"), Ipv6Space::Teredo);
        assert_eq!(space("2001:2::1"), Ipv6Space::Benchmarking);
        assert_eq!(space("3fff:fff::1"), Ipv6Space::Documentation);
        assert_eq!(space("3fff:1000::1"), Ipv6Space::Global);
        assert_eq!(space("2606:4700::1"), Ipv6Space::Global);
        assert_eq!(space("4000::1"), Ipv6Space::Reserved);
    }
}
