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

/// The scripted nameserver (tests/responders/dns_responder.py) on
/// 127.0.0.53 of `ns`, holding TCP listeners on port 4000 of `listen`;
/// returns the resolv.conf that points at it.
fn start_dns(ns: &mut Netns, files: &Files, conf: &str, listen: &[&str]) -> String {
    let log = files.write("queries", "");
    let mut args = vec![
        common::responder("dns_responder.py"),
        "127.0.0.53".into(),
        log,
    ];
    args.extend(listen.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ns.spawn_ready("python3", &args);
    files.write("resolv.conf", &format!("nameserver 127.0.0.53\n{conf}"))
}

/// The hosts file of the DNS tests: nothing but localhost, so every other
/// name has to come from the nameserver.
const ONLY_LOCALHOST: &str = "127.0.0.1 localhost\n";

fn ping_once(ns: &Netns, files: &Files, resolv: &str, host: &str) -> Output {
    let hosts = files.write("hosts", ONLY_LOCALHOST);
    netdx_with_etc(
        ns,
        &[(&hosts, "/etc/hosts"), (resolv, "/etc/resolv.conf")],
        &["ping", "-c", "1", "-W", "1", host],
    )
    .0
}

#[test]
fn ping_resolves_a_name_through_dns() {
    require_root!();
    let mut ns = Netns::new("dnsping");
    let files = Files::new("dnsping");
    let resolv = start_dns(&mut ns, &files, "", &[]);
    let output = ping_once(&ns, &files, &resolv, "name.test");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(
        text.starts_with("PING name.test (127.0.0.1) 56(84) bytes of data.\n"),
        "{text}"
    );
    assert!(
        files.read("queries").contains("name.test 1\n"),
        "asked for A"
    );
}

#[test]
fn a_cname_chain_is_followed_to_its_address() {
    require_root!();
    let mut ns = Netns::new("dnscname");
    let files = Files::new("dnscname");
    let resolv = start_dns(&mut ns, &files, "", &[]);
    let output = ping_once(&ns, &files, &resolv, "alias.test");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.starts_with("PING alias.test (127.0.0.42) "), "{text}");
}

#[test]
fn ipv6_only_names_resolve_with_either_family_and_with_minus_6() {
    require_root!();
    let mut ns = Netns::new("dnsv6");
    let files = Files::new("dnsv6");
    let resolv = start_dns(&mut ns, &files, "", &[]);
    let output = ping_once(&ns, &files, &resolv, "v6only.test");
    assert!(
        stdout(&output).starts_with("PING v6only.test(::1) 56 data bytes\n"),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let hosts = files.write("hosts", ONLY_LOCALHOST);
    let (output, _) = netdx_with_etc(
        &ns,
        &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
        &["ping", "-4", "-c", "1", "-W", "1", "v6only.test"],
    );
    common::assert_one_line_error(&output, "has no address of the family -4");
}

#[test]
fn search_domains_complete_a_short_name() {
    require_root!();
    let mut ns = Netns::new("dnssearch");
    let files = Files::new("dnssearch");
    let resolv = start_dns(&mut ns, &files, "search lab.test\n", &[]);
    let output = ping_once(&ns, &files, &resolv, "short");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.starts_with("PING short (127.0.0.43) "), "{text}");
}

#[test]
fn a_truncated_answer_is_asked_again_over_tcp() {
    require_root!();
    let mut ns = Netns::new("dnstcp");
    let files = Files::new("dnstcp");
    let resolv = start_dns(&mut ns, &files, "", &[]);
    let output = ping_once(&ns, &files, &resolv, "big.test");
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.starts_with("PING big.test (127.0.0.44) "), "{text}");
    assert!(files.read("queries").contains("big.test 1 tcp\n"));
}

