//! `netdx calc` views: ipcalc's labelled lines, the bit view, subnet lists,
//! membership lines.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::calc::v4::{Class, Ipv4Space};
use crate::calc::v6::Ipv6Space;
use crate::calc::{CalcDocument, Facts, Ipv4Facts, Ipv6Facts, Membership, Split};

/// Where the bits start, as in ipcalc: after an 11-character label and a
/// 21-character value.
const VALUE_WIDTH: usize = 21;

/// The document as text; `binary` adds the bit view.
pub fn text(document: &CalcDocument, binary: bool) -> String {
    let mut text = String::new();
    if let Some(summary) = &document.summarize {
        for network in &summary.networks {
            let _ = writeln!(text, "{network}");
        }
        return text;
    }
    if let Some(range) = &document.range {
        let _ = writeln!(text, "deaggregate {} - {}", range.start, range.end);
        for network in &range.networks {
            let _ = writeln!(text, "{network}");
        }
        return text;
    }
    let Some(facts) = &document.facts else {
        return text;
    };
    if let Some(list) = &document.contains {
        contains(&mut text, facts, list, binary);
        return text;
    }
    match facts {
        Facts::Ipv4(f) => v4_facts(&mut text, f, binary),
        Facts::Ipv6(f) => v6_facts(&mut text, f, binary),
    }
    if let Some(split) = &document.split {
        subnets(&mut text, facts, split, binary);
    }
    text
}

/// One labelled line: `Label:     value`, the bits after it when given.
fn line(text: &mut String, label: &str, value: &str, bits: Option<String>) {
    let label = format!("{label}:");
    match bits {
        Some(bits) => {
            let _ = writeln!(text, "{label:<11}{value:<VALUE_WIDTH$}{bits}");
        }
        None => {
            let _ = writeln!(text, "{label:<11}{value}");
        }
    }
}

fn v4_facts(text: &mut String, f: &Ipv4Facts, binary: bool) {
    let bits = |address: Ipv4Addr| binary.then(|| v4_bits(address, f.prefix));
    line(text, "Address", &f.address.to_string(), bits(f.address));
    let netmask = format!("{} = {}", f.netmask, f.prefix);
    line(text, "Netmask", &netmask, bits(f.netmask));
    if binary {
        let rule = "-".repeat(36);
        let _ = writeln!(text, "{:<11}{:<VALUE_WIDTH$}{rule}", "AND", "");
        line(
            text,
            "Network",
            &f.network.to_string(),
            bits(f.network.network()),
        );
        let _ = writeln!(
            text,
            "=> {} AND {} = {}: the {} bits before the gap are the network, the {} after it the host",
            f.address,
            f.netmask,
            f.network.network(),
            f.prefix,
            32 - f.prefix
        );
        line(text, "Wildcard", &f.wildcard.to_string(), bits(f.wildcard));
    } else {
        line(text, "Wildcard", &f.wildcard.to_string(), None);
        text.push_str("=>\n");
        line(text, "Network", &f.network.to_string(), None);
    }
    v4_hosts(text, f, binary);
}

/// HostMin to Hosts/Net: what ipcalc shows of every network and subnet.
fn v4_hosts(text: &mut String, f: &Ipv4Facts, binary: bool) {
    let bits = |address: Ipv4Addr| binary.then(|| v4_bits(address, f.prefix));
    line(text, "HostMin", &f.host_min.to_string(), bits(f.host_min));
    line(text, "HostMax", &f.host_max.to_string(), bits(f.host_max));
    if let Some(broadcast) = f.broadcast {
        line(text, "Broadcast", &broadcast.to_string(), bits(broadcast));
    }
    let mut remarks = format!("Class {}, {}", class(f.class), v4_space(f.space));
    match f.prefix {
        31 => remarks.push_str(", PtP Link RFC 3021 (no broadcast)"),
        32 => remarks.push_str(", host route"),
        _ => {}
    }
    let _ = writeln!(
        text,
        "{:<11}{:<VALUE_WIDTH$} {remarks}",
        "Hosts/Net:", f.hosts
    );
}

