//! `neigh scan`: who answers ARP on a segment (arp-scan). Every address of
//! a network is asked once, paced at `rate`, and the silent ones again
//! after `timeout`, up to `retries` times; every answer is matched to a
//! target and timed from the kernel's receive stamp, and the classic
//! misconfigurations are flagged: two MACs for one address, one MAC for
//! many addresses.
//!
//! The engine is generic over the link and the clock ([`run`]); its
//! simulation tests are in `scan_tests.rs`.
#![forbid(unsafe_code)]

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant, SystemTime};

use schemars::JsonSchema;
use serde::Serialize;

use crate::clock::Clock;
use crate::net::packet::{Link, Received, RunError};
use crate::wire::arp::{ArpFrame, Mac, Op};

/// The most addresses one scan asks (a /16).
pub const MAX_TARGETS: u64 = 65_536;
/// Requests sent back to back at most, catching up on the rate.
const BURST: u32 = 8;
/// MACs kept per address: beyond this, more are only counted.
const MACS_PER_ADDRESS: usize = 8;

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// The addresses to ask, in order.
    pub targets: Vec<Ipv4Addr>,
    /// The sender address in the requests.
    pub source: Ipv4Addr,
    /// This interface's MAC.
    pub mac: Mac,
    /// Requests per second, at most.
    pub rate: f64,
    /// Requests again to a silent address, after the first.
    pub retries: u32,
    /// How long each request waits for its answer before the next try.
    pub timeout: Duration,
}

/// One address and the MAC that answered for it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Host {
    /// The address.
    pub address: Ipv4Addr,
    /// The MAC that answered for it.
    pub mac: String,
    /// The MAC's vendor from the IEEE registry, when one is installed and lists it.
    pub vendor: Option<String>,
    /// Kernel receive time of the first answer minus the send time of the request it answered.
    pub rtt_ms: Option<f64>,
    /// More than one MAC answered for this address (this entry is one of them).
    pub duplicate: bool,
    /// This MAC answered for more than one address.
    pub shared_mac: bool,
    /// The kernel's neighbour table holds this address with this MAC.
    pub in_kernel_table: bool,
}

/// How a scan went.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    /// Every (address, MAC) that answered, by address then MAC.
    pub hosts: Vec<Host>,
    /// Requests sent.
    pub sent: u64,
    /// Answers repeated (same address, same MAC).
    pub repeated: u64,
    /// Frames read that were not an answer to the scan.
    pub ignored: u64,
    /// The whole scan.
    pub elapsed: Duration,
}

/// Progress for a live view.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Addresses asked at least once.
    pub asked: usize,
    /// Addresses in the scan.
    pub total: usize,
    /// Addresses that answered.
    pub found: usize,
}

/// What the engine reports as it goes.
pub enum Event<'a> {
    /// A MAC answered for an address for the first time.
    Found(&'a Host),
    /// Another request went out.
    Progress(Progress),
}

/// The state of one target.
#[derive(Debug, Clone, Copy, Default)]
struct Target {
    tries: u32,
    last_sent: Option<SystemTime>,
    answered: bool,
}

