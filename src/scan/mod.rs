//! netdx scan: which ports to probe, and what to send them.
#![forbid(unsafe_code)]

pub mod payloads;
pub mod ports;
