//! Each prober's section of a module, read into its settings.
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::Duration;

use serde_norway::{Mapping, Value};

use super::fields::{Fields, Problems, one_line, scalar};
use super::{
    Dns, Echo, HeaderMatch, Http, Icmp, IpProtocol, Resolve, Tcp, Tcping, Trace, TraceMethod,
};

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

pub(super) fn parse_icmp(map: &Mapping, path: &str, problems: &mut Problems) -> Icmp {
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

pub(super) fn parse_tcp(map: &Mapping, path: &str, problems: &mut Problems) -> Tcp {
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

pub(super) fn parse_dns(map: &Mapping, path: &str, problems: &mut Problems) -> Option<Dns> {
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

pub(super) fn parse_http(map: &Mapping, path: &str, problems: &mut Problems) -> Http {
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
    let fail_if_body_matches = body_regexps(&mut fields, "fail_if_body_matches_regexp");
    let fail_if_body_not_matches = body_regexps(&mut fields, "fail_if_body_not_matches_regexp");
    let fail_if_header_matches = header_matches(&mut fields, "fail_if_header_matches");
    let fail_if_header_not_matches = header_matches(&mut fields, "fail_if_header_not_matches");
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
        fail_if_body_matches,
        fail_if_body_not_matches,
        fail_if_header_matches,
        fail_if_header_not_matches,
    }
}

/// A list of patterns for the body, each compiled now.
fn body_regexps(fields: &mut Fields<'_>, key: &str) -> Vec<regex::bytes::Regex> {
    let mut regexps = Vec::new();
    let Some(patterns) = fields.strings(key) else {
        return regexps;
    };
    for pattern in patterns {
        match regex::bytes::Regex::new(&pattern) {
            Ok(regexp) => regexps.push(regexp),
            Err(err) => {
                let why = format!(
                    "regexp {pattern:?} does not compile: {}",
                    one_line(&err.to_string())
                );
                fields.invalid(key, &why);
            }
        }
    }
    regexps
}

/// A list of `{header, regexp, allow_missing}` (blackbox: both required).
fn header_matches(fields: &mut Fields<'_>, key: &str) -> Vec<HeaderMatch> {
    let mut matches = Vec::new();
    let Some(list) = fields.sequence(key) else {
        return matches;
    };
    let path = fields.at(key);
    for (index, item) in list.iter().enumerate() {
        let at = format!("{path}[{index}]");
        let Value::Mapping(map) = item else {
            fields
                .problems
                .invalid(&at, "each matcher is {header, regexp, allow_missing}");
            continue;
        };
        let mut matcher = Fields::new(map, &at, fields.problems);
        let header = matcher.string("header");
        let pattern = matcher.string("regexp");
        let allow_missing = matcher.boolean("allow_missing").unwrap_or(false);
        matcher.finish();
        match (header, pattern) {
            (Some(header), Some(pattern)) if !header.is_empty() && !pattern.is_empty() => {
                match regex::Regex::new(&pattern) {
                    Ok(regexp) => matches.push(HeaderMatch {
                        header,
                        regexp,
                        allow_missing,
                    }),
                    Err(err) => fields.problems.invalid(
                        &at,
                        &format!(
                            "regexp {pattern:?} does not compile: {}",
                            one_line(&err.to_string())
                        ),
                    ),
                }
            }
            _ => fields.problems.invalid(
                &at,
                "header name and regexp must be set for HTTP header matchers",
            ),
        }
    }
    matches
}

pub(super) fn parse_tcping(map: &Mapping, path: &str, problems: &mut Problems) -> Tcping {
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

pub(super) fn parse_echo(map: &Mapping, path: &str, problems: &mut Problems) -> Echo {
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

pub(super) fn parse_trace(map: &Mapping, path: &str, problems: &mut Problems) -> Trace {
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
