//! Socket states, named the way `ss` names them, and the kernel's state bitmask.
#![forbid(unsafe_code)]

use serde::{Serialize, Serializer};

/// A kernel socket state (the TCP state machine; UDP and raw use two of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct State(pub u8);

/// `TCP_ESTABLISHED`: connected (also connected UDP).
pub const ESTABLISHED: State = State(1);
/// `TCP_SYN_SENT`.
pub const SYN_SENT: State = State(2);
/// `TCP_SYN_RECV`.
pub const SYN_RECV: State = State(3);
/// `TCP_FIN_WAIT1`.
pub const FIN_WAIT1: State = State(4);
/// `TCP_FIN_WAIT2`.
pub const FIN_WAIT2: State = State(5);
/// `TCP_TIME_WAIT`.
pub const TIME_WAIT: State = State(6);
/// `TCP_CLOSE`: closed, or an unconnected UDP/raw socket ("UNCONN").
pub const CLOSE: State = State(7);
/// `TCP_CLOSE_WAIT`.
pub const CLOSE_WAIT: State = State(8);
/// `TCP_LAST_ACK`.
pub const LAST_ACK: State = State(9);
/// `TCP_LISTEN`.
pub const LISTEN: State = State(10);
/// `TCP_CLOSING`.
pub const CLOSING: State = State(11);
/// `TCP_NEW_SYN_RECV`: a request socket not yet accepted.
pub const NEW_SYN_RECV: State = State(12);

/// ss's names, indexed by state number.
const NAMES: [&str; 13] = [
    "UNKNOWN",
    "ESTAB",
    "SYN-SENT",
    "SYN-RECV",
    "FIN-WAIT-1",
    "FIN-WAIT-2",
    "TIME-WAIT",
    "UNCONN",
    "CLOSE-WAIT",
    "LAST-ACK",
    "LISTEN",
    "CLOSING",
    "NEW-SYN-RECV",
];

impl State {
    /// The name `ss` prints.
    pub fn name(self) -> &'static str {
        NAMES.get(usize::from(self.0)).copied().unwrap_or("UNKNOWN")
    }

    /// This state's bit in an `idiag_states` mask.
    pub fn bit(self) -> u32 {
        1u32.checked_shl(u32::from(self.0)).unwrap_or(0)
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Serialised as its name: the schema is the list of names.
impl schemars::JsonSchema for State {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SocketState".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The socket's state as ss prints it (UNCONN: an unconnected UDP or raw socket).",
            "type": "string",
            "enum": NAMES,
        })
    }
}

/// A set of states, as the kernel's `idiag_states` bitmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateMask(pub u32);

impl StateMask {
    /// Every state.
    pub const ALL: StateMask = StateMask(0xfff & !1 | NEW_SYN_RECV_BIT);
    /// Listening sockets (and unconnected UDP/raw, which ss also calls listening).
    pub const LISTENING: StateMask = StateMask((1 << 10) | (1 << 7));
    /// What netstat and ss show by default: everything but listening and closed.
    pub const CONNECTED: StateMask =
        StateMask(Self::ALL.0 & !((1 << 10) | (1 << 7) | NEW_SYN_RECV_BIT));
    /// ss's "synchronized": connected minus SYN-SENT and SYN-RECV.
    pub const SYNCHRONIZED: StateMask = StateMask(Self::CONNECTED.0 & !((1 << 2) | (1 << 3)));

    /// Whether `state` is in the set.
    pub fn contains(self, state: State) -> bool {
        self.0 & state.bit() != 0
    }

    /// The union of two sets.
    pub fn union(self, other: StateMask) -> StateMask {
        StateMask(self.0 | other.0)
    }
}

const NEW_SYN_RECV_BIT: u32 = 1 << 12;

/// Parses one `--state` word: ss's filter names (`established`, `time-wait`,
/// `listening`, `connected`, `synchronized`, `all` …) or the names it prints
/// (`ESTAB`, `UNCONN` …), in any case.
pub fn parse_state(word: &str) -> Result<StateMask, String> {
    let lower = word.trim().to_ascii_lowercase().replace('_', "-");
    let mask = match lower.as_str() {
        "all" => StateMask::ALL,
        "connected" => StateMask::CONNECTED,
        "synchronized" => StateMask::SYNCHRONIZED,
        "listening" | "listen" => StateMask(LISTEN.bit()),
        "established" | "estab" => StateMask(ESTABLISHED.bit()),
        "syn-sent" => StateMask(SYN_SENT.bit()),
        "syn-recv" | "syn-received" => StateMask(SYN_RECV.bit() | NEW_SYN_RECV_BIT),
        "fin-wait-1" => StateMask(FIN_WAIT1.bit()),
        "fin-wait-2" => StateMask(FIN_WAIT2.bit()),
        "time-wait" => StateMask(TIME_WAIT.bit()),
        "closed" | "unconn" | "close" => StateMask(CLOSE.bit()),
        "close-wait" => StateMask(CLOSE_WAIT.bit()),
        "last-ack" => StateMask(LAST_ACK.bit()),
        "closing" => StateMask(CLOSING.bit()),
        "bucket" => StateMask(SYN_RECV.bit() | TIME_WAIT.bit() | NEW_SYN_RECV_BIT),
        "big" => {
            StateMask(StateMask::ALL.0 & !(SYN_RECV.bit() | TIME_WAIT.bit() | NEW_SYN_RECV_BIT))
        }
        _ => {
            return Err(format!(
                "unknown state '{word}'; states are: established, syn-sent, syn-recv, fin-wait-1, \
                 fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing, \
                 connected, synchronized, bucket, big, all"
            ));
        }
    };
    Ok(mask)
}

/// Parses a comma-separated `--state` list into one mask.
pub fn parse_states(list: &str) -> Result<StateMask, String> {
    list.split(',')
        .filter(|word| !word.trim().is_empty())
        .try_fold(
            StateMask(0),
            |mask, word| Ok(mask.union(parse_state(word)?)),
        )
        .and_then(|mask| {
            if mask.0 == 0 {
                Err("--state needs at least one state name".into())
            } else {
                Ok(mask)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_ss() {
        assert_eq!(ESTABLISHED.name(), "ESTAB");
        assert_eq!(CLOSE.name(), "UNCONN");
        assert_eq!(TIME_WAIT.name(), "TIME-WAIT");
        assert_eq!(State(99).name(), "UNKNOWN");
    }

    #[test]
    fn connected_excludes_listening_and_closed() {
        assert!(StateMask::CONNECTED.contains(ESTABLISHED));
        assert!(StateMask::CONNECTED.contains(TIME_WAIT));
        assert!(!StateMask::CONNECTED.contains(LISTEN));
        assert!(!StateMask::CONNECTED.contains(CLOSE));
        assert!(!StateMask::SYNCHRONIZED.contains(SYN_SENT));
        assert!(StateMask::SYNCHRONIZED.contains(ESTABLISHED));
    }

    #[test]
    fn state_lists_parse_in_any_spelling() {
        let mask = parse_states("established,TIME-WAIT, listening").unwrap();
        assert!(mask.contains(ESTABLISHED) && mask.contains(TIME_WAIT) && mask.contains(LISTEN));
        assert!(!mask.contains(CLOSE_WAIT));
        assert_eq!(parse_states("ESTAB").unwrap(), StateMask(ESTABLISHED.bit()));
        assert!(
            parse_states("bogus")
                .unwrap_err()
                .contains("unknown state 'bogus'")
        );
        assert!(parse_states(",").is_err());
    }
}
