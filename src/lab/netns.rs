//! Two hosts joined by a cable, for the labs that need a real link: a pair
//! of anonymous network namespaces and a veth pair between them.
//!
//! Nothing is named and nothing touches the namespace netdx runs in: each
//! namespace exists only while a [`Host`] (or a socket made inside it) holds
//! it, so the veth pair, its addresses and every sysctl a lab changes vanish
//! with the lab — on Ctrl-C or a crash too, when the kernel closes the
//! process's descriptors.
//!
//! A socket keeps the namespace it was created in for its whole life,
//! whichever thread uses it afterwards: a lab makes its sockets inside
//! [`Host::run`] and then drives them from its own thread.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, State,
};
use nix::sched::CloneFlags;

use crate::netlink::{Conn, NETLINK_ROUTE, NetlinkError};

/// How long a new link may take to report itself up.
const LINK_UP_DEADLINE: Duration = Duration::from_secs(3);

/// Why the lab's hosts could not be built or changed.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// The process may not create namespaces.
    #[error(
        "this lab builds two hosts in network namespaces, which needs CAP_SYS_ADMIN and CAP_NET_ADMIN ({0}); run it as root, e.g. with sudo"
    )]
    Permission(io::Error),
    /// A step of the set-up failed.
    #[error("{what}: {source}")]
    Setup {
        /// The step.
        what: String,
        /// Why.
        source: io::Error,
    },
    /// The kernel refused a link or address change.
    #[error("{what}: {source}")]
    Netlink {
        /// The change.
        what: String,
        /// Why.
        source: NetlinkError,
    },
    /// A link did not come up in time.
    #[error("{0} did not come up within 3 s")]
    LinkDown(String),
}

impl NetnsError {
    fn setup(what: impl Into<String>) -> impl FnOnce(io::Error) -> NetnsError {
        let what = what.into();
        move |source| NetnsError::Setup { what, source }
    }

    fn netlink(what: impl Into<String>) -> impl FnOnce(NetlinkError) -> NetnsError {
        let what = what.into();
        move |source| NetnsError::Netlink { what, source }
    }
}

/// One end of the cable: a namespace, its veth end and its addresses.
#[derive(Debug)]
pub struct Host {
    ns: File,
    ifname: &'static str,
    ifindex: u32,
    v4: Ipv4Addr,
    v6: Ipv6Addr,
}

/// Two hosts on one veth pair: A is 10.77.0.1/24 and fd77::1/64 on
/// `veth-a`, B is 10.77.0.2/24 and fd77::2/64 on `veth-b`.
#[derive(Debug)]
pub struct Pair {
    /// The first host.
    pub a: Host,
    /// The second host.
    pub b: Host,
}

impl Pair {
    /// Builds both namespaces and the veth pair with `mtu` on both ends, up,
    /// addressed (IPv6 without duplicate address detection, so it is usable
    /// at once), and loopback up in each.
    pub fn new(mtu: u32) -> Result<Pair, NetnsError> {
        let ns_a = new_namespace()?;
        let ns_b = new_namespace()?;
        let mut a = Host {
            ns: ns_a,
            ifname: "veth-a",
            ifindex: 0,
            v4: Ipv4Addr::new(10, 77, 0, 1),
            v6: Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1),
        };
        let mut b = Host {
            ns: ns_b,
            ifname: "veth-b",
            ifindex: 0,
            v4: Ipv4Addr::new(10, 77, 0, 2),
            v6: Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2),
        };
        let peer_ns = b.ns.try_clone().map_err(NetnsError::setup("dup"))?;
        a.run(|| create_veth("veth-a", "veth-b", mtu, &peer_ns))??;
        a.ifindex = a.run(|| configure(&a))??;
        b.ifindex = b.run(|| configure(&b))??;
        // Each end has a carrier only once the other is up too.
        a.run(|| wait_up(a.ifindex, a.ifname))??;
        b.run(|| wait_up(b.ifindex, b.ifname))??;
        Ok(Pair { a, b })
    }
}

