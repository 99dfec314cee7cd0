//! The command line: clap types for every subcommand.
//!
//! User input is parsed into domain types here (interface names, …), so the
//! domain never sees a raw string.
#![forbid(unsafe_code)]

use clap::{Args, Parser, Subcommand};

mod arping;
mod calc;
mod completing;
mod completions;
mod dhcp;
pub mod dns;
pub mod echo;
mod exporter;
mod http;
mod icmp;
mod ifconfig;
mod lab;
mod lsof;
mod man;
pub mod neigh;
mod netstat;
mod perf;
mod ping;
mod port;
pub mod route;
mod scan;
mod schema;
pub mod sockopt;
mod tcping;
mod top;
mod trace;
pub mod values;

pub use arping::ArpingArgs;
pub use calc::CalcArgs;
pub use completions::CompletionsArgs;
pub use dhcp::DhcpArgs;
pub use dns::DnsArgs;
pub use echo::{EchoArgs, EchoCommand, ProbeArgs, ServeArgs};
pub use exporter::ExporterArgs;
pub use http::HttpArgs;
pub use icmp::IcmpArgs;
pub use ifconfig::IfconfigArgs;
pub use lab::LabArgs;
pub use lsof::LsofArgs;
pub use man::ManArgs;
pub use neigh::NeighArgs;
pub use netstat::NetstatArgs;
pub use perf::{PerfArgs, PerfCommand, PerfRunArgs, PerfServeArgs};
pub use ping::PingArgs;
pub use port::PortArgs;
pub use route::RouteArgs;
pub use scan::ScanArgs;
pub use schema::SchemaArgs;
pub use sockopt::{SockoptArgs, SockoptCommand};
pub use tcping::TcpingArgs;
pub use top::{TopArgs, TopBy, TopSort};
pub use trace::TraceArgs;

use crate::render::ColorChoice;

const TOP_EXAMPLES: &str = "\
Examples:
  netdx ifconfig                 interfaces that are up, as ifconfig shows them
  netdx ifconfig -a --json       every interface as JSON
  netdx ifconfig -s              the short counters table (ifconfig -s, netstat -i)
  netdx ping -c 3 localhost      three echo requests, iputils-style output
  netdx ping -a -g 10.0.0.0/24   which hosts of a network answer (fping -a -g)
  netdx netstat -tulpn           listening sockets and their processes
  netdx port 8080                who holds port 8080 (lsof -i :8080)
  netdx top                      who is using the network, per process (bandwhich, nethogs)
  netdx echo serve               a TCP/UDP echo service on 127.0.0.1:7007
  netdx echo probe 127.0.0.1:7007 -c 5
                                 round trips through it, every byte checked
  netdx sockopt --set SO_RCVBUF=4096
                                 what the kernel made of a socket option
  netdx lab reuseaddr            why a restarted server gets EADDRINUSE
  netdx icmp --ttl 1 10.0.3.2    a hand-built ICMP probe, every reply decoded
  netdx tcping -c 3 host:443      TCP handshake times to a port, ping-style (tcping)
  netdx perf run 10.0.3.2 -P 4    throughput to a netdx perf server (iperf3 -c); perf serve serves many at once
  netdx trace -n 10.0.3.2        the path, hop by hop (traceroute, mtr --report)
  netdx scan -p- 10.0.3.2        which TCP ports answer (nmap -sT); --syn, --udp
  netdx dns example.org MX       look up records (dig); @SERVER, +short, --json
  netdx http https://example.org/
                                 an HTTP request's waterfall: DNS, connect, TLS, first byte (curl -w, httpstat)
  netdx neigh                    the neighbour table: MACs and states (ip neigh, arp -n)
  netdx neigh scan -I eth1        who is on eth1's segment: MACs, vendors, duplicates (arp-scan)
  netdx arping -c 3 10.0.0.2      which MAC answers for an address, and how fast
  netdx dhcp -I eth0             which DHCP servers answer and what they offer; --request
  netdx route get 10.0.3.2       the route the kernel picks, and the next hop's MAC
  netdx calc 172.16.10.1/24 --binary
                                 network, hosts, class; the address AND the mask, bit by bit
  netdx exporter --config blackbox.yml
                                 every probe as Prometheus metrics, blackbox_exporter-compatible
  netdx schema ping              the JSON Schema of 'netdx ping --json'

Exit status: 0 success, 1 a negative answer (no reply, port free), 2 an error.";

