//! The walk over a scripted hierarchy: authoritative servers modelled as
//! zones (delegations, glue, data), plus servers that are silent, refuse,
//! or refer upwards — the cases a real hierarchy in namespaces can show
//! only one at a time.
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, NS};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::*;
use crate::dns::Transport;

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

/// How a scripted server behaves.
enum Behaviour {
    /// Authoritative for these zones: (apex, records).
    Serve(Vec<(Name, Vec<Record>)>),
    /// Never answers.
    Silent,
    /// Answers REFUSED.
    Refuse,
    /// Refers every question to the root (an upward referral).
    Upward,
}

/// A query the walk sent: to whom, the name, the type, and the RD bit.
type Asked = (IpAddr, String, RecordType, bool);

struct Net {
    servers: HashMap<IpAddr, Behaviour>,
    asked: Vec<Asked>,
}

fn ns(zone: &str, server: &str) -> Record {
    Record::from_rdata(name(zone), 3600, RData::NS(NS(name(server))))
}

fn a(owner: &str, last: u8) -> Record {
    Record::from_rdata(name(owner), 300, RData::A(A(Ipv4Addr::new(10, 0, 0, last))))
}

impl Net {
    fn respond(&self, question: &Question, server: IpAddr) -> Option<Message> {
        let mut message = Message::new(7, MessageType::Response, OpCode::Query);
        let mut query = Query::query(question.name.clone(), question.rtype);
        query.query_class = question.class;
        message.add_query(query);
        match self.servers.get(&server)? {
            Behaviour::Silent => return None,
            Behaviour::Refuse => message.metadata.response_code = ResponseCode::Refused,
            Behaviour::Upward => {
                message.add_authority(ns(".", "a.root."));
                message.add_additional(a("a.root.", 1));
            }
            Behaviour::Serve(zones) => {
                let Some((apex, records)) = zones
                    .iter()
                    .filter(|(apex, _)| apex.zone_of(&question.name))
                    .max_by_key(|(apex, _)| apex.num_labels())
                else {
                    message.metadata.response_code = ResponseCode::Refused;
                    return Some(message);
                };
                // A cut below the apex on the way to the name: a referral.
                let cut: Vec<&Record> = records
                    .iter()
                    .filter(|r| {
                        r.record_type() == RecordType::NS
                            && r.name != *apex
                            && r.name.zone_of(&question.name)
                    })
                    .collect();
                if !cut.is_empty() {
                    for record in cut {
                        message.add_authority(record.clone());
                        if let RData::NS(target) = &record.data {
                            for glue in records
                                .iter()
                                .filter(|g| g.name == target.0 && g.record_type() == RecordType::A)
                            {
                                message.add_additional(glue.clone());
                            }
                        }
                    }
                    return Some(message);
                }
                message.metadata.authoritative = true;
                let here: Vec<&Record> =
                    records.iter().filter(|r| r.name == question.name).collect();
                if here.is_empty() {
                    message.metadata.response_code = ResponseCode::NXDomain;
                }
                for record in here
                    .into_iter()
                    .filter(|r| r.record_type() == question.rtype)
                {
                    message.add_answer(record.clone());
                }
                if question.rtype == RecordType::NS && question.name.is_root() {
                    for record in records.iter().filter(|r| r.record_type() == RecordType::A) {
                        message.add_additional(record.clone());
                    }
                }
            }
        }
        Some(message)
    }
}

impl Ask for Net {
    fn ask(
        &mut self,
        question: &Question,
        server: &Server,
        recurse: bool,
    ) -> Result<Lookup, DnsError> {
        let address = server.address.ip();
        self.asked
            .push((address, question.name.to_ascii(), question.rtype, recurse));
        Ok(match self.respond(question, address) {
            Some(message) => Lookup::Answered(Box::new(Exchange {
                server: server.clone(),
                transport: Transport::Udp,
                retried_over_tcp: false,
                elapsed: Duration::from_micros(100),
                query: Vec::new(),
                response: message.to_vec().unwrap(),
                message,
                ignored: 0,
                tls: None,
            })),
            None => Lookup::NoReply {
                server: server.clone(),
                transport: Transport::Udp,
                tries: 2,
                ignored: 0,
                query: Vec::new(),
            },
        })
    }
}

/// The root at .1, test. at .2, example.test. and other.test. at .3:
/// example.test delegated with glue, other.test to ns.example.test without.
fn hierarchy() -> HashMap<IpAddr, Behaviour> {
    let mut servers = HashMap::new();
    servers.insert(
        ip(1),
        Behaviour::Serve(vec![(
            Name::root(),
            vec![
                ns(".", "a.root."),
                a("a.root.", 1),
                ns("test.", "ns.nic.test."),
                a("ns.nic.test.", 2),
            ],
        )]),
    );
    servers.insert(
        ip(2),
        Behaviour::Serve(vec![(
            name("test."),
            vec![
                ns("test.", "ns.nic.test."),
                a("ns.nic.test.", 2),
                ns("example.test.", "ns1.example.test."),
                a("ns1.example.test.", 3),
                ns("other.test.", "ns.example.test."),
            ],
        )]),
    );
    servers.insert(
        ip(3),
        Behaviour::Serve(vec![
            (
                name("example.test."),
                vec![
                    ns("example.test.", "ns1.example.test."),
                    a("ns1.example.test.", 3),
                    a("ns.example.test.", 3),
                    a("www.example.test.", 80),
                ],
            ),
            (
                name("other.test."),
                vec![
                    ns("other.test.", "ns.example.test."),
                    a("www.other.test.", 81),
                ],
            ),
        ]),
    );
    servers
}

