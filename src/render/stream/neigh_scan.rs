//! `netdx neigh scan --json-stream`: `start`, a `host` line per (address,
//! MAC) as it first answers, then `done` with the `--json` document.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::neigh::scan::{Host, ScanReport};

/// One line of `neigh scan --json-stream` (schema `neigh-scan.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScanEvent<'a> {
    /// Before the first request.
    Start(Start<'a>),
    /// An address answered with a MAC (flags and vendor come in `done`).
    Host(&'a Host),
    /// The scan is over: the `--json` document.
    Done(&'a ScanReport),
}

/// What is about to be scanned.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Start<'a> {
    /// The interface.
    pub interface: &'a str,
    /// The network, as CIDR.
    pub network: &'a str,
    /// The sender address in the requests.
    pub source: IpAddr,
    /// Addresses to ask.
    pub addresses: usize,
}
