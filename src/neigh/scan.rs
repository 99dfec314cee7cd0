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
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::Serialize;

use crate::clock::Clock;
use crate::net::packet::{Link, Received, RunError};
use crate::wire::arp::{ArpFrame, Mac, Op};
use crate::wire::ndp;

/// The most addresses one scan asks (a /16).
pub const MAX_TARGETS: u64 = 65_536;
/// Requests sent back to back at most, catching up on the rate.
const BURST: u32 = 8;
/// MACs kept per address: beyond this, more are only counted.
const MACS_PER_ADDRESS: usize = 8;

/// How the scan asks, and from which address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// IPv4: ARP requests from `source`.
    Arp {
        /// The sender address in the requests.
        source: Ipv4Addr,
    },
    /// IPv6: neighbour solicitations from `source` (the interface's
    /// link-local address) to each target's solicited-node group, and an
    /// echo request with identifier `echo_id` to all nodes.
    Ndp {
        /// The source of every solicitation and echo.
        source: Ipv6Addr,
        /// The echo identifier replies must carry.
        echo_id: u16,
    },
}

impl Protocol {
    /// The address the requests come from.
    pub fn source(&self) -> IpAddr {
        match *self {
            Protocol::Arp { source } => IpAddr::V4(source),
            Protocol::Ndp { source, .. } => IpAddr::V6(source),
        }
    }
}

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// The addresses to ask, in order (all of the protocol's family).
    pub targets: Vec<IpAddr>,
    /// ARP or neighbour discovery, and the source.
    pub protocol: Protocol,
    /// This interface's MAC.
    pub mac: Mac,
    /// Requests per second, at most.
    pub rate: f64,
    /// Requests again to a silent address, after the first.
    pub retries: u32,
    /// How long each request waits for its answer before the next try.
    pub timeout: Duration,
}

/// Which question an answer came back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// An ARP reply.
    Arp,
    /// A neighbour advertisement answering our solicitation.
    Solicitation,
    /// An echo reply to the all-nodes echo (a host outside the targets,
    /// usually by its link-local address).
    AllNodesEcho,
}

/// One address and the MAC that answered for it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Host {
    /// The address.
    pub address: IpAddr,
    /// The MAC that answered for it.
    pub mac: String,
    /// The MAC's vendor from the IEEE registry, when one is installed and lists it.
    pub vendor: Option<String>,
    /// Kernel receive time of the first answer minus the send time of the request it answered.
    pub rtt_ms: Option<f64>,
    /// What found it: an ARP reply, a neighbour advertisement, or a reply to the all-nodes echo.
    pub found_by: Via,
    /// The advertisement had the router flag set (IPv6).
    pub router: bool,
    /// More than one MAC answered for this address (this entry is one of them).
    pub duplicate: bool,
    /// This MAC answered for more than one address (IPv6: more than one
    /// target; a host's link-local address found by the echo is not counted).
    pub shared_mac: bool,
    /// The kernel's neighbour table holds this address with this MAC.
    pub in_kernel_table: bool,
}

