//! `--plot FILE.svg|FILE.png` as users run it: ping, trace -c and perf run
//! against namespace hosts (iptables' `nth` statistic makes a known set
//! of probes go unanswered), the SVG read by an XML parser and the PNG
//! decoded, their structure checked rather than their pixels.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::netns::{Chain, Netns, Pair};
use common::{assert_one_line_error, netdx, netdx_bin, stderr, stdout};

/// The series colour (round trips, throughput) and the loss colour.
const SERIES_RGB: [u8; 3] = [31, 119, 180];
const LOSS_RGB: [u8; 3] = [214, 39, 40];

/// A fresh directory for one test's files.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netdx-plot-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An SVG file's parts that tests look at.
struct Svg {
    /// Every `<text>` element's text.
    texts: Vec<String>,
    /// How many elements of each name.
    elements: std::collections::BTreeMap<String, usize>,
    /// The root's width and height attributes.
    size: (u32, u32),
}

impl Svg {
    /// Parses `path` with an XML parser (which fails on anything not well-formed).
    fn read(path: &Path) -> Svg {
        let text = std::fs::read_to_string(path).unwrap();
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|err| panic!("{} is not XML: {err}", path.display()));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let dimension = |name| root.attribute(name).unwrap().parse().unwrap();
        let mut elements = std::collections::BTreeMap::new();
        let mut texts = Vec::new();
        for node in doc.descendants().filter(|n| n.is_element()) {
            *elements
                .entry(node.tag_name().name().to_string())
                .or_insert(0) += 1;
            if node.tag_name().name() == "text" {
                texts.push(node.descendants().filter_map(|n| n.text()).collect());
            }
        }
        Svg {
            texts,
            elements,
            size: (dimension("width"), dimension("height")),
        }
    }

    fn count(&self, element: &str) -> usize {
        self.elements.get(element).copied().unwrap_or(0)
    }

    /// Asserts that some text element contains `fragment`.
    fn has_text(&self, fragment: &str) {
        assert!(
            self.texts.iter().any(|t| t.contains(fragment)),
            "no text with {fragment:?} in {:?}",
            self.texts
        );
    }
}

/// A decoded PNG: its size and its RGB pixels.
struct Png {
    size: (u32, u32),
    rgb: Vec<u8>,
}

impl Png {
    fn read(path: &Path) -> Png {
        let file = std::fs::File::open(path).unwrap();
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap_or_else(|err| panic!("{} is not a PNG: {err}", path.display()));
        let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut rgb).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        rgb.truncate(info.buffer_size());
        Png {
            size: (info.width, info.height),
            rgb,
        }
    }

    /// Pixels of exactly this colour.
    fn pixels_of(&self, colour: [u8; 3]) -> usize {
        self.rgb.chunks(3).filter(|p| *p == colour).count()
    }

    /// Dark grey to black pixels: text, axes.
    fn dark_pixels(&self) -> usize {
        self.rgb
            .chunks(3)
            .filter(|p| p.iter().all(|&c| c < 80))
            .count()
    }
}

/// A pair whose host drops every third echo request, starting with the first.
fn lossy_pair(tag: &str) -> Pair {
    let pair = Pair::new(tag);
    pair.host.sh(
        "iptables -A INPUT -p icmp --icmp-type echo-request -m statistic --mode nth --every 3 --packet 0 -j DROP",
    );
    pair
}

fn ping_plot(ns: &Netns, file: &Path) -> std::process::Output {
    let file = file.to_str().unwrap();
    let out = ns.netdx(&[
        "ping",
        "-c",
        "6",
        "-i",
        "0.05",
        "-W",
        "0.5",
        "--plot",
        file,
        Pair::HOST_V4,
    ]);
    assert_ran(&out);
    out
}

#[test]
fn ping_svg_names_the_target_and_axes_and_marks_each_reply_and_each_loss() {
    require_root!();
    let pair = lossy_pair("plotsvg");
    let dir = scratch("ping-svg");
    let file = dir.join("rtt.svg");
    let out = ping_plot(&pair.client, &file);
    assert!(stdout(&out).contains("6 packets transmitted, 4 received"));
    let svg = Svg::read(&file);
    svg.has_text(&format!("ping {} — ", Pair::HOST_V4));
    svg.has_text("UTC — 6 sent, 2 lost (33.3%)");
    for label in [
        "time since start (s)",
        "RTT (ms)",
        "replies",
        "RTT, 4 replies",
        "lost, 2 probes",
    ] {
        svg.has_text(label);
    }
    // A dot per reply and a triangle per lost probe, one more of each in the legend.
    assert_eq!(svg.count("circle"), 4 + 1);
    assert_eq!(svg.count("polygon"), 2 + 1);
    assert_eq!(svg.size, (1200, 800));
}

#[test]
fn ping_png_decodes_at_full_size_with_text_replies_and_losses_drawn() {
    require_root!();
    let pair = lossy_pair("plotpng");
    let dir = scratch("ping-png");
    let file = dir.join("RTT.PNG");
    ping_plot(&pair.client, &file);
    let png = Png::read(&file);
    assert_eq!(png.size, (1200, 800));
    let total = png.rgb.len() / 3;
    assert!(png.dark_pixels() > 2_000, "text and axes are drawn");
    assert!(png.pixels_of(SERIES_RGB) > 50, "reply dots are drawn");
    assert!(png.pixels_of(LOSS_RGB) > 50, "loss marks are drawn");
    assert!(
        png.pixels_of([255, 255, 255]) > total / 2,
        "on a white ground"
    );
}

