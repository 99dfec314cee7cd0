//! `netdx calc` against its anchors: Debian's ipcalc (0.42, IPv4) and
//! sipcalc (1.1.6, both families), over a few hundred seeded pseudo-random
//! networks and the edge prefixes, field by field.
//!
//! Where an anchor differs by convention or is wrong, the test says so and
//! checks the anchor's known answer instead of copying it:
//!
//! * /31 and /32: netdx follows RFC 3021 as ipcalc does (a /31 has 2 hosts
//!   and no broadcast, a /32 one host); sipcalc prints a "broadcast" for
//!   both (the last address) and no usable range.
//! * sipcalc counts 4294967295 addresses in a /0 (2^32 − 1, off by one),
//!   and gives 255.255.255.255/32 a usable range of 0.0.0.0 - 255.255.255.254
//!   (the range wraps around).
//! * Class: netdx gives the address's class (RFC 791, as sipcalc -c does);
//!   ipcalc the class of the network address. They differ only for
//!   prefixes shorter than /4, which are left out of that comparison.
//!   ipcalc also calls 248.0.0.0 and above "Class invalid" (it looks for a
//!   sixth class); RFC 1166's class E is all of 240.0.0.0/4.
//! * IPv6 compressed form: netdx writes an IPv4-mapped address as RFC 5952
//!   §5 recommends (`::ffff:10.1.2.3`); sipcalc in hex (`::ffff:a01:203`).
//! * IPv6 address types: sipcalc's table is RFC 2373's (1998), so ULA
//!   (fc00::/7, RFC 4193) is "Unassigned" there and documentation, Teredo,
//!   6to4 … are all "Aggregatable Global Unicast"; the comparison maps each
//!   sipcalc type to the set of today's spaces inside it.

mod common;

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;

use common::{assert_one_line_error, assert_schema_valid_output, netdx, stdout};

#[path = "calc/anchors.rs"]
mod anchors;

use anchors::{
    XorShift, anchor, anchor_all, greedy_blocks, ipcalc_fields, ipcalc_range, ipcalc_space,
    ipcalc_subnets, range_of, sipcalc_each, sipcalc_split_ranges, sipcalc_type_allows, v4_inputs,
    v6_inputs,
};

/// `netdx --json calc ARGS…`, validated against the calc schema.
fn calc_json(args: &[&str]) -> Value {
    let mut full = vec!["--json", "calc"];
    full.extend_from_slice(args);
    let out = netdx(&full);
    assert_eq!(out.status.code(), Some(0), "netdx {full:?}: {out:?}");
    assert_schema_valid_output("calc", &out.stdout)
}

fn field<'a>(facts: &'a Value, name: &str) -> &'a str {
    facts[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} missing from {facts}"))
}

/// The network, host range and broadcast of one network (or subnet) are
/// ipcalc's: a /32 is its "Hostroute", and, per RFC 3021, neither a /31 nor
/// a /32 has a broadcast.
fn assert_hosts_equal_ipcalcs(ours: &Value, theirs: &HashMap<String, String>, what: &str) {
    if ours["prefix"] == 32 {
        assert_eq!(theirs["Hostroute"], field(ours, "host_min"), "{what}");
        assert_eq!(field(ours, "host_min"), field(ours, "host_max"));
    } else {
        assert_eq!(theirs["Network"], field(ours, "network"), "{what}");
        assert_eq!(theirs["HostMin"], field(ours, "host_min"), "{what}");
        assert_eq!(theirs["HostMax"], field(ours, "host_max"), "{what}");
    }
    assert_eq!(
        theirs.get("Broadcast").map(String::as_str),
        ours["broadcast"].as_str(),
        "{what}"
    );
}

