//! `netdx dns` against real servers in a namespace only: NSD serving a
//! zone with every record type netdx decodes (and one it does not), dig
//! asked the same questions of the same server, and a scripted server
//! that lies.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::dns::{answer_texts, lines};
use common::schema::assert_schema_valid_output;
use common::{Pair, assert_one_line_error, stdout};
use serde_json::Value;

const ZONE: &str = r#"$ORIGIN example.test.
$TTL 300
@         SOA   ns1 hostmaster 2024010101 3600 900 604800 300
@         NS    ns1
ns1       A     10.9.0.2
@         A     192.0.2.10
@         AAAA  2001:db8::10
@         MX    10 mail
@         MX    20 backup.mail
mail      A     192.0.2.25
@         TXT   "v=spf1 -all" "second string"
quoted    TXT   "say \"hi\"" "back\\slash"
www       CNAME @
_sip._udp SRV   10 5 5060 sip
@         CAA   0 issue "ca.example"
unk       TYPE65534 \# 4 0A000001
"#;

const REVERSE: &str = r#"$ORIGIN 2.0.192.in-addr.arpa.
$TTL 300
@   SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
@   NS  ns1.example.test.
10  PTR example.test.
"#;

/// NSD in the host namespace of a pair, serving example.test and a
/// reverse zone on 10.9.0.2:53.
struct Dns {
    pair: Pair,
    dir: PathBuf,
}

impl Dns {
    fn new(tag: &str) -> Dns {
        Dns::with(tag, false, false)
    }

