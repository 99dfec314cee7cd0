//! Building echo sockets: socket2 sockets with the requested options set
//! through the option catalog, bind errors that name the port's holder,
//! connects with a timeout, and target resolution.
#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{EchoError, Proto};
pub use crate::net::FamilyChoice;
use crate::sockets::port::{PortQuery, PortSpec};
use crate::sockets::{self, Families, PortRange, Protocols, state};
use crate::sockopt::{self, Shape, SocketKind, Value};

/// The options both serve and probe understand (`None`: leave the kernel's default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// SO_REUSEADDR.
    pub reuseaddr: Option<bool>,
    /// SO_REUSEPORT.
    pub reuseport: bool,
    /// SO_RCVBUF, bytes asked for.
    pub rcvbuf: Option<usize>,
    /// SO_SNDBUF, bytes asked for.
    pub sndbuf: Option<usize>,
    /// TCP_NODELAY.
    pub nodelay: bool,
    /// SO_KEEPALIVE.
    pub keepalive: bool,
    /// IPV6_V6ONLY (IPv6 sockets only).
    pub v6only: Option<bool>,
    /// IP_TTL / IPV6_UNICAST_HOPS.
    pub ttl: Option<u32>,
    /// IP_TOS / IPV6_TCLASS.
    pub tos: Option<u32>,
}

impl SocketOptions {
    /// The setsockopt calls these options make on a socket of `shape`, in order.
    pub fn requests(&self, shape: Shape) -> Vec<(&'static str, Value)> {
        let mut calls = Vec::new();
        let tcp = shape.kind == SocketKind::Tcp;
        if let Some(on) = self.reuseaddr {
            calls.push(("SO_REUSEADDR", Value::Bool(on)));
        }
        if self.reuseport {
            calls.push(("SO_REUSEPORT", Value::Bool(true)));
        }
        if let Some(bytes) = self.rcvbuf {
            calls.push(("SO_RCVBUF", Value::Int(bytes as i64)));
        }
        if let Some(bytes) = self.sndbuf {
            calls.push(("SO_SNDBUF", Value::Int(bytes as i64)));
        }
        if tcp && self.nodelay {
            calls.push(("TCP_NODELAY", Value::Bool(true)));
        }
        if tcp && self.keepalive {
            calls.push(("SO_KEEPALIVE", Value::Bool(true)));
        }
        if shape.ipv6 {
            if let Some(only) = self.v6only {
                calls.push(("IPV6_V6ONLY", Value::Bool(only)));
            }
        }
        if let Some(ttl) = self.ttl {
            let name = if shape.ipv6 {
                "IPV6_UNICAST_HOPS"
            } else {
                "IP_TTL"
            };
            calls.push((name, Value::Int(i64::from(ttl))));
        }
        if let Some(tos) = self.tos {
            let name = if shape.ipv6 { "IPV6_TCLASS" } else { "IP_TOS" };
            calls.push((name, Value::Int(i64::from(tos))));
        }
        calls
    }
}

