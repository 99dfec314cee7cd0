//! The scan engine on a scripted segment with a simulated clock: pacing,
//! retries for the silent and the lossy, duplicates and shared MACs, and
//! frames that are not answers.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use super::*;
use crate::clock::SimClock;
use crate::net::packet::next_scripted;

const ME: Mac = Mac([2, 0, 0, 0, 0, 1]);
const SOURCE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const ECHO_ID: u16 = 0x4e58;

fn mac(n: u8) -> Mac {
    Mac([2, 0, 0, 0, 1, n])
}

/// Who answers for which address, after how long, and how many requests
/// each answerer ignores first (a lossy host); on IPv6, who answers the
/// all-nodes echo, and from which address.
struct Segment {
    clock: SimClock,
    answerers: Vec<(IpAddr, Mac, Duration)>,
    echoers: Vec<(Ipv6Addr, Mac, Duration)>,
    deaf_for: HashMap<IpAddr, u32>,
    pending: Vec<(Instant, Vec<u8>)>,
    /// When each request left and what it asked (ff02::1: the echo).
    sent: Vec<(Duration, IpAddr)>,
}

impl Segment {
    fn new(clock: &SimClock, answerers: &[(Ipv4Addr, Mac, Duration)]) -> Segment {
        let answerers = answerers
            .iter()
            .map(|(a, m, d)| (IpAddr::V4(*a), *m, *d))
            .collect();
        Segment::with(clock, answerers, Vec::new())
    }

    fn with(
        clock: &SimClock,
        answerers: Vec<(IpAddr, Mac, Duration)>,
        echoers: Vec<(Ipv6Addr, Mac, Duration)>,
    ) -> Segment {
        Segment {
            clock: clock.clone(),
            answerers,
            echoers,
            deaf_for: HashMap::new(),
            pending: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// What `frame` asks, and the answer each answerer sends.
    fn answers(&self, frame: &[u8]) -> (IpAddr, Vec<(Duration, Vec<u8>)>) {
        if let Ok(arp) = ArpFrame::parse(frame) {
            let replies = self
                .answerers
                .iter()
                .filter(|(address, _, _)| *address == IpAddr::V4(arp.target_ip))
                .map(|(address, mac, delay)| {
                    let IpAddr::V4(address) = *address else {
                        unreachable!()
                    };
                    let reply = ArpFrame {
                        eth_destination: arp.eth_source,
                        eth_source: *mac,
                        op: Op::Reply,
                        sender_mac: *mac,
                        sender_ip: address,
                        target_mac: arp.sender_mac,
                        target_ip: arp.sender_ip,
                    };
                    (*delay, reply.emit().to_vec())
                })
                .collect();
            return (IpAddr::V4(arp.target_ip), replies);
        }
        match ndp::asked(frame) {
            Some(target) => {
                let replies = self
                    .answerers
                    .iter()
                    .filter(|(address, _, _)| *address == IpAddr::V6(target))
                    .map(|(_, mac, delay)| {
                        let router = mac.0[5] == 0xee;
                        (
                            *delay,
                            ndp::advertisement(*mac, ME, target, LINK_LOCAL, router, Some(*mac)),
                        )
                    })
                    .collect();
                (IpAddr::V6(target), replies)
            }
            None => {
                let replies = self
                    .echoers
                    .iter()
                    .map(|(from, mac, delay)| {
                        (
                            *delay,
                            ndp::echo_reply(*mac, ME, *from, LINK_LOCAL, ECHO_ID),
                        )
                    })
                    .collect();
                (IpAddr::V6(ndp::ALL_NODES), replies)
            }
        }
    }
}

impl Link for Segment {
    fn send(&mut self, frame: &[u8]) -> std::io::Result<SystemTime> {
        let (asked, replies) = self.answers(frame);
        self.sent.push((self.clock.elapsed(), asked));
        if let Some(left) = self.deaf_for.get_mut(&asked)
            && *left > 0
        {
            *left -= 1;
            return Ok(self.clock.wall());
        }
        for (delay, reply) in replies {
            self.pending.push((self.clock.now() + delay, reply));
        }
        Ok(self.clock.wall())
    }

    fn recv_until(&mut self, deadline: Instant) -> std::io::Result<Option<Received>> {
        Ok(next_scripted(&mut self.pending, &self.clock, deadline))
    }

    fn stopped(&mut self) -> bool {
        false
    }
}

fn targets(count: u8) -> Vec<IpAddr> {
    (1..=count)
        .map(|n| IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)))
        .collect()
}

