//! `netdx arping` on a bridged namespace segment, beside iputils arping:
//! the MAC each host answers with, duplicate address detection on a
//! shared and a free address, gratuitous announcements that really update
//! a neighbour's cache, and the refusals that come before any frame is sent.

mod common;

use common::schema::{assert_schema_valid, assert_schema_valid_output};
use common::segment::{HostSpec, PROBER_V4, Segment};
use common::{assert_one_line_error, json_lines, stdout};
use serde_json::Value;

fn segment(tag: &str) -> Segment {
    Segment::new(
        tag,
        &[
            HostSpec::v4("10.9.20.10"),
            HostSpec::v4("10.9.20.11"),
            HostSpec::v4("10.9.20.100"),
            HostSpec::v4("10.9.20.100"),
        ],
    )
}

fn arping_json(segment: &Segment, args: &[&str]) -> (Option<i32>, Value) {
    let mut full = vec!["arping", "--json"];
    full.extend_from_slice(args);
    let output = segment.prober.netdx(&full);
    let document = assert_schema_valid_output("arping", &output.stdout);
    (output.status.code(), document)
}

#[test]
fn each_host_answers_with_its_own_mac_as_iputils_arping_sees_it() {
    require_root!();
    let segment = segment("arpmac");
    for host in &segment.hosts[..2] {
        let address = host.spec.v4[0].as_str();
        let (code, report) = arping_json(&segment, &["-c", "2", "-i", "0.2", address]);
        assert_eq!(code, Some(0), "{report}");
        assert_eq!(report["interface"], "p0");
        assert_eq!(report["source"], PROBER_V4);
        assert_eq!(
            (report["sent"].as_u64(), report["received"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(
            report["broadcasts"], 1,
            "unicast after the first reply, as iputils"
        );
        assert_eq!(report["responders"][0]["mac"], host.mac.as_str());
        assert_eq!(report["duplicate"], false);
        for reply in report["replies"].as_array().unwrap() {
            let rtt = reply["rtt_ms"].as_f64().unwrap();
            assert!(rtt > 0.0 && rtt < 100.0, "{rtt}");
        }
        let iputils = stdout(
            &segment
                .prober
                .run("arping", &["-c", "1", "-I", "p0", address]),
        );
        assert!(
            iputils.contains(&format!("[{}]", host.mac.to_uppercase())),
            "iputils: {iputils}"
        );
        // The text is iputils' lines.
        let text = stdout(&segment.prober.netdx(&["arping", "-c", "1", address]));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("ARPING {address} from {PROBER_V4} p0"));
        assert!(
            lines[1].starts_with(&format!(
                "Unicast reply from {address} [{}]  ",
                host.mac.to_uppercase()
            )),
            "{text}"
        );
        assert!(lines[1].ends_with("ms"), "{text}");
        assert_eq!(
            &lines[2..],
            ["Sent 1 probes (1 broadcast(s))", "Received 1 response(s)"]
        );
    }
}

#[test]
fn silence_prints_iputils_counts_and_exits_1() {
    require_root!();
    let segment = segment("arpnone");
    let output = segment
        .prober
        .netdx(&["arping", "-c", "2", "-i", "0.2", "10.9.20.77"]);
    assert_eq!(output.status.code(), Some(1));
    let iputils = segment
        .prober
        .run("arping", &["-c", "2", "-I", "p0", "10.9.20.77"]);
    assert_eq!(iputils.status.code(), Some(1));
    let ours: Vec<String> = stdout(&output).lines().map(String::from).collect();
    let theirs: Vec<String> = stdout(&iputils).lines().map(String::from).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn duplicate_address_detection_names_the_holders_of_a_shared_address() {
    require_root!();
    let segment = segment("arpdad");
    let holders: Vec<&str> = segment.hosts[2..].iter().map(|h| h.mac.as_str()).collect();
    let (code, report) = arping_json(&segment, &["-D", "-c", "2", "-i", "0.2", "10.9.20.100"]);
    assert_eq!(code, Some(1), "taken: {report}");
    assert_eq!(report["source"], "0.0.0.0");
    let named = report["responders"][0]["mac"].as_str().unwrap();
    assert!(
        holders.contains(&named),
        "{named} is not one of {holders:?}"
    );
    let text =
        stdout(
            &segment
                .prober
                .netdx(&["arping", "-D", "-c", "2", "-i", "0.2", "10.9.20.100"]),
        );
    assert!(
        text.contains("10.9.20.100 is in use by 02:14:00:00:00:0"),
        "{text}"
    );
    // Broadcasting every time, both holders answer: a duplicate.
    let (code, report) = arping_json(&segment, &["-b", "-c", "2", "-i", "0.2", "10.9.20.100"]);
    assert_eq!(code, Some(0));
    assert_eq!(report["duplicate"], true, "{report}");
    let mut macs: Vec<&str> = report["responders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mac"].as_str().unwrap())
        .collect();
    macs.sort();
    assert_eq!(macs, holders);
    // A free address.
    let (code, report) = arping_json(&segment, &["-D", "-c", "2", "-i", "0.2", "10.9.20.200"]);
    assert_eq!(code, Some(0), "free: {report}");
    assert_eq!(report["received"], 0);
}

#[test]
fn a_gratuitous_announcement_updates_the_neighbours_cache() {
    require_root!();
    let segment = segment("arpann");
    let host = &segment.hosts[0];
    for flag in ["-U", "-A"] {
        host.ns.ip(&[
            "neigh",
            "replace",
            PROBER_V4,
            "lladdr",
            "02:00:00:00:99:99",
            "dev",
            "e0",
            "nud",
            "stale",
        ]);
        let (code, report) = arping_json(&segment, &[flag, "-c", "1", PROBER_V4]);
        assert_eq!(code, Some(0), "{flag}: {report}");
        assert_eq!(report["sent"], 1);
        let table: Value =
            serde_json::from_str(&host.ns.ip(&["-j", "neigh", "show", PROBER_V4])).unwrap();
        assert_eq!(table[0]["lladdr"], "02:14:ff:ff:ff:01", "{flag}: {table}");
    }
}

#[test]
fn the_stream_is_start_replies_and_done() {
    require_root!();
    let segment = segment("arpstr");
    let output = segment.prober.netdx(&[
        "arping",
        "--json-stream",
        "-c",
        "2",
        "-i",
        "0.2",
        "10.9.20.10",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let lines = json_lines(&output.stdout);
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["start", "reply", "reply", "done"]);
    for line in &lines {
        assert_schema_valid("arping.stream", line);
    }
}

#[test]
fn off_link_and_unusable_targets_are_refused_before_any_frame_leaves() {
    require_root!();
    let segment = segment("arpoff");
    segment
        .prober
        .ip(&["route", "add", "10.9.99.0/24", "via", "10.9.20.10"]);
    let off = segment.prober.netdx(&["arping", "-c", "1", "10.9.99.5"]);
    assert_one_line_error(
        &off,
        "10.9.99.5 is not on a link of this host: the kernel routes it via 10.9.20.10 dev p0",
    );
    let lo = segment
        .prober
        .netdx(&["arping", "-c", "1", "-I", "lo", "127.0.0.1"]);
    assert_one_line_error(&lo, "has no Ethernet address");
    let none = segment.prober.netdx(&["arping", "-c", "1", "10.200.0.1"]);
    assert_one_line_error(&none, "name one with -I IFACE");
}

#[test]
fn bad_arping_arguments_are_one_line_and_exit_2() {
    for (args, expected) in [
        (&["arping", "::1"][..], "ARP is IPv4's"),
        (&["arping", "-c", "0", "10.0.0.1"], "-c"),
        (&["arping", "-D", "-U", "10.0.0.1"], "cannot be used with"),
        (
            &["arping", "-I", "nosuchif0", "10.0.0.1"],
            "interface 'nosuchif0' not found",
        ),
    ] {
        let output = common::netdx(args);
        assert_one_line_error(&output, expected);
    }
}

#[test]
fn without_cap_net_raw_the_error_names_the_remedy() {
    require_root!();
    let segment = segment("arpcap");
    let output = segment.prober.run(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            common::netdx_bin(),
            "arping",
            "-c",
            "1",
            "10.9.20.10",
        ],
    );
    assert_one_line_error(&output, "CAP_NET_RAW");
    assert!(common::stderr(&output).contains("setcap cap_net_raw+ep"));
}
