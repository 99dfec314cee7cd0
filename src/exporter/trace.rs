//! The `trace` prober (netdx's; blackbox_exporter has none): one walk of
//! the path with netdx's traceroute, as per-hop series.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::config::{Trace, TraceMethod};
use super::metrics::Family;
use super::probe::{Found, ProbeLog, choose, left};
use crate::trace::{self, Method, Request, Sockets, Wait};

/// Probes a traceroute keeps in flight at once (traceroute's `-N` default).
const SIMULTANEOUS: usize = 16;

/// Walks the path to `target` (a host) before `deadline`.
pub fn probe(settings: &Trace, target: &str, deadline: Instant, log: &mut ProbeLog) -> Found {
    let mut families = Vec::new();
    let Some(chosen) = choose(target, &settings.resolve, log, &mut families) else {
        return Found::failed(families);
    };
    let method = match settings.method {
        TraceMethod::Icmp => Method::Icmp,
        TraceMethod::Udp => Method::Udp,
        TraceMethod::Tcp => Method::Tcp,
    };
    let port = if settings.port == 0 {
        method.default_port()
    } else {
        settings.port
    };
    // Every batch of probes may wait its whole time: share the budget so
    // the walk ends in it.
    let probes = usize::from(settings.max_hops) * usize::from(settings.probes);
    let batches = probes.div_ceil(SIMULTANEOUS).max(1) as u32;
    let wait = (left(deadline).mul_f64(0.9) / batches)
        .clamp(Duration::from_millis(10), Duration::from_secs(5));
    let request = Request {
        target: chosen.address,
        scope_id: chosen.scope_id,
        method,
        port,
        first_ttl: 1,
        max_hops: settings.max_hops,
        probes: settings.probes,
        simultaneous: SIMULTANEOUS,
        wait: Wait {
            max: wait,
            ..Wait::default()
        },
        rounds: 1,
    };
    log.info(format!(
        "Tracing the path to {}: method={method:?} max_hops={} wait_seconds={}",
        chosen.address,
        settings.max_hops,
        wait.as_secs_f64()
    ));
    let sockets = match Sockets::open_keeping_privilege(&request) {
        Ok(sockets) => sockets,
        Err(err) => {
            log.error(format!("Error opening the trace sockets: {err}"));
            return Found::failed(families);
        }
    };
    let report = match trace::run(&request, sockets, &mut |_| Ok(())) {
        Ok(report) => report,
        Err(err) => {
            log.error(format!("Error tracing: {err}"));
            return Found::failed(families);
        }
    };
    // Round trips by hop and responder, over the walk's probes.
    let mut rtts: BTreeMap<(u8, IpAddr), (u32, f64)> = BTreeMap::new();
    for walk in &report.walks {
        for hop in &walk.hops {
            for probe in &hop.probes {
                if let (Some(address), Some(ms)) = (probe.responder, probe.rtt_ms) {
                    let entry = rtts.entry((hop.ttl, address)).or_default();
                    entry.0 += 1;
                    entry.1 += ms / 1000.0;
                }
            }
        }
    }
    let last = report
        .hops
        .iter()
        .rev()
        .find(|hop| hop.received > 0)
        .map_or(0, |hop| hop.ttl);
    families.push(Family::single(
        "probe_trace_hops",
        "Hops to the target (or to the last hop that answered)",
        f64::from(last),
    ));
    families.push(Family::single(
        "probe_trace_reached",
        "Whether the target itself answered",
        if report.reached { 1.0 } else { 0.0 },
    ));
    let mut rtt = Family::gauge(
        "probe_trace_hop_rtt_seconds",
        "Mean round trip to each hop's responder",
    );
    for ((ttl, address), (count, sum)) in &rtts {
        rtt.push(
            &[("hop", &ttl.to_string()), ("address", &address.to_string())],
            sum / f64::from(*count),
        );
    }
    let mut loss = Family::gauge(
        "probe_trace_hop_loss_ratio",
        "Share of each hop's probes without an answer (address: its first responder, * for none)",
    );
    for hop in report.hops.iter().filter(|hop| hop.ttl <= last.max(1)) {
        let address = hop
            .responders
            .first()
            .map_or_else(|| "*".to_string(), IpAddr::to_string);
        loss.push(
            &[("hop", &hop.ttl.to_string()), ("address", &address)],
            hop.loss_pct / 100.0,
        );
    }
    families.push(rtt);
    families.push(loss);
    log.info(format!(
        "Trace done: reached={} hops={last}",
        report.reached
    ));
    Found {
        success: report.reached,
        families,
    }
}
