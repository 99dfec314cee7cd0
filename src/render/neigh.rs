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
