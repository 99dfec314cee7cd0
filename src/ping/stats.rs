//! Ping's statistics: round trips in the shared accumulator (`crate::rtt`,
//! which also keeps iputils' integer arithmetic), and loss as iputils
//! computes it.
#![forbid(unsafe_code)]

pub use crate::rtt::{IputilsRtt, Rtt, RttSummary};

/// Packet loss as iputils computes and prints it: single-precision percent, `%g`.
pub fn loss_percent(transmitted: u64, received: u64) -> f64 {
    if transmitted == 0 {
        return 0.0;
    }
    let lost = transmitted.saturating_sub(received) as f64;
    f64::from((lost * 100.0 / transmitted as f64) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_is_single_precision_like_iputils() {
        assert_eq!(loss_percent(3, 3), 0.0);
        assert_eq!(loss_percent(3, 0), 100.0);
        assert_eq!(loss_percent(3, 2), f64::from(100.0f32 / 3.0));
        assert_eq!(loss_percent(0, 0), 0.0);
    }
}
