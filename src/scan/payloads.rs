//! What a UDP scan sends: for well-known services, a request the service
//! answers (so an open port shows itself with a reply instead of staying
//! open|filtered); for every other port, an empty datagram.
//!
//! Each payload is built field by field from its protocol's specification,
//! not copied as bytes. Which request goes to which port follows nmap's
//! choices in its `nmap-payloads` file (read for that; its data is not
//! copied): the request most servers of that kind answer without any
//! configuration, and none that asks for a large answer (no amplification:
//! memcached gets `version`, not `stats`; DNS asks for one short TXT).
#![forbid(unsafe_code)]

use std::collections::HashMap;

use crate::wire::dns::{self, CLASS_CH, CLASS_IN, CLASS_UNICAST_RESPONSE, Question, RecordType};

/// The protocols netdx has a probe for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Echo (RFC 862).
    Echo,
    /// DNS: `version.bind` TXT in class CHAOS.
    Dns,
    /// TFTP read request (RFC 1350).
    Tftp,
    /// ONC RPC NULL call (RFC 5531): rpcbind, NFS.
    OncRpc,
    /// NTP client request (RFC 5905).
    Ntp,
    /// NetBIOS name service node-status query (RFC 1002).
    NetbiosNs,
    /// SNMPv2c get-request for sysDescr.0 (RFC 3416).
    Snmp,
    /// IKEv1 main-mode first message (RFC 2408, 2409).
    Ike,
    /// SSDP M-SEARCH (UPnP Device Architecture 1.1).
    Ssdp,
    /// STUN binding request (RFC 8489).
    Stun,
    /// mDNS / DNS-SD service enumeration (RFC 6762, 6763).
    Mdns,
    /// SIP OPTIONS (RFC 3261).
    Sip,
    /// memcached `version` over its UDP framing.
    Memcached,
    /// Quake III `getstatus` (connectionless, four 0xff bytes first).
    Quake3,
    /// Source engine A2S_INFO query.
    SourceEngine,
}

/// The datagrams a UDP scan sends, by port.
#[derive(Debug, Clone)]
pub struct Payloads {
    by_port: HashMap<u16, (Protocol, Vec<u8>)>,
}

impl Payloads {
    /// Builds every payload once (a scan asks for them per probe).
    pub fn new() -> Payloads {
        let mut by_port = HashMap::new();
        let mut add = |ports: &[u16], protocol: Protocol| {
            let bytes = build(protocol);
            for &port in ports {
                by_port.insert(port, (protocol, bytes.clone()));
            }
        };
        add(&[7], Protocol::Echo);
        add(&[53], Protocol::Dns);
        add(&[69], Protocol::Tftp);
        add(&[111, 2049], Protocol::OncRpc);
        add(&[123], Protocol::Ntp);
        add(&[137], Protocol::NetbiosNs);
        add(&[161], Protocol::Snmp);
        add(&[500], Protocol::Ike);
        add(&[1900], Protocol::Ssdp);
        add(&[3478], Protocol::Stun);
        add(&[5060], Protocol::Sip);
        add(&[5353], Protocol::Mdns);
        add(&[11211], Protocol::Memcached);
        add(&[27960, 27961, 27962, 27963, 27964], Protocol::Quake3);
        add(&(27015..=27030).collect::<Vec<_>>(), Protocol::SourceEngine);
        // NAT traversal: IKE on 4500 is the same message after a 4-byte
        // non-ESP marker of zeros (RFC 3948 §2.2).
        let mut nat_t = vec![0; 4];
        nat_t.extend(build(Protocol::Ike));
        by_port.insert(4500, (Protocol::Ike, nat_t));
        Payloads { by_port }
    }

    /// The datagram to send to `port`: a service request, or empty.
    pub fn get(&self, port: u16) -> &[u8] {
        self.by_port
            .get(&port)
            .map_or(&[][..], |(_, bytes)| bytes.as_slice())
    }

