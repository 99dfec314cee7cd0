//! What a probe sends: an 8-byte little-endian sequence number and a 4-byte
//! run token, then the fill (a repeated pattern or fresh random bytes),
//! cut to the probe size. Messages shorter than the 12-byte header carry
//! its first bytes, so even a 1-byte probe carries the sequence's low byte.
//!
//! The echo must come back byte-identical; [`difference`] says where it
//! does not.
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::Serialize;

/// Sequence number (8, little-endian) + run token (4).
pub const HEADER: usize = 12;

/// What fills a message after the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fill {
    /// This pattern, repeated (`-p`); by default bytes counting up from 0.
    Pattern(Vec<u8>),
    /// Fresh random bytes for every message (`--random`).
    Random,
}

impl Default for Fill {
    fn default() -> Self {
        Fill::Pattern((0..=255).collect())
    }
}

/// Builds a run's messages.
#[derive(Debug, Clone)]
pub struct Generator {
    size: usize,
    token: [u8; 4],
    fill: Fill,
    rng: Rng,
}

impl Generator {
    /// Messages of `size` bytes; `seed` picks the run token and random fill.
    pub fn new(size: usize, fill: Fill, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let token = (rng.next_u64() as u32).to_le_bytes();
        Generator {
            size,
            token,
            fill,
            rng,
        }
    }

    /// The message size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Probe `seq`'s message.
    pub fn message(&mut self, seq: u64) -> Vec<u8> {
        let mut buf = vec![0u8; self.size];
        self.fill_into(seq, &mut buf);
        buf
    }

    /// Writes probe `seq`'s message into `buf` (its whole length).
    pub fn fill_into(&mut self, seq: u64, buf: &mut [u8]) {
        let mut header = [0u8; HEADER];
        header[..8].copy_from_slice(&seq.to_le_bytes());
        header[8..].copy_from_slice(&self.token);
        let head = buf.len().min(HEADER);
        buf[..head].copy_from_slice(&header[..head]);
        let body = &mut buf[head..];
        match &self.fill {
            Fill::Pattern(pattern) if !pattern.is_empty() => {
                for (byte, value) in body.iter_mut().zip(pattern.iter().cycle()) {
                    *byte = *value;
                }
            }
            Fill::Pattern(_) => body.fill(0),
            Fill::Random => self.rng.fill(body),
        }
    }

    /// The sequence number a reply carries, if it has a whole header from
    /// this run.
    pub fn seq_of(&self, reply: &[u8]) -> Option<u64> {
        if reply.len() < HEADER || reply[8..HEADER] != self.token {
            return None;
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&reply[..8]);
        Some(u64::from_le_bytes(seq))
    }
}

/// Where an echo first differs from what was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Difference {
    /// Byte offset of the first difference.
    pub offset: usize,
    /// The byte sent there (`None`: the echo is longer than what was sent).
    pub sent: Option<u8>,
    /// The byte that came back (`None`: the echo is shorter).
    pub got: Option<u8>,
}

/// The first difference between `sent` and `got`, if any.
pub fn difference(sent: &[u8], got: &[u8]) -> Option<Difference> {
    if sent == got {
        return None;
    }
    let offset = sent
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(sent.len().min(got.len()));
    Some(Difference {
        offset,
        sent: sent.get(offset).copied(),
        got: got.get(offset).copied(),
    })
}

/// xorshift64*: fast, good enough to make every message different.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator; a zero seed is replaced (xorshift would stay at zero).
    pub fn new(seed: u64) -> Self {
        Rng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// A seed from the clock and the process id.
pub fn seed() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    now ^ (u64::from(std::process::id()) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_their_sequence_and_the_run_token() {
        let mut generator = Generator::new(64, Fill::default(), 7);
        let message = generator.message(42);
        assert_eq!(message.len(), 64);
        assert_eq!(generator.seq_of(&message), Some(42));
        assert_eq!(message[HEADER], 0);
        assert_eq!(message[HEADER + 5], 5);
        let other_run = Generator::new(64, Fill::default(), 8);
        assert_eq!(other_run.seq_of(&message), None);
    }

    #[test]
    fn short_messages_carry_the_low_bytes_of_the_sequence() {
        let mut generator = Generator::new(1, Fill::default(), 7);
        assert_eq!(generator.message(0x1234), vec![0x34]);
        assert_eq!(generator.seq_of(&[0x34]), None);
    }

    #[test]
    fn patterns_repeat_and_random_fill_changes_every_message() {
        let mut patterned = Generator::new(HEADER + 5, Fill::Pattern(vec![0xab, 0xcd]), 1);
        assert_eq!(
            &patterned.message(1)[HEADER..],
            &[0xab, 0xcd, 0xab, 0xcd, 0xab]
        );
        let mut random = Generator::new(256, Fill::Random, 1);
        let (a, b) = (random.message(1), random.message(1));
        assert_ne!(a[HEADER..], b[HEADER..]);
    }

    #[test]
    fn differences_name_the_first_differing_byte() {
        assert_eq!(difference(b"abc", b"abc"), None);
        assert_eq!(
            difference(b"abc", b"abd"),
            Some(Difference {
                offset: 2,
                sent: Some(b'c'),
                got: Some(b'd')
            })
        );
        assert_eq!(
            difference(b"abc", b"ab"),
            Some(Difference {
                offset: 2,
                sent: Some(b'c'),
                got: None
            })
        );
    }
}
