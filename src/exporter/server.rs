//! The HTTP server: hyper (HTTP/1.1) on a tokio runtime.
//!
//! * `GET /probe?target=T&module=M[&debug=true]` runs the module now, on
//!   tokio's blocking pool, behind a semaphore (`--max-concurrent`); a
//!   request that cannot get a slot within its probe's timeout, or finds
//!   too many already waiting, gets a 503. Every probe is bounded by its
//!   timeout (the module's and Prometheus' `X-Prometheus-Scrape-Timeout-
//!   Seconds`, as blackbox_exporter computes it).
//! * `GET /metrics`, `GET /`, `GET /-/healthy`, `POST /-/reload`.
//! * SIGHUP reloads the config; a config that does not load is refused and
//!   the old one kept. SIGINT and SIGTERM stop the server.
//!
//! Memory is bounded: connections (a cap on accepted ones, a deadline on
//! each request head), waiting probes, probes running, and the history.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;

use super::config::{Config, Module, Prober};
use super::probe::{self, Outcome, ProbeLog};
use super::state::{Refusal, State};
use super::timeout::{OFFSET, probe_timeout};
use super::{ExporterError, Format, LogEvent, Logger, Views};

/// Connections served at once; more are closed as they come.
const MAX_CONNECTIONS: usize = 4096;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest target accepted.
const MAX_TARGET: usize = 1024;
/// How the server runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where it listens.
    pub listen: SocketAddr,
    /// The config file (reloaded from here), if any.
    pub config_path: Option<PathBuf>,
    /// Probes running at once.
    pub max_concurrent: usize,
}

struct Shared {
    config: RwLock<Arc<Config>>,
    config_path: Option<PathBuf>,
    state: State,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    views: Views,
    log: Logger,
}

