//! `netdx netstat` against the kernel: a process in a fresh namespace holds
//! a known set of sockets, and netdx must list exactly those, as `ss` does.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Netns, assert_one_line_error, netdx, responder, stderr, stdout};
use serde_json::Value;

/// A namespace whose only sockets are the holder's.
struct Holder {
    ns: Netns,
    facts: Value,
}

impl Holder {
    fn start(tag: &str) -> Holder {
        let mut ns = Netns::new(tag);
        let file = format!("/tmp/netdx-holder-{}-{tag}.json", std::process::id());
        ns.spawn_ready("python3", &[&responder("socket_holder.py"), &file]);
        let facts: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let _ = std::fs::remove_file(&file);
        Holder { ns, facts }
    }

    fn pid(&self) -> u64 {
        self.facts["pid"].as_u64().unwrap()
    }

    fn child(&self) -> u64 {
        self.facts["child"].as_u64().unwrap()
    }

    fn port(&self, name: &str) -> u64 {
        self.facts["ports"][name].as_u64().unwrap()
    }

    fn socket(&self, name: &str) -> &Value {
        self.facts["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        let out = self.ns.netdx(&[&["netstat", "--json"], args].concat());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        common::assert_schema_valid_output("netstat-sockets", &out.stdout)
            .as_array()
            .unwrap()
            .clone()
    }
}

/// A socket as ss prints it: (netid, state, local, peer, inode).
type Key = (String, String, String, String, u64);
/// Every socket with its holders (pid, fd).
type Table = BTreeMap<Key, BTreeSet<(u64, u64)>>;

fn endpoint(value: &Value, unix: bool) -> String {
    if unix {
        let path = value["path"].as_str().unwrap_or("*");
        return format!("{path} {}", value["inode"]);
    }
    let address = value["address"].as_str().unwrap();
    let port = value["port"].as_u64().unwrap();
    let host = if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_string()
    };
    if port == 0 {
        format!("{host}:*")
    } else {
        format!("{host}:{port}")
    }
}

fn netid(socket: &Value) -> String {
    match (socket["proto"].as_str().unwrap(), socket["type"].as_str()) {
        ("unix", Some("dgram")) => "u_dgr".into(),
        ("unix", Some("seqpacket")) => "u_seq".into(),
        ("unix", _) => "u_str".into(),
        (proto, _) => proto.into(),
    }
}

fn rows_from_netdx(sockets: &[Value]) -> Table {
    sockets
        .iter()
        .map(|s| {
            let unix = s["proto"] == "unix";
            let key = (
                netid(s),
                s["state"].as_str().unwrap().to_string(),
                endpoint(&s["local"], unix),
                endpoint(&s["peer"], unix),
                s["inode"].as_u64().unwrap(),
            );
            let holders = s["processes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p["pid"].as_u64().unwrap(), p["fd"].as_u64().unwrap()))
                .collect();
            (key, holders)
        })
        .collect()
}

/// Parses `ss -tuaxnpe` output.
fn rows_from_ss(text: &str) -> Table {
    let users = regex::Regex::new(r"pid=(\d+),fd=(\d+)").unwrap();
    let ino = regex::Regex::new(r"\bino:(\d+)").unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let t: Vec<&str> = line.split_whitespace().collect();
            let unix = t[0].starts_with("u_");
            let (local, peer, inode) = if unix {
                (
                    format!("{} {}", t[4], t[5]),
                    format!("{} {}", t[6], t[7]),
                    t[5].parse().unwrap(),
                )
            } else {
                (
                    t[4].to_string(),
                    t[5].to_string(),
                    ino.captures(line).unwrap()[1].parse().unwrap(),
                )
            };
            let holders = users
                .captures_iter(line)
                .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
                .collect();
            (
                (t[0].to_string(), t[1].to_string(), local, peer, inode),
                holders,
            )
        })
        .collect()
}

