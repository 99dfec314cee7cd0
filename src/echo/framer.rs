//! Length-prefixed framing for `echo serve --framing length`: a 4-byte
//! big-endian length, then that many bytes, reassembled however the
//! stream splits them.
#![forbid(unsafe_code)]

/// A frame announced more than the limit: the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameTooLarge {
    /// The body length announced.
    pub length: u32,
    /// The limit.
    pub max: u32,
}

/// Reassembles length-prefixed frames: a 4-byte big-endian length, then
/// the body. Completed frames (prefix included) are appended to the output.
///
/// The frame buffer grows only as body bytes arrive, never to the length
/// the peer announces: a header claiming a gigabyte costs nothing until the
/// gigabyte is sent, and the buffer never grows past the frame it holds.
#[derive(Debug)]
pub struct Framer {
    max_frame: u32,
    /// The frame so far, its 4-byte prefix first.
    frame: Vec<u8>,
    /// The whole frame's length, prefix included, once the prefix is in.
    want: Option<usize>,
}

/// Bytes of the length prefix.
const PREFIX: usize = 4;

impl Framer {
    /// A framer refusing bodies over `max_frame` bytes.
    pub fn new(max_frame: u32) -> Self {
        Framer {
            max_frame,
            frame: Vec::new(),
            want: None,
        }
    }

    /// Takes in `data`; whole frames go to `out`.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), FrameTooLarge> {
        while !data.is_empty() {
            let want = match self.want {
                Some(want) => want,
                None => {
                    let take = (PREFIX - self.frame.len()).min(data.len());
                    self.frame.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    let Ok(prefix) = <[u8; PREFIX]>::try_from(self.frame.as_slice()) else {
                        continue;
                    };
                    let length = u32::from_be_bytes(prefix);
                    if length > self.max_frame {
                        return Err(FrameTooLarge {
                            length,
                            max: self.max_frame,
                        });
                    }
                    let want = PREFIX + length as usize;
                    self.want = Some(want);
                    want
                }
            };
            let take = (want - self.frame.len()).min(data.len());
            grow_toward(&mut self.frame, take, want);
            self.frame.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.frame.len() == want {
                self.want = None;
                if out.is_empty() {
                    *out = std::mem::take(&mut self.frame);
                } else {
                    out.append(&mut self.frame);
                }
            }
        }
        Ok(())
    }

    /// A frame begun but not finished: (bytes so far, bytes it needs), prefix included.
    pub fn partial(&self) -> Option<(usize, usize)> {
        match self.want {
            Some(want) => Some((self.frame.len(), want)),
            None if !self.frame.is_empty() => Some((self.frame.len(), PREFIX)),
            None => None,
        }
    }

    /// Bytes the framer holds in memory (for the tests of its bound).
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.frame.capacity()
    }
}

/// Makes room for `more` bytes in `buf`, doubling as a `Vec` does but
/// never past `limit` (the frame's whole length), so a frame that arrives
/// in full costs its own size, not up to twice that.
fn grow_toward(buf: &mut Vec<u8>, more: usize, limit: usize) {
    let needed = buf.len() + more;
    if needed <= buf.capacity() {
        return;
    }
    let target = (buf.capacity() * 2).max(needed).min(limit).max(needed);
    buf.reserve_exact(target - buf.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer, chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in chunks {
            framer.feed(chunk, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn frames_split_anywhere_come_out_whole() {
        let mut framer = Framer::new(100);
        let out = frames(
            &mut framer,
            &[&[0, 0], &[0, 3, b'a'], &[b'b', b'c', 0, 0, 0]],
        );
        assert_eq!(out, vec![0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(framer.partial(), Some((3, 4)));
        let out = frames(&mut framer, &[&[0]]);
        assert_eq!(out, vec![0, 0, 0, 0], "an empty frame is echoed too");
        assert_eq!(framer.partial(), None);
    }

    #[test]
    fn an_announced_length_costs_nothing_until_its_body_arrives() {
        let mut framer = Framer::new(1 << 30);
        let mut out = Vec::new();
        framer.feed(&(1u32 << 30).to_be_bytes(), &mut out).unwrap();
        assert!(out.is_empty());
        assert!(framer.capacity() <= 64, "{} bytes held", framer.capacity());
        framer.feed(&[7; 1000], &mut out).unwrap();
        assert!(framer.capacity() < 4096, "{} bytes held", framer.capacity());
        assert_eq!(framer.partial(), Some((1004, 4 + (1 << 30))));
    }

    #[test]
    fn a_frame_arriving_in_pieces_holds_no_more_than_its_own_length() {
        let mut framer = Framer::new(100_000);
        let mut out = Vec::new();
        framer.feed(&100_000u32.to_be_bytes(), &mut out).unwrap();
        for _ in 0..100 {
            framer.feed(&[1; 1000], &mut out).unwrap();
            assert!(framer.capacity() <= 100_004 || out.len() == 100_004);
        }
        assert_eq!(out.len(), 100_004);
        assert!(out.capacity() <= 100_004, "{}", out.capacity());
        assert_eq!(framer.capacity(), 0, "nothing held between frames");
    }

    #[test]
    fn frames_over_the_limit_close_the_connection() {
        let mut framer = Framer::new(10);
        let mut out = Vec::new();
        let err = framer.feed(&[0, 0, 0, 11], &mut out).unwrap_err();
        assert_eq!(
            err,
            FrameTooLarge {
                length: 11,
                max: 10
            }
        );
    }
}
