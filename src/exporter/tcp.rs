//! The `tcp` prober: blackbox_exporter's connect check (a completed
//! handshake is success), plus the connection's TCP_INFO as
//! `probe_tcp_info_*`.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::Instant;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::config::Tcp;
use super::metrics::Family;
use super::probe::{Found, ProbeLog, endpoint, left};
use crate::sockets::tcp_info::{TcpInfo, TcpInfoView};

/// Connects to `target` (`HOST:PORT`) before `deadline`.
pub fn probe(settings: &Tcp, target: &str, deadline: Instant, log: &mut ProbeLog) -> Found {
    let mut families = vec![Family::single(
        "probe_failed_due_to_regex",
        "Indicates if probe failed due to regex",
        0.0,
    )];
    let Some(address) = endpoint(target, None, &settings.resolve, log, &mut families) else {
        return Found::failed(families);
    };
    log.info(format!("Dialing TCP without TLS: address={address}"));
    match connect(address, settings.source, deadline) {
        Ok(socket) => {
            log.info("Successfully dialed");
            if let Some(info) = read_info(&socket) {
                families.extend(tcp_info_families(&info));
            }
            Found {
                success: true,
                families,
            }
        }
        Err(err) => {
            log.error(format!("Error dialing TCP: {err}"));
            Found::failed(families)
        }
    }
}

fn connect(
    address: SocketAddr,
    source: Option<std::net::IpAddr>,
    deadline: Instant,
) -> std::io::Result<Socket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    if let Some(source) = source {
        socket.bind(&SockAddr::from(SocketAddr::new(source, 0)))?;
    }
    socket.connect_timeout(&SockAddr::from(address), left(deadline))?;
    Ok(socket)
}

/// The connection's TCP_INFO, when the kernel gives it.
pub fn read_info(socket: &Socket) -> Option<TcpInfo> {
    let bytes = crate::net::tcp_info::read(socket).ok()?;
    TcpInfoView::new(&bytes).map(|view| view.parse(None))
}

/// `probe_tcp_info_*`: what the kernel knows of the probe's connection.
pub fn tcp_info_families(info: &TcpInfo) -> Vec<Family> {
    let mut families = Vec::new();
    let seconds = |ms: Option<f64>| ms.map(|ms| ms / 1000.0);
    let gauges: [(&str, &str, Option<f64>); 8] = [
        (
            "probe_tcp_info_rtt_seconds",
            "Smoothed round-trip time of the probe's connection (TCP_INFO tcpi_rtt)",
            seconds(info.rtt_ms),
        ),
        (
            "probe_tcp_info_rtt_variance_seconds",
            "Round-trip time variance of the probe's connection (TCP_INFO tcpi_rttvar)",
            seconds(info.rttvar_ms),
        ),
        (
            "probe_tcp_info_min_rtt_seconds",
            "Lowest round-trip time the kernel saw on the connection (TCP_INFO tcpi_min_rtt)",
            seconds(info.min_rtt_ms),
        ),
        (
            "probe_tcp_info_rto_seconds",
            "Retransmission timeout of the connection (TCP_INFO tcpi_rto)",
            seconds(info.rto_ms),
        ),
        (
            "probe_tcp_info_mss_bytes",
            "Sender maximum segment size (TCP_INFO tcpi_snd_mss)",
            info.mss.map(f64::from),
        ),
        (
            "probe_tcp_info_cwnd_segments",
            "Congestion window in segments (TCP_INFO tcpi_snd_cwnd)",
            info.cwnd.map(f64::from),
        ),
        (
            "probe_tcp_info_retransmitted_segments",
            "Segments retransmitted over the connection's life, SYNs included (TCP_INFO tcpi_total_retrans)",
            info.total_retrans.map(f64::from),
        ),
        (
            "probe_tcp_info_delivery_rate_bytes",
            "Most recent delivery rate in bytes per second (TCP_INFO tcpi_delivery_rate)",
            info.delivery_rate.map(|v| v as f64),
        ),
    ];
    for (name, help, value) in gauges {
        if let Some(value) = value {
            families.push(Family::single(name, help, value));
        }
    }
    families
}
