//! `netdx lab dns-by-hand`: a DNS query built byte by byte and sent with
//! sendto() to a tiny server for `lab.test.` in a namespace; the answer's
//! sections walked by hand (header counts, the question, each record with
//! its 0xC00C compression pointer); then a truncated (TC) answer and the
//! retry over TCP, whose 2-byte length prefix is the sticky lab's framing.
//! Both answers are checked against netdx's own decoders at the end.
#![forbid(unsafe_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use socket2::Socket;

use super::calls;
use super::hosts;
use super::netns::Pair;
use super::{Actor, Conclusion, LabError, Need, Transcript};

/// The zone the server answers for, and its names.
const A_NAME: &str = "www.lab.test";
const TXT_NAME: &str = "big.lab.test";
/// What the zone holds: two addresses for `www`, six long strings for `big`.
const A_ADDRESSES: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 77, 0, 80), Ipv4Addr::new(10, 77, 0, 81)];
const TXT_RECORDS: usize = 6;
const TXT_LEN: usize = 150;
const TTL: u32 = 300;
/// The query IDs the client picks.
const ID_A: u16 = 0x4c41;
const ID_TXT: u16 = 0x4c42;
/// The largest answer a server may send over UDP to a query without EDNS.
const UDP_LIMIT: usize = 512;
/// Header layout and flag bits (RFC 1035 §4.1.1).
const HEADER_LEN: usize = 12;
const FLAG_QR: u16 = 0x8000;
const FLAG_AA: u16 = 0x0400;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;
const RCODE_MASK: u16 = 0x000f;
const RCODE_NXDOMAIN: u16 = 3;
const TYPE_A: u16 = 1;
const TYPE_TXT: u16 = 16;
const CLASS_IN: u16 = 1;
/// A length byte with the top two bits set is a compression pointer.
const POINTER: u8 = 0xc0;
/// TYPE, CLASS, TTL and RDLENGTH after a record's name.
const RECORD_FIXED: usize = 10;
/// How long any receive in the lab, the server's included, may wait.
const BOUND: Duration = Duration::from_secs(3);
/// The pause between the two halves of the server's TCP answer.
const PIECE_GAP: Duration = Duration::from_millis(30);

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let pair = hosts::pair(t, 1500)?;
    let server_address = SocketAddr::from((pair.b.v4(), 53));
    t.note(format!(
        "the client in A ({}), the server for lab.test. in B ({})",
        pair.a.v4(),
        pair.b.v4()
    ));

    // The server: a UDP socket and a TCP listener in B, served on threads.
    let udp_server = hosts::socket(t, Actor::Server, (&pair.b, "B"), false, false)?;
    calls::bind(t, Actor::Server, &udp_server, server_address).need("bind")?;
    let tcp_server = hosts::socket(t, Actor::Server, (&pair.b, "B"), false, true)?;
    calls::setsockopt(
        t,
        Actor::Server,
        &tcp_server,
        "SO_REUSEADDR",
        crate::sockopt::Value::Bool(true),
    )?;
    calls::bind(t, Actor::Server, &tcp_server, server_address).need("bind")?;
    calls::listen(t, Actor::Server, &tcp_server, 4)?;
    t.note("one server on port 53 twice: UDP for ordinary queries, TCP for answers too big for a datagram");
    for socket in [&udp_server, &tcp_server] {
        socket
            .set_read_timeout(Some(BOUND))
            .map_err(|source| LabError::Call {
                what: "the server's receive timeout".into(),
                source,
            })?;
    }

    std::thread::scope(|scope| {
        scope.spawn(move || serve_udp(udp_server.into(), 2));
        scope.spawn(move || serve_tcp(tcp_server.into()));
        client(t, &pair, server_address)
    })
}

