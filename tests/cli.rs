//! Conventions every command shares: help with examples, version, one-line
//! errors with exit 2, JSON on stdout, colour only when wanted.

mod common;

use std::process::{Command, Stdio};

use common::{assert_one_line_error, netdx, netdx_bin, stderr, stdout};

#[test]
fn top_level_help_lists_commands_and_exit_codes() {
    let out = netdx(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("ifconfig"), "{text}");
    assert!(text.contains("Examples:"), "{text}");
    assert!(
        text.contains("Exit status: 0 success, 1 a negative answer"),
        "{text}"
    );
}

#[test]
fn command_help_shows_examples() {
    let out = netdx(&["ifconfig", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("Examples:\n  netdx ifconfig"), "{text}");
    assert!(text.contains("--json"), "global options are listed: {text}");
}

#[test]
fn every_command_help_opens_with_the_summary_the_top_help_lists() {
    let top = stdout(&netdx(&["--help"]));
    let listed: Vec<(&str, &str)> = top
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.trim().split_once(' '))
        .filter(|(name, _)| *name != "help")
        .collect();
    assert!(listed.len() >= 10, "{top}");
    for (name, summary) in listed {
        let help = stdout(&netdx(&[name, "--help"]));
        let first = help.lines().next().unwrap_or_default();
        // The top help wraps summaries: compare the words that fit its first line.
        let summary: Vec<&str> = summary.split_whitespace().collect();
        let opening: Vec<&str> = first.split_whitespace().take(summary.len()).collect();
        assert_eq!(opening, summary, "netdx {name} --help opens with: {first}");
    }
}

