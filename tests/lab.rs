//! `netdx lab`: every lab runs on this machine and reaches its documented
//! outcome, asserted on the `--json` transcript of what the kernel did.

mod common;

use std::process::Stdio;

use common::{assert_one_line_error, netdx, netdx_bin, stderr, stdout};
use serde_json::Value;

/// Runs a lab with `--json`; asserts it ran and ended as expected.
fn lab(name: &str) -> Vec<Value> {
    let output = netdx(&["--json", "lab", name]);
    assert!(
        !output.stdout.is_empty(),
        "lab {name}: no JSON: {} {}",
        stdout(&output),
        stderr(&output)
    );
    // Every transcript read here is also held to docs/schema/lab.json.
    let json = common::assert_schema_valid_output("lab", &output.stdout);
    assert_eq!(json["lab"], name);
    assert_eq!(
        json["as_expected"], true,
        "lab {name}: {}",
        json["conclusion"]
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(!json["conclusion"].as_str().unwrap().is_empty());
    json["steps"].as_array().unwrap().clone()
}

fn calls<'a>(steps: &'a [Value], call: &str) -> Vec<&'a Value> {
    steps.iter().filter(|s| s["call"] == call).collect()
}

fn errno(step: &Value) -> &str {
    step["errno"].as_str().unwrap_or("")
}

fn result(step: &Value) -> &str {
    step["result"].as_str().unwrap_or("")
}

#[test]
fn reuseaddr_shows_eaddrinuse_then_a_bind_that_succeeds() {
    let steps = lab("reuseaddr");
    let binds = calls(&steps, "bind");
    let refused = binds
        .iter()
        .position(|b| errno(b) == "EADDRINUSE")
        .expect("a bind refused with EADDRINUSE");
    assert!(
        binds[refused + 1..]
            .iter()
            .any(|b| b["errno"].is_null() && !b["args"].as_str().unwrap().ends_with(":0")),
        "a later bind to a fixed port succeeds: {binds:?}"
    );
    let listing = calls(&steps, "netstat");
    assert!(result(listing[0]).contains("TIME-WAIT"), "{}", listing[0]);
}

