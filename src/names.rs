//! Host names for addresses netdx shows (reverse DNS through the system
//! resolver), looked up once per address.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::IpAddr;

/// The names of `addresses` that have one; unspecified addresses and
/// addresses whose lookup fails or only echoes the address are left out.
pub fn reverse(addresses: impl IntoIterator<Item = IpAddr>) -> HashMap<IpAddr, String> {
    let mut names = HashMap::new();
    let mut tried = std::collections::HashSet::new();
    for address in addresses {
        if address.is_unspecified() || !tried.insert(address) {
            continue;
        }
        if let Ok(name) = dns_lookup::lookup_addr(&address)
            && name != address.to_string()
        {
            names.insert(address, name);
        }
    }
    names
}