#[test]
fn version_names_the_binary_and_its_version() {
    let out = netdx(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out).trim(),
        format!("netdx {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_flag_is_one_line_and_exit_2() {
    assert_one_line_error(
        &netdx(&["ifconfig", "--bogus"]),
        "unexpected argument '--bogus'",
    );
    assert_one_line_error(
        &netdx(&["ifconfig", "--bogus"]),
        "try 'netdx ifconfig --help'",
    );
}

#[test]
fn unknown_command_is_one_line_and_exit_2() {
    assert_one_line_error(
        &netdx(&["frobnicate"]),
        "unrecognized subcommand 'frobnicate'",
    );
}

#[test]
fn bad_color_value_is_one_line_and_exit_2() {
    assert_one_line_error(
        &netdx(&["--color", "sometimes", "ifconfig"]),
        "invalid value 'sometimes'",
    );
}

#[test]
fn no_arguments_prints_one_usage_line_pointing_at_help_and_exits_2() {
    let out = netdx(&[]);
    assert_one_line_error(&out, "usage: netdx [OPTIONS] <COMMAND>");
    assert!(
        stderr(&out).contains("try 'netdx --help'"),
        "{}",
        stderr(&out)
    );
    let out = netdx(&["echo"]);
    assert_one_line_error(&out, "usage: netdx echo [OPTIONS] <COMMAND>");
}

#[test]
fn version_followed_by_another_argument_is_an_error() {
    assert_one_line_error(&netdx(&["--version", "extra"]), "'extra'");
    assert_one_line_error(&netdx(&["-V", "ifconfig"]), "'ifconfig'");
    let out = netdx(&["ping", "--version"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Control bytes, a newline and a bidi override in one argument.
const HOSTILE: &str = "\x1b[31mred\nX\u{202e}\x01";
const HOSTILE_SHOWN: &str = "\\x1b[31mred\\nX\\u{202e}\\x01";

/// Asserts a one-line error that shows `HOSTILE` escaped and holds no raw
/// control or bidi character.
fn assert_hostile_argument_escaped(args: &[&str]) {
    let out = netdx(args);
    assert_one_line_error(&out, HOSTILE_SHOWN);
    let line = stderr(&out);
    let line = line.strip_suffix('\n').unwrap_or(&line);
    assert!(
        !line.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{args:?}: raw control characters in {line:?}"
    );
}

#[test]
fn control_and_bidi_characters_in_arguments_are_escaped_in_the_error_line() {
    // Each command's own value checks (clap's errors) and the domain's errors.
    for args in [
        &["ifconfig", HOSTILE][..],
        &["ping", "-c", HOSTILE, "127.0.0.1"],
        &["netstat", "--state", HOSTILE],
        &["port", HOSTILE],
        &["echo", "probe", HOSTILE],
        &["sockopt", "--set", HOSTILE],
        &["sockopt", "explain", HOSTILE],
        &["lab", HOSTILE],
        &["icmp", "--ttl", HOSTILE, "127.0.0.1"],
        &["trace", "-m", HOSTILE, "127.0.0.1"],
        &["--color", HOSTILE, "ifconfig"],
    ] {
        assert_hostile_argument_escaped(args);
    }
}

#[test]
fn a_newline_in_a_value_does_not_cut_the_error_line() {
    let out = netdx(&["ifconfig", "lo\nx"]);
    assert_one_line_error(&out, "'lo\\nx' is not a valid interface name");
    let out = netdx(&["ifconfig", "lo\n\nx"]);
    assert_one_line_error(&out, "'lo\\n\\nx' is not a valid interface name");
}

#[test]
fn json_flag_works_before_or_after_the_command() {
    for args in [
        &["--json", "ifconfig", "lo"][..],
        &["ifconfig", "lo", "--json"][..],
    ] {
        let out = netdx(args);
        assert_eq!(out.status.code(), Some(0));
        let value: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("one JSON document");
        assert_eq!(value[0]["name"], "lo");
    }
}

#[test]
fn piped_output_has_no_colour_unless_forced() {
    let plain = stdout(&netdx(&["ifconfig", "lo"]));
    assert!(!plain.contains('\x1b'), "auto colour is off in a pipe");
    let forced = stdout(&netdx(&["--color", "always", "ifconfig", "lo"]));
    assert!(forced.contains("\x1b[1mlo\x1b[0m: flags="), "{forced:?}");
    let json = stdout(&netdx(&["--color", "always", "ifconfig", "lo", "--json"]));
    assert!(!json.contains('\x1b'), "JSON is never coloured");
}

/// Runs netdx on a pseudo-terminal (util-linux `script`) and returns what it wrote.
fn on_a_terminal(args: &str, no_color: bool) -> String {
    let mut command = Command::new("script");
    command.args(["-qec", &format!("{} {args}", netdx_bin()), "/dev/null"]);
    if no_color {
        command.env("NO_COLOR", "1");
    } else {
        command.env_remove("NO_COLOR");
    }
    let out = command
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script is installed");
    stdout(&out)
}

#[test]
fn terminal_output_is_coloured_unless_no_color_is_set() {
    assert!(on_a_terminal("ifconfig lo", false).contains("\x1b[1mlo\x1b[0m"));
    assert!(!on_a_terminal("ifconfig lo", true).contains('\x1b'));
    assert!(!on_a_terminal("--color never ifconfig lo", false).contains('\x1b'));
}

#[test]
fn tables_have_borders_on_a_terminal_and_plain_columns_in_a_pipe() {
    assert!(on_a_terminal("ifconfig -s lo", true).contains('│'));
    let piped = stdout(&netdx(&["ifconfig", "-s", "lo"]));
    assert!(!piped.contains('│'));
    let row: Vec<&str> = piped.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[0], "lo");
    assert_eq!(row[1], "65536");
}

#[test]
fn closed_pipe_ends_quietly() {
    let mut child = Command::new(netdx_bin())
        .args(["ifconfig", "-a"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    assert!(
        out.status.code().is_some_and(|c| c == 0),
        "{:?}",
        out.status
    );
}

#[test]
fn json_and_json_stream_together_are_a_usage_error() {
    for args in [
        &["--json", "--json-stream", "ping", "127.0.0.1"][..],
        &["ping", "--json-stream", "127.0.0.1", "--json"][..],
        // One before the command and one after it: clap alone misses these.
        &["--json-stream", "trace", "--json", "127.0.0.1"][..],
        &["--json", "echo", "probe", "--json-stream", "127.0.0.1:7"][..],
    ] {
        assert_one_line_error(&netdx(args), "cannot be used with");
    }
}

#[test]
fn commands_that_print_one_document_refuse_json_stream_and_name_json() {
    for (args, name) in [
        (&["ifconfig", "lo"][..], "ifconfig"),
        (&["netstat", "-tan"][..], "netstat"),
        (&["port", "1"][..], "port"),
        (&["lsof", "-i", ":1"][..], "lsof"),
        (&["sockopt"][..], "sockopt"),
        (&["lab", "sticky"][..], "lab"),
        (&["icmp", "127.0.0.1"][..], "icmp"),
    ] {
        let mut full = vec!["--json-stream"];
        full.extend_from_slice(args);
        assert_one_line_error(
            &netdx(&full),
            &format!("--json-stream: `{name}` prints one document; use --json"),
        );
    }
}
