//! `netdx exporter`: netdx's probes served to Prometheus, compatible with
//! blackbox_exporter (`/probe?target=…&module=…`, its config structure and
//! its metric names), with what it lacks: many ICMP packets per probe
//! (loss, duplicates, an RTT histogram), TCP_INFO, and traceroute and
//! tcping and echo probers.
//!
//! * [`config`] reads the YAML file and names every option netdx does not
//!   carry out;
//! * [`probe`] runs one module against one target (synchronously: the
//!   engines measure next to their system calls), one file per prober
//!   ([`icmp`], [`tcp`], [`dns`], [`http`], [`tcping`], [`echo`],
//!   [`trace`]);
//! * [`server`] is the HTTP server (hyper on tokio): probes on the
//!   blocking pool behind a semaphore, each bounded by its timeout;
//! * [`textfile`] writes node_exporter textfiles instead of listening;
//! * [`state`] holds the exporter's own metrics and the last probes.
//!
//! Nothing here prints: the server hands its log events and the text of
//! its pages to functions the command layer gives it ([`Views`]).
#![forbid(unsafe_code)]

pub mod config;
pub mod dns;
pub mod echo;
pub mod http;
pub mod icmp;
pub mod metrics;
pub mod probe;
pub mod server;
pub mod state;
pub mod tcp;
pub mod tcping;
pub mod textfile;
pub mod timeout;
pub mod trace;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use config::Config;
use metrics::Family;
use probe::Outcome;
use state::Page;

/// Why the exporter could not start (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    /// The config file could not be read.
    #[error("reading config {}: {source} (give one with --config FILE)", path.display())]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// The config file is not one netdx can carry out.
    #[error("config {}: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Every problem found, on one line.
        reason: String,
    },
    /// The listening socket could not be opened.
    #[error(
        "listening on {address}: {source} (is another exporter running? pick another --listen)"
    )]
    Listen {
        /// Where.
        address: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// `--textfile` without targets to probe.
    #[error("--textfile probes the targets of the config's `targets:` list, and {} has none", path.display())]
    NoTargets {
        /// The config file.
        path: PathBuf,
    },
    /// The textfile directory cannot be written.
    #[error("--textfile {}: {source} (the directory must exist and be writable)", dir.display())]
    Textfile {
        /// The directory.
        dir: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// Capabilities could not be given up.
    #[error(transparent)]
    Privilege(#[from] crate::privilege::PrivilegeError),
    /// The async runtime or signal handlers could not be set up.
    #[error("starting the exporter: {0}")]
    Runtime(std::io::Error),
}

/// What the exporter says about itself as it runs (one line each on stderr).
#[derive(Debug, Clone)]
pub enum LogEvent {
    /// The server is listening.
    Listening {
        /// Where.
        address: SocketAddr,
        /// Modules loaded.
        modules: usize,
    },
    /// `--listen` is not a loopback address.
    ExposedListen {
        /// Where.
        address: SocketAddr,
    },
    /// Writing textfiles every interval.
    Writing {
        /// The file.
        path: PathBuf,
        /// How often.
        interval: Duration,
        /// Targets probed.
        targets: usize,
    },
    /// A probe finished.
    Probe {
        /// The module.
        module: String,
        /// The target.
        target: String,
        /// `probe_success`.
        success: bool,
        /// How long it took.
        duration: Duration,
        /// Why it failed, when it did.
        error: Option<String>,
    },
    /// A request was refused.
    Refused {
        /// The HTTP status sent.
        status: u16,
        /// The reason sent.
        reason: String,
        /// Who asked.
        peer: Option<SocketAddr>,
    },
    /// The config was reloaded.
    Reloaded {
        /// Modules now loaded.
        modules: usize,
    },
    /// A new config was refused; the old one stays.
    ReloadFailed {
        /// Why.
        reason: String,
    },
    /// A textfile was written.
    Wrote {
        /// The file.
        path: PathBuf,
        /// Targets in it.
        targets: usize,
    },
    /// A textfile could not be written.
    WriteFailed {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The exporter is stopping (SIGINT, SIGTERM).
    Stopping,
}

/// The text format a scraper asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus' text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0.
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(accept) if accept.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Text,
        }
    }

    /// Its Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// How the server's pages and log lines are written: given by the command
/// layer (the render functions), so the domain never formats output itself.
#[derive(Clone, Copy)]
pub struct Views {
    /// Metric families in a format.
    pub metrics: fn(&[Family], Format) -> String,
    /// The probe's log, its metrics and its module, for `debug=true`.
    pub debug: fn(&Outcome, &str) -> String,
    /// The index page.
    pub page: fn(&Page) -> String,
}

/// Where the exporter's log events go (the command layer prints them).
pub type Logger = std::sync::Arc<dyn Fn(&LogEvent) + Send + Sync>;
