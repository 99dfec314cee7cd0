//! `netdx tcping --json-stream`: `start`, a `probe` line per probe as it
//! ends, then `done` with the `--json` document.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::tcping::{Probe, Report};

/// One line of `tcping --json-stream` (schema `tcping.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TcpingEvent<'a> {
    /// Before the first probe.
    Start(Start<'a>),
    /// A probe ended.
    Probe(&'a Probe),
    /// The run is over: the `--json` document.
    Done(&'a Report),
}

/// What is about to be probed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Start<'a> {
    /// The host as given.
    pub host: &'a str,
    /// The address probed.
    pub address: IpAddr,
    /// The port probed.
    pub port: u16,
}
