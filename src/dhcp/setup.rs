//! The link a DHCP run uses: the interface named with -I (never guessed: a
//! DISCOVER reaches every server on the link), checked to be up and
//! Ethernet, and the client hardware address — random unless given, never
//! the interface's own when a lease is to be taken and released.
#![forbid(unsafe_code)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use super::DhcpError;
use crate::iface::IfaceName;
use crate::iface::ethernet::{EthernetLink, LinkError};
use crate::wire::arp::Mac;

/// The interface's facts a run needs.
struct Link {
    ifindex: u32,
    interface: String,
    mac: Mac,
}

/// The interface and the addresses a run sends with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Interface index, for binding the packet socket.
    pub ifindex: u32,
    /// Interface name.
    pub interface: String,
    /// Its MAC (the Ethernet source).
    pub interface_mac: Mac,
    /// The client hardware address (chaddr).
    pub client_mac: Mac,
    /// The transaction id.
    pub xid: u32,
}

/// Checks `interface` and chooses the client MAC and transaction id.
pub fn prepare(
    interface: Option<&IfaceName>,
    mac: Option<Mac>,
    request: bool,
) -> Result<Setup, DhcpError> {
    let name = interface.ok_or(DhcpError::NoInterface)?;
    if let Some(mac) = mac
        && (mac.0[0] & 1 == 1 || mac == Mac::ZERO)
    {
        return Err(DhcpError::BadMac(mac));
    }
    let ethernet = EthernetLink::open(name).map_err(|err| match err {
        LinkError::NoSuchInterface(name) => DhcpError::NoSuchInterface(name),
        LinkError::NotEthernet { interface, kind } => DhcpError::NotEthernet { interface, kind },
        LinkError::Down(name) => DhcpError::Down(name),
        other => DhcpError::Iface(other.to_string()),
    })?;
    let link = Link {
        ifindex: ethernet.interface.index,
        interface: ethernet.interface.name,
        mac: ethernet.mac,
    };
    if request && mac == Some(link.mac) {
        return Err(DhcpError::OwnMac {
            mac: link.mac,
            interface: link.interface,
        });
    }
    let random = random_u64();
    Ok(Setup {
        ifindex: link.ifindex,
        interface: link.interface,
        interface_mac: link.mac,
        client_mac: mac.unwrap_or_else(|| random_mac(random)),
        xid: (random >> 32) as u32,
    })
}

/// A locally administered unicast MAC from `bits` (never a real vendor's).
pub fn random_mac(bits: u64) -> Mac {
    let b = bits.to_be_bytes();
    Mac([(b[2] & 0xfc) | 0x02, b[3], b[4], b[5], b[6], b[7]])
}

/// 64 bits no other client on the link can guess: std's randomly keyed SipHash.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_macs_are_locally_administered_unicast() {
        for bits in [0, u64::MAX, 0x0123_4567_89ab_cdef] {
            let mac = random_mac(bits);
            assert_eq!(mac.0[0] & 0b11, 0b10, "{mac}");
        }
    }

    #[test]
    fn a_multicast_or_zero_mac_and_no_interface_are_refused() {
        let multicast: Mac = "01:00:5e:00:00:01".parse().unwrap();
        assert!(matches!(
            prepare(Some(&"lo".parse().unwrap()), Some(multicast), false),
            Err(DhcpError::BadMac(_))
        ));
        assert!(matches!(
            prepare(None, None, false),
            Err(DhcpError::NoInterface)
        ));
    }
}
