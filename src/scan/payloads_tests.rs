use super::*;
use crate::wire::dns::{parse_query, read_name};

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[test]
fn dns_probe_is_a_version_bind_txt_chaos_query_the_wire_reader_accepts() {
    let payloads = Payloads::new();
    let query = parse_query(payloads.get(53)).unwrap();
    assert_eq!(query.id, PROBE_ID);
    assert!(query.recursion);
    assert_eq!(query.question.name, "version.bind");
    assert_eq!(query.question.kind, RecordType::TXT);
    assert_eq!(query.question.class, CLASS_CH);
    assert_eq!(payloads.protocol(53), Some(Protocol::Dns));
}

#[test]
fn mdns_probe_enumerates_services_and_asks_for_a_unicast_answer() {
    let query = parse_query(Payloads::new().get(5353)).unwrap();
    assert_eq!(query.id, 0, "RFC 6762 §18.1");
    assert!(!query.recursion);
    assert_eq!(query.question.name, "_services._dns-sd._udp.local");
    assert_eq!(query.question.kind, RecordType::PTR);
    assert_eq!(query.question.class, CLASS_IN | CLASS_UNICAST_RESPONSE);
}

#[test]
fn every_truncation_of_the_dns_probes_is_an_error_not_a_panic() {
    for port in [53, 5353] {
        let bytes = Payloads::new().get(port).to_vec();
        for len in 0..bytes.len() {
            assert!(parse_query(&bytes[..len]).is_err(), "{port}: {len} bytes");
        }
    }
}

#[test]
fn ntp_probe_is_48_bytes_version_4_client_mode() {
    let packet = Payloads::new().get(123).to_vec();
    assert_eq!(packet.len(), NTP_LEN);
    assert_eq!(packet[0] & 0x07, 3, "mode 3, client");
    assert_eq!((packet[0] >> 3) & 0x07, 4, "version 4");
    assert_eq!(packet[0] >> 6, 3, "leap indicator: unsynchronised");
    assert!(
        packet[1..40].iter().all(|&b| b == 0),
        "stratum, poll … zero"
    );
    assert_ne!(
        &packet[40..48],
        &[0; 8],
        "a transmit timestamp to be echoed"
    );
}

/// A strict BER reader for the test: (tag, value, rest); fails on any
/// length that runs past the buffer.
fn tlv(bytes: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = bytes[0];
    let (len, header) = match bytes[1] {
        short if short < 0x80 => (usize::from(short), 2),
        long => {
            let n = usize::from(long & 0x7f);
            let len = bytes[2..2 + n]
                .iter()
                .fold(0usize, |a, &b| a << 8 | usize::from(b));
            (len, 2 + n)
        }
    };
    assert!(
        bytes.len() >= header + len,
        "BER length runs past the buffer"
    );
    (tag, &bytes[header..header + len], &bytes[header + len..])
}

fn ber_int(value: &[u8]) -> i64 {
    value
        .iter()
        .fold(if value[0] & 0x80 != 0 { -1 } else { 0 }, |a, &b| {
            a << 8 | i64::from(b)
        })
}

#[test]
fn snmp_probe_is_a_v2c_get_of_sys_descr_with_community_public() {
    let packet = Payloads::new().get(161).to_vec();
    let (tag, message, rest) = tlv(&packet);
    assert_eq!(
        (tag, rest.len()),
        (ber::SEQUENCE, 0),
        "one message, nothing after"
    );
    let (tag, version, message) = tlv(message);
    assert_eq!(
        (tag, ber_int(version)),
        (ber::INTEGER, 1),
        "version 1 = SNMPv2c"
    );
    let (tag, community, message) = tlv(message);
    assert_eq!((tag, community), (ber::OCTET_STRING, &b"public"[..]));
    let (tag, pdu, message) = tlv(message);
    assert_eq!((tag, message.len()), (0xa0, 0), "GetRequest-PDU");
    let (_, request_id, pdu) = tlv(pdu);
    assert_eq!(ber_int(request_id), i64::from(PROBE_ID));
    let (_, error_status, pdu) = tlv(pdu);
    let (_, error_index, pdu) = tlv(pdu);
    assert_eq!((ber_int(error_status), ber_int(error_index)), (0, 0));
    let (tag, varbinds, pdu) = tlv(pdu);
    assert_eq!((tag, pdu.len()), (ber::SEQUENCE, 0));
    let (_, varbind, more) = tlv(varbinds);
    assert!(more.is_empty(), "one varbind");
    let (tag, oid, varbind) = tlv(varbind);
    assert_eq!(tag, ber::OID);
    assert_eq!(oid, [0x2b, 6, 1, 2, 1, 1, 1, 0], "1.3.6.1.2.1.1.1.0");
    let (tag, null, rest) = tlv(varbind);
    assert_eq!((tag, null.len(), rest.len()), (ber::NULL, 0, 0));
}

