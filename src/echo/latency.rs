//! Echo round trips use the one accumulator netdx has (`crate::rtt`):
//! exact up to its sample bound, an HDR histogram beyond, so a load run of
//! millions of echoes stays in flat memory.
#![forbid(unsafe_code)]

pub use crate::rtt::{EXACT_SAMPLES, Rtt as Latency};
