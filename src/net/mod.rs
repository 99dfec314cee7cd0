//! The one raw-socket layer every probe stands on: ICMP datagram ("ping")
//! sockets and raw sockets of either family, the options probes set, one
//! receive path (kernel timestamps, TTL / hop limit, the error queue) with
//! one EINTR/EAGAIN policy, and waiting with deadlines.
//!
//! `ping`, `icmp` and `trace` open their sockets here; the helpers every
//! domain needs (poll timeouts, address and timestamp conversion) live here
//! too, so no domain reaches into another's internals for them.
// Unsafe code is denied here and forbidden in every submodule but
// `packet`, whose one block builds a `sockaddr_ll` to bind to, and
// `tcp_info`, whose one block is getsockopt(TCP_INFO).
#![deny(unsafe_code)]

pub mod error;
pub mod packet;
pub mod socket;
pub mod tcp_info;
pub mod tls;

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::SockaddrStorage;
use nix::sys::time::TimeSpec;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

pub use error::SocketError;
pub use socket::{Datagram, ErrorOrigin, ProbeSocket, QueuedError, SocketKind, read_error_queue};

/// Which address family the user asked for (`-4` / `-6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FamilyChoice {
    /// Whatever the name resolves to first.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl FamilyChoice {
    /// What `-4` / `-6` ask for (`-4` wins when both are given).
    pub fn from_flags(ipv4: bool, ipv6: bool) -> FamilyChoice {
        match (ipv4, ipv6) {
            (true, _) => FamilyChoice::V4,
            (_, true) => FamilyChoice::V6,
            _ => FamilyChoice::Any,
        }
    }

    /// Whether `address` is of the family asked for.
    pub fn admits(self, address: &IpAddr) -> bool {
        match self {
            FamilyChoice::Any => true,
            FamilyChoice::V4 => address.is_ipv4(),
            FamilyChoice::V6 => address.is_ipv6(),
        }
    }

    /// The command-line flag that asked for it (`-4`, `-6`; empty for any).
    pub fn flag(self) -> &'static str {
        match self {
            FamilyChoice::Any => "",
            FamilyChoice::V4 => "-4",
            FamilyChoice::V6 => "-6",
        }
    }
}

/// "IPv6" or "IPv4", as messages name a family.
pub fn family_name(v6: bool) -> &'static str {
    if v6 { "IPv6" } else { "IPv4" }
}

/// Room for the largest IP datagram (65535 bytes): a reply is never cut short.
pub const LARGEST_DATAGRAM: usize = 65_536;

/// An IPv4 or IPv6 socket address as std's (None for other families).
pub fn socket_addr_of(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    address
        .as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

/// The IP address of a socket address (None for other families).
pub fn ip_of(address: &SockaddrStorage) -> Option<IpAddr> {
    socket_addr_of(address).map(|address| address.ip())
}

/// A kernel timestamp (SO_TIMESTAMPNS) as wall-clock time.
pub fn system_time(ts: TimeSpec) -> SystemTime {
    let nanos = u32::try_from(ts.tv_nsec()).unwrap_or(0);
    match u64::try_from(ts.tv_sec()) {
        Ok(secs) => UNIX_EPOCH + Duration::new(secs, nanos),
        Err(_) => UNIX_EPOCH,
    }
}

/// poll()'s millisecond timeout, rounded up so a wait never ends early.
pub fn poll_timeout(d: Duration) -> PollTimeout {
    let ms = d.as_nanos().div_ceil(1_000_000);
    PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
}

/// Waits until `deadline` for any of `fds` to be readable; `false` when the
/// deadline passed (or a signal interrupted the wait) with nothing to read.
pub fn wait_readable(fds: &[BorrowedFd<'_>], deadline: Instant) -> io::Result<bool> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Ok(false);
    }
    let mut polled: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
        .collect();
    match nix::poll::poll(&mut polled, poll_timeout(left)) {
        Ok(n) => Ok(n > 0),
        Err(Errno::EINTR) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

/// The local address the kernel would use to reach `target` (a UDP
/// connect, which sends nothing).
pub fn source_for(target: IpAddr) -> io::Result<IpAddr> {
    let domain = if target.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let probe = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    probe.connect(&SockAddr::from(SocketAddr::new(target, 9)))?;
    probe
        .local_addr()?
        .as_socket()
        .map(|a| a.ip())
        .ok_or_else(|| io::Error::other("no local address"))
}

/// How long an answer took: the kernel's receive stamp minus the send time,
/// unless the wall clock stepped in between — then the monotonic time the
/// engine measured (`elapsed`, an upper bound) is the truth.
pub fn round_trip(received: Option<SystemTime>, sent: SystemTime, elapsed: Duration) -> Duration {
    match received.map(|at| at.duration_since(sent)) {
        Some(Ok(rtt)) if rtt <= elapsed => rtt,
        _ => elapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_survive_a_wall_clock_step() {
        let sent = UNIX_EPOCH + Duration::from_secs(1000);
        let elapsed = Duration::from_millis(3);
        let kernel = sent + Duration::from_micros(1500);
        assert_eq!(
            round_trip(Some(kernel), sent, elapsed),
            Duration::from_micros(1500)
        );
        // Stepped forward an hour, or back: the monotonic time is used.
        let ahead = kernel + Duration::from_secs(3600);
        assert_eq!(round_trip(Some(ahead), sent, elapsed), elapsed);
        let behind = sent - Duration::from_secs(3600);
        assert_eq!(round_trip(Some(behind), sent, elapsed), elapsed);
        assert_eq!(round_trip(None, sent, elapsed), elapsed);
    }

    #[test]
    fn poll_timeouts_round_up_to_the_next_millisecond() {
        assert_eq!(
            poll_timeout(Duration::from_micros(1)),
            PollTimeout::from(1u8)
        );
        assert_eq!(
            poll_timeout(Duration::from_millis(3)),
            PollTimeout::from(3u8)
        );
        assert_eq!(poll_timeout(Duration::from_secs(1 << 40)), PollTimeout::MAX);
    }

    #[test]
    fn dash_4_wins_over_dash_6_and_neither_means_any() {
        assert_eq!(FamilyChoice::from_flags(true, true), FamilyChoice::V4);
        assert_eq!(FamilyChoice::from_flags(false, true), FamilyChoice::V6);
        assert_eq!(FamilyChoice::from_flags(false, false), FamilyChoice::Any);
    }

    #[test]
    fn kernel_timestamps_convert_to_wall_clock_time() {
        let at = system_time(TimeSpec::new(12, 345));
        assert_eq!(at, UNIX_EPOCH + Duration::new(12, 345));
        assert_eq!(system_time(TimeSpec::new(-1, 0)), UNIX_EPOCH);
    }
}
