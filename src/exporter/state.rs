//! The exporter's own state: its metrics (`/metrics`) and the last probes
//! (`/`), both of fixed size whatever runs through them.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::metrics::{Family, Histogram};

/// Probes the index page remembers (blackbox_exporter keeps as many).
pub const HISTORY: usize = 100;
/// The longest target the history keeps whole.
const TARGET_SHOWN: usize = 256;

/// Prometheus' default buckets, for probe durations.
const DURATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Why a request was refused, as `/metrics` counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// No such module.
    UnknownModule,
    /// No target parameter.
    MissingTarget,
    /// The target is outside `targets_allowed`.
    Forbidden,
    /// Too many probes in flight or waiting.
    Overloaded,
    /// Another bad request (a bad timeout header, an unknown path).
    BadRequest,
}

impl Refusal {
    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::UnknownModule => "unknown_module",
            Refusal::MissingTarget => "missing_target",
            Refusal::Forbidden => "forbidden",
            Refusal::Overloaded => "overloaded",
            Refusal::BadRequest => "bad_request",
        }
    }
}

/// One remembered probe.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The module.
    pub module: String,
    /// The target (cut to 256 characters).
    pub target: String,
    /// `probe_success`.
    pub success: bool,
    /// How long it took.
    pub duration: Duration,
    /// When it ended.
    pub at: SystemTime,
}