/// What the client learnt, step by step.
fn client(t: &mut Transcript<'_>, pair: &Pair, server: SocketAddr) -> Result<Conclusion, LabError> {
    let udp = hosts::socket(t, Actor::Client, (&pair.a, "A"), false, false)?;
    calls::receive_timeout(t, Actor::Client, &udp, BOUND)?;
    t.note("only a bound: the server answers at once");

    // 1. An A query, byte by byte.
    let query = build_query(t, ID_A, A_NAME, TYPE_A)?;
    let same_as_encoder =
        crate::wire::dns::emit_query(ID_A, A_NAME, crate::wire::dns::RecordType::A)
            .is_ok_and(|ours| ours == query);
    t.note(if same_as_encoder {
        format!("{} bytes in all, byte for byte what netdx's own encoder (src/wire/dns.rs) writes for this question", query.len())
    } else {
        format!("{} bytes in all; netdx's own encoder writes something else", query.len())
    });
    let _ = calls::sendto(t, Actor::Client, &udp, &query, server)?;
    let answer = receive_datagram(t, &udp)?;
    let walked = walk(t, &answer);
    let addresses: Vec<Ipv4Addr> = walked
        .as_ref()
        .map(|w| w.answers.iter().filter_map(Answer::address).collect())
        .unwrap_or_default();
    let pointers_ok = walked.as_ref().is_some_and(|w| {
        !w.answers.is_empty()
            && w.answers
                .iter()
                .all(|a| a.pointer.is_some_and(|(_, target)| target == HEADER_LEN))
    });
    let a_ok = walked
        .as_ref()
        .is_some_and(|w| w.id == ID_A && w.rcode() == 0)
        && addresses == A_ADDRESSES
        && pointers_ok;
    let decoder_a = cross_check_a(t, &answer, &addresses)?;

    // 2. A TXT answer too big for 512 bytes: TC.
    let query = build_query(t, ID_TXT, TXT_NAME, TYPE_TXT)?;
    let _ = calls::sendto(t, Actor::Client, &udp, &query, server)?;
    let short = receive_datagram(t, &udp)?;
    let cut = walk(t, &short);
    let truncated = cut
        .as_ref()
        .is_some_and(|w| w.flags & FLAG_TC != 0 && w.answers.len() < TXT_RECORDS);
    let cut_count = cut.as_ref().map_or(0, |w| w.answers.len());
    t.note(if truncated {
        format!("TC is set: the answer did not fit in {UDP_LIMIT} bytes, so the server sent the {cut_count} record(s) that fit and the flag that says there is more — ask again over TCP")
    } else {
        "the answer was not marked truncated".to_string()
    });
    let decoder_tc = crate::wire::dns::parse_reply(&short)
        .is_ok_and(|reply| reply.truncated && reply.answers.len() == cut_count);
    t.observe(
        "decode",
        format!(
            "the {} bytes with netdx's DNS decoder (src/wire/dns.rs)",
            short.len()
        ),
        if decoder_tc {
            format!("truncated, {cut_count} answer(s) kept whole — as read by hand")
        } else {
            "netdx's decoder read it differently".to_string()
        },
    )?;
    calls::close(t, Actor::Client, udp)?;

    // 3. The retry over TCP: a 2-byte length before each message.
    let tcp = hosts::socket(t, Actor::Client, (&pair.a, "A"), false, true)?;
    calls::receive_timeout(t, Actor::Client, &tcp, BOUND)?;
    calls::connect(t, Actor::Client, &tcp, server).need("connect")?;
    let prefix = (query.len() as u16).to_be_bytes();
    let _ = t.call(
        Actor::Client,
        "build",
        format!("length prefix for the {}-byte query", query.len()),
        || Ok(()),
        |()| calls::hex(&prefix),
    )?;
    t.note("over TCP every DNS message is preceded by its length, two bytes big-endian (RFC 1035 §4.2.2): a stream has no datagram boundaries");
    let mut framed = prefix.to_vec();
    framed.extend_from_slice(&query);
    let _ = calls::send(t, Actor::Client, &tcp, &framed)?;
    t.note("the same query as over UDP, behind its length");
    let (full, reads) = receive_framed(t, &tcp)?;
    let whole = walk(t, &full);
    let strings: Vec<Vec<u8>> = whole
        .as_ref()
        .map(|w| w.answers.iter().filter_map(Answer::text).collect())
        .unwrap_or_default();
    let tcp_ok = whole
        .as_ref()
        .is_some_and(|w| w.flags & FLAG_TC == 0 && w.id == ID_TXT)
        && strings.len() == TXT_RECORDS
        && strings.iter().enumerate().all(|(i, s)| *s == txt_string(i));
    let decoder_txt = cross_check_txt(t, &full, &strings)?;
    calls::close(t, Actor::Client, tcp)?;

    let as_expected =
        same_as_encoder && a_ok && decoder_a && truncated && decoder_tc && tcp_ok && decoder_txt;
    let mut text = String::new();
    // The run as a whole first: `lab all` shows this sentence.
    text.push_str(&if as_expected {
        format!("A query built byte by byte got {} A records named by the pointer 0xC00C; the TXT answer came cut short with TC over UDP and whole over TCP behind its 2-byte length; netdx's decoders agreed with the hand walk. ", addresses.len())
    } else {
        "Not every DNS exchange read as the lesson says; what differed is below. ".to_string()
    });
    text.push_str(&if a_ok {
        format!("The query built by hand — a 12-byte header (ID, the RD flag, QDCOUNT 1), the name as length-prefixed labels ending in a zero byte, QTYPE and QCLASS — got {} A records for {A_NAME}, each naming its owner with the two-byte pointer 0xC00C to the question's name at offset 12. ", addresses.len())
    } else {
        "The hand-built query's answer did not read as expected (two A records whose names point back to the question). ".to_string()
    });
    text.push_str(&if truncated {
        format!("The TXT answer over UDP came with TC set and only {cut_count} of its {TXT_RECORDS} records; ")
    } else {
        "The TXT answer over UDP was not truncated; ".to_string()
    });
    text.push_str(&if tcp_ok {
        format!("over TCP it came whole ({} bytes, {TXT_RECORDS} records) behind its 2-byte length, read in {reads} recv() call(s) after the prefix: the length-prefix framing of the sticky lab. ", full.len())
    } else {
        "over TCP it did not come whole. ".to_string()
    });
    text.push_str(if decoder_a && decoder_tc && decoder_txt {
        "netdx's own decoders (src/wire/dns.rs, hickory-proto) read all three answers as the hand walk did."
    } else {
        "netdx's own decoders did not agree with the hand walk on every answer."
    });
    Ok(Conclusion::new(as_expected, text))
}