#[test]
fn ipv4_facts_equal_ipcalcs_over_random_networks_and_edge_prefixes() {
    let inputs = v4_inputs(330);
    // ipcalc is Perl (~20 ms a run): its runs go 8 at a time.
    let runs: Vec<Vec<&str>> = inputs
        .iter()
        .map(|i| vec!["-n", "-b", i.as_str()])
        .collect();
    let ipcalc = anchor_all("ipcalc", &runs);
    let mut compared = 0;
    for (input, theirs) in inputs.iter().zip(&ipcalc) {
        let ours = &calc_json(&[input])["facts"];
        let theirs = ipcalc_fields(theirs);
        let prefix = ours["prefix"].as_u64().unwrap();
        let what = format!("{input}: ours {ours}, ipcalc {theirs:?}");
        assert_eq!(
            theirs["Netmask"],
            format!("{} = {prefix}", field(ours, "netmask")),
            "{what}"
        );
        assert_eq!(theirs["Wildcard"], field(ours, "wildcard"), "{what}");
        let hosts_line = &theirs["Hosts/Net"];
        let (hosts, remarks) = hosts_line.split_once(' ').unwrap_or((hosts_line, ""));
        assert_eq!(hosts, ours["hosts"].to_string(), "{what}");
        assert_hosts_equal_ipcalcs(ours, &theirs, &what);
        let class = remarks.trim().strip_prefix("Class ").unwrap_or("");
        if class.starts_with("invalid") {
            // ipcalc looks for a sixth class past 248.0.0.0 (11111…);
            // RFC 1166's class E is all of 240.0.0.0/4.
            assert_eq!(field(ours, "class"), "E", "{what}");
            assert!(
                field(ours, "address")
                    .split('.')
                    .next()
                    .unwrap()
                    .parse::<u8>()
                    .unwrap()
                    >= 248
            );
        } else if prefix >= 4 {
            assert_eq!(&class[..1], field(ours, "class"), "{what}");
        }
        // ipcalc describes the network: without "In Part" the whole network,
        // so the address too, is in the block it names; with no remark the
        // network meets none of its four blocks.
        if !remarks.contains("In Part") {
            let space = field(ours, "space");
            match ipcalc_space(remarks) {
                Some(expected) => assert_eq!(space, expected, "{what}"),
                None => assert!(
                    !["private", "loopback", "link-local", "multicast"].contains(&space),
                    "{what}"
                ),
            }
        }
        compared += 1;
    }
    assert!(compared >= 300, "{compared}");
}

#[test]
fn ipv4_facts_equal_sipcalcs_but_for_its_31_and_32_broadcast_and_its_0_count() {
    let inputs = v4_inputs(330);
    let mut compared = 0;
    for (input, theirs) in &sipcalc_each(&inputs) {
        let ours = &calc_json(&[input])["facts"];
        let prefix = ours["prefix"].as_u64().unwrap();
        let network = field(ours, "network").split('/').next().unwrap();
        let what = format!("{input}: ours {ours}, sipcalc {theirs:?}");
        assert_eq!(theirs["Network address"], network, "{what}");
        assert_eq!(theirs["Network mask"], field(ours, "netmask"), "{what}");
        assert_eq!(theirs["Network mask (bits)"], prefix.to_string());
        assert_eq!(theirs["Cisco wildcard"], field(ours, "wildcard"), "{what}");
        let last = ours["broadcast"]
            .as_str()
            .unwrap_or_else(|| field(ours, "host_max"));
        let (first, end): (Ipv4Addr, Ipv4Addr) = range_of(&theirs["Network range"]);
        assert_eq!(first.to_string(), network, "{what}");
        assert_eq!(end.to_string(), last, "{what}");
        if prefix <= 30 {
            assert_eq!(theirs["Broadcast address"], last, "{what}");
            let (min, max): (Ipv4Addr, Ipv4Addr) = range_of(&theirs["Usable range"]);
            assert_eq!(min.to_string(), field(ours, "host_min"), "{what}");
            assert_eq!(max.to_string(), field(ours, "host_max"), "{what}");
        } else {
            // sipcalc calls the last address of a /31 or /32 its
            // broadcast; RFC 3021 (and ipcalc, and netdx) say it has none.
            assert_eq!(theirs["Broadcast address"], last, "{what}");
            assert!(ours["broadcast"].is_null(), "{what}");
            if field(ours, "address") == "255.255.255.255" {
                // sipcalc's usable range of the top /32 wraps around.
                assert_eq!(theirs["Usable range"], "0.0.0.0 - 255.255.255.254");
            } else {
                assert!(!theirs.contains_key("Usable range"), "{what}");
            }
        }
        let addresses = ours["addresses"].as_u64().unwrap();
        if prefix == 0 {
            // sipcalc's count of a /0 is one short.
            assert_eq!(theirs["Addresses in network"], "4294967295");
            assert_eq!(addresses, 1 << 32);
        } else {
            assert_eq!(theirs["Addresses in network"], addresses.to_string());
        }
        compared += 1;
    }
    assert!(compared >= 300, "{compared}");
}

