//! `+trace`: iterative resolution, as dig +trace does it. The root's name
//! servers are asked of the starting server (`@SERVER`, else resolv.conf's),
//! then each zone's servers are asked the question without recursion,
//! following each referral down towards the name until one answers it,
//! denies it (NXDOMAIN) or has no data for it.
//!
//! Unlike dig, which looks up every name server's address with the system
//! resolver, the walk takes the glue of each referral and resolves a
//! glueless name server's address iteratively itself, from the root. A
//! referral that does not lead closer to the name (upward or sideways), an
//! error code, a refusal or silence makes that server lame: the next server
//! of the zone is asked, and when none answers usefully the walk ends and
//! says why. Every referral moves to a longer zone and glueless lookups
//! nest at most [`MAX_DEPTH`] deep, so the walk always ends.
//!
//! The network is a parameter ([`Ask`]): the command asks real servers, the
//! tests script a hierarchy and its misbehaviour.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

use super::client::{Exchange, Lookup};
use super::{DnsError, Question, Server};
use crate::net::FamilyChoice;

/// Glueless name servers looked up within a lookup, at most this deep.
pub const MAX_DEPTH: usize = 3;
/// Queries one trace may send, glueless lookups included.
pub const MAX_QUERIES: u32 = 200;

/// How the walk reaches servers.
pub trait Ask {
    /// Asks `server` `question`, with or without the RD bit.
    fn ask(
        &mut self,
        question: &Question,
        server: &Server,
        recurse: bool,
    ) -> Result<Lookup, DnsError>;
}

/// Real servers, asked by [`client::lookup`](super::client::lookup) with
/// these options (the RD bit set per query).
pub struct Network(pub super::Options);

impl Ask for Network {
    fn ask(
        &mut self,
        question: &Question,
        server: &Server,
        recurse: bool,
    ) -> Result<Lookup, DnsError> {
        let options = super::Options {
            recurse,
            ..self.0.clone()
        };
        super::client::lookup(question, server, &options)
    }
}

/// What one response was, for the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// The root's name servers, from the starting server.
    Roots,
    /// A delegation to a zone closer to the name.
    Referral,
    /// The answer.
    Answer,
    /// The name does not exist.
    Nxdomain,
    /// The name exists without data of the type asked.
    Nodata,
    /// Not an answer, a denial or a referral closer: the next server is asked.
    Lame,
}

/// One server of a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Its name, from the NS record.
    pub name: Name,
    /// Its addresses from the glue (none: glueless).
    pub glue: Vec<IpAddr>,
}

/// What the walk did, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// A server answered.
    Step {
        /// What the answer was.
        kind: StepKind,
        /// The zone whose server was asked (`.` for the roots step).
        zone: Name,
        /// The exchange.
        exchange: Box<Exchange>,
        /// For a lame answer: why.
        reason: Option<String>,
    },
    /// A server did not answer, or could not be reached.
    Silent {
        /// The zone whose server was asked.
        zone: Name,
        /// Who.
        server: Server,
        /// Why (no reply in N tries, or the kernel's error).
        reason: String,
    },
    /// A glueless name server's address, looked up from the root.
    Resolved {
        /// Its name.
        name: Name,
        /// What was found (empty: nothing).
        addresses: Vec<IpAddr>,
        /// Queries the lookup took.
        queries: u32,
    },
}

/// How the walk ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The name's servers answered (kind: answer, nxdomain or nodata).
    Reached(StepKind),
    /// No server of a zone answered usefully, or a limit was hit.
    Failed(String),
}

/// The walk's state that nested glueless lookups share.
struct Walk<'a> {
    ask: &'a mut dyn Ask,
    family: FamilyChoice,
    port: u16,
    roots: Vec<Candidate>,
    queries: u32,
    /// Names being looked up (a glueless cycle ends here).
    resolving: Vec<Name>,
}

