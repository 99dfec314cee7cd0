//! `netdx sockopt`: build one socket as asked — options in order, then
//! bind, listen or connect — and read every option back.
#![forbid(unsafe_code)]

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{Reading, Requested, Shape, SocketKind, Spec, Value};

/// One `--set NAME=VALUE`, already checked against the catalog.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The option.
    pub spec: &'static Spec,
    /// The value, parsed for the option's kind.
    pub value: Value,
}

/// An address to bind or connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// An IP address and port.
    Inet(SocketAddr),
    /// A unix socket path.
    Unix(PathBuf),
}

/// The longest path a unix socket address holds (`sun_path` less its NUL).
pub const UNIX_PATH_MAX: usize = 107;

impl Address {
    /// A unix socket path, if it fits in a socket address.
    pub fn unix(path: PathBuf) -> Result<Address, String> {
        let length = path.as_os_str().len();
        if length > UNIX_PATH_MAX || SockAddr::unix(&path).is_err() {
            return Err(format!(
                "a unix socket path is at most {UNIX_PATH_MAX} bytes and this one is {length}; use a shorter one (e.g. under /tmp)"
            ));
        }
        Ok(Address::Unix(path))
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Inet(address) => write!(f, "{address}"),
            Address::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What to build.
#[derive(Debug, Clone)]
pub struct Request {
    /// TCP, UDP, raw ICMP or unix stream.
    pub kind: SocketKind,
    /// AF_INET6 instead of AF_INET.
    pub ipv6: bool,
    /// setsockopt calls, in order.
    pub settings: Vec<Setting>,
    /// bind() to this.
    pub bind: Option<Address>,
    /// listen() after binding.
    pub listen: bool,
    /// connect() to this.
    pub connect: Option<Address>,
}

/// One call made on the socket besides setsockopt.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Call {
    /// `bind`, `listen`, `connect`.
    #[schemars(extend("enum" = ["bind", "listen", "connect"]))]
    pub call: &'static str,
    /// Its argument.
    pub args: String,
    /// `null` on success; the errno and its meaning otherwise.
    pub error: Option<String>,
}

/// The socket as built, and every option read back.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    /// `tcp`, `udp`, `raw` or `unix`.
    pub kind: SocketKind,
    /// `inet`, `inet6` or `unix`.
    #[schemars(extend("enum" = ["inet", "inet6", "unix"]))]
    pub family: &'static str,
    /// The local address after the calls, if bound.
    pub local: Option<String>,
    /// The peer, if connected.
    pub peer: Option<String>,
    /// bind/listen/connect and how they went.
    pub calls: Vec<Call>,
    /// Every option the socket has, as getsockopt reads it.
    pub options: Vec<Reading>,
    /// How many requests the kernel refused (setsockopt or the calls).
    pub refused: usize,
}

impl Report {
    /// `TCP`, `UDP`, `raw ICMP`, `unix stream`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            SocketKind::Tcp => "TCP",
            SocketKind::Udp => "UDP",
            SocketKind::Raw => "raw ICMP",
            SocketKind::Unix => "unix stream",
        }
    }
}

/// Why the socket could not even be created.
#[derive(Debug, thiserror::Error)]
pub enum SockoptError {
    /// socket() failed.
    #[error("creating a {kind} socket: {reason}")]
    Create {
        /// What kind.
        kind: &'static str,
        /// Why, with a remedy.
        reason: String,
    },
}

/// Builds the socket and reads it back.
pub fn run(request: &Request) -> Result<Report, SockoptError> {
    let (socket, family) = create(request.kind, request.ipv6)?;
    let shape = Shape {
        kind: request.kind,
        ipv6: request.ipv6 && request.kind != SocketKind::Unix,
    };
    let mut requested = Vec::new();
    for setting in &request.settings {
        let refused = super::set(&socket, setting.spec, &setting.value)
            .err()
            .map(|err| super::errno_text(&err));
        requested.push(Requested {
            name: setting.spec.name,
            value: setting.value.clone(),
            refused,
        });
    }
    let mut calls = Vec::new();
    let mut unlink = None;
    if let Some(address) = &request.bind {
        let error = sockaddr(address).and_then(|a| socket.bind(&a)).err();
        if error.is_none() {
            if let Address::Unix(path) = address {
                unlink = Some(path.clone());
            }
        }
        calls.push(call("bind", address.to_string(), error));
    }
    if request.listen {
        let error = socket.listen(128).err();
        calls.push(call("listen", "128".into(), error));
    }
    if let Some(address) = &request.connect {
        let error = sockaddr(address).and_then(|a| socket.connect(&a)).err();
        calls.push(call("connect", address.to_string(), error));
    }
    let options = super::read_after(&socket, shape, &requested);
    let refused = requested.iter().filter(|r| r.refused.is_some()).count()
        + calls.iter().filter(|c| c.error.is_some()).count();
    let report = Report {
        kind: request.kind,
        family,
        local: socket.local_addr().ok().and_then(|a| describe(&a)),
        peer: socket.peer_addr().ok().and_then(|a| describe(&a)),
        calls,
        options,
        refused,
    };
    drop(socket);
    // The socket file a unix bind created goes with the socket.
    if let Some(path) = unlink {
        let _ = std::fs::remove_file(path);
    }
    Ok(report)
}

