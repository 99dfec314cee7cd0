//! Socket options: one catalog of every option netdx can read and set, with
//! the level it lives at, the kind of value it takes and what it means.
//!
//! Reading and writing go through socket2 wherever it has the option, and
//! through nix's typed getsockopt/setsockopt where socket2 stops
//! (SO_RCVLOWAT, TCP_KEEPIDLE/KEEPINTVL/KEEPCNT without side effects,
//! IP_RECVERR). Values come back as [`Value`]s, and [`read_all`] puts the
//! value the kernel reports next to the value that was asked for, with a
//! note when the kernel changed it (SO_RCVBUF doubled, clamped, …).
#![forbid(unsafe_code)]

mod catalog;
pub mod explain;
pub mod session;
mod value;

use std::io;

use schemars::JsonSchema;
use serde::Serialize;
use socket2::Socket;

pub use catalog::{CATALOG, Spec, find, suggestions};
pub use value::{Kind, Value};

/// The protocol level an option belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum Level {
    /// `SOL_SOCKET`: every socket.
    #[serde(rename = "SOL_SOCKET")]
    Socket,
    /// `IPPROTO_TCP`: TCP sockets.
    #[serde(rename = "IPPROTO_TCP")]
    Tcp,
    /// `IPPROTO_IP`: IPv4 sockets.
    #[serde(rename = "IPPROTO_IP")]
    Ip,
    /// `IPPROTO_IPV6`: IPv6 sockets.
    #[serde(rename = "IPPROTO_IPV6")]
    Ipv6,
    /// A file status flag (`fcntl(F_GETFL)`), not a socket option.
    #[serde(rename = "fcntl")]
    File,
}

impl Level {
    /// The name C code uses.
    pub fn name(self) -> &'static str {
        match self {
            Level::Socket => "SOL_SOCKET",
            Level::Tcp => "IPPROTO_TCP",
            Level::Ip => "IPPROTO_IP",
            Level::Ipv6 => "IPPROTO_IPV6",
            Level::File => "fcntl",
        }
    }
}

/// What kind of socket an option is looked at on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SocketKind {
    /// TCP over IPv4 or IPv6.
    Tcp,
    /// UDP over IPv4 or IPv6.
    Udp,
    /// A raw IP socket.
    Raw,
    /// A Unix-domain stream socket.
    Unix,
}

/// The socket an option is read from: its kind and address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// TCP, UDP, raw or Unix.
    pub kind: SocketKind,
    /// IPv6 (only meaningful for TCP, UDP and raw).
    pub ipv6: bool,
}

impl Shape {
    /// Whether options at `level` exist on this socket.
    pub fn has_level(self, level: Level) -> bool {
        match level {
            Level::Socket | Level::File => true,
            Level::Tcp => self.kind == SocketKind::Tcp,
            Level::Ip => self.kind != SocketKind::Unix && !self.ipv6,
            Level::Ipv6 => self.kind != SocketKind::Unix && self.ipv6,
        }
    }
}

/// One option as read back from a socket.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Reading {
    /// The option's C name (`SO_RCVBUF`).
    #[schemars(with = "OptionName")]
    pub name: &'static str,
    /// Its level.
    pub level: Level,
    /// What getsockopt returned, when it succeeded.
    pub value: Option<Value>,
    /// What was asked for with setsockopt, if anything.
    pub requested: Option<Value>,
    /// Why getsockopt failed: errno name and meaning.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub error: Option<String>,
    /// Why setsockopt refused the request: errno name and meaning.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub refused: Option<String>,
    /// Where the kernel's value differs from the request, why.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub note: Option<String>,
    /// One line on what the option does.
    pub meaning: &'static str,
}

/// An option's C name as `--json` writes it: the schema of the catalog's names.
pub struct OptionName;

impl schemars::JsonSchema for OptionName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OptionName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = CATALOG.iter().map(|spec| spec.name).collect();
        schemars::json_schema!({
            "description": "A socket option's C name, one of those netdx knows.",
            "type": "string",
            "enum": names,
        })
    }
}

/// Reads one option.
pub fn get(socket: &Socket, spec: &Spec) -> io::Result<Value> {
    (spec.get)(socket)
}

/// Sets one option.
pub fn set(socket: &Socket, spec: &Spec, value: &Value) -> io::Result<()> {
    match spec.set {
        Some(set) => set(socket, value),
        None => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{} can only be read", spec.name),
        )),
    }
}

