//! DNS replies as servers send them, and as hostile or broken ones might:
//! every truncation and single-byte corruption must be read without a panic.
use super::*;

/// A reply as a recursive server sends it: www.example.test is a CNAME
/// for web.example.test (compressed against the question), which has an
/// A and an AAAA record, and a record of a type netdx skips.
pub(crate) fn cname_reply(id: u16) -> Vec<u8> {
    let mut m = emit_query(id, "www.example.test", RecordType::A).unwrap();
    m[2] = 0x81; // QR, RD
    m[3] = 0x80; // RA
    m[7] = 4; // four answers
    // www.example.test CNAME web.(example.test at offset 16)
    m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6]);
    let web_at = m.len() as u8;
    m.extend_from_slice(&[3, b'w', b'e', b'b', 0xc0, 16]);
    // web.example.test A 192.0.2.7
    m.extend_from_slice(&[0xc0, web_at, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
    // web.example.test AAAA 2001:db8::7
    m.extend_from_slice(&[0xc0, web_at, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
    m.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
    // web.example.test TXT "x"
    m.extend_from_slice(&[0xc0, web_at, 0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 1, b'x']);
    m
}

#[test]
fn a_query_has_one_question_and_asks_for_recursion() {
    let query = emit_query(0xbeef, "a.example.test.", RecordType::AAAA).unwrap();
    assert_eq!(
        &query[..HEADER_LEN],
        &[0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        &query[HEADER_LEN..],
        b"\x01a\x07example\x04test\x00\x00\x1c\x00\x01"
    );
}

#[test]
fn names_with_empty_or_long_labels_are_not_sent() {
    assert!(emit_query(1, "a..test", RecordType::A).is_err());
    assert!(emit_query(1, &"x".repeat(64), RecordType::A).is_err());
    let long = vec!["abcdefghi"; 26].join(".");
    assert!(emit_query(1, &long, RecordType::A).is_err());
}

#[test]
fn a_reply_with_compressed_names_is_read_record_by_record() {
    let reply = parse_reply(&cname_reply(7)).unwrap();
    assert_eq!(
        (reply.id, reply.rcode, reply.truncated),
        (7, Rcode::NOERROR, false)
    );
    let question = reply.question.unwrap();
    assert_eq!(question.name, "www.example.test");
    assert_eq!(question.kind, RecordType::A);
    assert_eq!(
        reply.answers.iter().map(|r| &r.data).collect::<Vec<_>>(),
        [
            &RecordData::Cname("web.example.test".into()),
            &RecordData::A(Ipv4Addr::new(192, 0, 2, 7)),
            &RecordData::Aaaa("2001:db8::7".parse().unwrap()),
            &RecordData::Other(RecordType(16)),
        ]
    );
    assert_eq!(reply.answers[1].owner, "web.example.test");
    assert_eq!(reply.answers[1].ttl, 60);
}

#[test]
fn a_query_is_not_taken_for_a_reply() {
    let query = emit_query(7, "x.test", RecordType::A).unwrap();
    assert!(parse_reply(&query).is_err());
}

#[test]
fn pointers_that_loop_or_point_forward_are_refused() {
    let mut m = cname_reply(7);
    // The question's name becomes a pointer to itself.
    m[12] = 0xc0;
    m[13] = 12;
    assert!(parse_reply(&m).is_err());
    let mut m = cname_reply(7);
    m[13] = 0xc0;
    m[14] = 40; // forward
    assert!(matches!(
        read_name(&m, 13),
        Err(WireError::Malformed { .. })
    ));
}

#[test]
fn strange_bytes_in_names_are_escaped() {
    let message = b"\x03a.\x1b\x00";
    assert_eq!(read_name(message, 0).unwrap().0, "a\\046\\027");
}

#[test]
fn a_truncated_reply_with_tc_keeps_the_whole_records() {
    let mut m = cname_reply(7);
    m[2] |= 0x02; // TC
    let cut = m.len() - 20;
    let reply = parse_reply(&m[..cut]).unwrap();
    assert!(reply.truncated);
    assert_eq!(reply.answers.len(), 2);
    m[2] &= !0x02;
    assert!(parse_reply(&m[..cut]).is_err());
}

#[test]
fn reverse_names_follow_rfc_1035_and_3596() {
    let v4 = "192.0.2.7".parse().unwrap();
    assert_eq!(reverse_name(&v4), "7.2.0.192.in-addr.arpa");
    let v6 = "2001:db8::567:89ab".parse().unwrap();
    assert_eq!(
        reverse_name(&v6),
        "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    );
}

#[test]
fn every_truncation_and_single_byte_corruption_is_survived() {
    let replies = [cname_reply(7), {
        let mut ptr = emit_query(9, "7.2.0.192.in-addr.arpa", RecordType::PTR).unwrap();
        ptr[2] = 0x81;
        ptr[7] = 1;
        ptr.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 1, 0, 8]);
        ptr.extend_from_slice(b"\x01h\x04test\x00");
        ptr
    }];
    for reply in &replies {
        assert!(parse_reply(reply).is_ok());
        for cut in 0..reply.len() {
            let _ = parse_reply(&reply[..cut]);
        }
        for at in 0..reply.len() {
            for value in [
                0x00,
                0xff,
                0xc0,
                0x3f,
                0x40,
                0x01,
                reply[at] ^ 0x80,
                reply[at].wrapping_add(1),
            ] {
                let mut bad = reply.clone();
                bad[at] = value;
                let _ = parse_reply(&bad);
            }
        }
    }
}

#[test]
fn pseudo_random_bytes_are_survived() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let length = (state % 96) as usize;
        let mut bytes: Vec<u8> = (0..length)
            .map(|i| (state.rotate_left(i as u32 * 5) & 0xff) as u8)
            .collect();
        if let Some(flags) = bytes.get_mut(2) {
            *flags |= 0x80;
        }
        let _ = parse_reply(&bytes);
    }
}

#[test]
fn any_class_question_round_trips_and_replies_are_not_queries() {
    let question = Question {
        name: "version.bind".into(),
        kind: RecordType::TXT,
        class: CLASS_CH,
    };
    let bytes = emit_question(0x1234, false, &question).unwrap();
    let query = parse_query(&bytes).unwrap();
    assert_eq!((query.id, query.recursion), (0x1234, false));
    assert!(query.question.matches(&question));
    let mut reply = bytes.clone();
    reply[2] |= 0x80;
    assert!(parse_query(&reply).is_err(), "QR set: a response");
    let mut trailing = bytes;
    trailing.push(0);
    assert!(parse_query(&trailing).is_err());
    assert_eq!(
        emit_query(7, "x.test", RecordType::A).unwrap(),
        emit_question(
            7,
            true,
            &Question {
                name: "x.test".into(),
                kind: RecordType::A,
                class: CLASS_IN
            }
        )
        .unwrap()
    );
}
