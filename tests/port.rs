//! `netdx port` and `netdx lsof -i`: who holds a port, with real sockets and
//! real processes in a namespace, and signals that reach only the holder.

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Netns, assert_one_line_error, netdx, responder, stderr, stdout};
use serde_json::Value;

/// Starts a process in `ns` listening on 127.0.0.1:`port`; returns its pid.
fn listener(ns: &mut Netns, port: u16) -> u32 {
    let script = format!(
        "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',{port}));s.listen();print('ready',flush=True);time.sleep(600)"
    );
    ns.spawn_ready("python3", &["-c", &script]);
    pid_listening(ns, port)
}

fn pid_listening(ns: &Netns, port: u16) -> u32 {
    stdout(&ns.netdx(&["port", &port.to_string(), "-t"]))
        .trim()
        .parse()
        .unwrap()
}

/// Starts tests/responders/socket_holder.py in `ns` (a listener shared by a
/// parent and its forked child, plus connected and UDP sockets); returns the
/// facts it reports (pids, ports).
fn socket_holder(ns: &mut Netns, tag: &str) -> Value {
    let file = format!("/tmp/netdx-holder-{}-{tag}.json", std::process::id());
    ns.spawn_ready("python3", &[&responder("socket_holder.py"), &file]);
    let facts = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let _ = std::fs::remove_file(&file);
    facts
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.split_whitespace()
            .nth(2)
            .is_none_or(|state| state != "Z")
    })
}

