//! `netdx lab`: the classic socket surprises, run for real on loopback.
//!
//! Each lab is a script of real socket calls. Every call is recorded as it
//! happens — its arguments, then its result or errno — in a [`Transcript`]
//! the command layer prints (and pauses on, with `--step`). The closing
//! words are worked out from what the kernel actually returned: when a
//! call turns out differently from the textbook, the lab says so and why
//! that can be, instead of reciting a script.
#![forbid(unsafe_code)]

mod backlog;
mod buffers;
pub mod calls;
mod linger;
mod nagle;
mod nonblocking;
mod recv;
mod reuseaddr;
mod reuseport;
mod shutdown;
mod sticky;
mod timeout;
mod udp_boundaries;
mod udp_chat;
mod v6only;

use std::io;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;

/// One lab.
pub struct Lab {
    /// Its name on the command line.
    pub name: &'static str,
    /// What it shows, in one line.
    pub summary: &'static str,
    /// The options it is about.
    pub options: &'static [&'static str],
    /// The socket calls and flags it teaches.
    pub calls: &'static [&'static str],
    /// What to expect and why (`--explain`), before anything runs.
    pub lesson: &'static str,
    run: fn(&mut Transcript<'_>) -> Result<Conclusion, LabError>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab").field("name", &self.name).finish()
    }
}

