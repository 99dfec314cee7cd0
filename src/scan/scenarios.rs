//! The engine in simulation: scripted hosts (`sim.rs`) on a [`SimClock`],
//! so minutes of probing and rate-limited targets run in milliseconds.

use std::sync::Arc;
use std::time::Duration;

use super::sim::{Port, SimHost, SimNetwork};
use super::*;
use crate::clock::{Clock, SimClock};

fn plan(method: Method, ports: impl IntoIterator<Item = u16>) -> Plan {
    let mut ports: Vec<u16> = ports.into_iter().collect();
    ports.sort_unstable();
    ports.dedup();
    Plan {
        method,
        ports: Arc::from(ports),
        retries: 2,
        timing: Timing::default(),
        rate: None,
        concurrency: 4096,
        exact: false,
        banner: false,
    }
}

fn targets(n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| Target {
            name: format!("10.0.0.{}", i + 2),
            address: IpAddr::from([10, 0, 0, i as u8 + 2]),
            scope_id: 0,
        })
        .collect()
}

fn scan(plan: &Plan, hosts: Vec<SimHost>) -> (Vec<HostReport>, SimNetwork, Duration) {
    let clock = SimClock::new();
    let mut network = SimNetwork::new(&clock, hosts.clone());
    let start = clock.now();
    let reports = run(
        plan,
        &targets(hosts.len()),
        &mut network,
        &clock,
        &mut |_| Ok(()),
    )
    .unwrap();
    (reports, network, clock.now() - start)
}

fn state_of(report: &HostReport, port: u16) -> (State, Reason) {
    let i = report.ports.binary_search(&port).unwrap();
    let slot = report.slots[i];
    assert!(slot.settled, "port {port} has no verdict");
    (slot.state, slot.reason)
}

fn host_with(rtt_us: u64, ports: &[(std::ops::RangeInclusive<u16>, Port)]) -> SimHost {
    let mut host = SimHost::new(Duration::from_micros(rtt_us));
    for (range, behaviour) in ports {
        for port in range.clone() {
            host.ports.insert(port, *behaviour);
        }
    }
    host
}

fn firewall() -> SimHost {
    host_with(
        200,
        &[
            (22..=22, Port::Answers(Reason::SynAck)),
            (80..=80, Port::Answers(Reason::SynAck)),
            (1000..=1099, Port::Silent),
            (2000..=2049, Port::Answers(Reason::PortUnreach)),
            (3000..=3019, Port::Answers(Reason::AdminProhibited)),
        ],
    )
}

#[test]
fn every_port_is_classified_as_its_script_says_connect_and_syn() {
    for method in [Method::Tcp, Method::Syn] {
        let plan = plan(method, 1..=4000);
        let (reports, _, _) = scan(&plan, vec![firewall()]);
        let report = &reports[0];
        assert_eq!(state_of(report, 22), (State::Open, Reason::SynAck));
        assert_eq!(state_of(report, 23), (State::Closed, Reason::Reset));
        assert_eq!(
            state_of(report, 1050),
            (State::Filtered, Reason::NoResponse)
        );
        let unreach = if method == Method::Syn {
            State::Filtered
        } else {
            State::Closed
        };
        assert_eq!(state_of(report, 2000), (unreach, Reason::PortUnreach));
        assert_eq!(
            state_of(report, 3005),
            (State::Filtered, Reason::AdminProhibited)
        );
        assert_eq!(report.counts.open, 2);
        assert_eq!(report.counts.unclassified, 0);
        assert!(
            !report.rate_limited,
            "no limiter, the canaries all came back"
        );
        assert!(report.slots.iter().all(|s| s.settled));
    }
}

#[test]
fn lost_probes_are_retried_and_the_answer_counts() {
    let mut host = firewall();
    host.lose_first.insert(22, 2);
    host.lose_first.insert(80, 3);
    let plan = plan(Method::Syn, [22, 80, 81]);
    let (reports, network, _) = scan(&plan, vec![host]);
    let report = &reports[0];
    assert_eq!(state_of(report, 22), (State::Open, Reason::SynAck));
    assert_eq!(report.slots[0].tries, 3);
    // Three losses exhaust two retries: nothing answered, and it says so.
    assert_eq!(state_of(report, 80), (State::Filtered, Reason::NoResponse));
    assert_eq!(network.sent.iter().filter(|s| s.2 == 80).count(), 3);
}

#[test]
fn a_fast_host_is_not_waited_on_for_seconds() {
    let host = host_with(100, &[(1..=100, Port::Silent)]);
    let plan = plan(Method::Syn, 1..=2000);
    let (reports, _, elapsed) = scan(&plan, vec![host]);
    assert_eq!(reports[0].counts.filtered, 100);
    // Three tries at the 50 ms minimum, not at the 1 s initial timeout.
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
}

#[test]
fn the_descriptor_limit_is_back_pressure_not_a_result() {
    let plan = plan(Method::Tcp, 1..=5000);
    let clock = SimClock::new();
    let mut network = SimNetwork::new(&clock, vec![firewall()]);
    network.fd_limit = Some(100);
    let reports = run(&plan, &targets(1), &mut network, &clock, &mut |_| Ok(())).unwrap();
    assert!(network.busy > 0, "the limit was reached");
    assert!(network.peak_open <= 100);
    let report = &reports[0];
    assert_eq!(report.counts.open, 2);
    assert_eq!(report.counts.closed, 5000 - 2 - 100 - 20);
    assert_eq!(report.counts.filtered, 120);
}

