//! `netdx top`: who is using the network, from the kernel's own counters
//! (no packet capture). Each refresh takes a [`Sample`] of every TCP
//! connection's TCP_INFO byte counters (sock_diag) with its holder, and
//! every interface's IFLA_STATS64; [`Top`] turns two samples into rates
//! per connection, per process and per interface.
//!
//! What the counters cannot show is said, not guessed: UDP and raw sockets
//! have no per-socket byte counters in the kernel (their traffic is in the
//! interfaces' totals), and a connection that opens and closes between two
//! samples is never seen.

pub mod kernel;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::Serialize;

use crate::intmap::IntMap;

/// One TCP connection's counters at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionCounters {
    /// Socket inode (0 once the process has closed it).
    pub inode: u32,
    /// Local end.
    pub local: SocketAddr,
    /// Remote end.
    pub peer: SocketAddr,
    /// The first process holding it, when it can be seen.
    pub pid: Option<u32>,
    /// That process's command name (shared with the owner index).
    pub command: Option<Arc<str>>,
    /// Bytes the peer acknowledged (tcpi_bytes_acked).
    pub sent: u64,
    /// Bytes received (tcpi_bytes_received).
    pub received: u64,
    /// Smoothed RTT, ms.
    pub rtt_ms: Option<f64>,
    /// Segments retransmitted over the connection's life.
    pub retransmits: u64,
}

/// One interface's counters at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceCounters {
    /// Name.
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
}

/// Everything one refresh reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// TCP connections with byte counters.
    pub connections: Vec<ConnectionCounters>,
    /// Interfaces.
    pub interfaces: Vec<InterfaceCounters>,
    /// Processes whose descriptors could not be read (other users', without root).
    pub hidden_processes: usize,
}

/// Where samples come from: the kernel, or a script in tests.
pub trait Counters {
    /// Reads every counter now.
    fn sample(&mut self) -> Result<Sample, TopError>;
}

/// How rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// By bytes per second, sent plus received, over the last interval.
    #[default]
    Rate,
    /// By bytes moved since netdx top started.
    Total,
}

/// A process's traffic over the last interval.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ProcessRate {
    /// Process id.
    pub pid: u32,
    /// Command name.
    #[schemars(with = "String")]
    pub command: Arc<str>,
    /// Its user (`null` once it has exited).
    pub user: Option<String>,
    /// Bytes per second its connections' peers acknowledged.
    pub tx_bytes_per_sec: f64,
    /// Bytes per second its connections received.
    pub rx_bytes_per_sec: f64,
    /// Bytes sent since netdx top started (by connections it holds now).
    pub tx_bytes: u64,
    /// Bytes received since netdx top started.
    pub rx_bytes: u64,
    /// Its TCP connections with counters.
    pub connections: usize,
}

/// A TCP connection's traffic over the last interval.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConnectionRate {
    /// Always `tcp`: other sockets have no byte counters.
    pub proto: &'static str,
    /// Local end.
    pub local: SocketAddr,
    /// Remote end.
    pub peer: SocketAddr,
    /// The process holding it (`null` when it cannot be seen).
    pub pid: Option<u32>,
    /// That process's command name.
    #[schemars(with = "Option<String>")]
    pub command: Option<Arc<str>>,
    /// Bytes per second the peer acknowledged.
    pub tx_bytes_per_sec: f64,
    /// Bytes per second received.
    pub rx_bytes_per_sec: f64,
    /// Bytes sent since netdx top started (or since it opened).
    pub tx_bytes: u64,
    /// Bytes received since netdx top started (or since it opened).
    pub rx_bytes: u64,
    /// Smoothed RTT, ms.
    pub rtt_ms: Option<f64>,
    /// Segments retransmitted over the connection's life.
    pub retransmits: u64,
}

/// An interface's traffic over the last interval.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct InterfaceRate {
    /// Name.
    pub name: String,
    /// Bytes per second received.
    pub rx_bytes_per_sec: f64,
    /// Bytes per second transmitted.
    pub tx_bytes_per_sec: f64,
    /// Bytes received since netdx top started.
    pub rx_bytes: u64,
    /// Bytes transmitted since netdx top started.
    pub tx_bytes: u64,
}

