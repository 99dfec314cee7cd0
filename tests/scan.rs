//! `netdx scan` against namespace hosts only: a target with listeners and
//! iptables ranges (DROP, REJECT tcp-reset, icmp-port-unreachable,
//! icmp-admin-prohibited), probed from a client namespace; never the
//! machine's own network.
//!
//! Most tests use the minimal target below; the last ones scan the shared
//! fixture (tests/common/scan_target.rs, checked against nmap by
//! tests/scan_fixture.rs) and compare every port with what it expects.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::scan_target::{Scan, ScanTarget};
use common::{Pair, assert_one_line_error, stderr, stdout};
use serde_json::Value;

const OPEN_TCP: [u16; 7] = [22, 80, 443, 8080, 9000, 31337, 60000];
const OPEN_UDP: [u16; 2] = [53, 123];
/// DROP (TCP and UDP).
const DROPPED: (u16, u16) = (1000, 1999);
/// REJECT --reject-with tcp-reset.
const RESET: (u16, u16) = (2000, 2099);
/// REJECT --reject-with icmp-port-unreachable (TCP).
const PORT_UNREACH: (u16, u16) = (3000, 3100);
/// REJECT --reject-with icmp-admin-prohibited (TCP and UDP).
const ADMIN: (u16, u16) = (4000, 4050);

struct Target {
    pair: Pair,
}

impl Target {
    fn new(tag: &str) -> Target {
        let mut pair = Pair::new(tag);
        let tcp: Vec<String> = OPEN_TCP.iter().map(u16::to_string).collect();
        let udp: Vec<String> = OPEN_UDP.iter().map(u16::to_string).collect();
        let script = common::responder("scan_target.py");
        pair.host
            .spawn_ready("python3", &[&script, &tcp.join(","), &udp.join(",")]);
        let range = |(lo, hi): (u16, u16)| format!("{lo}:{hi}");
        for tool in ["iptables", "ip6tables"] {
            let (port_unreach, admin) = if tool == "iptables" {
                ("icmp-port-unreachable", "icmp-admin-prohibited")
            } else {
                ("icmp6-port-unreachable", "icmp6-adm-prohibited")
            };
            pair.host.sh(&format!(
                "{tool} -A INPUT -p tcp --dport {d} -j DROP && \
                 {tool} -A INPUT -p udp --dport {d} -j DROP && \
                 {tool} -A INPUT -p tcp --dport {r} -j REJECT --reject-with tcp-reset && \
                 {tool} -A INPUT -p tcp --dport {u} -j REJECT --reject-with {port_unreach} && \
                 {tool} -A INPUT -p tcp --dport {a} -j REJECT --reject-with {admin} && \
                 {tool} -A INPUT -p udp --dport {a} -j REJECT --reject-with {admin}",
                d = range(DROPPED),
                r = range(RESET),
                u = range(PORT_UNREACH),
                a = range(ADMIN),
            ));
        }
        let target = Target { pair };
        target.rate_limit(false);
        target
    }

    /// The target's ICMP rate limit: off, or the kernel's token bucket at
    /// `interval_ms` (the default is 1000).
    fn rate_limit_ms(&self, interval_ms: u32) {
        let host = &self.pair.host;
        host.sysctl(&format!("net.ipv4.icmp_ratelimit={interval_ms}"));
        host.sysctl(&format!("net.ipv6.icmp.ratelimit={interval_ms}"));
    }

    fn rate_limit(&self, on: bool) {
        self.rate_limit_ms(if on { 1000 } else { 0 });
        let host = &self.pair.host;
        // The global ICMP budget too, so "off" really answers every probe.
        host.sysctl("net.ipv4.icmp_msgs_per_sec=1000000");
        host.sysctl("net.ipv4.icmp_msgs_burst=1000000");
    }

    fn scan(&self, args: &[&str]) -> (Option<i32>, Value) {
        let mut full = vec!["scan", "-n"];
        full.extend_from_slice(args);
        let (code, json) = self.pair.client.netdx_json(&full);
        common::assert_schema_valid("scan", &json);
        (code, json)
    }
}

fn within(port: u16, (lo, hi): (u16, u16)) -> bool {
    (lo..=hi).contains(&port)
}

