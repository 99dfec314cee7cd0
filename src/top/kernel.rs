//! The kernel's counters for `netdx top`: every TCP connection's TCP_INFO
//! through sock_diag (the dump netstat -ti reads), its holders from the
//! owner index netstat -p builds, and the interfaces' IFLA_STATS64.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{ConnectionCounters, Counters, InterfaceCounters, Sample, TopError};
use crate::iface::{self, Selection};
use crate::sockets::{
    self, Endpoint, Families, Filter, Protocols, Query, SourceChoice, StateMask, owners,
};

/// Reads the live kernel.
///
/// Finding a socket's process means reading every process's descriptors,
/// which on a host with 50,000 sockets costs far more than the sock_diag
/// dump itself. So the owner index is kept between refreshes and read
/// again only when a connection appears that it does not know (or it is
/// [`STALE_AFTER`] old), and then no more often than keeps the scanning
/// under a tenth of the time ([`SCAN_SHARE`]): a new connection on a big
/// host may show without its process for a refresh or two.
#[derive(Debug)]
pub struct Kernel {
    query: Query,
    owners: Option<Owners>,
}

/// The owner index and what reading it cost.
#[derive(Debug)]
struct Owners {
    index: owners::OwnerIndex,
    read_at: Instant,
    cost: Duration,
}

/// An owner index older than this is read again even if it knows every connection.
const STALE_AFTER: Duration = Duration::from_secs(30);
/// Between two owner scans, at least this many times the last scan's cost passes.
const SCAN_SHARE: u32 = 10;

impl Kernel {
    /// Whether the owner index should be read again now.
    fn rescan(&self, unknown: bool, now: Instant) -> bool {
        let Some(owners) = &self.owners else {
            return true;
        };
        let age = now.saturating_duration_since(owners.read_at);
        (unknown || age >= STALE_AFTER) && age >= owners.cost.saturating_mul(SCAN_SHARE)
    }

    fn read_owners(&mut self) {
        let started = Instant::now();
        let index = owners::scan_all();
        self.owners = Some(Owners {
            index,
            read_at: Instant::now(),
            cost: started.elapsed(),
        });
    }
}

impl Default for Kernel {
    fn default() -> Self {
        Kernel {
            query: Query {
                protocols: Protocols {
                    tcp: true,
                    ..Protocols::default()
                },
                families: Families { v4: true, v6: true },
                states: StateMask::CONNECTED,
                filter: Filter::default(),
                owners: false,
                tcp_info: true,
                congestion: false,
                memory: false,
                source: SourceChoice::Auto,
            },
            owners: None,
        }
    }
}

fn address(endpoint: &Endpoint) -> Option<SocketAddr> {
    match endpoint {
        Endpoint::Inet { address, port } => Some(SocketAddr::new(*address, *port)),
        Endpoint::Unix { .. } => None,
    }
}

impl Counters for Kernel {
    fn sample(&mut self) -> Result<Sample, TopError> {
        let mut connections = Vec::new();
        sockets::visit(&self.query, None, |socket| {
            let (Some(local), Some(peer)) = (address(&socket.local), address(&socket.peer)) else {
                return;
            };
            // Without TCP_INFO (the /proc/net fallback) there is nothing to count.
            let Some(info) = socket.tcp_info.as_deref() else {
                return;
            };
            let (Some(sent), Some(received)) = (info.bytes_acked, info.bytes_received) else {
                return;
            };
            connections.push(ConnectionCounters {
                inode: socket.inode,
                local,
                peer,
                pid: None,
                command: None,
                sent,
                received,
                rtt_ms: info.rtt_ms,
                retransmits: u64::from(info.total_retrans.unwrap_or(0)),
            });
        })?;
        // In inode order, the holders are found in one walk of the owner
        // index, and Top matches the sample with the last one without sorting.
        super::connection_order(&mut connections);
        let inodes: Vec<u32> = connections.iter().map(|c| c.inode).collect();
        let mut holders = self
            .owners
            .as_ref()
            .map(|owners| owners.index.first_holders_sorted(&inodes));
        // An orphan (closed, still in FIN_WAIT…) has inode 0 and no holder to find.
        let unknown = holders.as_ref().is_none_or(|each| {
            each.iter()
                .zip(&inodes)
                .any(|(holder, &inode)| holder.is_none() && inode != 0)
        });
        if self.rescan(unknown, Instant::now()) {
            self.read_owners();
            holders = self
                .owners
                .as_ref()
                .map(|owners| owners.index.first_holders_sorted(&inodes));
        }
        for (connection, holder) in connections.iter_mut().zip(holders.unwrap_or_default()) {
            if let Some((pid, name)) = holder {
                connection.pid = Some(pid);
                connection.command = Some(name);
            }
        }
        let interfaces = iface::collect(&Selection::All)?
            .into_iter()
            .filter_map(|i| {
                let stats = i.stats?;
                Some(InterfaceCounters {
                    name: i.name,
                    rx_bytes: stats.rx_bytes,
                    tx_bytes: stats.tx_bytes,
                })
            })
            .collect();
        Ok(Sample {
            connections,
            interfaces,
            hidden_processes: self.owners.as_ref().map_or(0, |o| o.index.hidden),
        })
    }
}
