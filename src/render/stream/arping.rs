//! `netdx arping --json-stream`: `start`, a `reply` line per reply as it
//! is matched, then `done` with the `--json` document.

use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::arping::{Mode, Reply, Report};

/// One line of `arping --json-stream` (schema `arping.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ArpingEvent<'a> {
    /// Before the first request.
    Start(Start<'a>),
    /// A reply matched to our requests.
    Reply(&'a Reply),
    /// The run is over: the `--json` document.
    Done(&'a Report),
}

/// What is about to be asked.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Start<'a> {
    /// The address asked about.
    pub target: Ipv4Addr,
    /// The sender address in the requests.
    pub source: Ipv4Addr,
    /// The interface.
    pub interface: &'a str,
    /// What the requests are for.
    pub mode: Mode,
}
