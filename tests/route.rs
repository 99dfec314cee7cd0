//! `netdx route get` against `ip -j route get`, in a routed namespace chain:
//! the same route, gateway, interface, source and MTU for every kind of
//! destination, and the next hop's MAC from the neighbour table.

mod common;

use common::schema::assert_schema_valid_output;
use common::{Chain, assert_one_line_error};
use serde_json::Value;

/// `ip -j route get WORDS` in `ns`, as one object.
fn ip_route_get(ns: &common::Netns, words: &[&str]) -> Value {
    let mut args = vec!["-j", "route", "get"];
    args.extend_from_slice(words);
    let output = ns.run("ip", &args);
    assert!(output.status.success(), "ip {args:?}: {output:?}");
    let list: Value = serde_json::from_slice(&output.stdout).unwrap();
    list[0].clone()
}

/// `netdx route get WORDS --json` in `ns`, checked against its schema.
fn netdx_route_get(ns: &common::Netns, words: &[&str]) -> Value {
    let mut args = vec!["route", "get"];
    args.extend_from_slice(words);
    args.push("--json");
    let output = ns.netdx(&args);
    assert_eq!(output.status.code(), Some(0), "netdx {args:?}: {output:?}");
    assert_schema_valid_output("route-get", &output.stdout)
}

/// Every fact `ip -j route get` states, compared with netdx's.
fn assert_same_route(ns: &common::Netns, words: &[&str]) -> Value {
    let ip = ip_route_get(ns, words);
    let ours = netdx_route_get(ns, words);
    let context = format!("route get {words:?}\nip: {ip}\nnetdx: {ours}");
    assert_eq!(ours["destination"], ip["dst"], "{context}");
    let kind = ip["type"].as_str().unwrap_or("unicast");
    assert_eq!(ours["type"], kind, "{context}");
    assert_eq!(
        ours["gateway"],
        ip.get("gateway").cloned().unwrap_or(Value::Null),
        "{context}"
    );
    assert_eq!(ours["interface"], ip["dev"], "{context}");
    assert_eq!(
        ours["source"],
        ip.get("prefsrc").cloned().unwrap_or(Value::Null),
        "{context}"
    );
    assert_eq!(
        ours["uid"],
        ip.get("uid").cloned().unwrap_or(Value::Null),
        "{context}"
    );
    assert_eq!(
        ours["mark"],
        ip.get("mark").cloned().unwrap_or(Value::Null),
        "{context}"
    );
    assert_eq!(
        ours["iif"],
        ip.get("iif").cloned().unwrap_or(Value::Null),
        "{context}"
    );
    let mtu = ip["metrics"]
        .as_array()
        .and_then(|m| m.iter().find_map(|x| x.get("mtu").cloned()))
        .unwrap_or(Value::Null);
    assert_eq!(ours["route_mtu"], mtu, "{context}");
    ours
}

fn mac_of(ns: &common::Netns, device: &str) -> String {
    let output = ns.run("ip", &["-j", "link", "show", device]);
    let list: Value = serde_json::from_slice(&output.stdout).unwrap();
    list[0]["address"].as_str().unwrap().to_string()
}

#[test]
fn route_get_states_what_ip_route_get_states_for_every_kind_of_destination() {
    require_root!();
    let chain = Chain::new("rtget");
    let client = &chain.client;
    client.ip(&[
        "route",
        "add",
        "10.9.77.0/24",
        "via",
        Chain::ROUTER_A,
        "mtu",
        "1300",
    ]);
    client.ip(&["rule", "add", "fwmark", "7", "table", "100"]);
    client.ip(&["route", "add", "10.9.12.0/24", "dev", "c0", "table", "100"]);
    for words in [
        &[Chain::TARGET][..],
        &[Chain::ROUTER_A],
        &["10.9.77.5"],
        &["10.9.10.1"],
        &["10.9.10.255"],
        &["127.0.0.1"],
        &[Chain::TARGET, "from", "10.9.10.1"],
        &[Chain::TARGET, "mark", "7"],
        &[Chain::TARGET_V6],
        &[Chain::ROUTER_A_V6],
        &["fe80::1", "oif", "c0"],
    ] {
        assert_same_route(client, words);
    }
    // The policy rule sends marked packets on the link, without the gateway.
    let marked = netdx_route_get(client, &[Chain::TARGET, "mark", "7"]);
    assert_eq!(marked["gateway"], Value::Null);
    assert_eq!(marked["table"], 100);
    // A forwarded packet, asked of the router it crosses.
    let forwarded = assert_same_route(
        &chain.router_a,
        &[Chain::TARGET, "from", "10.9.10.1", "iif", "a0"],
    );
    assert_eq!(forwarded["gateway"], Chain::ROUTER_B);
    // MTU: the route's where it has one, else the interface's.
    let through = netdx_route_get(client, &["10.9.77.5"]);
    assert_eq!(through["mtu"], 1300);
    client.ip(&["link", "set", "c0", "mtu", "1400"]);
    assert_eq!(netdx_route_get(client, &[Chain::TARGET])["mtu"], 1400);
}

