//! Trace probes per method: how each is built, and how an answer is tied
//! back to the probe that caused it.
//!
//! Paris traceroute's rule: for UDP and TCP every probe of a walk has the
//! same addresses, protocol and ports, so routers that balance per flow
//! send them all down one path. Probes are told apart by a field flow
//! hashes do not read and ICMP errors quote back: the UDP checksum (made to
//! equal the probe id by choosing two payload bytes), the TCP sequence
//! number, the ICMP sequence number.
//!
//! IPv4 and IPv6 probes are built and matched alike; only the numbers
//! differ (ICMPv6 types, the pseudo-header in transport checksums, and raw
//! IPv6 sockets delivering from the transport header on).
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use pnet_packet::tcp::{TcpFlags, TcpPacket};
use schemars::JsonSchema;
use serde::Serialize;

use super::answer::{Answer, UnreachableKind};
use crate::wire::icmp::{v4, v6};
use crate::wire::ipv4::{self, PROTO_TCP};
use crate::wire::{IcmpBody, IcmpMessage, QuotedTransport, emit};

/// How probes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// ICMP echo requests; the target answers with an echo reply.
    Icmp,
    /// UDP datagrams to an unused port; the target answers port unreachable.
    Udp,
    /// TCP SYNs; the target answers SYN-ACK (open) or RST (closed).
    Tcp,
}

impl Method {
    /// Where probes go when no port is given: 80 for TCP SYNs, traceroute's
    /// 33434 for UDP (ICMP probes have no port).
    pub fn default_port(self) -> u16 {
        if self == Method::Tcp { 80 } else { 33_434 }
    }
}

/// Bytes of UDP payload (traceroute's default 60-byte packets: 20 + 8 + 32).
pub const UDP_PAYLOAD: usize = 32;
/// Bytes of ICMP echo data (20 + 8 + 32 = 60, as traceroute -I sends).
pub const ICMP_PAYLOAD: usize = 32;

/// The fixed identity of a walk's flow.
#[derive(Debug, Clone, Copy)]
pub struct Flow {
    /// The method.
    pub method: Method,
    /// Our address (of the target's family).
    pub source: IpAddr,
    /// The target.
    pub target: IpAddr,
    /// Our port (UDP/TCP) or ICMP identifier.
    pub source_port: u16,
    /// The target's port (UDP/TCP).
    pub port: u16,
}

/// ICMP numbering of one family.
struct Numbers {
    echo_request: u8,
    echo_reply: u8,
    time_exceeded: u8,
    unreachable: u8,
    too_big: Option<u8>,
}

const NUMBERS_V4: Numbers = Numbers {
    echo_request: v4::ECHO_REQUEST,
    echo_reply: v4::ECHO_REPLY,
    time_exceeded: v4::TIME_EXCEEDED,
    unreachable: v4::DEST_UNREACHABLE,
    too_big: None,
};

const NUMBERS_V6: Numbers = Numbers {
    echo_request: v6::ECHO_REQUEST,
    echo_reply: v6::ECHO_REPLY,
    time_exceeded: v6::TIME_EXCEEDED,
    unreachable: v6::DEST_UNREACHABLE,
    too_big: Some(v6::PACKET_TOO_BIG),
};

impl Flow {
    fn v6(&self) -> bool {
        self.target.is_ipv6()
    }

