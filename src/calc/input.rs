//! What the user types, parsed: `ADDR[/PREFIX]`, `ADDR/NETMASK`, a separate
//! dotted `MASK`, a `--split` prefix.

use std::net::{IpAddr, Ipv4Addr};
use std::str::FromStr;

use ipnet::IpNet;

use super::CalcError;

/// The prefix of an IPv4 address given alone: ipcalc's (it ignores the
/// address's class and takes /24).
pub const DEFAULT_V4_PREFIX: u8 = 24;
/// The prefix of an IPv6 address given alone: sipcalc's (the address itself).
pub const DEFAULT_V6_PREFIX: u8 = 128;

/// `ADDR`, `ADDR/PREFIX` or `ADDR/NETMASK` as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address, host bits and all.
    pub address: IpAddr,
    /// The prefix length, when one was given (checked against the family).
    pub prefix: Option<u8>,
}

impl FromStr for Target {
    type Err = CalcError;

    fn from_str(text: &str) -> Result<Target, CalcError> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| CalcError::BadAddress(address.to_string()))?;
        let prefix = match (prefix, address) {
            (None, _) => None,
            (Some(mask), IpAddr::V4(_)) if mask.contains('.') => Some(dotted(mask)?),
            (Some(mask), IpAddr::V6(v6)) if mask.contains('.') || mask.contains(':') => {
                return Err(CalcError::MaskForIpv6(v6));
            }
            (Some(prefix), address) => Some(prefix_length(prefix, address)?),
        };
        Ok(Target { address, prefix })
    }
}

impl Target {
    /// The network: the prefix given, else `mask`, else the family's default
    /// (ipcalc's /24 for IPv4, sipcalc's /128 for IPv6).
    pub fn network(&self, mask: Option<Mask>) -> Result<IpNet, CalcError> {
        let prefix = match (self.prefix, mask, self.address) {
            (Some(_), Some(_), address) => {
                return Err(CalcError::PrefixAndMask(address.to_string()));
            }
            (_, Some(Mask::Dotted(_)), IpAddr::V6(v6)) => return Err(CalcError::MaskForIpv6(v6)),
            (Some(prefix), None, _) => prefix,
            (None, Some(Mask::Dotted(prefix)), _) => prefix,
            (None, Some(Mask::Length(prefix)), address) => check_prefix(prefix, address)?,
            (None, None, IpAddr::V4(_)) => DEFAULT_V4_PREFIX,
            (None, None, IpAddr::V6(_)) => DEFAULT_V6_PREFIX,
        };
        net(self.address, prefix)
    }

    /// The network, a bare address standing for itself (`/32`, `/128`):
    /// what `--summarize` takes.
    pub fn network_or_host(&self) -> IpNet {
        let prefix = self.prefix.unwrap_or(max_prefix(self.address));
        net(self.address, prefix).unwrap_or_else(|_| IpNet::from(self.address))
    }
}

/// MASK after ADDR, as ipcalc takes it: a dotted netmask (`255.255.240.0`),
/// a dotted wildcard (`0.0.15.255`, Cisco's inverse mask), or a prefix
/// length (`20`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// A dotted netmask or wildcard: IPv4's, this prefix length.
    Dotted(u8),
    /// A prefix length, checked against ADDR's family.
    Length(u32),
}

impl FromStr for Mask {
    type Err = CalcError;

    fn from_str(text: &str) -> Result<Mask, CalcError> {
        let text = text.trim().trim_start_matches('/');
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let length = text
                .parse()
                .map_err(|_| CalcError::BadPrefix(text.to_string()))?;
            return Ok(Mask::Length(length));
        }
        dotted(text).map(Mask::Dotted)
    }
}

/// The prefix length of a dotted netmask, or of a dotted wildcard (ones
/// from the right) as ipcalc reads one; a netmask wins where both could be
/// meant (0.0.0.0 is /0, 255.255.255.255 /32).
fn dotted(text: &str) -> Result<u8, CalcError> {
    let mask: Ipv4Addr = text
        .trim()
        .parse()
        .map_err(|_| CalcError::BadPrefix(text.to_string()))?;
    ipnet::ipv4_mask_to_prefix(mask)
        .or_else(|_| ipnet::ipv4_mask_to_prefix(!mask))
        .map_err(|_| CalcError::NonContiguousMask(mask))
}

/// The prefix length `--split` asks for (`26` or `/26`); checked against
/// the network's family when it is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitPrefix(pub u8);

impl FromStr for SplitPrefix {
    type Err = CalcError;