fn request(count: u8) -> ScanRequest {
    ScanRequest {
        targets: targets(count),
        protocol: Protocol::Arp { source: SOURCE },
        mac: ME,
        rate: 100.0,
        retries: 1,
        timeout: Duration::from_millis(200),
    }
}

fn scan(request: &ScanRequest, segment: &mut Segment, clock: &SimClock) -> ScanOutcome {
    run(request, segment, clock, &mut |_| Ok(())).expect("the scripted link never fails")
}

const FAST: Duration = Duration::from_micros(80);

#[test]
fn every_address_is_asked_at_the_rate_and_the_silent_once_more() {
    let clock = SimClock::new();
    let answer = [(Ipv4Addr::new(10, 0, 0, 3), mac(3), FAST)];
    let mut segment = Segment::new(&clock, &answer);
    let outcome = scan(&request(10), &mut segment, &clock);
    // Ten first requests, nine retries (10.0.0.3 answered).
    assert_eq!(outcome.sent, 19);
    assert_eq!(outcome.hosts.len(), 1);
    assert_eq!(outcome.hosts[0].rtt_ms, Some(0.08));
    // Never faster than the rate: 10 ms between any two requests.
    for pair in segment.sent.windows(2) {
        assert!(
            pair[1].0 - pair[0].0 >= Duration::from_millis(10),
            "{pair:?}"
        );
    }
    // A retry goes out no sooner than the timeout after its first request.
    let first = segment
        .sent
        .iter()
        .find(|(_, a)| *a == IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        .unwrap()
        .0;
    let again = segment
        .sent
        .iter()
        .rev()
        .find(|(_, a)| *a == IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        .unwrap()
        .0;
    assert!(again - first >= Duration::from_millis(200));
    // The scan ends one timeout after the last request.
    assert_eq!(
        outcome.elapsed,
        segment.sent.last().unwrap().0 + Duration::from_millis(200)
    );
}

#[test]
fn a_host_that_misses_its_first_request_is_found_by_the_retry() {
    let clock = SimClock::new();
    let lossy = Ipv4Addr::new(10, 0, 0, 2);
    let mut segment = Segment::new(&clock, &[(lossy, mac(2), FAST)]);
    segment.deaf_for.insert(IpAddr::V4(lossy), 1);
    let outcome = scan(&request(4), &mut segment, &clock);
    assert_eq!(
        outcome.hosts.iter().map(|h| h.address).collect::<Vec<_>>(),
        [IpAddr::V4(lossy)]
    );
    // Its round trip is from the request it answered, not the first.
    assert_eq!(outcome.hosts[0].rtt_ms, Some(0.08));
    let mut without_retries = request(4);
    without_retries.retries = 0;
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, &[(lossy, mac(2), FAST)]);
    segment.deaf_for.insert(IpAddr::V4(lossy), 1);
    assert!(
        scan(&without_retries, &mut segment, &clock)
            .hosts
            .is_empty()
    );
}

#[test]
fn two_macs_for_one_address_and_one_mac_for_many_are_flagged() {
    let clock = SimClock::new();
    let shared = Ipv4Addr::new(10, 0, 0, 5);
    let answerers = [
        (shared, mac(5), FAST),
        (shared, mac(6), FAST * 2),
        (Ipv4Addr::new(10, 0, 0, 7), mac(9), FAST),
        (Ipv4Addr::new(10, 0, 0, 8), mac(9), FAST),
        (Ipv4Addr::new(10, 0, 0, 9), mac(10), FAST),
    ];
    let mut segment = Segment::new(&clock, &answerers);
    let outcome = scan(&request(10), &mut segment, &clock);
    let flags: Vec<(u8, String, bool, bool)> = outcome
        .hosts
        .iter()
        .map(|h| {
            let IpAddr::V4(address) = h.address else {
                panic!("{h:?}")
            };
            (
                address.octets()[3],
                h.mac.clone(),
                h.duplicate,
                h.shared_mac,
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            (5, mac(5).to_string(), true, false),
            (5, mac(6).to_string(), true, false),
            (7, mac(9).to_string(), false, true),
            (8, mac(9).to_string(), false, true),
            (9, mac(10).to_string(), false, false),
        ]
    );
}

#[test]
fn repeated_foreign_and_malformed_frames_are_counted_not_reported() {
    let clock = SimClock::new();
    let host = Ipv4Addr::new(10, 0, 0, 2);
    let mut segment = Segment::new(&clock, &[(host, mac(2), FAST)]);
    let stray = ArpFrame {
        eth_destination: ME,
        eth_source: mac(7),
        op: Op::Reply,
        sender_mac: mac(7),
        sender_ip: Ipv4Addr::new(192, 168, 1, 1),
        target_mac: ME,
        target_ip: SOURCE,
    };
    let mut not_to_us = stray;
    not_to_us.sender_ip = host;
    not_to_us.target_ip = Ipv4Addr::new(10, 0, 0, 99);
    let request_frame = ArpFrame::request(mac(8), Ipv4Addr::new(10, 0, 0, 8), SOURCE);
    let now = clock.now();
    for (i, bytes) in [
        vec![1, 2, 3],
        stray.emit().to_vec(),
        not_to_us.emit().to_vec(),
        request_frame.emit().to_vec(),
    ]
    .into_iter()
    .enumerate()
    {
        segment
            .pending
            .push((now + Duration::from_millis(i as u64 + 1), bytes));
    }
    let mut request = request(3);
    request.retries = 2;
    let outcome = scan(&request, &mut segment, &clock);
    assert_eq!(outcome.hosts.len(), 1);
    assert_eq!(outcome.ignored, 4);
    // The host answered its first request only: no retry was sent to it.
    assert_eq!(
        segment
            .sent
            .iter()
            .filter(|(_, a)| *a == IpAddr::V4(host))
            .count(),
        1
    );
}

fn v6(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfd14, 0, 0, 0, 0, 0, 0, last)
}

fn ndp_request(count: u16) -> ScanRequest {
    ScanRequest {
        targets: (1..=count).map(|n| IpAddr::V6(v6(n))).collect(),
        protocol: Protocol::Ndp {
            source: LINK_LOCAL,
            echo_id: ECHO_ID,
        },
        mac: ME,
        rate: 100.0,
        retries: 1,
        timeout: Duration::from_millis(200),
    }
}

#[test]
fn ipv6_asks_all_nodes_first_then_each_target_and_finds_both_kinds_of_host() {
    let clock = SimClock::new();
    let other = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x99);
    let mut segment = Segment::with(
        &clock,
        vec![
            (IpAddr::V6(v6(2)), mac(2), FAST),
            (IpAddr::V6(v6(3)), mac(0xee), FAST),
        ],
        vec![(other, mac(9), FAST * 3)],
    );
    let outcome = scan(&ndp_request(4), &mut segment, &clock);
    // The echo goes first, and is repeated like a silent target.
    assert_eq!(segment.sent[0].1, IpAddr::V6(ndp::ALL_NODES));
    let echoes = segment
        .sent
        .iter()
        .filter(|(_, a)| *a == IpAddr::V6(ndp::ALL_NODES))
        .count();
    assert_eq!(echoes, 2);
    // 1 echo + 4 solicitations, then the echo and the two silent again.
    assert_eq!(outcome.sent, 8);
    let found: Vec<(IpAddr, Via, bool, Option<f64>)> = outcome
        .hosts
        .iter()
        .map(|h| {
            let micros = h.rtt_ms.map(|ms| (ms * 1000.0).round());
            (h.address, h.found_by, h.router, micros)
        })
        .collect();
    assert_eq!(
        found,
        [
            (IpAddr::V6(v6(2)), Via::Solicitation, false, Some(80.0)),
            (IpAddr::V6(v6(3)), Via::Solicitation, true, Some(80.0)),
            (IpAddr::V6(other), Via::AllNodesEcho, false, Some(240.0)),
        ]
    );
    // The second echo's answer is a repeat, not a second host.
    assert_eq!(outcome.repeated, 1);
}