impl Shared {
    fn config(&self) -> Arc<Config> {
        Arc::clone(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Loads the config file again; a bad one is refused, the old kept.
    fn reload(&self) -> Result<usize, String> {
        let Some(path) = &self.config_path else {
            return Err("no --config file to reload".into());
        };
        match Config::load(path) {
            Ok(config) => {
                let modules: Vec<String> = config.modules.keys().cloned().collect();
                let count = modules.len();
                *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
                self.state.keep_modules(&modules);
                self.state.reloaded(true);
                (self.log)(&LogEvent::Reloaded { modules: count });
                Ok(count)
            }
            Err(err) => {
                self.state.reloaded(false);
                let reason = err.to_string();
                (self.log)(&LogEvent::ReloadFailed {
                    reason: reason.clone(),
                });
                Err(reason)
            }
        }
    }
}

/// Builds the runtime: two workers (probes run on the blocking pool, sized
/// for `max_concurrent`).
pub fn runtime(max_concurrent: usize) -> Result<tokio::runtime::Runtime, ExporterError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(max_concurrent + 4)
        .thread_name("netdx-exporter")
        .enable_all()
        .build()
        .map_err(ExporterError::Runtime)
}

/// Serves until SIGINT or SIGTERM. The socket is bound first (a port
/// below 1024 may need a capability), then every capability but
/// CAP_NET_RAW is given up, before the runtime starts its threads.
pub fn serve(
    settings: &Settings,
    config: Config,
    views: Views,
    log: Logger,
) -> Result<(), ExporterError> {
    let listen = |source| ExporterError::Listen {
        address: settings.listen,
        source,
    };
    let listener = std::net::TcpListener::bind(settings.listen).map_err(listen)?;
    listener.set_nonblocking(true).map_err(listen)?;
    crate::privilege::keep_only_net_raw()?;
    let runtime = runtime(settings.max_concurrent)?;
    // Served from a worker rather than from this thread, so that a
    // connection's task starts on the thread that accepted it instead of
    // waking another.
    let settings = settings.clone();
    runtime.block_on(async move {
        tokio::spawn(async move { run(&settings, listener, config, views, log).await })
            .await
            .map_err(|join| ExporterError::Runtime(std::io::Error::other(join.to_string())))?
    })
}

async fn run(
    settings: &Settings,
    listener: std::net::TcpListener,
    config: Config,
    views: Views,
    log: Logger,
) -> Result<(), ExporterError> {
    use tokio::signal::unix::{SignalKind, signal};
    let listener =
        tokio::net::TcpListener::from_std(listener).map_err(|source| ExporterError::Listen {
            address: settings.listen,
            source,
        })?;
    let address = listener.local_addr().unwrap_or(settings.listen);
    let mut hangup = signal(SignalKind::hangup()).map_err(ExporterError::Runtime)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(ExporterError::Runtime)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ExporterError::Runtime)?;
    let modules = config.modules.len();
    let shared = Arc::new(Shared {
        config: RwLock::new(Arc::new(config)),
        config_path: settings.config_path.clone(),
        state: State::new(),
        slots: Arc::new(Semaphore::new(settings.max_concurrent)),
        waiting: AtomicUsize::new(0),
        max_waiting: (settings.max_concurrent * 4).max(64),
        views,
        log,
    });
    if !address.ip().is_loopback() {
        (shared.log)(&LogEvent::ExposedListen { address });
    }
    (shared.log)(&LogEvent::Listening { address, modules });
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // EMFILE and the like: let the moment pass.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
                    drop(stream);
                    continue;
                };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(handle(&shared, peer, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEAD_TIMEOUT)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    drop(permit);
                });
            }
            _ = hangup.recv() => {
                let shared = Arc::clone(&shared);
                let _ = tokio::task::spawn_blocking(move || shared.reload()).await;
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    (shared.log)(&LogEvent::Stopping);
    Ok(())
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn refuse(
    shared: &Shared,
    peer: SocketAddr,
    status: StatusCode,
    why: Refusal,
    reason: String,
) -> Response<Full<Bytes>> {
    shared.state.refused(why);
    (shared.log)(&LogEvent::Refused {
        status: status.as_u16(),
        reason: reason.clone(),
        peer: Some(peer),
    });
    text(status, "text/plain; charset=utf-8", format!("{reason}\n"))
}

async fn handle(
    shared: &Arc<Shared>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    match (request.method(), path.as_str()) {
        (&Method::GET | &Method::HEAD, "/probe") => probe(shared, peer, &request).await,
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let format = Format::from_accept(header(&request, "accept"));
            let body = (shared.views.metrics)(&shared.state.families(), format);
            text(StatusCode::OK, format.content_type(), body)
        }
        (&Method::GET | &Method::HEAD, "/") => {
            let config = shared.config();
            let modules = config
                .modules
                .values()
                .map(|m| (m.name.clone(), m.prober.name()))
                .collect();
            let body = (shared.views.page)(&shared.state.page(modules));
            text(StatusCode::OK, "text/html; charset=utf-8", body)
        }
        (&Method::GET | &Method::HEAD, "/-/healthy") => text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "Healthy\n".into(),
        ),
        (&Method::POST | &Method::PUT, "/-/reload") => {
            let reloader = Arc::clone(shared);
            match tokio::task::spawn_blocking(move || reloader.reload()).await {
                Ok(Ok(modules)) => text(
                    StatusCode::OK,
                    "text/plain; charset=utf-8",
                    format!("config reloaded: {modules} modules\n"),
                ),
                Ok(Err(reason)) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain; charset=utf-8",
                    format!("failed to reload config: {reason}\n"),
                ),
                Err(_) => text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain; charset=utf-8",
                    "failed to reload config\n".into(),
                ),
            }
        }
        (_, "/probe" | "/metrics" | "/" | "/-/healthy" | "/-/reload") => refuse(
            shared,
            peer,
            StatusCode::METHOD_NOT_ALLOWED,
            Refusal::BadRequest,
            format!("{} is not allowed on {path}", request.method()),
        ),
        _ => refuse(
            shared,
            peer,
            StatusCode::NOT_FOUND,
            Refusal::BadRequest,
            format!("no page {path:?}: try /probe, /metrics or /"),
        ),
    }
}

