//! Processes: who they are (user, command line) and signalling them.
#![forbid(unsafe_code)]

use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use schemars::JsonSchema;
use serde::Serialize;

use crate::intmap::IntMap;

/// A map keyed by process id (pids are numbers the kernel hands out, so
/// [`IntMap`]'s one-multiplication hash suits them).
pub type PidMap<V> = IntMap<u32, V>;

/// What `netdx port` shows about a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
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

/// The login name of `uid` from /etc/passwd (never NSS), or the number
/// when it has none.
pub fn user_name(uid: u32) -> String {
    crate::names::users::name_of(uid).unwrap_or_else(|| uid.to_string())
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
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

/// A process held by a pidfd: a signal sent through it reaches that very
/// process, or nothing once it has exited, never a newer process that was
/// given its pid in the meantime.
#[derive(Debug)]
pub struct Pinned {
    pid: u32,
    fd: OwnedFd,
}

/// Why a process could not be pinned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// pid 1 or netdx itself.
    #[error("refused: netdx never signals pid 1 or itself")]
    Protected,
    /// The process exited before it could be pinned.
    #[error("it has exited")]
    Gone,
    /// The pid now belongs to a process that does not hold the socket.
    #[error(
        "pid {pid} no longer holds socket {inode} at fd {fd}: the process exited and its pid may belong to another one now; run netdx port again"
    )]
    NotTheHolder {
        /// The pid.
        pid: u32,
        /// The descriptor it held the socket at.
        fd: u32,
        /// The socket.
        inode: u32,
    },
    /// Linux before 5.3.
    #[error(
        "this kernel has no pidfd_open (Linux 5.3 or later), and netdx does not signal a bare pid that a new process may have taken; use kill(1)"
    )]
    Unsupported,
    /// Any other refusal (EPERM …).
    #[error("pidfd_open: {0}")]
    Os(String),
}

/// Opens a pidfd for `pid`, so it can later be signalled with no risk of
/// reaching a process that reused the pid.
pub fn pin(pid: u32) -> Result<Pinned, PinError> {
    if protected(pid) {
        return Err(PinError::Protected);
    }
    let raw = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or(PinError::Gone)?;
    match rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()) {
        Ok(fd) => Ok(Pinned { pid, fd }),
        Err(err) if err == rustix::io::Errno::SRCH => Err(PinError::Gone),
        Err(err) if err == rustix::io::Errno::NOSYS => Err(PinError::Unsupported),
        Err(err) => Err(PinError::Os(errno_text(err))),
    }
}

/// [`pin`], then checks that the pinned process is the one that was seen
/// holding socket `inode` at descriptor `fd`: the pid was read before the
/// pidfd was opened, and could have been reused in between.
pub fn pin_holder(pid: u32, fd: u32, inode: u32) -> Result<Pinned, PinError> {
    let pinned = pin(pid)?;
    let expected = format!("socket:[{inode}]");
    match std::fs::read_link(format!("/proc/{pid}/fd/{fd}")) {
        Ok(target) if target.as_os_str() == expected.as_str() => Ok(pinned),
        _ => Err(PinError::NotTheHolder { pid, fd, inode }),
    }
}

impl Pinned {
    /// The process id it had when pinned.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` through the pidfd.
    pub fn send(&self, signal: SignalChoice) -> Delivery {
        let result = rustix::process::Signal::from_named_raw(signal.0 as i32)
            .ok_or_else(|| format!("{signal} cannot be sent through a pidfd"))
            .and_then(|sig| rustix::process::pidfd_send_signal(&self.fd, sig).map_err(errno_text));
        Delivery {
            pid: self.pid,
            signal: signal.to_string(),
            delivered: result.is_ok(),
            error: result.err(),
        }
    }
}

/// `ESRCH: No such process`.
fn errno_text(err: rustix::io::Errno) -> String {
    let errno = Errno::from_raw(err.raw_os_error());
    format!("{errno:?}: {}", errno.desc())
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
    fn init_and_self_are_never_pinned() {
        assert_eq!(pin(std::process::id()).unwrap_err(), PinError::Protected);
        assert_eq!(pin(1).unwrap_err(), PinError::Protected);
        assert!(protected(0));
    }

    #[test]
    fn a_pinned_process_is_signalled_through_its_pidfd() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pinned = pin(child.id()).unwrap();
        let delivery = pinned.send(SignalChoice(Signal::SIGKILL));
        assert!(delivery.delivered, "{delivery:?}");
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }

    #[test]
    fn signalling_the_pidfd_of_an_exited_process_fails_with_esrch_and_reaches_nobody() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let pinned = pin(pid).unwrap();
        child.kill().unwrap();
        // Reaped: the pid is free for the kernel to hand to someone else.
        child.wait().unwrap();
        let delivery = pinned.send(SignalChoice(Signal::SIGTERM));
        assert!(!delivery.delivered);
        assert_eq!(delivery.error.as_deref(), Some("ESRCH: No such process"));
        // And a pid that is gone can no longer be pinned at all (unless it
        // was reused already, in which case the holder check catches it).
        if std::fs::metadata(format!("/proc/{pid}")).is_err() {
            assert_eq!(pin(pid).unwrap_err(), PinError::Gone);
        }
    }

    #[test]
    fn a_process_that_does_not_hold_the_socket_is_not_pinned() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd() as u32;
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let err = pin_holder(child.id(), fd, 12345).unwrap_err();
        assert!(matches!(err, PinError::NotTheHolder { .. }), "{err:?}");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn this_process_is_described() {
        let me = info(std::process::id()).unwrap();
        assert!(!me.command.is_empty());
        assert!(!me.cmdline.is_empty());
        assert!(me.user.is_some());
    }
}