impl Host {
    /// Runs `f` on a thread inside this host's namespace and returns what it
    /// returns (a panic in `f` carries on in the caller).
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, NetnsError> {
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                nix::sched::setns(&self.ns, CloneFlags::CLONE_NEWNET)
                    .map_err(|errno| NetnsError::Setup {
                        what: "setns".to_string(),
                        source: errno.into(),
                    })
                    .map(|()| f())
            });
            match thread.join() {
                Ok(outcome) => outcome,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Its IPv4 address.
    pub fn v4(&self) -> Ipv4Addr {
        self.v4
    }

    /// Its IPv6 address.
    pub fn v6(&self) -> Ipv6Addr {
        self.v6
    }

    /// Its veth end's name.
    pub fn ifname(&self) -> &str {
        self.ifname
    }

    /// Its veth end's index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sets its veth end up or down (down takes the carrier off both ends).
    pub fn set_link(&self, up: bool) -> Result<(), NetnsError> {
        let what = format!(
            "ip link set {} {}",
            self.ifname,
            if up { "up" } else { "down" }
        );
        self.run(|| set_flags(self.ifindex, up))?
            .map_err(NetnsError::netlink(what))
    }

    /// Writes `value` to `/proc/sys/PATH` in this namespace
    /// (`net/ipv4/ip_local_port_range`).
    pub fn write_sysctl(&self, path: &str, value: &str) -> Result<(), NetnsError> {
        let file = format!("/proc/sys/{path}");
        self.run(|| std::fs::write(&file, value))?
            .map_err(NetnsError::setup(format!("writing {value:?} to {file}")))
    }

    /// Reads `/proc/sys/PATH` in this namespace, trimmed.
    pub fn read_sysctl(&self, path: &str) -> Result<String, NetnsError> {
        let file = format!("/proc/sys/{path}");
        self.run(|| std::fs::read_to_string(&file))?
            .map(|text| text.trim().to_string())
            .map_err(NetnsError::setup(format!("reading {file}")))
    }

    /// This namespace's `/proc/net/FILE` (`snmp`, `snmp6`).
    pub fn read_proc_net(&self, file: &str) -> Result<String, NetnsError> {
        // /proc/net follows the process's first thread; thread-self follows
        // this one, which is inside the namespace.
        let path = format!("/proc/thread-self/net/{file}");
        self.run(|| std::fs::read_to_string(&path))?
            .map_err(NetnsError::setup(format!("reading {path}")))
    }
}

