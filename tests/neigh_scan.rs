//! `netdx neigh scan` on a bridged segment of 32 host namespaces, beside
//! arp-scan: exactly the hosts and MACs that are there, the pair sharing
//! an address flagged as duplicates, the host answering for several
//! addresses flagged as a shared MAC, the IPv6-only host absent, vendors
//! as arp-scan names them, and the same answers from arping and the
//! kernel's neighbour table.

mod common;

use std::collections::BTreeSet;

use common::schema::{assert_schema_valid, assert_schema_valid_output};
use common::segment::{HostSpec, Segment};
use common::{assert_one_line_error, json_lines, stdout};
use serde_json::Value;

/// Cisco's OUI (00:00:0c): a vendor every IEEE registry lists.
const CISCO_MAC: &str = "00:00:0c:14:00:01";

fn specs() -> Vec<HostSpec> {
    let mut specs: Vec<HostSpec> = (10..38)
        .map(|n| HostSpec::v4(&format!("10.9.20.{n}")))
        .collect();
    specs[0].mac = Some(CISCO_MAC.into());
    // Two hosts claim one address.
    specs.push(HostSpec::v4("10.9.20.100"));
    specs.push(HostSpec::v4("10.9.20.100"));
    // One host answers for three addresses.
    specs.push(HostSpec {
        v4: ["10.9.20.150", "10.9.20.151", "10.9.20.152"]
            .map(String::from)
            .to_vec(),
        ..HostSpec::default()
    });
    // IPv6 only: ARP never finds it.
    specs.push(HostSpec {
        v6: vec!["fd14::99".into()],
        ..HostSpec::default()
    });
    specs
}

/// Every (address, MAC) the segment really holds on IPv4.
fn expected(segment: &Segment) -> BTreeSet<(String, String)> {
    segment
        .hosts
        .iter()
        .flat_map(|h| h.spec.v4.iter().map(|a| (a.clone(), h.mac.clone())))
        .collect()
}

fn pairs(report: &Value) -> BTreeSet<(String, String)> {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["address"].as_str().unwrap().to_string(),
                h["mac"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// arp-scan's (address, MAC) pairs for the same network.
fn arp_scan(segment: &Segment) -> BTreeSet<(String, String)> {
    let output = segment.prober.run(
        "arp-scan",
        &["-I", "p0", "--localnet", "-q", "-x", "--retry=3"],
    );
    assert!(output.status.success(), "arp-scan: {output:?}");
    stdout(&output)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some((fields.next()?.to_string(), fields.next()?.to_string()))
        })
        .collect()
}

#[test]
fn the_scan_finds_exactly_the_hosts_macs_and_duplicates_arp_scan_finds() {
    require_root!();
    let segment = Segment::new("nscan", &specs());
    let output = segment
        .prober
        .netdx(&["neigh", "scan", "-I", "p0", "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let report = assert_schema_valid_output("neigh-scan", &output.stdout);
    assert_eq!(report["network"], "10.9.20.0/24");
    assert_eq!(report["addresses"], 254);
    let truth = expected(&segment);
    assert_eq!(pairs(&report), truth);
    assert_eq!(arp_scan(&segment), truth, "arp-scan sees the same segment");
    let hosts = report["hosts"].as_array().unwrap();
    for host in hosts {
        let address = host["address"].as_str().unwrap();
        let duplicate = address == "10.9.20.100";
        let shared = ["10.9.20.150", "10.9.20.151", "10.9.20.152"].contains(&address);
        assert_eq!(host["duplicate"], duplicate, "{host}");
        assert_eq!(host["shared_mac"], shared, "{host}");
        let rtt = host["rtt_ms"].as_f64().unwrap();
        assert!(rtt > 0.0 && rtt < 250.0, "{host}");
    }
    assert_eq!(report["duplicates"], 1);
    // The vendor is the registry's, as arp-scan prints it.
    let cisco = hosts.iter().find(|h| h["mac"] == CISCO_MAC).unwrap();
    let plain = stdout(
        &segment
            .prober
            .run("arp-scan", &["-I", "p0", "-x", "10.9.20.10"]),
    );
    let vendor = plain
        .lines()
        .next()
        .and_then(|l| l.split('\t').nth(2))
        .unwrap();
    assert_eq!(cisco["vendor"], vendor);
    assert!(
        hosts
            .iter()
            .filter(|h| h["mac"] != CISCO_MAC)
            .all(|h| h["vendor"].is_null())
    );
}

#[test]
fn arping_and_the_kernels_table_agree_with_the_scan() {
    require_root!();
    let segment = Segment::new("nsagree", &specs()[..6]);
    let (code, report) = segment
        .prober
        .netdx_json(&["neigh", "scan", "-I", "p0", "10.9.20.0/28"]);
    assert_eq!(code, Some(0));
    assert_eq!(report["addresses"], 14);
    for host in report["hosts"].as_array().unwrap() {
        assert_eq!(
            host["in_kernel_table"], false,
            "nothing was resolved by the kernel yet"
        );
        let address = host["address"].as_str().unwrap();
        let (_, arping) = segment.prober.netdx_json(&["arping", "-c", "1", address]);
        assert_eq!(arping["responders"][0]["mac"], host["mac"]);
    }
    // Once the kernel resolves a host, the scan says the table agrees.
    segment.prober.sh("ping -c 1 -W 2 10.9.20.11 >/dev/null");
    let (_, again) = segment
        .prober
        .netdx_json(&["neigh", "scan", "-I", "p0", "10.9.20.11"]);
    assert_eq!(again["hosts"][0]["in_kernel_table"], true, "{again}");
}

#[test]
fn an_empty_network_is_a_negative_answer_and_the_stream_shows_each_host() {
    require_root!();
    let segment = Segment::new("nsempty", &specs()[..3]);
    let output = segment.prober.netdx(&[
        "neigh",
        "scan",
        "-I",
        "p0",
        "10.9.20.192/28",
        "--retries",
        "0",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("0 of 14 addresses answered"), "{text}");
    let output =
        segment
            .prober
            .netdx(&["neigh", "scan", "-I", "p0", "10.9.20.8/29", "--json-stream"]);
    assert_eq!(output.status.code(), Some(0));
    let lines = json_lines(&output.stdout);
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["start", "host", "host", "host", "done"]);
    for line in &lines {
        assert_schema_valid("neigh-scan.stream", line);
    }
}

#[test]
fn bad_scan_arguments_are_refused_before_any_frame_leaves() {
    for (args, expected) in [
        (
            &["neigh", "scan", "-I", "lo", "10.0.0.0/8"][..],
            "a scan asks at most 65,536",
        ),
        (
            &["neigh", "scan", "-I", "lo", "10.0.0.0/24"],
            "has no Ethernet address",
        ),
        (
            &["neigh", "scan", "-I", "nosuchif0"],
            "interface 'nosuchif0' not found",
        ),
        (
            &["neigh", "scan", "-I", "lo", "example"],
            "not an IPv4 network",
        ),
        (&["neigh", "scan", "-I", "lo", "--rate", "0"], "not a rate"),
        (
            &["neigh", "scan", "-I", "lo", "--retries", "99"],
            "--retries",
        ),
    ] {
        assert_one_line_error(&common::netdx(args), expected);
    }
}
