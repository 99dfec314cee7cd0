//! The exporter's YAML configuration: blackbox_exporter's structure
//! (`modules: NAME: {prober, timeout, icmp|tcp|dns|http: {…}}`), so one of
//! its files for those probers loads unchanged, plus netdx's own probers
//! (`tcping`, `echo`, `trace`), `icmp`'s `packets`/`interval`, and two
//! top-level keys of netdx's: `targets_allowed` and `targets` (for
//! `--textfile`).
//!
//! The file is read into a YAML tree and walked by hand rather than
//! deserialised into structs, so that every option netdx does not carry
//! out is found and named in one error (with its path,
//! `modules.http_2xx.http.fail_if_ssl`), never skipped in silence.
#![forbid(unsafe_code)]

mod fields;
mod probers;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

pub use fields::parse_duration;

use ipnet::IpNet;
use serde_norway::{Mapping, Value};

use super::ExporterError;
use fields::{Fields, Problems, one_line, show};
use probers::{
    parse_dns, parse_echo, parse_http, parse_icmp, parse_tcp, parse_tcping, parse_trace,
};

/// Which address family a name should resolve to first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpProtocol {
    /// IPv4 (`ip4`).
    V4,
    /// IPv6 (`ip6`, blackbox's default).
    V6,
}

/// How a module picks the address it probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolve {
    /// The family tried first.
    pub preferred: IpProtocol,
    /// Whether the other family may be used when the first has no address.
    pub fallback: bool,
}

impl Default for Resolve {
    fn default() -> Self {
        Resolve {
            preferred: IpProtocol::V6,
            fallback: true,
        }
    }
}

/// `icmp:` — ICMP echo, blackbox's one packet or netdx's `packets: N`.
#[derive(Debug, Clone, PartialEq)]
pub struct Icmp {
    /// Address choice.
    pub resolve: Resolve,
    /// Where probes leave from.
    pub source: Option<IpAddr>,
    /// Echo data bytes.
    pub payload_size: usize,
    /// IP TTL / hop limit.
    pub ttl: u8,
    /// Echo requests per probe (netdx; blackbox sends one).
    pub packets: u32,
    /// Between two requests (netdx).
    pub interval: Duration,
}

/// `tcp:` — a TCP handshake.
#[derive(Debug, Clone, PartialEq)]
pub struct Tcp {
    /// Address choice.
    pub resolve: Resolve,
    /// Where the connection leaves from.
    pub source: Option<IpAddr>,
}

/// `dns:` — one query.
#[derive(Debug, Clone, PartialEq)]
pub struct Dns {
    /// Address choice for the server.
    pub resolve: Resolve,
    /// TCP instead of UDP.
    pub tcp: bool,
    /// The name asked.
    pub query_name: String,
    /// The type asked (blackbox's default: ANY).
    pub query_type: String,
    /// The class asked (IN).
    pub query_class: String,
    /// The RD bit.
    pub recursion_desired: bool,
    /// Response codes that count as success (NOERROR).
    pub valid_rcodes: Vec<String>,
}

/// `http:` — one request (redirects followed unless told not to).
#[derive(Debug, Clone)]
pub struct Http {
    /// Address choice.
    pub resolve: Resolve,
    /// Status codes that count as success (empty: any 2xx).
    pub valid_status_codes: Vec<u16>,
    /// `HTTP/1.1`, `HTTP/1.0` (empty: any).
    pub valid_http_versions: Vec<String>,
    /// Follow redirects.
    pub follow_redirects: bool,
    /// Fail when the final response came over TLS.
    pub fail_if_ssl: bool,
    /// Fail when it did not.
    pub fail_if_not_ssl: bool,
    /// The method (GET).
    pub method: String,
    /// Extra header fields.
    pub headers: Vec<(String, String)>,
    /// A request body.
    pub body: Option<String>,
    /// Skip certificate verification.
    pub insecure: bool,
    /// Trust these CAs instead of the system's.
    pub ca_file: Option<String>,
    /// The largest body taken.
    pub body_size_limit: Option<u64>,
    /// `fail_if_body_matches_regexp`: a body matching one fails the probe.
    pub fail_if_body_matches: Vec<regex::bytes::Regex>,
    /// `fail_if_body_not_matches_regexp`: a body not matching one fails it.
    pub fail_if_body_not_matches: Vec<regex::bytes::Regex>,
    /// `fail_if_header_matches`: a value matching fails the probe.
    pub fail_if_header_matches: Vec<HeaderMatch>,
    /// `fail_if_header_not_matches`: no value matching fails the probe.
    pub fail_if_header_not_matches: Vec<HeaderMatch>,
}