#[test]
fn ber_integers_and_lengths_take_their_shortest_forms() {
    assert_eq!(ber::integer(0), [2, 1, 0]);
    assert_eq!(ber::integer(127), [2, 1, 0x7f]);
    assert_eq!(ber::integer(128), [2, 2, 0, 0x80]);
    assert_eq!(ber::integer(-1), [2, 1, 0xff]);
    assert_eq!(ber::integer(-129), [2, 2, 0xff, 0x7f]);
    assert_eq!(ber::integer(0x6e64), [2, 2, 0x6e, 0x64]);
    assert_eq!(&ber::octets(&[0; 200])[..3], [4, 0x81, 200]);
    assert_eq!(&ber::octets(&[0; 300])[..4], [4, 0x82, 1, 44]);
    assert_eq!(
        ber::oid(&[1, 3, 6, 1, 4, 1, 2021]),
        [6, 7, 0x2b, 6, 1, 4, 1, 0x8f, 0x65]
    );
}

#[test]
fn netbios_probe_is_a_node_status_query_for_star() {
    let packet = Payloads::new().get(137).to_vec();
    assert_eq!(be16(&packet, 0), PROBE_ID);
    assert_eq!(be16(&packet, 2), 0, "a query, opcode 0");
    assert_eq!(be16(&packet, 4), 1, "one question");
    assert_eq!(packet[12], 32, "one 32-byte encoded label");
    let encoded = &packet[13..45];
    let decoded: Vec<u8> = encoded
        .chunks(2)
        .map(|p| ((p[0] - b'A') << 4) | (p[1] - b'A'))
        .collect();
    assert_eq!(decoded, [&b"*"[..], &[0; 15]].concat());
    assert_eq!(&packet[13..15], b"CK");
    assert_eq!(packet[45], 0, "no scope");
    assert_eq!(be16(&packet, 46), 0x21, "NBSTAT");
    assert_eq!(be16(&packet, 48), 1, "IN");
    assert_eq!(packet.len(), 50);
}

#[test]
fn rpc_probe_is_a_null_call_to_rpcbind_v2() {
    for port in [111, 2049] {
        let packet = Payloads::new().get(port).to_vec();
        assert_eq!(packet.len(), 40, "{port}");
        let words: Vec<u32> = (0..10).map(|i| be32(&packet, i * 4)).collect();
        assert_eq!(
            words,
            [u32::from(PROBE_ID), 0, 2, RPCBIND_PROGRAM, 2, 0, 0, 0, 0, 0]
        );
    }
}

