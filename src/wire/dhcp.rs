//! DHCP (RFC 2131) over BOOTP (RFC 951): the DISCOVER, REQUEST and RELEASE
//! `netdx dhcp` sends, and the checked reading of every OFFER, ACK and NAK
//! that comes back — the fixed header, the magic cookie and the options
//! (named and decoded in [`super::dhcp_options`]). Frames are whole:
//! Ethernet, IPv4 and UDP headers built here with their checksums, so the
//! client never binds port 68.
#![forbid(unsafe_code)]

use std::net::Ipv4Addr;

use pnet_packet::ethernet::{EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::udp::{self, MutableUdpPacket, UdpPacket};
use schemars::JsonSchema;
use serde::Serialize;

use super::arp::{ETHERNET_HEADER, Mac};
use super::emit::{self, Ipv4Fields, UDP_HEADER_LEN};
use super::ipv4::{self, PROTO_UDP};
use super::{WireError, be16, be32, need};

/// The client's UDP port.
pub const CLIENT_PORT: u16 = 68;
/// The server's UDP port.
pub const SERVER_PORT: u16 = 67;
/// EtherType of IPv4, for binding a packet socket.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// The BOOTP header before the options: op … file.
pub const FIXED_LEN: usize = 236;
/// RFC 2131 3: the options start with 99.130.83.99.
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// The smallest message with a cookie.
pub const MIN_LEN: usize = FIXED_LEN + MAGIC_COOKIE.len();
/// RFC 951's minimum BOOTP message; some servers drop shorter ones.
const PADDED_LEN: usize = 300;
/// RFC 2131 4.1: ask servers to broadcast their replies (our chaddr need
/// not be the interface's MAC, so a unicast reply might never reach us).
pub const FLAG_BROADCAST: u16 = 0x8000;
/// `op` of a client's message.
pub const BOOTREQUEST: u8 = 1;
/// `op` of a server's message.
pub const BOOTREPLY: u8 = 2;

// Field offsets (RFC 2131 figure 1).
const OP: usize = 0;
const HTYPE: usize = 1;
const HLEN: usize = 2;
const HOPS: usize = 3;
const XID: usize = 4;
const SECS: usize = 8;
const FLAGS: usize = 10;
const CIADDR: usize = 12;
const YIADDR: usize = 16;
const SIADDR: usize = 20;
const GIADDR: usize = 24;
const CHADDR: usize = 28;
const SNAME: usize = 44;
const FILE: usize = 108;

/// Option codes the client itself writes or looks for.
pub mod code {
    /// Padding, no length byte.
    pub const PAD: u8 = 0;
    /// The address the client asks for.
    pub const REQUESTED_ADDRESS: u8 = 50;
    /// The lease time, seconds.
    pub const LEASE_TIME: u8 = 51;
    /// DHCP message type.
    pub const MESSAGE_TYPE: u8 = 53;
    /// Option overload (RFC 2132 9.3): more options in `file` (1), `sname` (2) or both (3).
    pub const OVERLOAD: u8 = 52;
    /// The server's identifier (its address).
    pub const SERVER_ID: u8 = 54;
    /// The options the client would like.
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// The end of the options, no length byte.
    pub const END: u8 = 255;
}

/// The DHCP message types (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum MessageType {
    /// A client looks for servers.
    Discover,
    /// A server offers an address.
    Offer,
    /// A client asks for an offered address.
    Request,
    /// A client found the address in use.
    Decline,
    /// A server confirms the lease.
    Ack,
    /// A server refuses the request.
    Nak,
    /// A client gives the address back.
    Release,
    /// A client with an address asks for configuration only.
    Inform,
}

impl MessageType {
    /// The type for option 53's value, if it is one.
    pub fn from_code(value: u8) -> Option<MessageType> {
        use MessageType::*;
        [Discover, Offer, Request, Decline, Ack, Nak, Release, Inform]
            .get(usize::from(value).checked_sub(1)?)
            .copied()
    }

    /// Option 53's value.
    pub fn code(self) -> u8 {
        self as u8 + 1
    }