fn v6_facts(text: &mut String, f: &Ipv6Facts, binary: bool) {
    let bits = |address: Ipv6Addr| binary.then(|| v6_bits(address, f.prefix));
    v6_line(text, "Address", &f.compressed, bits(f.address));
    line(text, "Expanded", &f.expanded, None);
    let netmask = format!("{} = {}", f.netmask, f.prefix);
    v6_line(text, "Netmask", &netmask, bits(f.netmask));
    if binary {
        let _ = writeln!(text, "AND        {}", "-".repeat(39));
        v6_line(text, "Network", &f.network.to_string(), bits(f.first));
        let _ = writeln!(
            text,
            "=> {} AND {} = {}: the {} bits before the gap are the network, the {} after it the interface",
            f.compressed,
            f.netmask,
            f.first,
            f.prefix,
            128 - u32::from(f.prefix)
        );
    } else {
        text.push_str("=>\n");
        line(text, "Network", &f.network.to_string(), None);
    }
    v6_range(text, f);
}

/// First to Space: what is shown of every IPv6 network and subnet.
fn v6_range(text: &mut String, f: &Ipv6Facts) {
    line(text, "First", &f.first.to_string(), None);
    line(text, "Last", &f.last.to_string(), None);
    line(text, "Addresses", &f.addresses, None);
    line(text, "Space", v6_space(f.space), None);
    if let Some(v4) = f.embedded_ipv4 {
        line(text, "IPv4", &v4.to_string(), None);
    }
}

/// An IPv6 line: 128 bits don't fit beside the value, so they go below it.
fn v6_line(text: &mut String, label: &str, value: &str, bits: Option<String>) {
    line(text, label, value, None);
    if let Some(bits) = bits {
        let _ = writeln!(text, "  {bits}");
    }
}

fn subnets(text: &mut String, parent: &Facts, split: &Split, binary: bool) {
    let network = match parent {
        Facts::Ipv4(f) => f.network.to_string(),
        Facts::Ipv6(f) => f.network.to_string(),
    };
    let _ = writeln!(
        text,
        "\nSubnets of {network} into /{}: {}",
        split.prefix, split.count
    );
    for (i, subnet) in split.subnets.iter().enumerate() {
        let _ = writeln!(text, "\n{:>2}.", i + 1);
        match subnet {
            Facts::Ipv4(f) => {
                let bits = binary.then(|| v4_bits(f.network.network(), f.prefix));
                line(text, "Network", &f.network.to_string(), bits);
                v4_hosts(text, f, binary);
            }
            Facts::Ipv6(f) => {
                line(text, "Network", &f.network.to_string(), None);
                v6_range(text, f);
            }
        }
    }
}

fn contains(text: &mut String, facts: &Facts, list: &[Membership], binary: bool) {
    let (address, network, netmask, prefix) = match facts {
        Facts::Ipv4(f) => (
            IpAddr::V4(f.address),
            f.network.to_string(),
            IpAddr::V4(f.netmask),
            f.prefix,
        ),
        Facts::Ipv6(f) => (
            IpAddr::V6(f.address),
            f.network.to_string(),
            IpAddr::V6(f.netmask),
            f.prefix,
        ),
    };
    for member in list {
        if binary {
            let bits = |address: IpAddr| match address {
                IpAddr::V4(a) => v4_bits(a, prefix),
                IpAddr::V6(a) => v6_bits(a, prefix),
            };
            let _ = writeln!(text, "{:<11}{}", "", bits(member.address));
            let _ = writeln!(text, "{:<11}{}", "AND", bits(netmask));
            let _ = writeln!(text, "{:<11}{}", "=", bits(member.masked));
        }
        let verdict = match (member.contained, member.address == address) {
            (true, false) => format!("in {network}, the same subnet as {address}"),
            (true, true) => format!("in {network}"),
            (false, _) => format!("not in {network}"),
        };
        let _ = writeln!(
            text,
            "{} AND {netmask} = {}: {verdict}",
            member.address, member.masked
        );
    }
}

/// 32 bits in dotted octets, a space where the network part ends.
fn v4_bits(address: Ipv4Addr, prefix: u8) -> String {
    bits(u128::from(address.to_bits()), 32, 8, '.', prefix)
}

/// 128 bits in colon-separated groups of 16, a space where the prefix ends.
fn v6_bits(address: Ipv6Addr, prefix: u8) -> String {
    bits(address.to_bits(), 128, 16, ':', prefix)
}

/// The low `width` bits of `value`, most significant first, `separator`
/// between groups of `group` bits, and a space after the first `prefix`
/// bits (after the separator when the boundary falls on one, as ipcalc does).
fn bits(value: u128, width: u32, group: u32, separator: char, prefix: u8) -> String {
    let prefix = u32::from(prefix);
    let mut text = String::with_capacity(160);
    for i in 0..width {
        if i > 0 && i % group == 0 {
            text.push(separator);
        }
        if i == prefix {
            text.push(' ');
        }
        let bit = (value >> (width - 1 - i)) & 1;
        text.push(if bit == 1 { '1' } else { '0' });
    }
    if prefix == width {
        text.push(' ');
    }
    text
}