    /// The protocol whose request goes to `port`, if any.
    pub fn protocol(&self, port: u16) -> Option<Protocol> {
        self.by_port.get(&port).map(|(protocol, _)| *protocol)
    }
}

impl Default for Payloads {
    fn default() -> Self {
        Payloads::new()
    }
}

/// The request of `protocol`.
pub fn build(protocol: Protocol) -> Vec<u8> {
    match protocol {
        Protocol::Echo => b"netdx\r\n".to_vec(),
        Protocol::Dns => dns_version_bind(),
        Protocol::Tftp => tftp_read_request(),
        Protocol::OncRpc => rpc_null_call(RPCBIND_PROGRAM, 2),
        Protocol::Ntp => ntp_client_request(),
        Protocol::NetbiosNs => netbios_node_status(),
        Protocol::Snmp => snmp_get_sys_descr(),
        Protocol::Ike => ike_main_mode(),
        Protocol::Ssdp => ssdp_m_search(),
        Protocol::Stun => stun_binding_request(),
        Protocol::Mdns => mdns_services(),
        Protocol::Sip => sip_options(),
        Protocol::Memcached => memcached_version(),
        Protocol::Quake3 => [&[0xff; 4][..], b"getstatus"].concat(),
        // The A2S_INFO request (Valve's "Server queries"): servers answer
        // it, or with a challenge to repeat it, either way a reply.
        Protocol::SourceEngine => [&[0xff; 4][..], b"TSource Engine Query\0"].concat(),
    }
}

/// The id netdx's probes carry where a protocol has one (DNS, RPC, SNMP, …):
/// fixed, so a reply can be recognised in a capture.
pub const PROBE_ID: u16 = 0x6e64; // "nd"

/// `version.bind. TXT CH` with RD (RFC 1035 §3.2.4 for class CHAOS; the
/// query BIND, Unbound, dnsmasq and Knot all answer, even when they refuse
/// recursion). Built with the resolver's own DNS writer.
fn dns_version_bind() -> Vec<u8> {
    let question = Question {
        name: "version.bind".into(),
        kind: RecordType::TXT,
        class: CLASS_CH,
    };
    dns::emit_question(PROBE_ID, true, &question).unwrap_or_default()
}

/// `_services._dns-sd._udp.local. PTR` (RFC 6763 §9), asking for a unicast
/// answer (QU, RFC 6762 §5.4) so it comes back to the scanner's port.
fn mdns_services() -> Vec<u8> {
    let question = Question {
        name: "_services._dns-sd._udp.local".into(),
        kind: RecordType::PTR,
        class: CLASS_IN | CLASS_UNICAST_RESPONSE,
    };
    // RFC 6762 §18.1: the id of a multicast DNS query is zero; no RD.
    dns::emit_question(0, false, &question).unwrap_or_default()
}

/// TFTP RRQ (RFC 1350 §5): opcode 1, file name, 0, mode, 0. A server
/// answers with the file or, far more often, an ERROR packet.
fn tftp_read_request() -> Vec<u8> {
    const RRQ: u16 = 1;
    let mut packet = RRQ.to_be_bytes().to_vec();
    packet.extend_from_slice(b"netdx-probe.txt\0octet\0");
    packet
}

/// rpcbind's program number (RFC 1833).
pub const RPCBIND_PROGRAM: u32 = 100_000;

