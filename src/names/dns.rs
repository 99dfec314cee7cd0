//! A minimal stub resolver: one question at a time over UDP to each
//! nameserver of resolv.conf in turn (over TCP when the answer is cut
//! short), accepting only a reply that comes from the server asked, carries
//! the query's random id and repeats its question.
#![forbid(unsafe_code)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::NameError;
use super::resolv::ResolvConf;
use crate::wire::dns::{
    self, CLASS_IN, Question, Rcode, RecordData, RecordType, Reply, emit_query, parse_reply,
};

/// The largest reply a UDP datagram can carry.
const UDP_MAX: usize = 65_535;
/// At most this many CNAMEs are followed inside one answer.
const MAX_ALIASES: usize = 16;

/// What one question came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The name exists; these are its records of the type asked for (after
    /// following the CNAMEs the answer holds), possibly none.
    Records(Vec<RecordData>),
    /// NXDOMAIN: the name does not exist.
    NoSuchName,
}

/// The addresses of `name` of one type (A or AAAA), following CNAMEs.
pub fn addresses(
    conf: &ResolvConf,
    name: &str,
    kind: RecordType,
) -> Result<Option<Vec<IpAddr>>, NameError> {
    Ok(match ask(conf, name, kind)? {
        Answer::NoSuchName => None,
        Answer::Records(records) => Some(
            records
                .into_iter()
                .filter_map(|data| match data {
                    RecordData::A(v4) => Some(IpAddr::V4(v4)),
                    RecordData::Aaaa(v6) => Some(IpAddr::V6(v6)),
                    _ => None,
                })
                .collect(),
        ),
    })
}

/// The name a PTR record gives `address`, if it has one.
pub fn pointer(conf: &ResolvConf, address: &IpAddr) -> Result<Option<String>, NameError> {
    Ok(
        match ask(conf, &dns::reverse_name(address), RecordType::PTR)? {
            Answer::NoSuchName => None,
            Answer::Records(records) => records.into_iter().find_map(|data| match data {
                RecordData::Ptr(name) => Some(name),
                _ => None,
            }),
        },
    )
}

/// Asks the nameservers of `conf` about `name`: each in turn, `attempts`
/// rounds, waiting `timeout` for each. NXDOMAIN from any server is final; a
/// server that fails (SERVFAIL, REFUSED …) or stays silent passes the
/// question on to the next.
pub fn ask(conf: &ResolvConf, name: &str, kind: RecordType) -> Result<Answer, NameError> {
    let id = random_id();
    let query = emit_query(id, name, kind).map_err(|_| NameError::NotFound)?;
    let question = Question {
        name: name.trim_end_matches('.').to_string(),
        kind,
        class: CLASS_IN,
    };
    let mut sockets = Sockets::default();
    let mut failure: Option<NameError> = None;
    for _ in 0..conf.attempts.max(1) {
        for server in &conf.nameservers {
            let reply = match sockets.exchange(*server, &query, id, &question, conf) {
                Ok(Some(reply)) => reply,
                Ok(None) => {
                    failure.get_or_insert(NameError::Timeout {
                        servers: servers(conf),
                    });
                    continue;
                }
                Err(err) => {
                    // A server this host cannot even send to is no better next round.
                    failure = Some(NameError::NoServer {
                        server: *server,
                        reason: crate::sockopt::errno_text(&err),
                    });
                    continue;
                }
            };
            match reply.rcode {
                Rcode::NOERROR => return Ok(Answer::Records(follow(&question, &reply))),
                Rcode::NXDOMAIN => return Ok(Answer::NoSuchName),
                rcode => {
                    failure = Some(NameError::ServerFailure {
                        server: *server,
                        rcode: rcode.name(),
                    });
                }
            }
        }
    }
    Err(failure.unwrap_or(NameError::Timeout {
        servers: servers(conf),
    }))
}

