//! The DHCP messages and frames: what is sent reads back field by field,
//! and every cut and every single-byte corruption of a server's reply is
//! an error or a value, never a panic.

use super::*;

const CLIENT: Mac = Mac([2, 0, 0, 0, 0, 7]);
const SERVER: Mac = Mac([2, 0, 0, 0, 0, 1]);

/// An OFFER as dnsmasq sends one (the options it gave in the tests).
fn offer() -> Message {
    let mut offer = Message::client(MessageType::Offer, 0xdead_beef, CLIENT);
    offer.op = BOOTREPLY;
    offer.options.clear();
    offer.yiaddr = Ipv4Addr::new(10, 9, 20, 55);
    offer.siaddr = Ipv4Addr::new(10, 9, 20, 2);
    offer.push(code::MESSAGE_TYPE, &[MessageType::Offer.code()]);
    offer.push(code::SERVER_ID, &[10, 9, 20, 2]);
    offer.push(code::LEASE_TIME, &43200u32.to_be_bytes());
    offer.push(58, &21600u32.to_be_bytes());
    offer.push(59, &37800u32.to_be_bytes());
    offer.push(1, &[255, 255, 255, 0]);
    offer.push(28, &[10, 9, 20, 255]);
    offer.push(3, &[10, 9, 20, 254]);
    offer.push(6, &[10, 9, 20, 53]);
    offer.push(15, b"test.lan");
    offer
}

fn offer_frame() -> Vec<u8> {
    udp_frame(
        (SERVER, Mac::BROADCAST),
        (Ipv4Addr::new(10, 9, 20, 2), SERVER_PORT),
        (Ipv4Addr::BROADCAST, CLIENT_PORT),
        &offer().emit(),
    )
}

#[test]
fn a_discover_round_trips_with_the_broadcast_flag_and_is_padded_to_300() {
    let mut discover = Message::client(MessageType::Discover, 0x0102_0304, CLIENT);
    discover.push(code::PARAMETER_REQUEST_LIST, &[1, 3, 6]);
    let bytes = discover.emit();
    assert_eq!(bytes.len(), 300);
    assert_eq!(&bytes[..4], &[1, 1, 6, 0]);
    assert_eq!(&bytes[4..8], &[1, 2, 3, 4]);
    assert_eq!(&bytes[10..12], &[0x80, 0]);
    assert_eq!(&bytes[236..240], &MAGIC_COOKIE);
    let back = Message::parse(&bytes).unwrap();
    assert_eq!(back, discover);
    assert_eq!(back.message_type(), Some(MessageType::Discover));
    assert_eq!(back.client_mac(), Some(CLIENT));
}

#[test]
fn a_frame_carries_good_ip_and_udp_checksums_and_reads_back() {
    let frame = offer_frame();
    let udp = parse_udp_frame(&frame).unwrap();
    assert_eq!(udp.eth_source, SERVER);
    assert_eq!((udp.source_port, udp.destination_port), (67, 68));
    let (ip, _) = ipv4::parse(&frame[ETHERNET_HEADER..]).unwrap();
    assert_eq!(ip.checksum_ok, Some(true));
    let message = Message::parse(udp.payload).unwrap();
    assert_eq!(message, offer());
    assert_eq!(
        message.address_option(code::SERVER_ID),
        Some(Ipv4Addr::new(10, 9, 20, 2))
    );
    let sum = u16::from_be_bytes([frame[40], frame[41]]);
    let datagram = UdpPacket::new(&frame[34..]).unwrap();
    assert_eq!(
        udp::ipv4_checksum(&datagram, &udp.source, &udp.destination),
        sum
    );
    // A UDP checksum that offload has not filled in yet is not held
    // against the frame.
    let mut unfinished = frame.clone();
    unfinished[40] ^= 0x55;
    assert!(parse_udp_frame(&unfinished).is_ok());
}

