//! `netdx scan` views: nmap-like text (a `PORT STATE SERVICE REASON` table,
//! "Not shown" lines for the large groups, the rate-limit line) and the
//! `--json` document, written port by port so a `-p-` sweep of many hosts
//! is never held as text in memory.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;
use serde::ser::SerializeSeq;

use crate::names::services::Services;
use crate::scan::{Counts, HostReport, Method, PortResult, Proto, Reason, Slot, State};

/// Groups of more closed or filtered ports than this are summarised in a
/// "Not shown" line, as nmap does.
pub const SHOWN_MAX: usize = 25;

/// Service names (none with `-n`).
pub struct Names {
    services: Option<Services>,
}

impl Names {
    /// From /etc/services, or none at all (`numeric`).
    pub fn new(numeric: bool) -> Self {
        Names {
            services: (!numeric).then(Services::load),
        }
    }

    /// The service name of `port`/`proto`.
    pub fn service(&self, port: u16, proto: Proto) -> Option<&str> {
        self.services.as_ref()?.name(port, proto.transport())
    }
}

fn proto_word(proto: Proto) -> &'static str {
    match proto {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
    }
}

/// The word nmap prints for a state.
pub fn state_word(state: State) -> &'static str {
    match state {
        State::Open => "open",
        State::Closed => "closed",
        State::Filtered => "filtered",
        State::OpenFiltered => "open|filtered",
        State::Unclassified => "unclassified",
    }
}

/// The word nmap prints for a reason.
pub fn reason_word(reason: Reason) -> &'static str {
    match reason {
        Reason::SynAck => "syn-ack",
        Reason::Reset => "reset",
        Reason::ConnRefused => "conn-refused",
        Reason::PortUnreach => "port-unreach",
        Reason::AdminProhibited => "admin-prohibited",
        Reason::HostUnreach => "host-unreach",
        Reason::NetUnreach => "net-unreach",
        Reason::ProtoUnreach => "proto-unreach",
        Reason::HostProhibited => "host-prohibited",
        Reason::NetProhibited => "net-prohibited",
        Reason::UdpResponse => "udp-response",
        Reason::NoResponse => "no-response",
        Reason::IcmpRateLimited => "icmp-rate-limited",
    }
}

fn method_words(method: Method) -> &'static str {
    match method {
        Method::Tcp => "tcp connect",
        Method::Syn => "tcp syn",
        Method::Udp => "udp",
    }
}

/// One port's result, as the document and the stream show it.
pub fn port_result(
    report_proto: Proto,
    port: u16,
    slot: &Slot,
    banner: Option<&[u8]>,
    names: &Names,
) -> PortResult {
    PortResult {
        port,
        proto: report_proto,
        state: slot.state,
        reason: slot.reason,
        service: names.service(port, report_proto).map(str::to_string),
        rtt_ms: slot.rtt_ms(),
        banner: banner.map(|b| super::printable(&String::from_utf8_lossy(b)).into_owned()),
    }
}