    /// With `signed`, example.test is signed (dnssec-keygen, a KSK and a
    /// ZSK, dnssec-signzone) and NSD serves the signed zone.
    /// With `tampered` too, the signed zone's address of example.test is
    /// changed after signing (its RRSIG kept), as a forger would.
    fn with(tag: &str, signed: bool, tampered: bool) -> Dns {
        let mut pair = Pair::new(tag);
        let dir = std::env::temp_dir().join(format!("netdx-dns-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut big = String::from("big TXT");
        for _ in 0..6 {
            big.push_str(&format!(" \"{}\"", "a".repeat(250)));
        }
        std::fs::write(dir.join("example.test.zone"), format!("{ZONE}{big}\n")).unwrap();
        std::fs::write(dir.join("reverse.zone"), REVERSE).unwrap();
        let zonefile = if signed {
            let d = dir.display();
            let sh = |script: &str| {
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(script)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{script}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            };
            sh(&format!(
                "cd {d} && dnssec-keygen -q -a ECDSAP256SHA256 -f KSK example.test >/dev/null && \
                 dnssec-keygen -q -a ECDSAP256SHA256 example.test >/dev/null && \
                 for k in K*.key; do echo \"\\$INCLUDE $k\" >> example.test.zone; done && \
                 dnssec-signzone -q -S -o example.test -N keep example.test.zone >/dev/null"
            ));
            if tampered {
                sh(&format!(
                    "cd {d} && sed -i 's/\\t192\\.0\\.2\\.10$/\\t192.0.2.99/' example.test.zone.signed && \
                     grep -q '192\\.0\\.2\\.99' example.test.zone.signed"
                ));
            }
            "example.test.zone.signed"
        } else {
            "example.test.zone"
        };
        std::fs::write(
            dir.join("nsd.conf"),
            common::dns::nsd_conf(
                Pair::HOST_V4,
                &dir,
                &dir,
                &[
                    ("example.test", zonefile),
                    ("2.0.192.in-addr.arpa", "reverse.zone"),
                ],
            ),
        )
        .unwrap();
        let conf = dir.join("nsd.conf");
        pair.host
            .spawn("nsd", &["-d", "-c", conf.to_str().unwrap()]);
        let dns = Dns { pair, dir };
        dns.wait_ready();
        dns
    }

    /// Polls until NSD answers (a deadline, not a sleep).
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self.dig(&["example.test", "SOA", "+short", "+time=1", "+tries=1"]);
            if !out.trim().is_empty() && !out.contains("timed out") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nsd did not answer within 30 s: {out}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn at() -> String {
        format!("@{}", Pair::HOST_V4)
    }

    fn dig(&self, args: &[&str]) -> String {
        let mut full = vec![Self::at()];
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        stdout(&self.pair.client.run("dig", &full))
    }

    fn netdx(&self, args: &[&str]) -> std::process::Output {
        let mut full = vec!["dns".to_string(), Self::at()];
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        self.pair.client.netdx(&full)
    }

    fn json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let mut full = vec!["--json".to_string(), "dns".to_string(), Self::at()];
        full.extend(args.iter().map(|a| a.to_string()));
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let output = self.pair.client.netdx(&full);
        let json = assert_schema_valid_output("dns", &output.stdout);
        (output.status.code(), json)
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn every_record_type_answers_what_dig_gets_from_the_same_server() {
    require_root!();
    let dns = Dns::new("dnst");
    for (name, rtype) in [
        ("example.test", "A"),
        ("example.test", "AAAA"),
        ("example.test", "MX"),
        ("example.test", "NS"),
        ("example.test", "SOA"),
        ("example.test", "TXT"),
        ("quoted.example.test", "TXT"),
        ("www.example.test", "CNAME"),
        ("_sip._udp.example.test", "SRV"),
        ("example.test", "CAA"),
        ("unk.example.test", "TYPE65534"),
        ("10.2.0.192.in-addr.arpa", "PTR"),
    ] {
        let dig = lines(&dns.dig(&[name, rtype, "+short"]));
        assert!(!dig.is_empty(), "dig got nothing for {name} {rtype}");
        let (code, json) = dns.json(&[name, rtype]);
        assert_eq!(code, Some(0), "{name} {rtype}");
        assert_eq!(answer_texts(&json), dig, "{name} {rtype}");
        let short = lines(&stdout(&dns.netdx(&[name, rtype, "+short"])));
        assert_eq!(short, dig, "+short {name} {rtype}");
        assert_eq!(json[0]["status"], "NOERROR");
        assert_eq!(
            json[0]["header"]["flags"]["aa"], true,
            "NSD is authoritative"
        );
        assert_eq!(json[0]["transport"], "udp");
    }
    // Typed fields beside the text.
    let (_, json) = dns.json(&["example.test", "MX"]);
    let exchanges: BTreeSet<(u64, String)> = json[0]["answer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["data"]["preference"].as_u64().unwrap(),
                r["data"]["exchange"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        exchanges.contains(&(10, "mail.example.test.".to_string())),
        "{exchanges:?}"
    );
    let (_, json) = dns.json(&["example.test", "TXT"]);
    assert_eq!(json[0]["answer"][0]["data"]["strings"][1], "second string");
}

#[test]
fn dig_layout_has_the_header_flags_sections_and_footer() {
    require_root!();
    let dns = Dns::new("dnsl");
    let output = dns.netdx(&["example.test", "MX"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for needle in [
        ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: ",
        ";; WARNING: recursion requested but not available",
        ";; OPT PSEUDOSECTION:",
        ";; QUESTION SECTION:\n;example.test.\t\t\tIN\tMX\n",
        ";; ANSWER SECTION:\nexample.test.\t\t300\tIN\tMX\t10 mail.example.test.\n",
        ";; SERVER: 10.9.0.2#53(10.9.0.2) (UDP)",
        ";; MSG SIZE  rcvd: ",
    ] {
        assert!(text.contains(needle), "no {needle:?} in:\n{text}");
    }
    // The same flags, counts, EDNS line and message size as dig saw.
    let dig = dns.dig(&["example.test", "MX"]);
    for start in [";; flags:", "; EDNS:", ";; MSG SIZE"] {
        let line = |t: &str| t.lines().find(|l| l.starts_with(start)).map(str::to_string);
        assert_eq!(line(&text), line(&dig), "{start}");
    }
}

#[test]
fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    require_root!();
    let dns = Dns::new("dnsc");
    let (code, json) = dns.json(&["big.example.test", "TXT"]);
    assert_eq!(code, Some(0));
    assert_eq!(json[0]["retried_over_tcp"], true);
    assert_eq!(json[0]["transport"], "tcp");
    let strings = json[0]["answer"][0]["data"]["strings"].as_array().unwrap();
    assert_eq!(strings.len(), 6);
    assert!(json[0]["size"].as_u64().unwrap() > 1500);
    let text = stdout(&dns.netdx(&["big.example.test", "TXT"]));
    assert!(
        text.starts_with(";; Truncated, retrying in TCP mode.\n"),
        "{text}"
    );
    assert!(text.contains("(TCP)"), "{text}");
    assert_eq!(
        lines(&stdout(&dns.netdx(&["big.example.test", "TXT", "+short"]))),
        lines(&dns.dig(&["big.example.test", "TXT", "+short"]))
    );
    let (_, json) = dns.json(&["example.test", "A", "+tcp"]);
    assert_eq!(json[0]["transport"], "tcp");
    assert_eq!(json[0]["retried_over_tcp"], false);
}

#[test]
fn nxdomain_nodata_and_silence_are_negative_answers_exit_1() {
    require_root!();
    let dns = Dns::new("dnsn");
    let (code, json) = dns.json(&["nothere.example.test"]);
    assert_eq!(code, Some(1));
    assert_eq!(json[0]["status"], "NXDOMAIN");
    assert_eq!(json[0]["authority"][0]["type"], "SOA");
    let (code, json) = dns.json(&["mail.example.test", "MX"]);
    assert_eq!(code, Some(1), "no data");
    assert_eq!(json[0]["status"], "NOERROR");
    assert!(json[0]["answer"].as_array().unwrap().is_empty());
    // A port whose datagrams the host drops: every try times out.
    dns.pair
        .host
        .sh("iptables -A INPUT -p udp --dport 5399 -j DROP");
    let started = Instant::now();
    let output = dns.pair.client.netdx(&[
        "--json",
        "dns",
        &Dns::at(),
        "-p",
        "5399",
        "example.test",
        "--timeout",
        "0.3",
        "--retries",
        "1",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let json = assert_schema_valid_output("dns", &output.stdout);
    assert_eq!(json[0]["status"], "timeout");
    assert_eq!(json[0]["tries"], 2);
    assert!(started.elapsed() >= Duration::from_millis(600));
}

#[test]
fn an_address_asks_for_its_ptr_as_dig_x_does() {
    require_root!();
    let dns = Dns::new("dnsx");
    let dig = lines(&dns.dig(&["-x", "192.0.2.10", "+short"]));
    assert_eq!(dig, lines("example.test.\n"));
    assert_eq!(lines(&stdout(&dns.netdx(&["192.0.2.10", "+short"]))), dig);
    assert_eq!(
        lines(&stdout(&dns.netdx(&["-x", "192.0.2.10", "+short"]))),
        dig
    );
}

#[test]
fn the_server_defaults_to_resolv_confs_first_nameserver() {
    require_root!();
    let dns = Dns::new("dnsr");
    // `ip netns exec` mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf.
    let dir = PathBuf::from("/etc/netns").join(dns.pair.client.name());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("resolv.conf"),
        format!(
            "# test\nnameserver {}\noptions timeout:1 attempts:1\n",
            Pair::HOST_V4
        ),
    )
    .unwrap();
    let output = dns.pair.client.netdx(&["--json", "dns", "example.test"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    let json = assert_schema_valid_output("dns", &output.stdout);
    assert_eq!(json[0]["server"], "10.9.0.2#53");
    assert_eq!(answer_texts(&json), lines("192.0.2.10\n"));
}

#[test]
fn lies_and_malformed_datagrams_are_dropped_and_the_real_answer_taken() {
    require_root!();
    let mut pair = Pair::new("dnsh");
    let script = common::responder("dns_liar.py");
    pair.host
        .spawn_ready("python3", &[&script, Pair::HOST_V4, "5300"]);
    let at = format!("@{}", Pair::HOST_V4);
    let output = pair
        .client
        .netdx(&["--json", "dns", &at, "-p", "5300", "victim.example"]);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    let json = assert_schema_valid_output("dns", &output.stdout);
    assert_eq!(answer_texts(&json), lines("192.0.2.99\n"));
    assert_eq!(
        json[0]["ignored"], 4,
        "wrong ID, loop, other question, cut short"
    );
}

#[test]
fn bad_input_is_one_line_with_a_remedy_and_exit_2() {
    // Each is refused before anything is sent (no @SERVER is needed to
    // show it, and none of these may reach the machine's own resolver).
    for (args, fragment) in [
        (
            vec!["dns", "+bogus", "example.org"],
            "unknown option +bogus",
        ),
        (vec!["dns", "MX"], "name what to look up"),
        (
            vec!["dns", "@10.0.0.1", "@10.0.0.2", "x.org"],
            "one @SERVER",
        ),
        (vec!["dns", "TYPE99999", "x.org"], "unknown record type"),
        (vec!["dns", "-p", "0", "x.org"], "-p takes a port"),
        (vec!["dns", "a..b.org"], "empty label"),
        (
            vec![
                "dns",
                "@10.9.0.2",
                "--validate",
                "--trust-anchor",
                "/nonexistent.key",
                "x.test",
            ],
            "/nonexistent.key",
        ),
        (
            vec![
                "dns",
                "@10.9.0.2",
                "--tls",
                "--cacert",
                "/nonexistent.pem",
                "x.test",
            ],
            "/nonexistent.pem",
        ),
    ] {
        let output = common::netdx(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        if !fragment.is_empty() {
            assert_one_line_error(&output, fragment);
        }
    }
    let long = format!("{}.org", "a".repeat(64));
    assert_one_line_error(&common::netdx(&["dns", &long]), "longer than 63");
    // A bad line of a list names its line (the server is loopback's, so
    // nothing could leave the machine even if a line were asked).
    let list = std::env::temp_dir().join(format!("netdx-dns-list-{}", std::process::id()));
    std::fs::write(&list, "# names\nexample.org NOTATYPE\n").unwrap();
    let output = common::netdx(&[
        "dns",
        "@127.0.0.1",
        "-p",
        "9",
        "--file",
        list.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&list);
    assert_one_line_error(&output, "line 2");
}

#[test]
fn a_refused_port_is_an_error_that_names_the_server() {
    require_root!();
    let pair = Pair::new("dnsu");
    let at = format!("@{}", Pair::HOST_V4);
    let output = pair
        .client
        .netdx(&["dns", &at, "-p", "5301", "example.test"]);
    assert_eq!(output.status.code(), Some(2));
    assert_one_line_error(&output, "10.9.0.2#5301 (UDP)");
}

#[test]
fn a_file_of_names_is_resolved_concurrently_with_the_answers_dig_gets() {
    require_root!();
    let dns = Dns::new("dnsf");
    let unique = [
        ("example.test", "A"),
        ("example.test", "MX"),
        ("mail.example.test", "A"),
        ("www.example.test", "CNAME"),
        ("10.2.0.192.in-addr.arpa", "PTR"),
        ("nothere.example.test", "A"),
    ];
    let mut want = std::collections::BTreeMap::new();
    for (name, rtype) in unique {
        want.insert(
            (format!("{name}."), rtype.to_string()),
            lines(&dns.dig(&[name, rtype, "+short"])),
        );
    }
    let list = dns.dir.join("names.txt");
    let mut text = String::from("# a comment, then 300 questions\n");
    for i in 0..300 {
        let (name, rtype) = unique[i % unique.len()];
        text.push_str(&format!("{name} {rtype}\n"));
    }
    std::fs::write(&list, text).unwrap();
    let list = list.to_str().unwrap();
    let (code, json) = dns.json(&["--file", list, "--concurrency", "50"]);
    assert_eq!(code, Some(1), "NXDOMAIN among them");
    let lookups = json.as_array().unwrap();
    assert_eq!(lookups.len(), 300);
    for (i, lookup) in lookups.iter().enumerate() {
        let (name, rtype) = unique[i % unique.len()];
        let key = (format!("{name}."), rtype.to_string());
        assert_eq!(
            lookup["question"][0]["name"],
            key.0.as_str(),
            "in list order"
        );
        let got: BTreeSet<String> = lookup["answer"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want[&key], "{key:?}");
    }
    // The stream: start, a lookup line per question (each index once), done.
    let output = dns
        .pair
        .client
        .netdx(&["--json-stream", "dns", &Dns::at(), "--file", list]);
    let events = common::json_lines(&output.stdout);
    for event in &events {
        common::schema::assert_schema_valid("dns.stream", event);
    }
    assert_eq!(events.first().unwrap()["event"], "start");
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done");
    assert_eq!(done["questions"], 300);
    assert_eq!(done["nxdomain"], 50);
    assert_eq!(done["answered"], 250);
    let indices: BTreeSet<u64> = events
        .iter()
        .filter(|e| e["event"] == "lookup")
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, (0..300).collect());
    // Text: a line per record, and the tally.
    let output = dns.netdx(&["--file", list]);
    let text = stdout(&output);
    assert!(
        text.contains("nothere.example.test.\tA\tNXDOMAIN\n"),
        "{text}"
    );
    assert!(
        text.contains("example.test.\tMX\t10 mail.example.test.\n"),
        "{text}"
    );
    assert!(
        text.contains(";; 300 questions in "),
        "{}",
        text.lines().last().unwrap_or("")
    );
}

#[test]
fn dnssec_records_read_as_dig_writes_them() {
    require_root!();
    let dns = Dns::with("dnss", true, false);
    for (name, rtype) in [
        ("example.test", "DNSKEY"),
        ("example.test", "RRSIG"),
        ("example.test", "NSEC"),
        ("mail.example.test", "NSEC"),
    ] {
        let dig = lines(&dns.dig(&[name, rtype, "+short", "+dnssec"]));
        assert!(!dig.is_empty(), "dig got nothing for {name} {rtype}");
        let (code, json) = dns.json(&[name, rtype, "+dnssec"]);
        assert_eq!(code, Some(0), "{name} {rtype}");
        assert_eq!(answer_texts(&json), dig, "{name} {rtype}");
        assert_eq!(json[0]["edns"]["dnssec_ok"], true, "the DO bit came back");
    }
    // Typed fields: the KSK's flags, and what the signatures cover.
    let (_, json) = dns.json(&["example.test", "DNSKEY", "+dnssec"]);
    let flags: BTreeSet<u64> = json[0]["answer"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "DNSKEY")
        .map(|r| r["data"]["flags"].as_u64().unwrap())
        .collect();
    assert_eq!(flags, [256, 257].into_iter().collect());
    let signed = json[0]["answer"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "RRSIG")
        .expect("the DNSKEY set comes signed with +dnssec");
    assert_eq!(signed["data"]["type_covered"], "DNSKEY");
    assert_eq!(signed["data"]["signer"], "example.test.");
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn wire_shows_both_messages_field_by_field_with_their_compression() {
    require_root!();
    let dns = Dns::new("dnsw");
    let (code, json) = dns.json(&["example.test", "MX", "--wire"]);
    assert_eq!(code, Some(0));
    let doc = &json[0];
    let wire = &doc["wire"];
    let response = &wire["response"];
    let bytes = hex_bytes(response["hex"].as_str().unwrap());
    assert_eq!(bytes.len() as u64, doc["size"].as_u64().unwrap());
    assert_eq!(response["problem"], Value::Null);
    // The header fields are the bytes, and say what the decoded message says.
    let id = u64::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    assert_eq!(response["header"]["id"], id);
    assert_eq!(doc["header"]["id"], id);
    assert_eq!(
        wire["query"]["header"]["id"], id,
        "the response echoes our ID"
    );
    assert_eq!(wire["query"]["header"]["qr"], false);
    assert_eq!(response["header"]["qr"], true);
    assert_eq!(response["header"]["aa"], doc["header"]["flags"]["aa"]);
    let answers = response["answer"].as_array().unwrap();
    assert_eq!(answers.len(), doc["answer"].as_array().unwrap().len());
    // Records follow one another with no gap, to the end of the message.
    let mut next = response["question"][0]["offset"].as_u64().unwrap();
    assert_eq!(next, 12);
    let name_length = response["question"][0]["name"]["length"].as_u64().unwrap();
    next += name_length + 4;
    let mut pointers = 0;
    let mut labels = BTreeSet::new();
    for section in ["question", "answer", "authority", "additional"] {
        for field in response[section].as_array().unwrap() {
            let names = std::iter::once(&field["name"])
                .chain(field["rdata_names"].as_array().into_iter().flatten());
            for name in names {
                for part in name["parts"].as_array().unwrap() {
                    let at = part["offset"].as_u64().unwrap();
                    match part["kind"].as_str().unwrap() {
                        "label" => {
                            let length = u64::from(bytes[at as usize]);
                            assert_eq!(length as usize, part["text"].as_str().unwrap().len());
                            labels.insert(at);
                        }
                        "pointer" => {
                            pointers += 1;
                            let target = part["target"].as_u64().unwrap();
                            assert_eq!(
                                u64::from(
                                    u16::from_be_bytes([
                                        bytes[at as usize],
                                        bytes[at as usize + 1]
                                    ]) & 0x3fff
                                ),
                                target
                            );
                            assert!(
                                labels.contains(&target),
                                "pointer {at} to {target}, not a label seen"
                            );
                        }
                        _ => assert_eq!(bytes[at as usize], 0),
                    }
                }
            }
            if section != "question" {
                assert_eq!(field["offset"].as_u64().unwrap(), next, "{field}");
                next =
                    field["rdata_offset"].as_u64().unwrap() + field["rdlength"].as_u64().unwrap();
            }
        }
    }
    assert_eq!(
        next as usize,
        bytes.len() - response["trailing"].as_u64().unwrap() as usize
    );
    assert!(pointers >= 2, "NSD compresses the owners and the exchanges");
    for (record, decoded) in answers.iter().zip(doc["answer"].as_array().unwrap()) {
        assert_eq!(record["name"]["text"], decoded["name"]);
        assert_eq!(record["rtype"], 15);
        assert_eq!(record["ttl"], decoded["ttl"]);
        assert_eq!(
            record["rdata_names"][0]["text"].as_str(),
            decoded["data"]["exchange"].as_str()
        );
    }
    // The text view: both messages, pointers named, and the dump.
    let text = stdout(&dns.netdx(&["example.test", "MX", "+wire"]));
    assert!(
        text.contains(";; QUERY to 10.9.0.2#53 over UDP, "),
        "{text}"
    );
    assert!(
        text.contains(";; RESPONSE from 10.9.0.2#53 over UDP after "),
        "{text}"
    );
    assert!(text.contains("pointer → 0x000c"), "{text}");
    assert!(text.contains("type     41 (OPT)  UDP payload "), "{text}");
    assert!(
        text.contains(";; ANSWER SECTION:"),
        "the dig view follows: {text}"
    );
}

/// The key-signing key dnssec-keygen wrote (flags 257), as a trust-anchor file.
fn ksk_file(dns: &Dns) -> String {
    std::fs::read_dir(&dns.dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|x| x == "key")
                && std::fs::read_to_string(p).unwrap().contains("DNSKEY 257 ")
        })
        .expect("a KSK file")
        .display()
        .to_string()
}

#[test]
fn validate_follows_the_chain_to_the_trust_anchor_and_names_a_failing_link() {
    require_root!();
    let dns = Dns::with("dnsv", true, false);
    let anchor = ksk_file(&dns);
    let (code, json) = dns.json(&["example.test", "A", "--validate", "--trust-anchor", &anchor]);
    assert_eq!(code, Some(0));
    let validation = &json[0]["validation"];
    assert_eq!(validation["status"], "secure", "{validation}");
    assert_eq!(
        common::dns::validation_checks(&json),
        [
            "example.test. A signed by example.test.",
            "example.test. DNSKEY signed by its own key",
            "example.test. key is a trust anchor",
        ]
    );
    let text = stdout(&dns.netdx(&["example.test", "MX", "+validate", "--trust-anchor", &anchor]));
    assert!(text.contains(";; VALIDATION: secure"), "{text}");
    // The root's keys do not lead to example.test: no DS for it above.
    let (code, json) = dns.json(&["example.test", "A", "--validate"]);
    assert_eq!(code, Some(1));
    assert_eq!(json[0]["validation"]["status"], "bogus");
    // Another zone's key as the anchor: example.test's keys do not match it.
    let other = dns.dir.join("other.key");
    std::fs::write(
        &other,
        "example.test. IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n",
    )
    .unwrap();
    let (code, json) = dns.json(&[
        "example.test",
        "A",
        "--validate",
        "--trust-anchor",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1));
    let reason = json[0]["validation"]["reason"].as_str().unwrap();
    assert!(reason.contains("matches its trust anchor"), "{reason}");
}

#[test]
fn validate_finds_a_tampered_record_and_names_the_signature_that_fails() {
    require_root!();
    let dns = Dns::with("dnsvt", true, true);
    let anchor = ksk_file(&dns);
    let dig = lines(&dns.dig(&["example.test", "A", "+short"]));
    assert_eq!(
        dig,
        lines("192.0.2.99\n"),
        "the server serves the forged address"
    );
    let output = dns.netdx(&["example.test", "A", "--validate", "--trust-anchor", &anchor]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.contains(
            ";; VALIDATION: bogus: example.test. A signed by example.test.: the RRSIG by key "
        ),
        "{text}"
    );
    assert!(
        text.contains("does not verify: the records or the signature were changed"),
        "{text}"
    );
    assert!(
        text.contains(";;   FAIL example.test. A signed by example.test."),
        "{text}"
    );
    // The rest of the zone is intact: its MX validates.
    let (code, json) = dns.json(&[
        "example.test",
        "MX",
        "--validate",
        "--trust-anchor",
        &anchor,
    ]);
    assert_eq!(code, Some(0));
    assert_eq!(json[0]["validation"]["status"], "secure");
}

#[test]
fn a_rate_limit_spaces_the_queries_of_a_list() {
    require_root!();
    let dns = Dns::new("dnsq");
    let list = dns.dir.join("rate.txt");
    std::fs::write(&list, "example.test\n".repeat(60)).unwrap();
    let list = list.to_str().unwrap();
    let timed = |extra: &[&str]| {
        let mut args = vec!["--file", list];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let (code, json) = dns.json(&args);
        assert_eq!(code, Some(0));
        assert_eq!(json.as_array().unwrap().len(), 60);
        started.elapsed()
    };
    // 60 queries at 100 a second: the last goes out 590 ms after the first.
    let paced = timed(&["--rate", "100"]);
    assert!(paced >= Duration::from_millis(550), "{paced:?}");
    assert!(paced < Duration::from_secs(5), "{paced:?}");
    // Without --rate the same list is limited by answers alone.
    let free = timed(&[]);
    assert!(free < paced, "{free:?} vs {paced:?}");
}

#[test]
fn a_slow_list_does_not_hold_up_reading_the_answers() {
    require_root!();
    use std::io::Write;
    let dns = Dns::new("dnsy");
    let mut child = dns
        .pair
        .client
        .command(
            common::netdx_bin(),
            &[
                "--json-stream",
                "dns",
                &Dns::at(),
                "--file",
                "-",
                "--timeout",
                "5",
            ],
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A line every 300 ms, as someone typing or a slow pipe.
    for name in ["example.test", "mail.example.test", "example.test MX"] {
        // A netdx that stopped early closed the pipe: its stderr says why.
        if writeln!(stdin, "{name}")
            .and_then(|()| stdin.flush())
            .is_err()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lookups: Vec<serde_json::Value> = common::json_lines(&output.stdout)
        .into_iter()
        .filter(|l| l["event"] == "lookup")
        .collect();
    assert_eq!(lookups.len(), 3);
    for lookup in &lookups {
        let ms = lookup["time_ms"]
            .as_f64()
            .unwrap_or_else(|| panic!("{lookup}"));
        // Each answer is read as it comes, not when the next line arrives.
        assert!(ms < 150.0, "{ms} ms: {lookup}");
    }
}
