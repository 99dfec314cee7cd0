//! How many probes may be in flight: a connect scan holds one descriptor
//! per probe, so its concurrency comes from RLIMIT_NOFILE, raised to the
//! hard limit first (no privilege needed). EMFILE/ENFILE later are
//! back-pressure (the engine waits for a probe to finish), never a result.
#![forbid(unsafe_code)]

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors kept for everything that is not a probe socket (stdio,
/// epoll, the raw sockets, a resolver's socket, …).
pub const RESERVED_FDS: u64 = 32;

/// The most connect() probes in flight, however high the limit.
pub const MAX_CONNECT: usize = 4096;

/// Probes in flight for the raw-socket scans (SYN, UDP): bounded by what
/// the receive buffers hold when every one of them is answered at once.
pub const MAX_RAW: usize = 2048;

/// Raises the soft RLIMIT_NOFILE to the hard one and returns the soft limit
/// in effect afterwards.
pub fn raise_nofile() -> u64 {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 1024,
    }
}

/// Connect probes in flight for a descriptor limit of `nofile`.
pub fn connect_concurrency(nofile: u64) -> usize {
    let spare = nofile.saturating_sub(RESERVED_FDS).max(1);
    usize::try_from(spare)
        .unwrap_or(MAX_CONNECT)
        .min(MAX_CONNECT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_leaves_room_and_is_capped() {
        assert_eq!(connect_concurrency(128), 96);
        assert_eq!(connect_concurrency(1_048_576), MAX_CONNECT);
        assert_eq!(connect_concurrency(3), 1);
    }
}