#[test]
fn rate_caps_packets_per_second() {
    let mut plan = plan(Method::Syn, 1..=500);
    plan.rate = Some(1000);
    let (reports, network, elapsed) = scan(&plan, vec![SimHost::new(Duration::from_micros(100))]);
    assert_eq!(reports[0].counts.closed, 500);
    assert!(elapsed >= Duration::from_millis(495), "{elapsed:?}");
    let times: Vec<_> = network.sent.iter().map(|s| s.0).collect();
    for (n, &t) in times.iter().enumerate() {
        let in_window = times[n..]
            .iter()
            .take_while(|&&u| u - t < Duration::from_millis(100))
            .count();
        assert!(in_window <= 106, "{in_window} probes within 100 ms");
    }
}

fn rate_limited_udp(closed: u16, silent: u16) -> SimHost {
    let mut host = host_with(
        300,
        &[
            (53..=53, Port::Answers(Reason::UdpResponse)),
            (5000..=5000 + silent - 1, Port::Silent),
        ],
    );
    host.default = Port::Answers(Reason::PortUnreach);
    host.icmp_limit = Some((Duration::from_secs(1), 6));
    let _ = closed;
    host
}

#[test]
fn rate_limited_closed_ports_are_unclassified_never_open_or_open_filtered() {
    let plan = plan(Method::Udp, (1..=200).chain(5000..5010));
    let (reports, _, elapsed) = scan(&plan, vec![rate_limited_udp(200, 10)]);
    let report = &reports[0];
    assert!(report.rate_limited);
    assert_eq!(report.counts.open, 1, "only the one that replied");
    assert_eq!(state_of(report, 53), (State::Open, Reason::UdpResponse));
    assert_eq!(report.counts.open_filtered, 0);
    assert_eq!(report.counts.filtered, 0);
    assert!(report.counts.closed >= 6, "the burst got through");
    assert_eq!(report.counts.closed + report.counts.unclassified + 1, 210);
    for slot in report
        .slots
        .iter()
        .filter(|s| s.state == State::Unclassified)
    {
        assert_eq!(slot.reason, Reason::IcmpRateLimited);
    }
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn exact_paces_to_the_measured_rate_and_classifies_every_port() {
    let mut plan = plan(Method::Udp, (1..=30).chain([53]).chain(5000..5005));
    plan.exact = true;
    let (reports, _, elapsed) = scan(&plan, vec![rate_limited_udp(30, 5)]);
    let report = &reports[0];
    assert!(report.rate_limited);
    assert_eq!(report.counts.unclassified, 0);
    assert_eq!(report.counts.closed, 30);
    assert_eq!(report.counts.open, 1);
    assert_eq!(report.counts.open_filtered, 5);
    let interval = report.icmp_interval.unwrap();
    assert!(
        interval >= Duration::from_millis(990) && interval <= Duration::from_millis(1030),
        "{interval:?}"
    );
    // 30 ICMP answers, 6 from the burst: 24 intervals is the physical bound.
    let bound = Duration::from_secs(24);
    assert!(
        elapsed <= bound.mul_f64(1.1) + Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[test]
fn icmp_rate_limited_connect_scan_reports_closed_or_unclassified() {
    let mut host = host_with(200, &[(22..=22, Port::Answers(Reason::SynAck))]);
    host.default = Port::Answers(Reason::PortUnreach);
    host.icmp_limit = Some((Duration::from_secs(1), 6));
    let plan = plan(Method::Tcp, 1..=300);
    let (reports, _, _) = scan(&plan, vec![host]);
    let report = &reports[0];
    assert!(report.rate_limited);
    assert_eq!(report.counts.open, 1);
    assert_eq!(
        report.counts.filtered, 0,
        "no rate-limited port called filtered"
    );
    assert_eq!(report.counts.closed + report.counts.unclassified, 299);
}

#[test]
fn many_hosts_are_scanned_side_by_side() {
    let hosts: Vec<SimHost> = (0..8).map(|_| firewall()).collect();
    let plan = plan(Method::Syn, 1..=100);
    let (reports, _, _) = scan(&plan, hosts);
    assert_eq!(reports.len(), 8);
    for report in &reports {
        assert_eq!(report.counts.open, 2);
        assert_eq!(report.counts.closed, 98);
    }
}

#[test]
fn exact_settles_a_dropped_range_in_a_few_batches_not_a_timeout_each() {
    let mut plan = plan(Method::Udp, (1..=30).chain(5000..6000));
    plan.exact = true;
    let (reports, _, elapsed) = scan(&plan, vec![rate_limited_udp(30, 1000)]);
    let report = &reports[0];
    assert_eq!(report.counts.unclassified, 0);
    assert_eq!(report.counts.closed, 30);
    assert_eq!(report.counts.open_filtered, 1000);
    // 24 intervals for the closed ports; the 1,000 silent ones add little.
    let bound = Duration::from_secs(24);
    assert!(
        elapsed <= bound.mul_f64(1.1) + Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[test]
fn exact_times_the_limiter_to_a_hundredth_and_ends_within_a_tenth_of_the_bound() {
    let mut plan = plan(Method::Udp, (101..=250).chain([53]).chain(5000..6000));
    plan.exact = true;
    let mut host = rate_limited_udp(150, 1000);
    host.icmp_limit = Some((Duration::from_millis(100), 6));
    let (reports, _, elapsed) = scan(&plan, vec![host]);
    let report = &reports[0];
    assert_eq!(report.counts.unclassified, 0);
    assert_eq!(report.counts.closed, 150);
    assert_eq!(report.counts.open_filtered, 1000);
    let interval = report.icmp_interval.unwrap();
    assert!(
        interval >= Duration::from_millis(100) && interval <= Duration::from_millis(101),
        "{interval:?}"
    );
    // 150 ICMP answers, 6 from the burst: 144 intervals.
    let bound = Duration::from_millis(100 * 144);
    assert!(
        elapsed <= bound.mul_f64(1.1),
        "{elapsed:?} against {bound:?}"
    );
}
