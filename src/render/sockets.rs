//! Socket views: the netstat/ss table, lsof-style port listings, protocol
//! counters and the routing table.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::net::IpAddr;

use super::{Output, clipped, printable, table};
use crate::names::services::Services;
use crate::process::PidMap;
use crate::protostats::Group;
use crate::routes::Route;
use crate::sockets::{
    Endpoint, Holder, Memory, Proto, Socket, Source, TcpInfo, Timer, TimerKind, UnixType,
};

/// Which extra columns the socket table has and how addresses are written.
#[derive(Debug, Default)]
pub struct SocketView<'a> {
    /// `-p`: holders.
    pub processes: bool,
    /// `-e`: uid and inode.
    pub extended: bool,
    /// `-o`: timers.
    pub timers: bool,
    /// `-i`: TCP internals.
    pub tcp_info: bool,
    /// `-m`: memory.
    pub memory: bool,
    /// Port names (absent with `-n`).
    pub services: Option<&'a Services>,
    /// Host names for addresses (`--resolve`).
    pub hosts: Option<&'a HashMap<IpAddr, String>>,
}

/// ss's Netid column.
fn netid(socket: &Socket) -> &'static str {
    match (socket.proto, socket.unix_type) {
        (Proto::Tcp, _) => "tcp",
        (Proto::Udp, _) => "udp",
        (Proto::Raw, _) => "raw",
        (Proto::Unix, Some(UnixType::Dgram)) => "u_dgr",
        (Proto::Unix, Some(UnixType::Seqpacket)) => "u_seq",
        (Proto::Unix, _) => "u_str",
    }
}

/// `addr:port` as ss writes it: IPv6 in brackets, `*` for a zero port,
/// `%iface` for a bound device, names when asked for.
struct Addr<'a>(&'a Endpoint, Proto, Option<&'a str>, &'a SocketView<'a>);

impl std::fmt::Display for Addr<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Addr(endpoint, proto, interface, view) = self;
        match endpoint {
            Endpoint::Inet { address, port } => {
                match view.hosts.and_then(|hosts| hosts.get(address)) {
                    Some(name) => f.write_str(&printable(name))?,
                    None if address.is_ipv6() => write!(f, "[{address}]")?,
                    None => write!(f, "{address}")?,
                }
                if let Some(iface) = interface {
                    write!(f, "%{}", printable(iface))?;
                }
                if *port == 0 {
                    return f.write_str(":*");
                }
                match view
                    .services
                    .zip(proto.transport())
                    .and_then(|(s, transport)| s.name(*port, transport))
                {
                    Some(name) => write!(f, ":{name}"),
                    None => write!(f, ":{port}"),
                }
            }
            Endpoint::Unix { path, inode } => {
                write!(f, "{} {inode}", printable(path.as_deref().unwrap_or("*")))
            }
        }
    }
}

/// The IPv4 address [`write_addr`] wrote last in a column, as text: the
/// rows of a large table mostly repeat a few addresses.
#[derive(Default)]
struct LastV4 {
    address: Option<std::net::Ipv4Addr>,
    text: String,
}

/// Writes what [`Addr`] shows into `text`; a plain numeric IPv4 endpoint
/// (most rows of a large table) is written without the formatting
/// machinery, its address copied from `last` when it is the same one.
fn write_addr(
    text: &mut String,
    endpoint: &Endpoint,
    proto: Proto,
    interface: Option<&str>,
    view: &SocketView<'_>,
    last: &mut LastV4,
) {
    if let Some((v4, port)) = plain_v4(endpoint, interface, view) {
        if last.address != Some(v4) {
            last.text.clear();
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    last.text.push('.');
                }
                table::push_decimal(&mut last.text, u64::from(octet));
            }
            last.address = Some(v4);
        }
        text.push_str(&last.text);
        if port == 0 {
            text.push_str(":*");
        } else {
            text.push(':');
            table::push_decimal(text, u64::from(port));
        }
        return;
    }
    let _ = write!(text, "{}", Addr(endpoint, proto, interface, view));
}

