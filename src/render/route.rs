//! `route get`'s answer, in ip route get's words.

use std::fmt::Write;

use crate::routes::get::Lookup;

/// The route as `ip route get` prints it, then the MTU and the next hop's
/// neighbour entry on a second line.
pub fn lookup(route: &Lookup) -> String {
    let mut line = String::new();
    if route.kind != "unicast" {
        let _ = write!(line, "{} ", route.kind);
    }
    let _ = write!(line, "{}", route.destination);
    if let Some(from) = route.from {
        let _ = write!(line, " from {from}");
    }
    if let Some(gateway) = route.gateway {
        let _ = write!(line, " via {gateway}");
    }
    if let Some(interface) = &route.interface {
        let _ = write!(line, " dev {}", super::printable(interface));
    }
    if !matches!(route.table, 254 | 255) {
        let _ = write!(line, " table {}", route.table);
    }
    if let Some(source) = route.source {
        let _ = write!(line, " src {source}");
    }
    if let Some(iif) = &route.iif {
        let _ = write!(line, " iif {}", super::printable(iif));
    }
    if let Some(mark) = route.mark {
        let _ = write!(line, " mark {mark}");
    }
    if let Some(uid) = route.uid {
        let _ = write!(line, " uid {uid}");
    }
    let mut detail = Vec::new();
    match (route.route_mtu, route.mtu) {
        (Some(mtu), _) => detail.push(format!("mtu {mtu} (the route's)")),
        (None, Some(mtu)) => detail.push(format!("mtu {mtu} (the interface's)")),
        _ => {}
    }
    if let Some(hop) = &route.next_hop {
        let states: Vec<&str> = hop.state.iter().map(|s| s.name()).collect();
        detail.push(format!(
            "next hop {} is {} ({})",
            hop.address,
            hop.mac.as_deref().unwrap_or("unresolved"),
            states.join(",")
        ));
    } else if route.kind == "unicast" {
        let hop = route.gateway.unwrap_or(route.destination);
        detail.push(format!("next hop {hop} is not in the neighbour table yet"));
    }
    let mut text = line;
    text.push('\n');
    if !detail.is_empty() {
        let _ = writeln!(text, "    {}", detail.join(", "));
    }
    text
}