#[test]
fn lists_exactly_the_sockets_ss_lists_with_states_inodes_and_owners() {
    require_root!();
    let holder = Holder::start("same");
    let ours = rows_from_netdx(&holder.json(&["-tuaxnpe"]));
    let ss = rows_from_ss(&stdout(&holder.ns.run("ss", &["-tuaxnpe"])));
    assert_eq!(ours.len(), 10, "the holder's ten sockets: {ours:#?}");
    assert_eq!(ours, ss);
}

#[test]
fn every_socket_of_the_holder_is_found_with_its_inode_and_descriptor() {
    require_root!();
    let holder = Holder::start("facts");
    let sockets = holder.json(&["-tuaxpe"]);
    for described in holder.facts["sockets"].as_array().unwrap() {
        let inode = described["inode"].as_u64().unwrap();
        let found = sockets
            .iter()
            .find(|s| s["inode"] == inode)
            .unwrap_or_else(|| panic!("{} (inode {inode}) missing", described["name"]));
        let holders: Vec<(u64, u64)> = found["processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["pid"].as_u64().unwrap(), p["fd"].as_u64().unwrap()))
            .collect();
        assert!(
            holders.contains(&(holder.pid(), described["fd"].as_u64().unwrap())),
            "{holders:?}"
        );
        assert!(found["processes"][0]["name"] == "python3");
    }
    let listener = sockets
        .iter()
        .find(|s| s["inode"] == holder.socket("tcp4-listen")["inode"])
        .unwrap();
    let pids: BTreeSet<u64> = listener["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(
        pids,
        BTreeSet::from([holder.pid(), holder.child()]),
        "a socket shared after fork lists both holders"
    );
    assert_eq!(listener["state"], "LISTEN");
    assert_eq!(listener["uid"], 0);
    assert_eq!(listener["family"], "inet");
    assert!(listener["tcp_info"].is_null());
}

fn inodes(sockets: &[Value]) -> BTreeSet<u64> {
    sockets
        .iter()
        .map(|s| s["inode"].as_u64().unwrap())
        .collect()
}

fn inodes_of(holder: &Holder, names: &[&str]) -> BTreeSet<u64> {
    names
        .iter()
        .map(|n| holder.socket(n)["inode"].as_u64().unwrap())
        .collect()
}

#[test]
fn kernel_side_filters_give_exactly_the_matching_subset() {
    require_root!();
    let holder = Holder::start("filters");
    let tcp4 = holder.port("tcp4").to_string();
    assert_eq!(
        inodes(&holder.json(&["-t", "--state", "established"])),
        inodes_of(
            &holder,
            &["tcp4-client", "tcp4-server", "tcp6-client", "tcp6-server"]
        )
    );
    assert_eq!(
        inodes(&holder.json(&["-t", "-l"])),
        inodes_of(&holder, &["tcp4-listen", "tcp6-listen"])
    );
    assert_eq!(
        inodes(&holder.json(&["-ta", "--sport", &tcp4])),
        inodes_of(&holder, &["tcp4-listen", "tcp4-server"])
    );
    assert_eq!(
        inodes(&holder.json(&["-ta", "--dport", &tcp4])),
        inodes_of(&holder, &["tcp4-client"])
    );
    assert_eq!(
        inodes(&holder.json(&["-ta", "--port", &tcp4])),
        inodes_of(&holder, &["tcp4-listen", "tcp4-server", "tcp4-client"])
    );
    assert_eq!(
        inodes(&holder.json(&["-tua", "-6"])),
        inodes_of(
            &holder,
            &[
                "tcp6-listen",
                "tcp6-client",
                "tcp6-server",
                "udp6-connected"
            ]
        )
    );
    assert_eq!(
        inodes(&holder.json(&["-tua", "-4"])),
        inodes_of(
            &holder,
            &[
                "tcp4-listen",
                "tcp4-client",
                "tcp4-server",
                "udp4-unconnected"
            ]
        )
    );
    assert_eq!(
        inodes(&holder.json(&["-ua", "--addr", "::1/128"])),
        inodes_of(&holder, &["udp6-connected"])
    );
    assert_eq!(
        inodes(&holder.json(&["-u"])),
        inodes_of(&holder, &["udp6-connected"]),
        "default: connected only"
    );
    assert_eq!(
        inodes(&holder.json(&["-x", "-a"])),
        inodes_of(&holder, &["unix-stream-listen", "unix-dgram"])
    );
    // ss agrees on each filter.
    let ss_inodes = |args: &[&str]| -> BTreeSet<u64> {
        rows_from_ss(&stdout(&holder.ns.run("ss", args)))
            .keys()
            .map(|k| k.4)
            .collect()
    };
    assert_eq!(
        inodes(&holder.json(&["-ta", "--sport", &tcp4])),
        ss_inodes(&["-tanpe", "sport", "=", &format!(":{tcp4}")])
    );
    assert_eq!(
        inodes(&holder.json(&["-t", "--state", "listening"])),
        ss_inodes(&["-tlnpe"])
    );
}

#[test]
fn proc_fallback_lists_the_same_sockets() {
    require_root!();
    let holder = Holder::start("procfs");
    let netlink = inodes(&holder.json(&["-tuaxn"]));
    let out = holder
        .ns
        .netdx(&["netstat", "-tuaxn", "--json", "--source", "proc"]);
    assert!(
        stderr(&out).contains("netdx: note: read /proc/net instead of sock_diag"),
        "{}",
        stderr(&out)
    );
    let procfs: Vec<Value> = common::assert_schema_valid_output("netstat-sockets", &out.stdout)
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(inodes(&procfs), netlink);
}

#[test]
fn text_view_has_ss_columns_and_service_names_without_n() {
    require_root!();
    let holder = Holder::start("text");
    let text = stdout(&holder.ns.netdx(&["netstat", "-tln"]));
    let header: Vec<&str> = text
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "Netid",
            "State",
            "Recv-Q",
            "Send-Q",
            "Local Address:Port",
            "Peer Address:Port"
        ]
    );
    assert!(
        text.contains(&format!("127.0.0.1:{}", holder.port("tcp4"))),
        "{text}"
    );
    assert!(
        text.contains(&format!("[::1]:{}", holder.port("tcp6"))),
        "{text}"
    );
    // Named ports: a listener on the ssh port shows as :ssh without -n.
    let mut ns = Netns::new("svc");
    ns.spawn_ready(
        "python3",
        &[
            "-c",
            "import socket,time;s=socket.socket();s.bind(('127.0.0.1',22));s.listen();print('ready',flush=True);time.sleep(60)",
        ],
    );
    assert!(stdout(&ns.netdx(&["netstat", "-tl"])).contains("127.0.0.1:ssh"));
    assert!(stdout(&ns.netdx(&["netstat", "-tln"])).contains("127.0.0.1:22"));
}