/// A setsockopt call that was made, and whether the kernel refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    /// The option's C name.
    pub name: &'static str,
    /// The value asked for.
    pub value: Value,
    /// The errno, when setsockopt failed.
    pub refused: Option<String>,
}

/// Reads every option that exists on a socket of `shape`, next to the
/// values in `requested` (by option name). Reading SO_ERROR clears the
/// pending error, as getsockopt does.
pub fn read_all(
    socket: &Socket,
    shape: Shape,
    requested: &[(&'static str, Value)],
) -> Vec<Reading> {
    let requested: Vec<Requested> = requested
        .iter()
        .map(|(name, value)| Requested {
            name,
            value: value.clone(),
            refused: None,
        })
        .collect();
    read_after(socket, shape, &requested)
}

/// [`read_all`], for requests some of which the kernel may have refused.
///
/// Options asked for that do not belong to this kind of socket are shown
/// too, after the others, so a refusal (ENOPROTOOPT, EOPNOTSUPP) is seen.
pub fn read_after(socket: &Socket, shape: Shape, requested: &[Requested]) -> Vec<Reading> {
    let belongs = |spec: &Spec| shape.has_level(spec.level) && (spec.applies)(shape.kind);
    let asked = |spec: &Spec| requested.iter().any(|r| r.name == spec.name);
    CATALOG
        .iter()
        .filter(|spec| belongs(spec))
        .chain(CATALOG.iter().filter(|spec| !belongs(spec) && asked(spec)))
        .map(|spec| {
            let request = requested.iter().rev().find(|r| r.name == spec.name);
            let (value, error) = match get(socket, spec) {
                Ok(value) => (Some(value), None),
                Err(err) => (None, Some(errno_text(&err))),
            };
            let note = match (request, &value) {
                (Some(asked), Some(got)) if asked.refused.is_none() => {
                    catalog::explain_difference(spec, &asked.value, got)
                }
                (Some(asked), got) if asked.refused.is_some() => Some(if got.is_some() {
                    "setsockopt refused the request; the value shown is what the socket kept".into()
                } else {
                    "setsockopt refused the request, and getsockopt can't read it either".into()
                }),
                _ => None,
            };
            Reading {
                name: spec.name,
                level: spec.level,
                value,
                requested: request.map(|r| r.value.clone()),
                error,
                refused: request.and_then(|r| r.refused.clone()),
                note,
                meaning: spec.meaning,
            }
        })
        .collect()
}

/// `EINVAL (Invalid argument)`-style text for an OS error.
pub fn errno_text(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => {
            let errno = nix::errno::Errno::from_raw(code);
            format!("{errno:?} ({})", errno.desc())
        }
        None => err.to_string(),
    }
}

/// The kernel's limit for SO_RCVBUF (`net.core.rmem_max`) or SO_SNDBUF
/// (`net.core.wmem_max`), if it can be read.
pub fn buffer_limit(receive: bool) -> Option<u64> {
    let path = if receive {
        "/proc/sys/net/core/rmem_max"
    } else {
        "/proc/sys/net/core/wmem_max"
    };
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Protocol, Type};

    fn tcp() -> Socket {
        Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap()
    }

    #[test]
    fn every_option_of_a_tcp_socket_reads_back() {
        let socket = tcp();
        let shape = Shape {
            kind: SocketKind::Tcp,
            ipv6: false,
        };
        let readings = read_all(&socket, shape, &[]);
        for name in [
            "SO_RCVBUF",
            "TCP_NODELAY",
            "IP_TTL",
            "O_NONBLOCK",
            "SO_TYPE",
        ] {
            let reading = readings.iter().find(|r| r.name == name).unwrap();
            assert!(reading.value.is_some(), "{name}: {:?}", reading.error);
        }
        assert!(readings.iter().all(|r| r.name != "IPV6_V6ONLY"));
    }

    #[test]
    fn doubled_receive_buffer_is_explained() {
        let socket = tcp();
        let spec = find("SO_RCVBUF").unwrap();
        set(&socket, spec, &Value::Int(4096)).unwrap();
        let shape = Shape {
            kind: SocketKind::Tcp,
            ipv6: false,
        };
        let readings = read_all(&socket, shape, &[("SO_RCVBUF", Value::Int(4096))]);
        let reading = readings.iter().find(|r| r.name == "SO_RCVBUF").unwrap();
        assert_eq!(reading.value, Some(Value::Int(8192)));
        assert!(reading.note.as_deref().unwrap().contains("doubled"));
    }
}
