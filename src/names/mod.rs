//! Names netdx reads without NSS (a statically linked glibc cannot load
//! NSS modules safely): host names from /etc/hosts and DNS ([`lookup`]),
//! user names from /etc/passwd ([`users`]), and reverse lookups for the
//! addresses netdx shows, several at a time within one deadline so that a
//! resolver that never answers cannot stall a command.
#![forbid(unsafe_code)]

pub mod dns;
pub mod hosts;
pub mod lookup;
pub mod resolv;
pub mod services;
pub mod users;

pub use crate::net::FamilyChoice;
pub use lookup::{Resolved, Resolver};

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long all the reverse lookups of one command may make it wait: about
/// what a user accepts before numbers are better than names. The system
/// resolver's own timeout (5 s per try by default) is far longer.
pub const DEADLINE: Duration = Duration::from_secs(1);

/// Lookups in flight at once: enough for a socket table or a trace to be
/// answered in a round trip or two, few enough not to flood a resolver.
const WORKERS: usize = 8;

/// The names of `addresses` that have one, waiting at most [`DEADLINE`];
/// unspecified addresses and addresses whose lookup fails, only echoes the
/// address or is still unanswered at the deadline are left out.
pub fn reverse(addresses: impl IntoIterator<Item = IpAddr>) -> HashMap<IpAddr, String> {
    let mut lookups = Reverse::new(DEADLINE);
    lookups.lookup(addresses);
    lookups.names
}

/// Reverse lookups that share one budget of waiting across several calls (a
/// trace names each hop as it arrives). Only the time spent waiting in
/// [`Reverse::lookup`] counts. Lookups still unanswered when the budget is
/// spent go on in the background; a later call picks up what they found,
/// without waiting.
pub struct Reverse {
    budget: Duration,
    names: HashMap<IpAddr, String>,
    tried: HashSet<IpAddr>,
    queue: Arc<Mutex<VecDeque<IpAddr>>>,
    answers_tx: Sender<(IpAddr, Option<String>)>,
    answers: Receiver<(IpAddr, Option<String>)>,
    workers: usize,
    unanswered: usize,
    /// The lookup itself: the system resolver, or a scripted one in tests.
    resolve: fn(&IpAddr) -> Option<String>,
}

impl Reverse {
    /// Lookups whose calls may wait `budget` in all.
    pub fn new(budget: Duration) -> Reverse {
        Reverse::with_resolver(budget, system_resolver)
    }

    fn with_resolver(budget: Duration, resolve: fn(&IpAddr) -> Option<String>) -> Reverse {
        let (answers_tx, answers) = mpsc::channel();
        Reverse {
            budget,
            names: HashMap::new(),
            tried: HashSet::new(),
            queue: Arc::default(),
            answers_tx,
            answers,
            workers: 0,
            unanswered: 0,
            resolve,
        }
    }

    /// Looks up the addresses not tried before and waits until they are all
    /// answered or the budget is spent; returns every name known so far.
    pub fn lookup(
        &mut self,
        addresses: impl IntoIterator<Item = IpAddr>,
    ) -> &HashMap<IpAddr, String> {
        let started = Instant::now();
        let deadline = started + self.budget;
        let mut waiting: HashSet<IpAddr> = HashSet::new();
        for address in addresses {
            if address.is_unspecified() || !self.tried.insert(address) {
                continue;
            }
            waiting.insert(address);
            self.enqueue(address);
        }
        while self.unanswered > 0 {
            let answer = if waiting.is_empty() {
                // Nothing of this call's is outstanding: take what has arrived, don't wait.
                match self.answers.try_recv() {
                    Ok(answer) => answer,
                    Err(_) => break,
                }
            } else {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.answers.recv_timeout(left) {
                    Ok(answer) => answer,
                    // The deadline: what is still unanswered is shown as numbers.
                    Err(RecvTimeoutError::Timeout) => {
                        waiting.clear();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            };
            self.unanswered -= 1;
            let (address, name) = answer;
            waiting.remove(&address);
            if let Some(name) = name {
                self.names.insert(address, name);
            }
        }
        self.budget = self.budget.saturating_sub(started.elapsed());
        &self.names
    }

    /// Queues `address` for a worker, starting one if fewer than [`WORKERS`] run.
    fn enqueue(&mut self, address: IpAddr) {
        let Ok(mut queue) = self.queue.lock() else {
            return;
        };
        queue.push_back(address);
        drop(queue);
        self.unanswered += 1;
        if self.workers < WORKERS {
            let queue = Arc::clone(&self.queue);
            let answers = self.answers_tx.clone();
            let resolve = self.resolve;
            // A worker that cannot be started leaves its address to the others.
            if thread::Builder::new()
                .name("reverse-dns".into())
                .spawn(move || work(&queue, &answers, resolve))
                .is_ok()
            {
                self.workers += 1;
            }
        }
    }
}

/// The system's name for `address`: /etc/hosts, then a PTR query.
fn system_resolver(address: &IpAddr) -> Option<String> {
    Resolver::system().name(address)
}

/// Resolves `host` with the system's files (see [`Resolver::resolve`]).
pub fn resolve(host: &str, family: FamilyChoice) -> Result<Resolved, NameError> {
    Resolver::system().resolve(host, family)
}

/// Why a name did not resolve; the messages follow getaddrinfo's words
/// (what ping has always printed) and add what to check.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    /// Neither the hosts file nor DNS knows the name (NXDOMAIN).
    #[error("Name or service not known (check the name, or give an address)")]
    NotFound,
    /// The name exists but has no address of the family asked for.
    #[error("{}", no_address(*family))]
    NoAddress {
        /// The family asked for.
        family: FamilyChoice,
    },
    /// No nameserver answered in time.
    #[error(
        "Temporary failure in name resolution: no answer from {servers} \
         (check the nameserver lines of /etc/resolv.conf, or add the name to /etc/hosts)"
    )]
    Timeout {
        /// The nameservers asked.
        servers: String,
    },
    /// The nameserver answered with an error (SERVFAIL, REFUSED …).
    #[error("nameserver {} answered {rcode} (try again later, or ask another nameserver)", server.ip())]
    ServerFailure {
        /// The last server that failed.
        server: std::net::SocketAddr,
        /// The reply code's name.
        rcode: &'static str,
    },
    /// A nameserver could not be asked at all.
    #[error("cannot ask nameserver {}: {reason} (check the nameserver lines of /etc/resolv.conf)", server.ip())]
    NoServer {
        /// The server.
        server: std::net::SocketAddr,
        /// What the system said.
        reason: String,
    },
    /// An IPv6 zone that names no interface.
    #[error("no interface named '{0}'")]
    NoSuchZone(String),
}

