//! What a trace found: the first walk as traceroute shows it, and every
//! round folded into per-hop statistics as mtr's report shows them.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::Serialize;

use super::{Method, Request, Walk};

/// Per-hop statistics over every round.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HopStats {
    /// TTL.
    pub ttl: u8,
    /// Every address that answered at this hop, first seen first.
    pub responders: Vec<IpAddr>,
    /// Probes sent.
    pub sent: u32,
    /// Probes answered.
    pub received: u32,
    /// Percentage of probes without an answer.
    pub loss_pct: f64,
    /// The last answer's round trip, ms.
    pub last_ms: Option<f64>,
    /// Smallest round trip, ms.
    pub best_ms: Option<f64>,
    /// Mean round trip, ms.
    pub avg_ms: Option<f64>,
    /// Largest round trip, ms.
    pub worst_ms: Option<f64>,
    /// Population standard deviation of the round trips, ms.
    pub stdev_ms: Option<f64>,
}

/// The result of `netdx trace`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Report {
    /// The target.
    pub target: IpAddr,
    /// Our address.
    pub source: IpAddr,
    /// Probe method.
    pub method: Method,
    /// Destination port (UDP/TCP); `null` for ICMP.
    pub port: Option<u16>,
    /// Last TTL tried.
    pub max_hops: u8,
    /// Probes per hop per round.
    pub probes_per_hop: u8,
    /// Rounds.
    pub rounds: u32,
    /// Whether any round reached the target.
    pub reached: bool,
    /// Every walk, in order.
    pub walks: Vec<Walk>,
    /// Per-hop statistics over all walks.
    pub hops: Vec<HopStats>,
}

impl Report {
    /// Folds `walks` into per-hop statistics.
    pub fn new(request: &Request, source: IpAddr, walks: Vec<Walk>) -> Report {
        let mut hops: Vec<HopStats> = Vec::new();
        let mut samples: Vec<Vec<f64>> = Vec::new();
        for walk in &walks {
            for hop in &walk.hops {
                let index = usize::from(hop.ttl - request.first_ttl);
                while hops.len() <= index {
                    hops.push(HopStats {
                        ttl: request.first_ttl + hops.len() as u8,
                        responders: Vec::new(),
                        sent: 0,
                        received: 0,
                        loss_pct: 0.0,
                        last_ms: None,
                        best_ms: None,
                        avg_ms: None,
                        worst_ms: None,
                        stdev_ms: None,
                    });
                    samples.push(Vec::new());
                }
                let stats = &mut hops[index];
                for probe in &hop.probes {
                    stats.sent += 1;
                    if let Some(responder) = probe.responder
                        && !stats.responders.contains(&responder)
                    {
                        stats.responders.push(responder);
                    }
                    if let Some(rtt) = probe.rtt_ms {
                        stats.received += 1;
                        stats.last_ms = Some(rtt);
                        samples[index].push(rtt);
                    }
                }
            }
        }
        for (stats, rtts) in hops.iter_mut().zip(&samples) {
            if stats.sent > 0 {
                stats.loss_pct =
                    f64::from(stats.sent - stats.received) * 100.0 / f64::from(stats.sent);
            }
            if rtts.is_empty() {
                continue;
            }
            let n = rtts.len() as f64;
            let mean = rtts.iter().sum::<f64>() / n;
            let variance = rtts.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
            stats.best_ms = rtts.iter().copied().reduce(f64::min);
            stats.worst_ms = rtts.iter().copied().reduce(f64::max);
            stats.avg_ms = Some(mean);
            stats.stdev_ms = Some(variance.sqrt());
        }
        Report {
            target: request.target,
            source,
            method: request.method,
            port: (request.method != Method::Icmp).then_some(request.port),
            max_hops: request.max_hops,
            probes_per_hop: request.probes,
            rounds: request.rounds.max(1),
            reached: walks.iter().any(|w| w.reached),
            walks,
            hops,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Answer, Hop, ProbeResult, Wait};
    use super::*;

    fn answered(from: [u8; 4], rtt: f64, answer: Answer) -> ProbeResult {
        ProbeResult {
            responder: Some(IpAddr::from(from)),
            rtt_ms: Some(rtt),
            answer: Some(answer),
        }
    }

    #[test]
    fn rounds_fold_into_loss_and_round_trip_statistics() {
        let request = Request {
            target: IpAddr::from([10, 9, 3, 2]),
            scope_id: 0,
            method: Method::Udp,
            port: 33434,
            first_ttl: 1,
            max_hops: 30,
            probes: 2,
            simultaneous: 16,
            wait: Wait::default(),
            rounds: 2,
        };
        let star = ProbeResult {
            responder: None,
            rtt_ms: None,
            answer: None,
        };
        let walk = |a: f64, b: Option<f64>| Walk {
            hops: vec![Hop {
                ttl: 1,
                probes: vec![
                    answered([10, 9, 1, 1], a, Answer::TimeExceeded),
                    match b {
                        Some(rtt) => answered([10, 9, 1, 9], rtt, Answer::TimeExceeded),
                        None => star.clone(),
                    },
                ],
            }],
            reached: false,
        };
        let report = Report::new(
            &request,
            IpAddr::from([10, 9, 0, 1]),
            vec![walk(1.0, Some(3.0)), walk(2.0, None)],
        );
        let hop = &report.hops[0];
        assert_eq!((hop.sent, hop.received), (4, 3));
        assert_eq!(hop.loss_pct, 25.0);
        assert_eq!(hop.responders.len(), 2);
        assert_eq!(hop.best_ms, Some(1.0));
        assert_eq!(hop.worst_ms, Some(3.0));
        assert_eq!(hop.avg_ms, Some(2.0));
        assert_eq!(hop.last_ms, Some(2.0));
        assert!((hop.stdev_ms.unwrap() - (2.0f64 / 3.0).sqrt()).abs() < 1e-9);
    }
}
