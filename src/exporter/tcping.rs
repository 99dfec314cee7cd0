//! The `tcping` prober (netdx's): `packets` TCP handshakes timed by the
//! kernel (TCP_INFO's first RTT sample), with loss and an RTT histogram.
#![forbid(unsafe_code)]

use std::time::Instant;

use super::config::Tcping;
use super::metrics::{Family, Histogram, RTT_BUCKETS};
use super::probe::{Found, ProbeLog, endpoint, per_probe_timeout};
use crate::clock::SystemClock;
use crate::signals::Interrupts;
use crate::tcping::dial::SocketDialer;
use crate::tcping::engine;
use crate::tcping::{Request, Status};

/// Times `settings.count` handshakes to `target` (`HOST:PORT`) before `deadline`.
pub fn probe(settings: &Tcping, target: &str, deadline: Instant, log: &mut ProbeLog) -> Found {
    let mut families = Vec::new();
    let Some(address) = endpoint(target, None, &settings.resolve, log, &mut families) else {
        return Found::failed(families);
    };
    let request = Request {
        target: address,
        count: Some(u64::from(settings.count)),
        interval: settings.interval,
        timeout: per_probe_timeout(deadline, settings.interval, settings.count),
    };
    let interrupts = match Interrupts::detached() {
        Ok(interrupts) => interrupts,
        Err(err) => {
            log.error(format!("Error setting up: {err}"));
            return Found::failed(families);
        }
    };
    log.info(format!("Timing {} handshakes to {address}", settings.count));
    let mut dialer = SocketDialer::new(address, interrupts);
    let mut histogram = Histogram::new(&RTT_BUCKETS);
    let mut on_probe = |probe: &crate::tcping::Probe| -> std::io::Result<()> {
        match (probe.status, probe.time_ms) {
            (Status::Connected, Some(ms)) => histogram.observe(ms / 1000.0),
            (status, _) => log.info(format!(
                "Handshake {}: {status:?} {}",
                probe.seq,
                probe.error.as_deref().unwrap_or("")
            )),
        }
        Ok(())
    };
    let report = match engine::run(&request, target, &mut dialer, &SystemClock, &mut on_probe) {
        Ok(report) => report,
        Err(err) => {
            log.error(format!("Error dialing: {err:?}"));
            return Found::failed(families);
        }
    };
    let sent = report.transmitted as f64;
    let connected = report.connected as f64;
    families.push(
        Family::counter(
            "probe_tcping_handshakes_sent",
            "TCP handshakes started by this probe",
        )
        .with(&[], sent),
    );
    families.push(
        Family::counter(
            "probe_tcping_handshakes_completed",
            "TCP handshakes completed",
        )
        .with(&[], connected),
    );
    families.push(Family::single(
        "probe_tcping_loss_ratio",
        "Share of the handshakes that did not complete (0 to 1)",
        if sent > 0.0 {
            1.0 - connected / sent
        } else {
            1.0
        },
    ));
    families.push(histogram.family(
        "probe_tcping_rtt_seconds",
        "Handshake round trips (TCP_INFO's RTT sample where the kernel took one)",
    ));
    Found {
        success: report.success(),
        families,
    }
}
