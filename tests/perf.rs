//! `netdx perf` between two namespaces: `perf serve` on the host, `perf
//! run` from the client over the veth. What netdx says was received is
//! checked against the kernel's own counts (the UDP MIB, the interface's
//! bytes, iptables' drop counter), never against a speed; several clients
//! at once, --max-clients refusals, a client that vanishes, and strangers
//! on either end (garbage, another version, iperf3).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::netns::{Netns, Pair};
use common::schema::{assert_schema_valid, assert_schema_valid_output};
use common::{assert_one_line_error, json_lines, netdx, netdx_bin, stderr, stdout};
use serde_json::Value;

const PORT: &str = "5201";

/// Polls until `ns` holds at least `count` established connections on the server's port.
fn wait_established(ns: &Netns, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = ns.sh(&format!("ss -Htn state established '( sport = :{PORT} )'"));
        if lines.lines().count() >= count {
            return;
        }
        assert!(Instant::now() < deadline, "no test started: {lines}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A pair whose host runs `netdx perf serve` with `extra` arguments.
fn served(tag: &str, extra: &[&str]) -> Pair {
    let mut pair = Pair::new(tag);
    let bind = format!("{}:{PORT}", Pair::HOST_V4);
    let mut args = vec!["perf", "serve", "--bind", &bind];
    args.extend_from_slice(extra);
    pair.host.spawn(netdx_bin(), &args);
    pair.host.wait_listening(PORT);
    pair
}

/// `netdx perf run HOST_V4 args… --json` from the client: the document.
fn perf_json(pair: &Pair, args: &[&str]) -> Value {
    let mut full = vec!["perf", "run", Pair::HOST_V4];
    full.extend_from_slice(args);
    full.push("--json");
    let output = pair.client.netdx(&full);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_schema_valid_output("perf", &output.stdout)
}

/// A perf run started in the background in `ns`.
fn spawn_run(ns: &Netns, args: &[&str]) -> Child {
    let mut full = vec!["perf", "run", Pair::HOST_V4];
    full.extend_from_slice(args);
    ns.command(netdx_bin(), &full)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netdx runs")
}

/// Bytes received on `iface` in `ns` (/proc/net/dev, the namespace's own).
fn rx_bytes(ns: &Netns, iface: &str) -> u64 {
    let dev = ns.read("/proc/net/dev");
    let line = dev
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("{iface}:")))
        .unwrap_or_else(|| panic!("{iface} not in {dev}"));
    let fields: Vec<&str> = line.split(':').nth(1).unwrap().split_whitespace().collect();
    fields[0].parse().unwrap()
}

/// A counter of the `Udp:` line of /proc/net/snmp in `ns`.
fn udp_mib(ns: &Netns, name: &str) -> u64 {
    let snmp = ns.read("/proc/net/snmp");
    let lines: Vec<&str> = snmp.lines().filter(|l| l.starts_with("Udp:")).collect();
    let names: Vec<&str> = lines[0].split_whitespace().collect();
    let values: Vec<&str> = lines[1].split_whitespace().collect();
    let at = names.iter().position(|n| *n == name).unwrap();
    values[at].parse().unwrap()
}

fn u64_at(value: &Value, pointer: &str) -> u64 {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} in {value}"))
}

/// The bytes of a data connection's opening frame (docs/perf-protocol.md):
/// the length, then `{"netdx_perf":1,"type":"stream","cookie":"<32 hex>","index":N}`.
fn stream_frame_len(index: usize) -> u64 {
    let body = format!(
        r#"{{"netdx_perf":1,"type":"stream","cookie":"{}","index":{index}}}"#,
        "0".repeat(32)
    );
    4 + body.len() as u64
}

