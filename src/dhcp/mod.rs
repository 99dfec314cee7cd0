//! `dhcp`: which DHCP servers answer on a link, and what they offer — a
//! DHCPDISCOVER from a MAC that is not the interface's (so its own lease is
//! never touched), every OFFER decoded, more than one server flagged, and
//! with `--request` the whole exchange (REQUEST, ACK) and the lease given
//! back (RELEASE).
//!
//! The engine ([`engine::run`]) is generic over the link and the clock, so
//! its tests script servers that answer twice, late, with foreign
//! transaction ids or with garbage; the real link is the same AF_PACKET
//! socket arping uses, bound to IPv4 frames.
#![forbid(unsafe_code)]

pub mod engine;
pub mod setup;

#[cfg(test)]
mod engine_tests;

use std::net::Ipv4Addr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::wire::arp::Mac;
use crate::wire::dhcp::{Message, MessageType, code};
use crate::wire::dhcp_options::{self, OptionValue};

/// How long offers are collected by default: long enough for a server
/// that checks the address first (dnsmasq pings it), short enough to wait for.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Replies kept for the report; more are counted.
pub const MAX_OFFERS: usize = 32;

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Request {
    /// The interface's name.
    pub interface: String,
    /// The interface's own MAC: the Ethernet source of what we send.
    pub interface_mac: Mac,
    /// The client hardware address in the messages (random unless given).
    pub client_mac: Mac,
    /// The transaction id.
    pub xid: u32,
    /// How long to collect offers, and then to wait for the ACK.
    pub timeout: Duration,
    /// Complete the exchange with the first offer, then release the lease.
    pub request: bool,
}

/// One option of a reply: its code, name and decoded value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DhcpOption {
    /// Where its code byte lies in the message.
    pub offset: usize,
    /// The option code.
    pub code: u8,
    /// Its name (`dns_servers`), or null when netdx does not know it.
    pub name: Option<&'static str>,
    /// Its length in bytes.
    pub length: usize,
    /// The value decoded; unknown options as hex.
    pub value: OptionValue,
}

/// The BOOTP fields of a reply, as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Bootp {
    /// 2: BOOTREPLY.
    pub op: u8,
    /// Hardware type.
    pub htype: u8,
    /// Hardware address length.
    pub hlen: u8,
    /// Relay hops.
    pub hops: u8,
    /// Transaction id.
    pub xid: u32,
    /// Seconds field.
    pub secs: u16,
    /// Flags (0x8000: broadcast).
    pub flags: u16,
    /// Client address.
    pub ciaddr: Ipv4Addr,
    /// The address given.
    pub yiaddr: Ipv4Addr,
    /// Next server (TFTP).
    pub siaddr: Ipv4Addr,
    /// Relay agent.
    pub giaddr: Ipv4Addr,
    /// Client hardware address.
    pub chaddr: String,
    /// Server host name field (empty when unused).
    pub sname: String,
    /// Boot file field (empty when unused).
    pub file: String,
}

