//! The socket calls labs make, each recorded in the transcript the way
//! strace would show it: `bind(fd 3, 127.0.0.1:40000) = 0`.
#![forbid(unsafe_code)]

use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{Actor, LabError, Need, Transcript};
use crate::sockopt::{self, Value};

/// `fd 3`.
pub fn fd(socket: &Socket) -> String {
    format!("fd {}", socket.as_raw_fd())
}

/// Data as a quoted string, escaped, shortened past 40 bytes.
pub fn quote(data: &[u8]) -> String {
    let shown = &data[..data.len().min(40)];
    let mut text = String::from("\"");
    for &byte in shown {
        match byte {
            b'\n' => text.push_str("\\n"),
            b'"' => text.push_str("\\\""),
            b'\\' => text.push_str("\\\\"),
            0x20..=0x7e => text.push(byte as char),
            _ => text.push_str(&format!("\\x{byte:02x}")),
        }
    }
    text.push('"');
    if data.len() > shown.len() {
        text.push_str("...");
    }
    text
}

/// socket(AF_INET[6], SOCK_STREAM, IPPROTO_TCP).
pub fn tcp(t: &mut Transcript<'_>, actor: Actor, ipv6: bool) -> Result<Socket, LabError> {
    open(t, actor, ipv6, Type::STREAM, Protocol::TCP)
}

/// socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP).
pub fn udp(t: &mut Transcript<'_>, actor: Actor) -> Result<Socket, LabError> {
    open(t, actor, false, Type::DGRAM, Protocol::UDP)
}

/// Bytes in hex, one pair a byte: `4c 41 01 00`.
pub fn hex(bytes: &[u8]) -> String {
    let pairs: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    pairs.join(" ")
}

fn open(
    t: &mut Transcript<'_>,
    actor: Actor,
    ipv6: bool,
    ty: Type,
    protocol: Protocol,
) -> Result<Socket, LabError> {
    let (domain, domain_name) = if ipv6 {
        (Domain::IPV6, "AF_INET6")
    } else {
        (Domain::IPV4, "AF_INET")
    };
    let (ty_name, proto_name) = if ty == Type::STREAM {
        ("SOCK_STREAM", "IPPROTO_TCP")
    } else {
        ("SOCK_DGRAM", "IPPROTO_UDP")
    };
    t.must(
        actor,
        "socket",
        format!("{domain_name}, {ty_name}, {proto_name}"),
        || Socket::new(domain, ty, Some(protocol)),
        fd,
    )
}

/// bind(fd, address).
pub fn bind(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    address: SocketAddr,
) -> Result<io::Result<()>, LabError> {
    t.call(
        actor,
        "bind",
        format!("{}, {address}", fd(socket)),
        || socket.bind(&SockAddr::from(address)),
        |()| match local(socket) {
            Some(bound) if bound != address => format!("0 (bound to {bound})"),
            _ => "0".into(),
        },
    )
}

/// listen(fd, backlog); a failure ends the lab.
pub fn listen(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    backlog: i32,
) -> Result<(), LabError> {
    t.must(
        actor,
        "listen",
        format!("{}, {backlog}", fd(socket)),
        || socket.listen(backlog),
        |()| "0".into(),
    )
}

/// connect(fd, address).
pub fn connect(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    address: SocketAddr,
) -> Result<io::Result<()>, LabError> {
    t.call(
        actor,
        "connect",
        format!("{}, {address}", fd(socket)),
        || socket.connect(&SockAddr::from(address)),
        |()| match local(socket) {
            Some(from) => format!("0 (from {from})"),
            None => "0".into(),
        },
    )
}

/// accept(fd): the new socket and the peer's address.
pub fn accept(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
) -> Result<io::Result<(Socket, SocketAddr)>, LabError> {
    t.call(
        actor,
        "accept",
        fd(socket),
        || {
            let (accepted, peer) = socket.accept()?;
            let peer = peer
                .as_socket()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an IP peer"))?;
            Ok((accepted, peer))
        },
        |(accepted, peer)| format!("{} (peer {peer})", fd(accepted)),
    )
}

/// send(fd, data).
pub fn send(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    data: &[u8],
) -> Result<io::Result<usize>, LabError> {
    t.call(
        actor,
        "send",
        format!("{}, {}, {}", fd(socket), quote(data), data.len()),
        || socket.send_with_flags(data, libc::MSG_NOSIGNAL),
        |n| n.to_string(),
    )
}

/// send(fd, N bytes) without quoting them (bulk data).
pub fn send_bulk(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    data: &[u8],
    flags: i32,
) -> Result<io::Result<usize>, LabError> {
    let flag_text = if flags & libc::MSG_DONTWAIT != 0 {
        "MSG_DONTWAIT"
    } else {
        "0"
    };
    t.call(
        actor,
        "send",
        format!(
            "{}, <{} bytes>, {}, {flag_text}",
            fd(socket),
            data.len(),
            data.len()
        ),
        || socket.send_with_flags(data, flags | libc::MSG_NOSIGNAL),
        |n| n.to_string(),
    )
}