/// Every stream's receiver got exactly what its sender sent (TCP loses
/// nothing it acknowledged) and what the receiving kernel counted
/// (TCP_INFO's bytes_received, less the FIN and, on the server's end, the
/// opening frame), and the sums add the streams up.
fn assert_tcp_exact(report: &Value, streams: usize) {
    let end = &report["end"];
    let list = end["streams"].as_array().unwrap();
    assert_eq!(list.len(), streams, "{end}");
    for (index, stream) in list.iter().enumerate() {
        let sent = u64_at(stream, "/sender/bytes");
        assert!(sent > 0, "{stream}");
        let received = u64_at(stream, "/receiver/bytes");
        assert_eq!(sent, received, "{stream}");
        let kernel = u64_at(stream, "/receiver/kernel_bytes_received");
        let client_receives = report["start"]["connected"][index]["sender"] == false;
        let framing = if client_receives {
            0
        } else {
            stream_frame_len(index)
        };
        // The kernel counts sequence space: the FIN takes one.
        assert_eq!(kernel, received + framing + 1, "{stream}");
        assert_eq!(stream["sender"]["sender"], true);
        assert_eq!(stream["receiver"]["sender"], false);
    }
    assert_eq!(
        u64_at(end, "/sum_sent/bytes"),
        u64_at(end, "/sum_received/bytes")
    );
    assert!(!report["intervals"].as_array().unwrap().is_empty());
}

#[test]
fn tcp_with_one_and_four_streams_receives_every_byte_sent() {
    require_root!();
    let pair = served("pft", &[]);
    for streams in ["1", "4"] {
        let before = rx_bytes(&pair.host, "h0");
        let report = perf_json(&pair, &["-t", "1", "-P", streams]);
        let received_on_link = rx_bytes(&pair.host, "h0") - before;
        let n: usize = streams.parse().unwrap();
        assert_tcp_exact(&report, n);
        let received = u64_at(&report, "/end/sum_received/bytes");
        // The link carried the payload and its headers (Ethernet, IP and
        // TCP with timestamps: under 5 % at a 1500-byte MTU), and nothing
        // went uncounted.
        assert!(received_on_link > received, "{received_on_link} {received}");
        assert!(
            received_on_link < received + received / 10 + 100_000,
            "{received_on_link} {received}"
        );
        assert_eq!(report["start"]["test_start"]["num_streams"], n);
        assert_eq!(report["start"]["connected"].as_array().unwrap().len(), n);
        let interval = &report["intervals"][0];
        assert_eq!(interval["streams"].as_array().unwrap().len(), n);
        assert!(interval["streams"][0]["snd_cwnd"].as_u64().unwrap() > 0);
        assert!(interval["streams"][0]["retransmits"].is_u64());
    }
    // The text is iperf3's.
    let text = stdout(
        &pair
            .client
            .netdx(&["perf", "run", Pair::HOST_V4, "-t", "1"]),
    );
    assert!(
        text.starts_with(&format!(
            "Connecting to host {}, port {PORT}\n",
            Pair::HOST_V4
        )),
        "{text}"
    );
    assert!(
        text.contains("[ ID] Interval           Transfer     Bitrate         Retr  Cwnd\n"),
        "{text}"
    );
    let line = regex::Regex::new(
        r"(?m)^\[  1\]   0\.00-1\.0\d   sec +[0-9.]+ [KMG]?Bytes +[0-9.]+ [KMG]?bits/sec +\d+ +[0-9.]+ [KMG]?Bytes$",
    )
    .unwrap();
    assert!(line.is_match(&text), "{text}");
    assert!(
        regex::Regex::new(r"(?m)^\[  1\] .* sec .*  sender$")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    assert!(text.contains("  receiver\n"), "{text}");
}

#[test]
fn reverse_and_bidir_count_both_ends_of_every_stream() {
    require_root!();
    let pair = served("pfr", &[]);
    let before = rx_bytes(&pair.client, "c0");
    let report = perf_json(&pair, &["-t", "1", "-R"]);
    assert_tcp_exact(&report, 1);
    assert_eq!(report["start"]["test_start"]["reverse"], 1);
    assert_eq!(report["start"]["connected"][0]["sender"], false);
    assert_eq!(report["intervals"][0]["streams"][0]["sender"], false);
    let received = u64_at(&report, "/end/sum_received/bytes");
    assert!(rx_bytes(&pair.client, "c0") - before > received);

    let report = perf_json(&pair, &["-t", "1", "--bidir", "-P", "2"]);
    assert_tcp_exact(&report, 4);
    let end = &report["end"];
    for sum in ["sum_sent_bidir_reverse", "sum_received_bidir_reverse"] {
        assert!(end[sum]["bytes"].as_u64().unwrap() > 0, "{end}");
    }
    assert_eq!(
        end["sum_sent_bidir_reverse"]["bytes"],
        end["sum_received_bidir_reverse"]["bytes"]
    );
    let senders: Vec<bool> = report["start"]["connected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sender"].as_bool().unwrap())
        .collect();
    assert_eq!(senders, [true, true, false, false]);
    assert!(report["intervals"][0]["sum_bidir_reverse"].is_object());
}