/// An OFFER, ACK or NAK from a server.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Reply {
    /// OFFER, ACK or NAK.
    pub message_type: MessageType,
    /// Option 54: who the server says it is.
    pub server_id: Option<Ipv4Addr>,
    /// The IPv4 source of the reply (a relay's, when relayed).
    pub source: Ipv4Addr,
    /// The Ethernet source of the reply.
    #[schemars(with = "String")]
    #[serde(serialize_with = "serialize_mac")]
    pub server_mac: Mac,
    /// The address offered (yiaddr).
    pub address: Ipv4Addr,
    /// Option 51, seconds.
    pub lease_time: Option<u32>,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6.
    pub dns_servers: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain: Option<String>,
    /// Every option, in the server's order.
    pub options: Vec<DhcpOption>,
    /// The BOOTP header.
    pub bootp: Bootp,
    /// Milliseconds from the DISCOVER (or REQUEST) to this reply.
    pub after_ms: f64,
    /// The DHCP message as received (for --wire).
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The reply of `message` (already checked to be ours).
    pub fn from_message(
        message: &Message,
        source: Ipv4Addr,
        server_mac: Mac,
        bytes: &[u8],
    ) -> Option<Reply> {
        let message_type = message.message_type()?;
        let options: Vec<DhcpOption> = message
            .options
            .iter()
            .map(|o| DhcpOption {
                offset: o.offset,
                code: o.code,
                name: dhcp_options::name(o.code),
                length: o.data.len(),
                value: dhcp_options::decode(o.code, &o.data),
            })
            .collect();
        let addresses = |code: u8| match options.iter().find(|o| o.code == code) {
            Some(DhcpOption {
                value: OptionValue::Addresses { addresses },
                ..
            }) => addresses.clone(),
            _ => Vec::new(),
        };
        let domain = options.iter().find_map(|o| match &o.value {
            OptionValue::Text { text } if o.code == 15 => Some(text.clone()),
            _ => None,
        });
        let lease_time = options.iter().find_map(|o| match o.value {
            OptionValue::Seconds { seconds } if o.code == code::LEASE_TIME => Some(seconds),
            _ => None,
        });
        Some(Reply {
            message_type,
            server_id: message.address_option(code::SERVER_ID),
            source,
            server_mac,
            address: message.yiaddr,
            lease_time,
            subnet_mask: message.address_option(1),
            routers: addresses(3),
            dns_servers: addresses(6),
            domain,
            bootp: Bootp {
                op: message.op,
                htype: message.htype,
                hlen: message.hlen,
                hops: message.hops,
                xid: message.xid,
                secs: message.secs,
                flags: message.flags,
                ciaddr: message.ciaddr,
                yiaddr: message.yiaddr,
                siaddr: message.siaddr,
                giaddr: message.giaddr,
                chaddr: message
                    .client_mac()
                    .map_or_else(|| hex(&message.chaddr), |mac| mac.to_string()),
                sname: String::from_utf8_lossy(&message.sname).into_owned(),
                file: String::from_utf8_lossy(&message.file).into_owned(),
            },
            options,
            after_ms: 0.0,
            bytes: bytes.to_vec(),
        })
    }

    /// Who the server is: option 54, else the reply's source.
    pub fn server(&self) -> Ipv4Addr {
        self.server_id.unwrap_or(self.source)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `--request` did with the first offer.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Exchange {
    /// The address asked for (the offer's).
    pub address: Ipv4Addr,
    /// The server asked.
    pub server: Ipv4Addr,
    /// Its ACK or NAK; null when it did not answer in time.
    pub answer: Option<Reply>,
    /// A RELEASE was sent for the lease (after an ACK).
    pub released: bool,
}

/// How a run ended.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    /// The interface.
    pub interface: String,
    /// The client hardware address used.
    #[schemars(with = "String")]
    #[serde(serialize_with = "serialize_mac")]
    pub client_mac: Mac,
    /// The transaction id.
    pub xid: u32,
    /// How long offers were collected, in milliseconds.
    pub timeout_ms: f64,
    /// Every OFFER, in arrival order (the first 32).
    pub offers: Vec<Reply>,
    /// Offers left out of `offers`.
    pub offers_omitted: u64,
    /// Distinct servers that offered.
    pub servers: Vec<Ipv4Addr>,
    /// More than one server answered: a rogue server?
    pub rogue_suspected: bool,
    /// The REQUEST/ACK/RELEASE, with --request.
    pub exchange: Option<Exchange>,
    /// Frames read that were not an answer to us (other traffic, foreign
    /// transaction ids or hardware addresses, malformed frames).
    pub ignored: u64,
    /// The whole run, in milliseconds.
    pub elapsed_ms: f64,
}

impl Report {
    /// An offer came; with --request, an ACK too.
    pub fn success(&self) -> bool {
        !self.offers.is_empty()
            && self.exchange.as_ref().is_none_or(|exchange| {
                exchange
                    .answer
                    .as_ref()
                    .is_some_and(|a| a.message_type == MessageType::Ack)
            })
    }
}

fn serialize_mac<S: serde::Serializer>(mac: &Mac, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(mac)
}

/// Why dhcp could not run.
#[derive(Debug, thiserror::Error)]
pub enum DhcpError {
    /// No interface was named.
    #[error(
        "name the interface to ask on with -I IFACE: a DISCOVER reaches every DHCP server on that link, so netdx does not guess one ('netdx ifconfig' lists them)"
    )]
    NoInterface,
    /// The interface does not exist.
    #[error("interface '{0}' not found ('netdx ifconfig -a' lists every interface)")]
    NoSuchInterface(String),
    /// DHCP here needs an Ethernet link.
    #[error(
        "interface {interface} has no Ethernet address ({kind}): netdx dhcp runs on Ethernet links; choose one with -I"
    )]
    NotEthernet {
        /// The interface.
        interface: String,
        /// Its link type.
        kind: String,
    },
    /// The interface is down.
    #[error("interface {0} is down: bring it up first (ip link set {0} up)")]
    Down(String),
    /// --mac is not a usable client address.
    #[error(
        "--mac {0}: a client hardware address must be unicast (the first byte even), not all zeros"
    )]
    BadMac(Mac),
    /// --request with the interface's own MAC would release its real lease.
    #[error(
        "--request --mac {mac}: that is {interface}'s own MAC, and the RELEASE at the end would end the interface's real lease; leave --mac out (a random MAC is used) or give another"
    )]
    OwnMac {
        /// The MAC given.
        mac: Mac,
        /// The interface.
        interface: String,
    },
    /// The packet socket could not be opened.
    #[error(transparent)]
    Socket(#[from] crate::net::SocketError),
    /// Capabilities could not be dropped after opening the socket.
    #[error(transparent)]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// Sending or receiving failed.
    #[error("dhcp on {interface}: {source}")]
    Io {
        /// The interface.
        interface: String,
        /// The error.
        source: std::io::Error,
    },
    /// Reading the interface failed.
    #[error("reading interface: {0}")]
    Iface(String),
}
