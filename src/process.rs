//! Processes: who they are (user, command line) and signalling them.
#![forbid(unsafe_code)]

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::unistd::{Pid, Uid, User};
use serde::Serialize;

/// What `netdx port` shows about a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Real user id.
    pub uid: Option<u32>,
    /// User name for the uid (the number when there is none).
    pub user: Option<String>,
    /// Command name (`/proc/PID/comm`).
    pub command: String,
    /// Full command line, arguments joined by spaces (empty for kernel threads).
    pub cmdline: String,
}

/// Reads what /proc says about `pid`; `None` if it has exited.
pub fn info(pid: u32) -> Option<ProcessInfo> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|uid| uid.parse::<u32>().ok());
    let command = status
        .lines()
        .find_map(|line| line.strip_prefix("Name:"))
        .map(|name| name.trim().to_string())
        .unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            bytes
                .split(|&b| b == 0)
                .filter(|arg| !arg.is_empty())
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Some(ProcessInfo {
        pid,
        uid,
        user: uid.map(user_name),
        command,
        cmdline,
    })
}

/// The login name of `uid`, or the number when it has none.
pub fn user_name(uid: u32) -> String {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |user| user.name)
}

/// A signal chosen by name or number (`TERM`, `SIGKILL`, `9`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalChoice(pub Signal);

impl std::str::FromStr for SignalChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Ok(number) = text.parse::<i32>() {
            return Signal::try_from(number)
                .map(SignalChoice)
                .map_err(|_| format!("{number} is not a signal number (see kill -l)"));
        }
        let upper = text.to_ascii_uppercase();
        let name = if upper.starts_with("SIG") {
            upper
        } else {
            format!("SIG{upper}")
        };
        name.parse::<Signal>().map(SignalChoice).map_err(|_| {
            format!("'{text}' is not a signal name (TERM, KILL, HUP, INT … see kill -l)")
        })
    }
}

impl std::fmt::Display for SignalChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// What happened when a process was signalled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The process.
    pub pid: u32,
    /// The signal name.
    pub signal: String,
    /// Whether the kernel accepted it.
    pub delivered: bool,
    /// Why not, when it did not (e.g. "EPERM: Operation not permitted").
    pub error: Option<String>,
}

/// Pids that must never be signalled: init, and netdx itself.
pub fn protected(pid: u32) -> bool {
    pid <= 1 || pid == std::process::id()
}

/// Sends `signal` to `pid` (never to a protected pid).
pub fn send(pid: u32, signal: SignalChoice) -> Delivery {
    let result = if protected(pid) {
        Err("refused: netdx never signals pid 1 or itself".to_string())
    } else {
        match i32::try_from(pid) {
            Ok(raw) => signal::kill(Pid::from_raw(raw), signal.0)
                .map_err(|errno: Errno| format!("{errno:?}: {}", errno.desc())),
            Err(_) => Err("no such process".to_string()),
        }
    };
    Delivery {
        pid,
        signal: signal.to_string(),
        delivered: result.is_ok(),
        error: result.err(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_prefix_or_number() {
        assert_eq!("TERM".parse::<SignalChoice>().unwrap().0, Signal::SIGTERM);
        assert_eq!(
            "sigkill".parse::<SignalChoice>().unwrap().0,
            Signal::SIGKILL
        );
        assert_eq!("9".parse::<SignalChoice>().unwrap().0, Signal::SIGKILL);
        assert!(
            "BOGUS"
                .parse::<SignalChoice>()
                .unwrap_err()
                .contains("not a signal name")
        );
        assert!(
            "99".parse::<SignalChoice>()
                .unwrap_err()
                .contains("not a signal number")
        );
    }

    #[test]
    fn init_and_self_are_never_signalled() {
        let me = send(std::process::id(), SignalChoice(Signal::SIGTERM));
        assert!(!me.delivered);
        assert!(!send(1, SignalChoice(Signal::SIGTERM)).delivered);
        assert!(protected(0));
    }

    #[test]
    fn this_process_is_described() {
        let me = info(std::process::id()).unwrap();
        assert!(!me.command.is_empty());
        assert!(!me.cmdline.is_empty());
        assert!(me.user.is_some());
    }
}
