//! `netdx dns +trace` against a three-level hierarchy of real servers in a
//! namespace: NSD as the root of a test root (10.9.0.2), as the `test.` TLD
//! (10.9.0.3) and as the authority for example.test and other.test
//! (10.9.0.4). example.test is delegated with glue, other.test to a name
//! server without glue, lame.test to a server that is not there and one that
//! refuses. dig +trace is walked over the same servers and must take the
//! same path, step for step.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::schema::assert_schema_valid_output;
use common::{Pair, stdout};

const ROOT: &str = "$TTL 86400
.        SOA a.root. hostmaster.root. 1 3600 900 604800 300
.        NS  a.root.
a.root.  A   10.9.0.2
test.    NS  ns.nic.test.
ns.nic.test. A 10.9.0.3
";

const TLD: &str = "$TTL 172800
test.        SOA ns.nic.test. hostmaster.nic.test. 1 3600 900 604800 300
test.        NS  ns.nic.test.
ns.nic.test. A   10.9.0.3
example.test. NS ns1.example.test.
ns1.example.test. A 10.9.0.4
other.test.  NS  ns.example.test.
lame.test.   NS  ns.lame.test.
lame.test.   NS  ns1.example.test.
ns.lame.test. A  10.9.0.5
";

const EXAMPLE: &str = "$TTL 300
example.test. SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
example.test. NS ns1.example.test.
ns1.example.test. A 10.9.0.4
ns.example.test. A 10.9.0.4
www.example.test. A 192.0.2.80
example.test. MX 10 mail.example.test.
mail.example.test. A 192.0.2.25
";

const OTHER: &str = "$TTL 300
other.test. SOA ns.example.test. hostmaster.other.test. 1 3600 900 604800 300
other.test. NS ns.example.test.
www.other.test. A 192.0.2.81
";

/// dig +trace looks every name server up with the system resolver: the
/// client namespace's /etc/hosts (mounted by `ip netns exec`) names them.
const HOSTS: &str = "10.9.0.2 a.root
10.9.0.3 ns.nic.test
10.9.0.4 ns1.example.test
10.9.0.4 ns.example.test
10.9.0.5 ns.lame.test
";

/// A server: its directory, its address, and its zones with their files.
type Server = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

struct Hierarchy {
    pair: Pair,
    dir: PathBuf,
    etc: PathBuf,
}

