//! The `echo` prober (netdx's): round trips through a TCP or UDP echo
//! service, every byte checked, with loss, corruption and an RTT histogram.
#![forbid(unsafe_code)]

use std::time::Instant;

use super::config::Echo;
use super::metrics::{Family, Histogram, RTT_BUCKETS};
use super::probe::{Found, ProbeLog, endpoint, left, per_probe_timeout};
use crate::echo::Proto;
use crate::echo::matcher::{Observation, Verdict};
use crate::echo::probe::{self, ProbeConfig};
use crate::signals::Interrupts;

/// Sends `settings.count` probes through the echo service `target` (`HOST:PORT`).
pub fn probe(settings: &Echo, target: &str, deadline: Instant, log: &mut ProbeLog) -> Found {
    let mut families = Vec::new();
    let Some(address) = endpoint(target, None, &settings.resolve, log, &mut families) else {
        return Found::failed(families);
    };
    let budget = left(deadline);
    let config = ProbeConfig {
        target: address,
        proto: if settings.udp { Proto::Udp } else { Proto::Tcp },
        count: Some(u64::from(settings.count)),
        interval: settings.interval,
        timeout: per_probe_timeout(deadline, settings.interval, settings.count),
        deadline: Some(budget),
        size: settings.size,
        fill: Default::default(),
        framing: Default::default(),
        options: Default::default(),
        bind: None,
        connect_timeout: budget,
        keep_records: false,
    };
    log.info(format!("Probing echo service {address} ({})", config.proto));
    let session = match probe::connect(config) {
        Ok(session) => session,
        Err(err) => {
            log.error(format!("Error connecting: {err}"));
            return Found::failed(families);
        }
    };
    let interrupts = match Interrupts::detached() {
        Ok(interrupts) => interrupts,
        Err(err) => {
            log.error(format!("Error setting up: {err}"));
            return Found::failed(families);
        }
    };
    let mut histogram = Histogram::new(&RTT_BUCKETS);
    let mut observe = |observation: &Observation| -> std::io::Result<()> {
        if let Observation::Echo {
            rtt,
            verdict: Verdict::Good,
            ..
        } = observation
        {
            histogram.observe(rtt.as_secs_f64());
        }
        Ok(())
    };
    let (report, _) = match session.run(&interrupts, &mut observe) {
        Ok(done) => done,
        Err(err) => {
            log.error(format!("Error probing: {err}"));
            return Found::failed(families);
        }
    };
    let counts = &report.counts;
    let counters = [
        ("probe_echo_sent", "Echo probes sent", counts.transmitted),
        (
            "probe_echo_received",
            "Echoes back intact and in time",
            counts.received,
        ),
        (
            "probe_echo_corrupted",
            "Echoes that differed from the probe",
            counts.corrupted,
        ),
        (
            "probe_echo_duplicates",
            "Extra echoes of a probe already answered",
            counts.duplicated,
        ),
        (
            "probe_echo_late",
            "Intact echoes after the timeout",
            counts.late,
        ),
    ];
    for (name, help, value) in counters {
        families.push(Family::counter(name, help).with(&[], value as f64));
    }
    let sent = counts.transmitted as f64;
    families.push(Family::single(
        "probe_echo_loss_ratio",
        "Share of the probes without a good echo (0 to 1)",
        if sent > 0.0 {
            1.0 - counts.received as f64 / sent
        } else {
            1.0
        },
    ));
    families.push(histogram.family("probe_echo_rtt_seconds", "Round trips of the good echoes"));
    Found {
        success: counts.received > 0,
        families,
    }
}
