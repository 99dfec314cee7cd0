//! UDP test datagrams: the header every datagram carries (a sequence
//! number and the sender's send time), and the receiver's accounting of
//! jitter (RFC 3550 6.4.1), loss and out-of-order arrivals from them.
#![forbid(unsafe_code)]

use std::time::Duration;

/// Bytes of the header at the start of every datagram.
pub const HEADER_LEN: usize = 16;
/// Offset of the sequence number (u64, big-endian, from 0).
const SEQ: usize = 0;
/// Offset of the send time (u64 nanoseconds since the sender's start, big-endian).
const SENT_NS: usize = 8;

/// The header of one test datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Sequence number, from 0, one per datagram of a stream.
    pub seq: u64,
    /// When it was sent, on the sender's clock (since its stream started).
    pub sent: Duration,
}

impl Header {
    /// Reads the header of `datagram`; `None` when it is too short to hold one.
    pub fn parse(datagram: &[u8]) -> Option<Header> {
        let seq = datagram.get(SEQ..SEQ + 8)?;
        let sent = datagram.get(SENT_NS..SENT_NS + 8)?;
        Some(Header {
            seq: u64::from_be_bytes(seq.try_into().ok()?),
            sent: Duration::from_nanos(u64::from_be_bytes(sent.try_into().ok()?)),
        })
    }

    /// Writes the header into the start of `datagram` (at least [`HEADER_LEN`] long).
    pub fn emit(&self, datagram: &mut [u8]) {
        let sent = u64::try_from(self.sent.as_nanos()).unwrap_or(u64::MAX);
        datagram[SEQ..SEQ + 8].copy_from_slice(&self.seq.to_be_bytes());
        datagram[SENT_NS..SENT_NS + 8].copy_from_slice(&sent.to_be_bytes());
    }
}

/// What a receiver has counted, in a form that can be subtracted for an
/// interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Datagrams received (with a header).
    pub packets: u64,
    /// Bytes of those datagrams.
    pub bytes: u64,
    /// Datagrams missing by the sequence numbers seen so far (a gap counts
    /// as lost until its datagram turns up late).
    pub lost: i64,
    /// Datagrams that arrived after one with a higher sequence number.
    pub out_of_order: u64,
    /// The RFC 3550 interarrival jitter estimate, in seconds.
    pub jitter: f64,
}

/// The receiving side's accounting for one stream.
#[derive(Debug, Default)]
pub struct Receiver {
    tally: Tally,
    /// The next sequence number expected (one past the highest seen).
    expected: u64,
    /// The previous datagram's transit time (arrival − send), in nanoseconds.
    last_transit: Option<i128>,
}

impl Receiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one datagram of `len` bytes with `header`, arrived at
    /// `arrival` on the receiver's clock (any origin: only differences of
    /// transit times enter the jitter).
    pub fn record(&mut self, header: Header, len: usize, arrival: Duration) {
        let tally = &mut self.tally;
        tally.packets += 1;
        tally.bytes += len as u64;
        if header.seq >= self.expected {
            tally.lost += (header.seq - self.expected) as i64;
            self.expected = header.seq + 1;
        } else {
            // A late one fills a gap counted as lost (iperf3 counts the same way).
            tally.out_of_order += 1;
            tally.lost -= 1;
        }
        // In integer nanoseconds: a constant transit is exactly zero jitter.
        let transit = arrival.as_nanos() as i128 - header.sent.as_nanos() as i128;
        if let Some(last) = self.last_transit {
            let d = (transit - last).unsigned_abs() as f64 / 1e9;
            tally.jitter += (d - tally.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    /// What has been counted so far.
    pub fn tally(&self) -> Tally {
        self.tally
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn header(seq: u64, sent_ms: u64) -> Header {
        Header {
            seq,
            sent: ms(sent_ms),
        }
    }

    #[test]
    fn the_header_round_trips_and_short_datagrams_have_none() {
        let mut datagram = [0u8; 32];
        let sent = Header {
            seq: 0x0102_0304_0506_0708,
            sent: Duration::from_nanos(123_456_789),
        };
        sent.emit(&mut datagram);
        assert_eq!(Header::parse(&datagram), Some(sent));
        assert_eq!(&datagram[..8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        for len in 0..HEADER_LEN {
            assert_eq!(Header::parse(&datagram[..len]), None);
        }
    }

    #[test]
    fn a_steady_stream_has_no_jitter_loss_or_reordering() {
        let mut rx = Receiver::new();
        for seq in 0..100 {
            // Constant 3 ms transit: zero jitter whatever the offset.
            rx.record(header(seq, seq * 10), 100, ms(seq * 10 + 3));
        }
        let t = rx.tally();
        assert_eq!(
            (t.packets, t.bytes, t.lost, t.out_of_order),
            (100, 10_000, 0, 0)
        );
        assert_eq!(t.jitter, 0.0);
    }

    #[test]
    fn jitter_follows_rfc_3550s_running_estimate() {
        let mut rx = Receiver::new();
        // Transits 1, 3, 1, 3 ms: |D| is 2 ms each time after the first.
        let mut expected = 0.0;
        for seq in 0..50u64 {
            let transit = if seq % 2 == 0 { 1 } else { 3 };
            rx.record(header(seq, seq * 10), 10, ms(seq * 10 + transit));
            if seq > 0 {
                expected += (0.002 - expected) / 16.0;
            }
        }
        assert!((rx.tally().jitter - expected).abs() < 1e-12);
        assert!(rx.tally().jitter > 0.0015 && rx.tally().jitter < 0.002);
    }

    #[test]
    fn gaps_count_as_lost_and_late_arrivals_as_out_of_order() {
        let mut rx = Receiver::new();
        // 0 1 _ 3 4 _ _ 7, then 2 arrives late; 5 and 6 never.
        for seq in [0, 1, 3, 4, 7, 2] {
            rx.record(header(seq, seq), 10, ms(seq + 1));
        }
        let t = rx.tally();
        assert_eq!(t.packets, 6);
        assert_eq!(t.lost, 2, "5 and 6");
        assert_eq!(t.out_of_order, 1, "2");
    }

    #[test]
    fn every_tenth_datagram_dropped_is_a_tenth_lost() {
        let mut rx = Receiver::new();
        for seq in (0..1000u64).filter(|seq| seq % 10 != 0) {
            rx.record(header(seq, seq), 10, ms(seq));
        }
        // The first (seq 0) is missing too: a gap before the first arrival.
        assert_eq!(rx.tally().lost, 100);
        assert_eq!(rx.tally().packets, 900);
    }
}
