//! IPv6 probes and answers: ICMPv6 errors quoting the IPv6 header, echo
//! replies, TCP answers read from the TCP header on.
use super::*;
use crate::wire::{self, emit::Ipv6Fields, from_hex};
use pnet_packet::tcp;

const US: Ipv6Addr = Ipv6Addr::new(0xfd0a, 0, 0, 0, 0, 0, 0, 1);
const ROUTER: Ipv6Addr = Ipv6Addr::new(0xfd0b, 0, 0, 0, 0, 0, 0, 2);
const TARGET: Ipv6Addr = Ipv6Addr::new(0xfd0c, 0, 0, 0, 0, 0, 0, 2);
const NEXT_ICMPV6: u8 = 58;

fn flow(method: Method, port: u16) -> Flow {
    Flow {
        method,
        source: IpAddr::V6(US),
        target: IpAddr::V6(TARGET),
        source_port: 40000,
        port,
    }
}

fn next_header(method: Method) -> u8 {
    match method {
        Method::Icmp => NEXT_ICMPV6,
        Method::Udp => 17,
        Method::Tcp => 6,
    }
}

/// The bytes of the ICMPv6 error `kind`/`code` about probe `id` of `flow`
/// as a raw ICMPv6 socket reads them: from the ICMPv6 header on, quoting
/// the whole probe (RFC 4443 quotes as much as fits in 1280 bytes). The
/// checksum stays zero: the kernel verifies it before any socket reads.
fn error_bytes(flow: &Flow, kind: u8, code: u8, info: u32, id: u16) -> Vec<u8> {
    let original = emit::ipv6_header(
        &Ipv6Fields {
            traffic_class: 0,
            flow_label: 0,
            next_header: next_header(flow.method),
            hop_limit: 1,
            source: US,
            destination: TARGET,
        },
        &flow.build(id),
    );
    emit::icmp_v6(kind, code, info.to_be_bytes(), &original)
}

fn answer(flow: &Flow, from: Ipv6Addr, bytes: &[u8]) -> Option<(u16, Answer)> {
    let icmp = wire::icmp::parse_v6(bytes).ok()?;
    flow.match_icmp(IpAddr::V6(from), &icmp)
}

#[test]
fn ipv6_time_exceeded_is_matched_for_every_method_by_its_quoted_field() {
    for method in [Method::Udp, Method::Icmp, Method::Tcp] {
        let flow = flow(method, 33434);
        for id in [1u16, 2, 77, 0xfffe] {
            let bytes = error_bytes(&flow, v6::TIME_EXCEEDED, 0, 0, id);
            assert_eq!(
                answer(&flow, ROUTER, &bytes),
                Some((id, Answer::TimeExceeded)),
                "{method:?} probe {id}"
            );
        }
    }
}

#[test]
fn ipv6_unreachables_say_reached_from_the_target_and_why_from_a_router() {
    let flow = flow(Method::Udp, 33434);
    let port = error_bytes(&flow, v6::DEST_UNREACHABLE, 4, 0, 9);
    assert_eq!(answer(&flow, TARGET, &port), Some((9, Answer::Reached)));
    assert_eq!(
        answer(&flow, ROUTER, &port),
        Some((9, Answer::Unreachable(UnreachableKind::Port)))
    );
    for (code, kind) in [
        (0, UnreachableKind::Network),
        (1, UnreachableKind::AdminProhibited),
        (3, UnreachableKind::Host),
        (6, UnreachableKind::Other { code: 6 }),
    ] {
        let bytes = error_bytes(&flow, v6::DEST_UNREACHABLE, code, 0, 9);
        assert_eq!(
            answer(&flow, ROUTER, &bytes),
            Some((9, Answer::Unreachable(kind))),
            "code {code}"
        );
    }
    let too_big = error_bytes(&flow, v6::PACKET_TOO_BIG, 0, 1280, 9);
    assert_eq!(
        answer(&flow, ROUTER, &too_big),
        Some((
            9,
            Answer::Unreachable(UnreachableKind::FragmentationNeeded { mtu: Some(1280) })
        ))
    );
}

#[test]
fn icmpv4_numbers_in_an_ipv6_flow_and_other_flows_are_not_ours() {
    let flow = flow(Method::Udp, 33434);
    let other = Flow {
        source_port: 40001,
        ..flow
    };
    let bytes = error_bytes(&other, v6::TIME_EXCEEDED, 0, 0, 3);
    assert_eq!(answer(&flow, ROUTER, &bytes), None);
    // An ICMPv4 Time Exceeded (type 11) is no answer to an IPv6 probe.
    let v4_numbered = error_bytes(&flow, v4::TIME_EXCEEDED, 0, 0, 3);
    assert_eq!(answer(&flow, ROUTER, &v4_numbered), None);
}

#[test]
fn ipv6_echo_replies_match_by_identifier_only_from_the_target() {
    let flow = flow(Method::Icmp, 0);
    let reply = emit::icmp_v6(v6::ECHO_REPLY, 0, emit::ident_seq(40000, 5), &[0; 32]);
    assert_eq!(answer(&flow, TARGET, &reply), Some((5, Answer::Reached)));
    assert_eq!(answer(&flow, ROUTER, &reply), None);
    let request = emit::icmp_v6(v6::ECHO_REQUEST, 0, emit::ident_seq(40000, 5), &[0; 32]);
    assert_eq!(answer(&flow, TARGET, &request), None);
}

