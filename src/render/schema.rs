//! The JSON Schema (draft 2020-12) of every document netdx prints, generated
//! from the types that are serialised — never written by hand.
//!
//! [`DOCUMENTS`] is the one registry: `netdx schema NAME` prints from it,
//! `docs/schema/NAME.json` is generated from it, and the tests validate each
//! command's real output against it. A new document (a command's `--json`,
//! or one line of a `--json-stream`, named `COMMAND.stream`) is one line there.
//!
//! The schemas say what is really written: a type with its own `Serialize`
//! has its own `JsonSchema` (or `#[schemars(with = …)]`), an `Option` field
//! is required and may be `null`, and an `Option` field left out when empty
//! (`skip_serializing_if`) is optional and never `null` (`#[schemars(with =
//! "T")]` beside it). The schemas are open (no `additionalProperties:
//! false`): new fields may appear, per the stability rule in docs/json.md.
#![forbid(unsafe_code)]

use std::fmt::Write;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use super::echo::{ProbeDocument, ServeDocument};
use super::icmp::IcmpDocument;
use super::lab::{AllDocument, LabEntry, LessonView};
use super::sockets::StatisticsDocument;
use super::sockopt::ExplainView;
use super::stream::echo::ProbeEvent;
use super::stream::ping::PingEvent;
use super::stream::serve::ServeEvent;
use super::stream::trace::TraceEvent;
use super::trace::TraceDocument;
use crate::iface::Interface;
use crate::ping::TargetReport;
use crate::routes::Route;
use crate::sockets::Socket;

/// One kind of JSON document netdx prints, and how to get its schema.
#[derive(Debug, Clone, Copy)]
pub struct Document {
    /// Its name: `netdx schema NAME`, `docs/schema/NAME.json`.
    pub name: &'static str,
    /// The command line that prints it.
    pub printed_by: &'static str,
    /// What the document is, in one line.
    pub about: &'static str,
    generate: fn() -> Schema,
}

impl Document {
    /// A document whose JSON is `T` serialised.
    const fn of<T: JsonSchema>(
        name: &'static str,
        printed_by: &'static str,
        about: &'static str,
    ) -> Document {
        Document {
            name,
            printed_by,
            about,
            generate: root_schema::<T>,
        }
    }

    /// The document's schema, titled with the command that prints it.
    pub fn schema(&self) -> Schema {
        let mut schema = (self.generate)();
        schema.insert("title".into(), self.printed_by.into());
        schema.insert("description".into(), self.about.into());
        schema
    }

    /// The schema as the text `netdx schema NAME` prints and
    /// `docs/schema/NAME.json` holds: pretty-printed, keys sorted, one
    /// newline at the end.
    pub fn schema_text(&self) -> String {
        super::json::document(&self.schema())
    }
}

