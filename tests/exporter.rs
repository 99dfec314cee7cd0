//! `netdx exporter` as Prometheus and its users meet it: a real Prometheus
//! scraping it with blackbox_exporter's relabelling, Debian's
//! blackbox_exporter on the same config and targets, bad requests, a
//! thousand concurrent probes, reloads, and textfiles checked by promtool.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Chain, Netns, Pair, assert_one_line_error, netdx, netdx_bin, stdout};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "netdx-exporter-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `netdx exporter` (in the test's namespace or in one of its
/// hosts), its stderr read line by line; killed on drop.
struct Exporter {
    child: Child,
    address: SocketAddr,
    lines: mpsc::Receiver<String>,
    /// Lines read while waiting for another, searched first.
    seen: Vec<String>,
}

impl Exporter {
    /// Starts `netdx exporter args…` on an ephemeral loopback port and
    /// waits for its "listening on" line.
    fn start(netns: Option<&Netns>, args: &[&str]) -> Exporter {
        Exporter::start_on(netns, "127.0.0.1:0", args)
    }

    /// Starts `netdx exporter --listen LISTEN args…`.
    fn start_on(netns: Option<&Netns>, listen: &str, args: &[&str]) -> Exporter {
        let mut full = vec!["exporter", "--listen", listen];
        full.extend_from_slice(args);
        let command = match netns {
            Some(ns) => ns.command(netdx_bin(), &full),
            None => {
                let mut command = Command::new(netdx_bin());
                command.args(&full);
                command
            }
        };
        Exporter::spawn(command)
    }

    /// Starts `command` (a netdx exporter, perhaps behind setpriv) and
    /// waits for its "listening on" line.
    fn spawn(mut command: Command) -> Exporter {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netdx exporter starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stderr);
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) > 0 {
                if tx.send(line.trim_end().to_string()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        let mut exporter = Exporter {
            child,
            address: "127.0.0.1:0".parse().unwrap(),
            lines,
            seen: Vec::new(),
        };
        let line = exporter.wait_line("listening on http://", Duration::from_secs(20));
        let at = line.find("http://").unwrap() + "http://".len();
        let rest = &line[at..];
        exporter.address = rest[..rest.find('/').unwrap()].parse().unwrap();
        exporter
    }

    /// Waits for a stderr line containing `fragment`; fails the test after `limit`.
    fn wait_line(&mut self, fragment: &str, limit: Duration) -> String {
        if let Some(at) = self.seen.iter().position(|l| l.contains(fragment)) {
            return self.seen.remove(at);
        }
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(fragment) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no stderr line with {fragment:?} within {limit:?}"),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (lower-cased names) and body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.0 request from the test's own namespace.
fn request(address: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {address}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_string(),
    }
}

fn get(exporter: &Exporter, path: &str) -> Response {
    request(exporter.address, "GET", path, &[])
}

/// `curl` inside a namespace: the body of a GET.
fn curl(ns: &Netns, url: &str) -> String {
    let out = ns.run("curl", &["-sS", "--max-time", "30", url]);
    assert!(out.status.success(), "curl {url}: {}", common::stderr(&out));
    stdout(&out)
}

/// The series of a text exposition: each sample's name and labels (all of
/// them, values too), without its value.
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _)| series.to_string()))
        .map(|series| match series.split_once('{') {
            // Label order is not part of a series' identity.
            Some((name, labels)) => {
                let mut pairs: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                pairs.sort();
                format!("{name}{{{}}}", pairs.join(","))
            }
            None => series,
        })
        .collect()
}

/// The value of the sample `series` (exactly as written) in `text`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

fn installed(tool: &str, test: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let reason = format!("{tool} is not installed (scripts/test installs it)");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: {reason}");
        }
        eprintln!("skipping {test}: {reason}");
    }
    found
}

/// Calls `attempt` every 100 ms until `done` holds for what it returns or
/// 20 s pass, and returns the last result (for the test's assertion).
fn poll<T>(mut attempt: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let result = attempt();
        if done(&result) || Instant::now() > deadline {
            return result;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `command` with its standard streams closed; the caller ends it.
fn spawn_quiet(command: &mut Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("{command:?}: {err}"))
}

/// A TCP port on loopback whose handshakes never complete: a listener with
/// a backlog of one, filled, so the kernel drops further SYNs.
fn stalled_port() -> (TcpListener, Vec<TcpStream>, u16) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(0).unwrap();
    let listener: TcpListener = socket.into();
    let address = listener.local_addr().unwrap();
    let mut filling = Vec::new();
    // With backlog 0 the queue holds one; a few more sit in SYN_SENT.
    for _ in 0..2 {
        if let Ok(stream) = TcpStream::connect_timeout(&address, Duration::from_millis(300)) {
            filling.push(stream);
        }
    }
    (listener, filling, address.port())
}

const LOOPBACK_CONFIG: &str = "\
modules:
  tcp_connect:
    prober: tcp
    timeout: 2s
    tcp:
      preferred_ip_protocol: ip4
  tcping:
    prober: tcping
    timeout: 2s
    tcping:
      packets: 3
      interval: 10ms
";

