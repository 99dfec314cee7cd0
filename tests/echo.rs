//! `netdx echo serve` and `netdx echo probe` on loopback: real sockets,
//! real payloads, a scripted misbehaving service, socat for interoperability.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{assert_one_line_error, netdx, netdx_bin, responder, stderr, stdout};
use serde_json::Value;

/// A running `netdx echo serve --log json` on a free port.
struct Server {
    child: Child,
    /// Its event lines, read on a thread so a wait for one can time out.
    lines: std::sync::mpsc::Receiver<String>,
    /// Lines read ahead while settling, not yet handed out.
    ahead: std::collections::VecDeque<Value>,
    /// `connected` and `closed` events seen so far.
    opened: usize,
    closed: usize,
    tcp: Option<SocketAddr>,
    udp: Option<SocketAddr>,
}

impl Server {
    /// Starts a server on `bind` (port 0 for a free one) with extra `args`,
    /// logging every event as JSON (for tests that read the events back).
    fn start_on(bind: &str, args: &[&str]) -> Server {
        Server::spawn(bind, args, true)
    }

    /// Starts a server that logs nothing but where it listens, for tests
    /// with more connections than a pipe holds events.
    fn start_quiet(args: &[&str]) -> Server {
        Server::spawn("127.0.0.1:0", args, false)
    }

    fn spawn(bind: &str, args: &[&str], json: bool) -> Server {
        let log: &[&str] = if json { &["--log", "json"] } else { &[] };
        Server::spawn_in(Command::new(netdx_bin()), bind, args, log)
    }

    /// Starts a server on a free port writing its events with
    /// `--json-stream` (and no `--log`).
    fn start_streaming(args: &[&str]) -> Server {
        Server::spawn_in(
            Command::new(netdx_bin()),
            "127.0.0.1:0",
            args,
            &["--json-stream"],
        )
    }

    /// Starts a server whose address space is limited to `bytes`
    /// (prlimit --as), logging every event as JSON.
    fn start_limited(address_space: u64, args: &[&str]) -> Server {
        let mut command = Command::new("prlimit");
        // Few malloc arenas (each reserves 64 MiB of address space), so
        // the room left does not depend on how many cores serve.
        command
            .env("MALLOC_ARENA_MAX", "2")
            .arg(format!("--as={address_space}"))
            .arg(netdx_bin());
        Server::spawn_in(command, "127.0.0.1:0", args, &["--log", "json"])
    }

    /// Starts `command` as a server with `log` (the flags for its event
    /// lines; none: text, only where it listens).
    fn spawn_in(mut command: Command, bind: &str, args: &[&str], log: &[&str]) -> Server {
        let json = !log.is_empty();
        let mut child = command
            .args(["echo", "serve", "--bind", bind])
            .args(log)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netdx echo serve starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let expected = if args.contains(&"--tcp") || args.contains(&"--udp") {
            1
        } else {
            2
        };
        let (mut tcp, mut udp) = (None, None);
        for _ in 0..expected {
            let mut line = String::new();
            lines.read_line(&mut line).unwrap();
            let event: Value = if json {
                let event = serde_json::from_str(&line).unwrap_or(Value::Null);
                if event["event"] == "listening" {
                    serve_line_valid(&event);
                }
                event
            } else {
                // listening on 127.0.0.1:40000 (tcp); Ctrl-C stops …
                let mut words = line.split_whitespace().skip(2);
                let address = words.next().unwrap_or_default();
                let proto = words
                    .next()
                    .unwrap_or_default()
                    .trim_matches(|c| "();".contains(c));
                serde_json::json!({"event": "listening", "address": address, "proto": proto})
            };
            if event["event"] != "listening" {
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("server did not start: {line:?} {err}");
            }
            let address: SocketAddr = event["address"].as_str().unwrap().parse().unwrap();
            match event["proto"].as_str() {
                Some("tcp") => tcp = Some(address),
                _ => udp = Some(address),
            }
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines: rx,
            ahead: Default::default(),
            opened: 0,
            closed: 0,
            tcp,
            udp,
        }
    }

    fn start(args: &[&str]) -> Server {
        Server::start_on("127.0.0.1:0", args)
    }

    fn tcp(&self) -> String {
        self.tcp.unwrap().to_string()
    }

    fn udp(&self) -> String {
        self.udp.unwrap().to_string()
    }

    /// The next event the server logged, held to its schema; `None` once
    /// the server is gone.
    fn next_event(&mut self) -> Option<Value> {
        if let Some(event) = self.ahead.pop_front() {
            return Some(event);
        }
        let line = self.lines.recv().ok()?;
        Some(self.seen(&line))
    }

    fn seen(&mut self, line: &str) -> Value {
        let event = common::json_line(line);
        serve_line_valid(&event);
        match event["event"].as_str() {
            Some("connected") => self.opened += 1,
            Some("closed") => self.closed += 1,
            _ => {}
        }
        event
    }

    /// Waits (up to a deadline, then goes on) until every connection the
    /// server logged has its `closed` line: a client that has closed its
    /// end reaches the server on the server's own time, and a stop before
    /// then would count it as still open.
    ///
    /// And until at least `connections` were logged: a client that has
    /// finished may still be ahead of the server's `connected` line, and a
    /// settle before it would wait for nothing.
    fn settle_after(&mut self, connections: usize) {
        while let Ok(line) = self.lines.try_recv() {
            let event = self.seen(&line);
            self.ahead.push_back(event);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.opened < connections || self.closed < self.opened {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let event = self.seen(&line);
                    self.ahead.push_back(event);
                }
                Err(_) => break,
            }
        }
    }

    /// Ctrl-C once its connections have settled: the server's exit status
    /// and every event it logged, the totals last.
    fn stop(self) -> (Option<i32>, Vec<Value>) {
        self.stop_after(0)
    }

    /// [`Server::stop`] once `connections` connections came and went.
    fn stop_after(mut self, connections: usize) -> (Option<i32>, Vec<Value>) {
        self.settle_after(connections);
        signal(self.child.id(), "INT");
        let events = std::iter::from_fn(|| self.next_event()).collect();
        let status = self.child.wait().unwrap();
        (status.code(), events)
    }
}

/// Asserts that `event` is an `echo-serve.stream` line: every `--log json`
/// and `--json-stream` line a server writes (closed: no undeclared field).
fn serve_line_valid(event: &Value) {
    common::assert_schema_valid("echo-serve.stream", event);
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} {pid}");
}