/// A socket with its options applied, and what was asked for.
pub struct Opened {
    /// The socket.
    pub socket: Socket,
    /// Its kind and family.
    pub shape: Shape,
    /// The setsockopt calls made.
    pub requested: Vec<(&'static str, Value)>,
}

/// Creates a TCP or UDP socket for `family_of`'s family and applies `options`.
pub fn open(proto: Proto, family_of: IpAddr, options: &SocketOptions) -> Result<Opened, EchoError> {
    let ipv6 = family_of.is_ipv6();
    let domain = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
    let (ty, protocol, kind) = match proto {
        Proto::Tcp => (Type::STREAM, Protocol::TCP, SocketKind::Tcp),
        Proto::Udp => (Type::DGRAM, Protocol::UDP, SocketKind::Udp),
    };
    let socket = Socket::new(domain, ty, Some(protocol)).map_err(|source| EchoError::Socket {
        what: format!("creating a {proto} socket"),
        source,
    })?;
    let shape = Shape { kind, ipv6 };
    let requested = options.requests(shape);
    for (name, value) in &requested {
        let spec = sockopt::find(name).ok_or_else(|| EchoError::Socket {
            what: format!("setting {name}"),
            source: io::Error::from(io::ErrorKind::Unsupported),
        })?;
        sockopt::set(&socket, spec, value).map_err(|source| EchoError::Socket {
            what: format!("setting {name}={value}"),
            source,
        })?;
    }
    Ok(Opened {
        socket,
        shape,
        requested,
    })
}

/// Binds `socket` to `address`; an address in use is explained with who
/// holds it and what would help.
pub fn bind(
    socket: &Socket,
    address: SocketAddr,
    proto: Proto,
    options: &SocketOptions,
) -> Result<(), EchoError> {
    socket
        .bind(&SockAddr::from(address))
        .map_err(|err| EchoError::Bind {
            address,
            proto,
            reason: match err.raw_os_error() {
                Some(libc::EADDRINUSE) => BindFailure::InUse(in_use(address, proto, options)),
                Some(libc::EADDRNOTAVAIL) => BindFailure::NotLocal,
                Some(libc::EACCES) => BindFailure::Privileged {
                    first_free: unprivileged_port_start(),
                },
                _ => BindFailure::Os(sockopt::errno_text(&err)),
            },
        })
}

/// Why a bind failed, with what would help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindFailure {
    /// EADDRINUSE: who holds the port, and which option could help.
    #[error("address already in use{0}")]
    InUse(InUse),
    /// EADDRNOTAVAIL: the address is not this host's.
    #[error("no interface of this host has that address (see 'netdx ifconfig')")]
    NotLocal,
    /// EACCES on a low port.
    #[error("permission denied: ports below {first_free} need root or CAP_NET_BIND_SERVICE")]
    Privileged {
        /// `net.ipv4.ip_unprivileged_port_start`.
        first_free: u16,
    },
    /// Any other error, as the system words it.
    #[error("{0}")]
    Os(String),
}

/// Who holds a port that is in use (from the same lookup as `netdx port`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InUse {
    /// The port.
    pub port: u16,
    /// The processes holding it: `name (pid N, user U, STATE)`.
    pub holders: Vec<PortHolder>,
    /// Only connections in TIME_WAIT hold it.
    pub time_wait: bool,
    /// How many sockets hold it (some may have no visible owner).
    pub sockets: usize,
    /// SO_REUSEPORT was asked for.
    pub reuseport: bool,
    /// SO_REUSEADDR was asked for.
    pub reuseaddr: bool,
}

/// One process holding a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortHolder {
    /// Its command name.
    pub name: String,
    /// Its pid.
    pub pid: u32,
    /// Its user, when known.
    pub user: Option<String>,
    /// The state of its socket on the port (`LISTEN`).
    pub state: state::State,
}

/// " by nginx (pid 10, user www, LISTEN) and 1 more; stop it (…)": the
/// holders and what would help, after "address already in use".
impl std::fmt::Display for InUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(first) = self.holders.first() {
            let user = first
                .user
                .as_deref()
                .map(|u| format!(", user {u}"))
                .unwrap_or_default();
            write!(
                f,
                " by {} (pid {}{user}, {})",
                first.name,
                first.pid,
                first.state.name()
            )?;
            if self.holders.len() > 1 {
                write!(f, " and {} more", self.holders.len() - 1)?;
            }
            write!(
                f,
                "; stop it (netdx port {} --kill), or pick another port with --bind",
                self.port
            )?;
            if !self.reuseport {
                f.write_str(
                    "; --reuseport shares the port only if the holder set SO_REUSEPORT too, as the same user",
                )?;
            }
        } else if self.time_wait {
            f.write_str(" by connections in TIME_WAIT")?;
            if !self.reuseaddr {
                f.write_str("; --reuseaddr lets a server bind over them")?;
            }
        } else if self.sockets > 0 {
            f.write_str(
                " by a socket no visible process holds (another user's, or in the kernel)",
            )?;
        }
        Ok(())
    }
}

/// The first port unprivileged users may bind (`net.ipv4.ip_unprivileged_port_start`).
fn unprivileged_port_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(1024)
}

