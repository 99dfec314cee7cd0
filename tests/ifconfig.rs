//! `netdx ifconfig` against the kernel: real namespaces, real links, compared
//! with net-tools `ifconfig`, `ip -j` and sysfs at the same moment.

mod common;

use std::collections::BTreeMap;
use std::thread::sleep;
use std::time::Duration;

use common::{Netns, assert_one_line_error, netdx, stdout};
use serde_json::Value;

/// A namespace with a veth pair: `va` up and addressed, `vb` down.
fn host_with_veth(tag: &str) -> Netns {
    let ns = Netns::new(tag);
    // Keep IPv6 autoconfiguration quiet so counters settle quickly.
    ns.sysctl("net.ipv6.conf.default.router_solicitations=0");
    ns.sysctl("net.ipv6.conf.default.accept_ra=0");
    ns.add_veth("va", "vb");
    ns.link("va")
        .mtu(1400)
        .mac("02:00:00:77:00:01")
        .txqueuelen(321)
        .addr4("10.77.0.1/24")
        .addr6("fd77::1/64")
        .up();
    ns.link("vb").mac("02:00:00:77:00:02");
    ns
}

fn json(output: &std::process::Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        common::stderr(output)
    );
    // Every document read here is also held to docs/schema/ifconfig.json.
    common::assert_schema_valid_output("ifconfig", &output.stdout)
}

fn find<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array()
        .expect("an array of interfaces")
        .iter()
        .find(|iface| iface["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing from {list}"))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|iface| iface["name"].as_str().unwrap().to_string())
        .collect()
}

/// Runs `reference`, then netdx, then `reference` again until the reference
/// reads the same both times (no packet moved in between) and returns that
/// reading with netdx's. Counters can only be compared at one moment.
fn settled<T: PartialEq + std::fmt::Debug>(
    mut reference: impl FnMut() -> T,
    mut ours: impl FnMut() -> T,
) -> (T, T) {
    for _ in 0..40 {
        let before = reference();
        let netdx = ours();
        let after = reference();
        if before == after {
            return (before, netdx);
        }
        sleep(Duration::from_millis(250));
    }
    panic!("the reference never settled: interface counters kept moving");
}

/// Splits ifconfig-style text into blocks keyed by interface name, each a
/// sorted list of lines (ifconfig orders IPv6 addresses by hash bucket,
/// netdx in kernel order, so order within a block is not compared).
fn blocks(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    for block in text.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let name = block.split(':').next().unwrap().trim().to_string();
        let mut lines: Vec<String> = block.lines().map(|l| l.trim_end().to_string()).collect();
        lines.sort();
        map.insert(name, lines);
    }
    map
}

#[test]
fn classic_view_matches_net_tools_ifconfig_in_a_namespace() {
    require_root!();
    let ns = host_with_veth("classic");
    for args in [&["-a"][..], &[][..], &["va"][..], &["vb"][..]] {
        let (reference, ours) = settled(
            || blocks(&stdout(&ns.run("ifconfig", args))),
            || blocks(&stdout(&ns.netdx(&[&["ifconfig"], args].concat()))),
        );
        assert!(!reference.is_empty());
        assert_eq!(
            ours, reference,
            "netdx ifconfig {args:?} differs from ifconfig"
        );
    }
}

#[test]
fn classic_view_matches_net_tools_ifconfig_on_this_machine() {
    let (reference, ours) = settled(
        || {
            blocks(&stdout(
                &std::process::Command::new("ifconfig")
                    .arg("-a")
                    .output()
                    .expect("net-tools ifconfig is installed (see .ci/run)"),
            ))
        },
        || blocks(&stdout(&netdx(&["ifconfig", "-a"]))),
    );
    // ifconfig shows one IPv4 address per interface; compare interfaces that have at most one.
    for (name, lines) in &reference {
        let ipv4 = lines
            .iter()
            .filter(|l| l.trim_start().starts_with("inet "))
            .count();
        if ipv4 <= 1 && !name.contains(':') {
            assert_eq!(ours.get(name), Some(lines), "block for {name}");
        }
    }
}