/// Traces `question` from `start`, reporting every event to `observe`.
pub fn trace(
    question: &Question,
    start: &Server,
    family: FamilyChoice,
    ask: &mut dyn Ask,
    observe: &mut dyn FnMut(&Event),
) -> Result<End, DnsError> {
    let root = Name::root();
    let roots_question = Question {
        name: root.clone(),
        rtype: RecordType::NS,
        class: question.class,
    };
    let exchange = match ask.ask(&roots_question, start, true)? {
        Lookup::Answered(exchange) => exchange,
        Lookup::NoReply { tries, .. } => {
            let reason = format!("no reply in {tries} {}", tries_word(tries));
            observe(&Event::Silent {
                zone: root,
                server: start.clone(),
                reason: reason.clone(),
            });
            return Ok(End::Failed(format!(
                "the starting server {} gave no root name servers: {reason}",
                super::server_label(start.address)
            )));
        }
    };
    let roots = delegation(&exchange.message, &root, family, true);
    observe(&Event::Step {
        kind: StepKind::Roots,
        zone: root.clone(),
        exchange: exchange.clone(),
        reason: None,
    });
    let Some((_, roots)) = roots else {
        return Ok(End::Failed(format!(
            "the starting server {} gave no root name servers (status {})",
            super::server_label(start.address),
            exchange.message.metadata.response_code
        )));
    };
    let mut walk = Walk {
        ask,
        family,
        port: start.address.port(),
        roots: Vec::new(),
        queries: 1,
        resolving: Vec::new(),
    };
    let mut roots = roots;
    for candidate in &mut roots {
        if candidate.glue.is_empty() {
            candidate.glue = walk.ask_start(&candidate.name, start, observe)?;
        }
    }
    walk.roots = roots.clone();
    walk.descend(question, root, roots, observe)
}

fn tries_word(tries: u32) -> &'static str {
    if tries == 1 { "try" } else { "tries" }
}

impl Walk<'_> {
    /// A root server's address when the roots came without glue: asked of
    /// the starting server, recursively (dig asks the system resolver).
    fn ask_start(
        &mut self,
        name: &Name,
        start: &Server,
        observe: &mut dyn FnMut(&Event),
    ) -> Result<Vec<IpAddr>, DnsError> {
        let before = self.queries;
        let mut addresses = Vec::new();
        for rtype in address_types(self.family) {
            let question = Question {
                name: name.clone(),
                rtype: *rtype,
                class: hickory_proto::rr::DNSClass::IN,
            };
            self.queries += 1;
            if let Ok(Lookup::Answered(exchange)) = self.ask.ask(&question, start, true) {
                addresses.extend(addresses_of(&exchange.message));
            }
            if !addresses.is_empty() {
                break;
            }
        }
        observe(&Event::Resolved {
            name: name.clone(),
            addresses: addresses.clone(),
            queries: self.queries - before,
        });
        Ok(addresses)
    }

    /// From `zone`'s servers down to the name's.
    fn descend(
        &mut self,
        question: &Question,
        mut zone: Name,
        mut servers: Vec<Candidate>,
        observe: &mut dyn FnMut(&Event),
    ) -> Result<End, DnsError> {
        loop {
            let mut next = None;
            for candidate in &servers {
                let addresses = if candidate.glue.is_empty() {
                    self.glueless(&candidate.name, observe)?
                } else {
                    candidate.glue.clone()
                };
                let Some(&address) = addresses.first() else {
                    continue;
                };
                if self.queries >= MAX_QUERIES {
                    return Ok(End::Failed(format!(
                        "more than {MAX_QUERIES} queries: given up"
                    )));
                }
                self.queries += 1;
                let server = Server {
                    address: (address, self.port).into(),
                    name: display_name(&candidate.name),
                };
                let exchange = match self.ask.ask(question, &server, false) {
                    Ok(Lookup::Answered(exchange)) => exchange,
                    Ok(Lookup::NoReply { tries, .. }) => {
                        observe(&Event::Silent {
                            zone: zone.clone(),
                            server,
                            reason: format!("no reply in {tries} {}", tries_word(tries)),
                        });
                        continue;
                    }
                    Err(err) => {
                        observe(&Event::Silent {
                            zone: zone.clone(),
                            server,
                            reason: err.to_string(),
                        });
                        continue;
                    }
                };
                let verdict = classify(&exchange.message, question, &zone, self.family);
                let (kind, reason) = match &verdict {
                    Verdict::Reached(kind) => (*kind, None),
                    Verdict::Referral(..) => (StepKind::Referral, None),
                    Verdict::Lame(reason) => (StepKind::Lame, Some(reason.clone())),
                };
                observe(&Event::Step {
                    kind,
                    zone: zone.clone(),
                    exchange,
                    reason,
                });
                match verdict {
                    Verdict::Reached(kind) => return Ok(End::Reached(kind)),
                    Verdict::Referral(child, children) => {
                        next = Some((child, children));
                        break;
                    }
                    Verdict::Lame(_) => {}
                }
            }
            match next {
                Some((child, children)) => {
                    zone = child;
                    servers = children;
                }
                None => {
                    return Ok(End::Failed(format!(
                        "no server of {} answered usefully: a lame delegation",
                        zone
                    )));
                }
            }
        }
    }

    /// The addresses of a glueless name server, looked up from the root
    /// (only the outcome is reported, not the nested walk).
    fn glueless(
        &mut self,
        name: &Name,
        observe: &mut dyn FnMut(&Event),
    ) -> Result<Vec<IpAddr>, DnsError> {
        if self.resolving.len() >= MAX_DEPTH || self.resolving.contains(name) {
            observe(&Event::Resolved {
                name: name.clone(),
                addresses: Vec::new(),
                queries: 0,
            });
            return Ok(Vec::new());
        }
        self.resolving.push(name.clone());
        let before = self.queries;
        let mut addresses = Vec::new();
        for &rtype in address_types(self.family) {
            let question = Question {
                name: name.clone(),
                rtype,
                class: hickory_proto::rr::DNSClass::IN,
            };
            let mut answer = None;
            let roots = self.roots.clone();
            let end = self.descend(&question, Name::root(), roots, &mut |event| {
                if let Event::Step {
                    kind: StepKind::Answer,
                    exchange,
                    ..
                } = event
                {
                    answer = Some(exchange.message.clone());
                }
            })?;
            if let (End::Reached(StepKind::Answer), Some(message)) = (end, answer) {
                addresses.extend(addresses_of(&message));
            }
            if !addresses.is_empty() {
                break;
            }
        }
        self.resolving.pop();
        observe(&Event::Resolved {
            name: name.clone(),
            addresses: addresses.clone(),
            queries: self.queries - before,
        });
        Ok(addresses)
    }
}