#[test]
fn reuseport_spreads_connections_over_two_listeners() {
    let steps = lab("reuseport");
    assert_eq!(
        errno(calls(&steps, "bind")[1]),
        "EADDRINUSE",
        "without SO_REUSEPORT the port is taken"
    );
    let counts: Vec<u64> = calls(&steps, "accept")
        .iter()
        .map(|s| {
            result(s)
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(counts.len(), 2);
    assert_eq!(counts.iter().sum::<u64>(), 20);
    assert!(counts.iter().all(|&c| c > 0), "{counts:?}");
}

#[test]
fn sticky_reads_two_sends_as_one_then_frames_them_apart() {
    let steps = lab("sticky");
    let recvs = calls(&steps, "recv");
    assert_eq!(result(recvs[0]), "10 \"helloworld\"");
    assert_eq!(result(recvs[1]), "4 \"0123\"");
    assert!(recvs.iter().any(|r| result(r) == "5 \"hello\""));
    assert!(recvs.iter().any(|r| result(r) == "5 \"world\""));
    let split = calls(&steps, "split on \\n");
    assert_eq!(result(split[0]), "2 messages: \"hello\", \"world\"");
}

#[test]
fn nagle_stalls_write_write_read_until_nodelay() {
    let steps = lab("nagle");
    let medians: Vec<f64> = calls(&steps, "timed")
        .iter()
        .map(|s| {
            let text = result(s);
            let value = text
                .strip_prefix("median ")
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>();
            let number: f64 = value[0].parse().unwrap();
            if value[1].starts_with("s;") {
                number * 1000.0
            } else {
                number
            }
        })
        .collect();
    assert!(medians[0] >= 20.0, "Nagle + delayed ACK: {medians:?}");
    assert!(medians[1] < 5.0, "TCP_NODELAY: {medians:?}");
}

#[test]
fn udp_keeps_boundaries_and_msg_trunc_tells_the_real_size() {
    let steps = lab("udp-boundaries");
    let recvs = calls(&steps, "recv");
    assert_eq!(result(recvs[0]), "3 \"one\"");
    assert_eq!(result(recvs[1]), "9 \"two three\"");
    assert!(
        result(recvs[3]).starts_with("2000 (only 100 stored"),
        "{}",
        recvs[3]
    );
    assert_eq!(errno(recvs[4]), "EAGAIN");
}

#[test]
fn nonblocking_gets_eagain_einprogress_and_so_error() {
    let steps = lab("nonblocking");
    assert_eq!(errno(calls(&steps, "recv")[0]), "EAGAIN");
    assert!(
        calls(&steps, "connect")
            .iter()
            .any(|c| errno(c) == "EINPROGRESS")
    );
    let so_error = calls(&steps, "getsockopt");
    assert!(result(so_error[0]).starts_with('0'));
    assert!(result(so_error[1]).starts_with("ECONNREFUSED"));
    let poll = calls(&steps, "poll")[0];
    assert!(
        poll["elapsed_ms"].as_f64().unwrap() >= 90.0,
        "poll slept until the data came: {poll}"
    );
}

#[test]
fn timeouts_end_a_recv_and_a_connect_to_a_full_backlog() {
    let steps = lab("timeout");
    let recv = calls(&steps, "recv")[0];
    assert_eq!(errno(recv), "EAGAIN");
    assert!(recv["elapsed_ms"].as_f64().unwrap() >= 450.0, "{recv}");
    let connects = calls(&steps, "connect");
    let bounded = connects
        .iter()
        .find(|c| errno(c) == "EINPROGRESS" && c["elapsed_ms"].as_f64().unwrap() >= 900.0);
    assert!(
        bounded.is_some(),
        "a blocking connect bounded by SO_SNDTIMEO: {connects:?}"
    );
    assert_eq!(result(calls(&steps, "poll")[0]), "0 (timed out)");
}

#[test]
fn buffers_fill_and_send_returns_a_partial_count_then_eagain() {
    let steps = lab("buffers");
    let sends = calls(&steps, "send");
    let count = |step: &Value| result(step).parse::<u64>().ok();
    let partial = count(sends[0]).expect("the first timed send returns a count");
    assert!(partial > 0 && partial < 1 << 20, "{partial}");
    // Acknowledgements may free a little room meanwhile: the timed sends
    // after the first place a few more bytes until one finds none at all.
    let (nonblocking, timed) = sends.split_last().unwrap();
    let (blocked, more) = timed[1..].split_last().expect("a second timed send");
    assert_eq!(errno(blocked), "EAGAIN", "{sends:?}");
    assert!(
        more.iter().all(|s| count(s).is_some_and(|n| n > 0)),
        "every timed send before the EAGAIN placed some bytes: {sends:?}"
    );
    assert_eq!(errno(nonblocking), "EAGAIN", "{nonblocking}");
    let sizes = calls(&steps, "getsockopt");
    assert_eq!(result(sizes[0]), "8192");
    assert_eq!(result(sizes[1]), "8192");
}

#[test]
fn shutdown_shows_end_of_stream_half_close_and_epipe() {
    let steps = lab("shutdown");
    let recvs = calls(&steps, "recv");
    assert_eq!(result(recvs[0]), "0 \"\"", "end of stream");
    assert!(
        recvs.iter().any(|r| result(r) == "8 \"response\""),
        "read after SHUT_WR"
    );
    let sends = calls(&steps, "send");
    let last = sends.last().unwrap();
    assert!(["EPIPE", "ECONNRESET"].contains(&errno(last)), "{last}");
}

#[test]
fn backlog_completes_backlog_plus_one_connects_and_drops_the_rest() {
    let steps = lab("backlog");
    let polls = calls(&steps, "poll");
    let done = polls
        .iter()
        .filter(|p| result(p).contains("POLLOUT"))
        .count();
    let waiting = polls
        .iter()
        .filter(|p| result(p) == "0 (timed out)")
        .count();
    assert_eq!((done, waiting), (3, 3), "{polls:?}");
    assert!(result(calls(&steps, "netstat")[0]).contains("LISTEN 127.0.0.1:"));
}

#[test]
fn v6only_decides_whether_ipv4_clients_get_in() {
    let steps = lab("v6only");
    let accepted = calls(&steps, "accept")[0];
    assert!(
        result(accepted).contains("[::ffff:127.0.0.1]:"),
        "{accepted}"
    );
    assert!(
        calls(&steps, "connect")
            .iter()
            .any(|c| errno(c) == "ECONNREFUSED")
    );
}

fn elapsed(step: &Value) -> f64 {
    step["elapsed_ms"].as_f64().unwrap()
}

/// The port in a result ending `127.0.0.1:PORT` or `127.0.0.1:PORT)`.
fn port_in(text: &str) -> u16 {
    let tail = text.rsplit(':').next().unwrap();
    tail.trim_end_matches(')').parse().unwrap()
}

#[test]
fn recv_returns_what_is_queued_blocks_when_empty_and_gives_0_at_end_of_stream() {
    let steps = lab("recv");
    let recvs = calls(&steps, "recv");
    assert_eq!(
        result(recvs[0]),
        "11 \"hello world\"",
        "fewer than the 100 asked"
    );
    assert_eq!(errno(recvs[1]), "EAGAIN", "{}", recvs[1]);
    assert!(
        elapsed(recvs[1]) >= 270.0,
        "blocked until SO_RCVTIMEO: {}",
        recvs[1]
    );
    assert_eq!(result(recvs[2]), "4 \"late\"");
    assert!(
        elapsed(recvs[2]) >= 75.0,
        "slept until the data came: {}",
        recvs[2]
    );
    assert_eq!(result(recvs[3]), "0 \"\"", "end of stream");
    assert_eq!(result(recvs[4]), "0 \"\"", "and again");
    assert!(
        elapsed(recvs[3]) < 1000.0,
        "0 without waiting for the 2 s timer: {}",
        recvs[3]
    );
    let with = |flag: &str| -> Vec<&Value> {
        recvs
            .iter()
            .copied()
            .filter(|r| r["args"].as_str().unwrap().ends_with(flag))
            .collect()
    };
    let peek = with("MSG_PEEK")[0];
    assert_eq!(result(peek), "8 \"peekaboo\"");
    let after_peek = recvs.iter().position(|r| *r == peek).unwrap() + 1;
    assert_eq!(
        result(recvs[after_peek]),
        "8 \"peekaboo\"",
        "the data stayed"
    );
    assert_eq!(
        result(recvs[after_peek + 1]),
        "5 \"01234\"",
        "a plain recv of 10"
    );
    let waitall = with("MSG_WAITALL")[0];
    assert_eq!(result(waitall), "10 \"0123456789\"");
    assert!(elapsed(waitall) >= 75.0, "waited for the rest: {waitall}");
    let dontwait = with("MSG_DONTWAIT")[0];
    assert_eq!(errno(dontwait), "EAGAIN");
    assert!(
        elapsed(dontwait) < 1000.0,
        "not waiting for the 2 s timer: {dontwait}"
    );
}

#[test]
fn linger_zero_resets_the_peer_and_leaves_no_time_wait_where_a_close_does() {
    let steps = lab("linger");
    let server_port = port_in(result(calls(&steps, "bind")[0]));
    let clients: Vec<u16> = calls(&steps, "connect")
        .iter()
        .map(|c| port_in(result(c)))
        .collect();
    assert_eq!(clients.len(), 2, "{clients:?}");
    let recvs = calls(&steps, "recv");
    assert_eq!(result(recvs[0]), "0 \"\"", "a normal close: end of stream");
    assert_eq!(errno(recvs[1]), "ECONNRESET", "{}", recvs[1]);
    assert_eq!(result(recvs[2]), "0 \"\"", "then end of stream");
    assert!(
        calls(&steps, "setsockopt")
            .iter()
            .any(|s| s["args"].as_str().unwrap().contains("SO_LINGER, on, 0")),
        "{steps:?}"
    );
    let listings = calls(&steps, "netstat");
    let normal = format!(
        "TIME-WAIT 127.0.0.1:{} -> 127.0.0.1:{server_port}",
        clients[0]
    );
    assert!(
        result(listings[0]).contains(&normal),
        "the closer waits: {}",
        listings[0]
    );
    assert!(
        !result(listings[0]).contains(&format!("TIME-WAIT 127.0.0.1:{server_port} ")),
        "not the server: {}",
        listings[0]
    );
    // The table for the server's port may also hold TIME-WAIT sockets of an
    // earlier listener that had the port (other labs, other tests): only
    // these two connections' rows count.
    let reset = result(listings[1]);
    assert!(
        !reset.contains(&format!(":{}", clients[1])),
        "nothing of the reset connection: {reset}"
    );
    assert!(
        reset.contains(&normal),
        "the first connection still waits: {reset}"
    );
}

#[test]
fn udp_chat_shows_sender_addresses_injection_connect_filtering_and_econnrefused() {
    let steps = lab("udp-chat");
    let binds: Vec<u16> = calls(&steps, "bind")
        .iter()
        .map(|b| port_in(result(b)))
        .collect();
    let (a, b) = (binds[0], binds[1]);
    let received = calls(&steps, "recvfrom");
    assert!(
        result(received[0]).ends_with(&format!("from 127.0.0.1:{b}")),
        "{}",
        received[0]
    );
    assert!(
        result(received[1]).ends_with(&format!("from 127.0.0.1:{a}")),
        "{}",
        received[1]
    );
    let injected = result(received[2]);
    assert!(
        injected.starts_with("14 \"it's B, really\" from 127.0.0.1:"),
        "{injected}"
    );
    assert_ne!(port_in(injected), b, "a third peer's address");
    let recvs = calls(&steps, "recv");
    assert_eq!(result(recvs[0]), "10 \"only B now\"");
    assert_eq!(
        errno(recvs[1]),
        "EAGAIN",
        "the third peer's datagram was dropped"
    );
    assert_eq!(errno(recvs[2]), "ECONNREFUSED", "{}", recvs[2]);
    let last = received.last().unwrap();
    assert_eq!(errno(last), "EAGAIN", "unconnected: not told: {last}");
}

fn args(step: &Value) -> &str {
    step["args"].as_str().unwrap_or("")
}

#[test]
fn dns_by_hand_reads_a_compression_pointer_then_retries_a_truncated_answer_over_tcp() {
    if !common::privileged("dns_by_hand") {
        return;
    }
    let steps = lab("dns-by-hand");
    let builds = calls(&steps, "build");
    assert_eq!(
        result(builds[0]),
        "4c 41 01 00 00 01 00 00 00 00 00 00",
        "the header: ID, RD, QDCOUNT 1"
    );
    assert_eq!(
        result(builds[1]),
        "03 77 77 77 03 6c 61 62 04 74 65 73 74 00",
        "www.lab.test as labels"
    );
    assert_eq!(result(builds[2]), "00 01 00 01", "QTYPE A, QCLASS IN");
    assert!(
        result(calls(&steps, "sendto")[0]).starts_with("30 "),
        "{steps:?}"
    );
    let reads = calls(&steps, "read");
    let names: Vec<&&Value> = reads
        .iter()
        .filter(|r| args(r).contains(" NAME @"))
        .collect();
    assert!(!names.is_empty());
    for name in &names {
        assert!(args(name).ends_with(": c0 0c"), "{name}");
        assert!(
            result(name).starts_with("pointer to offset 12 → "),
            "{name}"
        );
    }
    let rdata: Vec<&str> = reads
        .iter()
        .filter(|r| args(r).contains(" RDATA @"))
        .map(|r| result(r))
        .collect();
    assert_eq!(rdata[..2], ["10.77.0.80", "10.77.0.81"]);
    let headers: Vec<&str> = reads
        .iter()
        .filter(|r| args(r).starts_with("header @0"))
        .map(|r| result(r))
        .collect();
    assert_eq!(headers.len(), 3, "{headers:?}");
    assert!(
        headers[0].contains("ANCOUNT 2") && !headers[0].contains("TC"),
        "{}",
        headers[0]
    );
    assert!(headers[1].contains("TC (truncated)"), "{}", headers[1]);
    assert!(
        headers[2].contains("ANCOUNT 6") && !headers[2].contains("TC"),
        "{}",
        headers[2]
    );
    // Over TCP: the 2-byte length, then exactly that many bytes.
    let recvs = calls(&steps, "recv");
    let prefix = result(recvs[0]);
    assert!(prefix.starts_with("2 "), "{prefix}");
    let lengths: Vec<usize> = recvs[1..]
        .iter()
        .map(|r| {
            result(r)
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let announced = calls(&steps, "read")
        .iter()
        .filter(|r| args(r).contains("RDATA"))
        .count();
    assert!(
        announced >= 8,
        "2 A + the TC answer's records + 6 TXT: {announced}"
    );
    let total: usize = lengths.iter().sum();
    assert!(total > 512, "the whole TXT answer: {lengths:?}");
    let decoded = calls(&steps, "decode");
    assert_eq!(decoded.len(), 3);
    for d in decoded {
        assert!(result(d).contains("as read by hand"), "{d}");
    }
}

#[test]
fn http_by_hand_counts_content_length_decodes_chunks_and_reads_0_after_connection_close() {
    if !common::privileged("http_by_hand") {
        return;
    }
    let steps = lab("http-by-hand");
    let client_recvs: Vec<&Value> = steps
        .iter()
        .filter(|s| s["call"] == "recv" && s["actor"] == "client")
        .collect();
    let sends = calls(&steps, "send");
    assert!(result(sends[0]).parse::<usize>().unwrap() > 0);
    let first_body_reads = steps
        .iter()
        .take_while(|s| !args(s).contains("GET /chunked"))
        .filter(|s| s["call"] == "recv")
        .count();
    assert!(
        first_body_reads >= 3,
        "10,000 bytes in 4096-byte reads: {first_body_reads}"
    );
    let sizes: Vec<&str> = calls(&steps, "chunk size")
        .iter()
        .map(|s| result(s))
        .collect();
    assert_eq!(sizes.len(), 4, "{sizes:?}");
    assert!(sizes[0].starts_with("0x1a = 26 bytes"), "{sizes:?}");
    assert!(sizes[1].starts_with("0x12c = 300 bytes"), "{sizes:?}");
    assert!(sizes[2].starts_with("0x3e8 = 1000 bytes"), "{sizes:?}");
    assert!(sizes[3].starts_with("0x0 = 0"), "{sizes:?}");
    assert_eq!(
        result(client_recvs.last().unwrap()),
        "0 \"\"",
        "end of stream after Connection: close"
    );
    let headers: Vec<&str> = calls(&steps, "header").iter().map(|s| args(s)).collect();
    assert_eq!(headers.len(), 12, "{headers:?}");
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("\"User-Agent: Mozilla/5.0"))
    );
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("\"Host: 10.77.0.1:8080"))
    );
    assert_eq!(args(calls(&steps, "request line")[0]), "\"GET / HTTP/1.1\"");
    let browser = result(calls(&steps, "browser")[0]);
    assert!(
        browser.starts_with("HTTP/1.1 200 OK") && browser.ends_with("the page, whole"),
        "{browser}"
    );
}

