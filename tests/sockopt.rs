//! `netdx sockopt`: the values it reports are what getsockopt returns on an
//! identically configured socket; refusals and bad input are reported.

mod common;

use std::time::Duration;

use common::{assert_one_line_error, netdx, stderr, stdout};
use serde_json::Value;
use socket2::{Domain, Protocol, Socket, Type};

fn sockopt_json(args: &[&str]) -> (std::process::Output, Value) {
    let mut all = vec!["--json", "sockopt"];
    all.extend_from_slice(args);
    let output = netdx(&all);
    assert!(
        !output.stdout.is_empty(),
        "no JSON: {} {}",
        stdout(&output),
        stderr(&output)
    );
    // Every document read here is also held to docs/schema/sockopt.json.
    let json = common::assert_schema_valid_output("sockopt", &output.stdout);
    (output, json)
}

fn option<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing from {json}"))
}

#[test]
fn tcp_values_equal_a_direct_getsockopt_on_an_identically_configured_socket() {
    let (output, json) = sockopt_json(&[
        "--set",
        "SO_RCVBUF=4096",
        "--set",
        "SO_SNDBUF=16K",
        "--set",
        "TCP_NODELAY=on",
        "--set",
        "SO_KEEPALIVE=1",
        "--set",
        "TCP_KEEPIDLE=30s",
        "--set",
        "TCP_KEEPCNT=4",
        "--set",
        "IP_TTL=12",
        "--set",
        "IP_TOS=16",
        "--set",
        "SO_RCVTIMEO=1.5s",
        "--set",
        "SO_LINGER=on,5",
        "--set",
        "reuseaddr=1",
        "--set",
        "nonblocking=1",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let own = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    own.set_recv_buffer_size(4096).unwrap();
    own.set_send_buffer_size(16384).unwrap();
    own.set_tcp_nodelay(true).unwrap();
    own.set_keepalive(true).unwrap();
    own.set_tcp_keepalive(
        &socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(30))
            .with_retries(4),
    )
    .unwrap();
    own.set_ttl_v4(12).unwrap();
    own.set_tos_v4(16).unwrap();
    own.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    own.set_linger(Some(Duration::from_secs(5))).unwrap();
    own.set_reuse_address(true).unwrap();
    own.set_nonblocking(true).unwrap();
    assert_eq!(
        option(&json, "SO_RCVBUF")["value"],
        own.recv_buffer_size().unwrap() as u64
    );
    assert_eq!(
        option(&json, "SO_SNDBUF")["value"],
        own.send_buffer_size().unwrap() as u64
    );
    assert_eq!(
        option(&json, "TCP_NODELAY")["value"],
        own.tcp_nodelay().unwrap()
    );
    assert_eq!(
        option(&json, "SO_KEEPALIVE")["value"],
        own.keepalive().unwrap()
    );
    assert_eq!(
        option(&json, "TCP_KEEPIDLE")["value"].as_f64().unwrap(),
        own.tcp_keepalive_time().unwrap().as_secs_f64()
    );
    assert_eq!(
        option(&json, "TCP_KEEPCNT")["value"],
        own.tcp_keepalive_retries().unwrap()
    );
    assert_eq!(option(&json, "IP_TTL")["value"], own.ttl_v4().unwrap());
    assert_eq!(option(&json, "IP_TOS")["value"], own.tos_v4().unwrap());
    assert_eq!(
        option(&json, "SO_RCVTIMEO")["value"].as_f64().unwrap(),
        own.read_timeout().unwrap().unwrap().as_secs_f64()
    );
    assert_eq!(
        option(&json, "SO_LINGER")["value"].as_f64().unwrap(),
        own.linger().unwrap().unwrap().as_secs_f64()
    );
    assert_eq!(
        option(&json, "SO_REUSEADDR")["value"],
        own.reuse_address().unwrap()
    );
    assert_eq!(
        option(&json, "O_NONBLOCK")["value"],
        own.nonblocking().unwrap()
    );
    assert_eq!(option(&json, "TCP_MAXSEG")["value"], own.tcp_mss().unwrap());
    assert_eq!(option(&json, "SO_TYPE")["value"], "SOCK_STREAM");
    assert_eq!(json["refused"], 0);
}

#[test]
fn ipv6_udp_values_equal_a_direct_getsockopt() {
    let (output, json) = sockopt_json(&[
        "--udp",
        "-6",
        "--set",
        "IPV6_V6ONLY=on",
        "--set",
        "IPV6_UNICAST_HOPS=7",
        "--set",
        "SO_BROADCAST=on",
        "--bind",
        "[::1]:0",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let own = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    own.set_only_v6(true).unwrap();
    own.set_unicast_hops_v6(7).unwrap();
    own.set_broadcast(true).unwrap();
    assert_eq!(
        option(&json, "IPV6_V6ONLY")["value"],
        own.only_v6().unwrap()
    );
    assert_eq!(
        option(&json, "IPV6_UNICAST_HOPS")["value"],
        own.unicast_hops_v6().unwrap()
    );
    assert_eq!(
        option(&json, "SO_BROADCAST")["value"],
        own.broadcast().unwrap()
    );
    assert_eq!(json["family"], "inet6");
    assert!(json["local"].as_str().unwrap().starts_with("[::1]:"));
    assert!(
        json["options"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["name"] != "TCP_NODELAY")
    );
}

#[test]
fn the_doubled_and_the_clamped_receive_buffer_are_explained() {
    let (_, json) = sockopt_json(&["--set", "SO_RCVBUF=4096"]);
    let rcvbuf = option(&json, "SO_RCVBUF");
    assert_eq!(rcvbuf["requested"], 4096);
    assert_eq!(rcvbuf["value"], 8192);
    assert!(
        rcvbuf["note"].as_str().unwrap().contains("doubled"),
        "{rcvbuf}"
    );
    let rmem_max: u64 = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let (_, json) = sockopt_json(&["--set", &format!("SO_RCVBUF={}", rmem_max * 4)]);
    let rcvbuf = option(&json, "SO_RCVBUF");
    assert_eq!(rcvbuf["value"], rmem_max * 2, "{rcvbuf}");
    assert!(
        rcvbuf["note"]
            .as_str()
            .unwrap()
            .contains("net.core.rmem_max"),
        "{rcvbuf}"
    );
}

#[test]
fn refused_options_show_their_errno_and_the_run_goes_on() {
    let (output, json) = sockopt_json(&[
        "--set",
        "TCP_CONGESTION=no-such-cc",
        "--set",
        "SO_RCVBUF=4096",
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a refusal is a negative answer"
    );
    let cc = option(&json, "TCP_CONGESTION");
    assert!(
        cc["refused"].as_str().unwrap().starts_with("ENOENT"),
        "{cc}"
    );
    assert_eq!(
        option(&json, "SO_RCVBUF")["value"],
        8192,
        "later requests still applied"
    );
    let (output, json) = sockopt_json(&["--udp", "--set", "TCP_NODELAY=1"]);
    assert_eq!(output.status.code(), Some(1));
    let nodelay = option(&json, "TCP_NODELAY");
    assert!(
        nodelay["refused"]
            .as_str()
            .unwrap()
            .starts_with("EOPNOTSUPP")
            || nodelay["refused"]
                .as_str()
                .unwrap()
                .starts_with("ENOPROTOOPT"),
        "{nodelay}"
    );
    let text = stdout(&netdx(&["sockopt", "--set", "TCP_CONGESTION=no-such-cc"]));
    let row = text.lines().find(|l| l.contains("TCP_CONGESTION")).unwrap();
    assert!(
        row.contains("refused: ENOENT (No such file or directory)"),
        "{row}"
    );
}

#[test]
fn a_failed_bind_is_shown_and_the_options_still_read() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let (output, json) = sockopt_json(&["--bind", &format!("127.0.0.1:{port}"), "--listen"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json["calls"][0]["call"], "bind");
    assert!(
        json["calls"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("EADDRINUSE")
    );
    assert!(!json["options"].as_array().unwrap().is_empty());
}

#[test]
fn connect_and_listen_change_what_the_options_say() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let (_, json) = sockopt_json(&["--set", "TCP_MAXSEG=1000", "--connect", &address]);
    assert_eq!(json["calls"][0]["error"], Value::Null);
    assert_eq!(json["peer"], address.as_str());
    let mss = option(&json, "TCP_MAXSEG");
    assert!(mss["value"].as_u64().unwrap() <= 1000, "{mss}");
    let (_, json) = sockopt_json(&["--listen", "--bind", "127.0.0.1"]);
    assert_eq!(option(&json, "SO_ACCEPTCONN")["value"], true);
}

#[test]
fn a_unix_socket_binds_listens_and_leaves_no_file_behind() {
    let path = std::env::temp_dir().join(format!("netdx-sockopt-{}.sock", std::process::id()));
    let text = path.to_str().unwrap();
    let (output, json) = sockopt_json(&[
        "--unix",
        "--bind",
        text,
        "--listen",
        "--set",
        "SO_SNDBUF=65536",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json["family"], "unix");
    assert_eq!(json["local"], text);
    assert_eq!(option(&json, "SO_ACCEPTCONN")["value"], true);
    assert_eq!(option(&json, "SO_SNDBUF")["value"], 131_072);
    assert!(
        json["options"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["level"] == "SOL_SOCKET" || o["level"] == "fcntl")
    );
    assert!(!path.exists(), "the socket file is removed");
}

#[test]
fn explain_gives_the_default_on_this_kernel_and_the_lab() {
    let output = netdx(&["--json", "sockopt", "explain", "tcp_keepidle"]);
    assert_eq!(output.status.code(), Some(0));
    let json = common::assert_schema_valid_output("sockopt-explain", &output.stdout);
    let sysctl = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_keepalive_time").unwrap();
    assert_eq!(json["default"], format!("{}s", sysctl.trim()));
    assert_eq!(json["name"], "TCP_KEEPIDLE");
    let own = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let output = netdx(&["--json", "sockopt", "explain", "SO_RCVBUF"]);
    let json = common::assert_schema_valid_output("sockopt-explain", &output.stdout);
    assert_eq!(json["default"], own.recv_buffer_size().unwrap().to_string());
    assert_eq!(json["lab"], "buffers");
    let text = stdout(&netdx(&["sockopt", "explain", "SO_REUSEADDR"]));
    assert!(
        text.starts_with("SO_REUSEADDR (SOL_SOCKET, on/off)"),
        "{text}"
    );
    assert!(text.contains("Pitfalls: "), "{text}");
    assert!(
        text.contains("See it happen: netdx lab reuseaddr"),
        "{text}"
    );
}

#[test]
fn every_option_explains_itself_in_a_schema_valid_document() {
    // The names the schema knows are the catalog's.
    let schema = common::schema::committed_schema("sockopt-explain");
    let names = schema["$defs"]["OptionName"]["enum"].as_array().unwrap();
    assert!(names.len() > 20, "{names:?}");
    let (mut with_lab, mut without_lab) = (0, 0);
    for name in names {
        let name = name.as_str().unwrap();
        let output = netdx(&["--json", "sockopt", "explain", name]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
        let json = common::assert_schema_valid_output("sockopt-explain", &output.stdout);
        assert_eq!(json["name"], name);
        if json["lab"].is_null() {
            without_lab += 1;
        } else {
            with_lab += 1;
        }
    }
    assert!(with_lab > 0 && without_lab > 0, "{with_lab} {without_lab}");
}

#[test]
fn bad_names_and_values_exit_2_with_suggestions() {
    for (args, fragment) in [
        (
            vec!["sockopt", "--set", "SO_RCVBUFF=1"],
            "did you mean SO_RCVBUF",
        ),
        (vec!["sockopt", "--set", "TCP_NODELY=1"], "TCP_NODELAY"),
        (
            vec!["sockopt", "--set", "SO_LINGER=sometimes"],
            "on,SECONDS",
        ),
        (
            vec!["sockopt", "--set", "SO_RCVTIMEO=soon"],
            "is not a time",
        ),
        (
            vec!["sockopt", "--set", "TCP_NODELAY=maybe"],
            "is not on/off",
        ),
        (vec!["sockopt", "--set", "SO_TYPE=1"], "can only be read"),
        (vec!["sockopt", "--set", "nodelay"], "NAME=VALUE"),
        (
            vec!["sockopt", "explain", "SO_REUSEADR"],
            "did you mean SO_REUSEADDR",
        ),
        (
            vec!["sockopt", "-6", "--bind", "127.0.0.1"],
            "give an IPv6 address",
        ),
        (vec!["sockopt", "--bind", "[::1]:0"], "add -6 for IPv6"),
        (vec!["sockopt", "--udp", "--unix"], "cannot be used with"),
    ] {
        assert_one_line_error(&netdx(&args), fragment);
    }
}

#[test]
fn values_setsockopt_would_truncate_or_misread_exit_2_naming_the_valid_form() {
    let long_path = format!("/tmp/{}", "a".repeat(120));
    for (args, fragment) in [
        (
            vec!["sockopt", "--set", "SO_RCVBUF=4294967297"],
            "SO_RCVBUF: 4294967297 is out of range: give 0 to 2147483647",
        ),
        (
            vec!["sockopt", "--set", "SO_RCVBUF=-1"],
            "SO_RCVBUF: -1 is out of range: give 0 to 2147483647",
        ),
        (
            vec!["sockopt", "--set", "TCP_MAXSEG=99999999999999999999"],
            "out of range",
        ),
        (
            vec!["sockopt", "--set", "SO_RCVBUF=3G"],
            "at most 2147483647 bytes",
        ),
        (
            vec!["sockopt", "--set", "SO_LINGER=on"],
            "'on' needs the time: on,SECONDS",
        ),
        (
            vec!["sockopt", "--unix", "--bind", &long_path],
            "a unix socket path is at most 107 bytes and this one is 125",
        ),
        (
            vec!["sockopt", "--unix", "--connect", &long_path],
            "at most 107 bytes",
        ),
    ] {
        assert_one_line_error(&netdx(&args), fragment);
    }
}

#[test]
fn linger_on_with_zero_seconds_is_still_an_abortive_close_when_asked_for() {
    let (output, json) = sockopt_json(&["--set", "SO_LINGER=on,0"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(option(&json, "SO_LINGER")["value"].as_f64(), Some(0.0));
}

#[test]
fn raw_sockets_need_cap_net_raw_and_say_so() {
    require_root!();
    let (output, json) = sockopt_json(&["--raw"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(option(&json, "SO_TYPE")["value"], "SOCK_RAW");
    // The same without privilege: one line naming the capability.
    let output = common::netdx_unprivileged(&["sockopt", "--raw"]);
    assert_one_line_error(&output, "CAP_NET_RAW");
}
