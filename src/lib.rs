//! netdx: one binary for the classic network diagnostics.
//!
//! The crate is layered so that each part has one job:
//!
//! * domain modules ([`iface`], [`netlink`], …) collect facts from the kernel
//!   and return plain `Serialize` data; they never print;
//! * [`render`] turns that data into classic text, tables and JSON;
//! * [`cmd`] holds one thin module per subcommand: arguments → domain →
//!   render → exit code;
//! * [`cli`] declares the command line, [`error`] maps failures to one
//!   `netdx: …` line and exit code 2.
//!
//! Unsafe code is denied crate-wide; the few functions that need it (bpf(2),
//! readlinkat into a stack buffer) allow it one by one, and every module
//! that needs none forbids it.
#![deny(unsafe_code)]

pub mod arping;
pub mod calc;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod dhcp;
pub mod dns;
pub mod echo;
pub mod error;
pub mod exporter;
pub mod http;
pub mod icmp;
pub mod iface;
pub mod intmap;
pub mod lab;
pub mod names;
pub mod neigh;
pub mod net;
pub mod netlink;
pub mod perf;
pub mod ping;
pub mod privilege;
pub mod process;
pub mod protostats;
pub mod render;
pub mod routes;
pub mod rtt;
pub mod scan;
pub mod signals;
pub mod sockets;
pub mod sockopt;
pub mod targets;
pub mod tcping;
pub mod top;
pub mod trace;
pub mod wire;

pub use error::{Error, Outcome};
