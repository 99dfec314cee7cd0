//! The DHCP engine against scripted servers and a simulated clock: two
//! servers (the rogue case), replies for other clients and garbage, the
//! full exchange with its RELEASE, a NAK, and silence.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use super::engine::run;
use super::{Report, Request};
use crate::clock::{Clock, SimClock};
use crate::net::packet::{Link, Received, next_scripted};
use crate::wire::arp::Mac;
use crate::wire::dhcp::{
    self, BOOTREPLY, CLIENT_PORT, Message, MessageType, SERVER_PORT, code, parse_udp_frame,
};

const ME: Mac = Mac([2, 0, 0, 0, 0, 1]);
const CLIENT: Mac = Mac([6, 0, 0, 0, 0, 7]);
const XID: u32 = 0x1234_5678;

/// A scripted DHCP server: its address, MAC, the address it offers, and
/// whether it NAKs requests.
#[derive(Clone)]
struct Server {
    address: Ipv4Addr,
    mac: Mac,
    offers: Ipv4Addr,
    delay: Duration,
    nak: bool,
}

fn server(last: u8) -> Server {
    Server {
        address: Ipv4Addr::new(10, 0, 0, last),
        mac: Mac([2, 0, 0, 0, 1, last]),
        offers: Ipv4Addr::new(10, 0, 0, 100 + last),
        delay: Duration::from_millis(u64::from(last)),
        nak: false,
    }
}

struct Segment {
    clock: SimClock,
    servers: Vec<Server>,
    pending: Vec<(Instant, Vec<u8>)>,
    /// Every frame the engine sent: Ethernet destination, IP source and
    /// destination, and the message.
    sent: Vec<(Mac, Ipv4Addr, Ipv4Addr, Message)>,
    /// Ctrl-C once this many frames have been read.
    stop_after: Option<usize>,
    read: usize,
}

impl Segment {
    fn new(clock: &SimClock, servers: Vec<Server>) -> Segment {
        Segment {
            clock: clock.clone(),
            servers,
            pending: Vec::new(),
            sent: Vec::new(),
            stop_after: None,
            read: 0,
        }
    }

    fn deliver(&mut self, after: Duration, bytes: Vec<u8>) {
        self.pending.push((self.clock.now() + after, bytes));
    }

    fn reply(server: &Server, kind: MessageType, xid: u32, chaddr: Mac) -> Vec<u8> {
        let mut message = Message::client(kind, xid, chaddr);
        message.op = BOOTREPLY;
        message.yiaddr = server.offers;
        message.push(code::SERVER_ID, &server.address.octets());
        message.push(code::LEASE_TIME, &3600u32.to_be_bytes());
        message.push(3, &[10, 0, 0, 254]);
        message.push(6, &[10, 0, 0, 53]);
        message.push(15, b"sim.lan");
        message.push(224, &[1, 2, 3]);
        dhcp::udp_frame(
            (server.mac, Mac::BROADCAST),
            (server.address, SERVER_PORT),
            (Ipv4Addr::BROADCAST, CLIENT_PORT),
            &message.emit(),
        )
    }
}

impl Link for Segment {
    fn send(&mut self, frame: &[u8]) -> std::io::Result<SystemTime> {
        let udp = parse_udp_frame(frame).expect("the engine sends valid frames");
        let message = Message::parse(udp.payload).expect("and valid DHCP");
        let chaddr = message.client_mac().expect("an Ethernet chaddr");
        self.sent.push((
            udp.eth_destination,
            udp.source,
            udp.destination,
            message.clone(),
        ));
        for server in self.servers.clone() {
            let answer = match message.message_type() {
                Some(MessageType::Discover) => Some(MessageType::Offer),
                Some(MessageType::Request)
                    if message.address_option(code::SERVER_ID) == Some(server.address) =>
                {
                    Some(if server.nak {
                        MessageType::Nak
                    } else {
                        MessageType::Ack
                    })
                }
                _ => None,
            };
            if let Some(kind) = answer {
                let reply = Self::reply(&server, kind, message.xid, chaddr);
                self.deliver(server.delay, reply);
            }
        }
        Ok(self.clock.wall())
    }

    fn recv_until(&mut self, deadline: Instant) -> std::io::Result<Option<Received>> {
        let frame = next_scripted(&mut self.pending, &self.clock, deadline);
        self.read += usize::from(frame.is_some());
        Ok(frame)
    }

    fn stopped(&mut self) -> bool {
        self.stop_after.is_some_and(|n| self.read >= n)
    }
}

fn request(asks: bool) -> Request {
    Request {
        interface: "sim0".into(),
        interface_mac: ME,
        client_mac: CLIENT,
        xid: XID,
        timeout: Duration::from_secs(3),
        request: asks,
    }
}

fn dhcp(request: &Request, segment: &mut Segment, clock: &SimClock) -> Report {
    run(request, segment, clock).expect("the scripted link never fails")
}

