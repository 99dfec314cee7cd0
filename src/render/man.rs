//! Man pages: one roff page per command, from the command tree.
//!
//! clap_mangen writes the sections clap knows (NAME, SYNOPSIS, DESCRIPTION,
//! OPTIONS, SUBCOMMANDS, VERSION). What each command's `--help` says after
//! its options — examples, notes, exit status — is one block of text to
//! clap; here it is split into DESCRIPTION paragraphs, an EXIT STATUS
//! section and an EXAMPLES section with one tagged paragraph per example,
//! so nothing reaches the page as a run-on paragraph.
#![forbid(unsafe_code)]

use clap_mangen::Man;
use roff::{Inline, Roff, bold, italic, roman};

/// One man page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The page's name: `netdx`, `netdx-ping`, `netdx-echo-serve`.
    pub name: String,
    /// Its roff source.
    pub roff: String,
}

impl Page {
    /// The file it is installed as: `netdx-ping.1`.
    pub fn file_name(&self) -> String {
        format!("{}.{SECTION}", self.name)
    }
}

/// Every page is in section 1, user commands.
const SECTION: &str = "1";

/// The page of `command`, a command of the built `tree` (or the tree
/// itself), whose parent is `parent`. Commands that state no exit status of
/// their own get the tree's.
pub fn page(tree: &clap::Command, parent: Option<&clap::Command>, command: &clap::Command) -> Page {
    let name = display_name(command).to_string();
    let help = AfterHelp::parse(&after_help(command));
    let exit_status = help
        .exit_status
        .clone()
        .or_else(|| AfterHelp::parse(&after_help(tree)).exit_status)
        .unwrap_or_default();
    let man = Man::new(command.clone())
        .title(name.to_uppercase())
        .section(SECTION)
        // No date: an empty argument, which roff spells "" (an empty string
        // would drop out of the line and move the source into its place).
        .date("\"\"")
        .source(format!(
            "netdx {}",
            tree.get_version().unwrap_or(env!("CARGO_PKG_VERSION"))
        ))
        .manual("netdx manual");

    let mut parts = Parts::default();
    parts.add(|w| man.render_title(w));
    parts.add_roff(Roff::new().control("nh", []).control("ad", ["l"]));
    parts.add(|w| man.render_name_section(w));
    parts.add_roff(&synopsis(command));
    parts.add(|w| man.render_description_section(w));
    let mut prose = Roff::new();
    for paragraph in &help.prose {
        prose.control("PP", []).text([roman(paragraph.as_str())]);
    }
    parts.add_roff(&prose);
    if command.get_arguments().any(|arg| !arg.is_hide_set()) {
        parts.add(|w| man.render_options_section(w));
    }
    if subcommands(command).next().is_some() {
        parts.add(|w| man.render_subcommands_section(w));
    }
    parts.add_roff(
        Roff::new()
            .control("SH", ["EXIT STATUS"])
            .text([roman(capitalised(&exit_status))]),
    );
    if !help.examples.is_empty() {
        let mut examples = Roff::new();
        examples.control("SH", ["EXAMPLES"]);
        for example in &help.examples {
            examples
                .control("TP", [])
                .text([bold(example.command.as_str())]);
            if !example.what.is_empty() {
                examples.text([roman(example.what.as_str())]);
            }
        }
        parts.add_roff(&examples);
    }
    parts.add_roff(&see_also(tree, parent));
    if command.get_version().is_some() {
        parts.add(|w| man.render_version_section(w));
    }
    Page {
        name,
        roff: ascii(&parts.text),
    }
}

/// Between an option and its value in the synopsis (roff's `\~`), so that
/// `-w SECS` is never split over two lines.
const NO_BREAK_SPACE: &str = "\u{a0}";

/// `text` with every character past ASCII as a groff glyph (`…` as
/// `\[u2026]`, a no-break space as `\~`), so the page needs no input
/// encoding (no preconv, no -k).
fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_ascii() => out.push(c),
            '\u{a0}' => out.push_str(r"\~"),
            c => out.push_str(&format!(r"\[u{:04X}]", u32::from(c))),
        }
    }
    out
}

