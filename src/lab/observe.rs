//! What netdx observes between a lab's calls: the kernel's socket table
//! for a port, read with netdx's own sock_diag query, as `netdx netstat`
//! would list it.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use super::{LabError, Transcript};

/// The TCP sockets with `port` at either end, as `netdx netstat` lists them,
/// recorded as an observation.
pub fn listing(t: &mut Transcript<'_>, port: u16) -> Result<Vec<crate::sockets::Socket>, LabError> {
    let found = tcp_table(port);
    record_listing(t, port, &found, None)?;
    Ok(found)
}

/// Like [`listing`], but asks the kernel again every few milliseconds until
/// `settled` holds of what it reports or `deadline` has passed (a state
/// change such as FIN_WAIT2 → TIME_WAIT takes the peer's packets, so a
/// single look right after close() can race them). The last table is
/// recorded, with how long it took to settle.
pub fn listing_until(
    t: &mut Transcript<'_>,
    port: u16,
    deadline: std::time::Duration,
    settled: impl Fn(&[crate::sockets::Socket]) -> bool,
) -> Result<(Vec<crate::sockets::Socket>, bool), LabError> {
    t.flush()?;
    let started = std::time::Instant::now();
    let (found, held) = loop {
        let found = tcp_table(port);
        if settled(&found) {
            break (found, true);
        }
        if started.elapsed() >= deadline {
            break (found, false);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let waited = started.elapsed();
    record_listing(t, port, &found, Some(waited))?;
    Ok((found, held))
}

/// The kernel's TCP sockets with `port` at either end (sock_diag), with
/// their timers, in the calling thread's network namespace: a lab with
/// hosts of its own calls it inside one of them.
pub fn tcp_table(port: u16) -> Vec<crate::sockets::Socket> {
    use crate::sockets::{
        self, Families, Filter, PortRange, Protocols, Query, SourceChoice, StateMask,
    };
    let query = Query {
        protocols: Protocols {
            tcp: true,
            udp: false,
            raw: false,
            unix: false,
        },
        families: Families { v4: true, v6: true },
        states: StateMask::ALL,
        filter: Filter {
            any_ports: vec![PortRange::one(port)],
            ..Filter::default()
        },
        owners: false,
        tcp_info: false,
        congestion: false,
        memory: false,
        source: SourceChoice::Auto,
    };
    sockets::list(&query).map(|l| l.sockets).unwrap_or_default()
}

fn record_listing(
    t: &mut Transcript<'_>,
    port: u16,
    found: &[crate::sockets::Socket],
    waited: Option<std::time::Duration>,
) -> Result<(), LabError> {
    let rows: Vec<String> = found
        .iter()
        .map(|s| {
            format!(
                "{} {} -> {} (Recv-Q {}, Send-Q {})",
                s.state.name(),
                endpoint(&s.local),
                endpoint(&s.peer),
                s.recv_q,
                s.send_q
            )
        })
        .collect();
    let text = if rows.is_empty() {
        "no sockets".to_string()
    } else {
        rows.join("; ")
    };
    t.observe("netstat", format!("-tan port = :{port}"), text)?;
    if let Some(waited) = waited {
        t.set_elapsed(waited);
    }
    Ok(())
}

fn endpoint(endpoint: &crate::sockets::Endpoint) -> String {
    match endpoint {
        crate::sockets::Endpoint::Inet { address, port } => {
            SocketAddr::new(*address, *port).to_string()
        }
        crate::sockets::Endpoint::Unix { path, .. } => path.clone().unwrap_or_default(),
    }
}
