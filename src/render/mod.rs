//! The one place data becomes text: classic tool layouts, tables, JSON, colour.
//!
//! Domain modules hand over plain data; functions here return the finished
//! text, and [`print`] writes it. A new output format is a new function here.
#![forbid(unsafe_code)]

pub mod arping;
pub mod calc;
pub mod completions;
pub mod dhcp;
pub mod dns;
pub mod dns_trace;
pub mod dns_wire;
pub mod echo;
pub mod exporter;
pub mod http;
pub mod icmp;
pub mod iface;
pub mod json;
pub mod lab;
pub mod man;
pub mod neigh;
pub mod perf;
pub mod ping;
pub mod ping_stream;
pub mod plot;
pub mod prometheus;
pub mod route;
pub mod scan;
pub mod schema;
pub mod sockets;
pub mod sockopt;
pub mod stream;
pub mod table;
pub mod tcping;
pub mod top;
pub mod trace;
pub mod units;

use std::io::{IsTerminal, Write};

/// `--color` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// What a piece of text is, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An interface or host name heading a block.
    Name,
    /// An IPv4 address.
    Inet,
    /// An IPv6 address.
    Inet6,
    /// A link-layer address.
    Mac,
    /// A good state (up, reply).
    Good,
    /// A bad state (down, loss).
    Bad,
}

/// Whether and how to colour text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Resolves `--color` against the terminal and the NO_COLOR convention.
    pub fn resolve(choice: ColorChoice, is_tty: bool, no_color_env: bool) -> Self {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_tty && !no_color_env,
        };
        Style { color }
    }

    /// No colour at all.
    pub fn plain() -> Self {
        Style { color: false }
    }

    /// Whether colour is on.
    pub fn colored(&self) -> bool {
        self.color
    }

    /// `text` wrapped in the ANSI colour for `role`, or unchanged without colour.
    pub fn paint(&self, role: Role, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        // The same palette as `ip -c`: names bold, addresses by family.
        let code = match role {
            Role::Name => "1",
            Role::Inet => "35",
            Role::Inet6 => "34",
            Role::Mac => "33",
            Role::Good => "32",
            Role::Bad => "31",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Where output goes and in which form.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// One JSON document instead of text.
    pub json: bool,
    /// One JSON object per line as events happen (`--json-stream`, through
    /// [`stream::StreamWriter`]); never set together with `json`.
    pub stream: bool,
    /// stdout is a terminal (tables get borders, progress lines may be drawn).
    pub tty: bool,
    /// Colouring.
    pub style: Style,
}

impl Output {
    /// Settings for the process's stdout.
    pub fn for_stdout(json: bool, color: ColorChoice) -> Self {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Output {
            json,
            stream: false,
            tty,
            style: Style::resolve(color, tty, no_color),
        }
    }

    /// The same settings, streaming JSON lines when `stream` is set (`--json-stream`).
    pub fn streaming(self, stream: bool) -> Self {
        Output { stream, ..self }
    }
}

/// `text` with control and invisible formatting characters escaped (`\n`,
/// `\t`, `\x1b`, `\u{202e}` …), so a command line, path, interface name or
/// argument can never break a line, inject terminal escapes or reorder
/// what is shown around it (bidi overrides).
///
/// This is the one escape netdx uses: tables, prompts and error lines all go
/// through it.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    // Printable ASCII (most names, every address) needs no look at chars.
    let plain = text.bytes().all(|b| (0x20..0x7f).contains(&b));
    if plain || !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            c if c.is_control() => escaped.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if needs_escape(c) => escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// Control characters, and the characters that change how the text around
/// them is shown without being visible themselves: Unicode's format
/// characters (general category Cf: bidi embeddings, overrides and
/// isolates, zero-width spaces and joiners, the byte-order mark, tags) and
/// the line and paragraph separators.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            u32::from(c),
            0x00AD
                | 0x0600..=0x0605
                | 0x061C
                | 0x06DD
                | 0x070F
                | 0x0890..=0x0891
                | 0x08E2
                | 0x180E
                | 0x200B..=0x200F
                | 0x2028..=0x202E
                | 0x2060..=0x2064
                | 0x2066..=0x206F
                | 0xFEFF
                | 0xFFF9..=0xFFFB
                | 0x110BD
                | 0x110CD
                | 0x13430..=0x1343F
                | 0x1BCA0..=0x1BCA3
                | 0x1D173..=0x1D17A
                | 0xE0001
                | 0xE0020..=0xE007F
        )
}

