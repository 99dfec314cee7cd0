//! ARP over Ethernet (RFC 826): the frames `netdx arping` and `neigh scan`
//! send, built with pnet's Ethernet and ARP packet types, and the checked
//! reading of every frame that comes back.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::Ipv4Addr;

use pnet_base::MacAddr;
use pnet_packet::Packet;
use pnet_packet::arp::{
    ArpHardwareTypes, ArpOperation, ArpOperations, ArpPacket, MutableArpPacket,
};
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};

use super::WireError;

/// Ethernet header: destination, source, EtherType.
pub const ETHERNET_HEADER: usize = 14;
/// ARP for IPv4 over Ethernet: 8 bytes of header, two MAC + IPv4 pairs.
pub const ARP_LEN: usize = 28;
/// A whole ARP frame as sent (the NIC pads it to 60 bytes on the wire).
pub const FRAME_LEN: usize = ETHERNET_HEADER + ARP_LEN;
/// EtherType of ARP, for binding a packet socket.
pub const ETHERTYPE_ARP: u16 = 0x0806;

/// A 48-bit Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    /// 00:00:00:00:00:00 (the unknown target of a request).
    pub const ZERO: Mac = Mac([0; 6]);

    pub(crate) fn pnet(self) -> MacAddr {
        let [a, b, c, d, e, f] = self.0;
        MacAddr(a, b, c, d, e, f)
    }

    pub(crate) fn from_pnet(mac: MacAddr) -> Mac {
        Mac(mac.octets())
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl std::str::FromStr for Mac {
    type Err = String;

    fn from_str(text: &str) -> Result<Mac, String> {
        let parts: Vec<&str> = text.split([':', '-']).collect();
        let bad =
            || format!("'{text}' is not a MAC address (six hex bytes, e.g. 02:00:5e:10:00:01)");
        if parts.len() != 6 {
            return Err(bad());
        }
        let mut mac = [0u8; 6];
        for (byte, part) in mac.iter_mut().zip(parts) {
            if part.is_empty() || part.len() > 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        Ok(Mac(mac))
    }
}

/// Request or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Who has TARGET? Tell SENDER.
    Request,
    /// SENDER is at SENDER_MAC.
    Reply,
}

/// One ARP message (IPv4 over Ethernet) and the Ethernet addresses it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpFrame {
    /// Ethernet destination.
    pub eth_destination: Mac,
    /// Ethernet source.
    pub eth_source: Mac,
    /// Request or reply.
    pub op: Op,
    /// The sender's hardware address (who answers, in a reply).
    pub sender_mac: Mac,
    /// The sender's IPv4 address.
    pub sender_ip: Ipv4Addr,
    /// The target's hardware address (zero in a request).
    pub target_mac: Mac,
    /// The target's IPv4 address.
    pub target_ip: Ipv4Addr,
}

impl ArpFrame {
    /// A broadcast request: who has `target`? tell `sender_ip` at `sender_mac`.
    /// A sender of 0.0.0.0 is duplicate address detection (RFC 5227's probe).
    pub fn request(sender_mac: Mac, sender_ip: Ipv4Addr, target: Ipv4Addr) -> ArpFrame {
        ArpFrame {
            eth_destination: Mac::BROADCAST,
            eth_source: sender_mac,
            op: Op::Request,
            sender_mac,
            sender_ip,
            target_mac: Mac::ZERO,
            target_ip: target,
        }
    }

    /// The frame's bytes (42: the kernel or NIC pads it to the minimum).
    pub fn emit(&self) -> [u8; FRAME_LEN] {
        let mut frame = [0u8; FRAME_LEN];
        if let Some(mut eth) = MutableEthernetPacket::new(&mut frame) {
            eth.set_destination(self.eth_destination.pnet());
            eth.set_source(self.eth_source.pnet());
            eth.set_ethertype(EtherTypes::Arp);
        }
        if let Some(mut arp) = MutableArpPacket::new(&mut frame[ETHERNET_HEADER..]) {
            arp.set_hardware_type(ArpHardwareTypes::Ethernet);
            arp.set_protocol_type(EtherTypes::Ipv4);
            arp.set_hw_addr_len(6);
            arp.set_proto_addr_len(4);
            arp.set_operation(match self.op {
                Op::Request => ArpOperations::Request,
                Op::Reply => ArpOperations::Reply,
            });
            arp.set_sender_hw_addr(self.sender_mac.pnet());
            arp.set_sender_proto_addr(self.sender_ip);
            arp.set_target_hw_addr(self.target_mac.pnet());
            arp.set_target_proto_addr(self.target_ip);
        }
        frame
    }

