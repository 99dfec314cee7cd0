//! How long a probe may take: blackbox_exporter's rule, from the module's
//! timeout and the scrape timeout Prometheus sends in
//! `X-Prometheus-Scrape-Timeout-Seconds`.
#![forbid(unsafe_code)]

use std::time::Duration;

/// Taken off the scrape's timeout so the answer reaches Prometheus in time
/// (blackbox_exporter's `--timeout-offset` default).
pub const OFFSET: Duration = Duration::from_millis(500);

/// The scrape timeout assumed when Prometheus sends none (blackbox's 120 s).
pub const NO_HEADER: Duration = Duration::from_secs(120);

/// Why a scrape-timeout header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Failed to parse timeout from Prometheus header: {0:?} is not a number of seconds")]
pub struct BadHeader(pub String);

/// The probe's timeout: the module's when it is set and shorter than the
/// scrape's less `offset`; else the scrape's less `offset` (or the
/// module's when that would be negative).
pub fn probe_timeout(
    module: Option<Duration>,
    header: Option<&str>,
    offset: Duration,
) -> Result<Duration, BadHeader> {
    let scrape = match header {
        Some(text) => match text.trim().parse::<f64>() {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
                Duration::from_secs_f64(seconds)
            }
            _ => return Err(BadHeader(text.to_string())),
        },
        None => Duration::ZERO,
    };
    let scrape = if scrape.is_zero() { NO_HEADER } else { scrape };
    let most = scrape.checked_sub(offset);
    Ok(match (module, most) {
        (Some(module), Some(most)) if !module.is_zero() && module < most => module,
        (Some(module), None) if !module.is_zero() => module,
        (_, Some(most)) => most,
        (_, None) => Duration::from_millis(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_shorter_of_the_module_and_the_scrape_less_the_offset_wins() {
        assert_eq!(probe_timeout(Some(S(5)), Some("10"), OFFSET), Ok(S(5)));
        assert_eq!(
            probe_timeout(Some(S(5)), Some("3"), OFFSET),
            Ok(Duration::from_millis(2500))
        );
        assert_eq!(
            probe_timeout(None, Some("10"), OFFSET),
            Ok(Duration::from_millis(9500))
        );
    }

    #[test]
    fn without_a_header_the_scrape_is_taken_as_120_seconds() {
        assert_eq!(probe_timeout(Some(S(5)), None, OFFSET), Ok(S(5)));
        assert_eq!(
            probe_timeout(None, None, OFFSET),
            Ok(Duration::from_millis(119_500))
        );
    }

    #[test]
    fn a_scrape_shorter_than_the_offset_leaves_the_modules_timeout() {
        assert_eq!(probe_timeout(Some(S(2)), Some("0.2"), OFFSET), Ok(S(2)));
    }

    #[test]
    fn a_header_that_is_no_number_is_refused() {
        assert!(probe_timeout(None, Some("soon"), OFFSET).is_err());
        assert!(probe_timeout(None, Some("-1"), OFFSET).is_err());
    }
}
