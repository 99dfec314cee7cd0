//! A host to scan: a `prober` namespace and a `target` namespace on one veth
//! link (IPv4 and IPv6), the target holding listeners and iptables rules
//! whose every port has a known answer, and [`ScanTarget::expected`] saying
//! what a scanner must report for each port, as nmap defines it.
//!
//! ```text
//! prober 10.9.20.1 / fd14::1  ── veth ──  target 10.9.20.2 / fd14::2
//! ```
//!
//! Nothing is routed from the root namespace: both ends are new namespaces
//! and the only link is between them, so probes cannot leave.
//!
//! What the target does with each port (the [`Layout`], same for IPv4 and IPv6):
//!
//! | TCP | answer | connect scan | SYN scan |
//! |---|---|---|---|
//! | `tcp_open` | SYN-ACK (a listener) | open, syn-ack | open, syn-ack |
//! | `tcp_drop` | nothing (DROP) | filtered, no-response | filtered, no-response |
//! | `tcp_reset` | RST (REJECT tcp-reset) | closed, conn-refused | closed, reset |
//! | `tcp_port_unreach` | ICMP port unreachable | closed, port-unreach (nmap: conn-refused) | filtered, port-unreach |
//! | `tcp_admin_prohibited` | ICMP admin prohibited | filtered, admin-prohibited | filtered, admin-prohibited |
//! | any other | RST (the kernel) | closed, conn-refused | closed, reset |
//!
//! | UDP | answer | UDP scan |
//! |---|---|---|
//! | `udp_open` | the datagram echoed | open, udp-response |
//! | `udp_silent` | nothing (a socket that never answers) | open\|filtered, no-response |
//! | `udp_drop` | nothing (DROP) | open\|filtered, no-response |
//! | `udp_port_unreach` | ICMP port unreachable (REJECT) | closed, port-unreach |
//! | `udp_admin_prohibited` | ICMP admin prohibited | filtered, admin-prohibited |
//! | any other | ICMP port unreachable (the kernel) | closed, port-unreach |
//!
//! The ICMP answers are subject to the target's ICMP rate limit
//! ([`RateLimit`]); only with [`RateLimit::Off`] is every one of them sent,
//! so only then does `expected` hold for every port at any speed.
#![allow(dead_code)]

use std::fmt;
use std::ops::RangeInclusive;

use super::netns::Netns;

/// The target's ICMP error rate limit.
///
/// `net.ipv4.icmp_ratelimit` (ms between ICMP errors to one peer, default
/// 1000; with the token bucket that is about 1/s, burst 6) and
/// `net.ipv6.icmp.ratelimit` (default 100) are per namespace. So, on the
/// kernels this runs on (6.18: checked, a write inside a namespace leaves
/// the root's value alone), are `net.ipv4.icmp_msgs_per_sec` (default 1000)
/// and `icmp_msgs_burst` (50), the host-wide bucket every ICMP error also
/// draws from: they matter too, since a `-p-` scan asks for thousands of
/// errors a second, so `Off` lifts them as well. On an older kernel where
/// they are global the write fails and is skipped (the root's values then
/// cap the rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// Every ICMP error is sent.
    Off,
    /// The kernel's defaults, what real hosts run.
    KernelDefault,
    /// `icmp_ratelimit` (and IPv6's) set to this many milliseconds; the
    /// host-wide bucket lifted, so this is the only limit. The kernel keeps
    /// it in jiffies, so it reads back rounded (250 ms is 252 at HZ=250).
    Millis(u32),
}

/// Which scan `expected` answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// TCP connect().
    Connect,
    /// TCP half-open SYN.
    Syn,
    /// UDP.
    Udp,
}

/// A port's state, as nmap names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Something answers.
    Open,
    /// Reachable, nothing listening.
    Closed,
    /// A filter stopped the probe or its answer.
    Filtered,
    /// UDP without any answer: open, or filtered, cannot tell.
    OpenFiltered,
}

impl State {
    /// The word nmap and netdx's JSON use.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
            State::Filtered => "filtered",
            State::OpenFiltered => "open|filtered",
        }
    }
}