/// One of blackbox_exporter's header matchers.
#[derive(Debug, Clone)]
pub struct HeaderMatch {
    /// The field's name.
    pub header: String,
    /// The pattern (RE2's syntax, unanchored, as Go's regexp).
    pub regexp: regex::Regex,
    /// Whether a response without the field passes.
    pub allow_missing: bool,
}

/// `tcping:` — netdx's handshake series (`packets` handshakes).
#[derive(Debug, Clone, PartialEq)]
pub struct Tcping {
    /// Address choice.
    pub resolve: Resolve,
    /// Handshakes per probe.
    pub count: u32,
    /// Between two.
    pub interval: Duration,
}

/// `echo:` — netdx's TCP/UDP echo probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Echo {
    /// Address choice.
    pub resolve: Resolve,
    /// UDP instead of TCP.
    pub udp: bool,
    /// Probes per probe run.
    pub count: u32,
    /// Between two.
    pub interval: Duration,
    /// Bytes per probe.
    pub size: usize,
}

/// How trace probes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceMethod {
    /// ICMP echo.
    Icmp,
    /// UDP to high ports (traceroute's default).
    Udp,
    /// TCP SYN.
    Tcp,
}

/// `trace:` — netdx's path walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Address choice.
    pub resolve: Resolve,
    /// Probe method.
    pub method: TraceMethod,
    /// Destination port (UDP/TCP; 0: the method's default).
    pub port: u16,
    /// Last TTL.
    pub max_hops: u8,
    /// Probes per hop.
    pub probes: u8,
}

/// What a module does, with its prober's settings.
#[derive(Debug, Clone)]
pub enum Prober {
    /// ICMP echo.
    Icmp(Icmp),
    /// A TCP connect.
    Tcp(Tcp),
    /// A DNS query.
    Dns(Dns),
    /// An HTTP request.
    Http(Http),
    /// TCP handshakes, ping-style.
    Tcping(Tcping),
    /// Echo-service round trips.
    Echo(Echo),
    /// A traceroute.
    Trace(Trace),
}

impl Prober {
    /// The prober's name as the config spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Prober::Icmp(_) => "icmp",
            Prober::Tcp(_) => "tcp",
            Prober::Dns(_) => "dns",
            Prober::Http(_) => "http",
            Prober::Tcping(_) => "tcping",
            Prober::Echo(_) => "echo",
            Prober::Trace(_) => "trace",
        }
    }
}

/// One module.
#[derive(Debug, Clone)]
pub struct Module {
    /// Its name.
    pub name: String,
    /// The module's own timeout (`None`: the scrape's, as blackbox).
    pub timeout: Option<Duration>,
    /// What it does.
    pub prober: Prober,
    /// The module's YAML, for the debug page.
    pub source: String,
}

/// A target `--textfile` probes on its own schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTarget {
    /// The target.
    pub target: String,
    /// The module.
    pub module: String,
}

/// A loaded configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Modules by name.
    pub modules: BTreeMap<String, Module>,
    /// The networks `/probe` may be sent to (empty: any).
    pub targets_allowed: Vec<IpNet>,
    /// The targets `--textfile` probes.
    pub targets: Vec<ListedTarget>,
}

/// The probers netdx knows, as the config names them.
pub const PROBERS: &[&str] = &["icmp", "tcp", "dns", "http", "tcping", "echo", "trace"];