#[test]
fn the_next_hops_mac_comes_from_the_neighbour_table_once_resolved() {
    require_root!();
    let chain = Chain::new("rtnh");
    let client = &chain.client;
    let before = netdx_route_get(client, &[Chain::TARGET]);
    assert_eq!(before["next_hop"], Value::Null, "{before}");
    let text = client.netdx(&["route", "get", Chain::TARGET]);
    assert!(
        common::stdout(&text).contains("next hop 10.9.10.2 is not in the neighbour table yet"),
        "{text:?}"
    );
    client.sh(&format!("ping -c 1 -W 2 {} >/dev/null", Chain::ROUTER_A));
    let after = netdx_route_get(client, &[Chain::TARGET]);
    assert_eq!(after["next_hop"]["address"], Chain::ROUTER_A);
    assert_eq!(after["next_hop"]["mac"], mac_of(&chain.router_a, "a0"));
    assert_eq!(after["next_hop"]["state"], serde_json::json!(["REACHABLE"]));
    let text = common::stdout(&client.netdx(&["route", "get", Chain::TARGET]));
    assert!(
        text.starts_with(&format!(
            "{} via {} dev c0 src 10.9.10.1 uid 0\n",
            Chain::TARGET,
            Chain::ROUTER_A
        )),
        "{text}"
    );
    assert!(text.contains(&mac_of(&chain.router_a, "a0")), "{text}");
}

#[test]
fn no_route_and_a_blackhole_are_one_line_errors_naming_the_remedy() {
    require_root!();
    let chain = Chain::new("rtno");
    let client = &chain.client;
    client.ip(&["route", "add", "blackhole", "10.9.66.0/24"]);
    let foreign = client.netdx(&["route", "get", Chain::TARGET, "from", "10.1.1.1"]);
    assert_one_line_error(&foreign, "must be one of this host's");
    client.ip(&["route", "del", "default"]);
    let none = client.netdx(&["route", "get", "10.200.0.1"]);
    assert_eq!(none.status.code(), Some(2));
    assert_one_line_error(&none, "no route to 10.200.0.1: Network is unreachable");
    assert!(common::stderr(&none).contains("netdx netstat -r"));
    let hole = client.netdx(&["route", "get", "10.9.66.1"]);
    assert_one_line_error(&hole, "blackhole");
}

#[test]
fn bad_route_get_words_are_refused_before_asking_the_kernel() {
    for (words, expected) in [
        (&["route", "get", "example.org"][..], "not an IP address"),
        (
            &["route", "get", "10.0.0.1", "from"],
            "'from' needs a value",
        ),
        (
            &["route", "get", "10.0.0.1", "via", "10.0.0.2"],
            "unexpected 'via'",
        ),
        (&["route", "get", "10.0.0.1", "mark", "x"], "mark 'x'"),
        (
            &["route", "get", "10.0.0.1", "from", "::1"],
            "not of the same family",
        ),
        (
            &["route", "get", "10.0.0.1", "iif", "nosuchif0"],
            "interface 'nosuchif0' not found",
        ),
    ] {
        let output = common::netdx(words);
        assert_eq!(output.status.code(), Some(2), "{words:?}");
        assert_one_line_error(&output, expected);
    }
}
