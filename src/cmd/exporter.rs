//! `netdx exporter`: arguments → config → the server (or the textfile
//! writer), its pages and log lines written by the render layer.

use std::io::Write;
use std::sync::Arc;

use crate::cli::ExporterArgs;
use crate::error::{Error, Outcome};
use crate::exporter::{Config, ExporterError, Logger, Views, server, textfile};
use crate::render::{self, Output};

/// The modules served without --config.
const BUILT_IN: &str = "\
modules:
  icmp:
    prober: icmp
    timeout: 5s
  tcp_connect:
    prober: tcp
    timeout: 5s
  http_2xx:
    prober: http
    timeout: 5s
  trace:
    prober: trace
    timeout: 10s
";

/// Serves probes until SIGINT or SIGTERM.
pub fn run(args: &ExporterArgs, out: &Output) -> Result<Outcome, Error> {
    if out.json {
        return Err(Error::Usage(
            "--json: `exporter` serves Prometheus' text format (and OpenMetrics), not JSON".into(),
        ));
    }
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::parse(BUILT_IN).map_err(|reason| ExporterError::Config {
            path: "(built-in)".into(),
            reason,
        })?,
    };
    if args.check_config {
        let names: Vec<&str> = config.modules.keys().map(String::as_str).collect();
        let path = args.config.as_deref().unwrap_or("(built-in)".as_ref());
        render::print(&format!(
            "config {}: {} modules ({}), {} targets, loads\n",
            path.display(),
            names.len(),
            names.join(", "),
            config.targets.len()
        ))?;
        return Ok(Outcome::Success);
    }
    let views = Views {
        metrics: render::prometheus::families,
        debug: render::exporter::debug,
        page: render::exporter::page,
    };
    let log: Logger = Arc::new(|event| {
        // A closed stderr loses the log, not the server.
        let _ = writeln!(std::io::stderr(), "{}", render::exporter::log_line(event));
    });
    if let (Some(dir), Some(path)) = (&args.textfile, &args.config) {
        let settings = textfile::Settings {
            dir: dir.clone(),
            interval: args.interval,
            config_path: path.clone(),
            max_concurrent: args.max_concurrent,
        };
        textfile::run(&settings, config, views, log)?;
        return Ok(Outcome::Success);
    }
    let settings = server::Settings {
        listen: args.listen,
        config_path: args.config.clone(),
        max_concurrent: args.max_concurrent,
    };
    server::serve(&settings, config, views, log)?;
    Ok(Outcome::Success)
}
