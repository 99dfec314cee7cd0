use super::*;

const NGINX_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello";

fn decode(chunked: &[u8]) -> Result<(Vec<u8>, usize, bool), MessageError> {
    let mut decoder = Chunked::default();
    let mut body = Vec::new();
    let used = decoder.feed(chunked, |piece| body.extend_from_slice(piece))?;
    Ok((body, used, decoder.done()))
}

#[test]
fn a_whole_head_is_parsed_and_its_length_returned() {
    let (head, used) = parse_head(NGINX_HEAD).unwrap().unwrap();
    assert_eq!(head.version, Version::Http11);
    assert_eq!(head.status, 200);
    assert_eq!(head.reason, "OK");
    assert_eq!(head.fields.len(), 4);
    assert_eq!(head.value("content-type"), Some("text/plain"));
    assert_eq!(&NGINX_HEAD[used..], b"hello");
    assert_eq!(head.framing("GET"), Ok(Framing::Length(5)));
    assert!(head.keeps_alive());
}

#[test]
fn an_incomplete_head_waits_for_more_and_every_prefix_is_safe() {
    for cut in 0..NGINX_HEAD.len() - 5 {
        assert_eq!(parse_head(&NGINX_HEAD[..cut]), Ok(None), "cut at {cut}");
    }
}

#[test]
fn bare_line_feeds_end_lines_too() {
    let (head, used) = parse_head(b"HTTP/1.0 404 Not Found\nA: b\n\nrest")
        .unwrap()
        .unwrap();
    assert_eq!((head.status, head.version), (404, Version::Http10));
    assert_eq!(used, 29);
    assert!(!head.keeps_alive());
}

#[test]
fn bad_status_lines_are_refused_early() {
    for line in [
        &b"HTTP/2 200 OK\r\n"[..],
        b"SSH-2.0-OpenSSH\r\n",
        b"HTTP/1.1 20 OK\r\n",
        b"HTTP/1.1 2000 OK\r\n",
        b"HTTP/1.1 abc\r\n",
        b"<html>",
    ] {
        assert!(
            matches!(parse_head(line), Err(MessageError::StatusLine(_))),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    assert!(parse_head(b"HTTP/1.1 204\r\n\r\n").unwrap().is_some());
}

#[test]
fn header_lines_must_be_name_colon_value() {
    for bad in [
        &b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n: x\r\n\r\n",
    ] {
        assert!(matches!(parse_head(bad), Err(MessageError::FieldLine(_))));
    }
}

#[test]
fn a_giant_or_crowded_head_is_refused_not_kept() {
    let mut giant = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    giant.resize(MAX_HEAD + 10, b'a');
    assert_eq!(parse_head(&giant), Err(MessageError::HeadTooLarge));
    let mut crowded = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..=MAX_FIELDS {
        crowded.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    crowded.extend_from_slice(b"\r\n");
    assert_eq!(parse_head(&crowded), Err(MessageError::TooManyFields));
}

#[test]
fn framing_follows_rfc_9112_section_6_3() {
    let head = |status: &str, fields: &str| {
        let text = format!("HTTP/1.1 {status}\r\n{fields}\r\n");
        parse_head(text.as_bytes()).unwrap().unwrap().0
    };
    let cl = head("200 OK", "Content-Length: 7\r\n");
    assert_eq!(cl.framing("HEAD"), Ok(Framing::Empty));
    assert_eq!(
        head("204 No Content", "").framing("GET"),
        Ok(Framing::Empty)
    );
    assert_eq!(
        head("304 x", "Content-Length: 9\r\n").framing("GET"),
        Ok(Framing::Empty)
    );
    let both = head(
        "200 OK",
        "Content-Length: 7\r\nTransfer-Encoding: gzip, chunked\r\n",
    );
    assert_eq!(both.framing("GET"), Ok(Framing::Chunked));
    let gzip = head("200 OK", "Transfer-Encoding: gzip\r\n");
    assert_eq!(gzip.framing("GET"), Ok(Framing::UntilClose));
    assert_eq!(head("200 OK", "").framing("GET"), Ok(Framing::UntilClose));
    let same = head("200 OK", "Content-Length: 3, 3\r\n");
    assert_eq!(same.framing("GET"), Ok(Framing::Length(3)));
    for lie in ["3, 4", "-1", "+3", "", "0x10", "99999999999999999999999"] {
        let bad = head("200 OK", &format!("Content-Length: {lie}\r\n"));
        assert!(bad.framing("GET").is_err(), "{lie}");
    }
}

#[test]
fn connection_tokens_decide_reuse() {
    let head = |text: &str| parse_head(text.as_bytes()).unwrap().unwrap().0;
    assert!(!head("HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n").keeps_alive());
    assert!(!head("HTTP/1.1 200 OK\r\nConnection: x, close\r\n\r\n").keeps_alive());
    assert!(head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n").keeps_alive());
}

#[test]
fn chunked_bodies_decode_in_one_piece_and_byte_by_byte() {
    let wire = b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
    let (body, used, done) = decode(wire).unwrap();
    assert_eq!(body, b"hello world");
    assert!(done);
    assert_eq!(&wire[used..], b"NEXT");
    let mut decoder = Chunked::default();
    let mut body = Vec::new();
    for byte in &wire[..used] {
        assert_eq!(decoder.feed(&[*byte], |p| body.extend_from_slice(p)), Ok(1));
    }
    assert!(decoder.done());
    assert_eq!(body, b"hello world");
}

#[test]
fn bad_chunks_are_refused() {
    assert!(matches!(decode(b"zz\r\n"), Err(MessageError::ChunkSize(_))));
    assert!(matches!(decode(b"+5\r\n"), Err(MessageError::ChunkSize(_))));
    assert!(matches!(
        decode(b"ffffffffffffffffff\r\n"),
        Err(MessageError::ChunkSize(_))
    ));
    assert_eq!(decode(b"2\r\nabc\r\n"), Err(MessageError::ChunkEnd));
    let long_line = vec![b'1'; MAX_CHUNK_LINE + 1];
    assert!(matches!(
        decode(&long_line),
        Err(MessageError::ChunkSize(_))
    ));
    let mut trailers = b"0\r\n".to_vec();
    trailers.resize(MAX_HEAD + 10, b'a');
    assert_eq!(decode(&trailers), Err(MessageError::TrailerTooLarge));
}

#[test]
fn a_huge_announced_chunk_is_streamed_not_allocated() {
    let mut decoder = Chunked::default();
    let mut seen = 0usize;
    decoder.feed(b"fffffffffffffff\r\n", |_| {}).unwrap();
    for _ in 0..64 {
        decoder.feed(&[b'x'; 1024], |p| seen += p.len()).unwrap();
    }
    assert_eq!(seen, 64 * 1024);
    assert!(!decoder.done());
}

#[test]
fn every_single_byte_corruption_of_a_response_is_handled() {
    let wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    for at in 0..wire.len() {
        for byte in [0u8, b'\n', b'\r', b':', b' ', b'f', 0xff] {
            let mut copy = wire.to_vec();
            copy[at] = byte;
            if let Ok(Some((head, used))) = parse_head(&copy) {
                let _ = head.framing("GET");
                let _ = decode(&copy[used..]);
            }
        }
    }
}