#[test]
fn tcp_info_timers_and_memory_come_from_the_kernel() {
    require_root!();
    let holder = Holder::start("info");
    let sockets = holder.json(&["-t", "-i", "-m", "-o"]);
    let client = sockets
        .iter()
        .find(|s| s["inode"] == holder.socket("tcp4-client")["inode"])
        .unwrap();
    let info = &client["tcp_info"];
    assert!(info["rtt_ms"].as_f64().unwrap() > 0.0, "{info}");
    assert!(info["cwnd"].as_u64().unwrap() >= 1);
    assert!(info["congestion"].is_string());
    let memory = &client["memory"];
    assert!(memory["rcvbuf"].as_u64().unwrap() > 0, "{memory}");
    let text = stdout(&holder.ns.netdx(&["netstat", "-tn", "-i", "-m"]));
    assert!(
        text.contains(" cwnd:") && text.contains("skmem:(r"),
        "{text}"
    );
}

#[test]
fn other_users_processes_show_no_owner_and_a_note_says_why() {
    require_root!();
    let holder = Holder::start("nonroot");
    let out = holder.ns.run(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            common::netdx_bin(),
            "netstat",
            "-tlpn",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sockets: Vec<Value> = common::assert_schema_valid_output("netstat-sockets", &out.stdout)
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(sockets.len(), 2);
    assert!(
        sockets
            .iter()
            .all(|s| s["processes"].as_array().unwrap().is_empty())
    );
    let err = stderr(&out);
    assert!(
        err.contains("could not be inspected") && err.contains("run as root"),
        "{err}"
    );
}

#[test]
fn statistics_routes_and_interfaces_have_their_views() {
    require_root!();
    let holder = Holder::start("views");
    let stats = stdout(&holder.ns.netdx(&["netstat", "-s"]));
    assert!(
        stats.contains("Tcp:\n") && stats.contains("    ActiveOpens: "),
        "{stats}"
    );
    let json = common::assert_schema_valid_output(
        "netstat-statistics",
        &holder.ns.netdx(&["netstat", "-s", "--json"]).stdout,
    );
    assert!(
        json["Tcp"]["ActiveOpens"].as_i64().unwrap() >= 2,
        "two connections were opened"
    );
    holder.ns.add_veth("r0", "r1");
    holder.ns.link("r0").addr4("10.5.0.1/24").up();
    holder.ns.link("r1").up();
    holder
        .ns
        .ip(&["route", "add", "10.6.0.0/16", "via", "10.5.0.2"]);
    holder.ns.link("r0").addr6("fd05::1/64");
    holder
        .ns
        .ip(&["-6", "route", "add", "unreachable", "fd06::/64"]);
    let all_routes = common::assert_schema_valid_output(
        "netstat-routes",
        &holder.ns.netdx(&["netstat", "-r", "--json"]).stdout,
    );
    assert!(
        all_routes
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["family"] == "inet6" && r["type"] == "unreachable"),
        "{all_routes}"
    );
    let routes: Vec<Value> = common::assert_schema_valid_output(
        "netstat-routes",
        &holder.ns.netdx(&["netstat", "-r", "--json", "-4"]).stdout,
    )
    .as_array()
    .unwrap()
    .clone();
    let via = routes
        .iter()
        .find(|r| r["destination"] == "10.6.0.0")
        .expect("the gateway route");
    assert_eq!(
        (
            via["prefix_len"].as_u64(),
            via["gateway"].as_str(),
            via["interface"].as_str()
        ),
        (Some(16), Some("10.5.0.2"), Some("r0"))
    );
    assert_eq!(via["flags"], "UG");
    let text = stdout(&holder.ns.netdx(&["netstat", "-rn", "-4"]));
    assert!(
        text.lines()
            .any(|l| l.starts_with("10.6.0.0/16") && l.contains("10.5.0.2") && l.contains("UG")),
        "{text}"
    );
    let interfaces = stdout(&holder.ns.netdx(&["netstat", "-i"]));
    assert!(
        interfaces.lines().next().unwrap().contains("RX-OK"),
        "{interfaces}"
    );
    let interfaces = common::assert_schema_valid_output(
        "netstat-interfaces",
        &holder.ns.netdx(&["netstat", "-i", "--json"]).stdout,
    );
    assert!(
        interfaces
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "r0"),
        "{interfaces}"
    );
}

#[test]
fn bad_netstat_input_is_one_line_exit_2() {
    assert_one_line_error(
        &netdx(&["netstat", "--state", "bogus"]),
        "unknown state 'bogus'",
    );
    assert_one_line_error(&netdx(&["netstat", "--sport", "0"]), "1 to 65535");
    assert_one_line_error(&netdx(&["netstat", "--dport", "70000"]), "out of range");
    assert_one_line_error(&netdx(&["netstat", "--port", "90-80"]), "reversed");
    assert_one_line_error(&netdx(&["netstat", "--sport", "http"]), "not a port number");
    assert_one_line_error(&netdx(&["netstat", "-l", "-a"]), "cannot be used with");
    assert_one_line_error(&netdx(&["netstat", "-s", "-r"]), "cannot be used with");
    assert_one_line_error(
        &netdx(&["netstat", "--addr", "10.0.0.0/40"]),
        "prefix length",
    );
}
