//! netdx at the shell: completion scripts loaded into real shells.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_one_line_error, netdx, stderr, stdout};

/// Whether `tool` is on PATH. scripts/test installs every one of these; a
/// test that finds one missing says so and is skipped, except under CI=true,
/// where it fails (CI must prove the shells really ran).
fn installed(tool: &str, test: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|out| out.status.success());
    if found {
        return true;
    }
    let reason = format!("needs {tool} (scripts/test installs it)");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: CI=true but {reason}");
    }
    eprintln!("skipping {test}: {reason}");
    false
}

/// A directory of this test's own, emptied first.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netdx-shell-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// `netdx completions SHELL`, written to a file in `dir`.
fn script(shell: &str, dir: &Path) -> PathBuf {
    let out = netdx(&["completions", shell]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let path = dir.join(format!("netdx.{shell}"));
    std::fs::write(&path, &out.stdout).expect("writing the script");
    path
}

/// What bash offers for the last of `words`: the script is sourced, and the
/// function it registered for netdx (`complete -p netdx`) is called the way
/// bash's completion calls it, with COMP_WORDS, COMP_CWORD and the
/// arguments (command, word being completed, word before it).
fn bash_completes(script: &Path, words: &[&str]) -> Vec<String> {
    let program = r#"
        source "$0" || exit 3
        function=$(complete -p netdx | sed -E 's/.* -F ([^ ]+) .*/\1/')
        COMP_WORDS=("$@")
        COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        "$function" netdx "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", program])
        .arg(script)
        .args(words)
        .output()
        .expect("bash runs");
    assert_eq!(out.status.code(), Some(0), "bash: {}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// What fish offers for `line` (`complete -C`), names only.
fn fish_completes(script: &Path, line: &str) -> Vec<String> {
    let out = Command::new("fish")
        .args([
            "--no-config",
            "-c",
            "source $argv[1]; and complete -C $argv[2]",
        ])
        .arg(script)
        .arg(line)
        .output()
        .expect("fish runs");
    assert_eq!(out.status.code(), Some(0), "fish: {}", stderr(&out));
    assert!(out.stderr.is_empty(), "fish: {}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|line| line.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn bash_completes_commands_lab_names_and_known_values() {
    let dir = scratch("bash");
    let script = script("bash", &dir);
    assert_eq!(bash_completes(&script, &["netdx", "pi"]), ["ping"]);
    assert_eq!(
        bash_completes(&script, &["netdx", "lab", "re"]),
        ["reuseaddr", "reuseport"]
    );
    assert_eq!(
        bash_completes(&script, &["netdx", "ping", "--color", ""]),
        ["auto", "always", "never"]
    );
    assert_eq!(bash_completes(&script, &["netdx", "echo", "se"]), ["serve"]);
    assert_eq!(
        bash_completes(&script, &["netdx", "sockopt", "explain", "SO_REUSE"]),
        ["SO_REUSEADDR", "SO_REUSEPORT"]
    );
    assert_eq!(
        bash_completes(&script, &["netdx", "completions", "z"]),
        ["zsh"]
    );
    assert_eq!(
        bash_completes(&script, &["netdx", "trace", "--ic"]),
        ["--icmp"]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fish_completes_lab_names_option_names_and_shells() {
    if !installed("fish", "fish_completes_lab_names_option_names_and_shells") {
        return;
    }
    let dir = scratch("fish");
    let script = script("fish", &dir);
    let out = Command::new("fish")
        .arg("--no-execute")
        .arg(&script)
        .output()
        .expect("fish runs");
    assert!(out.status.success(), "fish -n: {}", stderr(&out));
    assert_eq!(fish_completes(&script, "netdx pi"), ["ping"]);
    assert_eq!(
        fish_completes(&script, "netdx lab re"),
        ["reuseaddr", "reuseport"]
    );
    assert_eq!(
        fish_completes(&script, "netdx --json lab --step udp"),
        ["udp-boundaries"]
    );
    assert_eq!(
        fish_completes(&script, "netdx sockopt explain SO_REUSE"),
        ["SO_REUSEADDR", "SO_REUSEPORT"]
    );
    assert_eq!(fish_completes(&script, "netdx completions z"), ["zsh"]);
    let mut colours = fish_completes(&script, "netdx ping --color ");
    colours.sort();
    assert_eq!(colours, ["always", "auto", "never"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn zsh_script_parses_and_knows_lab_and_option_names() {
    if !installed("zsh", "zsh_script_parses_and_knows_lab_and_option_names") {
        return;
    }
    let dir = scratch("zsh");
    let script = script("zsh", &dir);
    let out = Command::new("zsh")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("zsh runs");
    assert!(out.status.success(), "zsh -n: {}", stderr(&out));
    let text = std::fs::read_to_string(&script).expect("the script");
    assert!(text.starts_with("#compdef netdx"), "{text:.200}");
    for value in [
        "reuseport\\:",
        "udp-boundaries\\:",
        "SO_REUSEADDR\\:",
        "always\\:",
    ] {
        assert!(text.contains(value), "zsh script lacks {value}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn elvish_and_powershell_scripts_name_every_command() {
    for (shell, opening) in [
        ("elvish", "\nuse builtin;"),
        (
            "powershell",
            "\nusing namespace System.Management.Automation",
        ),
    ] {
        let out = netdx(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.starts_with(opening), "{shell}: {text:.200}");
        for command in [
            "ifconfig", "ping", "netstat", "echo", "serve", "sockopt", "lab",
        ] {
            assert!(text.contains(command), "{shell} script lacks {command}");
        }
    }
}

#[test]
fn unknown_shell_is_one_line_and_exit_2() {
    assert_one_line_error(
        &netdx(&["completions", "tcsh"]),
        "invalid value 'tcsh' for '<SHELL>' [possible values: bash, elvish, fish, powershell, zsh]",
    );
    assert_one_line_error(&netdx(&["completions", "bash", "--json"]), "not JSON");
}
