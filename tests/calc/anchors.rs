//! The anchors of tests/calc.rs: running ipcalc and sipcalc, reading their
//! output, the seeded inputs both are given, and the model of a range's
//! fewest networks.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;

/// A tiny seeded xorshift64: the same "random" inputs on every run.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Runs an anchor tool and returns its stdout.
pub fn anchor(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|err| panic!("{tool} runs (scripts/test installs it): {err}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the anchor once per argument list, up to 8 runs at a time; their
/// stdouts in order.
pub fn anchor_all(tool: &str, runs: &[Vec<&str>]) -> Vec<String> {
    let mut outputs = Vec::with_capacity(runs.len());
    for batch in runs.chunks(8) {
        let children: Vec<std::process::Child> = batch
            .iter()
            .map(|args| {
                Command::new(tool)
                    .args(args)
                    .env("LC_ALL", "C")
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|err| panic!("{tool} runs (scripts/test installs it): {err}"))
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("the anchor finishes");
            outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        }
    }
    outputs
}

/// `Label: value` lines of ipcalc's brief output, the label without its colon.
pub fn ipcalc_fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(label, value)| (label.trim().to_string(), value.trim().to_string()))
        .collect()
}

/// sipcalc's blocks, one per argument (each opens with a `-[ipv4 : …]`
/// line), as `field - value` maps; a range's second line is joined to its first.
pub fn sipcalc_blocks(text: &str) -> Vec<HashMap<String, String>> {
    let mut blocks: Vec<HashMap<String, String>> = Vec::new();
    let mut last_key = String::new();
    for line in text.lines() {
        if line.starts_with("-[") {
            blocks.push(HashMap::new());
            continue;
        }
        let Some(block) = blocks.last_mut() else {
            continue;
        };
        if let Some((key, value)) = line.split_once("\t- ") {
            last_key = key.trim().to_string();
            block.insert(last_key.clone(), value.trim().to_string());
        } else if line.starts_with('\t') {
            if let Some(value) = block.get_mut(&last_key) {
                value.push(' ');
                value.push_str(line.trim());
            }
        }
    }
    blocks
}

/// sipcalc's block for each input, from runs of 60 inputs at a time.
pub fn sipcalc_each(inputs: &[String]) -> Vec<(&str, HashMap<String, String>)> {
    let mut pairs = Vec::new();
    for chunk in inputs.chunks(60) {
        let args: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let blocks = sipcalc_blocks(&anchor("sipcalc", &args));
        assert_eq!(blocks.len(), chunk.len(), "{blocks:?}");
        pairs.extend(args.into_iter().zip(blocks));
    }
    pairs
}

/// `a - b` as two addresses.
pub fn range_of<T: std::str::FromStr>(text: &str) -> (T, T)
where
    T::Err: std::fmt::Debug,
{
    let (first, last) = text
        .split_once(" - ")
        .unwrap_or_else(|| panic!("not a range: {text}"));
    (
        first.trim().parse().unwrap(),
        last.trim().trim_end_matches(" -").parse().unwrap(),
    )
}

/// IPv4 inputs: seeded random addresses with every prefix 0–32 several
/// times, and the special blocks ipcalc remarks on.
pub fn v4_inputs(count: usize) -> Vec<String> {
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let mut inputs: Vec<String> = [
        "172.16.10.1/24",
        "10.0.0.1/31",
        "10.0.0.1/32",
        "1.2.3.4/0",
        "192.168.1.1/1",
        "127.0.0.1/8",
        "169.254.7.7/16",
        "224.1.2.3/4",
        "239.255.255.255/32",
        "255.255.255.255/32",
        "0.0.0.0/0",
    ]
    .map(String::from)
    .to_vec();
    for i in 0..count {
        let address = Ipv4Addr::from(rng.next() as u32);
        let prefix = i % 33;
        inputs.push(format!("{address}/{prefix}"));
    }
    inputs
}

/// The remark ipcalc makes about the four blocks it knows, as netdx's space.
pub fn ipcalc_space(remarks: &str) -> Option<&'static str> {
    for (remark, space) in [
        ("Private Internet", "private"),
        ("Loopback", "loopback"),
        ("APIPA", "link-local"),
        ("Multicast", "multicast"),
    ] {
        if remarks.contains(remark) {
            return Some(space);
        }
    }
    None
}

