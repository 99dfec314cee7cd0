//! `lsof -i :PORT` as a query: the sockets with a port at either end (or
//! the local end), each with the processes holding it and who they are.
#![forbid(unsafe_code)]

use std::str::FromStr;
use std::sync::Arc;

use super::{
    Families, Filter, Listing, PortRange, Proto, Protocols, Query, Socket, SocketError,
    SourceChoice, StateMask, owners,
};
use crate::process;

/// One port or range, optionally for one protocol: `8080`, `:8080`, `tcp:8080`, `udp:53`, `8000-8100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    /// TCP or UDP only, when prefixed.
    pub proto: Option<Proto>,
    /// The ports.
    pub range: PortRange,
}

impl FromStr for PortSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (proto, rest) = match text.split_once(':') {
            Some((prefix, rest)) => {
                let proto = match prefix.to_ascii_lowercase().as_str() {
                    "" => None,
                    "tcp" => Some(Proto::Tcp),
                    "udp" => Some(Proto::Udp),
                    other => return Err(format!("'{other}:' is not a protocol: use tcp: or udp:")),
                };
                (proto, rest)
            }
            None => (None, text),
        };
        if rest.is_empty() {
            return Err(format!("'{text}' has no port"));
        }
        Ok(PortSpec {
            proto,
            range: rest.parse()?,
        })
    }
}

/// A comma-separated list of port specs, as one command-line value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortList(pub Vec<PortSpec>);

/// Parses `8080,udp:53,9000-9100`.
pub fn parse_specs(list: &str) -> Result<PortList, String> {
    let specs: Vec<PortSpec> = list
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if specs.is_empty() {
        return Err("no port given".into());
    }
    Ok(PortList(specs))
}

/// What `netdx port` asks.
#[derive(Debug, Clone)]
pub struct PortQuery {
    /// The ports.
    pub specs: Vec<PortSpec>,
    /// Protocols to look at (TCP, UDP or both).
    pub protocols: Protocols,
    /// Address families.
    pub families: Families,
    /// Listening (and unconnected UDP) sockets only.
    pub listening: bool,
    /// Match the local port only, not the peer's.
    pub local_only: bool,
}

/// Sockets on the ports, with owners described.
///
/// The /proc scan for owners takes most of the time, so it runs alongside
/// the kernel query instead of after it; the scan keeps every socket inode
/// and the query's answer picks from them.
pub fn find(query: &PortQuery) -> Result<Listing, SocketError> {
    std::thread::scope(|scope| {
        let scan = scope.spawn(owners::scan_all);
        let found = query_sockets(query);
        let index = scan.join().unwrap_or_default();
        let (mut sockets, source) = found?;
        let hidden = describe_owners(&mut sockets, &index);
        Ok(Listing {
            sockets,
            source,
            hidden_processes: hidden,
        })
    })
}

/// The sockets on the ports, from the kernel (one filtered dump per protocol).
fn query_sockets(query: &PortQuery) -> Result<(Vec<Socket>, super::Source), SocketError> {
    let mut sockets = Vec::new();
    let mut source = super::Source::Netlink;
    for proto in [Proto::Tcp, Proto::Udp] {
        let wanted = match proto {
            Proto::Tcp => query.protocols.tcp,
            _ => query.protocols.udp,
        };
        let ranges: Vec<PortRange> = query
            .specs
            .iter()
            .filter(|spec| spec.proto.is_none_or(|p| p == proto))
            .map(|spec| spec.range)
            .collect();
        if !wanted || ranges.is_empty() {
            continue;
        }
        let filter = if query.local_only {
            Filter {
                local_ports: ranges,
                ..Filter::default()
            }
        } else {
            Filter {
                any_ports: ranges,
                ..Filter::default()
            }
        };
        let one = Query {
            protocols: Protocols {
                tcp: proto == Proto::Tcp,
                udp: proto == Proto::Udp,
                raw: false,
                unix: false,
            },
            families: query.families,
            states: if query.listening {
                StateMask::LISTENING
            } else {
                StateMask::ALL
            },
            filter,
            owners: false,
            tcp_info: false,
            congestion: false,
            memory: false,
            source: SourceChoice::Auto,
        };
        // Straight into the one list (12,500 sockets in the port bench are
        // 2.5 MB that a per-protocol list would copy once more).
        let found = super::visit(&one, None, |socket| sockets.push(socket))?;
        if found != super::Source::Netlink {
            source = found;
        }
    }
    Ok((sockets, source))
}

/// One process holding a socket on the port, pinned by a pidfd for `--kill`.
#[derive(Debug)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Command name, as the listing found it.
    pub name: String,
    /// The pidfd to signal it through, or why there is none.
    pub pinned: Result<process::Pinned, process::PinError>,
}

/// Every holder once (by pid), each pinned through the socket it was seen
/// holding: call it right after [`find`], while the pids are fresh.
pub fn pin_owners(sockets: &[Socket]) -> Vec<Owner> {
    let mut holders: Vec<(u32, &str, u32, u32)> = sockets
        .iter()
        .flat_map(|s| s.processes.iter().map(|h| (h.pid, &*h.name, h.fd, s.inode)))
        .collect();
    holders.sort_unstable();
    holders.dedup_by_key(|(pid, ..)| *pid);
    holders
        .into_iter()
        .map(|(pid, name, fd, inode)| Owner {
            pid,
            name: name.to_string(),
            pinned: process::pin_holder(pid, fd, inode),
        })
        .collect()
}

