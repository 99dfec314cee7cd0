//! Neighbour views: the table in arp -n's columns.

use std::fmt::Write;

use crate::neigh::{Neighbour, State};

/// The entries in `arp -n`'s columns (Address, HWtype, HWaddress, Flags,
/// Mask, Iface) with the kernel's state added; the address column widens
/// for IPv6 addresses instead of cutting them as arp does.
pub fn table(entries: &[Neighbour]) -> String {
    let width = entries
        .iter()
        .map(|e| e.address.to_string().len())
        .chain([23])
        .max()
        .unwrap_or(23);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<width$}  {:<8}{:<20}{:<6}{:<15} {:<10} State",
        "Address", "HWtype", "HWaddress", "Flags", "Mask", "Iface"
    );
    for entry in entries {
        let resolved = entry.mac.is_some()
            && !entry
                .state
                .iter()
                .any(|s| matches!(s, State::Incomplete | State::Failed));
        let (hwtype, hwaddress) = match (&entry.mac, resolved) {
            (Some(mac), true) => ("ether", mac.clone()),
            _ => ("", "(incomplete)".to_string()),
        };
        let mut flags = String::new();
        if resolved {
            flags.push('C');
        }
        if entry.state.contains(&State::Permanent) {
            flags.push('M');
        }
        if entry.router {
            flags.push('R');
        }
        let states: Vec<&str> = entry.state.iter().map(|s| s.name()).collect();
        let _ = writeln!(
            text,
            "{:<width$}  {:<8}{:<20}{:<6}{:<15} {:<10} {}",
            entry.address.to_string(),
            hwtype,
            hwaddress,
            flags,
            "",
            super::printable(&entry.interface),
            if states.is_empty() {
                "-".to_string()
            } else {
                states.join(",")
            }
        );
    }
    text
}

/// `neigh scan`'s table: one line per (address, MAC), arp-scan's columns
/// with the round trip and the flags, then the totals and each duplicate
/// spelt out.
pub fn scan(report: &crate::neigh::scan::ScanReport) -> String {
    let mut text = String::new();
    let family = if report.source.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    };
    let _ = writeln!(
        text,
        "Interface: {}, MAC: {}, {family}: {}; scanning {} ({} addresses{})",
        super::printable(&report.interface),
        report.mac,
        report.source,
        report.network,
        report.addresses,
        if report.all_nodes_echo {
            ", and an echo to all nodes"
        } else {
            ""
        }
    );
    if report.all_nodes_echo && report.addresses == 0 {
        let _ = writeln!(
            text,
            "{} is too large to ask address by address: only the all-nodes echo asked (give a CIDR of /112 or longer to ask each address)",
            report.network
        );
    }
    for host in &report.hosts {
        let mut notes = Vec::new();
        if host.duplicate {
            notes.push("DUPLICATE");
        }
        if host.shared_mac {
            notes.push("shared MAC");
        }
        if host.router {
            notes.push("router");
        }
        if host.found_by == crate::neigh::scan::Via::AllNodesEcho {
            notes.push("all-nodes echo");
        }
        let rtt = host
            .rtt_ms
            .map_or_else(|| "-".to_string(), |ms| format!("{ms:.3} ms"));
        let vendor = host.vendor.as_deref().map_or("(Unknown)".to_string(), |v| {
            super::printable(v).into_owned()
        });
        let _ = writeln!(
            text,
            "{:<15}  {}  {:>10}  {}{}",
            host.address.to_string(),
            host.mac,
            rtt,
            vendor,
            if notes.is_empty() {
                String::new()
            } else {
                format!("  [{}]", notes.join(", "))
            }
        );
    }
    let echo = crate::neigh::scan::Via::AllNodesEcho;
    let distinct = |by_echo: bool| {
        let mut addresses: Vec<_> = report
            .hosts
            .iter()
            .filter(|h| (h.found_by == echo) == by_echo)
            .map(|h| h.address)
            .collect();
        addresses.dedup();
        addresses.len()
    };
    let others = if report.all_nodes_echo {
        format!(", {} more by the all-nodes echo", distinct(true))
    } else {
        String::new()
    };
    let _ = writeln!(
        text,
        "{} of {} addresses answered{others} in {:.3} s ({} requests sent)",
        distinct(false),
        report.addresses,
        report.elapsed_ms / 1000.0,
        report.sent
    );
    let mut last = None;
    for host in report.hosts.iter().filter(|h| h.duplicate) {
        if last == Some(host.address) {
            continue;
        }
        last = Some(host.address);
        let macs: Vec<&str> = report
            .hosts
            .iter()
            .filter(|h| h.address == host.address)
            .map(|h| h.mac.as_str())
            .collect();
        let _ = writeln!(
            text,
            "Duplicate: {} MACs answered for {}: {}",
            macs.len(),
            host.address,
            macs.join(", ")
        );
    }
    text
}

/// The progress line a terminal sees on stderr while a scan runs.
pub fn progress(progress: crate::neigh::scan::Progress) -> String {
    format!(
        "\rasked {}/{} addresses, {} answered ",
        progress.asked, progress.total, progress.found
    )
}