#[test]
fn timewait_scale_exhausts_a_200_port_range_and_tcp_tw_reuse_takes_old_ports_back() {
    if !common::privileged("timewait_scale") {
        return;
    }
    let steps = lab("timewait-scale");
    let counts: Vec<&str> = calls(&steps, "sock_diag")
        .iter()
        .map(|s| result(s))
        .collect();
    for (i, count) in counts[..4].iter().enumerate() {
        assert!(
            count.starts_with(&format!("{} TIME-WAIT", (i + 1) * 500)),
            "{counts:?}"
        );
    }
    assert!(counts[4].starts_with("200 TIME-WAIT"), "{counts:?}");
    let bursts = calls(&steps, "connect+close");
    assert_eq!(
        result(bursts[4]),
        "200 connected and closed; then connect() failed: EADDRNOTAVAIL"
    );
    let connects = calls(&steps, "connect");
    let refused: Vec<&&Value> = connects
        .iter()
        .filter(|c| errno(c) == "EADDRNOTAVAIL")
        .collect();
    assert_eq!(
        refused.len(),
        2,
        "without and with SO_REUSEADDR: {connects:?}"
    );
    assert!(
        calls(&steps, "setsockopt")
            .iter()
            .any(|s| args(s).contains("SO_REUSEADDR, on")),
    );
    let retried = connects
        .iter()
        .find(|c| c["actor"] == "clients")
        .expect("the retried connect");
    assert!(result(retried).starts_with("0 after "), "{retried}");
    assert_eq!(result(bursts[5]), "50 connected and closed");
    assert!(
        counts[5].starts_with("1 TIME-WAIT"),
        "one kept connection: {counts:?}"
    );
    assert!(counts[6].starts_with("5 TIME-WAIT"), "in B: {counts:?}");
    assert!(args(calls(&steps, "sock_diag")[6]).starts_with("in B"));
    assert!(counts[7].starts_with("0 TIME-WAIT"), "in A: {counts:?}");
}

