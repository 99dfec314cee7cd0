//! Host names for addresses netdx shows (reverse DNS through the system
//! resolver), looked up once per address, several at a time, within one
//! deadline so that a resolver that never answers cannot stall a command.
#![forbid(unsafe_code)]

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
}

impl Reverse {
    /// Lookups whose calls may wait `budget` in all.
    pub fn new(budget: Duration) -> Reverse {
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
            // A worker that cannot be started leaves its address to the others.
            if thread::Builder::new()
                .name("reverse-dns".into())
                .spawn(move || work(&queue, &answers))
                .is_ok()
            {
                self.workers += 1;
            }
        }
    }
}

/// One worker: looks up queued addresses until the queue is empty.
fn work(queue: &Mutex<VecDeque<IpAddr>>, answers: &Sender<(IpAddr, Option<String>)>) {
    loop {
        let next = queue.lock().ok().and_then(|mut queue| queue.pop_front());
        let Some(address) = next else {
            return;
        };
        let name = dns_lookup::lookup_addr(&address)
            .ok()
            .filter(|name| *name != address.to_string());
        if answers.send((address, name)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn loopback_is_named_from_the_hosts_file() {
        let names = reverse([IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        assert!(names.contains_key(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }

    #[test]
    fn unspecified_and_repeated_addresses_are_not_looked_up() {
        let mut lookups = Reverse::new(DEADLINE);
        lookups.lookup([IpAddr::V4(Ipv4Addr::UNSPECIFIED)]);
        assert_eq!(lookups.unanswered, 0);
        assert_eq!(lookups.workers, 0);
        lookups.lookup([IpAddr::V4(Ipv4Addr::LOCALHOST); 3]);
        assert_eq!(lookups.tried.len(), 1);
    }

    #[test]
    fn a_spent_budget_does_not_wait() {
        let mut lookups = Reverse::new(Duration::ZERO);
        let started = Instant::now();
        // TEST-NET-3: nothing names it, and with a slow resolver it would take seconds.
        lookups.lookup([IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))]);
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
