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

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use ipnet::IpNet;
use serde_norway::{Mapping, Value};

use super::ExporterError;

/// blackbox_exporter's options that netdx knows but does not carry out:
/// a config using them is refused, with this reason beside each.
const NOT_CARRIED_OUT: &[(&str, &str)] = &[
    (
        "query_response",
        "TCP send/expect dialogues are not supported",
    ),
    ("tls", "TCP over TLS is not supported"),
    (
        "tls_config",
        "only insecure_skip_verify and ca_file are supported (http)",
    ),
    (
        "dont_fragment",
        "the DF bit is not settable on netdx's echo sockets",
    ),
    (
        "dns_over_tls",
        "DNS over TLS is not supported by the dns prober",
    ),
    (
        "validate_answer_rrs",
        "RR regexp validation is not supported",
    ),
    (
        "validate_authority_rrs",
        "RR regexp validation is not supported",
    ),
    (
        "validate_additional_rrs",
        "RR regexp validation is not supported",
    ),
    (
        "fail_if_body_matches_regexp",
        "bodies are counted, not kept",
    ),
    (
        "fail_if_body_not_matches_regexp",
        "bodies are counted, not kept",
    ),
    ("compression", "netdx does not decompress bodies"),
    ("basic_auth", "HTTP authentication is not supported"),
    ("authorization", "HTTP authentication is not supported"),
    ("bearer_token", "HTTP authentication is not supported"),
    ("bearer_token_file", "HTTP authentication is not supported"),
    ("oauth2", "HTTP authentication is not supported"),
    ("proxy_url", "proxies are not supported"),
    ("proxy_connect_header", "proxies are not supported"),
    ("no_proxy", "proxies are not supported"),
    ("proxy_from_environment", "proxies are not supported"),
    ("skip_resolve_phase_with_proxy", "proxies are not supported"),
    ("enable_http3", "netdx speaks HTTP/1.1 only"),
    ("fail_if_header_matches", "header matching is not supported"),
    (
        "fail_if_header_not_matches",
        "header matching is not supported",
    ),
];

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

fn resolve(fields: &mut Fields<'_>) -> Resolve {
    let mut resolve = Resolve::default();
    if let Some(word) = fields.string("preferred_ip_protocol") {
        resolve.preferred = match word.as_str() {
            "ip4" => IpProtocol::V4,
            "ip6" | "" => IpProtocol::V6,
            other => {
                fields.invalid(
                    "preferred_ip_protocol",
                    &format!("{other:?} is not ip4 or ip6"),
                );
                IpProtocol::V6
            }
        };
    }
    if let Some(fallback) = fields.boolean("ip_protocol_fallback") {
        resolve.fallback = fallback;
    }
    resolve
}

fn source_address(fields: &mut Fields<'_>) -> Option<IpAddr> {
    let text = fields.string("source_ip_address")?;
    match text.parse() {
        Ok(address) => Some(address),
        Err(_) => {
            fields.invalid("source_ip_address", &format!("{text:?} is not an address"));
            None
        }
    }
}

fn parse_icmp(map: &Mapping, path: &str, problems: &mut Problems) -> Icmp {
    let mut fields = Fields::new(map, path, problems);
    let resolve = resolve(&mut fields);
    let source = source_address(&mut fields);
    let payload_size = fields.integer("payload_size", 0, 65_000).unwrap_or(0) as usize;
    // blackbox: 0 means its default of 64.
    let ttl = match fields.integer("ttl", 0, 255) {
        Some(0) | None => 64,
        Some(ttl) => ttl as u8,
    };
    let packets = fields.integer("packets", 1, 10_000).unwrap_or(1) as u32;
    let interval = fields
        .duration("interval")
        .unwrap_or(Duration::from_secs(1));
    if interval < Duration::from_millis(1) {
        fields.invalid("interval", "must be at least 1ms");
    }
    fields.finish();
    Icmp {
        resolve,
        source,
        payload_size,
        ttl,
        packets,
        interval,
    }
}

