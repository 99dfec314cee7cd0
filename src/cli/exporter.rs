//! `netdx exporter` arguments: where to listen, the config, the bounds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values;

pub(super) const EXPORTER_EXAMPLES: &str = "\
Examples:
  netdx exporter --config blackbox.yml
                                       serve /probe on 127.0.0.1:9115, blackbox_exporter's way
  curl '127.0.0.1:9115/probe?target=10.0.0.2&module=icmp'
                                       one probe's metrics, as Prometheus scrapes them
  curl '127.0.0.1:9115/probe?target=10.0.0.2&module=icmp&debug=true'
                                       the probe's log, metrics and module instead
  netdx exporter --config fleet.yml --listen 0.0.0.0:9115 --max-concurrent 256
                                       for a Prometheus elsewhere (restrict targets_allowed!)
  netdx exporter --config fleet.yml --textfile /var/lib/node_exporter --interval 30
                                       no server: probe the config's targets into a .prom file
  netdx exporter --config blackbox.yml --check-config
                                       load the config, name what netdx does not support, exit

The config has blackbox_exporter's structure (modules: NAME: {prober, timeout,
icmp|tcp|dns|http: {...}}); an option netdx does not carry out is named in the
startup error, never ignored. netdx's own: icmp's packets: N and interval: 10ms
(loss, duplicates, an RTT histogram), the tcping, echo and trace probers, and
targets_allowed: [CIDR, ...] (other targets get a 403). Without --config the
modules are icmp, tcp_connect, http_2xx and trace. SIGHUP or POST /-/reload
reloads the config; a bad one is refused and the old one kept. Pages: /probe,
/metrics (the exporter's own), / (modules and recent probes), /-/healthy.

Exit status: 0 after SIGINT or SIGTERM, 2 on errors (a config that does not
load, an address that cannot be listened on).";

// `netdx exporter [OPTIONS]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// The YAML config (blackbox_exporter's structure) [default: built-in modules]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where to serve HTTP: ADDR:PORT, [V6]:PORT or PORT
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9115", value_parser = values::bind_address)]
    pub listen: SocketAddr,
    /// Probes running at once; more wait for a slot (within their timeout) or get a 503
    #[arg(long, value_name = "N", default_value = "64", value_parser = max_concurrent)]
    pub max_concurrent: usize,
    /// Write DIR/netdx_exporter.prom for node_exporter instead of serving (needs the config's targets:)
    #[arg(long, value_name = "DIR", requires = "config")]
    pub textfile: Option<PathBuf>,
    /// Seconds between two rounds of --textfile probes
    #[arg(long, value_name = "SECS", default_value = "15", requires = "textfile", value_parser = values::positive_seconds)]
    pub interval: Duration,
    /// Load the config, report what is wrong with it, and exit
    #[arg(long, requires = "config", conflicts_with = "textfile")]
    pub check_config: bool,
}

fn max_concurrent(text: &str) -> Result<usize, String> {
    match values::count(text)? {
        n if n <= 4096 => Ok(n as usize),
        n => Err(format!("{n}: at most 4096 probes at once")),
    }
}