/// Checks one netdx interface against the matching entry of `ip -j -s -s addr`.
fn assert_agrees_with_ip(ours: &Value, ip: &Value) {
    let name = ip["ifname"].as_str().unwrap();
    assert_eq!(ours["index"], ip["ifindex"], "{name} index");
    assert_eq!(ours["mtu"], ip["mtu"], "{name} mtu");
    assert_eq!(ours["txqueuelen"], ip["txqlen"], "{name} txqueuelen");
    assert_eq!(ours["operstate"], ip["operstate"], "{name} operstate");
    assert_eq!(ours["link_type"], ip["link_type"], "{name} link_type");
    if ip.get("address").is_some() {
        assert_eq!(ours["mac"], ip["address"], "{name} mac");
    }

    // ip prints the flag word minus RUNNING, plus the rtnetlink-only bits.
    let rtnl_only = [
        "LOWER_UP",
        "DORMANT",
        "ECHO",
        "NO-CARRIER",
        "M-DOWN",
        "PORTSEL",
        "AUTOMEDIA",
    ];
    let mut ip_flags: Vec<&str> = ip["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .filter(|f| !rtnl_only.contains(f))
        .collect();
    let mut our_flags: Vec<&str> = ours["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .filter(|f| *f != "RUNNING")
        .collect();
    ip_flags.sort();
    our_flags.sort();
    assert_eq!(our_flags, ip_flags, "{name} flags");
    // The kernel sets RUNNING exactly when the link is up and operationally up (or unknown).
    let up = our_flags.contains(&"UP");
    let oper_up = matches!(ip["operstate"].as_str(), Some("UP" | "UNKNOWN"));
    let running = ours["flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "RUNNING");
    assert_eq!(running, up && oper_up, "{name} RUNNING");
    let bits = ours["flags_value"].as_u64().unwrap();
    assert_eq!(bits & 1 != 0, up, "{name} flags_value UP bit");
    assert_eq!(bits & 0x40 != 0, running, "{name} flags_value RUNNING bit");

    let ip_addrs = ip["addr_info"].as_array().unwrap();
    let our_addrs = ours["addresses"].as_array().unwrap();
    assert_eq!(our_addrs.len(), ip_addrs.len(), "{name} address count");
    for (a, b) in our_addrs.iter().zip(ip_addrs) {
        assert_eq!(a["family"], b["family"], "{name} family");
        assert_eq!(a["address"], b["local"], "{name} address");
        assert_eq!(a["prefix_len"], b["prefixlen"], "{name} prefix");
        assert_eq!(a["scope"], b["scope"], "{name} scope");
        assert_eq!(
            a["broadcast"],
            b.get("broadcast").cloned().unwrap_or(Value::Null),
            "{name} broadcast"
        );
        assert_eq!(
            a["peer"],
            b.get("address").cloned().unwrap_or(Value::Null),
            "{name} peer"
        );
        if b["family"] == "inet" {
            let label = a["label"].as_str().unwrap_or(name);
            assert_eq!(Some(label), b["label"].as_str(), "{name} label");
            let prefix = a["prefix_len"].as_u64().unwrap() as u32;
            let mask = std::net::Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix).unwrap_or(0));
            assert_eq!(a["netmask"], mask.to_string(), "{name} netmask");
        } else {
            assert!(a["netmask"].is_null(), "{name} inet6 has no netmask");
        }
    }
}

/// Checks netdx's counters against `ip -s -s` at a moment both agree on.
fn assert_counters_agree(ours: &Value, ip: &Value) {
    let name = ip["ifname"].as_str().unwrap();
    let rx = &ip["stats64"]["rx"];
    let tx = &ip["stats64"]["tx"];
    let n = |v: &Value| v.as_u64().unwrap();
    let s = &ours["stats"];
    let expected = [
        ("rx_packets", n(&rx["packets"])),
        ("rx_bytes", n(&rx["bytes"])),
        ("rx_errors", n(&rx["errors"])),
        ("rx_dropped", n(&rx["dropped"]) + n(&rx["missed_errors"])),
        ("rx_overruns", n(&rx["fifo_errors"])),
        (
            "rx_frame",
            n(&rx["length_errors"])
                + n(&rx["over_errors"])
                + n(&rx["crc_errors"])
                + n(&rx["frame_errors"]),
        ),
        ("tx_packets", n(&tx["packets"])),
        ("tx_bytes", n(&tx["bytes"])),
        ("tx_errors", n(&tx["errors"])),
        ("tx_dropped", n(&tx["dropped"])),
        ("tx_overruns", n(&tx["fifo_errors"])),
        (
            "tx_carrier",
            n(&tx["carrier_errors"])
                + n(&tx["aborted_errors"])
                + n(&tx["window_errors"])
                + n(&tx["heartbeat_errors"]),
        ),
        ("collisions", n(&tx["collisions"])),
    ];
    for (field, value) in expected {
        assert_eq!(s[field].as_u64(), Some(value), "{name} stats.{field}");
    }
}

fn agree_with_ip(run_ip: impl Fn() -> Value, run_netdx: impl Fn() -> Value) {
    let (ip, ours) = settled(&run_ip, &run_netdx);
    let ip_list = ip.as_array().unwrap();
    assert_eq!(
        ours.as_array().unwrap().len(),
        ip_list.len(),
        "same interfaces as ip: {:?}",
        names(&ours)
    );
    for entry in ip_list {
        let iface = find(&ours, entry["ifname"].as_str().unwrap());
        assert_agrees_with_ip(iface, entry);
        assert_counters_agree(iface, entry);
    }
}

#[test]
fn json_agrees_field_by_field_with_ip_in_a_namespace() {
    require_root!();
    let ns = host_with_veth("ipjson");
    ns.link("va").addr4("10.78.0.1/16");
    agree_with_ip(
        || serde_json::from_str(&ns.ip(&["-j", "-s", "-s", "addr"])).unwrap(),
        || json(&ns.netdx(&["ifconfig", "-a", "--json"])),
    );
}

#[test]
fn json_agrees_field_by_field_with_ip_on_this_machine() {
    agree_with_ip(
        || {
            let out = std::process::Command::new("ip")
                .args(["-j", "-s", "-s", "addr"])
                .output()
                .expect("iproute2 is installed");
            serde_json::from_slice(&out.stdout).unwrap()
        },
        || json(&netdx(&["ifconfig", "-a", "--json"])),
    );
}

#[test]
fn fixture_interface_shows_exactly_the_configured_facts() {
    require_root!();
    let ns = host_with_veth("facts");
    ns.link("vb").up();
    let list = json(&ns.netdx(&["ifconfig", "--json"]));
    let va = find(&list, "va");
    assert_eq!(va["mtu"], 1400);
    assert_eq!(va["mac"], "02:00:00:77:00:01");
    assert_eq!(va["txqueuelen"], 321);
    assert_eq!(va["link_type"], "ether");
    assert_eq!(
        va["flags"],
        serde_json::json!(["UP", "BROADCAST", "RUNNING", "MULTICAST"])
    );
    assert_eq!(va["flags_value"], 4163);
    let addrs = va["addresses"].as_array().unwrap();
    let v4 = addrs.iter().find(|a| a["family"] == "inet").unwrap();
    assert_eq!(v4["address"], "10.77.0.1");
    assert_eq!(v4["prefix_len"], 24);
    assert_eq!(v4["netmask"], "255.255.255.0");
    assert_eq!(v4["broadcast"], "10.77.0.255");
    assert_eq!(v4["scope"], "global");
    let v6: Vec<&Value> = addrs.iter().filter(|a| a["family"] == "inet6").collect();
    assert!(
        v6.iter()
            .any(|a| a["address"] == "fd77::1" && a["prefix_len"] == 64 && a["scope"] == "global")
    );
    assert!(
        v6.iter()
            .any(|a| a["address"].as_str().unwrap().starts_with("fe80::") && a["scope"] == "link")
    );

    let text = stdout(&ns.netdx(&["ifconfig", "va"]));
    assert!(
        text.starts_with("va: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1400\n"),
        "{text}"
    );
    assert!(
        text.contains("\n        inet 10.77.0.1  netmask 255.255.255.0  broadcast 10.77.0.255\n"),
        "{text}"
    );
    assert!(
        text.contains("\n        inet6 fd77::1  prefixlen 64  scopeid 0x0<global>\n"),
        "{text}"
    );
    assert!(text.contains("  scopeid 0x20<link>\n"), "{text}");
    assert!(
        text.contains("\n        ether 02:00:00:77:00:01  txqueuelen 321  (Ethernet)\n"),
        "{text}"
    );
}

#[test]
fn down_interface_is_listed_only_with_all_or_by_name() {
    require_root!();
    let ns = host_with_veth("down");
    let up_only = names(&json(&ns.netdx(&["ifconfig", "--json"])));
    assert_eq!(up_only, ["lo", "va"]);
    let all = names(&json(&ns.netdx(&["ifconfig", "-a", "--json"])));
    assert_eq!(all, ["lo", "va", "vb"]);
    let named = json(&ns.netdx(&["ifconfig", "vb", "--json"]));
    assert_eq!(names(&named), ["vb"]);
    assert_eq!(
        named[0]["flags"],
        serde_json::json!(["BROADCAST", "MULTICAST"])
    );
    assert_eq!(named[0]["operstate"], "DOWN");
    let text = stdout(&ns.netdx(&["ifconfig"]));
    assert!(
        !text.contains("vb:"),
        "a down interface is hidden without -a: {text}"
    );
    assert!(
        stdout(&ns.netdx(&["ifconfig", "-a"]))
            .contains("vb: flags=4098<BROADCAST,MULTICAST>  mtu 1500")
    );
}

#[test]
fn interface_without_carrier_is_up_but_not_running() {
    require_root!();
    let ns = host_with_veth("carrier");
    let va = json(&ns.netdx(&["ifconfig", "va", "--json"]));
    assert_eq!(
        va[0]["flags"],
        serde_json::json!(["UP", "BROADCAST", "MULTICAST"])
    );
    assert_eq!(va[0]["operstate"], "LOWERLAYERDOWN");
    ns.link("vb").up();
    // The carrier comes up a moment after the peer does: poll for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let va = loop {
        let va = json(&ns.netdx(&["ifconfig", "va", "--json"]));
        if va[0]["operstate"] == "UP" || std::time::Instant::now() > deadline {
            break va;
        }
        sleep(Duration::from_millis(10));
    };
    assert_eq!(
        va[0]["flags"],
        serde_json::json!(["UP", "BROADCAST", "RUNNING", "MULTICAST"])
    );
    assert_eq!(va[0]["operstate"], "UP");
}