fn parse_tcp(map: &Mapping, path: &str, problems: &mut Problems) -> Tcp {
    let mut fields = Fields::new(map, path, problems);
    let resolve = resolve(&mut fields);
    let source = source_address(&mut fields);
    // `tls: false` is blackbox's default, written out; `true` is refused below.
    fields.accept_if("tls", |v| v == &Value::Bool(false));
    fields.accept_if(
        "query_response",
        |v| matches!(v, Value::Sequence(s) if s.is_empty()),
    );
    fields.finish();
    Tcp { resolve, source }
}

fn parse_dns(map: &Mapping, path: &str, problems: &mut Problems) -> Option<Dns> {
    let mut fields = Fields::new(map, path, problems);
    let resolve = resolve(&mut fields);
    let tcp = match fields.string("transport_protocol").as_deref() {
        None | Some("udp") | Some("") => false,
        Some("tcp") => true,
        Some(other) => {
            fields.invalid(
                "transport_protocol",
                &format!("{other:?} is not udp or tcp"),
            );
            false
        }
    };
    let query_name = fields.string("query_name");
    let query_type = fields.string("query_type").unwrap_or_else(|| "ANY".into());
    if crate::dns::question::record_type(&query_type).is_none() && query_type != "ANY" {
        fields.invalid(
            "query_type",
            &format!("{query_type:?} is not a record type"),
        );
    }
    let query_class = fields.string("query_class").unwrap_or_else(|| "IN".into());
    if crate::dns::question::record_class(&query_class).is_none() {
        fields.invalid("query_class", &format!("{query_class:?} is not a class"));
    }
    let recursion_desired = fields.boolean("recursion_desired").unwrap_or(true);
    let valid_rcodes = fields
        .strings("valid_rcodes")
        .unwrap_or_else(|| vec!["NOERROR".into()]);
    fields.accept_if("dns_over_tls", |v| v == &Value::Bool(false));
    fields.finish();
    let Some(query_name) = query_name else {
        problems.invalid(path, "query name must be set for DNS module (query_name)");
        return None;
    };
    Some(Dns {
        resolve,
        tcp,
        query_name,
        query_type,
        query_class,
        recursion_desired,
        valid_rcodes,
    })
}

fn parse_http(map: &Mapping, path: &str, problems: &mut Problems) -> Http {
    let mut fields = Fields::new(map, path, problems);
    let resolve = resolve(&mut fields);
    let valid_status_codes = fields
        .integers("valid_status_codes", 100, 599)
        .unwrap_or_default()
        .into_iter()
        .map(|code| code as u16)
        .collect();
    let valid_http_versions = fields.strings("valid_http_versions").unwrap_or_default();
    let mut follow_redirects = fields.boolean("follow_redirects").unwrap_or(true);
    if let Some(no_follow) = fields.boolean("no_follow_redirects") {
        follow_redirects = !no_follow;
    }
    let fail_if_ssl = fields.boolean("fail_if_ssl").unwrap_or(false);
    let fail_if_not_ssl = fields.boolean("fail_if_not_ssl").unwrap_or(false);
    let method = fields.string("method").unwrap_or_else(|| "GET".into());
    let mut headers = Vec::new();
    if let Some(map) = fields.mapping("headers") {
        for (name, value) in &map {
            match (name.as_str(), scalar(value)) {
                (Some(name), Some(value)) => headers.push((name.to_string(), value)),
                _ => fields.invalid("headers", "each header is NAME: VALUE"),
            }
        }
    }
    let body = fields.string("body");
    // Blackbox's default for HTTP/2 is on, but over plain HTTP Go speaks 1.1
    // too; netdx offers only http/1.1 in ALPN, so `true` is refused.
    fields.accept_if("enable_http2", |v| v == &Value::Bool(false));
    fields.accept_if("skip_resolve_phase_with_proxy", |v| {
        v == &Value::Bool(false)
    });
    let body_size_limit = fields.bytes("body_size_limit");
    let (mut insecure, mut ca_file) = (false, None);
    if let Some(tls) = fields.mapping("tls_config") {
        let tls_path = format!("{path}.tls_config");
        let mut tls_fields = Fields::new(&tls, &tls_path, fields.problems);
        insecure = tls_fields.boolean("insecure_skip_verify").unwrap_or(false);
        ca_file = tls_fields.string("ca_file");
        tls_fields.finish();
    }
    fields.finish();
    Http {
        resolve,
        valid_status_codes,
        valid_http_versions,
        follow_redirects,
        fail_if_ssl,
        fail_if_not_ssl,
        method,
        headers,
        body,
        insecure,
        ca_file,
        body_size_limit,
    }
}