/// Every document, in the order `netdx schema` lists them.
pub const DOCUMENTS: &[Document] = &[
    Document::of::<Vec<Interface>>(
        "ifconfig",
        "netdx ifconfig --json",
        "The interfaces shown, sorted by name as ifconfig sorts them.",
    ),
    Document::of::<Vec<TargetReport>>(
        "ping",
        "netdx ping --json",
        "One object per target, in command-line order: one host, or every host of a sweep.",
    ),
    Document::of::<Vec<Socket>>(
        "netstat-sockets",
        "netdx netstat --json",
        "The sockets, one object each, as the kernel reports them.",
    ),
    Document::of::<Vec<Route>>(
        "netstat-routes",
        "netdx netstat -r --json",
        "The main routing table, one object per route (per next hop of a multipath route).",
    ),
    Document::of::<Vec<Interface>>(
        "netstat-interfaces",
        "netdx netstat -i --json",
        "The interfaces that are up: the same document as `netdx ifconfig --json`.",
    ),
    Document::of::<StatisticsDocument>(
        "netstat-statistics",
        "netdx netstat -s --json",
        "Protocol counters by group, from /proc/net/{sockstat,sockstat6,snmp,netstat,snmp6}.",
    ),
    Document::of::<Vec<Socket>>(
        "port",
        "netdx port PORT --json",
        "The sockets on the port, with their holders' users and command lines.",
    ),
    Document::of::<Vec<Socket>>(
        "lsof",
        "netdx lsof -i :PORT --json",
        "The sockets on the port: the same document as `netdx port --json`.",
    ),
    Document::of::<ProbeDocument<'static>>(
        "echo-probe",
        "netdx echo probe --json",
        "The probe run's summary (also in load mode), printed when it ends.",
    ),
    Document::of::<ServeDocument<'static>>(
        "echo-serve",
        "netdx echo serve --json",
        "Where the server listened and what it did, printed when it stops.",
    ),
    Document::of::<crate::sockopt::session::Report>(
        "sockopt",
        "netdx sockopt --json",
        "The socket as built, the calls made on it, and every option read back.",
    ),
    Document::of::<ExplainView>(
        "sockopt-explain",
        "netdx sockopt explain NAME --json",
        "What one socket option does, its default here, and its pitfalls.",
    ),
    Document::of::<crate::lab::Report>(
        "lab",
        "netdx lab NAME --json",
        "A lab's transcript: every call, what it showed, whether the kernel behaved as expected.",
    ),
    Document::of::<Vec<LabEntry>>("lab-list", "netdx lab --json", "Every lab netdx can run."),
    Document::of::<LessonView>(
        "lab-explain",
        "netdx lab NAME --explain --json",
        "One lab's lesson: what to expect and why, the calls and options it teaches.",
    ),
    Document::of::<AllDocument<'static>>(
        "lab-all",
        "netdx lab all --json",
        "Every lab run once: how each ended and what the kernel showed, in one line.",
    ),
    Document::of::<IcmpDocument<'static>>(
        "icmp",
        "netdx icmp --json",
        "Every probe sent and answer decoded, in order, and the totals.",
    ),
    Document::of::<TraceDocument<'static>>(
        "trace",
        "netdx trace --json",
        "Every walk of the path (one, or one per round with -c), the per-hop statistics and the responders' names.",
    ),
    Document::of::<PingEvent<'static>>(
        "ping.stream",
        "netdx ping --json-stream",
        "One line of the stream: start, a reply, error or timeout per probe, a summary per target (interim on SIGQUIT).",
    ),
    Document::of::<TraceEvent<'static>>(
        "trace.stream",
        "netdx trace --json-stream",
        "One line of the stream: start, each hop as it completes (each round with -c), the --json document as the summary.",
    ),
    Document::of::<ProbeEvent<'static>>(
        "echo-probe.stream",
        "netdx echo probe --json-stream",
        "One line of the stream: start, a probe line per echo or timeout, stray and error lines, intervals in load mode, the --json document as the summary.",
    ),
    Document::of::<ServeEvent>(
        "echo-serve.stream",
        "netdx echo serve --json-stream",
        "One line of the stream (and of --log json): listening, each connection and drop as it happens, stopped with the totals last.",
    ),
    Document::of::<super::scan::ScanDocument>(
        "scan",
        "netdx scan --json",
        "One object per host and protocol scanned: every port with its state, reason and round trip, the counts, and whether the host's ICMP rate limit held answers back.",
    ),
    Document::of::<super::stream::scan::ScanEvent<'static>>(
        "scan.stream",
        "netdx scan --json-stream",
        "One line of the stream: start (per method), port (each verdict), host (each host done, without ports), done.",
    ),
    Document::of::<Vec<super::dns::LookupDocument>>(
        "dns",
        "netdx dns --json",
        "One object per question asked: the server, the transport, the time, and the response's header, question, answer, authority and additional sections, each record with its type's fields.",
    ),
    Document::of::<Vec<super::dns_trace::TraceDocument>>(
        "dns-trace",
        "netdx dns +trace --json",
        "One object per question traced: every response on the way from the root (with its kind: roots, referral, answer, nxdomain, nodata, lame), every silent server and glueless lookup, and how the walk ended.",
    ),
    Document::of::<super::stream::dns::DnsEvent<'static>>(
        "dns.stream",
        "netdx dns --json-stream",
        "One line of the stream: start, a lookup line per question as it ends (its --json object with the question's index), done with the tally.",
    ),
    Document::of::<crate::http::Report>(
        "http",
        "netdx http URL --json",
        "The last response (status, http_version, headers, size_download) with curl -w's cumulative times in ms (time_namelookup … time_total), how the host resolved, the TLS session and certificate, the connection's TCP_INFO, every request made (redirects, -c repeats), per-phase percentiles with -c, and a timeout when one hit.",
    ),
    Document::of::<Vec<crate::neigh::Neighbour>>(
        "neigh",
        "netdx neigh --json",
        "The neighbour-table entries shown, in the kernel's order (as ip neigh lists them).",
    ),
    Document::of::<crate::neigh::scan::ScanReport>(
        "neigh-scan",
        "netdx neigh scan --json",
        "The scan: interface, network, source, every (address, MAC) that answered with its vendor, round trip and flags (duplicate, shared MAC, in the kernel's table), and the totals.",
    ),
    Document::of::<super::stream::neigh_scan::ScanEvent<'static>>(
        "neigh-scan.stream",
        "netdx neigh scan --json-stream",
        "One line of the stream: start, a host line per (address, MAC) as it first answers, done with the --json document.",
    ),
    Document::of::<crate::arping::Report>(
        "arping",
        "netdx arping ADDR --json",
        "The run: target, source, interface, mode, probes sent, every reply (MAC, unicast or broadcast, round trip, the probe answered), each MAC that answered, and whether more than one did.",
    ),
    Document::of::<super::stream::arping::ArpingEvent<'static>>(
        "arping.stream",
        "netdx arping ADDR --json-stream",
        "One line of the stream: start, a reply line per reply as it is matched, done with the --json document.",
    ),
    Document::of::<crate::top::Report>(
        "top",
        "netdx top --once --json",
        "One measurement over -i seconds from the kernel's counters: processes (pid, command, user, bytes per second sent and received, totals, connections), TCP connections (ends, holder, rates, RTT, retransmits) and interfaces (rates and totals), busiest first; hidden_processes (other users', without root) and what the counters cannot show.",
    ),
    Document::of::<super::stream::top::TopEvent<'static>>(
        "top.stream",
        "netdx top --json-stream",
        "A refresh line per -i interval: the --once --json document of that interval.",
    ),
    Document::of::<crate::tcping::Report>(
        "tcping",
        "netdx tcping HOST:PORT --json",
        "The run: host, address and port, probes transmitted, connected, closed (refused with an RST), timed out and failed, the loss, the round-trip statistics of the completed handshakes, and every probe (status, the kernel's handshake time, connect()'s time, SYN retransmissions, local port, error).",
    ),
    Document::of::<super::stream::tcping::TcpingEvent<'static>>(
        "tcping.stream",
        "netdx tcping HOST:PORT --json-stream",
        "One line of the stream: start, a probe line per probe as it ends, done with the --json document.",
    ),
    Document::of::<crate::perf::Report>(
        "perf",
        "netdx perf run HOST --json",
        "The test in iperf3 -J's shape: start (connections, the test's parameters), intervals (each stream from this client's side: bytes, bits per second, TCP retransmits and congestion window, UDP datagrams, jitter, loss and reordering, and their sums), end (each stream's sender and receiver totals, sum_sent and sum_received, and with --bidir the other direction's sums).",
    ),
    Document::of::<crate::perf::serve::ServeEvent>(
        "perf-serve.stream",
        "netdx perf serve --json-stream",
        "One line per server event as it happens: listening first, then each test started (its parameters), ended (bytes and seconds here), refused (busy, invalid, another version) or failed.",
    ),
    Document::of::<super::stream::perf::PerfEvent<'static>>(
        "perf.stream",
        "netdx perf run HOST --json-stream",
        "One line of the stream: start, an interval line per report interval, end with the totals (the --json document's three parts as iperf3's --json-stream events).",
    ),
    Document::of::<crate::dhcp::Report>(
        "dhcp",
        "netdx dhcp -I IFACE --json",
        "The run: interface, client MAC, transaction id, every OFFER (server, address, lease, routers, DNS servers, domain, every option decoded by name, the BOOTP fields), the servers that answered and whether more than one did, and with --request the ACK or NAK and the release.",
    ),
    Document::of::<crate::routes::get::Lookup>(
        "route-get",
        "netdx route get ADDR --json",
        "The route the kernel chose for the destination, its MTU, and the next hop's neighbour entry.",
    ),
    Document::of::<crate::calc::CalcDocument>(
        "calc",
        "netdx calc ADDR --json",
        "The network's facts (IPv4: netmask, wildcard, broadcast, host range and count, class, space; IPv6: forms, range, count, space, embedded IPv4), and the section of the mode asked for: split, summarize, range or contains.",
    ),
    Document::of::<Vec<Entry>>(
        "schema-list",
        "netdx schema --json",
        "Every document that has a schema: its name, what prints it, what it is.",
    ),
];

