//! `netdx lab fragments`: an IP datagram one byte too big for the link.
//! Over a 1500-byte veth pair, 1472 bytes of UDP fit one IPv4 packet and
//! 1473 do not: with IP_PMTUDISC_DONT the sender's kernel cuts it in two
//! (counted in both namespaces' /proc/net/snmp, and captured in B with an
//! AF_PACKET socket and read field by field with netdx's IPv4 decoder);
//! with IP_PMTUDISC_DO the send fails with EMSGSIZE and IP_MTU says why.
//! Then IPv6, where only the sender ever fragments.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

use socket2::Socket;

use super::hosts::{self, inside};
use super::netns::Host;
use super::{Actor, Conclusion, LabError, Need, Transcript, calls, failed_with};
use crate::net::packet::LinkSocket;
use crate::protostats::{self, Format};
use crate::sockopt::Value;
use crate::wire::ipv4::{self, ETHERTYPE_IPV4, Ipv4Header, PROTO_UDP};

/// The link's MTU.
const MTU: u32 = 1500;
/// The most UDP data one IPv4 packet carries over it: 1500 − 20 − 8.
const FITS_V4: usize = 1472;
/// The most UDP data one IPv6 packet carries over it: 1500 − 40 − 8.
const FITS_V6: usize = 1452;
/// The bound on B's receives (every datagram waited for is already sent).
const BOUND: Duration = Duration::from_secs(2);
/// The capture is read until it has been quiet this long.
const QUIET: Duration = Duration::from_millis(50);
/// At most this many frames are read per datagram (a fragment storm would
/// otherwise keep the capture loop going).
const MOST_FRAMES: usize = 64;

/// The counters the lab follows in each namespace.
const V4_SENDER: [&str; 2] = ["FragCreates", "FragOKs"];
const V4_RECEIVER: [&str; 2] = ["ReasmReqds", "ReasmOKs"];
const V6_SENDER: [&str; 2] = ["FragCreates", "FragOKs"];
const V6_RECEIVER: [&str; 2] = ["ReasmReqds", "ReasmOKs"];

/// One group of counters (`Ip` of /proc/net/snmp, `Ip6` of snmp6) in `host`.
fn counters(host: &Host, v6: bool) -> Result<HashMap<String, i64>, LabError> {
    let (file, path, format, group) = if v6 {
        ("snmp6", "/proc/net/snmp6", Format::Lines, "Ip6")
    } else {
        ("snmp", "/proc/net/snmp", Format::Pairs, "Ip")
    };
    let text = host.read_proc_net(file)?;
    let groups = protostats::parse(&text, format, path).map_err(|err| LabError::Call {
        what: format!("reading {path}"),
        source: io::Error::new(io::ErrorKind::InvalidData, err.to_string()),
    })?;
    Ok(groups
        .into_iter()
        .find(|g| g.name == group)
        .map(|g| g.counters.into_iter().collect())
        .unwrap_or_default())
}

/// Both hosts' counters at one moment.
struct Snapshot {
    a: HashMap<String, i64>,
    b: HashMap<String, i64>,
}

fn snapshot(a: &Host, b: &Host, v6: bool) -> Result<Snapshot, LabError> {
    Ok(Snapshot {
        a: counters(a, v6)?,
        b: counters(b, v6)?,
    })
}

/// How much `name` grew between two readings.
fn delta(before: &HashMap<String, i64>, after: &HashMap<String, i64>, name: &str) -> i64 {
    after.get(name).copied().unwrap_or(0) - before.get(name).copied().unwrap_or(0)
}