fn header<'r>(request: &'r Request<Incoming>, name: &str) -> Option<&'r str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The query's parameters, percent-decoded (the first of each name wins).
fn query(request: &Request<Incoming>) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for pair in request.uri().query().unwrap_or("").split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.entry(decode(name)).or_insert_with(|| decode(value));
    }
    params
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(at + 1..at + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        at += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn probe(
    shared: &Arc<Shared>,
    peer: SocketAddr,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let params = query(request);
    let module_name = params
        .get("module")
        .filter(|m| !m.is_empty())
        .cloned()
        .unwrap_or_else(|| "http_2xx".into());
    let config = shared.config();
    let Some(mut module) = config.module(&module_name).cloned() else {
        return refuse(
            shared,
            peer,
            StatusCode::BAD_REQUEST,
            Refusal::UnknownModule,
            format!("Unknown module {module_name:?}"),
        );
    };
    if let Some(hostname) = params.get("hostname").filter(|h| !h.is_empty())
        && let Err(reason) = set_host(&mut module, hostname)
    {
        return refuse(
            shared,
            peer,
            StatusCode::BAD_REQUEST,
            Refusal::BadRequest,
            reason,
        );
    }
    let Some(target) = params.get("target").filter(|t| !t.is_empty()).cloned() else {
        return refuse(
            shared,
            peer,
            StatusCode::BAD_REQUEST,
            Refusal::MissingTarget,
            "Target parameter is missing".into(),
        );
    };
    if target.len() > MAX_TARGET || target.chars().any(char::is_control) {
        return refuse(
            shared,
            peer,
            StatusCode::BAD_REQUEST,
            Refusal::BadRequest,
            format!("Target is longer than {MAX_TARGET} bytes or holds control characters"),
        );
    }
    let timeout = match probe_timeout(
        module.timeout,
        header(request, "x-prometheus-scrape-timeout-seconds"),
        OFFSET,
    ) {
        Ok(timeout) => timeout,
        Err(err) => {
            return refuse(
                shared,
                peer,
                StatusCode::BAD_REQUEST,
                Refusal::BadRequest,
                err.to_string(),
            );
        }
    };
    let debug = params.get("debug").is_some_and(|d| d == "true");
    let format = Format::from_accept(header(request, "accept"));
    match run_probe(shared, &config, &module, &target, timeout).await {
        Ok(outcome) => {
            (shared.log)(&LogEvent::Probe {
                module: module.name.clone(),
                target: target.clone(),
                success: outcome.success,
                duration: outcome.duration,
                error: outcome.log.last_error().map(str::to_string),
            });
            shared
                .state
                .probed(&module.name, &target, outcome.success, outcome.duration);
            if debug {
                let body = (shared.views.debug)(&outcome, &module.source);
                text(StatusCode::OK, "text/plain; charset=utf-8", body)
            } else {
                let body = (shared.views.metrics)(&outcome.families, format);
                text(StatusCode::OK, format.content_type(), body)
            }
        }
        Err((status, why, reason)) => refuse(shared, peer, status, why, reason),
    }
}

type Refused = (StatusCode, Refusal, String);

async fn run_probe(
    shared: &Arc<Shared>,
    config: &Arc<Config>,
    module: &Module,
    target: &str,
    timeout: Duration,
) -> Result<Outcome, Refused> {
    let started = tokio::time::Instant::now();
    let waiting = shared.waiting.fetch_add(1, Ordering::SeqCst);
    let permit = if waiting >= shared.max_waiting {
        None
    } else {
        tokio::time::timeout(timeout, Arc::clone(&shared.slots).acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    };
    shared.waiting.fetch_sub(1, Ordering::SeqCst);
    let Some(permit) = permit else {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Overloaded,
            format!(
                "Too many probes in flight: no slot free within {} s (--max-concurrent)",
                timeout.as_secs_f64()
            ),
        ));
    };
    // What the wait took is the probe's no longer.
    let deadline = started.into_std() + timeout;
    let (config, module_run, target_run) = (Arc::clone(config), module.clone(), target.to_string());
    let state = Arc::clone(shared);
    state.state.in_flight(true);
    // The probe runs on this worker's own thread (tokio hands the worker's
    // other tasks to another thread meanwhile): sending it to the blocking
    // pool and its answer back cost two thread wake-ups, most of a
    // loopback /probe's time on this machine. Every engine keeps to the
    // deadline it is given, so nothing here waits longer than the probe.
    let result = tokio::task::block_in_place(move || {
        // The slot is held until the engine returns, even past the
        // deadline: the bound on probes running is the semaphore's.
        let _permit = permit;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            allowed(&config, &module_run, &target_run)
                .map(|()| probe::run_until(&module_run, &target_run, timeout, deadline))
        }));
        state.state.in_flight(false);
        result
    });
    match result {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(reason)) => Err((StatusCode::FORBIDDEN, Refusal::Forbidden, reason)),
        // The engine panicked (a bug): report the probe as failed.
        Err(_) => Ok(probe::timed_out(timeout, ProbeLog::new())),
    }
}