/// sendto(fd, data, address): a datagram to `address`, connected or not.
pub fn sendto(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    data: &[u8],
    address: SocketAddr,
) -> Result<io::Result<usize>, LabError> {
    t.call(
        actor,
        "sendto",
        format!("{}, {}, {}, {address}", fd(socket), quote(data), data.len()),
        || socket.send_to_with_flags(data, &SockAddr::from(address), libc::MSG_NOSIGNAL),
        |n| match local(socket) {
            // An unbound socket gets its port on its first send.
            Some(from) => format!("{n} (from {from})"),
            None => n.to_string(),
        },
    )
}

/// recvfrom(fd, len): one datagram and the address it came from.
pub fn recvfrom(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    len: usize,
) -> Result<io::Result<(Vec<u8>, SocketAddr)>, LabError> {
    use nix::sys::socket::SockaddrStorage;
    t.call(
        actor,
        "recvfrom",
        format!("{}, {len}", fd(socket)),
        || {
            let mut buf = vec![0u8; len];
            let (n, from) =
                nix::sys::socket::recvfrom::<SockaddrStorage>(socket.as_raw_fd(), &mut buf)
                    .map_err(io::Error::from)?;
            buf.truncate(n.min(len));
            let from = from
                .and_then(|address| {
                    address
                        .as_sockaddr_in()
                        .map(|v4| SocketAddr::from((v4.ip(), v4.port())))
                        .or_else(|| {
                            address
                                .as_sockaddr_in6()
                                .map(|v6| SocketAddr::from((v6.ip(), v6.port())))
                        })
                })
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no sender address"))?;
            Ok((buf, from))
        },
        |(data, from)| format!("{} {} from {from}", data.len(), quote(data)),
    )
}

/// recv(fd, len): what arrived.
pub fn recv(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    len: usize,
) -> Result<io::Result<Vec<u8>>, LabError> {
    t.call(
        actor,
        "recv",
        format!("{}, {len}", fd(socket)),
        || {
            let mut buf = vec![0u8; len];
            let n = (&*socket).read(&mut buf)?;
            buf.truncate(n);
            Ok(buf)
        },
        |data| format!("{} {}", data.len(), quote(data)),
    )
}

/// setsockopt(SO_RCVTIMEO): how long a blocking recv() on `socket` waits.
pub fn receive_timeout(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    wait: Duration,
) -> Result<(), LabError> {
    setsockopt(t, actor, socket, "SO_RCVTIMEO", Value::Duration(Some(wait)))
}

/// setsockopt(fd, LEVEL, NAME, value), through the option catalog; a
/// failure ends the lab.
pub fn setsockopt(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    name: &str,
    value: Value,
) -> Result<(), LabError> {
    let spec = unknown(name)?;
    if spec.level == sockopt::Level::File {
        // O_NONBLOCK is a file status flag: it is set with fcntl().
        let flag = if matches!(value, Value::Bool(false)) {
            "~O_NONBLOCK"
        } else {
            "O_NONBLOCK"
        };
        return t.must(
            actor,
            "fcntl",
            format!("{}, F_SETFL, {flag}", fd(socket)),
            || sockopt::set(socket, spec, &value),
            |()| "0".into(),
        );
    }
    t.must(
        actor,
        "setsockopt",
        format!(
            "{}, {}, {}, {value}",
            fd(socket),
            spec.level.name(),
            spec.name
        ),
        || sockopt::set(socket, spec, &value),
        |()| "0".into(),
    )
}

/// getsockopt(fd, LEVEL, NAME).
pub fn getsockopt(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    name: &str,
) -> Result<io::Result<Value>, LabError> {
    let spec = unknown(name)?;
    t.call(
        actor,
        "getsockopt",
        format!("{}, {}, {}", fd(socket), spec.level.name(), spec.name),
        || sockopt::get(socket, spec),
        |value| value.to_string(),
    )
}

fn unknown(name: &str) -> Result<&'static sockopt::Spec, LabError> {
    sockopt::find(name).ok_or_else(|| LabError::Call {
        what: format!("option {name}"),
        source: io::ErrorKind::Unsupported.into(),
    })
}

/// shutdown(fd, how).
pub fn shutdown(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    how: Shutdown,
) -> Result<io::Result<()>, LabError> {
    let name = match how {
        Shutdown::Read => "SHUT_RD",
        Shutdown::Write => "SHUT_WR",
        Shutdown::Both => "SHUT_RDWR",
    };
    t.call(
        actor,
        "shutdown",
        format!("{}, {name}", fd(socket)),
        || socket.shutdown(how),
        |()| "0".into(),
    )
}

/// close(fd).
pub fn close(t: &mut Transcript<'_>, actor: Actor, socket: Socket) -> Result<(), LabError> {
    let args = fd(&socket);
    t.call(
        actor,
        "close",
        args,
        || {
            drop(socket);
            Ok(())
        },
        |()| "0".into(),
    )
    .need("close")
}

/// The socket's local address.
pub fn local(socket: &Socket) -> Option<SocketAddr> {
    socket.local_addr().ok()?.as_socket()
}