#[test]
fn ipv6_facts_equal_sipcalcs_forms_range_count_and_type() {
    let inputs = v6_inputs(260);
    let mut compared = 0;
    for (input, theirs) in &sipcalc_each(&inputs) {
        let ours = &calc_json(&[input])["facts"];
        let what = format!("{input}: ours {ours}, sipcalc {theirs:?}");
        assert_eq!(ours["family"], "ipv6");
        assert_eq!(
            theirs["Expanded Address"],
            field(ours, "expanded"),
            "{what}"
        );
        if field(ours, "space") == "ipv4-mapped" {
            assert!(field(ours, "compressed").contains('.'), "{what}");
        } else {
            assert_eq!(
                theirs["Compressed address"],
                field(ours, "compressed"),
                "{what}"
            );
        }
        let (prefix_text, length) = theirs["Subnet prefix (masked)"].split_once('/').unwrap();
        let network: Ipv6Addr = prefix_text.parse().unwrap();
        assert_eq!(
            format!("{network}/{length}"),
            field(ours, "network"),
            "{what}"
        );
        let netmask: Ipv6Addr = theirs["Prefix address"].parse().unwrap();
        assert_eq!(netmask.to_string(), field(ours, "netmask"), "{what}");
        let (first, last): (Ipv6Addr, Ipv6Addr) = range_of(&theirs["Network range"]);
        assert_eq!(first.to_string(), field(ours, "first"), "{what}");
        assert_eq!(last.to_string(), field(ours, "last"), "{what}");
        let span = last.to_bits() - first.to_bits();
        let count = span
            .checked_add(1)
            .map_or("340282366920938463463374607431768211456".to_string(), |n| {
                n.to_string()
            });
        assert_eq!(count, field(ours, "addresses"), "{what}");
        assert!(
            sipcalc_type_allows(&theirs["Address type"], field(ours, "space")),
            "{what}"
        );
        compared += 1;
    }
    assert!(compared >= 250, "{compared}");
}

#[test]
fn ipv4_mapped_and_6to4_addresses_show_the_ipv4_address_inside() {
    let mapped = calc_json(&["::ffff:10.1.2.3"]);
    assert_eq!(mapped["facts"]["embedded_ipv4"], "10.1.2.3");
    assert_eq!(mapped["facts"]["space"], "ipv4-mapped");
    assert_eq!(mapped["facts"]["prefix"], 128, "sipcalc's default for IPv6");
    // sipcalc -e reads the same address inside.
    let theirs = anchor("sipcalc", &["-e", "::ffff:10.1.2.3/128"]);
    assert!(theirs.contains("::ffff:10.1.2.3"), "{theirs}");
    let six_to_four = calc_json(&["2002:c000:0204::1/48"]);
    assert_eq!(six_to_four["facts"]["embedded_ipv4"], "192.0.2.4");
    assert_eq!(six_to_four["facts"]["space"], "6to4");
    let ula = calc_json(&["fd12:3456::1/48"]);
    assert_eq!(ula["facts"]["space"], "ula");
    assert!(ula["facts"]["embedded_ipv4"].is_null());
}

