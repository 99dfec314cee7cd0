//! What an answer says about the probe it answers: a router on the way,
//! the target itself, or someone saying the target cannot be reached (and
//! why, as a closed set: the words — traceroute's `!H`, `!N` … — are the
//! render layer's).
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::Serialize;

/// What an answer said about its probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// A router on the way: Time Exceeded.
    TimeExceeded,
    /// The target itself answered.
    Reached,
    /// Someone reported the target unreachable, and why.
    Unreachable(UnreachableKind),
}

/// Why a router (or the target) says the target cannot be reached: the
/// ICMP "destination unreachable" codes traceroute tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnreachableKind {
    /// No route to the network.
    Network,
    /// The host is unreachable (no neighbour answered).
    Host,
    /// The target does not speak the protocol.
    Protocol,
    /// The port is closed, said by someone other than the target.
    Port,
    /// The probe was too big and may not be fragmented.
    FragmentationNeeded {
        /// The next-hop MTU, when the router said it.
        mtu: Option<u32>,
    },
    /// A source route failed.
    SourceRouteFailed,
    /// A filter refused the probe (administratively prohibited).
    AdminProhibited,
    /// Host precedence violation.
    PrecedenceViolation,
    /// Precedence cut-off in effect.
    PrecedenceCutoff,
    /// Any other code.
    Other {
        /// The ICMP code.
        code: u8,
    },
}

impl UnreachableKind {
    /// The kind of an ICMPv4 destination unreachable with `code`; `info`
    /// is the rest-of-header word (the next-hop MTU for code 4).
    pub fn from_v4(code: u8, info: u32) -> UnreachableKind {
        match code {
            0 => UnreachableKind::Network,
            1 => UnreachableKind::Host,
            2 => UnreachableKind::Protocol,
            3 => UnreachableKind::Port,
            4 => UnreachableKind::FragmentationNeeded {
                mtu: Some(info & 0xffff).filter(|mtu| *mtu != 0),
            },
            5 => UnreachableKind::SourceRouteFailed,
            9 | 10 | 13 => UnreachableKind::AdminProhibited,
            14 => UnreachableKind::PrecedenceViolation,
            15 => UnreachableKind::PrecedenceCutoff,
            code => UnreachableKind::Other { code },
        }
    }

    /// The kind of an ICMPv6 destination unreachable with `code` (RFC 4443;
    /// port unreachable from the target means the probe arrived).
    pub fn from_v6(code: u8) -> UnreachableKind {
        match code {
            0 => UnreachableKind::Network,
            1 => UnreachableKind::AdminProhibited,
            3 => UnreachableKind::Host,
            4 => UnreachableKind::Port,
            code => UnreachableKind::Other { code },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_answer_serialises_its_kind_not_a_flag() {
        let host = serde_json::to_value(Answer::Unreachable(UnreachableKind::Host)).unwrap();
        assert_eq!(host, serde_json::json!({"unreachable": {"kind": "host"}}));
        let too_big = Answer::Unreachable(UnreachableKind::from_v4(4, 1400));
        assert_eq!(
            serde_json::to_value(too_big).unwrap(),
            serde_json::json!({"unreachable": {"kind": "fragmentation_needed", "mtu": 1400}})
        );
        assert_eq!(
            serde_json::to_value(Answer::TimeExceeded).unwrap(),
            "time_exceeded"
        );
    }
}