    /// `DHCPOFFER` …
    pub fn name(self) -> &'static str {
        match self {
            MessageType::Discover => "DHCPDISCOVER",
            MessageType::Offer => "DHCPOFFER",
            MessageType::Request => "DHCPREQUEST",
            MessageType::Decline => "DHCPDECLINE",
            MessageType::Ack => "DHCPACK",
            MessageType::Nak => "DHCPNAK",
            MessageType::Release => "DHCPRELEASE",
            MessageType::Inform => "DHCPINFORM",
        }
    }
}

/// One option as it was on the wire: its code and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOption {
    /// Where its code byte lies in the message.
    pub offset: usize,
    /// The code.
    pub code: u8,
    /// The value (at most 255 bytes, as the length byte allows).
    pub data: Vec<u8>,
}

/// A BOOTP/DHCP message: the fixed header and the options in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// BOOTREQUEST (1) or BOOTREPLY (2).
    pub op: u8,
    /// Hardware type (1: Ethernet).
    pub htype: u8,
    /// Hardware address length (6).
    pub hlen: u8,
    /// Relay hops.
    pub hops: u8,
    /// Transaction id chosen by the client.
    pub xid: u32,
    /// Seconds since the client began.
    pub secs: u16,
    /// Flags (the top bit: broadcast).
    pub flags: u16,
    /// The client's current address.
    pub ciaddr: Ipv4Addr,
    /// "Your" address: what the server gives.
    pub yiaddr: Ipv4Addr,
    /// The next server (TFTP) address.
    pub siaddr: Ipv4Addr,
    /// The relay agent's address.
    pub giaddr: Ipv4Addr,
    /// Client hardware address field (16 bytes; the first `hlen` count).
    pub chaddr: [u8; 16],
    /// Server host name (64 bytes, NUL-terminated).
    pub sname: Vec<u8>,
    /// Boot file name (128 bytes, NUL-terminated).
    pub file: Vec<u8>,
    /// The options, PAD and END left out.
    pub options: Vec<RawOption>,
}

