//! A checked view of a TCP segment's header: what a SYN scan reads from
//! its raw socket (SYN-ACK or RST to one of its SYNs). The checksum is not
//! verified: over veth and other offloading devices raw sockets see
//! segments whose checksum was never finished (CHECKSUM_PARTIAL).
#![forbid(unsafe_code)]

use super::{WireError, be16, be32, need};

/// The fixed TCP header, without options.
pub const HEADER_LEN: usize = 20;
const SOURCE_PORT: usize = 0;
const DESTINATION_PORT: usize = 2;
const SEQ: usize = 4;
const ACK: usize = 8;
const DATA_OFFSET: usize = 12;
const FLAGS: usize = 13;

/// FIN flag.
pub const FIN: u8 = 0x01;
/// SYN flag.
pub const SYN: u8 = 0x02;
/// RST flag.
pub const RST: u8 = 0x04;
/// ACK flag.
pub const ACK_FLAG: u8 = 0x10;

/// The header fields a scan matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpHeader {
    /// Source port.
    pub source_port: u16,
    /// Destination port.
    pub destination_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flag bits (FIN, SYN, RST, PSH, ACK, URG, …).
    pub flags: u8,
}

impl TcpHeader {
    /// Whether every flag of `mask` is set.
    pub fn has(&self, mask: u8) -> bool {
        self.flags & mask == mask
    }
}

/// Reads the header at the start of `bytes`, checking its length and data offset.
pub fn parse(bytes: &[u8]) -> Result<TcpHeader, WireError> {
    need(bytes, HEADER_LEN, "TCP header")?;
    let offset = usize::from(bytes[DATA_OFFSET] >> 4) * 4;
    if offset < HEADER_LEN {
        return Err(WireError::Malformed {
            what: "TCP header",
            why: format!("data offset {offset} is below {HEADER_LEN}"),
        });
    }
    need(bytes, offset, "TCP options")?;
    Ok(TcpHeader {
        source_port: be16(bytes, SOURCE_PORT),
        destination_port: be16(bytes, DESTINATION_PORT),
        seq: be32(bytes, SEQ),
        ack: be32(bytes, ACK),
        flags: bytes[FLAGS],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn a_syn_we_emit_reads_back_and_every_truncation_is_an_error() {
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let b = Ipv4Addr::new(10, 0, 0, 2);
        let bytes = super::super::emit::tcp_syn((a, 40000), (b, 22), 0xdead_beef);
        let header = parse(&bytes).unwrap();
        assert_eq!((header.source_port, header.destination_port), (40000, 22));
        assert_eq!(header.seq, 0xdead_beef);
        assert!(header.has(SYN) && !header.has(ACK_FLAG));
        for len in 0..bytes.len() {
            assert!(parse(&bytes[..len]).is_err(), "{len} bytes");
        }
        let mut bad = bytes.clone();
        bad[DATA_OFFSET] = 0x40;
        assert!(parse(&bad).is_err());
    }
}