/// The address and port of an endpoint [`write_addr`] writes by itself: a
/// numeric IPv4 one, with no interface and no names to show.
fn plain_v4(
    endpoint: &Endpoint,
    interface: Option<&str>,
    view: &SocketView<'_>,
) -> Option<(std::net::Ipv4Addr, u16)> {
    match endpoint {
        Endpoint::Inet {
            address: IpAddr::V4(v4),
            port,
        } if interface.is_none() && view.hosts.is_none() && view.services.is_none() => {
            Some((*v4, *port))
        }
        _ => None,
    }
}

/// How wide [`write_addr`] writes `endpoint`: counted for a plain numeric
/// IPv4 endpoint, written into `scratch` and measured otherwise.
fn addr_width(
    endpoint: &Endpoint,
    proto: Proto,
    interface: Option<&str>,
    view: &SocketView<'_>,
    scratch: &mut String,
) -> usize {
    if let Some((v4, port)) = plain_v4(endpoint, interface, view) {
        let digits = |n: u64| table::decimal_width(n);
        let address: usize = v4.octets().iter().map(|&o| digits(u64::from(o))).sum();
        let port = if port == 0 {
            1
        } else {
            digits(u64::from(port))
        };
        return address + 3 + 1 + port;
    }
    scratch.clear();
    write_addr(
        scratch,
        endpoint,
        proto,
        interface,
        view,
        &mut LastV4::default(),
    );
    table::display_width(scratch)
}

/// ss's `users:(("name",pid=1,fd=3),…)`.
pub fn processes(socket: &Socket) -> String {
    if socket.processes.is_empty() {
        return String::new();
    }
    let holders: Vec<String> = socket
        .processes
        .iter()
        .map(|h| format!("(\"{}\",pid={},fd={})", printable(&h.name), h.pid, h.fd))
        .collect();
    format!("users:({})", holders.join(","))
}

/// ss's timer durations: `200ms`, `1.500sec`… written `1min`, `12sec`, `999ms`.
pub fn duration_ms(ms: u64) -> String {
    let minutes = ms / 60_000;
    let mut secs = (ms / 1000) % 60;
    let mut msecs = ms % 1000;
    let mut text = String::new();
    if minutes > 0 {
        msecs = 0;
        let _ = write!(text, "{minutes}min");
        if minutes > 9 {
            secs = 0;
        }
    }
    if secs > 0 {
        if secs > 9 {
            msecs = 0;
        }
        let _ = write!(text, "{secs}{}", if msecs > 0 { "." } else { "sec" });
    }
    if msecs > 0 {
        let _ = write!(text, "{msecs:03}ms");
    }
    if text.is_empty() {
        text.push_str("0ms");
    }
    text
}

/// ss's word for a timer.
fn timer_word(kind: TimerKind) -> &'static str {
    match kind {
        TimerKind::On => "on",
        TimerKind::Keepalive => "keepalive",
        TimerKind::Timewait => "timewait",
        TimerKind::Persist => "persist",
    }
}

fn timer(timer: Option<&Timer>) -> String {
    timer.map_or_else(String::new, |t| {
        format!(
            "timer:({},{},{})",
            timer_word(t.kind),
            duration_ms(t.expires_ms),
            t.retransmits
        )
    })
}

fn memory(memory: Option<&Memory>) -> String {
    memory.map_or_else(String::new, |m| {
        format!(
            "skmem:(r{},rb{},t{},tb{},f{},w{},o{},bl{},d{})",
            m.rmem_alloc,
            m.rcvbuf,
            m.wmem_alloc,
            m.sndbuf,
            m.fwd_alloc,
            m.wmem_queued,
            m.optmem,
            m.backlog,
            m.drops
        )
    })
}

