//! Address arithmetic, as ipcalc and sipcalc do it: the facts of a network
//! (mask, wildcard, range, host count, class, address space), its subnets,
//! the fewest networks that cover a list or a range, and whether addresses
//! lie in it.
//!
//! Built on `ipnet`; what it lacks (host counts with RFC 3021's /31, address
//! spaces, classes, a bound on subnet listings) is here. Nothing here prints.
#![forbid(unsafe_code)]

pub mod aggregate;
pub mod input;
pub mod v4;
pub mod v6;

use std::net::IpAddr;

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::Serialize;

pub use aggregate::{MAX_SUBNETS, RangeCover, Split, Summary};
pub use input::{Mask, SplitPrefix, Target};
pub use v4::Ipv4Facts;
pub use v6::Ipv6Facts;

/// The facts of one network, by family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "family", rename_all = "lowercase")]
pub enum Facts {
    /// An IPv4 network.
    Ipv4(Ipv4Facts),
    /// An IPv6 network.
    Ipv6(Ipv6Facts),
}

impl Facts {
    /// The facts of `net`; its address may have host bits set (`10.0.0.1/24`).
    pub fn of(net: IpNet) -> Facts {
        match net {
            IpNet::V4(net) => Facts::Ipv4(Ipv4Facts::of(net)),
            IpNet::V6(net) => Facts::Ipv6(Ipv6Facts::of(net)),
        }
    }
}

/// Whether one address lies in the network: the address AND the netmask,
/// compared with the network address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Membership {
    /// The address asked about.
    pub address: IpAddr,
    /// The address AND the network's netmask.
    pub masked: IpAddr,
    /// Whether `masked` is the network address, i.e. the address is in the network.
    pub contained: bool,
}

/// Whether each of `addresses` lies in `net`; every address must be of its family.
pub fn memberships(net: IpNet, addresses: &[IpAddr]) -> Result<Vec<Membership>, CalcError> {
    addresses
        .iter()
        .map(|&address| {
            same_family(net.addr(), address, "--contains")?;
            let masked = mask(address, net.netmask());
            Ok(Membership {
                address,
                masked,
                contained: masked == net.network(),
            })
        })
        .collect()
}

/// `address` AND `netmask`, of one family.
fn mask(address: IpAddr, netmask: IpAddr) -> IpAddr {
    match (address, netmask) {
        (IpAddr::V4(a), IpAddr::V4(m)) => IpAddr::V4((a.to_bits() & m.to_bits()).into()),
        (IpAddr::V6(a), IpAddr::V6(m)) => IpAddr::V6((a.to_bits() & m.to_bits()).into()),
        // Families are checked before; a mixed pair masks to nothing.
        (IpAddr::V4(_), _) => IpAddr::V4(0.into()),
        (IpAddr::V6(_), _) => IpAddr::V6(0.into()),
    }
}

/// An error unless `first` and `second` are of one family.
fn same_family(first: IpAddr, second: IpAddr, context: &'static str) -> Result<(), CalcError> {
    if first.is_ipv4() == second.is_ipv4() {
        Ok(())
    } else {
        Err(CalcError::MixedFamilies {
            context,
            first,
            second,
        })
    }
}

/// `netdx calc --json`: one document whose sections depend on the mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CalcDocument {
    /// The network ADDR names (every mode that takes ADDR: the default, --split, --contains).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Facts")]
    pub facts: Option<Facts>,
    /// --split: the network's subnets of the longer prefix.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Split")]
    pub split: Option<Split>,
    /// --summarize: the fewest networks covering exactly the networks given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Summary")]
    pub summarize: Option<Summary>,
    /// --range: the fewest networks covering exactly START to END.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RangeCover")]
    pub range: Option<RangeCover>,
    /// --contains: each address, masked, and whether it is in the network.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<Membership>")]
    pub contains: Option<Vec<Membership>>,
}

/// What `netdx calc` is asked, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The facts of a network.
    Facts(IpNet),
    /// A network and its subnets of a longer prefix.
    Split(IpNet, input::SplitPrefix),
    /// A network and whether addresses are in it.
    Contains(IpNet, Vec<IpAddr>),
    /// The fewest networks covering a list.
    Summarize(Vec<IpNet>),
    /// The fewest networks covering a range, both ends included.
    Range(IpAddr, IpAddr),
}