/// The subcommands that get pages (clap's `help` is no page of its own).
pub fn subcommands(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
}

/// `netdx-echo-serve` for `echo serve`, as clap names it once built.
fn display_name(command: &clap::Command) -> &str {
    command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
}

fn after_help(command: &clap::Command) -> String {
    command
        .get_after_long_help()
        .or_else(|| command.get_after_help())
        .map(|text| text.to_string())
        .unwrap_or_default()
}

/// `netdx ping [-c COUNT] … TARGET...`: every option with its value's name
/// (clap_mangen's synopsis leaves the names out), the arguments, and the
/// command that follows, if any.
fn synopsis(command: &clap::Command) -> Roff {
    let name = command.get_bin_name().unwrap_or_else(|| command.get_name());
    let mut line = vec![bold(name)];
    for arg in command.get_arguments() {
        if arg.is_hide_set() || arg.is_positional() {
            continue;
        }
        let flag = match (arg.get_short(), arg.get_long()) {
            (Some(short), _) => format!("-{short}"),
            (None, Some(long)) => format!("--{long}"),
            (None, None) => continue,
        };
        line.push(roman(" ["));
        line.push(bold(flag));
        line.extend(value(arg));
        line.push(roman("]"));
    }
    for arg in command.get_positionals().filter(|arg| !arg.is_hide_set()) {
        let many = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        let dots = if many { "..." } else { "" };
        let words = value_name(arg);
        if arg.is_required_set() {
            line.extend([roman(" "), italic(words), roman(dots)]);
        } else {
            line.extend([roman(" ["), italic(words), roman(format!("]{dots}"))]);
        }
    }
    if subcommands(command).next().is_some() {
        if command.is_subcommand_required_set() {
            line.extend([roman(" "), italic("COMMAND")]);
        } else {
            line.extend([roman(" ["), italic("COMMAND"), roman("]")]);
        }
    }
    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]).text(line);
    roff
}

/// An option's value as the synopsis shows it: ` COUNT`, `[=SIGNAL]`, nothing for a flag.
fn value(arg: &clap::Arg) -> Vec<Inline> {
    let Some(range) = arg.get_num_args().filter(|n| n.takes_values()) else {
        return Vec::new();
    };
    let name = italic(value_name(arg));
    match (range.min_values() == 0, arg.is_require_equals_set()) {
        // A no-break space: `-w SECS` stays on one line.
        (false, false) => vec![roman(NO_BREAK_SPACE), name],
        (false, true) => vec![roman("="), name],
        (true, false) => vec![roman(format!("{NO_BREAK_SPACE}[")), name, roman("]")],
        (true, true) => vec![roman("[="), name, roman("]")],
    }
}

fn value_name(arg: &clap::Arg) -> String {
    arg.get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
}

