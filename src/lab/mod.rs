//! `netdx lab`: the classic socket surprises, run for real on loopback.
//!
//! Each lab is a script of real socket calls. Every call is recorded as it
//! happens — its arguments, then its result or errno — in a [`Transcript`]
//! the command layer prints (and pauses on, with `--step`). The closing
//! words are worked out from what the kernel actually returned: when a
//! call turns out differently from the textbook, the lab says so and why
//! that can be, instead of reciting a script.
#![forbid(unsafe_code)]

mod all;
mod arp;
mod backlog;
mod buffers;
pub mod calls;
mod catalog;
mod dns_by_hand;
mod fragments;
mod hosts;
mod http_by_hand;
mod keepalive;
mod linger;
mod nagle;
pub mod netns;
mod nonblocking;
pub mod observe;
mod recv;
mod reuseaddr;
mod reuseport;
mod shutdown;
mod sticky;
mod timeout;
mod timewait_scale;
mod udp_boundaries;
mod udp_chat;
mod v6only;

use std::io;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;

pub use all::{Outcome, Verdict, all_reached, run_all};
pub use catalog::{ALL, LABS, Lab, Network, find, suggestions};

/// Who makes a lab's call (JSON: the lowercase name, `server A` for the
/// servers sharing a port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    /// The listening side.
    Server,
    /// The connecting side.
    Client,
    /// Many connecting sockets at once.
    Clients,
    /// The side that reads a stream.
    Reader,
    /// The side that writes a stream.
    Writer,
    /// The side that sends datagrams.
    Sender,
    /// The side that receives datagrams.
    Receiver,
    /// The first of the servers sharing a port.
    #[serde(rename = "server A")]
    ServerA,
    /// The second of the servers sharing a port.
    #[serde(rename = "server B")]
    ServerB,
    /// A server that does not ask to share the port.
    #[serde(rename = "server C")]
    ServerC,
    /// The first of the peers exchanging datagrams.
    #[serde(rename = "peer A")]
    PeerA,
    /// The second of the peers exchanging datagrams.
    #[serde(rename = "peer B")]
    PeerB,
    /// A third peer, never introduced to the others.
    #[serde(rename = "peer C")]
    PeerC,
    /// A web browser (the requests it makes, with every header it sends).
    Browser,
    /// netdx itself, observing between the lab's calls.
    Netdx,
}

/// One socket call, as it happened.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Step {
    /// Who made it.
    pub actor: Actor,
    /// The call: `bind`, `recv`, `setsockopt`.
    pub call: String,
    /// Its arguments, as strace would show them.
    pub args: String,
    /// What it returned (`0`, `fd 5`, `10 "helloworld"`), unless it failed.
    pub result: Option<String>,
    /// The errno name when it failed (`EADDRINUSE`).
    pub errno: Option<String>,
    /// The errno's meaning (`Address already in use`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub meaning: Option<String>,
    /// How long the call took, in milliseconds.
    pub elapsed_ms: f64,
    /// What the call shows.
    pub note: Option<String>,
}

impl Step {
    /// A step with nothing recorded about its outcome yet.
    fn new(actor: Actor, call: &str, args: String) -> Self {
        Step {
            actor,
            call: call.to_string(),
            args,
            result: None,
            errno: None,
            meaning: None,
            elapsed_ms: 0.0,
            note: None,
        }
    }
}

/// How a lab ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Conclusion {
    /// The kernel did what the lab sets out to show.
    pub as_expected: bool,
    /// What the calls showed, from their actual results.
    pub text: String,
}

impl Conclusion {
    /// A conclusion: `expected` when everything went by the book.
    pub fn new(as_expected: bool, text: impl Into<String>) -> Self {
        Conclusion {
            as_expected,
            text: text.into(),
        }
    }
}

/// A lab's name as `--json` writes it: the schema of [`LABS`]' names.
pub struct LabName;

impl JsonSchema for LabName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LabName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = LABS.iter().map(|lab| lab.name).collect();
        schemars::json_schema!({
            "description": "A lab's name, as `netdx lab NAME` takes it.",
            "type": "string",
            "enum": names,
        })
    }
}

/// A finished lab (`--json`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    /// The lab's name.
    #[schemars(with = "LabName")]
    pub lab: &'static str,
    /// Its one-line summary.
    pub summary: &'static str,
    /// Every call, in order.
    pub steps: Vec<Step>,
    /// What it showed.
    pub conclusion: String,
    /// Whether the kernel behaved as the lab expects.
    pub as_expected: bool,
}

/// Why a lab could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A call the lab cannot go on without failed.
    #[error("{what}: {}", crate::sockopt::errno_text(source))]
    Call {
        /// The call.
        what: String,
        /// Why.
        source: io::Error,
    },
    /// The lab's two hosts could not be built or changed.
    #[error(transparent)]
    Namespace(#[from] netns::NetnsError),
    /// Printing or waiting for Enter failed (only the observer's errors
    /// map here, never a socket call's).
    #[error("writing output: {0}")]
    Output(io::Error),
}

/// Where steps go as they happen.
pub type Observer<'o> = dyn FnMut(&Step) -> io::Result<()> + 'o;

/// The record of a lab's calls.
pub struct Transcript<'o> {
    steps: Vec<Step>,
    pending: Option<Step>,
    observer: &'o mut Observer<'o>,
}

impl<'o> Transcript<'o> {
    fn new(observer: &'o mut Observer<'o>) -> Self {
        Transcript {
            steps: Vec::new(),
            pending: None,
            observer,
        }
    }