#[test]
fn lab_all_runs_every_lab_with_one_verdict_line_each_and_exits_0() {
    require_root!();
    let listed: Vec<String> = serde_json::from_slice::<Value>(&netdx(&["--json", "lab"]).stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    let output = netdx(&["--json", "lab", "all"]);
    let json = common::assert_schema_valid_output("lab-all", &output.stdout);
    let labs = json["labs"].as_array().unwrap();
    let ran: Vec<&str> = labs.iter().map(|l| l["lab"].as_str().unwrap()).collect();
    assert_eq!(ran, listed, "every lab, in the list's order");
    for verdict in labs {
        assert_eq!(verdict["outcome"], "reached", "{verdict}");
        let text = verdict["text"].as_str().unwrap();
        assert!(text.ends_with('.') && !text.contains('\n'), "{verdict}");
    }
    assert_eq!(json["reached"], json["total"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let output = netdx(&["lab", "all"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("lab all: "), "{text}");
    for name in &listed {
        let line = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no verdict line for {name}: {text}"));
        assert!(line.contains(" reached "), "{line}");
    }
    assert!(
        text.ends_with(&format!(
            "{0} of {0} labs reached their outcome.\n",
            listed.len()
        )),
        "{text}"
    );
    assert_one_line_error(&netdx(&["lab", "all", "--step"]), "--step is for one lab");
}

#[test]
fn explain_prints_the_lesson_without_running_anything() {
    for name in ["recv", "linger", "udp-chat", "reuseaddr"] {
        let output = netdx(&["lab", name, "--explain"]);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{text}");
        assert!(text.starts_with(&format!("lab {name}: ")), "{text}");
        assert!(
            text.contains("Expect "),
            "the lesson says what to expect: {text}"
        );
        assert!(text.contains("\nCalls:   "), "{text}");
        assert!(
            !text.contains("socket(") && !text.contains("What this showed"),
            "nothing ran: {text}"
        );
    }
    let output = netdx(&["--json", "lab", "linger", "--explain"]);
    let json = common::assert_schema_valid_output("lab-explain", &output.stdout);
    assert_eq!(json["name"], "linger");
    assert!(json["lesson"].as_str().unwrap().contains("ECONNRESET"));
    assert!(json.get("steps").is_none(), "no transcript: {json}");
    assert_one_line_error(&netdx(&["lab", "nosuch", "--explain"]), "no lab 'nosuch'");
    assert_one_line_error(
        &netdx(&["lab", "recv", "--explain", "--step"]),
        "cannot be used with",
    );
}

#[test]
fn the_list_names_every_lab_and_unknown_ones_get_suggestions() {
    let output = netdx(&["--json", "lab"]);
    let json = common::assert_schema_valid_output("lab-list", &output.stdout);
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|l| !l["calls"].as_array().unwrap().is_empty()),
        "every lab names the calls it teaches: {json}"
    );
    assert_eq!(
        names,
        [
            "reuseaddr",
            "reuseport",
            "sticky",
            "nagle",
            "udp-boundaries",
            "nonblocking",
            "timeout",
            "buffers",
            "shutdown",
            "backlog",
            "v6only",
            "recv",
            "linger",
            "udp-chat",
            "fragments",
            "keepalive",
            "arp",
            "dns-by-hand",
            "http-by-hand",
            "timewait-scale"
        ]
    );
    let text = stdout(&netdx(&["lab"]));
    assert!(
        text.contains("sticky")
            && text.contains("netdx lab NAME")
            && text.contains("netdx lab all"),
        "{text}"
    );
    assert!(
        text.contains("recv, MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT; SO_RCVTIMEO"),
        "{text}"
    );
    assert_one_line_error(
        &netdx(&["lab", "reuse"]),
        "did you mean reuseaddr, reuseport",
    );
}

#[test]
fn the_text_transcript_narrates_each_call_and_step_mode_without_a_terminal_runs_through() {
    let output = std::process::Command::new(netdx_bin())
        .args(["lab", "udp-boundaries", "--step"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.starts_with("lab udp-boundaries: "), "{text}");
    assert!(
        text.contains("[receiver] socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP) = fd "),
        "{text}"
    );
    assert!(
        text.contains("recv(fd ") && text.contains("MSG_TRUNC) = 2000"),
        "{text}"
    );
    assert!(text.contains("= -1 EAGAIN (Try again)"), "{text}");
    assert!(text.contains("↳ "), "{text}");
    assert!(text.contains("What this showed: "), "{text}");
    assert!(!text.contains("[Enter]"), "no pause without a terminal");
}

#[test]
fn step_mode_on_a_terminal_waits_for_enter_between_calls() {
    // script(1) gives netdx a terminal; each newline fed in is one Enter.
    let command = format!("{} lab udp-boundaries --step --color never", netdx_bin());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script (bsdutils) runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for _ in 0..40 {
            let _ = stdin.write_all(b"\n");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let prompts = text.matches("[Enter]").count();
    assert!(prompts >= 10, "one pause per call: {prompts} in {text}");
    assert!(text.contains("What this showed: "), "{text}");
}

/// The observations netdx recorded with `call`, whose arguments contain `args`.
fn observed<'a>(steps: &'a [Value], call: &str, args: &str) -> Vec<&'a str> {
    steps
        .iter()
        .filter(|s| s["actor"] == "netdx" && s["call"] == call)
        .filter(|s| s["args"].as_str().unwrap_or("").contains(args))
        .map(result)
        .collect()
}

#[test]
fn fragments_cuts_1473_bytes_in_two_and_refuses_them_with_pmtudisc_do() {
    if !common::privileged("fragments_cuts_1473_bytes_in_two_and_refuses_them_with_pmtudisc_do") {
        return;
    }
    let steps = lab("fragments");
    let packets = observed(&steps, "ipv4", "captured packet");
    assert_eq!(
        packets.len(),
        3,
        "one packet, then two fragments: {packets:?}"
    );
    assert!(
        packets[0].contains("MF 0, fragment offset 0 (byte 0), total length 1500"),
        "{}",
        packets[0]
    );
    assert!(
        packets[1].contains("MF 1, fragment offset 0 (byte 0), total length 1500"),
        "{}",
        packets[1]
    );
    assert!(
        packets[2].contains("MF 0, fragment offset 185 (byte 1480), total length 21"),
        "{}",
        packets[2]
    );
    let id = |p: &str| p.split(',').next().unwrap().to_string();
    assert_eq!(
        id(packets[1]),
        id(packets[2]),
        "one identification for both halves"
    );
    let snmp = observed(&steps, "/proc/net/snmp", "Ip:");
    assert!(
        snmp[0].contains("A: FragCreates +0") && snmp[0].contains("ReasmReqds +0"),
        "{}",
        snmp[0]
    );
    assert!(
        snmp[1].starts_with("A: FragCreates +2, FragOKs +1")
            && snmp[1].contains("B: FragCreates +0, FragOKs +0, ReasmReqds +2, ReasmOKs +1"),
        "{}",
        snmp[1]
    );
    let snmp6 = observed(&steps, "/proc/net/snmp6", "Ip6");
    assert!(
        snmp6[1].starts_with("A: Ip6FragCreates +2")
            && snmp6[1].contains("B: Ip6FragCreates +0")
            && snmp6[1].contains("Ip6ReasmOKs +1"),
        "only the sender fragments: {}",
        snmp6[1]
    );
    let refused: Vec<_> = calls(&steps, "sendto")
        .into_iter()
        .filter(|s| errno(s) == "EMSGSIZE")
        .collect();
    assert_eq!(
        refused.len(),
        2,
        "IP_PMTUDISC_DO and IPV6_DONTFRAG: {refused:?}"
    );
    let mtu = calls(&steps, "getsockopt");
    assert!(
        mtu[0]["args"].as_str().unwrap().ends_with("IP_MTU"),
        "{}",
        mtu[0]
    );
    assert_eq!(result(mtu[0]), "1500");
    let received: Vec<&str> = calls(&steps, "recvfrom")
        .into_iter()
        .filter(|s| s["actor"] == "receiver")
        .map(result)
        .collect();
    for (got, len) in received.iter().zip(["1472 ", "1473 ", "1452 ", "1453 "]) {
        assert!(got.starts_with(len), "B reads each datagram whole: {got}");
    }
}

#[test]
fn keepalive_ends_a_vanished_peer_in_etimedout_while_the_plain_connection_stays_established() {
    if !common::privileged("keepalive_ends_a_vanished_peer_in_etimedout") {
        return;
    }
    let started = std::time::Instant::now();
    let steps = lab("keepalive");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let plain = observed(&steps, "sock_diag", "without keepalive");
    assert!(plain.len() >= 3, "{plain:?}");
    assert!(
        plain.iter().all(|s| s.starts_with("ESTAB, no timer")),
        "the plain connection never notices: {plain:?}"
    );
    let watched = observed(&steps, "sock_diag", "after its last segment from B");
    assert!(
        watched
            .iter()
            .any(|s| s.contains("keepalive timer") && s.contains("tcp_info: probes 3")),
        "{watched:?}"
    );
    assert!(
        watched
            .iter()
            .any(|s| s.contains("retransmit timer") && s.contains("backoff 2")),
        "{watched:?}"
    );
    let timed_out: Vec<_> = calls(&steps, "recv")
        .into_iter()
        .filter(|s| errno(s) == "ETIMEDOUT")
        .collect();
    assert_eq!(timed_out.len(), 2, "keepalive and TCP_USER_TIMEOUT");
    let keepalives = observed(&steps, "/proc/net/netstat", "TCPKeepAlive");
    let sent: i64 = keepalives[0].trim_start_matches('+').parse().unwrap();
    assert!(
        (3..=4).contains(&sent),
        "3 probes (and one the link refused): {sent}"
    );
}

#[test]
fn arp_cache_goes_reachable_stale_delay_and_failed_and_ehostunreach_needs_ip_recverr() {
    if !common::privileged("arp_cache_goes_reachable_stale_delay_and_failed") {
        return;
    }
    let steps = lab("arp");
    let b_mac = observed(&steps, "ip", "link show veth-b")[0]
        .strip_prefix("link/ether ")
        .unwrap()
        .to_string();
    assert_eq!(observed(&steps, "ip", "before anything is sent"), ["empty"]);
    let b_states: Vec<&str> = observed(&steps, "ip", "neigh show 10.77.0.2");
    let order = ["REACHABLE", "STALE", "DELAY", "REACHABLE"];
    let mut at = 0;
    for state in b_states.iter().map(|s| s.split(' ').next().unwrap()) {
        if at < order.len() && state == order[at] {
            at += 1;
        }
    }
    assert_eq!(at, order.len(), "B's entry: {b_states:?}");
    assert!(
        b_states
            .iter()
            .filter(|s| !s.starts_with("INCOMPLETE") && !s.starts_with("PROBE"))
            .all(|s| s.ends_with(&format!("lladdr {b_mac}"))),
        "{b_states:?}"
    );
    let absent = observed(&steps, "ip", "neigh show 10.77.0.9");
    assert_eq!(absent, ["INCOMPLETE", "FAILED", "INCOMPLETE", "FAILED"]);
    let frames = observed(&steps, "arp", "captured frame");
    assert!(
        frames
            .iter()
            .any(|f| f.starts_with("request (sent by A, Ethernet ")
                && f.contains("-> ff:ff:ff:ff:ff:ff): who has 10.77.0.2? tell 10.77.0.1"))
    );
    assert!(frames.iter().any(
        |f| f.starts_with(&format!("reply (received, Ethernet {b_mac} -> "))
            && f.contains(&format!("10.77.0.2 is at {b_mac}"))
    ));
    assert!(
        frames
            .iter()
            .any(|f| f.contains(&format!("-> {b_mac}): who has 10.77.0.2?"))),
        "the unicast probe: {frames:?}"
    );
    assert!(!frames.iter().any(|f| f.contains("10.77.0.9 is at")));
    let recvs = calls(&steps, "recv");
    let errnos: Vec<&str> = recvs
        .iter()
        .filter(|s| s["actor"] == "sender")
        .map(|s| errno(s))
        .collect();
    assert_eq!(
        errnos,
        ["EAGAIN", "EHOSTUNREACH"],
        "soft error, then IP_RECVERR"
    );
}

#[test]
fn namespace_labs_tell_an_unprivileged_user_what_they_need_in_one_line() {
    let namespace_labs = namespace_labs();
    assert!(namespace_labs.len() >= 3, "{namespace_labs:?}");
    for name in &namespace_labs {
        let args = ["--json", "lab", name.as_str()];
        let output = if common::can_build_hosts() {
            common::netdx_unprivileged(&args)
        } else {
            netdx(&args)
        };
        assert_eq!(output.status.code(), Some(2), "lab {name}");
        assert_one_line_error(&output, "CAP_NET_ADMIN");
        assert_one_line_error(&output, "run it as root");
    }
}

/// The labs the list says run in namespaces of their own.
fn namespace_labs() -> Vec<String> {
    let list: Value = serde_json::from_slice(&netdx(&["--json", "lab"]).stdout).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .filter(|l| l["network"] == "namespaces")
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect()
}

/// The `net:[inode]` namespaces process `pid` holds open.
fn namespaces_held(pid: u32) -> Vec<String> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .filter(|target| target.starts_with("net:["))
        .collect()
}

/// Every process's (and thread's) reference to a network namespace: its
/// current one and the namespace descriptors it holds open.
fn namespace_references() -> Vec<String> {
    let mut found = Vec::new();
    for process in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = process.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        found.extend(namespaces_held(pid));
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                if let Ok(ns) = std::fs::read_link(task.path().join("ns/net")) {
                    found.push(ns.to_string_lossy().into_owned());
                }
            }
        }
    }
    found
}