impl Message {
    /// A client's message of `kind` from `client`, broadcast flag set,
    /// everything else zero; the caller adds options.
    pub fn client(kind: MessageType, xid: u32, client: Mac) -> Message {
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&client.0);
        Message {
            op: BOOTREQUEST,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid,
            secs: 0,
            flags: FLAG_BROADCAST,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: Vec::new(),
            file: Vec::new(),
            options: vec![RawOption {
                offset: MIN_LEN,
                code: code::MESSAGE_TYPE,
                data: vec![kind.code()],
            }],
        }
    }

    /// Appends an option (values over 255 bytes are cut to 255).
    pub fn push(&mut self, code: u8, data: &[u8]) {
        let data = data.get(..255).unwrap_or(data).to_vec();
        // Where emit() will put it: options are written without padding.
        let offset = MIN_LEN + self.options.iter().map(|o| 2 + o.data.len()).sum::<usize>();
        self.options.push(RawOption { offset, code, data });
    }

    /// The first option with `code`.
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.data.as_slice())
    }

    /// Option 53, when present and known.
    pub fn message_type(&self) -> Option<MessageType> {
        MessageType::from_code(*self.option(code::MESSAGE_TYPE)?.first()?)
    }

    /// Option `code` read as one IPv4 address.
    pub fn address_option(&self, code: u8) -> Option<Ipv4Addr> {
        let data: [u8; 4] = self.option(code)?.try_into().ok()?;
        Some(Ipv4Addr::from(data))
    }

    /// The client hardware address as a MAC (when hlen is 6).
    pub fn client_mac(&self) -> Option<Mac> {
        (self.htype == 1 && self.hlen == 6).then(|| {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&self.chaddr[..6]);
            Mac(mac)
        })
    }

    /// The message's bytes: header, cookie, options, END, padded to 300.
    pub fn emit(&self) -> Vec<u8> {
        let mut out = vec![0u8; FIXED_LEN];
        out[OP] = self.op;
        out[HTYPE] = self.htype;
        out[HLEN] = self.hlen;
        out[HOPS] = self.hops;
        out[XID..XID + 4].copy_from_slice(&self.xid.to_be_bytes());
        out[SECS..SECS + 2].copy_from_slice(&self.secs.to_be_bytes());
        out[FLAGS..FLAGS + 2].copy_from_slice(&self.flags.to_be_bytes());
        for (at, address) in [
            (CIADDR, self.ciaddr),
            (YIADDR, self.yiaddr),
            (SIADDR, self.siaddr),
            (GIADDR, self.giaddr),
        ] {
            out[at..at + 4].copy_from_slice(&address.octets());
        }
        out[CHADDR..CHADDR + 16].copy_from_slice(&self.chaddr);
        for (at, len, text) in [(SNAME, 64, &self.sname), (FILE, 128, &self.file)] {
            let text = text.get(..len - 1).unwrap_or(text);
            out[at..at + text.len()].copy_from_slice(text);
        }
        out.extend_from_slice(&MAGIC_COOKIE);
        for option in &self.options {
            out.push(option.code);
            out.push(option.data.len() as u8);
            out.extend_from_slice(&option.data);
        }
        out.push(code::END);
        if out.len() < PADDED_LEN {
            out.resize(PADDED_LEN, 0);
        }
        out
    }

    /// Reads a BOOTP/DHCP message; anything short, without the cookie, or
    /// with an option running past the end is an error, never a panic.
    /// Memory is bounded by the bytes given: each option holds at most 255.
    pub fn parse(bytes: &[u8]) -> Result<Message, WireError> {
        need(bytes, MIN_LEN, "DHCP message")?;
        if bytes[FIXED_LEN..MIN_LEN] != MAGIC_COOKIE {
            return Err(malformed("no DHCP magic cookie (plain BOOTP?)".into()));
        }
        let address = |at: usize| Ipv4Addr::from(be32(bytes, at));
        let mut chaddr = [0u8; 16];
        chaddr.copy_from_slice(&bytes[CHADDR..CHADDR + 16]);
        let mut options = parse_options(&bytes[MIN_LEN..], MIN_LEN)?;
        // RFC 2131 4.1: with option 52 the options go on in `file`, then
        // in `sname`, which then hold no names.
        let overload = options
            .iter()
            .find(|o| o.code == code::OVERLOAD)
            .and_then(|o| o.data.first().copied())
            .unwrap_or(0);
        let (in_file, in_sname) = (overload & 1 != 0, overload & 2 != 0);
        if in_file {
            options.extend(parse_options(&bytes[FILE..FILE + 128], FILE)?);
        }
        if in_sname {
            options.extend(parse_options(&bytes[SNAME..SNAME + 64], SNAME)?);
        }
        let field = |at: usize, len: usize, overloaded: bool| {
            if overloaded {
                Vec::new()
            } else {
                until_nul(&bytes[at..at + len])
            }
        };
        Ok(Message {
            op: bytes[OP],
            htype: bytes[HTYPE],
            hlen: bytes[HLEN],
            hops: bytes[HOPS],
            xid: be32(bytes, XID),
            secs: be16(bytes, SECS),
            flags: be16(bytes, FLAGS),
            ciaddr: address(CIADDR),
            yiaddr: address(YIADDR),
            siaddr: address(SIADDR),
            giaddr: address(GIADDR),
            chaddr,
            sname: field(SNAME, 64, in_sname),
            file: field(FILE, 128, in_file),
            options,
        })
    }
}

/// The options in `rest` (which starts at `offset` in the message), up to
/// END or the end of the bytes.
fn parse_options(mut rest: &[u8], mut offset: usize) -> Result<Vec<RawOption>, WireError> {
    let mut options = Vec::new();
    while let Some((&code, after)) = rest.split_first() {
        match code {
            code::PAD => {
                rest = after;
                offset += 1;
            }
            code::END => break,
            _ => {
                let Some((&len, after)) = after.split_first() else {
                    return Err(malformed(format!("option {code} has no length byte")));
                };
                let len = usize::from(len);
                let Some(data) = after.get(..len) else {
                    return Err(malformed(format!(
                        "option {code} claims {len} bytes, {} remain",
                        after.len()
                    )));
                };
                options.push(RawOption {
                    offset,
                    code,
                    data: data.to_vec(),
                });
                rest = &after[len..];
                offset += 2 + len;
            }
        }
    }
    Ok(options)
}

fn until_nul(field: &[u8]) -> Vec<u8> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field[..end].to_vec()
}

fn malformed(why: String) -> WireError {
    WireError::Malformed { what: "DHCP", why }
}