/// A rate in bits per second, as ss writes it (`1.2Mbps`).
pub fn bps(bytes_per_sec: u64) -> String {
    let bits = bytes_per_sec as f64 * 8.0;
    for (scale, unit) in [(1e9, "Gbps"), (1e6, "Mbps"), (1e3, "Kbps")] {
        if bits >= scale {
            return format!("{:.1}{unit}", bits / scale);
        }
    }
    format!("{bits:.0}bps")
}

fn tcp_info(info: Option<&TcpInfo>) -> String {
    let Some(info) = info else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(cc) = &info.congestion {
        parts.push(cc.clone());
    }
    let opt = |v: Option<u32>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
    if let (Some(rtt), Some(var)) = (info.rtt_ms, info.rttvar_ms) {
        parts.push(format!("rtt:{rtt}/{var}"));
    }
    if let Some(rto) = info.rto_ms {
        parts.push(format!("rto:{rto}"));
    }
    parts.push(format!("mss:{}", opt(info.mss)));
    parts.push(format!("cwnd:{}", opt(info.cwnd)));
    parts.push(format!("ssthresh:{}", opt(info.ssthresh)));
    parts.push(format!(
        "retrans:{}/{}",
        opt(info.retrans),
        opt(info.total_retrans)
    ));
    if let Some(acked) = info.bytes_acked {
        parts.push(format!("bytes_acked:{acked}"));
    }
    if let Some(received) = info.bytes_received {
        parts.push(format!("bytes_received:{received}"));
    }
    if let Some(rate) = info.delivery_rate {
        parts.push(format!("delivery_rate:{}", bps(rate)));
    }
    parts.join(" ")
}

/// The netstat/ss socket table, built one socket at a time.
pub struct SocketTable<'a> {
    view: &'a SocketView<'a>,
    headers: Vec<&'static str>,
    rows: table::Rows,
    local: LastV4,
    peer: LastV4,
}

impl<'a> SocketTable<'a> {
    /// An empty table with the columns `view` asks for.
    pub fn new(view: &'a SocketView<'a>) -> Self {
        let mut headers = vec![
            "Netid",
            "State",
            "Recv-Q",
            "Send-Q",
            "Local Address:Port",
            "Peer Address:Port",
        ];
        if view.processes {
            headers.push("Process");
        }
        if view.extended {
            headers.extend(["UID", "Inode"]);
        }
        if view.timers {
            headers.push("Timer");
        }
        if view.memory {
            headers.push("Memory");
        }
        if view.tcp_info {
            headers.push("TCP info");
        }
        let rows = table::Rows::new(headers.len());
        SocketTable {
            view,
            headers,
            rows,
            local: LastV4::default(),
            peer: LastV4::default(),
        }
    }

    /// Adds one socket's row.
    pub fn add(&mut self, s: &Socket) {
        let (view, rows) = (self.view, &mut self.rows);
        let (local, peer) = (&mut self.local, &mut self.peer);
        rows.push_str(netid(s));
        rows.push_str(s.state.name());
        rows.push_u64(u64::from(s.recv_q));
        rows.push_u64(u64::from(s.send_q));
        let interface = s.interface.as_deref();
        rows.push_with(|text| write_addr(text, &s.local, s.proto, interface, view, local));
        rows.push_with(|text| write_addr(text, &s.peer, s.proto, None, view, peer));
        if view.processes {
            rows.push(processes(s));
        }
        if view.extended {
            rows.push(s.uid.map_or_else(|| "-".into(), |u| u.to_string()));
            rows.push(s.inode);
        }
        if view.timers {
            rows.push(timer(s.timer.as_ref()));
        }
        if view.memory {
            rows.push(memory(s.memory.as_deref()));
        }
        if view.tcp_info {
            rows.push(tcp_info(s.tcp_info.as_deref()));
        }
    }

    /// Writes the finished table.
    pub fn write_to(&self, out: &Output, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        table::grid_to(&self.headers, &self.rows, &[2, 3], out, w)
    }
}