/// An ONC RPC call of procedure 0 (NULL, which every program has) with
/// AUTH_NULL credentials (RFC 5531 §9, §8.1). Sent to 111 it asks rpcbind
/// version 2; on 2049 it still names rpcbind, and an NFS server answers
/// PROG_UNAVAIL, which is a reply too.
fn rpc_null_call(program: u32, version: u32) -> Vec<u8> {
    const CALL: u32 = 0;
    const RPC_VERSION: u32 = 2;
    const NULL_PROCEDURE: u32 = 0;
    const AUTH_NULL: u32 = 0;
    let words = [
        u32::from(PROBE_ID), // xid
        CALL,
        RPC_VERSION,
        program,
        version,
        NULL_PROCEDURE,
        AUTH_NULL, // credentials: flavour, then a 0-byte body
        0,
        AUTH_NULL, // verifier
        0,
    ];
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

/// The NTP header is 48 bytes (RFC 5905 §7.3).
pub const NTP_LEN: usize = 48;

/// An NTPv4 client request (RFC 5905 §7.3): LI 3 (clock unsynchronised),
/// VN 4, mode 3 (client), everything else zero but the transmit timestamp,
/// which a server copies into its reply's origin field.
fn ntp_client_request() -> Vec<u8> {
    const LI_UNSYNCHRONISED: u8 = 3;
    const VERSION: u8 = 4;
    const MODE_CLIENT: u8 = 3;
    const TRANSMIT_AT: usize = 40;
    let mut packet = vec![0; NTP_LEN];
    packet[0] = (LI_UNSYNCHRONISED << 6) | (VERSION << 3) | MODE_CLIENT;
    // A fixed, recognisable transmit timestamp ("netdx" + zeros); servers
    // do not judge it, they echo it.
    packet[TRANSMIT_AT..TRANSMIT_AT + 5].copy_from_slice(b"netdx");
    packet
}

/// A NetBIOS name service NBSTAT query for the name `*` (RFC 1002
/// §4.2.17): any NetBIOS host answers with its name table.
fn netbios_node_status() -> Vec<u8> {
    const NBSTAT: u16 = 0x0021;
    let mut packet = Vec::with_capacity(50);
    packet.extend_from_slice(&PROBE_ID.to_be_bytes());
    packet.extend_from_slice(&0u16.to_be_bytes()); // query, opcode 0, unicast
    packet.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question
    packet.extend(netbios_encode_name(b"*"));
    packet.extend_from_slice(&NBSTAT.to_be_bytes());
    packet.extend_from_slice(&CLASS_IN.to_be_bytes());
    packet
}

/// RFC 1001 §14.1 first-level encoding: the name padded with NULs to 16
/// bytes, each nibble written as `'A' + nibble`, as one 32-byte label.
fn netbios_encode_name(name: &[u8]) -> Vec<u8> {
    let mut label = vec![32];
    for i in 0..16 {
        let byte = name.get(i).copied().unwrap_or(0);
        label.push(b'A' + (byte >> 4));
        label.push(b'A' + (byte & 0x0f));
    }
    label.push(0); // the root: no scope id
    label
}

/// SNMPv2c GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0) with community
/// `public` (RFC 3416 §3 PDU, RFC 1901 message, BER per X.690). The
/// default community of most agents, and a value every MIB-II agent has.
fn snmp_get_sys_descr() -> Vec<u8> {
    const SNMP_V2C: i64 = 1;
    const GET_REQUEST: u8 = 0xa0;
    const SYS_DESCR_0: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 1, 0];
    let varbind = ber::sequence(&[ber::oid(SYS_DESCR_0), ber::null()]);
    let pdu = ber::tlv(
        GET_REQUEST,
        &[
            ber::integer(i64::from(PROBE_ID)), // request-id
            ber::integer(0),                   // error-status
            ber::integer(0),                   // error-index
            ber::sequence(&[varbind]),
        ]
        .concat(),
    );
    ber::sequence(&[ber::integer(SNMP_V2C), ber::octets(b"public"), pdu])
}

/// The BER encodings SNMP needs (X.690 §8), definite lengths only.
pub(crate) mod ber {
    /// SEQUENCE.
    pub const SEQUENCE: u8 = 0x30;
    /// INTEGER.
    pub const INTEGER: u8 = 0x02;
    /// OCTET STRING.
    pub const OCTET_STRING: u8 = 0x04;
    /// NULL.
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER.
    pub const OID: u8 = 0x06;