/// The query's header, name and type, built and shown field by field.
fn build_query(
    t: &mut Transcript<'_>,
    id: u16,
    name: &str,
    kind: u16,
) -> Result<Vec<u8>, LabError> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(&id.to_be_bytes());
    header.extend_from_slice(&FLAG_RD.to_be_bytes());
    header.extend_from_slice(&1u16.to_be_bytes());
    header.extend_from_slice(&[0; 6]);
    let _ = t.call(
        Actor::Client,
        "build",
        format!("header: ID {id:#06x}, flags {FLAG_RD:#06x} (RD: recursion desired), QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0"),
        || Ok(()),
        |()| calls::hex(&header),
    )?;
    let mut qname = Vec::new();
    let mut labels = Vec::new();
    for label in name.split('.') {
        qname.push(label.len() as u8);
        qname.extend_from_slice(label.as_bytes());
        labels.push(format!("{} \"{label}\"", label.len()));
    }
    qname.push(0);
    let _ = t.call(
        Actor::Client,
        "build",
        format!(
            "QNAME {name}.: labels {}, then 0 (the root)",
            labels.join(", ")
        ),
        || Ok(()),
        |()| calls::hex(&qname),
    )?;
    let type_name = if kind == TYPE_A { "A" } else { "TXT" };
    let mut tail = kind.to_be_bytes().to_vec();
    tail.extend_from_slice(&CLASS_IN.to_be_bytes());
    let _ = t.call(
        Actor::Client,
        "build",
        format!("QTYPE {kind} ({type_name}), QCLASS {CLASS_IN} (IN)"),
        || Ok(()),
        |()| calls::hex(&tail),
    )?;
    let mut query = header;
    query.extend(qname);
    query.extend(tail);
    Ok(query)
}

/// recvfrom(): one datagram, whole (512 bytes is all a server may send).
fn receive_datagram(t: &mut Transcript<'_>, socket: &Socket) -> Result<Vec<u8>, LabError> {
    let (data, _) = calls::recvfrom(t, Actor::Client, socket, UDP_LIMIT).need("recvfrom")?;
    Ok(data)
}