#[test]
fn split_subnets_equal_ipcalcs_and_sipcalcs_listings() {
    let mut rng = XorShift(0x5eed_5b11_7000_0003);
    let mut compared = 0;
    for _ in 0..40 {
        let prefix = rng.below(31) as u8;
        let split = prefix + 1 + rng.below(u64::from((32 - prefix).min(5))) as u8;
        let network = format!("{}/{prefix}", Ipv4Addr::from(rng.next() as u32));
        let ours = calc_json(&[&network, "--split", &split.to_string()]);
        let subnets = ours["split"]["subnets"].as_array().unwrap();
        assert_eq!(ours["split"]["count"], 1u64 << (split - prefix));
        let theirs = ipcalc_subnets(&anchor(
            "ipcalc",
            &["-n", "-b", &network, &format!("/{split}")],
        ));
        assert_eq!(subnets.len(), theirs.len(), "{network} /{split}");
        for (ours, theirs) in subnets.iter().zip(&theirs) {
            let what = format!("{network} /{split}: ours {ours}, ipcalc {theirs:?}");
            assert_hosts_equal_ipcalcs(ours, theirs, &what);
            let hosts = theirs["Hosts/Net"].split_whitespace().next().unwrap();
            assert_eq!(hosts, ours["hosts"].to_string(), "{what}");
        }
        // sipcalc -s lists the same subnets as ranges.
        let ranges =
            sipcalc_split_ranges(&anchor("sipcalc", &["-s", &split.to_string(), &network]));
        let ours_ranges: Vec<String> = subnets
            .iter()
            .map(|s| {
                let last = s["broadcast"]
                    .as_str()
                    .unwrap_or_else(|| field(s, "host_max"));
                let first = field(s, "network").split('/').next().unwrap().to_string();
                format!("{first} - {last}")
            })
            .collect();
        assert_eq!(ranges, ours_ranges, "{network} split /{split} vs sipcalc");
        compared += subnets.len();
    }
    assert!(compared >= 100, "{compared}");
}

