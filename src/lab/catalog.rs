//! Every lab netdx can run: its name, what it shows, the calls it teaches,
//! its lesson, and the function that runs it.
#![forbid(unsafe_code)]

use super::{
    Conclusion, LabError, Transcript, arp, backlog, buffers, dns_by_hand, fragments, http_by_hand,
    keepalive, linger, nagle, nonblocking, recv, reuseaddr, reuseport, shutdown, sticky, timeout,
    timewait_scale, udp_boundaries, udp_chat, v6only,
};

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
    /// Where it runs, and so whether it needs root.
    pub network: Network,
    pub(super) run: fn(&mut Transcript<'_>) -> Result<Conclusion, LabError>,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab").field("name", &self.name).finish()
    }
}

/// Where a lab's sockets live (JSON: `loopback`, `namespaces`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// This host's loopback: runs unprivileged.
    Loopback,
    /// Two hosts of its own, in network namespaces joined by a veth pair:
    /// needs CAP_SYS_ADMIN and CAP_NET_ADMIN (root), and leaves nothing behind.
    Namespaces,
}

/// Every lab, in the order `netdx lab` lists them.
pub static LABS: &[Lab] = &[
    Lab {
        name: "reuseaddr",
        summary: "restart a server while its old connection sits in TIME_WAIT: EADDRINUSE, then SO_REUSEADDR",
        options: &["SO_REUSEADDR"],
        calls: &["socket", "bind", "listen", "accept", "close"],
        lesson: "The end of a TCP connection that closes first waits in TIME_WAIT for 60 s, still holding its local address and port. A server restarted meanwhile cannot bind its port: bind() fails with EADDRINUSE, though no process has the old socket open. SO_REUSEADDR, set before bind() on the listening socket, lets the new server bind while old connections wait. Expect EADDRINUSE without it, seen beside the TIME_WAIT socket sock_diag lists, and a listening server with it.",
        network: Network::Loopback,
        run: reuseaddr::run,
    },
    Lab {
        name: "reuseport",
        summary: "two listeners on one port with SO_REUSEPORT, and how the kernel spreads connections",
        options: &["SO_REUSEPORT"],
        calls: &["bind", "listen", "connect", "accept"],
        lesson: "SO_REUSEPORT lets several sockets bind the same address and port when every one of them sets it before bind(); the kernel then hashes each new connection to one of the listeners. Expect the second listener refused with EADDRINUSE without the option, and with it connections spread over both listeners, counted.",
        network: Network::Loopback,
        run: reuseport::run,
    },
    Lab {
        name: "sticky",
        summary: "TCP keeps no message boundaries: two sends read as one, a short read; then framing fixes it",
        options: &[],
        calls: &["send", "recv", "MSG_WAITALL"],
        lesson: "TCP is a byte stream: the kernel may hand two send()s to one recv(), or part of one send() to a recv() whose buffer is smaller. Message boundaries must be carried in the data. Expect two sends read as one, a short read, then a length prefix and a delimiter that put the messages back together.",
        network: Network::Loopback,
        run: sticky::run,
    },
    Lab {
        name: "nagle",
        summary: "write-write-read with Nagle's algorithm on and off (TCP_NODELAY), timed",
        options: &["TCP_NODELAY", "TCP_QUICKACK"],
        calls: &["send", "recv", "setsockopt"],
        lesson: "Nagle's algorithm holds a small segment back while earlier data is unacknowledged, and the peer's delayed ACK holds the acknowledgement back: a write-write-read exchange stalls for tens of milliseconds. TCP_NODELAY sends each write at once. Expect the stall measured with Nagle on, and gone with TCP_NODELAY.",
        network: Network::Loopback,
        run: nagle::run,
    },
    Lab {
        name: "udp-boundaries",
        summary: "UDP keeps message boundaries; a datagram larger than the buffer is cut (MSG_TRUNC)",
        options: &[],
        calls: &["send", "recv", "MSG_TRUNC"],
        lesson: "UDP keeps message boundaries: one send() is one datagram, read by one recv(). A datagram larger than the buffer is cut and the rest discarded; MSG_TRUNC makes recv() return its real size. Expect three messages read one by one, a 2000-byte datagram cut to 100 bytes with 2000 reported, and nothing of it left.",
        network: Network::Loopback,
        run: udp_boundaries::run,
    },
    Lab {
        name: "nonblocking",
        summary: "EAGAIN on an empty non-blocking socket, poll() for readiness, EINPROGRESS and SO_ERROR",
        options: &["O_NONBLOCK", "SO_ERROR"],
        calls: &["fcntl", "recv", "poll", "connect", "getsockopt"],
        lesson: "On a non-blocking socket a call that would wait fails instead: recv() with EAGAIN, connect() with EINPROGRESS. poll() sleeps until the socket is ready, and SO_ERROR says how a connect ended. Expect EAGAIN, a poll() that sleeps until data comes, EINPROGRESS, then SO_ERROR 0 for a listener and ECONNREFUSED for a closed port.",
        network: Network::Loopback,
        run: nonblocking::run,
    },
    Lab {
        name: "timeout",
        summary: "SO_RCVTIMEO makes recv() give up; connecting to a listener whose backlog is full times out",
        options: &["SO_RCVTIMEO", "SO_SNDTIMEO"],
        calls: &["setsockopt", "recv", "connect", "poll"],
        lesson: "SO_RCVTIMEO bounds each blocking receive, which then fails with EAGAIN, not ETIMEDOUT; SO_SNDTIMEO bounds a blocking send and, on Linux, a blocking connect(). A listener whose accept queue is full drops new SYNs, so a connect to it gets no answer. Expect EAGAIN after 0.5 s, a connect given up after 1 s, and a poll() that times out.",
        network: Network::Loopback,
        run: timeout::run,
    },
    Lab {
        name: "buffers",
        summary: "a peer that never reads: partial sends, EAGAIN, and the buffer sizes in effect",
        options: &["SO_SNDBUF", "SO_RCVBUF", "SO_SNDTIMEO"],
        calls: &["send", "MSG_DONTWAIT", "getsockopt"],
        lesson: "When the peer stops reading, its receive buffer fills, then the sender's send buffer: a blocking send() with a timeout returns the part it placed, then fails with EAGAIN, and a non-blocking send fails with EAGAIN at once. Expect a partial count, EAGAIN, and the buffer sizes the kernel applied (doubled from what was asked).",
        network: Network::Loopback,
        run: buffers::run,
    },
    Lab {
        name: "shutdown",
        summary: "end of stream (recv returns 0), half-close with shutdown(SHUT_WR), EPIPE and ECONNRESET",
        options: &["SO_LINGER"],
        calls: &["close", "shutdown", "recv", "send"],
        lesson: "recv() returns 0 once the peer has closed: end of stream, not an error. shutdown(SHUT_WR) half-closes: the other side reads end of stream and can still answer. A write to a peer that has closed succeeds once, only queued; the reset that comes back makes the next fail with EPIPE or ECONNRESET. Expect all three.",
        network: Network::Loopback,
        run: shutdown::run,
    },
    Lab {
        name: "backlog",
        summary: "listen(backlog) with a server that never accepts: which connects complete, what happens next",
        options: &["SO_ACCEPTCONN"],
        calls: &["listen", "connect", "poll"],
        lesson: "listen()'s backlog bounds the connections waiting for accept(), not the number of connections. With the queue full, Linux drops new SYNs and the clients retry them, seconds apart. Expect backlog + 1 connects to complete and the rest to stay in SYN-SENT, shown by sock_diag.",
        network: Network::Loopback,
        run: backlog::run,
    },
    Lab {
        name: "v6only",
        summary: "an IPv6 socket on [::] takes IPv4 clients as ::ffff:127.0.0.1 unless IPV6_V6ONLY is on",
        options: &["IPV6_V6ONLY"],
        calls: &["setsockopt", "bind", "connect", "accept"],
        lesson: "An IPv6 socket bound to [::] takes IPv4 clients too, as ::ffff:a.b.c.d addresses, unless IPV6_V6ONLY is on (net.ipv6.bindv6only sets the default). Expect an IPv4 client accepted as ::ffff:127.0.0.1, then refused once IPV6_V6ONLY is set.",
        network: Network::Loopback,
        run: v6only::run,
    },
    Lab {
        name: "recv",
        summary: "what a blocking recv() returns: queued data (fewer bytes than asked), a wait, 0 at end of stream; MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT",
        options: &["SO_RCVTIMEO"],
        calls: &["recv", "MSG_PEEK", "MSG_WAITALL", "MSG_DONTWAIT"],
        lesson: "A blocking recv() ends in one of three ways. With data queued it returns at once, however little: fewer bytes than asked for is normal. With nothing queued and the peer still open it sleeps until data comes, or SO_RCVTIMEO ends it with EAGAIN, or forever. Once the peer has closed it returns 0, end of stream, on every call. MSG_PEEK reads without removing, MSG_WAITALL waits for the full count, MSG_DONTWAIT makes one call non-blocking. Expect each of these, timed.",
        network: Network::Loopback,
        run: recv::run,
    },
    Lab {
        name: "linger",
        summary: "close() with SO_LINGER {on, 0}: the peer gets ECONNRESET instead of 0, and no TIME_WAIT is left on either side",
        options: &["SO_LINGER"],
        calls: &["setsockopt", "close", "recv"],
        lesson: "close() normally sends FIN, and the side that closes first keeps the connection in TIME_WAIT for 60 s so that its late segments cannot be taken for a new connection's on the same ports. With SO_LINGER {on, 0}, close() sends RST instead: anything unsent is thrown away, the peer's recv() fails with ECONNRESET, and no TIME_WAIT is kept. Expect 0 and TIME_WAIT on the closer after a normal close, ECONNRESET and no TIME_WAIT on either side after the abortive one — and why that is no way to be rid of TIME_WAIT.",
        network: Network::Loopback,
        run: linger::run,
    },
    Lab {
        name: "udp-chat",
        summary: "UDP peers with sendto()/recvfrom(): the sender's address with each datagram, a third peer injecting, connect() filtering and ECONNREFUSED",
        options: &[],
        calls: &["sendto", "recvfrom", "connect", "recv"],
        lesson: "UDP has no connections: any socket can send to any address, and each datagram arrives with its sender's address, which is all the receiver learns of who sent it. connect() on a UDP socket fixes its peer: the kernel then drops datagrams from anyone else, and reports an ICMP port unreachable for what it sent as ECONNREFUSED on its next call. Expect sender addresses, an injected datagram, the filter, and ECONNREFUSED where an unconnected socket only times out.",
        network: Network::Loopback,
        run: udp_chat::run,
    },
    Lab {
        name: "fragments",
        summary: "UDP of 1472 vs 1473 bytes over a 1500-byte link: the kernel fragments (snmp counters, the fragments captured and decoded), or with IP_PMTUDISC_DO refuses with EMSGSIZE; IPv6 fragments at the source only",
        options: &["IP_MTU_DISCOVER", "IP_MTU", "IPV6_DONTFRAG"],
        calls: &["sendto", "recvfrom", "setsockopt", "getsockopt"],
        lesson: "An IPv4 packet on a 1500-byte link carries at most 1472 bytes of UDP data (20 bytes of IP header, 8 of UDP). A larger datagram is cut into fragments that share one identification; every fragment but the last has More Fragments set, and each says where its data goes (fragment offset, in 8-byte units); the receiver's kernel puts them back together before any application sees them. With IP_PMTUDISC_DO the packets carry Don't Fragment and the kernel refuses an oversized datagram with EMSGSIZE instead; IP_MTU reads the path MTU. IPv6 routers never fragment: only the source does, unless IPV6_DONTFRAG says not to. Expect 1472 bytes in one packet, 1473 in two (FragCreates +2 in the sender, ReasmOKs +1 in the receiver, the two headers decoded from a capture), EMSGSIZE, IP_MTU 1500, and the same for IPv6 at 1452/1453 bytes.",
        network: Network::Namespaces,
        run: fragments::run,
    },
    Lab {
        name: "keepalive",
        summary: "a peer that vanishes (its link goes down): the idle connection stays ESTABLISHED; SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT probes and ends in ETIMEDOUT; TCP_USER_TIMEOUT for data in flight",
        options: &[
            "SO_KEEPALIVE",
            "TCP_KEEPIDLE",
            "TCP_KEEPINTVL",
            "TCP_KEEPCNT",
            "TCP_USER_TIMEOUT",
        ],
        calls: &["setsockopt", "send", "recv", "poll"],
        lesson: "TCP sends nothing on an idle connection, so a peer that vanishes without a FIN or RST (a crashed host, a pulled cable) goes unnoticed: the socket stays ESTABLISHED for as long as nobody sends. SO_KEEPALIVE makes the kernel probe after TCP_KEEPIDLE seconds of silence, every TCP_KEEPINTVL seconds, and give the connection up with ETIMEDOUT after TCP_KEEPCNT unanswered probes (by default 2 hours, 75 s and 9). Data that is sent is retransmitted instead, for up to about 15 minutes; TCP_USER_TIMEOUT bounds how long it may stay unacknowledged. Expect the plain connection ESTABLISHED throughout, the keepalive timer and tcp_info's probes counting, ETIMEDOUT about idle + intvl × cnt = 4 s after the peer's last segment, and with TCP_USER_TIMEOUT 1.5 s, ETIMEDOUT about 1.5 s after the send, its retransmissions counted.",
        network: Network::Namespaces,
        run: keepalive::run,
    },
    Lab {
        name: "arp",
        summary: "the neighbour cache of a namespace pair: INCOMPLETE, REACHABLE, STALE, DELAY/PROBE, FAILED and EHOSTUNREACH for an absent host; the ARP request and reply captured and decoded",
        options: &["IP_RECVERR"],
        calls: &["sendto", "connect", "send", "recv"],
        lesson: "Before the first IPv4 packet to a neighbour can leave, the kernel must learn its MAC: the entry is INCOMPLETE while a broadcast ARP request is out (the packet waits in its queue), REACHABLE once the reply comes. Unconfirmed for the reachable time (random, around base_reachable_time) it goes STALE: still used, but checked on next use, which puts it in DELAY and then PROBE, a unicast request to the MAC it believes, until the reply makes it REACHABLE again. An address nobody answers for ends FAILED after a few requests, the queued packet is dropped, and the kernel reports host unreachable to its sender: a soft error, which a connected UDP socket hears of only with IP_RECVERR (then its next call fails with EHOSTUNREACH). Expect each state in A's table (read over rtnetlink, with the timers shortened in A's namespace) — INCOMPLETE for B only if a look is quicker than B's reply — the request and reply decoded from a capture with B's MAC in them, and for 10.77.0.9 a silent socket, then EHOSTUNREACH with IP_RECVERR.",
        network: Network::Namespaces,
        run: arp::run,
    },
    Lab {
        name: "dns-by-hand",
        summary: "a DNS query built byte by byte on a UDP socket, the answer's sections and its 0xC00C compression pointer read by hand; a truncated (TC) answer and the retry over TCP with its 2-byte length prefix",
        options: &[],
        calls: &["sendto", "recvfrom", "connect", "send", "recv"],
        lesson: "A DNS query is a 12-byte header (an ID, flags such as RD, four counts), the name as length-prefixed labels ending in a zero byte, then QTYPE and QCLASS: nothing but bytes on a UDP socket. The answer repeats the question and adds records, each naming its owner — usually with a two-byte compression pointer (0xC00C: offset 12, the question's name) instead of the name again. An answer too big for 512 bytes comes with the TC flag and only what fitted; the client asks again over TCP, where every message is preceded by its length in two bytes — the framing of the sticky lab, since a stream has no boundaries. Expect two A records whose names are 0xC00C, a TXT answer cut short with TC, then the whole of it over TCP read as length first and exactly that many bytes, over as many recv()s as it takes, and netdx's own decoders agreeing with the hand walk.",
        network: Network::Namespaces,
        run: dns_by_hand::run,
    },
    Lab {
        name: "http-by-hand",
        summary: "HTTP/1.1 with send() and recv() on a TCP socket: a body read until Content-Length is satisfied, a chunked body decoded by hand, Connection: close and recv() returning 0; then a tiny server answering a browser's request",
        options: &[],
        calls: &["send", "recv", "accept", "close"],
        lesson: "HTTP/1.1 is text on a TCP stream: a request line and header lines, each ending in \\r\\n, then an empty line. Nothing in the stream marks where a response ends, so the reader counts: Content-Length bytes after the head — however many recv()s they take —, or chunks each behind its size in hex until a chunk of size 0, or, after Connection: close, until recv() returns 0. A server is the same on the other side: read until the empty line, answer with a status line, headers and a body of the length it announced. Expect a 10,000-byte body over several 4096-byte recv()s, chunk sizes 0x1a, 0x12c and 0x3e8, recv() returning 0 after Connection: close, and a browser's full set of headers read by a tiny server that sends it a page.",
        network: Network::Namespaces,
        run: http_by_hand::run,
    },
    Lab {
        name: "timewait-scale",
        summary: "thousands of short connections to one server port: TIME_WAIT piling up (sock_diag), EADDRNOTAVAIL with a 200-port ip_local_port_range, and what SO_REUSEADDR, tcp_tw_reuse and connection reuse change",
        options: &["SO_REUSEADDR"],
        calls: &["connect", "close", "send", "recv"],
        lesson: "Every connection the client closes first leaves its end in TIME_WAIT for 60 s, still holding its local port for that destination. A client making a connection per request to one server port therefore uses up the ephemeral ports (net.ipv4.ip_local_port_range), and connect() fails with EADDRNOTAVAIL. SO_REUSEADDR on the client does not help: it is about bind(). net.ipv4.tcp_tw_reuse = 1 lets connect() take over a TIME_WAIT port once that socket has been in TIME_WAIT for tcp_tw_reuse_delay (1 s), with TCP timestamps on — each socket on its own clock, so the ports come back in the order they were closed. Reusing one connection for many requests leaves one TIME_WAIT, and a server that closes first keeps TIME_WAIT itself. Expect 2,000 TIME_WAIT sockets counted as they pile up, exactly 200 connects in a 200-port range, EADDRNOTAVAIL with and without SO_REUSEADDR, connects succeeding again about a second after the oldest close with tcp_tw_reuse (and a burst of 50 once the newest is a second old too), one TIME_WAIT for 1,000 requests, and TIME_WAIT on the server's side when it closes first.",
        network: Network::Namespaces,
        run: timewait_scale::run,
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