/// The TCP answer: the 2-byte length first, then exactly that many bytes,
/// over as many recv()s as it takes. Returns the message and how many
/// recv()s its body took.
fn receive_framed(t: &mut Transcript<'_>, socket: &Socket) -> Result<(Vec<u8>, usize), LabError> {
    let mut prefix = Vec::new();
    while prefix.len() < 2 {
        let got = calls::recv(t, Actor::Client, socket, 2 - prefix.len()).need("recv")?;
        if got.is_empty() {
            t.note("end of stream before the length");
            return Ok((Vec::new(), 0));
        }
        prefix.extend(got);
    }
    let length = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
    t.note(format!(
        "the length first: {} = {length} bytes follow; now read exactly that many, however many recv()s it takes",
        calls::hex(&prefix)
    ));
    let mut message = Vec::new();
    let mut reads = 0;
    while message.len() < length {
        let got = calls::recv(t, Actor::Client, socket, length - message.len()).need("recv")?;
        reads += 1;
        if got.is_empty() {
            t.note("end of stream before the whole message");
            break;
        }
        message.extend(got);
        t.note(format!("{} of {length} bytes so far", message.len()));
    }
    if message.len() == length {
        t.note(format!("the message is whole after {reads} recv() call(s): the server wrote it in pieces, and TCP delivers bytes, not messages — the sticky lab's framing, by the book"));
    }
    Ok((message, reads))
}

/// One record of the answer section, as read by hand.
struct Answer {
    /// Where the owner's compression pointer was and where it pointed.
    pointer: Option<(usize, usize)>,
    kind: u16,
    rdata: Vec<u8>,
}

impl Answer {
    fn address(&self) -> Option<Ipv4Addr> {
        let octets: [u8; 4] = self.rdata.as_slice().try_into().ok()?;
        (self.kind == TYPE_A).then(|| Ipv4Addr::from(octets))
    }

    /// A TXT record's one character-string.
    fn text(&self) -> Option<Vec<u8>> {
        let (&length, rest) = self.rdata.split_first()?;
        (self.kind == TYPE_TXT && rest.len() == usize::from(length)).then(|| rest.to_vec())
    }
}

/// A message as walked by hand.
struct Walked {
    id: u16,
    flags: u16,
    answers: Vec<Answer>,
}

impl Walked {
    fn rcode(&self) -> u16 {
        self.flags & RCODE_MASK
    }
}

/// Reads `len` bytes at `at`, or says why not: the message came from the
/// network, so no offset is trusted before it is checked.
fn slice(message: &[u8], at: usize, len: usize) -> io::Result<&[u8]> {
    message.get(at..at + len).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the message ends at {} bytes, before offset {}",
                message.len(),
                at + len
            ),
        )
    })
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// A name as read from a message.
struct Name {
    /// Dotted, without the root's dot.
    text: String,
    /// The first compression pointer met: its offset and its target.
    pointer: Option<(usize, usize)>,
    /// The offset just past the name where it starts.
    end: usize,
}

/// The name at `at`: its labels, the first compression pointer met (its
/// offset and target), and where the name ends in place.
fn read_name(message: &[u8], at: usize) -> io::Result<Name> {
    let bad = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_string());
    let mut labels: Vec<String> = Vec::new();
    let mut position = at;
    let mut pointer = None;
    let mut end = None;
    loop {
        let length = slice(message, position, 1)?[0];
        if length & POINTER == POINTER {
            let low = slice(message, position + 1, 1)?[0];
            let target = usize::from(u16::from_be_bytes([length & !POINTER, low]));
            // Only backwards: a pointer to itself or ahead could loop.
            if target >= position {
                return Err(bad("a compression pointer that does not point back"));
            }
            pointer.get_or_insert((position, target));
            end.get_or_insert(position + 2);
            position = target;
        } else if length & POINTER != 0 {
            return Err(bad("an extended label type"));
        } else if length == 0 {
            let name = if labels.is_empty() {
                ".".to_string()
            } else {
                labels.join(".")
            };
            return Ok(Name {
                text: name,
                pointer,
                end: end.unwrap_or(position + 1),
            });
        } else {
            let label = slice(message, position + 1, usize::from(length))?;
            labels.push(String::from_utf8_lossy(label).into_owned());
            if labels.iter().map(|l| l.len() + 1).sum::<usize>() > crate::wire::dns::MAX_NAME {
                return Err(bad("a name longer than 255 bytes"));
            }
            position += 1 + label.len();
        }
    }
}

