//! Whatever arrives on a raw socket: the reply parsers and the trace
//! matchers must return a value or an error for any bytes, never panic.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use netdx::trace::{Method, probe::Flow};
use netdx::wire;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = wire::parse_ipv4_icmp(data) {
        for method in [Method::Udp, Method::Tcp, Method::Icmp] {
            let flow = Flow {
                method,
                source: Ipv4Addr::new(10, 9, 10, 1),
                target: Ipv4Addr::new(10, 9, 12, 2),
                source_port: 52475,
                port: 33434,
            };
            let _ = flow.match_icmp(IpAddr::V4(packet.ip.source), &packet.icmp);
            let _ = flow.match_tcp(data);
        }
        let _ = serde_json::to_string(&packet);
    }
    let _ = wire::icmp::parse_v4(data);
    let _ = wire::icmp::parse_v6(data);
    let _ = wire::quoted::parse_v4(data);
    let _ = wire::quoted::parse_v6(data);
});