/// The totals of a stopped server.
fn totals(events: &[Value]) -> &Value {
    let last = events.last().expect("the server logged its stop");
    assert_eq!(last["event"], "stopped");
    &last["totals"]
}

/// `netdx --json echo probe ARGS…`: the run and its JSON document.
fn probe(args: &[&str]) -> (Output, Value) {
    let mut all = vec!["--json", "echo", "probe"];
    all.extend_from_slice(args);
    let output = netdx(&all);
    assert!(
        !output.stdout.is_empty(),
        "probe printed no JSON (status {:?}): {}",
        output.status.code(),
        stderr(&output)
    );
    // Every probe document read here is also held to docs/schema/echo-probe.json.
    let json = common::assert_schema_valid_output("echo-probe", &output.stdout);
    (output, json)
}

/// A `netdx --json echo serve` (which prints nothing until it stops), killed
/// if the test ends before [`JsonServer::stop`].
struct JsonServer {
    child: Child,
    address: SocketAddr,
}

impl JsonServer {
    /// Starts `netdx --json echo serve --bind 127.0.0.1:0 ARGS…` and waits
    /// until each of its sockets shows in the socket table with the server
    /// as its holder.
    fn start(args: &[&str]) -> JsonServer {
        let child = Command::new(netdx_bin())
            .args(["--json", "echo", "serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut server = JsonServer {
            child,
            address: SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        let pid = u64::from(server.child.id());
        let expected = if args.contains(&"--tcp") || args.contains(&"--udp") {
            1
        } else {
            2
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = netdx(&["--json", "netstat", "-tulnp"]);
            let sockets = common::assert_schema_valid_output("netstat-sockets", &out.stdout);
            let held: Vec<&Value> = sockets
                .as_array()
                .unwrap()
                .iter()
                .filter(|socket| {
                    socket["processes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|p| p["pid"] == pid)
                })
                .collect();
            if held.len() == expected {
                let local = &held[0]["local"];
                let address = format!("{}:{}", local["address"].as_str().unwrap(), local["port"]);
                server.address = address.parse().unwrap();
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "echo serve did not start listening"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM: the server's exit status and its document.
    fn stop(mut self) -> (Option<i32>, Value) {
        // Its sockets are bound before its handlers are in place.
        common::wait_until_catching(self.child.id(), 15);
        signal(self.child.id(), "TERM");
        let mut text = String::new();
        let mut stdout = self.child.stdout.take().unwrap();
        stdout.read_to_string(&mut text).unwrap();
        let status = self.child.wait().unwrap().code();
        let json = common::assert_schema_valid_output("echo-serve", text.as_bytes());
        (status, json)
    }
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn count(json: &Value, field: &str) -> u64 {
    json[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {json}"))
}

/// A misbehaving service from tests/responders/echo_misbehaving.py.
struct Responder {
    child: Child,
    port: u16,
}

impl Responder {
    fn start(args: &[&str]) -> Responder {
        let mut child = Command::new("python3")
            .arg(responder("echo_misbehaving.py"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("ready ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("responder said {line:?}"));
        Responder { child, port }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// xorshift bytes: random enough, and the same in every run.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn tcp_and_udp_probes_get_random_payloads_back_byte_exact_over_ipv4_and_ipv6() {
    for bind in ["127.0.0.1:0", "[::1]:0"] {
        let server = Server::start_on(bind, &[]);
        for size in ["1", "11", "12", "13", "1400", "9000", "65536"] {
            let (output, json) =
                probe(&[&server.tcp(), "-c", "3", "-i", "0", "-s", size, "--random"]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{bind} tcp {size}: {}",
                stderr(&output)
            );
            assert_eq!(count(&json, "received"), 3, "{bind} tcp {size}: {json}");
            assert_eq!(count(&json, "corrupted"), 0);
            assert_eq!(json["proto"], "tcp");
        }
        let udp_max = if bind.starts_with('[') {
            "65527"
        } else {
            "65507"
        };
        for size in ["1", "12", "1472", "9000", udp_max] {
            let (output, json) = probe(&[
                "--udp",
                &server.udp(),
                "-c",
                "3",
                "-i",
                "0",
                "-s",
                size,
                "--random",
            ]);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{bind} udp {size}: {}",
                stderr(&output)
            );
            assert_eq!(count(&json, "received"), 3, "{bind} udp {size}: {json}");
            assert_eq!(json["size"].as_u64().unwrap().to_string(), size);
        }
        let (_, events) = server.stop();
        assert_eq!(totals(&events)["bytes_in"], totals(&events)["bytes_out"]);
    }
}

#[test]
fn a_plain_client_gets_every_random_byte_back_over_tcp_and_udp() {
    let server = Server::start(&[]);
    let mut stream = TcpStream::connect(server.tcp.unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    for (i, len) in [1usize, 2, 100, 4096, 40_000, 65_536]
        .into_iter()
        .enumerate()
    {
        let sent = random_bytes(len, i as u64 + 1);
        stream.write_all(&sent).unwrap();
        let mut back = vec![0u8; len];
        stream.read_exact(&mut back).unwrap();
        assert!(back == sent, "{len} bytes over TCP came back different");
    }
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.connect(server.udp.unwrap()).unwrap();
    for (i, len) in [1usize, 548, 1472, 30_000, 65_507].into_iter().enumerate() {
        let sent = random_bytes(len, 100 + i as u64);
        socket.send(&sent).unwrap();
        let mut back = vec![0u8; 70_000];
        let n = socket.recv(&mut back).unwrap();
        assert_eq!(n, len, "a UDP reply is exactly as large as its request");
        assert!(
            back[..n] == sent[..],
            "{len} bytes over UDP came back different"
        );
    }
}

#[test]
fn a_thousand_clients_times_a_thousand_messages_all_return_while_a_stalled_client_waits() {
    let server = Server::start_quiet(&["--tcp"]);
    // A client that sends far more than the buffers hold and never reads.
    let mut stalled = TcpStream::connect(server.tcp.unwrap()).unwrap();
    stalled.set_nonblocking(true).unwrap();
    let junk = vec![0x5a; 1 << 20];
    let mut pushed = 0;
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        match stalled.write(&junk) {
            Ok(n) => pushed += n,
            Err(_) => break,
        }
    }
    assert!(pushed > 0);
    let (output, json) = probe(&[
        &server.tcp(),
        "--connections",
        "1000",
        "-c",
        "1000",
        "-W",
        "10",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "transmitted"), 1_000_000, "{json}");
    assert_eq!(count(&json, "received"), 1_000_000, "{json}");
    assert_eq!(count(&json, "corrupted"), 0);
    assert_eq!(count(&json, "lost"), 0);
    let connections = &json["connections"];
    assert_eq!(connections["established"], 1000);
    // No connection starved: every one got all its echoes.
    assert_eq!(connections["min_messages"], 1000, "{connections}");
    assert!(json["rtt_ms"]["max"].as_f64().unwrap() < 5_000.0, "{json}");
    drop(stalled);
}

#[test]
fn a_misbehaving_udp_service_is_counted_exactly() {
    // Probe 2 flipped, 3 and 9 dropped, 4 doubled, 5 late, 6 overtaken by 7.
    // Margins of 0.3 s or more on a loaded machine: 6 waits 0.15 s for 7
    // (-W 0.45); 5 comes 0.6 s after it was sent — past -W by 0.15 s at
    // least (a sleep is never short, load only makes it later) and 0.6 s
    // before the run ends (the last probe's -W).
    let responder = Responder::start(&[
        "udp", "64", "--flip", "2", "--drop", "3,9", "--dup", "4", "--late", "5", "--delay", "0.6",
        "--swap", "6",
    ]);
    let (output, json) = probe(&[
        "--udp",
        &responder.address(),
        "-c",
        "10",
        "-i",
        "0.15",
        "-W",
        "0.45",
        "--verbose",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "transmitted"), 10, "{json}");
    assert_eq!(count(&json, "received"), 6, "1, 4, 6, 7, 8, 10: {json}");
    assert_eq!(count(&json, "corrupted"), 1, "{json}");
    assert_eq!(count(&json, "lost"), 2, "{json}");
    assert_eq!(count(&json, "duplicated"), 1, "{json}");
    assert_eq!(count(&json, "late"), 1, "{json}");
    assert_eq!(count(&json, "reordered"), 1, "{json}");
    let outcome = |seq: u64| {
        json["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["seq"] == seq && r["outcome"] != "duplicate")
            .map(|r| r["outcome"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(outcome(2), "corrupted");
    assert_eq!(outcome(3), "lost");
    assert_eq!(outcome(5), "late");
    let corrupted = json["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["seq"] == 2)
        .unwrap();
    assert_eq!(
        corrupted["difference"]["offset"], 63,
        "the last byte was flipped"
    );
}

#[test]
fn a_misbehaving_tcp_service_is_counted_exactly() {
    // 4's echo comes 1.2 s late, 0.4 s past -W 0.8; 5, sent 0.8 s after 4,
    // waits behind it on the stream but still comes back 0.4 s within its
    // own 0.8 s. Margins of 0.4 s either way hold on a loaded machine.
    let responder =
        Responder::start(&["tcp", "64", "--flip", "2", "--late", "4", "--delay", "1.2"]);
    let (output, json) = probe(&[&responder.address(), "-c", "6", "-i", "0.8", "-W", "0.8"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "transmitted"), 6, "{json}");
    assert_eq!(count(&json, "corrupted"), 1, "{json}");
    assert_eq!(count(&json, "late"), 1, "{json}");
    assert_eq!(count(&json, "received"), 4, "{json}");
    assert_eq!(count(&json, "lost"), 0, "{json}");
}

#[test]
fn a_service_streaming_bytes_nobody_asked_for_costs_the_probe_bounded_memory() {
    let responder = Responder::start(&["tcp", "64", "--flood"]);
    let mut child = Command::new(netdx_bin())
        .args(["echo", "probe", &responder.address()])
        .args(["-c", "1000", "-i", "0.1", "-w", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The probe's peak resident size, sampled until it exits (a pipe
    // reader so a full pipe never stalls it).
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let mut peak_kib = 0;
    while child.try_wait().unwrap().is_none() {
        if let Some(hwm) = status_kib(child.id(), "VmHWM") {
            peak_kib = peak_kib.max(hwm);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let text = reader.join().unwrap();
    assert!(peak_kib > 0, "the probe's memory was read");
    assert!(
        peak_kib < 48 * 1024,
        "peak RSS {peak_kib} KiB against a flooding service"
    );
    assert_eq!(status.code(), Some(1), "{text}");
    let unasked = regex::Regex::new(
        r"(?m)^From 127\.0\.0\.1:\d+: the service sent \d+ bytes no probe asked for \(not an echo service\?\); connection closed$",
    )
    .unwrap();
    assert!(
        unasked.find_iter(&text).count() >= 5,
        "each connection's excess is named: {text}"
    );
    assert!(
        regex::Regex::new(r"(?m)^\d+ connection errors, 0 stray datagrams$")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
}

#[test]
fn a_udp_flood_of_strays_leaves_the_probe_its_deadline_and_bounded_memory() {
    let responder = Responder::start(&["udp", "64", "--flood"]);
    let started = Instant::now();
    let mut child = Command::new(netdx_bin())
        .args(["--json", "echo", "probe", "--udp", &responder.address()])
        .args(["-i", "0", "-w", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let mut peak_kib = 0;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the probe ran past its 1 s deadline");
        }
        if let Some(hwm) = status_kib(child.id(), "VmHWM") {
            peak_kib = peak_kib.max(hwm);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let json = common::assert_schema_valid_output("echo-probe", reader.join().unwrap().as_bytes());
    assert_eq!(status.code(), Some(1), "{json}");
    assert!(peak_kib < 48 * 1024, "peak RSS {peak_kib} KiB");
    assert!(count(&json, "stray") > 0, "{json}");
    assert_eq!(count(&json, "received"), 0, "{json}");
}

#[test]
fn the_text_view_reads_like_ping() {
    // The duplicate is of a probe with one after it: a copy of the last
    // probe's echo may come after the run has ended.
    let responder = Responder::start(&["udp", "64", "--flip", "2", "--dup", "3"]);
    let output = netdx(&[
        "echo",
        "probe",
        "--udp",
        &responder.address(),
        "-c",
        "4",
        "-i",
        "0.1",
        "-W",
        "0.5",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let port = responder.port;
    let line = regex::Regex::new(&format!(
        r"(?m)^64 bytes from 127\.0\.0\.1:{port}: seq=1 time=\d+\.\d+ ms$"
    ))
    .unwrap();
    assert!(line.is_match(&text), "{text}");
    assert!(text.contains("seq=2 time="), "{text}");
    assert!(text.contains("(CORRUPTED: byte 63 sent 0x"), "{text}");
    assert!(text.contains("(DUP!)"), "{text}");
    assert!(
        text.starts_with(&format!("ECHO 127.0.0.1:{port} udp from 127.0.0.1:")),
        "{text}"
    );
    assert!(
        text.contains("4 probes transmitted, 3 received, 0 lost, 1 corrupted, 0 late, 1 duplicated, 0 reordered"),
        "{text}"
    );
    assert!(text.contains("rtt min/avg/max/mdev = "), "{text}");
}

#[test]
fn no_echo_at_all_exits_1() {
    let responder = Responder::start(&["udp", "64", "--drop", "1,2"]);
    let (output, json) = probe(&[
        "--udp",
        &responder.address(),
        "-c",
        "2",
        "-i",
        "0.1",
        "-W",
        "0.2",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(count(&json, "lost"), 2);
    assert_eq!(json["rtt_ms"], Value::Null);
}

#[test]
fn the_probe_works_against_socat_echo_services() {
    let tcp_port = free_port();
    let udp_port = free_port();
    let mut tcp = Command::new("socat")
        .args([
            &format!("TCP-LISTEN:{tcp_port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ])
        .spawn()
        .expect("socat is installed (scripts/test installs it)");
    let mut udp = Command::new("socat")
        .args([
            &format!("UDP-RECVFROM:{udp_port},bind=127.0.0.1,fork"),
            "EXEC:cat",
        ])
        .spawn()
        .unwrap();
    wait_for_tcp(tcp_port);
    let (output, json) = probe(&[
        &format!("127.0.0.1:{tcp_port}"),
        "-c",
        "5",
        "-i",
        "0",
        "--random",
        "-s",
        "3000",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "received"), 5, "{json}");
    let (output, json) = probe(&[
        "--udp",
        &format!("127.0.0.1:{udp_port}"),
        "-c",
        "5",
        "-i",
        "0.05",
        "-s",
        "500",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "received"), 5, "{json}");
    let _ = tcp.kill();
    let _ = udp.kill();
    let _ = tcp.wait();
    let _ = udp.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_tcp(port: u16) {
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

#[test]
fn max_conns_accepts_and_closes_the_extra_connection_and_counts_it() {
    let server = Server::start(&["--tcp", "--max-conns", "2"]);
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(server.tcp.unwrap()).unwrap())
        .collect();
    // Both are served (a round trip proves they were accepted and counted).
    for mut stream in &held {
        stream.write_all(b"hi").unwrap();
        let mut back = [0u8; 2];
        stream.read_exact(&mut back).unwrap();
    }
    let mut extra = TcpStream::connect(server.tcp.unwrap()).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 16];
    let n = extra.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the third connection is closed at once");
    let (output, json) = probe(&[&server.tcp(), "-c", "1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(count(&json, "errors"), 1, "{json}");
    drop(held);
    let (code, events) = server.stop();
    assert_eq!(code, Some(0));
    assert_eq!(totals(&events)["rejected"], 2);
    assert_eq!(totals(&events)["connections"], 2);
    assert!(events.iter().any(|e| e["event"] == "rejected"));
}

#[test]
fn idle_connections_are_closed_after_the_idle_timeout() {
    let server = Server::start(&["--tcp", "--idle-timeout", "0.5"]);
    let mut stream = TcpStream::connect(server.tcp.unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 8];
    assert_eq!(
        stream.read(&mut buf).unwrap_or(0),
        0,
        "closed by the server"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let (_, events) = server.stop();
    assert_eq!(totals(&events)["timed_out"], 1);
    let closed = events.iter().find(|e| e["event"] == "closed").unwrap();
    assert_eq!(closed["reason"], "idle_timeout");
}

#[test]
fn length_framing_echoes_whole_frames_and_closes_on_oversized_ones() {
    let server = Server::start(&["--tcp", "--framing", "length", "--max-frame", "100"]);
    let mut stream = TcpStream::connect(server.tcp.unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // A frame sent in two pieces comes back only once whole.
    let mut frame = 100u32.to_be_bytes().to_vec();
    frame.extend(random_bytes(100, 7));
    stream.write_all(&frame[..50]).unwrap();
    let mut buf = [0u8; 256];
    assert!(
        stream.read(&mut buf).is_err(),
        "nothing comes back for half a frame"
    );
    stream.write_all(&frame[50..]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut back = vec![0u8; frame.len()];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(back, frame);
    // The probe speaks the same framing.
    let (output, json) = probe(&[
        &server.tcp(),
        "--framing",
        "length",
        "-s",
        "100",
        "-c",
        "3",
        "-i",
        "0",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "received"), 3);
    // One byte over the limit closes the connection.
    let mut big = 101u32.to_be_bytes().to_vec();
    big.extend(vec![1; 101]);
    stream.write_all(&big).unwrap();
    let n = stream.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "an oversized frame closes the connection");
    let (_, events) = server.stop();
    assert_eq!(totals(&events)["frames_too_large"], 1);
    let closed = events
        .iter()
        .find(|e| e["reason"] == "frame_too_large")
        .unwrap();
    assert!(
        closed["detail"].as_str().unwrap().contains("101"),
        "{closed}"
    );
}

/// What `/proc/PID/status` says for `field` (`VmSize`, `VmHWM` …), in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

#[test]
fn announced_frames_cost_the_server_nothing_until_their_bytes_arrive() {
    // Room for the server itself and 768 MiB, but not for one announced
    // frame: a server that allocated what headers announce would abort.
    let plain = Server::start(&["--tcp", "--framing", "length", "--max-frame", "1G"]);
    let baseline_kib = status_kib(plain.child.id(), "VmSize").unwrap();
    drop(plain);
    let limit = baseline_kib * 1024 + (768 << 20);
    let mut server = Server::start_limited(
        limit,
        &["--tcp", "--framing", "length", "--max-frame", "1G"],
    );
    let address = server.tcp.unwrap();
    let mut announcers: Vec<TcpStream> = (0..6)
        .map(|_| {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(&(1u32 << 30).to_be_bytes()).unwrap();
            stream.write_all(&[0xab; 1000]).unwrap();
            stream
        })
        .collect();
    // Every announcer was accepted and its bytes read before we look.
    let mut connected = 0;
    while connected < announcers.len() {
        let event = server.next_event().expect("the server died");
        if event["event"] == "connected" {
            connected += 1;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let echoed = loop {
        // A normal frame on a fresh connection still comes back whole.
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut frame = 16u32.to_be_bytes().to_vec();
        frame.extend(random_bytes(16, 3));
        stream.write_all(&frame).unwrap();
        let mut back = vec![0u8; frame.len()];
        if stream.read_exact(&mut back).is_ok() || Instant::now() > deadline {
            break back == frame;
        }
    };
    assert!(echoed, "a small frame came back whole");
    assert_eq!(
        server.child.try_wait().unwrap(),
        None,
        "the server is alive"
    );
    for stream in &mut announcers {
        let _ = stream.shutdown(Shutdown::Both);
    }
    // Each announcer's end is logged with how far its frame got.
    let mut mid_frame = 0;
    while mid_frame < announcers.len() {
        let event = server.next_event().expect("the server died");
        if event["event"] == "closed" {
            let detail = event["detail"].as_str().unwrap_or_default();
            if detail.contains("mid-frame") {
                assert!(detail.contains("1004 of 1073741828 bytes"), "{event}");
                mid_frame += 1;
            }
        }
    }
    let (status, _) = server.stop();
    assert_eq!(status, Some(0));
}

#[test]
fn size_limits_have_one_ceiling_one_wording_and_contradictions_exit_2() {
    for (args, fragment) in [
        (
            vec!["echo", "serve", "--framing", "length", "--max-frame", "0"],
            "refuses every frame",
        ),
        (
            vec!["echo", "serve", "--max-frame", "100", "--framing", "raw"],
            "--max-frame 100 applies to --framing length",
        ),
        (
            vec!["echo", "serve", "--max-frame", "100"],
            "--max-frame 100 applies to --framing length",
        ),
        (
            vec!["echo", "serve", "--framing", "length", "--max-frame", "2G"],
            "'2G' is too large: at most 1G (1073741824 bytes)",
        ),
        (
            vec![
                "echo",
                "serve",
                "--framing",
                "length",
                "--max-frame",
                "2147483647",
            ],
            "'2147483647' is too large: at most 1G (1073741824 bytes)",
        ),
        (
            vec!["echo", "serve", "--rcvbuf", "2G"],
            "'2G' is too large: at most 2147483647 bytes",
        ),
        (
            vec!["echo", "serve", "--max-datagram", "64K"],
            "'64K' is too large: at most 65527 bytes",
        ),
        (
            vec!["echo", "serve", "--tcp", "--max-datagram", "100"],
            "--max-datagram 100 applies to UDP",
        ),
        (
            vec!["echo", "serve", "--udp", "--max-conns", "5"],
            "--max-conns applies to TCP connections",
        ),
        (
            vec!["echo", "serve", "--udp", "--idle-timeout", "5"],
            "--idle-timeout applies to TCP connections",
        ),
    ] {
        assert_one_line_error(&netdx(&args), fragment);
    }
}

#[test]
fn udp_replies_are_never_larger_than_requests_and_oversized_datagrams_are_dropped() {
    let server = Server::start(&["--udp", "--max-datagram", "100"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket.connect(server.udp.unwrap()).unwrap();
    let mut buf = [0u8; 2048];
    for len in [1usize, 50, 100] {
        socket.send(&vec![9; len]).unwrap();
        assert_eq!(socket.recv(&mut buf).unwrap(), len);
    }
    socket.send(&[9; 101]).unwrap();
    assert!(
        socket.recv(&mut buf).is_err(),
        "101 bytes over --max-datagram 100 get no reply"
    );
    let (_, events) = server.stop();
    let totals = totals(&events);
    assert_eq!(totals["datagrams_in"], 4);
    assert_eq!(totals["datagrams_out"], 3);
    assert_eq!(totals["datagrams_oversized"], 1);
    assert_eq!(totals["bytes_out"], 151);
}

#[test]
fn a_half_closed_client_gets_every_byte_back_then_end_of_stream() {
    let server = Server::start(&["--tcp"]);
    let mut stream = TcpStream::connect(server.tcp.unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let sent = random_bytes(300_000, 3);
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let sent = sent.clone();
        std::thread::spawn(move || {
            stream.write_all(&sent).unwrap();
            stream.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut back = Vec::new();
    stream.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert_eq!(back.len(), sent.len());
    assert!(back == sent);
    let (_, events) = server.stop();
    let closed = events.iter().find(|e| e["event"] == "closed").unwrap();
    assert_eq!(closed["reason"], "peer_closed");
    assert_eq!(closed["bytes_out"], 300_000);
}

#[test]
fn show_sockopts_reports_what_getsockopt_returns_including_the_doubled_rcvbuf() {
    let server = Server::start(&["--tcp"]);
    let (output, json) = probe(&[
        &server.tcp(),
        "-c",
        "1",
        "--rcvbuf",
        "4096",
        "--nodelay",
        "--ttl",
        "33",
        "--show-sockopts",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let option = |name: &str| {
        json["sockopts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {json}"))
            .clone()
    };
    // The same requests on a socket of our own, read back directly.
    let own = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    own.set_recv_buffer_size(4096).unwrap();
    own.set_tcp_nodelay(true).unwrap();
    own.set_ttl_v4(33).unwrap();
    let rcvbuf = option("SO_RCVBUF");
    assert_eq!(rcvbuf["requested"], 4096);
    assert_eq!(rcvbuf["value"], own.recv_buffer_size().unwrap() as u64);
    assert_eq!(rcvbuf["value"], 8192, "Linux doubles SO_RCVBUF");
    assert!(
        rcvbuf["note"].as_str().unwrap().contains("doubled"),
        "{rcvbuf}"
    );
    assert_eq!(option("TCP_NODELAY")["value"], own.tcp_nodelay().unwrap());
    assert_eq!(option("IP_TTL")["value"], own.ttl_v4().unwrap());
    assert_eq!(option("SO_TYPE")["value"], "SOCK_STREAM");
    // The text view is a table with the same figures.
    let output = netdx(&[
        "echo",
        "probe",
        &server.tcp(),
        "-c",
        "1",
        "--rcvbuf",
        "4096",
        "--show-sockopts",
    ]);
    let text = stdout(&output);
    let row = text.lines().find(|l| l.contains("SO_RCVBUF")).unwrap();
    assert!(row.contains("4096") && row.contains("8192"), "{row}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    for (args, fragment) in [
        (vec!["echo", "probe", "127.0.0.1:0"], "port 0"),
        (vec!["echo", "probe", "127.0.0.1:65536"], "out of range"),
        (vec!["echo", "probe", "127.0.0.1"], "no port"),
        (
            vec!["echo", "probe", "nosuch.invalid:7"],
            "cannot resolve 'nosuch.invalid'",
        ),
        (
            vec!["echo", "probe", "127.0.0.1:7", "-s", "0"],
            "at least 1 byte",
        ),
        (
            vec!["echo", "probe", "--udp", "127.0.0.1:7", "-s", "65508"],
            "at most 65507",
        ),
        (
            vec!["echo", "probe", "--tcp", "--udp", "127.0.0.1:7"],
            "cannot be used with",
        ),
        (
            vec![
                "echo",
                "probe",
                "127.0.0.1:7",
                "--connections",
                "2",
                "-i",
                "1",
            ],
            "-i does not apply",
        ),
        (
            vec!["echo", "serve", "--bind", "127.0.0.1:99999"],
            "out of range",
        ),
        (vec!["echo", "serve", "--v6only"], "--v6only needs an IPv6"),
        (
            vec!["echo", "serve", "--udp", "--framing", "length"],
            "--framing applies to TCP",
        ),
    ] {
        assert_one_line_error(&netdx(&args), fragment);
    }
}

#[test]
fn a_refused_connection_is_one_line_and_exit_2() {
    let port = free_port();
    let output = netdx(&["echo", "probe", &format!("127.0.0.1:{port}"), "-c", "1"]);
    assert_one_line_error(&output, "connection refused");
    let output = netdx(&[
        "echo",
        "probe",
        &format!("127.0.0.1:{port}"),
        "--connections",
        "3",
        "-c",
        "1",
    ]);
    assert_one_line_error(&output, "connection refused");
}

#[test]
fn an_address_in_use_names_the_process_holding_it() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let output = netdx(&[
        "echo",
        "serve",
        "--tcp",
        "--bind",
        &format!("127.0.0.1:{port}"),
    ]);
    let me = std::process::id();
    assert_one_line_error(&output, "address already in use by ");
    let err = stderr(&output);
    assert!(err.contains(&format!("(pid {me}")), "{err}");
    assert!(err.contains("LISTEN"), "{err}");
    assert!(err.contains("--reuseport"), "{err}");
}

#[test]
fn a_non_loopback_bind_warns_that_the_service_is_reachable() {
    let mut child = Command::new(netdx_bin())
        .args(["echo", "serve", "--tcp", "--bind", "0.0.0.0:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("netdx: warning: serving on 0.0.0.0:0"),
        "{line}"
    );
    assert!(line.contains("reachable from the network"), "{line}");
}

#[test]
fn ctrl_c_stops_the_server_with_totals() {
    let mut child = Command::new(netdx_bin())
        .args(["echo", "serve", "--bind", "127.0.0.1:0", "-v"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let address = first
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let mut second = String::new();
    lines.read_line(&mut second).unwrap();
    let output = netdx(&["echo", "probe", &address, "-c", "2", "-i", "0"]);
    assert_eq!(output.status.code(), Some(0));
    let mut connection = String::new();
    lines.read_line(&mut connection).unwrap();
    assert!(
        connection.contains("connection from 127.0.0.1:"),
        "{connection}"
    );
    // The probe has exited, but its close reaches the server on its own
    // time: stop the server once it has logged it, so the totals count it.
    let mut closed = String::new();
    lines.read_line(&mut closed).unwrap();
    assert!(closed.contains("closed 127.0.0.1:"), "{closed}");
    signal(child.id(), "INT");
    let mut rest = String::new();
    lines.read_to_string(&mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(rest.contains("--- echo service statistics ---"), "{rest}");
    assert!(rest.contains("tcp: 1 connections"), "{rest}");
    assert!(rest.contains("128 bytes in, 128 bytes out"), "{rest}");
}

#[test]
fn ten_thousand_idle_connections_are_held_in_bounded_memory() {
    let server = Server::start_quiet(&["--tcp"]);
    let mut holder = Command::new("python3")
        .arg(format!(
            "{}/bench/hold_connections.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args([
            "127.0.0.1",
            &server.tcp.unwrap().port().to_string(),
            "10000",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "ready 10000", "{line}");
    // Still answering while they are held.
    let (output, json) = probe(&[&server.tcp(), "-c", "3", "-i", "0"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "received"), 3);
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id())).unwrap();
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    assert!(
        rss_kib < 200 * 1024,
        "RSS {rss_kib} KiB with 10,000 connections"
    );
    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn a_dual_stack_server_answers_ipv4_clients_unless_v6only() {
    let server = Server::start_on("[::]:0", &["--tcp"]);
    let port = server.tcp.unwrap().port();
    let (output, json) = probe(&[&format!("127.0.0.1:{port}"), "-c", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(count(&json, "received"), 1);
    let (output, _) = probe(&[&format!("[::1]:{port}"), "-c", "1"]);
    assert_eq!(output.status.code(), Some(0));
    drop(server);
    let only = Server::start_on("[::]:0", &["--tcp", "--v6only"]);
    let port = only.tcp.unwrap().port();
    let output = netdx(&["echo", "probe", &format!("127.0.0.1:{port}"), "-c", "1"]);
    assert_one_line_error(&output, "connection refused");
    let (output, _) = probe(&[&format!("[::1]:{port}"), "-c", "1"]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn without_reuseaddr_a_restart_fails_on_time_wait_and_with_it_succeeds() {
    // The server closes first (idle timeout), so its side of the
    // connection is left in TIME_WAIT once the client closes too.
    let server = Server::start(&["--tcp", "--idle-timeout", "0.2"]);
    let address = server.tcp.unwrap();
    let mut client = TcpStream::connect(address).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(client.read(&mut buf).unwrap_or(0), 0);
    drop(client);
    drop(server);
    let bind = address.to_string();
    let output = netdx(&["echo", "serve", "--tcp", "--no-reuseaddr", "--bind", &bind]);
    assert_one_line_error(
        &output,
        "address already in use by connections in TIME_WAIT",
    );
    assert!(stderr(&output).contains("--reuseaddr lets a server bind over them"));
    // SO_REUSEADDR (the default) binds over them.
    let again = Server::start_on(&bind, &["--tcp"]);
    assert_eq!(again.tcp, Some(address));
}

#[test]
fn reuseport_lets_two_servers_share_a_port() {
    for proto in ["--tcp", "--udp"] {
        let first = Server::start(&[proto, "--reuseport"]);
        let address = first.tcp.or(first.udp).unwrap();
        let bind = address.to_string();
        let second = Server::start_on(&bind, &[proto, "--reuseport"]);
        assert_eq!(second.tcp.or(second.udp), Some(address));
        let (output, json) = probe(&[proto, &bind, "-c", "2", "-i", "0"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert_eq!(count(&json, "received"), 2);
        // Without it on the newcomer, the kernel refuses the bind.
        let output = netdx(&["echo", "serve", proto, "--bind", &bind]);
        assert_one_line_error(&output, "address already in use by ");
    }
}

#[test]
fn the_server_shows_its_sockets_options_as_the_kernel_set_them() {
    let server = JsonServer::start(&[
        "--tcp",
        "--rcvbuf",
        "8192",
        "--nodelay",
        "--keepalive",
        "--show-sockopts",
    ]);
    let (status, json) = server.stop();
    assert_eq!(status, Some(0));
    let listening = &json["listening"][0];
    assert_eq!(listening["proto"], "tcp");
    let option = |name: &str| {
        listening["sockopts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(option("SO_RCVBUF")["value"], 16384);
    assert_eq!(option("SO_REUSEADDR")["value"], true);
    assert_eq!(option("SO_REUSEADDR")["requested"], true);
    assert_eq!(option("SO_ACCEPTCONN")["value"], true);
    assert_eq!(option("TCP_NODELAY")["value"], true);
    assert_eq!(option("SO_KEEPALIVE")["value"], true);
    assert_eq!(json["totals"]["connections"], 0);
}

// ---- --json-stream ---------------------------------------------------------

/// `netdx echo probe --json-stream ARGS…`: exit code and every line,
/// parsed and held to docs/schema/echo-probe.stream.json.
fn probe_stream(args: &[&str]) -> (Option<i32>, Vec<Value>) {
    let mut all = vec!["echo", "probe", "--json-stream"];
    all.extend_from_slice(args);
    let output = netdx(&all);
    assert_eq!(stderr(&output), "", "nothing on stderr");
    let lines = common::json_lines(&output.stdout);
    for line in &lines {
        probe_line_valid(line);
    }
    (output.status.code(), lines)
}

/// Asserts that `line` is an `echo-probe.stream` line (closed).
fn probe_line_valid(line: &Value) {
    common::assert_schema_valid("echo-probe.stream", line);
}

/// The object keys of `value`, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn stream_probe_has_start_a_line_per_echo_and_the_json_document_last() {
    let server = Server::start(&[]);
    for proto in [&["--udp"][..], &[][..]] {
        let target = if proto.is_empty() {
            server.tcp()
        } else {
            server.udp()
        };
        let args = [proto, &[&target, "-c", "3", "-i", "0.05"]].concat();
        let (code, lines) = probe_stream(&args);
        assert_eq!(code, Some(0), "{lines:?}");
        assert_eq!(
            common::event_names(&lines),
            ["start", "probe", "probe", "probe", "summary"]
        );
        let start = &lines[0];
        assert_eq!(start["target"], target.as_str());
        assert_eq!(
            (start["size"].as_u64(), start["count"].as_u64()),
            (Some(64), Some(3))
        );
        assert!(start["local"].is_string(), "{start}");
        for (n, line) in lines[1..4].iter().enumerate() {
            assert_eq!(
                (line["seq"].as_u64(), &line["outcome"]),
                (Some(n as u64 + 1), &"ok".into())
            );
            assert_eq!(line["bytes"], 64);
            assert!(line["rtt_ms"].as_f64().unwrap() > 0.0);
        }
        let summary = &lines[4];
        let (_, document) = probe(&args);
        let mut expected = keys(&document);
        expected.push("event".into());
        expected.sort();
        assert_eq!(
            keys(summary),
            expected,
            "the summary is the --json document"
        );
        assert_eq!(
            (count(summary, "transmitted"), count(summary, "received")),
            (3, 3)
        );
    }
}

#[test]
fn stream_probe_lines_tell_corrupted_lost_late_duplicated_and_reordered_echoes_apart() {
    // The misbehaving UDP service of a_misbehaving_udp_service_is_counted_exactly.
    let responder = Responder::start(&[
        "udp", "64", "--flip", "2", "--drop", "3,9", "--dup", "4", "--late", "5", "--delay", "0.6",
        "--swap", "6",
    ]);
    let address = responder.address();
    let (code, lines) = probe_stream(&["--udp", &address, "-c", "10", "-i", "0.15", "-W", "0.45"]);
    assert_eq!(code, Some(0));
    let of = |seq: u64| -> Vec<&str> {
        lines
            .iter()
            .filter(|line| line["event"] == "probe" && line["seq"] == seq)
            .map(|line| line["outcome"].as_str().unwrap())
            .collect()
    };
    assert_eq!(of(1), ["ok"]);
    assert_eq!(of(2), ["corrupted"]);
    assert_eq!(of(3), ["timeout"]);
    assert_eq!(of(4), ["ok", "duplicate"]);
    assert_eq!(of(5), ["timeout", "late"]);
    assert_eq!(of(9), ["timeout"]);
    let corrupted = lines.iter().find(|l| l["seq"] == 2).unwrap();
    assert_eq!(corrupted["difference"]["offset"], 63);
    let reordered = lines
        .iter()
        .find(|l| l["event"] == "probe" && l["seq"] == 6)
        .unwrap();
    assert_eq!(reordered["reordered"], true, "6 came after 7");
    let summary = lines.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(count(summary, "received"), 6, "{summary}");
    assert_eq!(count(summary, "lost"), 2);
}

#[test]
fn stream_probe_of_a_closed_port_has_error_lines_and_exits_1() {
    // A UDP port nobody holds: bound, then let go.
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("127.0.0.1:{port}");
    let (code, lines) = probe_stream(&["--udp", &target, "-c", "2", "-i", "0.1", "-W", "0.3"]);
    assert_eq!(code, Some(1), "{lines:?}");
    let errors: Vec<&Value> = lines.iter().filter(|l| l["event"] == "error").collect();
    assert!(!errors.is_empty(), "{lines:?}");
    for error in &errors {
        assert!(error["seq"].is_u64(), "{error}");
        assert!(
            error["error"].as_str().unwrap().contains("refused"),
            "{error}"
        );
    }
    assert_eq!(count(lines.last().unwrap(), "errors"), errors.len() as u64);
}

#[test]
fn stream_load_mode_gives_an_interval_a_second_and_the_connections_last() {
    let server = Server::start_quiet(&["--tcp"]);
    let (code, lines) = probe_stream(&[&server.tcp(), "--connections", "2", "--duration", "2.5"]);
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(
        common::event_names(&lines),
        ["start", "interval", "interval", "summary"]
    );
    assert_eq!(lines[0]["connections"], 2);
    assert!(lines[0]["interval_ms"].is_null());
    let mut messages = 0;
    for interval in &lines[1..3] {
        let length = interval["interval_ms"].as_f64().unwrap();
        assert!((900.0..1500.0).contains(&length), "{interval}");
        assert!(count(interval, "messages") > 0, "{interval}");
        assert_eq!(count(interval, "bytes"), count(interval, "messages") * 64);
        messages += count(interval, "messages");
    }
    let summary = &lines[3];
    assert!(messages <= count(summary, "received"), "{summary}");
    assert_eq!(summary["connections"]["established"], 2);
}

#[test]
fn stream_probe_gives_a_stray_line_for_a_datagram_no_probe_asked_for() {
    // A service that sends something else first, then the echo.
    let service = UdpSocket::bind("127.0.0.1:0").unwrap();
    service
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let address = service.local_addr().unwrap().to_string();
    let answering = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let (n, peer) = service.recv_from(&mut buf).expect("a probe within 10 s");
        service.send_to(b"not a probe", peer).unwrap();
        service.send_to(&buf[..n], peer).unwrap();
    });
    let (code, lines) = probe_stream(&["--udp", &address, "-c", "1", "-W", "2"]);
    answering.join().unwrap();
    assert_eq!(code, Some(0), "{lines:?}");
    assert_eq!(
        common::event_names(&lines),
        ["start", "stray", "probe", "summary"]
    );
    assert_eq!(lines[1]["bytes"], 11);
    assert_eq!(lines[2]["outcome"], "ok");
    assert_eq!(count(&lines[3], "stray"), 1);
}

#[test]
fn stream_probe_summary_carries_the_sockets_options_with_show_sockopts() {
    let server = Server::start(&["--tcp"]);
    let (code, lines) = probe_stream(&[&server.tcp(), "-c", "1", "--show-sockopts"]);
    assert_eq!(code, Some(0), "{lines:?}");
    let summary = lines.last().unwrap();
    let names: Vec<&str> = summary["sockopts"]
        .as_array()
        .unwrap_or_else(|| panic!("{summary}"))
        .iter()
        .map(|reading| reading["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"SO_RCVBUF"), "{names:?}");
    assert!(summary.get("connections").is_none(), "{summary}");
}

#[test]
fn a_failed_accept_is_logged_with_its_reason_and_the_server_goes_on() {
    // Few descriptors (prlimit's hard limit, which the server cannot raise):
    // connections past them queue in the backlog and accept() fails.
    let mut command = Command::new("prlimit");
    command.arg("--nofile=48").arg(netdx_bin());
    let mut server = Server::spawn_in(command, "127.0.0.1:0", &["--tcp"], &["--log", "json"]);
    let address = server.tcp.unwrap();
    let mut clients = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let failed = loop {
        assert!(Instant::now() < deadline, "accept never failed");
        if clients.len() < 200 {
            clients.push(TcpStream::connect(address).unwrap());
        }
        let event = server.next_event().expect("the server died");
        if event["event"] == "accept_failed" {
            break event;
        }
    };
    assert!(
        failed["error"].as_str().unwrap().contains("EMFILE"),
        "{failed}"
    );
    // With the descriptors back, a new client is served.
    drop(clients);
    let (output, _) = probe(&[&address.to_string(), "-c", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (code, events) = server.stop();
    assert_eq!(code, Some(0));
    assert!(count(totals(&events), "errors") >= 1, "{events:?}");
}

#[test]
fn stream_serve_writes_each_connection_and_the_totals_last_like_log_json() {
    let server = Server::start_streaming(&[]);
    let (output, _) = probe(&[&server.tcp(), "-c", "2", "-i", "0"]);
    assert_eq!(output.status.code(), Some(0));
    let (code, events) = server.stop_after(1);
    assert_eq!(code, Some(0));
    assert_eq!(
        common::event_names(&events),
        ["connected", "closed", "stopped"],
        "after the two listening lines"
    );
    assert_eq!(events[0]["id"], 1);
    assert_eq!(events[1]["reason"], "peer_closed");
    assert_eq!(count(&events[1], "bytes_in"), 128);
    assert_eq!(totals(&events)["connections"], 1);
    // The same lines as --log json.
    let logged = Server::start(&[]);
    probe(&[&logged.tcp(), "-c", "2", "-i", "0"]);
    let (_, logged) = logged.stop_after(1);
    assert_eq!(common::event_names(&logged), common::event_names(&events));
    for (streamed, logged) in events.iter().zip(&logged) {
        assert_eq!(keys(streamed), keys(logged));
    }
}

#[test]
fn stream_readers_that_leave_end_probe_and_server_at_once_and_quietly() {
    let server = Server::start_on("127.0.0.1:0", &["--tcp"]);
    let probe = Command::new(netdx_bin())
        .args(["echo", "probe", "--json-stream", &server.tcp(), "-c", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let streaming = Command::new(netdx_bin())
        .args([
            "echo",
            "serve",
            "--json-stream",
            "--tcp",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Both have a second or more to their next line (the probe's interval,
    // the server's next connection): leaving must end them well before.
    for (mut child, valid) in [
        (probe, probe_line_valid as fn(&Value)),
        (streaming, serve_line_valid),
    ] {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        valid(&common::json_line(&line));
        drop(stdout);
        let left = Instant::now();
        let status = common::wait_exit(&mut child, Duration::from_secs(5));
        assert!(
            left.elapsed() < Duration::from_millis(500),
            "{:?}",
            left.elapsed()
        );
        assert_eq!(status.code(), Some(0));
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(err, "");
    }
}

#[test]
fn the_servers_json_totals_count_the_traffic_it_echoed() {
    let server = JsonServer::start(&[]);
    let target = server.address.to_string();
    let (tcp, _) = probe(&[&target, "-c", "3", "-i", "0"]);
    assert_eq!(tcp.status.code(), Some(0), "{}", stderr(&tcp));
    let (udp, _) = probe(&["--udp", &target, "-c", "2", "-i", "0", "-s", "100"]);
    assert_eq!(udp.status.code(), Some(0), "{}", stderr(&udp));
    let (status, json) = server.stop();
    assert_eq!(status, Some(0));
    let protos: Vec<&str> = json["listening"]
        .as_array()
        .unwrap()
        .iter()
        .map(|socket| socket["proto"].as_str().unwrap())
        .collect();
    assert_eq!(protos, ["tcp", "udp"], "{json}");
    assert!(json["listening"][0].get("sockopts").is_none(), "{json}");
    let totals = &json["totals"];
    assert_eq!(totals["connections"], 1, "{json}");
    assert_eq!(totals["datagrams_in"], 2, "{json}");
    assert_eq!(totals["datagrams_out"], 2, "{json}");
    assert!(totals["bytes_in"].as_u64().unwrap() >= 200, "{json}");
}