    fn from_str(text: &str) -> Result<SplitPrefix, CalcError> {
        let digits = text.trim().trim_start_matches('/');
        match digits.parse::<u32>() {
            Ok(prefix) if prefix <= 128 => Ok(SplitPrefix(prefix as u8)),
            Ok(prefix) => Err(CalcError::PrefixTooLong {
                prefix,
                family: "IPv6",
                max: 128,
            }),
            Err(_) => Err(CalcError::BadPrefix(text.to_string())),
        }
    }
}

/// `text` as a prefix length for `address`'s family.
fn prefix_length(text: &str, address: IpAddr) -> Result<u8, CalcError> {
    let prefix: u32 = text
        .trim()
        .parse()
        .map_err(|_| CalcError::BadPrefix(text.to_string()))?;
    check_prefix(prefix, address)
}

/// `prefix` if it fits `address`'s family.
pub(super) fn check_prefix(prefix: u32, address: IpAddr) -> Result<u8, CalcError> {
    let max = max_prefix(address);
    if prefix > u32::from(max) {
        return Err(CalcError::PrefixTooLong {
            prefix,
            family: super::family(address),
            max,
        });
    }
    Ok(prefix as u8)
}

/// 32 or 128.
fn max_prefix(address: IpAddr) -> u8 {
    if address.is_ipv4() { 32 } else { 128 }
}

/// The network of `address` with `prefix`, host bits kept in its address.
fn net(address: IpAddr, prefix: u8) -> Result<IpNet, CalcError> {
    IpNet::new(address, prefix).map_err(|_| CalcError::PrefixTooLong {
        prefix: u32::from(prefix),
        family: super::family(address),
        max: max_prefix(address),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_a_dotted_mask_after_the_slash_and_a_separate_mask_agree() {
        let slash: Target = "10.0.0.1/16".parse().unwrap();
        let dotted: Target = "10.0.0.1/255.255.0.0".parse().unwrap();
        let alone: Target = "10.0.0.1".parse().unwrap();
        let mask: Mask = "255.255.0.0".parse().unwrap();
        let wildcard: Mask = "0.0.255.255".parse().unwrap();
        let length: Mask = "16".parse().unwrap();
        let expected: IpNet = "10.0.0.1/16".parse().unwrap();
        assert_eq!(slash.network(None).unwrap(), expected);
        assert_eq!(dotted.network(None).unwrap(), expected);
        assert_eq!(alone.network(Some(mask)).unwrap(), expected);
        assert_eq!(alone.network(Some(wildcard)).unwrap(), expected);
        assert_eq!(alone.network(Some(length)).unwrap(), expected);
        let v6: Target = "2001:db8::1".parse().unwrap();
        assert_eq!(v6.network(Some(Mask::Length(64))).unwrap().prefix_len(), 64);
        assert!(matches!(
            alone.network(Some(Mask::Length(33))),
            Err(CalcError::PrefixTooLong { .. })
        ));
    }

    #[test]
    fn an_address_alone_takes_ipcalcs_24_or_sipcalcs_128() {
        let v4: Target = "10.0.0.1".parse().unwrap();
        let v6: Target = "2001:db8::1".parse().unwrap();
        assert_eq!(v4.network(None).unwrap().prefix_len(), 24);
        assert_eq!(v6.network(None).unwrap().prefix_len(), 128);
        assert_eq!(v4.network_or_host().prefix_len(), 32);
    }

    #[test]
    fn bad_input_is_an_error_naming_what_to_write() {
        let err = |text: &str| text.parse::<Target>().unwrap_err();
        assert!(matches!(err("10.0.0.256"), CalcError::BadAddress(_)));
        assert!(matches!(
            err("10.0.0.1/33"),
            CalcError::PrefixTooLong { max: 32, .. }
        ));
        assert!(matches!(
            err("::1/129"),
            CalcError::PrefixTooLong { max: 128, .. }
        ));
        assert!(matches!(
            err("10.0.0.1/255.0.255.0"),
            CalcError::NonContiguousMask(_)
        ));
        assert!(matches!(err("10.0.0.1/x"), CalcError::BadPrefix(_)));
        assert!(matches!(err("::1/255.0.0.0"), CalcError::MaskForIpv6(_)));
        assert!(matches!(
            "99999999999".parse::<SplitPrefix>(),
            Err(CalcError::BadPrefix(_))
        ));
        let both: Target = "10.0.0.1/8".parse().unwrap();
        assert!(matches!(
            both.network(Some(Mask::Dotted(16))),
            Err(CalcError::PrefixAndMask(_))
        ));
    }
}
