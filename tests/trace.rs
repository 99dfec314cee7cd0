//! `netdx trace` through a routed chain of namespaces: client → router A →
//! router B → target.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{Chain, assert_one_line_error, stderr, stdout};
use serde_json::Value;

/// Runs `netdx --json trace -n ARGS` in the chain's client.
fn trace_json(chain: &Chain, args: &[&str]) -> (Option<i32>, Value) {
    let (code, json) = chain.client.netdx_json(&[&["trace", "-n"], args].concat());
    // Every walk and report read here (with -c too) is also held to
    // docs/schema/trace.json.
    common::assert_schema_valid("trace", &json);
    (code, json)
}

/// The responders of each hop of the first walk; `None` for a silent probe.
fn path(json: &Value) -> Vec<Vec<Option<String>>> {
    json["walks"][0]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hop| {
            hop["probes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["responder"].as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

fn all(address: &str, probes: usize) -> Vec<Option<String>> {
    vec![Some(address.to_string()); probes]
}

#[test]
fn every_method_shows_router_a_router_b_and_the_target_in_order() {
    require_root!();
    let chain = Chain::new("trorder");
    for method in ["--udp", "--icmp", "--tcp"] {
        let (code, json) = trace_json(&chain, &[method, Chain::TARGET]);
        assert_eq!(code, Some(0), "{method}: {json}");
        assert_eq!(
            path(&json),
            vec![
                all(Chain::ROUTER_A, 3),
                all(Chain::ROUTER_B, 3),
                all(Chain::TARGET, 3)
            ],
            "{method}"
        );
        assert_eq!(json["reached"], true);
        let hops = json["walks"][0]["hops"].as_array().unwrap();
        assert_eq!(hops[0]["probes"][0]["answer"], "time_exceeded");
        assert_eq!(hops[2]["probes"][0]["answer"], "reached");
        for hop in hops {
            for probe in hop["probes"].as_array().unwrap() {
                let rtt = probe["rtt_ms"].as_f64().unwrap();
                assert!(rtt > 0.0 && rtt < 1000.0, "{method}: rtt {rtt}");
            }
        }
    }
}

/// (TTL, responder) of each line, which must all be traceroute hop lines
/// with three round trips.
fn hop_lines(lines: &[&str]) -> Vec<(String, String)> {
    let hop =
        regex::Regex::new(r"^ ?(\d)  (\S+)  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms$").unwrap();
    lines
        .iter()
        .map(|line| {
            let c = hop
                .captures(line)
                .unwrap_or_else(|| panic!("not a hop line: {line:?}"));
            (c[1].to_string(), c[2].to_string())
        })
        .collect()
}

#[test]
fn text_output_looks_like_traceroute() {
    require_root!();
    let chain = Chain::new("trtext");
    assert_traceroute_text(
        &chain,
        Chain::TARGET,
        "netdx trace to 10.9.12.2 (10.9.12.2), 30 hops max, udp probes to port 33434",
        [Chain::ROUTER_A, Chain::ROUTER_B, Chain::TARGET],
    );
}

/// `netdx trace -n TARGET` exits 0 with traceroute's header and one line
/// per hop, in order, naming `hops`.
fn assert_traceroute_text(chain: &Chain, target: &str, header: &str, hops: [&str; 3]) {
    let output = chain.client.netdx(&["trace", "-n", target]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], header);
    let seen = hop_lines(&lines[1..]);
    let expected: Vec<(String, String)> = hops
        .iter()
        .enumerate()
        .map(|(n, hop)| ((n + 1).to_string(), hop.to_string()))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_router_that_drops_icmp_shows_stars_and_the_walk_continues() {
    require_root!();
    let chain = Chain::new("trsilent");
    chain.router_b.sh("iptables -A OUTPUT -p icmp -j DROP");
    for method in ["--udp", "--icmp", "--tcp"] {
        let started = std::time::Instant::now();
        let (code, json) = trace_json(&chain, &[method, "-w", "3", Chain::TARGET]);
        assert_eq!(code, Some(0), "{method}: {json}");
        assert_eq!(
            path(&json),
            vec![
                all(Chain::ROUTER_A, 3),
                vec![None, None, None],
                all(Chain::TARGET, 3)
            ],
            "{method}"
        );
        // Answers from the later hop cut the wait for the silent one short
        // (traceroute's NEAR factor), instead of waiting out -w 3.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{method} took {:?}",
            started.elapsed()
        );
    }
}

/// Runs `netdx trace -n ARGS` in the chain's client while capturing what
/// leaves its interface; the records of probes to `target` with `protocol`.
fn probes_on_the_wire(chain: &Chain, args: &[&str], target: &str, protocol: u64) -> Vec<Value> {
    let file = format!(
        "{}/netdx-trace-capture-{}-{protocol}-{}.jsonl",
        std::env::temp_dir().display(),
        std::process::id(),
        target.contains(':')
    );
    let mut capture = chain
        .client
        .command(
            "python3",
            &[&common::responder("capture_probes.py"), "c0", &file, "1.5"],
        )
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut ready = String::new();
    BufReader::new(capture.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready");
    let (code, _) = trace_json(chain, args);
    assert_eq!(code, Some(0), "{args:?}");
    capture.wait().unwrap();
    let records: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|r: &Value| r["protocol"] == protocol && r["dst"] == target)
        .collect();
    let _ = std::fs::remove_file(&file);
    records
}

/// Asserts `records` share `flow` fields and differ in `id`, over TTLs 1-3.
fn one_flow_told_apart_by(records: &[Value], flow: &[&str], id: &str, what: &str) {
    assert!(records.len() >= 9, "{what}: {records:?}");
    let flows: std::collections::BTreeSet<String> = records
        .iter()
        .map(|r| {
            flow.iter()
                .map(|f| r[*f].to_string())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    assert_eq!(
        flows.len(),
        1,
        "{what}: one flow for every probe: {flows:?}"
    );
    let ids: std::collections::BTreeSet<u64> =
        records.iter().map(|r| r[id].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), records.len(), "{what}: each probe its own {id}");
    let ttls: std::collections::BTreeSet<u64> =
        records.iter().map(|r| r["ttl"].as_u64().unwrap()).collect();
    assert!(ttls.contains(&1) && ttls.contains(&2) && ttls.contains(&3));
}

#[test]
fn udp_and_tcp_probes_keep_one_flow_and_differ_only_in_the_quoted_field() {
    require_root!();
    let chain = Chain::new("trparis");
    for (method, protocol, id) in [("--udp", 17, "checksum"), ("--tcp", 6, "seq")] {
        let records = probes_on_the_wire(&chain, &[method, Chain::TARGET], Chain::TARGET, protocol);
        one_flow_told_apart_by(&records, &["sport", "dport"], id, method);
    }
}

#[test]
fn ipv6_probes_keep_one_flow_label_and_ports_and_differ_only_in_the_quoted_field() {
    require_root!();
    let chain = Chain::new("tr6paris");
    chain.warm_up_v6();
    // IPv6 load balancers hash the flow label too: it must not change.
    for (method, protocol, flow, id) in [
        (
            "--udp",
            17,
            &["sport", "dport", "flow_label"][..],
            "checksum",
        ),
        ("--tcp", 6, &["sport", "dport", "flow_label"][..], "seq"),
        ("--icmp", 58, &["type", "ident", "flow_label"][..], "seq"),
    ] {
        let records = probes_on_the_wire(
            &chain,
            &["-6", method, Chain::TARGET_V6],
            Chain::TARGET_V6,
            protocol,
        );
        one_flow_told_apart_by(&records, flow, id, method);
    }
}

#[test]
fn tcp_reaches_an_open_port_with_syn_ack_and_a_closed_one_with_rst() {
    require_root!();
    let mut chain = Chain::new("trtcp");
    chain.target.spawn_ready(
        "python3",
        &[
            "-c",
            "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',8080))\ns.listen(16)\nprint('ready',flush=True)\ntime.sleep(60)",
        ],
    );
    for port in ["8080", "8081"] {
        let (code, json) = trace_json(&chain, &["--tcp", "-p", port, Chain::TARGET]);
        assert_eq!(code, Some(0), "port {port}: {json}");
        assert_eq!(path(&json)[2], all(Chain::TARGET, 3), "port {port}");
        assert_eq!(json["port"], port.parse::<u64>().unwrap());
    }
}

#[test]
fn report_mode_counts_loss_and_round_trips_per_hop() {
    require_root!();
    let chain = Chain::new("trreport");
    let (code, json) = trace_json(&chain, &["-c", "4", "-q", "1", Chain::TARGET]);
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(json["rounds"], 4);
    assert_eq!(json["walks"].as_array().unwrap().len(), 4);
    let hops = json["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 3);
    for (hop, address) in hops
        .iter()
        .zip([Chain::ROUTER_A, Chain::ROUTER_B, Chain::TARGET])
    {
        assert_eq!(hop["sent"], 4);
        assert_eq!(hop["received"], 4);
        assert_eq!(hop["loss_pct"], 0.0);
        assert_eq!(hop["responders"][0], address);
        assert!(hop["best_ms"].as_f64() <= hop["avg_ms"].as_f64());
        assert!(hop["avg_ms"].as_f64() <= hop["worst_ms"].as_f64());
    }
    let output = chain
        .client
        .netdx(&["trace", "-n", "-c", "2", "-q", "1", Chain::TARGET]);
    let text = stdout(&output);
    assert!(text.contains("Loss%") && text.contains("StDev"), "{text}");
    assert!(text.contains(Chain::ROUTER_B), "{text}");
}

#[test]
fn an_unanswered_target_ends_at_max_hops_with_exit_1() {
    require_root!();
    let chain = Chain::new("trnone");
    chain.target.sh("iptables -A INPUT -j DROP");
    let (code, json) = trace_json(&chain, &["-m", "4", "-w", "0.5", Chain::TARGET]);
    assert_eq!(code, Some(1), "{json}");
    assert_eq!(json["reached"], false);
    let path = path(&json);
    assert_eq!(path.len(), 4);
    assert_eq!(path[0], all(Chain::ROUTER_A, 3));
    assert_eq!(path[2], vec![None, None, None]);
}

#[test]
fn a_router_reporting_the_target_unreachable_ends_the_walk_with_its_flag() {
    require_root!();
    let chain = Chain::new("trunreach");
    chain
        .router_b
        .sh("iptables -A FORWARD -d 10.9.12.2 -j REJECT --reject-with icmp-host-unreachable");
    // Probes with TTL 3 reach router B's FORWARD chain and are refused there:
    // hop 3 is router B, flagged !H, and the walk stops.
    let output = chain.client.netdx(&["trace", "-n", Chain::TARGET]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with(" 3  10.9.11.2") && last.contains("!H"),
        "{text}"
    );
    // JSON names the kind; the flag is the text view's word for it.
    let (code, json) = trace_json(&chain, &[Chain::TARGET]);
    assert_eq!(code, Some(1), "{json}");
    let hops = json["walks"][0]["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 3, "{json}");
    assert_eq!(
        hops[2]["probes"][0]["answer"],
        serde_json::json!({"unreachable": {"kind": "host"}})
    );
}

/// Runs `netdx --json trace -n -6 ARGS` in the chain's client.
fn trace6_json(chain: &Chain, args: &[&str]) -> (Option<i32>, Value) {
    trace_json(chain, &[&["-6"], args].concat())
}

#[test]
fn every_method_walks_the_ipv6_chain_router_by_router() {
    require_root!();
    let chain = Chain::new("tr6order");
    chain.warm_up_v6();
    for method in ["--udp", "--icmp", "--tcp"] {
        let (code, json) = trace6_json(&chain, &[method, Chain::TARGET_V6]);
        assert_eq!(code, Some(0), "{method}: {json}");
        assert_eq!(
            path(&json),
            vec![
                all(Chain::ROUTER_A_V6, 3),
                all(Chain::ROUTER_B_V6, 3),
                all(Chain::TARGET_V6, 3)
            ],
            "{method}"
        );
        assert_eq!(json["reached"], true);
        assert_eq!(json["target"], Chain::TARGET_V6);
        assert_eq!(json["source"], Chain::CLIENT_V6);
        let hops = json["walks"][0]["hops"].as_array().unwrap();
        assert_eq!(hops[0]["probes"][0]["answer"], "time_exceeded");
        assert_eq!(hops[2]["probes"][0]["answer"], "reached");
        for hop in hops {
            for probe in hop["probes"].as_array().unwrap() {
                let rtt = probe["rtt_ms"].as_f64().unwrap();
                assert!(rtt > 0.0 && rtt < 1000.0, "{method}: rtt {rtt}");
            }
        }
    }
}

#[test]
fn an_ipv6_literal_target_prints_traceroute_lines_without_asking_for_minus_6() {
    require_root!();
    let chain = Chain::new("tr6text");
    chain.warm_up_v6();
    assert_traceroute_text(
        &chain,
        Chain::TARGET_V6,
        "netdx trace to fd0c::2 (fd0c::2), 30 hops max, udp probes to port 33434",
        [Chain::ROUTER_A_V6, Chain::ROUTER_B_V6, Chain::TARGET_V6],
    );
}

#[test]
fn an_ipv6_router_that_sends_no_time_exceeded_shows_stars_and_the_walk_continues() {
    require_root!();
    let chain = Chain::new("tr6silent");
    chain.warm_up_v6();
    // Only Time Exceeded: router B must keep answering neighbour solicitations.
    chain
        .router_b
        .sh("ip6tables -A OUTPUT -p icmpv6 --icmpv6-type time-exceeded -j DROP");
    for method in ["--udp", "--icmp", "--tcp"] {
        let started = std::time::Instant::now();
        let (code, json) = trace6_json(&chain, &[method, "-w", "3", Chain::TARGET_V6]);
        assert_eq!(code, Some(0), "{method}: {json}");
        assert_eq!(
            path(&json),
            vec![
                all(Chain::ROUTER_A_V6, 3),
                vec![None, None, None],
                all(Chain::TARGET_V6, 3)
            ],
            "{method}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{method} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn ipv6_tcp_reaches_an_open_port_with_syn_ack_and_a_closed_one_with_rst() {
    require_root!();
    let mut chain = Chain::new("tr6tcp");
    chain.warm_up_v6();
    chain.target.spawn_ready(
        "python3",
        &[
            "-c",
            "import socket,time\ns=socket.socket(socket.AF_INET6)\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('::',8080))\ns.listen(16)\nprint('ready',flush=True)\ntime.sleep(60)",
        ],
    );
    for port in ["8080", "8081"] {
        let (code, json) = trace6_json(&chain, &["--tcp", "-p", port, Chain::TARGET_V6]);
        assert_eq!(code, Some(0), "port {port}: {json}");
        assert_eq!(path(&json)[2], all(Chain::TARGET_V6, 3), "port {port}");
        assert_eq!(json["port"], port.parse::<u64>().unwrap());
    }
}

#[test]
fn ipv6_report_mode_counts_loss_and_round_trips_per_hop() {
    require_root!();
    let chain = Chain::new("tr6report");
    chain.warm_up_v6();
    let (code, json) = trace6_json(&chain, &["-c", "4", "-q", "1", Chain::TARGET_V6]);
    assert_eq!(code, Some(0), "{json}");
    assert_eq!(json["rounds"], 4);
    assert_eq!(json["walks"].as_array().unwrap().len(), 4);
    let hops = json["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 3);
    for (hop, address) in
        hops.iter()
            .zip([Chain::ROUTER_A_V6, Chain::ROUTER_B_V6, Chain::TARGET_V6])
    {
        assert_eq!(hop["sent"], 4);
        assert_eq!(hop["received"], 4);
        assert_eq!(hop["loss_pct"], 0.0);
        assert_eq!(hop["responders"][0], address);
        assert!(hop["best_ms"].as_f64() <= hop["avg_ms"].as_f64());
        assert!(hop["avg_ms"].as_f64() <= hop["worst_ms"].as_f64());
    }
    let output = chain.client.netdx(&[
        "trace",
        "-n",
        "-6",
        "--icmp",
        "-c",
        "2",
        "-q",
        "1",
        Chain::TARGET_V6,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("Loss%") && text.contains("StDev"), "{text}");
    assert!(text.contains(Chain::ROUTER_B_V6), "{text}");
}

#[test]
fn an_ipv6_router_reporting_the_target_unreachable_ends_the_walk_with_its_flag() {
    require_root!();
    let chain = Chain::new("tr6unreach");
    chain.warm_up_v6();
    chain
        .router_b
        .sh("ip6tables -A FORWARD -d fd0c::2 -j REJECT --reject-with icmp6-addr-unreachable");
    let output = chain.client.netdx(&["trace", "-n", Chain::TARGET_V6]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let last = text.lines().last().unwrap();
    assert!(
        last.starts_with(" 3  fd0b::2") && last.contains("!H"),
        "{text}"
    );
    let (code, json) = trace6_json(&chain, &["--tcp", Chain::TARGET_V6]);
    assert_eq!(code, Some(1), "{json}");
    assert_eq!(
        json["walks"][0]["hops"][2]["probes"][0]["answer"],
        serde_json::json!({"unreachable": {"kind": "host"}})
    );
}

#[test]
fn bad_arguments_are_one_line_errors() {
    for (args, fragment) in [
        (vec!["trace", "-4", "::1"], "no address of the family -4"),
        (
            vec!["trace", "-6", "127.0.0.1"],
            "no address of the family -6",
        ),
        (
            vec!["trace", "-f", "5", "-m", "3", "127.0.0.1"],
            "beyond the last",
        ),
        (
            vec!["trace", "--icmp", "-p", "80", "127.0.0.1"],
            "ICMP probes have none",
        ),
        (vec!["trace", "-q", "11", "127.0.0.1"], "1 to 10"),
        (vec!["trace", "-w", "0", "127.0.0.1"], "more than zero"),
        (vec!["trace", "-p", "70000", "127.0.0.1"], "out of range"),
        (
            vec!["trace", "--udp", "--tcp", "127.0.0.1"],
            "cannot be used with",
        ),
        (vec!["trace", "no-such-host.invalid"], "cannot resolve"),
    ] {
        let output = common::netdx(&args);
        assert_one_line_error(&output, fragment);
    }
}

#[test]
fn without_cap_net_raw_it_says_how_to_get_it() {
    require_root!();
    let output = common::netdx_unprivileged(&["trace", "-n", "127.0.0.1"]);
    assert_one_line_error(&output, "setcap cap_net_raw+ep");
}

// ---- --json-stream ---------------------------------------------------------

/// `netdx trace -n --json-stream ARGS` in the chain's client: exit code and
/// lines, each held to docs/schema/trace.stream.json.
fn trace_stream(chain: &Chain, args: &[&str]) -> (Option<i32>, Vec<Value>) {
    let out = chain
        .client
        .netdx(&[&["trace", "-n", "--json-stream"], args].concat());
    assert_eq!(stderr(&out), "", "nothing on stderr");
    let lines = common::json_lines(&out.stdout);
    for line in &lines {
        common::assert_schema_valid("trace.stream", line);
    }
    (out.status.code(), lines)
}

/// `line` without the fields a stream line adds to the document's object.
fn without(line: &Value, added: &[&str]) -> Value {
    let mut line = line.clone();
    for key in added {
        line.as_object_mut().unwrap().remove(*key);
    }
    line
}

#[test]
fn stream_gives_each_hop_as_the_json_document_has_it_and_the_document_last() {
    require_root!();
    let chain = Chain::new("trstream");
    chain.router_b.sh("iptables -A OUTPUT -p icmp -j DROP");
    let (code, lines) = trace_stream(&chain, &["-w", "3", Chain::TARGET]);
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(
        common::event_names(&lines),
        ["start", "hop", "hop", "hop", "summary"]
    );
    let start = &lines[0];
    assert_eq!(
        (&start["target"], &start["method"]),
        (&Chain::TARGET.into(), &"udp".into())
    );
    assert_eq!(
        (start["port"].as_u64(), start["rounds"].as_u64()),
        (Some(33434), Some(1))
    );
    let summary = &lines[4];
    let document_hops = summary["walks"][0]["hops"].as_array().unwrap();
    for (n, hop) in lines[1..4].iter().enumerate() {
        assert_eq!(hop["round"], 1);
        assert_eq!(hop["ttl"], n + 1);
        assert_eq!(hop["names"], serde_json::json!({}), "-n: no names");
        assert_eq!(without(hop, &["event", "round", "names"]), document_hops[n]);
    }
    let stream_path: Vec<Vec<Option<String>>> = path(summary);
    assert_eq!(
        stream_path,
        vec![
            all(Chain::ROUTER_A, 3),
            vec![None, None, None],
            all(Chain::TARGET, 3)
        ]
    );
    // The summary is the --json document, which a run with --json agrees with.
    let (_, document) = trace_json(&chain, &["-w", "3", Chain::TARGET]);
    let summary = without(summary, &["event"]);
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&summary), keys(&document));
    assert_eq!(path(&summary), path(&document));
}

#[test]
fn stream_report_mode_gives_each_round_as_it_ends_and_the_statistics_last() {
    require_root!();
    let chain = Chain::new("trstreamc");
    let (code, lines) = trace_stream(&chain, &["-c", "3", "-q", "1", Chain::TARGET]);
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(
        common::event_names(&lines),
        ["start", "round", "round", "round", "summary"]
    );
    let summary = &lines[4];
    for (n, round) in lines[1..4].iter().enumerate() {
        assert_eq!(round["round"], n + 1);
        assert_eq!(round["reached"], true);
        assert_eq!(
            without(round, &["event", "round", "names"]),
            summary["walks"][n]
        );
    }
    let hops = summary["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 3);
    assert!(
        hops.iter()
            .all(|hop| hop["sent"] == 3 && hop["received"] == 3)
    );
}

#[test]
fn stream_lines_of_every_method_and_of_an_unreachable_verdict_match_the_schema() {
    require_root!();
    let chain = Chain::new("trstreamm");
    for (method, port) in [
        ("--udp", Some(33434)),
        ("--icmp", None),
        ("--tcp", Some(80)),
    ] {
        let (code, lines) = trace_stream(&chain, &[method, "-q", "1", Chain::TARGET]);
        assert_eq!(code, Some(0), "{method}: {lines:?}");
        assert_eq!(lines[0]["method"], method.trim_start_matches('-'));
        assert_eq!(lines[0]["port"].as_u64(), port, "{method}");
        assert_eq!(lines.last().unwrap()["reached"], true, "{method}");
    }
    // Router B refuses the target: hop 3 answers host unreachable, in a
    // hop line and in a round line.
    chain
        .router_b
        .sh("iptables -A FORWARD -d 10.9.12.2 -j REJECT --reject-with icmp-host-unreachable");
    let unreachable = serde_json::json!({"unreachable": {"kind": "host"}});
    let (code, lines) = trace_stream(&chain, &["-q", "1", Chain::TARGET]);
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(lines[3]["event"], "hop", "{lines:?}");
    assert_eq!(lines[3]["probes"][0]["answer"], unreachable);
    let (code, lines) = trace_stream(&chain, &["-c", "2", "-q", "1", Chain::TARGET]);
    assert_eq!(code, Some(1), "{lines:?}");
    assert_eq!(lines[2]["event"], "round", "{lines:?}");
    assert_eq!(lines[2]["hops"][2]["probes"][0]["answer"], unreachable);
}

#[test]
fn stream_of_an_unanswered_target_ends_with_exit_1_and_a_reader_that_leaves_ends_it_at_once() {
    require_root!();
    let chain = Chain::new("trstreamx");
    chain.target.sh("iptables -A INPUT -j DROP");
    let (code, lines) = trace_stream(&chain, &["-m", "4", "-w", "0.3", Chain::TARGET]);
    assert_eq!(code, Some(1));
    assert_eq!(lines.last().unwrap()["reached"], false);
    assert_eq!(
        common::event_names(&lines).len(),
        6,
        "start, 4 hops, summary"
    );
    // With -w 5 the silent hops would take seconds; head -1 must not wait.
    let mut child = chain
        .client
        .command(
            common::netdx_bin(),
            &["trace", "-n", "--json-stream", "-w", "5", Chain::TARGET],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let start = common::json_line(&line);
    common::assert_schema_valid("trace.stream", &start);
    assert_eq!(start["event"], "start");
    drop(stdout);
    let closed = std::time::Instant::now();
    let status = common::wait_exit(&mut child, std::time::Duration::from_secs(10));
    assert!(
        closed.elapsed() < std::time::Duration::from_millis(500),
        "ended {:?} after its reader left",
        closed.elapsed()
    );
    assert_eq!(status.code(), Some(0));
}
