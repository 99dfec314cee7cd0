//! netdx at the shell: completion scripts loaded into real shells, and man
//! pages rendered by man and groff.

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

/// A directory of this test's own, removed when the test ends (a failing
/// one too).
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("netdx-shell-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Scratch(dir)
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
    let dir = Scratch::new("bash");
    let script = script("bash", &dir);
    assert_eq!(bash_completes(&script, &["netdx", "pi"]), ["ping"]);
    assert_eq!(
        bash_completes(&script, &["netdx", "lab", "reu"]),
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
    assert_eq!(bash_completes(&script, &["netdx", "man", "tr"]), ["trace"]);
    assert_eq!(
        bash_completes(&script, &["netdx", "completions", "z"]),
        ["zsh"]
    );
    assert_eq!(
        bash_completes(&script, &["netdx", "trace", "--ic"]),
        ["--icmp"]
    );
}

#[test]
fn fish_completes_lab_names_option_names_and_commands() {
    if !installed("fish", "fish_completes_lab_names_option_names_and_commands") {
        return;
    }
    let dir = Scratch::new("fish");
    let script = script("fish", &dir);
    let out = Command::new("fish")
        .arg("--no-execute")
        .arg(&script)
        .output()
        .expect("fish runs");
    assert!(out.status.success(), "fish -n: {}", stderr(&out));
    assert_eq!(fish_completes(&script, "netdx pi"), ["ping"]);
    assert_eq!(
        fish_completes(&script, "netdx lab reu"),
        ["reuseaddr", "reuseport"]
    );
    assert_eq!(
        fish_completes(&script, "netdx --json lab --step udp-b"),
        ["udp-boundaries"]
    );
    assert_eq!(
        fish_completes(&script, "netdx sockopt explain SO_REUSE"),
        ["SO_REUSEADDR", "SO_REUSEPORT"]
    );
    // Second-level names are every command's (echo serve, neigh scan).
    assert_eq!(
        fish_completes(&script, "netdx man echo s"),
        ["scan", "serve"]
    );
    assert_eq!(fish_completes(&script, "netdx completions z"), ["zsh"]);
    let mut colours = fish_completes(&script, "netdx ping --color ");
    colours.sort();
    assert_eq!(colours, ["always", "auto", "never"]);
}

#[test]
fn zsh_script_parses_and_knows_lab_and_option_names() {
    if !installed("zsh", "zsh_script_parses_and_knows_lab_and_option_names") {
        return;
    }
    let dir = Scratch::new("zsh");
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
            "ifconfig", "ping", "netstat", "echo", "serve", "sockopt", "lab", "man",
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

/// Every page `netdx man --dir` writes, by file name.
fn pages(dir: &Path) -> Vec<PathBuf> {
    let out = netdx(&["man", "--dir", dir.to_str().expect("a UTF-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the man directory")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    pages.sort();
    pages
}

/// `page` as text (no bold or underline), and what groff warned about.
fn groff(page: &Path) -> (String, String) {
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-rLL=80n", "-P-cbou"])
        .arg(page)
        .output()
        .expect("groff runs");
    assert!(
        out.status.success(),
        "groff {}: {}",
        page.display(),
        stderr(&out)
    );
    (stdout(&out), stderr(&out))
}

/// The lines of `section` in a rendered page, up to the next heading.
fn section<'t>(text: &'t str, heading: &str) -> Vec<&'t str> {
    text.lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn every_page_renders_with_man_and_groff_without_warnings() {
    let test = "every_page_renders_with_man_and_groff_without_warnings";
    if !installed("man", test) || !installed("groff", test) {
        return;
    }
    let dir = Scratch::new("pages");
    let pages = pages(&dir);
    let names: Vec<String> = pages
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    // netdx(1), a page for each command netdx --help lists, and one for
    // each nested command.
    let top = stdout(&netdx(&["--help"]));
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(commands.len() >= 12, "{top}");
    let mut expected: Vec<String> = commands.iter().map(|c| format!("netdx-{c}.1")).collect();
    expected.extend(
        [
            "netdx.1",
            "netdx-echo-serve.1",
            "netdx-echo-probe.1",
            "netdx-sockopt-explain.1",
            "netdx-route-get.1",
            "netdx-neigh-scan.1",
            "netdx-perf-serve.1",
            "netdx-perf-run.1",
        ]
        .map(String::from),
    );
    expected.sort();
    assert_eq!(names, expected);

    for page in &pages {
        let shown = page.display();
        let out = Command::new("man")
            .args(["-l", "--warnings=w", "-E", "UTF-8", "-Tutf8"])
            .arg(page)
            .env("MANWIDTH", "80")
            .output()
            .expect("man runs");
        assert!(out.status.success(), "man -l {shown}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "man -l {shown} warned");
        assert!(!out.stdout.is_empty(), "man -l {shown} printed nothing");

        let (text, warnings) = groff(page);
        assert_eq!(warnings, "", "groff -ww {shown} warned");
        for heading in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "EXAMPLES",
        ] {
            assert!(
                text.lines().any(|line| line == heading),
                "{shown} has no {heading} section:\n{text}"
            );
        }
        let examples = section(&text, "EXAMPLES");
        assert!(
            examples.iter().any(|line| line.starts_with("netdx")),
            "{shown}: no example command line:\n{text}"
        );
        let name = section(&text, "NAME").join(" ");
        assert!(
            name.starts_with("netdx") && name.contains(" - ") && !name.contains(" - `netdx"),
            "{shown}: NAME should be the command's summary: {name}"
        );
    }
}

#[test]
fn examples_are_one_per_line_with_what_they_show_beneath() {
    if !installed(
        "groff",
        "examples_are_one_per_line_with_what_they_show_beneath",
    ) {
        return;
    }
    let dir = Scratch::new("ping-page");
    let out = netdx(&["man", "ping"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = dir.join("netdx-ping.1");
    std::fs::write(&page, &out.stdout).expect("writing the page");
    let (text, _) = groff(&page);
    let examples = section(&text, "EXAMPLES");
    let at = examples
        .iter()
        .position(|line| *line == "netdx ping -c 5 -i 0.2 10.0.0.1")
        .unwrap_or_else(|| panic!("the example is not a line of its own: {examples:#?}"));
    assert_eq!(examples[at + 1], "five probes, 200 ms apart");
    assert!(
        examples.contains(&"netdx ping -a -g 10.0.0.0/24"),
        "{examples:#?}"
    );
    assert_eq!(
        section(&text, "EXIT STATUS").join(" "),
        "One host: 0 if a reply came back (with -w, if -c replies did), 1 if none; \
         many hosts: 0 if every host answered, 1 if any did not; 2 on errors."
    );
}

#[test]
fn a_command_without_its_own_exit_status_gets_netdxs() {
    let page = stdout(&netdx(&["man", "ifconfig"]));
    let status = page
        .split(".SH \"EXIT STATUS\"\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_default();
    assert_eq!(
        status,
        r"0 success, 1 a negative answer (no reply, port free), 2 an error."
    );
}

#[test]
fn nested_commands_have_pages_of_their_own() {
    let serve = stdout(&netdx(&["man", "echo", "serve"]));
    assert!(
        serve.contains("\n.TH NETDX-ECHO-SERVE 1 \"\" \"netdx "),
        "{serve:.400}"
    );
    assert!(
        serve.contains(r"\fBnetdx echo serve\fR"),
        "the synopsis names it"
    );
    let echo = stdout(&netdx(&["man", "echo"]));
    assert!(
        echo.contains(r"netdx\-echo\-serve(1)"),
        "netdx-echo(1) lists it"
    );
    let top = stdout(&netdx(&["man"]));
    assert!(top.contains("\n.TH NETDX 1 "), "{top:.400}");
    assert!(
        !top.contains(r"netdx\-help"),
        "clap's help command has no page"
    );
}

#[test]
fn a_page_asked_for_is_the_page_written_with_dir() {
    let dir = Scratch::new("same-page");
    let _ = pages(&dir);
    for (args, file) in [
        (&["man"][..], "netdx.1"),
        (&["man", "lab"][..], "netdx-lab.1"),
        (
            &["man", "sockopt", "explain"][..],
            "netdx-sockopt-explain.1",
        ),
    ] {
        let written = std::fs::read(dir.join(file)).expect("the page");
        assert_eq!(netdx(args).stdout, written, "{args:?}");
    }
}

#[test]
fn a_page_for_a_command_netdx_lacks_is_one_line_and_exit_2() {
    assert_one_line_error(
        &netdx(&["man", "frobnicate"]),
        "no man page for 'netdx frobnicate': 'netdx' has no command 'frobnicate' (it has ifconfig, ping,",
    );
    assert_one_line_error(
        &netdx(&["man", "echo", "nope"]),
        "'netdx echo' has no command 'nope' (it has serve, probe)",
    );
    assert_one_line_error(
        &netdx(&["man", "ping", "serve"]),
        "'netdx ping' has no commands",
    );
    assert_one_line_error(
        &netdx(&["man", "--dir", "/proc/netdx/man"]),
        "creating directory /proc/netdx/man:",
    );
    assert_one_line_error(&netdx(&["man", "--json"]), "not JSON");
}