/// What a lab must not change outside its namespaces: the root namespace's
/// links, named namespaces and the sysctls the labs set in their own.
fn root_state() -> String {
    let sysctls = [
        "net/ipv4/ip_local_port_range",
        "net/ipv4/tcp_tw_reuse",
        "net/ipv4/neigh/default/base_reachable_time_ms",
        "net/ipv4/tcp_keepalive_time",
    ]
    .map(|path| std::fs::read_to_string(format!("/proc/sys/{path}")).unwrap_or_default());
    let links = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .unwrap();
    let named = std::fs::read_dir("/run/netns")
        .map(|dir| {
            dir.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_else(|_| Vec::new());
    // Counters and link-state flags change by themselves; names do not.
    let names: Vec<String> = String::from_utf8_lossy(&links.stdout)
        .lines()
        .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_string()))
        .collect();
    format!("{sysctls:?} {names:?} {named:?}")
}

#[test]
fn a_namespace_lab_interrupted_with_ctrl_c_leaves_no_namespace_socket_or_sysctl_behind() {
    require_root!();
    let namespace_labs = namespace_labs();
    assert!(!namespace_labs.is_empty());
    for name in &namespace_labs {
        let before = root_state();
        let mut child = std::process::Command::new(netdx_bin())
            .args(["lab", name])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        // Interrupted while its two hosts exist, after its first call.
        let feed = common::LineFeed::new(child.stdout.take().unwrap());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let held = loop {
            let held = namespaces_held(pid);
            if held.len() >= 2 {
                break held;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "lab {name} never held its namespaces"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        };
        let first = feed.next(std::time::Duration::from_secs(20));
        assert!(
            first.is_some_and(|line| line.starts_with("lab ")),
            "lab {name} printed nothing"
        );
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let status = common::wait_exit(&mut child, std::time::Duration::from_secs(10));
        assert!(!status.success(), "lab {name} was interrupted");
        assert_eq!(
            status.code(),
            Some(130),
            "lab {name}: Ctrl-C ends a lab with 130"
        );
        // Nothing on the machine still refers to the lab's namespaces, so
        // the kernel has taken them down with their links and sockets.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let references = namespace_references();
            let left: Vec<&String> = held.iter().filter(|ns| references.contains(ns)).collect();
            if left.is_empty() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "lab {name}: {left:?} still referenced after Ctrl-C"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(
            root_state(),
            before,
            "lab {name} changed the root namespace"
        );
    }
}
