//! The socket table from /proc/net, for kernels without sock_diag.
//!
//! Lines are parsed strictly: a line that does not have the shape the kernel
//! prints is an error naming the file and line, not a guess.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{
    Endpoint, Family, Proto, Query, Socket, SocketError, State, Timer, TimerKind, UnixType,
};

/// Reads every table the query needs, applies its filters here, and hands
/// each matching socket to `each`.
pub(super) fn visit(query: &Query, each: &mut dyn FnMut(Socket)) -> Result<(), SocketError> {
    let mut sockets = Vec::new();
    let tables = [
        (query.protocols.tcp, Proto::Tcp, "tcp"),
        (query.protocols.udp, Proto::Udp, "udp"),
        (query.protocols.raw, Proto::Raw, "raw"),
    ];
    for (wanted, proto, name) in tables {
        if !wanted {
            continue;
        }
        for (enabled, suffix, family) in [
            (query.families.v4, "", Family::Inet),
            (query.families.v6, "6", Family::Inet6),
        ] {
            if !enabled {
                continue;
            }
            let path = format!("/proc/net/{name}{suffix}");
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                // No IPv6 in this kernel: nothing to list.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(SocketError::Proc { path, source }),
            };
            sockets.extend(parse_inet(&text, proto, family, &path)?);
        }
    }
    if query.protocols.unix && query.filter.is_empty() {
        let path = "/proc/net/unix".to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| SocketError::Proc {
            path: path.clone(),
            source,
        })?;
        sockets.extend(parse_unix(&text, &path)?);
    }
    for socket in sockets {
        if query.states.contains(socket.state) && query.filter.matches(&socket) {
            each(socket);
        }
    }
    Ok(())
}

fn malformed(path: &str, number: usize, line: &str) -> SocketError {
    SocketError::Proc {
        path: path.to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "line {number} is not in the kernel's format: {:?}",
                line.trim()
            ),
        ),
    }
}

fn hex_u32(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 16).ok()
}

/// `0100007F:0016` → (127.0.0.1, 22); the kernel prints each 32-bit word of
/// the address in host byte order.
fn endpoint(text: &str, family: Family) -> Option<(IpAddr, u16)> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let address = match (family, address.len()) {
        (Family::Inet, 8) => IpAddr::V4(Ipv4Addr::from(hex_u32(address)?.to_ne_bytes())),
        (Family::Inet6, 32) => {
            let mut octets = [0u8; 16];
            for (i, chunk) in octets.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&hex_u32(&address[i * 8..i * 8 + 8])?.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some((address, port))
}

/// Parses /proc/net/{tcp,udp,raw}[6].
pub(super) fn parse_inet(
    text: &str,
    proto: Proto,
    family: Family,
    path: &str,
) -> Result<Vec<Socket>, SocketError> {
    let ms_per_tick = 1000
        / nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .filter(|&t| t > 0)
            .unwrap_or(100) as u64;
    let mut sockets = Vec::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = (|| {
            if fields.len() < 10 || !fields[0].ends_with(':') {
                return None;
            }
            let (local, local_port) = endpoint(fields[1], family)?;
            let (peer, peer_port) = endpoint(fields[2], family)?;
            let state = u8::from_str_radix(fields[3], 16).ok()?;
            let (tx, rx) = fields[4].split_once(':')?;
            let (timer_kind, when) = fields[5].split_once(':')?;
            let retransmits = u8::try_from(hex_u32(fields[6])?).unwrap_or(u8::MAX);
            let timer = match u8::from_str_radix(timer_kind, 16).ok()? {
                0 => None,
                kind => Some(Timer {
                    kind: match kind {
                        1 => TimerKind::On,
                        2 => TimerKind::Keepalive,
                        3 => TimerKind::Timewait,
                        _ => TimerKind::Persist,
                    },
                    expires_ms: u64::from(hex_u32(when)?) * ms_per_tick,
                    retransmits,
                }),
            };
            Some(Socket {
                proto,
                family,
                unix_type: None,
                state: State(state),
                recv_q: hex_u32(rx)?,
                send_q: hex_u32(tx)?,
                local: Endpoint::Inet {
                    address: local,
                    port: local_port,
                },
                peer: Endpoint::Inet {
                    address: peer,
                    port: peer_port,
                },
                interface: None,
                uid: fields[7].parse().ok(),
                inode: fields[9].parse().ok()?,
                processes: Vec::new(),
                tcp_info: None,
                timer,
                memory: None,
            })
        })();
        sockets.push(parsed.ok_or_else(|| malformed(path, number, line))?);
    }
    Ok(sockets)
}

/// `__SO_ACCEPTCON` in /proc/net/unix's Flags column: a listening socket.
const ACCEPTCON: u32 = 1 << 16;
/// `SS_CONNECTED` in the St column.
const SS_CONNECTED: u32 = 3;

