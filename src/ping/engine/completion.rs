//! Timers and completion: probes given up on when their timeout passes,
//! targets finished once nothing is left to send or wait for, and their
//! reports handed to the observer.
#![forbid(unsafe_code)]

use super::*;

impl<N: EchoNetwork, C: Clock> Engine<'_, '_, N, C> {
    pub(super) fn expire(&mut self, now: Instant) -> Result<(), PingError> {
        while let Some(&(at, seq, token)) = self.expiry.front() {
            // Answered probes leave the queue at once, so a flood that is
            // answered keeps it short however long the timeout is.
            let Some(probe) = self.live_probe(seq, Some(token)) else {
                self.expiry.pop_front();
                continue;
            };
            if at > now {
                break;
            }
            self.expiry.pop_front();
            self.time_out(seq, probe, now)?;
        }
        Ok(())
    }

    /// The probe in slot `seq` (with `token`, if given) while it still
    /// waits for an answer.
    pub(super) fn live_probe(&self, seq: u16, token: Option<u64>) -> Option<Probe> {
        self.probes.get(seq).filter(|probe| {
            token.is_none_or(|t| probe.token == t) && !probe.answered && !probe.expired
        })
    }

    /// Gives up on `probe`: lost, and retried if the mode wants it.
    pub(super) fn time_out(
        &mut self,
        seq: u16,
        probe: Probe,
        now: Instant,
    ) -> Result<(), PingError> {
        self.probes.mark_expired(seq);
        let Some(active) = self.active.get_mut(&probe.target) else {
            return Ok(());
        };
        active.outstanding = active.outstanding.saturating_sub(1);
        self.in_flight = self.in_flight.saturating_sub(1);
        if let Mode::UntilAlive { retries } = self.plan.mode
            && active.report.received == 0
            && active.attempts <= u64::from(retries)
        {
            self.ready.push(Reverse((now, probe.target)));
        }
        (self.observer)(Event::Timeout {
            target: &active.target,
            seq,
        })
        .map_err(PingError::Output)?;
        self.check_done(probe.target)
    }

    /// Finishes the target if it has nothing left to send or wait for.
    pub(super) fn check_done(&mut self, index: usize) -> Result<(), PingError> {
        let Some(active) = self.active.get(&index) else {
            return Ok(());
        };
        let report = &active.report;
        let (satisfied, sending_done) = match self.plan.mode {
            Mode::Count(Some(count)) => {
                let answered = report.received + report.errors >= count;
                let done = if self.plan.deadline.is_some() {
                    answered
                } else {
                    active.attempts >= count
                };
                (answered, done)
            }
            Mode::Count(None) => (false, false),
            Mode::UntilAlive { retries } => (
                report.received > 0,
                report.received > 0 || active.attempts > u64::from(retries),
            ),
        };
        if satisfied || (sending_done && active.outstanding == 0) {
            self.finish(index)?;
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, index: usize) -> Result<(), PingError> {
        let Some(active) = self.active.remove(&index) else {
            return Ok(());
        };
        self.in_flight = self.in_flight.saturating_sub(active.outstanding);
        let report = active.into_report();
        (self.observer)(Event::Done(Box::new(report))).map_err(PingError::Output)
    }

    pub(super) fn finish_all(&mut self) -> Result<(), PingError> {
        let mut indices: Vec<usize> = self.active.keys().copied().collect();
        indices.sort_unstable();
        for index in indices {
            self.finish(index)?;
        }
        Ok(())
    }

    pub(super) fn report_status(&mut self) -> Result<(), PingError> {
        let mut indices: Vec<usize> = self.active.keys().copied().collect();
        indices.sort_unstable();
        for index in indices {
            if let Some(active) = self.active.get(&index) {
                let snapshot = active.snapshot();
                (self.observer)(Event::Status(&snapshot)).map_err(PingError::Output)?;
            }
        }
        Ok(())
    }
}

impl Active {
    pub(super) fn snapshot(&self) -> TargetReport {
        let mut report = self.report.clone();
        report.rtt = self.rtt.clone();
        report.rtt_ms = self.rtt.iputils_summary();
        report.loss_pct = loss_percent(report.transmitted, report.received);
        report.elapsed = match (self.first_send, self.last_send) {
            (Some(first), Some(last)) => last.duration_since(first),
            _ => Duration::ZERO,
        };
        report
    }

    pub(super) fn into_report(self) -> TargetReport {
        self.snapshot()
    }
}