/// How a scan went.
#[derive(Debug, Clone)]
pub struct ScanOutcome {
    /// Every (address, MAC) that answered, by address then MAC.
    pub hosts: Vec<Host>,
    /// Requests sent (the all-nodes echoes included).
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

/// One question the scan asks, possibly several times.
#[derive(Debug, Clone, Copy)]
enum Probe {
    /// Who has target `n`?
    Ask(usize),
    /// Every node on the link: echo (IPv6).
    AllNodes,
}

/// The state of one probe.
#[derive(Debug, Clone, Copy, Default)]
struct Tries {
    tries: u32,
    last_sent: Option<SystemTime>,
    answered: bool,
}

/// One answer: who, at which MAC, how, how fast.
#[derive(Debug, Clone, Copy)]
struct Answered {
    address: IpAddr,
    mac: Mac,
    via: Via,
    router: bool,
    rtt: Option<Duration>,
}

/// Addresses outside the targets (all-nodes echo replies) kept at most.
const MAX_OTHERS: usize = 4096;

/// Scans `request.targets`; `on_event` sees each new host and the progress.
pub fn run<L: Link, C: Clock>(
    request: &ScanRequest,
    link: &mut L,
    clock: &C,
    on_event: &mut dyn FnMut(Event<'_>) -> std::io::Result<()>,
) -> Result<ScanOutcome, RunError> {
    let started = clock.now();
    let gap = Duration::from_secs_f64(1.0 / request.rate.max(0.001));
    let index: HashMap<IpAddr, usize> = request
        .targets
        .iter()
        .enumerate()
        .map(|(i, a)| (*a, i))
        .collect();
    // The all-nodes echo goes first: its answers come in while the
    // solicitations go out.
    let mut probes = Vec::with_capacity(request.targets.len() + 1);
    let echo_probe = matches!(request.protocol, Protocol::Ndp { .. }).then_some(0);
    if echo_probe.is_some() {
        probes.push(Probe::AllNodes);
    }
    let offset = probes.len();
    probes.extend((0..request.targets.len()).map(Probe::Ask));
    let mut tries = vec![Tries::default(); probes.len()];
    let mut first_pass = 0usize;
    let mut asked = 0usize;
    let mut echo_seq = 0u16;
    let mut retry: VecDeque<(Instant, usize)> = VecDeque::new();
    let mut next_send = started;
    let mut last_send = started;
    let mut answers: Vec<Answered> = Vec::new();
    let mut macs_of: HashMap<IpAddr, Vec<Mac>> = HashMap::new();
    let mut others = 0usize;
    let mut outcome = ScanOutcome {
        hosts: Vec::new(),
        sent: 0,
        repeated: 0,
        ignored: 0,
        elapsed: Duration::ZERO,
    };
    loop {
        if link.stopped() {
            break;
        }
        let now = clock.now();
        // Drop retries of targets that answered meanwhile.
        while retry.front().is_some_and(|(_, p)| tries[*p].answered) {
            retry.pop_front();
        }
        let retry_due = retry.front().is_some_and(|(at, _)| *at <= now);
        let due = if retry_due {
            retry.front().map(|(_, p)| *p)
        } else {
            (first_pass < probes.len()).then_some(first_pass)
        };
        if let Some(probe) = due
            && now >= next_send
        {
            if retry_due {
                retry.pop_front();
            } else {
                first_pass += 1;
                if matches!(probes[probe], Probe::Ask(_)) {
                    asked += 1;
                }
            }
            let frame = match (probes[probe], request.protocol) {
                (Probe::Ask(t), protocol) => solicit(request.mac, protocol, request.targets[t]),
                (Probe::AllNodes, Protocol::Ndp { source, echo_id }) => {
                    echo_seq = echo_seq.wrapping_add(1);
                    ndp::all_nodes_echo(request.mac, source, echo_id, echo_seq)
                }
                (Probe::AllNodes, Protocol::Arp { .. }) => Vec::new(),
            };
            let at = link.send(&frame).map_err(RunError::Link)?;
            outcome.sent += 1;
            let state = &mut tries[probe];
            state.tries += 1;
            state.last_sent = Some(at);
            if state.tries <= request.retries {
                retry.push_back((now + request.timeout, probe));
            }
            last_send = now;
            // Catch up after a late wake-up (poll sleeps in whole
            // milliseconds), but never by more than BURST requests at once.
            next_send = next_send.max(now.checked_sub(gap * BURST).unwrap_or(now)) + gap;
            on_event(Event::Progress(Progress {
                asked,
                total: request.targets.len(),
                found: macs_of.len(),
            }))
            .map_err(RunError::Output)?;
            continue;
        }
        let pending = first_pass < probes.len() || !retry.is_empty();
        if !pending && now >= last_send + request.timeout {
            break;
        }
        let mut wake = last_send + request.timeout;
        if first_pass < probes.len() {
            wake = next_send;
        } else if let Some((at, _)) = retry.front() {
            wake = (*at).max(next_send);
        }
        let Some(frame) = link.recv_until(wake).map_err(RunError::Link)? else {
            continue;
        };
        let Some((address, mac, via, router)) = answer(request, &frame) else {
            outcome.ignored += 1;
            continue;
        };
        let probe = match via {
            Via::AllNodesEcho => echo_probe,
            Via::Arp | Via::Solicitation => index.get(&address).map(|t| t + offset),
        };
        let Some(probe) = probe else {
            outcome.ignored += 1;
            continue;
        };
        if !macs_of.contains_key(&address) && !index.contains_key(&address) {
            if others >= MAX_OTHERS {
                outcome.ignored += 1;
                continue;
            }
            others += 1;
        }
        let macs = macs_of.entry(address).or_default();
        if macs.contains(&mac) || macs.len() >= MACS_PER_ADDRESS {
            outcome.repeated += 1;
            continue;
        }
        macs.push(mac);
        let state = &mut tries[probe];
        if via != Via::AllNodesEcho {
            state.answered = true;
        }
        let at = frame.at.unwrap_or_else(|| clock.wall());
        let rtt = state
            .last_sent
            .and_then(|sent| at.duration_since(sent).ok());
        let answered = Answered {
            address,
            mac,
            via,
            router,
            rtt,
        };
        answers.push(answered);
        on_event(Event::Found(&host(&answered))).map_err(RunError::Output)?;
    }
    outcome.hosts = hosts(&answers);
    outcome.elapsed = clock.now().saturating_duration_since(started);
    Ok(outcome)
}

/// The frame that asks who has `target`.
fn solicit(mac: Mac, protocol: Protocol, target: IpAddr) -> Vec<u8> {
    match (protocol, target) {
        (Protocol::Arp { source }, IpAddr::V4(target)) => {
            ArpFrame::request(mac, source, target).emit().to_vec()
        }
        (Protocol::Ndp { source, .. }, IpAddr::V6(target)) => {
            ndp::solicitation(mac, source, target)
        }
        // plan() gives targets of the protocol's family only.
        _ => Vec::new(),
    }
}

/// Who a frame says is where, if it is an answer to this scan: an ARP
/// reply to our source, an advertisement to our source, or an echo reply
/// with our identifier. Our own frames are never answers.
fn answer(request: &ScanRequest, frame: &Received) -> Option<(IpAddr, Mac, Via, bool)> {
    match request.protocol {
        Protocol::Arp { source } => {
            let arp = ArpFrame::parse(&frame.bytes).ok()?;
            (arp.op == Op::Reply && arp.target_ip == source && arp.sender_mac != request.mac)
                .then_some((IpAddr::V4(arp.sender_ip), arp.sender_mac, Via::Arp, false))
        }
        Protocol::Ndp { source, echo_id } => {
            let reply = ndp::parse(&frame.bytes).ok()?;
            if reply.destination != source || reply.eth_source == request.mac {
                return None;
            }
            match reply.answer {
                ndp::Answer::Advertisement {
                    target,
                    mac,
                    router,
                } => Some((IpAddr::V6(target), mac, Via::Solicitation, router)),
                ndp::Answer::EchoReply { from, mac, id } => {
                    (id == echo_id).then_some((IpAddr::V6(from), mac, Via::AllNodesEcho, false))
                }
            }
        }
    }
}

fn host(answered: &Answered) -> Host {
    Host {
        address: answered.address,
        mac: answered.mac.to_string(),
        vendor: None,
        rtt_ms: answered.rtt.map(|d| d.as_secs_f64() * 1000.0),
        found_by: answered.via,
        router: answered.router,
        duplicate: false,
        shared_mac: false,
        in_kernel_table: false,
    }
}

/// The answers as hosts, sorted, with duplicates and shared MACs flagged.
fn hosts(answers: &[Answered]) -> Vec<Host> {
    let mut per_address: HashMap<IpAddr, usize> = HashMap::new();
    let mut per_mac: HashMap<Mac, usize> = HashMap::new();
    for answered in answers {
        *per_address.entry(answered.address).or_default() += 1;
        if answered.via != Via::AllNodesEcho {
            *per_mac.entry(answered.mac).or_default() += 1;
        }
    }
    let mut hosts: Vec<(IpAddr, Mac, Host)> = answers
        .iter()
        .map(|answered| {
            let mut host = host(answered);
            host.duplicate = per_address[&answered.address] > 1;
            host.shared_mac = answered.via != Via::AllNodesEcho && per_mac[&answered.mac] > 1;
            (host.address, answered.mac, host)
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
    /// The sender address in the requests (IPv6: the interface's link-local address).
    pub source: IpAddr,
    /// The network scanned, as CIDR.
    pub network: String,
    /// Addresses asked one by one (IPv6 without a CIDR: 0 when the
    /// interface's prefix is larger than a scan asks; the all-nodes echo
    /// still finds who is there).
    pub addresses: usize,
    /// An echo request went to all nodes (ff02::1) as well (IPv6).
    pub all_nodes_echo: bool,
    /// Every (address, MAC) that answered, by address then MAC.
    pub hosts: Vec<Host>,
    /// Addresses more than one MAC answered for.
    pub duplicates: usize,
    /// Requests sent (first tries and retries, echoes included).
    pub sent: u64,
    /// Frames read that were not an answer to the scan.
    pub ignored: u64,
    /// The whole scan, in milliseconds.
    pub elapsed_ms: f64,
}

/// What the scan will do, decided from `-I`, `-6` and the CIDR.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Interface index, for the packet socket.
    pub ifindex: u32,
    /// Interface name.
    pub interface: crate::iface::IfaceName,
    /// The network, as CIDR.
    pub network: IpNet,
    /// The engine's request.
    pub request: ScanRequest,
}

impl Plan {
    /// The EtherType the packet socket must be bound to.
    pub fn ethertype(&self) -> u16 {
        match self.request.protocol {
            Protocol::Arp { .. } => crate::wire::arp::ETHERTYPE_ARP,
            Protocol::Ndp { .. } => ndp::ETHERTYPE_IPV6,
        }
    }
}

/// Addresses in `network`.
fn size(network: IpNet) -> u128 {
    let bits = u32::from(network.max_prefix_len() - network.prefix_len());
    1u128.checked_shl(bits).unwrap_or(u128::MAX)
}

/// Chooses the interface (`-I`, else the one the route to the network
/// uses, else the default route's), the network (the CIDR, else the
/// interface's own subnet), the family (the CIDR's, or IPv6 with `v6`)
/// and the source address.
pub fn plan(
    interface: Option<&crate::iface::IfaceName>,
    network: Option<IpNet>,
    v6: bool,
    rate: f64,
    retries: u32,
    timeout: Duration,
) -> Result<Plan, super::NeighError> {
    use super::NeighError;
    if let Some(IpNet::V4(network)) = network
        && v6
    {
        return Err(NeighError::Family(network.to_string()));
    }
    let v6 = v6 || matches!(network, Some(IpNet::V6(_)));
    let too_large = |network: IpNet| {
        let count = size(network);
        (count > u128::from(MAX_TARGETS)).then(|| NeighError::TooLarge {
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
            let toward = match network {
                Some(network) => network.network(),
                None if v6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                None => IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)),
            };
            route_interface(toward)?
        }
    };
    let link = crate::iface::ethernet::EthernetLink::open(&name)?;
    let (network, targets, protocol) = if v6 {
        let source = link
            .ipv6()
            .map(|(address, _)| address)
            .find(|a| a.is_unicast_link_local())
            .ok_or_else(|| NeighError::NoLinkLocal(name.to_string()))?;
        let network = match network {
            Some(network) => network,
            None => {
                let (address, prefix) = link
                    .ipv6()
                    .find(|(a, _)| !a.is_unicast_link_local())
                    .or_else(|| link.ipv6().next())
                    .ok_or_else(|| NeighError::NoLinkLocal(name.to_string()))?;
                IpNet::V6(
                    ipnet::Ipv6Net::new(address, prefix)
                        .map_err(|_| NeighError::NoLinkLocal(name.to_string()))?
                        .trunc(),
                )
            }
        };
        // An interface's own /64 is far too large to ask address by
        // address: then the all-nodes echo alone finds who is there.
        let targets: Vec<IpAddr> = match network {
            IpNet::V6(net) if too_large(network).is_none() => net.hosts().map(IpAddr::V6).collect(),
            _ => Vec::new(),
        };
        let echo_id = (std::process::id() & 0xffff) as u16;
        (network, targets, Protocol::Ndp { source, echo_id })
    } else {
        let network = match network {
            Some(IpNet::V4(network)) => network,
            _ => {
                let (address, prefix) = link
                    .ipv4()
                    .next()
                    .ok_or_else(|| NeighError::NoNetwork(name.to_string()))?;
                ipnet::Ipv4Net::new(address, prefix)
                    .map_err(|_| NeighError::NoNetwork(name.to_string()))?
                    .trunc()
            }
        };
        if let Some(err) = too_large(IpNet::V4(network)) {
            return Err(err);
        }
        let targets: Vec<IpAddr> = if network.prefix_len() >= 31 {
            network.hosts().map(IpAddr::V4).collect()
        } else {
            network
                .hosts()
                .filter(|a| *a != network.network() && *a != network.broadcast())
                .map(IpAddr::V4)
                .collect()
        };
        let source = link
            .source_for(network.network())
            .ok_or_else(|| NeighError::NoNetwork(name.to_string()))?;
        (IpNet::V4(network), targets, Protocol::Arp { source })
    };
    Ok(Plan {
        ifindex: link.interface.index,
        interface: name,
        network,
        request: ScanRequest {
            targets,
            protocol,
            mac: link.mac,
            rate,
            retries,
            timeout,
        },
    })
}

fn route_interface(toward: IpAddr) -> Result<crate::iface::IfaceName, super::NeighError> {
    let lookup = crate::routes::get::lookup(&crate::routes::get::Query {
        destination: toward,
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
    let v6 = matches!(plan.request.protocol, Protocol::Ndp { .. });
    let table = super::table::on_interface(&plan.interface, v6).unwrap_or_default();
    let mut hosts = outcome.hosts;
    for host in &mut hosts {
        host.vendor = host
            .mac
            .parse::<Mac>()
            .ok()
            .and_then(|mac| vendors.get(&mac).cloned());
        host.in_kernel_table = table.iter().any(|entry| {
            entry.address == host.address && entry.mac.as_deref() == Some(host.mac.as_str())
        });
    }
    let mut duplicated: Vec<IpAddr> = hosts
        .iter()
        .filter(|h| h.duplicate)
        .map(|h| h.address)
        .collect();
    duplicated.dedup();
    ScanReport {
        interface: plan.interface.to_string(),
        mac: plan.request.mac.to_string(),
        source: plan.request.protocol.source(),
        network: plan.network.to_string(),
        addresses: plan.request.targets.len(),
        all_nodes_echo: v6,
        hosts,
        duplicates: duplicated.len(),
        sent: outcome.sent,
        ignored: outcome.ignored,
        elapsed_ms: outcome.elapsed.as_secs_f64() * 1000.0,
    }
}