/// What every TCP port must be, by method.
fn expected_tcp(port: u16, syn: bool) -> (&'static str, &'static str) {
    if OPEN_TCP.contains(&port) {
        ("open", "syn-ack")
    } else if within(port, DROPPED) {
        ("filtered", "no-response")
    } else if within(port, PORT_UNREACH) {
        if syn {
            ("filtered", "port-unreach")
        } else {
            ("closed", "port-unreach")
        }
    } else if within(port, ADMIN) {
        ("filtered", "admin-prohibited")
    } else if syn {
        ("closed", "reset")
    } else {
        ("closed", "conn-refused")
    }
}

fn expected_udp(port: u16) -> (&'static str, &'static str) {
    if OPEN_UDP.contains(&port) {
        ("open", "udp-response")
    } else if within(port, DROPPED) {
        ("open|filtered", "no-response")
    } else if within(port, ADMIN) {
        ("filtered", "admin-prohibited")
    } else {
        ("closed", "port-unreach")
    }
}

/// Every port of the one host of `json`, checked against `expected`.
fn assert_every_port(
    json: &Value,
    count: usize,
    expected: impl Fn(u16) -> (&'static str, &'static str),
) {
    let ports = json[0]["ports"].as_array().unwrap();
    assert_eq!(ports.len(), count);
    let mut wrong = Vec::new();
    for p in ports {
        let port = p["port"].as_u64().unwrap() as u16;
        let got = (p["state"].as_str().unwrap(), p["reason"].as_str().unwrap());
        if got != expected(port) {
            wrong.push(format!("{port}: {got:?}, expected {:?}", expected(port)));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} ports wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );
}

/// Every port of `json`'s host against the shared fixture's `expected`.
fn assert_fixture_ports(fixture: &ScanTarget, scan: Scan, json: &Value, count: usize) {
    assert_every_port(json, count, |port| {
        let (state, reason) = fixture.expected(scan, port);
        (state.as_str(), reason.as_str())
    });
}