    /// Reads an Ethernet frame as ARP for IPv4 over Ethernet; anything else
    /// (another EtherType, hardware or protocol, a cut frame, an unknown
    /// operation) is an error, never a panic.
    pub fn parse(frame: &[u8]) -> Result<ArpFrame, WireError> {
        super::need(frame, FRAME_LEN, "ARP frame")?;
        let eth = EthernetPacket::new(frame).ok_or(WireError::Truncated {
            what: "Ethernet header",
            got: frame.len(),
            need: ETHERNET_HEADER,
        })?;
        if eth.get_ethertype() != EtherTypes::Arp {
            return Err(malformed(format!(
                "EtherType 0x{:04x} is not ARP",
                eth.get_ethertype().0
            )));
        }
        let arp = ArpPacket::new(eth.payload()).ok_or(WireError::Truncated {
            what: "ARP message",
            got: eth.payload().len(),
            need: ARP_LEN,
        })?;
        if arp.get_hardware_type() != ArpHardwareTypes::Ethernet
            || arp.get_protocol_type() != EtherTypes::Ipv4
            || arp.get_hw_addr_len() != 6
            || arp.get_proto_addr_len() != 4
        {
            return Err(malformed(format!(
                "hardware type {}, protocol 0x{:04x}, address lengths {}/{}: not IPv4 over Ethernet",
                arp.get_hardware_type().0,
                arp.get_protocol_type().0,
                arp.get_hw_addr_len(),
                arp.get_proto_addr_len()
            )));
        }
        let op = match arp.get_operation() {
            ArpOperation(1) => Op::Request,
            ArpOperation(2) => Op::Reply,
            ArpOperation(other) => return Err(malformed(format!("operation {other}"))),
        };
        Ok(ArpFrame {
            eth_destination: Mac::from_pnet(eth.get_destination()),
            eth_source: Mac::from_pnet(eth.get_source()),
            op,
            sender_mac: Mac::from_pnet(arp.get_sender_hw_addr()),
            sender_ip: arp.get_sender_proto_addr(),
            target_mac: Mac::from_pnet(arp.get_target_hw_addr()),
            target_ip: arp.get_target_proto_addr(),
        })
    }
}

fn malformed(why: String) -> WireError {
    WireError::Malformed { what: "ARP", why }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Mac = Mac([2, 0, 0, 0, 0, 1]);

    #[test]
    fn a_request_round_trips_field_by_field() {
        let request = ArpFrame::request(ME, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let bytes = request.emit();
        assert_eq!(&bytes[..6], &[0xff; 6]);
        assert_eq!(&bytes[12..14], &[0x08, 0x06]);
        assert_eq!(&bytes[14..22], &[0, 1, 8, 0, 6, 4, 0, 1]);
        assert_eq!(ArpFrame::parse(&bytes), Ok(request));
    }

    #[test]
    fn every_cut_and_every_wrong_field_is_an_error_not_a_panic() {
        let bytes =
            ArpFrame::request(ME, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)).emit();
        for len in 0..FRAME_LEN {
            assert!(ArpFrame::parse(&bytes[..len]).is_err(), "{len} bytes");
        }
        for (offset, value) in [(12, 0x86), (15, 6), (16, 0x86), (18, 8), (19, 16), (21, 9)] {
            let mut bad = bytes;
            bad[offset] = value;
            assert!(ArpFrame::parse(&bad).is_err(), "byte {offset} = {value}");
        }
        // Padding after the message (60-byte minimum frames) is fine.
        let mut padded = bytes.to_vec();
        padded.resize(60, 0);
        assert!(ArpFrame::parse(&padded).is_ok());
        for seed in 0..2000u32 {
            let mut noise = bytes;
            let at = (seed as usize * 7) % FRAME_LEN;
            noise[at] ^= (seed % 251) as u8 + 1;
            let _ = ArpFrame::parse(&noise);
        }
    }

    #[test]
    fn macs_parse_with_colons_or_dashes_and_print_lower_case() {
        let mac: Mac = "02:AB:cd:00:00:0f".parse().unwrap();
        assert_eq!(mac.to_string(), "02:ab:cd:00:00:0f");
        assert_eq!("02-ab-cd-00-00-0f".parse::<Mac>(), Ok(mac));
        for bad in [
            "",
            "02:ab",
            "02:ab:cd:00:00:0g",
            "02:ab:cd:00:00:100",
            "1:2:3:4:5:6:7",
        ] {
            assert!(bad.parse::<Mac>().is_err(), "{bad}");
        }
    }
}
