//! Whatever a DHCP server (or anyone on the link) sends: the frame reader,
//! the BOOTP/DHCP parser, every option's decoding, the reply netdx builds
//! from it and its text (with --wire) must return a value or an error for
//! any bytes, never panic, hang or allocate beyond what arrived.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netdx::dhcp::Reply;
use netdx::wire::arp::Mac;
use netdx::wire::dhcp::{Message, parse_udp_frame};
use netdx::wire::dhcp_options;

fn message(bytes: &[u8]) {
    let Ok(message) = Message::parse(bytes) else {
        return;
    };
    for option in &message.options {
        let _ = dhcp_options::decode(option.code, &option.data);
    }
    if let Some(reply) = Reply::from_message(&message, [10, 0, 0, 1].into(), Mac::ZERO, bytes) {
        let _ = serde_json::to_string(&reply);
        let _ = netdx::render::dhcp::reply_text(&reply, true);
    }
}

fuzz_target!(|data: &[u8]| {
    message(data);
    if let Ok(udp) = parse_udp_frame(data) {
        message(udp.payload);
    }
});