fn call(name: &'static str, args: String, error: Option<io::Error>) -> Call {
    Call {
        call: name,
        args,
        error: error.map(|e| super::errno_text(&e)),
    }
}

fn create(kind: SocketKind, ipv6: bool) -> Result<(Socket, &'static str), SockoptError> {
    let inet = if ipv6 { Domain::IPV6 } else { Domain::IPV4 };
    let family = if ipv6 { "inet6" } else { "inet" };
    let (domain, ty, protocol, family, name) = match kind {
        SocketKind::Tcp => (inet, Type::STREAM, Some(Protocol::TCP), family, "TCP"),
        SocketKind::Udp => (inet, Type::DGRAM, Some(Protocol::UDP), family, "UDP"),
        SocketKind::Raw => {
            let icmp = if ipv6 {
                Protocol::ICMPV6
            } else {
                Protocol::ICMPV4
            };
            (inet, Type::RAW, Some(icmp), family, "raw ICMP")
        }
        SocketKind::Unix => (Domain::UNIX, Type::STREAM, None, "unix", "unix stream"),
    };
    let socket = Socket::new(domain, ty, protocol).map_err(|err| SockoptError::Create {
        kind: name,
        reason: match err.raw_os_error() {
            Some(libc::EPERM | libc::EACCES) => format!(
                "{}: raw sockets need CAP_NET_RAW (run as root, or 'setcap cap_net_raw+ep' on the binary)",
                super::errno_text(&err)
            ),
            Some(libc::EAFNOSUPPORT) => format!("{}: IPv6 is disabled on this host", super::errno_text(&err)),
            _ => super::errno_text(&err),
        },
    })?;
    Ok((socket, family))
}

fn sockaddr(address: &Address) -> io::Result<SockAddr> {
    match address {
        Address::Inet(address) => Ok(SockAddr::from(*address)),
        Address::Unix(path) => SockAddr::unix(path),
    }
}

fn describe(address: &SockAddr) -> Option<String> {
    if let Some(inet) = address.as_socket() {
        // An unbound socket reports 0.0.0.0:0: nothing to say.
        return (inet.port() != 0 || !inet.ip().is_unspecified()).then(|| inet.to_string());
    }
    address
        .as_pathname()
        .map(|path| path.display().to_string())
        .or_else(|| address.is_unnamed().then(|| "(unnamed)".to_string()))
}

/// The option's default on this kernel: what a fresh socket of the first
/// kind that has it reports (raw sockets are left out: they need privilege).
pub fn default_value(spec: &Spec) -> Option<(SocketKind, bool, Result<Value, String>)> {
    for kind in [SocketKind::Tcp, SocketKind::Udp, SocketKind::Unix] {
        for ipv6 in [false, true] {
            let shape = Shape { kind, ipv6 };
            if kind == SocketKind::Unix && ipv6 {
                continue;
            }
            if !shape.has_level(spec.level) || !(spec.applies)(kind) {
                continue;
            }
            let (socket, _) = create(kind, ipv6).ok()?;
            let value = super::get(&socket, spec).map_err(|e| super::errno_text(&e));
            return Some((kind, ipv6, value));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockopt::find;

    #[test]
    fn settings_apply_in_order_and_refusals_are_recorded() {
        let request = Request {
            kind: SocketKind::Tcp,
            ipv6: false,
            settings: vec![
                Setting {
                    spec: find("SO_RCVBUF").unwrap(),
                    value: Value::Int(4096),
                },
                Setting {
                    spec: find("TCP_CONGESTION").unwrap(),
                    value: Value::Text("no-such-cc".into()),
                },
            ],
            bind: Some(Address::Inet("127.0.0.1:0".parse().unwrap())),
            listen: true,
            connect: None,
        };
        let report = run(&request).unwrap();
        let rcvbuf = report
            .options
            .iter()
            .find(|o| o.name == "SO_RCVBUF")
            .unwrap();
        assert_eq!(rcvbuf.value, Some(Value::Int(8192)));
        let cc = report
            .options
            .iter()
            .find(|o| o.name == "TCP_CONGESTION")
            .unwrap();
        assert!(
            cc.refused.as_deref().unwrap().starts_with("ENOENT"),
            "{cc:?}"
        );
        assert_eq!(report.refused, 1);
        let listening = report
            .options
            .iter()
            .find(|o| o.name == "SO_ACCEPTCONN")
            .unwrap();
        assert_eq!(listening.value, Some(Value::Bool(true)));
    }

    #[test]
    fn defaults_come_from_a_fresh_socket_of_the_right_kind() {
        let (kind, ipv6, value) = default_value(find("IPV6_V6ONLY").unwrap()).unwrap();
        assert_eq!((kind, ipv6), (SocketKind::Tcp, true));
        assert!(value.is_ok());
        let (kind, _, _) = default_value(find("SO_BROADCAST").unwrap()).unwrap();
        assert_eq!(kind, SocketKind::Udp);
    }
}
