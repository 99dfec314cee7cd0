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

/// Why privileges could not be given up. Callers treat it as fatal:
/// running on with privileges the user did not expect is worse than stopping.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// The kernel refused to clear a capability set.
    #[error("dropping the {set} capabilities: {source}")]
    Clear {
        /// Which set.
        set: &'static str,
        /// The kernel's refusal.
        source: caps::errors::CapsError,
    },
    /// prctl(PR_SET_NO_NEW_PRIVS) failed.
    #[error("setting no_new_privs: {0}")]
    NoNewPrivs(nix::errno::Errno),
}

/// Gives up privilege for good, once the privileged sockets are open: the
/// bounding set is emptied (where CAP_SETPCAP allows it), every other
/// capability set is cleared, and no_new_privs is set, so neither this
/// process nor anything it could exec (a setuid binary, file capabilities)
/// can gain a capability again, though it keeps uid 0.
///
/// Capabilities belong to the calling thread: call this before any other
/// thread is started (netdx is single-threaded at that point).
pub fn lock_down() -> Result<(), PrivilegeError> {
    let clear = |set: CapSet, name: &'static str| {
        caps::clear(None, set).map_err(|source| PrivilegeError::Clear { set: name, source })
    };
    // Dropping from the bounding set needs CAP_SETPCAP, so it goes first.
    // One PR_CAPBSET_DROP per capability, without reading each first (as
    // caps::clear would): half the system calls on every probe command's
    // start-up path.
    if caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).unwrap_or(false) {
        for cap in caps::all() {
            // A capability this kernel does not know is not in its bounding set.
            let _ = caps::drop(None, CapSet::Bounding, cap);
        }
    }
    clear(CapSet::Ambient, "ambient")?;
    clear(CapSet::Inheritable, "inheritable")?;
    clear(CapSet::Permitted, "permitted")?;
    nix::sys::prctl::set_no_new_privs().map_err(PrivilegeError::NoNewPrivs)
}

/// Gives up every capability but CAP_NET_RAW, for good: for a server that
/// opens raw sockets for each request (the exporter's ICMP and trace
/// probes), so that a bug in what parses their packets yields a process
/// that can open raw sockets and nothing else. The bounding set keeps only
/// CAP_NET_RAW (where CAP_SETPCAP allows the drop), the ambient and
/// inheritable sets are cleared, the permitted and effective sets hold
/// CAP_NET_RAW if they did, and no_new_privs is set.
///
/// Like [`lock_down`], call it before any other thread is started: threads
/// started afterwards inherit what it leaves.
pub fn keep_only_net_raw() -> Result<(), PrivilegeError> {
    let keep = Capability::CAP_NET_RAW;
    let kept: caps::CapsHashSet = if has_net_raw() {
        std::iter::once(keep).collect()
    } else {
        caps::CapsHashSet::new()
    };
    if caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).unwrap_or(false) {
        for cap in caps::all().into_iter().filter(|cap| *cap != keep) {
            let _ = caps::drop(None, CapSet::Bounding, cap);
        }
    }
    let clear = |set: CapSet, name: &'static str| {
        caps::clear(None, set).map_err(|source| PrivilegeError::Clear { set: name, source })
    };
    clear(CapSet::Ambient, "ambient")?;
    clear(CapSet::Inheritable, "inheritable")?;
    // Effective first: it may never hold what permitted no longer does.
    for (set, name) in [
        (CapSet::Effective, "effective"),
        (CapSet::Permitted, "permitted"),
    ] {
        caps::set(None, set, &kept)
            .map_err(|source| PrivilegeError::Clear { set: name, source })?;
    }
    nix::sys::prctl::set_no_new_privs().map_err(PrivilegeError::NoNewPrivs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line of /proc/thread-self/status (capabilities and no_new_privs
    /// are per thread).
    fn status(field: &str) -> String {
        std::fs::read_to_string("/proc/thread-self/status")
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .map(|value| value.trim().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn after_lock_down_no_capability_can_come_back() {
        // On a thread of its own, so the test's other threads keep theirs.
        let can_drop_bounding =
            caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).unwrap_or(false);
        let before = status("NoNewPrivs:");
        let (no_new_privs, effective, permitted, bounding) = std::thread::spawn(|| {
            lock_down().expect("dropping privilege never fails for ourselves");
            (
                status("NoNewPrivs:"),
                status("CapEff:"),
                status("CapPrm:"),
                status("CapBnd:"),
            )
        })
        .join()
        .unwrap();
        assert_eq!(no_new_privs, "1");
        assert_eq!(effective, "0000000000000000");
        assert_eq!(permitted, "0000000000000000");
        if can_drop_bounding {
            assert_eq!(bounding, "0000000000000000");
        }
        // This thread was left alone.
        assert_eq!(status("NoNewPrivs:"), before);
    }

    #[test]
    fn keeping_only_net_raw_leaves_nothing_else() {
        let had_raw = has_net_raw();
        let (effective, permitted, still_raw) = std::thread::spawn(|| {
            keep_only_net_raw().expect("reducing privilege never fails for ourselves");
            (status("CapEff:"), status("CapPrm:"), has_net_raw())
        })
        .join()
        .unwrap();
        let only_raw = if had_raw {
            format!("{:016x}", 1u64 << 13)
        } else {
            "0000000000000000".to_string()
        };
        assert_eq!(effective, only_raw);
        assert_eq!(permitted, only_raw);
        assert_eq!(still_raw, had_raw);
    }
}
