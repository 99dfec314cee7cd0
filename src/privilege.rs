//! Capabilities: what this process may do, and giving it up once it is done.
//!
//! Like iputils, netdx opens its privileged sockets first and then drops
//! every capability before its main loop, so a bug in packet handling cannot
//! be turned into anything the user could not already do.
#![forbid(unsafe_code)]

use caps::{CapSet, Capability};

/// The remedy printed when a raw socket is refused.
pub const RAW_REMEDY: &str = "run as root, or grant it: setcap cap_net_raw+ep $(command -v netdx)";

/// Whether the process may open raw sockets (root or CAP_NET_RAW in effect).
pub fn has_net_raw() -> bool {
    caps::has_cap(None, CapSet::Effective, Capability::CAP_NET_RAW).unwrap_or(false)
}

/// Whether the process counts as privileged for iputils' purposes (fast
/// intervals, flood): root's capabilities or CAP_NET_RAW/CAP_NET_ADMIN.
pub fn is_privileged() -> bool {
    has_net_raw()
        || caps::has_cap(None, CapSet::Effective, Capability::CAP_NET_ADMIN).unwrap_or(false)
}

/// Drops every capability from every set of this (single-threaded) process.
///
/// Returns the error text if the kernel refused; callers treat that as fatal
/// because running on with privileges the user did not expect is worse than
/// stopping.
pub fn drop_all() -> Result<(), String> {
    for set in [
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|err| format!("dropping capabilities: {err}"))?;
    }
    Ok(())
}
