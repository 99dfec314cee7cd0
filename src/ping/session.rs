//! Turning what the user asked for into a ready run: targets resolved,
//! limits checked, sockets open, privileges dropped.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Duration;

use super::echo::{EchoSocket, SocketOptions, Source};
use super::engine::{self, Mode, Observer, Plan};
use super::network::Sockets;
use super::target::{self, FamilyChoice, Target, TargetSpec, Targets};
use super::{PingError, TargetReport};
use crate::clock::SystemClock;
use crate::privilege;
use crate::signals::Interrupts;
use crate::wire::icmp::{MAX_PAYLOAD_V4, MAX_PAYLOAD_V6};

/// iputils' smallest interval for unprivileged users.
pub const MIN_USER_INTERVAL: Duration = Duration::from_millis(2);
/// fping's smallest interval for unprivileged users.
pub const MIN_USER_SWEEP_INTERVAL: Duration = Duration::from_millis(1);

/// A payload fill pattern (`-p`): up to 16 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(pub Vec<u8>);

/// What the user asked for, already parsed.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Hosts and networks.
    pub targets: Vec<TargetSpec>,
    /// `-4` / `-6`.
    pub family: FamilyChoice,
    /// `-c`.
    pub count: Option<u64>,
    /// `-i`.
    pub interval: Option<Duration>,
    /// `-W`.
    pub timeout: Option<Duration>,
    /// `-w`.
    pub deadline: Option<Duration>,
    /// `-s`.
    pub size: usize,
    /// `-t`.
    pub ttl: Option<u8>,
    /// `-I`.
    pub source: Option<Source>,
    /// `-f`.
    pub flood: bool,
    /// `-p`.
    pub pattern: Option<Pattern>,
    /// `-O`.
    pub report_outstanding: bool,
    /// `-g`: the targets must be networks.
    pub generate: bool,
    /// fping-style output was asked for (`-a`/`-u`), even for one target.
    pub sweep_output: bool,
    /// The targets came from a list (`--file`, standard input): a sweep,
    /// as fping's, however many the list holds.
    pub listed: bool,
    /// `--retries`.
    pub retries: Option<u32>,
    /// `--period`.
    pub period: Option<Duration>,
    /// `--force`.
    pub force: bool,
    /// Record every reply (for JSON).
    pub keep_replies: bool,
}

/// One host (iputils) or many (fping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// iputils ping.
    OneHost,
    /// fping.
    Sweep,
}

/// A run ready to start.
pub struct Prepared {
    /// One host or many.
    pub shape: Shape,
    /// The schedule.
    pub plan: Plan,
    /// The single target of a one-host run (for its header).
    pub host: Option<Target>,
    /// Every target of the run, in order.
    pub total: u128,
    /// The source address and interface to print with `-I`.
    pub source_shown: Option<(IpAddr, Option<String>)>,
    targets: Box<dyn Iterator<Item = Target>>,
    sockets: Sockets,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("shape", &self.shape)
            .field("plan", &self.plan)
            .finish()
    }
}

/// Resolves targets, checks every limit, opens the sockets and drops privileges.
pub fn prepare(request: &Request) -> Result<Prepared, PingError> {
    let shape = if request.targets.len() > 1
        || request.generate
        || request.sweep_output
        || request.listed
        || request
            .targets
            .iter()
            .any(|t| matches!(t, TargetSpec::Network(_)))
    {
        Shape::Sweep
    } else {
        Shape::OneHost
    };
    let specs = if request.generate {
        target::generate(&request.targets)?
    } else {
        request.targets.clone()
    };
    if shape == Shape::Sweep && request.flood {
        return Err(PingError::Usage(
            "-f floods one host; give a single target".into(),
        ));
    }

    let targets = Targets::new(&specs, request.family, request.force)?;
    let total = targets.total();
    let (has_v4, has_v6) = targets.families();
    let max_payload = if has_v4 {
        MAX_PAYLOAD_V4
    } else {
        MAX_PAYLOAD_V6
    };
    if request.size > max_payload {
        return Err(PingError::PayloadTooLarge {
            size: request.size,
            max: max_payload,
            family: crate::net::family_name(!has_v4),
        });
    }

    let plan = plan_for(shape, request);
    let privileged = privilege::is_privileged();
    let minimum = match shape {
        Shape::OneHost => MIN_USER_INTERVAL,
        Shape::Sweep => MIN_USER_SWEEP_INTERVAL,
    };
    if !privileged && request.flood {
        return Err(PingError::NeedsPrivilege {
            what: "flood ping (-f)".into(),
            remedy: "use -i 0.002 or more instead",
        });
    }
    if !privileged && plan.interval < minimum {
        return Err(PingError::NeedsPrivilege {
            what: format!("an interval below {} ms", minimum.as_millis()),
            remedy: if shape == Shape::OneHost {
                "use -i 0.002 or more"
            } else {
                "use -i 0.001 or more"
            },
        });
    }

    let options = SocketOptions {
        ttl: request.ttl,
        source: request.source.clone(),
        // Room for a burst of replies: a flood, or a sweep's worth in flight.
        rcvbuf: 1 << 20,
        // One socket per family for every target of the run.
        peer: None,
    };
    let v4 = if has_v4 {
        Some(EchoSocket::open(false, &options)?)
    } else {
        None
    };
    let v6 = if has_v6 {
        Some(EchoSocket::open(true, &options)?)
    } else {
        None
    };
    // Everything privileged is done: the sockets are open and bound.
    privilege::lock_down()?;

    let mut targets: Box<dyn Iterator<Item = Target>> = Box::new(targets);
    let host = if shape == Shape::OneHost {
        let first = targets.next();
        if let Some(first) = first.clone() {
            targets = Box::new(std::iter::once(first));
        }
        first
    } else {
        None
    };
    let source_shown = match (&request.source, &host) {
        (Some(Source::Address(address)), _) => Some((*address, None)),
        (Some(Source::Interface(name)), Some(host)) => {
            interface_address(name.as_str(), host.address.is_ipv6())
                .map(|address| (address, Some(name.to_string())))
        }
        _ => None,
    };
    Ok(Prepared {
        shape,
        plan,
        host,
        total,
        source_shown,
        targets,
        sockets: Sockets::new(v4, v6),
    })
}