/// Sends `count` Ethernet frames of an ethertype nobody handles from `from` to its peer.
fn send_unclaimed_frames(ns: &Netns, from: &str, count: usize) {
    let script = format!(
        "import socket\n\
         s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n\
         s.bind(('{from}', 0))\n\
         frame = b'\\xff' * 6 + b'\\x02\\x00\\x00\\x77\\x00\\x02' + b'\\x88\\xb5' + b'netdx' * 10\n\
         for _ in range({count}): s.send(frame)\n"
    );
    let out = ns.run("python3", &["-c", &script]);
    assert!(
        out.status.success(),
        "python3 frame sender: {}",
        common::stderr(&out)
    );
}

#[test]
fn counters_equal_sysfs_including_dropped_frames() {
    require_root!();
    let ns = host_with_veth("counters");
    ns.link("vb").up();
    send_unclaimed_frames(&ns, "vb", 25);
    let sysfs = |counter: &str| -> u64 {
        ns.read(&format!("/sys/class/net/va/statistics/{counter}"))
            .trim()
            .parse()
            .unwrap()
    };
    let (reference, ours) = settled(
        || {
            (
                sysfs("rx_packets"),
                sysfs("rx_bytes"),
                sysfs("rx_dropped"),
                sysfs("tx_packets"),
                sysfs("tx_bytes"),
            )
        },
        || {
            let va = json(&ns.netdx(&["ifconfig", "va", "--json"]));
            let s = &va[0]["stats"];
            let n = |k: &str| s[k].as_u64().unwrap();
            (
                n("rx_packets"),
                n("rx_bytes"),
                n("rx_dropped"),
                n("tx_packets"),
                n("tx_bytes"),
            )
        },
    );
    assert_eq!(ours, reference);
    // Frames of an unhandled ethertype are counted as dropped on receive.
    assert!(
        ours.2 >= 25,
        "rx_dropped {} should count the 25 unclaimed frames",
        ours.2
    );
    assert!(ours.0 >= 25);
}

