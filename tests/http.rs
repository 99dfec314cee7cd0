//! `netdx http` against a real nginx (plain and TLS, certificates from a CA
//! made for the test) and a scripted misbehaving server, both in a host
//! namespace the client reaches over a veth pair; curl on the same requests
//! in the same run is the reference. Namespaces are named `nxh-…`.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use common::netns::{Netns, Pair};
use common::schema::assert_schema_valid_output;
use common::{assert_one_line_error, stderr, stdout};
use serde_json::Value;

/// The host's address, where nginx listens.
const WEB: &str = Pair::HOST_V4;
/// The TLS name on the server's certificate.
const NAME: &str = "web.test";
/// Where the scripted server listens.
const MISBEHAVING_PORT: &str = "8080";
/// The size of www/big.txt.
const BIG: usize = 200_000;

/// nginx in the host namespace of a pair, with its CA, certificate,
/// document root, access log and temp paths in one directory.
struct Web {
    pair: Pair,
    dir: PathBuf,
    /// Held while the web runs: the phase comparison takes it exclusively,
    /// so no other test of this file loads the machine while it measures.
    _quiet: Quiet,
}

/// A share of the machine: every test holds a read guard, the timing
/// comparison a write guard.
enum Quiet {
    Shared(#[allow(dead_code)] std::sync::RwLockReadGuard<'static, ()>),
    Alone(#[allow(dead_code)] std::sync::RwLockWriteGuard<'static, ()>),
}

static MACHINE: std::sync::RwLock<()> = std::sync::RwLock::new(());

impl Web {
    /// Builds the pair, makes the CA and the server's certificate, starts
    /// nginx on WEB:80 and WEB:443, and waits until both listen.
    fn start(tag: &str) -> Web {
        let quiet = Quiet::Shared(MACHINE.read().unwrap_or_else(|p| p.into_inner()));
        Web::start_with(tag, quiet)
    }

    /// [`Web::start`] with no other test of this file running meanwhile.
    fn start_alone(tag: &str) -> Web {
        let quiet = Quiet::Alone(MACHINE.write().unwrap_or_else(|p| p.into_inner()));
        Web::start_with(tag, quiet)
    }

    fn start_with(tag: &str, quiet: Quiet) -> Web {
        let mut pair = Pair::new(tag);
        let dir = std::env::temp_dir().join(format!("netdx-http-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("www")).unwrap();
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        make_certificates(&dir);
        let line = "netdx http test line, long enough to compress well.\n";
        let big: String = line.repeat(BIG / line.len() + 1)[..BIG].to_string();
        std::fs::write(dir.join("www/big.txt"), big).unwrap();
        std::fs::write(dir.join("www/new.txt"), "moved here\n").unwrap();
        let conf = NGINX_CONF
            .replace("{dir}", &dir.display().to_string())
            .replace("{web}", WEB)
            .replace("{web6}", Pair::HOST_V6);
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let prefix = format!("{}/", dir.display());
        let conf = dir.join("nginx.conf").display().to_string();
        let error_log = dir.join("error.log").display().to_string();
        pair.host
            .spawn("nginx", &["-p", &prefix, "-c", &conf, "-e", &error_log]);
        wait_listening(
            &pair.host,
            &[&format!("{WEB}:80 "), &format!("{WEB}:443 ")],
            || std::fs::read_to_string(&error_log).unwrap_or_default(),
        );
        Web {
            pair,
            dir,
            _quiet: quiet,
        }
    }

    /// [`Web::start`], and the scripted server on WEB:8080 beside nginx.
    fn with_misbehaving(tag: &str) -> Web {
        let mut web = Web::start(tag);
        let script = common::responder("http_misbehaving.py");
        web.pair
            .host
            .spawn_ready("python3", &[&script, WEB, MISBEHAVING_PORT]);
        web
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    /// `netdx http ARGS…` in the client namespace.
    fn netdx(&self, args: &[&str]) -> Output {
        let mut full = vec!["http"];
        full.extend_from_slice(args);
        self.pair.client.netdx(&full)
    }

    /// `netdx --json http ARGS…`: the exit code and the document, checked
    /// against the schema.
    fn json(&self, args: &[&str]) -> (Option<i32>, Value) {
        let mut full = vec!["--json", "http"];
        full.extend_from_slice(args);
        let output = self.pair.client.netdx(&full);
        let document = assert_schema_valid_output("http", &output.stdout);
        (output.status.code(), document)
    }

    /// curl ARGS… in the client namespace; its stdout.
    fn curl(&self, args: &[&str]) -> String {
        let output = self.pair.client.run("curl", args);
        assert!(
            output.status.success(),
            "curl {args:?}: {}",
            stderr(&output)
        );
        stdout(&output)
    }

    /// The access log's lines (`METHOD URI STATUS CONNECTION REQUESTS
    /// REQUEST_LENGTH USER_AGENT X_TRACE CONTENT_LENGTH`).
    fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        // The namespace's drop kills nginx; the directory goes here.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const NGINX_CONF: &str = r#"
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events { worker_connections 128; }
http {
    log_format conns '$request_method $uri $status $connection $connection_requests $request_length $http_user_agent $http_x_trace $http_content_length';
    access_log {dir}/access.log conns;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    default_type text/plain;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 0;
    keepalive_requests 1000;
    server {
        listen {web}:80;
        listen [{web6}]:80;
        listen {web}:443 ssl;
        ssl_protocols TLSv1.2 TLSv1.3;
        server_name web.test;
        ssl_certificate {dir}/server.pem;
        ssl_certificate_key {dir}/server.key;
        root {dir}/www;
        location = /fixed { return 200 "hello from nginx\n"; }
        location = /old { return 301 /new.txt; }
        location = /hop1 { return 302 /hop2; }
        location = /hop2 { return 307 /new.txt; }
        location = /loop { return 302 /loop; }
        location = /teapot { return 418 "no\n"; }
        location = /form { return 303 /fixed; }
    }
}
"#;

/// A CA (`ca.pem`) and a certificate for NAME and WEB signed by it
/// (`server.pem`, `server.key`), valid 30 days.
fn make_certificates(dir: &std::path::Path) {
    let run = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("running openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            stderr(&output)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend_from_slice(&ec);
    ca.extend_from_slice(&[
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/CN=netdx test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&ca);
    let mut csr = vec!["req"];
    csr.extend_from_slice(&ec);
    csr.extend_from_slice(&[
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=web.test",
    ]);
    run(&csr);
    std::fs::write(
        dir.join("server.ext"),
        format!("subjectAltName=DNS:{NAME},IP:{WEB}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "30",
        "-extfile",
        "server.ext",
    ]);
}

/// Polls `ss -tlnH` in `ns` until every one of `needles` is listed.
fn wait_listening(ns: &Netns, needles: &[&str], log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listening = ns.sh("ss -tlnH");
        if needles.iter().all(|n| listening.contains(n)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never listened on {needles:?}: {listening}\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn url(path: &str) -> String {
    format!("http://{WEB}{path}")
}

/// A path on the scripted server.
fn scripted(path: &str) -> String {
    format!("http://{WEB}:{MISBEHAVING_PORT}{path}")
}

fn tls_url(path: &str) -> String {
    format!("https://{NAME}{path}")
}

const PIN: &str = "web.test:443:10.9.0.2";

fn ms(document: &Value, field: &str) -> f64 {
    document[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is not a number: {document}"))
}

/// The phases are cumulative: each at or after the one before.
fn assert_ordered(document: &Value) {
    let fields = [
        "time_namelookup",
        "time_connect",
        "time_pretransfer",
        "time_requestsent",
        "time_starttransfer",
        "time_total",
    ];
    for pair in fields.windows(2) {
        assert!(
            ms(document, pair[0]) <= ms(document, pair[1]),
            "{} after {}: {document}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn plain_get_reports_status_headers_size_and_tcp_info_as_curl_does() {
    require_root!();
    let web = Web::start("plain");
    let (code, document) = web.json(&[&url("/fixed")]);
    assert_eq!(code, Some(0));
    assert_eq!(document["status"], 200);
    assert_eq!(document["http_version"], "1.1");
    assert_eq!(document["size_download"], 17);
    assert_eq!(document["lookup"]["family"], "IPv4");
    assert_eq!(document["lookup"]["source"], "literal");
    assert_eq!(document["num_connects"], 1);
    assert!(
        document["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "Server" && f["value"].as_str().unwrap().starts_with("nginx"))
    );
    assert_ordered(&document);
    assert!(document["tcp_info"]["rtt_ms"].as_f64().unwrap() > 0.0);
    assert!(document["tcp_info"]["mss"].as_u64().unwrap() > 0);
    let curl = web.curl(&[
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download} %{http_version}",
        &url("/fixed"),
    ]);
    assert_eq!(curl, "200 17 1.1");

    let output = web.netdx(&[&url("/fixed")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("HTTP/1.1 200 OK\n"), "{text}");
    assert!(text.contains("\nContent-Length: 17\n"), "{text}");
    assert!(text.contains("Body: 17 bytes (17.0 B) discarded"), "{text}");
    for phase in [
        "time_namelookup",
        "time_connect",
        "time_starttransfer",
        "time_total",
        "TCP_INFO: rtt",
    ] {
        assert!(text.contains(phase), "{phase} missing: {text}");
    }

    // 4xx is a negative answer, not an error.
    let teapot = web.netdx(&[&url("/teapot")]);
    assert_eq!(teapot.status.code(), Some(1));
    assert!(stdout(&teapot).starts_with("HTTP/1.1 418 "));
}

/// A hosts file for one namespace: `ip netns exec` mounts
/// /etc/netns/NAME/hosts over /etc/hosts, so the client's resolver reads it.
struct HostsFile(PathBuf);

impl HostsFile {
    fn new(ns: &Netns, lines: &str) -> HostsFile {
        let dir = PathBuf::from("/etc/netns").join(ns.name());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hosts"), lines).unwrap();
        HostsFile(dir)
    }
}

impl Drop for HostsFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn names_resolve_through_netdxs_resolver_and_the_family_used_is_shown() {
    require_root!();
    let web = Web::start("resolve");
    let _hosts = HostsFile::new(
        &web.pair.client,
        &format!(
            "127.0.0.1 localhost\n{WEB} {NAME}\n{} {NAME}\n",
            Pair::HOST_V6
        ),
    );
    let target = format!("http://{NAME}/fixed");
    let (code, document) = web.json(&[&target]);
    assert_eq!(code, Some(0), "{document}");
    let lookup = &document["lookup"];
    assert_eq!(lookup["source"], "resolver");
    assert_eq!(lookup["addresses"], serde_json::json!([WEB, Pair::HOST_V6]));
    assert_eq!(lookup["family"], "IPv4");
    assert_eq!(document["exchanges"][0]["remote_ip"], WEB);
    let (code, document) = web.json(&["-6", &target]);
    assert_eq!(code, Some(0), "{document}");
    assert_eq!(document["lookup"]["family"], "IPv6");
    assert_eq!(document["exchanges"][0]["remote_ip"], Pair::HOST_V6);
    let text = stdout(&web.netdx(&["-6", &target]));
    assert!(
        text.contains("Connected to fd09::2 port 80 (IPv6, resolved)"),
        "{text}"
    );
    // An address literal in brackets.
    let (code, document) = web.json(&[&format!("http://[{}]/fixed", Pair::HOST_V6)]);
    assert_eq!((code, document["status"].as_u64()), (Some(0), Some(200)));
    assert_eq!(document["lookup"]["source"], "literal");
}

#[test]
fn tls_with_the_cacert_verifies_and_describes_the_certificate() {
    require_root!();
    let web = Web::start("tls");
    let ca = web.path("ca.pem");
    let (code, document) = web.json(&["--cacert", &ca, "--resolve", PIN, &tls_url("/fixed")]);
    assert_eq!(code, Some(0), "{document}");
    assert_eq!(document["status"], 200);
    assert_eq!(document["tls"]["alpn"], "http/1.1");
    assert_eq!(document["tls"]["verified"], true);
    assert_eq!(document["tls"]["version"], "TLSv1.3");
    assert_eq!(document["lookup"]["source"], "pinned");
    let cert = &document["certificate"];
    assert_eq!(cert["subject"], "CN=web.test");
    assert_eq!(cert["issuer"], "CN=netdx test CA");
    let days = cert["days_left"].as_i64().unwrap();
    assert!((29..=30).contains(&days), "{cert}");
    // The same expiry as openssl reads (notAfter=Jan  1 02:03:04 2027 GMT).
    let enddate = std::process::Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-enddate",
            "-dateopt",
            "iso_8601",
            "-in",
            &web.path("server.pem"),
        ])
        .output()
        .unwrap();
    let enddate = stdout(&enddate);
    let iso = enddate
        .trim()
        .trim_start_matches("notAfter=")
        .replace(' ', "T");
    assert_eq!(cert["not_after"].as_str().unwrap(), iso.replace("TZ", "Z"));
    assert!(ms(&document, "time_appconnect") > ms(&document, "time_connect"));
    assert_ordered(&document);

    let text = stdout(&web.netdx(&["--cacert", &ca, "--resolve", PIN, &tls_url("/fixed")]));
    assert!(text.contains("TLS: TLSv1.3 "), "{text}");
    assert!(text.contains("ALPN http/1.1"), "{text}");
    assert!(
        text.contains("Certificate: subject CN=web.test; issuer CN=netdx test CA"),
        "{text}"
    );
    assert!(text.contains("time_appconnect"), "{text}");
}

#[test]
fn tls_without_the_ca_fails_verification_with_the_reason_and_exit_2() {
    require_root!();
    let web = Web::start("tlsfail");
    let output = web.netdx(&["--resolve", PIN, &tls_url("/fixed")]);
    assert_one_line_error(
        &output,
        "certificate verification failed: signed by an unknown CA",
    );
    assert!(stderr(&output).contains("--cacert FILE"));
    // The certificate names web.test and 10.9.0.2, not another name.
    let ca = web.path("ca.pem");
    let output = web.netdx(&[
        "--cacert",
        &ca,
        "--resolve",
        "other.test:443:10.9.0.2",
        "https://other.test/",
    ]);
    assert_one_line_error(&output, "not valid for \"other.test\"");
}

#[test]
fn insecure_accepts_any_certificate_with_a_warning() {
    require_root!();
    let web = Web::start("insecure");
    let mut args = vec!["--json", "http", "-k", "--resolve", PIN];
    let target = tls_url("/fixed");
    args.push(&target);
    let output = web.pair.client.netdx(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("warning: -k: the server's certificate is not verified"));
    let document = assert_schema_valid_output("http", &output.stdout);
    assert_eq!(document["tls"]["verified"], false);
    assert_eq!(document["certificate"]["subject"], "CN=web.test");
}

#[test]
fn chunked_bodies_are_decoded_to_the_bytes_curl_gets() {
    require_root!();
    let web = Web::with_misbehaving("chunked");
    // nginx chunks what it compresses on the fly.
    let ours = web.path("ours.gz");
    let theirs = web.path("theirs.gz");
    let gzip = "Accept-Encoding: gzip";
    let (code, document) = web.json(&["-H", gzip, "-o", &ours, &url("/big.txt")]);
    assert_eq!(code, Some(0));
    let chunked = document["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["name"] == "Transfer-Encoding" && f["value"] == "chunked");
    assert!(chunked, "nginx did not chunk: {document}");
    let size = web.curl(&[
        "-s",
        "-H",
        gzip,
        "-o",
        &theirs,
        "-w",
        "%{size_download}",
        &url("/big.txt"),
    ]);
    assert_eq!(document["size_download"].to_string(), size);
    assert_eq!(
        std::fs::read(&ours).unwrap(),
        std::fs::read(&theirs).unwrap()
    );
    // Chunk extensions and odd chunk sizes, from the scripted server.
    let body = web.path("chunked.txt");
    let output = web.netdx(&["-o", &body, &scripted("/chunked")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&body).unwrap(), "hello world\n");
}

#[test]
fn a_body_without_a_length_runs_to_the_close_and_the_next_request_reconnects() {
    require_root!();
    let web = Web::with_misbehaving("close");
    let target = scripted("/close");
    let (code, document) = web.json(&["-c", "2", &target]);
    assert_eq!(code, Some(0), "{document}");
    assert_eq!(document["size_download"], 13);
    assert_eq!(
        document["num_connects"], 2,
        "a closed connection is not reused"
    );
    let reused: Vec<bool> = document["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reused"].as_bool().unwrap())
        .collect();
    assert_eq!(reused, [false, false]);
}

#[test]
fn content_length_bodies_are_streamed_to_the_output_file() {
    require_root!();
    let web = Web::start("length");
    let file = web.path("big.out");
    let (code, document) = web.json(&["-o", &file, &url("/big.txt")]);
    assert_eq!(code, Some(0));
    assert_eq!(document["size_download"], BIG);
    assert_eq!(document["output"], file.as_str());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(web.path("www/big.txt")).unwrap()
    );
    let text = stdout(&web.netdx(&["-o", &file, &url("/big.txt")]));
    assert!(
        text.contains(&format!("Body: {BIG} bytes (195.3 KiB) written to {file}")),
        "{text}"
    );
}

#[test]
fn redirects_are_followed_with_l_up_to_the_limit() {
    require_root!();
    let web = Web::start("redirect");
    let (code, document) = web.json(&[&url("/old")]);
    assert_eq!((code, document["status"].as_u64()), (Some(0), Some(301)));
    assert_eq!(document["num_redirects"], 0);

    let (code, document) = web.json(&["-L", &url("/hop1")]);
    assert_eq!(code, Some(0));
    assert_eq!(document["status"], 200);
    assert_eq!(document["num_redirects"], 2);
    assert_eq!(document["url_effective"], url("/new.txt"));
    assert_eq!(document["size_download"], 11);
    let statuses: Vec<u64> = document["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [302, 307, 200]);
    assert_eq!(
        document["num_connects"], 1,
        "one kept connection for the same host"
    );
    let curl = web.curl(&[
        "-s",
        "-L",
        "-o",
        "/dev/null",
        "-w",
        "%{num_redirects} %{url_effective}",
        &url("/hop1"),
    ]);
    assert_eq!(curl, format!("2 {}", url("/new.txt")));

    let text = stdout(&web.netdx(&["-L", &url("/hop1")]));
    assert!(
        text.starts_with("< HTTP/1.1 302 Moved Temporarily  → "),
        "{text}"
    );

    let output = web.netdx(&["-L", "--max-redirs", "5", &url("/loop")]);
    assert_one_line_error(
        &output,
        "maximum (5) redirects followed (raise it with --max-redirs N)",
    );
    let output = web.netdx(&["-L", &url("/loop")]);
    assert_one_line_error(&output, "maximum (50) redirects followed");
}

#[test]
fn head_sends_head_and_shows_only_the_headers() {
    require_root!();
    let web = Web::start("head");
    let output = web.netdx(&["-I", &url("/big.txt")]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("HTTP/1.1 200 OK\n"), "{text}");
    assert!(
        text.contains(&format!("\nContent-Length: {BIG}\n")),
        "{text}"
    );
    assert!(
        !text.contains("time_total"),
        "-I shows headers only: {text}"
    );
    let (_, document) = web.json(&["-I", &url("/big.txt")]);
    assert_eq!(document["size_download"], 0);
    assert!(
        web.access_log()
            .iter()
            .any(|l| l.starts_with("HEAD /big.txt 200 "))
    );
}

#[test]
fn data_is_posted_with_its_length_and_headers_are_added_replaced_or_removed() {
    require_root!();
    let web = Web::start("post");
    let (code, document) = web.json(&[
        "-d",
        "a=1&b=2",
        "-H",
        "User-Agent: tester/1",
        "-H",
        "X-Trace: 42",
        "-H",
        "Accept:",
        &url("/fixed"),
    ]);
    assert_eq!(code, Some(0), "{document}");
    let exchange = &document["exchanges"][0];
    assert_eq!(exchange["method"], "POST");
    let log = web.access_log();
    let fields: Vec<&str> = log[0].split(' ').collect();
    assert_eq!(fields[..3], ["POST", "/fixed", "200"], "{log:?}");
    // nginx counts the head it read (`return` discards the body unread).
    let head = exchange["size_request"].as_u64().unwrap() - 7;
    assert_eq!(fields[5], head.to_string(), "{log:?}");
    assert_eq!(fields[6..], ["tester/1", "42", "7"], "{log:?}");
    // After a 303, as curl does: a GET without the body.
    let (code, document) = web.json(&["-L", "-d", "x=1", &url("/form")]);
    assert_eq!(code, Some(0));
    let methods: Vec<&str> = document["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["POST", "GET"]);
    let output = web.netdx(&["-I", "-d", "x", &url("/fixed")]);
    assert_one_line_error(&output, "-I sends HEAD, which carries no body");
}

#[test]
fn repeats_reuse_one_kept_connection_and_give_percentiles() {
    require_root!();
    let web = Web::start("keepalive");
    let (code, document) = web.json(&["-c", "3", &url("/fixed")]);
    assert_eq!(code, Some(0));
    assert_eq!(document["num_connects"], 1);
    let reused: Vec<bool> = document["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reused"].as_bool().unwrap())
        .collect();
    assert_eq!(reused, [false, true, true]);
    let stats = &document["stats"]["time_total"];
    assert!(stats["min"].as_f64().unwrap() <= stats["p50"].as_f64().unwrap());
    assert!(stats["p50"].as_f64().unwrap() <= stats["max"].as_f64().unwrap());
    // nginx saw three requests on one connection: requests 1, 2, 3 of it.
    let lines: Vec<Vec<String>> = web
        .access_log()
        .iter()
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines.iter().all(|l| l[3] == lines[0][3]), "{lines:?}");
    let counts: Vec<&str> = lines.iter().map(|l| l[4].as_str()).collect();
    assert_eq!(counts, ["1", "2", "3"]);

    let text = stdout(&web.netdx(&["-c", "3", "--resolve", PIN, "-k", &tls_url("/fixed")]));
    assert!(text.contains("(1 connection)"), "{text}");
    assert!(text.contains("request   3: 200 OK"), "{text}");
    assert!(text.contains("(kept connection)"), "{text}");
}

/// The median of `values`.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Medians of each of `fields` over `runs` alternating requests to
/// `target` by netdx and by curl (`extra` given to both), ms.
fn medians_beside_curl(
    web: &Web,
    extra: &[&str],
    target: &str,
    fields: &[&str],
    runs: usize,
) -> (Vec<f64>, Vec<f64>) {
    let format: Vec<String> = fields.iter().map(|f| format!("%{{{f}}}")).collect();
    let format = format.join(" ");
    let mut ours: Vec<Vec<f64>> = vec![Vec::new(); fields.len()];
    let mut theirs: Vec<Vec<f64>> = vec![Vec::new(); fields.len()];
    for _ in 0..runs {
        let mut args = extra.to_vec();
        args.push(target);
        let (_, document) = web.json(&args);
        for (i, field) in fields.iter().enumerate() {
            ours[i].push(ms(&document, field));
        }
        let mut args = vec!["-s", "-o", "/dev/null", "-w", &format];
        args.extend_from_slice(extra);
        args.push(target);
        let curl = web.curl(&args);
        for (i, seconds) in curl.split(' ').enumerate() {
            theirs[i].push(seconds.parse::<f64>().unwrap() * 1000.0);
        }
    }
    (
        ours.into_iter().map(median).collect(),
        theirs.into_iter().map(median).collect(),
    )
}

/// The comparisons of one measurement, and whether every one held.
#[derive(Default)]
struct Agreement {
    report: String,
    held: bool,
}

impl Agreement {
    fn new() -> Agreement {
        Agreement {
            report: String::new(),
            held: true,
        }
    }

    /// `ours` within 5 % or 0.2 ms of curl's `theirs`.
    fn within(&mut self, what: &str, ours: f64, theirs: f64) {
        let tolerance = (theirs * 0.05).max(0.2);
        let ok = (ours - theirs).abs() <= tolerance;
        self.note(what, ours, theirs, &format!("±{tolerance:.3}"), ok);
    }

    /// `ours` no longer than curl's `theirs` (with the same tolerance).
    fn at_most(&mut self, what: &str, ours: f64, theirs: f64) {
        let tolerance = (theirs * 0.05).max(0.2);
        self.note(what, ours, theirs, "at most", ours <= theirs + tolerance);
    }

    fn note(&mut self, what: &str, ours: f64, theirs: f64, bound: &str, ok: bool) {
        self.report.push_str(&format!(
            "{what}: netdx {ours:.3} ms, curl {theirs:.3} ms ({bound}){}\n",
            if ok { "" } else { "  <- differs" }
        ));
        self.held &= ok;
    }
}

/// Measures up to three times until `measure` agrees once; panics with
/// every report otherwise. Alternating runs give both tools the same
/// machine, medians keep one descheduled run from deciding, and the test
/// runs alone in its binary; other work on the machine (builds, other
/// suites) can still skew a whole measurement, hence the new attempts: a
/// real disagreement fails all three.
fn agree_once(measure: impl Fn() -> Agreement) {
    let mut reports = String::new();
    for attempt in 1..=3 {
        let agreement = measure();
        eprintln!("attempt {attempt}:\n{}", agreement.report);
        if agreement.held {
            return;
        }
        reports.push_str(&agreement.report);
    }
    panic!(
        "phases differ from curl -w by more than 5 % or 0.2 ms in three measurements:\n{reports}"
    );
}

#[test]
fn phases_agree_with_curl_w_on_the_same_requests() {
    require_root!();
    let web = Web::start_alone("phases");
    let fields = [
        "time_namelookup",
        "time_connect",
        "time_starttransfer",
        "time_total",
    ];
    agree_once(|| {
        let (ours, theirs) = medians_beside_curl(&web, &[], &url("/fixed"), &fields, 21);
        let mut agreement = Agreement::new();
        for (i, field) in fields.iter().enumerate() {
            agreement.within(field, ours[i], theirs[i]);
        }
        agreement
    });
}

#[test]
fn tls_phases_are_no_longer_than_curl_ws_and_the_connect_and_transfer_agree() {
    require_root!();
    let web = Web::start_alone("tlsphases");
    let ca = web.path("ca.pem");
    let fields = [
        "time_connect",
        "time_appconnect",
        "time_starttransfer",
        "time_total",
    ];
    let extra = ["--cacert", ca.as_str(), "--resolve", PIN];
    agree_once(|| {
        let (ours, theirs) = medians_beside_curl(&web, &extra, &tls_url("/fixed"), &fields, 21);
        let mut agreement = Agreement::new();
        agreement.within("time_connect", ours[0], theirs[0]);
        // curl sets up its TLS work (OpenSSL's context and session, the
        // --cacert file) after the connect, inside time_appconnect; netdx
        // builds its configuration before the clock starts. Measured here,
        // curl's handshake phase is 2.5-3 ms longer with --cacert and still
        // ~1.4 ms longer with -k. So the handshake is compared as "no
        // longer", and the phases after it as spans.
        agreement.at_most("TLS handshake", ours[1] - ours[0], theirs[1] - theirs[0]);
        // The wait for the first byte after the handshake holds each
        // client's own TLS record work too (the request encrypted, the
        // server's TLS 1.3 session tickets read before the response); on a
        // loaded machine OpenSSL's costs curl a few hundred µs more. So it
        // is compared as "no longer" as well; the transfer must agree.
        agreement.at_most(
            "server (first byte after TLS)",
            ours[2] - ours[1],
            theirs[2] - theirs[1],
        );
        agreement.within("transfer", ours[3] - ours[2], theirs[3] - theirs[2]);
        agreement
    });
}

#[test]
fn a_server_that_stalls_after_the_head_times_out_with_exit_1() {
    require_root!();
    let web = Web::with_misbehaving("stall");
    let target = scripted("/stall");
    let started = Instant::now();
    let output = web.netdx(&["-m", "1", &target]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("netdx: request 1 timed out reading the response after 1 s (--max-time"),
        "{err}"
    );
    let (code, document) = web.json(&["-m", "0.5", &target]);
    assert_eq!(code, Some(1));
    assert_eq!(document["timeout"]["phase"], "transfer");
    assert_eq!(document["timeout"]["limit"], "max-time");
}

#[test]
fn a_silent_address_times_out_connecting_with_exit_1() {
    require_root!();
    let web = Web::start("silent");
    web.pair.silence("10.9.99.0/24");
    let started = Instant::now();
    let output = web.netdx(&["--connect-timeout", "0.5", "http://10.9.99.1/"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(started.elapsed() < Duration::from_secs(5));
    let err = stderr(&output);
    assert!(
        err.starts_with("netdx: request 1 timed out connecting after 0.5 s (--connect-timeout"),
        "{err}"
    );
    // -m is the whole request's limit, the connect's too when it is shorter.
    let (code, document) = web.json(&["-m", "0.3", "http://10.9.99.1/"]);
    assert_eq!(code, Some(1));
    assert_eq!(document["timeout"]["phase"], "connect");
    assert_eq!(document["timeout"]["limit"], "max-time");
    assert_eq!(document["status"], 0);
}

#[test]
fn malformed_responses_are_refused_with_one_line_and_exit_2() {
    require_root!();
    let web = Web::with_misbehaving("malformed");
    for (path, fragment) in [
        (
            "/status",
            "malformed response from 10.9.0.2: bad status line \"HTTP/1.1 OK\"",
        ),
        (
            "/lying",
            "the server closed the connection after 10 of 1000 body bytes",
        ),
        ("/giant", "response head larger than 65536 bytes"),
        ("/crowded", "more than 128 header fields"),
    ] {
        let output = web.netdx(&["-m", "10", &scripted(path)]);
        assert_one_line_error(&output, fragment);
    }
}

/// The largest resident set of any child this test process has waited for, in KiB.
fn children_max_rss_kib() -> i64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|usage| usage.max_rss())
        .unwrap_or(0)
}

#[test]
fn an_endless_chunked_body_is_streamed_in_bounded_memory() {
    require_root!();
    let web = Web::with_misbehaving("endless");
    let target = scripted("/endless");
    // 256 MB through the decoder: kept, it would be far above the bound.
    let output = web.netdx(&["--max-filesize", "256000000", &target]);
    assert_one_line_error(
        &output,
        "the body is larger than --max-filesize (256000000 bytes)",
    );
    let rss = children_max_rss_kib();
    assert!(rss < 64 * 1024, "a child's resident set reached {rss} KiB");
    // Without a size limit, only the time limit ends it.
    let output = web.netdx(&["-m", "1", &target]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("timed out reading the response"));
}

#[test]
fn refused_and_unresolvable_hosts_and_bad_urls_are_errors() {
    require_root!();
    let web = Web::start("refused");
    let output = web.netdx(&[&format!("http://{WEB}:81/")]);
    assert_one_line_error(&output, "connecting to 10.9.0.2:81: Connection refused");
    assert!(stderr(&output).contains("is a server listening on port 81?"));
    let output = web.netdx(&["http://nosuch.invalid/"]);
    assert_one_line_error(&output, "nosuch.invalid: Name or service not known");
    let output = web.netdx(&["ftp://10.9.0.2/"]);
    assert_one_line_error(&output, "unsupported scheme 'ftp'");
    let output = web.netdx(&["-H", "Bad Name: x", &url("/")]);
    assert_one_line_error(&output, "is not a header field name");
}