fn parse_tcping(map: &Mapping, path: &str, problems: &mut Problems) -> Tcping {
    let mut fields = Fields::new(map, path, problems);
    let resolve = resolve(&mut fields);
    let count = fields.integer("packets", 1, 10_000).unwrap_or(1) as u32;
    let interval = fields
        .duration("interval")
        .unwrap_or(Duration::from_secs(1));
    fields.finish();
    Tcping {
        resolve,
        count,
        interval,
    }
}

fn parse_echo(map: &Mapping, path: &str, problems: &mut Problems) -> Echo {
    let mut fields = Fields::new(map, path, problems);
    let resolve = resolve(&mut fields);
    let udp = match fields.string("protocol").as_deref() {
        None | Some("tcp") => false,
        Some("udp") => true,
        Some(other) => {
            fields.invalid("protocol", &format!("{other:?} is not tcp or udp"));
            false
        }
    };
    let count = fields.integer("packets", 1, 10_000).unwrap_or(1) as u32;
    let interval = fields
        .duration("interval")
        .unwrap_or(Duration::from_secs(1));
    let size = fields.integer("size", 16, 65_000).unwrap_or(64) as usize;
    fields.finish();
    Echo {
        resolve,
        udp,
        count,
        interval,
        size,
    }
}

fn parse_trace(map: &Mapping, path: &str, problems: &mut Problems) -> Trace {
    let mut fields = Fields::new(map, path, problems);
    let resolve = resolve(&mut fields);
    let method = match fields.string("method").as_deref() {
        None | Some("icmp") => TraceMethod::Icmp,
        Some("udp") => TraceMethod::Udp,
        Some("tcp") => TraceMethod::Tcp,
        Some(other) => {
            fields.invalid("method", &format!("{other:?} is not icmp, udp or tcp"));
            TraceMethod::Icmp
        }
    };
    let port = fields.integer("port", 1, 65_535).unwrap_or(0) as u16;
    let max_hops = fields.integer("max_hops", 1, 64).unwrap_or(30) as u8;
    let probes = fields.integer("probes", 1, 10).unwrap_or(3) as u8;
    fields.finish();
    Trace {
        resolve,
        method,
        port,
        max_hops,
        probes,
    }
}

/// Problems found while reading, all reported together.
#[derive(Debug, Default)]
struct Problems {
    unsupported: Vec<String>,
    invalid: Vec<String>,
}

impl Problems {
    fn unsupported(&mut self, path: &str, why: &str) {
        self.unsupported.push(format!("{path} ({why})"));
    }

    fn invalid(&mut self, path: &str, why: &str) {
        self.invalid.push(format!("{path}: {why}"));
    }

    fn into_result(self, config: Config) -> Result<Config, String> {
        let mut parts = Vec::new();
        if !self.invalid.is_empty() {
            parts.push(self.invalid.join("; "));
        }
        if !self.unsupported.is_empty() {
            parts.push(format!(
                "options netdx does not support: {}",
                self.unsupported.join(", ")
            ));
        }
        if parts.is_empty() {
            Ok(config)
        } else {
            Err(one_line(&parts.join("; ")))
        }
    }
}

/// One mapping being read: each key taken is marked, and [`Fields::finish`]
/// reports the rest.
struct Fields<'a> {
    map: &'a Mapping,
    path: String,
    taken: Vec<String>,
    problems: &'a mut Problems,
}

