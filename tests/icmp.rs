//! `netdx icmp` against real hosts in a routed chain of namespaces: what
//! comes back is decoded as the kernel sent it.

mod common;

use common::{Chain, assert_one_line_error, stderr, stdout};
use serde_json::Value;

/// Runs `netdx --json icmp ARGS` in the chain's client; exit code and document.
fn icmp_json(chain: &Chain, args: &[&str]) -> (Option<i32>, Value) {
    let (code, json) = chain.client.netdx_json(&[&["icmp"], args].concat());
    // Every document read here is also held to docs/schema/icmp.json.
    common::assert_schema_valid("icmp", &json);
    (code, json)
}

fn events<'a>(json: &'a Value, kind: &str) -> Vec<&'a Value> {
    json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == kind)
        .collect()
}

#[test]
fn an_echo_request_to_a_namespace_host_is_answered_and_both_layers_decode() {
    require_root!();
    let chain = Chain::new("icmpecho");
    let (code, json) = icmp_json(
        &chain,
        &[
            "--id",
            "4660",
            "--seq",
            "7",
            "--payload",
            "0x0102deadbeef",
            Chain::TARGET,
        ],
    );
    assert_eq!(code, Some(0), "{json}");
    let answers = events(&json, "answer");
    assert_eq!(answers.len(), 1, "{json}");
    let answer = answers[0];
    assert_eq!(answer["from"], Chain::TARGET);
    assert_eq!(answer["matched_by"], "identifier_and_sequence");
    let ip = &answer["ip"];
    assert_eq!(ip["version"], 4);
    assert_eq!(ip["ihl"], 5);
    assert_eq!(ip["protocol"], 1);
    assert_eq!(ip["checksum_ok"], true);
    assert_eq!(ip["source"], Chain::TARGET);
    assert_eq!(ip["destination"], "10.9.10.1");
    // The target sends with TTL 64 and two routers each take one off.
    assert_eq!(ip["ttl"], 62);
    assert_eq!(ip["total_length"], 20 + 8 + 6);
    let icmp = &answer["icmp"];
    assert_eq!(icmp["type"], 0);
    assert_eq!(icmp["type_name"], "echo-reply");
    assert_eq!(icmp["checksum_ok"], true);
    assert_eq!(icmp["body"]["ident"], 4660);
    assert_eq!(icmp["body"]["seq"], 7);
    assert_eq!(icmp["body"]["payload"], "0102deadbeef");
    // What was sent decodes too.
    let sent = events(&json, "sent")[0];
    assert_eq!(sent["icmp"]["type"], 8);
    assert_eq!(sent["icmp"]["checksum_ok"], true);
    assert_eq!(sent["bytes"], 14);
}

#[test]
fn a_timestamp_request_returns_the_peers_clock() {
    require_root!();
    let chain = Chain::new("icmpts");
    let (code, json) = icmp_json(&chain, &["--type", "timestamp", Chain::TARGET]);
    assert_eq!(code, Some(0), "{json}");
    let answer = events(&json, "answer")[0];
    let body = &answer["icmp"]["body"];
    assert_eq!(answer["icmp"]["type"], 14);
    assert_eq!(body["shape"], "timestamp");
    let sent = &events(&json, "sent")[0]["icmp"]["body"];
    assert_eq!(body["originate"], sent["originate"], "originate is echoed");
    // Same machine, same clock: the peer's times are within a second of ours.
    let originate = sent["originate"].as_i64().unwrap();
    for field in ["receive", "transmit"] {
        let t = body[field].as_i64().unwrap();
        let diff = (t - originate).rem_euclid(86_400_000);
        assert!(
            !(1000..=86_399_000).contains(&diff),
            "{field} {t} vs {originate}"
        );
    }
}

#[test]
fn a_request_with_a_bad_checksum_is_dropped_by_the_receiver() {
    require_root!();
    let chain = Chain::new("icmpbad");
    let (code, json) = icmp_json(&chain, &["--bad-checksum", "-W", "0.5", Chain::TARGET]);
    assert_eq!(code, Some(1), "no answer is exit 1: {json}");
    assert_eq!(events(&json, "sent")[0]["icmp"]["checksum_ok"], false);
    assert!(events(&json, "answer").is_empty());
    assert_eq!(events(&json, "no_answer").len(), 1);
    // And the same request with a good checksum is answered.
    let (code, _) = icmp_json(&chain, &["-W", "2", Chain::TARGET]);
    assert_eq!(code, Some(0));
}