#[test]
fn a_used_port_exits_0_and_lists_its_holders_and_a_free_one_exits_1() {
    require_root!();
    let mut ns = Netns::new("inuse");
    let pid = listener(&mut ns, 7070);
    let out = ns.netdx(&["port", "7070"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let row: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row[..6],
        [
            "tcp",
            "127.0.0.1:7070",
            "0.0.0.0:*",
            "LISTEN",
            &pid.to_string(),
            "root"
        ],
        "{text}"
    );
    assert!(
        text.contains("python3 -c import socket"),
        "the full command line: {text}"
    );
    let free = ns.netdx(&["port", "7071"]);
    assert_eq!(free.status.code(), Some(1));
    assert!(stdout(&free).is_empty());
    assert!(stderr(&free).is_empty());
}

#[test]
fn a_socket_shared_after_fork_lists_both_processes_and_t_prints_pids() {
    require_root!();
    let mut ns = Netns::new("shared");
    let facts = socket_holder(&mut ns, "port");
    let port = facts["ports"]["tcp4"].to_string();
    let (parent, child) = (
        facts["pid"].as_u64().unwrap(),
        facts["child"].as_u64().unwrap(),
    );

    let json = common::assert_schema_valid_output(
        "port",
        &ns.netdx(&["port", &port, "--listen", "--json"]).stdout,
    );
    let sockets = json.as_array().unwrap();
    assert_eq!(sockets.len(), 1, "--listen keeps the listener only");
    let holders: BTreeSet<u64> = sockets[0]["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(holders, BTreeSet::from([parent, child]));
    assert_eq!(sockets[0]["processes"][0]["user"], "root");
    assert!(
        sockets[0]["processes"][0]["cmdline"]
            .as_str()
            .unwrap()
            .contains("socket_holder.py")
    );

    let pids = stdout(&ns.netdx(&["port", &port, "-t"]));
    assert_eq!(
        pids,
        format!("{}\n{}\n", parent.min(child), parent.max(child))
    );
    // Either end: the listener, the accepted socket and the client's socket.
    let all =
        common::assert_schema_valid_output("port", &ns.netdx(&["port", &port, "--json"]).stdout);
    assert_eq!(all.as_array().unwrap().len(), 3);
    let local = common::assert_schema_valid_output(
        "port",
        &ns.netdx(&["port", &port, "--local", "--json"]).stdout,
    );
    assert_eq!(
        local.as_array().unwrap().len(),
        2,
        "--local drops the client whose peer is the port"
    );
    // lsof's spelling gives the same answer.
    assert_eq!(
        stdout(&ns.netdx(&["lsof", "-i", &format!(":{port}"), "-t"])),
        pids
    );
    assert_eq!(
        stdout(&ns.netdx(&["lsof", "-i", &format!("udp:{port}"), "-t"])),
        ""
    );
    let lsof = common::assert_schema_valid_output(
        "lsof",
        &ns.netdx(&["lsof", "-i", &format!(":{port}"), "--json"])
            .stdout,
    );
    assert_eq!(lsof, all, "lsof -i :PORT --json is port PORT --json");
}

#[test]
fn kill_signals_the_holder_and_nothing_else() {
    require_root!();
    let mut ns = Netns::new("kill");
    let victim = listener(&mut ns, 7171);
    let bystander = listener(&mut ns, 7172);
    let out = ns.netdx(&["port", "7171", "--kill", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("SIGTERM sent to {victim} (python3)")),
        "{}",
        stderr(&out)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(victim) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(victim), "the holder got SIGTERM and exited");
    assert!(
        alive(bystander),
        "the process on another port was left alone"
    );
    assert_eq!(
        ns.netdx(&["port", "7171"]).status.code(),
        Some(1),
        "the port is free now"
    );
}

#[test]
fn kill_reaches_every_process_sharing_a_socket_through_their_pidfds() {
    require_root!();
    let mut ns = Netns::new("killshared");
    let facts = socket_holder(&mut ns, "kill");
    let port = facts["ports"]["tcp4"].to_string();
    let (parent, child) = (
        facts["pid"].as_u64().unwrap() as u32,
        facts["child"].as_u64().unwrap() as u32,
    );
    let out = ns.netdx(&["port", &port, "--listen", "--kill=KILL", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for pid in [parent, child] {
        assert!(
            stderr(&out).contains(&format!("SIGKILL sent to {pid} (python3)")),
            "{}",
            stderr(&out)
        );
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while (alive(parent) || alive(child)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(parent) && !alive(child), "both holders were killed");
}

#[test]
fn kill_without_a_terminal_needs_yes() {
    require_root!();
    let mut ns = Netns::new("killyes");
    let victim = listener(&mut ns, 7272);
    let out = ns
        .command(common::netdx_bin(), &["port", "7272", "--kill=KILL"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_one_line_error(&out, "add --yes");
    assert!(alive(victim), "nothing was signalled");
}

#[test]
fn udp_and_ipv6_ports_are_found() {
    require_root!();
    let mut ns = Netns::new("udp6");
    ns.spawn_ready(
        "python3",
        &["-c", "import socket,time\nu=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);u.bind(('::1',5353));print('ready',flush=True);time.sleep(600)"],
    );
    let json = common::assert_schema_valid_output(
        "port",
        &ns.netdx(&["port", "udp:5353", "--json"]).stdout,
    );
    assert_eq!(json[0]["proto"], "udp");
    assert_eq!(json[0]["family"], "inet6");
    assert_eq!(json[0]["state"], "UNCONN");
    assert_eq!(ns.netdx(&["port", "5353", "--tcp"]).status.code(), Some(1));
    assert_eq!(ns.netdx(&["port", "5353", "-4"]).status.code(), Some(1));
    assert_eq!(
        ns.netdx(&["port", "5300-5400", "-6"]).status.code(),
        Some(0)
    );
}

#[test]
fn bad_port_input_is_one_line_exit_2() {
    assert_one_line_error(&netdx(&["port", "0"]), "1 to 65535");
    assert_one_line_error(&netdx(&["port", "65536"]), "out of range");
    assert_one_line_error(&netdx(&["port", "-3"]), "'-3'");
    assert_one_line_error(&netdx(&["port", "http"]), "not a port number");
    assert_one_line_error(&netdx(&["port", "9000-8000"]), "reversed");
    assert_one_line_error(&netdx(&["port", "sctp:80"]), "not a protocol");
    assert_one_line_error(&netdx(&["port", "80", "--kill=BOGUS"]), "not a signal name");
    assert_one_line_error(&netdx(&["port", "udp:53", "--tcp"]), "conflicts");
    assert_one_line_error(
        &netdx(&["port", "80", "--tcp", "--udp"]),
        "cannot be used with",
    );
    assert_one_line_error(&netdx(&["port", "80", "--yes"]), "--kill");
    assert_one_line_error(&netdx(&["lsof", "-i", "tcp"]), "give a port");
}

/// Runs `netdx port … --kill` on a pseudo-terminal, answering the prompt with `answer`.
fn kill_on_a_terminal(ns: &Netns, port: u16, answer: &str) -> String {
    use std::io::Write;
    let command = format!("{} port {port} --kill", common::netdx_bin());
    let mut child = ns
        .command("script", &["-qec", &command, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    stdout(&out)
}

#[test]
fn kill_on_a_terminal_asks_first() {
    require_root!();
    let mut ns = Netns::new("killtty");
    let victim = listener(&mut ns, 7474);
    let declined = kill_on_a_terminal(&ns, 7474, "n");
    assert!(
        declined.contains(&format!("send SIGTERM to {victim} (python3)? [y/N]")),
        "{declined}"
    );
    assert!(
        declined.contains(&format!("skipped {victim}")),
        "{declined}"
    );
    assert!(alive(victim));
    let accepted = kill_on_a_terminal(&ns, 7474, "y");
    assert!(
        accepted.contains(&format!("SIGTERM sent to {victim}")),
        "{accepted}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(victim) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(victim));
}

#[test]
fn the_kill_prompt_shows_a_hostile_command_name_escaped() {
    require_root!();
    let mut ns = Netns::new("killname");
    // A command name that would colour the prompt, break its line and clear
    // the screen if it were printed raw.
    ns.spawn_ready(
        "python3",
        &["-c", "import socket,time\nopen('/proc/self/comm','wb').write(b'\\x1b[31mR\\nX\\x1b[2J')\ns=socket.socket();s.bind(('127.0.0.1',7676));s.listen()\nprint('ready',flush=True);time.sleep(600)"],
    );
    let victim = pid_listening(&ns, 7676);
    let declined = kill_on_a_terminal(&ns, 7676, "n");
    assert!(
        declined.contains(&format!(
            "send SIGTERM to {victim} (\\x1b[31mR\\nX\\x1b[2J)? [y/N]"
        )),
        "{declined:?}"
    );
    assert!(!declined.contains("\x1b[2J"), "raw escapes: {declined:?}");
    assert!(alive(victim));
}

#[test]
fn a_huge_command_line_is_clipped_in_the_table_and_whole_in_json() {
    require_root!();
    let mut ns = Netns::new("hugecmd");
    let huge = "x".repeat(100_000);
    ns.spawn_ready(
        "python3",
        &["-c", "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',7777));s.listen()\nprint('ready',flush=True);time.sleep(600)", &huge],
    );
    let text = stdout(&ns.netdx(&["port", "7777"]));
    let row = text.lines().nth(1).expect("one row");
    assert!(
        row.ends_with('…'),
        "the clipped command line is marked: {row}"
    );
    assert!(
        row.chars().count() < 400,
        "the row stays short: {} characters",
        row.chars().count()
    );
    let json =
        common::assert_schema_valid_output("port", &ns.netdx(&["port", "7777", "--json"]).stdout);
    let cmdline = json[0]["processes"][0]["cmdline"].as_str().unwrap();
    assert!(
        cmdline.ends_with(&huge),
        "JSON keeps the whole command line"
    );
}

#[test]
fn command_lines_with_newlines_stay_on_one_row() {
    require_root!();
    let mut ns = Netns::new("newline");
    ns.spawn_ready(
        "python3",
        &["-c", "import socket,time\ns=socket.socket();s.bind(('127.0.0.1',7575));s.listen()\nprint('ready',flush=True);time.sleep(600)"],
    );
    let text = stdout(&ns.netdx(&["port", "7575"]));
    assert_eq!(text.lines().count(), 2, "header and one row: {text}");
    assert!(
        text.contains("\\nprint('ready'"),
        "newlines are shown escaped: {text}"
    );
}

#[test]
fn the_bpf_iterator_and_the_proc_scan_find_the_same_owners() {
    require_root!();
    let mut ns = Netns::new("owners");
    let facts = socket_holder(&mut ns, "owners");
    let port = facts["ports"]["tcp4"].to_string();
    let run = |way: &str, args: &[&str]| -> Value {
        let output = ns
            .command(common::netdx_bin(), args)
            .env("NETDX_OWNERS", way)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{way}: {}", stderr(&output));
        let name = if args[0] == "port" {
            "port"
        } else {
            "netstat-sockets"
        };
        common::assert_schema_valid_output(name, &output.stdout)
    };
    for args in [
        vec!["port", port.as_str(), "--json"],
        vec!["netstat", "-tuanp", "--json"],
    ] {
        let bpf = run("bpf", &args);
        let proc = run("proc", &args);
        assert_eq!(bpf, proc, "{args:?}");
        let holders: BTreeSet<u64> = bpf
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["processes"].as_array().unwrap().iter())
            .map(|p| p["pid"].as_u64().unwrap())
            .collect();
        assert!(
            holders.contains(&facts["pid"].as_u64().unwrap())
                && holders.contains(&facts["child"].as_u64().unwrap()),
            "{args:?}: {holders:?}"
        );
    }
}

/// (inode, pid, fd) of every holder in `netdx port --json` output.
fn holders_in(json: &Value) -> BTreeSet<(u64, u64, u64)> {
    json.as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            let inode = s["inode"].as_u64().unwrap();
            s["processes"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |p| (inode, p["pid"].as_u64().unwrap(), p["fd"].as_u64().unwrap()))
        })
        .collect()
}

#[test]
fn a_crowded_port_lists_every_holder_through_the_iterator_and_proc_alike() {
    require_root!();
    let mut ns = Netns::new("crowd");
    // Enough sockets that the owner lookup and the table are split in two
    // and the iterator's records take several reads.
    let file = format!("/tmp/netdx-crowd-{}.json", std::process::id());
    ns.spawn_ready("python3", &[&responder("crowded_port.py"), &file, "2600"]);
    let facts: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let _ = std::fs::remove_file(&file);
    let port = facts["port"].to_string();
    let held: BTreeSet<(u64, u64, u64)> = facts["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let n = |k: &str| h[k].as_u64().unwrap();
            (n("inode"), n("pid"), n("fd"))
        })
        .collect();
    assert_eq!(held.len(), 2 + 2 * 2600 + 1);

    let run = |way: &str, args: &[&str]| -> std::process::Output {
        let output = ns
            .command(common::netdx_bin(), args)
            .env("NETDX_OWNERS", way)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{way}: {}", stderr(&output));
        output
    };
    let bpf: Value =
        serde_json::from_slice(&run("bpf", &["port", &port, "--json"]).stdout).unwrap();
    let proc: Value =
        serde_json::from_slice(&run("proc", &["port", &port, "--json"]).stdout).unwrap();
    assert_eq!(bpf, proc);
    assert_eq!(
        bpf.as_array().unwrap().len(),
        1 + 2 * 2600,
        "the listener and both ends of each connection"
    );
    assert_eq!(
        holders_in(&bpf),
        held,
        "exactly the holders the process knows it has"
    );

    // The passed socket has two holders, the parent's and the receiver's.
    let passed = facts["holders"].as_array().unwrap().last().unwrap();
    let shared = bpf
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["inode"] == passed["inode"])
        .unwrap();
    let pids: Vec<u64> = shared["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    let mut sorted = pids.clone();
    sorted.sort_unstable();
    assert_eq!(pids.len(), 2);
    assert_eq!(pids, sorted, "holders by pid");

    // The table: a row per holder, the same whichever way owners were found.
    let text = stdout(&run("bpf", &["port", &port]));
    assert_eq!(text, stdout(&run("proc", &["port", &port])));
    assert_eq!(text.lines().count(), 1 + held.len());
    let me = facts["pid"].to_string();
    let row = text
        .lines()
        .find(|l| l.contains("LISTEN") && l.contains(&me))
        .unwrap();
    assert!(
        row.contains("python3") && row.contains("crowded_port.py"),
        "{row}"
    );
}
