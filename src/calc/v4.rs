//! The facts of an IPv4 network: ipcalc's and sipcalc's, RFC 3021's /31.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::Serialize;

/// An IPv4 network, as ipcalc shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Ipv4Facts {
    /// The address as given, host bits and all.
    pub address: Ipv4Addr,
    /// The prefix length.
    pub prefix: u8,
    /// The netmask.
    pub netmask: Ipv4Addr,
    /// The wildcard (inverse netmask, as in Cisco ACLs).
    pub wildcard: Ipv4Addr,
    /// The network, address AND netmask, with its prefix.
    pub network: Ipv4Net,
    /// The broadcast address; null for a /31 (RFC 3021) and a /32, which have none.
    pub broadcast: Option<Ipv4Addr>,
    /// The first usable host (the network address of a /31, the address of a /32).
    pub host_min: Ipv4Addr,
    /// The last usable host.
    pub host_max: Ipv4Addr,
    /// Usable hosts: addresses less network and broadcast; 2 for a /31 (RFC 3021), 1 for a /32.
    pub hosts: u64,
    /// Every address in the network, network and broadcast included.
    pub addresses: u64,
    /// The address's classful class (RFC 791: its first bits).
    pub class: Class,
    /// The special-purpose block the address is in (IANA's registry), or global.
    pub space: Ipv4Space,
}

impl Ipv4Facts {
    /// The facts of `net`, whose address may have host bits set.
    pub fn of(net: Ipv4Net) -> Ipv4Facts {
        let network = net.network();
        let last = net.broadcast();
        let addresses = 1u64 << (32 - u32::from(net.prefix_len()));
        let (broadcast, host_min, host_max, hosts) = match net.prefix_len() {
            32 => (None, network, network, 1),
            // RFC 3021: both addresses of a point-to-point /31 are hosts.
            31 => (None, network, last, 2),
            _ => (
                Some(last),
                Ipv4Addr::from(network.to_bits() + 1),
                Ipv4Addr::from(last.to_bits() - 1),
                addresses - 2,
            ),
        };
        Ipv4Facts {
            address: net.addr(),
            prefix: net.prefix_len(),
            netmask: net.netmask(),
            wildcard: net.hostmask(),
            network: net.trunc(),
            broadcast,
            host_min,
            host_max,
            hosts,
            addresses,
            class: Class::of(net.addr()),
            space: Ipv4Space::of(net.addr()),
        }
    }
}

/// A classful address class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum Class {
    /// 0.0.0.0 to 127.255.255.255 (first bit 0).
    A,
    /// 128.0.0.0 to 191.255.255.255 (10).
    B,
    /// 192.0.0.0 to 223.255.255.255 (110).
    C,
    /// 224.0.0.0 to 239.255.255.255 (1110): multicast.
    D,
    /// 240.0.0.0 to 255.255.255.255 (1111): reserved.
    E,
}

impl Class {
    /// The class of `address`, from its leading bits.
    pub fn of(address: Ipv4Addr) -> Class {
        match address.octets()[0].leading_ones() {
            0 => Class::A,
            1 => Class::B,
            2 => Class::C,
            3 => Class::D,
            _ => Class::E,
        }
    }
}

/// The special-purpose IPv4 blocks (IANA's registry, RFC 6890 and after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Ipv4Space {
    /// 0.0.0.0/8: "this network" (RFC 791).
    ThisNetwork,
    /// 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 (RFC 1918).
    Private,
    /// 100.64.0.0/10: shared address space for carrier-grade NAT (RFC 6598).
    Cgnat,
    /// 127.0.0.0/8 (RFC 1122).
    Loopback,
    /// 169.254.0.0/16 (RFC 3927).
    LinkLocal,
    /// 192.0.0.0/24: IETF protocol assignments (RFC 6890).
    IetfProtocol,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737).
    Documentation,
    /// 192.88.99.0/24: the deprecated 6to4 relay anycast (RFC 7526).
    #[serde(rename = "6to4-relay")]
    SixToFourRelay,
    /// 198.18.0.0/15: benchmarking (RFC 2544).
    Benchmarking,
    /// 224.0.0.0/4 (RFC 5771).
    Multicast,
    /// 240.0.0.0/4 but the limited broadcast address (RFC 1112).
    Reserved,
    /// 255.255.255.255 (RFC 919).
    LimitedBroadcast,
    /// Everything else: globally routable.
    Global,
}

