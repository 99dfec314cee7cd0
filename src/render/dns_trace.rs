//! `netdx dns +trace`: each step of the walk as dig +trace prints it (the
//! answer and authority records, then `;; Received N bytes from
//! ADDR#PORT(NAME) in T ms`), plus what dig leaves out — lame and silent
//! servers, glueless name servers looked up, and how the walk ended — and
//! the `--json` document.
#![forbid(unsafe_code)]

use std::fmt::Write;

use schemars::JsonSchema;
use serde::Serialize;

use crate::dns::message::{QuestionEntry, Record, Response};
use crate::dns::trace::{End, Event, StepKind};
use crate::dns::{Question, server_label};

/// `netdx dns +trace --json`: the walk, step by step.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceDocument {
    /// What was traced.
    pub question: QuestionEntry,
    /// The starting server (asked for the root's name servers), `address#port`.
    pub server: String,
    /// Every response, silence and glueless lookup, in order.
    pub steps: Vec<TraceStep>,
    /// `answer`, `nxdomain`, `nodata`, or `failed`.
    pub outcome: String,
    /// Why the walk failed (null when it reached the name's servers).
    pub reason: Option<String>,
    /// Queries sent, glueless lookups included.
    pub queries: u32,
}

/// One event of the walk.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum TraceStep {
    /// A server answered.
    Response {
        /// roots, referral, answer, nxdomain, nodata, or lame.
        kind: StepKind,
        /// The zone whose server was asked.
        zone: String,
        /// `address#port`.
        server: String,
        /// The server's name (from the NS record), or the address given.
        server_name: String,
        /// From the query to the response, in milliseconds.
        time_ms: f64,
        /// The response's size in bytes.
        size: usize,
        /// NOERROR, NXDOMAIN, REFUSED, …
        rcode: String,
        /// The authoritative-answer bit.
        aa: bool,
        /// The answer section.
        answer: Vec<Record>,
        /// The authority section (the delegation's NS set).
        authority: Vec<Record>,
        /// The additional section (the glue).
        additional: Vec<Record>,
        /// For a lame answer: why it did not help.
        reason: Option<String>,
    },
    /// A server did not answer or could not be reached.
    Silent {
        /// The zone whose server was asked.
        zone: String,
        /// `address#port`.
        server: String,
        /// The server's name.
        server_name: String,
        /// Why.
        reason: String,
    },
    /// A name server without glue, looked up from the root.
    Resolved {
        /// Its name.
        name: String,
        /// Its addresses (empty: not found).
        addresses: Vec<std::net::IpAddr>,
        /// Queries the lookup took.
        queries: u32,
    },
}

/// One event as JSON.
pub fn step(event: &Event) -> TraceStep {
    match event {
        Event::Step {
            kind,
            zone,
            exchange,
            reason,
        } => {
            let response = Response::from_message(&exchange.message);
            TraceStep::Response {
                kind: *kind,
                zone: zone.to_ascii(),
                server: server_label(exchange.server.address),
                server_name: exchange.server.name.clone(),
                time_ms: exchange.elapsed.as_secs_f64() * 1000.0,
                size: exchange.response.len(),
                rcode: response.header.rcode,
                aa: response.header.flags.aa,
                answer: response.answer,
                authority: response.authority,
                additional: response.additional,
                reason: reason.clone(),
            }
        }
        Event::Silent {
            zone,
            server,
            reason,
        } => TraceStep::Silent {
            zone: zone.to_ascii(),
            server: server_label(server.address),
            server_name: server.name.clone(),
            reason: reason.clone(),
        },
        Event::Resolved {
            name,
            addresses,
            queries,
        } => TraceStep::Resolved {
            name: name.to_ascii(),
            addresses: addresses.clone(),
            queries: *queries,
        },
    }
}

/// Queries an event stands for.
pub fn queries(step: &TraceStep) -> u32 {
    match step {
        TraceStep::Response { .. } | TraceStep::Silent { .. } => 1,
        TraceStep::Resolved { queries, .. } => *queries,
    }
}

/// The whole walk as its `--json` document.
pub fn document(
    question: &Question,
    start: &str,
    steps: Vec<TraceStep>,
    end: &End,
) -> TraceDocument {
    let (outcome, reason) = outcome(end);
    TraceDocument {
        question: super::dns::asked(question),
        server: start.to_string(),
        queries: steps.iter().map(queries).sum(),
        steps,
        outcome: outcome.into(),
        reason,
    }
}

fn outcome(end: &End) -> (&'static str, Option<String>) {
    match end {
        End::Reached(StepKind::Nxdomain) => ("nxdomain", None),
        End::Reached(StepKind::Nodata) => ("nodata", None),
        End::Reached(_) => ("answer", None),
        End::Failed(reason) => ("failed", Some(reason.clone())),
    }
}

/// The banner before the first step.
pub fn banner(command: &str) -> String {
    format!("\n; <<>> netdx dns <<>> {command}\n")
}

/// One event as text, as it happens.
pub fn text(step: &TraceStep) -> String {
    let mut text = String::new();
    match step {
        TraceStep::Response {
            kind,
            server,
            server_name,
            time_ms,
            size,
            answer,
            authority,
            reason,
            rcode,
            ..
        } => {
            for record in answer.iter().chain(authority) {
                text.push_str(&super::dns::record_line(record));
                text.push('\n');
            }
            let _ = writeln!(
                text,
                ";; Received {size} bytes from {server}({server_name}) in {time_ms:.3} ms"
            );
            if *kind == StepKind::Lame {
                let _ = writeln!(
                    text,
                    ";; lame: {} ({rcode}); asking the next server of the zone",
                    reason.as_deref().unwrap_or("no use")
                );
            }
            text.push('\n');
        }
        TraceStep::Silent {
            zone,
            server,
            server_name,
            reason,
        } => {
            let _ = writeln!(
                text,
                ";; {server}({server_name}), a server of {zone}: {reason}; asking the next server of the zone\n"
            );
        }
        TraceStep::Resolved {
            name,
            addresses,
            queries,
        } => {
            let found = if addresses.is_empty() {
                "no address found".to_string()
            } else {
                addresses
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                text,
                ";; {name} came without glue: looked up from the root ({queries} {}): {found}\n",
                if *queries == 1 { "query" } else { "queries" }
            );
        }
    }
    text
}

/// The closing line.
pub fn end_text(document: &TraceDocument) -> String {
    match &document.reason {
        Some(reason) => format!(
            ";; trace failed after {} queries: {reason}\n",
            document.queries
        ),
        None => format!(
            ";; {} from the name's servers after {} queries\n",
            match document.outcome.as_str() {
                "nxdomain" => "NXDOMAIN",
                "nodata" => "NOERROR, no data",
                _ => "answer",
            },
            document.queries
        ),
    }
}