/// A loopback address with a port of 0: the kernel picks a free one.
pub fn any_port(ipv6: bool) -> SocketAddr {
    if ipv6 {
        SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], 0))
    } else {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }
}

/// poll([fd, events], timeout): the events that came, or 0 on timeout.
pub fn poll(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    events: nix::poll::PollFlags,
    timeout: Duration,
) -> Result<io::Result<nix::poll::PollFlags>, LabError> {
    use nix::poll::{PollFd, PollFlags};
    use std::os::fd::AsFd;
    let wanted = flag_names(events);
    let ms = timeout.as_millis();
    t.call(
        actor,
        "poll",
        format!("[{} {wanted}], {ms} ms", fd(socket)),
        || {
            let mut fds = [PollFd::new(socket.as_fd(), events)];
            let n = nix::poll::poll(&mut fds, crate::net::poll_timeout(timeout))
                .map_err(io::Error::from)?;
            Ok(if n == 0 {
                PollFlags::empty()
            } else {
                fds[0].revents().unwrap_or(PollFlags::empty())
            })
        },
        |revents| {
            if revents.is_empty() {
                "0 (timed out)".to_string()
            } else {
                format!("1 ({})", flag_names(*revents))
            }
        },
    )
}

fn flag_names(flags: nix::poll::PollFlags) -> String {
    use nix::poll::PollFlags;
    let names: Vec<&str> = [
        (PollFlags::POLLIN, "POLLIN"),
        (PollFlags::POLLOUT, "POLLOUT"),
        (PollFlags::POLLERR, "POLLERR"),
        (PollFlags::POLLHUP, "POLLHUP"),
    ]
    .iter()
    .filter(|(flag, _)| flags.contains(*flag))
    .map(|(_, name)| *name)
    .collect();
    names.join("|")
}

/// A non-blocking connect() followed by poll() for POLLOUT up to `wait`:
/// what connect() returned, and whether the attempt ended (POLLOUT) in time.
pub fn connect_nonblocking(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    address: SocketAddr,
    wait: std::time::Duration,
) -> Result<(io::Result<()>, bool), LabError> {
    use nix::poll::PollFlags;
    setsockopt(t, actor, socket, "O_NONBLOCK", Value::Bool(true))?;
    let started = connect(t, actor, socket, address)?;
    let ready = poll(t, actor, socket, PollFlags::POLLOUT, wait)?;
    let ended = matches!(&ready, Ok(flags) if flags.contains(PollFlags::POLLOUT));
    Ok((started, ended))
}

/// A connected TCP pair on loopback: (listener, client, the server's side).
pub fn tcp_pair(t: &mut Transcript<'_>) -> Result<(Socket, Socket, Socket), LabError> {
    let listener = tcp(t, Actor::Server, false)?;
    bind(t, Actor::Server, &listener, any_port(false)).need("bind")?;
    listen(t, Actor::Server, &listener, 16)?;
    let address = local(&listener).unwrap_or(any_port(false));
    let client = tcp(t, Actor::Client, false)?;
    connect(t, Actor::Client, &client, address).need("connect")?;
    let (server, _) = accept(t, Actor::Server, &listener).need("accept")?;
    Ok((listener, client, server))
}

/// recv(fd, len, flags): the count the call returned (with MSG_TRUNC, the
/// datagram's real size) and the bytes stored.
pub fn recv_with(
    t: &mut Transcript<'_>,
    actor: Actor,
    socket: &Socket,
    len: usize,
    flags: nix::sys::socket::MsgFlags,
) -> Result<io::Result<(usize, Vec<u8>)>, LabError> {
    use nix::sys::socket::MsgFlags;
    let names: Vec<&str> = [
        (MsgFlags::MSG_WAITALL, "MSG_WAITALL"),
        (MsgFlags::MSG_TRUNC, "MSG_TRUNC"),
        (MsgFlags::MSG_DONTWAIT, "MSG_DONTWAIT"),
        (MsgFlags::MSG_PEEK, "MSG_PEEK"),
    ]
    .iter()
    .filter(|(flag, _)| flags.contains(*flag))
    .map(|(_, name)| *name)
    .collect();
    let flag_text = if names.is_empty() {
        "0".to_string()
    } else {
        names.join("|")
    };
    t.call(
        actor,
        "recv",
        format!("{}, {len}, {flag_text}", fd(socket)),
        || {
            let mut buf = vec![0u8; len];
            let n = nix::sys::socket::recv(socket.as_raw_fd(), &mut buf, flags)
                .map_err(io::Error::from)?;
            buf.truncate(n.min(len));
            Ok((n, buf))
        },
        |(n, data)| {
            if *n > data.len() {
                format!("{n} (only {} stored: {})", data.len(), quote(data))
            } else {
                format!("{n} {}", quote(data))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn data_is_quoted_like_strace() {
        assert_eq!(quote(b"hi\n"), "\"hi\\n\"");
        assert_eq!(quote(&[0, 255]), "\"\\x00\\xff\"");
        assert!(quote(&[b'a'; 50]).ends_with("\"..."));
    }
}
