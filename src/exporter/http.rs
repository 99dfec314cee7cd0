//! The `http` prober: one request (redirects followed) with netdx's HTTP
//! client, whose phases are stamped next to their system calls, reported
//! with blackbox_exporter's metrics and checks, plus the connection's
//! TCP_INFO.
#![forbid(unsafe_code)]

use std::time::Instant;

use super::config::Http;
use super::metrics::Family;
use super::probe::{Found, ProbeLog, choose, left};
use crate::http::{self, Header, Pin, Scheme, Url};
use crate::net::FamilyChoice;

/// Redirects followed at most (Go's http.Client stops after 10).
const MAX_REDIRECTS: u32 = 10;
/// The most of a body the body regexps see: memory per probe stays
/// bounded whatever the server sends.
pub const BODY_KEPT: usize = 1 << 20;

/// Requests `target` (a URL; `http://` is assumed without a scheme) before `deadline`.
pub fn probe(settings: &Http, target: &str, deadline: Instant, log: &mut ProbeLog) -> Found {
    let mut durations = Family::gauge(
        "probe_http_duration_seconds",
        "Duration of http request by phase, summed over all redirects",
    );
    let mut values = Values::default();
    let mut families = Vec::new();
    let success = request(settings, target, deadline, log, &mut values, &mut families);
    let phases = [
        ("resolve", values.phases[0]),
        ("connect", values.phases[1]),
        ("tls", values.phases[2]),
        ("processing", values.phases[3]),
        ("transfer", values.phases[4]),
    ];
    for (phase, value) in phases {
        durations.push(&[("phase", phase)], value);
    }
    let mut out = vec![
        durations,
        Family::single(
            "probe_http_content_length",
            "Length of http content response",
            values.content_length,
        ),
        Family::single(
            "probe_http_uncompressed_body_length",
            "Length of uncompressed response body",
            values.body_length,
        ),
        Family::single(
            "probe_http_redirects",
            "The number of redirects",
            values.redirects,
        ),
        Family::single(
            "probe_http_ssl",
            "Indicates if SSL was used for the final redirect",
            values.ssl,
        ),
        Family::single(
            "probe_http_status_code",
            "Response HTTP status code",
            values.status,
        ),
        Family::single(
            "probe_http_version",
            "Returns the version of HTTP of the probe response",
            values.version,
        ),
        Family::single(
            "probe_failed_due_to_regex",
            "Indicates if probe failed due to regex",
            values.failed_due_to_regex,
        ),
    ];
    out.extend(families);
    Found {
        success,
        families: out,
    }
}

#[derive(Default)]
struct Values {
    phases: [f64; 5],
    content_length: f64,
    body_length: f64,
    redirects: f64,
    ssl: f64,
    status: f64,
    version: f64,
    failed_due_to_regex: f64,
}

