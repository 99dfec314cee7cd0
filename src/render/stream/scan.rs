//! `netdx scan --json-stream`: `start`, a `port` line per port as it gets
//! its verdict, a `host` line per host when it is done (its `--json`
//! object without `ports`), then `done`.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use crate::render::scan::HostDocument;
use crate::scan::{Method, PortResult};

/// One line of `scan --json-stream`.
#[derive(Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ScanEvent<'a> {
    /// Before the first probe of a scan (one per method).
    Start(Start<'a>),
    /// One port classified.
    Port(PortEvent<'a>),
    /// One host done.
    Host(HostDocument<'a>),
    /// Every scan done.
    Done(Done),
}

/// What a scan is about to do.
#[derive(Serialize, JsonSchema)]
pub struct Start<'a> {
    /// The scan method.
    pub method: Method,
    /// The hosts, as named.
    pub targets: Vec<&'a str>,
    /// Ports per host.
    pub ports: usize,
    /// Probes in flight at most.
    pub concurrency: usize,
    /// Probes per second at most (`--rate`).
    pub rate: Option<u32>,
}

/// One port's verdict.
#[derive(Serialize, JsonSchema)]
pub struct PortEvent<'a> {
    /// The host as named.
    pub target: &'a str,
    /// Its address.
    pub address: IpAddr,
    /// The port's result (`banner` comes in the `--json` document).
    #[serde(flatten)]
    pub result: PortResult,
}

/// The end of the run.
#[derive(Serialize, JsonSchema)]
pub struct Done {
    /// Hosts scanned (per method).
    pub hosts: usize,
    /// Open ports in all.
    pub open: u32,
    /// The whole run.
    pub elapsed_ms: f64,
}
