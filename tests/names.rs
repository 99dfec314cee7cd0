//! Names netdx gets from the system: host names from /etc/hosts, user names
//! from /etc/passwd, and reverse DNS that gives up on a resolver that never
//! answers. Each test lays its own /etc files over the system's in a private
//! mount namespace (`unshare -m` + bind mounts), so nothing outside changes.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{Chain, Netns, netdx_bin, stderr, stdout};
use serde_json::Value;

/// Files written for one test, removed when it ends.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn new(tag: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("netdx-names-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Files { dir }
    }

    /// Writes `text` to a file named `name`; returns its path.
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("temp file");
        path.display().to_string()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs netdx in `ns` with each `(replacement, system file)` bind-mounted
/// over the system file in a private mount namespace; returns what happened
/// and how long it took.
fn netdx_with_etc(ns: &Netns, mounts: &[(&str, &str)], args: &[&str]) -> (Output, Duration) {
    let mut script = String::new();
    for (replacement, system) in mounts {
        script += &format!("mount --bind '{replacement}' '{system}' && ");
    }
    script += "exec \"$@\"";
    let mut full = vec!["-m", "sh", "-c", &script, "sh", netdx_bin()];
    full.extend_from_slice(args);
    let started = Instant::now();
    let output = ns.run("unshare", &full);
    (output, started.elapsed())
}

const HOSTS: &str = "127.0.0.1 localhost\n127.0.0.77 netdx-hosts-name.test\n\
                     10.9.10.2 router-a.test\n";

/// A resolver that reads every query and never answers, with the default
/// resolver timeouts (5 s a try, 2 tries): each serial lookup would cost 10 s.
const DEAD_RESOLVER: &str = "nameserver 127.0.0.53\n";

#[test]
fn a_name_from_the_hosts_file_resolves_for_ping() {
    require_root!();
    let ns = Netns::new("hostsping");
    let files = Files::new("hostsping");
    let hosts = files.write(
        "hosts",
        "127.0.0.1 localhost\n127.0.0.9 netdx-only-in-hosts.test\n",
    );
    let (output, _) = netdx_with_etc(
        &ns,
        &[(&hosts, "/etc/hosts")],
        &["ping", "-c", "1", "-W", "2", "netdx-only-in-hosts.test"],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.starts_with("PING netdx-only-in-hosts.test (127.0.0.9) 56(84) bytes of data.\n"),
        "{text}"
    );
    assert!(
        text.contains("64 bytes from netdx-only-in-hosts.test (127.0.0.9): icmp_seq=1"),
        "{text}"
    );
}

#[test]
fn a_socket_owner_is_named_from_the_passwd_file() {
    require_root!();
    let mut ns = Netns::new("passwd");
    let files = Files::new("passwd");
    // A user that exists only in this test's passwd file: its name can come
    // from nowhere but the file netdx reads at run time.
    let passwd = files.write(
        "passwd",
        "root:x:0:0:root:/root:/bin/sh\nnetdxprobe:x:4242:4242::/nonexistent:/usr/sbin/nologin\n",
    );
    ns.spawn_ready(
        "setpriv",
        &[
            "--reuid=4242",
            "--regid=4242",
            "--clear-groups",
            // The system's python: root's own (pyenv) is not readable by others.
            "/usr/bin/python3",
            "-c",
            "import socket,time\n\
             s=socket.socket(); s.bind(('127.0.0.1', 4242)); s.listen(1)\n\
             print('ready', flush=True); time.sleep(600)",
        ],
    );
    let (output, _) = netdx_with_etc(
        &ns,
        &[(&passwd, "/etc/passwd")],
        &["port", "4242", "--listen", "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json[0]["processes"][0]["user"], "netdxprobe", "{json}");

    let (output, _) = netdx_with_etc(&ns, &[(&passwd, "/etc/passwd")], &["port", "4242"]);
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|line| line.contains("127.0.0.1:4242") && line.contains(" netdxprobe ")),
        "the table's user column names the owner: {text}"
    );
}

#[test]
fn netstat_resolve_gives_up_on_a_silent_resolver_and_still_uses_the_hosts_file() {
    require_root!();
    let mut ns = Netns::new("deadres");
    let files = Files::new("deadres");
    let hosts = files.write("hosts", HOSTS);
    let resolv = files.write("resolv.conf", DEAD_RESOLVER);
    let log = files.write("queries", "");
    let listeners = [
        "127.0.0.21",
        "127.0.0.22",
        "127.0.0.23",
        "127.0.0.24",
        "127.0.0.77",
    ];
    let mut args = vec![common::responder("silent_dns.py"), "127.0.0.53".into(), log];
    args.extend(listeners.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ns.spawn_ready("python3", &args);

    let (output, took) = netdx_with_etc(
        &ns,
        &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
        &["netstat", "--resolve", "-tl"],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        took < Duration::from_secs(2),
        "took {took:?}: the dead resolver must cost about a second in all"
    );
    for address in &listeners[..4] {
        assert!(
            text.contains(&format!("{address}:4000")),
            "{address} is shown as a number: {text}"
        );
    }
    assert!(
        text.contains("netdx-hosts-name.test:4000"),
        "the hosts file still names 127.0.0.77: {text}"
    );
    assert!(
        !files.read("queries").is_empty(),
        "the lookups did reach the silent resolver (else this proves nothing)"
    );
}

#[test]
fn trace_names_hops_from_the_hosts_file_and_gives_up_on_a_silent_resolver_once() {
    require_root!();
    let mut chain = Chain::new("trdeadres");
    let files = Files::new("trdeadres");
    let hosts = files.write("hosts", HOSTS);
    let resolv = files.write("resolv.conf", DEAD_RESOLVER);
    let log = files.write("queries", "");
    let responder = common::responder("silent_dns.py");
    chain
        .client
        .spawn_ready("python3", &[&responder, "127.0.0.53", &log]);

    let (output, took) = netdx_with_etc(
        &chain.client,
        &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
        &["trace", "-q", "1", Chain::TARGET],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        took < Duration::from_secs(2),
        "took {took:?}: two unnamed hops must share one second, not take one each"
    );
    let hops: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(hops.len(), 3, "{text}");
    assert!(
        hops[0].starts_with(" 1  router-a.test (10.9.10.2)  "),
        "{text}"
    );
    assert!(hops[1].starts_with(" 2  10.9.11.2  "), "{text}");
    assert!(hops[2].starts_with(" 3  10.9.12.2  "), "{text}");
    assert!(!files.read("queries").is_empty(), "the resolver was asked");
}
