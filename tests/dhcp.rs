//! `netdx dhcp` against dnsmasq on a bridged namespace segment: each offer
//! with its options, two servers flagged as a possible rogue, the whole
//! exchange with the release seen in dnsmasq's lease file and log, silence,
//! and the refusals that come before any frame is sent. Every run is in the
//! prober's namespace: no DISCOVER ever leaves for a real network.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::schema::assert_schema_valid_output;
use common::segment::{HostSpec, Segment};
use common::{assert_one_line_error, stdout};
use serde_json::Value;

/// A dnsmasq DHCP server in a host's namespace, with its lease file and log.
struct Dnsmasq {
    dir: PathBuf,
}

impl Dnsmasq {
    /// Starts dnsmasq on host `index`'s `e0`, handing out `range`, and
    /// waits until it listens on port 67. (The ranges end at .59 so that
    /// every address offered reads `10.9.20.5…` in the text checks.)
    fn start(segment: &mut Segment, index: usize, range: &str, tag: &str) -> Dnsmasq {
        let dir = std::env::temp_dir().join(format!("netdx-dhcp-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = |name: &str| dir.join(name).display().to_string();
        let host = &mut segment.hosts[index].ns;
        host.spawn(
            "dnsmasq",
            &[
                "--no-daemon",
                "--conf-file=/dev/null",
                "--port=0",
                "--interface=e0",
                "--bind-interfaces",
                "--no-ping",
                "--user=root",
                &format!("--dhcp-range={range},12h"),
                "--dhcp-option=option:router,10.9.20.254",
                "--dhcp-option=option:dns-server,10.9.20.53",
                "--domain=test.lan",
                &format!("--dhcp-leasefile={}", path("leases")),
                &format!("--pid-file={}", path("pid")),
                &format!("--log-facility={}", path("log")),
                "--log-dhcp",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while !host.sh("ss -ulnH").contains(":67 ") {
            assert!(Instant::now() < deadline, "dnsmasq never listened on :67");
            std::thread::sleep(Duration::from_millis(20));
        }
        Dnsmasq { dir }
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// Waits until `check` holds for file `name`, failing after a deadline.
    fn wait_for(&self, name: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.read(name);
            if check(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "{name}: never {what}:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn segment(tag: &str, servers: usize) -> Segment {
    let hosts: Vec<HostSpec> = (0..servers)
        .map(|i| HostSpec::v4(&format!("10.9.20.{}", i + 2)))
        .collect();
    Segment::new(tag, &hosts)
}

fn dhcp_json(segment: &Segment, args: &[&str]) -> (Option<i32>, Value) {
    let mut full = vec!["dhcp", "--json", "-I", "p0", "--timeout", "1"];
    full.extend_from_slice(args);
    let output = segment.prober.netdx(&full);
    let document = assert_schema_valid_output("dhcp", &output.stdout);
    (output.status.code(), document)
}

fn option<'a>(reply: &'a Value, name: &str) -> &'a Value {
    reply["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {reply}"))
}

#[test]
fn an_offer_lists_the_server_the_address_and_every_option_by_name() {
    require_root!();
    let mut segment = segment("dhcpoffer", 1);
    let server = Dnsmasq::start(&mut segment, 0, "10.9.20.50,10.9.20.59", "offer");
    let (code, report) = dhcp_json(&segment, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["offers"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["rogue_suspected"], false);
    let offer = &report["offers"][0];
    assert_eq!(offer["message_type"], "OFFER");
    assert_eq!(offer["server_id"], "10.9.20.2");
    assert_eq!(offer["server_mac"], segment.hosts[0].mac.as_str());
    let address: std::net::Ipv4Addr = offer["address"].as_str().unwrap().parse().unwrap();
    assert!((50..=59).contains(&address.octets()[3]), "{address}");
    assert_eq!(offer["lease_time"], 43200);
    assert_eq!(offer["routers"][0], "10.9.20.254");
    assert_eq!(offer["dns_servers"][0], "10.9.20.53");
    assert_eq!(offer["domain"], "test.lan");
    assert_eq!(
        option(offer, "subnet_mask")["value"]["addresses"][0],
        "255.255.255.0"
    );
    assert_eq!(
        option(offer, "message_type")["value"]["message_type"],
        "OFFER"
    );
    assert_eq!(offer["bootp"]["flags"], 0x8000, "broadcast, as asked");
    // The client MAC is random and locally administered, not p0's.
    let client = report["client_mac"].as_str().unwrap();
    assert_ne!(client, "02:14:ff:ff:ff:01");
    assert_eq!(
        u8::from_str_radix(&client[..2], 16).unwrap() & 3,
        2,
        "{client}"
    );
    assert_eq!(offer["bootp"]["chaddr"], client);
    // dnsmasq saw our DISCOVER from that MAC.
    server.wait_for("log", "logged the DISCOVER", |log| {
        log.contains(&format!("DHCPDISCOVER(e0) {client}"))
    });
    // The text: one block per offer, options by name, the verdict.
    let output = segment.prober.netdx(&[
        "dhcp",
        "-I",
        "p0",
        "--timeout",
        "1",
        "--mac",
        "02:aa:00:00:00:01",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.starts_with("DHCPDISCOVER on p0 as 02:aa:00:00:00:01 (xid 0x"),
        "{text}"
    );
    for line in [
        "DHCPOFFER from 10.9.20.2 (",
        "  address: 10.9.20.5",
        "  message_type: DHCPOFFER\n",
        "  server_id: 10.9.20.2\n",
        "  lease_time: 43200 s (12h)\n",
        "  subnet_mask: 255.255.255.0\n",
        "  router: 10.9.20.254\n",
        "  dns_servers: 10.9.20.53\n",
        "  domain_name: \"test.lan\"\n",
        "1 DHCP server answered: 10.9.20.2\n",
    ] {
        assert!(text.contains(line), "{line:?} missing in:\n{text}");
    }
    // The interface's own address is untouched.
    assert!(
        segment
            .prober
            .ip(&["-4", "addr", "show", "p0"])
            .contains("10.9.20.1/24")
    );
}

#[test]
fn two_servers_answering_are_both_listed_and_flagged_as_a_possible_rogue() {
    require_root!();
    let mut segment = segment("dhcprogue", 2);
    let _first = Dnsmasq::start(&mut segment, 0, "10.9.20.50,10.9.20.59", "rogue1");
    let _second = Dnsmasq::start(&mut segment, 1, "10.9.20.100,10.9.20.110", "rogue2");
    let (code, report) = dhcp_json(&segment, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["rogue_suspected"], true, "{report}");
    let mut servers: Vec<&str> = report["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    servers.sort();
    assert_eq!(servers, ["10.9.20.2", "10.9.20.3"]);
    assert_eq!(report["offers"].as_array().unwrap().len(), 2);
    let text = stdout(
        &segment
            .prober
            .netdx(&["dhcp", "-I", "p0", "--timeout", "1"]),
    );
    assert!(
        text.contains("2 DHCP servers answered: a rogue server? (10.9.20."),
        "{text}"
    );
}

#[test]
fn request_gets_an_ack_and_the_release_frees_the_lease_in_dnsmasq() {
    require_root!();
    let mut segment = segment("dhcpreq", 1);
    let server = Dnsmasq::start(&mut segment, 0, "10.9.20.50,10.9.20.59", "request");
    let mac = "02:aa:00:00:00:42";
    let (code, report) = dhcp_json(&segment, &["--request", "--mac", mac]);
    assert_eq!(code, Some(0), "{report}");
    let exchange = &report["exchange"];
    assert_eq!(exchange["server"], "10.9.20.2");
    assert_eq!(exchange["answer"]["message_type"], "ACK", "{report}");
    assert_eq!(exchange["answer"]["address"], exchange["address"]);
    assert_eq!(exchange["released"], true);
    let address = exchange["address"].as_str().unwrap();
    // dnsmasq acknowledged, then took the release; the lease is gone.
    let log = server.wait_for("log", "logged the release", |log| {
        log.contains(&format!("DHCPRELEASE(e0) {address} {mac}"))
    });
    assert!(
        log.contains(&format!("DHCPACK(e0) {address} {mac}")),
        "{log}"
    );
    server.wait_for("leases", "dropped the lease", |leases| {
        !leases.contains(mac)
    });
    // The text says each step.
    let text = stdout(&segment.prober.netdx(&[
        "dhcp",
        "-I",
        "p0",
        "--timeout",
        "1",
        "--request",
        "--mac",
        mac,
    ]));
    for line in [
        "DHCPREQUEST for 10.9.20.5",
        "DHCPACK from 10.9.20.2 (",
        "DHCPRELEASE sent to 10.9.20.2: the lease on 10.9.20.5",
    ] {
        assert!(text.contains(line), "{line:?} missing in:\n{text}");
    }
}

#[test]
fn wire_shows_each_bootp_field_at_its_offset_and_the_bytes() {
    require_root!();
    let mut segment = segment("dhcpwire", 1);
    let _server = Dnsmasq::start(&mut segment, 0, "10.9.20.50,10.9.20.59", "wire");
    let output = segment
        .prober
        .netdx(&["dhcp", "-I", "p0", "--timeout", "1", "--wire"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for line in [
        "  ;; BOOTP, ",
        "    0x0000  op      2 (BOOTREPLY)\n",
        "    0x0001  htype   1 (Ethernet)\n",
        "    0x000a  flags   0x8000 (broadcast)\n",
        "    0x0010  yiaddr  10.9.20.5",
        "    0x00ec  cookie  63 82 53 63 (DHCP)\n",
        "    0x00f0  option  53 message_type, 1 bytes: DHCPOFFER\n",
        "  ;; BYTES\n",
        "    0000  02 01 06 00 ",
    ] {
        assert!(text.contains(line), "{line:?} missing in:\n{text}");
    }
}

#[test]
fn no_server_exits_1_after_the_timeout() {
    require_root!();
    let segment = segment("dhcpnone", 1);
    let started = Instant::now();
    let (code, report) = dhcp_json(&segment, &["--request"]);
    let took = started.elapsed();
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["offers"].as_array().unwrap().len(), 0);
    assert!(report["exchange"].is_null());
    assert!(took >= Duration::from_secs(1), "{took:?}");
    let text = stdout(
        &segment
            .prober
            .netdx(&["dhcp", "-I", "p0", "--timeout", "0.3"]),
    );
    assert!(text.contains("no DHCP server answered in 0.3 s"), "{text}");
}

#[test]
fn bad_dhcp_arguments_fail_before_anything_is_sent() {
    require_root!();
    let mut segment = segment("dhcpbad", 1);
    let server = Dnsmasq::start(&mut segment, 0, "10.9.20.50,10.9.20.59", "bad");
    for (args, expected) in [
        (&["dhcp"][..], "name the interface to ask on with -I IFACE"),
        (&["dhcp", "-I", "p0", "--mac", "zz"], "is not a MAC address"),
        (
            &["dhcp", "-I", "p0", "--mac", "01:00:5e:00:00:01"],
            "must be unicast",
        ),
        (
            &[
                "dhcp",
                "-I",
                "p0",
                "--request",
                "--mac",
                "02:14:ff:ff:ff:01",
            ],
            "the RELEASE at the end would end the interface's real lease",
        ),
        (&["dhcp", "-I", "p0", "--timeout", "0"], "--timeout"),
        (&["dhcp", "-I", "lo"], "has no Ethernet address"),
        (
            &["dhcp", "-I", "nosuchif0"],
            "interface 'nosuchif0' not found",
        ),
        (
            &["dhcp", "-I", "p0", "--json-stream"],
            "prints one document",
        ),
    ] {
        let output = segment.prober.netdx(args);
        assert_one_line_error(&output, expected);
    }
    segment.prober.ip(&["link", "set", "p0", "down"]);
    let down = segment.prober.netdx(&["dhcp", "-I", "p0"]);
    assert_one_line_error(&down, "interface p0 is down");
    assert!(
        !server.read("log").contains("DHCPDISCOVER"),
        "{}",
        server.read("log")
    );
}

#[test]
fn without_cap_net_raw_the_error_names_the_remedy() {
    require_root!();
    let segment = segment("dhcpcap", 0);
    let output = segment.prober.run(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            common::netdx_bin(),
            "dhcp",
            "-I",
            "p0",
        ],
    );
    assert_one_line_error(&output, "CAP_NET_RAW");
    assert!(common::stderr(&output).contains("setcap cap_net_raw+ep"));
}