/// One document in `netdx schema --json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Entry {
    /// Its name, for `netdx schema NAME`.
    #[schemars(with = "DocumentName")]
    pub name: &'static str,
    /// The command line that prints it.
    pub printed_by: &'static str,
    /// What it is.
    pub about: &'static str,
}

/// A registered document's name: the schema of the registry's names.
pub struct DocumentName;

impl JsonSchema for DocumentName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DocumentName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> Schema {
        let names: Vec<&str> = names().collect();
        schemars::json_schema!({"type": "string", "enum": names})
    }
}

/// Every document, for `netdx schema --json`.
pub fn list() -> Vec<Entry> {
    DOCUMENTS
        .iter()
        .map(|document| Entry {
            name: document.name,
            printed_by: document.printed_by,
            about: document.about,
        })
        .collect()
}

/// `netdx schema`: one line per document, its name first.
pub fn list_text() -> String {
    let width = names().map(str::len).max().unwrap_or(0);
    let mut text = String::new();
    for document in DOCUMENTS {
        let _ = writeln!(text, "{:width$}  {}", document.name, document.printed_by);
    }
    text
}

/// The document called `name`.
pub fn find(name: &str) -> Option<&'static Document> {
    DOCUMENTS.iter().find(|document| document.name == name)
}

/// Every document's name, in registry order.
pub fn names() -> impl Iterator<Item = &'static str> {
    DOCUMENTS.iter().map(|document| document.name)
}