#[test]
fn ipv6_a_hosts_link_local_answer_does_not_make_its_mac_shared_but_two_targets_do() {
    let clock = SimClock::new();
    let link_local = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    let mut segment = Segment::with(
        &clock,
        vec![
            (IpAddr::V6(v6(2)), mac(2), FAST),
            (IpAddr::V6(v6(5)), mac(5), FAST),
            (IpAddr::V6(v6(6)), mac(5), FAST),
            (IpAddr::V6(v6(7)), mac(7), FAST),
            (IpAddr::V6(v6(7)), mac(8), FAST),
        ],
        vec![(link_local, mac(2), FAST)],
    );
    let outcome = scan(&ndp_request(8), &mut segment, &clock);
    let flags: Vec<(IpAddr, Mac, bool, bool)> = outcome
        .hosts
        .iter()
        .map(|h| (h.address, h.mac.parse().unwrap(), h.duplicate, h.shared_mac))
        .collect();
    assert_eq!(
        flags,
        [
            (IpAddr::V6(v6(2)), mac(2), false, false),
            (IpAddr::V6(v6(5)), mac(5), false, true),
            (IpAddr::V6(v6(6)), mac(5), false, true),
            (IpAddr::V6(v6(7)), mac(7), true, false),
            (IpAddr::V6(v6(7)), mac(8), true, false),
            (IpAddr::V6(link_local), mac(2), false, false),
        ]
    );
}