#[test]
fn bad_requests_get_400_with_a_one_line_reason_and_a_log_line() {
    let scratch = Scratch::new("bad");
    let config = scratch.file("config.yml", LOOPBACK_CONFIG);
    let mut exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let unknown = get(&exporter, "/probe?target=127.0.0.1:1&module=nosuch");
    assert_eq!(unknown.status, 400, "{}", unknown.body);
    assert_eq!(unknown.body, "Unknown module \"nosuch\"\n");
    exporter.wait_line("refused from 127.0.0.1:", Duration::from_secs(5));
    let missing = get(&exporter, "/probe?module=tcp_connect");
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body, "Target parameter is missing\n");
    let line = exporter.wait_line("refused", Duration::from_secs(5));
    assert!(line.contains("400 Target parameter is missing"), "{line}");
    let header = request(
        exporter.address,
        "GET",
        "/probe?target=127.0.0.1:1&module=tcp_connect",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "soon")],
    );
    assert_eq!(header.status, 400);
    assert_eq!(header.body.lines().count(), 1, "{}", header.body);
    let metrics = get(&exporter, "/metrics");
    assert_eq!(
        value(
            &metrics.body,
            "netdx_exporter_requests_refused_total{reason=\"unknown_module\"}"
        ),
        Some(1.0),
        "{}",
        metrics.body
    );
    assert_eq!(
        value(&metrics.body, "blackbox_module_unknown_total"),
        Some(1.0)
    );
}

#[test]
fn a_target_outside_targets_allowed_gets_403() {
    let scratch = Scratch::new("allowed");
    let config = scratch.file(
        "config.yml",
        &format!("{LOOPBACK_CONFIG}targets_allowed: [10.9.0.0/24]\n"),
    );
    let mut exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let refused = get(&exporter, "/probe?target=127.0.0.1:9&module=tcp_connect");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.body,
        "Target \"127.0.0.1:9\" (127.0.0.1) is outside targets_allowed\n"
    );
    exporter.wait_line("403 Target", Duration::from_secs(5));
}

#[test]
fn a_config_with_an_unknown_prober_is_refused_at_startup() {
    let scratch = Scratch::new("prober");
    let config = scratch.file("config.yml", "modules:\n  x:\n    prober: gopher\n");
    let out = netdx(&["exporter", "--config", config.to_str().unwrap()]);
    assert_one_line_error(&out, "modules.x.prober: unknown prober \"gopher\"");
}

#[test]
fn json_is_refused_the_exporter_speaks_prometheus_text() {
    assert_one_line_error(
        &netdx(&["--json", "exporter"]),
        "`exporter` serves Prometheus' text format",
    );
    assert_one_line_error(&netdx(&["--json-stream", "exporter"]), "--json-stream");
}

#[test]
fn options_netdx_does_not_carry_out_are_all_named_at_startup() {
    let scratch = Scratch::new("unsupported");
    let config = scratch.file(
        "config.yml",
        "modules:\n  web:\n    prober: http\n    http:\n      compression: gzip\n      \
         basic_auth: {username: a}\n  t:\n    prober: tcp\n    tcp:\n      tls: true\n",
    );
    let out = netdx(&["exporter", "--config", config.to_str().unwrap()]);
    assert_one_line_error(&out, "options netdx does not support: ");
    let err = common::stderr(&out);
    for option in [
        "modules.web.http.compression",
        "modules.web.http.basic_auth",
        "modules.t.tcp.tls",
    ] {
        assert!(err.contains(option), "{option} not named: {err}");
    }
}

#[test]
fn a_tcp_probe_of_a_listening_port_succeeds_and_of_a_closed_one_fails() {
    let scratch = Scratch::new("tcp");
    let config = scratch.file("config.yml", LOOPBACK_CONFIG);
    let exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let spare = TcpListener::bind("127.0.0.1:0").unwrap();
        spare.local_addr().unwrap().port()
    };
    let up = get(
        &exporter,
        &format!("/probe?target=127.0.0.1:{open}&module=tcp_connect"),
    );
    assert_eq!(up.status, 200);
    assert_eq!(
        up.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(value(&up.body, "probe_success"), Some(1.0), "{}", up.body);
    assert_eq!(value(&up.body, "probe_ip_protocol"), Some(4.0));
    assert_eq!(value(&up.body, "probe_timeout_seconds"), Some(2.0));
    assert!(
        value(&up.body, "probe_tcp_info_rtt_seconds").is_some(),
        "{}",
        up.body
    );
    let down = get(
        &exporter,
        &format!("/probe?target=127.0.0.1:{closed}&module=tcp_connect"),
    );
    assert_eq!(
        value(&down.body, "probe_success"),
        Some(0.0),
        "{}",
        down.body
    );
    let tcping = get(
        &exporter,
        &format!("/probe?target=127.0.0.1:{open}&module=tcping"),
    );
    assert_eq!(
        value(&tcping.body, "probe_tcping_handshakes_completed_total"),
        Some(3.0),
        "{}",
        tcping.body
    );
    assert_eq!(
        value(&tcping.body, "probe_tcping_rtt_seconds_count"),
        Some(3.0)
    );
    // OpenMetrics when asked for, counters named without _total.
    let open_metrics = request(
        exporter.address,
        "GET",
        &format!("/probe?target=127.0.0.1:{open}&module=tcping"),
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    );
    assert!(
        open_metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        open_metrics.headers
    );
    assert!(
        open_metrics
            .body
            .contains("# TYPE probe_tcping_handshakes_sent counter\n")
    );
    assert!(open_metrics.body.ends_with("# EOF\n"));
    // The debug page: the log, the metrics, the module.
    let debug = get(
        &exporter,
        &format!("/probe?target=127.0.0.1:{closed}&module=tcp_connect&debug=true"),
    );
    assert!(
        debug.body.starts_with("Logs for the probe:\n"),
        "{}",
        debug.body
    );
    assert!(debug.body.contains("Error dialing TCP"), "{}", debug.body);
    assert!(
        debug
            .body
            .contains("Metrics that would have been returned:\nprobe_success")
            || debug.body.contains("# HELP probe_success")
    );
    assert!(
        debug.body.contains("Module configuration:\nprober: tcp"),
        "{}",
        debug.body
    );
    // The index page lists the modules and links the last probes' debug pages.
    let page = get(&exporter, "/");
    assert!(page.body.contains("<td>tcp_connect</td>"), "{}", page.body);
    assert!(page.body.contains(&format!(
        "/probe?target=127.0.0.1%3A{closed}&amp;module=tcp_connect&amp;debug=true"
    )));
    let own = get(&exporter, "/metrics");
    assert_eq!(
        value(
            &own.body,
            "netdx_exporter_probes_total{module=\"tcp_connect\",result=\"success\"}"
        ),
        Some(1.0),
        "{}",
        own.body
    );
    assert!(own.body.contains("netdx_exporter_build_info{version=\""));
    drop(listener);
}