/// A new, empty network namespace, held by the returned descriptor.
fn new_namespace() -> Result<File, NetnsError> {
    std::thread::spawn(|| {
        nix::sched::unshare(CloneFlags::CLONE_NEWNET)
            .map_err(|errno| NetnsError::Permission(errno.into()))?;
        File::open("/proc/thread-self/ns/net").map_err(NetnsError::setup("opening the namespace"))
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `ip link add NAME mtu MTU type veth peer name PEER mtu MTU netns PEER_NS`.
fn create_veth(name: &str, peer: &str, mtu: u32, peer_ns: &File) -> Result<(), NetnsError> {
    let mut peer_message = LinkMessage::default();
    peer_message.attributes = vec![
        LinkAttribute::IfName(peer.to_string()),
        LinkAttribute::Mtu(mtu),
        LinkAttribute::NetNsFd(peer_ns.as_raw_fd()),
    ];
    let mut message = LinkMessage::default();
    message.attributes = vec![
        LinkAttribute::IfName(name.to_string()),
        LinkAttribute::Mtu(mtu),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
        ]),
    ];
    let what = format!("ip link add {name} type veth peer name {peer}");
    let mut conn = Conn::open(NETLINK_ROUTE).map_err(NetnsError::netlink(what.clone()))?;
    conn.change("link", RouteNetlinkMessage::NewLink(message), true)
        .map_err(NetnsError::netlink(what))
}

/// Inside `host`'s namespace: loopback up, the veth end addressed and up.
/// Returns its index.
fn configure(host: &Host) -> Result<u32, NetnsError> {
    let index = nix::net::if_::if_nametoindex(host.ifname).map_err(|errno| NetnsError::Setup {
        what: format!("finding {}", host.ifname),
        source: errno.into(),
    })?;
    let loopback = nix::net::if_::if_nametoindex("lo").map_err(|errno| NetnsError::Setup {
        what: "finding lo".to_string(),
        source: errno.into(),
    })?;
    set_flags(loopback, true).map_err(NetnsError::netlink("ip link set lo up"))?;
    add_address(index, IpAddr::V4(host.v4), 24)?;
    add_address(index, IpAddr::V6(host.v6), 64)?;
    set_flags(index, true).map_err(NetnsError::netlink(format!(
        "ip link set {} up",
        host.ifname
    )))?;
    Ok(index)
}

/// Sets or clears IFF_UP on link `index`.
fn set_flags(index: u32, up: bool) -> Result<(), NetlinkError> {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message.header.flags = if up {
        LinkFlags::Up
    } else {
        LinkFlags::empty()
    };
    message.header.change_mask = LinkFlags::Up;
    Conn::open(NETLINK_ROUTE)?.change("link", RouteNetlinkMessage::SetLink(message), false)
}

/// `ip addr add ADDRESS/PREFIX dev INDEX` (`nodad` for IPv6).
fn add_address(index: u32, address: IpAddr, prefix: u8) -> Result<(), NetnsError> {
    let mut message = AddressMessage::default();
    message.header.index = index;
    message.header.prefix_len = prefix;
    match address {
        IpAddr::V4(_) => {
            message.header.family = netlink_packet_route::AddressFamily::Inet;
            message.attributes.push(AddressAttribute::Local(address));
        }
        IpAddr::V6(_) => {
            message.header.family = netlink_packet_route::AddressFamily::Inet6;
            message
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
    }
    message.attributes.push(AddressAttribute::Address(address));
    let what = format!("ip addr add {address}/{prefix}");
    Conn::open(NETLINK_ROUTE)
        .and_then(|mut conn| conn.change("address", RouteNetlinkMessage::NewAddress(message), true))
        .map_err(NetnsError::netlink(what))
}

/// Polls link `index` until its operational state is up: until then the
/// kernel may still drop what is sent on it.
fn wait_up(index: u32, name: &str) -> Result<(), NetnsError> {
    let deadline = Instant::now() + LINK_UP_DEADLINE;
    let mut conn =
        Conn::open(NETLINK_ROUTE).map_err(NetnsError::netlink(format!("ip link show {name}")))?;
    loop {
        let mut request = LinkMessage::default();
        request.header.index = index;
        let answer: RouteNetlinkMessage = conn
            .request("link", RouteNetlinkMessage::GetLink(request))
            .map_err(NetnsError::netlink(format!("ip link show {name}")))?;
        let up = matches!(&answer, RouteNetlinkMessage::NewLink(link)
            if link.attributes.iter().any(|a| matches!(a, LinkAttribute::OperState(State::Up))));
        if up {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(NetnsError::LinkDown(name.to_string()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    /// Root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) is needed; unprivileged runs
    /// skip, except under CI=true where they must run.
    fn privileged() -> bool {
        if nix::unistd::geteuid().is_root() {
            return true;
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but not root: the namespace tests must run"
        );
        eprintln!("skipping: building namespaces needs root");
        false
    }

    #[test]
    fn a_pair_carries_datagrams_both_ways_and_keeps_its_sysctls_to_itself() {
        if !privileged() {
            return;
        }
        let root_range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
        let pair = Pair::new(1400).unwrap();
        let receiver = pair
            .b
            .run(|| UdpSocket::bind((pair.b.v4(), 0)))
            .unwrap()
            .unwrap();
        let port = receiver.local_addr().unwrap().port();
        let sender = pair
            .a
            .run(|| UdpSocket::bind("0.0.0.0:0"))
            .unwrap()
            .unwrap();
        // Used from this thread, outside both namespaces: still A's socket.
        sender
            .send_to(b"over the cable", (pair.b.v4(), port))
            .unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = receiver.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"over the cable");
        assert_eq!(from.ip(), IpAddr::V4(pair.a.v4()));

        let v6 = pair
            .b
            .run(|| UdpSocket::bind((pair.b.v6(), 0)))
            .unwrap()
            .unwrap();
        let sender6 = pair.a.run(|| UdpSocket::bind("[::]:0")).unwrap().unwrap();
        sender6
            .send_to(b"v6", (pair.b.v6(), v6.local_addr().unwrap().port()))
            .unwrap();
        v6.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        assert_eq!(v6.recv(&mut buf).unwrap(), 2);

        pair.a
            .write_sysctl("net/ipv4/ip_local_port_range", "40000\t40099")
            .unwrap();
        assert_eq!(
            pair.a.read_sysctl("net/ipv4/ip_local_port_range").unwrap(),
            "40000\t40099"
        );
        assert_eq!(
            std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap(),
            root_range,
            "a namespace's sysctl must not change the root namespace's"
        );
        let snmp = pair.b.read_proc_net("snmp").unwrap();
        assert!(snmp.contains("Udp:"), "{snmp}");
        assert!(
            pair.a
                .run(|| nix::net::if_::if_nametoindex("veth-b").is_err())
                .unwrap(),
            "B's end lives in B's namespace only"
        );
    }

    #[test]
    fn a_link_taken_down_reports_down_and_comes_back() {
        if !privileged() {
            return;
        }
        let pair = Pair::new(1500).unwrap();
        pair.b.set_link(false).unwrap();
        let sender = pair
            .a
            .run(|| UdpSocket::bind("0.0.0.0:0"))
            .unwrap()
            .unwrap();
        let receiver = pair
            .b
            .run(|| UdpSocket::bind((pair.b.v4(), 0)))
            .unwrap()
            .unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let _ = sender.send_to(b"lost", receiver.local_addr().unwrap());
        assert!(
            receiver.recv(&mut [0u8; 8]).is_err(),
            "nothing crosses a downed link"
        );
        pair.b.set_link(true).unwrap();
        pair.b
            .run(|| wait_up(pair.b.ifindex(), "veth-b"))
            .unwrap()
            .unwrap();
    }
}