#[test]
fn ipv6_answers_to_someone_else_or_with_another_echo_id_are_ignored() {
    let clock = SimClock::new();
    let mut segment = Segment::with(&clock, Vec::new(), Vec::new());
    let elsewhere = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x77);
    let now = clock.now();
    for (i, bytes) in [
        ndp::advertisement(mac(2), ME, v6(2), elsewhere, false, Some(mac(2))),
        ndp::echo_reply(mac(3), ME, elsewhere, LINK_LOCAL, ECHO_ID ^ 1),
        // Our own MAC answering: a looped-back frame, not a host.
        ndp::advertisement(ME, ME, v6(3), LINK_LOCAL, false, Some(ME)),
        // An advertisement for an address not asked.
        ndp::advertisement(mac(4), ME, v6(200), LINK_LOCAL, false, Some(mac(4))),
        vec![0; 80],
    ]
    .into_iter()
    .enumerate()
    {
        segment
            .pending
            .push((now + Duration::from_millis(i as u64 + 1), bytes));
    }
    let outcome = scan(&ndp_request(4), &mut segment, &clock);
    assert!(outcome.hosts.is_empty(), "{:?}", outcome.hosts);
    assert_eq!(outcome.ignored, 5);
}

#[test]
fn echo_replies_from_endless_addresses_keep_memory_bounded() {
    let clock = SimClock::new();
    let echoers = (0..MAX_OTHERS as u32 + 500)
        .map(|n| {
            let address = Ipv6Addr::from((0xfe80u128 << 112) | (u128::from(n) + 1));
            (address, mac((n % 200) as u8), FAST)
        })
        .collect();
    let mut segment = Segment::with(&clock, Vec::new(), echoers);
    let mut request = ndp_request(1);
    request.retries = 0;
    let outcome = scan(&request, &mut segment, &clock);
    assert_eq!(outcome.hosts.len(), MAX_OTHERS);
    assert_eq!(outcome.ignored, 500);
}
