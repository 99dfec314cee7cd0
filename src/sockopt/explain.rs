//! `netdx sockopt explain NAME`: what an option does, when to reach for it,
//! what goes wrong with it, and which lab shows it happening.
#![forbid(unsafe_code)]

/// The prose for one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    /// What it does, in more words than the catalog's one line.
    pub what: &'static str,
    /// When to use it.
    pub when: &'static str,
    /// What surprises people.
    pub pitfalls: &'static str,
    /// The `netdx lab` that shows it, if one does.
    pub lab: Option<&'static str>,
}

const fn explained(
    what: &'static str,
    when: &'static str,
    pitfalls: &'static str,
    lab: Option<&'static str>,
) -> Explanation {
    Explanation {
        what,
        when,
        pitfalls,
        lab,
    }
}

/// The explanation of the option named `name` (a catalog name).
pub fn explanation(name: &str) -> Option<Explanation> {
    Some(match name {
        "SO_TYPE" => explained(
            "The socket's type as given to socket(): SOCK_STREAM (a byte stream: TCP, unix stream), SOCK_DGRAM (messages: UDP, unix datagram) or SOCK_RAW (whole IP packets).",
            "Code handed a descriptor it did not create can ask what it is.",
            "Read-only: the type is fixed for the socket's life.",
            None,
        ),
        "SO_DOMAIN" => explained(
            "The address family given to socket(): AF_INET, AF_INET6 or AF_UNIX.",
            "Code handed a descriptor can learn which address structures it needs.",
            "Read-only. An AF_INET6 socket may still carry IPv4 traffic (see IPV6_V6ONLY).",
            Some("v6only"),
        ),
        "SO_PROTOCOL" => explained(
            "The protocol given to socket() (IPPROTO_TCP, IPPROTO_UDP, …); 0 asks for the family's default.",
            "Telling TCP from SCTP or UDP from UDP-Lite on a descriptor you were given.",
            "Read-only.",
            None,
        ),
        "SO_ACCEPTCONN" => explained(
            "Whether listen() has been called: the socket is a listener that accept() takes connections from.",
            "Checking a descriptor handed over by a supervisor (systemd socket activation, inetd) really is a listener.",
            "Read-only; a listener can neither send nor receive data itself.",
            Some("backlog"),
        ),
        "SO_ERROR" => explained(
            "The pending asynchronous error, and reading it clears it. A non-blocking connect() returns EINPROGRESS; once poll() says the socket is writable, SO_ERROR tells whether it connected (0) or failed (ECONNREFUSED, ETIMEDOUT, …).",
            "After every non-blocking connect, and to collect an error an earlier send could not report.",
            "Writable after a non-blocking connect does not mean connected: only SO_ERROR = 0 does. Reading it consumes the error.",
            Some("nonblocking"),
        ),
        "SO_REUSEADDR" => explained(
            "Lets bind() take a local address and port that connections in TIME_WAIT still hold. After a server closes a connection first, its side lingers in TIME_WAIT for 60 s on Linux; without this option a restarted server fails with EADDRINUSE until they expire.",
            "On every TCP server's listening socket, before bind().",
            "It does not let two servers listen on one port (that is SO_REUSEPORT). On Linux, the sockets in TIME_WAIT must have had it too, so set it in the server from the start. On UDP it does let several sockets bind the same port, which can hide a second server.",
            Some("reuseaddr"),
        ),
        "SO_REUSEPORT" => explained(
            "Several sockets may bind the same address and port, if all of them set it and belong to the same user; the kernel spreads incoming connections (TCP) or datagrams (UDP) across them by a hash of the peer's address.",
            "Running one accept loop per thread or per process, each with its own listener, instead of sharing one.",
            "Every socket on the port must set it before bind(), including the first. The spread is by hash, not round robin, and a listener that closes drops the connections queued on it.",
            Some("reuseport"),
        ),
        "SO_KEEPALIVE" => explained(
            "Sends probes on a connection that has been idle for TCP_KEEPIDLE (2 hours by default), TCP_KEEPCNT times TCP_KEEPINTVL apart, and drops it if none is answered, so a peer that vanished (crashed host, pulled cable) is noticed.",
            "Long-lived connections that can sit idle: database pools, SSH, message brokers; together with shorter TCP_KEEPIDLE/INTVL/CNT.",
            "With the defaults a dead peer is found after more than 2 hours. It checks the peer's kernel, not the application: a hung process still answers keepalives.",
            Some("keepalive"),
        ),
        "SO_RCVBUF" => explained(
            "The most the kernel queues for this socket before the application reads it. Linux doubles what you ask for (the other half covers its bookkeeping), caps the request at net.core.rmem_max, and stops tuning the buffer automatically once you have set it.",
            "Raise it for fast, long-distance transfers (bandwidth × RTT) or UDP bursts; set it before connect()/listen() so the TCP window scale is chosen from it.",
            "getsockopt returns twice what you set. Setting it turns off receive autotuning, which usually does better. Above rmem_max it is silently clamped.",
            Some("buffers"),
        ),
        "SO_SNDBUF" => explained(
            "The most the kernel holds of data sent but not yet acknowledged (TCP) or not yet handed to the device (UDP). Linux doubles the request and caps it at net.core.wmem_max; a full send buffer is what makes send() block or fail with EAGAIN.",
            "Rarely: the kernel's autotuning is good. Lowering it shows backpressure sooner.",
            "getsockopt returns twice what you set; setting it turns off send autotuning. send() may write only part of a message when the buffer fills (a partial count): loop until all is sent.",
            Some("buffers"),
        ),
        "SO_RCVLOWAT" => explained(
            "recv() and poll()/epoll readiness wait until at least this many bytes are queued (default 1).",
            "Protocols with fixed-size records, to be woken only when a whole one has arrived.",
            "A recv() with a timeout or non-blocking mode can still return fewer bytes; on UDP it has no effect.",
            None,
        ),
        "SO_RCVTIMEO" => explained(
            "A blocking receive (recv, read, accept) gives up after this long and fails with EAGAIN/EWOULDBLOCK.",
            "Simple blocking clients that must not hang forever on a silent peer.",
            "The error is EAGAIN, the same as non-blocking mode, not ETIMEDOUT. It applies to each call, not to a whole message: a peer trickling one byte at a time never trips it.",
            Some("timeout"),
        ),
        "SO_SNDTIMEO" => explained(
            "A blocking send gives up after this long: with part of the data sent it returns that count, with none it fails with EAGAIN. On Linux it also bounds a blocking connect(), which then fails with EINPROGRESS.",
            "Blocking code that must not hang when the peer stops reading.",
            "A partial count is success: the rest of the message was not sent. Always loop on send() until everything is written.",
            Some("buffers"),
        ),
        "SO_LINGER" => explained(
            "What close() does with unsent data. Off (the default): close() returns at once and the kernel keeps sending in the background. On with a time: close() blocks until the data is acknowledged or the time runs out. On with 0: close() discards the data and resets the connection (RST), skipping TIME_WAIT.",
            "Rarely. on,0 to abort a connection deliberately (a load balancer dropping a client).",
            "on,0 loses data in flight and the peer sees ECONNRESET; using it to dodge TIME_WAIT hides bugs that SO_REUSEADDR fixes properly.",
            Some("linger"),
        ),
        "SO_BROADCAST" => explained(
            "Allows sending datagrams to a broadcast address (255.255.255.255 or a subnet's broadcast).",
            "DHCP, discovery protocols, wake-on-LAN.",
            "Without it, sendto() a broadcast address fails with EACCES.",
            None,
        ),
        "O_NONBLOCK" => explained(
            "A file status flag, set with fcntl(F_SETFL) (or SOCK_NONBLOCK at socket()), not a socket option: calls that would wait fail at once instead — recv/send/accept with EAGAIN, connect with EINPROGRESS.",
            "Event loops (poll, epoll, tokio) that serve many sockets from one thread.",
            "EAGAIN is not an error to report: it means 'try again when poll says ready'. A non-blocking connect's outcome comes later, through SO_ERROR.",
            Some("nonblocking"),
        ),
        "TCP_NODELAY" => explained(
            "Turns off Nagle's algorithm, which holds back a small segment while an earlier one is unacknowledged, to coalesce them. With the peer's delayed ACKs, a write-write-read pattern then stalls for the delayed-ACK timer (about 40 ms on Linux).",
            "Request/response protocols that write a message in pieces, interactive traffic, anything latency-sensitive.",
            "It does not make TCP keep message boundaries, and small writes each become a packet: build a message in a buffer and write it once.",
            Some("nagle"),
        ),
        "TCP_KEEPIDLE" => explained(
            "Seconds a connection must be idle before the first keepalive probe (default 7200).",
            "With SO_KEEPALIVE, to find dead peers in minutes rather than hours.",
            "Does nothing unless SO_KEEPALIVE is on.",
            Some("keepalive"),
        ),
        "TCP_KEEPINTVL" => explained(
            "Seconds between keepalive probes once they start (default 75).",
            "With SO_KEEPALIVE and TCP_KEEPIDLE.",
            "Does nothing unless SO_KEEPALIVE is on.",
            Some("keepalive"),
        ),
        "TCP_KEEPCNT" => explained(
            "Unanswered keepalive probes before the connection is dropped (default 9).",
            "With SO_KEEPALIVE and TCP_KEEPIDLE.",
            "Does nothing unless SO_KEEPALIVE is on.",
            Some("keepalive"),
        ),
        "TCP_MAXSEG" => explained(
            "The maximum segment size TCP uses. Set before connect() it caps the MSS announced to the peer; read after connect() it is the MSS in use, bounded by the route's MTU and the peer's announcement.",
            "Working around broken path-MTU discovery (tunnels that drop ICMP).",
            "Before connect() reading it gives the default (536), not the path's value; the kernel may lower a request.",
            None,
        ),
        "TCP_QUICKACK" => explained(
            "Acknowledge at once instead of delaying ACKs. The kernel switches quick-ack mode on and off by itself, so the setting is not sticky.",
            "Set again after each recv() in request/response code where delayed ACKs hurt.",
            "Reading it back often shows a different value than set: it is a mode, not a setting.",
            Some("nagle"),
        ),
        "TCP_CONGESTION" => explained(
            "The congestion control algorithm for this connection (cubic, reno, bbr, …); the list of allowed ones is net.ipv4.tcp_allowed_congestion_control.",
            "Trying another algorithm for one application without changing the system default.",
            "An algorithm that is not loaded fails with ENOENT; one not in the allowed list needs CAP_NET_ADMIN (EPERM).",
            None,
        ),
        "TCP_USER_TIMEOUT" => explained(
            "Milliseconds transmitted data may stay unacknowledged before the kernel gives up on the connection with ETIMEDOUT (0: the retransmission defaults, up to about 15 minutes).",
            "Noticing a dead peer quickly while data is in flight, where keepalive only covers idle connections.",
            "Too small a value drops connections over a slow but working path.",
            Some("keepalive"),
        ),
        "IP_TTL" => explained(
            "The time to live of outgoing IPv4 packets: each router decrements it, and at 0 the packet is dropped with an ICMP Time Exceeded. traceroute works by raising it one hop at a time.",
            "Tracing paths, limiting how far packets travel.",
            "The default comes from net.ipv4.ip_default_ttl (64). It is per packet, not per connection state.",
            None,
        ),
        "IP_TOS" => explained(
            "The IPv4 TOS byte: 6 bits of DSCP (traffic class for QoS) and 2 of ECN.",
            "Marking traffic for networks that honour DSCP (voice, bulk).",
            "On TCP the kernel manages the ECN bits itself; networks often rewrite or ignore DSCP.",
            None,
        ),
        "IP_MULTICAST_TTL" => explained(
            "The TTL of outgoing multicast datagrams (default 1: the local network only).",
            "Sending multicast beyond the first router.",
            "Separate from IP_TTL, which covers unicast.",
            None,
        ),
        "IP_RECVERR" => explained(
            "Queues ICMP errors and local send errors on the socket's error queue, read with recvmsg(MSG_ERRQUEUE), with the original destination and the reporting router.",
            "Ping and traceroute-like tools, and UDP applications that want to know why a datagram failed.",
            "With it on, a pending error makes poll() report POLLERR; the queue must be drained or the errors pile up.",
            None,
        ),
        "IPV6_V6ONLY" => explained(
            "On: an IPv6 socket handles IPv6 only. Off (Linux's default, net.ipv6.bindv6only=0): a socket bound to [::] also takes IPv4 connections and datagrams, which then show as IPv4-mapped addresses (::ffff:127.0.0.1).",
            "Turn it on to run separate IPv4 and IPv6 sockets on one port; leave it off for a single dual-stack socket.",
            "The default is a system setting, so set it explicitly. Must be set before bind().",
            Some("v6only"),
        ),
        "IPV6_UNICAST_HOPS" => explained(
            "The hop limit of outgoing IPv6 unicast packets, IPv6's TTL (-1 means the route's default).",
            "Tracing IPv6 paths.",
            "Reads as 64 by default, from net.ipv6.conf.*.hop_limit.",
            None,
        ),
        "IPV6_TCLASS" => explained(
            "The traffic class byte of outgoing IPv6 packets: DSCP and ECN, as IP_TOS for IPv4.",
            "QoS marking of IPv6 traffic.",
            "As IP_TOS: networks may rewrite or ignore it.",
            None,
        ),
        "IP_MTU_DISCOVER" => explained(
            "Path MTU discovery for IPv4. IP_PMTUDISC_DO sets DF on every packet and refuses a datagram larger than the path MTU with EMSGSIZE; IP_PMTUDISC_DONT clears DF and lets the kernel (and routers) fragment; WANT (the default for UDP, from net.ipv4.ip_no_pmtu_disc) fragments locally only above the known path MTU.",
            "DO in tools that size their datagrams to the path (tracepath, QUIC, DNS over UDP with a fixed limit); DONT for a protocol that must get through whatever the path.",
            "Fragments are fragile: losing one loses the datagram, and many firewalls drop them. With DO a datagram bigger than the path fails with EMSGSIZE, and the sender must shrink it itself (IP_MTU says to what).",
            Some("fragments"),
        ),
        "IP_MTU" => explained(
            "The path MTU the kernel currently knows for a connected socket's peer: the route's MTU, lowered by ICMP fragmentation-needed messages.",
            "After connect() on a UDP socket with IP_PMTUDISC_DO, to learn how large a datagram may be.",
            "Read-only, and only on a connected socket: otherwise getsockopt fails with ENOTCONN.",
            Some("fragments"),
        ),
        "IPV6_DONTFRAG" => explained(
            "Refuse an IPv6 datagram larger than the path MTU with EMSGSIZE instead of fragmenting it. IPv6 routers never fragment: only the sender may, with a fragment header, and this option stops that too.",
            "UDP protocols that size their datagrams to the path themselves.",
            "Off by default: the kernel then fragments an oversized UDP datagram at the source, and a lost fragment loses all of it.",
            Some("fragments"),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sockopt::CATALOG;

    #[test]
    fn every_option_in_the_catalog_is_explained() {
        for spec in CATALOG {
            assert!(
                explanation(spec.name).is_some(),
                "{} has no explanation",
                spec.name
            );
        }
    }

    #[test]
    fn named_labs_exist() {
        for spec in CATALOG {
            if let Some(lab) = explanation(spec.name).and_then(|e| e.lab) {
                assert!(
                    crate::lab::find(lab).is_some(),
                    "{} names lab {lab}",
                    spec.name
                );
            }
        }
    }
}