/// Where a UDP datagram in an Ethernet frame came from and went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpFrame<'a> {
    /// Ethernet source (the server's or the relay's MAC).
    pub eth_source: Mac,
    /// Ethernet destination.
    pub eth_destination: Mac,
    /// IPv4 source.
    pub source: Ipv4Addr,
    /// IPv4 destination.
    pub destination: Ipv4Addr,
    /// UDP source port.
    pub source_port: u16,
    /// UDP destination port.
    pub destination_port: u16,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// Builds Ethernet + IPv4 + UDP around `payload`, both checksums computed.
pub fn udp_frame(
    eth: (Mac, Mac),
    source: (Ipv4Addr, u16),
    destination: (Ipv4Addr, u16),
    payload: &[u8],
) -> Vec<u8> {
    let mut datagram = vec![0u8; UDP_HEADER_LEN + payload.len()];
    if let Some(mut packet) = MutableUdpPacket::new(&mut datagram) {
        packet.set_source(source.1);
        packet.set_destination(destination.1);
        packet.set_length(u16::try_from(UDP_HEADER_LEN + payload.len()).unwrap_or(u16::MAX));
        packet.set_payload(payload);
        let sum = udp::ipv4_checksum(&packet.to_immutable(), &source.0, &destination.0);
        packet.set_checksum(sum);
    }
    let ip = emit::ipv4_header(
        &Ipv4Fields {
            // RFC 2474 class selector 6 would be usual for control traffic,
            // but DHCP clients send 0; servers do not care.
            tos: 0,
            identification: 0,
            dont_fragment: false,
            ttl: 64,
            protocol: PROTO_UDP,
            source: source.0,
            destination: destination.0,
        },
        &datagram,
    );
    let mut frame = vec![0u8; ETHERNET_HEADER + ip.len()];
    if let Some(mut ethernet) = MutableEthernetPacket::new(&mut frame) {
        ethernet.set_source(pnet_base::MacAddr::from(eth.0.0));
        ethernet.set_destination(pnet_base::MacAddr::from(eth.1.0));
        ethernet.set_ethertype(EtherTypes::Ipv4);
        ethernet.set_payload(&ip);
    }
    frame
}

/// Reads an Ethernet frame as IPv4/UDP: a non-IPv4 frame, a fragment,
/// another protocol or a cut datagram is an error.
pub fn parse_udp_frame(frame: &[u8]) -> Result<UdpFrame<'_>, WireError> {
    let eth = EthernetPacket::new(frame).ok_or(WireError::Truncated {
        what: "Ethernet header",
        got: frame.len(),
        need: ETHERNET_HEADER,
    })?;
    if eth.get_ethertype() != EtherTypes::Ipv4 {
        return Err(WireError::Malformed {
            what: "Ethernet",
            why: format!("EtherType 0x{:04x} is not IPv4", eth.get_ethertype().0),
        });
    }
    let (header, datagram) = ipv4::parse(&frame[ETHERNET_HEADER..])?;
    let not_udp = |why: String| WireError::Malformed { what: "UDP", why };
    if header.protocol != PROTO_UDP {
        return Err(not_udp(format!("protocol {} is not UDP", header.protocol)));
    }
    if header.more_fragments || header.fragment_offset != 0 {
        return Err(not_udp("a fragment".into()));
    }
    need(datagram, UDP_HEADER_LEN, "UDP header")?;
    let length = usize::from(be16(datagram, 4));
    if length < UDP_HEADER_LEN || length > datagram.len() {
        return Err(not_udp(format!(
            "length {length} with {} bytes present",
            datagram.len()
        )));
    }
    let datagram = &datagram[..length];
    let view = UdpPacket::new(datagram).ok_or(WireError::Truncated {
        what: "UDP header",
        got: datagram.len(),
        need: UDP_HEADER_LEN,
    })?;
    // The UDP checksum is not checked: a packet socket sees frames before
    // offload fills it in (a local sender's on veth, or a NIC's), so a
    // good reply can read as bad; the DHCP checks (cookie, xid, chaddr)
    // are what tell a reply from noise.
    Ok(UdpFrame {
        eth_source: Mac(eth.get_source().octets()),
        eth_destination: Mac(eth.get_destination().octets()),
        source: header.source,
        destination: header.destination,
        source_port: view.get_source(),
        destination_port: view.get_destination(),
        payload: &datagram[UDP_HEADER_LEN..],
    })
}

#[cfg(test)]
#[path = "dhcp_tests.rs"]
mod tests;