#[test]
fn ttl_1_to_a_two_hop_target_gets_time_exceeded_from_router_a_quoting_the_probe() {
    require_root!();
    let chain = Chain::new("icmpttl");
    let (code, json) = icmp_json(
        &chain,
        &["--ttl", "1", "--id", "777", "--seq", "3", Chain::TARGET],
    );
    assert_eq!(code, Some(0), "{json}");
    let answer = events(&json, "answer")[0];
    assert_eq!(answer["from"], Chain::ROUTER_A);
    assert_eq!(answer["matched_by"], "quoted_original");
    let icmp = &answer["icmp"];
    assert_eq!(icmp["type_name"], "time-exceeded");
    assert_eq!(icmp["code_name"], "ttl-exceeded-in-transit");
    let quoted = &icmp["body"]["quoted"];
    assert_eq!(quoted["source"], "10.9.10.1");
    assert_eq!(quoted["destination"], Chain::TARGET);
    assert_eq!(quoted["protocol"], 1);
    assert_eq!(quoted["transport"]["protocol"], "icmp");
    assert_eq!(quoted["transport"]["type"], 8);
    assert_eq!(quoted["transport"]["ident"], 777);
    assert_eq!(quoted["transport"]["seq"], 3);
    // TTL 2 expires at router B instead.
    let (_, json) = icmp_json(&chain, &["--ttl", "2", Chain::TARGET]);
    assert_eq!(events(&json, "answer")[0]["from"], Chain::ROUTER_B);
}

#[test]
fn ipv6_echo_is_answered_over_two_routers() {
    require_root!();
    let chain = Chain::new("icmpv6");
    chain.warm_up_v6();
    let (code, json) = icmp_json(
        &chain,
        &[
            "--payload",
            "hello",
            "-c",
            "2",
            "-i",
            "0.1",
            Chain::TARGET_V6,
        ],
    );
    assert_eq!(code, Some(0), "{json}");
    let answers = events(&json, "answer");
    assert_eq!(answers.len(), 2);
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer["from"], Chain::TARGET_V6);
        assert_eq!(answer["icmp"]["type"], 129);
        assert_eq!(answer["icmp"]["v6"], true);
        assert_eq!(answer["icmp"]["body"]["seq"], n as u64 + 1);
        assert_eq!(answer["icmp"]["body"]["payload"], "68656c6c6f");
        assert_eq!(answer["hop_limit"], 62);
    }
    // Hop limit 1 expires at router A, which quotes the IPv6 probe.
    let (_, json) = icmp_json(&chain, &["--ttl", "1", Chain::TARGET_V6]);
    let answer = events(&json, "answer")[0];
    assert_eq!(answer["from"], Chain::ROUTER_A_V6);
    assert_eq!(answer["icmp"]["type_name"], "time-exceeded");
    assert_eq!(
        answer["icmp"]["body"]["quoted"]["destination"],
        Chain::TARGET_V6
    );
}

#[test]
fn hdrincl_sends_the_ipv4_header_netdx_built() {
    require_root!();
    let chain = Chain::new("icmphdr");
    let (code, json) = icmp_json(
        &chain,
        &[
            "--hdrincl",
            "--tos",
            "0x10",
            "--df",
            "--ttl",
            "9",
            Chain::TARGET,
        ],
    );
    assert_eq!(code, Some(0), "{json}");
    let sent = events(&json, "sent")[0];
    let ip = &sent["ip"];
    assert_eq!(ip["tos"], 16);
    assert_eq!(ip["ttl"], 9);
    assert_eq!(ip["dont_fragment"], true);
    assert_eq!(ip["source"], "10.9.10.1");
    assert_eq!(ip["checksum_ok"], true);
    assert_eq!(sent["bytes"], 20 + 8 + 56);
    // The reply proves the kernel put our header on the wire unchanged
    // enough for the target to answer; Linux echoes the request's TOS.
    let answer = events(&json, "answer")[0];
    assert_eq!(answer["ip"]["tos"], 16);
}