/// Every lab, in the order `netdx lab` lists them.
pub static LABS: &[Lab] = &[
    Lab {
        name: "reuseaddr",
        summary: "restart a server while its old connection sits in TIME_WAIT: EADDRINUSE, then SO_REUSEADDR",
        options: &["SO_REUSEADDR"],
        calls: &["socket", "bind", "listen", "accept", "close"],
        lesson: "The end of a TCP connection that closes first waits in TIME_WAIT for 60 s, still holding its local address and port. A server restarted meanwhile cannot bind its port: bind() fails with EADDRINUSE, though no process has the old socket open. SO_REUSEADDR, set before bind() on the listening socket, lets the new server bind while old connections wait. Expect EADDRINUSE without it, seen beside the TIME_WAIT socket sock_diag lists, and a listening server with it.",
        run: reuseaddr::run,
    },
    Lab {
        name: "reuseport",
        summary: "two listeners on one port with SO_REUSEPORT, and how the kernel spreads connections",
        options: &["SO_REUSEPORT"],
        calls: &["bind", "listen", "connect", "accept"],
        lesson: "SO_REUSEPORT lets several sockets bind the same address and port when every one of them sets it before bind(); the kernel then hashes each new connection to one of the listeners. Expect the second listener refused with EADDRINUSE without the option, and with it connections spread over both listeners, counted.",
        run: reuseport::run,
    },
    Lab {
        name: "sticky",
        summary: "TCP keeps no message boundaries: two sends read as one, a short read; then framing fixes it",
        options: &[],
        calls: &["send", "recv", "MSG_WAITALL"],
        lesson: "TCP is a byte stream: the kernel may hand two send()s to one recv(), or part of one send() to a recv() whose buffer is smaller. Message boundaries must be carried in the data. Expect two sends read as one, a short read, then a length prefix and a delimiter that put the messages back together.",
        run: sticky::run,
    },
    Lab {
        name: "nagle",
        summary: "write-write-read with Nagle's algorithm on and off (TCP_NODELAY), timed",
        options: &["TCP_NODELAY", "TCP_QUICKACK"],
        calls: &["send", "recv", "setsockopt"],
        lesson: "Nagle's algorithm holds a small segment back while earlier data is unacknowledged, and the peer's delayed ACK holds the acknowledgement back: a write-write-read exchange stalls for tens of milliseconds. TCP_NODELAY sends each write at once. Expect the stall measured with Nagle on, and gone with TCP_NODELAY.",
        run: nagle::run,
    },
    Lab {
        name: "udp-boundaries",
        summary: "UDP keeps message boundaries; a datagram larger than the buffer is cut (MSG_TRUNC)",
        options: &[],
        calls: &["send", "recv", "MSG_TRUNC"],
        lesson: "UDP keeps message boundaries: one send() is one datagram, read by one recv(). A datagram larger than the buffer is cut and the rest discarded; MSG_TRUNC makes recv() return its real size. Expect three messages read one by one, a 2000-byte datagram cut to 100 bytes with 2000 reported, and nothing of it left.",
        run: udp_boundaries::run,
    },
    Lab {
        name: "nonblocking",
        summary: "EAGAIN on an empty non-blocking socket, poll() for readiness, EINPROGRESS and SO_ERROR",
        options: &["O_NONBLOCK", "SO_ERROR"],
        calls: &["fcntl", "recv", "poll", "connect", "getsockopt"],
        lesson: "On a non-blocking socket a call that would wait fails instead: recv() with EAGAIN, connect() with EINPROGRESS. poll() sleeps until the socket is ready, and SO_ERROR says how a connect ended. Expect EAGAIN, a poll() that sleeps until data comes, EINPROGRESS, then SO_ERROR 0 for a listener and ECONNREFUSED for a closed port.",
        run: nonblocking::run,
    },
    Lab {
        name: "timeout",
        summary: "SO_RCVTIMEO makes recv() give up; connecting to a listener whose backlog is full times out",
        options: &["SO_RCVTIMEO", "SO_SNDTIMEO"],
        calls: &["setsockopt", "recv", "connect", "poll"],
        lesson: "SO_RCVTIMEO bounds each blocking receive, which then fails with EAGAIN, not ETIMEDOUT; SO_SNDTIMEO bounds a blocking send and, on Linux, a blocking connect(). A listener whose accept queue is full drops new SYNs, so a connect to it gets no answer. Expect EAGAIN after 0.5 s, a connect given up after 1 s, and a poll() that times out.",
        run: timeout::run,
    },
    Lab {
        name: "buffers",
        summary: "a peer that never reads: partial sends, EAGAIN, and the buffer sizes in effect",
        options: &["SO_SNDBUF", "SO_RCVBUF", "SO_SNDTIMEO"],
        calls: &["send", "MSG_DONTWAIT", "getsockopt"],
        lesson: "When the peer stops reading, its receive buffer fills, then the sender's send buffer: a blocking send() with a timeout returns the part it placed, then fails with EAGAIN, and a non-blocking send fails with EAGAIN at once. Expect a partial count, EAGAIN, and the buffer sizes the kernel applied (doubled from what was asked).",
        run: buffers::run,
    },
    Lab {
        name: "shutdown",
        summary: "end of stream (recv returns 0), half-close with shutdown(SHUT_WR), EPIPE and ECONNRESET",
        options: &["SO_LINGER"],
        calls: &["close", "shutdown", "recv", "send"],
        lesson: "recv() returns 0 once the peer has closed: end of stream, not an error. shutdown(SHUT_WR) half-closes: the other side reads end of stream and can still answer. A write to a peer that has closed succeeds once, only queued; the reset that comes back makes the next fail with EPIPE or ECONNRESET. Expect all three.",
        run: shutdown::run,
    },
    Lab {
        name: "backlog",
        summary: "listen(backlog) with a server that never accepts: which connects complete, what happens next",
        options: &["SO_ACCEPTCONN"],
        calls: &["listen", "connect", "poll"],
        lesson: "listen()'s backlog bounds the connections waiting for accept(), not the number of connections. With the queue full, Linux drops new SYNs and the clients retry them, seconds apart. Expect backlog + 1 connects to complete and the rest to stay in SYN-SENT, shown by sock_diag.",
        run: backlog::run,
    },
    Lab {
        name: "v6only",
        summary: "an IPv6 socket on [::] takes IPv4 clients as ::ffff:127.0.0.1 unless IPV6_V6ONLY is on",
        options: &["IPV6_V6ONLY"],
        calls: &["setsockopt", "bind", "connect", "accept"],
        lesson: "An IPv6 socket bound to [::] takes IPv4 clients too, as ::ffff:a.b.c.d addresses, unless IPV6_V6ONLY is on (net.ipv6.bindv6only sets the default). Expect an IPv4 client accepted as ::ffff:127.0.0.1, then refused once IPV6_V6ONLY is set.",
        run: v6only::run,
    },
    Lab {
        name: "recv",
        summary: "what a blocking recv() returns: queued data (fewer bytes than asked), a wait, 0 at end of stream; MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT",
        options: &["SO_RCVTIMEO"],
        calls: &["recv", "MSG_PEEK", "MSG_WAITALL", "MSG_DONTWAIT"],
        lesson: "A blocking recv() ends in one of three ways. With data queued it returns at once, however little: fewer bytes than asked for is normal. With nothing queued and the peer still open it sleeps until data comes, or SO_RCVTIMEO ends it with EAGAIN, or forever. Once the peer has closed it returns 0, end of stream, on every call. MSG_PEEK reads without removing, MSG_WAITALL waits for the full count, MSG_DONTWAIT makes one call non-blocking. Expect each of these, timed.",
        run: recv::run,
    },
    Lab {
        name: "linger",
        summary: "close() with SO_LINGER {on, 0}: the peer gets ECONNRESET instead of 0, and no TIME_WAIT is left on either side",
        options: &["SO_LINGER"],
        calls: &["setsockopt", "close", "recv"],
        lesson: "close() normally sends FIN, and the side that closes first keeps the connection in TIME_WAIT for 60 s so that its late segments cannot be taken for a new connection's on the same ports. With SO_LINGER {on, 0}, close() sends RST instead: anything unsent is thrown away, the peer's recv() fails with ECONNRESET, and no TIME_WAIT is kept. Expect 0 and TIME_WAIT on the closer after a normal close, ECONNRESET and no TIME_WAIT on either side after the abortive one — and why that is no way to be rid of TIME_WAIT.",
        run: linger::run,
    },
    Lab {
        name: "udp-chat",
        summary: "UDP peers with sendto()/recvfrom(): the sender's address with each datagram, a third peer injecting, connect() filtering and ECONNREFUSED",
        options: &[],
        calls: &["sendto", "recvfrom", "connect", "recv"],
        lesson: "UDP has no connections: any socket can send to any address, and each datagram arrives with its sender's address, which is all the receiver learns of who sent it. connect() on a UDP socket fixes its peer: the kernel then drops datagrams from anyone else, and reports an ICMP port unreachable for what it sent as ECONNREFUSED on its next call. Expect sender addresses, an injected datagram, the filter, and ECONNREFUSED where an unconnected socket only times out.",
        run: udp_chat::run,
    },
];