#[test]
fn ipv6_split_equals_sipcalcs() {
    let mut rng = XorShift(0x5eed_5b11_7000_0006);
    for input in v6_inputs(20).iter().take(20) {
        let prefix: u8 = input.split('/').nth(1).unwrap().parse().unwrap();
        if prefix >= 126 {
            continue;
        }
        let split = prefix + 1 + rng.below(3) as u8;
        let ours = calc_json(&[input, "--split", &split.to_string()]);
        let ours_ranges: Vec<String> = ours["split"]["subnets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| format!("{} - {}", field(s, "first"), field(s, "last")))
            .collect();
        let theirs = sipcalc_split_ranges(&anchor("sipcalc", &["-S", &split.to_string(), input]));
        assert_eq!(ours_ranges, theirs, "{input} split /{split}");
    }
}

fn networks(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn range_deaggregation_equals_ipcalcs() {
    let mut rng = XorShift(0x5eed_4a46_0000_0004);
    let mut compared = 0;
    for i in 0..60 {
        let start = rng.next() as u32;
        let span = match i % 3 {
            0 => rng.below(64) as u32,
            1 => rng.below(1 << 20) as u32,
            _ => rng.next() as u32,
        };
        let end = start.saturating_add(span);
        let (start, end) = (
            Ipv4Addr::from(start).to_string(),
            Ipv4Addr::from(end).to_string(),
        );
        let ours = calc_json(&["--range", &start, &end]);
        let theirs = ipcalc_range(&start, &end);
        assert_eq!(
            networks(&ours["range"]["networks"]),
            theirs,
            "{start} - {end}"
        );
        compared += theirs.len();
    }
    let whole = calc_json(&["--range", "0.0.0.0", "255.255.255.255"]);
    assert_eq!(networks(&whole["range"]["networks"]), ["0.0.0.0/0"]);
    assert!(compared >= 200, "{compared}");
}

#[test]
fn ipv6_ranges_are_the_fewest_aligned_networks() {
    let mut rng = XorShift(0x5eed_4a46_0000_0006);
    for i in 0..40 {
        let start = (u128::from(rng.next()) << 64) | u128::from(rng.next());
        let span = match i % 2 {
            0 => u128::from(rng.below(1 << 16)),
            _ => u128::from(rng.next()) << rng.below(60),
        };
        let end = start.saturating_add(span);
        let (s, e) = (
            Ipv6Addr::from(start).to_string(),
            Ipv6Addr::from(end).to_string(),
        );
        let ours = networks(&calc_json(&["--range", &s, &e])["range"]["networks"]);
        let model: Vec<String> = greedy_blocks(start, end, 128)
            .into_iter()
            .map(|(at, prefix)| format!("{}/{prefix}", Ipv6Addr::from(at)))
            .collect();
        assert_eq!(ours, model, "{s} - {e}");
    }
}

#[test]
fn summarize_covers_exactly_the_networks_given_with_ipcalcs_fewest_blocks() {
    let mut rng = XorShift(0x5eed_5000_0000_0005);
    for _ in 0..30 {
        // Networks inside 10.0.0.0/24, so the covered set is a 256-bit map.
        let mut covered = [false; 256];
        let mut given = Vec::new();
        for _ in 0..1 + rng.below(8) {
            let prefix = 24 + rng.below(9) as u32;
            let size = 1usize << (32 - prefix);
            let at = (rng.below(256) as usize) & !(size - 1);
            covered[at..at + size].iter_mut().for_each(|c| *c = true);
            given.push(format!(
                "10.0.0.{}/{prefix}",
                at + rng.below(size as u64) as usize
            ));
        }
        let mut args = vec!["--summarize"];
        args.extend(given.iter().map(String::as_str));
        let ours = networks(&calc_json(&args)["summarize"]["networks"]);
        // Every maximal run of covered addresses, deaggregated by ipcalc -r.
        let mut expected = Vec::new();
        let mut at = 0;
        while at < 256 {
            if !covered[at] {
                at += 1;
                continue;
            }
            let start = at;
            while at < 256 && covered[at] {
                at += 1;
            }
            expected.extend(ipcalc_range(
                &format!("10.0.0.{start}"),
                &format!("10.0.0.{}", at - 1),
            ));
        }
        assert_eq!(ours, expected, "summarize {given:?}");
    }
}

#[test]
fn a_dotted_mask_and_an_address_alone_read_as_ipcalc_reads_them() {
    let dotted = calc_json(&["10.0.0.1", "255.255.0.0"]);
    assert_eq!(dotted["facts"]["network"], "10.0.0.0/16");
    assert_eq!(dotted, calc_json(&["10.0.0.1/255.255.0.0"]));
    // ipcalc also takes a wildcard (Cisco's inverse mask) and a bare length.
    for mask in ["255.255.0.0", "0.0.255.255", "16"] {
        let theirs = ipcalc_fields(&anchor("ipcalc", &["-n", "-b", "10.0.0.1", mask]));
        assert_eq!(
            theirs["Netmask"], "255.255.0.0 = 16",
            "ipcalc 10.0.0.1 {mask}"
        );
        assert_eq!(
            calc_json(&["10.0.0.1", mask]),
            dotted,
            "netdx calc 10.0.0.1 {mask}"
        );
    }
    assert_eq!(
        calc_json(&["2001:db8::1", "64"]),
        calc_json(&["2001:db8::1/64"])
    );
    let theirs = ipcalc_fields(&anchor("ipcalc", &["-n", "-b", "10.0.0.1"]));
    let alone = calc_json(&["10.0.0.1"]);
    assert_eq!(theirs["Network"], "10.0.0.0/24");
    assert_eq!(alone["facts"]["network"], theirs["Network"].as_str());
}

#[test]
fn contains_answers_by_the_and_and_exits_1_when_an_address_is_outside() {
    let inside = netdx(&["calc", "172.16.10.1/24", "--contains", "172.16.10.2"]);
    assert_eq!(inside.status.code(), Some(0), "{inside:?}");
    assert_eq!(
        stdout(&inside),
        "172.16.10.2 AND 255.255.255.0 = 172.16.10.0: in 172.16.10.0/24, the same subnet as 172.16.10.1\n"
    );
    let outside = netdx(&[
        "--json",
        "calc",
        "172.16.10.1/24",
        "--contains",
        "172.16.10.2",
        "172.16.11.1",
    ]);
    assert_eq!(outside.status.code(), Some(1), "{outside:?}");
    let document = assert_schema_valid_output("calc", &outside.stdout);
    let verdicts: Vec<&Value> = document["contains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["contained"])
        .collect();
    assert_eq!(verdicts, [true, false]);
    assert_eq!(document["contains"][1]["masked"], "172.16.11.0");
}

#[test]
fn binary_view_shows_the_address_the_mask_and_their_and_with_the_boundary() {
    let out = netdx(&["calc", "172.16.10.1/24", "--binary"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let bits = |label: &str| {
        text.lines()
            .find(|line| line.starts_with(label))
            .map(|line| line[32..].to_string())
            .unwrap_or_else(|| panic!("no {label} line in\n{text}"))
    };
    assert_eq!(bits("Address:"), "10101100.00010000.00001010. 00000001");
    assert_eq!(bits("Netmask:"), "11111111.11111111.11111111. 00000000");
    assert_eq!(bits("Network:"), "10101100.00010000.00001010. 00000000");
    assert!(
        text.contains("172.16.10.1 AND 255.255.255.0 = 172.16.10.0"),
        "{text}"
    );
    // ipcalc's default (non-brief) view has the same bits.
    let theirs = anchor("ipcalc", &["-n", "172.16.10.1/24"]);
    assert!(
        theirs.contains("10101100.00010000.00001010. 00000001"),
        "{theirs}"
    );
}

#[test]
fn the_default_view_has_ipcalcs_labels() {
    let out = netdx(&["calc", "10.0.0.1/31"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for label in [
        "Address:",
        "Netmask:",
        "Wildcard:",
        "Network:",
        "HostMin:",
        "HostMax:",
        "Hosts/Net:",
    ] {
        assert!(text.contains(label), "{label} missing:\n{text}");
    }
    assert!(!text.contains("Broadcast:"), "a /31 has none:\n{text}");
    assert!(text.contains("RFC 3021"), "{text}");
    let v6 = stdout(&netdx(&["calc", "2001:db8::1/64"]));
    assert!(
        v6.contains("Expanded:  2001:0db8:0000:0000:0000:0000:0000:0001"),
        "{v6}"
    );
    assert!(v6.contains("Addresses: 18446744073709551616"), "{v6}");
}

#[test]
fn bad_input_is_one_line_with_a_remedy_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["10.0.0.256"], "is not an IP address"),
        (&["10.0.0.1/33"], "use /0 to /32"),
        (&["2001:db8::/129"], "use /0 to /128"),
        (&["10.0.0.1", "255.0.255.0"], "not contiguous"),
        (&["10.0.0.1/8", "255.255.0.0"], "give one of them"),
        (&["2001:db8::1", "255.255.0.0"], "write the prefix length"),
        (
            &["10.0.0.0/24", "--split", "16"],
            "split into a longer prefix",
        ),
        (&["0.0.0.0/0", "--split", "32"], "split into /16 or shorter"),
        (&["::/0", "--split", "/128"], "split into /16 or shorter"),
        (
            &["--range", "10.0.0.9", "10.0.0.1"],
            "give the lower address first",
        ),
        (
            &["--range", "10.0.0.1", "::1"],
            "use addresses of one family",
        ),
        (
            &["10.0.0.0/8", "--contains", "::1"],
            "use addresses of one family",
        ),
        (
            &["--summarize", "10.0.0.0/8", "::/0"],
            "use addresses of one family",
        ),
        (&["10.0.0.1", "33"], "use /0 to /32"),
        (&[], "required"),
    ];
    for (args, fragment) in cases {
        let mut full = vec!["calc"];
        full.extend_from_slice(args);
        assert_one_line_error(&netdx(&full), fragment);
    }
    assert_one_line_error(
        &netdx(&["--json-stream", "calc", "10.0.0.1"]),
        "`calc` prints one document; use --json",
    );
}

#[test]
fn the_largest_split_allowed_lists_65536_subnets() {
    let out = netdx(&["--json", "calc", "10.0.0.0/8", "--split", "24"]);
    assert_eq!(out.status.code(), Some(0));
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(document["split"]["count"], 65536);
    assert_eq!(
        document["split"]["subnets"].as_array().unwrap().len(),
        65536
    );
    assert_eq!(
        document["split"]["subnets"][65535]["network"],
        "10.255.255.0/24"
    );
}