#[test]
fn an_https_probe_reports_the_tls_version_and_the_certificates_expiry() {
    let test = "an_https_probe_reports_the_tls_version_and_the_certificates_expiry";
    if !installed("openssl", test) {
        return;
    }
    let scratch = Scratch::new("https");
    let (key, cert) = (scratch.0.join("key.pem"), scratch.0.join("cert.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=localhost/O=netdx lab, inc."])
        .args([
            "-addext",
            "subjectAltName=DNS:localhost,DNS:alt.test",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", common::stderr(&made));
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = spawn_quiet(
        Command::new("openssl")
            .args(["s_server", "-www", "-accept", &format!("127.0.0.1:{port}")])
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key),
    );
    let config = scratch.file(
        "config.yml",
        "modules:\n  https:\n    prober: http\n    timeout: 2s\n    http:\n      fail_if_not_ssl: true\n      \
         tls_config: {insecure_skip_verify: true}\n",
    );
    let exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let path = format!("/probe?module=https&target=https://127.0.0.1:{port}/");
    let body = poll(
        || get(&exporter, &path).body,
        |body| value(body, "probe_success") == Some(1.0),
    );
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(value(&body, "probe_http_ssl"), Some(1.0));
    assert!(
        body.contains("probe_tls_version_info{version=\"TLS 1.3\"} 1\n"),
        "{body}"
    );
    let expiry = value(&body, "probe_ssl_earliest_cert_expiry").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let days = (expiry - now) / 86_400.0;
    assert!(
        (29.0..=30.5).contains(&days),
        "expires in {days} days: {body}"
    );
    assert!(value(&body, "probe_http_duration_seconds{phase=\"tls\"}").unwrap() > 0.0);
    // The leaf's labels are blackbox_exporter's: Go's name order and escaping,
    // the SHA-256 fingerprint openssl computes, the SANs comma-joined.
    let fingerprint = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout)
        .rsplit('=')
        .next()
        .unwrap()
        .trim()
        .replace(':', "")
        .to_lowercase();
    assert_eq!(fingerprint.len(), 64, "openssl x509 -fingerprint");
    let info = format!(
        "probe_ssl_last_chain_info{{fingerprint_sha256=\"{fingerprint}\",issuer=\"CN=localhost,O=netdx lab\\\\, inc.\",\
         subject=\"CN=localhost,O=netdx lab\\\\, inc.\",subjectalternative=\"localhost,alt.test\"}} 1\n"
    );
    assert!(body.contains(&info), "wanted {info}in {body}");
    // Not verified (insecure_skip_verify): no verified chain, Go's zero time.
    assert_eq!(
        value(&body, "probe_ssl_last_chain_expiry_timestamp_seconds"),
        Some(-62_135_596_800.0)
    );
    // The same lines as Debian's blackbox_exporter on the same config and server.
    if installed("prometheus-blackbox-exporter", test) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let mut blackbox = spawn_quiet(
            Command::new("prometheus-blackbox-exporter")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--web.listen-address={address}")),
        );
        let theirs = poll(
            || {
                TcpStream::connect_timeout(&address, Duration::from_millis(200))
                    .ok()
                    .map(|_| request(address, "GET", &path, &[]).body)
                    .unwrap_or_default()
            },
            |body| value(body, "probe_success") == Some(1.0),
        );
        let _ = blackbox.kill();
        let _ = blackbox.wait();
        for name in [
            "probe_ssl_last_chain_info",
            "probe_ssl_last_chain_expiry_timestamp_seconds",
            "probe_tls_version_info",
            "probe_http_ssl",
        ] {
            let line = |text: &str| {
                text.lines()
                    .find(|l| l.starts_with(name))
                    .map(|l| series(l).into_iter().next().unwrap_or_default())
            };
            assert_eq!(line(&body), line(&theirs), "{name}: blackbox:\n{theirs}");
        }
        let missing: Vec<_> = series(&theirs)
            .difference(&series(&body))
            .cloned()
            .collect();
        assert!(
            missing.is_empty(),
            "netdx lacks {missing:?}\nblackbox:\n{theirs}"
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// An HTTP server on loopback answering every request 200 with `fields`
/// (`Name: value\r\n` lines) in its head; each request's head is sent on
/// the channel. It serves until the test process ends.
fn http_server(fields: &'static str) -> (u16, mpsc::Receiver<String>) {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let (tx, heads) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in server.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let response = format!(
                "HTTP/1.1 200 OK\r\n{fields}Content-Length: 2\r\nConnection: close\r\n\r\nok"
            );
            let _ = stream.write_all(response.as_bytes());
            let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
        }
    });
    (port, heads)
}

/// The metrics of `module` probing the loopback HTTP server on `port`.
fn http_probe(exporter: &Exporter, module: &str, port: u16) -> String {
    let path = format!("/probe?module={module}&target=http://127.0.0.1:{port}/");
    get(exporter, &path).body
}

