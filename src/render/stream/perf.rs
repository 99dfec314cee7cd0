//! `netdx perf run --json-stream`: `start` (the --json document's start),
//! an `interval` line per report interval, then `end` with the totals
//! (iperf3's `--json-stream` events); and `netdx perf serve --json-stream`,
//! a line per test the server accepts, ends or refuses: the server's own
//! `perf::serve::ServeEvent`s, serialised as they are.

use schemars::JsonSchema;
use serde::Serialize;

use crate::perf::{End, Interval, Start};

/// One line of `perf run --json-stream` (schema `perf.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum PerfEvent<'a> {
    /// The test is set up: the --json document's `start`.
    Start(&'a Start),
    /// An interval ended: one item of the --json document's `intervals`.
    Interval(&'a Interval),
    /// The test is over: the --json document's `end`.
    End(&'a End),
}