fn states(json: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for host in json.as_array().unwrap() {
        for p in host["ports"].as_array().unwrap() {
            *counts
                .entry(p["state"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
    }
    counts
}

#[test]
fn connect_scan_classifies_all_65535_ports_as_the_rules_dictate() {
    require_root!();
    let target = Target::new("scant");
    let (code, json) = target.scan(&["-p-", Pair::HOST_V4]);
    assert_eq!(code, Some(0));
    assert_every_port(&json, 65535, |p| expected_tcp(p, false));
    assert_eq!(json[0]["rate_limited"], false);
    assert_eq!(json[0]["counts"]["open"], 7);
}

#[test]
fn syn_scan_classifies_all_65535_ports_and_leaves_no_connection() {
    require_root!();
    let target = Target::new("scans");
    let (code, json) = target.scan(&["--syn", "-p-", Pair::HOST_V4]);
    assert_eq!(code, Some(0));
    assert_every_port(&json, 65535, |p| expected_tcp(p, true));
    let ss = target.pair.host.sh("ss -Htan state established | wc -l");
    assert_eq!(ss.trim(), "0", "a SYN scan completes no handshake");
}

#[test]
fn udp_scan_with_the_rate_limit_off_classifies_every_port() {
    require_root!();
    let target = Target::new("scanu");
    let (code, json) = target.scan(&["--udp", "-p", "1-1100,3990-4060", Pair::HOST_V4]);
    assert_eq!(code, Some(0));
    assert_every_port(&json, 1100 + 71, expected_udp);
    assert_eq!(json[0]["rate_limited"], false);
}

/// nmap's -sT/-sS at -T4 on the same target: the counts per state.
fn nmap_states(target: &Target, scan: &str) -> BTreeMap<String, usize> {
    let out = target.pair.client.run(
        "nmap",
        &[scan, "-T4", "-n", "-Pn", "-p-", "-oX", "-", Pair::HOST_V4],
    );
    let xml = stdout(&out);
    let mut counts = BTreeMap::new();
    let extra = regex::Regex::new(r#"<extraports state="([a-z|]+)" count="(\d+)""#).unwrap();
    for c in extra.captures_iter(&xml) {
        *counts.entry(c[1].to_string()).or_default() += c[2].parse::<usize>().unwrap();
    }
    let listed =
        regex::Regex::new(r#"<port protocol="tcp" portid="\d+"><state state="([a-z|]+)""#).unwrap();
    for c in listed.captures_iter(&xml) {
        *counts.entry(c[1].to_string()).or_default() += 1;
    }
    counts
}

#[test]
fn connect_and_syn_scans_agree_with_nmap() {
    require_root!();
    if which("nmap").is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but nmap is missing"
        );
        eprintln!("skipping: nmap is not installed");
        return;
    }
    let target = Target::new("scann");
    for (ours, theirs) in [("--tcp", "-sT"), ("--syn", "-sS")] {
        let (_, json) = target.scan(&[ours, "-p-", Pair::HOST_V4]);
        assert_eq!(
            states(&json),
            nmap_states(&target, theirs),
            "{ours} vs nmap {theirs}"
        );
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| std::path::Path::new(dir).join(program))
        .find(|path| path.is_file())
}

#[test]
fn rate_limited_closed_ports_are_unclassified_and_exact_classifies_them() {
    require_root!();
    let target = Target::new("scanr");
    // The kernel's token bucket at 100 ms (burst 6) instead of the default
    // 1000 ms: rate-limited all the same, and the test stays short.
    target.rate_limit_ms(100);
    // 30 closed UDP ports and one open: the burst answers 6 of them.
    let (code, json) = target.scan(&["--udp", "-p", "5001-5030,53", Pair::HOST_V4]);
    assert_eq!(code, Some(0));
    let host = &json[0];
    assert_eq!(host["rate_limited"], true, "{host}");
    assert_eq!(host["counts"]["open"], 1, "no false open: {host}");
    assert_eq!(
        host["counts"]["open_filtered"], 0,
        "none guessed open|filtered"
    );
    assert_eq!(host["counts"]["filtered"], 0);
    let unclassified = host["counts"]["unclassified"].as_u64().unwrap();
    assert!(unclassified > 0);
    assert_eq!(
        host["counts"]["closed"].as_u64().unwrap() + unclassified,
        30
    );
    for p in host["ports"].as_array().unwrap() {
        if p["state"] == "unclassified" {
            assert_eq!(p["reason"], "icmp-rate-limited");
        }
    }
    let text = stdout(&target.pair.client.netdx(&[
        "scan",
        "-n",
        "--udp",
        "-p",
        "5001-5030",
        Pair::HOST_V4,
    ]));
    assert!(
        text.contains("ICMP rate-limited: ") && text.contains("--exact waits for it"),
        "{text}"
    );

    let started = Instant::now();
    let (_, json) = target.scan(&["--udp", "--exact", "-p", "5001-5030,53", Pair::HOST_V4]);
    let host = &json[0];
    assert_eq!(host["counts"]["closed"], 30, "{host}");
    assert_eq!(host["counts"]["unclassified"], 0);
    assert_eq!(host["counts"]["open"], 1);
    // 30 ICMP answers at 100 ms past a burst of 6: about 2.4 s.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // TCP ports answered by ICMP are limited the same way; never called filtered or open.
    let (_, json) = target.scan(&["-p", "3000-3100,22", Pair::HOST_V4]);
    let host = &json[0];
    assert_eq!(host["counts"]["open"], 1, "{host}");
    assert_eq!(host["counts"]["filtered"], 0, "{host}");
    assert_eq!(host["rate_limited"], true);
    let (_, json) = target.scan(&["--exact", "-p", "3000-3100,22", Pair::HOST_V4]);
    assert_eq!(json[0]["counts"]["closed"], 101, "{}", json[0]);
}

#[test]
fn banner_shows_what_a_greeting_service_sends() {
    require_root!();
    let target = Target::new("scanb");
    let (_, json) = target.scan(&["--banner", "-p", "22,80", Pair::HOST_V4]);
    let ports = json[0]["ports"].as_array().unwrap();
    assert_eq!(ports[0]["banner"], "SSH-2.0-netdx-test\\r\\n");
    assert!(ports[1]["banner"].is_null(), "port 80 says nothing first");
    let text =
        stdout(
            &target
                .pair
                .client
                .netdx(&["scan", "-n", "--banner", "-p", "22", Pair::HOST_V4]),
        );
    assert!(
        text.contains("| banner: SSH-2.0-netdx-test\\r\\n"),
        "{text}"
    );
}

#[test]
fn ipv6_targets_are_scanned_by_every_method() {
    require_root!();
    let target = Target::new("scan6");
    let ports = "20-25,80,2000-2005,3000-3005,4000-4005,1000-1005";
    for (method, syn) in [("--tcp", false), ("--syn", true)] {
        let (code, json) = target.scan(&[method, "-p", ports, Pair::HOST_V6]);
        assert_eq!(code, Some(0), "{method}");
        assert_every_port(&json, 31, |p| expected_tcp(p, syn));
    }
    let (_, json) = target.scan(&["--udp", "-p", "50-55,4000-4003,1000-1003", Pair::HOST_V6]);
    assert_every_port(&json, 14, expected_udp);
}

#[test]
fn a_cidr_of_hosts_is_scanned_each_host_apart() {
    require_root!();
    let target = Target::new("scanc");
    target.pair.answer_for("10.9.8.0/28");
    let (code, json) = target.scan(&["--syn", "-p", "1-100", "10.9.8.0/28"]);
    assert_eq!(code, Some(0));
    let hosts = json.as_array().unwrap();
    assert_eq!(hosts.len(), 14, "network and broadcast addresses excluded");
    for host in hosts {
        assert_eq!(host["counts"]["open"], 2, "22 and 80: {}", host["address"]);
        assert_eq!(host["counts"]["closed"], 98);
    }
}

#[test]
fn a_low_open_files_limit_still_scans_every_port_exactly() {
    require_root!();
    let target = Target::new("scanl");
    let bin = common::netdx_bin();
    let out = target.pair.client.run(
        "prlimit",
        &[
            "--nofile=128",
            bin,
            "--json",
            "scan",
            "-n",
            "-p-",
            Pair::HOST_V4,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_every_port(&json, 65535, |p| expected_tcp(p, false));
}

#[test]
fn json_stream_has_a_port_line_per_port_and_a_host_line() {
    require_root!();
    let target = Target::new("scanj");
    let out =
        target
            .pair
            .client
            .netdx(&["--json-stream", "scan", "-n", "-p", "20-30", Pair::HOST_V4]);
    let lines = common::json_lines(&out.stdout);
    for line in &lines {
        common::assert_schema_valid("scan.stream", line);
    }
    let names = common::event_names(&lines);
    assert_eq!(names[0], "start");
    assert_eq!(names.iter().filter(|n| **n == "port").count(), 11);
    assert_eq!(names[names.len() - 2], "host");
    assert_eq!(names[names.len() - 1], "done");
}

#[test]
fn bad_input_is_one_line_with_a_remedy_and_exit_2() {
    for (args, fragment) in [
        (&["scan", "-p", "0", "10.9.0.2"][..], "out of range"),
        (&["scan", "-p", "65536", "10.9.0.2"][..], "out of range"),
        (&["scan", "-p", "90-80", "10.9.0.2"][..], "reversed"),
        (&["scan", "--retries", "99", "10.9.0.2"][..], "--retries"),
        (&["scan", "10.9.0.0/8"][..], "--force"),
    ] {
        let out = common::netdx(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_one_line_error(&out, fragment);
    }
}

#[test]
fn syn_scan_without_cap_net_raw_says_how_and_sends_nothing() {
    let out = common::netdx_unprivileged(&["scan", "--syn", "-p", "22", "127.0.0.1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_one_line_error(&out, "setcap cap_net_raw+ep");
}

#[test]
fn every_port_of_the_shared_fixture_gets_the_state_and_reason_it_expects() {
    require_root!();
    let fixture = ScanTarget::new("scanfx");
    let target = ScanTarget::TARGET_V4;
    let (code, json) = fixture.prober.netdx_json(&["scan", "-n", "-p-", target]);
    assert_eq!(code, Some(0));
    assert_fixture_ports(&fixture, Scan::Connect, &json, 65535);
    let (code, json) = fixture
        .prober
        .netdx_json(&["scan", "-n", "--syn", "-p-", target]);
    assert_eq!(code, Some(0));
    assert_fixture_ports(&fixture, Scan::Syn, &json, 65535);
    let ports = fixture.sample(Scan::Udp);
    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
    let (code, json) =
        fixture
            .prober
            .netdx_json(&["scan", "-n", "--udp", "-p", &list.join(","), target]);
    assert_eq!(code, Some(0));
    assert_fixture_ports(&fixture, Scan::Udp, &json, ports.len());
}
