//! TCP internals from INET_DIAG_INFO: a checked view over the kernel's
//! `struct tcp_info` and the fields netdx reports.
//!
//! The struct has grown over kernel versions; every field is read only if
//! the kernel's copy is long enough to hold it.
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::Serialize;

// Offsets in `struct tcp_info` (linux/tcp.h).
const RETRANSMITS: usize = 2;
const PROBES: usize = 3;
const BACKOFF: usize = 4;
const RTO: usize = 8;
const SND_MSS: usize = 16;
const RETRANS: usize = 36;
const RTT: usize = 68;
const RTTVAR: usize = 72;
const SND_SSTHRESH: usize = 76;
const SND_CWND: usize = 80;
const TOTAL_RETRANS: usize = 100;
const BYTES_ACKED: usize = 120;
const BYTES_RECEIVED: usize = 128;
const MIN_RTT: usize = 148;
const DELIVERY_RATE: usize = 160;

/// The kernel's "no slow-start threshold yet" value.
const INFINITE_SSTHRESH: u32 = 0x7fff_ffff;

/// A length-checked view of `struct tcp_info` bytes.
pub struct TcpInfoView<'a>(&'a [u8]);

impl<'a> TcpInfoView<'a> {
    /// Wraps the attribute payload; `None` if it cannot even hold the fixed head.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        (bytes.len() >= RTO + 4).then_some(TcpInfoView(bytes))
    }

    fn u8_at(&self, offset: usize) -> Option<u8> {
        self.0.get(offset).copied()
    }

    fn u32_at(&self, offset: usize) -> Option<u32> {
        let bytes = self.0.get(offset..offset + 4)?;
        Some(u32::from_ne_bytes(bytes.try_into().ok()?))
    }

    fn u64_at(&self, offset: usize) -> Option<u64> {
        let bytes = self.0.get(offset..offset + 8)?;
        Some(u64::from_ne_bytes(bytes.try_into().ok()?))
    }

    /// Unanswered keepalive or zero-window probes so far (`tcpi_probes`).
    pub fn probes(&self) -> Option<u8> {
        self.u8_at(PROBES)
    }

    /// Times the retransmission timeout has been doubled (`tcpi_backoff`).
    pub fn backoff(&self) -> Option<u8> {
        self.u8_at(BACKOFF)
    }

    /// Consecutive retransmissions of the head segment (`tcpi_retransmits`).
    pub fn retransmits(&self) -> Option<u8> {
        self.u8_at(RETRANSMITS)
    }

    /// Segments retransmitted over the connection's life (`tcpi_total_retrans`).
    pub fn total_retrans(&self) -> Option<u32> {
        self.u32_at(TOTAL_RETRANS)
    }

    /// The fields netdx reports.
    pub fn parse(&self, congestion: Option<String>) -> TcpInfo {
        let ms = |us: Option<u32>| us.map(|v| f64::from(v) / 1000.0);
        TcpInfo {
            congestion,
            rtt_ms: ms(self.u32_at(RTT)),
            rttvar_ms: ms(self.u32_at(RTTVAR)),
            min_rtt_ms: ms(self.u32_at(MIN_RTT)),
            rto_ms: ms(self.u32_at(RTO)),
            mss: self.u32_at(SND_MSS),
            cwnd: self.u32_at(SND_CWND),
            ssthresh: self.u32_at(SND_SSTHRESH).filter(|&v| v < INFINITE_SSTHRESH),
            retrans: self.u32_at(RETRANS),
            retransmits: self.u8_at(RETRANSMITS),
            total_retrans: self.u32_at(TOTAL_RETRANS),
            bytes_acked: self.u64_at(BYTES_ACKED),
            bytes_received: self.u64_at(BYTES_RECEIVED),
            delivery_rate: self.u64_at(DELIVERY_RATE),
        }
    }
}

/// TCP internals of one socket (`-i`); a field is `null` when the kernel's
/// tcp_info is too old to carry it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TcpInfo {
    /// Congestion control algorithm (INET_DIAG_CONG).
    pub congestion: Option<String>,
    /// Smoothed round-trip time, ms.
    pub rtt_ms: Option<f64>,
    /// Round-trip time variance, ms.
    pub rttvar_ms: Option<f64>,
    /// Lowest round-trip time seen, ms.
    pub min_rtt_ms: Option<f64>,
    /// Retransmission timeout, ms.
    pub rto_ms: Option<f64>,
    /// Sender maximum segment size.
    pub mss: Option<u32>,
    /// Congestion window, segments.
    pub cwnd: Option<u32>,
    /// Slow-start threshold, segments (`null` while unset, "infinite").
    pub ssthresh: Option<u32>,
    /// Segments currently being retransmitted.
    pub retrans: Option<u32>,
    /// Consecutive retransmissions of the head segment.
    pub retransmits: Option<u8>,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: Option<u32>,
    /// Bytes acknowledged by the peer.
    pub bytes_acked: Option<u64>,
    /// Bytes received from the peer.
    pub bytes_received: Option<u64>,
    /// Most recent delivery rate, bytes per second.
    pub delivery_rate: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
        bytes[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
    }

    #[test]
    fn fields_are_read_at_their_offsets() {
        let mut bytes = vec![0u8; 232];
        put_u32(&mut bytes, RTT, 41);
        put_u32(&mut bytes, RTTVAR, 20);
        put_u32(&mut bytes, SND_CWND, 10);
        put_u32(&mut bytes, SND_SSTHRESH, INFINITE_SSTHRESH);
        bytes[BYTES_ACKED..BYTES_ACKED + 8].copy_from_slice(&12345u64.to_ne_bytes());
        bytes[DELIVERY_RATE..DELIVERY_RATE + 8].copy_from_slice(&1_000_000u64.to_ne_bytes());
        let info = TcpInfoView::new(&bytes)
            .unwrap()
            .parse(Some("cubic".into()));
        assert_eq!(info.rtt_ms, Some(0.041));
        assert_eq!(info.rttvar_ms, Some(0.02));
        assert_eq!(info.cwnd, Some(10));
        assert_eq!(
            info.ssthresh, None,
            "infinite ssthresh is reported as unset"
        );
        assert_eq!(info.bytes_acked, Some(12345));
        assert_eq!(info.delivery_rate, Some(1_000_000));
        assert_eq!(info.congestion.as_deref(), Some("cubic"));
    }

    #[test]
    fn an_old_short_struct_leaves_newer_fields_empty() {
        let bytes = vec![0u8; 104];
        let info = TcpInfoView::new(&bytes).unwrap().parse(None);
        assert_eq!(info.total_retrans, Some(0));
        assert_eq!(info.bytes_acked, None);
        assert_eq!(info.delivery_rate, None);
        assert!(TcpInfoView::new(&bytes[..8]).is_none());
        // No length panics, however short.
        for len in 12..104 {
            let _ = TcpInfoView::new(&bytes[..len]).unwrap().parse(None);
        }
    }
}