/// Fills in every socket's holders with user and command line; returns
/// how many processes could not be inspected.
fn describe_owners(sockets: &mut [Socket], index: &owners::OwnerIndex) -> usize {
    let inodes: Vec<u32> = sockets.iter().map(|s| s.inode).collect();
    let holders = if inodes.len() < SPLIT_AT {
        index.holders_of_each(&inodes)
    } else {
        // Two halves side by side: 12,500 sockets take ~1.5 ms on one core.
        let (first, second) = inodes.split_at(inodes.len() / 2);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| index.holders_of_each(second));
            let mut holders = index.holders_of_each(first);
            match other.join() {
                Ok(rest) => holders.extend(rest),
                Err(panic) => std::panic::resume_unwind(panic),
            }
            holders
        })
    };
    // Read once per process, shared by all its holders: (user, command line).
    type Details = Option<(Option<Arc<str>>, Arc<str>)>;
    let mut details: process::PidMap<Details> = process::PidMap::default();
    for (socket, holders) in sockets.iter_mut().zip(holders) {
        socket.processes = holders;
        for holder in &mut socket.processes {
            let info = details.entry(holder.pid).or_insert_with(|| {
                process::info(holder.pid)
                    .map(|info| (info.user.map(Arc::from), Arc::from(info.cmdline)))
            });
            if let Some((user, cmdline)) = info {
                holder.user.clone_from(user);
                holder.cmdline = Some(Arc::clone(cmdline));
            }
        }
    }
    index.hidden
}

/// Sockets below which a second thread costs more than it saves.
const SPLIT_AT: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(inode: u32) -> Socket {
        let end = |port| super::super::Endpoint::Inet {
            address: std::net::Ipv4Addr::LOCALHOST.into(),
            port,
        };
        Socket {
            proto: Proto::Tcp,
            family: super::super::Family::Inet,
            unix_type: None,
            state: super::super::State(1),
            recv_q: 0,
            send_q: 0,
            local: end(8080),
            peer: end(40_000),
            interface: None,
            uid: Some(0),
            inode,
            processes: Vec::new(),
            tcp_info: None,
            timer: None,
            memory: None,
        }
    }

    #[test]
    fn a_long_list_described_in_halves_gets_every_holder_and_one_reading_per_process() {
        let me = std::process::id();
        let gone = 4_000_000; // above pid_max: never a process
        let count = SPLIT_AT as u32 * 2 + 7;
        let mut entries = Vec::new();
        for inode in 1..=count {
            match inode % 4 {
                0 => {}
                1 => entries.push((inode, me, inode)),
                2 => entries.push((inode, gone, 3)),
                _ => entries.extend([(inode, me, inode), (inode, gone, inode + 1)]),
            }
        }
        let index =
            owners::OwnerIndex::from_entries(entries, &[(me, "netdx-test"), (gone, "ghost")]);
        // Dump order is not inode order.
        let mut sockets: Vec<Socket> = (1..=count).rev().map(socket).collect();
        describe_owners(&mut sockets, &index);
        let info = process::info(me).unwrap();
        for socket in &sockets {
            assert_eq!(socket.processes.len(), index.holders(socket.inode).len());
            for (holder, expected) in socket.processes.iter().zip(index.holders(socket.inode)) {
                assert_eq!(
                    (holder.pid, holder.fd, &holder.name),
                    (expected.pid, expected.fd, &expected.name)
                );
                if holder.pid == me {
                    assert_eq!(holder.user.as_deref(), info.user.as_deref());
                    assert_eq!(holder.cmdline.as_deref(), Some(info.cmdline.as_str()));
                } else {
                    assert_eq!(
                        (&holder.user, &holder.cmdline),
                        (&None, &None),
                        "a process gone has no details"
                    );
                }
            }
        }
        // One reading of each process, shared by all its holders.
        let mine: Vec<&Arc<str>> = sockets
            .iter()
            .flat_map(|s| &s.processes)
            .filter(|h| h.pid == me)
            .filter_map(|h| h.cmdline.as_ref())
            .collect();
        assert!(mine.len() > SPLIT_AT);
        assert!(mine.iter().all(|c| Arc::ptr_eq(c, mine[0])));
    }

    #[test]
    fn specs_accept_the_lsof_and_netstat_spellings() {
        let one = |text: &str| text.parse::<PortSpec>().unwrap();
        assert_eq!(
            one("8080"),
            PortSpec {
                proto: None,
                range: PortRange::one(8080)
            }
        );
        assert_eq!(
            one(":8080"),
            PortSpec {
                proto: None,
                range: PortRange::one(8080)
            }
        );
        assert_eq!(one("tcp:8080").proto, Some(Proto::Tcp));
        assert_eq!(one("UDP:53").proto, Some(Proto::Udp));
        assert_eq!(one("8000-8100").range, PortRange { lo: 8000, hi: 8100 });
        assert_eq!(parse_specs("80,udp:53, 9000-9001").unwrap().0.len(), 3);
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        assert!("0".parse::<PortSpec>().unwrap_err().contains("1 to 65535"));
        assert!(
            "65536"
                .parse::<PortSpec>()
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            "sctp:80"
                .parse::<PortSpec>()
                .unwrap_err()
                .contains("not a protocol")
        );
        assert!("tcp:".parse::<PortSpec>().unwrap_err().contains("no port"));
        assert!("9-1".parse::<PortSpec>().unwrap_err().contains("reversed"));
        assert!(
            "x".parse::<PortSpec>()
                .unwrap_err()
                .contains("not a port number")
        );
        assert!(parse_specs(",").is_err());
    }
}