/// A counter of `/proc/PID/io` (the whole process, exited threads too).
fn proc_io(pid: u32, name: &str) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap();
    io.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("{name} not in {io}"))
        .parse()
        .unwrap()
}

#[test]
fn zerocopy_senders_send_the_file_with_sendfile_and_every_byte_arrives() {
    require_root!();
    let mut pair = Pair::new("pfz");
    let bind = format!("{}:{PORT}", Pair::HOST_V4);
    let server = pair
        .host
        .spawn(netdx_bin(), &["perf", "serve", "--bind", &bind]);
    pair.host.wait_listening(PORT);
    // The client sends with -Z: every byte still arrives.
    let report = perf_json(&pair, &["-t", "1", "-Z"]);
    assert_tcp_exact(&report, 1);
    assert_eq!(report["start"]["test_start"]["zerocopy"], 1);
    // The server sends (-R): sendfile(2) reads the file as it sends, so the
    // kernel counts the bytes sent as read by the server (rchar) and one
    // read syscall per send; a server that writes from a buffer reads only
    // its control frames.
    for (zerocopy, args) in [
        (true, &["-t", "1", "-R", "-Z"][..]),
        (false, &["-t", "1", "-R"]),
    ] {
        let (chars, calls) = (proc_io(server, "rchar"), proc_io(server, "syscr"));
        let report = perf_json(&pair, args);
        assert_tcp_exact(&report, 1);
        let sent = u64_at(&report, "/end/sum_sent/bytes");
        let read = proc_io(server, "rchar") - chars;
        let read_calls = proc_io(server, "syscr") - calls;
        if zerocopy {
            assert!(read >= sent, "sent {sent}, read {read}");
            assert!(
                read_calls * (128 * 1024) >= sent,
                "{read_calls} reads for {sent}"
            );
        } else {
            assert!(
                read < 1_000_000 && read < sent / 100,
                "sent {sent}, read {read}"
            );
        }
    }
}