/// Asserts a probe failed on a regexp, as blackbox reports it.
fn assert_failed_on_regexp(body: &str) {
    assert_eq!(value(body, "probe_success"), Some(0.0), "{body}");
    assert_eq!(
        value(body, "probe_failed_due_to_regex"),
        Some(1.0),
        "{body}"
    );
}

#[test]
fn header_matchers_fail_a_probe_as_blackbox_exporters_do() {
    let scratch = Scratch::new("headers");
    let config = scratch.file(
        "config.yml",
        "modules:\n  no_nginx:\n    prober: http\n    timeout: 2s\n    http:\n      fail_if_header_matches:\n        \
         - {header: Server, regexp: nginx}\n  json:\n    prober: http\n    timeout: 2s\n    http:\n      \
         fail_if_header_not_matches:\n        - {header: Content-Type, regexp: json}\n  \
         cookie:\n    prober: http\n    timeout: 2s\n    http:\n      fail_if_header_not_matches:\n        \
         - {header: Set-Cookie, regexp: x, allow_missing: true}\n",
    );
    let exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let (port, _heads) = http_server("Server: nginx/1.22.1\r\nContent-Type: application/json\r\n");
    let probe = |module: &str| http_probe(&exporter, module, port);
    let refused = probe("no_nginx");
    assert_failed_on_regexp(&refused);
    let json = probe("json");
    assert_eq!(value(&json, "probe_success"), Some(1.0), "{json}");
    assert_eq!(
        value(&json, "probe_failed_due_to_regex"),
        Some(0.0),
        "{json}"
    );
    let cookie = probe("cookie");
    assert_eq!(value(&cookie, "probe_success"), Some(1.0), "{cookie}");
    let bad = scratch.file(
        "bad.yml",
        "modules:\n  x:\n    prober: http\n    http:\n      fail_if_header_matches: [{header: Server, regexp: \"(\"}]\n",
    );
    let out = netdx(&["exporter", "--config", bad.to_str().unwrap()]);
    assert_one_line_error(
        &out,
        "modules.x.http.fail_if_header_matches[0]: regexp \"(\" does not compile",
    );
}

#[test]
fn body_regexps_fail_a_probe_as_blackbox_exporters_do() {
    let scratch = Scratch::new("body");
    let config = scratch.file(
        "config.yml",
        "modules:\n  says_ok:\n    prober: http\n    timeout: 2s\n    http:\n      \
         fail_if_body_not_matches_regexp: [\"^o.$\"]\n  not_ok:\n    prober: http\n    timeout: 2s\n    http:\n      \
         fail_if_body_matches_regexp: [nope, ok]\n",
    );
    let exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let (port, _heads) = http_server("");
    let probe = |module: &str| http_probe(&exporter, module, port);
    let says_ok = probe("says_ok");
    assert_eq!(value(&says_ok, "probe_success"), Some(1.0), "{says_ok}");
    let not_ok = probe("not_ok");
    assert_failed_on_regexp(&not_ok);
}

#[test]
fn the_hostname_parameter_sets_an_http_probes_host_field() {
    let scratch = Scratch::new("hostname");
    let config = scratch.file(
        "config.yml",
        "modules:\n  http_2xx:\n    prober: http\n    timeout: 2s\n  \
         pinned:\n    prober: http\n    timeout: 2s\n    http:\n      headers: {Host: fixed.test}\n",
    );
    let exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let (port, heads) = http_server("");
    let body = get(
        &exporter,
        &format!("/probe?module=http_2xx&target=http://127.0.0.1:{port}/&hostname=virtual.test"),
    )
    .body;
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    let head = heads.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("\r\nhost: virtual.test\r\n"),
        "{head}"
    );
    let clash = get(
        &exporter,
        &format!("/probe?module=pinned&target=http://127.0.0.1:{port}/&hostname=virtual.test"),
    );
    assert_eq!(clash.status, 400);
    assert!(
        clash.body.contains("host header defined both"),
        "{}",
        clash.body
    );
}

#[test]
fn a_bad_new_config_is_refused_on_reload_and_the_old_one_kept() {
    let scratch = Scratch::new("reload");
    let config = scratch.file("config.yml", LOOPBACK_CONFIG);
    let mut exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    std::fs::write(&config, "modules:\n  x:\n    prober: gopher\n").unwrap();
    let refused = request(exporter.address, "POST", "/-/reload", &[]);
    assert_eq!(refused.status, 500, "{}", refused.body);
    assert!(refused.body.contains("unknown prober"), "{}", refused.body);
    exporter.wait_line(
        "config reload refused, the old config stays",
        Duration::from_secs(5),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let still = get(
        &exporter,
        &format!("/probe?target=127.0.0.1:{port}&module=tcp_connect"),
    );
    assert_eq!(
        value(&still.body, "probe_success"),
        Some(1.0),
        "{}",
        still.body
    );
    // SIGHUP loads a good one.
    std::fs::write(
        &config,
        "modules:\n  renamed:\n    prober: tcp\n    timeout: 2s\n",
    )
    .unwrap();
    let pid = exporter.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    exporter.wait_line("config reloaded (1 modules)", Duration::from_secs(5));
    let renamed = get(
        &exporter,
        &format!("/probe?target=127.0.0.1:{port}&module=renamed"),
    );
    assert_eq!(
        value(&renamed.body, "probe_success"),
        Some(1.0),
        "{}",
        renamed.body
    );
    let gone = get(
        &exporter,
        &format!("/probe?target=127.0.0.1:{port}&module=tcp_connect"),
    );
    assert_eq!(gone.status, 400);
    let own = get(&exporter, "/metrics");
    assert_eq!(
        value(
            &own.body,
            "netdx_exporter_config_reloads_total{result=\"failure\"}"
        ),
        Some(1.0),
        "{}",
        own.body
    );
    assert_eq!(
        value(&own.body, "netdx_exporter_config_last_reload_successful"),
        Some(1.0)
    );
}

#[test]
fn prometheus_scrape_timeout_header_bounds_a_probe_less_half_a_second() {
    let scratch = Scratch::new("header");
    // No module timeout: the scrape's (less 0.5 s) is the probe's.
    let config = scratch.file("config.yml", "modules:\n  slow:\n    prober: tcp\n");
    let exporter = Exporter::start(None, &["--config", config.to_str().unwrap()]);
    let (_listener, _filling, port) = stalled_port();
    let began = Instant::now();
    let response = request(
        exporter.address,
        "GET",
        &format!("/probe?target=127.0.0.1:{port}&module=slow&debug=true"),
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
    );
    let took = began.elapsed();
    // 1.5 s less the 0.5 s offset.
    let timeout: f64 = response
        .body
        .split("timeout_seconds=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{}", response.body));
    assert_eq!(timeout, 1.0, "{}", response.body);
    assert!(
        response.body.contains("probe_success 0\n"),
        "{}",
        response.body
    );
    // Within the scrape's own timeout, which Prometheus would enforce.
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(1500),
        "answered after {took:?}"
    );
}