/// The counters' growth across one send: (A's, B's), in the order named.
struct Deltas {
    a: Vec<(&'static str, i64)>,
    b: Vec<(&'static str, i64)>,
}

impl Deltas {
    fn of(&self, name: &str) -> (i64, i64) {
        let find =
            |list: &[(&str, i64)]| list.iter().find(|(n, _)| *n == name).map_or(0, |(_, d)| *d);
        (find(&self.a), find(&self.b))
    }
}

/// Records the counters' growth since `before` (`file` and `group` name them).
fn record_deltas(
    t: &mut Transcript<'_>,
    hosts: (&Host, &Host),
    before: &Snapshot,
    v6: bool,
) -> Result<Deltas, LabError> {
    let after = snapshot(hosts.0, hosts.1, v6)?;
    let (sender, receiver, file, prefix) = if v6 {
        (V6_SENDER, V6_RECEIVER, "/proc/net/snmp6", "Ip6")
    } else {
        (V4_SENDER, V4_RECEIVER, "/proc/net/snmp", "")
    };
    // Both sides' four counters, so that "the receiver fragments nothing" is seen too.
    let names: Vec<&'static str> = sender.iter().chain(receiver.iter()).copied().collect();
    let growth = |side_before, side_after| -> Vec<(&'static str, i64)> {
        names
            .iter()
            .map(|name| (*name, delta(side_before, side_after, name)))
            .collect()
    };
    let deltas = Deltas {
        a: growth(&before.a, &after.a),
        b: growth(&before.b, &after.b),
    };
    let show = |list: &[(&str, i64)]| {
        list.iter()
            .map(|(name, d)| format!("{prefix}{name} +{d}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    t.observe(
        file,
        format!(
            "{} counters in A and in B, before and after",
            if v6 { "Ip6" } else { "Ip:" }
        ),
        format!("A: {}; B: {}", show(&deltas.a), show(&deltas.b)),
    )?;
    Ok(deltas)
}

/// The IPv4 packets from `from` to `to` the capture holds, read until it
/// has been quiet for [`QUIET`].
fn drain(tap: &mut LinkSocket, from: Ipv4Addr, to: Ipv4Addr) -> io::Result<Vec<Ipv4Header>> {
    let mut packets = Vec::new();
    for _ in 0..MOST_FRAMES {
        let Some(frame) = tap.recv_until(Instant::now() + QUIET, &[])? else {
            break;
        };
        if frame.outgoing || frame.truncated {
            continue;
        }
        if let Ok((header, _)) = ipv4::parse_frame(frame.bytes)
            && header.protocol == PROTO_UDP
            && header.source == from
            && header.destination == to
        {
            packets.push(header);
        }
    }
    Ok(packets)
}

/// `id 0x1a2b, DF 0, MF 1, offset 0 (byte 0), total length 1500`.
fn fields(header: &Ipv4Header) -> String {
    format!(
        "id 0x{:04x}, DF {}, MF {}, fragment offset {} (byte {}), total length {} ({} bytes after the header)",
        header.identification,
        u8::from(header.dont_fragment),
        u8::from(header.more_fragments),
        header.fragment_offset,
        header.fragment_offset_bytes(),
        header.total_length,
        usize::from(header.total_length).saturating_sub(usize::from(header.ihl) * 4),
    )
}

/// Reads what B's capture saw of the last datagram, one observation per packet.
fn record_capture(
    t: &mut Transcript<'_>,
    tap: &mut LinkSocket,
    from: Ipv4Addr,
    to: Ipv4Addr,
) -> Result<Vec<Ipv4Header>, LabError> {
    let fd = tap.as_fd().as_raw_fd();
    let packets = t
        .call(
            Actor::Netdx,
            "recvfrom",
            format!("fd {fd} (AF_PACKET in B), until quiet for 50 ms"),
            || drain(tap, from, to),
            |packets| format!("{} IPv4 packet(s) from {from} to {to}", packets.len()),
        )
        .need("reading the capture")?;
    for (i, header) in packets.iter().enumerate() {
        t.observe(
            "ipv4",
            format!("captured packet {} of {}", i + 1, packets.len()),
            fields(header),
        )?;
    }
    Ok(packets)
}

/// Two packets that are the two halves of one datagram, read off the wire.
fn two_fragments(packets: &[Ipv4Header], data: usize) -> bool {
    let [first, second] = packets else {
        return false;
    };
    let first_data = usize::from(first.total_length).saturating_sub(usize::from(first.ihl) * 4);
    let second_data = usize::from(second.total_length).saturating_sub(usize::from(second.ihl) * 4);
    first.identification == second.identification
        && first.more_fragments
        && first.fragment_offset == 0
        && !second.more_fragments
        && second.fragment_offset_bytes() == first_data
        && first_data + second_data == data + 8
        && usize::try_from(MTU).is_ok_and(|mtu| usize::from(first.total_length) <= mtu)
}

/// A UDP send of `len` bytes from A and what B receives of it: whether it
/// arrived whole.
fn send_and_receive(
    t: &mut Transcript<'_>,
    sender: &Socket,
    receiver: &Socket,
    to: SocketAddr,
    len: usize,
) -> Result<bool, LabError> {
    let data = vec![b'x'; len];
    calls::sendto(t, Actor::Sender, sender, &data, to).need("sendto")?;
    let got = calls::recvfrom(t, Actor::Receiver, receiver, 2 * len)?;
    Ok(matches!(&got, Ok((bytes, _)) if bytes.len() == len))
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let pair = hosts::pair(t, MTU)?;
    let (a, b) = (&pair.a, &pair.b);

    // B listens, and taps its own end of the cable before anything is sent.
    let receiver = hosts::socket(t, Actor::Receiver, (b, "B"), false, false)?;
    calls::bind(t, Actor::Receiver, &receiver, SocketAddr::from((b.v4(), 0))).need("bind")?;
    calls::receive_timeout(t, Actor::Receiver, &receiver, BOUND)?;
    let to = calls::local(&receiver).unwrap_or(SocketAddr::from((b.v4(), 0)));
    let ifindex = b.ifindex();
    let mut tap = t.must(
        Actor::Netdx,
        "socket",
        format!(
            "AF_PACKET, SOCK_RAW, ETH_P_IP; bound to {} (in B)",
            b.ifname()
        ),
        || {
            inside(b, || {
                LinkSocket::open(ifindex, ETHERTYPE_IPV4, "lab fragments")
            })
            .map_err(|err| io::Error::other(err.to_string()))?
            .map_err(|err| io::Error::other(err.to_string()))
        },
        |tap| format!("fd {}", tap.as_fd().as_raw_fd()),
    )?;
    t.note("a tap on B's veth end: every IPv4 packet as it arrives, before B's kernel puts fragments back together");

    let sender = hosts::socket(t, Actor::Sender, (a, "A"), false, false)?;
    calls::setsockopt(
        t,
        Actor::Sender,
        &sender,
        "IP_MTU_DISCOVER",
        Value::Text("IP_PMTUDISC_DONT".into()),
    )?;
    t.note("no path MTU discovery: DF off, and the kernel may fragment what it sends");

    // 1472 bytes: 1472 + 8 (UDP) + 20 (IPv4) = 1500, one packet.
    let before = snapshot(a, b, false)?;
    let fits_arrived = send_and_receive(t, &sender, &receiver, to, FITS_V4)?;
    let fits = record_deltas(t, (a, b), &before, false)?;
    let fits_unfragmented = fits.of("FragCreates").0 == 0 && fits.of("ReasmReqds").1 == 0;
    t.note(if fits_unfragmented {
        "1472 + 8 + 20 = 1500 bytes: one packet, nothing fragmented or reassembled"
    } else {
        "the 1472-byte datagram was fragmented although it fits the MTU"
    });
    let fits_packets = record_capture(t, &mut tap, a.v4(), b.v4())?;
    let fits_one = matches!(&fits_packets[..], [only] if !only.is_fragment() && usize::from(only.total_length) == FITS_V4 + 28);

    // 1473 bytes: one byte over.
    let before = snapshot(a, b, false)?;
    let over_arrived = send_and_receive(t, &sender, &receiver, to, FITS_V4 + 1)?;
    t.note("B's application reads one 1473-byte datagram: reassembly is invisible to it");
    let over = record_deltas(t, (a, b), &before, false)?;
    let (creates, _) = over.of("FragCreates");
    let (oks, _) = over.of("FragOKs");
    let (_, reasm_reqds) = over.of("ReasmReqds");
    let (_, reasm_oks) = over.of("ReasmOKs");
    let counted = creates == 2 && oks == 1 && reasm_reqds == 2 && reasm_oks == 1;
    t.note(if counted {
        "A created 2 fragments of 1 datagram (FragCreates +2, FragOKs +1); B received 2 fragments and reassembled 1 datagram (ReasmReqds +2, ReasmOKs +1)".to_string()
    } else {
        format!("A: FragCreates +{creates}, FragOKs +{oks}; B: ReasmReqds +{reasm_reqds}, ReasmOKs +{reasm_oks} — not the 2/1 and 2/1 of one datagram cut in two")
    });
    let over_packets = record_capture(t, &mut tap, a.v4(), b.v4())?;
    let split = two_fragments(&over_packets, FITS_V4 + 1);
    t.note(if split {
        "one identification for both; the first has MF set and offset 0, the second MF clear and offset 185 × 8 = 1480, where the first one's data ends: that is all B needs to put them back together"
    } else {
        "the capture does not show one datagram cut in two"
    });

    // Path MTU discovery on: DF set, and the kernel refuses instead.
    calls::setsockopt(
        t,
        Actor::Sender,
        &sender,
        "IP_MTU_DISCOVER",
        Value::Text("IP_PMTUDISC_DO".into()),
    )?;
    t.note("DF on every packet: neither this kernel nor a router may fragment");
    let big = vec![b'x'; FITS_V4 + 1];
    let refused = calls::sendto(t, Actor::Sender, &sender, &big, to)?;
    let emsgsize = failed_with(&refused, libc::EMSGSIZE);
    t.note(if emsgsize {
        "EMSGSIZE: the datagram is larger than the path MTU allows, and nothing is sent"
    } else {
        "the send was not refused with EMSGSIZE"
    });
    calls::connect(t, Actor::Sender, &sender, to).need("connect")?;
    let mtu = calls::getsockopt(t, Actor::Sender, &sender, "IP_MTU")?;
    let mtu_read = matches!(&mtu, Ok(Value::Int(n)) if *n == i64::from(MTU));
    t.note("IP_MTU, on a connected socket: the path MTU the kernel knows, and so the largest packet it will send (less 28 bytes of headers for UDP data)");

    // IPv6: no router fragments; only the source may, with a fragment header.
    let receiver6 = hosts::socket(t, Actor::Receiver, (b, "B"), true, false)?;
    calls::bind(
        t,
        Actor::Receiver,
        &receiver6,
        SocketAddr::new(IpAddr::V6(b.v6()), 0),
    )
    .need("bind")?;
    calls::receive_timeout(t, Actor::Receiver, &receiver6, BOUND)?;
    let to6 = calls::local(&receiver6).unwrap_or(SocketAddr::new(IpAddr::V6(b.v6()), 0));
    let sender6 = hosts::socket(t, Actor::Sender, (a, "A"), true, false)?;
    calls::setsockopt(
        t,
        Actor::Sender,
        &sender6,
        "IPV6_DONTFRAG",
        Value::Bool(false),
    )?;
    let before = snapshot(a, b, true)?;
    let fits6_arrived = send_and_receive(t, &sender6, &receiver6, to6, FITS_V6)?;
    let fits6 = record_deltas(t, (a, b), &before, true)?;
    let fits6_whole = fits6.of("FragCreates").0 == 0;
    t.note("1452 + 8 + 40 = 1500 bytes: one packet");
    let before = snapshot(a, b, true)?;
    let over6_arrived = send_and_receive(t, &sender6, &receiver6, to6, FITS_V6 + 1)?;
    let over6 = record_deltas(t, (a, b), &before, true)?;
    let (creates6, b_creates6) = over6.of("FragCreates");
    let (_, reasm6) = over6.of("ReasmOKs");
    let sender_only = creates6 == 2 && reasm6 == 1 && b_creates6 == 0;
    t.note(if sender_only {
        "A, the source, cut it in two (Ip6FragCreates +2) and B put it back (Ip6ReasmOKs +1); in IPv6 only the source may fragment — a router drops the packet and sends ICMPv6 Packet Too Big instead"
            .to_string()
    } else {
        format!("Ip6FragCreates +{creates6} in A, Ip6ReasmOKs +{reasm6} in B: not one datagram cut in two by its source")
    });
    calls::setsockopt(
        t,
        Actor::Sender,
        &sender6,
        "IPV6_DONTFRAG",
        Value::Bool(true),
    )?;
    let big6 = vec![b'x'; FITS_V6 + 1];
    let refused6 = calls::sendto(t, Actor::Sender, &sender6, &big6, to6)?;
    let emsgsize6 = failed_with(&refused6, libc::EMSGSIZE);
    t.note(if emsgsize6 {
        "with IPV6_DONTFRAG the source may not fragment either: EMSGSIZE"
    } else {
        "the send was not refused with EMSGSIZE"
    });

    let v4_ok = fits_arrived && fits_unfragmented && fits_one && over_arrived && counted && split;
    let as_expected = v4_ok
        && emsgsize
        && mtu_read
        && fits6_arrived
        && fits6_whole
        && over6_arrived
        && sender_only
        && emsgsize6;
    let mtu_text = match &mtu {
        Ok(value) => format!("IP_MTU read {value}"),
        Err(err) => format!("IP_MTU failed with {}", super::errno_parts(err).0),
    };
    let first_id = over_packets.first().map(|h| h.identification);
    let text = format!(
        "Over a {MTU}-byte link, {} and {}{}. With IP_PMTUDISC_DO the 1473-byte send {} and {mtu_text}. Over IPv6, {}; with IPV6_DONTFRAG the send {}. Fragmentation keeps a too-large datagram working, but a lost fragment loses all of it and many firewalls drop fragments: protocols over UDP size their datagrams to the path (IP_PMTUDISC_DO, IP_MTU) instead.",
        if fits_arrived && fits_one {
            "1472 bytes of UDP crossed as one packet"
        } else {
            "the 1472-byte datagram did not cross as one packet"
        },
        if counted && over_arrived {
            format!(
                "1473 bytes crossed as {} fragments, counted in A (FragCreates +{creates}) and B (ReasmReqds +{reasm_reqds}, ReasmOKs +{reasm_oks}), and read as one datagram",
                over_packets.len()
            )
        } else {
            format!(
                "1473 bytes did not cross as counted fragments (A FragCreates +{creates}, B ReasmOKs +{reasm_oks})"
            )
        },
        match (split, first_id) {
            (true, Some(id)) => format!(
                "; the capture shows both with identification 0x{id:04x}, the first with MF set, the second at offset 1480"
            ),
            _ => "; the capture did not show the two halves".to_string(),
        },
        if emsgsize {
            "failed with EMSGSIZE"
        } else {
            "was not refused"
        },
        if sender_only {
            "1453 bytes were fragmented by the sender only (Ip6FragCreates +2 in A, none in B) and reassembled in B"
        } else {
            "the sender did not fragment as expected"
        },
        if emsgsize6 {
            "failed with EMSGSIZE"
        } else {
            "was not refused"
        },
    );
    Ok(Conclusion::new(as_expected, text))
}
