//! The kernel's counters for `netdx top`: every TCP connection's TCP_INFO
//! through sock_diag (the dump netstat -ti reads), its holders from the
//! owner index netstat -p builds, and the interfaces' IFLA_STATS64.

use std::net::SocketAddr;

use super::{ConnectionCounters, Counters, InterfaceCounters, Sample, TopError};
use crate::iface::{self, Selection};
use crate::sockets::{
    self, Endpoint, Families, Filter, Protocols, Query, SourceChoice, StateMask, owners,
};

/// Reads the live kernel.
#[derive(Debug)]
pub struct Kernel {
    query: Query,
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
                memory: false,
                source: SourceChoice::Auto,
            },
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
        let index = owners::scan_all();
        let mut connections = Vec::new();
        sockets::visit(&self.query, Some(&index), |socket| {
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
            let holder = socket.processes.first();
            connections.push(ConnectionCounters {
                inode: socket.inode,
                local,
                peer,
                pid: holder.map(|h| h.pid),
                command: holder.map(|h| h.name.to_string()),
                sent,
                received,
                rtt_ms: info.rtt_ms,
                retransmits: u64::from(info.total_retrans.unwrap_or(0)),
            });
        })?;
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
            hidden_processes: index.hidden,
        })
    }
}
