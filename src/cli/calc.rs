//! `netdx calc` arguments.

use std::net::IpAddr;

use clap::Args;

use crate::calc::{CalcError, Mask, SplitPrefix, Target};

pub(super) const CALC_EXAMPLES: &str = "\
Examples:
  netdx calc 172.16.10.1/24      network, broadcast, host range, host count, class, space
  netdx calc 10.0.0.1 255.255.0.0
                                 a dotted netmask, as ipcalc takes it (or 0.0.255.255, or 16)
  netdx calc 172.16.10.1/24 --binary
                                 the address, the mask and their AND, bit by bit
  netdx calc 172.16.10.1/24 --contains 172.16.10.2 172.16.11.1
                                 is each address in the network? (exit 1 if one is not)
  netdx calc 192.168.0.0/24 --split 26
                                 the four /26 subnets
  netdx calc --summarize 10.0.0.0/24 10.0.1.0/24 10.0.2.0/23
                                 the fewest networks covering them: 10.0.0.0/22
  netdx calc --range 10.0.0.3 10.0.0.17
                                 the fewest networks covering a range (ipcalc -r)
  netdx calc 2001:db8::1/64      expanded and compressed forms, range, count, space

ADDR alone takes ipcalc's /24 for IPv4 (whatever its class) and sipcalc's
/128 for IPv6. A /31 has two hosts and no broadcast (RFC 3021, as ipcalc),
a /32 one. --split lists at most 65,536 subnets and refuses a split that
makes more, naming the longest prefix that fits.

Exit status: 0 the facts were printed (with --contains: every address is in
the network), 1 with --contains, some address is not, 2 bad input.";

// `netdx calc ADDR[/PREFIX] [MASK] [--split P | --contains ADDR… ] | --summarize CIDR… | --range START END`
// (no doc comment: see cli::Command)
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("mode").multiple(false).args(["split", "summarize", "range", "contains"]))]
pub struct CalcArgs {
    /// The network: ADDR/PREFIX, ADDR/NETMASK, or ADDR alone (IPv4 /24 as ipcalc, IPv6 /128 as sipcalc)
    #[arg(
        value_name = "ADDR[/PREFIX]",
        value_parser = target,
        required_unless_present_any = ["summarize", "range"]
    )]
    pub target: Option<Target>,
    /// ADDR's netmask (255.255.0.0), wildcard (0.0.255.255) or prefix length (16), as ipcalc takes them
    #[arg(value_name = "MASK", value_parser = mask)]
    pub mask: Option<Mask>,
    /// Show the address, the netmask and their AND bit by bit, the network/host boundary marked
    #[arg(long)]
    pub binary: bool,
    /// List the network's subnets of this longer prefix (26 or /26; at most 65,536 subnets)
    #[arg(long, value_name = "PREFIX", value_parser = split_prefix, requires = "target")]
    pub split: Option<SplitPrefix>,
    /// The fewest networks covering exactly these networks (a bare address is a /32 or /128)
    #[arg(long, value_name = "CIDR", num_args = 1.., value_parser = target, conflicts_with = "target")]
    pub summarize: Vec<Target>,
    /// The fewest networks covering exactly START to END, both included (ipcalc -r)
    #[arg(long, value_names = ["START", "END"], num_args = 2, value_parser = address, conflicts_with = "target")]
    pub range: Vec<IpAddr>,
    /// Whether each address is in the network: its AND with the netmask (exit 1 if one is not)
    #[arg(long, value_name = "ADDR", num_args = 1.., value_parser = address, requires = "target")]
    pub contains: Vec<IpAddr>,
}

fn target(text: &str) -> Result<Target, CalcError> {
    text.parse()
}

fn mask(text: &str) -> Result<Mask, CalcError> {
    text.parse()
}

fn split_prefix(text: &str) -> Result<SplitPrefix, CalcError> {
    text.parse()
}

fn address(text: &str) -> Result<IpAddr, CalcError> {
    text.trim()
        .parse()
        .map_err(|_| CalcError::BadAddress(text.to_string()))
}