fn no_address(family: FamilyChoice) -> &'static str {
    match family {
        FamilyChoice::V4 => "it has no IPv4 address (drop -4)",
        FamilyChoice::V6 => "it has no IPv6 address (drop -6)",
        FamilyChoice::Any => "No address associated with hostname",
    }
}

/// The interface index of an IPv6 zone: a number, or an interface name.
pub(crate) fn zone_index(zone: &str) -> Option<u32> {
    if let Ok(index) = zone.parse::<u32>() {
        return Some(index);
    }
    nix::net::if_::if_nametoindex(zone).ok()
}

/// One worker: looks up queued addresses until the queue is empty.
fn work(
    queue: &Mutex<VecDeque<IpAddr>>,
    answers: &Sender<(IpAddr, Option<String>)>,
    resolve: fn(&IpAddr) -> Option<String>,
) {
    loop {
        let next = queue.lock().ok().and_then(|mut queue| queue.pop_front());
        let Some(address) = next else {
            return;
        };
        let name = resolve(&address);
        if answers.send((address, name)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    /// Answers 192.0.2.N as "host-N" after 200 ms; 192.0.2.99 never answers.
    fn scripted(address: &IpAddr) -> Option<String> {
        let IpAddr::V4(v4) = address else { return None };
        if v4.octets()[3] == 99 {
            thread::sleep(Duration::from_secs(3600));
        }
        thread::sleep(Duration::from_millis(200));
        Some(format!("host-{}", v4.octets()[3]))
    }

    #[test]
    fn lookups_run_concurrently() {
        let mut lookups = Reverse::with_resolver(Duration::from_secs(5), scripted);
        let started = Instant::now();
        let names = lookups.lookup((1..=WORKERS as u8).map(v4)).clone();
        // Serially these would take WORKERS × 200 ms.
        assert!(
            started.elapsed() < Duration::from_millis(200 * 3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(names.len(), WORKERS);
        assert_eq!(names[&v4(3)], "host-3");
    }

    #[test]
    fn a_lookup_that_never_returns_costs_only_the_budget_once() {
        let mut lookups = Reverse::with_resolver(Duration::from_millis(300), scripted);
        let started = Instant::now();
        let names = lookups.lookup([v4(99), v4(1)]).clone();
        let first = started.elapsed();
        assert!(
            first >= Duration::from_millis(200) && first < Duration::from_millis(800),
            "{first:?}"
        );
        assert_eq!(names.len(), 1, "the answer that came in time is kept");
        // The budget is spent: a later call starts its lookups but does not wait for them.
        let again = Instant::now();
        lookups.lookup([v4(99), v4(2)]);
        assert!(
            again.elapsed() < Duration::from_millis(100),
            "{:?}",
            again.elapsed()
        );
        // …and a still later call picks up what arrived meanwhile.
        thread::sleep(Duration::from_millis(400));
        assert_eq!(
            lookups.lookup([]).get(&v4(2)).map(String::as_str),
            Some("host-2")
        );
    }

    #[test]
    fn unspecified_and_repeated_addresses_are_not_looked_up() {
        let mut lookups = Reverse::with_resolver(DEADLINE, scripted);
        lookups.lookup([IpAddr::V4(Ipv4Addr::UNSPECIFIED)]);
        assert_eq!(lookups.unanswered, 0);
        assert_eq!(lookups.workers, 0);
        lookups.lookup([v4(1); 3]);
        assert_eq!(lookups.tried.len(), 1);
        assert_eq!(lookups.workers, 1);
    }
}
