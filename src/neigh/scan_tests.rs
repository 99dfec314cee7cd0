//! The scan engine on a scripted segment with a simulated clock: pacing,
//! retries for the silent and the lossy, duplicates and shared MACs, and
//! frames that are not answers.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use super::*;
use crate::clock::SimClock;
use crate::net::packet::next_scripted;

const ME: Mac = Mac([2, 0, 0, 0, 0, 1]);
const SOURCE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn mac(n: u8) -> Mac {
    Mac([2, 0, 0, 0, 1, n])
}

/// Who answers for which address, after how long, and how many requests
/// each answerer ignores first (a lossy host).
struct Segment {
    clock: SimClock,
    answerers: Vec<(Ipv4Addr, Mac, Duration)>,
    deaf_for: HashMap<Ipv4Addr, u32>,
    pending: Vec<(Instant, Vec<u8>)>,
    sent: Vec<(Duration, Ipv4Addr)>,
}

impl Segment {
    fn new(clock: &SimClock, answerers: &[(Ipv4Addr, Mac, Duration)]) -> Segment {
        Segment {
            clock: clock.clone(),
            answerers: answerers.to_vec(),
            deaf_for: HashMap::new(),
            pending: Vec::new(),
            sent: Vec::new(),
        }
    }
}

impl Link for Segment {
    fn send(&mut self, frame: &[u8]) -> std::io::Result<SystemTime> {
        let arp = ArpFrame::parse(frame).expect("the engine sends valid ARP");
        self.sent.push((self.clock.elapsed(), arp.target_ip));
        if let Some(left) = self.deaf_for.get_mut(&arp.target_ip)
            && *left > 0
        {
            *left -= 1;
            return Ok(self.clock.wall());
        }
        for (address, mac, delay) in self.answerers.clone() {
            if address == arp.target_ip {
                let reply = ArpFrame {
                    eth_destination: arp.eth_source,
                    eth_source: mac,
                    op: Op::Reply,
                    sender_mac: mac,
                    sender_ip: address,
                    target_mac: arp.sender_mac,
                    target_ip: arp.sender_ip,
                };
                self.pending
                    .push((self.clock.now() + delay, reply.emit().to_vec()));
            }
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

fn targets(count: u8) -> Vec<Ipv4Addr> {
    (1..=count).map(|n| Ipv4Addr::new(10, 0, 0, n)).collect()
}

fn request(count: u8) -> ScanRequest {
    ScanRequest {
        targets: targets(count),
        source: SOURCE,
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
        .find(|(_, a)| *a == Ipv4Addr::new(10, 0, 0, 1))
        .unwrap()
        .0;
    let again = segment
        .sent
        .iter()
        .rev()
        .find(|(_, a)| *a == Ipv4Addr::new(10, 0, 0, 1))
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
    segment.deaf_for.insert(lossy, 1);
    let outcome = scan(&request(4), &mut segment, &clock);
    assert_eq!(
        outcome.hosts.iter().map(|h| h.address).collect::<Vec<_>>(),
        [lossy]
    );
    // Its round trip is from the request it answered, not the first.
    assert_eq!(outcome.hosts[0].rtt_ms, Some(0.08));
    let mut without_retries = request(4);
    without_retries.retries = 0;
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, &[(lossy, mac(2), FAST)]);
    segment.deaf_for.insert(lossy, 1);
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
            (
                h.address.octets()[3],
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
    assert_eq!(segment.sent.iter().filter(|(_, a)| *a == host).count(), 1);
}