    /// Tag, length (short form below 128, long form above), value.
    pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = value.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend_from_slice(value);
        out
    }

    /// A SEQUENCE of already-encoded parts.
    pub fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(SEQUENCE, &parts.concat())
    }

    /// The shortest two's-complement encoding of `value`.
    pub fn integer(value: i64) -> Vec<u8> {
        let bytes = value.to_be_bytes();
        let mut start = 0;
        while start < 7 {
            let (this, next) = (bytes[start], bytes[start + 1]);
            let redundant = (this == 0 && next & 0x80 == 0) || (this == 0xff && next & 0x80 != 0);
            if !redundant {
                break;
            }
            start += 1;
        }
        tlv(INTEGER, &bytes[start..])
    }

    /// An OCTET STRING.
    pub fn octets(value: &[u8]) -> Vec<u8> {
        tlv(OCTET_STRING, value)
    }

    /// NULL.
    pub fn null() -> Vec<u8> {
        tlv(NULL, &[])
    }

    /// An OBJECT IDENTIFIER: the first two arcs in one byte, the rest
    /// base-128 with the high bit marking continuation.
    pub fn oid(arcs: &[u32]) -> Vec<u8> {
        let mut value = Vec::new();
        if let [first, second, rest @ ..] = arcs {
            value.extend(base128(first * 40 + second));
            for arc in rest {
                value.extend(base128(*arc));
            }
        }
        tlv(OID, &value)
    }

    fn base128(mut n: u32) -> Vec<u8> {
        let mut out = vec![(n & 0x7f) as u8];
        n >>= 7;
        while n > 0 {
            out.push(0x80 | (n & 0x7f) as u8);
            n >>= 7;
        }
        out.reverse();
        out
    }
}

/// The ISAKMP header is 28 bytes (RFC 2408 §3.1).
pub const ISAKMP_HEADER_LEN: usize = 28;

/// The first message of an IKEv1 main-mode exchange (RFC 2408 §3, RFC 2409
/// §5): an ISAKMP header and one SA payload proposing one transform
/// (3DES, SHA-1, pre-shared key, MODP-1024, 8 h). A responder answers
/// with its own SA, or a NO-PROPOSAL-CHOSEN notification; an IKEv2-only
/// one with INVALID-MAJOR-VERSION — a reply in every case.
fn ike_main_mode() -> Vec<u8> {
    const NEXT_SA: u8 = 1;
    const NEXT_NONE: u8 = 0;
    const VERSION_1_0: u8 = 0x10;
    const MAIN_MODE: u8 = 2; // identity protection
    const DOI_IPSEC: u32 = 1;
    const SIT_IDENTITY_ONLY: u32 = 1;
    const PROTO_ISAKMP: u8 = 1;
    const KEY_IKE: u8 = 1;
    // RFC 2409 appendix A: attribute class → value, all "basic" (TV, top bit set).
    const ATTRIBUTES: [(u16, u16); 5] = [
        (1, 5),  // encryption: 3DES-CBC
        (2, 2),  // hash: SHA
        (3, 1),  // authentication: pre-shared key
        (4, 2),  // group: MODP 1024 (Oakley group 2)
        (11, 1), // life type: seconds
    ];
    const LIFE_DURATION: u16 = 12; // variable length (TLV)
    const EIGHT_HOURS: u32 = 28_800;

    let mut attributes = Vec::new();
    for (class, value) in ATTRIBUTES {
        attributes.extend_from_slice(&(0x8000 | class).to_be_bytes());
        attributes.extend_from_slice(&value.to_be_bytes());
    }
    attributes.extend_from_slice(&LIFE_DURATION.to_be_bytes());
    attributes.extend_from_slice(&4u16.to_be_bytes());
    attributes.extend_from_slice(&EIGHT_HOURS.to_be_bytes());

    let payload = |next: u8, body: &[u8]| {
        let mut out = vec![next, 0];
        out.extend_from_slice(&((4 + body.len()) as u16).to_be_bytes());
        out.extend_from_slice(body);
        out
    };
    let transform = payload(NEXT_NONE, &[&[1, KEY_IKE, 0, 0][..], &attributes].concat());
    // Proposal #1, ISAKMP, no SPI, one transform.
    let proposal = payload(
        NEXT_NONE,
        &[&[1, PROTO_ISAKMP, 0, 1][..], &transform].concat(),
    );
    let mut sa_body = DOI_IPSEC.to_be_bytes().to_vec();
    sa_body.extend_from_slice(&SIT_IDENTITY_ONLY.to_be_bytes());
    sa_body.extend(proposal);
    // The proposal and transform sit inside the SA payload, so every
    // "next payload" but the header's is NONE (RFC 2408 §3.5, §3.6).
    let sa = payload(NEXT_NONE, &sa_body);

    let mut message = Vec::with_capacity(ISAKMP_HEADER_LEN + sa.len());
    message.extend_from_slice(b"netdx-ik"); // initiator cookie, 8 bytes
    message.extend_from_slice(&[0; 8]); // responder cookie: none yet
    message.extend_from_slice(&[NEXT_SA, VERSION_1_0, MAIN_MODE, 0]);
    message.extend_from_slice(&0u32.to_be_bytes()); // message id
    message.extend_from_slice(&((ISAKMP_HEADER_LEN + sa.len()) as u32).to_be_bytes());
    message.extend(sa);
    message
}