/// Up to 16 bytes in hex, and how many more there are.
fn shown(bytes: &[u8]) -> String {
    if bytes.len() > 16 {
        format!("{} … ({} bytes)", calls::hex(&bytes[..16]), bytes.len())
    } else {
        calls::hex(bytes)
    }
}

/// Walks a received message section by section, each field a step; None
/// when a field could not be read (the failing step says where).
fn walk(t: &mut Transcript<'_>, message: &[u8]) -> Option<Walked> {
    walk_steps(t, message).ok().flatten()
}

/// One field read by hand: what was read (`args`), what it says (the result).
fn read(
    t: &mut Transcript<'_>,
    what: String,
    f: impl FnOnce() -> io::Result<String>,
) -> Result<io::Result<String>, LabError> {
    t.call(Actor::Client, "read", what, f, String::clone)
}

fn walk_steps(t: &mut Transcript<'_>, message: &[u8]) -> Result<Option<Walked>, LabError> {
    let header = match slice(message, 0, HEADER_LEN) {
        Ok(header) => header,
        Err(err) => {
            let _ = read(t, "header".into(), || {
                Err(io::Error::new(err.kind(), err.to_string()))
            })?;
            return Ok(None);
        }
    };
    let id = be16(header, 0);
    let flags = be16(header, 2);
    let counts = [
        be16(header, 4),
        be16(header, 6),
        be16(header, 8),
        be16(header, 10),
    ];
    let _ = read(t, format!("header @0: {}", calls::hex(header)), || {
        Ok(format!(
            "ID {id:#06x}, flags {flags:#06x} = {}, RCODE {}; QDCOUNT {}, ANCOUNT {}, NSCOUNT {}, ARCOUNT {}",
            flag_words(flags),
            rcode_word(flags & RCODE_MASK),
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        ))
    })?;
    let mut at = HEADER_LEN;
    for _ in 0..counts[0] {
        let question = read_name(message, at).and_then(
            |Name {
                 text: name, end, ..
             }| {
                let tail = slice(message, end, 4)?;
                Ok((name, end + 4, be16(tail, 0), be16(tail, 2)))
            },
        );
        let bytes = message
            .get(at..question.as_ref().map_or(at, |q| q.1))
            .unwrap_or_default();
        let args = format!("question @{at}: {}", shown(bytes));
        let question = read(t, args, || match &question {
            Ok((name, _, kind, class)) => Ok(format!(
                "{name}., QTYPE {kind} ({}), QCLASS {class} ({})",
                type_word(*kind),
                if *class == CLASS_IN { "IN" } else { "?" }
            )),
            Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
        })?;
        if question.is_err() {
            return Ok(None);
        }
        t.note("the question comes back as it was asked: the answer says what it answers");
        at = question_end(message, at).unwrap_or(message.len());
    }
    let mut answers = Vec::new();
    for number in 1..=counts[1] {
        match read_record(t, message, at, number)? {
            Some((answer, end)) => {
                answers.push(answer);
                at = end;
            }
            None => return Ok(None),
        }
    }
    Ok(Some(Walked { id, flags, answers }))
}

fn question_end(message: &[u8], at: usize) -> Option<usize> {
    read_name(message, at).ok().map(|name| name.end + 4)
}