#[test]
fn an_unknown_name_is_one_line_exit_2_at_once() {
    require_root!();
    let mut ns = Netns::new("dnsnx");
    let files = Files::new("dnsnx");
    let resolv = start_dns(&mut ns, &files, "", &[]);
    let started = Instant::now();
    let output = ping_once(&ns, &files, &resolv, "nosuch.test");
    common::assert_one_line_error(
        &output,
        "cannot resolve 'nosuch.test': Name or service not known",
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "NXDOMAIN is final"
    );
    assert!(files.read("queries").contains("nosuch.test 1\n"));
}

#[test]
fn a_silent_nameserver_is_a_one_line_timeout() {
    require_root!();
    let mut ns = Netns::new("dnsto");
    let files = Files::new("dnsto");
    let hosts = files.write("hosts", ONLY_LOCALHOST);
    let resolv = files.write(
        "resolv.conf",
        "nameserver 127.0.0.53\noptions timeout:1 attempts:1\n",
    );
    let log = files.write("queries", "");
    ns.spawn_ready(
        "python3",
        &[&common::responder("silent_dns.py"), "127.0.0.53", &log],
    );
    let (output, took) = netdx_with_etc(
        &ns,
        &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
        &["ping", "-c", "1", "name.test"],
    );
    common::assert_one_line_error(&output, "Temporary failure in name resolution");
    assert!(
        took < Duration::from_secs(3),
        "one try of one second: {took:?}"
    );
}

#[test]
fn netstat_resolve_names_a_listener_from_its_ptr_record() {
    require_root!();
    let mut ns = Netns::new("dnsptr");
    let files = Files::new("dnsptr");
    let resolv = start_dns(&mut ns, &files, "", &["127.0.0.31", "127.0.0.32"]);
    let hosts = files.write("hosts", ONLY_LOCALHOST);
    let (output, _) = netdx_with_etc(
        &ns,
        &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
        &["netstat", "--resolve", "-tl"],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.contains("listener-ptr.test:4000"), "{text}");
    assert!(
        text.contains("127.0.0.32:4000"),
        "NXDOMAIN leaves the number: {text}"
    );
}