/// The whole socket table as text (for tests and small listings).
pub fn socket_table(sockets: &[Socket], view: &SocketView<'_>, out: &Output) -> String {
    let mut table = SocketTable::new(view);
    for socket in sockets {
        table.add(socket);
    }
    let mut text = Vec::new();
    let _ = table.write_to(out, &mut text);
    String::from_utf8(text).unwrap_or_default()
}

/// Characters of a command line the port table shows (JSON has it whole).
pub const COMMAND_LINE_WIDTH: usize = 200;

/// What a port table row usually takes (addresses, a short command line).
const PORT_ROW_BYTES: usize = 160;

/// The port table's columns.
const PORT_HEADERS: [&str; 9] = [
    "Proto",
    "Local",
    "Peer",
    "State",
    "PID",
    "User",
    "Command",
    "FD",
    "Command line",
];

/// Which of the port table's columns hold numbers (right-aligned).
const PORT_NUMERIC: [usize; 2] = [4, 7];

/// The lsof-style listing of `netdx port` as text, laid out from a table
/// of its cells (as on a terminal; [`port_table_to`] writes the same text
/// to a pipe without collecting the cells).
pub fn port_table(sockets: &[Socket], out: &Output) -> String {
    table::grid(&PORT_HEADERS, &port_rows(sockets), &PORT_NUMERIC, out)
}

/// The lsof-style listing of `netdx port`, written to `w`: one row per
/// holder (or per socket without one). In a pipe the columns' widths are
/// measured first and each row is then written once, straight into its
/// line; a long listing's second half is written on another thread
/// meanwhile.
pub fn port_table_to(
    sockets: &[Socket],
    out: &Output,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    if out.tty {
        return table::grid_to(&PORT_HEADERS, &port_rows(sockets), &PORT_NUMERIC, out, w);
    }
    let texts = ProcessTexts::of(sockets);
    let widths = port_widths(sockets, &texts);
    let mut line = table::PlainLine::new(&widths, &PORT_NUMERIC);
    for header in PORT_HEADERS {
        line.cell(header);
    }
    w.write_all(line.end().as_bytes())?;
    if sockets.len() < table::SPLIT_AT {
        return write_port_rows(sockets, &texts, &mut line, &mut |l| {
            w.write_all(l.as_bytes())
        });
    }
    let (first, second) = sockets.split_at(sockets.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            let mut text = String::with_capacity(second.len().saturating_mul(PORT_ROW_BYTES));
            let mut line = table::PlainLine::new(&widths, &PORT_NUMERIC);
            // Appending to a String cannot fail.
            let _ = write_port_rows(second, &texts, &mut line, &mut |l| {
                text.push_str(l);
                Ok(())
            });
            text
        });
        write_port_rows(first, &texts, &mut line, &mut |l| w.write_all(l.as_bytes()))?;
        match other.join() {
            Ok(text) => w.write_all(text.as_bytes()),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// What the port table shows of each process, escaped and clipped once:
/// thousands of rows share a few processes.
struct ProcessTexts<'a>(PidMap<ShownProcess<'a>>);

/// A holder's command and command line as the port table shows them.
#[derive(Clone)]
struct ShownProcess<'a> {
    /// The holder's own texts these were made from.
    name: &'a str,
    cmdline: &'a str,
    shown_name: Cow<'a, str>,
    shown_cmdline: String,
    name_width: usize,
    cmdline_width: usize,
}

impl<'a> ShownProcess<'a> {
    fn of(holder: &'a Holder) -> Self {
        let cmdline = holder.cmdline.as_deref().unwrap_or("");
        let shown_name = printable(&holder.name);
        let shown_cmdline = clipped(&printable(cmdline), COMMAND_LINE_WIDTH).into_owned();
        ShownProcess {
            name: &holder.name,
            cmdline,
            name_width: table::display_width(&shown_name),
            cmdline_width: table::display_width(&shown_cmdline),
            shown_name,
            shown_cmdline,
        }
    }