fn request(
    settings: &Http,
    target: &str,
    deadline: Instant,
    log: &mut ProbeLog,
    values: &mut Values,
    families: &mut Vec<Family>,
) -> bool {
    let text = if target.starts_with("http://") || target.starts_with("https://") {
        target.to_string()
    } else {
        format!("http://{target}")
    };
    let url = match Url::parse(&text) {
        Ok(url) => url,
        Err(err) => {
            log.error(format!("Could not parse target URL: {err}"));
            return false;
        }
    };
    let started = Instant::now();
    let chosen = choose(&url.host, &settings.resolve, log, families);
    values.phases[0] = started.elapsed().as_secs_f64();
    let Some(chosen) = chosen else {
        return false;
    };
    let mut headers = Vec::new();
    let mut agent = false;
    for (name, value) in &settings.headers {
        agent |= name.eq_ignore_ascii_case("user-agent");
        headers.push(Header {
            name: name.clone(),
            value: value.clone(),
        });
    }
    if !agent {
        headers.push(Header {
            name: "User-Agent".into(),
            value: format!("netdx-exporter/{}", env!("CARGO_PKG_VERSION")),
        });
    }
    let budget = left(deadline);
    let request = http::Request {
        url: url.clone(),
        method: settings.method.clone(),
        headers,
        body: settings.body.as_ref().map(|b| b.clone().into_bytes()),
        follow: settings.follow_redirects,
        max_redirects: MAX_REDIRECTS,
        pins: vec![Pin {
            host: url.host.clone(),
            port: url.port,
            address: chosen.address,
        }],
        family: FamilyChoice::Any,
        insecure: settings.insecure,
        cacert: settings.ca_file.as_ref().map(std::path::PathBuf::from),
        count: 1,
        max_filesize: settings.body_size_limit,
        keep_body: if settings.fail_if_body_matches.is_empty()
            && settings.fail_if_body_not_matches.is_empty()
        {
            0
        } else {
            BODY_KEPT
        },
        output: None,
        max_time: Some(budget),
        connect_timeout: budget,
    };
    log.info(format!("Making HTTP request: url={text} host={}", url.host));
    let report = match http::client::run(&request) {
        Ok(report) => report,
        Err(err) => {
            log.error(format!("Error for HTTP request: err={err}"));
            return false;
        }
    };
    for exchange in &report.exchanges {
        let t = &exchange.timings;
        let ms = |v: f64| v.max(0.0) / 1000.0;
        // The first request's lookup is the resolve phase measured above.
        values.phases[1] += ms(t.time_connect - t.time_namelookup);
        if t.time_appconnect > 0.0 {
            values.phases[2] += ms(t.time_appconnect - t.time_connect);
        }
        values.phases[3] += ms(t.time_starttransfer - t.time_pretransfer);
        values.phases[4] += ms(t.time_total - t.time_starttransfer);
    }
    if let Some(timeout) = &report.timeout {
        log.error(format!(
            "Error for HTTP request: timed out in {:?} after {} ms",
            timeout.phase, timeout.after_ms
        ));
        return false;
    }
    values.redirects = f64::from(report.num_redirects);
    values.status = f64::from(report.status);
    values.body_length = report.size_download as f64;
    values.content_length = report
        .headers
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("content-length"))
        .and_then(|f| f.value.trim().parse::<f64>().ok())
        .unwrap_or(-1.0);
    values.version = report.http_version.parse().unwrap_or(0.0);
    let final_tls = report.url_effective.starts_with("https://")
        || (report.exchanges.is_empty() && url.scheme == Scheme::Https);
    log.info(format!(
        "Received HTTP response: status_code={} version={}",
        report.status, report.http_version
    ));
    if let Some(modified) = report
        .headers
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("last-modified"))
        .and_then(|f| http_date(&f.value))
    {
        families.push(Family::single(
            "probe_http_last_modified_timestamp_seconds",
            "Returns the Last-Modified HTTP response header in unixtime",
            modified as f64,
        ));
    }
    if final_tls {
        values.ssl = 1.0;
        if let Some(certificate) = &report.certificate {
            families.push(Family::single(
                "probe_ssl_earliest_cert_expiry",
                "Returns last SSL chain expiry in unixtime",
                certificate.chain_earliest_expiry_unix as f64,
            ));
            // Over the verified chains, as blackbox's getLastChainExpiry: an
            // unverified session (insecure_skip_verify) has none, and Go's
            // zero time is what it reports then.
            let verified = report.tls.as_ref().is_some_and(|session| session.verified);
            families.push(Family::single(
                "probe_ssl_last_chain_expiry_timestamp_seconds",
                "Returns last SSL chain expiry in timestamp",
                if verified {
                    certificate.chain_earliest_expiry_unix as f64
                } else {
                    GO_ZERO_TIME_UNIX
                },
            ));
            let names = certificate.dns_names.join(",");
            families.push(
                Family::gauge(
                    "probe_ssl_last_chain_info",
                    "Contains SSL leaf certificate information",
                )
                .with(
                    &[
                        (
                            "fingerprint_sha256",
                            certificate.sha256_fingerprint.as_str(),
                        ),
                        ("issuer", certificate.go_issuer.as_str()),
                        ("subject", certificate.go_subject.as_str()),
                        ("subjectalternative", names.as_str()),
                    ],
                    1.0,
                ),
            );
        }
        if let Some(session) = &report.tls {
            families.push(
                Family::gauge(
                    "probe_tls_version_info",
                    "Returns the TLS version used or NaN when unknown",
                )
                .with(&[("version", &tls_version(&session.version))], 1.0),
            );
        }
    }
    if let Some(info) = &report.tcp_info {
        families.extend(super::tcp::tcp_info_families(info));
    }
    let mut success = true;
    let status = report.status;
    let valid = if settings.valid_status_codes.is_empty() {
        (200..300).contains(&status)
    } else {
        settings.valid_status_codes.contains(&status)
    };
    if !valid {
        log.error(format!(
            "Invalid HTTP response status code: status_code={status}"
        ));
        success = false;
    }
    if !settings.valid_http_versions.is_empty() {
        let version = format!("HTTP/{}", report.http_version);
        if !settings.valid_http_versions.contains(&version) {
            log.error(format!("Invalid HTTP version number: version={version}"));
            success = false;
        }
    }
    let body = report
        .exchanges
        .last()
        .map_or(&[][..], |e| e.body.as_slice());
    if !body_passes(settings, body, log) {
        values.failed_due_to_regex = 1.0;
        success = false;
    }
    if !headers_pass(settings, &report.headers, log) {
        values.failed_due_to_regex = 1.0;
        success = false;
    }
    if settings.fail_if_ssl && final_tls {
        log.error("Final request was over SSL");
        success = false;
    }
    if settings.fail_if_not_ssl && !final_tls {
        log.error("Final request was not over SSL");
        success = false;
    }
    success
}

