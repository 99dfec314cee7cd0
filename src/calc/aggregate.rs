//! Networks from networks: a network split into subnets, a list summarized
//! into the fewest networks, a range deaggregated into networks.

use std::net::IpAddr;

use ipnet::{IpNet, IpSubnets, Ipv4Subnets, Ipv6Subnets};
use schemars::JsonSchema;
use serde::Serialize;

use super::input::SplitPrefix;
use super::{CalcError, Facts, same_family};

/// The schema of an `IpNet` of either family. ipnet's own is a `oneOf`
/// of its IPv4 and IPv6 schemas, and its IPv6 pattern matches IPv4 networks
/// too, so every IPv4 network would fail it (valid under both branches).
pub struct Cidr;

impl JsonSchema for Cidr {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Cidr".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A network of either family in CIDR notation: 192.0.2.0/24, 2001:db8::/32.",
            "pattern": "^[0-9A-Fa-f:.]+/[0-9]{1,3}$"
        })
    }
}

/// The most subnets `--split` lists (2^16): a /0 split into /32s would be
/// four billion entries, so a split that makes more is refused, naming the
/// longest prefix that fits.
pub const MAX_SUBNETS: u64 = 1 << 16;

/// A network split into subnets of one longer prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Split {
    /// The subnets' prefix length.
    pub prefix: u8,
    /// How many subnets there are (at most 65,536).
    pub count: u64,
    /// Each subnet's facts, in address order.
    pub subnets: Vec<Facts>,
}

/// `net` split into its subnets of `prefix`, refused when the prefix is not
/// longer than the network's or the split makes more than [`MAX_SUBNETS`].
pub fn split(net: IpNet, prefix: SplitPrefix) -> Result<Split, CalcError> {
    let SplitPrefix(prefix) = prefix;
    let split_error = CalcError::SplitNotLonger {
        split: prefix,
        network: net.trunc(),
    };
    super::input::check_prefix(u32::from(prefix), net.addr())?;
    if prefix <= net.prefix_len() {
        return Err(split_error);
    }
    let extra = u32::from(prefix - net.prefix_len());
    if extra > MAX_SUBNETS.trailing_zeros() {
        return Err(CalcError::TooManySubnets {
            split: prefix,
            network: net.trunc(),
        });
    }
    let subnets: Vec<Facts> = net
        .trunc()
        .subnets(prefix)
        .map_err(|_| split_error)?
        .map(Facts::of)
        .collect();
    Ok(Split {
        prefix,
        count: 1 << extra,
        subnets,
    })
}

/// A list of networks summarized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Summary {
    /// The networks given, host bits cleared.
    #[schemars(with = "Vec<Cidr>")]
    pub given: Vec<IpNet>,
    /// The fewest networks that cover exactly the addresses of those given, in address order.
    #[schemars(with = "Vec<Cidr>")]
    pub networks: Vec<IpNet>,
}

/// The fewest networks covering exactly the addresses of `networks` (of one family).
pub fn summarize(networks: &[IpNet]) -> Result<Summary, CalcError> {
    if let Some(first) = networks.first() {
        for other in networks {
            same_family(first.addr(), other.addr(), "--summarize")?;
        }
    }
    let given: Vec<IpNet> = networks.iter().map(IpNet::trunc).collect();
    Ok(Summary {
        networks: IpNet::aggregate(&given),
        given,
    })
}

/// A range of addresses as networks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RangeCover {
    /// The first address of the range.
    pub start: IpAddr,
    /// The last address of the range (included).
    pub end: IpAddr,
    /// The fewest networks covering exactly start to end, in address order.
    #[schemars(with = "Vec<Cidr>")]
    pub networks: Vec<IpNet>,
}

/// `start` to `end` (included) as the fewest networks; at most 62 (IPv4) or
/// 254 (IPv6) of them.
pub fn deaggregate(start: IpAddr, end: IpAddr) -> Result<RangeCover, CalcError> {
    same_family(start, end, "--range")?;
    let reversed = match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => s > e,
        (IpAddr::V6(s), IpAddr::V6(e)) => s > e,
        _ => false,
    };
    if reversed {
        return Err(CalcError::RangeReversed { start, end });
    }
    let subnets = match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => IpSubnets::from(Ipv4Subnets::new(s, e, 0)),
        (IpAddr::V6(s), IpAddr::V6(e)) => IpSubnets::from(Ipv6Subnets::new(s, e, 0)),
        _ => {
            return Ok(RangeCover {
                start,
                end,
                networks: Vec::new(),
            });
        }
    };
    Ok(RangeCover {
        start,
        end,
        networks: subnets.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|text| text.parse().unwrap()).collect()
    }

    #[test]
    fn a_24_splits_into_four_26s_in_order() {
        let split = split("192.168.0.77/24".parse().unwrap(), SplitPrefix(26)).unwrap();
        assert_eq!(split.count, 4);
        let networks: Vec<String> = split
            .subnets
            .iter()
            .map(|facts| match facts {
                Facts::Ipv4(f) => f.network.to_string(),
                Facts::Ipv6(f) => f.network.to_string(),
            })
            .collect();
        assert_eq!(
            networks,
            [
                "192.168.0.0/26",
                "192.168.0.64/26",
                "192.168.0.128/26",
                "192.168.0.192/26"
            ]
        );
    }

    #[test]
    fn a_split_beyond_65536_subnets_is_refused_before_any_is_made() {
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(matches!(
            split(all, SplitPrefix(32)),
            Err(CalcError::TooManySubnets { .. })
        ));
        assert_eq!(split(all, SplitPrefix(16)).unwrap().count, MAX_SUBNETS);
        let v6: IpNet = "::/0".parse().unwrap();
        assert!(matches!(
            split(v6, SplitPrefix(128)),
            Err(CalcError::TooManySubnets { .. })
        ));
        assert!(matches!(
            split("10.0.0.0/24".parse().unwrap(), SplitPrefix(24)),
            Err(CalcError::SplitNotLonger { .. })
        ));
        assert!(matches!(
            split("10.0.0.0/24".parse().unwrap(), SplitPrefix(33)),
            Err(CalcError::PrefixTooLong { .. })
        ));
    }

    #[test]
    fn siblings_and_covered_networks_summarize_into_one() {
        let summary = summarize(&nets(&[
            "10.0.1.0/24",
            "10.0.0.0/24",
            "10.0.0.128/25",
            "10.0.2.7/23",
        ]))
        .unwrap();
        assert_eq!(summary.networks, nets(&["10.0.0.0/22"]));
        assert!(matches!(
            summarize(&nets(&["10.0.0.0/8", "2001:db8::/32"])),
            Err(CalcError::MixedFamilies { .. })
        ));
    }

    #[test]
    fn a_range_is_the_fewest_aligned_networks() {
        let cover = deaggregate("10.0.0.3".parse().unwrap(), "10.0.0.17".parse().unwrap()).unwrap();
        assert_eq!(
            cover.networks,
            nets(&["10.0.0.3/32", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/31"])
        );
        let everything = deaggregate(
            "::".parse().unwrap(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(everything.networks, nets(&["::/0"]));
        assert!(matches!(
            deaggregate("10.0.0.2".parse().unwrap(), "10.0.0.1".parse().unwrap()),
            Err(CalcError::RangeReversed { .. })
        ));
    }
}
