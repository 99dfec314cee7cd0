//! Privilege: once its sockets are open, netdx can never regain a capability.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Netns;

/// The fields of /proc/PID/status that say what a process may still do.
fn privilege_fields(pid: u32) -> Option<Vec<(String, String)>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(
        status
            .lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(field, _)| {
                matches!(
                    *field,
                    "Name" | "NoNewPrivs" | "CapEff" | "CapPrm" | "CapBnd" | "Uid"
                )
            })
            .map(|(field, value)| (field.to_string(), value.trim().to_string()))
            .collect(),
    )
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(field, _)| field == name)
        .map_or("", |(_, value)| value)
}

#[test]
fn ping_drops_the_bounding_set_and_sets_no_new_privs_once_its_socket_is_open() {
    require_root!();
    let ns = Netns::new("privdrop");
    let child = ns
        .command(
            common::netdx_bin(),
            &["ping", "-c", "3", "-i", "0.2", "127.0.0.1"],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `ip netns exec` becomes netdx; watch it until it has dropped privilege.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = None;
    while Instant::now() < deadline {
        match privilege_fields(child.id()) {
            Some(fields) if field(&fields, "NoNewPrivs") == "1" => {
                seen = Some(fields);
                break;
            }
            Some(_) => std::thread::sleep(Duration::from_millis(5)),
            None => break,
        }
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fields = seen.expect("netdx ping set no_new_privs while it ran");
    assert_eq!(field(&fields, "Name"), "netdx");
    assert_eq!(field(&fields, "CapEff"), "0000000000000000");
    assert_eq!(field(&fields, "CapPrm"), "0000000000000000");
    assert_eq!(
        field(&fields, "CapBnd"),
        "0000000000000000",
        "root holds CAP_SETPCAP, so the bounding set goes too"
    );
}