/// Parses /proc/net/unix.
pub(super) fn parse_unix(text: &str, path: &str) -> Result<Vec<Socket>, SocketError> {
    let mut sockets = Vec::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parsed = (|| {
            if fields.len() < 7 || !fields[0].ends_with(':') {
                return None;
            }
            let flags = hex_u32(fields[3])?;
            let kind = hex_u32(fields[4])?;
            let st = hex_u32(fields[5])?;
            let inode: u32 = fields[6].parse().ok()?;
            let unix_type = match kind {
                1 => UnixType::Stream,
                2 => UnixType::Dgram,
                5 => UnixType::Seqpacket,
                _ => return None,
            };
            let state = if flags & ACCEPTCON != 0 {
                super::state::LISTEN
            } else if st == SS_CONNECTED {
                super::state::ESTABLISHED
            } else {
                super::state::CLOSE
            };
            let path = (fields.len() > 7).then(|| fields[7..].join(" "));
            Some(Socket {
                proto: Proto::Unix,
                family: Family::Unix,
                unix_type: Some(unix_type),
                state,
                recv_q: 0,
                send_q: 0,
                local: Endpoint::Unix { path, inode },
                peer: Endpoint::Unix {
                    path: None,
                    inode: 0,
                },
                interface: None,
                uid: None,
                inode,
                processes: Vec::new(),
                tcp_info: None,
                timer: None,
                memory: None,
            })
        })();
        sockets.push(parsed.ok_or_else(|| malformed(path, index + 1, line))?);
    }
    Ok(sockets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from /proc/net/tcp: sshd listening, one connection, one TIME-WAIT.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0016 00000000:0000 0A 00000000:00000005 00:00000000 00000000     0        0 23456 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0016 0100007F:9C40 01 0000000A:00000000 02:0000A8C0 00000000  1000        0 34567 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9C41 0100007F:0016 06 00000000:00000000 03:00000BB8 00000000     0        0 0 3 0000000000000000
";

    /// Captured from /proc/net/tcp6: [::1]:8080 listening.
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 45678 1 0000000000000000 100 0 0 10 0
";

    const UNIX: &str = "Num       RefCount Protocol Flags    Type St Inode Path
0000000000000000: 00000002 00000000 00010000 0001 01 11111 /run/listener.sock
0000000000000000: 00000003 00000000 00000000 0001 03 22222
0000000000000000: 00000002 00000000 00000000 0002 01 33333 @abstract
";

    #[test]
    fn tcp_lines_parse_into_sockets() {
        let sockets = parse_inet(TCP, Proto::Tcp, Family::Inet, "/proc/net/tcp").unwrap();
        assert_eq!(sockets.len(), 3);
        let listener = &sockets[0];
        assert_eq!(listener.state.name(), "LISTEN");
        assert_eq!(
            listener.local,
            Endpoint::Inet {
                address: "127.0.0.1".parse().unwrap(),
                port: 22
            }
        );
        assert_eq!(
            (listener.recv_q, listener.send_q, listener.inode),
            (5, 0, 23456)
        );
        let connection = &sockets[1];
        assert_eq!(connection.peer_port(), 40000);
        assert_eq!(connection.uid, Some(1000));
        assert_eq!(connection.send_q, 10);
        assert_eq!(connection.timer.unwrap().kind, TimerKind::Keepalive);
        assert_eq!(sockets[2].state.name(), "TIME-WAIT");
    }

    #[test]
    fn ipv6_words_are_host_order() {
        let sockets = parse_inet(TCP6, Proto::Tcp, Family::Inet6, "/proc/net/tcp6").unwrap();
        assert_eq!(
            sockets[0].local,
            Endpoint::Inet {
                address: "::1".parse().unwrap(),
                port: 8080
            }
        );
    }

    #[test]
    fn unix_lines_parse_with_state_type_and_path() {
        let sockets = parse_unix(UNIX, "/proc/net/unix").unwrap();
        assert_eq!(sockets[0].state.name(), "LISTEN");
        assert_eq!(
            sockets[0].local,
            Endpoint::Unix {
                path: Some("/run/listener.sock".into()),
                inode: 11111
            }
        );
        assert_eq!(sockets[1].state.name(), "ESTAB");
        assert_eq!(sockets[2].unix_type, Some(UnixType::Dgram));
        assert_eq!(
            sockets[2].local,
            Endpoint::Unix {
                path: Some("@abstract".into()),
                inode: 33333
            }
        );
    }

    #[test]
    fn malformed_lines_are_errors_that_name_the_line() {
        let broken = format!("{TCP}   3: ZZZZ 00000000:0000 0A\n");
        let err = parse_inet(&broken, Proto::Tcp, Family::Inet, "/proc/net/tcp").unwrap_err();
        assert!(err.to_string().contains("/proc/net/tcp: line 5"), "{err}");
        let short_address = TCP.replace(
            "0100007F:0016 00000000:0000 0A",
            "01007F:0016 00000000:0000 0A",
        );
        assert!(parse_inet(&short_address, Proto::Tcp, Family::Inet, "x").is_err());
        assert!(parse_unix("header\n0: 1 2 3\n", "/proc/net/unix").is_err());
        // An empty table (header only) is fine.
        assert!(
            parse_inet("header\n", Proto::Tcp, Family::Inet, "x")
                .unwrap()
                .is_empty()
        );
    }
}