/// Why a port has its state (the issue's reason words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// SYN-ACK, or connect() succeeded.
    SynAck,
    /// A RST to a SYN scan.
    Reset,
    /// connect() failed with ECONNREFUSED (a RST or an ICMP port unreachable).
    ConnRefused,
    /// ICMP port unreachable.
    PortUnreach,
    /// ICMP communication administratively prohibited.
    AdminProhibited,
    /// Nothing came back.
    NoResponse,
    /// A UDP datagram came back.
    UdpResponse,
}

impl Reason {
    /// The word netdx's JSON uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::SynAck => "syn-ack",
            Reason::Reset => "reset",
            Reason::ConnRefused => "conn-refused",
            Reason::PortUnreach => "port-unreach",
            Reason::AdminProhibited => "admin-prohibited",
            Reason::NoResponse => "no-response",
            Reason::UdpResponse => "udp-response",
        }
    }

    /// The word nmap's `--reason` prints for the same answer in `scan`.
    /// They differ where nmap's connect scan knows only the errno of
    /// connect() and netdx reads the ICMP error itself (IP_RECVERR): a port
    /// unreachable is ECONNREFUSED there, which nmap calls `conn-refused`
    /// as it does a RST; over IPv4 an admin-prohibited is EHOSTUNREACH,
    /// which nmap calls `host-unreach` (over IPv6 it is EACCES, which nmap
    /// calls `admin-prohibited`).
    pub fn nmap_word(self, scan: Scan, ipv6: bool) -> &'static str {
        match (self, scan, ipv6) {
            (Reason::PortUnreach, Scan::Connect, _) => "conn-refused",
            (Reason::AdminProhibited, Scan::Connect, false) => "host-unreach",
            (other, _, _) => other.as_str(),
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the target holds on which ports.
#[derive(Debug, Clone)]
pub struct Layout {
    /// TCP listeners.
    pub tcp_open: Vec<u16>,
    /// Greetings sent on connect, by port (ports among `tcp_open`).
    pub banners: Vec<(u16, String)>,
    /// TCP ports whose SYNs are dropped.
    pub tcp_drop: RangeInclusive<u16>,
    /// TCP ports REJECTed with a RST.
    pub tcp_reset: RangeInclusive<u16>,
    /// TCP ports REJECTed with ICMP port unreachable.
    pub tcp_port_unreach: RangeInclusive<u16>,
    /// TCP ports REJECTed with ICMP admin prohibited.
    pub tcp_admin_prohibited: RangeInclusive<u16>,
    /// UDP ports that answer.
    pub udp_open: Vec<u16>,
    /// UDP ports with a socket that never answers.
    pub udp_silent: Vec<u16>,
    /// UDP ports whose datagrams are dropped.
    pub udp_drop: RangeInclusive<u16>,
    /// UDP ports REJECTed with ICMP port unreachable.
    pub udp_port_unreach: RangeInclusive<u16>,
    /// UDP ports REJECTed with ICMP admin prohibited.
    pub udp_admin_prohibited: RangeInclusive<u16>,
    /// The target's ICMP rate limit.
    pub rate_limit: RateLimit,
}

/// The SSH greeting on port 22 of the default layout.
pub const SSH_BANNER: &str = "SSH-2.0-netdx-fixture\r\n";
/// The SMTP greeting on port 25 of the default layout.
pub const SMTP_BANNER: &str = "220 target.test ESMTP netdx-fixture\r\n";

impl Default for Layout {
    /// The issue's host: 7 open TCP ports, 1,001 dropped, 101 answered with
    /// port unreachable, 51 with admin prohibited (and 100 with a RST);
    /// UDP: 5 answering, 1 silent, 100 dropped, 50 + 50 REJECTed. Rate
    /// limit off.
    fn default() -> Self {
        Layout {
            tcp_open: vec![22, 25, 80, 443, 3306, 8080, 31337],
            banners: vec![(22, SSH_BANNER.into()), (25, SMTP_BANNER.into())],
            tcp_drop: 10000..=11000,
            tcp_reset: 12000..=12099,
            tcp_port_unreach: 20000..=20100,
            tcp_admin_prohibited: 30000..=30050,
            udp_open: vec![7, 53, 123, 161, 40000],
            udp_silent: vec![44000],
            udp_drop: 41000..=41099,
            udp_port_unreach: 42000..=42049,
            udp_admin_prohibited: 43000..=43049,
            rate_limit: RateLimit::Off,
        }
    }
}

/// The prober, the target, and what the target answers.
pub struct ScanTarget {
    /// Where the scanner runs.
    pub prober: Netns,
    /// The host scanned.
    pub target: Netns,
    /// What the target holds.
    pub layout: Layout,
}

impl ScanTarget {
    /// The prober's IPv4 address.
    pub const PROBER_V4: &'static str = "10.9.20.1";
    /// The target's IPv4 address.
    pub const TARGET_V4: &'static str = "10.9.20.2";
    /// The prober's IPv6 address.
    pub const PROBER_V6: &'static str = "fd14::1";
    /// The target's IPv6 address.
    pub const TARGET_V6: &'static str = "fd14::2";

    /// Builds the default layout.
    pub fn new(tag: &str) -> ScanTarget {
        ScanTarget::with(tag, Layout::default())
    }

    /// Builds both namespaces, the link, the rules and the listeners of
    /// `layout`; returns once the listeners are bound and neighbours are
    /// resolved both ways, so the first probe of a test is not the one that
    /// waits for ARP or NDP.
    pub fn with(tag: &str, layout: Layout) -> ScanTarget {
        let prober = Netns::new(&format!("{tag}p"));
        let target = Netns::new(&format!("{tag}t"));
        for ns in [&prober, &target] {
            ns.sysctl("net.ipv6.conf.default.router_solicitations=0");
            ns.sysctl("net.ipv6.conf.default.accept_ra=0");
        }
        {
            let (p, t) = prober.connect("p0", &target, "t0");
            p.addr4("10.9.20.1/24").addr6("fd14::1/64").up();
            t.addr4("10.9.20.2/24").addr6("fd14::2/64").up();
        }
        let fixture = ScanTarget {
            prober,
            target,
            layout,
        };
        fixture.set_rate_limit(fixture.layout.rate_limit);
        fixture.install_rules();
        let mut args = vec![
            super::responder("scan_responder.py"),
            "--tcp".into(),
            join(&fixture.layout.tcp_open),
            "--udp".into(),
            join(&fixture.layout.udp_open),
            "--silent-udp".into(),
            join(&fixture.layout.udp_silent),
        ];
        for (port, text) in &fixture.layout.banners {
            args.push("--banner".into());
            args.push(format!(
                "{port}={}",
                text.replace('\r', "\\r").replace('\n', "\\n")
            ));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut fixture = fixture;
        fixture.target.spawn_ready("python3", &args);
        fixture.warm_up();
        fixture
    }

    /// Sets the target's ICMP rate limit (see [`RateLimit`]).
    pub fn set_rate_limit(&self, limit: RateLimit) {
        let (v4, v6, bucket) = match limit {
            RateLimit::Off => (0, 0, (1_000_000, 1_000_000)),
            RateLimit::KernelDefault => (1000, 100, (1000, 50)),
            RateLimit::Millis(ms) => (ms, ms, (1_000_000, 1_000_000)),
        };
        self.target.sysctl(&format!("net.ipv4.icmp_ratelimit={v4}"));
        self.target.sysctl(&format!("net.ipv6.icmp.ratelimit={v6}"));
        // Per namespace on 6.x kernels; global (and so not ours to set) on older ones.
        self.target.sh(&format!(
            "sysctl -qw net.ipv4.icmp_msgs_per_sec={} net.ipv4.icmp_msgs_burst={} 2>/dev/null || true",
            bucket.0, bucket.1
        ));
    }

    fn install_rules(&self) {
        let l = &self.layout;
        let mut script = String::from("set -e\n");
        for (tool, port_unreach, admin) in [
            ("iptables", "icmp-port-unreachable", "icmp-admin-prohibited"),
            (
                "ip6tables",
                "icmp6-port-unreachable",
                "icmp6-adm-prohibited",
            ),
        ] {
            let rules: [(&str, &RangeInclusive<u16>, String); 7] = [
                ("tcp", &l.tcp_drop, "DROP".into()),
                ("tcp", &l.tcp_reset, "REJECT --reject-with tcp-reset".into()),
                (
                    "tcp",
                    &l.tcp_port_unreach,
                    format!("REJECT --reject-with {port_unreach}"),
                ),
                (
                    "tcp",
                    &l.tcp_admin_prohibited,
                    format!("REJECT --reject-with {admin}"),
                ),
                ("udp", &l.udp_drop, "DROP".into()),
                (
                    "udp",
                    &l.udp_port_unreach,
                    format!("REJECT --reject-with {port_unreach}"),
                ),
                (
                    "udp",
                    &l.udp_admin_prohibited,
                    format!("REJECT --reject-with {admin}"),
                ),
            ];
            for (proto, range, action) in rules {
                if range.is_empty() {
                    continue;
                }
                script.push_str(&format!(
                    "{tool} -w -A INPUT -p {proto} --dport {}:{} -j {action}\n",
                    range.start(),
                    range.end()
                ));
            }
        }
        self.target.sh(&script);
    }

    /// Resolves neighbours both ways (ARP and NDP), so scans start at once.
    fn warm_up(&self) {
        self.prober
            .sh(&format!("ping -c 1 -W 10 {} >/dev/null", Self::TARGET_V4));
        self.prober.sh(&format!(
            "ping -6 -c 1 -W 10 {} >/dev/null",
            Self::TARGET_V6
        ));
    }

    /// What a scanner must report for `port` under `scan` (both families).
    pub fn expected(&self, scan: Scan, port: u16) -> (State, Reason) {
        expected_in(&self.layout, scan, port)
    }

    /// How many of `ports` `expected` puts in each state.
    pub fn expected_counts(
        &self,
        scan: Scan,
        ports: impl IntoIterator<Item = u16>,
    ) -> std::collections::HashMap<State, usize> {
        let mut counts = std::collections::HashMap::new();
        for port in ports {
            *counts.entry(self.expected(scan, port).0).or_default() += 1;
        }
        counts
    }

    /// A few ports of every kind `layout` has for `scan` (the ends of every
    /// range and a port beside each), for checks too slow to run on all 65,535.
    pub fn sample(&self, scan: Scan) -> Vec<u16> {
        let l = &self.layout;
        let (singles, ranges): (Vec<u16>, Vec<&RangeInclusive<u16>>) = match scan {
            Scan::Connect | Scan::Syn => (
                l.tcp_open.clone(),
                vec![
                    &l.tcp_drop,
                    &l.tcp_reset,
                    &l.tcp_port_unreach,
                    &l.tcp_admin_prohibited,
                ],
            ),
            Scan::Udp => (
                [l.udp_open.clone(), l.udp_silent.clone()].concat(),
                vec![&l.udp_drop, &l.udp_port_unreach, &l.udp_admin_prohibited],
            ),
        };
        let mut ports = singles;
        for range in ranges.into_iter().filter(|r| !r.is_empty()) {
            let (lo, hi) = (*range.start(), *range.end());
            ports.extend([
                lo.saturating_sub(1),
                lo,
                lo.saturating_add(1),
                hi,
                hi.saturating_add(1),
            ]);
        }
        ports.retain(|&port| port != 0);
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// What a scanner must report for `port` under `scan` on a target built
/// from `layout` (the tables in the module docs).
pub fn expected_in(layout: &Layout, scan: Scan, port: u16) -> (State, Reason) {
    use Reason::*;
    use State::*;
    let l = layout;
    match scan {
        Scan::Connect | Scan::Syn => {
            let syn = scan == Scan::Syn;
            if l.tcp_open.contains(&port) {
                (Open, SynAck)
            } else if l.tcp_drop.contains(&port) {
                (Filtered, NoResponse)
            } else if l.tcp_port_unreach.contains(&port) {
                if syn {
                    (Filtered, PortUnreach)
                } else {
                    (Closed, PortUnreach)
                }
            } else if l.tcp_admin_prohibited.contains(&port) {
                (Filtered, AdminProhibited)
            } else if syn {
                (Closed, Reset)
            } else {
                (Closed, ConnRefused)
            }
        }
        Scan::Udp => {
            if l.udp_open.contains(&port) {
                (Open, UdpResponse)
            } else if l.udp_silent.contains(&port) || l.udp_drop.contains(&port) {
                (OpenFiltered, NoResponse)
            } else if l.udp_admin_prohibited.contains(&port) {
                (Filtered, AdminProhibited)
            } else {
                (Closed, PortUnreach)
            }
        }
    }
}

fn join(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