/// The name that runs every lab (`netdx lab all`).
pub const ALL: &str = "all";

/// The lab called `name`.
pub fn find(name: &str) -> Option<&'static Lab> {
    LABS.iter().find(|lab| lab.name == name)
}

/// Lab names closest to `name`, for "did you mean".
pub fn suggestions(name: &str) -> Vec<&'static str> {
    let lower = name.to_ascii_lowercase();
    let mut close: Vec<&'static str> = LABS
        .iter()
        .map(|lab| lab.name)
        .filter(|candidate| {
            candidate.contains(&lower)
                || lower.contains(candidate)
                || shares_prefix(candidate, &lower)
        })
        .collect();
    if close.is_empty() {
        close = LABS.iter().map(|lab| lab.name).collect();
    }
    close
}

fn shares_prefix(a: &str, b: &str) -> bool {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count() >= 3
}

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

    /// Attaches what the last call shows.
    pub fn note(&mut self, text: impl Into<String>) {
        if let Some(step) = self.pending.as_mut() {
            step.note = Some(text.into());
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

/// How one lab of `netdx lab all` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The kernel did what the lab sets out to show.
    Reached,
    /// The lab ran to its end, but the kernel did something else.
    Missed,
    /// A call the lab could not go on without failed.
    Failed,
}

/// One lab's line in `netdx lab all`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Verdict {
    /// The lab's name.
    #[schemars(with = "LabName")]
    pub lab: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// What the kernel showed (the conclusion's first sentence), or why the lab could not run.
    pub text: String,
}

impl Report {
    /// The first sentence of the conclusion: what the kernel showed, in one line.
    pub fn verdict(&self) -> &str {
        first_sentence(&self.conclusion)
    }
}

/// Up to the first full stop that ends a sentence (". " before a capital,
/// or the end), so `0.5 s`, `127.0.0.1` and `e.g. on,5` do not end it.
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices(". ") {
        if bytes.get(at + 2).is_some_and(u8::is_ascii_uppercase) {
            return &text[..=at];
        }
    }
    text
}

/// Runs every lab without narration, handing each verdict to `on_verdict`
/// as the lab ends. A lab that cannot run is a verdict too, not the end.
pub fn run_all(
    on_verdict: &mut dyn FnMut(&Verdict) -> io::Result<()>,
) -> Result<Vec<Verdict>, LabError> {
    let mut verdicts = Vec::with_capacity(LABS.len());
    for lab in LABS {
        let mut quiet = |_: &Step| -> io::Result<()> { Ok(()) };
        let verdict = match run(lab, &mut quiet) {
            Ok(report) => Verdict {
                lab: lab.name,
                outcome: if report.as_expected {
                    Outcome::Reached
                } else {
                    Outcome::Missed
                },
                text: report.verdict().to_string(),
            },
            Err(err) => Verdict {
                lab: lab.name,
                outcome: Outcome::Failed,
                text: err.to_string(),
            },
        };
        on_verdict(&verdict).map_err(LabError::Output)?;
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// Whether every lab reached its outcome.
pub fn all_reached(verdicts: &[Verdict]) -> bool {
    verdicts.iter().all(|v| v.outcome == Outcome::Reached)
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
    fn a_verdict_is_the_first_sentence_not_a_decimal_point() {
        assert_eq!(
            first_sentence("recv() slept 0.5 s on 127.0.0.1 (e.g. on,5). Then more."),
            "recv() slept 0.5 s on 127.0.0.1 (e.g. on,5)."
        );
        assert_eq!(first_sentence("one sentence only."), "one sentence only.");
    }

    #[test]
    fn every_lab_has_a_lesson_and_the_calls_it_teaches() {
        for lab in LABS {
            assert!(lab.lesson.len() > 80, "{}", lab.name);
            assert!(!lab.calls.is_empty(), "{}", lab.name);
        }
        let verdict = |outcome| Verdict {
            lab: "recv",
            outcome,
            text: String::new(),
        };
        assert!(all_reached(&[verdict(Outcome::Reached)]));
        assert!(!all_reached(&[
            verdict(Outcome::Reached),
            verdict(Outcome::Missed)
        ]));
        assert!(!all_reached(&[verdict(Outcome::Failed)]));
    }

    #[test]
    fn errnos_are_named() {
        let err = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(errno_parts(&err).0, "EADDRINUSE");
        assert!(errno_parts(&err).1.contains("in use"));
    }
}
