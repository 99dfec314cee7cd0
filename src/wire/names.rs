//! Names of ICMP and ICMPv6 types and codes, as RFC 792 / 4443 and
//! tcpdump spell them.
#![forbid(unsafe_code)]

/// The name of an ICMPv4 type.
pub fn icmp_type(kind: u8) -> &'static str {
    match kind {
        0 => "echo-reply",
        3 => "destination-unreachable",
        4 => "source-quench",
        5 => "redirect",
        8 => "echo-request",
        9 => "router-advertisement",
        10 => "router-solicitation",
        11 => "time-exceeded",
        12 => "parameter-problem",
        13 => "timestamp-request",
        14 => "timestamp-reply",
        15 => "information-request",
        16 => "information-reply",
        17 => "address-mask-request",
        18 => "address-mask-reply",
        _ => "unknown",
    }
}

/// The name of an ICMPv4 code, where its type defines codes.
pub fn icmp_code(kind: u8, code: u8) -> Option<&'static str> {
    Some(match (kind, code) {
        (3, 0) => "net-unreachable",
        (3, 1) => "host-unreachable",
        (3, 2) => "protocol-unreachable",
        (3, 3) => "port-unreachable",
        (3, 4) => "fragmentation-needed",
        (3, 5) => "source-route-failed",
        (3, 6) => "net-unknown",
        (3, 7) => "host-unknown",
        (3, 9) => "net-prohibited",
        (3, 10) => "host-prohibited",
        (3, 11) => "net-unreachable-for-tos",
        (3, 12) => "host-unreachable-for-tos",
        (3, 13) => "communication-prohibited",
        (5, 0) => "redirect-net",
        (5, 1) => "redirect-host",
        (11, 0) => "ttl-exceeded-in-transit",
        (11, 1) => "fragment-reassembly-time-exceeded",
        (12, 0) => "pointer-indicates-error",
        _ => return None,
    })
}

/// The name of an ICMPv6 type.
pub fn icmpv6_type(kind: u8) -> &'static str {
    match kind {
        1 => "destination-unreachable",
        2 => "packet-too-big",
        3 => "time-exceeded",
        4 => "parameter-problem",
        128 => "echo-request",
        129 => "echo-reply",
        133 => "router-solicitation",
        134 => "router-advertisement",
        135 => "neighbor-solicitation",
        136 => "neighbor-advertisement",
        137 => "redirect",
        _ => "unknown",
    }
}

/// The name of an ICMPv6 code, where its type defines codes.
pub fn icmpv6_code(kind: u8, code: u8) -> Option<&'static str> {
    Some(match (kind, code) {
        (1, 0) => "no-route",
        (1, 1) => "administratively-prohibited",
        (1, 2) => "beyond-scope",
        (1, 3) => "address-unreachable",
        (1, 4) => "port-unreachable",
        (1, 5) => "source-policy-failed",
        (1, 6) => "reject-route",
        (3, 0) => "hop-limit-exceeded",
        (3, 1) => "fragment-reassembly-time-exceeded",
        (4, 0) => "erroneous-header-field",
        (4, 1) => "unrecognized-next-header",
        (4, 2) => "unrecognized-option",
        _ => return None,
    })
}

/// The name of an IP protocol number.
pub fn protocol(number: u8) -> &'static str {
    match number {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        58 => "ipv6-icmp",
        _ => "other",
    }
}
