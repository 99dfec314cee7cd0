//! IPv6 neighbour discovery over Ethernet (RFC 4861) for `neigh scan -6`:
//! the neighbour solicitation sent to a target's solicited-node group, the
//! echo request sent to all nodes (ff02::1), and the checked reading of the
//! advertisements and echo replies that come back. Frames are built with
//! pnet's Ethernet, IPv6 and ICMPv6 types; every frame read is checked
//! (lengths, next header, hop limit 255 for NDP, the ICMPv6 checksum) and
//! anything else is an error, never a panic.
#![forbid(unsafe_code)]

use std::net::Ipv6Addr;

use pnet_packet::Packet;
use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::icmpv6::ndp::NeighborAdvertPacket;
use pnet_packet::icmpv6::{Icmpv6Code, Icmpv6Packet, Icmpv6Type, MutableIcmpv6Packet, checksum};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv6::{Ipv6Packet, MutableIpv6Packet};

use super::WireError;
use super::arp::{ETHERNET_HEADER, Mac};

/// EtherType of IPv6, for binding a packet socket.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// The fixed IPv6 header.
const IPV6_HEADER: usize = 40;
/// ICMPv6 type, code, checksum.
const ICMPV6_HEADER: usize = 4;
/// A neighbour solicitation: reserved word, target, one source link-layer
/// address option (type 1, length 1 = 8 bytes).
const SOLICITATION_BODY: usize = 4 + 16 + 8;
/// The bytes an echo request carries after its identifier and sequence.
const ECHO_DATA: &[u8] = b"netdx neigh scan";
/// ff02::1, every node on the link.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

const NEIGHBOUR_SOLICITATION: u8 = 135;
const NEIGHBOUR_ADVERTISEMENT: u8 = 136;
const ECHO_REQUEST: u8 = 128;
const ECHO_REPLY: u8 = 129;
const OPTION_SOURCE_LINK_ADDRESS: u8 = 1;
const OPTION_TARGET_LINK_ADDRESS: u8 = 2;