/// netdx(1) and the page above; the pages below are in SUBCOMMANDS.
fn see_also(tree: &clap::Command, parent: Option<&clap::Command>) -> Roff {
    let mut names: Vec<&str> = Vec::new();
    if let Some(parent) = parent {
        names.push(display_name(tree));
        if display_name(parent) != display_name(tree) {
            names.push(display_name(parent));
        }
    }
    let mut roff = Roff::new();
    if names.is_empty() {
        return roff;
    }
    let mut line = Vec::new();
    for (at, name) in names.iter().enumerate() {
        let comma = if at + 1 < names.len() { ", " } else { "" };
        line.push(bold(*name));
        line.push(roman(format!("({SECTION}){comma}")));
    }
    roff.control("SH", ["SEE ALSO"]).text(line);
    roff
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A page assembled from pieces, each rendered by roff with the same
/// preamble (the apostrophe string): kept once, at the top.
#[derive(Default)]
struct Parts {
    text: String,
}

impl Parts {
    fn add(&mut self, render: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
        let mut bytes = Vec::new();
        // Writing into a Vec cannot fail.
        if render(&mut bytes).is_ok() {
            self.push(&String::from_utf8_lossy(&bytes));
        }
    }

    fn add_roff(&mut self, roff: &Roff) {
        self.push(&roff.render());
    }

    fn push(&mut self, piece: &str) {
        if self.text.is_empty() {
            self.text.push_str(piece);
            return;
        }
        let preamble = Roff::new().render();
        self.text
            .push_str(piece.strip_prefix(preamble.as_str()).unwrap_or(piece));
    }
}

/// What a command's after-help holds: `Examples:` and its indented lines,
/// then paragraphs of prose, the last of which may hold `Exit status: …`.
#[derive(Debug, Default, PartialEq, Eq)]
struct AfterHelp {
    examples: Vec<Example>,
    prose: Vec<String>,
    exit_status: Option<String>,
}

/// One line of `Examples:`: the command, and what it shows.
#[derive(Debug, PartialEq, Eq)]
struct Example {
    command: String,
    what: String,
}

impl AfterHelp {
    fn parse(text: &str) -> AfterHelp {
        let mut parsed = AfterHelp::default();
        let mut lines = text.lines().peekable();
        if lines.peek().is_some_and(|line| line.trim() == "Examples:") {
            lines.next();
            while let Some(line) = lines.next_if(|line| line.starts_with(' ')) {
                let body = line.trim();
                if body.starts_with("netdx") {
                    // Two spaces part a command from what it shows; a
                    // command never holds two in a row.
                    let (command, what) = body.split_once("  ").unwrap_or((body, ""));
                    parsed.examples.push(Example {
                        command: command.trim_end().to_string(),
                        what: what.trim().to_string(),
                    });
                } else if let Some(last) = parsed.examples.last_mut() {
                    // What an example shows, on the line under a long command.
                    if !last.what.is_empty() {
                        last.what.push(' ');
                    }
                    last.what.push_str(body);
                }
            }
        }
        let rest: Vec<&str> = lines.collect();
        for paragraph in rest.split(|line| line.trim().is_empty()) {
            let at = paragraph
                .iter()
                .position(|line| line.starts_with("Exit status:"));
            let (prose, status) = paragraph.split_at(at.unwrap_or(paragraph.len()));
            if !prose.is_empty() {
                parsed.prose.push(prose.join(" "));
            }
            if !status.is_empty() {
                let joined = status.join(" ");
                let words = joined.trim_start_matches("Exit status:").trim();
                parsed.exit_status = Some(words.to_string());
            }
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_prose_and_exit_status_are_told_apart() {
        let text = "\
Examples:
  netdx ping localhost                   ping until Ctrl-C
  netdx ping -c 3 -i 0.2 localhost
                                         three probes, 200 ms apart
  netdx netstat -t --state time-wait

One host behaves like iputils ping: -i is the gap
between probes.

Ctrl-C prints the statistics.
Exit status: one host: 0 if a reply came back, 1 if
none; 2 on errors.";
        let parsed = AfterHelp::parse(text);
        assert_eq!(
            parsed.examples,
            vec![
                Example {
                    command: "netdx ping localhost".into(),
                    what: "ping until Ctrl-C".into()
                },
                Example {
                    command: "netdx ping -c 3 -i 0.2 localhost".into(),
                    what: "three probes, 200 ms apart".into()
                },
                Example {
                    command: "netdx netstat -t --state time-wait".into(),
                    what: String::new()
                },
            ]
        );
        assert_eq!(
            parsed.prose,
            vec![
                "One host behaves like iputils ping: -i is the gap between probes.",
                "Ctrl-C prints the statistics."
            ]
        );
        assert_eq!(
            parsed.exit_status.as_deref(),
            Some("one host: 0 if a reply came back, 1 if none; 2 on errors.")
        );
    }

    #[test]
    fn text_without_examples_is_prose() {
        let parsed = AfterHelp::parse("Counters mean what\nifconfig's mean.");
        assert!(parsed.examples.is_empty());
        assert_eq!(parsed.prose, vec!["Counters mean what ifconfig's mean."]);
        assert_eq!(parsed.exit_status, None);
    }
}
