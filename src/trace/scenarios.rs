//! The walk against scripted networks: silent hops, late answers, the
//! target's answer ending the walk, duplicates, strays from an earlier
//! round, and the HERE/NEAR waits — all in simulated time.
use std::net::IpAddr;
use std::time::Duration;

use super::sim::{Reply, ScriptedHop, SimNetwork};
use super::*;
use crate::clock::SimClock;

const R1: [u8; 4] = [10, 0, 1, 1];
const R2: [u8; 4] = [10, 0, 2, 1];
const TARGET: [u8; 4] = [10, 0, 3, 2];

fn request(wait: Wait, rounds: u32) -> Request {
    Request {
        target: IpAddr::from(TARGET),
        scope_id: 0,
        method: Method::Udp,
        port: 33434,
        first_ttl: 1,
        max_hops: 30,
        probes: 3,
        simultaneous: 16,
        wait,
        rounds,
    }
}

fn only_max(ms: u64) -> Wait {
    Wait {
        max: Duration::from_millis(ms),
        here: 0.0,
        near: 0.0,
    }
}

/// Runs `request` over `hops`; the report and the simulated time it took.
fn trace(request: &Request, hops: Vec<ScriptedHop>) -> (Report, Duration) {
    let clock = SimClock::new();
    let mut network = SimNetwork::new(&clock, hops);
    let report = run_on(request, &mut network, &clock);
    (report, clock.elapsed())
}

/// Runs `request` over `network`, for tests that look at the network afterwards.
fn run_on(request: &Request, network: &mut SimNetwork, clock: &SimClock) -> Report {
    run_with(request, network, clock, &mut |_| Ok(())).unwrap()
}

/// R1 answers in 1 ms, R2 never, the target in `target_ms`.
fn silent_second_hop(target_ms: u64) -> Vec<ScriptedHop> {
    vec![
        ScriptedHop::router(R1, 1),
        ScriptedHop::silent(R2),
        ScriptedHop::target(TARGET, target_ms),
    ]
}

fn responders(walk: &Walk) -> Vec<Vec<Option<IpAddr>>> {
    walk.hops
        .iter()
        .map(|hop| hop.probes.iter().map(|p| p.responder).collect())
        .collect()
}

fn rtts(hop: &Hop) -> Vec<Option<f64>> {
    hop.probes.iter().map(|p| p.rtt_ms).collect()
}

fn three(address: [u8; 4]) -> Vec<Option<IpAddr>> {
    vec![Some(IpAddr::from(address)); 3]
}

#[test]
fn a_hop_that_never_answers_shows_stars_and_the_walk_goes_on_to_the_target() {
    let hops = silent_second_hop(3);
    let (report, _) = trace(&request(Wait::default(), 1), hops);
    let walk = &report.walks[0];
    assert_eq!(
        responders(walk),
        vec![three(R1), vec![None; 3], three(TARGET)]
    );
    assert!(walk.reached && report.reached);
    assert_eq!(rtts(&walk.hops[2]), vec![Some(3.0); 3]);
}

#[test]
fn answers_from_a_later_hop_cut_a_silent_hops_wait_to_near_times_their_round_trip() {
    let hops = silent_second_hop(3);
    // NEAR 10 × 3 ms: hop 2 is given up on 30 ms after it was probed, not
    // after MAX (5 s).
    let (_, took) = trace(&request(Wait::default(), 1), hops.clone());
    assert_eq!(took, Duration::from_millis(30));
    // Without HERE/NEAR the silent hop costs the whole MAX.
    let (_, took) = trace(&request(only_max(5000), 1), hops);
    assert_eq!(took, Duration::from_secs(5));
}

#[test]
fn answers_from_its_own_hop_cut_a_lost_probes_wait_to_here_times_their_round_trip() {
    let mut lossy = ScriptedHop::router(R1, 2);
    lossy.replies = vec![
        Reply::After(Duration::from_millis(2)),
        Reply::After(Duration::from_millis(2)),
        Reply::Silent,
    ];
    let hops = vec![lossy, ScriptedHop::target(TARGET, 100)];
    let clock = SimClock::new();
    let mut network = SimNetwork::new(&clock, hops);
    let mut reported_at = Vec::new();
    let mut on_hop = |event: Event<'_>| {
        if let Event::Hop { hop, .. } = event {
            reported_at.push((hop.ttl, clock.elapsed()));
        }
        Ok(())
    };
    let report = run_with(
        &request(Wait::default(), 1),
        &mut network,
        &clock,
        &mut on_hop,
    )
    .unwrap();
    // HERE 3 × 2 ms: hop 1's third probe is given up on at 6 ms.
    assert_eq!(reported_at[0], (1, Duration::from_millis(6)));
    assert_eq!(reported_at[1], (2, Duration::from_millis(100)));
    assert_eq!(
        responders(&report.walks[0])[0],
        vec![Some(IpAddr::from(R1)), Some(IpAddr::from(R1)), None]
    );
}

#[test]
fn an_answer_after_max_is_a_star() {
    let mut late = ScriptedHop::router(R2, 0);
    late.replies = vec![Reply::After(Duration::from_millis(80))];
    let hops = vec![
        ScriptedHop::router(R1, 1),
        late,
        ScriptedHop::target(TARGET, 1),
    ];
    let (report, took) = trace(&request(only_max(50), 1), hops);
    assert_eq!(
        responders(&report.walks[0]),
        vec![three(R1), vec![None; 3], three(TARGET)]
    );
    assert_eq!(
        took,
        Duration::from_millis(50),
        "no waiting for the late answer"
    );
}

