//! A namespace "segment": one Ethernet broadcast domain (a bridge in its own
//! namespace) with a prober and any number of hosts attached, each with a
//! MAC the test knows. For arping and neigh scan: who answers ARP and
//! neighbour solicitations, and with which MAC.

use super::Netns;

/// The segment's IPv4 network.
pub const NETWORK: &str = "10.9.20.0/24";
/// The prober's IPv4 address.
pub const PROBER_V4: &str = "10.9.20.1";
/// The prober's IPv6 address.
pub const PROBER_V6: &str = "fd14::1";

/// What one host on the segment holds.
#[derive(Debug, Clone, Default)]
pub struct HostSpec {
    /// IPv4 addresses (prefix /24 is added).
    pub v4: Vec<String>,
    /// IPv6 addresses (prefix /64 is added).
    pub v6: Vec<String>,
    /// Its MAC, when not the one [`Segment::host_mac`] gives.
    pub mac: Option<String>,
}

impl HostSpec {
    /// A host with one IPv4 address.
    pub fn v4(address: &str) -> HostSpec {
        HostSpec {
            v4: vec![address.into()],
            ..HostSpec::default()
        }
    }
}

/// One host on the segment.
pub struct Host {
    /// Its namespace.
    pub ns: Netns,
    /// The MAC of its interface `e0`.
    pub mac: String,
    /// What it holds.
    pub spec: HostSpec,
}

/// The bridge, the prober (interface `p0`) and the hosts.
pub struct Segment {
    /// Runs the tool under test.
    pub prober: Netns,
    /// Holds the bridge.
    pub switch: Netns,
    /// The hosts, in the order given.
    pub hosts: Vec<Host>,
}

impl Segment {
    /// The MAC given to host `index` (from 0).
    pub fn host_mac(index: usize) -> String {
        format!("02:14:00:00:{:02x}:{:02x}", index / 256, index % 256 + 1)
    }

    /// Builds the segment: prober 10.9.20.1/24 and fd14::1/64 on `p0`, then
    /// every host on its own port of the bridge.
    pub fn new(tag: &str, hosts: &[HostSpec]) -> Segment {
        let switch = Netns::new(&format!("{tag}s"));
        switch.ip(&["link", "add", "br0", "type", "bridge", "forward_delay", "0"]);
        switch.ip(&["link", "set", "br0", "type", "bridge", "stp_state", "0"]);
        // A switch is no host: no link-local address of its own that would
        // answer the all-nodes echo.
        switch.sysctl("net.ipv6.conf.br0.disable_ipv6=1");
        switch.ip(&["link", "set", "br0", "up"]);
        let prober = Netns::new(&format!("{tag}p"));
        quiet_v6(&prober);
        attach(&switch, &prober, "p0", "sp", "02:14:ff:ff:ff:01");
        prober.ip(&["addr", "add", &format!("{PROBER_V4}/24"), "dev", "p0"]);
        prober.ip(&[
            "addr",
            "add",
            &format!("{PROBER_V6}/64"),
            "dev",
            "p0",
            "nodad",
        ]);
        prober.ip(&["link", "set", "p0", "up"]);
        let hosts = hosts
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let ns = Netns::new(&format!("{tag}{index}"));
                quiet_v6(&ns);
                let mac = spec.mac.clone().unwrap_or_else(|| Self::host_mac(index));
                attach(&switch, &ns, "e0", &format!("s{index}"), &mac);
                for address in &spec.v4 {
                    ns.ip(&["addr", "add", &format!("{address}/24"), "dev", "e0"]);
                }
                for address in &spec.v6 {
                    ns.ip(&[
                        "addr",
                        "add",
                        &format!("{address}/64"),
                        "dev",
                        "e0",
                        "nodad",
                    ]);
                }
                ns.ip(&["link", "set", "e0", "up"]);
                Host {
                    ns,
                    mac,
                    spec: spec.clone(),
                }
            })
            .collect();
        Segment {
            prober,
            switch,
            hosts,
        }
    }
}

/// No router solicitations, no DAD delays: addresses answer at once.
fn quiet_v6(ns: &Netns) {
    ns.sysctl("net.ipv6.conf.default.router_solicitations=0");
    ns.sysctl("net.ipv6.conf.default.accept_ra=0");
    ns.sysctl("net.ipv6.conf.default.accept_dad=0");
}

/// A veth from `host` (named `inside`, with `mac`) to a port of the bridge.
fn attach(switch: &Netns, host: &Netns, inside: &str, port: &str, mac: &str) {
    switch.ip(&[
        "link",
        "add",
        port,
        "type",
        "veth",
        "peer",
        "name",
        inside,
        "netns",
        host.name(),
    ]);
    switch.ip(&["link", "set", port, "master", "br0", "up"]);
    host.ip(&["link", "set", inside, "address", mac]);
}
