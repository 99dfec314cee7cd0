//! arping's lines, as iputils arping prints them, and what it leaves unsaid
//! (a duplicate, DAD's verdict) said plainly.

use std::fmt::Write;

use crate::arping::{Mode, Reply, Report, Request};

/// `ARPING 10.0.0.2 from 10.0.0.1 eth0`.
pub fn header(request: &Request) -> String {
    format!(
        "ARPING {} from {} {}\n",
        request.target,
        request.source,
        super::printable(&request.interface)
    )
}

/// `Unicast reply from 10.0.0.2 [02:00:00:00:00:02]  0.045ms` (MAC in
/// capitals, as iputils prints it).
pub fn reply(reply: &Reply) -> String {
    let kind = match (reply.request, reply.broadcast) {
        (true, _) => "Request",
        (false, true) => "Broadcast reply",
        (false, false) => "Unicast reply",
    };
    let mac = reply.mac.to_string().to_uppercase();
    match reply.rtt_ms {
        Some(ms) => format!("{kind} from {} [{mac}]  {ms:.3}ms\n", reply.address),
        None => format!("{kind} from {} [{mac}]\n", reply.address),
    }
}

/// `Sent N probes (B broadcast(s))`, `Received N response(s)`, then a
/// duplicate or DAD's verdict in words.
pub fn footer(report: &Report) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Sent {} probes ({} broadcast(s))",
        report.sent, report.broadcasts
    );
    let _ = writeln!(text, "Received {} response(s)", report.received);
    let macs: Vec<String> = report
        .responders
        .iter()
        .map(|r| r.mac.to_string())
        .collect();
    match report.mode {
        Mode::Dad if report.received == 0 => {
            let _ = writeln!(
                text,
                "{} is free: nobody answered {} probe(s) from 0.0.0.0",
                report.target, report.sent
            );
        }
        Mode::Dad => {
            let _ = writeln!(text, "{} is in use by {}", report.target, macs.join(", "));
        }
        _ if report.duplicate => {
            let _ = writeln!(
                text,
                "{} MACs answered for {}: {} (a duplicate address?)",
                macs.len(),
                report.target,
                macs.join(", ")
            );
        }
        _ => {}
    }
    text
}
