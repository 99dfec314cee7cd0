//! The arping loop: a probe every interval, every frame read checked and
//! matched, round trips from kernel receive times, and the stop rules of
//! iputils arping (-c, -w, -f, -D) made explicit.
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant, SystemTime};

use super::{Mode, Reply, Report, Request, Responder};
use crate::clock::Clock;
use crate::net::packet::{Link, Received, RunError};
use crate::rtt::Rtt;
use crate::wire::arp::{ArpFrame, Mac, Op};

/// Replies kept for the report; the rest are counted.
pub const MAX_REPLIES_KEPT: usize = 1000;
/// Distinct MACs kept for the report.
pub const MAX_RESPONDERS: usize = 64;
/// Send times kept for matching late replies to their probe.
const SENDS_KEPT: usize = 16;

/// Runs the probes `request` describes; `on_reply` sees each reply as it
/// is matched (for live output).
pub fn run<L: Link, C: Clock>(
    request: &Request,
    link: &mut L,
    clock: &C,
    on_reply: &mut dyn FnMut(&Reply) -> io::Result<()>,
) -> Result<Report, RunError> {
    let started = clock.now();
    let end = request.deadline.map(|d| started + d);
    let mut run = Run::new(request);
    let mut next_send = started;
    let mut last_send: Option<Instant> = None;
    loop {
        if link.stopped() {
            break;
        }
        let now = clock.now();
        if end.is_some_and(|end| now >= end) || run.done(request) {
            break;
        }
        let may_send = request.count.is_none_or(|count| run.sent < count);
        if !may_send && end.is_none() {
            // The last probe has had its wait.
            if last_send.is_some_and(|at| now >= at + request.wait) {
                break;
            }
        }
        if may_send && now >= next_send {
            let frame = run.next_frame(request);
            let at = link.send(&frame.emit()).map_err(RunError::Link)?;
            run.sent(frame.eth_destination == Mac::BROADCAST, at);
            last_send = Some(now);
            next_send += request.interval;
            if next_send < now {
                next_send = now + request.interval;
            }
            continue;
        }
        let mut wake = end.unwrap_or(now + Duration::from_secs(3600));
        if request.count.is_none_or(|count| run.sent < count) {
            wake = wake.min(next_send);
        } else if end.is_none()
            && let Some(at) = last_send
        {
            wake = wake.min(at + request.wait);
        }
        if let Some(frame) = link.recv_until(wake).map_err(RunError::Link)? {
            let read_at = clock.wall();
            if let Some(reply) = run.take(request, &frame, read_at) {
                on_reply(&reply).map_err(RunError::Output)?;
                run.keep(reply);
            }
        }
    }
    Ok(run.report(request, clock.now().saturating_duration_since(started)))
}

/// The state of one run.
struct Run {
    sent: u64,
    broadcasts: u64,
    received: u64,
    sends: VecDeque<(SystemTime, u64)>,
    unicast_to: Option<Mac>,
    replies: Vec<Reply>,
    replies_omitted: u64,
    responders: Vec<Responder>,
    macs_seen: Vec<Mac>,
    rtt: Rtt,
    ignored: u64,
}

impl Run {
    fn new(_request: &Request) -> Run {
        Run {
            sent: 0,
            broadcasts: 0,
            received: 0,
            sends: VecDeque::with_capacity(SENDS_KEPT),
            unicast_to: None,
            replies: Vec::new(),
            replies_omitted: 0,
            responders: Vec::new(),
            macs_seen: Vec::new(),
            rtt: Rtt::default(),
            ignored: 0,
        }
    }

    /// Whether a stop rule other than time has been met.
    fn done(&self, request: &Request) -> bool {
        if self.received > 0 && (request.quit_on_reply || request.mode == Mode::Dad) {
            return true;
        }
        // With a deadline, -c counts replies.
        request.deadline.is_some()
            && request.mode == Mode::Probe
            && request.count.is_some_and(|count| self.received >= count)
    }