impl<'a> Fields<'a> {
    fn new(map: &'a Mapping, path: &str, problems: &'a mut Problems) -> Fields<'a> {
        Fields {
            map,
            path: path.to_string(),
            taken: Vec::new(),
            problems,
        }
    }

    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn invalid(&mut self, key: &str, why: &str) {
        let path = self.at(key);
        self.problems.invalid(&path, why);
    }

    fn take(&mut self, key: &str) -> Option<&'a Value> {
        self.taken.push(key.to_string());
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    /// Takes `key` as known when `ok` holds for its value; otherwise leaves
    /// it for `finish` to report as unsupported.
    fn accept_if(&mut self, key: &str, ok: impl Fn(&Value) -> bool) {
        if self.map.get(key).is_none_or(ok) {
            self.taken.push(key.to_string());
        }
    }

    fn string(&mut self, key: &str) -> Option<String> {
        let value = self.take(key)?;
        match scalar(value) {
            Some(text) => Some(text),
            None => {
                self.invalid(key, "expected a string");
                None
            }
        }
    }

    fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let value = self.take(key)?;
        let list = value
            .as_sequence()
            .map(|items| items.iter().map(scalar).collect::<Option<Vec<String>>>());
        match list {
            Some(Some(list)) => Some(list),
            _ => {
                self.invalid(key, "expected a list of strings");
                None
            }
        }
    }

    fn boolean(&mut self, key: &str) -> Option<bool> {
        let value = self.take(key)?;
        match value.as_bool() {
            Some(flag) => Some(flag),
            None => {
                self.invalid(key, "expected true or false");
                None
            }
        }
    }

    fn integer(&mut self, key: &str, least: u64, most: u64) -> Option<u64> {
        let value = self.take(key)?;
        match value.as_u64() {
            Some(n) if (least..=most).contains(&n) => Some(n),
            _ => {
                self.invalid(
                    key,
                    &format!("expected a whole number from {least} to {most}"),
                );
                None
            }
        }
    }

    fn integers(&mut self, key: &str, least: u64, most: u64) -> Option<Vec<u64>> {
        let value = self.take(key)?;
        let list = value.as_sequence().map(|items| {
            items
                .iter()
                .map(|item| item.as_u64().filter(|n| (least..=most).contains(n)))
                .collect::<Option<Vec<u64>>>()
        });
        match list {
            Some(Some(list)) => Some(list),
            _ => {
                self.invalid(
                    key,
                    &format!("expected a list of numbers from {least} to {most}"),
                );
                None
            }
        }
    }

    fn duration(&mut self, key: &str) -> Option<Duration> {
        let text = self.string(key)?;
        match parse_duration(&text) {
            Some(duration) => Some(duration),
            None => {
                self.invalid(
                    key,
                    &format!("{text:?} is not a duration (5s, 1m30s, 500ms)"),
                );
                None
            }
        }
    }

    fn bytes(&mut self, key: &str) -> Option<u64> {
        let value = self.take(key)?;
        if let Some(n) = value.as_u64() {
            return Some(n);
        }
        let text = scalar(value).unwrap_or_default();
        match parse_bytes(&text) {
            Some(n) => Some(n),
            None => {
                self.invalid(key, &format!("{text:?} is not a size (1024, 10KB, 5MiB)"));
                None
            }
        }
    }

    fn mapping(&mut self, key: &str) -> Option<Mapping> {
        let value = self.take(key)?;
        match value {
            Value::Mapping(map) => Some(map.clone()),
            _ => {
                self.invalid(key, "expected a mapping");
                None
            }
        }
    }

    fn sequence(&mut self, key: &str) -> Option<Vec<Value>> {
        let value = self.take(key)?;
        match value {
            Value::Sequence(items) => Some(items.clone()),
            _ => {
                self.invalid(key, "expected a list");
                None
            }
        }
    }

    /// Reports every key not taken: blackbox's own options netdx does not
    /// carry out with the reason, anything else as unknown.
    fn finish(self) {
        for key in self.map.keys() {
            let name = key.as_str().map_or_else(|| show(key), str::to_string);
            if self.taken.contains(&name) {
                continue;
            }
            let path = if self.path.is_empty() {
                name.clone()
            } else {
                format!("{}.{name}", self.path)
            };
            let why = NOT_CARRIED_OUT
                .iter()
                .find(|(option, _)| *option == name)
                .map_or("not an option netdx knows", |(_, why)| why);
            self.problems.unsupported(&path, why);
        }
    }
}

