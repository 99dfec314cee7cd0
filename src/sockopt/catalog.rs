//! The options netdx knows: name, level, value kind, meaning, and how to
//! read and write each one.
#![forbid(unsafe_code)]

use std::io;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::sys::socket::{getsockopt, setsockopt, sockopt};
use nix::{getsockopt_impl, setsockopt_impl, sockopt_impl};
use socket2::Socket;

use super::{Kind, Level, SocketKind, Value};

/// One option.
pub struct Spec {
    /// The C name (`SO_RCVBUF`).
    pub name: &'static str,
    /// Other spellings accepted on the command line (`nonblocking`).
    pub aliases: &'static [&'static str],
    /// The level it lives at.
    pub level: Level,
    /// Its value's shape.
    pub kind: Kind,
    /// One line on what it does.
    pub meaning: &'static str,
    /// Which sockets it is shown for (the level already rules some out).
    pub applies: fn(SocketKind) -> bool,
    pub(super) get: fn(&Socket) -> io::Result<Value>,
    pub(super) set: Option<fn(&Socket, &Value) -> io::Result<()>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec").field("name", &self.name).finish()
    }
}

fn any(_: SocketKind) -> bool {
    true
}
fn inet(kind: SocketKind) -> bool {
    kind != SocketKind::Unix
}
fn connection(kind: SocketKind) -> bool {
    matches!(kind, SocketKind::Tcp | SocketKind::Unix)
}
fn datagram(kind: SocketKind) -> bool {
    matches!(kind, SocketKind::Udp | SocketKind::Raw)
}
fn ports(kind: SocketKind) -> bool {
    matches!(kind, SocketKind::Tcp | SocketKind::Udp)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("expected {what}"))
}
fn want_bool(value: &Value) -> io::Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Int(n) => Ok(*n != 0),
        _ => Err(invalid("on or off")),
    }
}
fn want_int(value: &Value) -> io::Result<i64> {
    value.as_int().ok_or_else(|| invalid("a whole number"))
}
fn want_u32(value: &Value) -> io::Result<u32> {
    u32::try_from(want_int(value)?).map_err(|_| invalid("a number from 0 to 4294967295"))
}
fn want_duration(value: &Value) -> io::Result<Option<Duration>> {
    match value {
        Value::Duration(d) => Ok(*d),
        Value::Int(0) => Ok(None),
        Value::Int(n) if *n > 0 => Ok(Some(Duration::from_secs(*n as u64))),
        _ => Err(invalid("a time")),
    }
}
fn want_whole_seconds(value: &Value) -> io::Result<u32> {
    let d = want_duration(value)?.unwrap_or_default();
    u32::try_from(d.as_secs()).map_err(|_| invalid("a number of seconds"))
}
fn errno(err: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(err as i32)
}
fn usize_value(n: usize) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

sockopt_impl!(
    /// SO_RCVLOWAT: socket2 has no accessor for it.
    RcvLowat,
    Both,
    libc::SOL_SOCKET,
    libc::SO_RCVLOWAT,
    i32
);

sockopt_impl!(
    /// IP_MTU_DISCOVER: neither socket2 nor nix has it.
    IpMtuDiscover,
    Both,
    libc::IPPROTO_IP,
    libc::IP_MTU_DISCOVER,
    i32
);

/// IP_MTU_DISCOVER's values (linux/in.h), by the names C code uses.
const PMTUDISC: [(i32, &str); 6] = [
    (libc::IP_PMTUDISC_DONT, "IP_PMTUDISC_DONT"),
    (libc::IP_PMTUDISC_WANT, "IP_PMTUDISC_WANT"),
    (libc::IP_PMTUDISC_DO, "IP_PMTUDISC_DO"),
    (libc::IP_PMTUDISC_PROBE, "IP_PMTUDISC_PROBE"),
    (libc::IP_PMTUDISC_INTERFACE, "IP_PMTUDISC_INTERFACE"),
    (libc::IP_PMTUDISC_OMIT, "IP_PMTUDISC_OMIT"),
];

fn pmtudisc_name(raw: i32) -> Value {
    Value::Text(
        PMTUDISC
            .iter()
            .find(|(value, _)| *value == raw)
            .map_or_else(|| raw.to_string(), |(_, name)| (*name).to_string()),
    )
}