#[test]
fn point_to_point_peer_is_reported_as_destination() {
    require_root!();
    let ns = host_with_veth("p2p");
    ns.link("va").addr4_peer("10.99.0.1", "10.99.0.2/32");
    let va = json(&ns.netdx(&["ifconfig", "va", "--json"]));
    let addr = va[0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "10.99.0.1")
        .expect("the p2p address");
    assert_eq!(addr["peer"], "10.99.0.2");
    assert_eq!(addr["prefix_len"], 32);
    let text = stdout(&ns.netdx(&["ifconfig", "va"]));
    assert!(
        text.contains("inet 10.99.0.1  netmask 255.255.255.255  destination 10.99.0.2\n"),
        "{text}"
    );
}

#[test]
fn secondary_and_labelled_addresses_are_all_listed() {
    require_root!();
    let ns = host_with_veth("alias");
    ns.ip(&["addr", "add", "10.77.0.9/24", "dev", "va", "label", "va:9"]);
    let va = json(&ns.netdx(&["ifconfig", "va", "--json"]));
    let v4: Vec<&Value> = va[0]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["family"] == "inet")
        .collect();
    assert_eq!(v4.len(), 2);
    assert_eq!(v4[0]["address"], "10.77.0.1");
    assert!(v4[0]["label"].is_null());
    assert_eq!(v4[1]["address"], "10.77.0.9");
    assert_eq!(v4[1]["label"], "va:9");
}