/// The solicited-node multicast group of `target` (ff02::1:ffXX:XXXX,
/// RFC 4291 §2.7.1): the group only the holders of `target` listen on.
pub fn solicited_node(target: Ipv6Addr) -> Ipv6Addr {
    let o = target.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The Ethernet group an IPv6 multicast address maps to (33:33 and its
/// last four bytes, RFC 2464 §7).
pub fn multicast_mac(group: Ipv6Addr) -> Mac {
    let o = group.octets();
    Mac([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// A neighbour solicitation for `target` from `source` at `mac`, to the
/// target's solicited-node group, hop limit 255 as RFC 4861 requires.
pub fn solicitation(mac: Mac, source: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let mut body = Vec::with_capacity(SOLICITATION_BODY);
    body.extend_from_slice(&[0; 4]);
    body.extend_from_slice(&target.octets());
    body.extend_from_slice(&[OPTION_SOURCE_LINK_ADDRESS, 1]);
    body.extend_from_slice(&mac.0);
    let group = solicited_node(target);
    frame(
        mac,
        multicast_mac(group),
        source,
        group,
        255,
        NEIGHBOUR_SOLICITATION,
        &body,
    )
}

/// An echo request to every node on the link (ff02::1).
pub fn all_nodes_echo(mac: Mac, source: Ipv6Addr, id: u16, seq: u16) -> Vec<u8> {
    let mut body = Vec::with_capacity(4 + ECHO_DATA.len());
    body.extend_from_slice(&id.to_be_bytes());
    body.extend_from_slice(&seq.to_be_bytes());
    body.extend_from_slice(ECHO_DATA);
    frame(
        mac,
        multicast_mac(ALL_NODES),
        source,
        ALL_NODES,
        1,
        ECHO_REQUEST,
        &body,
    )
}

/// Ethernet + IPv6 + ICMPv6 (`kind`, code 0, checksummed) around `body`.
fn frame(
    from: Mac,
    to: Mac,
    source: Ipv6Addr,
    destination: Ipv6Addr,
    hop_limit: u8,
    kind: u8,
    body: &[u8],
) -> Vec<u8> {
    let icmp_len = ICMPV6_HEADER + body.len();
    let mut bytes = vec![0u8; ETHERNET_HEADER + IPV6_HEADER + icmp_len];
    if let Some(mut eth) = MutableEthernetPacket::new(&mut bytes) {
        eth.set_destination(to.pnet());
        eth.set_source(from.pnet());
        eth.set_ethertype(EtherTypes::Ipv6);
    }
    if let Some(mut ip) = MutableIpv6Packet::new(&mut bytes[ETHERNET_HEADER..]) {
        ip.set_version(6);
        ip.set_payload_length(icmp_len as u16);
        ip.set_next_header(IpNextHeaderProtocols::Icmpv6);
        ip.set_hop_limit(hop_limit);
        ip.set_source(source);
        ip.set_destination(destination);
    }
    if let Some(mut icmp) = MutableIcmpv6Packet::new(&mut bytes[ETHERNET_HEADER + IPV6_HEADER..]) {
        icmp.set_icmpv6_type(Icmpv6Type(kind));
        icmp.set_icmpv6_code(Icmpv6Code(0));
        icmp.set_payload(body);
        let sum = checksum(&icmp.to_immutable(), &source, &destination);
        icmp.set_checksum(sum);
    }
    bytes
}

/// What came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A neighbour advertisement: `target` is at `mac` (the target
    /// link-layer address option, else the frame's source).
    Advertisement {
        /// The address advertised.
        target: Ipv6Addr,
        /// Its MAC.
        mac: Mac,
        /// The sender is a router (the R flag).
        router: bool,
    },
    /// An echo reply from `from` at `mac`.
    EchoReply {
        /// The replier's address.
        from: Ipv6Addr,
        /// The frame's Ethernet source.
        mac: Mac,
        /// The echo identifier.
        id: u16,
    },
}

/// One IPv6 frame read for the scan, with its addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The IPv6 destination.
    pub destination: Ipv6Addr,
    /// The Ethernet source.
    pub eth_source: Mac,
    /// The message.
    pub answer: Answer,
}

/// Reads an Ethernet frame as a neighbour advertisement or an echo reply.
/// Other ICMPv6 messages, other next headers (extension headers included:
/// NDP never carries them) and every inconsistency are errors.
pub fn parse(frame: &[u8]) -> Result<Reply, WireError> {
    super::need(
        frame,
        ETHERNET_HEADER + IPV6_HEADER + ICMPV6_HEADER,
        "IPv6 frame",
    )?;
    let eth = EthernetPacket::new(frame).ok_or_else(|| malformed("no Ethernet header".into()))?;
    if eth.get_ethertype() != EtherTypes::Ipv6 {
        return Err(malformed(format!(
            "EtherType 0x{:04x} is not IPv6",
            eth.get_ethertype().0
        )));
    }
    let ip = Ipv6Packet::new(eth.payload()).ok_or_else(|| malformed("no IPv6 header".into()))?;
    if ip.get_version() != 6 {
        return Err(malformed(format!("IP version {}", ip.get_version())));
    }
    let payload_len = usize::from(ip.get_payload_length());
    let carried = eth.payload().len() - IPV6_HEADER;
    if payload_len > carried {
        return Err(WireError::Truncated {
            what: "IPv6 payload",
            got: carried,
            need: payload_len,
        });
    }
    if ip.get_next_header() != IpNextHeaderProtocols::Icmpv6 {
        return Err(malformed(format!(
            "next header {} is not ICMPv6",
            ip.get_next_header().0
        )));
    }
    // Ethernet pads short frames: the IPv6 length says where ICMPv6 ends.
    let message = &eth.payload()[IPV6_HEADER..IPV6_HEADER + payload_len];
    let icmp = Icmpv6Packet::new(message).ok_or(WireError::Truncated {
        what: "ICMPv6 header",
        got: message.len(),
        need: ICMPV6_HEADER,
    })?;
    let (source, destination) = (ip.get_source(), ip.get_destination());
    if checksum(&icmp, &source, &destination) != icmp.get_checksum() {
        return Err(malformed("bad ICMPv6 checksum".into()));
    }
    let eth_source = Mac::from_pnet(eth.get_source());
    let answer = match icmp.get_icmpv6_type().0 {
        NEIGHBOUR_ADVERTISEMENT => {
            if ip.get_hop_limit() != 255 || icmp.get_icmpv6_code().0 != 0 {
                return Err(malformed(
                    "an advertisement with hop limit below 255 or a code: not from this link"
                        .into(),
                ));
            }
            super::need(message, ICMPV6_HEADER + 20, "neighbour advertisement")?;
            let advert = NeighborAdvertPacket::new(message)
                .ok_or_else(|| malformed("short advertisement".into()))?;
            Answer::Advertisement {
                target: advert.get_target_addr(),
                mac: target_link_address(&message[ICMPV6_HEADER + 20..])?.unwrap_or(eth_source),
                router: advert.get_flags() & 0x80 != 0,
            }
        }
        ECHO_REPLY => {
            super::need(message, ICMPV6_HEADER + 4, "echo reply")?;
            Answer::EchoReply {
                from: source,
                mac: eth_source,
                id: u16::from_be_bytes([message[4], message[5]]),
            }
        }
        other => return Err(malformed(format!("ICMPv6 type {other} is not an answer"))),
    };
    Ok(Reply {
        destination,
        eth_source,
        answer,
    })
}

/// The target link-layer address option among `options`, if any; an
/// option of length 0 or running past the message is an error (RFC 4861
/// §4.6 says to drop such a packet).
fn target_link_address(mut options: &[u8]) -> Result<Option<Mac>, WireError> {
    let mut found = None;
    while !options.is_empty() {
        super::need(options, 2, "NDP option")?;
        let len = usize::from(options[1]) * 8;
        if len == 0 {
            return Err(malformed("an NDP option of length 0".into()));
        }
        super::need(options, len, "NDP option")?;
        if options[0] == OPTION_TARGET_LINK_ADDRESS && len == 8 && found.is_none() {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&options[2..8]);
            found = Some(Mac(mac));
        }
        options = &options[len..];
    }
    Ok(found)
}

/// The advertisement a host at `mac` sends to `destination` for `target`,
/// with the target link-layer address option when `option` holds one (for
/// the simulations).
#[cfg(test)]
pub(crate) fn advertisement(
    mac: Mac,
    to: Mac,
    target: Ipv6Addr,
    destination: Ipv6Addr,
    router: bool,
    option: Option<Mac>,
) -> Vec<u8> {
    let mut body = vec![if router { 0xe0 } else { 0x60 }, 0, 0, 0];
    body.extend_from_slice(&target.octets());
    if let Some(option) = option {
        body.extend_from_slice(&[OPTION_TARGET_LINK_ADDRESS, 1]);
        body.extend_from_slice(&option.0);
    }
    frame(
        mac,
        to,
        target,
        destination,
        255,
        NEIGHBOUR_ADVERTISEMENT,
        &body,
    )
}

/// The echo reply a host at `mac` and `from` sends (for the simulations).
#[cfg(test)]
pub(crate) fn echo_reply(
    mac: Mac,
    to: Mac,
    from: Ipv6Addr,
    destination: Ipv6Addr,
    id: u16,
) -> Vec<u8> {
    let mut body = id.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 1]);
    frame(mac, to, from, destination, 64, ECHO_REPLY, &body)
}