#[test]
fn a_late_answer_from_an_earlier_round_is_not_taken_for_this_rounds_probe() {
    // Round 1's probes to hop 2 are answered after 60 ms, past MAX (50 ms):
    // those answers arrive while round 2's probes to hop 2 (answered after
    // 40 ms) are still waiting, and must not be taken for them.
    let mut hop2 = ScriptedHop::router(R2, 0);
    hop2.replies = vec![
        Reply::After(Duration::from_millis(60)),
        Reply::After(Duration::from_millis(60)),
        Reply::After(Duration::from_millis(60)),
        Reply::After(Duration::from_millis(40)),
    ];
    let hops = vec![
        ScriptedHop::router(R1, 1),
        hop2,
        ScriptedHop::target(TARGET, 1),
    ];
    let (report, _) = trace(&request(only_max(50), 2), hops);
    assert_eq!(rtts(&report.walks[0].hops[1]), vec![None; 3]);
    assert_eq!(rtts(&report.walks[1].hops[1]), vec![Some(40.0); 3]);
    let stats = &report.hops[1];
    assert_eq!((stats.sent, stats.received), (6, 3));
    assert_eq!(stats.best_ms, Some(40.0));
}

#[test]
fn the_target_answering_ends_the_walk_at_its_hop_though_deeper_probes_were_sent() {
    let hops = vec![ScriptedHop::router(R1, 1), ScriptedHop::target(TARGET, 2)];
    let clock = SimClock::new();
    let mut network = SimNetwork::new(&clock, hops);
    let report = run_on(&request(Wait::default(), 1), &mut network, &clock);
    assert_eq!(report.walks[0].hops.len(), 2);
    assert!(report.reached);
    // -N 16 probes at once, three more when hop 1 answered at 1 ms, and
    // none once the target answered at 2 ms: the window holds deeper probes
    // than the path has, as traceroute -N does, but the walk stops there.
    assert_eq!(network.sent.len(), 19);
    assert_eq!(network.sent.iter().map(|(ttl, _)| *ttl).max(), Some(7));
    assert_eq!(report.hops.len(), 2);
}

#[test]
fn a_router_saying_unreachable_ends_the_walk_unreached() {
    let mut refusing = ScriptedHop::router(R2, 1);
    refusing.answer = Answer::Unreachable(UnreachableKind::Host);
    let hops = vec![ScriptedHop::router(R1, 1), refusing];
    let (report, _) = trace(&request(Wait::default(), 1), hops);
    let walk = &report.walks[0];
    assert_eq!(walk.hops.len(), 2);
    assert!(!walk.reached);
    assert_eq!(
        walk.hops[1].probes[0].answer,
        Some(Answer::Unreachable(UnreachableKind::Host))
    );
}

#[test]
fn duplicate_answers_count_once_with_the_first_copys_round_trip() {
    let mut doubled = ScriptedHop::target(TARGET, 2);
    doubled.copies = 3;
    let (report, _) = trace(&request(Wait::default(), 2), vec![doubled]);
    for walk in &report.walks {
        assert_eq!(walk.hops.len(), 1);
        assert_eq!(rtts(&walk.hops[0]), vec![Some(2.0); 3]);
    }
    let stats = &report.hops[0];
    assert_eq!((stats.sent, stats.received), (6, 6));
}

#[test]
fn a_stray_answer_for_no_probe_of_the_walk_is_ignored() {
    let hops = vec![ScriptedHop::router(R1, 5), ScriptedHop::target(TARGET, 5)];
    let clock = SimClock::new();
    let mut network = SimNetwork::new(&clock, hops);
    // An answer for an id this walk never used, arriving before any other.
    network.inject(
        Duration::from_millis(1),
        0xfff0,
        IpAddr::from(R2),
        Answer::Reached,
    );
    let report = run_on(&request(Wait::default(), 1), &mut network, &clock);
    assert_eq!(responders(&report.walks[0]), vec![three(R1), three(TARGET)]);
}

#[test]
fn a_hop_silent_in_every_round_reports_full_loss_and_no_responder() {
    let hops = silent_second_hop(2);
    let (report, _) = trace(&request(Wait::default(), 3), hops);
    let stats = &report.hops[1];
    assert_eq!((stats.sent, stats.received), (9, 0));
    assert_eq!(stats.loss_pct, 100.0);
    assert!(stats.responders.is_empty());
    assert_eq!(stats.avg_ms, None);
    assert_eq!(report.hops[2].loss_pct, 0.0);
}

#[test]
fn every_rounds_hops_are_observed_in_order_and_each_round_after_its_hops() {
    let clock = SimClock::new();
    let mut network = SimNetwork::new(&clock, silent_second_hop(1));
    let mut seen = Vec::new();
    let mut walks = Vec::new();
    let report = run_with(
        &request(only_max(50), 3),
        &mut network,
        &clock,
        &mut |event| {
            match event {
                Event::Hop { round, hop } => seen.push((round, Some(hop.ttl))),
                Event::Round { round, walk } => {
                    seen.push((round, None));
                    walks.push(walk.clone());
                }
            }
            Ok(())
        },
    )
    .unwrap();
    let expected: Vec<(u32, Option<u8>)> = (1..=3)
        .flat_map(|round| {
            [
                (round, Some(1)),
                (round, Some(2)),
                (round, Some(3)),
                (round, None),
            ]
        })
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(walks, report.walks, "each round's walk is the report's");
}