/// `text` cut to at most `max` characters, the last of them `…` when
/// something was cut (so a 100 KB command line can't fill a table).
pub fn clipped(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some(_) => {
            let keep = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(0, |(at, _)| at);
            std::borrow::Cow::Owned(format!("{}…", &text[..keep]))
        }
    }
}

/// Writes finished text to stdout in one go.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Whether `err` means stdout's reader went away (`netdx … | head -1`),
/// the one failure a command ends on quietly with exit 0.
///
/// Rust ignores SIGPIPE, so a write to a closed pipe returns EPIPE; but a
/// socket whose peer left returns the same EPIPE. Asking stdout itself
/// tells them apart: a pipe (or socket) on stdout whose far end is gone
/// polls as POLLERR/POLLHUP, so any writer — the render layer's, a
/// BufWriter's, an observer's — is recognised without tagging its errors,
/// and an EPIPE from a socket while stdout is still read is never taken
/// for one.
pub fn output_closed(err: &std::io::Error) -> bool {
    use std::os::fd::AsFd;
    err.kind() == std::io::ErrorKind::BrokenPipe && hung_up(std::io::stdout().as_fd())
}

/// `fd`'s far end is closed (a pipe without readers, a socket shut down).
fn hung_up(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(fd, PollFlags::POLLOUT)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) => fds[0]
            .revents()
            .is_some_and(|events| events.intersects(PollFlags::POLLERR | PollFlags::POLLHUP)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colour_needs_a_terminal_and_no_no_color() {
        assert!(Style::resolve(ColorChoice::Auto, true, false).colored());
        assert!(!Style::resolve(ColorChoice::Auto, false, false).colored());
        assert!(!Style::resolve(ColorChoice::Auto, true, true).colored());
    }

    #[test]
    fn explicit_choice_wins_over_terminal_and_environment() {
        assert!(Style::resolve(ColorChoice::Always, false, true).colored());
        assert!(!Style::resolve(ColorChoice::Never, true, false).colored());
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("python3 -c\nprint(1)"), "python3 -c\\nprint(1)");
        assert_eq!(printable("a\x1b[31mb"), "a\\x1b[31mb");
        assert!(matches!(printable("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn bidi_and_invisible_format_characters_are_escaped() {
        assert_eq!(printable("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(
            printable("\u{200b}\u{200f}\u{2066}\u{2069}\u{feff}\u{061c}"),
            "\\u{200b}\\u{200f}\\u{2066}\\u{2069}\\u{feff}\\u{61c}"
        );
        assert_eq!(printable("a\u{2028}b"), "a\\u{2028}b");
        // Visible non-ASCII text is left alone.
        assert!(matches!(
            printable("café ünïcode 日本"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn long_text_is_clipped_with_an_ellipsis_and_short_text_is_not() {
        assert!(matches!(clipped("short", 5), std::borrow::Cow::Borrowed(_)));
        assert_eq!(clipped("abcdef", 5), "abcd…");
        assert_eq!(clipped("日本語テキスト", 3), "日本…");
        assert_eq!(clipped(&"x".repeat(100_000), 200).chars().count(), 200);
    }

    #[test]
    fn only_a_closed_far_end_counts_as_a_closed_output() {
        use std::os::fd::AsFd;
        let (reader, writer) = nix::unistd::pipe().unwrap();
        assert!(!hung_up(writer.as_fd()), "a pipe with a reader is open");
        drop(reader);
        assert!(hung_up(writer.as_fd()), "a pipe without readers is closed");
        // A socket whose peer left fails with the same EPIPE, but an output
        // that is still read is not closed by it.
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(theirs);
        let err = std::io::Write::write(&mut &ours, b"x").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        let (_reader, output) = nix::unistd::pipe().unwrap();
        assert!(!hung_up(output.as_fd()));
    }

    #[test]
    fn plain_style_leaves_text_alone() {
        assert_eq!(Style::plain().paint(Role::Name, "eth0"), "eth0");
        let painted = Style::resolve(ColorChoice::Always, false, false).paint(Role::Bad, "x");
        assert_eq!(painted, "\x1b[31mx\x1b[0m");
    }
}