#[test]
fn trace_names_a_hop_from_its_ptr_record() {
    require_root!();
    let mut chain = Chain::new("dnstrace");
    let files = Files::new("dnstrace");
    let resolv = start_dns(&mut chain.client, &files, "", &[]);
    let hosts = files.write("hosts", ONLY_LOCALHOST);
    let (output, _) = netdx_with_etc(
        &chain.client,
        &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
        &["trace", "-q", "1", Chain::TARGET],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    let hops: Vec<&str> = text.lines().skip(1).collect();
    assert!(hops[0].starts_with(" 1  10.9.10.2  "), "{text}");
    assert!(
        hops[1].starts_with(" 2  hop-two.test (10.9.11.2)  "),
        "{text}"
    );
    // The stream names each hop's responders on its own line (and on each
    // round's with -c), and all of them in the summary.
    let named = serde_json::json!({"10.9.11.2": "hop-two.test"});
    for (extra, event) in [(&[][..], "hop"), (&["-c", "2"][..], "round")] {
        let args = [
            &["trace", "--json-stream", "-q", "1"][..],
            extra,
            &[Chain::TARGET],
        ]
        .concat();
        let (output, _) = netdx_with_etc(
            &chain.client,
            &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
            &args,
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let lines = common::json_lines(&output.stdout);
        for line in &lines {
            common::assert_schema_valid("trace.stream", line);
        }
        let of =
            |name: &str| -> Vec<&Value> { lines.iter().filter(|l| l["event"] == name).collect() };
        let names: Vec<&Value> = of(event).iter().map(|line| &line["names"]).collect();
        if event == "hop" {
            let empty = serde_json::json!({});
            assert_eq!(names, [&empty, &named, &empty], "{lines:?}");
        } else {
            assert_eq!(names, [&named, &named], "{lines:?}");
        }
        assert_eq!(of("summary")[0]["names"], named, "{lines:?}");
    }
}

/// The files a run of netdx opened (strace), one path a line.
fn opened_files(ns: &Netns, mounts: &[(&str, &str)], args: &[&str]) -> (Output, String) {
    let trace = std::env::temp_dir().join(format!(
        "netdx-names-strace-{}-{}",
        std::process::id(),
        ns.name()
    ));
    let trace_path = trace.display().to_string();
    let mut full = vec![
        "strace",
        "-f",
        "-qq",
        "-e",
        "trace=open,openat",
        "-o",
        &trace_path,
        netdx_bin(),
    ];
    full.extend_from_slice(args);
    let mut script = String::new();
    for (replacement, system) in mounts {
        script += &format!("mount --bind '{replacement}' '{system}' && ");
    }
    script += "exec \"$@\"";
    let mut command = vec!["-m", "sh", "-c", &script, "sh"];
    command.extend_from_slice(&full);
    let output = ns.run("unshare", &command);
    let opened = std::fs::read_to_string(&trace).unwrap_or_default();
    let _ = std::fs::remove_file(&trace);
    (output, opened)
}

#[test]
fn names_and_users_are_looked_up_without_nss() {
    require_root!();
    let mut ns = Netns::new("nonss");
    let files = Files::new("nonss");
    let resolv = start_dns(&mut ns, &files, "", &["127.0.0.31"]);
    let hosts = files.write("hosts", ONLY_LOCALHOST);
    let mounts = [
        (hosts.as_str(), "/etc/hosts"),
        (resolv.as_str(), "/etc/resolv.conf"),
    ];
    let runs: [&[&str]; 3] = [
        &["ping", "-c", "1", "-W", "1", "name.test"],
        // The listener's owner is named from the passwd file.
        &["port", "4000"],
        &["netstat", "--resolve", "-tlp"],
    ];
    for args in runs {
        let (output, opened) = opened_files(&ns, &mounts, args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(opened.contains("openat"), "strace saw the run: {opened}");
        for nss in ["nsswitch.conf", "libnss_", "/var/run/nscd", "/run/nscd"] {
            assert!(!opened.contains(nss), "{args:?} opened {nss}:\n{opened}");
        }
        if args[0] == "port" {
            assert!(opened.contains("/etc/passwd"), "{opened}");
            assert!(stdout(&output).contains(" root "), "{}", stdout(&output));
        }
    }
}

#[test]
fn the_binary_links_no_nss_lookup_function() {
    // A `to_socket_addrs("host:port")` or nix `User::from_uid` anywhere in
    // netdx would pull these out of the static glibc, even if never called.
    let output = std::process::Command::new("nm")
        .arg(netdx_bin())
        .output()
        .expect("nm (binutils) runs");
    let symbols = String::from_utf8_lossy(&output.stdout);
    if symbols.trim().is_empty() {
        eprintln!("skipped: the binary has no symbol table");
        return;
    }
    let nss = [
        "getaddrinfo",
        "getnameinfo",
        "gethostbyname2_r",
        "gethostbyaddr_r",
        "getservbyname_r",
        "getpwuid_r",
        "getpwnam_r",
        "getgrgid_r",
    ];
    let linked: Vec<&str> = symbols
        .lines()
        .filter_map(|line| line.split_whitespace().last())
        .filter(|symbol| {
            nss.iter()
                .any(|name| symbol.strip_prefix("__new_").unwrap_or(symbol) == *name)
        })
        .collect();
    assert!(linked.is_empty(), "NSS lookups linked in: {linked:?}");
}

#[test]
fn the_hosts_file_wins_over_dns_and_spares_the_query() {
    require_root!();
    let mut ns = Netns::new("dnshosts");
    let files = Files::new("dnshosts");
    let resolv = start_dns(&mut ns, &files, "", &[]);
    let hosts = files.write("hosts", "127.0.0.1 localhost\n127.0.0.9 name.test\n");
    let (output, _) = netdx_with_etc(
        &ns,
        &[(&hosts, "/etc/hosts"), (&resolv, "/etc/resolv.conf")],
        &["ping", "-c", "1", "-W", "1", "name.test"],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    assert!(text.starts_with("PING name.test (127.0.0.9) "), "{text}");
    assert!(
        !files.read("queries").contains("name.test"),
        "{}",
        files.read("queries")
    );
}
