//! `netdx dns --json-stream`: `start`, a `lookup` line per question as
//! its lookup ends (its `--json` object with the question's index), then
//! `done` with the tally.

use schemars::JsonSchema;
use serde::Serialize;

use crate::render::dns::LookupDocument;

/// One line of `dns --json-stream`.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DnsEvent<'a> {
    /// Before the first query.
    Start(Start<'a>),
    /// One question's lookup ended.
    Lookup(Box<LookupEvent>),
    /// Every lookup ended.
    Done(Tally),
}

/// What is about to be asked.
#[derive(Serialize, JsonSchema)]
pub struct Start<'a> {
    /// The server, `address#port`.
    pub server: &'a str,
    /// Questions to ask, when known before the list is read (null with `--file`).
    pub questions: Option<usize>,
    /// Queries in flight at most.
    pub concurrency: usize,
    /// Queries a second at most (`--rate`), null for no limit.
    pub rate: Option<f64>,
}

/// One lookup.
#[derive(Serialize, JsonSchema)]
pub struct LookupEvent {
    /// The question's place in the list (from 0).
    pub index: usize,
    /// Its `--json` object.
    #[serde(flatten)]
    pub lookup: LookupDocument,
}

/// How the lookups ended.
#[derive(Debug, Default, Clone, Copy, Serialize, JsonSchema)]
pub struct Tally {
    /// Questions asked.
    pub questions: usize,
    /// NOERROR with data.
    pub answered: usize,
    /// NOERROR without data of the type asked.
    pub nodata: usize,
    /// The name does not exist.
    pub nxdomain: usize,
    /// The server failed.
    pub servfail: usize,
    /// Any other response code (REFUSED, FORMERR, …).
    pub other: usize,
    /// No answer in any try.
    pub timeouts: usize,
    /// Datagrams dropped: not an answer to a query in flight.
    pub ignored: u32,
    /// The whole run, in milliseconds.
    pub elapsed_ms: f64,
}

impl Tally {
    /// Counts one lookup (from its document's status and answers).
    pub fn add(&mut self, lookup: &LookupDocument) {
        self.questions += 1;
        match lookup.status.as_str() {
            "NOERROR" if lookup.answer.is_empty() => self.nodata += 1,
            "NOERROR" => self.answered += 1,
            "NXDOMAIN" => self.nxdomain += 1,
            "SERVFAIL" => self.servfail += 1,
            "timeout" => self.timeouts += 1,
            _ => self.other += 1,
        }
    }
}