/// Who holds `address`'s port, from the same lookup as `netdx port`.
fn in_use(address: SocketAddr, proto: Proto, options: &SocketOptions) -> InUse {
    let query = PortQuery {
        specs: vec![PortSpec {
            proto: Some(match proto {
                Proto::Tcp => sockets::Proto::Tcp,
                Proto::Udp => sockets::Proto::Udp,
            }),
            range: PortRange::one(address.port()),
        }],
        protocols: Protocols {
            tcp: proto == Proto::Tcp,
            udp: proto == Proto::Udp,
            raw: false,
            unix: false,
        },
        families: Families { v4: true, v6: true },
        listening: false,
        local_only: true,
    };
    let found = sockets::port::find(&query)
        .map(|listing| listing.sockets)
        .unwrap_or_default();
    let holders = found
        .iter()
        .flat_map(|socket| {
            socket.processes.iter().map(move |holder| PortHolder {
                name: holder.name.to_string(),
                pid: holder.pid,
                user: holder.user.as_deref().map(str::to_owned),
                state: socket.state,
            })
        })
        .collect();
    InUse {
        port: address.port(),
        holders,
        time_wait: found.iter().any(|s| s.state == state::TIME_WAIT),
        sockets: found.len(),
        reuseport: options.reuseport,
        reuseaddr: options.reuseaddr == Some(true),
    }
}

/// Connects `socket` to `address` within `timeout`.
pub fn connect(
    socket: &Socket,
    address: SocketAddr,
    proto: Proto,
    timeout: Duration,
) -> Result<(), EchoError> {
    let result = match proto {
        Proto::Tcp => socket.connect_timeout(&SockAddr::from(address), timeout),
        Proto::Udp => socket.connect(&SockAddr::from(address)),
    };
    result.map_err(|err| EchoError::Connect {
        address,
        proto,
        reason: Failure::of(&err, timeout),
    })
}

/// Why a connection failed, or a send or receive on one: each with what
/// the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// ECONNREFUSED.
    #[error("connection refused: nothing listens there (start one with 'netdx echo serve')")]
    Refused,
    /// ECONNRESET.
    #[error("connection reset by the peer")]
    Reset,
    /// ENETUNREACH.
    #[error("network unreachable: no route to it (see 'netdx netstat -r')")]
    NetworkUnreachable,
    /// EHOSTUNREACH.
    #[error("host unreachable")]
    HostUnreachable,
    /// EADDRNOTAVAIL on connect: the ephemeral ports are used up.
    #[error("no local address/port left to connect from")]
    NoLocalPort,
    /// The connect or the echo took longer than allowed.
    #[error(
        "no answer within {} s (raise --connect-timeout, or check a firewall drops it)",
        .0.as_secs_f64()
    )]
    NoAnswer(Duration),
    /// The service closed the connection.
    #[error("connection closed by the service")]
    Closed,
    /// The service stopped taking probes.
    #[error("the service stopped reading: sending timed out")]
    StoppedReading,
    /// The service stopped answering probes on a stream.
    #[error("the service stopped echoing")]
    StoppedEchoing,
    /// A stream carried more than every echo still due.
    #[error(
        "the service sent {0} bytes no probe asked for (not an echo service?); connection closed"
    )]
    Unasked(usize),
    /// A new connection for the next probe could not be set up.
    #[error("{0}")]
    Reconnect(String),
    /// Any other error, as the system words it.
    #[error("{0}")]
    Os(String),
}

impl Failure {
    /// Classifies a failed connect (or send/receive on a connected socket).
    pub fn of(err: &io::Error, timeout: Duration) -> Failure {
        match err.raw_os_error() {
            Some(libc::ECONNREFUSED) => Failure::Refused,
            Some(libc::ECONNRESET) => Failure::Reset,
            Some(libc::ENETUNREACH) => Failure::NetworkUnreachable,
            Some(libc::EHOSTUNREACH) => Failure::HostUnreachable,
            Some(libc::EADDRNOTAVAIL) => Failure::NoLocalPort,
            _ if err.kind() == io::ErrorKind::TimedOut
                || err.kind() == io::ErrorKind::WouldBlock =>
            {
                Failure::NoAnswer(timeout)
            }
            _ => Failure::Os(sockopt::errno_text(err)),
        }
    }
}