/// What the index page shows.
#[derive(Debug, Clone)]
pub struct Page {
    /// The version running.
    pub version: &'static str,
    /// Module names and their probers.
    pub modules: Vec<(String, &'static str)>,
    /// The last probes, newest first.
    pub recent: Vec<Entry>,
}

#[derive(Debug, Default)]
struct Counts {
    probes: BTreeMap<(String, bool), u64>,
    durations: BTreeMap<String, Histogram>,
    refused: BTreeMap<Refusal, u64>,
    reloads: BTreeMap<bool, u64>,
    last_reload_ok: bool,
    last_reload_at: f64,
}

/// The exporter's counters and history, shared by every request.
#[derive(Debug)]
pub struct State {
    counts: Mutex<Counts>,
    history: Mutex<VecDeque<Entry>>,
    in_flight: std::sync::atomic::AtomicUsize,
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl State {
    /// Fresh state, as after a successful load of the config.
    pub fn new() -> State {
        State {
            counts: Mutex::new(Counts {
                last_reload_ok: true,
                last_reload_at: unix_now(),
                ..Counts::default()
            }),
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A poisoned lock only means a panic elsewhere; the counts are still counts.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a finished probe of a configured module and remembers it.
    pub fn probed(&self, module: &str, target: &str, success: bool, duration: Duration) {
        {
            let mut counts = self.counts();
            *counts
                .probes
                .entry((module.to_string(), success))
                .or_default() += 1;
            counts
                .durations
                .entry(module.to_string())
                .or_insert_with(|| Histogram::new(&DURATION_BUCKETS))
                .observe(duration.as_secs_f64());
        }
        let mut shown: String = target.chars().take(TARGET_SHOWN).collect();
        if shown.len() < target.len() {
            shown.push('…');
        }
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(Entry {
            module: module.to_string(),
            target: shown,
            success,
            duration,
            at: SystemTime::now(),
        });
    }

    /// Counts a refused request.
    pub fn refused(&self, why: Refusal) {
        *self.counts().refused.entry(why).or_default() += 1;
    }

    /// Counts a reload, good or refused.
    pub fn reloaded(&self, ok: bool) {
        let mut counts = self.counts();
        *counts.reloads.entry(ok).or_default() += 1;
        counts.last_reload_ok = ok;
        if ok {
            counts.last_reload_at = unix_now();
        }
    }

    /// A probe started (`true`) or ended.
    pub fn in_flight(&self, started: bool) {
        use std::sync::atomic::Ordering;
        if started {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
        } else {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Forgets the counts of modules no longer configured (after a reload),
    /// so the metrics stay as many as the modules.
    pub fn keep_modules(&self, modules: &[String]) {
        let mut counts = self.counts();
        counts
            .probes
            .retain(|(module, _), _| modules.contains(module));
        counts
            .durations
            .retain(|module, _| modules.contains(module));
    }

    /// The index page's facts.
    pub fn page(&self, modules: Vec<(String, &'static str)>) -> Page {
        let history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        Page {
            version: env!("CARGO_PKG_VERSION"),
            modules,
            recent: history.iter().rev().cloned().collect(),
        }
    }

    /// `/metrics`: the exporter's own metrics.
    pub fn families(&self) -> Vec<Family> {
        let counts = self.counts();
        let mut probes =
            Family::counter("netdx_exporter_probes", "Probes run, by module and result");
        for ((module, success), count) in &counts.probes {
            let result = if *success { "success" } else { "failure" };
            probes.push(&[("module", module), ("result", result)], *count as f64);
        }
        let mut families = vec![
            Family::gauge(
                "netdx_exporter_build_info",
                "A metric with a constant '1' value labeled by the netdx version",
            )
            .with(&[("version", env!("CARGO_PKG_VERSION"))], 1.0),
            probes,
        ];
        let mut durations = Vec::new();
        for (module, histogram) in &counts.durations {
            let mut family = histogram.family(
                "netdx_exporter_probe_duration_seconds",
                "How long probes took, by module",
            );
            for sample in &mut family.samples {
                sample.labels.insert(0, ("module".into(), module.clone()));
            }
            durations.push(family);
        }
        if let Some(mut merged) = durations.pop() {
            for family in durations {
                merged.samples.extend(family.samples);
            }
            merged
                .samples
                .sort_by(|a, b| a.labels[0].1.cmp(&b.labels[0].1));
            families.push(merged);
        }
        let mut refused = Family::counter(
            "netdx_exporter_requests_refused",
            "Probe requests refused, by reason",
        );
        for (why, count) in &counts.refused {
            refused.push(&[("reason", why.label())], *count as f64);
        }
        families.push(refused);
        families.push(
            Family::counter(
                "blackbox_module_unknown",
                "Count of unknown modules requested by probes",
            )
            .with(
                &[],
                counts
                    .refused
                    .get(&Refusal::UnknownModule)
                    .copied()
                    .unwrap_or(0) as f64,
            ),
        );
        let mut reloads = Family::counter(
            "netdx_exporter_config_reloads",
            "Config reloads (SIGHUP, POST /-/reload), by result",
        );
        for (ok, count) in &counts.reloads {
            reloads.push(
                &[("result", if *ok { "success" } else { "failure" })],
                *count as f64,
            );
        }
        families.push(reloads);
        families.push(Family::single(
            "netdx_exporter_config_last_reload_successful",
            "Whether the last config load or reload succeeded",
            if counts.last_reload_ok { 1.0 } else { 0.0 },
        ));
        families.push(Family::single(
            "netdx_exporter_config_last_reload_success_timestamp_seconds",
            "When the config was last loaded successfully",
            counts.last_reload_at,
        ));
        families.push(Family::single(
            "netdx_exporter_probes_in_flight",
            "Probes running now",
            self.in_flight.load(std::sync::atomic::Ordering::SeqCst) as f64,
        ));
        families
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_keeps_the_last_hundred_probes_newest_first() {
        let state = State::new();
        for n in 0..150 {
            state.probed("icmp", &format!("10.0.0.{n}"), n % 2 == 0, Duration::ZERO);
        }
        let page = state.page(Vec::new());
        assert_eq!(page.recent.len(), HISTORY);
        assert_eq!(page.recent[0].target, "10.0.0.149");
    }

    #[test]
    fn probes_are_counted_by_module_and_result() {
        let state = State::new();
        state.probed("icmp", "a", true, Duration::from_millis(3));
        state.probed("icmp", "a", false, Duration::from_millis(3));
        state.probed("icmp", "a", true, Duration::from_millis(3));
        let families = state.families();
        let probes = families
            .iter()
            .find(|f| f.name == "netdx_exporter_probes")
            .unwrap();
        let success = probes
            .samples
            .iter()
            .find(|s| s.labels[1].1 == "success")
            .unwrap();
        assert_eq!(success.value, 2.0);
    }
}