#[test]
fn two_servers_offering_are_both_listed_with_their_options_and_flagged() {
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, vec![server(1), server(2)]);
    let report = dhcp(&request(false), &mut segment, &clock);
    assert_eq!(report.offers.len(), 2);
    assert!(report.rogue_suspected);
    assert_eq!(
        report.servers,
        [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]
    );
    let first = &report.offers[0];
    assert_eq!(first.address, Ipv4Addr::new(10, 0, 0, 101));
    assert_eq!(first.lease_time, Some(3600));
    assert_eq!(first.routers, [Ipv4Addr::new(10, 0, 0, 254)]);
    assert_eq!(first.dns_servers, [Ipv4Addr::new(10, 0, 0, 53)]);
    assert_eq!(first.domain.as_deref(), Some("sim.lan"));
    assert_eq!(first.after_ms, 1.0);
    let unknown = first.options.iter().find(|o| o.code == 224).unwrap();
    assert_eq!(unknown.name, None);
    // Offers are collected for the whole timeout, then the run ends.
    assert_eq!(clock.elapsed(), Duration::from_secs(3));
    assert!(report.success());
    // One DISCOVER: broadcast, from 0.0.0.0, with the broadcast flag and our chaddr.
    let (eth, source, destination, discover) = &segment.sent[0];
    assert_eq!(segment.sent.len(), 1);
    assert_eq!(*eth, Mac::BROADCAST);
    assert_eq!(
        (*source, *destination),
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
    );
    assert_eq!(discover.flags, dhcp::FLAG_BROADCAST);
    assert_eq!(discover.client_mac(), Some(CLIENT));
}

#[test]
fn replies_for_other_clients_other_transactions_and_garbage_are_ignored_and_counted() {
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, vec![]);
    let other = server(9);
    let foreign_xid = Segment::reply(&other, MessageType::Offer, XID + 1, CLIENT);
    let foreign_chaddr = Segment::reply(&other, MessageType::Offer, XID, ME);
    let mut corrupt = Segment::reply(&other, MessageType::Offer, XID, CLIENT);
    // The magic cookie, after Ethernet, IPv4 and UDP headers and BOOTP's 236 bytes.
    corrupt[14 + 20 + 8 + 236] ^= 0xff;
    for (i, bytes) in [foreign_xid, foreign_chaddr, corrupt, vec![0xff; 7]]
        .into_iter()
        .enumerate()
    {
        segment.deliver(Duration::from_millis(i as u64 + 1), bytes);
    }
    let report = dhcp(&request(false), &mut segment, &clock);
    assert!(report.offers.is_empty());
    assert_eq!(report.ignored, 4);
    assert!(!report.success());
    assert!(!report.rogue_suspected);
}

#[test]
fn request_takes_the_first_offer_gets_the_ack_and_releases_it_unicast_from_the_lease() {
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, vec![server(1), server(2)]);
    let report = dhcp(&request(true), &mut segment, &clock);
    let exchange = report.exchange.as_ref().expect("an exchange");
    assert_eq!(exchange.server, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(exchange.address, Ipv4Addr::new(10, 0, 0, 101));
    let ack = exchange.answer.as_ref().expect("an answer");
    assert_eq!(ack.message_type, MessageType::Ack);
    assert!(exchange.released);
    assert!(report.success());
    let (_, _, _, request_message) = &segment.sent[1];
    assert_eq!(request_message.message_type(), Some(MessageType::Request));
    assert_eq!(
        request_message.address_option(code::REQUESTED_ADDRESS),
        Some(Ipv4Addr::new(10, 0, 0, 101))
    );
    let (eth, source, destination, release) = &segment.sent[2];
    assert_eq!(release.message_type(), Some(MessageType::Release));
    assert_eq!(*eth, server(1).mac);
    assert_eq!(*source, Ipv4Addr::new(10, 0, 0, 101));
    assert_eq!(*destination, Ipv4Addr::new(10, 0, 0, 1));
    assert_eq!(release.ciaddr, Ipv4Addr::new(10, 0, 0, 101));
    assert_eq!(release.flags, 0);
}

#[test]
fn a_nak_is_reported_nothing_is_released_and_the_run_is_negative() {
    let clock = SimClock::new();
    let mut segment = Segment::new(
        &clock,
        vec![Server {
            nak: true,
            ..server(1)
        }],
    );
    let report = dhcp(&request(true), &mut segment, &clock);
    let exchange = report.exchange.as_ref().unwrap();
    assert_eq!(
        exchange.answer.as_ref().map(|a| a.message_type),
        Some(MessageType::Nak)
    );
    assert!(!exchange.released);
    assert_eq!(segment.sent.len(), 2, "no RELEASE after a NAK");
    assert!(!report.success());
}

#[test]
fn silence_ends_at_the_timeout_with_no_offers_and_no_request() {
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, vec![]);
    let report = dhcp(&request(true), &mut segment, &clock);
    assert!(report.offers.is_empty() && report.exchange.is_none());
    assert_eq!(clock.elapsed(), Duration::from_secs(3));
    assert_eq!(segment.sent.len(), 1);
    assert!(!report.success());
}

#[test]
fn a_flood_of_offers_keeps_the_first_32_and_counts_the_rest() {
    let clock = SimClock::new();
    let servers = (1..=40).map(server).collect();
    let mut segment = Segment::new(&clock, servers);
    let report = dhcp(&request(false), &mut segment, &clock);
    assert_eq!(report.offers.len(), super::MAX_OFFERS);
    assert_eq!(report.offers_omitted, 8);
    assert_eq!(report.servers.len(), super::MAX_OFFERS);
    assert!(report.rogue_suspected);
}

#[test]
fn ctrl_c_ends_the_collection_at_once_and_sends_no_request() {
    let clock = SimClock::new();
    let mut segment = Segment::new(&clock, vec![server(1), server(2)]);
    segment.stop_after = Some(1);
    let report = dhcp(&request(true), &mut segment, &clock);
    assert_eq!(report.offers.len(), 1);
    assert!(report.exchange.is_none());
    assert_eq!(segment.sent.len(), 1, "only the DISCOVER");
    assert!(
        clock.elapsed() < Duration::from_millis(10),
        "{:?}",
        clock.elapsed()
    );
}
