//! `netdx lab arp`: the neighbour cache of a namespace pair, read over
//! rtnetlink at every stage. The first datagram to B waits for an ARP
//! answer (INCOMPLETE, when it can be caught), B's MAC is learnt
//! (REACHABLE), forgotten as unconfirmed (STALE), checked again on reuse
//! (DELAY, PROBE); an absent host ends FAILED, and the connected socket
//! that tried it gets EHOSTUNREACH. Every ARP request and reply is
//! captured in A and decoded with netdx's ARP reader, and the MACs
//! compared with B's interface address.
#![forbid(unsafe_code)]

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use super::hosts::{self, inside};
use super::netns::Host;
use super::{Actor, Conclusion, LabError, Need, Transcript, calls, duration_text, failed_with};
use crate::iface::ethernet::EthernetLink;
use crate::neigh::table::{self, Neighbour, Query, State, StateFilter};
use crate::net::packet::LinkSocket;
use crate::sockopt::Value;
use crate::wire::arp::{ArpFrame, Mac, Op};

/// A's neighbour-table timers, shortened so the lab takes seconds. The
/// reachable time is drawn at random from half to one and a half times the
/// base: 1.1 to 3.3 s, always above the DELAY time, so an entry used once
/// and then left alone goes STALE rather than DELAY.
const BASE_REACHABLE_MS: &str = "2200";
/// How long a STALE entry that is used again waits in DELAY for the upper
/// layer to confirm B (seconds: the sysctl's unit).
const DELAY_FIRST_PROBE_S: &str = "1";
/// Between two ARP requests for one address.
const RETRANS_MS: &str = "200";
/// An unused STALE entry may be collected after this (seconds); longer
/// than the lab's STALE stage.
const GC_STALE_S: &str = "10";
/// An address on A's network that nobody has.
const ABSENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 9);
/// How often the table is read while waiting for a state.
const POLL: Duration = Duration::from_millis(5);
/// The capture is read until it has been quiet this long.
const QUIET: Duration = Duration::from_millis(30);
/// At most this many frames are read per stage.
const MOST_FRAMES: usize = 64;
/// ETH_P_ALL: a packet socket bound to one EtherType sees only the frames
/// that arrive; A's own requests are seen only by a tap on every protocol.
const ETH_P_ALL: u16 = 0x0003;
/// The bound on receives (each one that matters has its answer queued).
const BOUND: Duration = Duration::from_secs(1);
/// How long the socket that is not told of the failure waits.
const UNTOLD: Duration = Duration::from_millis(300);

/// `ip neigh show dev veth-a` inside A, IPv4 entries in any state.
fn neighbours(a: &Host) -> Result<Vec<Neighbour>, LabError> {
    let name = a.ifname().parse().map_err(|err: String| LabError::Call {
        what: "interface name".into(),
        source: io::Error::new(io::ErrorKind::InvalidInput, err),
    })?;
    let query = Query {
        v4: true,
        v6: false,
        interface: Some(name),
        states: StateFilter::All,
    };
    inside(a, || table::read(&query))?.map_err(|err| LabError::Call {
        what: "reading A's neighbour table (RTM_GETNEIGH)".into(),
        source: io::Error::other(err.to_string()),
    })
}

/// The entry for `address`, if A has one.
fn entry(table: &[Neighbour], address: Ipv4Addr) -> Option<&Neighbour> {
    table.iter().find(|n| n.address == IpAddr::V4(address))
}

/// `REACHABLE lladdr 02:…`, `INCOMPLETE`, `no entry`.
fn entry_text(entry: Option<&Neighbour>) -> String {
    match entry {
        None => "no entry".into(),
        Some(n) => {
            let states: Vec<&str> = n.state.iter().map(|s| s.name()).collect();
            match &n.mac {
                Some(mac) => format!("{} lladdr {mac}", states.join(",")),
                None => states.join(","),
            }
        }
    }
}