    /// Whether these are `holder`'s texts (holders share their process's
    /// texts: the same pointers, mostly).
    fn made_from(&self, holder: &Holder) -> bool {
        let same = |a: &str, b: &str| std::ptr::eq(a, b) || a == b;
        same(self.name, &holder.name) && same(self.cmdline, holder.cmdline.as_deref().unwrap_or(""))
    }
}

impl<'a> ProcessTexts<'a> {
    fn of(sockets: &'a [Socket]) -> Self {
        let mut texts = PidMap::default();
        for holder in sockets.iter().flat_map(|s| &s.processes) {
            texts
                .entry(holder.pid)
                .or_insert_with(|| ShownProcess::of(holder));
        }
        ProcessTexts(texts)
    }

    /// `holder`'s shown texts: its process's, while they were made from
    /// the same texts, else its own.
    fn shown<'s>(&'s self, holder: &'s Holder) -> Cow<'s, ShownProcess<'s>> {
        match self.0.get(&holder.pid) {
            Some(shown) if shown.made_from(holder) => Cow::Borrowed(shown),
            _ => Cow::Owned(ShownProcess::of(holder)),
        }
    }
}

/// The width of each of the port table's columns.
fn port_widths(sockets: &[Socket], texts: &ProcessTexts<'_>) -> [usize; 9] {
    let mut widths = PORT_HEADERS.map(table::display_width);
    let mut wide = |column: usize, width: usize| widths[column] = widths[column].max(width);
    let view = SocketView::default();
    let mut scratch = String::new();
    for s in sockets {
        let interface = s.interface.as_deref();
        wide(0, netid(s).len());
        wide(
            1,
            addr_width(&s.local, s.proto, interface, &view, &mut scratch),
        );
        wide(2, addr_width(&s.peer, s.proto, None, &view, &mut scratch));
        wide(3, table::display_width(s.state.name()));
        if s.processes.is_empty() {
            (4..9).for_each(|column| wide(column, 1));
        }
        for holder in &s.processes {
            let shown = texts.shown(holder);
            wide(4, table::decimal_width(u64::from(holder.pid)));
            wide(
                5,
                table::display_width(holder.user.as_deref().unwrap_or("-")),
            );
            wide(6, shown.name_width);
            wide(7, table::decimal_width(u64::from(holder.fd)));
            wide(8, shown.cmdline_width);
        }
    }
    widths
}

/// Writes the rows of `sockets` through `line`, handing each to `emit`.
fn write_port_rows(
    sockets: &[Socket],
    texts: &ProcessTexts<'_>,
    line: &mut table::PlainLine<'_>,
    emit: &mut dyn FnMut(&str) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let view = SocketView::default();
    let (mut local, mut peer) = (LastV4::default(), LastV4::default());
    for s in sockets {
        let interface = s.interface.as_deref();
        let mut base = |line: &mut table::PlainLine<'_>| {
            line.cell(netid(s));
            line.cell_with(|text| {
                write_addr(text, &s.local, s.proto, interface, &view, &mut local)
            });
            line.cell_with(|text| write_addr(text, &s.peer, s.proto, None, &view, &mut peer));
            line.cell(s.state.name());
        };
        if s.processes.is_empty() {
            base(line);
            (0..5).for_each(|_| line.cell("-"));
            emit(line.end())?;
        }
        for holder in &s.processes {
            base(line);
            let shown = texts.shown(holder);
            line.cell_u64(u64::from(holder.pid));
            line.cell(holder.user.as_deref().unwrap_or("-"));
            line.cell(&shown.shown_name);
            line.cell_u64(u64::from(holder.fd));
            line.cell(&shown.shown_cmdline);
            emit(line.end())?;
        }
    }
    Ok(())
}

