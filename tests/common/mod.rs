//! Shared test support: the netdx binary, privilege gating, and real test hosts
//! in network namespaces.
//!
//! Every integration test that touches the network builds its own hosts with
//! [`Netns`] and tears them down when the value drops (panics included), so
//! tests can run in parallel and leave nothing behind.
#![allow(dead_code)]

pub mod dns;
pub mod netns;
pub mod scan_target;
pub mod schema;
pub mod segment;

use std::process::{Command, Output};

#[allow(unused_imports)]
pub use netns::{Chain, Netns, Pair};
#[allow(unused_imports)]
pub use schema::{assert_schema_valid, assert_schema_valid_output};

/// Path of a scripted responder under tests/responders.
pub fn responder(name: &str) -> String {
    format!("{}/tests/responders/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Path of the netdx binary under test.
pub fn netdx_bin() -> &'static str {
    env!("CARGO_BIN_EXE_netdx")
}

/// Runs netdx with `args` in the test's own namespace and returns what happened.
pub fn netdx(args: &[&str]) -> Output {
    Command::new(netdx_bin())
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the netdx binary runs")
}

/// Runs netdx as `nobody` with no capabilities (setpriv from util-linux), to
/// see what an unprivileged user gets.
pub fn netdx_unprivileged(args: &[&str]) -> Output {
    Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(netdx_bin())
        .args(args)
        .output()
        .expect("setpriv (util-linux) runs")
}

/// stdout of a finished command as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr of a finished command as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that a run failed the netdx way: exit 2, exactly one stderr line
/// starting `netdx: `, nothing on stdout, no panic text.
pub fn assert_one_line_error(output: &Output, expected_fragment: &str) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "expected exit 2, got {:?}; stderr: {err}",
        output.status.code()
    );
    assert_eq!(
        err.lines().count(),
        1,
        "expected one stderr line, got: {err:?}"
    );
    assert!(
        err.starts_with("netdx: "),
        "stderr must start with 'netdx: ': {err:?}"
    );
    assert!(
        err.contains(expected_fragment),
        "stderr {err:?} should mention {expected_fragment:?}"
    );
    assert!(!err.contains("panicked"), "netdx panicked: {err}");
    assert!(output.stdout.is_empty(), "nothing on stdout on error");
}

/// Effective capability bits of this process (from /proc/self/status).
fn effective_caps() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("CapEff:"))
                .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        })
        .unwrap_or(0)
}

const CAP_NET_ADMIN: u64 = 1 << 12;
const CAP_NET_RAW: u64 = 1 << 13;
const CAP_SYS_ADMIN: u64 = 1 << 21;

/// Whether this process may create namespaces and configure links.
pub fn can_build_hosts() -> bool {
    let caps = effective_caps();
    caps & (CAP_NET_ADMIN | CAP_SYS_ADMIN | CAP_NET_RAW)
        == (CAP_NET_ADMIN | CAP_SYS_ADMIN | CAP_NET_RAW)
}

/// Gate for tests that need root: `false` (after printing why) when they must
/// be skipped. Under `CI=true` a missing privilege is a failure, not a skip,
/// so CI proves the privileged tests ran.
pub fn privileged(test: &str) -> bool {
    if can_build_hosts() {
        return true;
    }
    let reason =
        "needs root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN) to build network namespaces";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: CI=true but this process lacks privilege: {reason}");
    }
    eprintln!("skipping {test}: {reason}; run the suite as root (see README)");
    false
}

/// Skips the calling test (returns from it) unless it runs with enough privilege.
#[macro_export]
macro_rules! require_root {
    () => {
        if !$crate::common::privileged(module_path!()) {
            return;
        }
    };
}

/// The lines of a `--json-stream` run, each parsed; fails unless every line
/// is one JSON object with a string `event` field.
pub fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the last line is whole: {text:?}"
    );
    text.lines().map(json_line).collect()
}

/// One `--json-stream` line, parsed; fails unless it is a JSON object with
/// a string `event` field.
pub fn json_line(line: &str) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|err| panic!("not a JSON line ({err}): {line:?}"));
    assert!(
        value.is_object() && value["event"].is_string(),
        "every line is an object with an `event`: {line}"
    );
    value
}

/// The `event` of every line, in order.
pub fn event_names(lines: &[serde_json::Value]) -> Vec<&str> {
    lines
        .iter()
        .map(|line| line["event"].as_str().unwrap_or_default())
        .collect()
}

/// Lines of a running command's stdout, read on a thread of their own so a
/// test can wait for the next one with a deadline instead of sleeping.
pub struct LineFeed {
    lines: std::sync::mpsc::Receiver<String>,
}

impl LineFeed {
    /// Starts reading `source` line by line.
    pub fn new(source: impl std::io::Read + Send + 'static) -> LineFeed {
        use std::io::BufRead;
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(source).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        LineFeed { lines }
    }

    /// The next line within `timeout`; `None` at the end of the output.
    /// Fails when nothing comes in time.
    pub fn next(&self, timeout: std::time::Duration) -> Option<String> {
        use std::sync::mpsc::RecvTimeoutError;
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Some(line),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => panic!("no line within {timeout:?}"),
        }
    }

    /// Parsed lines until one whose `event` is `name` (that one included).
    pub fn until(&self, name: &str, timeout: std::time::Duration) -> Vec<serde_json::Value> {
        let deadline = std::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Some(line) = self.next(left) else {
                panic!("the output ended before a {name:?} line: {seen:?}");
            };
            let value = json_line(&line);
            let done = value["event"] == name;
            seen.push(value);
            if done {
                return seen;
            }
        }
    }

    /// Every line left, parsed, until the output ends (within `timeout`).
    pub fn rest(&self, timeout: std::time::Duration) -> Vec<serde_json::Value> {
        let deadline = std::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        while let Some(line) =
            self.next(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            seen.push(json_line(&line));
        }
        seen
    }
}

/// Waits up to `timeout` for `child` to exit; fails if it does not.
pub fn wait_exit(
    child: &mut std::process::Child,
    timeout: std::time::Duration,
) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for the child") {
            return status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            panic!("still running after {timeout:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Waits until process `pid` has a handler installed for signal `number`
/// (its SigCgt mask in /proc), so a signal sent next is caught, not fatal.
#[allow(dead_code)]
pub fn wait_until_catching(pid: u32, number: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let bit = 1u64 << (number - 1);
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        if caught & bit != 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "process {pid} never installed a handler for signal {number}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}