/// A duration in words: "850 ms", "42 s", "13 min".
fn about(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", (secs * 1000.0).round())
    } else if secs < 120.0 {
        format!("{} s", secs.round())
    } else if secs < 7200.0 {
        format!("{} min", (secs / 60.0).round())
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

/// The rate-limit summary line of a host, if it was rate-limited.
pub fn rate_limit_line(report: &HostReport) -> Option<String> {
    if !report.rate_limited {
        return None;
    }
    let interval = report
        .icmp_interval
        .unwrap_or(crate::scan::engine::DEFAULT_ICMP_INTERVAL);
    let per_second = 1.0 / interval.as_secs_f64().max(1e-3);
    let rate = if per_second >= 1.5 {
        format!("{}/s", per_second.round())
    } else if per_second >= 0.95 {
        "1/s".to_string()
    } else {
        format!("1 every {}", about(interval))
    };
    let left = report.counts.unclassified;
    if left == 0 {
        return Some(format!(
            "ICMP rate-limited: at {rate}; every port classified (--exact)"
        ));
    }
    let full = interval * left;
    Some(format!(
        "ICMP rate-limited: {left} ports not classified; at {rate} a full classification takes about {}; --exact waits for it",
        about(full)
    ))
}

/// The text report of one host.
pub fn host_text(report: &HostReport, names: &Names) -> String {
    let proto = report.method.proto();
    let mut text = String::new();
    let name = if report.target == report.address.to_string() {
        report.target.clone()
    } else {
        format!("{} ({})", report.target, report.address)
    };
    let _ = writeln!(
        text,
        "netdx scan report for {name} ({}, {} ports)",
        method_words(report.method),
        report.ports.len()
    );
    let mut groups: BTreeMap<(State, Reason), usize> = BTreeMap::new();
    for slot in &report.slots {
        *groups.entry((slot.state, slot.reason)).or_default() += 1;
    }
    let hidden = |state: State, reason: Reason| {
        state != State::Open && groups.get(&(state, reason)).is_some_and(|&n| n > SHOWN_MAX)
    };
    let not_shown: Vec<String> = groups
        .iter()
        .filter(|((state, reason), _)| hidden(*state, *reason))
        .map(|((state, reason), n)| {
            let plural = if *n == 1 { "port" } else { "ports" };
            format!(
                "{n} {} {} {plural} ({})",
                state_word(*state),
                proto_word(proto),
                reason_word(*reason)
            )
        })
        .collect();
    if !not_shown.is_empty() {
        let _ = writeln!(text, "Not shown: {}", not_shown.join(", "));
    }
    let rows: Vec<(String, &str, String, &str, u16)> = report
        .ports
        .iter()
        .zip(&report.slots)
        .filter(|(_, slot)| !hidden(slot.state, slot.reason))
        .map(|(port, slot)| {
            (
                format!("{port}/{}", proto_word(proto)),
                state_word(slot.state),
                names.service(*port, proto).unwrap_or("unknown").to_string(),
                reason_word(slot.reason),
                *port,
            )
        })
        .collect();
    if rows.is_empty() {
        let _ = writeln!(
            text,
            "All {} scanned ports are in the groups above",
            report.ports.len()
        );
    } else {
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(5);
        let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(7);
        let _ = writeln!(
            text,
            "{:w0$}  {:w1$}  {:w2$}  REASON",
            "PORT", "STATE", "SERVICE"
        );
        for (port, state, service, reason, number) in &rows {
            let _ = writeln!(text, "{port:w0$}  {state:w1$}  {service:w2$}  {reason}");
            if let Some(banner) = report.banners.get(number) {
                let _ = writeln!(
                    text,
                    "| banner: {}",
                    super::printable(&String::from_utf8_lossy(banner))
                );
            }
        }
    }
    if let Some(line) = rate_limit_line(report) {
        let _ = writeln!(text, "{line}");
    }
    text
}

/// The closing line: hosts, open ports, time.
pub fn summary_line(reports: &[HostReport], elapsed: Duration) -> String {
    let open: u32 = reports.iter().map(|r| r.counts.open).sum();
    let hosts = reports
        .iter()
        .map(|r| r.address)
        .collect::<std::collections::HashSet<IpAddr>>()
        .len();
    format!(
        "netdx scan done: {hosts} host{} scanned, {open} open port{} in {:.2} s\n",
        if hosts == 1 { "" } else { "s" },
        if open == 1 { "" } else { "s" },
        elapsed.as_secs_f64()
    )
}

/// One host in `--json`, and in the stream's `host` event (without `ports`).
#[derive(Serialize, JsonSchema)]
pub struct HostDocument<'a> {
    /// The host as named.
    pub target: &'a str,
    /// Its address.
    pub address: IpAddr,
    /// The protocol scanned.
    pub proto: Proto,
    /// The scan method.
    pub method: Method,
    /// Every port scanned, ascending.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<PortResult>")]
    pub ports: Option<PortsView<'a>>,
    /// Ports by state.
    pub counts: Counts,
    /// From the host's first probe to its last verdict.
    pub elapsed_ms: f64,
    /// Whether the host's ICMP rate limit was detected.
    pub rate_limited: bool,
    /// The limiter's interval between ICMP errors (measured or estimated), when rate-limited.
    pub icmp_interval_ms: Option<f64>,
}