/// One record: its NAME (and the pointer in it), the fixed fields, RDATA.
fn read_record(
    t: &mut Transcript<'_>,
    message: &[u8],
    at: usize,
    number: u16,
) -> Result<Option<(Answer, usize)>, LabError> {
    let name = read_name(message, at);
    let name_bytes = message
        .get(at..name.as_ref().map_or(at, |n| n.end))
        .unwrap_or_default();
    let step = t.call(
        Actor::Client,
        "read",
        format!("answer {number} NAME @{at}: {}", shown(name_bytes)),
        || match &name {
            Ok(Name {
                text,
                pointer: Some((_, target)),
                ..
            }) => Ok(format!("pointer to offset {target} → {text}.")),
            Ok(Name {
                text,
                pointer: None,
                ..
            }) => Ok(format!("{text}. (written out, no pointer)")),
            Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
        },
        String::clone,
    )?;
    let Ok(Name { pointer, end, .. }) = name else {
        return Ok(None);
    };
    if step.is_ok() && number == 1 {
        if let Some((_, target)) = pointer {
            t.note(format!("{}: the top two bits 11 mark a compression pointer, the other 14 bits are the offset ({target}) where the rest of the name is — the question's name, written only once", shown(name_bytes)));
        }
    }
    let fixed = match slice(message, end, RECORD_FIXED) {
        Ok(fixed) => fixed.to_vec(),
        Err(err) => {
            let _ = t.call(
                Actor::Client,
                "read",
                format!("answer {number} fixed fields @{end}"),
                || Err::<(), _>(err),
                |()| String::new(),
            )?;
            return Ok(None);
        }
    };
    let kind = be16(&fixed, 0);
    let class = be16(&fixed, 2);
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let length = usize::from(be16(&fixed, 8));
    let _ = t.call(
        Actor::Client,
        "read",
        format!(
            "answer {number} TYPE CLASS TTL RDLENGTH @{end}: {}",
            calls::hex(&fixed)
        ),
        || Ok(()),
        |()| {
            format!(
                "TYPE {kind} ({}), CLASS {class} ({}), TTL {ttl} s, RDLENGTH {length}",
                type_word(kind),
                if class == CLASS_IN { "IN" } else { "?" }
            )
        },
    )?;
    let start = end + RECORD_FIXED;
    let rdata = slice(message, start, length).map(<[u8]>::to_vec);
    let shown_rdata = rdata.as_deref().map(shown).unwrap_or_default();
    let step = t.call(
        Actor::Client,
        "read",
        format!("answer {number} RDATA @{start}: {shown_rdata}"),
        || match &rdata {
            Ok(bytes) => Ok(rdata_word(kind, bytes)),
            Err(err) => Err(io::Error::new(err.kind(), err.to_string())),
        },
        String::clone,
    )?;
    match (step, rdata) {
        (Ok(_), Ok(rdata)) => Ok(Some((
            Answer {
                pointer,
                kind,
                rdata,
            },
            start + length,
        ))),
        _ => Ok(None),
    }
}

fn flag_words(flags: u16) -> String {
    let mut words = vec![if flags & FLAG_QR != 0 {
        "QR (a response)"
    } else {
        "a query"
    }];
    for (bit, word) in [
        (FLAG_AA, "AA (authoritative)"),
        (FLAG_TC, "TC (truncated)"),
        (FLAG_RD, "RD"),
        (FLAG_RA, "RA"),
    ] {
        if flags & bit != 0 {
            words.push(word);
        }
    }
    words.join(", ")
}

fn rcode_word(rcode: u16) -> String {
    let name = crate::wire::dns::Rcode(rcode as u8).name();
    format!("{rcode} ({name})")
}

fn type_word(kind: u16) -> &'static str {
    match kind {
        TYPE_A => "A",
        TYPE_TXT => "TXT",
        _ => "?",
    }
}

fn rdata_word(kind: u16, rdata: &[u8]) -> String {
    match (kind, rdata) {
        (TYPE_A, [a, b, c, d]) => Ipv4Addr::new(*a, *b, *c, *d).to_string(),
        (TYPE_TXT, [length, rest @ ..]) if rest.len() == usize::from(*length) => {
            format!("one {length}-byte string {}", calls::quote(rest))
        }
        _ => format!("{} bytes", rdata.len()),
    }
}