#[test]
fn text_output_shows_each_layer() {
    require_root!();
    let chain = Chain::new("icmptext");
    let output = chain.client.netdx(&["icmp", "--ttl", "1", Chain::TARGET]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for fragment in [
        "#1 sent 64 bytes to 10.9.12.2",
        "time-exceeded from 10.9.10.2",
        "IPv4  version 4  ihl 5 (20 bytes)",
        "header checksum",
        "type 11 time-exceeded  code 0 ttl-exceeded-in-transit",
        "quoted IPv4: 10.9.10.1 → 10.9.12.2  ttl 1  protocol 1 (icmp)",
        "--- 1 sent, 1 answered (1 ICMP errors)",
    ] {
        assert!(text.contains(fragment), "missing {fragment:?} in:\n{text}");
    }
}

#[test]
fn without_cap_net_raw_it_says_how_to_get_it() {
    require_root!();
    let output = common::netdx_unprivileged(&["icmp", "127.0.0.1"]);
    assert_one_line_error(&output, "setcap cap_net_raw+ep");
}

#[test]
fn bad_arguments_are_one_line_errors() {
    for (args, fragment) in [
        (
            vec!["icmp", "--type", "ping", "127.0.0.1"],
            "not an ICMP type",
        ),
        (vec!["icmp", "--code", "256", "127.0.0.1"], "out of range"),
        (
            vec!["icmp", "--payload", "0xabc", "127.0.0.1"],
            "not hex bytes",
        ),
        (
            vec!["icmp", "--ttl", "0", "127.0.0.1"],
            "ttl 0 out of range",
        ),
        (
            vec!["icmp", "--type", "timestamp", "::1"],
            "ICMPv6 has no timestamp",
        ),
        (vec!["icmp", "--bad-checksum", "::1"], "IPv4 only"),
        (vec!["icmp", "--hdrincl", "::1"], "IPv4 header"),
        (vec!["icmp", "--size", "70000", "127.0.0.1"], "too large"),
        (vec!["icmp", "no-such-host.invalid"], "cannot resolve"),
    ] {
        let output = common::netdx(&args);
        assert_one_line_error(&output, fragment);
    }
}

#[test]
fn replies_that_fail_their_checks_or_belong_to_another_probe_are_not_trusted() {
    require_root!();
    // A host whose kernel is quiet and whose scripted responder answers
    // probe 1 with a bad checksum, probe 2 with another identifier, probe 3
    // correctly.
    let mut pair = common::Pair::new("icmpmis");
    pair.host.sysctl("net.ipv4.icmp_echo_ignore_all=1");
    pair.host.spawn_ready(
        "python3",
        &[
            &common::responder("icmp_responder.py"),
            "badsum,foreign,echo",
        ],
    );
    let (code, json) = pair.client.netdx_json(&[
        "icmp",
        "-c",
        "3",
        "-i",
        "0.1",
        "-W",
        "0.5",
        common::Pair::HOST_V4,
    ]);
    assert_eq!(code, Some(0), "{json}");
    let answered: Vec<u64> = events(&json, "answer")
        .iter()
        .map(|a| a["probe"].as_u64().unwrap())
        .collect();
    assert_eq!(answered, vec![3], "{json}");
    let missing: Vec<u64> = events(&json, "no_answer")
        .iter()
        .map(|a| a["probe"].as_u64().unwrap())
        .collect();
    assert_eq!(missing, vec![1, 2]);
    assert_eq!(json["summary"]["ignored"], 2);
}

#[test]
fn replies_whose_ip_header_carries_options_are_answers() {
    require_root!();
    // The responder answers both probes, the first in an IP header with a
    // Record Route option (IHL above 5), as a router-recorded reply looks.
    let mut pair = common::Pair::new("icmpopt");
    pair.host.sysctl("net.ipv4.icmp_echo_ignore_all=1");
    pair.host.spawn_ready(
        "python3",
        &[&common::responder("icmp_responder.py"), "options,echo"],
    );
    let (code, json) = pair.client.netdx_json(&[
        "icmp",
        "-c",
        "2",
        "-i",
        "0.1",
        "-W",
        "1",
        common::Pair::HOST_V4,
    ]);
    assert_eq!(code, Some(0), "{json}");
    let answers = events(&json, "answer");
    let answered: Vec<u64> = answers
        .iter()
        .map(|a| a["probe"].as_u64().unwrap())
        .collect();
    assert_eq!(answered, vec![1, 2], "{json}");
    assert!(answers[0]["ip"]["ihl"].as_u64().unwrap() > 5, "{json}");
    assert_eq!(json["summary"]["ignored"], 0);
}
