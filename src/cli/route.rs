//! `netdx route` arguments: `route get`, ip route get's words.

use std::net::IpAddr;

use clap::{Args, Subcommand};

use crate::iface::IfaceName;
use crate::routes::get::Query;

pub(super) const ROUTE_EXAMPLES: &str = "\
Examples:
  netdx route get 10.0.3.2                  the route, gateway, interface, source address and MTU
  netdx route get 10.0.3.2 from 10.0.1.1    as if sent from that address (policy routing)
  netdx route get 10.0.3.2 from 10.0.9.9 iif eth1
                                            as if forwarded: arriving on eth1 from 10.0.9.9
  netdx route get 2001:db8::1 mark 7        what a packet with firewall mark 7 would take
  netdx route get 10.0.3.2 --json           every field (the same facts as ip -j route get)

The kernel answers (RTM_GETROUTE, as for ip route get): nothing is sent. When
the next hop (the gateway, or the destination itself on a link) is in the
neighbour table, its MAC and state are shown too.

Exit status: 0 when the kernel has a route, 2 when it has none or on errors.";

// `netdx route get ADDR …` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// What to ask the routing table
    #[command(subcommand)]
    pub command: RouteCommand,
}

// What to ask the routing table (no doc comment: it would replace `netdx route`'s summary).
#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Which route the kernel takes to ADDR: gateway, interface, source, MTU, next hop's MAC (ip route get)
    #[command(after_help = ROUTE_EXAMPLES)]
    Get(RouteGetArgs),
}

// `netdx route get ADDR [from SRC] [iif IFACE] [oif IFACE] [mark N]`
#[derive(Debug, Args)]
pub struct RouteGetArgs {
    /// The destination address, then ip route get's keywords: from SRC, iif IFACE, oif IFACE, mark N
    #[arg(value_name = "ADDR [from SRC] [iif IFACE] [oif IFACE] [mark N]", required = true, num_args = 1..)]
    pub words: Vec<String>,
}

impl RouteGetArgs {
    /// The words as a lookup, or what is wrong with them.
    pub fn query(&self) -> Result<Query, String> {
        parse_words(&self.words)
    }
}

fn parse_words(words: &[String]) -> Result<Query, String> {
    let mut destination = None;
    let mut from = None;
    let mut iif = None;
    let mut oif = None;
    let mut mark = None;
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let mut value = |keyword: &str| {
            words
                .next()
                .cloned()
                .ok_or_else(|| format!("'{keyword}' needs a value after it"))
        };
        match word.as_str() {
            "from" => from = Some(address(&value("from")?)?),
            "iif" => iif = Some(interface(&value("iif")?)?),
            "oif" => oif = Some(interface(&value("oif")?)?),
            "mark" => mark = Some(mark_value(&value("mark")?)?),
            "to" => destination = Some(address(&value("to")?)?),
            other if destination.is_none() => destination = Some(address(other)?),
            other => {
                return Err(format!(
                    "unexpected '{other}': after the address come from SRC, iif IFACE, oif IFACE or mark N"
                ));
            }
        }
    }
    let destination = destination.ok_or("route get needs a destination address")?;
    Ok(Query {
        destination,
        from,
        iif,
        oif,
        mark,
    })
}

fn address(text: &str) -> Result<IpAddr, String> {
    text.parse().map_err(|_| {
        format!("'{text}' is not an IP address (route get takes addresses, not names)")
    })
}

fn interface(text: &str) -> Result<IfaceName, String> {
    text.parse()
}

fn mark_value(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| {
        format!("mark '{text}' is not a number from 0 to 4294967295 (decimal or 0x hex)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn keywords_follow_the_address_in_any_order() {
        let query = parse_words(&words("10.0.0.1 mark 0x10 from 10.0.0.2 iif eth1")).unwrap();
        assert_eq!(query.destination, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(query.from, Some("10.0.0.2".parse().unwrap()));
        assert_eq!(query.mark, Some(16));
        assert_eq!(query.iif.unwrap().as_str(), "eth1");
        assert_eq!(
            parse_words(&words("to ::1"))
                .unwrap()
                .destination
                .to_string(),
            "::1"
        );
    }

    #[test]
    fn a_missing_value_or_a_stray_word_is_named() {
        assert!(
            parse_words(&words("10.0.0.1 from"))
                .unwrap_err()
                .contains("'from' needs")
        );
        assert!(
            parse_words(&words("10.0.0.1 via 1.2.3.4"))
                .unwrap_err()
                .contains("'via'")
        );
        assert!(
            parse_words(&words("example.org"))
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(
            parse_words(&words("10.0.0.1 mark -1"))
                .unwrap_err()
                .contains("mark '-1'")
        );
        assert!(
            parse_words(&words("mark 1"))
                .unwrap_err()
                .contains("destination")
        );
    }
}