/// The A answer again, through netdx's own DNS decoder.
fn cross_check_a(
    t: &mut Transcript<'_>,
    message: &[u8],
    by_hand: &[Ipv4Addr],
) -> Result<bool, LabError> {
    use crate::wire::dns::RecordData;
    let decoded = crate::wire::dns::parse_reply(message);
    let (agrees, text) = match &decoded {
        Ok(reply) => {
            let addresses: Vec<Ipv4Addr> = reply
                .answers
                .iter()
                .filter_map(|r| match r.data {
                    RecordData::A(a) if r.owner == A_NAME && r.ttl == TTL => Some(a),
                    _ => None,
                })
                .collect();
            let records: Vec<String> = reply
                .answers
                .iter()
                .map(|r| format!("{}. {} {:?}", r.owner, r.ttl, r.data))
                .collect();
            let agrees = addresses == by_hand && reply.id == ID_A && !reply.truncated;
            (
                agrees,
                format!(
                    "{}, {} answer(s): {}{}",
                    reply.rcode.name(),
                    reply.answers.len(),
                    records.join("; "),
                    if agrees {
                        " — the same as read by hand"
                    } else {
                        " — not what the hand walk read"
                    }
                ),
            )
        }
        Err(err) => (false, format!("refused: {err}")),
    };
    t.observe(
        "decode",
        format!(
            "the {} bytes with netdx's DNS decoder (src/wire/dns.rs)",
            message.len()
        ),
        text,
    )?;
    Ok(agrees)
}

/// The TCP answer again, through hickory-proto (what `netdx dns` decodes with).
fn cross_check_txt(
    t: &mut Transcript<'_>,
    message: &[u8],
    by_hand: &[Vec<u8>],
) -> Result<bool, LabError> {
    use hickory_proto::op::Message;
    use hickory_proto::rr::RData;
    let (agrees, text) = match Message::from_vec(message) {
        Ok(decoded) => {
            let strings: Vec<Vec<u8>> = decoded
                .answers
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(txt) => Some(txt.txt_data.concat()),
                    _ => None,
                })
                .collect();
            let agrees = strings == by_hand && !decoded.metadata.truncation;
            (
                agrees,
                format!(
                    "{} TXT record(s) of {} bytes each{}",
                    strings.len(),
                    strings.first().map_or(0, Vec::len),
                    if agrees {
                        ", the same strings as read by hand"
                    } else {
                        ", not what the hand walk read"
                    }
                ),
            )
        }
        Err(err) => (false, format!("refused: {err}")),
    };
    t.observe(
        "decode",
        format!(
            "the {} bytes with hickory-proto (netdx dns's decoder)",
            message.len()
        ),
        text,
    )?;
    Ok(agrees)
}

// The server's side: the zone and the answers it builds.

/// The i-th TXT string: 150 bytes saying which record it is.
fn txt_string(i: usize) -> Vec<u8> {
    let mut text = format!("record {} of {TXT_RECORDS}: ", i + 1).into_bytes();
    let filler = b"abcdefghijklmnopqrstuvwxyz0123456789";
    while text.len() < TXT_LEN {
        text.push(filler[text.len() % filler.len()]);
    }
    text
}

/// The answer to `query` as lab.test's server builds it: the question
/// copied back, every record's owner the pointer 0xC00C to it. Over UDP an
/// answer past 512 bytes keeps only the records that fit, with TC set.
fn answer(query: &[u8], udp: bool) -> Option<Vec<u8>> {
    let asked = crate::wire::dns::parse_query(query).ok()?;
    let name = asked.question.name.to_ascii_lowercase();
    let kind = asked.question.kind.0;
    let records: Vec<(u16, Vec<u8>)> = match (name.as_str(), kind) {
        (A_NAME, TYPE_A) => A_ADDRESSES
            .iter()
            .map(|a| (TYPE_A, a.octets().to_vec()))
            .collect(),
        (TXT_NAME, TYPE_TXT) => (0..TXT_RECORDS)
            .map(|i| {
                let mut rdata = vec![TXT_LEN as u8];
                rdata.extend(txt_string(i));
                (TYPE_TXT, rdata)
            })
            .collect(),
        _ => Vec::new(),
    };
    let known = name == A_NAME || name == TXT_NAME;
    let mut flags = FLAG_QR | FLAG_AA | if asked.recursion { FLAG_RD } else { 0 };
    if !known {
        flags |= RCODE_NXDOMAIN;
    }
    // The header and the question as asked; flags and ANCOUNT filled in below.
    let mut message = query.to_vec();
    let mut included: u16 = 0;
    for (kind, rdata) in records {
        let mut record = vec![POINTER, HEADER_LEN as u8];
        record.extend_from_slice(&kind.to_be_bytes());
        record.extend_from_slice(&CLASS_IN.to_be_bytes());
        record.extend_from_slice(&TTL.to_be_bytes());
        record.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        record.extend(rdata);
        if udp && message.len() + record.len() > UDP_LIMIT {
            flags |= FLAG_TC;
            break;
        }
        message.extend(record);
        included += 1;
    }
    message[2..4].copy_from_slice(&flags.to_be_bytes());
    message[6..8].copy_from_slice(&included.to_be_bytes());
    Some(message)
}

