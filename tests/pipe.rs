//! A closed stdout (`netdx … | head -1`) ends every command quietly with
//! exit 0: no "Broken pipe" line, no error status.
//!
//! Most commands write less than a pipe holds, so closing the read end
//! after the first line would usually come too late to be noticed. Each
//! case therefore runs with a pipe whose read end is closed before netdx
//! starts, so its very first write fails with EPIPE, deterministically;
//! each case is also run once on an open pipe, to prove it writes to
//! stdout and succeeds there (so the quiet end is the property, not an
//! accident). The long-running commands (ping without -c, echo serve -v)
//! are also cut off after their first line, mid-run, and must stop at
//! their next write.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{netdx, netdx_bin, stderr};

/// How long any one run may take before the test calls it stuck.
const LIMIT: Duration = Duration::from_secs(20);

/// What a run did.
struct Run {
    status: Option<ExitStatus>,
    stderr: String,
}

/// A pipe whose read end is already closed: the first write to the
/// returned end fails with EPIPE. O_CLOEXEC, so no child spawned meanwhile
/// by another test thread can hold the read end open.
fn closed_pipe() -> OwnedFd {
    let (reader, writer) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("a pipe");
    drop(reader);
    writer
}

/// Waits for `child` until `LIMIT`; kills it past that (status `None`).
fn wait(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for netdx") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Collects a child's stderr on a thread, so a chatty child never blocks.
fn drain_stderr(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut pipe = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Runs netdx with `args` and a stdout nobody reads (closed before it starts).
fn run_closed(args: &[&str]) -> Run {
    let mut child = Command::new(netdx_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(closed_pipe()))
        .stderr(Stdio::piped())
        .spawn()
        .expect("netdx runs");
    let err = drain_stderr(&mut child);
    let status = wait(&mut child);
    Run {
        status,
        stderr: err.join().unwrap_or_default(),
    }
}

/// Runs netdx, reads its first line, closes the pipe, then calls `poke`
/// until netdx exits (or `LIMIT` passes): the next write must end it.
fn run_cut_after_first_line(args: &[&str], mut poke: impl FnMut(&str)) -> (Run, String) {
    let mut child = Command::new(netdx_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netdx runs");
    let err = drain_stderr(&mut child);
    let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        // The read end closes here, as `head -1` closes it.
        drop(reader);
        let _ = tx.send(line);
    });
    let first = rx.recv_timeout(LIMIT).unwrap_or_default();
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for netdx") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        poke(&first);
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        status,
        stderr: err.join().unwrap_or_default(),
    };
    (run, first)
}

/// Checks one case; returns what went wrong, if anything.
///
/// The open run may answer 0 or 1 (a lab's timing under load can make it
/// "not as expected"); what matters is that it writes and fails in no
/// other way. On the closed pipe the failed write ends the command before
/// its answer, so 0 is the only right status there.
fn check(args: &[&str]) -> Option<String> {
    let open = netdx(args);
    if open.status.code() == Some(2) || open.stdout.is_empty() {
        return Some(format!(
            "{args:?} is no test of a closed pipe: on an open pipe it exits {:?} with {} bytes of output ({})",
            open.status.code(),
            open.stdout.len(),
            stderr(&open).trim()
        ));
    }
    quiet(args, &run_closed(args), &stderr(&open))
}

/// Whether a run ended quietly: exit 0, nothing on stderr but what the
/// command prints there anyway (`expected`).
fn quiet(args: &[&str], run: &Run, expected: &str) -> Option<String> {
    match run.status {
        None => Some(format!("{args:?} did not stop within {LIMIT:?}")),
        Some(status) if status.code() != Some(0) => Some(format!(
            "{args:?} on a closed pipe exited {status}: {}",
            run.stderr.trim()
        )),
        Some(_) if !run.stderr.is_empty() && run.stderr != expected => Some(format!(
            "{args:?} on a closed pipe wrote to stderr: {:?}",
            run.stderr
        )),
        _ => None,
    }
}

fn assert_all_quiet(cases: &[Vec<String>]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let args: Vec<&str> = case.iter().map(String::as_str).collect();
            check(&args)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each case as text and as `--json`.
fn with_json(cases: &[&[&str]]) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for case in cases {
        let case: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        all.push(case.clone());
        all.push([vec!["--json".to_string()], case].concat());
    }
    all
}

/// Each streaming case as `--json-stream`.
fn streamed(cases: &[&[&str]]) -> Vec<Vec<String>> {
    cases
        .iter()
        .map(|case| {
            let mut all = vec!["--json-stream".to_string()];
            all.extend(case.iter().map(|s| s.to_string()));
            all
        })
        .collect()
}

/// Every lab's name, as `netdx lab --json` lists them.
fn lab_names() -> Vec<String> {
    let list: serde_json::Value =
        serde_json::from_slice(&netdx(&["--json", "lab"]).stdout).expect("the lab list as JSON");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|lab| lab["name"].as_str().expect("a name").to_string())
        .collect()
}

/// A TCP echo service on a free loopback port, its event log drained.
struct EchoService {
    child: Child,
    address: String,
}