/// Signs example.test, puts its DS in test., signs test., puts its DS in
/// the root, signs the root (ECDSA P-256 keys, a KSK and a ZSK each); the
/// root's KSK is left in root.anchor. Zone files become `*.zone.signed`.
/// test. is signed with NSEC3 (no salt, no extra iterations), the others
/// with NSEC.
const SIGN: &str = r#"set -e
sign() {
    zone=$1; file=$2; keys=keys-$3
    mkdir -p $keys
    dnssec-keygen -q -K $keys -a ECDSAP256SHA256 -f KSK $zone >/dev/null
    dnssec-keygen -q -K $keys -a ECDSAP256SHA256 $zone >/dev/null
    cat $keys/*.key >> $file
    dnssec-signzone -q -K $keys -o $zone -N keep $4 -f $file.signed $file >/dev/null
    ksk=$(grep -l 'DNSKEY 257 ' $keys/*.key)
    dnssec-dsfromkey -2 $ksk > ds-$3
}
sign example.test example.zone example
cat ds-example >> test.zone
sign test test.zone test "-3 - -H 0"
cat ds-test >> root.zone
sign . root.zone root
grep -h 'DNSKEY 257 ' $(grep -l 'DNSKEY 257 ' keys-root/*.key) > root.anchor
"#;

impl Hierarchy {
    fn new(tag: &str) -> Hierarchy {
        Hierarchy::with(tag, false)
    }

    /// With `signed`, every zone but other.test is signed and delegated
    /// with its DS, and unbound on 10.9.0.6 resolves (and validates, with
    /// the root's KSK as its anchor) from the test root.
    fn with(tag: &str, signed: bool) -> Hierarchy {
        let mut pair = Pair::new(tag);
        for address in ["10.9.0.3/24", "10.9.0.4/24", "10.9.0.6/24"] {
            pair.host.ip(&["addr", "add", address, "dev", "h0"]);
        }
        let dir = std::env::temp_dir().join(format!("netdx-trace-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in [
            ("root.zone", ROOT),
            ("test.zone", TLD),
            ("example.zone", EXAMPLE),
            ("other.zone", OTHER),
        ] {
            std::fs::write(dir.join(file), text).unwrap();
        }
        if signed {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("cd {} && {SIGN}", dir.display()))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "signing: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let servers: [Server; 3] = [
            ("root", "10.9.0.2", &[(".", "root.zone")]),
            ("tld", "10.9.0.3", &[("test", "test.zone")]),
            (
                "auth",
                "10.9.0.4",
                &[
                    ("example.test", "example.zone"),
                    ("other.test", "other.zone"),
                ],
            ),
        ];
        let d = dir.display();
        for (name, address, zones) in servers {
            let work = dir.join(name);
            std::fs::create_dir_all(&work).unwrap();
            let files: Vec<String> = zones
                .iter()
                .map(|(zone, file)| {
                    let signed = signed && *zone != "other.test";
                    format!("{file}{}", if signed { ".signed" } else { "" })
                })
                .collect();
            let zones: Vec<(&str, &str)> = zones
                .iter()
                .zip(&files)
                .map(|((zone, _), file)| (*zone, file.as_str()))
                .collect();
            let conf = common::dns::nsd_conf(address, &dir, &work, &zones);
            let path = work.join("nsd.conf");
            std::fs::write(&path, conf).unwrap();
            pair.host
                .spawn("nsd", &["-d", "-c", path.to_str().unwrap()]);
        }
        if signed {
            std::fs::write(
                dir.join("root.hints"),
                ". 3600 NS a.root.\na.root. 3600 A 10.9.0.2\n",
            )
            .unwrap();
            let conf = dir.join("unbound.conf");
            std::fs::write(
                &conf,
                format!(
                    "server:\n  verbosity: 0\n  interface: 10.9.0.6@53\n  do-daemonize: no\n  username: \"\"\n  \
                     chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  \
                     do-ip6: no\n  access-control: 10.9.0.0/24 allow\n  module-config: \"validator iterator\"\n  \
                     root-hints: \"{d}/root.hints\"\n  trust-anchor-file: \"{d}/root.anchor\"\n  \
                     local-zone: \"test.\" nodefault\n  qname-minimisation: no\n  num-threads: 1\n\
                     remote-control:\n  control-enable: no\n"
                ),
            )
            .unwrap();
            pair.host
                .spawn("unbound", &["-d", "-c", conf.to_str().unwrap()]);
        }
        let etc = PathBuf::from("/etc/netns").join(pair.client.name());
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("hosts"), HOSTS).unwrap();
        let hierarchy = Hierarchy { pair, dir, etc };
        for (server, zone) in [
            ("10.9.0.2", "."),
            ("10.9.0.3", "test"),
            ("10.9.0.4", "other.test"),
        ] {
            hierarchy.wait_ready(server, zone);
        }
        hierarchy
    }

    /// Polls until the server answers for its zone (a deadline, not a sleep).
    fn wait_ready(&self, server: &str, zone: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let at = format!("@{server}");
            let out = stdout(
                &self
                    .pair
                    .client
                    .run("dig", &[&at, zone, "SOA", "+short", "+time=1", "+tries=1"]),
            );
            if !out.trim().is_empty() && !out.contains("timed out") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nsd at {server} did not answer: {out}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        self.pair.client.run(program, args)
    }
}

impl Drop for Hierarchy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

/// The path a trace printed: per response, its size, the server and its
/// name, and the records shown (whitespace collapsed).
fn path(text: &str) -> Vec<(String, Vec<String>)> {
    let mut steps = Vec::new();
    let mut records = Vec::new();
    for line in text.lines() {
        if let Some(received) = line.strip_prefix(";; Received ") {
            let (head, _) = received.rsplit_once(" in ").expect("a time");
            records.sort();
            steps.push((head.to_string(), std::mem::take(&mut records)));
        } else if !line.starts_with(';') && !line.trim().is_empty() {
            records.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    steps
}

#[test]
fn trace_walks_the_same_path_as_dig_trace_with_and_without_glue() {
    require_root!();
    let hierarchy = Hierarchy::new("dnstr");
    for (name, rtype) in [
        ("www.example.test", "A"),
        ("www.other.test", "A"),
        ("example.test", "MX"),
        ("nothere.example.test", "A"),
        ("nothere.test", "A"),
    ] {
        let dig = stdout(&hierarchy.run("dig", &["@10.9.0.2", "+trace", name, rtype]));
        let output = hierarchy.run(
            common::netdx_bin(),
            &["dns", "@10.9.0.2", "+trace", name, rtype],
        );
        let text = stdout(&output);
        let dig_path = path(&dig);
        assert!(dig_path.len() >= 3, "dig +trace {name}: {dig}");
        assert_eq!(
            path(&text),
            dig_path,
            "{name} {rtype}\nnetdx:\n{text}\ndig:\n{dig}"
        );
        let expected = if name.starts_with("nothere") { 1 } else { 0 };
        assert_eq!(output.status.code(), Some(expected), "{name}: {text}");
    }
    // other.test's server has no glue: looked up from the root, and said so.
    let text = stdout(&hierarchy.run(
        common::netdx_bin(),
        &["dns", "@10.9.0.2", "+trace", "www.other.test"],
    ));
    assert!(
        text.contains(
            ";; ns.example.test. came without glue: looked up from the root (3 queries): 10.9.0.4"
        ),
        "{text}"
    );
}

#[test]
fn trace_json_has_every_step_with_its_kind_and_zone() {
    require_root!();
    let hierarchy = Hierarchy::new("dnstj");
    let output = hierarchy.run(
        common::netdx_bin(),
        &["--json", "dns", "@10.9.0.2", "+trace", "www.other.test"],
    );
    assert_eq!(output.status.code(), Some(0));
    let json = assert_schema_valid_output("dns-trace", &output.stdout);
    let trace = &json[0];
    assert_eq!(trace["outcome"], "answer");
    let kinds: Vec<String> = trace["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s["event"].as_str().unwrap(),
                s["kind"].as_str().or(s["name"].as_str()).unwrap_or(""),
                s["zone"]
                    .as_str()
                    .or(s["addresses"][0].as_str())
                    .unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "response roots .",
            "response referral .",
            "response referral test.",
            "resolved ns.example.test. 10.9.0.4",
            "response answer other.test.",
        ]
    );
    assert_eq!(trace["queries"], 7);
    let last = &trace["steps"][4];
    assert_eq!(last["server"], "10.9.0.4#53");
    assert_eq!(last["aa"], true);
    assert_eq!(last["answer"][0]["data"]["address"], "192.0.2.81");
}

#[test]
fn a_lame_delegation_is_reported_and_ends_the_trace() {
    require_root!();
    let hierarchy = Hierarchy::new("dnstl");
    let started = Instant::now();
    let output = hierarchy.run(
        common::netdx_bin(),
        &[
            "dns",
            "@10.9.0.2",
            "+trace",
            "--timeout",
            "1",
            "www.lame.test",
        ],
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    // ns.lame.test (10.9.0.5) is not there; ns1.example.test refuses lame.test.
    assert!(
        text.contains(";; 10.9.0.5#53(ns.lame.test), a server of lame.test.: "),
        "{text}"
    );
    assert!(
        text.contains("from 10.9.0.4#53(ns1.example.test)"),
        "{text}"
    );
    assert!(text.contains(";; lame: it answered "), "{text}");
    assert!(
        text.contains(";; trace failed after 5 queries: no server of lame.test. answered usefully"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn validate_follows_ds_links_from_the_answer_up_to_the_root_key() {
    require_root!();
    let hierarchy = Hierarchy::with("dnstv", true);
    let anchor = hierarchy.dir.join("root.anchor");
    let anchor = anchor.to_str().unwrap();
    // unbound validates with the same root key: the AD bit says secure.
    let dig = stdout(&hierarchy.run("dig", &["@10.9.0.6", "+dnssec", "www.example.test"]));
    assert!(
        dig.contains(" ad;") || dig.contains(" ad "),
        "unbound did not validate: {dig}"
    );
    let output = hierarchy.run(
        common::netdx_bin(),
        &[
            "--json",
            "dns",
            "@10.9.0.6",
            "www.example.test",
            "--validate",
            "--trust-anchor",
            anchor,
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    let json = assert_schema_valid_output("dns", &output.stdout);
    let validation = &json[0]["validation"];
    assert_eq!(validation["status"], "secure", "{validation}");
    assert_eq!(
        common::dns::validation_checks(&json),
        [
            "www.example.test. A signed by example.test.",
            "example.test. DNSKEY signed by its own key",
            "example.test. DS at the parent matches a key",
            "example.test. DS signed by test.",
            "test. DNSKEY signed by its own key",
            "test. DS at the parent matches a key",
            "test. DS signed by .",
            ". DNSKEY signed by its own key",
            ". key is a trust anchor",
        ]
    );
    // other.test is delegated without a DS and is not signed: insecure, not secure.
    let output = hierarchy.run(
        common::netdx_bin(),
        &[
            "dns",
            "@10.9.0.6",
            "www.other.test",
            "--validate",
            "--trust-anchor",
            anchor,
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(";; VALIDATION: insecure: www.other.test. A: not signed"),
        "{text}"
    );
}

#[test]
fn ds_nsec3_and_their_signatures_read_as_dig_writes_them() {
    require_root!();
    let hierarchy = Hierarchy::with("dnstd", true);
    let texts = |json: &serde_json::Value, section: &str| -> BTreeSet<String> {
        json[0][section]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{} {} {}",
                    r["name"].as_str().unwrap(),
                    r["type"].as_str().unwrap(),
                    r["text"].as_str().unwrap()
                )
            })
            .collect()
    };
    let dig_section = |args: &[&str], section: &str| -> BTreeSet<String> {
        let mut full = vec!["@10.9.0.3", "+dnssec", "+norecurse", "+noall", section];
        full.extend_from_slice(args);
        stdout(&hierarchy.run("dig", &full))
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(';'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                format!("{} {} {}", f[0], f[3], f[4..].join(" "))
            })
            .collect()
    };
    for (name, rtype, section, ours, shown) in [
        ("example.test", "DS", "+answer", "answer", "DS"),
        ("test", "NSEC3PARAM", "+answer", "answer", "NSEC3PARAM"),
        ("nothere.test", "A", "+authority", "authority", "NSEC3"),
    ] {
        let dig = dig_section(&[name, rtype], section);
        assert!(
            dig.iter().any(|l| l.split(' ').nth(1) == Some(shown)),
            "dig shows no {shown} for {name} {rtype}: {dig:?}"
        );
        let output = hierarchy.run(
            common::netdx_bin(),
            &[
                "--json",
                "dns",
                "@10.9.0.3",
                "+dnssec",
                "+norecurse",
                name,
                rtype,
            ],
        );
        let json = assert_schema_valid_output("dns", &output.stdout);
        assert_eq!(texts(&json, ours), dig, "{name} {rtype} {section}");
    }
}
