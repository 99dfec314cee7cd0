//! `netdx trace --json-stream`: `start`, then each `hop` as it completes
//! (traceroute's view) or, with `-c`, each `round` as it ends (mtr's), and
//! the `--json` document as the `summary`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::render::trace::Names;
use crate::trace::{Hop, Method, Report, Request, Walk};

/// One line of `trace --json-stream` (schema `trace.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent<'a> {
    /// Before the first probe.
    Start(Start<'a>),
    /// A hop whose probes are all answered or given up on (without `-c`).
    Hop(HopEvent<'a>),
    /// A round that has walked the whole path (with `-c`).
    Round(RoundEvent<'a>),
    /// The trace is over: the `--json` document.
    Summary(SummaryEvent<'a>),
}

/// What the trace is about to do.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Start<'a> {
    /// The host as given.
    pub host: &'a str,
    /// Its address.
    pub target: IpAddr,
    /// The address probes leave from.
    pub source: IpAddr,
    /// Probe method.
    pub method: Method,
    /// Destination port (UDP/TCP); `null` for ICMP.
    pub port: Option<u16>,
    /// First TTL (`-f`).
    pub first_ttl: u8,
    /// Last TTL (`-m`).
    pub max_hops: u8,
    /// Probes per hop per round (`-q`).
    pub probes_per_hop: u8,
    /// Probes in flight at once (`-N`).
    pub simultaneous: usize,
    /// Rounds (`-c`; 1 without it).
    pub rounds: u32,
}

/// One hop of one round.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HopEvent<'a> {
    /// The round, from 1.
    pub round: u32,
    /// `ttl` and `probes`, as in the document's `walks[].hops[]`.
    #[serde(flatten)]
    pub hop: &'a Hop,
    /// Reverse-DNS names of this hop's responders (empty with `-n`).
    pub names: BTreeMap<IpAddr, &'a str>,
}

/// One round.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RoundEvent<'a> {
    /// The round, from 1.
    pub round: u32,
    /// `hops` and `reached`, as in the document's `walks[]`.
    #[serde(flatten)]
    pub walk: &'a Walk,
    /// Reverse-DNS names of the round's responders (empty with `-n`).
    pub names: BTreeMap<IpAddr, &'a str>,
}

/// The whole trace.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SummaryEvent<'a> {
    /// Every field of the `--json` document.
    #[serde(flatten)]
    pub report: &'a Report,
    /// Reverse-DNS names of every responder (empty with `-n`).
    pub names: BTreeMap<IpAddr, &'a str>,
}

/// The `start` line.
pub fn start<'a>(host: &'a str, request: &Request, source: IpAddr) -> TraceEvent<'a> {
    TraceEvent::Start(Start {
        host,
        target: request.target,
        source,
        method: request.method,
        port: (request.method != Method::Icmp).then_some(request.port),
        first_ttl: request.first_ttl,
        max_hops: request.max_hops,
        probes_per_hop: request.probes,
        simultaneous: request.simultaneous,
        rounds: request.rounds.max(1),
    })
}

/// `names` of the responders of `hops`.
fn names_of<'a>(hops: &[Hop], names: &'a Names) -> BTreeMap<IpAddr, &'a str> {
    hops.iter()
        .flat_map(|hop| hop.probes.iter().filter_map(|p| p.responder))
        .filter_map(|address| Some((address, names.get(&address)?.as_str())))
        .collect()
}

/// The `hop` line for `hop` of `round`.
pub fn hop<'a>(round: u32, hop: &'a Hop, names: &'a Names) -> TraceEvent<'a> {
    TraceEvent::Hop(HopEvent {
        round,
        hop,
        names: names_of(std::slice::from_ref(hop), names),
    })
}

/// The `round` line for `walk`, round `round`.
pub fn round<'a>(round: u32, walk: &'a Walk, names: &'a Names) -> TraceEvent<'a> {
    TraceEvent::Round(RoundEvent {
        round,
        walk,
        names: names_of(&walk.hops, names),
    })
}

/// The `summary` line.
pub fn summary<'a>(report: &'a Report, names: &'a Names) -> TraceEvent<'a> {
    TraceEvent::Summary(SummaryEvent {
        report,
        names: names.iter().map(|(a, n)| (*a, n.as_str())).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Answer, ProbeResult};

    #[test]
    fn a_hop_line_is_the_documents_hop_with_its_round_and_names() {
        let router = IpAddr::from([10, 0, 0, 1]);
        let hop_ = Hop {
            ttl: 2,
            probes: vec![
                ProbeResult {
                    responder: Some(router),
                    rtt_ms: Some(0.5),
                    answer: Some(Answer::TimeExceeded),
                },
                ProbeResult {
                    responder: None,
                    rtt_ms: None,
                    answer: None,
                },
            ],
        };
        let mut names = Names::new();
        names.insert(router, "gw.example".into());
        names.insert(IpAddr::from([10, 0, 0, 9]), "elsewhere".into());
        let value = serde_json::to_value(hop(1, &hop_, &names)).unwrap();
        let mut expected = serde_json::to_value(&hop_).unwrap();
        let fields = expected.as_object_mut().unwrap();
        fields.insert("event".into(), "hop".into());
        fields.insert("round".into(), 1.into());
        fields.insert(
            "names".into(),
            serde_json::json!({"10.0.0.1": "gw.example"}),
        );
        assert_eq!(value, expected);
    }
}
