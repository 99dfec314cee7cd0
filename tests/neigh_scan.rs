//! `netdx neigh scan` on a bridged segment of 32 host namespaces, beside
//! arp-scan: exactly the hosts and MACs that are there, the pair sharing
//! an address flagged as duplicates, the host answering for several
//! addresses flagged as a shared MAC, the IPv6-only host absent, vendors
//! as arp-scan names them, and the same answers from arping and the
//! kernel's neighbour table. With `-6`, neighbour solicitations find each
//! IPv6 address and its MAC, and the all-nodes echo finds every node on
//! the link by its link-local address, as `ping ff02::1` does.

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
            "is not a network",
        ),
        (
            &["neigh", "scan", "-I", "lo", "-6", "10.0.0.0/24"],
            "-6 asks IPv6 neighbours, but 10.0.0.0/24 is an IPv4 network",
        ),
        (
            &["neigh", "scan", "-I", "lo", "fd00::/64"],
            "holds 18446744073709551616 addresses; a scan asks at most 65,536",
        ),
        (
            &["neigh", "scan", "-I", "lo", "-6"],
            "has no Ethernet address",
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

/// Every host's link-local address on `e0`, with its MAC, as the kernel
/// of its namespace holds it.
fn link_locals(segment: &Segment) -> BTreeSet<(String, String)> {
    segment
        .hosts
        .iter()
        .map(|host| {
            let text = stdout(&host.ns.run(
                "ip",
                &["-j", "-6", "addr", "show", "dev", "e0", "scope", "link"],
            ));
            let addresses: Value = serde_json::from_str(&text).unwrap();
            let local = addresses[0]["addr_info"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|a| a["local"].as_str())
                .unwrap_or_else(|| panic!("no link-local address: {text}"))
                .to_string();
            (local, host.mac.clone())
        })
        .collect()
}

/// Who `ping -6 ff02::1%p0` hears from: iputils' anchor for the echo.
fn ping_all_nodes(segment: &Segment) -> BTreeSet<String> {
    let output = segment
        .prober
        .run("ping", &["-6", "-n", "-w", "1", "-i", "0.2", "ff02::1%p0"]);
    stdout(&output)
        .lines()
        .filter_map(|line| line.split(" from ").nth(1))
        .filter_map(|rest| rest.split('%').next())
        .map(str::to_string)
        .collect()
}

fn v6_specs() -> Vec<HostSpec> {
    let v6 = |addresses: &[&str]| HostSpec {
        v6: addresses.iter().map(|a| a.to_string()).collect(),
        ..HostSpec::default()
    };
    vec![
        v6(&["fd14::10"]),
        // One host answering for two addresses.
        v6(&["fd14::11", "fd14::12"]),
        // Two hosts claiming one address (DAD off, as a misconfiguration).
        v6(&["fd14::20"]),
        v6(&["fd14::20"]),
        // Outside the CIDR: only the all-nodes echo finds it.
        v6(&["fd14:1::5"]),
        // IPv4 only, but IPv6 is on: it has a link-local address.
        HostSpec::v4("10.9.20.10"),
    ]
}

#[test]
fn ipv6_solicitations_find_each_address_and_the_all_nodes_echo_finds_every_node_ping_hears() {
    require_root!();
    let segment = Segment::new("nscan6", &v6_specs());
    let output = segment
        .prober
        .netdx(&["neigh", "scan", "-I", "p0", "fd14::/120", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = assert_schema_valid_output("neigh-scan", &output.stdout);
    assert_eq!(report["network"], "fd14::/120");
    assert_eq!(report["addresses"], 256);
    assert_eq!(report["all_nodes_echo"], true);
    let source = report["source"].as_str().unwrap();
    assert!(source.starts_with("fe80::"), "{report}");
    let hosts = report["hosts"].as_array().unwrap();
    let by = |via: &str| -> BTreeSet<(String, String)> {
        hosts
            .iter()
            .filter(|h| h["found_by"] == via)
            .map(|h| {
                (
                    h["address"].as_str().unwrap().to_string(),
                    h["mac"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let truth: BTreeSet<(String, String)> = segment
        .hosts
        .iter()
        .flat_map(|h| {
            h.spec
                .v6
                .iter()
                .filter(|a| a.starts_with("fd14::"))
                .map(|a| (a.clone(), h.mac.clone()))
        })
        .collect();
    assert_eq!(by("solicitation"), truth);
    let locals = link_locals(&segment);
    assert_eq!(by("all_nodes_echo"), locals);
    // ping hears the prober's own reply too (multicast loops back).
    let mut heard = ping_all_nodes(&segment);
    assert!(heard.remove(source), "{heard:?}");
    assert_eq!(
        locals
            .iter()
            .map(|(a, _)| a.clone())
            .collect::<BTreeSet<_>>(),
        heard,
        "ping ff02::1 hears the same nodes"
    );
    for host in hosts {
        let address = host["address"].as_str().unwrap();
        assert_eq!(host["duplicate"], address == "fd14::20", "{host}");
        assert_eq!(
            host["shared_mac"],
            address == "fd14::11" || address == "fd14::12",
            "{host}"
        );
        let rtt = host["rtt_ms"].as_f64().unwrap();
        assert!(rtt > 0.0 && rtt < 250.0, "{host}");
    }
    assert_eq!(report["duplicates"], 1);
}

#[test]
fn ipv6_without_a_cidr_asks_all_nodes_only_and_says_why() {
    require_root!();
    let segment = Segment::new("nsall6", &v6_specs()[..3]);
    let (code, report) = segment
        .prober
        .netdx_json(&["neigh", "scan", "-I", "p0", "-6"]);
    assert_eq!(code, Some(0));
    assert_eq!(report["network"], "fd14::/64");
    assert_eq!(report["addresses"], 0);
    let found: BTreeSet<(String, String)> = report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            assert_eq!(h["found_by"], "all_nodes_echo", "{h}");
            (
                h["address"].as_str().unwrap().to_string(),
                h["mac"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(found, link_locals(&segment));
    let text = stdout(&segment.prober.netdx(&["neigh", "scan", "-I", "p0", "-6"]));
    assert!(
        text.contains("fd14::/64 is too large to ask address by address"),
        "{text}"
    );
    assert!(
        text.contains("0 of 0 addresses answered, 3 more by the all-nodes echo"),
        "{text}"
    );
}