/// `T`'s schema as what netdx writes: serialisation's view of the type (an
/// `Option` field is present and `null`, a `skip_serializing_if` one may be
/// absent), draft 2020-12.
fn root_schema<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_file_safe() {
        let mut seen = std::collections::HashSet::new();
        for name in names() {
            assert!(seen.insert(name), "{name} is registered twice");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '.'),
                "{name} is not a plain file name"
            );
        }
    }

    #[test]
    fn every_schema_is_draft_2020_12_and_titled() {
        for document in DOCUMENTS {
            let schema = document.schema();
            assert_eq!(
                schema.get("$schema").and_then(|v| v.as_str()),
                Some("https://json-schema.org/draft/2020-12/schema"),
                "{}",
                document.name
            );
            assert_eq!(
                schema.get("title").and_then(|v| v.as_str()),
                Some(document.printed_by)
            );
            assert!(document.schema_text().ends_with("}\n"));
        }
    }

    #[test]
    fn string_enums_and_nullable_fields_reach_the_schema() {
        let text = find("netstat-sockets").unwrap().schema_text();
        // serde's rename_all words, a manual schema's names, Option as null.
        for word in [
            "\"inet6\"",
            "\"seqpacket\"",
            "\"TIME-WAIT\"",
            "\"keepalive\"",
            "\"null\"",
        ] {
            assert!(text.contains(word), "{word} missing from {text}");
        }
        assert!(find("no-such-document").is_none());
    }
}