    /// Hands the last step to the observer (once its note, if any, is attached).
    fn flush(&mut self) -> Result<(), LabError> {
        if let Some(step) = self.pending.take() {
            (self.observer)(&step).map_err(LabError::Output)?;
            self.steps.push(step);
        }
        Ok(())
    }

    /// Makes a call and records it: `show` words a success.
    pub fn call<T>(
        &mut self,
        actor: Actor,
        call: &str,
        args: impl Into<String>,
        f: impl FnOnce() -> io::Result<T>,
        show: impl FnOnce(&T) -> String,
    ) -> Result<io::Result<T>, LabError> {
        self.flush()?;
        let started = Instant::now();
        let outcome = f();
        let elapsed = started.elapsed();
        let (result, errno, meaning) = match &outcome {
            Ok(value) => (Some(show(value)), None, None),
            Err(err) => {
                let (name, meaning) = errno_parts(err);
                (None, Some(name), Some(meaning))
            }
        };
        self.pending = Some(Step {
            result,
            errno,
            meaning,
            elapsed_ms: (elapsed.as_secs_f64() * 1e6).round() / 1000.0,
            ..Step::new(actor, call, args.into())
        });
        Ok(outcome)
    }

    /// A call the lab cannot go on without: its failure ends the lab.
    pub fn must<T>(
        &mut self,
        actor: Actor,
        call: &str,
        args: impl Into<String>,
        f: impl FnOnce() -> io::Result<T>,
        show: impl FnOnce(&T) -> String,
    ) -> Result<T, LabError> {
        let args = args.into();
        let what = format!("{call}({args})");
        self.call(actor, call, args, f, show)?
            .map_err(|source| LabError::Call { what, source })
    }

    /// How long the last call took.
    pub fn last_elapsed(&self) -> Option<Duration> {
        self.pending
            .as_ref()
            .map(|step| Duration::from_secs_f64(step.elapsed_ms / 1000.0))
    }

    /// Sets how long the last step took (an observation that waited).
    fn set_elapsed(&mut self, elapsed: Duration) {
        if let Some(step) = self.pending.as_mut() {
            step.elapsed_ms = (elapsed.as_secs_f64() * 1e6).round() / 1000.0;
        }
    }

    /// Attaches what the last call shows (after what is already attached).
    pub fn note(&mut self, text: impl Into<String>) {
        if let Some(step) = self.pending.as_mut() {
            let text = text.into();
            step.note = Some(match step.note.take() {
                Some(earlier) => format!("{earlier}; {text}"),
                None => text,
            });
        }
    }

    /// Records something netdx observed without a socket call of the lab's own
    /// (a socket listing, a measured time).
    pub fn observe(
        &mut self,
        call: &str,
        args: impl Into<String>,
        result: impl Into<String>,
    ) -> Result<(), LabError> {
        self.flush()?;
        self.pending = Some(Step {
            result: Some(result.into()),
            ..Step::new(Actor::Netdx, call, args.into())
        });
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Step>, LabError> {
        self.flush()?;
        Ok(self.steps)
    }
}

/// Runs `lab`, handing every step to `observer` as it happens.
pub fn run<'o>(lab: &'static Lab, observer: &'o mut Observer<'o>) -> Result<Report, LabError> {
    let mut transcript = Transcript::new(observer);
    let conclusion = match (lab.run)(&mut transcript) {
        Ok(conclusion) => conclusion,
        Err(err) => {
            // Show the call that ended the lab before saying why it ended.
            let _ = transcript.flush();
            return Err(err);
        }
    };
    let steps = transcript.finish()?;
    Ok(Report {
        lab: lab.name,
        summary: lab.summary,
        steps,
        conclusion: conclusion.text,
        as_expected: conclusion.as_expected,
    })
}

/// `("EADDRINUSE", "Address already in use")`.
pub fn errno_parts(err: &io::Error) -> (String, String) {
    match err.raw_os_error() {
        Some(code) => {
            let errno = nix::errno::Errno::from_raw(code);
            (format!("{errno:?}"), errno.desc().to_string())
        }
        None => (format!("{:?}", err.kind()), err.to_string()),
    }
}

/// A recorded call the lab needs to have worked.
pub trait Need<T> {
    /// The call's value, or the end of the lab.
    fn need(self, what: &str) -> Result<T, LabError>;
}

impl<T> Need<T> for Result<io::Result<T>, LabError> {
    fn need(self, what: &str) -> Result<T, LabError> {
        self?.map_err(|source| LabError::Call {
            what: what.to_string(),
            source,
        })
    }
}

/// Whether a step failed with `errno`.
pub fn failed_with(result: &io::Result<impl Sized>, errno: i32) -> bool {
    matches!(result, Err(err) if err.raw_os_error() == Some(errno))
}

/// `1.234 ms` / `40.1 ms` / `1.50 s`.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.3} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_names_are_unique_and_found() {
        for lab in LABS {
            assert_eq!(find(lab.name).map(|l| l.name), Some(lab.name));
        }
        let mut names: Vec<_> = LABS.iter().map(|l| l.name).collect();
        names.dedup();
        assert_eq!(names.len(), LABS.len());
        assert!(find("nope").is_none());
        assert!(
            find(ALL).is_none(),
            "'all' runs every lab: no lab may take the name"
        );
        assert!(suggestions("reuse").contains(&"reuseaddr"));
    }

    #[test]
    fn errnos_are_named() {
        let err = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(errno_parts(&err).0, "EADDRINUSE");
        assert!(errno_parts(&err).1.contains("in use"));
    }
}