/// A scalar's text (strings, numbers and booleans alike, as YAML writes them).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A YAML value shown in an error.
fn show(value: &Value) -> String {
    serde_norway::to_string(value)
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Text on one line: YAML errors span several.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Prometheus' duration syntax: `1h30m`, `5s`, `500ms`, `2d` (units y w d
/// h m s ms, largest first), or a bare number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    const UNITS: [(&str, u64); 7] = [
        ("ms", 1),
        ("s", 1_000),
        ("m", 60_000),
        ("h", 3_600_000),
        ("d", 86_400_000),
        ("w", 604_800_000),
        ("y", 31_536_000_000),
    ];
    let mut total: u64 = 0;
    let mut rest = text;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (rank, (unit, millis)) = UNITS
            .iter()
            .enumerate()
            .filter(|(_, (unit, _))| rest.starts_with(unit))
            // "ms" before "m": the longest unit that matches.
            .max_by_key(|(_, (unit, _))| unit.len())?;
        // Each unit smaller than the one before (`1m30s`, not `30s1m`).
        if rank >= last_rank {
            return None;
        }
        last_rank = rank;
        rest = &rest[unit.len()..];
        total = total.checked_add(number.checked_mul(*millis)?)?;
    }
    Some(Duration::from_millis(total))
}

/// A size: bytes, or with a unit (KB, MB, GB as 1000s; KiB, MiB, GiB as 1024s).
fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u64 = text[..split].parse().ok()?;
    let factor: u64 = match text[split..].trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations_parse_largest_unit_first() {
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2.5"), Some(Duration::from_millis(2500)));
        for bad in ["", "5", "s", "5x", "30s1m", "-1s", "1m1m"] {
            if bad == "5" {
                continue;
            }
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_blackbox_config_for_the_four_probers_loads() {
        let config = Config::parse(
            r#"
modules:
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
  tcp_connect:
    prober: tcp
  dns_udp:
    prober: dns
    timeout: 5s
    dns:
      query_name: example.test
      query_type: A
      valid_rcodes: [NOERROR]
  http_2xx:
    prober: http
    http:
      valid_status_codes: []
      method: GET
      preferred_ip_protocol: ip4
      no_follow_redirects: false
"#,
        )
        .unwrap();
        assert_eq!(config.modules.len(), 4);
        let Prober::Icmp(icmp) = &config.modules["icmp"].prober else {
            panic!()
        };
        assert_eq!(icmp.resolve.preferred, IpProtocol::V4);
        assert_eq!(icmp.packets, 1);
        assert_eq!(config.modules["icmp"].timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn every_unsupported_option_is_named_with_its_path() {
        let err = Config::parse(
            r#"
modules:
  web:
    prober: http
    http:
      fail_if_body_matches_regexp: ["x"]
      frobnicate: 1
  t:
    prober: tcp
    tcp:
      query_response: [{expect: "x"}]
"#,
        )
        .unwrap_err();
        assert!(
            err.contains("modules.web.http.fail_if_body_matches_regexp"),
            "{err}"
        );
        assert!(
            err.contains("modules.web.http.frobnicate (not an option netdx knows)"),
            "{err}"
        );
        assert!(err.contains("modules.t.tcp.query_response"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn an_unknown_prober_is_refused_naming_the_known_ones() {
        let err = Config::parse("modules:\n  x:\n    prober: gopher\n").unwrap_err();
        assert!(err.contains("unknown prober \"gopher\""), "{err}");
        assert!(err.contains("icmp, tcp, dns"), "{err}");
    }

    #[test]
    fn targets_allowed_takes_blocks_and_single_addresses() {
        let config =
            Config::parse("modules: {}\ntargets_allowed: [10.9.0.0/24, \"fd09::2\"]\n").unwrap();
        assert!(config.allows("10.9.0.7".parse().unwrap()));
        assert!(config.allows("fd09::2".parse().unwrap()));
        assert!(!config.allows("10.9.1.1".parse().unwrap()));
        assert!(Config::parse("targets_allowed: [nonsense]\n").is_err());
    }

    #[test]
    fn icmp_packets_and_interval_are_netdx_options() {
        let config = Config::parse(
            "modules:\n  loss:\n    prober: icmp\n    icmp: {packets: 20, interval: 10ms}\n",
        )
        .unwrap();
        let Prober::Icmp(icmp) = &config.modules["loss"].prober else {
            panic!()
        };
        assert_eq!(
            (icmp.packets, icmp.interval),
            (20, Duration::from_millis(10))
        );
    }
}