/// `IP_PMTUDISC_DO`, `do` or `2`.
fn want_pmtudisc(value: &Value) -> io::Result<i32> {
    let bad = || invalid("dont, want, do, probe, interface or omit");
    match value {
        Value::Text(text) => {
            let upper = text.to_ascii_uppercase();
            let bare = upper.strip_prefix("IP_PMTUDISC_").unwrap_or(&upper);
            PMTUDISC
                .iter()
                .find(|(_, name)| name.strip_prefix("IP_PMTUDISC_") == Some(bare))
                .map(|(value, _)| *value)
                .ok_or_else(bad)
        }
        Value::Int(n) => i32::try_from(*n)
            .ok()
            .filter(|n| PMTUDISC.iter().any(|(value, _)| value == n))
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

macro_rules! spec {
    // An on/off option socket2 reads and writes.
    ($name:literal, $aliases:expr, $level:ident, $kind:ident, $applies:ident, flag!($get:ident, $set:ident), $meaning:literal) => {
        spec!(
            $name,
            $aliases,
            $level,
            $kind,
            $applies,
            (
                |s: &Socket| s.$get().map(Value::Bool),
                Some(|s: &Socket, v: &Value| s.$set(want_bool(v)?))
            ),
            $meaning
        )
    };
    // A numeric option socket2 reads and writes as u32.
    ($name:literal, $aliases:expr, $level:ident, $kind:ident, $applies:ident, number!($get:ident, $set:ident), $meaning:literal) => {
        spec!(
            $name,
            $aliases,
            $level,
            $kind,
            $applies,
            (
                |s: &Socket| s.$get().map(|n| Value::Int(i64::from(n))),
                Some(|s: &Socket, v: &Value| s.$set(want_u32(v)?))
            ),
            $meaning
        )
    };
    // A size in bytes socket2 reads and writes as usize.
    ($name:literal, $aliases:expr, $level:ident, $kind:ident, $applies:ident, bytes!($get:ident, $set:ident), $meaning:literal) => {
        spec!(
            $name,
            $aliases,
            $level,
            $kind,
            $applies,
            (
                |s: &Socket| s.$get().map(usize_value),
                Some(|s: &Socket, v: &Value| s
                    .$set(usize::try_from(want_int(v)?).map_err(|_| invalid("a size in bytes"))?))
            ),
            $meaning
        )
    };
    ($name:literal, $aliases:expr, $level:ident, $kind:ident, $applies:ident, ($get:expr, $set:expr), $meaning:literal) => {
        Spec {
            name: $name,
            aliases: $aliases,
            level: Level::$level,
            kind: Kind::$kind,
            meaning: $meaning,
            applies: $applies,
            get: $get,
            set: $set,
        }
    };
}

/// Every option, in the order tables show them.
pub static CATALOG: &[Spec] = &[
    spec!(
        "SO_TYPE",
        &["type"],
        Socket,
        Fixed,
        any,
        (
            |s: &Socket| s.r#type().map(|t| Value::Text(type_name(t.into()))),
            None
        ),
        "the socket's type, fixed at socket()"
    ),
    spec!(
        "SO_DOMAIN",
        &["domain"],
        Socket,
        Fixed,
        any,
        (
            |s: &Socket| s.domain().map(|d| Value::Text(domain_name(d.into()))),
            None
        ),
        "the address family, fixed at socket()"
    ),
    spec!(
        "SO_PROTOCOL",
        &["protocol"],
        Socket,
        Fixed,
        any,
        (
            |s: &Socket| s
                .protocol()
                .map(|p| Value::Text(protocol_name(p.map_or(0, i32::from)))),
            None
        ),
        "the protocol, fixed at socket()"
    ),
    spec!(
        "SO_ACCEPTCONN",
        &["acceptconn"],
        Socket,
        Bool,
        connection,
        (|s: &Socket| s.is_listener().map(Value::Bool), None),
        "whether listen() was called: the socket accepts connections"
    ),
    spec!(
        "SO_ERROR",
        &["error"],
        Socket,
        Fixed,
        any,
        (
            |s: &Socket| s.take_error().map(|e| Value::Text(
                e.map_or_else(|| "0 (none)".into(), |e| super::errno_text(&e))
            )),
            None
        ),
        "the pending asynchronous error (e.g. a non-blocking connect's outcome); reading clears it"
    ),
    spec!(
        "SO_REUSEADDR",
        &["reuseaddr"],
        Socket,
        Bool,
        any,
        flag!(reuse_address, set_reuse_address),
        "bind() may reuse a local address whose old connections are still in TIME_WAIT"
    ),
    spec!(
        "SO_REUSEPORT",
        &["reuseport"],
        Socket,
        Bool,
        ports,
        flag!(reuse_port, set_reuse_port),
        "several sockets of one user may bind the same address and port; the kernel spreads load across them"
    ),
    spec!(
        "SO_KEEPALIVE",
        &["keepalive"],
        Socket,
        Bool,
        connection,
        flag!(keepalive, set_keepalive),
        "send keepalive probes on an idle connection to find dead peers"
    ),
    spec!(
        "SO_RCVBUF",
        &["rcvbuf"],
        Socket,
        Int,
        any,
        bytes!(recv_buffer_size, set_recv_buffer_size),
        "receive buffer size in bytes; Linux doubles the request for bookkeeping"
    ),
    spec!(
        "SO_SNDBUF",
        &["sndbuf"],
        Socket,
        Int,
        any,
        bytes!(send_buffer_size, set_send_buffer_size),
        "send buffer size in bytes; Linux doubles the request for bookkeeping"
    ),
    spec!(
        "SO_RCVLOWAT",
        &["rcvlowat"],
        Socket,
        Int,
        any,
        (
            |s: &Socket| getsockopt(&s.as_fd(), RcvLowat)
                .map(|n| Value::Int(i64::from(n)))
                .map_err(errno),
            Some(|s: &Socket, v: &Value| {
                let n = i32::try_from(want_int(v)?).map_err(|_| invalid("a byte count"))?;
                setsockopt(&s.as_fd(), RcvLowat, &n).map_err(errno)
            })
        ),
        "recv() and poll() wait until at least this many bytes are queued"
    ),
    spec!(
        "SO_RCVTIMEO",
        &["rcvtimeo"],
        Socket,
        Duration,
        any,
        (
            |s: &Socket| s.read_timeout().map(Value::Duration),
            Some(|s: &Socket, v: &Value| s.set_read_timeout(want_duration(v)?))
        ),
        "a blocking receive fails with EAGAIN after this long (0: wait forever)"
    ),
    spec!(
        "SO_SNDTIMEO",
        &["sndtimeo"],
        Socket,
        Duration,
        any,
        (
            |s: &Socket| s.write_timeout().map(Value::Duration),
            Some(|s: &Socket, v: &Value| s.set_write_timeout(want_duration(v)?))
        ),
        "a blocking send gives up after this long, returning a partial count or EAGAIN (0: wait forever)"
    ),
    spec!(
        "SO_LINGER",
        &["linger"],
        Socket,
        Linger,
        any,
        (
            |s: &Socket| s.linger().map(Value::Linger),
            Some(|s: &Socket, v: &Value| match v {
                Value::Linger(l) => s.set_linger(*l),
                other => s.set_linger(if want_bool(other)? {
                    Some(Duration::ZERO)
                } else {
                    None
                }),
            })
        ),
        "close() waits this long for unsent data; on with 0 resets the connection instead of a FIN"
    ),
    spec!(
        "SO_BROADCAST",
        &["broadcast"],
        Socket,
        Bool,
        datagram,
        flag!(broadcast, set_broadcast),
        "datagrams may be sent to a broadcast address"
    ),
    spec!(
        "O_NONBLOCK",
        &["nonblocking", "nonblock"],
        File,
        Bool,
        any,
        (
            |s: &Socket| s.nonblocking().map(Value::Bool),
            Some(|s: &Socket, v: &Value| s.set_nonblocking(want_bool(v)?))
        ),
        "calls that would wait fail with EAGAIN (EINPROGRESS for connect) instead"
    ),
    spec!(
        "TCP_NODELAY",
        &["nodelay"],
        Tcp,
        Bool,
        any,
        flag!(tcp_nodelay, set_tcp_nodelay),
        "send small segments at once instead of waiting to coalesce them (turns Nagle's algorithm off)"
    ),
    spec!(
        "TCP_KEEPIDLE",
        &["keepidle"],
        Tcp,
        Duration,
        any,
        (
            |s: &Socket| s.tcp_keepalive_time().map(|d| Value::Duration(Some(d))),
            Some(|s: &Socket, v: &Value| setsockopt(
                &s.as_fd(),
                sockopt::TcpKeepIdle,
                &want_whole_seconds(v)?
            )
            .map_err(errno))
        ),
        "idle time before the first keepalive probe (needs SO_KEEPALIVE)"
    ),
    spec!(
        "TCP_KEEPINTVL",
        &["keepintvl"],
        Tcp,
        Duration,
        any,
        (
            |s: &Socket| s.tcp_keepalive_interval().map(|d| Value::Duration(Some(d))),
            Some(|s: &Socket, v: &Value| setsockopt(
                &s.as_fd(),
                sockopt::TcpKeepInterval,
                &want_whole_seconds(v)?
            )
            .map_err(errno))
        ),
        "time between keepalive probes"
    ),
    spec!(
        "TCP_KEEPCNT",
        &["keepcnt"],
        Tcp,
        Int,
        any,
        (
            |s: &Socket| s.tcp_keepalive_retries().map(|n| Value::Int(i64::from(n))),
            Some(|s: &Socket, v: &Value| setsockopt(
                &s.as_fd(),
                sockopt::TcpKeepCount,
                &want_u32(v)?
            )
            .map_err(errno))
        ),
        "unanswered keepalive probes before the connection is dropped"
    ),
    spec!(
        "TCP_MAXSEG",
        &["maxseg", "mss"],
        Tcp,
        Int,
        any,
        number!(tcp_mss, set_tcp_mss),
        "the largest segment TCP sends; before connect only an upper bound, afterwards the path's MSS"
    ),
    spec!(
        "TCP_QUICKACK",
        &["quickack"],
        Tcp,
        Bool,
        any,
        flag!(tcp_quickack, set_tcp_quickack),
        "acknowledge at once instead of delaying ACKs (the kernel may turn it off again by itself)"
    ),
    spec!(
        "TCP_CONGESTION",
        &["congestion"],
        Tcp,
        Text,
        any,
        (
            |s: &Socket| s.tcp_congestion().map(|name| Value::Text(
                String::from_utf8_lossy(&name)
                    .trim_end_matches('\0')
                    .to_string()
            )),
            Some(|s: &Socket, v: &Value| match v {
                Value::Text(name) => s.set_tcp_congestion(name.as_bytes()),
                _ => Err(invalid("an algorithm name (cubic, reno, …)")),
            })
        ),
        "the congestion control algorithm (net.ipv4.tcp_available_congestion_control)"
    ),
    spec!(
        "TCP_USER_TIMEOUT",
        &["user_timeout"],
        Tcp,
        Duration,
        any,
        (
            |s: &Socket| s.tcp_user_timeout().map(Value::Duration),
            Some(|s: &Socket, v: &Value| s.set_tcp_user_timeout(want_duration(v)?))
        ),
        "how long sent data may stay unacknowledged before the connection is dropped (0: the kernel's default)"
    ),
    spec!(
        "IP_TTL",
        &["ttl"],
        Ip,
        Int,
        inet,
        number!(ttl_v4, set_ttl_v4),
        "time to live of outgoing IPv4 packets (hops)"
    ),
    spec!(
        "IP_TOS",
        &["tos"],
        Ip,
        Int,
        inet,
        number!(tos_v4, set_tos_v4),
        "type of service / DSCP+ECN byte of outgoing IPv4 packets"
    ),
    spec!(
        "IP_MULTICAST_TTL",
        &["multicast_ttl"],
        Ip,
        Int,
        datagram,
        number!(multicast_ttl_v4, set_multicast_ttl_v4),
        "time to live of outgoing multicast datagrams"
    ),
    spec!(
        "IP_RECVERR",
        &["recverr"],
        Ip,
        Bool,
        inet,
        (
            |s: &Socket| getsockopt(&s.as_fd(), sockopt::Ipv4RecvErr)
                .map(Value::Bool)
                .map_err(errno),
            Some(|s: &Socket, v: &Value| setsockopt(
                &s.as_fd(),
                sockopt::Ipv4RecvErr,
                &want_bool(v)?
            )
            .map_err(errno))
        ),
        "queue ICMP errors on the socket's error queue (read with MSG_ERRQUEUE)"
    ),
    spec!(
        "IP_MTU_DISCOVER",
        &["mtu_discover", "pmtudisc"],
        Ip,
        Text,
        inet,
        (
            |s: &Socket| getsockopt(&s.as_fd(), IpMtuDiscover)
                .map(pmtudisc_name)
                .map_err(errno),
            Some(
                |s: &Socket, v: &Value| setsockopt(&s.as_fd(), IpMtuDiscover, &want_pmtudisc(v)?)
                    .map_err(errno)
            )
        ),
        "path MTU discovery: DO sets DF and refuses datagrams over the path MTU (EMSGSIZE); DONT lets the kernel fragment"
    ),
    spec!(
        "IP_MTU",
        &["mtu"],
        Ip,
        Fixed,
        inet,
        (
            |s: &Socket| getsockopt(&s.as_fd(), sockopt::IpMtu)
                .map(|n| Value::Int(i64::from(n)))
                .map_err(errno),
            None
        ),
        "the path MTU the kernel knows for the connected peer (ENOTCONN until connect())"
    ),
    spec!(
        "IPV6_V6ONLY",
        &["v6only"],
        Ipv6,
        Bool,
        inet,
        flag!(only_v6, set_only_v6),
        "an IPv6 socket bound to :: takes IPv6 only; off: IPv4 too, as ::ffff:a.b.c.d"
    ),
    spec!(
        "IPV6_UNICAST_HOPS",
        &["hops", "unicast_hops"],
        Ipv6,
        Int,
        inet,
        number!(unicast_hops_v6, set_unicast_hops_v6),
        "hop limit of outgoing IPv6 packets"
    ),
    spec!(
        "IPV6_TCLASS",
        &["tclass"],
        Ipv6,
        Int,
        inet,
        number!(tclass_v6, set_tclass_v6),
        "traffic class (DSCP+ECN) of outgoing IPv6 packets"
    ),
    spec!(
        "IPV6_DONTFRAG",
        &["dontfrag"],
        Ipv6,
        Bool,
        datagram,
        (
            |s: &Socket| getsockopt(&s.as_fd(), sockopt::Ipv6DontFrag)
                .map(Value::Bool)
                .map_err(errno),
            Some(|s: &Socket, v: &Value| setsockopt(
                &s.as_fd(),
                sockopt::Ipv6DontFrag,
                &want_bool(v)?
            )
            .map_err(errno))
        ),
        "refuse datagrams over the path MTU with EMSGSIZE instead of fragmenting them at the source"
    ),
];

fn type_name(raw: i32) -> String {
    match raw {
        libc::SOCK_STREAM => "SOCK_STREAM".into(),
        libc::SOCK_DGRAM => "SOCK_DGRAM".into(),
        libc::SOCK_RAW => "SOCK_RAW".into(),
        libc::SOCK_SEQPACKET => "SOCK_SEQPACKET".into(),
        other => other.to_string(),
    }
}

fn domain_name(raw: i32) -> String {
    match raw {
        libc::AF_INET => "AF_INET".into(),
        libc::AF_INET6 => "AF_INET6".into(),
        libc::AF_UNIX => "AF_UNIX".into(),
        other => other.to_string(),
    }
}

fn protocol_name(raw: i32) -> String {
    match raw {
        0 => "0 (default)".into(),
        libc::IPPROTO_TCP => "IPPROTO_TCP".into(),
        libc::IPPROTO_UDP => "IPPROTO_UDP".into(),
        libc::IPPROTO_ICMP => "IPPROTO_ICMP".into(),
        libc::IPPROTO_ICMPV6 => "IPPROTO_ICMPV6".into(),
        other => other.to_string(),
    }
}

/// Finds an option by its C name, an alias, or its name without the
/// `SO_`/`TCP_`/`IP_`/`IPV6_`/`O_` prefix, ignoring case.
pub fn find(name: &str) -> Option<&'static Spec> {
    let wanted = name.trim().to_ascii_uppercase().replace('-', "_");
    CATALOG.iter().find(|spec| {
        spec.name == wanted
            || spec.aliases.iter().any(|a| a.eq_ignore_ascii_case(&wanted))
            || ["SO_", "TCP_", "IP_", "IPV6_", "O_"]
                .iter()
                .any(|prefix| spec.name.strip_prefix(prefix) == Some(wanted.as_str()))
    })
}

/// The option names closest to `name` (for "did you mean …").
pub fn suggestions(name: &str) -> Vec<&'static str> {
    let wanted = name.trim().to_ascii_uppercase().replace('-', "_");
    let mut scored: Vec<(usize, &'static str)> = CATALOG
        .iter()
        .map(|spec| {
            let full = edit_distance(&wanted, spec.name);
            let bare = spec
                .name
                .split_once('_')
                .map_or(full, |(_, rest)| edit_distance(&wanted, rest));
            (full.min(bare), spec.name)
        })
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .filter(|&(d, _)| d <= best.max(1) + 1 && d <= wanted.len().max(3))
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// Why the value read back differs from the one asked for, when it does.
pub(super) fn explain_difference(spec: &Spec, asked: &Value, got: &Value) -> Option<String> {
    if let ("SO_RCVBUF" | "SO_SNDBUF", Value::Int(a), Value::Int(g)) = (spec.name, asked, got) {
        let receive = spec.name == "SO_RCVBUF";
        let sysctl = if receive { "rmem_max" } else { "wmem_max" };
        return Some(if *g == a.saturating_mul(2) {
            format!("the kernel doubled {a}: half is kept for its own bookkeeping (socket(7))")
        } else if let Some(limit) = super::buffer_limit(receive).filter(|&l| (*a as u64) > l) {
            format!("{a} is over net.core.{sysctl} = {limit}: clamped to it, then doubled")
        } else if *g > a.saturating_mul(2) {
            "raised to the kernel's minimum buffer size".to_string()
        } else {
            format!("the kernel set {g} for a request of {a}")
        });
    }
    if asked == got {
        return None;
    }
    // `do`, `2` and `IP_PMTUDISC_DO` are one request.
    if spec.name == "IP_MTU_DISCOVER"
        && want_pmtudisc(asked)
            .ok()
            .is_some_and(|a| want_pmtudisc(got).ok() == Some(a))
    {
        return None;
    }
    Some(match spec.name {
        "TCP_MAXSEG" => {
            "the kernel bounds the MSS by the route's MTU and what the peer announces".into()
        }
        "TCP_QUICKACK" => {
            "quick-ack mode is not permanent: the kernel leaves it when it sees fit".into()
        }
        _ => format!("the kernel reports {got} for a request of {asked}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_with_or_without_prefix_and_case() {
        assert_eq!(find("SO_RCVBUF").unwrap().name, "SO_RCVBUF");
        assert_eq!(find("rcvbuf").unwrap().name, "SO_RCVBUF");
        assert_eq!(find("nonblocking").unwrap().name, "O_NONBLOCK");
        assert_eq!(find("tcp_nodelay").unwrap().name, "TCP_NODELAY");
        assert!(find("SO_BOGUS").is_none());
    }

    #[test]
    fn misspelt_names_get_the_closest_suggestions() {
        assert_eq!(suggestions("SO_RCVBUFF").first(), Some(&"SO_RCVBUF"));
        assert!(suggestions("TCP_NODELY").contains(&"TCP_NODELAY"));
    }

    #[test]
    fn pmtu_discovery_modes_are_named_either_way() {
        for text in ["do", "IP_PMTUDISC_DO", "ip_pmtudisc_do"] {
            assert_eq!(
                want_pmtudisc(&Value::Text(text.into())).unwrap(),
                libc::IP_PMTUDISC_DO
            );
        }
        assert_eq!(
            want_pmtudisc(&Value::Int(0)).unwrap(),
            libc::IP_PMTUDISC_DONT
        );
        assert!(want_pmtudisc(&Value::Text("sometimes".into())).is_err());
        assert!(want_pmtudisc(&Value::Int(99)).is_err());
        assert_eq!(
            pmtudisc_name(libc::IP_PMTUDISC_WANT),
            Value::Text("IP_PMTUDISC_WANT".into())
        );
        let spec = find("IP_MTU_DISCOVER").unwrap();
        assert_eq!(
            explain_difference(
                spec,
                &Value::Text("do".into()),
                &Value::Text("IP_PMTUDISC_DO".into())
            ),
            None
        );
    }

    #[test]
    fn option_names_are_unique() {
        let mut names: Vec<&str> = CATALOG.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOG.len());
    }
}
