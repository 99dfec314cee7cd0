//! The `icmp` prober: ping's engine (kernel receive timestamps, duplicates
//! and damaged replies told apart) with blackbox_exporter's metrics, and
//! with `packets: N` the loss, duplicates and an RTT histogram it lacks.
#![forbid(unsafe_code)]

use std::time::Instant;

use super::config::Icmp;
use super::metrics::{Family, Histogram, RTT_BUCKETS};
use super::probe::{Found, ProbeLog, choose, left, per_probe_timeout};
use crate::clock::SystemClock;
use crate::ping::echo::{EchoSocket, SocketOptions, Source};
use crate::ping::engine::{self, Mode, Plan};
use crate::ping::network::Sockets;
use crate::ping::{Event, ReplyStatus, Target};
use crate::signals::Interrupts;

/// Pings `target` `settings.packets` times before `deadline`.
pub fn probe(settings: &Icmp, target: &str, deadline: Instant, log: &mut ProbeLog) -> Found {
    let mut durations = Family::gauge(
        "probe_icmp_duration_seconds",
        "Duration of icmp request by phase",
    );
    let mut families = Vec::new();
    let started = Instant::now();
    let chosen = choose(target, &settings.resolve, log, &mut families);
    let resolve = started.elapsed().as_secs_f64();
    let Some(chosen) = chosen else {
        for (phase, value) in [("resolve", resolve), ("setup", 0.0), ("rtt", 0.0)] {
            durations.push(&[("phase", phase)], value);
        }
        families.insert(0, durations);
        return Found::failed(families);
    };
    let setup_started = Instant::now();
    let options = SocketOptions {
        ttl: Some(settings.ttl),
        source: settings.source.map(Source::Address),
        rcvbuf: 1 << 16,
        // Tied to the target: with a thousand probes running, each reply
        // is copied to its own probe's socket only, not to every raw socket.
        peer: Some((chosen.address, chosen.scope_id)),
    };
    log.debug("Creating socket");
    let socket = EchoSocket::open(chosen.address.is_ipv6(), &options);
    let setup = setup_started.elapsed().as_secs_f64();
    let socket = match socket {
        Ok(socket) => socket,
        Err(err) => {
            log.error(format!("Error listening to socket: {err}"));
            for (phase, value) in [("resolve", resolve), ("setup", setup), ("rtt", 0.0)] {
                durations.push(&[("phase", phase)], value);
            }
            families.insert(0, durations);
            return Found::failed(families);
        }
    };
    log.debug(format!("Socket open ({:?})", socket.kind()));
    let (v4, v6) = if chosen.address.is_ipv6() {
        (None, Some(socket))
    } else {
        (Some(socket), None)
    };
    let mut sockets = Sockets::new(v4, v6);
    let budget = left(deadline);
    let plan = Plan {
        mode: Mode::Count(Some(u64::from(settings.packets))),
        interval: settings.interval,
        period: settings.interval,
        // Each request waits what is left once the last has gone out.
        timeout: per_probe_timeout(deadline, settings.interval, settings.packets),
        deadline: Some(budget),
        payload: crate::ping::session::payload(settings.payload_size, None),
        flood: false,
        report_outstanding: false,
        keep_replies: false,
    };
    let mut histogram = Histogram::new(&RTT_BUCKETS);
    let mut hop_limit = None;
    let mut report = None;
    log.info(format!(
        "Writing out packets: count={} interval_seconds={}",
        settings.packets,
        settings.interval.as_secs_f64()
    ));
    let mut observer = |event: Event<'_>| -> std::io::Result<()> {
        match event {
            Event::Reply { reply, .. } => match reply.status {
                ReplyStatus::Good => {
                    histogram.observe(reply.rtt.as_secs_f64());
                    if let Some(ttl) = reply.ttl {
                        hop_limit = Some(ttl);
                    }
                }
                ReplyStatus::Duplicate => log.info(format!("Duplicate reply: seq={}", reply.seq)),
                ReplyStatus::Late => log.info(format!("Late reply: seq={}", reply.seq)),
                ReplyStatus::Corrupted(why) => {
                    log.info(format!("Damaged reply: seq={} {why:?}", reply.seq))
                }
            },
            Event::Error { error, .. } => {
                log.info(format!("ICMP error: seq={} {:?}", error.seq, error.kind))
            }
            Event::SendFailed { seq, error, .. } => {
                log.error(format!("Error writing to socket: seq={seq} err={error}"))
            }
            Event::Timeout { seq, .. } => log.debug(format!("No reply: seq={seq}")),
            Event::Done(done) => report = Some(done),
            _ => {}
        }
        Ok(())
    };
    let target = Target {
        index: 0,
        name: target.to_string(),
        address: chosen.address,
        scope_id: chosen.scope_id,
        named: false,
    };
    let mut targets = std::iter::once(target);
    let run = Interrupts::unfired()
        .map_err(crate::ping::PingError::Signals)
        .and_then(|interrupts| {
            engine::run(
                &plan,
                &mut sockets,
                &SystemClock,
                &mut targets,
                interrupts,
                &mut observer,
            )
        });
    if let Err(err) = run {
        log.error(format!("Error while pinging: {err}"));
    }
    let (sent, received, duplicates) = report
        .as_ref()
        .map_or((0, 0, 0), |r| (r.transmitted, r.received, r.duplicates));
    let mean_rtt = if histogram.count() > 0 {
        report
            .as_ref()
            .and_then(|r| r.rtt.mean_ns())
            .map_or(0.0, |ns| ns / 1e9)
    } else {
        0.0
    };
    for (phase, value) in [("resolve", resolve), ("setup", setup), ("rtt", mean_rtt)] {
        durations.push(&[("phase", phase)], value);
    }
    families.insert(0, durations);
    let success = received > 0;
    if success {
        log.info(format!(
            "Found matching reply packets: {received} of {sent}"
        ));
        if let Some(ttl) = hop_limit {
            families.push(Family::single(
                "probe_icmp_reply_hop_limit",
                "Replied packet hop limit (TTL for ipv4)",
                f64::from(ttl),
            ));
        }
    } else {
        log.error(format!("No reply to any of {sent} packets"));
    }
    families.push(
        Family::counter(
            "probe_icmp_packets_sent",
            "Echo requests sent by this probe",
        )
        .with(&[], sent as f64),
    );
    families.push(
        Family::counter(
            "probe_icmp_packets_received",
            "Echo replies received in time, intact, not duplicated",
        )
        .with(&[], received as f64),
    );
    families.push(
        Family::counter(
            "probe_icmp_packets_duplicates",
            "Duplicate echo replies received",
        )
        .with(&[], duplicates as f64),
    );
    let loss = if sent > 0 {
        1.0 - received.min(sent) as f64 / sent as f64
    } else {
        1.0
    };
    families.push(Family::single(
        "probe_icmp_loss_ratio",
        "Share of the echo requests without a good reply (0 to 1)",
        loss,
    ));
    families.push(histogram.family(
        "probe_icmp_rtt_seconds",
        "Round trips of the good echo replies (kernel receive timestamps)",
    ));
    Found { success, families }
}
