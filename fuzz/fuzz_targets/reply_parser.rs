//! Whatever arrives on a raw socket (or from a nameserver): the reply
//! parsers, ping's reply decoding, the trace matchers, the DNS reply view and
//! the ARP frame reader
//! must return a value or an error for any bytes, never panic.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use netdx::net::SocketKind;
use netdx::ping::echo;
use netdx::trace::{Method, probe::Flow};
use netdx::wire;

const METHODS: [Method; 3] = [Method::Udp, Method::Tcp, Method::Icmp];

fn flow(method: Method, source: IpAddr, target: IpAddr) -> Flow {
    Flow {
        method,
        source,
        target,
        source_port: 52475,
        port: 33434,
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = wire::parse_ipv4_icmp(data) {
        let from = IpAddr::V4(packet.ip.source);
        for method in METHODS {
            let flow = flow(
                method,
                IpAddr::V4(Ipv4Addr::new(10, 9, 10, 1)),
                IpAddr::V4(Ipv4Addr::new(10, 9, 12, 2)),
            );
            let _ = flow.match_icmp(from, &packet.icmp);
            let _ = flow.match_tcp(from, data);
        }
        let _ = serde_json::to_string(&packet);
    }
    if let Ok(icmp) = wire::icmp::parse_v6(data) {
        let target = IpAddr::V6(Ipv6Addr::new(0xfd0c, 0, 0, 0, 0, 0, 0, 2));
        for method in METHODS {
            let flow = flow(
                method,
                IpAddr::V6(Ipv6Addr::new(0xfd0a, 0, 0, 0, 0, 0, 0, 1)),
                target,
            );
            let _ = flow.match_icmp(target, &icmp);
            let _ = flow.match_tcp(target, data);
        }
    }
    for v6 in [false, true] {
        let _ = wire::parse_delivered(data, v6, !v6);
        for kind in [SocketKind::Datagram, SocketKind::Raw] {
            let _ = echo::parse_reply(data, kind, v6);
        }
        let _ = echo::quoted_request(data, v6);
    }
    let _ = wire::icmp::parse_v4(data);
    let _ = wire::quoted::parse_v4(data);
    let _ = wire::quoted::parse_v6(data);
    let _ = wire::dns::parse_reply(data);
    // What arrives on arping's and neigh scan's packet socket: a frame that
    // reads as ARP must emit back to the same first 42 bytes.
    if let Ok(arp) = wire::arp::ArpFrame::parse(data) {
        assert_eq!(&arp.emit()[..], &data[..wire::arp::FRAME_LEN]);
    }
    // What arrives on neigh scan -6's packet socket: an advertisement names
    // the target its frame carries.
    if let Ok(reply) = wire::ndp::parse(data)
        && let wire::ndp::Answer::Advertisement { target, .. } = reply.answer
    {
        assert_eq!(&target.octets()[..], &data[62..78]);
    }
});