/// One refresh: rates over the interval since the last one.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Report {
    /// Seconds between the two samples.
    pub interval_s: f64,
    /// Processes with TCP traffic, busiest first.
    pub processes: Vec<ProcessRate>,
    /// TCP connections, busiest first.
    pub connections: Vec<ConnectionRate>,
    /// Interfaces, busiest first.
    pub interfaces: Vec<InterfaceRate>,
    /// Processes whose sockets could not be matched to them (other users',
    /// without root): their connections are listed without a pid.
    pub hidden_processes: usize,
    /// What the kernel's counters cannot show.
    pub unseen: Vec<String>,
}

/// Why top could not read the counters.
#[derive(Debug, thiserror::Error)]
pub enum TopError {
    /// sock_diag (and /proc/net) could not be read.
    #[error(transparent)]
    Sockets(#[from] crate::sockets::SocketError),
    /// The interfaces could not be read.
    #[error(transparent)]
    Interfaces(#[from] crate::iface::IfaceError),
}

/// What the counters never show, said in every report.
const UNSEEN: [&str; 2] = [
    "UDP and raw sockets: the kernel keeps no per-socket byte counters (their bytes are in the interfaces' rates)",
    "connections that opened and closed between two refreshes",
];

/// Rates between samples, and totals since the first.
#[derive(Debug, Clone)]
pub struct Top {
    /// The last sample, its connections in [`connection_order`].
    previous: Sample,
    at: Instant,
    /// Bytes sent and received since the start by each of the previous
    /// sample's connections (same positions).
    connection_totals: Vec<(u64, u64)>,
    /// Per interface: bytes received and sent since the start.
    interface_totals: HashMap<String, (u64, u64)>,
    /// User names by pid, looked up once.
    users: IntMap<u32, Option<String>>,
}

/// A connection's identity: its inode, then its two ends (orphaned
/// sockets all have inode 0; the same ends with another inode are a new
/// connection). Ordering by it lets two samples be matched in one walk
/// of both, with no hashing: a sample of 50,000 connections hashed by
/// both addresses cost more than the kernel's dump of them.
fn connection_key(c: &ConnectionCounters) -> (u32, SocketAddr, SocketAddr) {
    (c.inode, c.local, c.peer)
}

/// Puts `connections` in [`connection_key`] order (a sample already in
/// it is only checked). Rows are ~130 bytes and a quicksort moves each
/// several times, so the (inode, position) pairs are sorted instead and
/// each row is moved into place once; only rows sharing an inode
/// (orphans, inode 0) are then ordered by their ends.
pub fn connection_order(connections: &mut [ConnectionCounters]) {
    if connections.is_sorted_by_key(connection_key) {
        return;
    }
    let mut order: Vec<(u32, usize)> = connections
        .iter()
        .enumerate()
        .map(|(position, c)| (c.inode, position))
        .collect();
    order.sort_unstable();
    apply_order(connections, order.into_iter().map(|(_, at)| at).collect());
    for run in connections.chunk_by_mut(|a, b| a.inode == b.inode) {
        if run.len() > 1 {
            run.sort_unstable_by_key(connection_key);
        }
    }
}

/// Rearranges `rows` so that position `i` holds the row that was at
/// `sources[i]` (`sources` is a permutation of the positions), by
/// following each cycle with swaps: nothing is allocated per row.
fn apply_order<T>(rows: &mut [T], mut sources: Vec<usize>) {
    const DONE: usize = usize::MAX;
    debug_assert_eq!(rows.len(), sources.len());
    for start in 0..rows.len() {
        let mut target = start;
        while sources[target] != DONE {
            let source = sources[target];
            sources[target] = DONE;
            if source == start {
                break;
            }
            rows.swap(target, source);
            target = source;
        }
    }
}

/// How much a counter grew; a counter that went back (a reused inode, a
/// recreated interface) started again from zero.
fn grew(before: Option<u64>, now: u64) -> u64 {
    match before {
        Some(before) if before <= now => now - before,
        _ => now,
    }
}

fn per_second(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes as f64 / seconds
    } else {
        0.0
    }
}

impl Top {
    /// Starts from a first sample taken at `at`.
    pub fn new(mut first: Sample, at: Instant) -> Top {
        connection_order(&mut first.connections);
        Top {
            connection_totals: vec![(0, 0); first.connections.len()],
            previous: first,
            at,
            interface_totals: HashMap::new(),
            users: IntMap::default(),
        }
    }

