//! `--textfile DIR --interval SECS`: for hosts where nothing may listen,
//! the config's `targets:` are probed every interval and their metrics
//! written for node_exporter's textfile collector, one file whose every
//! sample carries `module` and `target` labels, replaced atomically (a
//! temporary file renamed over it, so a scrape never reads half a file).
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::config::{Config, ListedTarget};
use super::metrics::Family;
use super::probe::{self, Outcome};
use super::{ExporterError, Format, LogEvent, Logger, Views};

/// The file written in the directory.
pub const FILE: &str = "netdx_exporter.prom";

/// How the writer runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The directory node_exporter reads.
    pub dir: PathBuf,
    /// Between two rounds of probes.
    pub interval: Duration,
    /// The config file (reloaded from here on SIGHUP).
    pub config_path: PathBuf,
    /// Probes running at once.
    pub max_concurrent: usize,
}

/// Probes and writes every interval until SIGINT or SIGTERM.
pub fn run(
    settings: &Settings,
    config: Config,
    views: Views,
    log: Logger,
) -> Result<(), ExporterError> {
    if config.targets.is_empty() {
        return Err(ExporterError::NoTargets {
            path: settings.config_path.clone(),
        });
    }
    check_dir(&settings.dir)?;
    // Probes run on threads of this one: they inherit what is kept.
    crate::privilege::keep_only_net_raw()?;
    let stop = Arc::new(AtomicBool::new(false));
    let hangup = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(ExporterError::Runtime)?;
    }
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&hangup))
        .map_err(ExporterError::Runtime)?;
    let path = settings.dir.join(FILE);
    let mut config = config;
    log(&LogEvent::Writing {
        path: path.clone(),
        interval: settings.interval,
        targets: config.targets.len(),
    });
    let mut next = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if hangup.swap(false, Ordering::SeqCst) {
            match Config::load(&settings.config_path) {
                Ok(new) if !new.targets.is_empty() => {
                    log(&LogEvent::Reloaded {
                        modules: new.modules.len(),
                    });
                    config = new;
                }
                Ok(_) => log(&LogEvent::ReloadFailed {
                    reason: "the new config lists no targets".into(),
                }),
                Err(err) => log(&LogEvent::ReloadFailed {
                    reason: err.to_string(),
                }),
            }
        }
        if Instant::now() >= next {
            let outcomes = probe_all(&config, settings);
            let body = (views.metrics)(&merge(&outcomes), Format::Text);
            match write_atomically(&path, body.as_bytes()) {
                Ok(()) => log(&LogEvent::Wrote {
                    path: path.clone(),
                    targets: outcomes.len(),
                }),
                Err(err) => log(&LogEvent::WriteFailed {
                    path: path.clone(),
                    reason: err.to_string(),
                }),
            }
            next += settings.interval;
            if next < Instant::now() {
                next = Instant::now() + settings.interval;
            }
        }
        std::thread::sleep(Duration::from_millis(50).min(settings.interval));
    }
    log(&LogEvent::Stopping);
    Ok(())
}

fn check_dir(dir: &Path) -> Result<(), ExporterError> {
    let probe = dir.join(format!(".netdx_exporter.check.{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|source| ExporterError::Textfile {
            dir: dir.to_path_buf(),
            source,
        })
}

/// Every listed target probed, `max_concurrent` at a time, in list order.
fn probe_all(config: &Config, settings: &Settings) -> Vec<(ListedTarget, Outcome)> {
    let targets = &config.targets;
    let next = AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::with_capacity(targets.len()));
    let timeout = settings.interval.mul_f64(0.9);
    std::thread::scope(|scope| {
        for _ in 0..settings.max_concurrent.min(targets.len()).max(1) {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, Ordering::SeqCst);
                    let Some(listed) = targets.get(at) else { break };
                    let Some(module) = config.module(&listed.module) else {
                        continue;
                    };
                    let timeout = module.timeout.unwrap_or(timeout).min(timeout);
                    let outcome = probe::run(module, &listed.target, timeout);
                    results.lock().unwrap_or_else(|p| p.into_inner()).push((
                        at,
                        listed.clone(),
                        outcome,
                    ));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    results.sort_by_key(|(at, _, _)| *at);
    results
        .into_iter()
        .map(|(_, listed, outcome)| (listed, outcome))
        .collect()
}

/// One family per name, every target's samples in it labelled with its
/// module and target.
pub fn merge(outcomes: &[(ListedTarget, Outcome)]) -> Vec<Family> {
    let mut merged: Vec<Family> = Vec::new();
    for (listed, outcome) in outcomes {
        for family in &outcome.families {
            let at = match merged.iter().position(|f| f.name == family.name) {
                Some(at) => at,
                None => {
                    merged.push(Family {
                        samples: Vec::new(),
                        ..family.clone()
                    });
                    merged.len() - 1
                }
            };
            for sample in &family.samples {
                let mut sample = sample.clone();
                sample
                    .labels
                    .insert(0, ("target".into(), listed.target.clone()));
                sample
                    .labels
                    .insert(0, ("module".into(), listed.module.clone()));
                merged[at].samples.push(sample);
            }
        }
    }
    merged
}

/// Writes `bytes` to a temporary file beside `path` and renames it over
/// `path`: readers see the old file or the new one, never a part.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Not ending in .prom: node_exporter skips it while it is written.
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exporter::probe::ProbeLog;

    fn outcome(success: bool) -> Outcome {
        Outcome {
            success,
            families: vec![Family::single(
                "probe_success",
                "h",
                f64::from(u8::from(success)),
            )],
            log: ProbeLog::new(),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn targets_share_one_family_each_sample_labelled_with_its_target() {
        let listed = |target: &str| ListedTarget {
            target: target.into(),
            module: "icmp".into(),
        };
        let merged = merge(&[(listed("a"), outcome(true)), (listed("b"), outcome(false))]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].samples.len(), 2);
        assert_eq!(
            merged[0].samples[1].labels,
            vec![
                ("module".to_string(), "icmp".to_string()),
                ("target".to_string(), "b".to_string())
            ]
        );
    }

    #[test]
    fn an_atomic_write_leaves_only_the_file() {
        let dir = std::env::temp_dir().join(format!("netdx-textfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FILE);
        write_atomically(&path, b"one\n").unwrap();
        write_atomically(&path, b"two\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