#[test]
fn trace_svg_shows_each_hop_with_its_answers_and_its_unanswered_probes() {
    require_root!();
    let chain = Chain::new("plottr");
    // Every second time-exceeded from the second router is dropped.
    chain.router_b.sh(
        "iptables -A OUTPUT -p icmp --icmp-type time-exceeded -m statistic --mode nth --every 2 --packet 0 -j DROP",
    );
    let dir = scratch("trace");
    let file = dir.join("path.svg");
    let out = chain.client.netdx(&[
        "trace",
        "-n",
        "-c",
        "4",
        "-q",
        "1",
        "-w",
        "0.5",
        "--plot",
        file.to_str().unwrap(),
        Chain::TARGET,
    ]);
    assert_ran(&out);
    let svg = Svg::read(&file);
    svg.has_text(&format!("trace {} — ", Chain::TARGET));
    svg.has_text("4 rounds, 1 probe per hop");
    for label in [
        "hop (TTL)",
        "RTT (ms)",
        "loss (%)",
        Chain::ROUTER_A,
        Chain::ROUTER_B,
    ] {
        svg.has_text(label);
    }
    svg.has_text("RTT, 10 answers");
    svg.has_text("unanswered, 2 probes");
    assert_eq!(svg.count("circle"), 10 + 1);
    assert_eq!(svg.count("polygon"), 2 + 1);
}

#[test]
fn perf_svg_plots_throughput_per_interval() {
    require_root!();
    let mut pair = Pair::new("plotperf");
    let bind = format!("{}:5201", Pair::HOST_V4);
    pair.host
        .spawn(netdx_bin(), &["perf", "serve", "--bind", &bind]);
    pair.host.wait_listening("5201");
    let dir = scratch("perf");
    let file = dir.join("rate.svg");
    let out = pair.client.netdx(&[
        "perf",
        "run",
        Pair::HOST_V4,
        "-t",
        "1",
        "-i",
        "0.25",
        "--plot",
        file.to_str().unwrap(),
    ]);
    assert_ran(&out);
    let svg = Svg::read(&file);
    svg.has_text(&format!("perf run {} — ", Pair::HOST_V4));
    svg.has_text("TCP, 1 stream");
    svg.has_text("time since start (s)");
    svg.has_text("throughput (Mbit/s)");
    svg.has_text("client → server, per 0.25s interval");
    // A dot per interval, one more in the legend.
    assert_eq!(svg.count("circle"), 4 + 1);
}

#[test]
fn an_unknown_extension_is_refused_before_anything_is_sent() {
    let out = netdx(&["ping", "-c", "1", "--plot", "rtt.jpg", "127.0.0.1"]);
    assert_one_line_error(&out, "unknown image type '.jpg' (use .svg or .png)");
    let out = netdx(&["trace", "--plot", "path", "127.0.0.1"]);
    assert_one_line_error(&out, "(use .svg or .png)");
}

#[test]
fn an_unwritable_plot_file_is_one_line_and_exit_2_before_the_run() {
    require_root!();
    let started = Instant::now();
    let out = netdx(&[
        "ping",
        "-c",
        "3",
        "--plot",
        "/nonexistent/dir/rtt.svg",
        "127.0.0.1",
    ]);
    assert_one_line_error(&out, "--plot: creating /nonexistent/dir/rtt.svg");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no probe waited for"
    );
    let out = netdx(&["trace", "--plot", "/proc/rtt.png", "127.0.0.1"]);
    assert_one_line_error(&out, "--plot: creating /proc/rtt.png");
}

#[test]
fn plotting_a_sweep_is_a_usage_error() {
    let out = netdx(&[
        "ping",
        "-c",
        "1",
        "--plot",
        "x.svg",
        "127.0.0.1",
        "127.0.0.2",
    ]);
    assert_one_line_error(&out, "--plot charts one host's round trips");
}

#[test]
fn echo_load_svg_plots_echoes_per_second_and_mbits_per_interval() {
    use std::io::BufRead;
    let mut server = std::process::Command::new(netdx_bin())
        .args(["echo", "serve", "--tcp", "--bind", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // "listening on 127.0.0.1:40000 (tcp); …"
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_string();
    let dir = scratch("echo");
    let file = dir.join("load.svg");
    let out = netdx(&[
        "echo",
        "probe",
        &address,
        "--connections",
        "2",
        "--duration",
        "2.5",
        "--plot",
        file.to_str().unwrap(),
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_ran(&out);
    let svg = Svg::read(&file);
    svg.has_text(&format!("echo load {address} tcp — "));
    svg.has_text("2 connections");
    svg.has_text("echoes per second");
    svg.has_text("echoed payload (Mbit/s)");
    svg.has_text("time since start (s)");
    // A dot per one-second reading in each of the two panels.
    let dots = svg.count("circle");
    assert!(dots >= 2 * 2 && dots % 2 == 0, "{dots}");
    let out = netdx(&["echo", "probe", &address, "--plot", "x.svg"]);
    assert_one_line_error(&out, "--connections");
}

/// The run exited 0 (its output shown if not).
fn assert_ran(out: &std::process::Output) {
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(out), stderr(out));
}