/// blackbox_exporter's body regexps, over the body's first [`BODY_KEPT`] bytes.
fn body_passes(settings: &Http, body: &[u8], log: &mut ProbeLog) -> bool {
    if let Some(regexp) = settings
        .fail_if_body_matches
        .iter()
        .find(|r| r.is_match(body))
    {
        log.error(format!(
            "Body matched regular expression: regexp={}",
            regexp.as_str()
        ));
        return false;
    }
    if let Some(regexp) = settings
        .fail_if_body_not_matches
        .iter()
        .find(|r| !r.is_match(body))
    {
        log.error(format!(
            "Body did not match regular expression: regexp={}",
            regexp.as_str()
        ));
        return false;
    }
    true
}

/// blackbox_exporter's header matchers: a value matching a
/// `fail_if_header_matches` pattern fails, so does a field none of whose
/// values matches its `fail_if_header_not_matches` pattern; a missing
/// field fails either unless `allow_missing`.
fn headers_pass(settings: &Http, headers: &[http::Field], log: &mut ProbeLog) -> bool {
    let values = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
            .collect()
    };
    let mut pass = true;
    for (matchers, fail_on_match) in [
        (&settings.fail_if_header_matches, true),
        (&settings.fail_if_header_not_matches, false),
    ] {
        for matcher in matchers {
            let found = values(&matcher.header);
            if found.is_empty() {
                if !matcher.allow_missing {
                    log.error(format!(
                        "Missing required header: header={}",
                        matcher.header
                    ));
                    pass = false;
                }
                continue;
            }
            let matched = found.iter().any(|v| matcher.regexp.is_match(v));
            if matched == fail_on_match {
                let what = if fail_on_match {
                    "matched"
                } else {
                    "did not match"
                };
                log.error(format!(
                    "Header {what} regular expression: header={} regexp={}",
                    matcher.header,
                    matcher.regexp.as_str()
                ));
                pass = false;
            }
        }
    }
    pass
}

/// Go's names for TLS versions (`TLS 1.3`), as blackbox labels them.
/// Go's `time.Time{}.Unix()`: January 1 of year 1.
const GO_ZERO_TIME_UNIX: f64 = -62_135_596_800.0;

fn tls_version(rustls: &str) -> String {
    match rustls.trim_start_matches("TLSv") {
        "1.3" => "TLS 1.3".into(),
        "1.2" => "TLS 1.2".into(),
        "1.1" => "TLS 1.1".into(),
        "1.0" => "TLS 1.0".into(),
        other => other.to_string(),
    }
}

/// An IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`) in seconds since the epoch.
fn http_date(text: &str) -> Option<i64> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = words.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut clock = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    let days = crate::calendar::days_from_civil(year, month, day);
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_modified_dates_convert_to_unix_time() {
        assert_eq!(
            http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date("yesterday"), None);
    }
}