/// Resolves `host` (a name or an address) with `port`, through netdx's own
/// resolver (/etc/hosts, then DNS; never NSS).
pub fn resolve(host: &str, port: u16, family: FamilyChoice) -> Result<SocketAddr, EchoError> {
    let resolved = crate::names::resolve(host, family).map_err(|err| EchoError::Resolve {
        host: host.to_string(),
        reason: err.to_string(),
    })?;
    let address = resolved
        .addresses
        .first()
        .copied()
        .ok_or_else(|| EchoError::Resolve {
            host: host.to_string(),
            reason: crate::names::NameError::NotFound.to_string(),
        })?;
    Ok(match address {
        IpAddr::V6(v6) => {
            SocketAddr::V6(std::net::SocketAddrV6::new(v6, port, 0, resolved.scope_id))
        }
        v4 => SocketAddr::new(v4, port),
    })
}

/// Raises the open-files limit to its hard maximum, as servers holding
/// thousands of connections must; returns the limit in effect.
pub fn raise_fd_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => {
            if setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Ok((soft, _)) => soft,
        Err(_) => 1024,
    }
}

/// Whether binding `address` exposes the service beyond this host.
pub fn reachable_from_network(address: SocketAddr) -> bool {
    !address.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_follow_the_socket_family() {
        let options = SocketOptions {
            ttl: Some(9),
            v6only: Some(true),
            nodelay: true,
            ..SocketOptions::default()
        };
        let v4 = options.requests(Shape {
            kind: SocketKind::Tcp,
            ipv6: false,
        });
        assert_eq!(
            v4,
            vec![
                ("TCP_NODELAY", Value::Bool(true)),
                ("IP_TTL", Value::Int(9))
            ]
        );
        let v6 = options.requests(Shape {
            kind: SocketKind::Udp,
            ipv6: true,
        });
        assert_eq!(
            v6,
            vec![
                ("IPV6_V6ONLY", Value::Bool(true)),
                ("IPV6_UNICAST_HOPS", Value::Int(9))
            ]
        );
    }

    #[test]
    fn failures_say_what_happened_and_what_helps() {
        let of = |errno| Failure::of(&io::Error::from_raw_os_error(errno), Duration::from_secs(2));
        assert_eq!(of(libc::ECONNREFUSED), Failure::Refused);
        assert!(
            of(libc::ECONNREFUSED)
                .to_string()
                .contains("netdx echo serve")
        );
        assert_eq!(of(libc::ENETUNREACH), Failure::NetworkUnreachable);
        assert_eq!(
            of(libc::ETIMEDOUT),
            Failure::NoAnswer(Duration::from_secs(2))
        );
        assert!(of(libc::ETIMEDOUT).to_string().contains("within 2 s"));
        assert!(matches!(of(libc::EPERM), Failure::Os(_)));
        let unasked = Failure::Unasked(100).to_string();
        assert!(
            unasked.contains("100 bytes no probe asked for"),
            "{unasked}"
        );
    }

    #[test]
    fn a_port_in_use_names_its_holder_or_what_holds_it_and_what_helps() {
        let holder = PortHolder {
            name: "nginx".into(),
            pid: 10,
            user: Some("www".into()),
            state: state::LISTEN,
        };
        let held = InUse {
            port: 80,
            holders: vec![holder.clone(), holder],
            sockets: 2,
            ..InUse::default()
        };
        assert_eq!(
            BindFailure::InUse(held).to_string(),
            "address already in use by nginx (pid 10, user www, LISTEN) and 1 more; \
             stop it (netdx port 80 --kill), or pick another port with --bind; \
             --reuseport shares the port only if the holder set SO_REUSEPORT too, as the same user"
        );
        let time_wait = InUse {
            port: 80,
            time_wait: true,
            sockets: 2,
            ..InUse::default()
        };
        assert_eq!(
            BindFailure::InUse(time_wait).to_string(),
            "address already in use by connections in TIME_WAIT; --reuseaddr lets a server bind over them"
        );
        assert_eq!(
            BindFailure::InUse(InUse::default()).to_string(),
            "address already in use"
        );
    }

    #[test]
    fn loopback_names_resolve_to_the_family_asked_for() {
        let v4 = resolve("127.0.0.1", 7, FamilyChoice::Any).unwrap();
        assert_eq!(v4, "127.0.0.1:7".parse().unwrap());
        assert!(resolve("127.0.0.1", 7, FamilyChoice::V6).is_err());
        assert!(resolve("::1", 7, FamilyChoice::V6).unwrap().is_ipv6());
    }
}