/// The records of the type asked for that belong to the name asked about or
/// to the end of its CNAME chain within the answer.
fn follow(question: &Question, reply: &Reply) -> Vec<RecordData> {
    let mut owner = question.name.clone();
    for _ in 0..MAX_ALIASES {
        let alias = reply.answers.iter().find_map(|record| match &record.data {
            RecordData::Cname(target) if record.owner.eq_ignore_ascii_case(&owner) => {
                Some(target.clone())
            }
            _ => None,
        });
        match alias {
            Some(target) => owner = target,
            None => break,
        }
    }
    reply
        .answers
        .iter()
        .filter(|record| record.owner.eq_ignore_ascii_case(&owner))
        .filter(|record| {
            matches!(
                (&record.data, question.kind),
                (RecordData::A(_), RecordType::A)
                    | (RecordData::Aaaa(_), RecordType::AAAA)
                    | (RecordData::Ptr(_), RecordType::PTR)
            )
        })
        .map(|record| record.data.clone())
        .collect()
}

/// The nameservers, for an error message.
fn servers(conf: &ResolvConf) -> String {
    conf.nameservers
        .iter()
        .map(|server| server.ip().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One unconnected UDP socket per address family, opened when first needed.
#[derive(Default)]
struct Sockets {
    v4: Option<UdpSocket>,
    v6: Option<UdpSocket>,
}

impl Sockets {
    /// Sends `query` to `server` and waits up to the timeout for its answer;
    /// `Ok(None)` when none came. Datagrams from elsewhere, with another id
    /// or question, or that do not parse, are dropped unread.
    fn exchange(
        &mut self,
        server: SocketAddr,
        query: &[u8],
        id: u16,
        question: &Question,
        conf: &ResolvConf,
    ) -> std::io::Result<Option<Reply>> {
        let socket = self.socket(server)?;
        socket.send_to(query, server)?;
        let deadline = Instant::now() + conf.timeout;
        let mut buffer = vec![0u8; UDP_MAX];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            socket.set_read_timeout(Some(left))?;
            let (length, from) = match socket.recv_from(&mut buffer) {
                Ok(received) => received,
                Err(err)
                    if matches!(
                        err.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            if from != server {
                continue;
            }
            let Some(reply) = accept(buffer.get(..length).unwrap_or_default(), id, question) else {
                continue;
            };
            if reply.truncated {
                return Ok(Some(
                    over_tcp(server, query, id, question, conf).unwrap_or(reply),
                ));
            }
            return Ok(Some(reply));
        }
    }

    fn socket(&mut self, server: SocketAddr) -> std::io::Result<&UdpSocket> {
        let (slot, local) = match server {
            SocketAddr::V4(_) => (&mut self.v4, IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            SocketAddr::V6(_) => (&mut self.v6, IpAddr::V6(Ipv6Addr::UNSPECIFIED)),
        };
        if slot.is_none() {
            *slot = Some(UdpSocket::bind(SocketAddr::new(local, 0))?);
        }
        slot.as_ref()
            .ok_or_else(|| std::io::Error::other("no socket"))
    }
}

/// The reply in `bytes` if it answers our query.
fn accept(bytes: &[u8], id: u16, question: &Question) -> Option<Reply> {
    let reply = parse_reply(bytes).ok()?;
    let same = reply.id == id && reply.question.as_ref().is_some_and(|q| q.matches(question));
    same.then_some(reply)
}

/// Asks `server` again over TCP (RFC 1035 4.2.2: a two-byte length before
/// each message); `None` if that fails in any way, and the cut-short UDP
/// answer is used instead.
fn over_tcp(
    server: SocketAddr,
    query: &[u8],
    id: u16,
    question: &Question,
    conf: &ResolvConf,
) -> Option<Reply> {
    let mut stream = TcpStream::connect_timeout(&server, conf.timeout).ok()?;
    stream.set_read_timeout(Some(conf.timeout)).ok()?;
    stream.set_write_timeout(Some(conf.timeout)).ok()?;
    let length = u16::try_from(query.len()).ok()?;
    let mut framed = length.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream.write_all(&framed).ok()?;
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix).ok()?;
    // At most 64 KiB, as the two-byte length allows.
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut reply).ok()?;
    accept(&reply, id, question).filter(|reply| !reply.truncated)
}

/// A query id no off-path sender can guess cheaply: std's randomly keyed
/// SipHash over a per-process counter.
pub(crate) fn random_id() -> u16 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish() as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Duration;

    /// A nameserver on a loopback port that answers each query with what
    /// `script` makes of it (nothing for `None`).
    fn responder(script: fn(&[u8]) -> Vec<Vec<u8>>) -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = socket.local_addr().unwrap();
        thread::spawn(move || {
            let mut buffer = [0u8; 512];
            while let Ok((length, peer)) = socket.recv_from(&mut buffer) {
                for reply in script(&buffer[..length]) {
                    let _ = socket.send_to(&reply, peer);
                }
            }
        });
        address
    }

    fn conf(servers: &[SocketAddr]) -> ResolvConf {
        ResolvConf {
            nameservers: servers.to_vec(),
            timeout: Duration::from_millis(300),
            attempts: 1,
            ..ResolvConf::default()
        }
    }

    /// The query turned into a reply with `rcode` and `answers` (raw records).
    fn reply_to(query: &[u8], rcode: u8, answers: &[&[u8]]) -> Vec<u8> {
        let mut reply = query.to_vec();
        reply[2] = 0x81;
        reply[3] = 0x80 | rcode;
        reply[7] = answers.len() as u8;
        for answer in answers {
            reply.extend_from_slice(answer);
        }
        reply
    }

    /// `name → 192.0.2.1`, the question's name compressed.
    const A_RECORD: &[u8] = &[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];

    #[test]
    fn an_answer_from_the_server_with_our_id_and_question_is_taken() {
        let server = responder(|query| vec![reply_to(query, 0, &[A_RECORD])]);
        let found = addresses(&conf(&[server]), "host.test", RecordType::A).unwrap();
        assert_eq!(found, Some(vec!["192.0.2.1".parse().unwrap()]));
    }

    #[test]
    fn foreign_ids_and_questions_are_ignored_until_the_real_answer() {
        let server = responder(|query| {
            let mut foreign_id = reply_to(query, 0, &[A_RECORD]);
            foreign_id[0] ^= 0xff;
            let mut other_question = reply_to(query, 0, &[A_RECORD]);
            other_question[13] ^= 0x20 ^ 0x01; // another first letter
            vec![
                b"garbage".to_vec(),
                foreign_id,
                other_question,
                reply_to(query, 0, &[]),
            ]
        });
        let found = addresses(&conf(&[server]), "host.test", RecordType::A).unwrap();
        assert_eq!(
            found,
            Some(vec![]),
            "only the last datagram is an answer to us"
        );
    }

    #[test]
    fn nxdomain_is_no_such_name_and_a_silent_server_times_out() {
        let server = responder(|query| vec![reply_to(query, 3, &[])]);
        assert_eq!(
            ask(&conf(&[server]), "nope.test", RecordType::A).unwrap(),
            Answer::NoSuchName
        );
        let silent = responder(|_| vec![]);
        let started = Instant::now();
        assert!(matches!(
            ask(&conf(&[silent]), "x.test", RecordType::A),
            Err(NameError::Timeout { .. })
        ));
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_failing_server_passes_the_question_to_the_next() {
        let refusing = responder(|query| vec![reply_to(query, 5, &[])]);
        let answering = responder(|query| vec![reply_to(query, 0, &[A_RECORD])]);
        let found = addresses(&conf(&[refusing, answering]), "host.test", RecordType::A);
        assert_eq!(found.unwrap().map(|a| a.len()), Some(1));
        assert!(matches!(
            ask(&conf(&[refusing]), "host.test", RecordType::A),
            Err(NameError::ServerFailure {
                rcode: "REFUSED",
                ..
            })
        ));
    }

    #[test]
    fn cname_chains_are_followed_within_the_answer() {
        let reply = parse_reply(&crate::wire::dns::tests::cname_reply(1)).unwrap();
        let question = reply.question.clone().unwrap();
        assert_eq!(
            follow(&question, &reply),
            [RecordData::A(Ipv4Addr::new(192, 0, 2, 7))]
        );
    }

    #[test]
    fn query_ids_differ() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_id()).collect();
        assert!(ids.len() > 56, "{ids:?}");
    }
}