    fn next_frame(&self, request: &Request) -> ArpFrame {
        match request.mode {
            Mode::Probe | Mode::Dad => {
                let mut frame = ArpFrame::request(request.mac, request.source, request.target);
                if let Some(mac) = self.unicast_to {
                    frame.eth_destination = mac;
                    frame.target_mac = mac;
                }
                frame
            }
            Mode::AnnounceRequest => ArpFrame::request(request.mac, request.target, request.target),
            Mode::AnnounceReply => ArpFrame {
                op: Op::Reply,
                target_mac: request.mac,
                ..ArpFrame::request(request.mac, request.target, request.target)
            },
        }
    }

    fn sent(&mut self, broadcast: bool, at: SystemTime) {
        self.sent += 1;
        if broadcast {
            self.broadcasts += 1;
        }
        if self.sends.len() == SENDS_KEPT {
            self.sends.pop_front();
        }
        self.sends.push_back((at, self.sent));
    }

    /// The frame as a reply to our probes, or `None` (counted as ignored).
    fn take(&mut self, request: &Request, frame: &Received, read_at: SystemTime) -> Option<Reply> {
        let Ok(arp) = ArpFrame::parse(&frame.bytes) else {
            self.ignored += 1;
            return None;
        };
        let ours = arp.sender_mac == request.mac;
        let claims = match request.mode {
            Mode::Probe => {
                arp.op == Op::Reply
                    && arp.sender_ip == request.target
                    && arp.target_ip == request.source
            }
            // RFC 5227 2.1.1: any packet from the address, or another
            // host's probe for it, means it is not ours to take.
            Mode::Dad => {
                !ours
                    && (arp.sender_ip == request.target
                        || (arp.op == Op::Request
                            && arp.sender_ip.is_unspecified()
                            && arp.target_ip == request.target))
            }
            Mode::AnnounceRequest | Mode::AnnounceReply => false,
        };
        if !claims || ours {
            self.ignored += 1;
            return None;
        }
        let at = frame.at.unwrap_or(read_at);
        let answered = self
            .sends
            .iter()
            .rev()
            .find(|(sent, _)| *sent <= at)
            .copied();
        let rtt = answered.and_then(|(sent, _)| at.duration_since(sent).ok());
        if let Some(rtt) = rtt {
            self.rtt.add(rtt);
        }
        if request.mode == Mode::Probe && !request.broadcast_only {
            self.unicast_to.get_or_insert(arp.sender_mac);
        }
        Some(Reply {
            address: arp.sender_ip,
            mac: arp.sender_mac,
            broadcast: arp.eth_destination == Mac::BROADCAST,
            request: arp.op == Op::Request,
            rtt_ms: rtt.map(|d| d.as_secs_f64() * 1000.0),
            probe: answered.map_or(0, |(_, probe)| probe),
        })
    }

    fn keep(&mut self, reply: Reply) {
        self.received += 1;
        if let Some(responder) = self.responders.iter_mut().find(|r| r.mac == reply.mac) {
            responder.replies += 1;
        } else if !self.macs_seen.contains(&reply.mac) {
            self.macs_seen.push(reply.mac);
            if self.responders.len() < MAX_RESPONDERS {
                self.responders.push(Responder {
                    mac: reply.mac,
                    replies: 1,
                });
            }
            if self.macs_seen.len() > MAX_RESPONDERS {
                // Only the count matters beyond the kept ones.
                self.macs_seen.truncate(MAX_RESPONDERS + 1);
            }
        }
        if self.replies.len() < MAX_REPLIES_KEPT {
            self.replies.push(reply);
        } else {
            self.replies_omitted += 1;
        }
    }

    fn report(self, request: &Request, elapsed: Duration) -> Report {
        Report {
            target: request.target,
            source: request.source,
            interface: request.interface.clone(),
            mac: request.mac,
            mode: request.mode,
            sent: self.sent,
            broadcasts: self.broadcasts,
            received: self.received,
            replies: self.replies,
            replies_omitted: self.replies_omitted,
            duplicate: self.macs_seen.len() > 1,
            responders: self.responders,
            rtt_ms: self.rtt.summary(),
            ignored: self.ignored,
            elapsed_ms: elapsed.as_secs_f64() * 1000.0,
        }
    }
}