#[test]
fn udp_datagrams_received_are_the_kernels_count() {
    require_root!();
    let pair = served("pfu", &[]);
    let before = udp_mib(&pair.host, "InDatagrams");
    let report = perf_json(&pair, &["-u", "-b", "10M", "-t", "1", "-l", "1200"]);
    let delivered = udp_mib(&pair.host, "InDatagrams") - before;
    let stream = &report["end"]["streams"][0];
    let sent = u64_at(stream, "/sender/packets");
    let received = u64_at(stream, "/receiver/packets");
    assert_eq!(received, delivered, "{stream}");
    assert_eq!(sent, received, "{stream}");
    assert_eq!(u64_at(stream, "/receiver/bytes"), received * 1200);
    assert_eq!(u64_at(stream, "/receiver/lost_packets"), 0);
    assert!(stream["receiver"]["jitter_ms"].as_f64().unwrap() >= 0.0);
    // 10 Mbit/s for 1 s is about 1040 datagrams of 1200 bytes; pacing
    // holds it near that (a loose bound: the machine may be busy).
    assert!(sent > 500 && sent < 1100, "{sent}");
    // Without -b, iperf3's 1 Mbit/s (1024 × 1024 bits): about 90 datagrams
    // of 1460 bytes a second.
    let report = perf_json(&pair, &["-u", "-t", "1", "-R"]);
    let sent = u64_at(&report, "/end/streams/0/sender/packets");
    assert!((40..=95).contains(&sent), "{sent}");
    assert_eq!(report["start"]["test_start"]["target_bitrate"], 1_048_576);
    // Where iperf3 puts UDP's figures, too.
    assert_eq!(report["end"]["sum"], report["end"]["sum_received"]);
    assert_eq!(
        report["end"]["streams"][0]["udp"],
        report["end"]["streams"][0]["receiver"]
    );
    assert_eq!(report["start"]["test_start"]["blksize"], 1460);
}