/// Scans `request.targets`; `on_event` sees each new host and the progress.
pub fn run<L: Link, C: Clock>(
    request: &ScanRequest,
    link: &mut L,
    clock: &C,
    on_event: &mut dyn FnMut(Event<'_>) -> std::io::Result<()>,
) -> Result<ScanOutcome, RunError> {
    let started = clock.now();
    let gap = Duration::from_secs_f64(1.0 / request.rate.max(0.001));
    let index: HashMap<Ipv4Addr, usize> = request
        .targets
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, i))
        .collect();
    let mut targets = vec![Target::default(); request.targets.len()];
    let mut first_pass = 0usize;
    let mut retry: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut next_send = started;
    let mut last_send = started;
    let mut answers: Vec<(usize, Mac, Option<Duration>)> = Vec::new();
    let mut macs_of: HashMap<usize, Vec<Mac>> = HashMap::new();
    let mut outcome = ScanOutcome {
        hosts: Vec::new(),
        sent: 0,
        repeated: 0,
        ignored: 0,
        elapsed: Duration::ZERO,
    };
    let mut found = 0usize;
    loop {
        if link.stopped() {
            break;
        }
        let now = clock.now();
        // Drop retries of targets that answered meanwhile.
        while retry.front().is_some_and(|(_, t)| targets[*t].answered) {
            retry.pop_front();
        }
        let retry_due = retry.front().is_some_and(|(at, _)| *at <= now);
        let due = if retry_due {
            retry.front().map(|(_, t)| *t)
        } else {
            (first_pass < targets.len()).then_some(first_pass)
        };
        if let Some(target) = due
            && now >= next_send
        {
            if retry_due {
                retry.pop_front();
            } else {
                first_pass += 1;
            }
            let frame = ArpFrame::request(request.mac, request.source, request.targets[target]);
            let at = link.send(&frame.emit()).map_err(RunError::Link)?;
            outcome.sent += 1;
            let state = &mut targets[target];
            state.tries += 1;
            state.last_sent = Some(at);
            if state.tries <= request.retries {
                retry.push_back((now + request.timeout, target));
            }
            last_send = now;
            // Catch up after a late wake-up (poll sleeps in whole
            // milliseconds), but never by more than BURST requests at once.
            next_send = next_send.max(now.checked_sub(gap * BURST).unwrap_or(now)) + gap;
            on_event(Event::Progress(Progress {
                asked: first_pass,
                total: targets.len(),
                found,
            }))
            .map_err(RunError::Output)?;
            continue;
        }
        let pending = first_pass < targets.len() || !retry.is_empty();
        if !pending && now >= last_send + request.timeout {
            break;
        }
        let mut wake = last_send + request.timeout;
        if first_pass < targets.len() {
            wake = next_send;
        } else if let Some((at, _)) = retry.front() {
            wake = (*at).max(next_send);
        }
        let Some(frame) = link.recv_until(wake).map_err(RunError::Link)? else {
            continue;
        };
        match answer(request, &index, &frame) {
            Some((target, mac)) => {
                let macs = macs_of.entry(target).or_default();
                if macs.contains(&mac) || macs.len() >= MACS_PER_ADDRESS {
                    outcome.repeated += 1;
                    continue;
                }
                macs.push(mac);
                let state = &mut targets[target];
                if !state.answered {
                    found += 1;
                }
                state.answered = true;
                let at = frame.at.unwrap_or_else(|| clock.wall());
                let rtt = state
                    .last_sent
                    .and_then(|sent| at.duration_since(sent).ok());
                answers.push((target, mac, rtt));
                let host = host(request, target, mac, rtt);
                on_event(Event::Found(&host)).map_err(RunError::Output)?;
            }
            None => outcome.ignored += 1,
        }
    }
    outcome.hosts = hosts(request, &answers);
    outcome.elapsed = clock.now().saturating_duration_since(started);
    Ok(outcome)
}

/// The target and MAC a frame answers for, if it is a reply to our scan.
fn answer(
    request: &ScanRequest,
    index: &HashMap<Ipv4Addr, usize>,
    frame: &Received,
) -> Option<(usize, Mac)> {
    let arp = ArpFrame::parse(&frame.bytes).ok()?;
    if arp.op != Op::Reply || arp.target_ip != request.source || arp.sender_mac == request.mac {
        return None;
    }
    Some((*index.get(&arp.sender_ip)?, arp.sender_mac))
}

fn host(request: &ScanRequest, target: usize, mac: Mac, rtt: Option<Duration>) -> Host {
    Host {
        address: request.targets[target],
        mac: mac.to_string(),
        vendor: None,
        rtt_ms: rtt.map(|d| d.as_secs_f64() * 1000.0),
        duplicate: false,
        shared_mac: false,
        in_kernel_table: false,
    }
}

/// The answers as hosts, sorted, with duplicates and shared MACs flagged.
fn hosts(request: &ScanRequest, answers: &[(usize, Mac, Option<Duration>)]) -> Vec<Host> {
    let mut per_address: HashMap<usize, usize> = HashMap::new();
    let mut per_mac: HashMap<Mac, usize> = HashMap::new();
    for (target, mac, _) in answers {
        *per_address.entry(*target).or_default() += 1;
        *per_mac.entry(*mac).or_default() += 1;
    }
    let mut hosts: Vec<(Ipv4Addr, Mac, Host)> = answers
        .iter()
        .map(|(target, mac, rtt)| {
            let mut host = host(request, *target, *mac, *rtt);
            host.duplicate = per_address[target] > 1;
            host.shared_mac = per_mac[mac] > 1;
            (host.address, *mac, host)
        })
        .collect();
    hosts.sort_by_key(|h| (h.0, h.1));
    hosts.into_iter().map(|(_, _, host)| host).collect()
}

/// The document `neigh scan --json` prints.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScanReport {
    /// The interface scanned.
    pub interface: String,
    /// Its MAC, the sender of every request.
    pub mac: String,
    /// The sender address in the requests.
    pub source: Ipv4Addr,
    /// The network scanned, as CIDR.
    pub network: String,
    /// Addresses asked.
    pub addresses: usize,
    /// Every (address, MAC) that answered, by address then MAC.
    pub hosts: Vec<Host>,
    /// Addresses more than one MAC answered for.
    pub duplicates: usize,
    /// Requests sent (first tries and retries).
    pub sent: u64,
    /// Frames read that were not an answer to the scan.
    pub ignored: u64,
    /// The whole scan, in milliseconds.
    pub elapsed_ms: f64,
}