/// Parses an `ifconfig -s`-style table (piped, so borderless) into name → numbers + flags.
fn short_rows(text: &str) -> BTreeMap<String, Vec<String>> {
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<String> = line.split_whitespace().map(String::from).collect();
            (cols[0].clone(), cols[1..].to_vec())
        })
        .collect()
}

#[test]
fn short_table_rows_match_ifconfig_s() {
    require_root!();
    let ns = host_with_veth("short");
    let header = stdout(&ns.netdx(&["ifconfig", "-s", "-a"]));
    let first: Vec<&str> = header.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        first,
        [
            "Iface", "MTU", "RX-OK", "RX-ERR", "RX-DRP", "RX-OVR", "TX-OK", "TX-ERR", "TX-DRP",
            "TX-OVR", "Flg"
        ]
    );
    for args in [&["-s", "-a"][..], &["-s"][..]] {
        let (reference, ours) = settled(
            || short_rows(&stdout(&ns.run("ifconfig", args))),
            || short_rows(&stdout(&ns.netdx(&[&["ifconfig"], args].concat()))),
        );
        assert_eq!(ours, reference, "ifconfig {args:?}");
    }
}

#[test]
fn unknown_interface_exits_2_with_the_message() {
    let out = netdx(&["ifconfig", "nosuch0"]);
    assert_one_line_error(&out, "interface 'nosuch0' not found");
}

#[test]
fn invalid_interface_name_exits_2_before_asking_the_kernel() {
    assert_one_line_error(
        &netdx(&["ifconfig", "this-name-is-far-too-long"]),
        "interface name",
    );
    assert_one_line_error(&netdx(&["ifconfig", "a/b"]), "not a valid interface name");
}

#[test]
fn json_fields_are_present_and_typed() {
    let list = json(&netdx(&["ifconfig", "lo", "--json"]));
    let lo = &list[0];
    for key in ["name", "operstate", "link_type", "mac"] {
        assert!(lo[key].is_string(), "{key} is a string");
    }
    for key in ["index", "flags_value", "mtu", "txqueuelen"] {
        assert!(lo[key].is_u64(), "{key} is a number");
    }
    assert!(lo["flags"].as_array().unwrap().iter().all(Value::is_string));
    for addr in lo["addresses"].as_array().unwrap() {
        for key in ["family", "address", "scope"] {
            assert!(addr[key].is_string(), "address.{key}");
        }
        assert!(addr["prefix_len"].is_u64());
        for key in ["netmask", "broadcast", "peer", "label"] {
            assert!(
                addr[key].is_string() || addr[key].is_null(),
                "address.{key}"
            );
        }
    }
    let stats = lo["stats"].as_object().unwrap();
    assert_eq!(stats.len(), 13);
    assert!(stats.values().all(Value::is_u64));
}

#[test]
fn an_interface_name_with_escapes_or_a_bidi_override_is_shown_escaped() {
    require_root!();
    let ns = Netns::new("hostile");
    // Linux refuses '/', ':' and white space in a link name, but not ESC or
    // a right-to-left override.
    let name = "d\x1b[2J\u{202e}";
    ns.ip(&[
        "link", "add", "name", name, "type", "veth", "peer", "name", "hpeer",
    ]);
    let shown = "d\\x1b[2J\\u{202e}";
    for args in [
        &["ifconfig", "-a"][..],
        &["ifconfig", "-s", "-a"],
        &["ifconfig", name],
    ] {
        let text = stdout(&ns.netdx(args));
        assert!(text.contains(shown), "{args:?}: {text:?}");
        assert!(
            !text.contains('\x1b') && !text.contains('\u{202e}'),
            "{args:?}: raw escapes in {text:?}"
        );
    }
    // JSON keeps the name as the kernel has it.
    let json = json(&ns.netdx(&["ifconfig", "-a", "--json"]));
    assert!(names(&json).iter().any(|n| n == name), "{json}");
}