/// blackbox_exporter's `hostname` parameter: the Host field of an http
/// module's request (refused when the module sets another one).
fn set_host(module: &mut Module, hostname: &str) -> Result<(), String> {
    let Prober::Http(http) = &mut module.prober else {
        return Ok(());
    };
    if hostname
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(format!("hostname {hostname:?} is not a host name"));
    }
    if let Some((_, value)) = http
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        if value != hostname {
            return Err(format!(
                "host header defined both in module configuration ({value}) and with URL-parameter 'hostname' ({hostname})"
            ));
        }
        return Ok(());
    }
    http.headers.push(("Host".into(), hostname.to_string()));
    Ok(())
}

/// Whether `targets_allowed` lets `target` be probed: every address its
/// host resolves to must be in one of the blocks.
fn allowed(config: &Config, module: &Module, target: &str) -> Result<(), String> {
    if config.targets_allowed.is_empty() {
        return Ok(());
    }
    let host = host_of(&module.prober, target);
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host)
        .to_string();
    let addresses: Vec<IpAddr> = match crate::names::resolve(&host, crate::net::FamilyChoice::Any) {
        Ok(resolved) => resolved.addresses,
        Err(err) => {
            return Err(format!(
                "Target {target:?} does not resolve ({err}), so it cannot be checked against targets_allowed"
            ));
        }
    };
    match addresses.iter().find(|a| !config.allows(**a)) {
        Some(outside) => Err(format!(
            "Target {target:?} ({outside}) is outside targets_allowed"
        )),
        None => Ok(()),
    }
}

/// The host part of a target, as the module's prober reads it.
fn host_of(prober: &Prober, target: &str) -> String {
    match prober {
        Prober::Icmp(_) | Prober::Trace(_) => target.to_string(),
        Prober::Http(_) => {
            let text = if target.contains("://") {
                target.to_string()
            } else {
                format!("http://{target}")
            };
            crate::http::Url::parse(&text).map_or_else(|_| target.to_string(), |url| url.host)
        }
        Prober::Dns(_) => probe::host_default_port(target, 53)
            .map_or_else(|_| target.to_string(), |(host, _)| host),
        Prober::Tcp(_) | Prober::Tcping(_) | Prober::Echo(_) => {
            probe::host_port(target).map_or_else(|_| target.to_string(), |(host, _)| host)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_and_plus_decoded() {
        assert_eq!(decode("http%3A%2F%2Fa%2Fb%3Fc%3Dd"), "http://a/b?c=d");
        assert_eq!(decode("a+b"), "a b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