#[test]
fn an_unprivileged_exporter_pings_through_icmp_datagram_sockets() {
    require_root!();
    let ns = Netns::new("expunpriv");
    // nobody's group may open ICMP datagram sockets here, as on Debian.
    ns.sysctl("net.ipv4.ping_group_range=0 2147483647");
    let scratch = Scratch::new("unprivileged");
    let config = scratch.file(
        "config.yml",
        "modules:\n  icmp:\n    prober: icmp\n    timeout: 2s\n    icmp: {preferred_ip_protocol: ip4, packets: 3, interval: 10ms}\n",
    );
    let exporter = Exporter::spawn(ns.command(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            netdx_bin(),
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--config",
            config.to_str().unwrap(),
        ],
    ));
    let url = exporter.url("/probe?module=icmp&target=127.0.0.1");
    let body = curl(&ns, &url);
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(
        value(&body, "probe_icmp_packets_received_total"),
        Some(3.0),
        "{body}"
    );
    let debug = curl(&ns, &format!("{url}&debug=true"));
    assert!(debug.contains("Socket open (Datagram)"), "{debug}");
}

/// /proc/net/raw's remote addresses of the ICMP sockets open in `ns`.
fn raw_icmp_peers(ns: &Netns) -> Vec<String> {
    let table = String::from_utf8_lossy(&ns.run("cat", &["/proc/net/raw"]).stdout).into_owned();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address "ADDR:0001": the port column is the protocol.
            (fields.get(1)?.ends_with(":0001")).then(|| fields.get(2).map(|f| f.to_string()))?
        })
        .collect()
}

#[test]
fn an_icmp_probes_raw_socket_is_connected_to_its_target_so_the_kernel_copies_it_no_other_replies() {
    require_root!();
    let pair = Pair::new("expconn");
    let scratch = Scratch::new("connected");
    let config = scratch.file(
        "config.yml",
        "modules:\n  icmp:\n    prober: icmp\n    timeout: 5s\n    icmp: {preferred_ip_protocol: ip4, packets: 20, interval: 100ms}\n",
    );
    let exporter = Exporter::start(Some(&pair.client), &["--config", config.to_str().unwrap()]);
    let url = exporter.url(&format!("/probe?module=icmp&target={}", Pair::HOST_V4));
    let probing = pair
        .client
        .command("curl", &["-sS", "--max-time", "10", &url])
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl");
    // 10.9.0.2 as the kernel prints it: the address's bytes, little-endian.
    let want = "0200090A:0000".to_string();
    let deadline = Instant::now() + Duration::from_secs(5);
    // Every peer seen while polling: the probe's socket exists for 2 s.
    let mut peers = BTreeSet::new();
    while !peers.contains(&want) && Instant::now() < deadline {
        peers.extend(raw_icmp_peers(&pair.client));
        std::thread::sleep(Duration::from_millis(20));
    }
    let body =
        String::from_utf8_lossy(&probing.wait_with_output().expect("curl").stdout).into_owned();
    assert!(
        peers.contains(&want),
        "no raw ICMP socket connected to {} while the probe ran: {peers:?}",
        Pair::HOST_V4
    );
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(
        value(&body, "probe_icmp_packets_received_total"),
        Some(20.0),
        "{body}"
    );
}

#[test]
fn ipv6_targets_are_probed_over_ipv6_as_blackbox_prefers() {
    require_root!();
    let pair = Pair::new("expv6");
    let scratch = Scratch::new("v6");
    // No preferred_ip_protocol: blackbox's default, ip6.
    let config = scratch.file(
        "config.yml",
        "modules:\n  icmp:\n    prober: icmp\n    timeout: 5s\n    icmp: {packets: 3, interval: 10ms}\n",
    );
    let exporter = Exporter::start(Some(&pair.client), &["--config", config.to_str().unwrap()]);
    // Fresh namespaces take a moment to answer their first neighbour solicitation.
    let url = exporter.url(&format!("/probe?module=icmp&target={}", Pair::HOST_V6));
    let body = poll(
        || curl(&pair.client, &url),
        |body| value(body, "probe_icmp_packets_received_total") == Some(3.0),
    );
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(value(&body, "probe_ip_protocol"), Some(6.0), "{body}");
    assert_eq!(
        value(&body, "probe_icmp_packets_received_total"),
        Some(3.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "probe_icmp_reply_hop_limit"),
        Some(64.0),
        "{body}"
    );
}