    fn numbers(&self) -> &'static Numbers {
        if self.v6() { &NUMBERS_V6 } else { &NUMBERS_V4 }
    }

    /// The addresses as IPv4 (unspecified where not: the flow is one family).
    fn v4_addresses(&self) -> (Ipv4Addr, Ipv4Addr) {
        let v4 = |a: IpAddr| match a {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        (v4(self.source), v4(self.target))
    }

    fn v6_addresses(&self) -> (Ipv6Addr, Ipv6Addr) {
        let v6 = |a: IpAddr| match a {
            IpAddr::V6(a) => a,
            IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
        };
        (v6(self.source), v6(self.target))
    }

    /// The transport bytes of probe `id` (1..=0xfffe).
    pub fn build(&self, id: u16) -> Vec<u8> {
        let ident_seq = emit::ident_seq(self.source_port, id);
        let (ours, theirs) = (self.source_port, self.port);
        match (self.method, self.v6()) {
            (Method::Icmp, false) => {
                emit::icmp_v4(v4::ECHO_REQUEST, 0, ident_seq, &[0u8; ICMP_PAYLOAD], false)
            }
            (Method::Icmp, true) => {
                emit::icmp_v6(v6::ECHO_REQUEST, 0, ident_seq, &[0u8; ICMP_PAYLOAD])
            }
            (Method::Udp, false) => {
                let (source, target) = self.v4_addresses();
                emit::udp_probe((source, ours), (target, theirs), id, UDP_PAYLOAD)
            }
            (Method::Udp, true) => {
                let (source, target) = self.v6_addresses();
                emit::udp_probe_v6((source, ours), (target, theirs), id, UDP_PAYLOAD)
            }
            (Method::Tcp, false) => {
                let (source, target) = self.v4_addresses();
                emit::tcp_syn((source, ours), (target, theirs), self.tcp_seq(id))
            }
            (Method::Tcp, true) => {
                let (source, target) = self.v6_addresses();
                emit::tcp_syn_v6((source, ours), (target, theirs), self.tcp_seq(id))
            }
        }
    }

    fn tcp_seq(&self, id: u16) -> u32 {
        (u32::from(self.source_port) << 16) | u32::from(id)
    }

    /// The probe id an ICMP or ICMPv6 message answers, and what it says.
    pub fn match_icmp(&self, from: IpAddr, icmp: &IcmpMessage) -> Option<(u16, Answer)> {
        if icmp.checksum_ok == Some(false) || icmp.v6 != self.v6() {
            return None;
        }
        let numbers = self.numbers();
        if let IcmpBody::Echo { ident, seq, .. } = &icmp.body {
            let ours = self.method == Method::Icmp
                && icmp.kind == numbers.echo_reply
                && from == self.target
                && *ident == self.source_port;
            return ours.then_some((*seq, Answer::Reached));
        }
        let quoted = icmp.quoted()?;
        if quoted.destination != self.target {
            return None;
        }
        let id = match (self.method, &quoted.transport) {
            (
                Method::Icmp,
                QuotedTransport::Icmp {
                    kind, ident, seq, ..
                },
            ) if *kind == numbers.echo_request && *ident == self.source_port => *seq,
            (
                Method::Udp,
                QuotedTransport::Udp {
                    source_port,
                    destination_port,
                    checksum,
                    ..
                },
            ) if *source_port == self.source_port && *destination_port == self.port => *checksum,
            (
                Method::Tcp,
                QuotedTransport::Tcp {
                    source_port,
                    destination_port,
                    seq,
                },
            ) if *source_port == self.source_port
                && *destination_port == self.port
                && seq >> 16 == u32::from(self.source_port) =>
            {
                (*seq & 0xffff) as u16
            }
            _ => return None,
        };
        let info = match &icmp.body {
            IcmpBody::Error { info, .. } => *info,
            _ => 0,
        };
        let from_target = from == self.target;
        let answer = if icmp.kind == numbers.time_exceeded {
            Answer::TimeExceeded
        } else if icmp.kind == numbers.unreachable && self.v6() {
            if from_target && icmp.code == v6::PORT_UNREACHABLE {
                Answer::Reached
            } else {
                Answer::Unreachable(UnreachableKind::from_v6(icmp.code))
            }
        } else if icmp.kind == numbers.unreachable {
            let reached = from_target
                && matches!(
                    (self.method, icmp.code),
                    (Method::Udp, v4::PORT_UNREACHABLE)
                        | (
                            Method::Icmp | Method::Tcp,
                            v4::PROTOCOL_UNREACHABLE | v4::PORT_UNREACHABLE
                        )
                );
            if reached {
                Answer::Reached
            } else {
                Answer::Unreachable(UnreachableKind::from_v4(icmp.code, info))
            }
        } else if Some(icmp.kind) == numbers.too_big {
            Answer::Unreachable(UnreachableKind::FragmentationNeeded { mtu: Some(info) })
        } else {
            return None;
        };
        Some((id, answer))
    }

    /// The probe id a TCP segment from the target answers (SYN-ACK or RST
    /// acknowledging our SYN). `datagram` is what the raw TCP socket read:
    /// the IPv4 header onwards, or (IPv6) the TCP header onwards.
    pub fn match_tcp(&self, from: IpAddr, datagram: &[u8]) -> Option<u16> {
        if self.method != Method::Tcp {
            return None;
        }
        let payload = if self.v6() {
            if from != self.target {
                return None;
            }
            datagram
        } else {
            let (header, payload) = ipv4::parse(datagram).ok()?;
            if header.protocol != PROTO_TCP || IpAddr::V4(header.source) != self.target {
                return None;
            }
            payload
        };
        let tcp = TcpPacket::new(payload)?;
        // The TCP checksum is not checked: over veth and other devices with
        // checksum offload the kernel hands raw sockets segments whose
        // checksum was never finished (CHECKSUM_PARTIAL). The match rests
        // on addresses, ports, flags and the acknowledged sequence instead.
        if payload.len() < emit::TCP_HEADER_LEN
            || tcp.get_source() != self.port
            || tcp.get_destination() != self.source_port
        {
            return None;
        }
        let flags = tcp.get_flags();
        let answers = flags & TcpFlags::ACK != 0 && (flags & (TcpFlags::SYN | TcpFlags::RST)) != 0;
        let seq = tcp.get_acknowledgement().wrapping_sub(1);
        (answers && seq >> 16 == u32::from(self.source_port)).then_some((seq & 0xffff) as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{self, emit::Ipv4Fields};
    use pnet_packet::tcp;

    const US: Ipv4Addr = Ipv4Addr::new(10, 9, 0, 1);
    const TARGET: Ipv4Addr = Ipv4Addr::new(10, 9, 3, 2);
    const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 9, 1, 1);

    fn flow(method: Method) -> Flow {
        Flow {
            method,
            source: IpAddr::V4(US),
            target: IpAddr::V4(TARGET),
            source_port: 40000,
            port: 33434,
        }
    }

    /// The ICMP error `router` would send about `probe` (an IPv4 datagram
    /// carrying `transport`), as a raw socket would read it.
    fn error_about(
        kind: u8,
        code: u8,
        protocol: u8,
        transport: &[u8],
        router: Ipv4Addr,
    ) -> (IpAddr, IcmpMessage) {
        let original = emit::ipv4_header(
            &Ipv4Fields {
                tos: 0,
                identification: 1,
                dont_fragment: false,
                ttl: 1,
                protocol,
                source: US,
                destination: TARGET,
            },
            transport,
        );
        let quote = &original[..original.len().min(28)];
        let icmp = emit::icmp_v4(kind, code, [0; 4], quote, false);
        (IpAddr::V4(router), wire::icmp::parse_v4(&icmp).unwrap())
    }

    #[test]
    fn every_udp_probe_keeps_the_flow_and_is_told_apart_by_its_checksum() {
        let flow = flow(Method::Udp);
        for id in [1u16, 2, 90, 0xfffe] {
            let probe = flow.build(id);
            assert_eq!(
                &probe[0..4],
                &[0x9c, 0x40, 0x82, 0x9a],
                "same ports for every probe"
            );
            let (from, icmp) = error_about(11, 0, 17, &probe, ROUTER);
            assert_eq!(
                flow.match_icmp(from, &icmp),
                Some((id, Answer::TimeExceeded))
            );
        }
        let (from, icmp) = error_about(3, 3, 17, &flow.build(7), TARGET);
        assert_eq!(flow.match_icmp(from, &icmp), Some((7, Answer::Reached)));
        let (from, icmp) = error_about(3, 1, 17, &flow.build(7), ROUTER);
        assert_eq!(
            flow.match_icmp(from, &icmp),
            Some((7, Answer::Unreachable(UnreachableKind::Host)))
        );
    }

    #[test]
    fn ipv4_udp_probes_are_byte_for_byte_those_captured_in_the_chain() {
        // The probe router A quoted back in a Time Exceeded captured in the
        // test chain (src/wire/mod.rs): 10.9.10.1:52475 → 10.9.12.2:33434, id 1.
        let captured =
            "ccfb829a0028000185f2000000000000000000000000000000000000000000000000000000000000";
        let flow = Flow {
            method: Method::Udp,
            source: IpAddr::from([10, 9, 10, 1]),
            target: IpAddr::from([10, 9, 12, 2]),
            source_port: 52475,
            port: 33434,
        };
        let built: String = flow.build(1).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(built, captured);
    }

    #[test]
    fn another_flows_error_is_not_ours() {
        let mine = flow(Method::Udp);
        let other = Flow {
            source_port: 40001,
            ..mine
        };
        let (from, icmp) = error_about(11, 0, 17, &other.build(3), ROUTER);
        assert_eq!(mine.match_icmp(from, &icmp), None);
        let (from, icmp) = error_about(11, 0, 6, &flow(Method::Tcp).build(3), ROUTER);
        assert_eq!(mine.match_icmp(from, &icmp), None);
    }

    #[test]
    fn tcp_probes_are_matched_by_sequence_in_errors_and_in_answers() {
        let flow = Flow {
            port: 80,
            ..flow(Method::Tcp)
        };
        let (from, icmp) = error_about(11, 0, 6, &flow.build(12), ROUTER);
        assert_eq!(
            flow.match_icmp(from, &icmp),
            Some((12, Answer::TimeExceeded))
        );
        // A SYN-ACK from the target acknowledging probe 12.
        let mut syn_ack = emit::tcp_syn((TARGET, 80), (US, 40000), 999);
        syn_ack[13] = TcpFlags::SYN | TcpFlags::ACK;
        syn_ack[8..12].copy_from_slice(&(flow.tcp_seq(12) + 1).to_be_bytes());
        let sum = tcp::ipv4_checksum(&TcpPacket::new(&syn_ack).unwrap(), &TARGET, &US);
        syn_ack[16..18].copy_from_slice(&sum.to_be_bytes());
        let datagram = emit::ipv4_header(
            &Ipv4Fields {
                tos: 0,
                identification: 0,
                dont_fragment: true,
                ttl: 62,
                protocol: 6,
                source: TARGET,
                destination: US,
            },
            &syn_ack,
        );
        assert_eq!(flow.match_tcp(IpAddr::V4(TARGET), &datagram), Some(12));
        assert_eq!(flow.match_tcp(IpAddr::V4(TARGET), &datagram[..30]), None);
        let mut other = datagram.clone();
        other[20 + 8] ^= 0x01;
        assert_eq!(
            flow.match_tcp(IpAddr::V4(TARGET), &other),
            None,
            "another flow's acknowledgement is not ours"
        );
    }

    #[test]
    fn echo_replies_match_by_identifier_only_from_the_target() {
        let flow = Flow {
            port: 0,
            ..flow(Method::Icmp)
        };
        let reply = emit::icmp_v4(0, 0, emit::ident_seq(40000, 5), &[0; 32], false);
        let icmp = wire::icmp::parse_v4(&reply).unwrap();
        assert_eq!(
            flow.match_icmp(IpAddr::V4(TARGET), &icmp),
            Some((5, Answer::Reached))
        );
        assert_eq!(flow.match_icmp(IpAddr::V4(ROUTER), &icmp), None);
        let bad = emit::icmp_v4(0, 0, emit::ident_seq(40000, 5), &[0; 32], true);
        let bad = wire::icmp::parse_v4(&bad).unwrap();
        assert_eq!(
            flow.match_icmp(IpAddr::V4(TARGET), &bad),
            None,
            "bad checksum"
        );
        let (from, icmp) = error_about(11, 0, 1, &flow.build(4), ROUTER);
        assert_eq!(
            flow.match_icmp(from, &icmp),
            Some((4, Answer::TimeExceeded))
        );
    }
}

#[cfg(test)]
#[path = "probe_v6_tests.rs"]
mod v6_tests;
