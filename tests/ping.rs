//! `netdx ping` with real packets: namespace hosts that answer, hosts that
//! are silent, random loss, and a scripted responder that misbehaves.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Netns, Pair, assert_one_line_error, netdx, responder, stderr, stdout};
use regex::Regex;

/// The statistics block, parsed from iputils-shaped text.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    transmitted: u64,
    received: u64,
    duplicates: u64,
    corrupted: u64,
    errors: u64,
    late: u64,
    loss: f64,
    time_ms: u64,
    rtt: Option<[f64; 4]>,
}

const HEADER_V4: &str =
    r"^PING \S+ \(\d+\.\d+\.\d+\.\d+\)( from \S+ \S*:)? \d+\(\d+\) bytes of data\.$";
const HEADER_V6: &str = r"^PING \S+\([0-9a-f:]+\)( from \S+ \S*:)? \d+ data bytes$";
const REPLY: &str = r"^(\d+) bytes from (\S+)( \([^)]+\))?: icmp_seq=(\d+) ttl=(\d+) time=(\d+(?:\.\d+)?) ms( \(DUP!\))?$";
const ERROR: &str = r"^From (\S+) icmp_seq=(\d+) (.+)$";
const STATS_TITLE: &str = r"^--- \S+ ping statistics ---$";
const COUNTS: &str = r"^(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?(?:, \+(\d+) corrupted)?(?:, \+(\d+) errors)?(?:, \+(\d+) late)?, ([\d.]+)% packet loss, time (\d+)ms$";
const RTT: &str = r"^rtt min/avg/max/mdev = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3}) ms(, ipg/ewma \d+\.\d{3}/\d+\.\d{3} ms)?$";
const PERCENTILES: &str = r"^rtt p50/p90/p99 = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms$";

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

fn summary(text: &str) -> Summary {
    let counts = re(COUNTS);
    let rtt = re(RTT);
    let mut parsed = Summary::default();
    let mut found = false;
    for line in text.lines() {
        if let Some(c) = counts.captures(line) {
            found = true;
            let n = |i: usize| c.get(i).map_or(0, |m| m.as_str().parse().unwrap());
            parsed.transmitted = n(1);
            parsed.received = n(2);
            parsed.duplicates = n(3);
            parsed.corrupted = n(4);
            parsed.errors = n(5);
            parsed.late = n(6);
            parsed.loss = c[7].parse().unwrap();
            parsed.time_ms = n(8);
        }
        if let Some(c) = rtt.captures(line) {
            let v = |i: usize| c[i].parse::<f64>().unwrap();
            parsed.rtt = Some([v(1), v(2), v(3), v(4)]);
        }
    }
    assert!(found, "no statistics line in:\n{text}");
    parsed
}

/// Reply lines: (seq, ttl, time_ms, dup).
fn replies(text: &str) -> Vec<(u16, u8, f64, bool)> {
    let reply = re(REPLY);
    text.lines()
        .filter_map(|line| reply.captures(line))
        .map(|c| {
            (
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
                c[6].parse().unwrap(),
                c.get(7).is_some(),
            )
        })
        .collect()
}

/// The kind of every line, failing on any line of no known shape.
fn line_kinds(text: &str) -> Vec<&'static str> {
    let shapes = [
        ("header", re(HEADER_V4)),
        ("header", re(HEADER_V6)),
        ("reply", re(REPLY)),
        ("error", re(ERROR)),
        ("title", re(STATS_TITLE)),
        ("counts", re(COUNTS)),
        ("rtt", re(RTT)),
        ("percentiles", re(PERCENTILES)),
    ];
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            shapes
                .iter()
                .find(|(_, shape)| shape.is_match(line))
                .map(|(kind, _)| *kind)
                .unwrap_or_else(|| panic!("line of unknown shape: {line:?}\n{text}"))
        })
        .collect()
}

fn run_timed(ns: &Netns, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let out = ns.netdx(args);
    (out, started.elapsed())
}

#[test]
fn answering_host_reports_replies_with_ttl_and_ordered_rtts() {
    require_root!();
    let pair = Pair::new("answer");
    let out = pair
        .client
        .netdx(&["ping", "-c", "3", "-i", "0.2", Pair::HOST_V4]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let lines = replies(&text);
    assert_eq!(
        lines.iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2, 3],
        "{text}"
    );
    assert!(
        lines.iter().all(|r| r.1 == 64 && !r.3),
        "ttl 64, no duplicates: {text}"
    );
    let s = summary(&text);
    assert_eq!((s.transmitted, s.received, s.loss), (3, 3, 0.0));
    let [min, avg, max, mdev] = s.rtt.expect("an rtt line");
    assert!(min <= avg && avg <= max && mdev >= 0.0, "{text}");
    assert!(
        (350..=600).contains(&s.time_ms),
        "time covers two intervals: {text}"
    );
}

#[test]
fn output_has_the_shapes_iputils_prints() {
    require_root!();
    let pair = Pair::new("shapes");
    for target in [Pair::HOST_V4, Pair::HOST_V6] {
        let ours = stdout(&pair.client.netdx(&["ping", "-c", "2", "-i", "0.2", target]));
        let theirs = stdout(&pair.client.run("ping", &["-c", "2", "-i", "0.2", target]));
        let mut ours_kinds = line_kinds(&ours);
        let theirs_kinds = line_kinds(&theirs);
        // netdx adds one line iputils does not print.
        assert_eq!(ours_kinds.pop(), Some("percentiles"), "{ours}");
        assert_eq!(
            ours_kinds, theirs_kinds,
            "ours:\n{ours}\niputils:\n{theirs}"
        );
    }
}