#[test]
fn listening_beyond_loopback_warns_that_anyone_can_make_the_host_probe() {
    require_root!();
    // In a namespace of its own, so nothing outside can reach it.
    let ns = Netns::new("expwarn");
    let mut exporter = Exporter::start_on(Some(&ns), "0.0.0.0:0", &[]);
    let warning = exporter.wait_line("warning: listening on 0.0.0.0:", Duration::from_secs(5));
    assert!(warning.contains("targets_allowed"), "{warning}");
}

/// VmHWM (peak resident memory) of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[test]
fn a_thousand_concurrent_probes_are_each_answered_in_time_or_with_503() {
    let scratch = Scratch::new("thousand");
    let config = scratch.file(
        "config.yml",
        "modules:\n  stalled:\n    prober: tcp\n    timeout: 2s\n",
    );
    let exporter = Exporter::start(
        None,
        &[
            "--config",
            config.to_str().unwrap(),
            "--max-concurrent",
            "32",
        ],
    );
    let (_listener, _filling, port) = stalled_port();
    let address = exporter.address;
    let path = format!("/probe?target=127.0.0.1:{port}&module=stalled");
    let started = Instant::now();
    let workers: Vec<_> = (0..1000)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let began = Instant::now();
                let response = request(
                    address,
                    "GET",
                    &path,
                    &[("X-Prometheus-Scrape-Timeout-Seconds", "2.5")],
                );
                (response.status, began.elapsed(), response.body)
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    for worker in workers {
        let (status, took, body) = worker.join().unwrap();
        *statuses.entry(status).or_insert(0) += 1;
        assert!(status == 200 || status == 503, "{status}: {body}");
        if status == 200 {
            assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
        }
        // The probe's 2 s, and room for a loaded machine to answer.
        assert!(
            took < Duration::from_secs(5),
            "answered after {took:?} ({status})"
        );
    }
    assert!(
        statuses.get(&200).copied().unwrap_or(0) >= 32,
        "{statuses:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let peak = peak_rss_kib(exporter.child.id());
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
}

#[test]
fn textfile_output_passes_promtool_check_metrics() {
    if !installed("promtool", "textfile_output_passes_promtool_check_metrics") {
        return;
    }
    let scratch = Scratch::new("textfile");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // netdx's own echo service, for the echo prober.
    let echo_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let echo_bind = format!("127.0.0.1:{echo_port}");
    let mut echo =
        spawn_quiet(Command::new(netdx_bin()).args(["echo", "serve", "--bind", &echo_bind]));
    let config = scratch.file(
        "config.yml",
        &format!(
            "{LOOPBACK_CONFIG}  echo_udp:\n    prober: echo\n    timeout: 2s\n    echo: {{protocol: udp, packets: 5, interval: 10ms}}\n\
             targets:\n  - {{target: \"127.0.0.1:{port}\", module: tcp_connect}}\n  \
             - {{target: \"127.0.0.1:{port}\", module: tcping}}\n  - {{target: \"127.0.0.1:1\", module: tcp_connect}}\n  \
             - {{target: \"{echo_bind}\", module: echo_udp}}\n"
        ),
    );
    let dir = scratch.0.join("textfiles");
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(netdx_bin())
        .args(["exporter", "--config", config.to_str().unwrap()])
        .args(["--textfile", dir.to_str().unwrap(), "--interval", "1"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let file = dir.join("netdx_exporter.prom");
    // The first round may find the echo service not yet bound: wait for one with its echoes.
    let echoed =
        format!("probe_echo_received_total{{module=\"echo_udp\",target=\"{echo_bind}\"}} 5\n");
    let text = poll(
        || std::fs::read_to_string(&file).unwrap_or_default(),
        |text| text.contains(&echoed),
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = echo.kill();
    let _ = echo.wait();
    assert!(text.contains(&echoed), "{text}");
    assert!(
        text.contains(&format!(
            "probe_success{{module=\"tcp_connect\",target=\"127.0.0.1:{port}\"}} 1\n"
        )),
        "{text}"
    );
    assert!(text.contains("probe_success{module=\"tcp_connect\",target=\"127.0.0.1:1\"} 0\n"));
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        stdout(&out),
        common::stderr(&out)
    );
    // Only the file: the temporary one was renamed over it.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".netdx_exporter.prom."))
        .collect();
    assert_eq!(names, ["netdx_exporter.prom"]);
}

/// A Prometheus server in `ns` scraping the exporter there, with
/// blackbox_exporter's README relabelling; killed on drop.
struct Prometheus {
    child: Child,
    port: u16,
    _scratch: Scratch,
}

impl Prometheus {
    /// `jobs`: (module, targets), each a job scraped every second.
    fn start(ns: &Netns, exporter: &Exporter, jobs: &[(&str, &[&str])]) -> Prometheus {
        let scratch = Scratch::new(&format!("prom-{}", ns.name()));
        let mut config = String::from(
            "global:\n  scrape_interval: 2s\n  scrape_timeout: 1500ms\nscrape_configs:\n",
        );
        for (module, targets) in jobs {
            let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
            config.push_str(&format!(
                "  - job_name: '{module}'\n    metrics_path: /probe\n    params:\n      module: [{module}]\n    \
                 static_configs:\n      - targets: [{}]\n    relabel_configs:\n      - source_labels: [__address__]\n        \
                 target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      \
                 - target_label: __address__\n        replacement: {}\n",
                targets.join(", "),
                exporter.address
            ));
        }
        let file = scratch.file("prometheus.yml", &config);
        let port = 19090 + (std::process::id() % 1000) as u16;
        let data = scratch.0.join("data");
        let child = spawn_quiet(&mut ns.command(
            "prometheus",
            &[
                &format!("--config.file={}", file.display()),
                &format!("--storage.tsdb.path={}", data.display()),
                &format!("--web.listen-address=127.0.0.1:{port}"),
            ],
        ));
        Prometheus {
            child,
            port,
            _scratch: scratch,
        }
    }

    /// An instant query's result vector, once it has `want` series or `limit` passes.
    fn query(
        &self,
        ns: &Netns,
        promql: &str,
        want: usize,
        limit: Duration,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + limit;
        loop {
            let out = ns.run(
                "curl",
                &[
                    "-sS",
                    "--max-time",
                    "5",
                    "--data-urlencode",
                    &format!("query={promql}"),
                    &format!("http://127.0.0.1:{}/api/v1/query", self.port),
                ],
            );
            let result: Vec<serde_json::Value> =
                serde_json::from_slice::<serde_json::Value>(&out.stdout)
                    .ok()
                    .and_then(|v| v["data"]["result"].as_array().cloned())
                    .unwrap_or_default();
            if result.len() >= want {
                return result;
            }
            assert!(
                Instant::now() < deadline,
                "{promql}: {} series after {limit:?}, wanted {want}: {}",
                result.len(),
                stdout(&out)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of one series of a query result, by its `instance`.
fn by_instance(result: &[serde_json::Value], instance: &str) -> Option<f64> {
    result
        .iter()
        .find(|s| s["metric"]["instance"] == instance)
        .and_then(|s| s["value"][1].as_str()?.parse().ok())
}

#[test]
fn prometheus_sees_live_silent_and_lossy_hosts_through_the_exporter() {
    require_root!();
    if !installed(
        "prometheus",
        "prometheus_sees_live_silent_and_lossy_hosts_through_the_exporter",
    ) {
        return;
    }
    let pair = Pair::new("expprom");
    pair.answer_for("10.9.1.0/24");
    // 10.9.1.2 is silent, 10.9.1.3 loses 30 % of its echo requests.
    pair.host.sh("iptables -A INPUT -d 10.9.1.2 -j DROP");
    let loss = 0.3;
    pair.host.sh(&format!(
        "iptables -A INPUT -d 10.9.1.3 -p icmp --icmp-type echo-request -m statistic --mode random --probability {loss} -j DROP"
    ));
    let scratch = Scratch::new("prom");
    let config = scratch.file(
        "config.yml",
        "modules:\n  icmp:\n    prober: icmp\n    timeout: 1s\n    icmp:\n      preferred_ip_protocol: ip4\n  \
         icmp_loss:\n    prober: icmp\n    icmp:\n      preferred_ip_protocol: ip4\n      packets: 100\n      interval: 5ms\n",
    );
    let exporter = Exporter::start(Some(&pair.client), &["--config", config.to_str().unwrap()]);
    let prometheus = Prometheus::start(
        &pair.client,
        &exporter,
        &[
            ("icmp", &["10.9.0.2", "10.9.1.2"]),
            ("icmp_loss", &["10.9.1.3"]),
        ],
    );
    let limit = Duration::from_secs(60);
    let success = prometheus.query(&pair.client, "probe_success{job=\"icmp\"}", 2, limit);
    assert_eq!(by_instance(&success, "10.9.0.2"), Some(1.0), "{success:?}");
    assert_eq!(by_instance(&success, "10.9.1.2"), Some(0.0), "{success:?}");
    // Loss over at least three scrapes of 100 packets each.
    let counts = |metric: &str| {
        let result = prometheus.query(
            &pair.client,
            &format!("sum_over_time({metric}{{instance=\"10.9.1.3\"}}[5m])"),
            1,
            limit,
        );
        by_instance(&result, "10.9.1.3").unwrap()
    };
    let deadline = Instant::now() + limit;
    let (sent, received) = loop {
        let sent = counts("probe_icmp_packets_sent_total");
        if sent >= 300.0 {
            break (sent, counts("probe_icmp_packets_received_total"));
        }
        assert!(Instant::now() < deadline, "only {sent} packets sent");
        std::thread::sleep(Duration::from_millis(500));
    };
    let seen = 1.0 - received / sent;
    let bound = 4.5 * (loss * (1.0 - loss) / sent).sqrt();
    assert!(
        (seen - loss).abs() <= bound,
        "loss {seen:.3} over {sent} packets, iptables drops {loss} (±{bound:.3})"
    );
    let ratio = prometheus.query(
        &pair.client,
        "probe_icmp_loss_ratio{instance=\"10.9.1.3\"}",
        1,
        limit,
    );
    let ratio = by_instance(&ratio, "10.9.1.3").unwrap();
    let single = 4.5 * (loss * (1.0 - loss) / 100.0).sqrt();
    assert!((ratio - loss).abs() <= single, "one scrape's loss {ratio}");
}

#[test]
fn a_trace_module_gives_prometheus_each_hop_of_a_routed_chain() {
    require_root!();
    if !installed(
        "prometheus",
        "a_trace_module_gives_prometheus_each_hop_of_a_routed_chain",
    ) {
        return;
    }
    let chain = Chain::new("exptrace");
    let scratch = Scratch::new("trace");
    let config = scratch.file(
        "config.yml",
        "modules:\n  trace:\n    prober: trace\n    trace:\n      method: icmp\n      preferred_ip_protocol: ip4\n      max_hops: 8\n      probes: 2\n",
    );
    let exporter = Exporter::start(Some(&chain.client), &["--config", config.to_str().unwrap()]);
    let prometheus = Prometheus::start(&chain.client, &exporter, &[("trace", &[Chain::TARGET])]);
    let limit = Duration::from_secs(60);
    let hops = prometheus.query(&chain.client, "probe_trace_hops", 1, limit);
    assert_eq!(by_instance(&hops, Chain::TARGET), Some(3.0), "{hops:?}");
    let rtts = prometheus.query(&chain.client, "probe_trace_hop_rtt_seconds", 3, limit);
    let mut seen: Vec<(String, String)> = rtts
        .iter()
        .map(|s| {
            (
                s["metric"]["hop"].as_str().unwrap().to_string(),
                s["metric"]["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("1".to_string(), Chain::ROUTER_A.to_string()),
            ("2".to_string(), Chain::ROUTER_B.to_string()),
            ("3".to_string(), Chain::TARGET.to_string()),
        ]
    );
    let loss = prometheus.query(&chain.client, "probe_trace_hop_loss_ratio", 3, limit);
    assert!(loss.iter().all(|s| s["value"][1] == "0"), "{loss:?}");
}

/// A blackbox_exporter config for its four probers, as its users write them.
fn blackbox_config(dns_server_name: &str) -> String {
    format!(
        "modules:\n  icmp:\n    prober: icmp\n    timeout: 2s\n    icmp:\n      preferred_ip_protocol: ip4\n  \
         tcp_connect:\n    prober: tcp\n    timeout: 2s\n  dns_udp:\n    prober: dns\n    timeout: 2s\n    dns:\n      \
         query_name: {dns_server_name}\n      query_type: A\n      valid_rcodes: [NOERROR]\n      preferred_ip_protocol: ip4\n  \
         http_2xx:\n    prober: http\n    timeout: 2s\n    http:\n      preferred_ip_protocol: ip4\n      valid_status_codes: []\n      method: GET\n"
    )
}

#[test]
fn netdx_emits_every_series_blackbox_exporter_emits_for_the_same_config_and_targets() {
    require_root!();
    let test = "netdx_emits_every_series_blackbox_exporter_emits_for_the_same_config_and_targets";
    if !installed("prometheus-blackbox-exporter", test) || !installed("dnsmasq", test) {
        return;
    }
    let mut pair = Pair::new("expbb");
    let scratch = Scratch::new("blackbox");
    let site = scratch.0.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "hello\n").unwrap();
    pair.host.spawn(
        "python3",
        &[
            "-m",
            "http.server",
            "8080",
            "--bind",
            Pair::HOST_V4,
            "--directory",
            site.to_str().unwrap(),
        ],
    );
    pair.host.spawn(
        "dnsmasq",
        &[
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            &format!("--listen-address={}", Pair::HOST_V4),
            "--address=/probe.test/10.9.0.2",
            "--pid-file=",
        ],
    );
    let config = scratch.file("blackbox.yml", &blackbox_config("probe.test"));
    // The same file loads in both.
    let check = Command::new("prometheus-blackbox-exporter")
        .args([
            &format!("--config.file={}", config.display()),
            "--config.check",
        ])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "blackbox: {}",
        common::stderr(&check)
    );
    let ours = netdx(&[
        "exporter",
        "--config",
        config.to_str().unwrap(),
        "--check-config",
    ]);
    assert_eq!(ours.status.code(), Some(0), "{}", common::stderr(&ours));
    let port = 19115 + (std::process::id() % 1000) as u16;
    let mut blackbox = spawn_quiet(&mut pair.client.command(
        "prometheus-blackbox-exporter",
        &[
            &format!("--config.file={}", config.display()),
            &format!("--web.listen-address=127.0.0.1:{port}"),
        ],
    ));
    let exporter = Exporter::start(Some(&pair.client), &["--config", config.to_str().unwrap()]);
    let blackbox_url = format!("http://127.0.0.1:{port}");
    // The servers answer once they are up.
    let until_up = |url: &str| {
        let up = || {
            let out = pair.client.run("curl", &["-sf", "-o", "/dev/null", url]);
            out.status.success()
        };
        assert!(poll(up, |up| *up), "{url} did not come up");
    };
    until_up(&format!("{blackbox_url}/-/healthy"));
    until_up("http://10.9.0.2:8080/");
    let probes = [
        ("icmp", "10.9.0.2".to_string()),
        ("tcp_connect", "10.9.0.2:8080".to_string()),
        ("dns_udp", "10.9.0.2".to_string()),
        ("http_2xx", "http://10.9.0.2:8080/".to_string()),
    ];
    for (module, target) in &probes {
        let path = format!(
            "/probe?module={module}&target={}",
            target.replace(':', "%3A").replace('/', "%2F")
        );
        let theirs = curl(&pair.client, &format!("{blackbox_url}{path}"));
        let mine = curl(&pair.client, &exporter.url(&path));
        assert_eq!(
            value(&theirs, "probe_success"),
            Some(1.0),
            "{module}: blackbox: {theirs}"
        );
        assert_eq!(
            value(&mine, "probe_success"),
            Some(1.0),
            "{module}: netdx: {mine}"
        );
        let missing: Vec<String> = series(&theirs)
            .difference(&series(&mine))
            .cloned()
            .collect();
        assert!(
            missing.is_empty(),
            "{module}: netdx lacks {missing:?}\nblackbox:\n{theirs}\nnetdx:\n{mine}"
        );
    }
    let _ = blackbox.kill();
    let _ = blackbox.wait();
}