#[test]
fn ipv6_tcp_answers_are_read_from_the_tcp_header_and_only_from_the_target() {
    let flow = flow(Method::Tcp, 80);
    let mut syn_ack = emit::tcp_syn_v6((TARGET, 80), (US, 40000), 999);
    syn_ack[13] = tcp::TcpFlags::SYN | tcp::TcpFlags::ACK;
    syn_ack[8..12].copy_from_slice(&(flow.tcp_seq(12) + 1).to_be_bytes());
    assert_eq!(flow.match_tcp(IpAddr::V6(TARGET), &syn_ack), Some(12));
    assert_eq!(flow.match_tcp(IpAddr::V6(ROUTER), &syn_ack), None);
    for len in 0..syn_ack.len() {
        assert_eq!(flow.match_tcp(IpAddr::V6(TARGET), &syn_ack[..len]), None);
    }
}

#[test]
fn every_truncation_and_corruption_of_an_ipv6_time_exceeded_is_no_match_or_a_match_never_a_panic() {
    for method in [Method::Udp, Method::Icmp, Method::Tcp] {
        let flow = flow(method, 33434);
        let bytes = error_bytes(&flow, v6::TIME_EXCEEDED, 0, 0, 21);
        // ICMPv6 header, the quoted IPv6 header and the 8 transport bytes
        // that carry the probe id.
        let needed = 8 + 40 + 8;
        for len in 0..bytes.len() {
            let got = answer(&flow, ROUTER, &bytes[..len]);
            if len < needed {
                assert_eq!(got, None, "{method:?} cut at {len}");
            } else {
                assert_eq!(
                    got,
                    Some((21, Answer::TimeExceeded)),
                    "{method:?} cut at {len}"
                );
            }
        }
        for at in 0..bytes.len() {
            for value in [0x00, 0x01, 0x06, 0x11, 0x3a, 0x60, 0x80, 0xff] {
                let mut bent = bytes.clone();
                bent[at] = value;
                let _ = answer(&flow, ROUTER, &bent);
                let _ = answer(&flow, TARGET, &bent);
            }
        }
    }
}

/// Captured off a raw ICMPv6 socket in the test chain (client fd0a::1 →
/// router A fd0a::2 → router B fd0b::2 → target fd0c::2) during
/// `netdx trace -6 -q 1`: router A's Time Exceeded about UDP probe 1 …
const CAPTURED_TIME_EXCEEDED: &str = "0300df9b000000006001b1c700281101fd0a0000000000000000000000000001fd0c0000000000000000000000000002e092829a00280001a255000000000000000000000000000000000000000000000000000000000000";
/// … the target's port unreachable about probe 3 …
const CAPTURED_PORT_UNREACHABLE: &str = "0104e195000000006001b1c700281101fd0a0000000000000000000000000001fd0c0000000000000000000000000002e092829a00280003a253000000000000000000000000000000000000000000000000000000000000";
/// … and router B's Time Exceeded about TCP probe 2.
const CAPTURED_TCP_TIME_EXCEEDED: &str = "0300172d00000000600d853200140601fd0a0000000000000000000000000001fd0c0000000000000000000000000002e14f0050e14f0002000000005002faf0f7e50000";

#[test]
fn captured_ipv6_answers_match_the_probes_that_caused_them() {
    let udp = Flow {
        source_port: 0xe092,
        ..flow(Method::Udp, 33434)
    };
    let time_exceeded = from_hex(CAPTURED_TIME_EXCEEDED);
    assert_eq!(
        answer(
            &udp,
            Ipv6Addr::new(0xfd0a, 0, 0, 0, 0, 0, 0, 2),
            &time_exceeded
        ),
        Some((1, Answer::TimeExceeded))
    );
    // The quote is byte for byte what this flow builds for probe 1.
    assert_eq!(&time_exceeded[8 + 40..], &udp.build(1)[..]);
    assert_eq!(
        answer(&udp, TARGET, &from_hex(CAPTURED_PORT_UNREACHABLE)),
        Some((3, Answer::Reached))
    );
    let tcp = Flow {
        source_port: 0xe14f,
        ..flow(Method::Tcp, 80)
    };
    assert_eq!(
        answer(&tcp, ROUTER, &from_hex(CAPTURED_TCP_TIME_EXCEEDED)),
        Some((2, Answer::TimeExceeded))
    );
}

#[test]
fn every_truncation_of_a_captured_ipv6_answer_is_an_error_or_a_value_never_a_panic() {
    let udp = Flow {
        source_port: 0xe092,
        ..flow(Method::Udp, 33434)
    };
    for text in [
        CAPTURED_TIME_EXCEEDED,
        CAPTURED_PORT_UNREACHABLE,
        CAPTURED_TCP_TIME_EXCEEDED,
    ] {
        let bytes = from_hex(text);
        for len in 0..bytes.len() {
            let _ = wire::icmp::parse_v6(&bytes[..len]);
            let _ = answer(&udp, ROUTER, &bytes[..len]);
            let _ = udp.match_tcp(IpAddr::V6(TARGET), &bytes[..len]);
        }
        for at in 0..bytes.len() {
            for value in [0x00, 0x01, 0x06, 0x11, 0x3a, 0x60, 0x80, 0xff] {
                let mut bent = bytes.clone();
                bent[at] = value;
                let _ = answer(&udp, TARGET, &bent);
            }
        }
    }
}