/// What the scan will do, decided from `-I` and the CIDR.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Interface index, for the packet socket.
    pub ifindex: u32,
    /// Interface name.
    pub interface: crate::iface::IfaceName,
    /// The network, as CIDR.
    pub network: ipnet::Ipv4Net,
    /// The engine's request.
    pub request: ScanRequest,
}

/// Chooses the interface (`-I`, else the one the route to the network
/// uses, else the default route's), the network (the CIDR, else the
/// interface's own subnet) and the source address.
pub fn plan(
    interface: Option<&crate::iface::IfaceName>,
    network: Option<ipnet::Ipv4Net>,
    rate: f64,
    retries: u32,
    timeout: Duration,
) -> Result<Plan, super::NeighError> {
    use super::NeighError;
    let too_large = |network: ipnet::Ipv4Net| {
        let count = 1u64 << (32 - u32::from(network.prefix_len()));
        (count > MAX_TARGETS).then(|| NeighError::TooLarge {
            network: network.to_string(),
            addresses: count,
        })
    };
    if let Some(err) = network.and_then(too_large) {
        return Err(err);
    }
    let name = match interface {
        Some(name) => name.clone(),
        None => {
            let toward = network.map_or(Ipv4Addr::new(198, 51, 100, 1), |n| n.network());
            route_interface(toward)?
        }
    };
    let link = crate::iface::ethernet::EthernetLink::open(&name)?;
    let network = match network {
        Some(network) => network,
        None => {
            let (address, prefix) = link
                .ipv4()
                .next()
                .ok_or_else(|| NeighError::NoNetwork(name.to_string()))?;
            ipnet::Ipv4Net::new(address, prefix)
                .map_err(|_| NeighError::NoNetwork(name.to_string()))?
                .trunc()
        }
    };
    if let Some(err) = too_large(network) {
        return Err(err);
    }
    let targets: Vec<Ipv4Addr> = if network.prefix_len() >= 31 {
        network.hosts().collect()
    } else {
        network
            .hosts()
            .filter(|a| *a != network.network() && *a != network.broadcast())
            .collect()
    };
    let source = link
        .source_for(network.network())
        .ok_or_else(|| NeighError::NoNetwork(name.to_string()))?;
    Ok(Plan {
        ifindex: link.interface.index,
        interface: name,
        network,
        request: ScanRequest {
            targets,
            source,
            mac: link.mac,
            rate,
            retries,
            timeout,
        },
    })
}

fn route_interface(toward: Ipv4Addr) -> Result<crate::iface::IfaceName, super::NeighError> {
    let lookup = crate::routes::get::lookup(&crate::routes::get::Query {
        destination: std::net::IpAddr::V4(toward),
        from: None,
        iif: None,
        oif: None,
        mark: None,
    })
    .map_err(|err| super::NeighError::NoInterface(err.to_string()))?;
    lookup
        .interface
        .and_then(|name| name.parse().ok())
        .ok_or_else(|| super::NeighError::NoInterface("the route names no interface".into()))
}

/// The outcome as the document: vendors from the registry, and whether the
/// kernel's table holds each host with the same MAC.
pub fn report(plan: &Plan, outcome: ScanOutcome) -> ScanReport {
    let macs: Vec<Mac> = outcome
        .hosts
        .iter()
        .filter_map(|h| h.mac.parse().ok())
        .collect();
    let vendors = super::oui::vendors(&macs);
    let table = super::table::on_interface(&plan.interface, false).unwrap_or_default();
    let mut hosts = outcome.hosts;
    for host in &mut hosts {
        host.vendor = host
            .mac
            .parse::<Mac>()
            .ok()
            .and_then(|mac| vendors.get(&mac).cloned());
        host.in_kernel_table = table.iter().any(|entry| {
            entry.address == std::net::IpAddr::V4(host.address)
                && entry.mac.as_deref() == Some(host.mac.as_str())
        });
    }
    let mut duplicated: Vec<Ipv4Addr> = hosts
        .iter()
        .filter(|h| h.duplicate)
        .map(|h| h.address)
        .collect();
    duplicated.dedup();
    ScanReport {
        interface: plan.interface.to_string(),
        mac: plan.request.mac.to_string(),
        source: plan.request.source,
        network: plan.network.to_string(),
        addresses: plan.request.targets.len(),
        hosts,
        duplicates: duplicated.len(),
        sent: outcome.sent,
        ignored: outcome.ignored,
        elapsed_ms: outcome.elapsed.as_secs_f64() * 1000.0,
    }
}