fn table_text(table: &[Neighbour]) -> String {
    if table.is_empty() {
        return "empty".into();
    }
    table
        .iter()
        .map(|n| format!("{} {}", n.address, entry_text(Some(n))))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads A's table once and records it.
fn look(t: &mut Transcript<'_>, a: &Host, when: &str) -> Result<Vec<Neighbour>, LabError> {
    let found = neighbours(a)?;
    t.observe(
        "ip",
        format!("neigh show dev {} (in A), {when}", a.ifname()),
        table_text(&found),
    )?;
    Ok(found)
}

/// Reads A's entry for `address` every [`POLL`] until `done` holds of its
/// states or `limit` has passed, recording every state it passes through
/// with the time since `since`. Returns the states seen in order and
/// whether `done` was reached.
fn follow(
    t: &mut Transcript<'_>,
    a: &Host,
    address: Ipv4Addr,
    since: Instant,
    limit: Duration,
    done: impl Fn(&[State]) -> bool,
) -> Result<(Vec<State>, Option<Neighbour>, bool), LabError> {
    let mut seen: Vec<State> = Vec::new();
    let mut last: Option<String> = None;
    loop {
        let table = neighbours(a)?;
        let now = entry(&table, address).cloned();
        let text = entry_text(now.as_ref());
        if last.as_deref() != Some(text.as_str()) {
            t.observe(
                "ip",
                format!(
                    "neigh show {address} dev {} (in A), {} on",
                    a.ifname(),
                    duration_text(since.elapsed())
                ),
                text.clone(),
            )?;
            last = Some(text);
            for state in now.iter().flat_map(|n| n.state.iter()) {
                if seen.last() != Some(state) {
                    seen.push(*state);
                }
            }
        }
        let states = now.as_ref().map(|n| n.state.clone()).unwrap_or_default();
        if done(&states) {
            return Ok((seen, now, true));
        }
        if since.elapsed() >= limit {
            return Ok((seen, now, false));
        }
        std::thread::sleep(POLL);
    }
}

/// Every ARP frame the tap holds, until it has been quiet for [`QUIET`]:
/// whether A sent it, and the frame decoded.
fn drain(tap: &mut LinkSocket) -> io::Result<Vec<(bool, ArpFrame)>> {
    let mut frames = Vec::new();
    for _ in 0..MOST_FRAMES {
        let Some(frame) = tap.recv_until(Instant::now() + QUIET, &[])? else {
            break;
        };
        if frame.truncated {
            continue;
        }
        if let Ok(arp) = ArpFrame::parse(frame.bytes) {
            frames.push((frame.outgoing, arp));
        }
    }
    Ok(frames)
}

/// `request (sent by A, to ff:ff:ff:ff:ff:ff): who has 10.77.0.2? tell 10.77.0.1 at 02:…`.
fn frame_text(outgoing: bool, frame: &ArpFrame) -> String {
    let direction = if outgoing { "sent by A" } else { "received" };
    match frame.op {
        Op::Request => format!(
            "request ({direction}, Ethernet {} -> {}): who has {}? tell {} (sender {} {}, target {} {})",
            frame.eth_source,
            frame.eth_destination,
            frame.target_ip,
            frame.sender_ip,
            frame.sender_mac,
            frame.sender_ip,
            frame.target_mac,
            frame.target_ip
        ),
        Op::Reply => format!(
            "reply ({direction}, Ethernet {} -> {}): {} is at {} (target {} {})",
            frame.eth_source,
            frame.eth_destination,
            frame.sender_ip,
            frame.sender_mac,
            frame.target_mac,
            frame.target_ip
        ),
    }
}

/// Reads the tap and records each ARP frame.
fn record_capture(
    t: &mut Transcript<'_>,
    tap: &mut LinkSocket,
) -> Result<Vec<(bool, ArpFrame)>, LabError> {
    let fd = tap.as_fd().as_raw_fd();
    let frames = t
        .call(
            Actor::Netdx,
            "recvfrom",
            format!("fd {fd} (AF_PACKET in A), until quiet for 30 ms"),
            || drain(tap),
            |frames| format!("{} ARP frame(s)", frames.len()),
        )
        .need("reading the capture")?;
    for (i, (outgoing, frame)) in frames.iter().enumerate() {
        t.observe(
            "arp",
            format!("captured frame {} of {}", i + 1, frames.len()),
            frame_text(*outgoing, frame),
        )?;
    }
    Ok(frames)
}

/// A host's MAC, read over rtnetlink inside it (`ip link show IFNAME`).
fn mac_of(t: &mut Transcript<'_>, host: &Host, name: &str) -> Result<Mac, LabError> {
    let ifname = host.ifname().to_string();
    let iface = ifname.parse().map_err(|err: String| LabError::Call {
        what: "interface name".into(),
        source: io::Error::new(io::ErrorKind::InvalidInput, err),
    })?;
    let link = inside(host, || EthernetLink::open(&iface))?.map_err(|err| LabError::Call {
        what: format!("reading {ifname} in {name}"),
        source: io::Error::other(err.to_string()),
    })?;
    t.observe(
        "ip",
        format!("link show {ifname} (in {name})"),
        format!("link/ether {}", link.mac),
    )?;
    Ok(link.mac)
}

fn has(states: &[State], state: State) -> bool {
    states.contains(&state)
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let pair = hosts::pair(t, 1500)?;
    let (a, b) = (&pair.a, &pair.b);
    let neigh = |name: &str| format!("net/ipv4/neigh/{}/{name}", a.ifname());
    hosts::sysctl(
        t,
        (a, "A"),
        &neigh("base_reachable_time_ms"),
        BASE_REACHABLE_MS,
    )?;
    t.note("an entry stays REACHABLE a random 1.1 to 3.3 s after B last confirmed it (30 s by default)");
    hosts::sysctl(
        t,
        (a, "A"),
        &neigh("delay_first_probe_time"),
        DELAY_FIRST_PROBE_S,
    )?;
    hosts::sysctl(t, (a, "A"), &neigh("retrans_time_ms"), RETRANS_MS)?;
    t.note("an ARP request every 200 ms while B does not answer (1 s by default)");
    hosts::sysctl(t, (a, "A"), &neigh("gc_stale_time"), GC_STALE_S)?;
    let b_mac = mac_of(t, b, "B")?;
    let a_mac = mac_of(t, a, "A")?;

    let receiver = hosts::socket(t, Actor::Receiver, (b, "B"), false, false)?;
    calls::bind(t, Actor::Receiver, &receiver, SocketAddr::from((b.v4(), 0))).need("bind")?;
    calls::receive_timeout(t, Actor::Receiver, &receiver, BOUND)?;
    t.note("B listens, so that it answers nothing at the UDP layer: only ARP");
    let to = calls::local(&receiver).unwrap_or(SocketAddr::from((b.v4(), 0)));
    let ifindex = a.ifindex();
    let mut tap = t.must(
        Actor::Netdx,
        "socket",
        format!(
            "AF_PACKET, SOCK_RAW, ETH_P_ALL; bound to {} (in A)",
            a.ifname()
        ),
        || {
            inside(a, || LinkSocket::open(ifindex, ETH_P_ALL, "lab arp"))
                .map_err(|err| io::Error::other(err.to_string()))?
                .map_err(|err| io::Error::other(err.to_string()))
        },
        |tap| format!("fd {}", tap.as_fd().as_raw_fd()),
    )?;
    t.note("a tap on A's veth end: every frame A sends or receives (bound to ETH_P_ARP it would see only those that arrive, not A's own requests); netdx keeps the ARP ones (EtherType 0x0806)");

    let empty = look(t, a, "before anything is sent")?;
    let started_empty = empty.is_empty();

    // 1. The first datagram: resolve B.
    let sender = hosts::socket(t, Actor::Sender, (a, "A"), false, false)?;
    calls::sendto(t, Actor::Sender, &sender, b"hello B", to).need("sendto")?;
    let sent = Instant::now();
    t.note("A does not know B's MAC: the datagram waits in the entry's queue while A broadcasts a request");
    let (first, learnt, reached) = follow(t, a, b.v4(), sent, Duration::from_secs(2), |states| {
        has(states, State::Reachable)
    })?;
    let caught_incomplete = first.first() == Some(&State::Incomplete);
    t.note(if caught_incomplete {
        "caught: INCOMPLETE while the request was out, then REACHABLE once B answered".to_string()
    } else if reached {
        "too fast to catch: the first look, right after sendto() returned, already found REACHABLE — over a veth pair B's reply arrives within the sendto() call itself (INCOMPLETE shows below, with a host that never answers)".to_string()
    } else {
        "B's entry did not become REACHABLE".to_string()
    });
    calls::recv(t, Actor::Receiver, &receiver, 100).need("recv")?;
    let learnt_mac = learnt
        .as_ref()
        .and_then(|n| n.mac.as_deref())
        .and_then(|m| m.parse::<Mac>().ok());
    let resolution = record_capture(t, &mut tap)?;
    let request = resolution.iter().find(|(out, f)| {
        *out && f.op == Op::Request && f.target_ip == b.v4() && f.eth_destination == Mac::BROADCAST
    });
    let reply = resolution
        .iter()
        .find(|(out, f)| !*out && f.op == Op::Reply && f.sender_ip == b.v4());
    let macs_agree = reply.is_some_and(|(_, f)| f.sender_mac == b_mac && f.target_mac == a_mac)
        && learnt_mac == Some(b_mac);
    t.note(if macs_agree {
        format!(
            "the reply's sender MAC, the table's lladdr and B's interface address are one: {b_mac}"
        )
    } else {
        format!(
            "the MACs disagree or are missing: B's interface has {b_mac}, the table {learnt_mac:?}"
        )
    });

    // 2. Left alone, the entry goes STALE.
    let (aged, _, stale) = follow(t, a, b.v4(), sent, Duration::from_secs(5), |states| {
        has(states, State::Stale)
    })?;
    t.note(if stale {
        "no confirmation within the reachable time: STALE — B's MAC is still used, but will be checked when it is"
    } else {
        "the entry did not go STALE in time"
    });
    let went_stale = stale && !has(&aged, State::Delay);

    // 3. Used again: DELAY, then a unicast probe, then REACHABLE.
    calls::sendto(t, Actor::Sender, &sender, b"still there?", to).need("sendto")?;
    let reused = Instant::now();
    t.note("a STALE entry is used at once (the datagram leaves), and goes to DELAY: UDP never confirms that B is alive, so after delay_first_probe_time A probes");
    let (rechecked, _, confirmed) =
        follow(t, a, b.v4(), reused, Duration::from_secs(3), |states| {
            has(states, State::Reachable)
        })?;
    calls::recv(t, Actor::Receiver, &receiver, 100).need("recv")?;
    let delayed = rechecked.first() == Some(&State::Delay);
    let probed_seen = has(&rechecked, State::Probe);
    t.note(match (delayed, probed_seen, confirmed) {
        (true, true, true) => "DELAY, then PROBE (a unicast request straight to B's known MAC), then REACHABLE".to_string(),
        (true, false, true) => "DELAY, then REACHABLE: the PROBE stage lasted only as long as B took to answer, too short for a look to fall into it (the unicast request below shows it happened)".to_string(),
        _ => format!("states seen: {}", rechecked.iter().map(|s| s.name()).collect::<Vec<_>>().join(" → ")),
    });
    let recheck = record_capture(t, &mut tap)?;
    let unicast_probe = recheck.iter().any(|(out, f)| {
        *out && f.op == Op::Request && f.target_ip == b.v4() && f.eth_destination == b_mac
    });
    let reanswered = recheck
        .iter()
        .any(|(out, f)| !*out && f.op == Op::Reply && f.sender_mac == b_mac);
    t.note(if unicast_probe {
        "this time the request went to B's MAC, not to broadcast: A only checks what it believes"
    } else {
        "no unicast probe was captured"
    });

    // 4. A host that is not there.
    let lost = hosts::socket(t, Actor::Sender, (a, "A"), false, false)?;
    calls::receive_timeout(t, Actor::Sender, &lost, UNTOLD)?;
    let nowhere = SocketAddr::from((ABSENT, 9));
    calls::connect(t, Actor::Sender, &lost, nowhere).need("connect")?;
    t.note("connected, so that the kernel can report what becomes of its datagrams");
    calls::send(t, Actor::Sender, &lost, b"anyone?").need("send")?;
    let tried = Instant::now();
    let (hunt, _, failed) = follow(t, a, ABSENT, tried, Duration::from_secs(3), |states| {
        has(states, State::Failed)
    })?;
    let incomplete_then_failed = hunt.first() == Some(&State::Incomplete) && failed;
    t.note(if incomplete_then_failed {
        "INCOMPLETE for three unanswered broadcast requests (mcast_solicit 3, retrans_time_ms apart), then FAILED: the queued datagram is dropped, and A's kernel sends itself an ICMP host unreachable for it"
    } else {
        "the absent host's entry did not go INCOMPLETE, then FAILED"
    });
    let untold = calls::recv(t, Actor::Sender, &lost, 100)?;
    let soft = failed_with(&untold, libc::EAGAIN);
    t.note(match &untold {
        Err(_) if soft => "not told: host unreachable is a soft error (RFC 1122: it may pass), which a UDP socket hears of only with IP_RECVERR; recv() just times out".to_string(),
        Err(err) => format!("recv() failed with {}", super::errno_parts(err).0),
        Ok(data) => format!("recv() returned {} bytes", data.len()),
    });
    calls::setsockopt(t, Actor::Sender, &lost, "IP_RECVERR", Value::Bool(true))?;
    calls::receive_timeout(t, Actor::Sender, &lost, BOUND)?;
    calls::send(t, Actor::Sender, &lost, b"anyone now?").need("send")?;
    t.note("the FAILED entry is tried again: a new round of requests");
    let retried = Instant::now();
    let (rehunt, _, refailed) = follow(t, a, ABSENT, retried, Duration::from_secs(3), |states| {
        has(states, State::Failed)
    })?;
    let failed_again = rehunt.first() == Some(&State::Incomplete) && refailed;
    let refused = calls::recv(t, Actor::Sender, &lost, 100)?;
    let unreachable = failed_with(&refused, libc::EHOSTUNREACH);
    t.note(match &refused {
        Err(_) if unreachable => "EHOSTUNREACH: with IP_RECVERR the ICMP error is queued on the socket, and its next call reports it".to_string(),
        Err(err) => format!("recv() failed with {}, not EHOSTUNREACH", super::errno_parts(err).0),
        Ok(data) => format!("recv() returned {} bytes", data.len()),
    });
    let hunt_frames = record_capture(t, &mut tap)?;
    let requests = hunt_frames
        .iter()
        .filter(|(out, f)| *out && f.op == Op::Request && f.target_ip == ABSENT)
        .count();
    let answered = hunt_frames
        .iter()
        .any(|(out, f)| !*out && f.sender_ip == ABSENT);

    let as_expected = started_empty
        && reached
        && macs_agree
        && request.is_some()
        && went_stale
        && delayed
        && confirmed
        && unicast_probe
        && reanswered
        && incomplete_then_failed
        && failed_again
        && unreachable
        && requests >= 1
        && !answered;
    let verdict = if as_expected {
        format!(
            "A learnt B's MAC by ARP, let it go STALE and checked it again through DELAY with a unicast probe; {ABSENT}, which nobody has, ended FAILED, and its connected socket heard EHOSTUNREACH only with IP_RECVERR."
        )
    } else {
        "A's neighbour cache did not go through the textbook's stages; see below.".to_string()
    };
    let text = format!(
        "{verdict} A's neighbour table started {}. The first datagram to B {}; B's reply gave {b_mac}, {}. Left alone, the entry {}; used again it {}{}. For {ABSENT}, nobody answered {requests} broadcast request(s): {}, and the connected socket {}; with IP_RECVERR, after another round, its recv() {}. ARP is why the first packet to a new neighbour is late, why a host that just changed its MAC is unreachable for a while (until the entry is checked again), and why a send can fail with EHOSTUNREACH on a link that is up.",
        if started_empty {
            "empty"
        } else {
            "with entries"
        },
        if caught_incomplete {
            "left A's entry INCOMPLETE while its broadcast request was out, then REACHABLE"
        } else if reached {
            "found its entry REACHABLE at the first look: B's reply beat it"
        } else {
            "did not make the entry REACHABLE"
        },
        if macs_agree {
            "the MAC the table learnt and B's interface address"
        } else {
            "but the MACs did not agree"
        },
        if went_stale {
            "went STALE"
        } else {
            "did not go STALE as expected"
        },
        if delayed && confirmed {
            "went to DELAY and back to REACHABLE"
        } else {
            "did not go through DELAY back to REACHABLE"
        },
        if unicast_probe {
            " after a unicast probe to B's MAC"
        } else {
            ""
        },
        if incomplete_then_failed {
            "its entry went from INCOMPLETE to FAILED"
        } else {
            "its entry did not end FAILED"
        },
        if soft {
            "was not told (host unreachable is a soft error: recv() timed out)"
        } else {
            "was told at once"
        },
        if unreachable {
            "failed with EHOSTUNREACH"
        } else {
            "did not fail with EHOSTUNREACH"
        },
    );
    Ok(Conclusion::new(as_expected, text))
}