    /// The rates from the previous sample to `sample`, taken at `at`; the
    /// user of each process comes from `user_of` (once per pid).
    pub fn next(
        &mut self,
        mut sample: Sample,
        at: Instant,
        sort: Sort,
        user_of: &mut dyn FnMut(u32) -> Option<String>,
    ) -> Report {
        let seconds = at.saturating_duration_since(self.at).as_secs_f64();
        connection_order(&mut sample.connections);
        let before = &self.previous.connections;
        let mut totals = Vec::with_capacity(sample.connections.len());
        let mut connections = Vec::with_capacity(sample.connections.len());
        // Both samples are in key order: one walk pairs each connection
        // with itself in the previous sample, if it was there.
        let mut at_before = 0;
        for c in &sample.connections {
            let key = connection_key(c);
            while at_before < before.len() && connection_key(&before[at_before]) < key {
                at_before += 1;
            }
            let old = before
                .get(at_before)
                .filter(|old| connection_key(old) == key)
                .map(|old| (old, self.connection_totals[at_before]));
            // A connection new since the last sample opened within the
            // interval: everything it moved, it moved in it.
            let sent = grew(old.map(|(o, _)| o.sent), c.sent);
            let received = grew(old.map(|(o, _)| o.received), c.received);
            let (tx_total, rx_total) = old.map_or((0, 0), |(_, total)| total);
            let total = (tx_total + sent, rx_total + received);
            totals.push(total);
            connections.push(ConnectionRate {
                proto: "tcp",
                local: c.local,
                peer: c.peer,
                pid: c.pid,
                command: c.command.clone(),
                tx_bytes_per_sec: per_second(sent, seconds),
                rx_bytes_per_sec: per_second(received, seconds),
                tx_bytes: total.0,
                rx_bytes: total.1,
                rtt_ms: c.rtt_ms,
                retransmits: c.retransmits,
            });
        }
        // Closed connections are forgotten: memory follows the live table.
        self.connection_totals = totals;

        let mut by_pid: IntMap<u32, ProcessRate> = IntMap::default();
        for c in &connections {
            let Some(pid) = c.pid else { continue };
            let users = &mut self.users;
            let row = by_pid.entry(pid).or_insert_with(|| ProcessRate {
                pid,
                command: c.command.clone().unwrap_or_else(|| Arc::from("")),
                user: users.entry(pid).or_insert_with(|| user_of(pid)).clone(),
                tx_bytes_per_sec: 0.0,
                rx_bytes_per_sec: 0.0,
                tx_bytes: 0,
                rx_bytes: 0,
                connections: 0,
            });
            row.tx_bytes_per_sec += c.tx_bytes_per_sec;
            row.rx_bytes_per_sec += c.rx_bytes_per_sec;
            row.tx_bytes += c.tx_bytes;
            row.rx_bytes += c.rx_bytes;
            row.connections += 1;
        }
        self.users.retain(|pid, _| by_pid.contains_key(pid));
        let mut processes: Vec<ProcessRate> = by_pid.into_values().collect();

        let old_interfaces: HashMap<&str, &InterfaceCounters> = self
            .previous
            .interfaces
            .iter()
            .map(|i| (i.name.as_str(), i))
            .collect();
        let mut interface_totals = HashMap::with_capacity(sample.interfaces.len());
        let mut interfaces = Vec::with_capacity(sample.interfaces.len());
        for i in &sample.interfaces {
            let old = old_interfaces.get(i.name.as_str());
            // An interface that appeared since the last sample: its
            // counters started with it, but not necessarily in the interval.
            let (rx, tx) = match old {
                Some(old) => (
                    grew(Some(old.rx_bytes), i.rx_bytes),
                    grew(Some(old.tx_bytes), i.tx_bytes),
                ),
                None => (0, 0),
            };
            let (rx_total, tx_total) = self
                .interface_totals
                .get(&i.name)
                .copied()
                .unwrap_or((0, 0));
            let total = (rx_total + rx, tx_total + tx);
            interface_totals.insert(i.name.clone(), total);
            interfaces.push(InterfaceRate {
                name: i.name.clone(),
                rx_bytes_per_sec: per_second(rx, seconds),
                tx_bytes_per_sec: per_second(tx, seconds),
                rx_bytes: total.0,
                tx_bytes: total.1,
            });
        }
        self.interface_totals = interface_totals;

        sort_rows(&mut processes, sort, |p| {
            (
                p.tx_bytes_per_sec + p.rx_bytes_per_sec,
                p.tx_bytes + p.rx_bytes,
                p.pid,
            )
        });
        // Connections with the same numbers (idle ones, mostly) stay in
        // key order (by inode, so about the order they opened in): a
        // tie-break by both addresses made the sort most of a refresh's
        // own work on a host with 50,000 connections.
        sort_rows(&mut connections, sort, |c| {
            (
                c.tx_bytes_per_sec + c.rx_bytes_per_sec,
                c.tx_bytes + c.rx_bytes,
                (),
            )
        });
        sort_rows(&mut interfaces, sort, |i| {
            (
                i.tx_bytes_per_sec + i.rx_bytes_per_sec,
                i.tx_bytes + i.rx_bytes,
                i.name.clone(),
            )
        });
        let hidden_processes = sample.hidden_processes;
        self.previous = sample;
        self.at = at;
        Report {
            interval_s: seconds,
            processes,
            connections,
            interfaces,
            hidden_processes,
            unseen: UNSEEN.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Busiest first by `sort`, then by the other measure, then by the
/// key's last part (a name, a pid), then by the row's place before, so the
/// order is the same for the same numbers. The key is made once per row,
/// not once per comparison, and the rows are moved once.
fn sort_rows<T, K: Ord>(rows: &mut [T], sort: Sort, key: impl Fn(&T) -> (f64, u64, K)) {
    let mut keyed: Vec<(RowKey<K>, usize)> = rows
        .iter()
        .enumerate()
        .map(|(at, row)| {
            let (rate, total, name) = key(row);
            let key = RowKey {
                sort,
                rate,
                total,
                name,
            };
            (key, at)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    apply_order(rows, keyed.into_iter().map(|(_, at)| at).collect());
}

/// A row's place in the table (see [`sort_rows`]).
struct RowKey<K> {
    sort: Sort,
    rate: f64,
    total: u64,
    name: K,
}

impl<K: Ord> Ord for RowKey<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let by_rate = other.rate.total_cmp(&self.rate);
        let by_total = other.total.cmp(&self.total);
        match self.sort {
            Sort::Rate => by_rate.then(by_total),
            Sort::Total => by_total.then(by_rate),
        }
        .then_with(|| self.name.cmp(&other.name))
    }
}

impl<K: Ord> PartialOrd for RowKey<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Ord> PartialEq for RowKey<K> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl<K: Ord> Eq for RowKey<K> {}

/// What one run of top does.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Seconds between refreshes.
    pub interval: Duration,
    /// Row order.
    pub sort: Sort,
    /// Stop after this many reports (`--once`: 1).
    pub count: Option<u64>,
}

/// Samples every `interval` and hands each report to `on_report` until
/// `count` reports, `wait` says to stop (Ctrl-C), or `on_report` fails.
/// `wait(d)` sleeps for `d` (the simulation's advances its clock) and
/// returns false when the run should end.
pub fn run<C: Counters>(
    request: &Request,
    counters: &mut C,
    now: &dyn Fn() -> Instant,
    wait: &mut dyn FnMut(Duration) -> bool,
    user_of: &mut dyn FnMut(u32) -> Option<String>,
    on_report: &mut dyn FnMut(Report) -> std::io::Result<()>,
) -> Result<u64, RunError> {
    let mut top = Top::new(counters.sample()?, now());
    let mut next = now() + request.interval;
    let mut reports = 0;
    while request.count.is_none_or(|count| reports < count) {
        let left = next.saturating_duration_since(now());
        if !wait(left) {
            break;
        }
        let sample = counters.sample()?;
        let at = now();
        let report = top.next(sample, at, request.sort, user_of);
        on_report(report).map_err(RunError::Output)?;
        reports += 1;
        // Refreshes keep their rhythm; after a stall the next is a whole
        // interval away, never at once.
        next += request.interval;
        if next <= at {
            next = at + request.interval;
        }
    }
    Ok(reports)
}

/// Why a run ended early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The counters could not be read.
    #[error(transparent)]
    Top(#[from] TopError),
    /// The output could not be written.
    #[error(transparent)]
    Output(std::io::Error),
}