/// IPv6 inputs: groups often zero (so `::` is exercised), first groups from
/// the blocks sipcalc names, every prefix 0–128 and the edges.
pub fn v6_inputs(count: usize) -> Vec<String> {
    let mut rng = XorShift(0x5eed_6666_0000_beef);
    const FIRST: [u16; 12] = [
        0x2001, 0x2a00, 0x2002, 0x3fff, 0xfe80, 0xfec0, 0xfd00, 0xfc12, 0xff02, 0x0000, 0x4000,
        0x0100,
    ];
    let mut inputs: Vec<String> = [
        "2001:db8::1/64",
        "::/0",
        "::1/128",
        "fe80::1/127",
        "8000::1/1",
        "2001:db8:0:1:1:0:0:1/48",
        "1:0:0:1:1:0:0:1/128",
    ]
    .map(String::from)
    .to_vec();
    let edges = [0u64, 1, 2, 63, 64, 65, 127, 128];
    for i in 0..count {
        let mut groups = [0u16; 8];
        for group in &mut groups {
            *group = match rng.below(4) {
                0 | 1 => 0,
                2 => rng.below(16) as u16,
                _ => rng.next() as u16,
            };
        }
        groups[0] = match rng.below(8) {
            0 => rng.next() as u16,
            _ => {
                FIRST[rng.below(FIRST.len() as u64) as usize]
                    | (rng.below(4) as u16 * (i % 2) as u16)
            }
        };
        let address = Ipv6Addr::from(groups);
        let prefix = if i % 4 == 0 {
            edges[(i / 4) % edges.len()]
        } else {
            rng.below(129)
        };
        inputs.push(format!("{address}/{prefix}"));
    }
    inputs
}

/// Today's spaces inside each of sipcalc's (RFC 2373's) address types.
pub fn sipcalc_type_allows(sipcalc_type: &str, space: &str) -> bool {
    let allowed: &[&str] = match sipcalc_type {
        "Link-Local Unicast Addresses" => &["link-local"],
        "Site-Local Unicast Addresses" => &["site-local"],
        "Multicast Addresses" => &["multicast"],
        "Aggregatable Global Unicast Addresses" => &[
            "global",
            "documentation",
            "teredo",
            "benchmarking",
            "orchid",
            "6to4",
        ],
        "Reserved" => &[
            "unspecified",
            "loopback",
            "ipv4-mapped",
            "nat64",
            "reserved",
        ],
        "Unassigned" => &["reserved", "ula", "discard"],
        other => panic!("sipcalc type {other} not mapped"),
    };
    allowed.contains(&space)
}

/// ipcalc's subnet listing (`ipcalc NET/P /Q`): each subnet's fields.
pub fn ipcalc_subnets(text: &str) -> Vec<HashMap<String, String>> {
    let Some((_, listing)) = text.split_once("Subnets after transition") else {
        return Vec::new();
    };
    let mut subnets = Vec::new();
    for block in listing.split("\n\n").skip(1) {
        let mut lines = block.lines();
        let Some(number) = lines.next() else { continue };
        if !number.trim().ends_with('.') {
            continue;
        }
        subnets.push(ipcalc_fields(&lines.collect::<Vec<_>>().join("\n")));
    }
    subnets
}

/// The `Network - first - last` ranges of a sipcalc split, in order.
pub fn sipcalc_split_ranges(text: &str) -> Vec<String> {
    let mut ranges = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("Network\t") else {
            continue;
        };
        let mut range = rest.trim().trim_start_matches("- ").to_string();
        if range.ends_with('-') {
            if let Some(next) = lines.next() {
                range.push(' ');
                range.push_str(next.trim());
            }
        }
        let (first, last) = range.split_once(" - ").unwrap();
        let canonical = |text: &str| text.trim().parse::<IpAddr>().unwrap().to_string();
        ranges.push(format!("{} - {}", canonical(first), canonical(last)));
    }
    ranges
}

/// ipcalc -r's deaggregation of START - END.
pub fn ipcalc_range(start: &str, end: &str) -> Vec<String> {
    anchor("ipcalc", &["-n", "-r", start, "-", end])
        .lines()
        .filter(|line| line.contains('/'))
        .map(str::to_string)
        .collect()
}

/// The fewest aligned blocks covering `start..=end` of a `bits`-bit
/// family, as (first address, prefix): the model --range is held to.
pub fn greedy_blocks(start: u128, end: u128, bits: u32) -> Vec<(u128, u32)> {
    let host_mask = |size_bits: u32| u128::MAX.checked_shr(128 - size_bits).unwrap_or(0);
    let mut blocks = Vec::new();
    let mut at = start;
    loop {
        // The largest block aligned at `at` that ends by `end`.
        let mut size_bits = at.trailing_zeros().min(bits);
        while size_bits > 0 && at | host_mask(size_bits) > end {
            size_bits -= 1;
        }
        let last = at | host_mask(size_bits);
        blocks.push((at, bits - size_bits));
        if last >= end {
            return blocks;
        }
        at = last + 1;
    }
}