/// blackbox's probers netdx does not have.
const OTHER_BLACKBOX_PROBERS: &[&str] = &["grpc", "unix", "websocket"];

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ExporterError> {
        let text = std::fs::read_to_string(path).map_err(|source| ExporterError::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text).map_err(|reason| ExporterError::Config {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// The module `name`, if configured.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.get(name)
    }

    /// Whether `/probe` may go to `address`.
    pub fn allows(&self, address: IpAddr) -> bool {
        self.targets_allowed.is_empty() || self.targets_allowed.iter().any(|n| n.contains(&address))
    }

    /// Parses a configuration; the error is one line naming every problem.
    pub fn parse(text: &str) -> Result<Config, String> {
        let root: Value = serde_norway::from_str(text).map_err(|err| one_line(&err.to_string()))?;
        let mut problems = Problems::default();
        let mut config = Config::default();
        let empty = Mapping::new();
        let root = match &root {
            Value::Mapping(map) => map,
            Value::Null => &empty,
            _ => return Err("the file is not a YAML mapping (modules: …)".into()),
        };
        let mut top = Fields::new(root, "", &mut problems);
        if let Some(modules) = top.mapping("modules") {
            for (key, value) in &modules {
                let Some(name) = key.as_str() else {
                    top.problems.invalid("modules", "module names are strings");
                    continue;
                };
                if let Some(module) = parse_module(name, value, top.problems) {
                    config.modules.insert(name.to_string(), module);
                }
            }
        }
        if let Some(list) = top.sequence("targets_allowed") {
            for item in &list {
                match item.as_str().map(parse_network) {
                    Some(Ok(network)) => config.targets_allowed.push(network),
                    _ => top.problems.invalid(
                        "targets_allowed",
                        &format!("{} is not a CIDR block or address", show(item)),
                    ),
                }
            }
        }
        if let Some(list) = top.sequence("targets") {
            for (index, item) in list.iter().enumerate() {
                let path = format!("targets[{index}]");
                let Value::Mapping(map) = item else {
                    top.problems
                        .invalid(&path, "each target is {target: …, module: …}");
                    continue;
                };
                let mut fields = Fields::new(map, &path, top.problems);
                let target = fields.string("target");
                let module = fields.string("module");
                fields.finish();
                match (target, module) {
                    (Some(target), Some(module)) => {
                        config.targets.push(ListedTarget { target, module })
                    }
                    _ => top.problems.invalid(&path, "needs both target and module"),
                }
            }
        }
        top.finish();
        for listed in &config.targets {
            if !config.modules.contains_key(&listed.module) {
                problems.invalid(
                    "targets",
                    &format!("module {:?} is not configured", listed.module),
                );
            }
        }
        problems.into_result(config)
    }
}

/// A CIDR block, or one address as its /32 or /128.
fn parse_network(text: &str) -> Result<IpNet, ()> {
    if let Ok(network) = text.parse::<IpNet>() {
        return Ok(network);
    }
    text.parse::<IpAddr>().map(IpNet::from).map_err(|_| ())
}

fn parse_module(name: &str, value: &Value, problems: &mut Problems) -> Option<Module> {
    let path = format!("modules.{name}");
    let Value::Mapping(map) = value else {
        problems.invalid(&path, "a module is a mapping (prober: …)");
        return None;
    };
    let source = serde_norway::to_string(value).unwrap_or_default();
    let mut fields = Fields::new(map, &path, problems);
    let prober = fields.string("prober");
    let timeout = fields.duration("timeout");
    let mut sections: BTreeMap<&str, Mapping> = BTreeMap::new();
    for section in PROBERS.iter().chain(OTHER_BLACKBOX_PROBERS) {
        if let Some(map) = fields.mapping(section) {
            sections.insert(section, map.clone());
        }
    }
    fields.finish();
    let Some(prober) = prober else {
        problems.invalid(
            &path,
            "no prober (icmp, tcp, dns, http, tcping, echo, trace)",
        );
        return None;
    };
    let empty = Mapping::new();
    let mut section = |key: &str| {
        let map = sections.remove(key).unwrap_or_else(|| empty.clone());
        (map, format!("{path}.{key}"))
    };
    let prober = match prober.as_str() {
        "icmp" => {
            let (map, path) = section("icmp");
            Prober::Icmp(parse_icmp(&map, &path, problems))
        }
        "tcp" => {
            let (map, path) = section("tcp");
            Prober::Tcp(parse_tcp(&map, &path, problems))
        }
        "dns" => {
            let (map, path) = section("dns");
            Prober::Dns(parse_dns(&map, &path, problems)?)
        }
        "http" => {
            let (map, path) = section("http");
            Prober::Http(parse_http(&map, &path, problems))
        }
        "tcping" => {
            let (map, path) = section("tcping");
            Prober::Tcping(parse_tcping(&map, &path, problems))
        }
        "echo" => {
            let (map, path) = section("echo");
            Prober::Echo(parse_echo(&map, &path, problems))
        }
        "trace" => {
            let (map, path) = section("trace");
            Prober::Trace(parse_trace(&map, &path, problems))
        }
        other if OTHER_BLACKBOX_PROBERS.contains(&other) => {
            problems.unsupported(
                &format!("{path}.prober"),
                &format!("blackbox_exporter's {other} prober is not one of netdx's"),
            );
            return None;
        }
        other => {
            problems.invalid(
                &format!("{path}.prober"),
                &format!(
                    "unknown prober {other:?} (netdx has: {})",
                    PROBERS.join(", ")
                ),
            );
            return None;
        }
    };
    // The sections of other probers are blackbox's defaults-in-waiting; a
    // filled one beside another prober is unused there too.
    for key in sections.keys() {
        if *key != prober.name() && OTHER_BLACKBOX_PROBERS.contains(key) {
            problems.unsupported(&format!("{path}.{key}"), "netdx has no such prober");
        }
    }
    Some(Module {
        name: name.to_string(),
        timeout,
        prober,
        source,
    })
}