/// netdx: one binary for network diagnostics.
#[derive(Debug, Parser)]
#[command(
    name = "netdx",
    version,
    about = "Network diagnostics in one binary: interfaces, connectivity, sockets, ports, echo probes, socket labs",
    after_help = TOP_EXAMPLES,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print one JSON document on stdout instead of text (fields: docs/json.md; schemas: netdx schema)
    #[arg(long, global = true)]
    pub json: bool,
    /// Print one JSON object per line as events happen, for commands that run a while (ping, trace, scan, echo)
    #[arg(long, global = true, conflicts_with = "json")]
    pub json_stream: bool,
    /// When to colour the output; NO_COLOR in the environment turns `auto` off
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The subcommands. Each one's arguments are built only when it is the one
/// invoked (`defer`): building all of them is most of a short command's CPU.
///
/// Each variant's doc comment is its summary (the list in `netdx --help`, the
/// first line of `netdx COMMAND --help`, the NAME of its man page). Its
/// arguments struct has no doc comment: built deferred, after the variant's
/// attributes, a doc comment there would replace the summary.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Inspect interfaces: addresses, flags, MTU, MAC, counters (replaces ifconfig, ip addr, ip -s link)
    #[command(after_help = ifconfig::IFCONFIG_EXAMPLES)]
    Ifconfig(IfconfigArgs),
    /// Check connectivity: ICMP echo to one host like ping, or to many hosts and networks like fping
    #[command(after_help = ping::PING_EXAMPLES)]
    Ping(PingArgs),
    /// Inspect sockets, routes and protocol counters (replaces netstat, ss)
    #[command(after_help = netstat::NETSTAT_EXAMPLES)]
    Netstat(NetstatArgs),
    /// Who is using a port? Sockets on it and the processes holding them (replaces lsof -i :PORT, fuser)
    #[command(after_help = port::PORT_EXAMPLES)]
    Port(PortArgs),
    /// `lsof -i :PORT` spelled as lsof spells it; the same answer as `netdx port`
    #[command(after_help = lsof::LSOF_EXAMPLES)]
    Lsof(LsofArgs),
    /// TCP/UDP echo: a service (serve) and a prober that checks every byte and loads it (probe)
    #[command(after_help = echo::ECHO_EXAMPLES)]
    Echo(EchoArgs),
    /// Build a socket, set options, and read every option back as the kernel sees it
    #[command(after_help = sockopt::SOCKOPT_EXAMPLES)]
    Sockopt(SockoptArgs),
    /// Run a socket lab: the classic surprises (TIME_WAIT, sticky packets, Nagle, …) on real sockets
    #[command(after_help = lab::LAB_EXAMPLES)]
    Lab(LabArgs),
    /// Build an ICMP message field by field, send it on a raw socket, decode every answer (hping3 --icmp)
    #[command(after_help = icmp::ICMP_EXAMPLES)]
    Icmp(IcmpArgs),
    /// The path to a host, hop by hop: UDP, ICMP or TCP probes, Paris-style (traceroute, mtr --report)
    #[command(after_help = trace::TRACE_EXAMPLES)]
    Trace(TraceArgs),
    /// Which ports answer on a host: TCP connect, SYN and UDP scans with nmap's states (scan only hosts you may)
    #[command(after_help = scan::SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Address arithmetic: network, broadcast, host range, subnets, summaries, membership (replaces ipcalc, sipcalc)
    #[command(after_help = calc::CALC_EXAMPLES)]
    Calc(CalcArgs),
    /// Look up DNS records: dig's arguments in any order and its layout; +short, --json (replaces dig)
    #[command(after_help = dns::DNS_EXAMPLES)]
    Dns(DnsArgs),
    /// One HTTP/1.1 request timed phase by phase: DNS, connect, TLS, first byte, transfer, TCP_INFO (curl -w, httpstat)
    #[command(after_help = http::HTTP_EXAMPLES)]
    Http(HttpArgs),
    /// The neighbour table: which MAC answers for which address (replaces ip neigh, arp -n)
    #[command(after_help = neigh::NEIGH_EXAMPLES)]
    Neigh(NeighArgs),
    /// Who has this IPv4 address? ARP requests on the link, duplicate detection, announcements (replaces arping)
    #[command(after_help = arping::ARPING_EXAMPLES)]
    Arping(ArpingArgs),
    /// Which DHCP servers answer on a link and what they offer; --request takes and releases a lease (replaces dhcping, nmap broadcast-dhcp-discover)
    #[command(after_help = dhcp::DHCP_EXAMPLES)]
    Dhcp(DhcpArgs),
    /// Time TCP handshakes to a port, ping-style: where ICMP is blocked, is the service up and how far (replaces tcping, nc -z)
    #[command(after_help = tcping::TCPING_EXAMPLES)]
    Tcping(TcpingArgs),
    /// Who is using the network: rates per process, TCP connection and interface from the kernel's counters, no capture (replaces bandwhich, nethogs, iftop)
    #[command(after_help = top::TOP_EXAMPLES)]
    Top(TopArgs),
    /// Throughput between two hosts: a server for many clients at once, and a client with iperf3's measurements (replaces iperf3)
    #[command(after_help = perf::PERF_EXAMPLES)]
    Perf(PerfArgs),
    /// Serve probes to Prometheus: blackbox_exporter's /probe, config and metrics, with loss, histograms and traces
    #[command(after_help = exporter::EXPORTER_EXAMPLES)]
    Exporter(ExporterArgs),
    /// Ask the routing table: which route, gateway, interface and source the kernel picks (ip route get)
    #[command(after_help = route::ROUTE_EXAMPLES)]
    Route(RouteArgs),
    /// The JSON Schema of a command's --json document or --json-stream line (draft 2020-12; also in docs/schema/)
    #[command(after_help = schema::SCHEMA_EXAMPLES)]
    Schema(SchemaArgs),
    /// Print the completion script for a shell: bash, zsh, fish, elvish or powershell
    #[command(after_help = completions::COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print a man page: netdx(1), or netdx-COMMAND(1) for a command; or write them all
    #[command(after_help = man::MAN_EXAMPLES)]
    Man(ManArgs),
}

/// The whole command line with every deferred subcommand built, nested ones
/// too: what completion scripts are made from, and the command names `netdx
/// man` completes. Only the `completions` and `man` commands pay for it.
pub fn command_tree() -> clap::Command {
    let mut command = <Cli as clap::CommandFactory>::command();
    command.build();
    command
}