#[test]
fn udp_loss_from_an_iptables_nth_drop_is_counted_exactly() {
    require_root!();
    let pair = served("pfl", &[]);
    pair.host.sh(&format!(
        "iptables -A INPUT -p udp -s {} -m statistic --mode nth --every 10 --packet 0 -j DROP",
        Pair::CLIENT_V4
    ));
    let report = perf_json(&pair, &["-u", "-b", "5M", "-t", "1"]);
    let counters = pair.host.sh("iptables -L INPUT -v -x -n");
    let dropped: u64 = counters
        .lines()
        .find(|l| l.contains("statistic"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{counters}"));
    let stream = &report["end"]["streams"][0];
    let sent = u64_at(stream, "/sender/packets");
    assert!(dropped > 0);
    assert_eq!(dropped, sent.div_ceil(10), "{stream}");
    assert_eq!(
        u64_at(stream, "/receiver/lost_packets"),
        dropped,
        "{stream}"
    );
    assert_eq!(u64_at(stream, "/receiver/packets"), sent - dropped);
    assert_eq!(u64_at(&report, "/end/sum_received/lost_packets"), dropped);
    let percent = stream["receiver"]["lost_percent"].as_f64().unwrap();
    assert!((percent - dropped as f64 * 100.0 / sent as f64).abs() < 1e-9);
    // Nothing was reordered on a veth.
    assert_eq!(u64_at(stream, "/receiver/out_of_order"), 0);
}

/// `bits_per_second` at `pointer` in `report`.
fn rate_at(report: &Value, pointer: &str) -> f64 {
    report
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{pointer} in {report}"))
}

#[test]
fn b_holds_tcp_to_the_kernels_pacing_and_udp_to_user_space_pacing() {
    require_root!();
    let pair = served("pfb", &[]);
    // Only upper bounds: a busy machine can make a test slower, never
    // faster than its pacing. The receiver's rate is the wire's (a TCP
    // sender's count includes what its socket buffer still holds).
    for args in [&["-b", "40M"][..], &["-b", "40M", "-R"]] {
        let mut full = vec!["-t", "1"];
        full.extend_from_slice(args);
        let report = perf_json(&pair, &full);
        assert_tcp_exact(&report, 1);
        assert_eq!(report["start"]["test_start"]["target_bitrate"], 40_000_000);
        let received = rate_at(&report, "/end/sum_received/bits_per_second");
        assert!(received < 40e6 * 1.15, "{args:?}: {received}");
    }
    let report = perf_json(&pair, &["-u", "-b", "20M", "-t", "1", "-P", "2"]);
    for stream in report["end"]["streams"].as_array().unwrap() {
        let sent = rate_at(stream, "/sender/bits_per_second");
        assert!(sent < 20e6 * 1.05, "{stream}");
    }
}

#[test]
fn ipv6_tcp_and_udp_tests_run_over_the_link() {
    require_root!();
    let mut pair = Pair::new("pf6");
    let bind = format!("[{}]:{PORT}", Pair::HOST_V6);
    pair.host
        .spawn(netdx_bin(), &["perf", "serve", "--bind", &bind]);
    pair.host.wait_listening(PORT);
    for args in [&["-t", "1"][..], &["-t", "1", "-u", "-b", "5M", "-R"]] {
        let mut full = vec!["perf", "run", Pair::HOST_V6];
        full.extend_from_slice(args);
        full.push("--json");
        let output = pair.client.netdx(&full);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
        let report = assert_schema_valid_output("perf", &output.stdout);
        assert_eq!(
            report["start"]["connected"][0]["remote_host"],
            Pair::HOST_V6
        );
        let stream = &report["end"]["streams"][0];
        if args.contains(&"-u") {
            assert_eq!(stream["sender"]["packets"], stream["receiver"]["packets"]);
        } else {
            assert_tcp_exact(&report, 1);
        }
    }
}

#[test]
fn two_clients_at_once_both_get_results() {
    require_root!();
    let pair = served("pf2", &[]);
    let first = spawn_run(&pair.client, &["-t", "2", "--json"]);
    wait_established(&pair.host, 2);
    let second = pair
        .client
        .netdx(&["perf", "run", Pair::HOST_V4, "-t", "1", "--json"]);
    let first = first.wait_with_output().unwrap();
    for output in [&first, &second] {
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let report = assert_schema_valid_output("perf", &output.stdout);
        assert_tcp_exact(&report, 1);
    }
}

#[test]
fn a_client_beyond_max_clients_is_refused_and_the_server_serves_on() {
    require_root!();
    let pair = served("pfm", &["--max-clients", "1"]);
    let first = spawn_run(&pair.client, &["-t", "3"]);
    wait_established(&pair.host, 2);
    let refused = pair
        .client
        .netdx(&["perf", "run", Pair::HOST_V4, "-t", "1"]);
    assert_one_line_error(&refused, "the server is busy");
    assert!(stderr(&refused).contains("--max-clients 1"), "{refused:?}");
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    // The slot is free again once the first test ended.
    perf_json(&pair, &["-t", "1"]);
}

#[test]
fn the_server_serves_on_after_a_client_vanishes_mid_test() {
    require_root!();
    let pair = served("pfv", &["--max-clients", "1"]);
    for args in [
        &["-t", "10"][..],
        &["-t", "10", "-R"],
        &["-t", "10", "-u", "-b", "5M"],
    ] {
        let mut vanishing = spawn_run(&pair.client, args);
        wait_established(&pair.host, 1);
        // Killed as a crash would: no results, no goodbye.
        vanishing.kill().unwrap();
        vanishing.wait().unwrap();
        // Its test ends on the server and gives its one slot back.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let output = pair
                .client
                .netdx(&["perf", "run", Pair::HOST_V4, "-t", "1", "--json"]);
            if output.status.code() == Some(0) {
                assert_tcp_exact(&assert_schema_valid_output("perf", &output.stdout), 1);
                break;
            }
            assert!(
                stderr(&output).contains("busy") && Instant::now() < deadline,
                "{args:?}: {output:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn ctrl_c_ends_the_test_early_on_both_ends_with_its_totals_so_far() {
    require_root!();
    let pair = served("pfi", &[]);
    for args in [
        &["-t", "60"][..],
        &["-t", "60", "-R"],
        &["-t", "60", "-u", "-R"],
    ] {
        let mut full = args.to_vec();
        full.push("--json");
        let run = spawn_run(&pair.client, &full);
        wait_established(&pair.host, if args.contains(&"-u") { 1 } else { 2 });
        // Some data first, so the report has something to show.
        std::thread::sleep(Duration::from_millis(300));
        let status = Command::new("kill")
            .args(["-INT", &run.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = run.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
        let report = assert_schema_valid_output("perf", &output.stdout);
        let seconds = report["end"]["sum_sent"]["seconds"].as_f64().unwrap();
        assert!(seconds < 30.0, "{args:?}: {seconds}");
        if args.contains(&"-u") {
            let stream = &report["end"]["streams"][0];
            assert_eq!(stream["sender"]["packets"], stream["receiver"]["packets"]);
        } else {
            assert_tcp_exact(&report, 1);
        }
    }
}

#[test]
fn json_stream_prints_start_each_interval_and_end() {
    require_root!();
    let pair = served("pfs", &[]);
    let output = pair.client.netdx(&[
        "perf",
        "run",
        Pair::HOST_V4,
        "-t",
        "1",
        "-i",
        "0.5",
        "--json-stream",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let lines = json_lines(&output.stdout);
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        assert_schema_valid("perf.stream", &serde_json::from_str(line).unwrap());
    }
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        ["start", "interval", "interval", "end"],
        "{lines:?}"
    );
    assert!(lines[3]["data"]["sum_received"]["bytes"].as_u64().unwrap() > 0);
}

/// Kills a child at the end of a test, whatever happens.
struct Killed(Option<Child>);

impl Killed {
    fn output(mut self) -> std::process::Output {
        let mut child = self.0.take().unwrap();
        let _ = child.kill();
        child.wait_with_output().unwrap()
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn serve_json_stream_prints_a_line_per_test_with_what_the_client_asked_and_moved() {
    require_root!();
    let pair = Pair::new("pfs");
    let bind = format!("{}:{PORT}", Pair::HOST_V4);
    let server = Killed(Some(
        pair.host
            .command(
                netdx_bin(),
                &["perf", "serve", "--bind", &bind, "--json-stream"],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netdx runs"),
    ));
    pair.host.wait_listening(PORT);
    let report = perf_json(&pair, &["-t", "1", "-R", "-P", "2", "-l", "64K"]);
    let sent = u64_at(&report, "/end/sum_sent/bytes");
    // A client speaking another version is refused, and the server says so.
    let body = r#"{"netdx_perf":7,"type":"hello"}"#;
    let script = format!(
        "import socket\n\
         c=socket.create_connection(('{}', {PORT})); c.sendall(len(b'{body}').to_bytes(4,'big')+b'{body}')\n\
         c.recv(65536)\n",
        Pair::HOST_V4
    );
    assert!(
        pair.client
            .run("python3", &["-c", &script])
            .status
            .success()
    );
    // Both tests are logged once the refusal is.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pair
        .host
        .sh("ss -Htn state established")
        .contains(&format!(":{PORT} "))
    {
        assert!(Instant::now() < deadline, "connections stay open");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = server.output();
    let lines = json_lines(&output.stdout);
    for line in &lines {
        assert_schema_valid("perf-serve.stream", line);
    }
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events[0], "listening", "{lines:?}");
    assert_eq!(lines[0]["address"], bind.as_str());
    let started = lines.iter().find(|l| l["event"] == "test_started").unwrap();
    let test = &started["test"];
    assert_eq!(test["protocol"], "TCP");
    assert_eq!(test["streams"], 2);
    assert_eq!(test["reverse"], true);
    assert_eq!(test["length"], 65536);
    assert_eq!(test["duration_ms"], 1000);
    let ended = lines.iter().find(|l| l["event"] == "test_ended").unwrap();
    // The server sent everything the client's report says it sent.
    assert_eq!(ended["bytes"], sent, "{ended}");
    assert_eq!(ended["peer"], started["peer"]);
    let turned_away = lines
        .iter()
        .find(|l| l["event"] == "refused" || l["event"] == "failed")
        .unwrap_or_else(|| panic!("no refusal in {lines:?}"));
    let why = turned_away["reason"]
        .as_str()
        .or(turned_away["error"].as_str())
        .unwrap();
    assert!(why.contains("version 7"), "{turned_away}");
}

/// A one-shot fake server in `ns`: answers the first frame with `reply`
/// (raw bytes, as Python's bytes literal).
fn fake_server(ns: &mut Netns, reply: &str) {
    let script = format!(
        "import socket,sys\n\
         s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         s.bind(('{}', {PORT})); s.listen(8); print('ready', flush=True)\n\
         while True:\n\
         \x20   c,_=s.accept(); c.recv(65536); c.sendall({reply}); c.close()\n",
        Pair::HOST_V4
    );
    ns.spawn_ready("python3", &["-c", &script]);
}

#[test]
fn another_version_or_garbage_from_the_server_is_a_clear_error() {
    require_root!();
    let mut pair = Pair::new("pfg");
    let body = r#"{"netdx_perf":2,"type":"accept","cookie":"x"}"#;
    fake_server(
        &mut pair.host,
        &format!("len(b'{body}').to_bytes(4,'big')+b'{body}'"),
    );
    let output = pair
        .client
        .netdx(&["perf", "run", Pair::HOST_V4, "-t", "1"]);
    assert_one_line_error(&output, "protocol version 2, this netdx speaks 1");

    let mut pair = Pair::new("pfh");
    fake_server(&mut pair.host, "b'HTTP/1.1 400 Bad Request\\r\\n\\r\\n'");
    let output = pair
        .client
        .netdx(&["perf", "run", Pair::HOST_V4, "-t", "1"]);
    assert_one_line_error(&output, "that is not a netdx perf peer");
}

#[test]
fn garbage_and_another_version_from_a_client_are_answered_with_an_error_frame() {
    require_root!();
    let pair = served("pfc", &[]);
    let probe = |payload: &str| {
        let script = format!(
            "import socket\n\
             c=socket.create_connection(('{}', {PORT})); c.sendall({payload})\n\
             print(c.recv(65536)[4:].decode())\n",
            Pair::HOST_V4
        );
        let output = pair.client.run("python3", &["-c", &script]);
        assert!(output.status.success(), "{output:?}");
        stdout(&output)
    };
    let body = r#"{"netdx_perf":7,"type":"hello"}"#;
    let answer = probe(&format!("len(b'{body}').to_bytes(4,'big')+b'{body}'"));
    let answer: Value = serde_json::from_str(answer.trim()).unwrap();
    assert_eq!(answer["type"], "error");
    assert!(
        answer["message"].as_str().unwrap().contains("version 7"),
        "{answer}"
    );
    let answer = probe("b'GET / HTTP/1.1\\r\\n\\r\\n'");
    assert!(answer.contains("not a netdx perf peer"), "{answer}");
    // And it serves on.
    perf_json(&pair, &["-t", "1"]);
}

/// Whether iperf3 is here; without it a test skips, saying so, except
/// under CI=true, where it fails (scripts/test installs it).
fn have_iperf3() -> bool {
    let here = Command::new("iperf3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but iperf3 is missing (scripts/test installs it)"
        );
        eprintln!("skipping: iperf3 is not installed (apt-get install iperf3)");
    }
    here
}

#[test]
fn iperf3_on_either_end_is_named_and_refused() {
    require_root!();
    if !have_iperf3() {
        return;
    }
    // netdx perf run against iperf3 -s.
    let mut pair = Pair::new("pfi");
    pair.host
        .spawn("iperf3", &["-s", "-B", Pair::HOST_V4, "-p", PORT]);
    pair.host.wait_listening(PORT);
    let output = pair
        .client
        .netdx(&["perf", "run", Pair::HOST_V4, "-t", "1"]);
    assert_one_line_error(
        &output,
        "that is not a netdx perf server (an iperf3 server?",
    );
    // iperf3 -c against netdx perf serve: turned away; the server serves on.
    let pair = served("pfj", &[]);
    let output = pair
        .client
        .run("iperf3", &["-c", Pair::HOST_V4, "-p", PORT, "-t", "1"]);
    assert!(!output.status.success(), "{output:?}");
    perf_json(&pair, &["-t", "1"]);
}

/// `iperf3 -c HOST_V4 -p IPERF_PORT args… -J` from the client: the document.
fn iperf3_json(pair: &Pair, port: &str, args: &[&str]) -> Value {
    let mut full = vec!["-c", Pair::HOST_V4, "-p", port, "-J"];
    full.extend_from_slice(args);
    let output = pair.client.run("iperf3", &full);
    assert!(output.status.success(), "iperf3 {full:?}: {output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn throughput_agrees_with_iperf3_on_a_shaped_link_both_ways_tcp_and_udp_1_and_4_streams() {
    require_root!();
    if !have_iperf3() {
        return;
    }
    // Both directions of the veth held to 200 Mbit/s by tbf, so the link,
    // not this machine's two cores, sets the rate both tools must measure.
    let mut pair = served("pfq", &[]);
    for (ns, dev) in [(&pair.client, "c0"), (&pair.host, "h0")] {
        ns.sh(&format!(
            "tc qdisc add dev {dev} root tbf rate 200mbit burst 256kb latency 20ms"
        ));
        assert!(ns.sh(&format!("tc qdisc show dev {dev}")).contains("tbf"));
    }
    let iperf_port = "5202";
    pair.host
        .spawn("iperf3", &["-s", "-B", Pair::HOST_V4, "-p", iperf_port]);
    pair.host.wait_listening(iperf_port);
    for protocol in ["tcp", "udp"] {
        for streams in ["1", "4"] {
            for reverse in [false, true] {
                let mut args = vec!["-t", "2", "-P", streams];
                if protocol == "udp" {
                    // 4 × 20 Mbit/s stays under the link's rate: no loss to argue about.
                    args.extend_from_slice(&["-u", "-b", "20M"]);
                }
                if reverse {
                    args.push("-R");
                }
                let ours = perf_json(&pair, &args);
                let theirs = iperf3_json(&pair, iperf_port, &args);
                let received = |doc: &Value| {
                    doc["end"]["sum_received"]["bits_per_second"]
                        .as_f64()
                        .unwrap_or_else(|| panic!("{doc}"))
                };
                let (a, b) = (received(&ours), received(&theirs));
                eprintln!("{protocol} -P {streams} reverse={reverse}: netdx {a:.0}, iperf3 {b:.0}");
                assert!(
                    (a - b).abs() <= 0.1 * b,
                    "{protocol} -P {streams} reverse={reverse}: netdx {a:.0} bit/s, iperf3 {b:.0} bit/s"
                );
                // And both see the link's rate (TCP) or the asked rate (UDP).
                let expected = if protocol == "tcp" {
                    200e6
                } else {
                    20e6 * streams.parse::<f64>().unwrap()
                };
                assert!(
                    a <= expected * 1.05 && a >= expected * 0.7,
                    "{protocol} -P {streams}: {a:.0}"
                );
            }
        }
    }
}

#[test]
fn bad_arguments_are_one_line_errors() {
    for (args, fragment) in [
        (&["perf", "run", "127.0.0.1:0"][..], "is not a port"),
        (&["perf", "run", "127.0.0.1", "-P", "0"], "--parallel"),
        (&["perf", "run", "127.0.0.1", "-b", "10X"], "is not a rate"),
        (&["perf", "run", "127.0.0.1", "-R", "--bidir"], "--bidir"),
        (&["perf", "run", "127.0.0.1", "-u", "-l", "8"], "length"),
        (&["perf", "serve", "--json"], "perf serve"),
    ] {
        let output = netdx(args);
        assert_one_line_error(&output, fragment);
    }
}