#[test]
fn silent_host_loses_everything_and_ends_after_count_interval_and_timeout() {
    require_root!();
    let pair = Pair::new("silent");
    pair.silence("10.9.99.0/24");
    let (out, took) = run_timed(
        &pair.client,
        &["ping", "-c", "3", "-i", "0.2", "-W", "1", "10.9.99.9"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let s = summary(&text);
    assert_eq!((s.transmitted, s.received, s.loss), (3, 0, 100.0), "{text}");
    assert!(s.rtt.is_none());
    // Last probe at 0.4 s, its timeout 1 s later.
    assert!(
        took >= Duration::from_millis(1300),
        "ended too early: {took:?}"
    );
    assert!(
        took <= Duration::from_millis(2500),
        "ended too late: {took:?}"
    );
}

#[test]
fn reported_loss_matches_the_replies_the_host_actually_sent() {
    require_root!();
    let pair = Pair::new("loss");
    pair.host.sh(
        "iptables -A INPUT -p icmp --icmp-type echo-request -m statistic --mode random --probability 0.3 -j DROP && \
         iptables -A OUTPUT -p icmp --icmp-type echo-reply -j ACCEPT",
    );
    let out = pair.client.netdx(&[
        "ping",
        "-c",
        "200",
        "-i",
        "0.005",
        "-W",
        "1",
        "-q",
        Pair::HOST_V4,
    ]);
    let s = summary(&stdout(&out));
    let counters = pair
        .host
        .sh("iptables -L OUTPUT -v -x -n | awk 'NR==3 {print $1}'");
    let sent_back: u64 = counters.trim().parse().unwrap();
    assert_eq!(s.transmitted, 200);
    assert_eq!(
        s.received, sent_back,
        "received must equal the replies the host sent"
    );
    assert!(
        sent_back > 80 && sent_back < 200,
        "the loss rule dropped some: {sent_back}"
    );
    let expected_loss = (200 - sent_back) as f64 * 100.0 / 200.0;
    assert!(
        (s.loss - expected_loss).abs() < 0.01,
        "{} vs {expected_loss}",
        s.loss
    );
}

/// A host whose kernel stays quiet while the scripted responder answers.
fn scripted(tag: &str, actions: &str) -> Pair {
    let mut pair = Pair::new(tag);
    pair.host.sysctl("net.ipv4.icmp_echo_ignore_all=1");
    pair.host
        .spawn_ready("python3", &[&responder("icmp_responder.py"), actions]);
    pair
}

#[test]
fn duplicates_are_marked_and_counted_separately() {
    require_root!();
    let pair = scripted("dup", "echo,dup,echo");
    let out = pair
        .client
        .netdx(&["ping", "-c", "3", "-i", "0.2", "-W", "1", Pair::HOST_V4]);
    let text = stdout(&out);
    let lines = replies(&text);
    assert_eq!(
        lines.iter().filter(|r| r.3).count(),
        1,
        "one (DUP!): {text}"
    );
    assert!(lines.iter().any(|r| r.0 == 2 && r.3), "{text}");
    let s = summary(&text);
    assert_eq!(
        (s.transmitted, s.received, s.duplicates),
        (3, 3, 1),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn replies_whose_ip_header_carries_options_are_received() {
    require_root!();
    let pair = scripted("opts", "options,echo");
    let out = pair
        .client
        .netdx(&["ping", "-c", "2", "-i", "0.2", "-W", "1", Pair::HOST_V4]);
    let text = stdout(&out);
    let s = summary(&text);
    assert_eq!((s.transmitted, s.received), (2, 2), "{text}");
    assert!(!text.contains("BAD CHECKSUM"), "{text}");
}

#[test]
fn a_reply_longer_than_the_request_is_read_whole_and_reported_as_longer() {
    require_root!();
    // A 1,400-byte echo answering a 56-byte request: read whole (not cut
    // into a bad checksum), and not counted as received.
    let pair = scripted("longer", "pad:1344");
    let out = pair
        .client
        .netdx(&["ping", "-c", "1", "-W", "1", Pair::HOST_V4]);
    let text = stdout(&out);
    assert!(text.contains("1408 bytes from 10.9.0.2"), "{text}");
    assert!(!text.contains("BAD CHECKSUM"), "{text}");
    assert_eq!(summary(&text).received, 0, "{text}");
}

#[test]
fn bad_checksum_foreign_identifier_truncated_and_short_replies_are_never_received() {
    require_root!();
    let pair = scripted("junk", "badsum,foreign,truncate,short,corrupt");
    let out = pair
        .client
        .netdx(&["ping", "-c", "5", "-i", "0.2", "-W", "0.5", Pair::HOST_V4]);
    let text = stdout(&out);
    let s = summary(&text);
    assert_eq!((s.transmitted, s.received), (5, 0), "{text}");
    // Damaged replies that are ours are reported; foreign and short ones are not ours.
    assert_eq!(s.corrupted, 3, "bad checksum, truncated, corrupted: {text}");
    assert!(text.contains("(BAD CHECKSUM!)"), "{text}");
    assert!(text.contains("(truncated)"), "{text}");
    assert!(text.contains("wrong data byte #"), "{text}");
    assert_eq!(out.status.code(), Some(1), "no good reply: exit 1");
}

#[test]
fn replies_after_the_timeout_are_reported_late_and_not_counted() {
    require_root!();
    let pair = scripted("late", "late:0.6,echo,echo");
    let out = pair
        .client
        .netdx(&["ping", "-c", "3", "-i", "0.5", "-W", "0.3", Pair::HOST_V4]);
    let text = stdout(&out);
    let s = summary(&text);
    assert_eq!((s.transmitted, s.received, s.late), (3, 2, 1), "{text}");
    assert!(
        text.contains("icmp_seq=1") && text.contains("(LATE! not counted)"),
        "{text}"
    );
}

#[test]
fn destination_unreachable_is_reported_from_the_sender_and_counted_as_error() {
    require_root!();
    let pair = scripted("unreach", "unreach,echo");
    let out = pair
        .client
        .netdx(&["ping", "-c", "2", "-i", "0.3", "-W", "1", Pair::HOST_V4]);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l == "From 10.9.0.2 icmp_seq=1 Destination Host Unreachable"),
        "{text}"
    );
    let s = summary(&text);
    assert_eq!((s.transmitted, s.received, s.errors), (2, 1, 1), "{text}");
    assert_eq!(
        line_kinds(&text).iter().filter(|k| **k == "error").count(),
        1
    );
}

#[test]
fn ipv6_loopback_and_namespace_address_answer() {
    require_root!();
    let pair = Pair::new("v6");
    for target in ["::1", Pair::HOST_V6] {
        let out = pair
            .client
            .netdx(&["ping", "-6", "-c", "2", "-i", "0.2", target]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
        assert!(
            text.starts_with(&format!("PING {target}({target}) 56 data bytes\n")),
            "{text}"
        );
        assert_eq!(replies(&text).len(), 2, "{text}");
        assert!(
            replies(&text).iter().all(|r| r.1 == 64),
            "hop limit shown: {text}"
        );
    }
}

#[test]
fn sweep_prints_exactly_the_alive_and_the_unreachable_members() {
    require_root!();
    let pair = Pair::new("sweep");
    pair.answer_for("10.9.2.0/25");
    pair.silence("10.9.2.128/25");
    let args = [
        "ping",
        "-g",
        "10.9.2.0/24",
        "-i",
        "0.001",
        "-W",
        "0.3",
        "--retries",
        "0",
    ];
    let alive = stdout(&pair.client.netdx(&[&args[..], &["-a"]].concat()));
    let mut alive: Vec<u8> = alive
        .lines()
        .map(|l| l.rsplit('.').next().unwrap().parse().unwrap())
        .collect();
    alive.sort_unstable();
    assert_eq!(alive, (1..=127).collect::<Vec<u8>>(), "alive set");
    let out = pair.client.netdx(&[&args[..], &["-u"]].concat());
    assert_eq!(out.status.code(), Some(1), "some members did not answer");
    let mut silent: Vec<u8> = stdout(&out)
        .lines()
        .map(|l| l.rsplit('.').next().unwrap().parse().unwrap())
        .collect();
    silent.sort_unstable();
    assert_eq!(silent, (128..=254).collect::<Vec<u8>>(), "unreachable set");
}

#[test]
fn a_sweep_answered_only_by_host_unreachable_ends_after_its_retries() {
    require_root!();
    let pair = Pair::new("unrsweep");
    // The host routes 10.99.3.0/24 as unreachable: every probe draws an
    // ICMP Host Unreachable (this used to leave the sweep waiting forever).
    pair.host.sysctl("net.ipv4.ip_forward=1");
    pair.host.sysctl("net.ipv4.icmp_ratelimit=0");
    pair.host
        .ip(&["route", "add", "unreachable", "10.99.3.0/24"]);
    let (out, took) = run_timed(
        &pair.client,
        &[
            "ping",
            "-n",
            "-u",
            "-W",
            "0.3",
            "--retries",
            "1",
            "10.99.3.1",
            "10.99.3.2",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let mut silent: Vec<&str> = text.lines().collect();
    silent.sort_unstable();
    assert_eq!(silent, ["10.99.3.1", "10.99.3.2"], "{text}");
    // Two attempts each, 0.3 s apart: well under two seconds.
    assert!(took < Duration::from_secs(2), "{took:?}");

    // The sweep's document: no reply, no round trips. (How many of the
    // errors arrive depends on the router's ICMP error token bucket, spent
    // by the run above: not counted here.)
    let out = pair.client.netdx(&[
        "ping",
        "-n",
        "-W",
        "0.3",
        "--retries",
        "1",
        "10.99.3.1",
        "10.99.3.2",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let json = common::assert_schema_valid_output("ping", &out.stdout);
    for report in json.as_array().unwrap() {
        assert_eq!(report["transmitted"], 2, "{report}");
        assert_eq!(report["received"], 0, "{report}");
        assert!(report["rtt_ms"].is_null(), "{report}");
    }
}

#[test]
fn json_of_duplicates_damaged_late_and_unreachable_replies_matches_its_schema() {
    require_root!();
    let pair = scripted("jsonmix", "late:0.5,echo,dup,badsum,unreach");
    let out = pair.client.netdx(&[
        "ping",
        "-c",
        "5",
        "-i",
        "0.4",
        "-W",
        "0.2",
        "--json",
        Pair::HOST_V4,
    ]);
    let json = common::assert_schema_valid_output("ping", &out.stdout);
    let report = &json[0];
    assert_eq!(report["transmitted"], 5, "{report}");
    assert_eq!(report["received"], 2, "{report}");
    assert_eq!(report["duplicates"], 1, "{report}");
    assert_eq!(report["corrupted"], 1, "{report}");
    assert_eq!(report["errors"], 1, "{report}");
    assert_eq!(report["late"], 1, "{report}");
    let replies = report["replies"].as_array().unwrap();
    assert!(replies.iter().any(|r| r["dup"] == true), "{report}");
}

#[test]
fn several_hosts_get_a_table_and_json() {
    require_root!();
    let pair = Pair::new("many");
    pair.silence("10.9.99.0/24");
    let args = [
        "ping",
        "-c",
        "2",
        "-i",
        "0.01",
        "--period",
        "0.1",
        "-W",
        "0.3",
        Pair::HOST_V4,
        "10.9.99.1",
        "127.0.0.1",
    ];
    let out = pair.client.netdx(&args);
    assert_eq!(out.status.code(), Some(1), "one host is silent");
    let text = stdout(&out);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(
        rows[0][..5],
        [Pair::HOST_V4, Pair::HOST_V4, "2", "2", "0"],
        "{text}"
    );
    assert_eq!(
        rows[1][..5],
        ["10.9.99.1", "10.9.99.1", "2", "0", "100"],
        "{text}"
    );
    assert_eq!(rows[1][5..], ["-", "-", "-"], "{text}");

    let json = common::assert_schema_valid_output(
        "ping",
        &pair.client.netdx(&[&args[..], &["--json"]].concat()).stdout,
    );
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["received"], 2);
    assert_eq!(list[0]["replies"].as_array().unwrap().len(), 2);
    assert_eq!(list[0]["replies"][0]["ttl"], 64);
    assert!(
        list[0]["rtt_ms"]["p99"].as_f64().unwrap() >= list[0]["rtt_ms"]["min"].as_f64().unwrap()
    );
    assert_eq!(list[1]["received"], 0);
    assert_eq!(list[1]["loss_pct"], 100.0);
    assert!(list[1]["rtt_ms"].is_null());
}

#[test]
fn one_host_json_has_every_documented_field() {
    let out = netdx(&["ping", "-c", "2", "-i", "0.2", "--json", "127.0.0.1"]);
    if !common::can_build_hosts() && out.status.code() == Some(2) {
        // Without root and without ping sockets for this group nothing can be sent.
        return;
    }
    let json = common::assert_schema_valid_output("ping", &out.stdout);
    let report = &json[0];
    for key in ["target", "address"] {
        assert!(report[key].is_string(), "{key}");
    }
    for key in [
        "transmitted",
        "received",
        "duplicates",
        "errors",
        "corrupted",
        "late",
    ] {
        assert!(report[key].is_u64(), "{key}");
    }
    assert!(report["loss_pct"].is_f64());
    for key in ["min", "avg", "max", "mdev", "p50", "p90", "p99"] {
        assert!(report["rtt_ms"][key].is_f64(), "rtt_ms.{key}");
    }
    let reply = &report["replies"][0];
    assert!(
        reply["seq"].is_u64()
            && reply["ttl"].is_u64()
            && reply["rtt_ms"].is_f64()
            && reply["dup"].is_boolean()
    );
}

/// Runs netdx as the unprivileged user `nobody` inside `ns`.
fn as_nobody(ns: &Netns, args: &[&str]) -> Output {
    let mut full = vec![
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        common::netdx_bin(),
    ];
    full.extend_from_slice(args);
    ns.run("setpriv", &full)
}

#[test]
fn unprivileged_user_pings_over_a_datagram_socket_with_ttl() {
    require_root!();
    let pair = Pair::new("dgram");
    pair.client.sysctl("net.ipv4.ping_group_range=0 2147483647");
    let out = as_nobody(
        &pair.client,
        &["ping", "-c", "2", "-i", "0.2", Pair::HOST_V4],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let lines = replies(&text);
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines.iter().all(|r| r.1 == 64),
        "TTL from IP_RECVTTL: {text}"
    );
}

#[test]
fn unprivileged_user_without_ping_sockets_is_told_both_remedies() {
    require_root!();
    let ns = Netns::new("refused");
    ns.sysctl("net.ipv4.ping_group_range=1 0");
    let out = as_nobody(&ns, &["ping", "-c", "1", "127.0.0.1"]);
    assert_one_line_error(&out, "ping_group_range");
    let err = stderr(&out);
    assert!(err.contains("setcap cap_net_raw+ep"), "{err}");
}

#[test]
fn unprivileged_user_cannot_go_below_two_milliseconds_or_flood() {
    require_root!();
    let ns = Netns::new("minint");
    ns.sysctl("net.ipv4.ping_group_range=0 2147483647");
    assert_one_line_error(
        &as_nobody(&ns, &["ping", "-c", "1", "-i", "0.001", "127.0.0.1"]),
        "below 2 ms",
    );
    assert_one_line_error(
        &as_nobody(&ns, &["ping", "-c", "1", "-f", "127.0.0.1"]),
        "flood",
    );
}

/// Effective and permitted capability masks of a running process.
fn capabilities(pid: u32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap()
    };
    (field("CapEff:"), field("CapPrm:"))
}

#[test]
fn capabilities_are_dropped_once_the_socket_is_open() {
    require_root!();
    let mut child = Command::new(common::netdx_bin())
        .args(["ping", "-c", "4", "-i", "0.2", "127.0.0.1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // A reply means the socket is open and the engine is pinging.
    let mut running = Running::watch(&mut child);
    running.wait_for_replies(1);
    let (effective, permitted) = capabilities(child.id());
    let out = running.finish(child);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        effective, "0000000000000000",
        "no effective capability while pinging"
    );
    assert_eq!(
        permitted, "0000000000000000",
        "none it could raise again either"
    );
}

/// A running ping's stdout, read line by line as it is written, so a test
/// can act once the run has got somewhere instead of after a guessed sleep.
struct Running {
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn watch(child: &mut std::process::Child) -> Running {
        use std::io::{BufRead, BufReader};
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (up to a generous deadline) until `n` reply lines were printed.
    fn wait_for_replies(&mut self, n: usize) {
        let reply = re(REPLY);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.seen.iter().filter(|l| reply.is_match(l)).count() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("fewer than {n} replies: {:?}", self.seen),
            }
        }
    }

    /// Waits for the run to end; its whole stdout and stderr.
    fn finish(self, child: std::process::Child) -> Output {
        let mut out = child.wait_with_output().unwrap();
        let mut text: Vec<String> = self.seen;
        text.extend(self.lines.iter());
        let mut joined = text.join("\n");
        joined.push('\n');
        out.stdout = joined.into_bytes();
        out
    }
}

fn spawn_ping(args: &[&str]) -> std::process::Child {
    Command::new(common::netdx_bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn ctrl_c_prints_the_statistics_and_exits_by_the_replies() {
    require_root!();
    let mut child = spawn_ping(&["ping", "-i", "0.1", "127.0.0.1"]);
    let mut running = Running::watch(&mut child);
    running.wait_for_replies(3);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = running.finish(child);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let s = summary(&text);
    assert!(s.transmitted >= 3 && s.received == s.transmitted, "{text}");
    assert!(text.contains("--- 127.0.0.1 ping statistics ---"));
}

#[test]
fn sigquit_prints_interim_statistics_and_carries_on() {
    require_root!();
    let mut child = spawn_ping(&["ping", "-c", "6", "-i", "0.1", "127.0.0.1"]);
    let mut running = Running::watch(&mut child);
    running.wait_for_replies(2);
    Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = running.finish(child);
    assert_eq!(out.status.code(), Some(0));
    let status = re(r"\d+/\d+ packets, \d+% loss, min/avg/ewma/max = ");
    assert!(
        status.is_match(&stderr(&out)),
        "interim line on stderr: {}",
        stderr(&out)
    );
    assert_eq!(
        summary(&stdout(&out)).transmitted,
        6,
        "the run went on to the end"
    );
}

#[test]
fn deadline_ends_a_silent_run_and_requires_count_replies() {
    require_root!();
    let pair = Pair::new("deadline");
    pair.silence("10.9.99.0/24");
    let (out, took) = run_timed(&pair.client, &["ping", "-w", "1", "-i", "0.2", "10.9.99.9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_millis(1600), "{took:?}");
    assert!(summary(&stdout(&out)).transmitted >= 4);
    let out = pair
        .client
        .netdx(&["ping", "-w", "3", "-c", "2", "-i", "0.2", Pair::HOST_V4]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "two replies within the deadline"
    );
    assert_eq!(summary(&stdout(&out)).received, 2);
}

#[test]
fn outstanding_probes_are_reported_with_dash_capital_o() {
    require_root!();
    let pair = Pair::new("outst");
    pair.silence("10.9.99.0/24");
    let text = stdout(&pair.client.netdx(&[
        "ping",
        "-O",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "0.3",
        "10.9.99.9",
    ]));
    assert!(text.contains("no answer yet for icmp_seq=1\n"), "{text}");
    assert!(text.contains("no answer yet for icmp_seq=2\n"), "{text}");
}

#[test]
fn size_pattern_and_timestamps_shape_the_probe_and_its_lines() {
    require_root!();
    let text = stdout(&netdx(&[
        "ping",
        "-c",
        "1",
        "-s",
        "2000",
        "-p",
        "abcd",
        "-D",
        "127.0.0.1",
    ]));
    assert!(
        text.starts_with("PATTERN: 0xabcd\nPING 127.0.0.1 (127.0.0.1) 2000(2028) bytes of data.\n"),
        "{text}"
    );
    let stamped = re(r"^\[\d{10}\.\d{6}\] 2008 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=");
    assert!(text.lines().any(|l| stamped.is_match(l)), "{text}");
    assert_eq!(
        summary(&text).received,
        1,
        "the patterned payload came back intact"
    );
}

#[test]
fn ttl_option_sets_the_ttl_the_host_receives() {
    require_root!();
    let pair = Pair::new("ttl");
    pair.host
        .sh("iptables -A INPUT -p icmp --icmp-type echo-request -m ttl --ttl-eq 9 -j ACCEPT");
    let out = pair
        .client
        .netdx(&["ping", "-c", "2", "-i", "0.2", "-t", "9", Pair::HOST_V4]);
    assert_eq!(out.status.code(), Some(0));
    let matched = pair
        .host
        .sh("iptables -L INPUT -v -x -n | awk 'NR==3 {print $1}'");
    assert_eq!(matched.trim(), "2", "both probes left with TTL 9");
}

#[test]
fn flood_prints_dots_and_backspaces_and_ipg() {
    require_root!();
    let pair = Pair::new("flood");
    let out = pair
        .client
        .netdx(&["ping", "-f", "-c", "500", Pair::HOST_V4]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.matches('.').count() >= 500, "a dot per probe");
    assert_eq!(
        text.matches("\x08 \x08").count(),
        500,
        "one backspace per reply"
    );
    assert!(text.contains(", ipg/ewma "), "{text}");
    assert_eq!(summary(&text).received, 500);
}

#[test]
fn bad_input_is_one_line_exit_2_and_nothing_is_sent() {
    let cases: [(&[&str], &str); 11] = [
        (
            &["ping", "-c", "1", "nosuch.invalid"],
            "cannot resolve 'nosuch.invalid'",
        ),
        (&["ping", "-g", "10.0.0.0/33"], "prefix length"),
        (&["ping", "10.0.0.0/8"], "need --force"),
        (&["ping", "-c", "0", "127.0.0.1"], "at least 1"),
        (&["ping", "-c", "-3", "127.0.0.1"], "at least 1"),
        (&["ping", "-s", "65508", "127.0.0.1"], "at most 65507"),
        (&["ping", "-s", "70000", "127.0.0.1"], "too large"),
        (&["ping", "-t", "0", "127.0.0.1"], "ttl 0 out of range"),
        (&["ping", "-t", "256", "127.0.0.1"], "ttl 256 out of range"),
        (
            &["ping", "-4", "::1"],
            "'::1' has no address of the family -4",
        ),
        (&["ping", "-g", "localhost"], "not in CIDR notation"),
    ];
    for (args, message) in cases {
        let started = Instant::now();
        let out = netdx(args);
        assert_one_line_error(&out, message);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{args:?} must fail at once"
        );
    }
    assert_one_line_error(&netdx(&["ping", "-i", "-1", "127.0.0.1"]), "zero or more");
    assert_one_line_error(
        &netdx(&["ping", "-f", "10.0.0.1", "10.0.0.2"]),
        "single target",
    );
}

#[test]
fn host_names_are_resolved_once_and_shown_with_the_address() {
    require_root!();
    let text = stdout(&netdx(&["ping", "-c", "1", "localhost"]));
    assert!(
        text.starts_with("PING localhost (127.0.0.1) 56(84) bytes of data.\n"),
        "{text}"
    );
    assert!(
        text.contains("64 bytes from localhost (127.0.0.1): icmp_seq=1 ttl=64 time="),
        "{text}"
    );
    assert!(text.contains("--- localhost ping statistics ---"), "{text}");
    let numeric = stdout(&netdx(&["ping", "-n", "-c", "1", "localhost"]));
    assert!(
        numeric.contains("64 bytes from 127.0.0.1: icmp_seq=1"),
        "-n shows only addresses: {numeric}"
    );
}

#[test]
fn quiet_prints_only_the_header_and_the_summary() {
    require_root!();
    let text = stdout(&netdx(&["ping", "-q", "-c", "2", "-i", "0.2", "127.0.0.1"]));
    assert_eq!(
        line_kinds(&text),
        ["header", "title", "counts", "rtt", "percentiles"],
        "{text}"
    );
}

#[test]
fn source_interface_and_address_pick_where_probes_leave() {
    require_root!();
    let pair = Pair::new("source");
    let by_iface = stdout(
        &pair
            .client
            .netdx(&["ping", "-c", "1", "-I", "c0", Pair::HOST_V4]),
    );
    assert!(
        by_iface.starts_with("PING 10.9.0.2 (10.9.0.2) from 10.9.0.1 c0: 56(84) bytes of data.\n"),
        "{by_iface}"
    );
    assert_eq!(summary(&by_iface).received, 1);
    let by_address =
        stdout(
            &pair
                .client
                .netdx(&["ping", "-c", "1", "-I", Pair::CLIENT_V4, Pair::HOST_V4]),
        );
    assert!(
        by_address.starts_with("PING 10.9.0.2 (10.9.0.2) from 10.9.0.1 : 56(84)"),
        "{by_address}"
    );
    // Bound to loopback, the probe cannot reach the host.
    let out = pair
        .client
        .netdx(&["ping", "-c", "1", "-W", "0.3", "-I", "lo", Pair::HOST_V4]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_one_line_error(
        &pair
            .client
            .netdx(&["ping", "-c", "1", "-I", "nosuch0", Pair::HOST_V4]),
        "using interface 'nosuch0'",
    );
    assert_one_line_error(
        &pair
            .client
            .netdx(&["ping", "-c", "1", "-I", "10.77.7.7", Pair::HOST_V4]),
        "binding to 10.77.7.7",
    );
}

/// Runs a command on a pseudo-terminal and returns what it wrote.
fn on_a_terminal(ns: &Netns, command: &str) -> String {
    let out = ns.run("script", &["-qec", command, "/dev/null"]);
    stdout(&out)
}

#[test]
fn terminal_summary_has_an_rtt_histogram_and_sweeps_a_progress_bar() {
    require_root!();
    let pair = Pair::new("tty");
    pair.silence("10.9.99.0/24");
    let bin = common::netdx_bin();
    let one = on_a_terminal(
        &pair.client,
        &format!("{bin} ping -c 5 -i 0.05 {}", Pair::HOST_V4),
    );
    assert!(
        re(r"rtt histogram \d+\.\d{3} \|[ ▁▂▃▄▅▆▇█]{16}\| \d+\.\d{3} ms").is_match(&one),
        "{one}"
    );
    let sweep = on_a_terminal(
        &pair.client,
        &format!("{bin} ping -u -g 10.9.99.0/28 -i 0.001 -W 0.2 --retries 0"),
    );
    assert!(
        sweep.contains("14/14 targets, 0 alive"),
        "progress bar on the terminal: {sweep:?}"
    );
    let piped = pair.client.netdx(&[
        "ping",
        "-u",
        "-g",
        "10.9.99.0/28",
        "-i",
        "0.001",
        "-W",
        "0.2",
        "--retries",
        "0",
    ]);
    assert!(
        !stderr(&piped).contains("targets"),
        "no progress bar in a pipe"
    );
    assert_eq!(stdout(&piped).lines().count(), 14);
}

/// Peak resident memory (KiB) of a netdx run inside `ns`.
fn peak_rss_kib(ns: &Netns, args: &[&str]) -> u64 {
    let mut full = vec!["-f", "%M", common::netdx_bin()];
    full.extend_from_slice(args);
    let out = ns.run("/usr/bin/time", &full);
    stderr(&out).lines().last().unwrap().trim().parse().unwrap()
}

#[test]
fn a_sweeps_memory_grows_by_a_small_result_per_target_not_by_probes() {
    require_root!();
    let pair = Pair::new("bounded");
    pair.silence("10.20.0.0/16");
    let sweep = |cidr: &str| {
        peak_rss_kib(
            &pair.client,
            &[
                "ping",
                "-u",
                "-g",
                cidr,
                "-i",
                "0.00005",
                "-W",
                "0.1",
                "--retries",
                "0",
            ],
        )
    };
    let fping = |cidr: &str| {
        let out = pair.client.run(
            "/usr/bin/time",
            &[
                "-f", "%M", "fping", "-u", "-g", cidr, "-i", "0", "-t", "100", "-r", "0",
            ],
        );
        stderr(&out)
            .lines()
            .last()
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let small = sweep("10.20.0.0/22");
    let large = sweep("10.20.0.0/18");
    let grown = large.saturating_sub(small);
    // 15,360 more targets: what grows is each target's result (its name,
    // counters and statistics for the end), not the probes in flight, which
    // -W bounds. Measured 2.1 MiB (~140 bytes a target); fping grows by
    // ~7.5 MiB for the same targets.
    let per_target = grown * 1024 / 15_360;
    assert!(
        per_target <= 256,
        "a /18 used {large} KiB against {small} KiB for a /22: {per_target} bytes a target"
    );
    let anchor = fping("10.20.0.0/18").saturating_sub(fping("10.20.0.0/22"));
    assert!(
        grown * 2 < anchor,
        "netdx grew by {grown} KiB for a /18 over a /22, fping by {anchor} KiB"
    );
}

// ---- --json-stream ---------------------------------------------------------

/// `netdx ping --json-stream args…` in `ns`: exit code and every line,
/// parsed and held to docs/schema/ping.stream.json.
fn ping_stream(ns: &Netns, args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>) {
    let mut full = vec!["ping", "--json-stream"];
    full.extend_from_slice(args);
    let out = ns.netdx(&full);
    assert_eq!(stderr(&out), "", "nothing on stderr");
    let lines = common::json_lines(&out.stdout);
    assert_stream_valid(&lines);
    (out.status.code(), lines)
}

/// Asserts that every line is a `ping.stream` line (closed: no field the
/// schema does not declare).
fn assert_stream_valid(lines: &[serde_json::Value]) {
    for line in lines {
        common::assert_schema_valid("ping.stream", line);
    }
}

/// One line of a running stream, parsed and held to its schema.
fn stream_line(line: &str) -> serde_json::Value {
    let value = common::json_line(line);
    assert_stream_valid(std::slice::from_ref(&value));
    value
}

/// The lines whose `event` is `name`.
fn events<'a>(lines: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|line| line["event"] == name).collect()
}

fn seqs(lines: &[&serde_json::Value]) -> Vec<u64> {
    lines
        .iter()
        .map(|line| line["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn stream_has_start_first_a_reply_per_probe_and_the_json_summary_last() {
    require_root!();
    let pair = Pair::new("stream");
    let (code, lines) = ping_stream(&pair.client, &["-c", "4", "-i", "0.05", Pair::HOST_V4]);
    assert_eq!(code, Some(0));
    let names = common::event_names(&lines);
    assert_eq!(
        names,
        ["start", "reply", "reply", "reply", "reply", "summary"]
    );
    let start = &lines[0];
    assert_eq!(start["shape"], "host");
    assert_eq!(start["address"], Pair::HOST_V4);
    assert_eq!(
        (start["payload_bytes"].as_u64(), start["count"].as_u64()),
        (Some(56), Some(4))
    );
    let replies = events(&lines, "reply");
    assert_eq!(seqs(&replies), [1, 2, 3, 4]);
    for reply in &replies {
        assert_eq!(reply["from"], Pair::HOST_V4);
        assert_eq!(
            (reply["bytes"].as_u64(), reply["ttl"].as_u64()),
            (Some(64), Some(64))
        );
        assert!(reply["rtt_ms"].as_f64().unwrap() > 0.0, "{reply}");
        assert_eq!(
            (&reply["status"], &reply["dup"]),
            (&"good".into(), &false.into())
        );
    }
    // The summary is the --json document's object, with the same statistics.
    let summary = &lines[5];
    assert_eq!(summary["interim"], false);
    let (_, document) = pair
        .client
        .netdx_json(&["ping", "-c", "4", "-i", "0.05", Pair::HOST_V4]);
    let document = document[0].as_object().unwrap();
    for key in document.keys() {
        assert!(summary.get(key).is_some(), "summary lacks {key}: {summary}");
    }
    for key in ["transmitted", "received", "loss_pct", "target", "address"] {
        assert_eq!(summary[key], document[key], "{key}");
    }
}

#[test]
fn stream_gives_a_timeout_line_for_every_unanswered_probe_and_keeps_exit_1() {
    require_root!();
    let pair = Pair::new("streamto");
    pair.silence("10.9.99.0/24");
    let (code, lines) = ping_stream(
        &pair.client,
        &["-c", "3", "-i", "0.1", "-W", "0.2", "10.9.99.9"],
    );
    assert_eq!(code, Some(1), "no reply: exit 1 as in text mode");
    assert_eq!(
        common::event_names(&lines),
        ["start", "timeout", "timeout", "timeout", "summary"]
    );
    assert_eq!(seqs(&events(&lines, "timeout")), [1, 2, 3]);
    assert_eq!(lines[4]["transmitted"], 3);
    assert_eq!(lines[4]["received"], 0);
}

#[test]
fn stream_sweep_with_a_silent_host_has_its_timeouts_and_a_summary_per_target() {
    require_root!();
    let pair = Pair::new("streamsw");
    pair.silence("10.9.99.0/24");
    let targets = [Pair::HOST_V4, "10.9.99.1"];
    // fping's default (until answered, --retries 1) and a counted sweep.
    for (extra, silent_probes) in [(&["--retries", "1"][..], 2), (&["-c", "3"][..], 3)] {
        let mut args = vec!["-i", "0.01", "--period", "0.05", "-W", "0.2"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&targets);
        let (code, lines) = ping_stream(&pair.client, &args);
        assert_eq!(code, Some(1), "a silent member: exit 1");
        assert_eq!(lines[0]["event"], "start");
        assert_eq!(
            (&lines[0]["shape"], lines[0]["targets"].as_u64()),
            (&"sweep".into(), Some(2))
        );
        assert_eq!(lines.last().unwrap()["event"], "summary");
        let of = |name: &str, target: &str| {
            lines
                .iter()
                .filter(|line| line["event"] == name && line["target"] == target)
                .count()
        };
        assert_eq!(of("timeout", "10.9.99.1"), silent_probes, "{lines:?}");
        assert_eq!(of("reply", "10.9.99.1"), 0);
        assert_eq!(of("timeout", Pair::HOST_V4), 0);
        assert!(of("reply", Pair::HOST_V4) >= 1);
        assert_eq!(
            (of("summary", Pair::HOST_V4), of("summary", "10.9.99.1")),
            (1, 1)
        );
        let silent = lines
            .iter()
            .find(|line| line["event"] == "summary" && line["target"] == "10.9.99.1")
            .unwrap();
        assert_eq!(silent["received"], 0);
        assert_eq!(silent["transmitted"].as_u64(), Some(silent_probes as u64));
    }
}

#[test]
fn stream_reports_icmp_errors_and_bad_replies_on_their_own_lines() {
    require_root!();
    let pair = scripted("streamerr", "unreach,dup,echo");
    let (code, lines) = ping_stream(
        &pair.client,
        &["-c", "3", "-i", "0.3", "-W", "1", Pair::HOST_V4],
    );
    assert_eq!(code, Some(0), "{lines:?}");
    let errors = events(&lines, "error");
    assert_eq!(errors.len(), 1, "{lines:?}");
    let error = errors[0];
    assert_eq!(
        (error["seq"].as_u64(), &error["origin"]),
        (Some(1), &"icmp".into())
    );
    assert_eq!(
        (error["icmp_type"].as_u64(), error["icmp_code"].as_u64()),
        (Some(3), Some(1))
    );
    assert_eq!(error["from"], Pair::HOST_V4);
    assert_eq!(error["message"], "Destination Host Unreachable");
    let statuses: Vec<(u64, &str)> = events(&lines, "reply")
        .iter()
        .map(|r| (r["seq"].as_u64().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [(2, "good"), (2, "duplicate"), (3, "good")],
        "{lines:?}"
    );
    let summary = lines.last().unwrap();
    assert_eq!(
        (summary["errors"].as_u64(), summary["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn stream_reply_lines_tell_late_and_each_kind_of_corrupted_reply_apart() {
    require_root!();
    let pair = scripted("streambad", "late:0.5,echo,badsum,truncate,corrupt");
    let (code, lines) = ping_stream(
        &pair.client,
        &["-c", "5", "-i", "0.4", "-W", "0.2", Pair::HOST_V4],
    );
    assert_eq!(code, Some(0), "{lines:?}");
    let mut replies: Vec<(u64, &str, &serde_json::Value)> = events(&lines, "reply")
        .iter()
        .map(|r| {
            let kind = &r["corruption"]["kind"];
            (
                r["seq"].as_u64().unwrap(),
                r["status"].as_str().unwrap(),
                kind,
            )
        })
        .collect();
    replies.sort_by_key(|(seq, ..)| *seq);
    let null = serde_json::Value::Null;
    assert_eq!(
        replies,
        [
            (1, "late", &null),
            (2, "good", &null),
            (3, "corrupted", &"bad_checksum".into()),
            (4, "corrupted", &"length".into()),
            (5, "corrupted", &"wrong_byte".into()),
        ],
        "{lines:?}"
    );
    // The late reply comes after its probe's timeout line.
    let position = |event: &str, seq: u64| {
        lines
            .iter()
            .position(|l| l["event"] == event && l["seq"] == seq)
    };
    let timeout = position("timeout", 1).expect("seq 1 timed out first");
    assert!(Some(timeout) < position("reply", 1), "{lines:?}");
    let summary = lines.last().unwrap();
    assert_eq!(
        (
            summary["received"].as_u64(),
            summary["late"].as_u64(),
            summary["corrupted"].as_u64()
        ),
        (Some(1), Some(1), Some(3)),
        "{summary}"
    );
}

#[test]
fn stream_sigquit_gives_an_interim_summary_and_ctrl_c_the_final_one() {
    require_root!();
    let mut child = spawn_ping(&["ping", "--json-stream", "-i", "0.05", "127.0.0.1"]);
    let feed = common::LineFeed::new(child.stdout.take().unwrap());
    let wait = Duration::from_secs(5);
    let first = feed.until("reply", wait);
    assert_eq!(common::event_names(&first), ["start", "reply"]);
    Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .unwrap();
    let to_interim = feed.until("summary", wait);
    let interim = to_interim.last().unwrap();
    assert_eq!(interim["interim"], true, "{interim}");
    assert!(interim["transmitted"].as_u64().unwrap() >= 1);
    // The run goes on: more replies, then Ctrl-C.
    let more = feed.until("reply", wait);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let rest = feed.rest(wait);
    let last = rest.last().expect("a final summary");
    assert_eq!(
        (&last["event"], &last["interim"]),
        (&"summary".into(), &false.into())
    );
    assert!(last["transmitted"].as_u64() >= interim["transmitted"].as_u64());
    // Every line, the replies between SIGQUIT and its summary included.
    let lines = [&first[..], &to_interim[..], &more[..], &rest[..]].concat();
    let replies = lines
        .iter()
        .filter(|line| line["event"] == "reply" && line["status"] == "good")
        .count() as u64;
    assert_eq!(
        last["received"].as_u64(),
        Some(replies),
        "one reply line per reply"
    );
    assert_stream_valid(&lines);
    let status = common::wait_exit(&mut child, wait);
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(err, "", "no interim line on stderr in stream mode");
}

#[test]
fn stream_first_line_comes_at_once_and_a_reader_that_leaves_ends_the_run_quietly() {
    require_root!();
    let args = ["ping", "-c", "100000", "--json-stream", "127.0.0.1"];
    let mut best = Duration::MAX;
    // The best of three, so one scheduling hiccup on a busy machine does
    // not decide; the bound is the issue's 100 ms.
    for _ in 0..3 {
        let started = Instant::now();
        let mut child = spawn_ping(&args);
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        best = best.min(started.elapsed());
        assert_eq!(stream_line(&line)["event"], "start");
        // The reader goes away; the next probe is a second off, but netdx
        // must not wait for it to notice.
        drop(stdout);
        let closed = Instant::now();
        let status = common::wait_exit(&mut child, Duration::from_secs(5));
        assert!(
            closed.elapsed() < Duration::from_millis(500),
            "ended {:?} after its reader left",
            closed.elapsed()
        );
        assert_eq!(status.code(), Some(0), "a closed pipe is a quiet exit 0");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(err, "");
    }
    assert!(
        best < Duration::from_millis(100),
        "first line after {best:?}"
    );
    // And as the shell runs it.
    let started = Instant::now();
    let script = format!(
        "{} ping -c 100000 --json-stream 127.0.0.1 | head -1; echo \"${{PIPESTATUS[0]}}\"",
        common::netdx_bin()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(stream_line(lines[0])["event"], "start");
    assert_eq!(lines[1], "0", "netdx's exit status");
    assert_eq!(stderr(&out), "");
}

/// Resident memory of `pid` in KiB (VmRSS in /proc/PID/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

#[test]
fn stream_to_a_slow_reader_holds_the_flood_back_instead_of_growing() {
    require_root!();
    // A flood could send tens of thousands of probes a second; a reader
    // taking one line every 2 ms must slow it to its own pace, with no
    // queue of lines growing in between.
    let mut child = spawn_ping(&["ping", "-f", "--json-stream", "127.0.0.1"]);
    let pid = child.id();
    let mut stdout = std::io::BufReader::with_capacity(256, child.stdout.take().unwrap());
    let mut line = String::new();
    let mut read = 0u64;
    let mut baseline = None;
    let mut peak = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        line.clear();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        stream_line(&line);
        read += 1;
        if started.elapsed() > Duration::from_millis(500) {
            let rss = rss_kib(pid);
            baseline.get_or_insert(rss);
            peak = peak.max(rss);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = common::wait_exit(&mut child, Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    for line in rest.lines() {
        stream_line(line);
    }
    let summary = common::json_line(rest.lines().last().expect("the summary"));
    assert_eq!(summary["event"], "summary");
    let baseline = baseline.unwrap();
    assert!(
        peak < baseline + 1024,
        "memory grew from {baseline} KiB to {peak} KiB"
    );
    // Every probe has a line, and the lines waiting in the pipe are few:
    // the flood went at the reader's pace.
    let lines_total = read + rest.lines().count() as u64;
    let transmitted = summary["transmitted"].as_u64().unwrap();
    assert!(
        transmitted <= lines_total,
        "{transmitted} probes sent, {lines_total} lines"
    );
    assert!(
        transmitted < read + 2000,
        "{transmitted} probes sent while {read} lines were read"
    );
}