/// The port table's cells, for a terminal's framed table.
fn port_rows(sockets: &[Socket]) -> table::Rows {
    let view = SocketView::default();
    let mut rows = table::Rows::new(PORT_HEADERS.len());
    let count: usize = sockets.iter().map(|s| s.processes.len().max(1)).sum();
    rows.reserve(count, PORT_ROW_BYTES);
    let texts = ProcessTexts::of(sockets);
    let (mut local, mut peer) = (LastV4::default(), LastV4::default());
    for s in sockets {
        let mut base = |rows: &mut table::Rows| {
            let interface = s.interface.as_deref();
            rows.push_str(netid(s));
            rows.push_with(|text| {
                write_addr(text, &s.local, s.proto, interface, &view, &mut local)
            });
            rows.push_with(|text| write_addr(text, &s.peer, s.proto, None, &view, &mut peer));
            rows.push_str(s.state.name());
        };
        if s.processes.is_empty() {
            base(&mut rows);
            for _ in 0..5 {
                rows.push_str("-");
            }
        }
        for holder in &s.processes {
            base(&mut rows);
            let shown = texts.shown(holder);
            rows.push_u64(u64::from(holder.pid));
            rows.push_str(holder.user.as_deref().unwrap_or("-"));
            rows.push_str(&shown.shown_name);
            rows.push_u64(u64::from(holder.fd));
            rows.push_str(&shown.shown_cmdline);
        }
    }
    rows
}

/// `lsof -t`: the holders' pids, once each, in order.
pub fn pids(sockets: &[Socket]) -> String {
    let mut pids: Vec<u32> = sockets
        .iter()
        .flat_map(|s| s.processes.iter().map(|h| h.pid))
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids.iter().map(|pid| format!("{pid}\n")).collect()
}

/// The stderr note when sockets came from /proc/net instead of netlink.
pub fn source_note(source: &Source) -> Option<String> {
    match source {
        Source::Netlink => None,
        Source::Proc { reason } => Some(format!(
            "netdx: note: read /proc/net instead of sock_diag netlink ({reason}); filtering happened here, not in the kernel\n"
        )),
    }
}

/// The stderr note when some processes could not be inspected.
pub fn hidden_note(hidden: usize) -> Option<String> {
    (hidden > 0).then(|| {
        format!(
            "netdx: note: {hidden} processes could not be inspected (they belong to other users); their sockets show no owner — run as root to see them all\n"
        )
    })
}

/// `netdx netstat -s --json`: every counter group as the kernel names it
/// (`sockets`, `Ip`, `Tcp`, `TcpExt`, `Ip6` …), each an object of counter → value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct StatisticsDocument(pub BTreeMap<String, BTreeMap<String, i64>>);

impl StatisticsDocument {
    /// The groups as one document.
    pub fn new(groups: &[Group]) -> Self {
        StatisticsDocument(
            groups
                .iter()
                .map(|group| (group.name.clone(), group.counters.iter().cloned().collect()))
                .collect(),
        )
    }
}

/// `netstat -s`: each group and its counters.
pub fn statistics(groups: &[Group]) -> String {
    let mut text = String::new();
    for group in groups {
        let _ = writeln!(text, "{}:", group.name);
        for (name, value) in &group.counters {
            let _ = writeln!(text, "    {name}: {value}");
        }
    }
    text
}