fn start() -> Server {
    Server {
        address: (ip(1), 53).into(),
        name: "10.0.0.1".into(),
    }
}

/// Runs the walk; returns how it ended, the events in short form, and the queries.
fn walk(servers: HashMap<IpAddr, Behaviour>, qname: &str) -> (End, Vec<String>, Vec<Asked>) {
    let mut net = Net {
        servers,
        asked: Vec::new(),
    };
    let question = Question {
        name: name(qname),
        rtype: RecordType::A,
        class: DNSClass::IN,
    };
    let mut events = Vec::new();
    let end = trace(
        &question,
        &start(),
        FamilyChoice::V4,
        &mut net,
        &mut |event| {
            events.push(match event {
                Event::Step {
                    kind,
                    zone,
                    exchange,
                    ..
                } => format!("{kind:?} {zone} @{}", exchange.server.address.ip()),
                Event::Silent { zone, server, .. } => {
                    format!("Silent {zone} @{}", server.address.ip())
                }
                Event::Resolved {
                    name, addresses, ..
                } => format!("Resolved {name} {addresses:?}"),
            })
        },
    )
    .unwrap();
    (end, events, net.asked)
}

#[test]
fn delegations_with_glue_are_followed_from_the_root_to_the_answer() {
    let (end, events, asked) = walk(hierarchy(), "www.example.test.");
    assert_eq!(end, End::Reached(StepKind::Answer));
    assert_eq!(
        events,
        [
            "Roots . @10.0.0.1",
            "Referral . @10.0.0.1",
            "Referral test. @10.0.0.2",
            "Answer example.test. @10.0.0.3",
        ]
    );
    // The roots are asked recursively, the walk itself without RD.
    assert!(asked[0].3);
    assert!(asked[1..].iter().all(|q| !q.3), "{asked:?}");
}

#[test]
fn a_glueless_name_server_is_resolved_from_the_root_before_it_is_asked() {
    let (end, events, _) = walk(hierarchy(), "www.other.test.");
    assert_eq!(end, End::Reached(StepKind::Answer));
    assert_eq!(
        events,
        [
            "Roots . @10.0.0.1",
            "Referral . @10.0.0.1",
            "Referral test. @10.0.0.2",
            "Resolved ns.example.test. [10.0.0.3]",
            "Answer other.test. @10.0.0.3",
        ]
    );
}

#[test]
fn a_name_that_does_not_exist_ends_at_its_zone_with_nxdomain() {
    let (end, events, _) = walk(hierarchy(), "nothere.example.test.");
    assert_eq!(end, End::Reached(StepKind::Nxdomain));
    assert_eq!(events.last().unwrap(), "Nxdomain example.test. @10.0.0.3");
}

#[test]
fn a_silent_or_refusing_server_is_skipped_for_the_next_of_its_zone() {
    let mut servers = hierarchy();
    // test. gets two more servers, listed first: one silent, one refusing.
    if let Some(Behaviour::Serve(zones)) = servers.get_mut(&ip(1)) {
        zones[0].1.splice(
            0..0,
            [
                ns("test.", "ns0.nic.test."),
                a("ns0.nic.test.", 9),
                ns("test.", "ns00.nic.test."),
                a("ns00.nic.test.", 8),
            ],
        );
    }
    servers.insert(ip(9), Behaviour::Silent);
    servers.insert(ip(8), Behaviour::Refuse);
    let (end, events, _) = walk(servers, "www.example.test.");
    assert_eq!(end, End::Reached(StepKind::Answer));
    assert_eq!(
        events[2..],
        [
            "Silent test. @10.0.0.9",
            "Lame test. @10.0.0.8",
            "Referral test. @10.0.0.2",
            "Answer example.test. @10.0.0.3",
        ]
    );
}

#[test]
fn an_upward_referral_is_lame_and_ends_the_walk_instead_of_looping() {
    let mut servers = hierarchy();
    servers.insert(ip(2), Behaviour::Upward);
    let (end, events, asked) = walk(servers, "www.example.test.");
    match end {
        End::Failed(reason) => assert!(reason.contains("no server of test."), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(events.last().unwrap(), "Lame test. @10.0.0.2");
    assert_eq!(asked.len(), 3);
}

#[test]
fn glueless_servers_that_need_each_other_end_in_a_bounded_number_of_queries() {
    let mut servers = hierarchy();
    // a.test is served by ns.b.test and b.test by ns.a.test, neither with glue.
    if let Some(Behaviour::Serve(zones)) = servers.get_mut(&ip(2)) {
        zones[0]
            .1
            .extend([ns("a.test.", "ns.b.test."), ns("b.test.", "ns.a.test.")]);
    }
    let (end, _, asked) = walk(servers, "www.a.test.");
    assert!(matches!(end, End::Failed(_)), "{end:?}");
    assert!(asked.len() < 20, "{} queries", asked.len());
}

#[test]
fn roots_without_glue_are_looked_up_at_the_starting_server() {
    let mut servers = hierarchy();
    if let Some(Behaviour::Serve(zones)) = servers.get_mut(&ip(1)) {
        // The root zone names a.root. but holds no address for it in the
        // additional section of ". NS": only a separate A answer.
        zones[0]
            .1
            .retain(|r| r.name != name("a.root.") || r.record_type() != RecordType::A);
        zones.push((name("root."), vec![a("a.root.", 1)]));
    }
    let (end, events, asked) = walk(servers, "www.example.test.");
    assert_eq!(end, End::Reached(StepKind::Answer), "{events:?}");
    assert_eq!(events[1], "Resolved a.root. [10.0.0.1]");
    assert_eq!((asked[1].1.as_str(), asked[1].3), ("a.root.", true));
}