/// Answers `request`: the document `--json` prints and the text views render.
pub fn answer(request: &Request) -> Result<CalcDocument, CalcError> {
    let mut document = CalcDocument::default();
    match request {
        Request::Facts(net) => document.facts = Some(Facts::of(*net)),
        Request::Split(net, prefix) => {
            document.split = Some(aggregate::split(*net, *prefix)?);
            document.facts = Some(Facts::of(*net));
        }
        Request::Contains(net, addresses) => {
            document.contains = Some(memberships(*net, addresses)?);
            document.facts = Some(Facts::of(*net));
        }
        Request::Summarize(networks) => document.summarize = Some(aggregate::summarize(networks)?),
        Request::Range(start, end) => document.range = Some(aggregate::deaggregate(*start, *end)?),
    }
    Ok(document)
}

impl CalcDocument {
    /// False when `--contains` found an address outside the network: a negative answer.
    pub fn all_contained(&self) -> bool {
        self.contains
            .as_ref()
            .is_none_or(|list| list.iter().all(|m| m.contained))
    }
}

/// What can be wrong with a calc request; each message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    /// Not an address of either family.
    #[error(
        "'{0}' is not an IP address; write an IPv4 address like 192.0.2.1 or an IPv6 address like 2001:db8::1"
    )]
    BadAddress(String),
    /// A prefix length that is not a number.
    #[error(
        "'{0}' is not a prefix length or netmask; write /0 to /32 (IPv4), /0 to /128 (IPv6), or a netmask like 255.255.255.0"
    )]
    BadPrefix(String),
    /// A prefix longer than the family's addresses.
    #[error("/{prefix} is longer than an {family} address; use /0 to /{max}")]
    PrefixTooLong {
        /// The prefix given.
        prefix: u32,
        /// "IPv4" or "IPv6".
        family: &'static str,
        /// The family's address length in bits.
        max: u8,
    },
    /// A dotted mask whose one bits are contiguous from neither end.
    #[error(
        "{0} is neither a netmask nor a wildcard: its one bits are not contiguous; write a netmask like 255.255.240.0, a wildcard like 0.0.15.255, or a prefix length like 20"
    )]
    NonContiguousMask(std::net::Ipv4Addr),
    /// Both a prefix on ADDR and a MASK after it.
    #[error("'{0}' already has a prefix, and MASK is given too; give one of them")]
    PrefixAndMask(String),
    /// A dotted netmask for an IPv6 address.
    #[error("a dotted netmask is IPv4's; for the IPv6 address {0} write the prefix length: {0}/64")]
    MaskForIpv6(std::net::Ipv6Addr),
    /// Two addresses of different families where one is needed.
    #[error("{context}: {first} is {} and {second} is {}; use addresses of one family", family(*.first), family(*.second))]
    MixedFamilies {
        /// Where they met ("--range", "--contains", "--summarize").
        context: &'static str,
        /// The first address.
        first: IpAddr,
        /// The one of the other family.
        second: IpAddr,
    },
    /// `--split` to a prefix no longer than the network's own.
    #[error("--split /{split}: the network {network} is /{}; split into a longer prefix, /{} to /{}", .network.prefix_len(), .network.prefix_len() + 1, .network.max_prefix_len())]
    SplitNotLonger {
        /// The prefix asked for.
        split: u8,
        /// The network to split.
        network: IpNet,
    },
    /// `--split` that would list more subnets than netdx lists.
    #[error(
        "--split /{split} of {network} makes 2^{} networks, more than the {MAX_SUBNETS} (2^16) netdx lists; split into /{} or shorter, or split a smaller network", .split - .network.prefix_len(), .network.prefix_len() + 16
    )]
    TooManySubnets {
        /// The prefix asked for.
        split: u8,
        /// The network to split.
        network: IpNet,
    },
    /// `--range` with START after END.
    #[error("--range: START {start} is after END {end}; give the lower address first")]
    RangeReversed {
        /// START.
        start: IpAddr,
        /// END.
        end: IpAddr,
    },
}

/// "IPv4" or "IPv6".
fn family(address: IpAddr) -> &'static str {
    if address.is_ipv4() { "IPv4" } else { "IPv6" }
}