impl EchoService {
    fn start() -> EchoService {
        let mut child = Command::new(netdx_bin())
            .args(["echo", "serve", "--tcp", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("netdx echo serve runs");
        let mut lines = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        lines.read_line(&mut line).expect("the listening line");
        // listening on 127.0.0.1:40000 (tcp); Ctrl-C stops …
        let address = line
            .split_whitespace()
            .nth(2)
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        std::thread::spawn(move || for _ in lines.lines() {});
        EchoService { child, address }
    }
}

impl Drop for EchoService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_unprivileged_command_ends_quietly_on_a_closed_stdout() {
    // Sockets for port, lsof and netstat to find; enough of them that a
    // listing overflows netstat's 64 KiB buffer and fails mid-document.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a listener");
    let _many: Vec<TcpListener> = (0..400)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a listener"))
        .collect();
    let port = listener.local_addr().unwrap().port().to_string();
    let lsof_spec = format!(":{port}");
    let echo = EchoService::start();
    let mut cases = with_json(&[
        &["ifconfig"],
        &["ifconfig", "-a"],
        &["ifconfig", "-s", "-a"],
        &["ifconfig", "lo"],
        &["netstat"],
        &["netstat", "-tan"],
        &["netstat", "-tulpn"],
        &["netstat", "-uan"],
        &["netstat", "-xa"],
        &["netstat", "-tane"],
        &["netstat", "-tano"],
        &["netstat", "-tan", "-i"],
        &["netstat", "-tan", "-m"],
        &["netstat", "-i"],
        &["netstat", "-s"],
        &["netstat", "-r"],
        &["port", &port],
        &["lsof", "-i", &lsof_spec],
        &["echo", "probe", &echo.address, "-c", "3", "-i", "0.01"],
        &[
            "echo",
            "probe",
            &echo.address,
            "--connections",
            "2",
            "--duration",
            "0.3",
        ],
        &["sockopt"],
        &["sockopt", "--udp"],
        &["sockopt", "explain", "SO_REUSEADDR"],
        &["sockopt", "explain", "TCP_NODELAY"],
        &["lab"],
        &["lab", "recv", "--explain"],
        &["lab", "all"],
    ]);
    cases.extend(streamed(&[
        &["echo", "probe", &echo.address, "-c", "3", "-i", "0.01"],
        &[
            "echo",
            "probe",
            &echo.address,
            "--connections",
            "2",
            "--duration",
            "0.3",
        ],
    ]));
    cases.push(vec!["port".into(), port.clone(), "-t".into()]);
    // Text only: a script and roff, which refuse --json.
    for case in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["completions", "elvish"],
        &["completions", "powershell"],
        &["man"],
        &["man", "ping"],
        &["man", "echo", "serve"],
    ] {
        cases.push(case.iter().map(|s| s.to_string()).collect());
    }
    for lab in lab_names() {
        cases.push(vec!["lab".into(), lab.clone()]);
        cases.push(vec!["--json".into(), "lab".into(), lab]);
    }
    assert_all_quiet(&cases);
    drop(listener);
}

#[test]
fn a_lab_cut_off_mid_narration_ends_quietly() {
    // `netdx lab sticky | head -1`: the header is read, the steps that
    // follow meet a closed pipe inside the lab's observer.
    for lab in lab_names() {
        let args = ["lab", lab.as_str()];
        let (run, first) = run_cut_after_first_line(&args, |_| {});
        assert!(first.starts_with(&format!("lab {lab}: ")), "{first:?}");
        assert_eq!(quiet(&args, &run, ""), None);
    }
}

#[test]
fn every_probing_command_ends_quietly_on_a_closed_stdout() {
    require_root!();
    let streaming: &[&[&str]] = &[
        &["ping", "-c", "3", "-i", "0.01", "127.0.0.1"],
        &["ping", "-c", "2", "-i", "0.01", "127.0.0.1", "127.0.0.2"],
        &["ping", "-a", "-g", "127.0.0.0/29"],
        &["trace", "-n", "127.0.0.1"],
        &["trace", "-n", "-c", "2", "127.0.0.1"],
    ];
    let mut cases = streamed(streaming);
    cases.extend(with_json(&[
        &["ping", "-c", "3", "-i", "0.01", "127.0.0.1"],
        &["ping", "-q", "-c", "3", "-i", "0.01", "127.0.0.1"],
        &["ping", "-c", "2", "-i", "0.01", "127.0.0.1", "127.0.0.2"],
        &["ping", "-a", "127.0.0.1", "127.0.0.2", "127.0.0.3"],
        &["ping", "-a", "-g", "127.0.0.0/29"],
        &["icmp", "-c", "2", "-i", "0.01", "127.0.0.1"],
        &["icmp", "--type", "timestamp", "127.0.0.1"],
        &["trace", "-n", "127.0.0.1"],
        &["trace", "-n", "-c", "2", "127.0.0.1"],
    ]));
    assert_all_quiet(&cases);
}

#[test]
fn ping_without_a_count_stops_at_its_next_write_once_stdout_closes() {
    require_root!();
    let args = ["ping", "-i", "0.05", "127.0.0.1"];
    let run = run_closed(&args);
    assert_eq!(quiet(&args, &run, ""), None);
    let (run, first) = run_cut_after_first_line(&args, |_| {});
    assert!(first.starts_with("PING 127.0.0.1"), "{first:?}");
    assert_eq!(quiet(&args, &run, ""), None);
}

#[test]
fn echo_serve_verbose_stops_at_its_next_event_once_stdout_closes() {
    let args = ["echo", "serve", "-v", "--tcp", "--bind", "127.0.0.1:0"];
    let run = run_closed(&args);
    assert_eq!(quiet(&args, &run, ""), None);
    // Each connection is an event to log; the first one after the reader
    // left must end the service.
    let (run, first) = run_cut_after_first_line(&args, |first| {
        if let Some(address) = first.split_whitespace().nth(2) {
            let _ = TcpStream::connect(address);
        }
    });
    assert!(first.starts_with("listening on 127.0.0.1:"), "{first:?}");
    assert_eq!(quiet(&args, &run, ""), None);
}
