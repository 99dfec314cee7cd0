//! `netdx neigh` against `ip -j neigh` in namespaces: the same entries,
//! MACs, states and router flags at the same moment, with ip neigh's
//! filters (-4/-6, dev, nud).

mod common;

use std::time::{Duration, Instant};

use common::schema::assert_schema_valid_output;
use common::{Pair, assert_one_line_error};
use serde_json::Value;

/// One entry as both tools can state it: address, interface, MAC, states, router.
type Entry = (String, String, Option<String>, Vec<String>, bool);

/// `ip -j neigh show dev X` leaves `dev` out of each entry: `filtered_dev` is X.
fn from_ip(list: &Value, filtered_dev: Option<&str>) -> Vec<Entry> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["dst"].as_str().unwrap().to_string(),
                e["dev"].as_str().or(filtered_dev).unwrap().to_string(),
                e["lladdr"].as_str().map(String::from),
                e["state"]
                    .as_array()
                    .map(|s| s.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
                e.get("router").is_some(),
            )
        })
        .collect()
}

fn from_netdx(list: &Value) -> Vec<Entry> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["address"].as_str().unwrap().to_string(),
                e["interface"].as_str().unwrap().to_string(),
                e["mac"].as_str().map(String::from),
                e["state"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect(),
                e["router"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn ip_neigh(ns: &common::Netns, filter: &[&str]) -> Vec<Entry> {
    let mut args = vec!["-j"];
    args.extend_from_slice(
        filter
            .iter()
            .take_while(|a| **a != "--")
            .copied()
            .collect::<Vec<_>>()
            .as_slice(),
    );
    args.extend(["neigh", "show"]);
    args.extend(filter.iter().skip_while(|a| **a != "--").skip(1).copied());
    let output = ns.run("ip", &args);
    assert!(output.status.success(), "ip {args:?}: {output:?}");
    let dev = filter.windows(2).find(|w| w[0] == "dev").map(|w| w[1]);
    from_ip(&serde_json::from_slice(&output.stdout).unwrap(), dev)
}

/// Asserts that `netdx neigh ARGS --json` equals `ip -j [IP_OPTS] neigh
/// [IP_FILTER]` at one moment: ip is asked before and after netdx, and the
/// comparison is made when both of ip's answers agree (an entry changing
/// state in between is asked again).
fn assert_same_table(ns: &common::Netns, netdx_args: &[&str], ip_args: &[&str]) -> Vec<Entry> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let before = ip_neigh(ns, ip_args);
        let mut args = vec!["neigh", "--json"];
        args.extend_from_slice(netdx_args);
        let output = ns.netdx(&args);
        let code = output.status.code();
        let document = assert_schema_valid_output("neigh", &output.stdout);
        let after = ip_neigh(ns, ip_args);
        if before == after {
            assert_eq!(
                from_netdx(&document),
                before,
                "netdx neigh {netdx_args:?} vs ip {ip_args:?}"
            );
            assert_eq!(code, Some(if before.is_empty() { 1 } else { 0 }));
            return before;
        }
        assert!(
            Instant::now() < deadline,
            "the table never held still for one comparison"
        );
    }
}

/// `ip neigh add WORDS… dev c0` in `ns`.
fn add_entry(ns: &common::Netns, words: &[&str]) {
    let mut args = vec!["neigh", "add"];
    args.extend_from_slice(words);
    args.extend(["dev", "c0"]);
    ns.ip(&args);
}

#[test]
fn neigh_lists_what_ip_neigh_lists_with_the_same_filters() {
    require_root!();
    let pair = Pair::new("ngtab");
    let client = &pair.client;
    add_entry(client, &["10.9.0.50", "lladdr", "02:00:00:00:00:50"]);
    add_entry(
        client,
        &["10.9.0.51", "lladdr", "02:00:00:00:00:51", "nud", "stale"],
    );
    add_entry(
        client,
        &["fd09::50", "lladdr", "02:00:00:00:00:52", "router"],
    );
    add_entry(
        client,
        &["10.9.0.88", "lladdr", "02:00:00:00:00:88", "nud", "noarp"],
    );
    // A real resolution (REACHABLE) and one nobody answers (INCOMPLETE, then FAILED).
    client.sh("ping -c 1 -W 2 10.9.0.2 >/dev/null; ping -6 -c 1 -W 2 fd09::2 >/dev/null");
    client.sh("ping -c 1 -W 0.2 10.9.0.77 >/dev/null || true");

    let all = assert_same_table(client, &[], &[]);
    let addresses: Vec<&str> = all.iter().map(|e| e.0.as_str()).collect();
    for expected in [
        "10.9.0.50",
        "10.9.0.51",
        "fd09::50",
        "10.9.0.2",
        "fd09::2",
        "10.9.0.77",
    ] {
        assert!(
            addresses.contains(&expected),
            "{expected} missing from {all:?}"
        );
    }
    assert!(
        !addresses.contains(&"10.9.0.88"),
        "NOARP is hidden by default, as ip neigh hides it"
    );
    let router = all.iter().find(|e| e.0 == "fd09::50").unwrap();
    assert!(router.4, "the router flag is read");

    assert_same_table(client, &["-4"], &["-4", "--"]);
    assert_same_table(client, &["-6"], &["-6", "--"]);
    assert_same_table(client, &["-I", "c0"], &["--", "dev", "c0"]);
    assert_same_table(client, &["--state", "stale"], &["--", "nud", "stale"]);
    assert_same_table(
        client,
        &["--state", "permanent", "--state", "STALE"],
        &["--", "nud", "permanent", "nud", "stale"],
    );
    let every = assert_same_table(client, &["--state", "all"], &["--", "nud", "all"]);
    assert!(every.iter().any(|e| e.0 == "10.9.0.88"));
    // Nothing matches: exit 1, an empty list.
    assert_same_table(
        client,
        &["--state", "delay", "-I", "lo"],
        &["--", "nud", "delay", "dev", "lo"],
    );
}

#[test]
fn the_text_table_has_arp_n_columns_and_ip_neighs_states() {
    require_root!();
    let pair = Pair::new("ngtxt");
    let client = &pair.client;
    add_entry(client, &["10.9.0.50", "lladdr", "02:00:00:00:00:50"]);
    client.sh("ping -c 1 -W 0.2 10.9.0.77 >/dev/null || true");
    let text = common::stdout(&client.netdx(&["neigh", "-4"]));
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        columns,
        [
            "Address",
            "HWtype",
            "HWaddress",
            "Flags",
            "Mask",
            "Iface",
            "State"
        ]
    );
    let arp = common::stdout(&client.run("arp", &["-n"]));
    let permanent = text.lines().find(|l| l.starts_with("10.9.0.50 ")).unwrap();
    let arp_line = arp.lines().find(|l| l.starts_with("10.9.0.50 ")).unwrap();
    // Same columns, same places, as arp -n; the state after them.
    assert!(
        permanent.starts_with(arp_line.trim_end()),
        "netdx: {permanent:?}\narp:   {arp_line:?}"
    );
    assert!(permanent.ends_with("PERMANENT"), "{permanent}");
    let pending = text.lines().find(|l| l.starts_with("10.9.0.77 ")).unwrap();
    assert!(pending.contains("(incomplete)"), "{pending}");
}

#[test]
fn neigh_refuses_unknown_interfaces_and_states_in_one_line() {
    let output = common::netdx(&["neigh", "-I", "nosuchif0"]);
    assert_one_line_error(&output, "interface 'nosuchif0' not found");
    let output = common::netdx(&["neigh", "--state", "gone"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("REACHABLE"));
}
