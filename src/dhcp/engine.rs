//! The exchange: one DISCOVER, every OFFER until the timeout, and with
//! `--request` a REQUEST for the first offer, its ACK or NAK, and a
//! RELEASE unicast to the server from the leased address (RFC 2131 4.4.6),
//! so the server frees it at once. Only replies with our transaction id and
//! client hardware address count; everything else read is counted and
//! dropped.
#![forbid(unsafe_code)]

use std::io;
use std::net::Ipv4Addr;
use std::time::Instant;

use super::{Exchange, MAX_OFFERS, Reply, Report, Request};
use crate::clock::Clock;
use crate::net::packet::{Link, Received};
use crate::wire::arp::Mac;
use crate::wire::dhcp::{
    self, BOOTREPLY, CLIENT_PORT, Message, MessageType, SERVER_PORT, code, parse_udp_frame,
};

/// The options asked for in DISCOVER and REQUEST: what a client would want
/// to configure itself with (dhclient's list, plus 119 and 121).
const PARAMETERS: &[u8] = &[1, 2, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121];
/// Option 57: the largest message we take (the packet socket reads 2 KB).
const MAX_MESSAGE_SIZE: u16 = 1500;

/// Runs the exchange `request` describes.
pub fn run<L: Link, C: Clock>(request: &Request, link: &mut L, clock: &C) -> io::Result<Report> {
    let started = clock.now();
    let mut run = Run::default();
    link.send(&discover(request))?;
    let end = started + request.timeout;
    while let Some(reply) = next_reply(request, link, clock, end, &mut run.ignored)? {
        if reply.message_type != MessageType::Offer {
            run.ignored += 1;
            continue;
        }
        let reply = Reply {
            after_ms: ms(clock.now().saturating_duration_since(started)),
            ..reply
        };
        if !run.servers.contains(&reply.server()) && run.servers.len() < MAX_OFFERS {
            run.servers.push(reply.server());
        }
        if run.offers.len() < MAX_OFFERS {
            run.offers.push(reply);
        } else {
            run.offers_omitted += 1;
        }
    }
    if request.request
        && !link.stopped()
        && let Some(offer) = run.offers.first().cloned()
    {
        run.exchange = Some(exchange(request, link, clock, &offer, &mut run.ignored)?);
    }
    Ok(Report {
        interface: request.interface.clone(),
        client_mac: request.client_mac,
        xid: request.xid,
        timeout_ms: ms(request.timeout),
        rogue_suspected: run.servers.len() > 1,
        servers: run.servers,
        offers: run.offers,
        offers_omitted: run.offers_omitted,
        exchange: run.exchange,
        ignored: run.ignored,
        elapsed_ms: ms(clock.now().saturating_duration_since(started)),
    })
}

/// What a run has gathered.
#[derive(Default)]
struct Run {
    offers: Vec<Reply>,
    offers_omitted: u64,
    servers: Vec<Ipv4Addr>,
    exchange: Option<Exchange>,
    ignored: u64,
}

/// REQUEST the offer; on ACK, RELEASE it.
fn exchange<L: Link, C: Clock>(
    request: &Request,
    link: &mut L,
    clock: &C,
    offer: &Reply,
    ignored: &mut u64,
) -> io::Result<Exchange> {
    let server = offer.server();
    let sent = clock.now();
    link.send(&request_frame(request, offer))?;
    let end = sent + request.timeout;
    let mut answer = None;
    while let Some(reply) = next_reply(request, link, clock, end, ignored)? {
        let from_server = reply.server() == server;
        if from_server && matches!(reply.message_type, MessageType::Ack | MessageType::Nak) {
            answer = Some(Reply {
                after_ms: ms(clock.now().saturating_duration_since(sent)),
                ..reply
            });
            break;
        }
        // Late offers from the others are not answers to the REQUEST.
        *ignored += 1;
    }
    let released = match &answer {
        Some(ack) if ack.message_type == MessageType::Ack => {
            link.send(&release(request, ack))?;
            true
        }
        _ => false,
    };
    Ok(Exchange {
        address: offer.address,
        server,
        answer,
        released,
    })
}

/// The next reply meant for us before `end`; `None` at the end or on Ctrl-C.
fn next_reply<L: Link, C: Clock>(
    request: &Request,
    link: &mut L,
    clock: &C,
    end: Instant,
    ignored: &mut u64,
) -> io::Result<Option<Reply>> {
    loop {
        if link.stopped() || clock.now() >= end {
            return Ok(None);
        }
        let Some(frame) = link.recv_until(end)? else {
            continue;
        };
        match ours(request, &frame) {
            Some(reply) => return Ok(Some(reply)),
            None => *ignored += 1,
        }
    }
}

/// The frame as a server's reply to this client, or `None`.
fn ours(request: &Request, frame: &Received) -> Option<Reply> {
    let udp = parse_udp_frame(&frame.bytes).ok()?;
    if udp.destination_port != CLIENT_PORT || udp.source_port != SERVER_PORT {
        return None;
    }
    let message = Message::parse(udp.payload).ok()?;
    if message.op != BOOTREPLY
        || message.xid != request.xid
        || message.client_mac() != Some(request.client_mac)
    {
        return None;
    }
    Reply::from_message(&message, udp.source, udp.eth_source, udp.payload)
}

/// A client message with the parameter request list.
fn client_message(request: &Request, kind: MessageType) -> Message {
    let mut message = Message::client(kind, request.xid, request.client_mac);
    message.push(code::PARAMETER_REQUEST_LIST, PARAMETERS);
    message.push(57, &MAX_MESSAGE_SIZE.to_be_bytes());
    message
}

/// Broadcast from 0.0.0.0: the client has no address yet. The Ethernet
/// source is the interface's own MAC, not the chaddr, as nmap's and
/// dhcping's are: a switch with port security learns no new MAC (a DHCP
/// snooping switch checking source against chaddr would drop it, though).
fn broadcast(request: &Request, message: &Message) -> Vec<u8> {
    dhcp::udp_frame(
        (request.interface_mac, Mac::BROADCAST),
        (Ipv4Addr::UNSPECIFIED, CLIENT_PORT),
        (Ipv4Addr::BROADCAST, SERVER_PORT),
        &message.emit(),
    )
}

fn discover(request: &Request) -> Vec<u8> {
    broadcast(request, &client_message(request, MessageType::Discover))
}

/// RFC 2131 4.3.2 SELECTING: the offered address in option 50 and the
/// chosen server in 54, ciaddr zero, broadcast.
fn request_frame(request: &Request, offer: &Reply) -> Vec<u8> {
    let mut message = client_message(request, MessageType::Request);
    message.push(code::REQUESTED_ADDRESS, &offer.address.octets());
    message.push(code::SERVER_ID, &offer.server().octets());
    broadcast(request, &message)
}

/// RFC 2131 4.4.6: unicast to the server, ciaddr the leased address, no
/// broadcast flag, option 54 naming the server.
fn release(request: &Request, ack: &Reply) -> Vec<u8> {
    let mut message = Message::client(MessageType::Release, request.xid, request.client_mac);
    message.flags = 0;
    message.ciaddr = ack.address;
    message.push(code::SERVER_ID, &ack.server().octets());
    dhcp::udp_frame(
        (request.interface_mac, ack.server_mac),
        (ack.address, CLIENT_PORT),
        (ack.server(), SERVER_PORT),
        &message.emit(),
    )
}

fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