#[test]
fn ike_probe_lengths_chain_from_header_to_transform() {
    for (port, skip) in [(500, 0), (4500, 4)] {
        let all = Payloads::new().get(port).to_vec();
        assert!(
            all[..skip].iter().all(|&b| b == 0),
            "non-ESP marker on 4500"
        );
        let m = &all[skip..];
        assert_eq!(
            be32(m, 24) as usize,
            m.len(),
            "header length is the message length"
        );
        assert_eq!(m[16], 1, "next payload: SA");
        assert_eq!(m[17], 0x10, "ISAKMP 1.0");
        assert_eq!(m[18], 2, "main mode");
        assert_eq!(&m[8..16], &[0; 8], "no responder cookie");
        let sa = &m[ISAKMP_HEADER_LEN..];
        assert_eq!(
            (sa[0], be16(sa, 2) as usize),
            (0, sa.len()),
            "SA payload fills the rest"
        );
        assert_eq!(
            (be32(sa, 4), be32(sa, 8)),
            (1, 1),
            "IPsec DOI, identity only"
        );
        let proposal = &sa[12..];
        assert_eq!(be16(proposal, 2) as usize, proposal.len());
        assert_eq!(
            &proposal[4..8],
            [1, 1, 0, 1],
            "#1, ISAKMP, no SPI, one transform"
        );
        let transform = &proposal[8..];
        assert_eq!(be16(transform, 2) as usize, transform.len());
        assert_eq!(&transform[4..6], [1, 1], "#1, KEY_IKE");
        let attributes = &transform[8..];
        assert_eq!(
            attributes.len(),
            5 * 4 + 8,
            "five basic attributes and the life duration"
        );
        assert_eq!(be16(attributes, 0), 0x8001);
        assert_eq!(be16(attributes, 2), 5, "3DES");
    }
}

#[test]
fn text_probes_are_well_formed_requests() {
    let payloads = Payloads::new();
    let ssdp = std::str::from_utf8(payloads.get(1900)).unwrap();
    assert!(ssdp.starts_with("M-SEARCH * HTTP/1.1\r\n"));
    assert!(ssdp.contains("\r\nMAN: \"ssdp:discover\"\r\n"));
    assert!(ssdp.ends_with("\r\n\r\n") && !ssdp.contains("\n ") && !ssdp.contains("  "));
    let sip = std::str::from_utf8(payloads.get(5060)).unwrap();
    assert!(sip.starts_with("OPTIONS sip:"));
    for header in ["Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq"] {
        assert!(
            sip.contains(&format!("\r\n{header}: ")),
            "SIP needs {header}"
        );
    }
    assert!(sip.ends_with("Content-Length: 0\r\n\r\n") && !sip.contains("  "));
    let tftp = payloads.get(69);
    assert_eq!(be16(tftp, 0), 1, "RRQ");
    let fields: Vec<&[u8]> = tftp[2..].split(|&b| b == 0).collect();
    assert_eq!(fields, [&b"netdx-probe.txt"[..], b"octet", b""]);
    let memcached = payloads.get(11211);
    assert_eq!(&memcached[2..8], [0, 0, 0, 1, 0, 0], "seq 0 of 1 datagram");
    assert_eq!(&memcached[8..], b"version\r\n");
}

#[test]
fn stun_probe_is_a_bare_binding_request() {
    let m = Payloads::new().get(3478).to_vec();
    assert_eq!(m.len(), 20);
    assert_eq!(be16(&m, 0), 1, "Binding request");
    assert_eq!(be16(&m, 2), 0, "no attributes");
    assert_eq!(be32(&m, 4), STUN_MAGIC);
}

#[test]
fn game_probes_are_connectionless_queries() {
    let payloads = Payloads::new();
    assert_eq!(payloads.get(27960), b"\xff\xff\xff\xffgetstatus");
    assert_eq!(
        payloads.get(27015),
        b"\xff\xff\xff\xffTSource Engine Query\0"
    );
    assert_eq!(payloads.get(27030), payloads.get(27015));
}

#[test]
fn other_ports_get_an_empty_datagram() {
    let payloads = Payloads::new();
    for port in [1, 67, 514, 8080, 40000, 65535] {
        assert!(payloads.get(port).is_empty(), "{port}");
        assert_eq!(payloads.protocol(port), None);
    }
}

#[test]
fn dns_probe_names_read_back_through_the_wire_name_reader() {
    let bytes = Payloads::new().get(53).to_vec();
    let (name, end) = read_name(&bytes, dns::HEADER_LEN).unwrap();
    assert_eq!((name.as_str(), end + 4), ("version.bind", bytes.len()));
}