/// What a frame the scan sent asks: the solicitation's target, or `None`
/// for the all-nodes echo (for the simulations).
#[cfg(test)]
pub(crate) fn asked(frame: &[u8]) -> Option<Ipv6Addr> {
    let icmp = ETHERNET_HEADER + IPV6_HEADER;
    match frame[icmp] {
        NEIGHBOUR_SOLICITATION => {
            let mut target = [0u8; 16];
            target.copy_from_slice(&frame[icmp + 8..icmp + 24]);
            Some(Ipv6Addr::from(target))
        }
        _ => None,
    }
}

fn malformed(why: String) -> WireError {
    WireError::Malformed {
        what: "neighbour discovery",
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Mac = Mac([2, 0, 0, 0, 0, 1]);
    const HOST: Mac = Mac([2, 0, 0, 0, 0, 2]);
    const SOURCE: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const TARGET: Ipv6Addr = Ipv6Addr::new(0xfd14, 0, 0, 0, 0, 0, 0x12, 0x3456);

    #[test]
    fn a_solicitation_goes_to_the_targets_solicited_node_group_with_our_mac() {
        let bytes = solicitation(ME, SOURCE, TARGET);
        assert_eq!(&bytes[..6], &[0x33, 0x33, 0xff, 0x12, 0x34, 0x56]);
        assert_eq!(&bytes[12..14], &[0x86, 0xdd]);
        let ip = Ipv6Packet::new(&bytes[14..]).unwrap();
        assert_eq!(
            ip.get_destination(),
            "ff02::1:ff12:3456".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(ip.get_hop_limit(), 255);
        let icmp = Icmpv6Packet::new(ip.payload()).unwrap();
        assert_eq!(icmp.get_icmpv6_type().0, NEIGHBOUR_SOLICITATION);
        assert_eq!(
            checksum(&icmp, &SOURCE, &ip.get_destination()),
            icmp.get_checksum()
        );
        assert_eq!(&ip.payload()[8..24], &TARGET.octets());
        assert_eq!(&ip.payload()[24..], &[1, 1, 2, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn an_advertisement_names_the_target_and_its_link_address_option() {
        let reply = parse(&advertisement(
            HOST,
            ME,
            TARGET,
            SOURCE,
            false,
            Some(Mac([2, 9, 9, 9, 9, 9])),
        ))
        .unwrap();
        assert_eq!(reply.destination, SOURCE);
        assert_eq!(
            reply.answer,
            Answer::Advertisement {
                target: TARGET,
                mac: Mac([2, 9, 9, 9, 9, 9]),
                router: false
            }
        );
        // Without the option, the frame's source is the MAC.
        let reply = parse(&advertisement(HOST, ME, TARGET, SOURCE, false, None)).unwrap();
        assert!(matches!(
            reply.answer,
            Answer::Advertisement { mac: HOST, .. }
        ));
    }

    #[test]
    fn an_echo_reply_names_who_sent_it_and_padding_is_ignored() {
        let mut bytes = frame(
            HOST,
            ME,
            TARGET,
            SOURCE,
            64,
            ECHO_REPLY,
            &[0x12, 0x34, 0, 1],
        );
        bytes.resize(bytes.len() + 10, 0);
        assert_eq!(
            parse(&bytes).unwrap().answer,
            Answer::EchoReply {
                from: TARGET,
                mac: HOST,
                id: 0x1234
            }
        );
    }

    #[test]
    fn every_cut_and_every_wrong_field_is_an_error_not_a_panic() {
        let bytes = advertisement(HOST, ME, TARGET, SOURCE, false, Some(HOST));
        for len in 0..bytes.len() {
            assert!(parse(&bytes[..len]).is_err(), "{len} bytes");
        }
        // EtherType, version, payload length, next header, checksum.
        for (offset, flip) in [(12, 0x80), (14, 0x20), (18, 0x40), (20, 0x0f), (57, 0x01)] {
            let mut bad = bytes.clone();
            bad[offset] ^= flip;
            assert!(parse(&bad).is_err(), "byte {offset} ^ {flip}");
        }
        // Checksummed but wrong: an advertisement from off the link (hop
        // limit 64), an option of length 0, a message that is no answer.
        let mut body = vec![0x60, 0, 0, 0];
        body.extend_from_slice(&TARGET.octets());
        let off_link = frame(HOST, ME, TARGET, SOURCE, 64, NEIGHBOUR_ADVERTISEMENT, &body);
        assert!(parse(&off_link).is_err());
        body.extend_from_slice(&[OPTION_TARGET_LINK_ADDRESS, 0, 0, 0, 0, 0, 0, 0]);
        let zero_option = frame(
            HOST,
            ME,
            TARGET,
            SOURCE,
            255,
            NEIGHBOUR_ADVERTISEMENT,
            &body,
        );
        assert!(parse(&zero_option).is_err());
        assert!(parse(&frame(HOST, ME, TARGET, SOURCE, 255, 1, &[0; 8])).is_err());
        // Our own solicitation is not an answer.
        assert!(parse(&solicitation(ME, SOURCE, TARGET)).is_err());
        for seed in 0..4000u32 {
            let mut noise = bytes.clone();
            let at = (seed as usize * 7) % noise.len();
            noise[at] ^= (seed % 251) as u8 + 1;
            let _ = parse(&noise);
        }
    }
}
