//! Interface views: ifconfig's classic blocks and the `ifconfig -s` table.

use std::fmt::Write;
use std::net::IpAddr;

use comfy_table::Cell;

use super::{Output, Role, Style, table, units::ifconfig_bytes};
use crate::iface::link_type::{
    ARPHRD_ETHER, ARPHRD_LOOPBACK, ARPHRD_PPP, ARPHRD_SIT, ARPHRD_TUNNEL,
};
use crate::iface::{Address, Interface, ipv6_scope_bits};

/// Indentation of every line under an interface's name, as in net-tools 2.10.
const INDENT: &str = "        ";

/// Interfaces in ifconfig's long layout, one block each, separated by blank lines.
pub fn classic(interfaces: &[Interface], style: &Style) -> String {
    let mut text = String::new();
    for iface in interfaces {
        block(&mut text, iface, style);
    }
    text
}

fn block(text: &mut String, iface: &Interface, style: &Style) {
    let _ = writeln!(
        text,
        "{}: flags={}<{}>  mtu {}",
        style.paint(Role::Name, &super::printable(&iface.name)),
        iface.flags_value,
        iface.flags.join(","),
        iface.mtu.map_or_else(|| "-".to_string(), |m| m.to_string()),
    );
    for address in &iface.addresses {
        address_line(text, address, style);
    }
    hardware_line(text, iface, style);
    if let Some(s) = &iface.stats {
        let _ = writeln!(
            text,
            "{INDENT}RX packets {}  bytes {} ({})",
            s.rx_packets,
            s.rx_bytes,
            ifconfig_bytes(s.rx_bytes)
        );
        let _ = writeln!(
            text,
            "{INDENT}RX errors {}  dropped {}  overruns {}  frame {}",
            s.rx_errors, s.rx_dropped, s.rx_overruns, s.rx_frame
        );
        let _ = writeln!(
            text,
            "{INDENT}TX packets {}  bytes {} ({})",
            s.tx_packets,
            s.tx_bytes,
            ifconfig_bytes(s.tx_bytes)
        );
        // net-tools prints a single space before "overruns" on this line; scripts rely on it.
        let _ = writeln!(
            text,
            "{INDENT}TX errors {}  dropped {} overruns {}  carrier {}  collisions {}",
            s.tx_errors, s.tx_dropped, s.tx_overruns, s.tx_carrier, s.collisions
        );
    }
    text.push('\n');
}

fn address_line(text: &mut String, address: &Address, style: &Style) {
    match address.address {
        IpAddr::V4(ip) => {
            let _ = write!(
                text,
                "{INDENT}inet {}",
                style.paint(Role::Inet, &ip.to_string())
            );
            if let Some(mask) = address.netmask {
                let _ = write!(text, "  netmask {mask}");
            }
            if let Some(broadcast) = address.broadcast {
                let _ = write!(text, "  broadcast {broadcast}");
            }
            if let Some(peer) = address.peer {
                let _ = write!(text, "  destination {peer}");
            }
        }
        IpAddr::V6(ip) => {
            let scope = ipv6_scope_bits(&ip);
            let _ = write!(
                text,
                "{INDENT}inet6 {}  prefixlen {}  scopeid {:#x}<{}>",
                style.paint(Role::Inet6, &ip.to_string()),
                address.prefix_len,
                scope,
                scope_names(scope)
            );
            if let Some(peer) = address.peer {
                let _ = write!(text, "  destination {peer}");
            }
        }
    }
    text.push('\n');
}

/// ifconfig's `<compat,global,link,site,host>` spelling of scope bits.
fn scope_names(mut scope: u32) -> String {
    let mut names = Vec::new();
    if scope & 0x80 != 0 {
        names.push("compat");
        scope -= 0x80;
    }
    if scope == 0 {
        names.push("global");
    }
    for (bit, name) in [(0x20, "link"), (0x40, "site"), (0x10, "host")] {
        if scope & bit != 0 {
            names.push(name);
        }
    }
    names.join(",")
}

fn hardware_line(text: &mut String, iface: &Interface, style: &Style) {
    let mac = iface.mac.as_deref().unwrap_or("");
    let (kind, title) = match iface.link_type.0 {
        ARPHRD_ETHER => ("ether", "Ethernet"),
        ARPHRD_LOOPBACK => ("loop", "Local Loopback"),
        ARPHRD_TUNNEL => ("tunnel", "IPIP Tunnel"),
        ARPHRD_SIT => ("sit", "IPv6-in-IPv4"),
        ARPHRD_PPP => ("ppp", "Point-to-Point Protocol"),
        _ => ("unspec", "UNSPEC"),
    };
    let _ = write!(text, "{INDENT}{kind}");
    match kind {
        "ether" if !mac.is_empty() => {
            let _ = write!(text, " {}", style.paint(Role::Mac, mac));
        }
        "unspec" => {
            // ifconfig shows unknown hardware addresses as 16 dash-separated bytes.
            let _ = write!(text, " {}", unspec_address(mac));
        }
        _ => {}
    }
    if let Some(queue) = iface.txqueuelen {
        let _ = write!(text, "  txqueuelen {queue}");
    }
    let _ = writeln!(text, "  ({title})");
}

fn unspec_address(mac: &str) -> String {
    let mut bytes: Vec<String> = mac
        .split(':')
        .filter(|part| part.len() == 2)
        .map(str::to_uppercase)
        .collect();
    bytes.resize(16, "00".to_string());
    bytes.join("-")
}

/// `ifconfig -s` / `netstat -i`: one row of counters per interface.
pub fn short_table(interfaces: &[Interface], out: &Output) -> String {
    let headers = [
        "Iface", "MTU", "RX-OK", "RX-ERR", "RX-DRP", "RX-OVR", "TX-OK", "TX-ERR", "TX-DRP",
        "TX-OVR", "Flg",
    ];
    let mut rows = table::new(&headers, &[1, 2, 3, 4, 5, 6, 7, 8, 9], out);
    for iface in interfaces {
        let stats = iface.stats.unwrap_or_default();
        let number = |value: u64| Cell::new(value);
        rows.add_row(vec![
            table::cell(super::printable(&iface.name), Role::Name),
            Cell::new(iface.mtu.map_or_else(|| "-".to_string(), |m| m.to_string())),
            number(stats.rx_packets),
            number(stats.rx_errors),
            number(stats.rx_dropped),
            number(stats.rx_overruns),
            number(stats.tx_packets),
            number(stats.tx_errors),
            number(stats.tx_dropped),
            number(stats.tx_overruns),
            Cell::new(iface.if_flags().short_code()),
        ]);
    }
    table::finish(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_read_like_ifconfig() {
        assert_eq!(scope_names(0x20), "link");
        assert_eq!(scope_names(0x10), "host");
        assert_eq!(scope_names(0), "global");
        assert_eq!(scope_names(0x80), "compat,global");
    }

    #[test]
    fn unknown_hardware_is_sixteen_dashed_bytes() {
        assert_eq!(
            unspec_address(""),
            "00-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00"
        );
        assert!(unspec_address("0a:0b").starts_with("0A-0B-00"));
    }
}
