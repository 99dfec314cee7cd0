//! `netdx dns` through a recursive resolver: unbound on 10.9.0.2 (plain DNS
//! on 53, DNS over TLS on 853, DNS over HTTPS on 443 with a certificate
//! from a test CA made by openssl), resolving example.test from NSD on
//! 10.9.0.3. Every answer is compared with what dig gets from the same
//! resolver over the same transport.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::dns::{answer_texts, lines};
use common::schema::assert_schema_valid_output;
use common::{Pair, assert_one_line_error, stdout};
use serde_json::Value;

const ZONE: &str = "$ORIGIN example.test.
$TTL 300
@       SOA  ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300
@       NS   ns1.example.test.
ns1     A    10.9.0.3
www     A    192.0.2.10
www     AAAA 2001:db8::10
@       MX   10 mail.example.test.
mail    A    192.0.2.25
@       TXT  \"hello from nsd\"
alias   CNAME www.example.test.
_sip._udp SRV 10 5 5060 www
";

/// The CA, and a server certificate for IP 10.9.0.2 and dns.test.
const CERTS: &str = "set -e
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
  -days 30 -subj '/CN=netdx test CA' -addext 'basicConstraints=critical,CA:TRUE' \
  -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
  -subj '/CN=dns.test' 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=serverAuth\\nsubjectAltName=IP:10.9.0.2,DNS:dns.test\\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 30 \
  -sha256 -extfile server.ext 2>/dev/null
";

struct Resolver {
    pair: Pair,
    dir: PathBuf,
    etc: PathBuf,
}