/// A host's ports, serialised one at a time.
pub struct PortsView<'a> {
    report: &'a HostReport,
    names: &'a Names,
}

impl Serialize for PortsView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let proto = self.report.method.proto();
        let mut seq = serializer.serialize_seq(Some(self.report.slots.len()))?;
        for (port, slot) in self.report.ports.iter().zip(&self.report.slots) {
            let banner = self.report.banners.get(port).map(Vec::as_slice);
            seq.serialize_element(&port_result(proto, *port, slot, banner, self.names))?;
        }
        seq.end()
    }
}

/// The document of one host; `with_ports` false for the stream's summary.
pub fn host_document<'a>(
    report: &'a HostReport,
    names: &'a Names,
    with_ports: bool,
) -> HostDocument<'a> {
    HostDocument {
        target: &report.target,
        address: report.address,
        proto: report.method.proto(),
        method: report.method,
        ports: with_ports.then_some(PortsView { report, names }),
        counts: report.counts,
        elapsed_ms: report.elapsed.as_secs_f64() * 1000.0,
        rate_limited: report.rate_limited,
        icmp_interval_ms: report
            .icmp_interval
            .filter(|_| report.rate_limited)
            .map(|d| d.as_secs_f64() * 1000.0),
    }
}

/// Writes the `--json` document (an array of hosts) to `out`.
pub fn write_json(out: &mut dyn Write, reports: &[HostReport], names: &Names) -> io::Result<()> {
    let documents: Vec<HostDocument<'_>> = reports
        .iter()
        .map(|r| host_document(r, names, true))
        .collect();
    serde_json::to_writer_pretty(&mut *out, &documents).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The schema's view of the document.
pub type ScanDocument = Vec<HostDocument<'static>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn report(closed: usize) -> HostReport {
        let mut ports: Vec<u16> = (1..=closed as u16).collect();
        ports.push(8080);
        let mut slots: Vec<Slot> = ports
            .iter()
            .map(|_| Slot {
                state: State::Closed,
                reason: Reason::ConnRefused,
                tries: 1,
                settled: true,
                rtt_us: 50,
            })
            .collect();
        slots.last_mut().unwrap().state = State::Open;
        slots.last_mut().unwrap().reason = Reason::SynAck;
        HostReport {
            target: "10.9.0.2".into(),
            address: IpAddr::from([10, 9, 0, 2]),
            method: Method::Tcp,
            ports: Arc::from(ports),
            slots,
            banners: BTreeMap::from([(8080, b"SSH-2.0-x\r\n".to_vec())]),
            counts: Counts {
                open: 1,
                closed: closed as u32,
                ..Counts::default()
            },
            elapsed: Duration::from_millis(12),
            rate_limited: false,
            icmp_interval: None,
        }
    }

    #[test]
    fn many_closed_ports_are_summarised_and_few_are_listed() {
        let names = Names::new(true);
        let text = host_text(&report(100), &names);
        assert!(
            text.contains("Not shown: 100 closed tcp ports (conn-refused)"),
            "{text}"
        );
        assert!(text.contains("8080/tcp  open   unknown  syn-ack"), "{text}");
        assert!(text.contains("| banner: SSH-2.0-x\\r\\n"), "{text}");
        let text = host_text(&report(3), &names);
        assert!(!text.contains("Not shown"), "{text}");
        assert!(
            text.contains("2/tcp     closed  unknown  conn-refused"),
            "{text}"
        );
    }

    #[test]
    fn the_rate_limit_line_says_how_long_exact_would_take() {
        let mut r = report(3);
        r.rate_limited = true;
        r.counts.unclassified = 776;
        r.icmp_interval = Some(Duration::from_secs(1));
        assert_eq!(
            rate_limit_line(&r).unwrap(),
            "ICMP rate-limited: 776 ports not classified; at 1/s a full classification takes about 13 min; --exact waits for it"
        );
    }
}