/// A unicast SSDP search for every device and service (UPnP Device
/// Architecture 1.1 §1.3.2).
fn ssdp_m_search() -> Vec<u8> {
    b"M-SEARCH * HTTP/1.1\r\n\
      HOST: 239.255.255.250:1900\r\n\
      MAN: \"ssdp:discover\"\r\n\
      MX: 1\r\n\
      ST: ssdp:all\r\n\
      \r\n"
        .to_vec()
}

/// The STUN magic cookie (RFC 8489 §5).
pub const STUN_MAGIC: u32 = 0x2112_a442;

/// A STUN Binding request without attributes (RFC 8489 §5, §6): every
/// STUN/TURN server answers it with the address it saw.
fn stun_binding_request() -> Vec<u8> {
    const BINDING_REQUEST: u16 = 0x0001;
    let mut message = BINDING_REQUEST.to_be_bytes().to_vec();
    message.extend_from_slice(&0u16.to_be_bytes()); // no attributes
    message.extend_from_slice(&STUN_MAGIC.to_be_bytes());
    message.extend_from_slice(b"netdx-probe!"); // transaction id, 12 bytes
    message
}

/// A SIP OPTIONS request (RFC 3261 §11) with the six headers a request
/// must have (§8.1.1). `rport` (RFC 3581) asks for the answer to go to the
/// address and port the request came from, which the scanner cannot know
/// when it builds the payload.
fn sip_options() -> Vec<u8> {
    b"OPTIONS sip:nm@netdx.invalid SIP/2.0\r\n\
      Via: SIP/2.0/UDP netdx.invalid:5060;branch=z9hG4bK-netdx-probe;rport\r\n\
      Max-Forwards: 70\r\n\
      From: <sip:netdx@netdx.invalid>;tag=netdx\r\n\
      To: <sip:nm@netdx.invalid>\r\n\
      Call-ID: netdx-probe@netdx.invalid\r\n\
      CSeq: 1 OPTIONS\r\n\
      Accept: application/sdp\r\n\
      Content-Length: 0\r\n\
      \r\n"
        .to_vec()
}

/// memcached's UDP frame (protocol.txt, "UDP protocol"): request id,
/// sequence number 0, 1 datagram, reserved; then the text command.
/// `version`, not `stats`: a short answer, so the probe is no amplifier.
fn memcached_version() -> Vec<u8> {
    let mut frame = PROBE_ID.to_be_bytes().to_vec();
    frame.extend_from_slice(&[0, 0, 0, 1, 0, 0]);
    frame.extend_from_slice(b"version\r\n");
    frame
}

#[cfg(test)]
#[path = "payloads_tests.rs"]
mod tests;
