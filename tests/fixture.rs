//! The namespace test-host fixture itself: it builds what it is asked for and
//! leaves nothing behind, even when a test panics.

mod common;

use std::process::Command;

use common::Netns;

fn namespaces() -> String {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn namespace_is_removed_on_drop_even_after_a_panic() {
    require_root!();
    let name = std::sync::Mutex::new(String::new());
    let result = std::panic::catch_unwind(|| {
        let mut ns = Netns::new("panics");
        ns.add_veth("pa", "pb");
        ns.spawn("sleep", &["30"]);
        *name.lock().unwrap() = ns.name().to_string();
        panic!("a test failing half-way");
    });
    assert!(result.is_err());
    let name = name.into_inner().unwrap();
    assert!(!name.is_empty());
    assert!(!namespaces().contains(&name), "{name} still exists");
}

#[test]
fn links_get_the_configured_addresses_mtu_mac_and_state() {
    require_root!();
    let a = Netns::new("fixa");
    let b = Netns::new("fixb");
    let (left, right) = a.connect("left0", &b, "right0");
    left.addr4("10.66.0.1/24")
        .addr6("fd66::1/64")
        .mtu(1280)
        .mac("02:00:00:66:00:01")
        .up();
    right.addr4("10.66.0.2/24").up();
    let info: serde_json::Value =
        serde_json::from_str(&a.ip(&["-j", "addr", "show", "left0"])).unwrap();
    assert_eq!(info[0]["mtu"], 1280);
    assert_eq!(info[0]["address"], "02:00:00:66:00:01");
    let locals: Vec<&str> = info[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["local"].as_str().unwrap())
        .collect();
    assert!(
        locals.contains(&"10.66.0.1") && locals.contains(&"fd66::1"),
        "{locals:?}"
    );
    // The two hosts really are connected.
    let ping = a.run("ping", &["-c", "1", "-W", "2", "10.66.0.2"]);
    assert!(ping.status.success(), "{}", common::stderr(&ping));
}