/// The address types of `family`, IPv4 first.
fn address_types(family: FamilyChoice) -> &'static [RecordType] {
    match family {
        FamilyChoice::V4 => &[RecordType::A],
        FamilyChoice::V6 => &[RecordType::AAAA],
        FamilyChoice::Any => &[RecordType::A, RecordType::AAAA],
    }
}

/// The addresses in an answer section.
fn addresses_of(message: &Message) -> impl Iterator<Item = IpAddr> + '_ {
    message.answers.iter().filter_map(|r| match &r.data {
        RData::A(a) => Some(IpAddr::V4(a.0)),
        RData::AAAA(a) => Some(IpAddr::V6(a.0)),
        _ => None,
    })
}

/// A name as dig writes a server in `(name)`: without the root's dot.
fn display_name(name: &Name) -> String {
    let text = name.to_ascii();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => text,
    }
}

enum Verdict {
    Reached(StepKind),
    Referral(Name, Vec<Candidate>),
    Lame(String),
}

/// What a response from one of `zone`'s servers means for the walk.
fn classify(message: &Message, question: &Question, zone: &Name, family: FamilyChoice) -> Verdict {
    let meta = &message.metadata;
    match meta.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Verdict::Reached(StepKind::Nxdomain),
        other => return Verdict::Lame(format!("it answered {other}")),
    }
    if message.answers.iter().any(|r| r.name == question.name) {
        return Verdict::Reached(StepKind::Answer);
    }
    if let Some((child, servers)) = delegation(message, zone, family, false) {
        let closer = zone.zone_of(&child) && child.num_labels() > zone.num_labels();
        if closer && child.zone_of(&question.name) {
            return Verdict::Referral(child, servers);
        }
        if !meta.authoritative {
            return Verdict::Lame(format!(
                "it referred to {child}, which is not a zone below {zone} on the way to {}",
                question.name
            ));
        }
    }
    if meta.authoritative {
        return Verdict::Reached(StepKind::Nodata);
    }
    Verdict::Lame("neither an answer nor a referral, and not authoritative".into())
}

/// The NS set of a response (the answer section's for the roots step,
/// else the authority section's) with each server's glue of `family`.
fn delegation(
    message: &Message,
    zone: &Name,
    family: FamilyChoice,
    from_answer: bool,
) -> Option<(Name, Vec<Candidate>)> {
    let section = if from_answer {
        &message.answers
    } else {
        &message.authorities
    };
    let mut owner: Option<Name> = None;
    let mut servers: Vec<Candidate> = Vec::new();
    for record in section {
        let RData::NS(ns) = &record.data else {
            continue;
        };
        if from_answer && record.name != *zone {
            continue;
        }
        match &owner {
            None => owner = Some(record.name.clone()),
            Some(first) if *first != record.name => continue,
            Some(_) => {}
        }
        if servers.iter().any(|s| s.name == ns.0) {
            continue;
        }
        let glue = message
            .additionals
            .iter()
            .filter(|r| r.name == ns.0)
            .filter_map(|r| match &r.data {
                RData::A(a) if family != FamilyChoice::V6 => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) if family != FamilyChoice::V4 => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect();
        servers.push(Candidate {
            name: ns.0.clone(),
            glue,
        });
    }
    // IPv4 glue first when both families may be used.
    for server in &mut servers {
        server.glue.sort_by_key(|a| a.is_ipv6());
    }
    Some((owner?, servers)).filter(|(_, s)| !s.is_empty())
}

#[cfg(test)]
#[path = "trace_tests.rs"]
mod tests;