/// Answers up to `queries` datagrams, then stops (or when none comes in time).
fn serve_udp(socket: std::net::UdpSocket, queries: usize) {
    let mut buf = [0u8; UDP_LIMIT];
    for _ in 0..queries {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            return;
        };
        if let Some(reply) = answer(&buf[..n], true) {
            let _ = socket.send_to(&reply, from);
        }
    }
}

/// Accepts one connection and answers its length-prefixed queries, each in
/// three writes — the prefix, then the message in two halves 30 ms apart —
/// as a busy server or a slow path may deliver it.
fn serve_tcp(listener: std::net::TcpListener) {
    use std::io::{Read, Write};
    let Ok((mut stream, _)) = listener.accept() else {
        return;
    };
    let _ = stream.set_read_timeout(Some(BOUND));
    // Each write leaves at once (no Nagle wait for an ACK): the pieces are
    // the server's, not the stack's.
    let _ = stream.set_nodelay(true);
    loop {
        let mut prefix = [0u8; 2];
        if stream.read_exact(&mut prefix).is_err() {
            return;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        let Some(reply) = answer(&query, false) else {
            return;
        };
        let half = reply.len() / 2;
        let _ = stream.write_all(&(reply.len() as u16).to_be_bytes());
        let _ = stream.write_all(&reply[..half]);
        std::thread::sleep(PIECE_GAP);
        let _ = stream.write_all(&reply[half..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `name` and `kind` with RD, as the lab's client builds it.
    fn query(id: u16, name: &str, kind: u16) -> Vec<u8> {
        let mut q = id.to_be_bytes().to_vec();
        q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&kind.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    #[test]
    fn a_pointer_is_followed_back_to_the_question_name() {
        let reply = answer(&query(ID_A, A_NAME, TYPE_A), true).unwrap();
        let at = HEADER_LEN + A_NAME.len() + 2 + 4;
        assert_eq!(reply[at..at + 2], [0xc0, 0x0c]);
        let name = read_name(&reply, at).unwrap();
        assert_eq!(name.text, A_NAME);
        assert_eq!(name.pointer, Some((at, 12)));
        assert_eq!(name.end, at + 2);
    }

    #[test]
    fn a_pointer_to_itself_or_ahead_and_a_cut_name_are_refused() {
        let mut message = vec![0u8; HEADER_LEN];
        message.extend_from_slice(&[0xc0, 0x0c]);
        assert!(read_name(&message, HEADER_LEN).is_err(), "to itself");
        message[HEADER_LEN + 1] = 0x20;
        assert!(read_name(&message, HEADER_LEN).is_err(), "ahead");
        assert!(read_name(&[3, b'w', b'w'], 0).is_err(), "cut label");
        assert!(read_name(&[0x40], 0).is_err(), "extended label type");
    }

    #[test]
    fn the_txt_answer_is_truncated_over_udp_and_whole_over_tcp() {
        let q = query(ID_TXT, TXT_NAME, TYPE_TXT);
        let udp = answer(&q, true).unwrap();
        assert!(udp.len() <= UDP_LIMIT);
        assert_ne!(be16(&udp, 2) & FLAG_TC, 0);
        assert!(usize::from(be16(&udp, 6)) < TXT_RECORDS);
        let tcp = answer(&q, false).unwrap();
        assert!(tcp.len() > UDP_LIMIT);
        assert_eq!(be16(&tcp, 2) & FLAG_TC, 0);
        assert_eq!(usize::from(be16(&tcp, 6)), TXT_RECORDS);
    }

    #[test]
    fn an_unknown_name_is_nxdomain_with_no_answer() {
        let reply = answer(&query(1, "nope.lab.test", TYPE_A), true).unwrap();
        assert_eq!(be16(&reply, 2) & RCODE_MASK, RCODE_NXDOMAIN);
        assert_eq!(be16(&reply, 6), 0);
    }
}