impl Resolver {
    fn new(tag: &str) -> Resolver {
        let mut pair = Pair::new(tag);
        pair.host.ip(&["addr", "add", "10.9.0.3/24", "dev", "h0"]);
        let dir = std::env::temp_dir().join(format!("netdx-resolver-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let made = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("cd {d} && {CERTS}"))
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "openssl: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        std::fs::write(dir.join("example.test.zone"), ZONE).unwrap();
        std::fs::write(
            dir.join("nsd.conf"),
            common::dns::nsd_conf(
                "10.9.0.3",
                &dir,
                &dir,
                &[("example.test", "example.test.zone")],
            ),
        )
        .unwrap();
        // A recursive resolver with no root: example.test is a stub zone at NSD.
        std::fs::write(
            dir.join("unbound.conf"),
            format!(
                "server:\n  verbosity: 0\n  interface: 10.9.0.2@53\n  interface: 10.9.0.2@853\n  interface: 10.9.0.2@443\n  \
                 port: 53\n  tls-port: 853\n  https-port: 443\n  tls-service-key: \"{d}/server.key\"\n  \
                 tls-service-pem: \"{d}/server.pem\"\n  http-endpoint: \"/dns-query\"\n  do-daemonize: no\n  \
                 username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  \
                 do-ip6: no\n  access-control: 10.9.0.0/24 allow\n  module-config: \"iterator\"\n  \
                 local-zone: \"test.\" nodefault\n  prefetch: no\n  minimal-responses: yes\n  \
                 qname-minimisation: no\n  num-threads: 1\n\
                 remote-control:\n  control-enable: no\n\
                 stub-zone:\n  name: \"example.test\"\n  stub-addr: 10.9.0.3@53\n"
            ),
        )
        .unwrap();
        let nsd = dir.join("nsd.conf");
        pair.host.spawn("nsd", &["-d", "-c", nsd.to_str().unwrap()]);
        let unbound = dir.join("unbound.conf");
        pair.host
            .spawn("unbound", &["-d", "-c", unbound.to_str().unwrap()]);
        // netdx and dig find dns.test (and a name the certificate lacks) in /etc/hosts.
        let etc = PathBuf::from("/etc/netns").join(pair.client.name());
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(
            etc.join("hosts"),
            "10.9.0.2 dns.test\n10.9.0.2 wrong.test\n",
        )
        .unwrap();
        let resolver = Resolver { pair, dir, etc };
        resolver.wait_ready();
        resolver
    }

    /// Polls until unbound answers from NSD over UDP, TLS and HTTPS (a deadline, not a sleep).
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let ca = format!("+tls-ca={}", self.ca());
        for transport in ["+notcp", "+tls", "+https"] {
            loop {
                let out = stdout(&self.pair.client.run(
                    "dig",
                    &[
                        "@10.9.0.2",
                        "www.example.test",
                        "+short",
                        "+time=1",
                        "+tries=1",
                        transport,
                        &ca,
                    ],
                ));
                if out.contains("192.0.2.10") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "unbound did not answer {transport}: {out}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn ca(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }

    fn dig(&self, args: &[&str]) -> BTreeSet<String> {
        let mut full = vec!["@10.9.0.2", "+short"];
        full.extend_from_slice(args);
        lines(&stdout(&self.pair.client.run("dig", &full)))
    }

    fn json(&self, args: &[&str]) -> (Option<i32>, Value, String) {
        let mut full = vec!["--json", "dns"];
        full.extend_from_slice(args);
        let output = self.pair.client.netdx(&full);
        let json = assert_schema_valid_output("dns", &output.stdout);
        (output.status.code(), json, common::stderr(&output))
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

const QUESTIONS: [(&str, &str); 7] = [
    ("www.example.test", "A"),
    ("www.example.test", "AAAA"),
    ("example.test", "MX"),
    ("example.test", "TXT"),
    ("alias.example.test", "CNAME"),
    ("_sip._udp.example.test", "SRV"),
    ("example.test", "SOA"),
];

#[test]
fn a_recursive_resolver_answers_what_dig_gets_from_it() {
    require_root!();
    let resolver = Resolver::new("dnsu");
    for (name, rtype) in QUESTIONS {
        let dig = resolver.dig(&[name, rtype]);
        assert!(!dig.is_empty(), "dig got nothing for {name} {rtype}");
        let (code, json, _) = resolver.json(&["@10.9.0.2", name, rtype]);
        assert_eq!(code, Some(0), "{name} {rtype}");
        assert_eq!(answer_texts(&json), dig, "{name} {rtype}");
        let flags = &json[0]["header"]["flags"];
        assert_eq!(
            (flags["rd"].as_bool(), flags["ra"].as_bool()),
            (Some(true), Some(true))
        );
        assert_eq!(
            flags["aa"], false,
            "a resolver's answer is not authoritative"
        );
    }
    // A CNAME followed by the resolver: the alias and the address.
    let (_, json, _) = resolver.json(&["@10.9.0.2", "alias.example.test", "A"]);
    assert_eq!(
        answer_texts(&json),
        resolver.dig(&["alias.example.test", "A"])
    );
}

#[test]
fn dns_over_tls_answers_what_dig_tls_gets_with_the_certificate_verified() {
    require_root!();
    let resolver = Resolver::new("dnsd");
    let ca = resolver.ca();
    let dig_ca = format!("+tls-ca={ca}");
    for (name, rtype) in QUESTIONS {
        let dig = resolver.dig(&["+tls", &dig_ca, name, rtype]);
        let (code, json, stderr) =
            resolver.json(&["@10.9.0.2", "--tls", "--cacert", &ca, name, rtype]);
        assert_eq!(code, Some(0), "{name} {rtype}: {stderr}");
        assert_eq!(answer_texts(&json), dig, "{name} {rtype}");
        assert_eq!(json[0]["transport"], "tls");
        assert_eq!(json[0]["server"], "10.9.0.2#853");
        assert!(
            json[0]["tls"]["version"]
                .as_str()
                .unwrap()
                .starts_with("TLSv1."),
            "{}",
            json[0]["tls"]
        );
    }
    // dig's layout says TLS; the session is shown.
    let output = resolver.pair.client.netdx(&[
        "dns",
        "@dns.test",
        "+tls",
        "--cacert",
        &ca,
        "www.example.test",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    assert!(
        text.contains(";; SERVER: 10.9.0.2#853(dns.test) (TLS)"),
        "{text}"
    );
    assert!(text.contains(";; TLS: TLSv1.3, "), "{text}");
    // The system's store does not know the test CA; a name the certificate lacks is refused.
    let untrusted = resolver
        .pair
        .client
        .netdx(&["dns", "@10.9.0.2", "--tls", "www.example.test"]);
    assert_one_line_error(
        &untrusted,
        "signed by a CA not trusted here; trust that CA with --cacert FILE",
    );
    let wrong = resolver.pair.client.netdx(&[
        "dns",
        "@wrong.test",
        "--tls",
        "--cacert",
        &ca,
        "www.example.test",
    ]);
    assert_one_line_error(&wrong, "not valid for \"wrong.test\"");
}

#[test]
fn dns_over_https_answers_what_dig_https_gets() {
    require_root!();
    let resolver = Resolver::new("dnsw");
    let ca = resolver.ca();
    let dig_ca = format!("+tls-ca={ca}");
    for (name, rtype) in QUESTIONS {
        let dig = resolver.dig(&["+https", &dig_ca, name, rtype]);
        let (code, json, stderr) = resolver.json(&[
            "--https",
            "https://dns.test/dns-query",
            "--cacert",
            &ca,
            name,
            rtype,
        ]);
        assert_eq!(code, Some(0), "{name} {rtype}: {stderr}");
        assert_eq!(answer_texts(&json), dig, "{name} {rtype}");
        assert_eq!(json[0]["transport"], "https");
        assert_eq!(json[0]["server"], "10.9.0.2#443");
        assert_eq!(json[0]["tls"]["alpn"], "h2");
    }
    // +https at @SERVER means https://SERVER/dns-query, as dig's +https.
    let output = resolver.pair.client.netdx(&[
        "dns",
        "@10.9.0.2",
        "+https",
        "--cacert",
        &ca,
        "www.example.test",
        "+short",
    ]);
    assert_eq!(
        stdout(&output),
        "192.0.2.10\n",
        "{}",
        common::stderr(&output)
    );
    // A path that is not the endpoint is the server's 404, said plainly.
    let missing = resolver.pair.client.netdx(&[
        "dns",
        "--https",
        "https://10.9.0.2/nothere",
        "--cacert",
        &ca,
        "www.example.test",
    ]);
    assert_one_line_error(&missing, "HTTP status 404 Not Found");
}