/// `netstat -rn`-style routing table.
pub fn routes(routes: &[Route], out: &Output) -> String {
    let headers = [
        "Destination",
        "Gateway",
        "Flags",
        "Metric",
        "Iface",
        "Type",
        "Proto",
        "Scope",
    ];
    let mut rows = table::Rows::new(headers.len());
    for r in routes {
        rows.push(format_args!("{}/{}", r.destination, r.prefix_len));
        rows.push(r.gateway.map_or_else(|| "*".to_string(), |g| g.to_string()));
        rows.push(&r.flags);
        rows.push(r.metric);
        rows.push(r.interface.as_deref().unwrap_or("*"));
        rows.push(&r.kind);
        rows.push(&r.protocol);
        rows.push(&r.scope);
    }
    table::grid(&headers, &rows, &[3], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_numeric_endpoint_writes_what_the_display_writes() {
        let view = SocketView {
            processes: false,
            extended: false,
            timers: false,
            tcp_info: false,
            memory: false,
            services: None,
            hosts: None,
        };
        let mut last = LastV4::default();
        for (address, port) in [
            ("127.0.0.1", 22u16),
            ("127.0.0.1", 40000),
            ("0.0.0.0", 0),
            ("255.255.255.255", 65535),
            ("10.9.0.1", 8),
            ("::1", 443),
            ("fe80::1", 0),
        ] {
            let endpoint = Endpoint::Inet {
                address: address.parse().unwrap(),
                port,
            };
            let mut fast = String::new();
            write_addr(
                &mut fast,
                &endpoint,
                Proto::Tcp,
                None,
                &view,
                &mut LastV4::default(),
            );
            assert_eq!(fast, Addr(&endpoint, Proto::Tcp, None, &view).to_string());
            // Again after another address, and twice in a row, through one memo.
            for _ in 0..2 {
                let mut again = String::new();
                write_addr(&mut again, &endpoint, Proto::Tcp, None, &view, &mut last);
                assert_eq!(again, fast);
            }
        }
        let mut text = String::new();
        for n in [0u64, 7, 10, 65535, u64::MAX] {
            text.clear();
            table::push_decimal(&mut text, n);
            assert_eq!(text, n.to_string());
        }
    }

    fn tcp(local: &str, peer: &str, state: u8, processes: Vec<Holder>) -> Socket {
        let end = |text: &str| {
            let addr: std::net::SocketAddr = text.parse().unwrap();
            Endpoint::Inet {
                address: addr.ip(),
                port: addr.port(),
            }
        };
        Socket {
            proto: Proto::Tcp,
            family: crate::sockets::Family::Inet,
            unix_type: None,
            state: crate::sockets::State(state),
            recv_q: 0,
            send_q: 0,
            local: end(local),
            peer: end(peer),
            interface: None,
            uid: Some(0),
            inode: 1,
            processes,
            tcp_info: None,
            timer: None,
            memory: None,
        }
    }

    fn holder(pid: u32, name: &str, fd: u32, cmdline: &str) -> Holder {
        Holder {
            pid,
            name: name.into(),
            fd,
            user: Some("root".into()),
            cmdline: Some(cmdline.into()),
        }
    }

    #[test]
    fn the_port_table_has_a_row_per_holder_with_escaped_and_clipped_command_lines() {
        let long = format!("python3 {}", "x".repeat(300));
        let sockets = [
            tcp(
                "127.0.0.1:8080",
                "0.0.0.0:0",
                10,
                vec![
                    holder(41, "server", 3, "server --port 8080"),
                    holder(42, "server", 3, "server\n--child"),
                ],
            ),
            tcp(
                "[::1]:8080",
                "[::1]:40000",
                1,
                vec![holder(41, "server", 5, "server --port 8080")],
            ),
            tcp(
                "127.0.0.1:40000",
                "127.0.0.1:8080",
                1,
                vec![holder(7, "py\x1b[2J", 4, &long)],
            ),
            // The same pid with another command line (it exec'd between reads).
            tcp(
                "127.0.0.1:40001",
                "127.0.0.1:8080",
                1,
                vec![holder(7, "py", 6, "other")],
            ),
            tcp("127.0.0.1:8080", "127.0.0.1:40002", 6, vec![]),
        ];
        let out = Output {
            json: false,
            stream: false,
            tty: false,
            style: crate::render::Style::resolve(crate::render::ColorChoice::Never, false, false),
        };
        let text = port_table(&sockets, &out);
        let clipped_long = format!("python3 {}…", "x".repeat(COMMAND_LINE_WIDTH - 9));
        let expected = [
            "Proto  Local            Peer             State      PID  User  Command    FD  Command line".to_string(),
            "tcp    127.0.0.1:8080   0.0.0.0:*        LISTEN      41  root  server      3  server --port 8080".to_string(),
            "tcp    127.0.0.1:8080   0.0.0.0:*        LISTEN      42  root  server      3  server\\n--child".to_string(),
            "tcp    [::1]:8080       [::1]:40000      ESTAB       41  root  server      5  server --port 8080".to_string(),
            format!("tcp    127.0.0.1:40000  127.0.0.1:8080   ESTAB        7  root  py\\x1b[2J   4  {clipped_long}"),
            "tcp    127.0.0.1:40001  127.0.0.1:8080   ESTAB        7  root  py          6  other".to_string(),
            "tcp    127.0.0.1:8080   127.0.0.1:40002  TIME-WAIT    -  -     -           -  -".to_string(),
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{text}");
    }

    fn pipe() -> Output {
        Output {
            json: false,
            stream: false,
            tty: false,
            style: crate::render::Style::resolve(crate::render::ColorChoice::Never, false, false),
        }
    }

    fn written(sockets: &[Socket]) -> String {
        let mut text = Vec::new();
        port_table_to(sockets, &pipe(), &mut text).unwrap();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn the_port_table_written_straight_to_a_pipe_is_the_table_laid_out_from_cells() {
        let odd = "x".repeat(COMMAND_LINE_WIDTH + 5);
        let mut bound = tcp(
            "10.1.2.3:443",
            "[::ffff:1.2.3.4]:0",
            10,
            vec![holder(9, "ngïnx", 0, "")],
        );
        bound.interface = Some("eth0".into());
        let mut shifted = holder(9, "ngïnx", 12, "exec'd since");
        shifted.user = None;
        let sockets = [
            bound,
            tcp(
                "[fe80::1]:22",
                "[fe80::2]:50000",
                1,
                vec![holder(1, "sshd", 3, "sshd: \x1b[2J")],
            ),
            tcp("0.0.0.0:0", "0.0.0.0:0", 7, vec![]),
            tcp(
                "127.0.0.1:8",
                "127.0.0.1:9",
                1,
                vec![holder(4_000_000, "py", 10_000, &odd)],
            ),
            tcp(
                "127.0.0.1:8",
                "127.0.0.1:9",
                1,
                vec![shifted, holder(9, "ngïnx", 1, "  ")],
            ),
        ];
        assert_eq!(written(&sockets), port_table(&sockets, &pipe()));
        // Long enough for the second half to be written on another thread;
        // the widest cells in the second half.
        let many: Vec<Socket> = (0..table::SPLIT_AT as u32 + 10)
            .map(|i| {
                let holders = (0..i % 3)
                    .map(|h| holder(100 + h, "server", i, &format!("server --n {i}")))
                    .collect();
                let port = 1 + (i % 60_000) as u16;
                tcp(&format!("127.0.0.1:{port}"), "10.0.0.1:80", 1, holders)
            })
            .collect();
        let text = written(&many);
        assert_eq!(text, port_table(&many, &pipe()));
        let rows: usize = many.iter().map(|s| s.processes.len().max(1)).sum();
        assert_eq!(text.lines().count(), 1 + rows);
    }

    #[test]
    fn timer_durations_read_like_ss() {
        assert_eq!(duration_ms(200), "200ms");
        assert_eq!(duration_ms(1500), "1.500ms");
        assert_eq!(duration_ms(12_000), "12sec");
        assert_eq!(duration_ms(7_140_000), "119min");
        assert_eq!(duration_ms(65_000), "1min5sec");
        assert_eq!(duration_ms(0), "0ms");
    }

    #[test]
    fn rates_scale_like_ss() {
        assert_eq!(bps(125_000), "1.0Mbps");
        assert_eq!(bps(10), "80bps");
        assert_eq!(bps(4_100_000_000), "32.8Gbps");
    }
}
