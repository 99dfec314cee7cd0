//! Whatever a nameserver sends: hickory-proto's decoding and netdx's typed
//! view and dig presentation of it (every record type, DNSSEC's included),
//! the `--wire` field-by-field layout and its text, and netdx's own reply
//! reader must return a value or an error for any bytes, never panic or hang.
#![no_main]

use hickory_proto::op::Message;
use libfuzzer_sys::fuzz_target;
use netdx::dns::Response;
use netdx::render::dns_wire;
use netdx::wire;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::from_vec(data) {
        let response = Response::from_message(&message);
        let _ = serde_json::to_string(&response);
    }
    let layout = wire::dns_layout::layout(data);
    let _ = dns_wire::text("RESPONSE", &layout, data);
    let _ = serde_json::to_string(&layout);
    let _ = wire::dns::parse_reply(data);
    let _ = wire::dns::parse_query(data);
});