fn class(class: Class) -> &'static str {
    match class {
        Class::A => "A",
        Class::B => "B",
        Class::C => "C",
        Class::D => "D",
        Class::E => "E",
    }
}

fn v4_space(space: Ipv4Space) -> &'static str {
    match space {
        Ipv4Space::ThisNetwork => "This network (RFC 791)",
        Ipv4Space::Private => "Private Internet (RFC 1918)",
        Ipv4Space::Cgnat => "Shared address space, CGNAT (RFC 6598)",
        Ipv4Space::Loopback => "Loopback (RFC 1122)",
        Ipv4Space::LinkLocal => "Link-local, APIPA (RFC 3927)",
        Ipv4Space::IetfProtocol => "IETF protocol assignments (RFC 6890)",
        Ipv4Space::Documentation => "Documentation, TEST-NET (RFC 5737)",
        Ipv4Space::SixToFourRelay => "6to4 relay anycast, deprecated (RFC 7526)",
        Ipv4Space::Benchmarking => "Benchmarking (RFC 2544)",
        Ipv4Space::Multicast => "Multicast (RFC 5771)",
        Ipv4Space::Reserved => "Reserved (RFC 1112)",
        Ipv4Space::LimitedBroadcast => "Limited broadcast (RFC 919)",
        Ipv4Space::Global => "Global",
    }
}

fn v6_space(space: Ipv6Space) -> &'static str {
    match space {
        Ipv6Space::Unspecified => "Unspecified (RFC 4291)",
        Ipv6Space::Loopback => "Loopback (RFC 4291)",
        Ipv6Space::Ipv4Mapped => "IPv4-mapped (RFC 4291)",
        Ipv6Space::Nat64 => "NAT64 well-known prefix (RFC 6052)",
        Ipv6Space::Discard => "Discard-only (RFC 6666)",
        Ipv6Space::Teredo => "Teredo (RFC 4380)",
        Ipv6Space::Benchmarking => "Benchmarking (RFC 5180)",
        Ipv6Space::Orchid => "ORCHID (RFC 7343)",
        Ipv6Space::Documentation => "Documentation (RFC 3849, RFC 9637)",
        Ipv6Space::SixToFour => "6to4 (RFC 3056)",
        Ipv6Space::Ula => "Unique local, ULA (RFC 4193)",
        Ipv6Space::LinkLocal => "Link-local unicast (RFC 4291)",
        Ipv6Space::SiteLocal => "Site-local, deprecated (RFC 3879)",
        Ipv6Space::Multicast => "Multicast (RFC 4291)",
        Ipv6Space::Global => "Global unicast (RFC 4291)",
        Ipv6Space::Reserved => "Reserved by IETF (RFC 4291)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gap_marks_the_prefix_after_an_octet_dot_as_ipcalc_does() {
        let address = Ipv4Addr::new(172, 16, 10, 1);
        assert_eq!(v4_bits(address, 24), "10101100.00010000.00001010. 00000001");
        assert_eq!(v4_bits(address, 26), "10101100.00010000.00001010.00 000001");
        assert_eq!(v4_bits(address, 0), " 10101100.00010000.00001010.00000001");
        assert_eq!(v4_bits(address, 32), "10101100.00010000.00001010.00000001 ");
    }

    #[test]
    fn the_default_view_has_ipcalcs_labels_and_the_binary_view_the_and() {
        let document = crate::calc::answer(&crate::calc::Request::Facts(
            "172.16.10.1/24".parse().unwrap(),
        ))
        .unwrap();
        let plain = text(&document, false);
        for label in [
            "Address:   172.16.10.1",
            "Netmask:   255.255.255.0 = 24",
            "Wildcard:  0.0.0.255",
            "Network:   172.16.10.0/24",
            "HostMin:   172.16.10.1",
            "HostMax:   172.16.10.254",
            "Broadcast: 172.16.10.255",
            "Hosts/Net: 254",
            "Class B, Private Internet (RFC 1918)",
        ] {
            assert!(plain.contains(label), "{label} missing from\n{plain}");
        }
        let binary = text(&document, true);
        assert!(binary.contains("=> 172.16.10.1 AND 255.255.255.0 = 172.16.10.0"));
        assert!(binary.contains("10101100.00010000.00001010. 00000000"));
    }
}
