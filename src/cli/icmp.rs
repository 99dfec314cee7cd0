//! `netdx icmp` arguments: every field of the message and the IP header.

use std::time::Duration;

use clap::Args;

use super::values;
use crate::icmp::MessageType;

pub(super) const ICMP_EXAMPLES: &str = "\
Examples:
  netdx icmp 10.0.0.2                    one echo request, both layers of the reply decoded
  netdx icmp --type timestamp 10.0.0.2   a timestamp request (type 13): the peer's clock in the reply
  netdx icmp --ttl 1 10.0.3.2            expires at the first router: Time Exceeded, quoting the probe
  netdx icmp --bad-checksum 10.0.0.2     a wrong checksum on purpose: the receiver drops it silently
  netdx icmp --payload 'hello' -c 3 ::1  ICMPv6 echo with your own data
  netdx icmp --hdrincl --tos 0x10 --df 10.0.0.2
                                         netdx builds the IPv4 header too (IP_HDRINCL)
  netdx icmp --json 10.0.0.2             the decoded packets as JSON

Only answers that belong to the probe are shown: replies carrying its identifier
and sequence, and ICMP errors quoting it. Needs CAP_NET_RAW (root, or
setcap cap_net_raw+ep); capabilities are dropped once the socket is open.
Exit status: 0 if any probe got a reply or an ICMP error about it, 1 if none did, 2 on errors.";

// `netdx icmp [OPTIONS] HOST` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct IcmpArgs {
    /// Host name or address
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Message type: echo, timestamp, or a type number 0-255
    #[arg(long = "type", value_name = "TYPE", default_value = "echo", value_parser = values::icmp_type)]
    pub message: MessageType,
    /// Code field, 0-255
    #[arg(long, value_name = "N", default_value = "0", value_parser = values::byte)]
    pub code: u8,
    /// Identifier field [default: this process's pid]
    #[arg(long, value_name = "N", value_parser = values::word)]
    pub id: Option<u16>,
    /// Sequence number of the first probe (later probes count up)
    #[arg(long, value_name = "N", default_value = "1", value_parser = values::word)]
    pub seq: u16,
    /// IP TTL / IPv6 hop limit, 1-255
    #[arg(long, value_name = "N", value_parser = values::ttl)]
    pub ttl: Option<u8>,
    /// TOS byte / IPv6 traffic class, 0-255 (0x10 style accepted)
    #[arg(long, value_name = "N", value_parser = values::byte)]
    pub tos: Option<u8>,
    /// Set Don't Fragment (IP_PMTUDISC_DO); without it the packet may be fragmented
    #[arg(long)]
    pub df: bool,
    /// Data bytes after the ICMP header, filled like ping's
    #[arg(long, value_name = "N", conflicts_with = "payload", value_parser = values::payload_size)]
    pub size: Option<usize>,
    /// The data itself: 0x-prefixed hex (0xdeadbeef) or text
    #[arg(long, value_name = "HEX|TEXT", value_parser = values::payload)]
    pub payload: Option<values::Bytes>,
    /// Probes to send
    #[arg(short = 'c', value_name = "N", default_value = "1", value_parser = values::count)]
    pub count: u64,
    /// Seconds between probes
    #[arg(short = 'i', value_name = "SECS", default_value = "1", value_parser = values::seconds)]
    pub interval: Duration,
    /// Seconds to wait for each probe's answer
    #[arg(short = 'W', value_name = "SECS", default_value = "2", value_parser = values::positive_seconds)]
    pub timeout: Duration,
    /// Send a deliberately wrong ICMP checksum (IPv4)
    #[arg(long)]
    pub bad_checksum: bool,
    /// Build the IPv4 header too, with IP_HDRINCL
    #[arg(long)]
    pub hdrincl: bool,
    /// Use IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// Use IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
}
