//! The one place data becomes text: classic tool layouts, tables, JSON, colour.
//!
//! Domain modules hand over plain data; functions here return the finished
//! text, and [`print`] writes it. A new output format is a new function here.

pub mod echo;
pub mod icmp;
pub mod iface;
pub mod json;
pub mod lab;
pub mod ping;
pub mod ping_stream;
pub mod sockets;
pub mod sockopt;
pub mod table;
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
            tty,
            style: Style::resolve(color, tty, no_color),
        }
    }
}

/// `text` with control characters escaped (`\n`, `\t`, `\x1b` …), so a
/// command line or path can never break a table row or inject escapes.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            c if c.is_control() => escaped.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// Writes finished text to stdout in one go.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
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
    fn plain_style_leaves_text_alone() {
        assert_eq!(Style::plain().paint(Role::Name, "eth0"), "eth0");
        let painted = Style::resolve(ColorChoice::Always, false, false).paint(Role::Bad, "x");
        assert_eq!(painted, "\x1b[31mx\x1b[0m");
    }
}