/// The blocks, most specific first where they nest.
const SPACES: &[(Ipv4Net, Ipv4Space)] = &[
    (block(0, 0, 0, 0, 8), Ipv4Space::ThisNetwork),
    (block(10, 0, 0, 0, 8), Ipv4Space::Private),
    (block(100, 64, 0, 0, 10), Ipv4Space::Cgnat),
    (block(127, 0, 0, 0, 8), Ipv4Space::Loopback),
    (block(169, 254, 0, 0, 16), Ipv4Space::LinkLocal),
    (block(172, 16, 0, 0, 12), Ipv4Space::Private),
    (block(192, 0, 0, 0, 24), Ipv4Space::IetfProtocol),
    (block(192, 0, 2, 0, 24), Ipv4Space::Documentation),
    (block(192, 88, 99, 0, 24), Ipv4Space::SixToFourRelay),
    (block(192, 168, 0, 0, 16), Ipv4Space::Private),
    (block(198, 18, 0, 0, 15), Ipv4Space::Benchmarking),
    (block(198, 51, 100, 0, 24), Ipv4Space::Documentation),
    (block(203, 0, 113, 0, 24), Ipv4Space::Documentation),
    (block(224, 0, 0, 0, 4), Ipv4Space::Multicast),
    (block(255, 255, 255, 255, 32), Ipv4Space::LimitedBroadcast),
    (block(240, 0, 0, 0, 4), Ipv4Space::Reserved),
];

/// `a.b.c.d/prefix`, at compile time.
const fn block(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

impl Ipv4Space {
    /// The block `address` is in.
    pub fn of(address: Ipv4Addr) -> Ipv4Space {
        SPACES
            .iter()
            .find(|(block, _)| block.contains(&address))
            .map_or(Ipv4Space::Global, |&(_, space)| space)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> Ipv4Facts {
        Ipv4Facts::of(text.parse().unwrap())
    }

    #[test]
    fn a_24_has_254_hosts_between_network_and_broadcast() {
        let f = facts("172.16.10.1/24");
        assert_eq!(f.network.to_string(), "172.16.10.0/24");
        assert_eq!(f.netmask, Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(f.wildcard, Ipv4Addr::new(0, 0, 0, 255));
        assert_eq!(f.broadcast, Some(Ipv4Addr::new(172, 16, 10, 255)));
        assert_eq!(f.host_min, Ipv4Addr::new(172, 16, 10, 1));
        assert_eq!(f.host_max, Ipv4Addr::new(172, 16, 10, 254));
        assert_eq!((f.hosts, f.addresses), (254, 256));
        assert_eq!((f.class, f.space), (Class::B, Ipv4Space::Private));
    }

    #[test]
    fn a_31_has_two_hosts_and_no_broadcast_and_a_32_one() {
        let p2p = facts("10.0.0.1/31");
        assert_eq!((p2p.hosts, p2p.broadcast), (2, None));
        assert_eq!(p2p.host_min, Ipv4Addr::new(10, 0, 0, 0));
        assert_eq!(p2p.host_max, Ipv4Addr::new(10, 0, 0, 1));
        let host = facts("10.0.0.1/32");
        assert_eq!((host.hosts, host.broadcast), (1, None));
        assert_eq!(host.host_min, host.host_max);
        let all = facts("1.2.3.4/0");
        assert_eq!((all.hosts, all.addresses), (4_294_967_294, 1 << 32));
    }

    #[test]
    fn special_blocks_are_named_and_the_rest_is_global() {
        let space = |text: &str| Ipv4Space::of(text.parse().unwrap());
        assert_eq!(space("100.64.0.1"), Ipv4Space::Cgnat);
        assert_eq!(space("100.128.0.1"), Ipv4Space::Global);
        assert_eq!(space("198.51.100.7"), Ipv4Space::Documentation);
        assert_eq!(space("172.31.255.255"), Ipv4Space::Private);
        assert_eq!(space("172.32.0.0"), Ipv4Space::Global);
        assert_eq!(space("255.255.255.255"), Ipv4Space::LimitedBroadcast);
        assert_eq!(space("255.255.255.254"), Ipv4Space::Reserved);
        assert_eq!(space("239.1.1.1"), Ipv4Space::Multicast);
        assert_eq!(Class::of(Ipv4Addr::new(239, 1, 1, 1)), Class::D);
        assert_eq!(Class::of(Ipv4Addr::new(191, 1, 1, 1)), Class::B);
    }
}
