//! UDP scan payloads against real services in a namespace: a real DNS
//! server (dnsmasq, Debian's dnsmasq-base) answers netdx's DNS probe, so a
//! UDP scan sees port 53 open by its reply, not as open|filtered.

mod common;

use common::Netns;
use netdx::scan::payloads::{PROBE_ID, Payloads};
use netdx::wire::dns::{self, RecordData, RecordType};

/// Whether `program` is installed; under CI=true its absence fails the test.
fn have(program: &str, package: &str, test: &str) -> bool {
    if std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok()
    {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: CI=true but {program} is not installed (apt-get install {package})");
    }
    eprintln!(
        "skipping {test}: {program} is not installed (apt-get install {package}, or run scripts/test)"
    );
    false
}

/// Sends `payload` from inside `ns` to `address`:`port` over UDP, again
/// every 100 ms until a reply comes (the server may still be starting) or
/// 20 s pass; returns the reply.
fn ask(ns: &Netns, address: &str, port: u16, payload: &[u8]) -> Vec<u8> {
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    let script = format!(
        "import socket, time, sys\n\
         s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
         s.settimeout(0.1)\n\
         deadline = time.monotonic() + 20\n\
         while time.monotonic() < deadline:\n\
         \x20   s.sendto(bytes.fromhex('{hex}'), ('{address}', {port}))\n\
         \x20   try:\n\
         \x20       print(s.recv(65535).hex()); sys.exit(0)\n\
         \x20   except (socket.timeout, ConnectionRefusedError):\n\
         \x20       time.sleep(0.1)\n\
         sys.exit('no reply within 20 s')\n"
    );
    let out = ns.run("python3", &["-c", &script]);
    assert!(
        out.status.success(),
        "no answer from {address}:{port}: {}",
        common::stderr(&out)
    );
    let text = common::stdout(&out);
    (0..text.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text.trim()[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn dnsmasq_answers_the_dns_probe_with_its_version() {
    require_root!();
    if !have("dnsmasq", "dnsmasq-base", module_path!()) {
        return;
    }
    let mut ns = Netns::new("paydns");
    ns.spawn(
        "dnsmasq",
        &[
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--pid-file=",
            "--port=53",
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--address=/x/1.2.3.4",
        ],
    );
    let probe = Payloads::new().get(53).to_vec();
    let reply = dns::parse_reply(&ask(&ns, "127.0.0.1", 53, &probe)).unwrap();
    assert_eq!(reply.id, PROBE_ID);
    assert_eq!(reply.rcode, dns::Rcode::NOERROR);
    let question = reply.question.expect("the question repeated");
    assert_eq!(question.name, "version.bind");
    assert_eq!(reply.answers.len(), 1, "{:?}", reply.answers);
    assert_eq!(reply.answers[0].data, RecordData::Other(RecordType::TXT));
}
