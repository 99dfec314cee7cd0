//! Reads links and addresses from rtnetlink and joins them into [`Interface`]s.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkMessage, State, Stats64};

use super::{Address, Family, IfFlags, IfaceError, Interface, LinkType, Selection, natural_cmp};
use crate::iface::flags::IFF_UP;
use crate::netlink::{Conn, NETLINK_ROUTE};

/// Lists the interfaces `selection` asks for, sorted by name as ifconfig sorts them.
pub fn collect(selection: &Selection) -> Result<Vec<Interface>, IfaceError> {
    let mut conn = Conn::open(NETLINK_ROUTE)?;
    let mut interfaces = conn.dump(
        "link",
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        |message| match message {
            RouteNetlinkMessage::NewLink(link) => {
                Some(interface_from(link)).filter(|iface| match selection {
                    Selection::All => true,
                    Selection::Up => iface.flags_value & IFF_UP != 0,
                    Selection::Named(name) => iface.name == name.as_str(),
                })
            }
            _ => None,
        },
    )?;
    if let Selection::Named(name) = selection
        && interfaces.is_empty()
    {
        return Err(IfaceError::NotFound(name.to_string()));
    }
    if interfaces.is_empty() {
        return Ok(interfaces);
    }

    let by_index: HashMap<u32, usize> = interfaces
        .iter()
        .enumerate()
        .map(|(position, iface)| (iface.index, position))
        .collect();
    let addresses = conn.dump(
        "address",
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        |message| match message {
            RouteNetlinkMessage::NewAddress(address) => {
                let position = *by_index.get(&address.header.index)?;
                let parsed = address_from(address, &interfaces[position].name)?;
                Some((position, parsed))
            }
            _ => None,
        },
    )?;
    for (position, address) in addresses {
        interfaces[position].addresses.push(address);
    }
    interfaces.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    Ok(interfaces)
}

fn interface_from(link: LinkMessage) -> Interface {
    let flags = IfFlags::from_bits(link.header.flags.bits());
    let link_type = LinkType(u16::from(link.header.link_layer_type));
    let mut iface = Interface {
        name: String::new(),
        index: link.header.index,
        flags: flags.names(),
        flags_value: flags.bits(),
        mtu: None,
        mac: None,
        txqueuelen: None,
        operstate: None,
        link_type,
        addresses: Vec::new(),
        stats: None,
    };
    for attribute in link.attributes {
        match attribute {
            LinkAttribute::IfName(name) => iface.name = name,
            LinkAttribute::Mtu(mtu) => iface.mtu = Some(mtu),
            LinkAttribute::TxQueueLen(len) => iface.txqueuelen = Some(len),
            LinkAttribute::Address(bytes) if !bytes.is_empty() => {
                iface.mac = Some(link_type.format_address(&bytes));
            }
            LinkAttribute::OperState(state) => iface.operstate = Some(operstate_name(state)),
            LinkAttribute::Stats64(stats) => iface.stats = Some(stats_from_64(&stats)),
            _ => {}
        }
    }
    iface
}

/// Builds an [`Address`]; `None` for families other than IPv4/IPv6.
fn address_from(message: AddressMessage, iface_name: &str) -> Option<Address> {
    let mut local = None;
    let mut address = None;
    let mut broadcast = None;
    let mut label = None;
    for attribute in message.attributes {
        match attribute {
            AddressAttribute::Local(ip) => local = Some(ip),
            AddressAttribute::Address(ip) => address = Some(ip),
            AddressAttribute::Broadcast(ip) => broadcast = Some(ip),
            AddressAttribute::Label(text) if text != iface_name => label = Some(text),
            _ => {}
        }
    }
    // As iproute2 reads it: IFA_LOCAL is our end when present, and an
    // IFA_ADDRESS that differs from it is the point-to-point peer.
    let (ours, peer) = match (local, address) {
        (Some(local), Some(address)) if local != address => (local, Some(address)),
        (Some(local), _) => (local, None),
        (None, Some(address)) => (address, None),
        (None, None) => return None,
    };
    let prefix_len = message.header.prefix_len;
    let family = match ours {
        IpAddr::V4(_) => Family::Inet,
        IpAddr::V6(_) => Family::Inet6,
    };
    Some(Address {
        family,
        address: ours,
        prefix_len,
        netmask: match family {
            Family::Inet => Some(ipv4_netmask(prefix_len)),
            Family::Inet6 => None,
        },
        broadcast,
        peer,
        scope: super::scope_name(u8::from(message.header.scope)),
        label,
    })
}

/// The dotted netmask of an IPv4 prefix length.
pub fn ipv4_netmask(prefix_len: u8) -> Ipv4Addr {
    let bits = u32::MAX
        .checked_shl(32 - u32::from(prefix_len.min(32)))
        .unwrap_or(0);
    Ipv4Addr::from(bits)
}

fn operstate_name(state: State) -> String {
    let name = match state {
        State::Unknown => "UNKNOWN",
        State::NotPresent => "NOTPRESENT",
        State::Down => "DOWN",
        State::LowerLayerDown => "LOWERLAYERDOWN",
        State::Testing => "TESTING",
        State::Dormant => "DORMANT",
        State::Up => "UP",
        State::Other(code) => return format!("UNKNOWN({code})"),
        _ => "UNKNOWN",
    };
    debug_assert!(super::OPERSTATES.contains(&name));
    name.into()
}

/// The kernel's 64-bit counters (sent with every link since Linux 2.6.35)
/// summed the way /proc/net/dev, and so ifconfig, sums them.
fn stats_from_64(s: &Stats64) -> super::Stats {
    super::Stats {
        rx_packets: s.rx_packets,
        rx_bytes: s.rx_bytes,
        rx_errors: s.rx_errors,
        rx_dropped: sum(&[s.rx_dropped, s.rx_missed_errors]),
        rx_overruns: s.rx_fifo_errors,
        rx_frame: sum(&[
            s.rx_length_errors,
            s.rx_over_errors,
            s.rx_crc_errors,
            s.rx_frame_errors,
        ]),
        tx_packets: s.tx_packets,
        tx_bytes: s.tx_bytes,
        tx_errors: s.tx_errors,
        tx_dropped: s.tx_dropped,
        tx_overruns: s.tx_fifo_errors,
        tx_carrier: sum(&[
            s.tx_carrier_errors,
            s.tx_aborted_errors,
            s.tx_window_errors,
            s.tx_heartbeat_errors,
        ]),
        collisions: s.collisions,
    }
}

/// Adds kernel counters without overflowing (they are wrapping counters, not trusted sums).
fn sum(counters: &[u64]) -> u64 {
    counters
        .iter()
        .fold(0u64, |total, &c| total.wrapping_add(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmask_follows_prefix_length() {
        assert_eq!(ipv4_netmask(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(ipv4_netmask(8), Ipv4Addr::new(255, 0, 0, 0));
        assert_eq!(ipv4_netmask(0), Ipv4Addr::new(0, 0, 0, 0));
        assert_eq!(ipv4_netmask(32), Ipv4Addr::new(255, 255, 255, 255));
        assert_eq!(ipv4_netmask(31), Ipv4Addr::new(255, 255, 255, 254));
    }
}
