//! The arping engine against a scripted link and a simulated clock: the
//! stop rules, unicast after the first reply, duplicates, late replies
//! matched to their probe, and hostile frames — none of which a real
//! segment produces on demand.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use super::engine::{MAX_REPLIES_KEPT, run};
use super::{Mode, Report, Request};
use crate::clock::{Clock, SimClock};
use crate::net::packet::{Link, Received, next_scripted};
use crate::wire::arp::{ArpFrame, Mac, Op};

const ME: Mac = Mac([2, 0, 0, 0, 0, 1]);
const HOST_A: Mac = Mac([2, 0, 0, 0, 0, 0xa]);
const HOST_B: Mac = Mac([2, 0, 0, 0, 0, 0xb]);
const SOURCE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const TARGET: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

/// A segment where each responder answers requests for TARGET after its delay.
struct Segment {
    clock: SimClock,
    responders: Vec<(Mac, Duration)>,
    pending: Vec<(Instant, Vec<u8>)>,
    sent: Vec<ArpFrame>,
}

impl Segment {
    fn new(clock: &SimClock, responders: &[(Mac, Duration)]) -> Segment {
        Segment {
            clock: clock.clone(),
            responders: responders.to_vec(),
            pending: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn deliver(&mut self, after: Duration, bytes: Vec<u8>) {
        self.pending.push((self.clock.now() + after, bytes));
    }
}

impl Link for Segment {
    fn send(&mut self, frame: &[u8]) -> std::io::Result<SystemTime> {
        let arp = ArpFrame::parse(frame).expect("the engine sends valid ARP");
        self.sent.push(arp);
        if arp.op == Op::Request && arp.target_ip == TARGET && arp.sender_ip != TARGET {
            for (mac, delay) in self.responders.clone() {
                if arp.eth_destination != Mac::BROADCAST && arp.eth_destination != mac {
                    continue;
                }
                let reply = ArpFrame {
                    eth_destination: arp.eth_source,
                    eth_source: mac,
                    op: Op::Reply,
                    sender_mac: mac,
                    sender_ip: TARGET,
                    target_mac: arp.sender_mac,
                    target_ip: arp.sender_ip,
                };
                self.deliver(delay, reply.emit().to_vec());
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

fn request(mode: Mode, count: Option<u64>, deadline: Option<Duration>) -> Request {
    Request {
        target: TARGET,
        source: if mode == Mode::Dad {
            Ipv4Addr::UNSPECIFIED
        } else {
            SOURCE
        },
        mac: ME,
        interface: "sim0".into(),
        mode,
        count,
        deadline,
        interval: Duration::from_secs(1),
        wait: Duration::from_secs(1),
        broadcast_only: false,
        quit_on_reply: false,
    }
}

fn arping(request: &Request, responders: &[(Mac, Duration)]) -> (Report, Segment, Duration) {
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, responders);
    let report =
        run(request, &mut segment, &clock, &mut |_| Ok(())).expect("the scripted link never fails");
    (report, segment, clock.elapsed())
}

const FAST: Duration = Duration::from_micros(50);

#[test]
fn three_probes_are_timed_to_the_microsecond_and_go_unicast_after_the_first_reply() {
    let request = request(Mode::Probe, Some(3), None);
    let (report, segment, elapsed) = arping(&request, &[(HOST_A, FAST)]);
    assert_eq!((report.sent, report.received, report.broadcasts), (3, 3, 1));
    assert!(report.success(&request));
    assert_eq!(segment.sent[0].eth_destination, Mac::BROADCAST);
    assert_eq!(segment.sent[1].eth_destination, HOST_A);
    assert_eq!(segment.sent[0].target_mac, Mac::ZERO);
    for reply in &report.replies {
        assert_eq!(reply.rtt_ms, Some(0.05));
        assert_eq!(reply.mac, HOST_A);
        assert!(!reply.broadcast);
    }
    assert_eq!(
        report.replies.iter().map(|r| r.probe).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(!report.duplicate);
    // Two intervals between three probes, then the last one's wait.
    assert_eq!(elapsed, Duration::from_secs(3));
}

#[test]
fn dash_b_keeps_broadcasting() {
    let mut request = request(Mode::Probe, Some(3), None);
    request.broadcast_only = true;
    let (report, segment, _) = arping(&request, &[(HOST_A, FAST)]);
    assert_eq!(report.broadcasts, 3);
    assert!(
        segment
            .sent
            .iter()
            .all(|f| f.eth_destination == Mac::BROADCAST)
    );
}

#[test]
fn silence_is_a_negative_answer_and_a_deadline_ends_the_run_on_time() {
    let request = request(Mode::Probe, Some(2), Some(Duration::from_millis(1500)));
    let (report, _, elapsed) = arping(&request, &[]);
    assert_eq!((report.sent, report.received), (2, 0));
    assert!(!report.success(&request));
    assert_eq!(elapsed, Duration::from_millis(1500));
    assert_eq!(report.rtt_ms, None);
}

#[test]
fn with_a_deadline_the_count_is_of_replies_and_ends_the_run_when_met() {
    let request = request(Mode::Probe, Some(2), Some(Duration::from_secs(10)));
    let (report, _, elapsed) = arping(&request, &[(HOST_A, FAST)]);
    assert_eq!((report.sent, report.received), (2, 2));
    assert!(report.success(&request));
    assert_eq!(elapsed, Duration::from_secs(1) + FAST);
}

#[test]
fn two_macs_answering_for_one_address_are_a_duplicate() {
    let mut request = request(Mode::Probe, Some(2), None);
    request.broadcast_only = true;
    let (report, _, _) = arping(&request, &[(HOST_A, FAST), (HOST_B, FAST * 3)]);
    assert_eq!(report.received, 4);
    assert!(report.duplicate);
    let macs: Vec<(Mac, u64)> = report
        .responders
        .iter()
        .map(|r| (r.mac, r.replies))
        .collect();
    assert_eq!(macs, [(HOST_A, 2), (HOST_B, 2)]);
}

#[test]
fn dad_exits_at_the_first_claim_and_names_who_holds_the_address() {
    let request = request(Mode::Dad, Some(3), None);
    let (report, segment, _) = arping(&request, &[(HOST_B, FAST)]);
    assert_eq!(segment.sent[0].sender_ip, Ipv4Addr::UNSPECIFIED);
    assert_eq!((report.sent, report.received), (1, 1));
    assert_eq!(report.responders[0].mac, HOST_B);
    assert!(!report.success(&request), "taken: DAD fails");
    let (free, _, _) = arping(&request, &[]);
    assert_eq!((free.sent, free.received), (3, 0));
    assert!(free.success(&request), "free: DAD succeeds");
}

#[test]
fn dad_counts_another_hosts_probe_for_the_same_address_as_a_claim() {
    let request = request(Mode::Dad, Some(2), None);
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, &[]);
    let rival = ArpFrame::request(HOST_B, Ipv4Addr::UNSPECIFIED, TARGET);
    segment.deliver(Duration::from_millis(300), rival.emit().to_vec());
    let report = run(&request, &mut segment, &clock, &mut |_| Ok(()))
        .expect("the scripted link never fails");
    assert_eq!(report.received, 1);
    assert!(report.replies[0].request);
    assert!(!report.success(&request));
}

#[test]
fn a_late_reply_is_timed_against_the_probe_it_answers() {
    let request = request(Mode::Probe, Some(3), None);
    let late = Duration::from_millis(1500);
    let (report, _, _) = arping(&request, &[(HOST_A, late)]);
    // The first reply comes after the second probe left: it answers the second.
    let first = &report.replies[0];
    assert_eq!(first.probe, 2);
    assert_eq!(first.rtt_ms, Some(500.0));
}

#[test]
fn malformed_foreign_and_own_frames_are_ignored_and_counted() {
    let request = request(Mode::Probe, Some(1), None);
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, &[]);
    let good = ArpFrame {
        eth_destination: ME,
        eth_source: HOST_A,
        op: Op::Reply,
        sender_mac: HOST_A,
        sender_ip: TARGET,
        target_mac: ME,
        target_ip: SOURCE,
    };
    let mut wrong_target = good;
    wrong_target.sender_ip = Ipv4Addr::new(10, 0, 0, 99);
    let mut not_for_us = good;
    not_for_us.target_ip = Ipv4Addr::new(10, 0, 0, 98);
    let mut own = good;
    own.sender_mac = ME;
    let mut noise = vec![
        Vec::new(),
        vec![0xff; 5],
        good.emit()[..30].to_vec(),
        vec![0u8; 1500],
    ];
    noise.extend([wrong_target, not_for_us, own].map(|f| f.emit().to_vec()));
    for (i, bytes) in noise.into_iter().enumerate() {
        segment.deliver(Duration::from_millis(10 * (i as u64 + 1)), bytes);
    }
    segment.deliver(Duration::from_millis(200), good.emit().to_vec());
    let report = run(&request, &mut segment, &clock, &mut |_| Ok(()))
        .expect("the scripted link never fails");
    assert_eq!(report.ignored, 7);
    assert_eq!(report.received, 1);
    assert_eq!(report.replies[0].rtt_ms, Some(200.0));
}

#[test]
fn announcements_carry_the_address_as_sender_and_target_and_expect_nothing() {
    for (mode, op) in [
        (Mode::AnnounceRequest, Op::Request),
        (Mode::AnnounceReply, Op::Reply),
    ] {
        let mut request = request(mode, Some(2), None);
        request.source = TARGET;
        let (report, segment, _) = arping(&request, &[(HOST_A, FAST)]);
        assert_eq!(report.sent, 2);
        assert!(report.success(&request));
        for frame in &segment.sent {
            assert_eq!(
                (frame.op, frame.sender_ip, frame.target_ip),
                (op, TARGET, TARGET)
            );
            assert_eq!(frame.eth_destination, Mac::BROADCAST);
        }
    }
}

#[test]
fn memory_stays_bounded_however_many_replies_come() {
    let mut request = request(Mode::Probe, Some(3000), None);
    request.interval = Duration::from_millis(1);
    request.broadcast_only = true;
    let (report, _, _) = arping(&request, &[(HOST_A, FAST)]);
    assert_eq!(report.received, 3000);
    assert_eq!(report.replies.len(), MAX_REPLIES_KEPT);
    assert_eq!(report.replies_omitted, 3000 - MAX_REPLIES_KEPT as u64);
}
