//! `netdx top` against known traffic in namespaces: a paced TCP sender on
//! a namespace's loopback must top the process table at its true rate,
//! the interface rates must be the /sys counters' deltas, without root the
//! hidden processes are counted, and the live view runs under tmux.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::netns::{Netns, Pair};
use common::schema::{assert_schema_valid, assert_schema_valid_output};
use common::{assert_one_line_error, json_lines, netdx, netdx_bin, stderr};
use serde_json::Value;

const RESPONDER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/responders/paced_traffic.py"
);

/// `netdx top --once -i SECS --json` in `ns`: the document.
fn top_once(ns: &Netns, secs: &str) -> Value {
    let output = ns.netdx(&["top", "--once", "-i", secs, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_schema_valid_output("top", &output.stdout)
}

fn f64_at(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

#[test]
fn a_paced_sender_on_loopback_tops_the_process_table_at_its_true_rate() {
    require_root!();
    let mut ns = Netns::new("topl");
    let rate = 20_000_000.0;
    let sink = ns.spawn_ready("python3", &[RESPONDER, "tcp-sink", "7300"]);
    let sender = ns.spawn_ready(
        "python3",
        &[RESPONDER, "tcp-send", "7300", &rate.to_string(), "8"],
    );
    let report = top_once(&ns, "2");
    assert!(
        (f64_at(&report, "interval_s") - 2.0).abs() < 0.2,
        "{report}"
    );
    let processes = report["processes"].as_array().unwrap();
    let top_two: Vec<u64> = processes
        .iter()
        .take(2)
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert!(
        top_two.contains(&u64::from(sender)) && top_two.contains(&u64::from(sink)),
        "sender {sender} and sink {sink} first: {report}"
    );
    let row = |pid: u32| {
        processes
            .iter()
            .find(|p| p["pid"] == pid)
            .unwrap_or_else(|| panic!("{pid} in {report}"))
    };
    let sent = f64_at(row(sender), "tx_bytes_per_sec");
    let received = f64_at(row(sink), "rx_bytes_per_sec");
    for (what, measured) in [("sent", sent), ("received", received)] {
        assert!(
            (measured - rate).abs() <= 0.1 * rate,
            "{what}: {measured:.0} B/s, truly {rate} B/s"
        );
    }
    assert_eq!(row(sender)["command"], "python3");
    assert_eq!(row(sender)["user"], "root");
    assert_eq!(row(sender)["connections"], 1);
    // The sender's connection, with its RTT.
    let connection = report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["pid"] == sender)
        .unwrap();
    assert_eq!(connection["peer"], "127.0.0.1:7300");
    assert!(connection["rtt_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(report["hidden_processes"], 0);
}

/// A counter of `dev` in `ns`, from /sys.
fn sys_counter(ns: &Netns, dev: &str, counter: &str) -> u64 {
    ns.read(&format!("/sys/class/net/{dev}/statistics/{counter}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn interface_rates_are_the_sys_counters_deltas() {
    require_root!();
    let mut pair = Pair::new("topi");
    let rate = 5_000_000.0;
    pair.client.spawn_ready(
        "python3",
        &[
            RESPONDER,
            "udp-send",
            Pair::HOST_V4,
            "9",
            &rate.to_string(),
            "8",
        ],
    );
    let (tx_before, rx_before) = (
        sys_counter(&pair.client, "c0", "tx_bytes"),
        sys_counter(&pair.host, "h0", "rx_bytes"),
    );
    let started = Instant::now();
    let client = top_once(&pair.client, "2");
    let host_output = pair
        .host
        .netdx(&["top", "--once", "-i", "2", "--json", "--by", "interface"]);
    let seconds = started.elapsed().as_secs_f64();
    let (tx_after, rx_after) = (
        sys_counter(&pair.client, "c0", "tx_bytes"),
        sys_counter(&pair.host, "h0", "rx_bytes"),
    );
    let host = assert_schema_valid_output("top", &host_output.stdout);
    // The /sys rates over the whole time both runs took; the traffic is
    // steady, so each netdx window must see the same rate.
    let sys_tx = (tx_after - tx_before) as f64 / seconds;
    let sys_rx = (rx_after - rx_before) as f64 / seconds;
    let interface = |report: &Value, name: &str| -> Value {
        report["interfaces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))
            .clone()
    };
    let ours_tx = f64_at(&interface(&client, "c0"), "tx_bytes_per_sec");
    let ours_rx = f64_at(&interface(&host, "h0"), "rx_bytes_per_sec");
    for (what, ours, sys) in [("c0 tx", ours_tx, sys_tx), ("h0 rx", ours_rx, sys_rx)] {
        assert!(
            (ours - sys).abs() <= 0.1 * sys,
            "{what}: netdx {ours:.0} B/s, /sys {sys:.0} B/s"
        );
    }
    // UDP has no per-socket counters, and the report says so.
    let unseen = client["unseen"].to_string();
    assert!(unseen.contains("UDP"), "{unseen}");
    assert_eq!(interface(&client, "c0")["name"], "c0");
    assert!(f64_at(&interface(&client, "lo"), "tx_bytes_per_sec") < 10_000.0);
}

/// `netdx args…` in `ns` as nobody, with no capabilities.
fn nobody_in(ns: &Netns, args: &[&str]) -> std::process::Output {
    Command::new("ip")
        .args(["netns", "exec", ns.name(), "setpriv", "--reuid=65534"])
        .args([
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            netdx_bin(),
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn without_root_other_users_connections_show_no_process_and_are_counted() {
    require_root!();
    // A root-owned connection on the host's loopback.
    let mut root = Netns::new("topu");
    root.spawn_ready("python3", &[RESPONDER, "hold", "7311"]);
    let output = nobody_in(&root, &["top", "--once", "-i", "0.3", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = assert_schema_valid_output("top", &output.stdout);
    let held: Vec<&Value> = report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["local"] == "127.0.0.1:7311" || c["peer"] == "127.0.0.1:7311")
        .collect();
    assert_eq!(held.len(), 2, "both ends: {report}");
    assert!(held.iter().all(|c| c["pid"].is_null()), "{report}");
    assert!(report["hidden_processes"].as_u64().unwrap() > 0, "{report}");
    assert!(
        report["processes"].as_array().unwrap().is_empty(),
        "{report}"
    );
    // The table says what could not be seen.
    let text = nobody_in(&root, &["top", "--once", "-i", "0.3", "--by", "connection"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("could not be read"), "{text}");
    assert!(text.contains("127.0.0.1:7311"), "{text}");
}

#[test]
fn not_on_a_terminal_it_streams_a_refresh_line_per_interval_and_says_so() {
    require_root!();
    let ns = Netns::new("tops");
    let mut child = ns
        .command(netdx_bin(), &["top", "-i", "0.2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Three lines, then Ctrl-C.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    while lines.len() < 3 {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a refresh line comes every 0.2 s");
        lines.push(line);
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        stderr(&output).contains("not a terminal"),
        "{}",
        stderr(&output)
    );
    let parsed = json_lines(format!("{}\n", lines.join("\n")).as_bytes());
    for line in &parsed {
        assert_schema_valid("top.stream", line);
        assert_eq!(line["event"], "refresh");
        assert!((f64_at(line, "interval_s") - 0.2).abs() < 0.15, "{line}");
    }
}

#[test]
fn bad_arguments_are_one_line_errors() {
    for (args, fragment) in [
        (&["top", "--json"][..], "--once"),
        (&["top", "-i", "0.01"], "0.1 seconds"),
        (&["top", "--by", "planet"], "--by"),
        (&["top", "--sort", "size"], "--sort"),
    ] {
        assert_one_line_error(&netdx(args), fragment);
    }
}

/// The text of tmux pane `session`.
fn pane(session: &str) -> String {
    let output = Command::new("tmux")
        .args(["capture-pane", "-p", "-t", session])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Polls the pane until `want` holds.
fn wait_pane(session: &str, what: &str, want: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = pane(session);
        if want(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what}; the pane shows:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tmux(args: &[&str]) {
    let output = Command::new("tmux").args(args).output().unwrap();
    assert!(output.status.success(), "tmux {args:?}: {output:?}");
}

/// Kills the tmux session when the test ends, however it ends.
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

#[test]
fn under_tmux_the_table_refreshes_in_place_keys_switch_views_and_q_restores_the_screen() {
    require_root!();
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but tmux is missing (scripts/test installs it)"
        );
        eprintln!("skipping: tmux is not installed (apt-get install tmux)");
        return;
    }
    let mut ns = Netns::new("topt");
    ns.spawn_ready("python3", &[RESPONDER, "tcp-sink", "7320"]);
    ns.spawn_ready("python3", &[RESPONDER, "tcp-send", "7320", "1000000", "60"]);
    let session = Session(format!("netdx-top-{}", std::process::id()));
    let command = format!(
        "ip netns exec {} {} top -i 0.3; echo \"top exited $?\"; sleep 60",
        ns.name(),
        netdx_bin()
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session.0,
        "-x",
        "160",
        "-y",
        "40",
        &command,
    ]);
    let text = wait_pane(&session.0, "the process table", |t| {
        t.contains("netdx top:") && t.contains("PID") && t.contains("python3")
    });
    assert!(text.contains("a row per process"), "{text}");
    tmux(&["send-keys", "-t", &session.0, "c"]);
    wait_pane(&session.0, "the connection table after c", |t| {
        t.contains("a row per connection") && t.contains("127.0.0.1:7320")
    });
    tmux(&["send-keys", "-t", &session.0, "i"]);
    wait_pane(&session.0, "the interface table after i", |t| {
        t.contains("a row per interface") && t.contains("Interface") && t.contains(" lo ")
    });
    // A smaller window: redrawn to fit, the title still on top.
    tmux(&["resize-window", "-t", &session.0, "-x", "120", "-y", "20"]);
    wait_pane(&session.0, "the redraw after a resize", |t| {
        t.lines()
            .next()
            .is_some_and(|l| l.starts_with("netdx top:"))
    });
    tmux(&["send-keys", "-t", &session.0, "q"]);
    let text = wait_pane(&session.0, "the normal screen after q", |t| {
        t.contains("top exited 0")
    });
    // The alternate screen is gone: the last table is on the normal one.
    assert!(!text.contains("netdx top:"), "{text}");
    assert!(text.contains("Interface"), "{text}");
}
