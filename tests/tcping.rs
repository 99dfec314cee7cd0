//! `netdx tcping` against a real listener in a namespace pair: handshakes
//! completed and timed by the kernel, closed ports (RST) and DROPped ports
//! (timeouts) as ping counts errors and loss, IPv6, the stream, and no
//! TIME_WAIT left on either side.

mod common;

use std::time::{Duration, Instant};

use common::netns::Pair;
use common::schema::{assert_schema_valid, assert_schema_valid_output};
use common::{assert_one_line_error, json_lines, responder, stdout};

const OPEN: &str = "8080";

/// A pair whose host listens on port 8080 (IPv4 and IPv6), drops SYNs to
/// 8082, and whose IPv6 addresses are ready (DAD done).
fn pair(tag: &str) -> Pair {
    let mut pair = Pair::new(tag);
    pair.host.spawn_ready(
        "python3",
        &[
            &responder("tcp_listener.py"),
            &format!("{}:{OPEN}", Pair::HOST_V4),
            &format!("[{}]:{OPEN}", Pair::HOST_V6),
        ],
    );
    pair.host
        .sh("iptables -A INPUT -p tcp --dport 8082 -j DROP && ip6tables -A INPUT -p tcp --dport 8082 -j DROP");
    let deadline = Instant::now() + Duration::from_secs(20);
    for ns in [&pair.client, &pair.host] {
        while !ns
            .ip(&["-6", "addr", "show", "tentative"])
            .trim()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "IPv6 DAD did not finish");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    pair
}

fn time_waits(pair: &Pair) -> String {
    [&pair.client, &pair.host]
        .iter()
        .map(|ns| ns.sh("ss -Htan state time-wait"))
        .collect()
}

#[test]
fn every_handshake_to_a_listener_connects_is_timed_by_the_kernel_and_leaves_no_time_wait() {
    require_root!();
    let pair = pair("tcpo");
    let target = format!("{}:{OPEN}", Pair::HOST_V4);
    let output = pair
        .client
        .netdx(&["tcping", "-c", "5", "-i", "0.1", &target, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = assert_schema_valid_output("tcping", &output.stdout);
    assert_eq!(report["transmitted"], 5);
    assert_eq!(report["connected"], 5);
    assert_eq!(report["loss_percent"], 0.0);
    let mut ports = std::collections::BTreeSet::new();
    for probe in report["probes"].as_array().unwrap() {
        assert_eq!(probe["status"], "connected", "{probe}");
        let kernel = probe["kernel_rtt_ms"].as_f64().unwrap();
        let connect = probe["connect_ms"].as_f64().unwrap();
        // The kernel's SYN-to-SYN-ACK time sits inside connect()'s.
        assert!(kernel > 0.0 && kernel <= connect, "{probe}");
        assert_eq!(probe["time_ms"], probe["kernel_rtt_ms"]);
        assert_eq!(probe["syn_retransmits"], 0);
        ports.insert(probe["local_port"].as_u64().unwrap());
    }
    assert_eq!(ports.len(), 5, "a new connection per probe");
    let rtt = &report["rtt"];
    assert!(rtt["min"].as_f64() <= rtt["p50"].as_f64());
    assert!(rtt["p50"].as_f64() <= rtt["max"].as_f64());
    // Closed with an RST: nothing in TIME_WAIT on either side.
    assert_eq!(time_waits(&pair), "");
    // The text is ping's shape.
    let text = stdout(
        &pair
            .client
            .netdx(&["tcping", "-c", "2", "-i", "0.1", &target]),
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("TCPING {target}: TCP handshakes"));
    assert!(
        lines[1].starts_with(&format!("Connected to {target}: seq=1 time=")),
        "{text}"
    );
    assert!(
        text.contains("2 probes transmitted, 2 connected, 0% loss, time "),
        "{text}"
    );
    assert!(text.contains("rtt min/avg/max/mdev = "), "{text}");
    assert_eq!(time_waits(&pair), "");
}

#[test]
fn a_closed_port_is_refused_counted_as_errors_and_exits_1() {
    require_root!();
    let pair = pair("tcpc");
    let target = format!("{}:8081", Pair::HOST_V4);
    let output = pair
        .client
        .netdx(&["tcping", "-c", "3", "-i", "0.1", &target]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "Closed {target}: seq=1 connection refused (RST) time="
        )),
        "{text}"
    );
    assert!(
        text.contains("3 probes transmitted, 0 connected, +3 errors (3 closed), 100% loss"),
        "{text}"
    );
    assert!(!text.contains("rtt min"), "{text}");
}

#[test]
fn a_dropped_syn_times_out_after_w_and_exits_1() {
    require_root!();
    let pair = pair("tcpd");
    let target = format!("{}:8082", Pair::HOST_V4);
    let started = Instant::now();
    let (code, report) = pair
        .client
        .netdx_json(&["tcping", "-c", "2", "-i", "0.2", "-W", "0.5", &target]);
    let took = started.elapsed();
    assert_eq!(code, Some(1));
    assert_eq!(report["timeouts"], 2);
    assert_eq!(report["connected"], 0);
    assert_eq!(report["loss_percent"], 100.0);
    // The second probe starts at 0.2 s and is given up 0.5 s later.
    let elapsed = report["elapsed_ms"].as_f64().unwrap();
    assert!((700.0..1500.0).contains(&elapsed), "{elapsed}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Abandoned in SYN_SENT: nothing lingers.
    assert_eq!(time_waits(&pair), "");
}

#[test]
fn ipv6_handshakes_connect_and_the_stream_is_start_probes_done() {
    require_root!();
    let pair = pair("tcp6");
    let bracketed = format!("[{}]:{OPEN}", Pair::HOST_V6);
    let output = pair.client.netdx(&[
        "tcping",
        "-6",
        "-c",
        "3",
        "-i",
        "0.1",
        &bracketed,
        "--json-stream",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines = json_lines(&output.stdout);
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["start", "probe", "probe", "probe", "done"]);
    for line in &lines {
        assert_schema_valid("tcping.stream", line);
    }
    assert_eq!(lines[0]["address"], Pair::HOST_V6);
    assert_eq!(lines[4]["connected"], 3);
    // HOST PORT as two words is the same target.
    let (code, report) = pair
        .client
        .netdx_json(&["tcping", "-c", "1", Pair::HOST_V6, OPEN]);
    assert_eq!(code, Some(0));
    assert_eq!(report["port"], 8080);
    assert_eq!(time_waits(&pair), "");
}

#[test]
fn bad_tcping_arguments_are_one_line_and_exit_2() {
    for (args, expected) in [
        (&["tcping", "example.test"][..], "names no port"),
        (
            &["tcping", "::1:80"],
            "reads as an IPv6 address with no port",
        ),
        (&["tcping", "127.0.0.1:0"], "is not a port"),
        (&["tcping", "127.0.0.1:http"], "is not a port"),
        (&["tcping", "127.0.0.1", "70000"], "is not a port"),
        (&["tcping", "nosuch.invalid:80"], "nosuch.invalid"),
        (&["tcping", "-4", "[::1]:80"], "-4"),
        (&["tcping", "-c", "0", "127.0.0.1:80"], "at least 1"),
        (&["tcping", "-W", "0", "127.0.0.1:80"], "-W"),
    ] {
        assert_one_line_error(&common::netdx(args), expected);
    }
}
