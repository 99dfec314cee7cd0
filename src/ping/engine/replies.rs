//! What the engine makes of what comes back: each echo reply judged
//! (good, duplicate, late, corrupted) and counted, each ICMP error tied to
//! the probe it is about.
#![forbid(unsafe_code)]

use super::*;
use crate::net::SocketError;

impl<N: EchoNetwork, C: Clock> Engine<'_, '_, N, C> {
    /// Reads replies until the socket is empty, or, when `expected` is
    /// given, until that many arrived (saving the read that would say "empty").
    pub(super) fn drain_replies(
        &mut self,
        family: usize,
        expected: Option<u32>,
    ) -> Result<(), PingError> {
        let limit = expected.map_or(READ_BATCH, |n| (n.max(1) as usize).min(READ_BATCH));
        for _ in 0..limit {
            let received = match self.network.recv(family) {
                Ok(Some(received)) => received,
                Ok(None) => return Ok(()),
                // A pending socket error: with IP_RECVERR it stands for an
                // entry on the error queue (an ICMP error about a probe).
                Err(_) => return self.drain_errors(family),
            };
            if let Some(reply) = received.reply {
                self.on_reply(received.from, received.ttl, received.at, reply)?;
            }
        }
        Ok(())
    }

    pub(super) fn on_reply(
        &mut self,
        from: IpAddr,
        cmsg_ttl: Option<u8>,
        at: Option<SystemTime>,
        echo: EchoReply,
    ) -> Result<(), PingError> {
        let seq = echo.seq;
        let Some(probe) = self.probes.get(seq) else {
            return Ok(());
        };
        let Some(active) = self.active.get_mut(&probe.target) else {
            return Ok(());
        };
        if active.target.address != from {
            // Someone else's echo with a colliding sequence: not ours.
            return Ok(());
        }
        let elapsed = self.clock.now().saturating_duration_since(probe.sent_mono);
        let rtt = round_trip(at, probe.sent_wall, elapsed);
        let received_at = at.unwrap_or_else(|| self.clock.wall());
        let status = if !echo.checksum_ok {
            ReplyStatus::Corrupted(Corruption::BadChecksum)
        } else if let Some(corruption) = compare_payload(&self.plan.payload, &echo.data) {
            ReplyStatus::Corrupted(corruption)
        } else if probe.answered {
            ReplyStatus::Duplicate
        } else if probe.expired || rtt > self.plan.timeout {
            ReplyStatus::Late
        } else {
            ReplyStatus::Good
        };
        match status {
            ReplyStatus::Good => {
                active.report.received += 1;
                active.rtt.add(rtt);
                active.outstanding = active.outstanding.saturating_sub(1);
                self.in_flight = self.in_flight.saturating_sub(1);
                self.probes.mark_answered(seq);
            }
            ReplyStatus::Duplicate => {
                // iputils counts duplicates into its RTT statistics; so do we.
                active.report.duplicates += 1;
                active.rtt.add(rtt);
            }
            ReplyStatus::Late => active.report.late += 1,
            ReplyStatus::Corrupted(_) => active.report.corrupted += 1,
        }
        let ttl = echo.header_ttl.or(cmsg_ttl);
        let reply = Reply {
            from,
            seq,
            bytes: echo.icmp_len,
            ttl,
            rtt,
            at: received_at,
            status,
        };
        if self.plan.keep_replies && matches!(status, ReplyStatus::Good | ReplyStatus::Duplicate) {
            active.report.replies.push(ReplyRecord::from(&reply));
        }
        (self.observer)(Event::Reply {
            target: &active.target,
            reply: &reply,
        })
        .map_err(PingError::Output)?;
        self.check_done(probe.target)
    }

    pub(super) fn drain_errors(&mut self, family: usize) -> Result<(), PingError> {
        for _ in 0..READ_BATCH {
            match self.network.recv_error(family) {
                Ok(Some(Some(error))) => self.on_error(error)?,
                Ok(Some(None)) => {}
                Ok(None) => return Ok(()),
                Err(err) => return Err(SocketError::Receive(err).into()),
            }
        }
        Ok(())
    }

    pub(super) fn on_error(&mut self, error: ProbeError) -> Result<(), PingError> {
        let seq = error.seq;
        let Some(probe) = self.probes.get(seq) else {
            return Ok(());
        };
        let Some(active) = self.active.get_mut(&probe.target) else {
            return Ok(());
        };
        if error.target.is_some_and(|t| t != active.target.address) {
            return Ok(());
        }
        active.report.errors += 1;
        // iputils: an error answers the probe (it is not lost as well).
        // fping: the error is reported and the probe still times out, which
        // is what schedules its retry — so an unreachable host is tried
        // `1 + retries` times and then given up on, never waited for forever.
        let answers = matches!(self.plan.mode, Mode::Count(_));
        if answers && !probe.answered && !probe.expired {
            self.probes.mark_answered(seq);
            active.outstanding = active.outstanding.saturating_sub(1);
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        let report = IcmpErrorReport {
            seq,
            kind: error.origin,
            at: self.clock.wall(),
        };
        (self.observer)(Event::Error {
            target: &active.target,
            error: &report,
        })
        .map_err(PingError::Output)?;
        self.check_done(probe.target)
    }
}

/// How an echoed payload differs from what was sent, if it does.
pub fn compare_payload(sent: &[u8], echoed: &[u8]) -> Option<Corruption> {
    if let Some(offset) = sent.iter().zip(echoed).position(|(a, b)| a != b) {
        return Some(Corruption::WrongByte {
            offset,
            expected: sent[offset],
            got: echoed[offset],
        });
    }
    if echoed.len() != sent.len() {
        return Some(Corruption::Length {
            bytes: echoed.len(),
            expected: sent.len(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_payload_is_not_corrupted() {
        assert_eq!(compare_payload(b"abcdef", b"abcdef"), None);
    }

    #[test]
    fn first_differing_byte_is_reported() {
        assert_eq!(
            compare_payload(b"abcdef", b"abXdef"),
            Some(Corruption::WrongByte {
                offset: 2,
                expected: b'c',
                got: b'X'
            })
        );
    }

    #[test]
    fn short_or_long_echo_is_reported_with_its_length() {
        assert_eq!(
            compare_payload(b"abcdef", b"abc"),
            Some(Corruption::Length {
                bytes: 3,
                expected: 6
            })
        );
        assert_eq!(
            compare_payload(b"abc", b"abcd"),
            Some(Corruption::Length {
                bytes: 4,
                expected: 3
            })
        );
    }
}