/// The schedule for `shape`, with the defaults of the tool it imitates.
fn plan_for(shape: Shape, request: &Request) -> Plan {
    let payload = payload(
        request.size,
        request.pattern.as_ref().map(|p| p.0.as_slice()),
    );
    match shape {
        Shape::OneHost => {
            let interval = match (request.interval, request.flood) {
                (Some(interval), _) => interval,
                (None, true) => Duration::ZERO,
                (None, false) => Duration::from_secs(1),
            };
            Plan {
                mode: Mode::Count(request.count),
                interval,
                period: interval,
                timeout: request.timeout.unwrap_or(Duration::from_secs(10)),
                deadline: request.deadline,
                payload,
                flood: request.flood,
                report_outstanding: request.report_outstanding,
                keep_replies: request.keep_replies,
            }
        }
        Shape::Sweep => Plan {
            mode: match request.count {
                Some(count) => Mode::Count(Some(count)),
                None => Mode::UntilAlive {
                    retries: request.retries.unwrap_or(3),
                },
            },
            interval: request.interval.unwrap_or(Duration::from_millis(10)),
            period: request.period.unwrap_or(Duration::from_secs(1)),
            timeout: request.timeout.unwrap_or(Duration::from_millis(500)),
            deadline: request.deadline,
            payload,
            flood: false,
            report_outstanding: false,
            keep_replies: request.keep_replies,
        },
    }
}

/// The probe payload: iputils fills byte i with i, or repeats `-p`'s pattern.
pub fn payload(size: usize, pattern: Option<&[u8]>) -> Vec<u8> {
    match pattern {
        Some(pattern) if !pattern.is_empty() => {
            pattern.iter().copied().cycle().take(size).collect()
        }
        _ => (0..size).map(|i| i as u8).collect(),
    }
}

/// The first address of `family` on interface `name` (if-addrs), for the header.
fn interface_address(name: &str, v6: bool) -> Option<IpAddr> {
    if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .filter(|iface| iface.name == name)
        .map(|iface| iface.ip())
        .find(|ip| ip.is_ipv6() == v6)
}

impl Prepared {
    /// Runs to the end; reports arrive through `observer` as `Event::Done`.
    pub fn run(
        mut self,
        interrupts: &Interrupts,
        observer: &mut Observer<'_>,
    ) -> Result<(), PingError> {
        engine::run(
            &self.plan,
            &mut self.sockets,
            &SystemClock,
            &mut self.targets,
            interrupts,
            observer,
        )
    }
}

/// Tallies finished targets into the run's exit status: one host like
/// iputils (any reply; with `-w`, `-c` replies), many hosts like fping
/// (every host answered). Keeps counts only, so a sweep of any size can
/// stream its results.
#[derive(Debug, Clone)]
pub struct Verdict {
    required: Option<u64>,
    targets: u64,
    answered: u64,
}

impl Verdict {
    /// A verdict for runs shaped by `plan`.
    pub fn new(plan: &Plan) -> Self {
        let required = match (plan.deadline, plan.mode) {
            (Some(_), Mode::Count(Some(count))) => Some(count),
            _ => None,
        };
        Verdict {
            required,
            targets: 0,
            answered: 0,
        }
    }

    /// Counts one finished target.
    pub fn record(&mut self, report: &TargetReport) {
        self.targets += 1;
        let enough = self.required.is_none_or(|count| report.received >= count);
        if report.received > 0 && enough {
            self.answered += 1;
        }
    }

    /// Whether the run succeeded: targets were pinged and every one answered.
    pub fn succeeded(&self) -> bool {
        self.targets > 0 && self.answered == self.targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_payload_counts_up_like_iputils() {
        assert_eq!(payload(4, None), vec![0, 1, 2, 3]);
        assert_eq!(payload(300, None)[256], 0);
    }

    #[test]
    fn pattern_repeats_across_the_payload() {
        assert_eq!(
            payload(5, Some(&[0xab, 0xcd])),
            vec![0xab, 0xcd, 0xab, 0xcd, 0xab]
        );
    }
}
