//! The labs that need a real link run on two hosts of their own
//! ([`super::netns::Pair`]): building them, making a socket inside one of
//! them and changing one of its sysctls are recorded steps like any call.
#![forbid(unsafe_code)]

use std::io;
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, Socket, Type};

use super::netns::{Host, NetnsError, Pair};
use super::{Actor, LabError, Transcript};

/// Builds the two hosts joined by a veth pair with `mtu`, recorded as one
/// observation of what was built.
pub fn pair(t: &mut Transcript<'_>, mtu: u32) -> Result<Pair, LabError> {
    let pair = Pair::new(mtu)?;
    t.observe(
        "ip",
        format!("netns A, B (anonymous); link veth-a <-> veth-b, mtu {mtu}"),
        format!(
            "A: {} {} on {} (ifindex {}); B: {} {} on {} (ifindex {})",
            pair.a.v4(),
            pair.a.v6(),
            pair.a.ifname(),
            pair.a.ifindex(),
            pair.b.v4(),
            pair.b.v6(),
            pair.b.ifname(),
            pair.b.ifindex()
        ),
    )?;
    t.note("two namespaces of netdx's own: they and everything in them vanish when the lab ends");
    Ok(pair)
}

/// Runs `f` on a thread inside `host`'s namespace.
pub fn inside<T: Send>(host: &Host, f: impl FnOnce() -> T + Send) -> Result<T, LabError> {
    Ok(host.run(f)?)
}

/// A namespace failure as the errno-carrying error a recorded call wants.
pub fn io_error(err: NetnsError) -> io::Error {
    match err {
        NetnsError::Setup { source, .. } => source,
        other => io::Error::other(other.to_string()),
    }
}

/// socket(AF_INET[6], SOCK_DGRAM | SOCK_STREAM, …) inside `host` (`name`
/// says which host in the transcript): the socket belongs to that host for
/// its whole life, whichever thread uses it.
pub fn socket(
    t: &mut Transcript<'_>,
    actor: Actor,
    host: (&Host, &str),
    ipv6: bool,
    stream: bool,
) -> Result<Socket, LabError> {
    let (domain, domain_name) = if ipv6 {
        (Domain::IPV6, "AF_INET6")
    } else {
        (Domain::IPV4, "AF_INET")
    };
    let (ty, protocol, names) = if stream {
        (Type::STREAM, Protocol::TCP, "SOCK_STREAM, IPPROTO_TCP")
    } else {
        (Type::DGRAM, Protocol::UDP, "SOCK_DGRAM, IPPROTO_UDP")
    };
    let (host, name) = host;
    t.must(
        actor,
        "socket",
        format!("{domain_name}, {names}"),
        || {
            host.run(|| Socket::new(domain, ty, Some(protocol)))
                .map_err(io_error)?
        },
        |socket| format!("fd {} (in {name})", socket.as_raw_fd()),
    )
}

/// `sysctl -w` of `path` (`net/ipv4/neigh/veth-a/retrans_time_ms`) in
/// `host`'s namespace only, returning the value it had (whitespace made
/// single spaces); a failure ends the lab.
pub fn sysctl(
    t: &mut Transcript<'_>,
    host: (&Host, &str),
    path: &str,
    value: &str,
) -> Result<String, LabError> {
    let (host, name) = host;
    let dotted = path.replace('/', ".");
    t.must(
        Actor::Netdx,
        "sysctl",
        format!("-w {dotted}={value} (in {name})"),
        || {
            let before = host.read_sysctl(path).map_err(io_error)?;
            host.write_sysctl(path, value).map_err(io_error)?;
            Ok(before.split_whitespace().collect::<Vec<_>>().join(" "))
        },
        |before| format!("0 (was {before})"),
    )
}
