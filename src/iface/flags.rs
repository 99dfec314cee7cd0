//! IFF_* interface flags, named and ordered the way ifconfig shows them.

/// Interface is administratively up.
pub const IFF_UP: u32 = 1 << 0;
/// Broadcast address valid.
pub const IFF_BROADCAST: u32 = 1 << 1;
/// Debugging on.
pub const IFF_DEBUG: u32 = 1 << 2;
/// Loopback interface.
pub const IFF_LOOPBACK: u32 = 1 << 3;
/// Point-to-point link.
pub const IFF_POINTOPOINT: u32 = 1 << 4;
/// Avoid use of trailers.
pub const IFF_NOTRAILERS: u32 = 1 << 5;
/// Operationally up (RFC 2863 up or unknown).
pub const IFF_RUNNING: u32 = 1 << 6;
/// No ARP protocol.
pub const IFF_NOARP: u32 = 1 << 7;
/// Receive all packets.
pub const IFF_PROMISC: u32 = 1 << 8;
/// Receive all multicast packets.
pub const IFF_ALLMULTI: u32 = 1 << 9;
/// Master of a load balancer (bonding).
pub const IFF_MASTER: u32 = 1 << 10;
/// Slave of a load balancer.
pub const IFF_SLAVE: u32 = 1 << 11;
/// Supports multicast.
pub const IFF_MULTICAST: u32 = 1 << 12;
/// Can set media type.
pub const IFF_PORTSEL: u32 = 1 << 13;
/// Auto media select active.
pub const IFF_AUTOMEDIA: u32 = 1 << 14;
/// Dialup device with changing addresses.
pub const IFF_DYNAMIC: u32 = 1 << 15;

/// The part of the flag word SIOCGIFFLAGS (and so ifconfig) can see.
pub const CLASSIC_MASK: u32 = 0xffff;

/// Flag names in ifconfig's `flags=N<…>` order.
const LONG_ORDER: [(u32, &str); 14] = [
    (IFF_UP, "UP"),
    (IFF_BROADCAST, "BROADCAST"),
    (IFF_DEBUG, "DEBUG"),
    (IFF_LOOPBACK, "LOOPBACK"),
    (IFF_POINTOPOINT, "POINTOPOINT"),
    (IFF_NOTRAILERS, "NOTRAILERS"),
    (IFF_RUNNING, "RUNNING"),
    (IFF_NOARP, "NOARP"),
    (IFF_PROMISC, "PROMISC"),
    (IFF_ALLMULTI, "ALLMULTI"),
    (IFF_SLAVE, "SLAVE"),
    (IFF_MASTER, "MASTER"),
    (IFF_MULTICAST, "MULTICAST"),
    (IFF_DYNAMIC, "DYNAMIC"),
];

/// Every flag name `--json` may list, in ifconfig's order.
pub fn names() -> impl Iterator<Item = &'static str> {
    LONG_ORDER.iter().map(|(_, name)| *name)
}

/// One-letter codes in the order of `ifconfig -s` / `netstat -i`'s `Flg` column.
const SHORT_ORDER: [(u32, char); 14] = [
    (IFF_ALLMULTI, 'A'),
    (IFF_BROADCAST, 'B'),
    (IFF_DEBUG, 'D'),
    (IFF_LOOPBACK, 'L'),
    (IFF_MULTICAST, 'M'),
    (IFF_DYNAMIC, 'd'),
    (IFF_PROMISC, 'P'),
    (IFF_NOTRAILERS, 'N'),
    (IFF_NOARP, 'O'),
    (IFF_POINTOPOINT, 'P'),
    (IFF_SLAVE, 's'),
    (IFF_MASTER, 'm'),
    (IFF_RUNNING, 'R'),
    (IFF_UP, 'U'),
];

/// The 16-bit IFF_* flag word of one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfFlags(u32);

impl IfFlags {
    /// Keeps the bits ifconfig can see; rtnetlink also carries LOWER_UP, DORMANT, ECHO above them.
    pub fn from_bits(bits: u32) -> Self {
        IfFlags(bits & CLASSIC_MASK)
    }

    /// The flag word as a number.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether `flag` (one of the IFF_* constants) is set.
    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }

    /// Names of the set flags in ifconfig's order.
    pub fn names(self) -> Vec<&'static str> {
        LONG_ORDER
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, name)| *name)
            .collect()
    }

    /// The `Flg` column of `ifconfig -s`.
    pub fn short_code(self) -> String {
        SHORT_ORDER
            .iter()
            .filter(|(bit, _)| self.has(*bit))
            .map(|(_, code)| *code)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_up_flags_read_like_ifconfig() {
        let flags = IfFlags::from_bits(4163);
        assert_eq!(flags.names(), ["UP", "BROADCAST", "RUNNING", "MULTICAST"]);
        assert_eq!(flags.short_code(), "BMRU");
    }

    #[test]
    fn loopback_flags_read_like_ifconfig() {
        let flags = IfFlags::from_bits(73);
        assert_eq!(flags.names(), ["UP", "LOOPBACK", "RUNNING"]);
        assert_eq!(flags.short_code(), "LRU");
    }

    #[test]
    fn rtnetlink_only_bits_are_not_shown() {
        // LOWER_UP (1 << 16) is reported by rtnetlink but never by SIOCGIFFLAGS.
        let flags = IfFlags::from_bits(0x1_1043);
        assert_eq!(flags.bits(), 4163);
    }
}