#[test]
fn every_cut_and_every_corruption_of_an_offer_is_an_error_or_a_value_never_a_panic() {
    let frame = offer_frame();
    let message = offer().emit();
    for len in 0..frame.len() {
        let _ = parse_udp_frame(&frame[..len]);
    }
    for len in 0..MIN_LEN {
        assert!(Message::parse(&message[..len]).is_err(), "{len} bytes");
    }
    for len in MIN_LEN..message.len() {
        let _ = Message::parse(&message[..len]);
    }
    for at in 0..frame.len() {
        for value in [0u8, 1, 0x7f, 0xff] {
            let mut bad = frame.clone();
            bad[at] = value;
            if let Ok(udp) = parse_udp_frame(&bad) {
                let _ = Message::parse(udp.payload);
            }
        }
    }
    for at in 0..message.len() {
        for value in [0u8, 1, 0x35, 0x7f, 0xff] {
            let mut bad = message.clone();
            bad[at] = value;
            if let Ok(parsed) = Message::parse(&bad) {
                for option in &parsed.options {
                    let _ = crate::wire::dhcp_options::decode(option.code, &option.data);
                }
            }
        }
    }
}

#[test]
fn an_option_running_past_the_end_or_a_missing_cookie_is_malformed() {
    let mut message = offer().emit();
    // The first option (53) claims 250 bytes; 58 remain.
    message[MIN_LEN + 1] = 250;
    assert!(matches!(
        Message::parse(&message),
        Err(WireError::Malformed { .. })
    ));
    let mut no_cookie = offer().emit();
    no_cookie[236] = 0;
    assert!(matches!(
        Message::parse(&no_cookie),
        Err(WireError::Malformed { .. })
    ));
    // Options without END are read to the end of the bytes.
    let whole = offer().emit();
    let end = whole.iter().rposition(|&b| b == code::END).unwrap();
    assert_eq!(Message::parse(&whole[..end]).unwrap(), offer());
}

/// dnsmasq 2.90's OFFER and ACK, captured by tests/dhcp.rs's setup (the
/// fuzz target's seeds).
const CAPTURED: [&[u8]; 2] = [
    include_bytes!("../../fuzz/corpus/dhcp_message/dnsmasq_offer"),
    include_bytes!("../../fuzz/corpus/dhcp_message/dnsmasq_ack"),
];

#[test]
fn captured_dnsmasq_replies_parse_and_survive_every_cut_and_corruption() {
    for (bytes, kind) in CAPTURED.iter().zip([MessageType::Offer, MessageType::Ack]) {
        let message = Message::parse(bytes).unwrap();
        assert_eq!(message.message_type(), Some(kind));
        assert_eq!(message.op, BOOTREPLY);
        assert_eq!(
            message.address_option(code::SERVER_ID),
            Some(Ipv4Addr::new(10, 9, 20, 2))
        );
        for len in 0..bytes.len() {
            let _ = Message::parse(&bytes[..len]);
        }
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.to_vec();
                bad[at] ^= flip;
                if let Ok(parsed) = Message::parse(&bad) {
                    for option in &parsed.options {
                        let _ = crate::wire::dhcp_options::decode(option.code, &option.data);
                    }
                }
            }
        }
    }
}

#[test]
fn overloaded_options_are_read_from_file_then_sname_and_those_fields_hold_no_names() {
    let mut message = offer();
    message.push(code::OVERLOAD, &[3]);
    let mut bytes = message.emit();
    // file: a domain option; sname: a router option (FILE = 108, SNAME = 44).
    bytes[108..108 + 7].copy_from_slice(&[15, 4, b'l', b'a', b'b', b'x', 255]);
    bytes[44..44 + 7].copy_from_slice(&[3, 4, 10, 9, 20, 1, 255]);
    let parsed = Message::parse(&bytes).unwrap();
    assert!(parsed.file.is_empty() && parsed.sname.is_empty());
    let tail: Vec<(usize, u8, Vec<u8>)> = parsed
        .options
        .iter()
        .rev()
        .take(2)
        .map(|o| (o.offset, o.code, o.data.clone()))
        .collect();
    assert_eq!(
        tail,
        [(44, 3, vec![10, 9, 20, 1]), (108, 15, b"labx".to_vec())]
    );
    // Without option 52 the same bytes are names, not options.
    let mut plain = offer().emit();
    plain[108..108 + 7].copy_from_slice(&[15, 4, b'l', b'a', b'b', b'x', 255]);
    let parsed = Message::parse(&plain).unwrap();
    assert_eq!(parsed.options.len(), offer().options.len());
    assert_eq!(parsed.file, [15, 4, b'l', b'a', b'b', b'x', 255]);
    // An overloaded field whose option runs past it is malformed.
    bytes[108..110].copy_from_slice(&[15, 200]);
    assert!(Message::parse(&bytes).is_err());
}
