//! Test hosts: named network namespaces with veth links, addresses, MTU and
//! link state, removed on drop.

use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Prefix of every namespace the tests create; stale ones are swept by it.
/// `NETDX_TEST_NETNS_PREFIX` replaces it, so runs that share a machine
/// (several checkouts at once) neither collide nor sweep each other's.
fn prefix() -> String {
    std::env::var("NETDX_TEST_NETNS_PREFIX").unwrap_or_else(|_| "netdx-t-".to_string())
}

/// A network namespace acting as one test host. Dropping it kills whatever
/// still runs inside and deletes it (and with it, its interfaces).
pub struct Netns {
    name: String,
    children: Vec<Child>,
}

impl Netns {
    /// Creates a fresh namespace with its loopback up. `tag` shows up in the
    /// name so a leftover namespace says which test made it.
    pub fn new(tag: &str) -> Netns {
        let prefix = prefix();
        sweep_stale(&prefix);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(10)
            .collect();
        let name = format!("{prefix}{}-{n}-{tag}", std::process::id());
        run_ok("ip", &["netns", "add", &name]);
        let ns = Netns {
            name,
            children: Vec::new(),
        };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n NAME args…`, asserting success; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        let out = run_ok("ip", &full);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A command that runs `program args…` inside the namespace.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", &self.name, program])
            .args(args);
        command.env_remove("NO_COLOR");
        command
    }

    /// Runs `program args…` inside the namespace and waits for it.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program, args)
            .output()
            .unwrap_or_else(|err| panic!("running {program} in {}: {err}", self.name))
    }

    /// Runs a shell snippet inside the namespace, asserting success; returns stdout.
    pub fn sh(&self, script: &str) -> String {
        let out = self.run("sh", &["-c", script]);
        assert!(
            out.status.success(),
            "`{script}` failed in {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls until something listens on TCP `port` in the namespace.
    pub fn wait_listening(&self, port: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while self
            .sh(&format!("ss -Hltn 'sport = :{port}'"))
            .trim()
            .is_empty()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "nothing listens on {port} in {}",
                self.name
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Runs the netdx binary under test inside the namespace.
    pub fn netdx(&self, args: &[&str]) -> Output {
        self.run(super::netdx_bin(), args)
    }

    /// Runs `netdx --json args…` inside the namespace: its exit code and the
    /// JSON document it printed (the test fails if stdout is not JSON).
    pub fn netdx_json(&self, args: &[&str]) -> (Option<i32>, serde_json::Value) {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let output = self.netdx(&full);
        let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "not JSON ({err}): {} / {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code(), json)
    }

    /// Starts a long-running program inside the namespace; it is killed when
    /// the namespace drops.
    pub fn spawn(&mut self, program: &str, args: &[&str]) -> u32 {
        let child = self
            .command(program, args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("spawning {program} in {}: {err}", self.name));
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Starts a long-running program inside the namespace and waits until it
    /// prints `ready` on stdout; it is killed when the namespace drops.
    pub fn spawn_ready(&mut self, program: &str, args: &[&str]) -> u32 {
        use std::io::{BufRead, BufReader};
        let mut child = self
            .command(program, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|err| panic!("spawning {program} in {}: {err}", self.name));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the program never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            // A deadline, not a wait: generous because a loaded machine can
            // take seconds to start an interpreter inside a namespace.
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{program} did not get ready in {}", self.name));
        assert_eq!(
            line.trim(),
            "ready",
            "{program} printed {line:?} instead of ready"
        );
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// Creates a veth pair with both ends in this namespace; returns the first end.
    pub fn add_veth(&self, name: &str, peer: &str) -> Link<'_> {
        self.ip(&["link", "add", name, "type", "veth", "peer", "name", peer]);
        Link {
            ns: self,
            name: name.to_string(),
        }
    }

    /// Creates a veth pair from this namespace (`local`) to `other` (`remote`).
    pub fn connect<'a>(
        &'a self,
        local: &str,
        other: &'a Netns,
        remote: &str,
    ) -> (Link<'a>, Link<'a>) {
        self.ip(&[
            "link",
            "add",
            local,
            "type",
            "veth",
            "peer",
            "name",
            remote,
            "netns",
            other.name(),
        ]);
        (
            Link {
                ns: self,
                name: local.to_string(),
            },
            Link {
                ns: other,
                name: remote.to_string(),
            },
        )
    }

    /// A handle on an interface that already exists in this namespace.
    pub fn link(&self, name: &str) -> Link<'_> {
        Link {
            ns: self,
            name: name.to_string(),
        }
    }

    /// Sets a sysctl inside the namespace (`net.ipv4.ip_forward=1` style).
    pub fn sysctl(&self, assignment: &str) {
        self.sh(&format!("sysctl -qw '{assignment}'"));
    }

    /// Reads a file inside the namespace's view of sysfs/procfs.
    pub fn read(&self, path: &str) -> String {
        self.sh(&format!("cat {path}"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        kill_inside(&self.name);
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// One interface in a test namespace; each method applies at once.
pub struct Link<'a> {
    ns: &'a Netns,
    name: String,
}

impl Link<'_> {
    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds an IPv4 address `a.b.c.d/len` with the usual broadcast.
    pub fn addr4(&self, cidr: &str) -> &Self {
        self.ns
            .ip(&["addr", "add", cidr, "brd", "+", "dev", &self.name]);
        self
    }

    /// Adds an IPv4 point-to-point address with a peer.
    pub fn addr4_peer(&self, local: &str, peer_cidr: &str) -> &Self {
        self.ns
            .ip(&["addr", "add", local, "peer", peer_cidr, "dev", &self.name]);
        self
    }

    /// Adds an IPv6 address without duplicate-address detection, so it is usable at once.
    pub fn addr6(&self, cidr: &str) -> &Self {
        self.ns
            .ip(&["-6", "addr", "add", cidr, "dev", &self.name, "nodad"]);
        self
    }

    /// Sets the MTU.
    pub fn mtu(&self, mtu: u32) -> &Self {
        self.ns
            .ip(&["link", "set", &self.name, "mtu", &mtu.to_string()]);
        self
    }

    /// Sets the hardware address.
    pub fn mac(&self, mac: &str) -> &Self {
        self.ns.ip(&["link", "set", &self.name, "address", mac]);
        self
    }

    /// Sets the transmit queue length.
    pub fn txqueuelen(&self, len: u32) -> &Self {
        self.ns
            .ip(&["link", "set", &self.name, "txqueuelen", &len.to_string()]);
        self
    }

    /// Brings the interface up.
    pub fn up(&self) -> &Self {
        self.ns.ip(&["link", "set", &self.name, "up"]);
        self
    }

    /// Takes the interface down.
    pub fn down(&self) -> &Self {
        self.ns.ip(&["link", "set", &self.name, "down"]);
        self
    }
}

fn run_ok(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|err| panic!("running {program}: {err}"));
    assert!(
        out.status.success(),
        "{program} {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Kills every process still running inside namespace `name`.
fn kill_inside(name: &str) {
    let Ok(out) = Command::new("ip").args(["netns", "pids", name]).output() else {
        return;
    };
    for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
}

/// Deletes namespaces left by test processes that no longer exist (a run
/// killed before its destructors ran).
fn sweep_stale(prefix: &str) {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next() else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            kill_inside(name);
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// Two hosts on one link: `client` (10.9.0.1, fd09::1) and `host`
/// (10.9.0.2, fd09::2). The client routes everything else through the host,
/// so the host decides what answers: its own addresses, whole blocks it
/// claims with [`Pair::answer_for`], and blocks it swallows with
/// [`Pair::silence`].
pub struct Pair {
    /// The side that runs the tool under test.
    pub client: Netns,
    /// The far side.
    pub host: Netns,
}

impl Pair {
    /// Client IPv4 address.
    pub const CLIENT_V4: &'static str = "10.9.0.1";
    /// Host IPv4 address.
    pub const HOST_V4: &'static str = "10.9.0.2";
    /// Client IPv6 address.
    pub const CLIENT_V6: &'static str = "fd09::1";
    /// Host IPv6 address.
    pub const HOST_V6: &'static str = "fd09::2";

    /// Builds both namespaces and the link between them.
    pub fn new(tag: &str) -> Pair {
        let client = Netns::new(&format!("{tag}c"));
        let host = Netns::new(&format!("{tag}h"));
        for ns in [&client, &host] {
            ns.sysctl("net.ipv6.conf.default.router_solicitations=0");
            ns.sysctl("net.ipv6.conf.default.accept_ra=0");
        }
        {
            let (c, h) = client.connect("c0", &host, "h0");
            c.addr4("10.9.0.1/24").addr6("fd09::1/64").up();
            h.addr4("10.9.0.2/24").addr6("fd09::2/64").up();
        }
        client.ip(&["route", "add", "default", "via", Self::HOST_V4]);
        client.ip(&["-6", "route", "add", "default", "via", Self::HOST_V6]);
        // Until the kernel's link watcher has seen the carrier (up to a
        // second on a busy machine), a veth end sends through the noop
        // qdisc, which drops everything: wait for both ends to be UP.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        for (ns, dev) in [(&client, "c0"), (&host, "h0")] {
            while !ns.ip(&["-o", "link", "show", dev]).contains("state UP") {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{dev} in {} never came up",
                    ns.name
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        Pair { client, host }
    }

    /// Makes the host answer for every address of `cidr` (a local route).
    pub fn answer_for(&self, cidr: &str) {
        self.host.ip(&["route", "add", "local", cidr, "dev", "lo"]);
    }

    /// Makes the host drop everything sent to `cidr`, silently.
    pub fn silence(&self, cidr: &str) {
        let v6 = cidr.contains(':');
        let mut args = vec![];
        if v6 {
            args.push("-6");
        }
        args.extend_from_slice(&["route", "add", "blackhole", cidr]);
        self.host.ip(&args);
    }
}

/// A routed chain: `client` → `router_a` → `router_b` → `target`, IPv4 and
/// IPv6, forwarding on in both routers, ICMP rate limits off so every probe
/// is answered.
///
/// ```text
/// client 10.9.10.1 ── 10.9.10.2 router_a 10.9.11.1 ── 10.9.11.2 router_b 10.9.12.1 ── 10.9.12.2 target
///        fd0a::1        fd0a::2          fd0b::1        fd0b::2          fd0c::1        fd0c::2
/// ```
pub struct Chain {
    /// Runs the tool under test.
    pub client: Netns,
    /// First hop.
    pub router_a: Netns,
    /// Second hop.
    pub router_b: Netns,
    /// The far end.
    pub target: Netns,
}

impl Chain {
    /// Router A's address facing the client.
    pub const ROUTER_A: &'static str = "10.9.10.2";
    /// Router B's address facing router A.
    pub const ROUTER_B: &'static str = "10.9.11.2";
    /// The target's address.
    pub const TARGET: &'static str = "10.9.12.2";
    /// The target's IPv6 address.
    pub const TARGET_V6: &'static str = "fd0c::2";
    /// Router A's IPv6 address facing the client.
    pub const ROUTER_A_V6: &'static str = "fd0a::2";
    /// Router B's IPv6 address facing router A.
    pub const ROUTER_B_V6: &'static str = "fd0b::2";
    /// The client's IPv6 address.
    pub const CLIENT_V6: &'static str = "fd0a::1";

    /// Builds the four namespaces and the links and routes between them.
    pub fn new(tag: &str) -> Chain {
        let client = Netns::new(&format!("{tag}c"));
        let router_a = Netns::new(&format!("{tag}a"));
        let router_b = Netns::new(&format!("{tag}b"));
        let target = Netns::new(&format!("{tag}t"));
        for ns in [&client, &router_a, &router_b, &target] {
            ns.sysctl("net.ipv6.conf.default.router_solicitations=0");
            ns.sysctl("net.ipv6.conf.default.accept_ra=0");
            ns.sysctl("net.ipv4.icmp_ratelimit=0");
            ns.sysctl("net.ipv6.icmp.ratelimit=0");
            ns.sh("sysctl -qw net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000 || true");
        }
        {
            let (c, a) = client.connect("c0", &router_a, "a0");
            c.addr4("10.9.10.1/24").addr6("fd0a::1/64").up();
            a.addr4("10.9.10.2/24").addr6("fd0a::2/64").up();
            let (a1, b) = router_a.connect("a1", &router_b, "b0");
            a1.addr4("10.9.11.1/24").addr6("fd0b::1/64").up();
            b.addr4("10.9.11.2/24").addr6("fd0b::2/64").up();
            let (b1, t) = router_b.connect("b1", &target, "t0");
            b1.addr4("10.9.12.1/24").addr6("fd0c::1/64").up();
            t.addr4("10.9.12.2/24").addr6("fd0c::2/64").up();
        }
        for router in [&router_a, &router_b] {
            router.sysctl("net.ipv4.ip_forward=1");
            router.sysctl("net.ipv6.conf.all.forwarding=1");
        }
        client.ip(&["route", "add", "default", "via", "10.9.10.2"]);
        client.ip(&["-6", "route", "add", "default", "via", "fd0a::2"]);
        router_a.ip(&["route", "add", "10.9.12.0/24", "via", "10.9.11.2"]);
        router_a.ip(&["-6", "route", "add", "fd0c::/64", "via", "fd0b::2"]);
        router_b.ip(&["route", "add", "10.9.10.0/24", "via", "10.9.11.1"]);
        router_b.ip(&["-6", "route", "add", "fd0a::/64", "via", "fd0b::1"]);
        target.ip(&["route", "add", "default", "via", "10.9.12.1"]);
        target.ip(&["-6", "route", "add", "default", "via", "fd0c::1"]);
        Chain {
            client,
            router_a,
            router_b,
            target,
        }
    }

    /// Resolves IPv6 neighbours along the chain (fresh namespaces take a
    /// second or two to answer their first neighbour solicitation), so the
    /// first probe of a test is not the one that waits for it.
    pub fn warm_up_v6(&self) {
        self.client.sh(&format!(
            "ping -6 -c 1 -W 10 {} >/dev/null",
            Self::TARGET_V6
        ));
    }
}
