//! Target lists and ranges for ping, compared with fping on a namespace
//! network: `--file FILE`, `--file -`, a list on standard input with no
//! target given, and `-g START END` must find exactly the hosts fping finds
//! alive and unreachable. Then the edges: empty lists and ranges, a
//! terminal on stdin, and every way a list can be bad.

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{Netns, Pair, assert_one_line_error, netdx, netdx_bin, stderr, stdout};

/// The hosts that answer: the host's own address, and addresses of a block
/// it claims; those that don't: addresses of a block it swallows.
const ALIVE: [&str; 4] = ["10.9.0.2", "10.9.3.1", "10.9.3.2", "10.9.3.3"];
const SILENT: [&str; 3] = ["10.9.3.9", "10.9.3.10", "10.9.4.7"];

/// The list both tools read: comments, a blank line, indentation, an
/// inline comment and a CRLF line ending, which both skip or trim.
const LIST: &str = "# hosts to compare\n\
                    10.9.0.2\n\
                    10.9.3.1\n   10.9.3.2   # indented, commented\n\
                    10.9.3.3\r\n\
                    \n\
                    10.9.3.9\n\
                    10.9.3.10\n\
                    10.9.4.7\n";

/// A network where the client's probes to `ALIVE` are answered and those
/// to `SILENT` are dropped without a word.
fn network(tag: &str) -> Pair {
    let pair = Pair::new(tag);
    pair.answer_for("10.9.3.0/29");
    pair.silence("10.9.3.8/29");
    pair.silence("10.9.4.0/24");
    pair
}

/// A file in the test's temporary directory holding `text`.
fn list_file(tag: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("netdx-targets-{}-{tag}", std::process::id()));
    std::fs::write(&path, text).expect("writing the list");
    path
}

/// How targets reach the tool.
#[derive(Debug, Clone, Copy)]
enum Input {
    /// `--file FILE` (fping `-f FILE`).
    File,
    /// `--file -` with the list on stdin (fping `-f -`).
    FileDash,
    /// No target at all, the list on stdin (both read it).
    BareStdin,
}

/// Runs `program args…` in `ns` with `stdin` from `list` (or /dev/null).
fn run_with_stdin(ns: &Netns, program: &str, args: &[&str], list: Option<&PathBuf>) -> Output {
    let stdin = match list {
        Some(path) => Stdio::from(File::open(path).expect("the list opens")),
        None => Stdio::null(),
    };
    ns.command(program, args)
        .stdin(stdin)
        .output()
        .unwrap_or_else(|err| panic!("running {program}: {err}"))
}

/// The targets one listing printed, one a line.
fn listed(output: &Output) -> BTreeSet<String> {
    stdout(output).lines().map(str::to_string).collect()
}

/// Both tools' `-a` and `-u` listings for the same input, asserted equal
/// (sets and exit codes); returns netdx's (alive, unreachable).
fn compare(ns: &Netns, list: &PathBuf, input: Input) -> (BTreeSet<String>, BTreeSet<String>) {
    let path = list.to_str().expect("a UTF-8 path");
    // The same timing on both sides: two attempts, 300 ms each.
    let ours_common = ["ping", "-i", "0.005", "-W", "0.3", "--retries", "1"];
    let theirs_common = ["-i", "5", "-t", "300", "-r", "1", "-B", "1"];
    let mut sets = Vec::new();
    for flag in ["-a", "-u"] {
        let (ours_input, theirs_input, stdin): (Vec<&str>, Vec<&str>, Option<&PathBuf>) =
            match input {
                Input::File => (vec!["--file", path], vec!["-f", path], None),
                Input::FileDash => (vec!["--file", "-"], vec!["-f", "-"], Some(list)),
                Input::BareStdin => (vec![], vec![], Some(list)),
            };
        let ours_args = [&ours_common[..], &[flag], &ours_input].concat();
        let theirs_args = [&theirs_common[..], &[flag], &theirs_input].concat();
        let ours = run_with_stdin(ns, netdx_bin(), &ours_args, stdin);
        let theirs = run_with_stdin(ns, "fping", &theirs_args, stdin);
        assert_eq!(
            listed(&ours),
            listed(&theirs),
            "{input:?} {flag}: netdx {ours_args:?} vs fping {theirs_args:?}\nnetdx stderr: {}\nfping stderr: {}",
            stderr(&ours),
            stderr(&theirs)
        );
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{input:?} {flag}: exit codes; netdx stderr: {}",
            stderr(&ours)
        );
        sets.push(listed(&ours));
    }
    let unreachable = sets.pop().unwrap_or_default();
    let alive = sets.pop().unwrap_or_default();
    assert!(
        !alive.is_empty() && !unreachable.is_empty(),
        "a comparison needs both kinds: alive {alive:?}, unreachable {unreachable:?}"
    );
    assert!(
        alive.is_disjoint(&unreachable),
        "{alive:?} / {unreachable:?}"
    );
    (alive, unreachable)
}

fn set(addresses: &[&str]) -> BTreeSet<String> {
    addresses.iter().map(|a| a.to_string()).collect()
}

fn require_fping() {
    let found = Command::new("fping")
        .arg("-v")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "fping is needed (scripts/test installs it: apt-get install fping)"
    );
}

#[test]
fn lists_from_a_file_from_dash_and_from_bare_stdin_find_what_fping_finds() {
    require_root!();
    require_fping();
    let pair = network("lists");
    let list = list_file("lists", LIST);
    for input in [Input::File, Input::FileDash, Input::BareStdin] {
        let (alive, unreachable) = compare(&pair.client, &list, input);
        assert_eq!(alive, set(&ALIVE), "{input:?}");
        assert_eq!(unreachable, set(&SILENT), "{input:?}");
    }
    let _ = std::fs::remove_file(&list);
}

#[test]
fn a_range_finds_what_fping_g_start_end_finds() {
    require_root!();
    require_fping();
    let pair = network("range");
    let ours_common = ["ping", "-i", "0.005", "-W", "0.3", "--retries", "1"];
    let theirs_common = ["-i", "5", "-t", "300", "-r", "1", "-B", "1"];
    // Across the answering block's edges into the silent one, both ends
    // included; .0 and .7 are pinged too (a range has no network or
    // broadcast address to leave out).
    let range = ["-g", "10.9.3.0", "10.9.3.12"];
    let mut sets = Vec::new();
    for flag in ["-a", "-u"] {
        let ours_args = [&ours_common[..], &[flag], &range].concat();
        let theirs_args = [&theirs_common[..], &[flag], &range].concat();
        let ours = pair.client.netdx(&ours_args);
        let theirs = pair.client.run("fping", &theirs_args);
        assert_eq!(listed(&ours), listed(&theirs), "{flag}: {}", stderr(&ours));
        assert_eq!(ours.status.code(), theirs.status.code(), "{flag}");
        sets.push(listed(&ours));
    }
    let alive: Vec<String> = (0..=7).map(|n| format!("10.9.3.{n}")).collect();
    let silent: Vec<String> = (8..=12).map(|n| format!("10.9.3.{n}")).collect();
    assert_eq!(sets[0], alive.into_iter().collect::<BTreeSet<_>>());
    assert_eq!(sets[1], silent.into_iter().collect::<BTreeSet<_>>());
}

#[test]
fn one_target_on_stdin_is_still_a_sweep() {
    require_root!();
    let pair = network("one");
    let list = list_file("one", "10.9.0.2\n");
    let out = run_with_stdin(&pair.client, netdx_bin(), &["ping", "-a"], Some(&list));
    assert_eq!(stdout(&out), "10.9.0.2\n", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_file(&list);
}

#[test]
fn an_empty_range_or_list_pings_nothing_prints_nothing_and_exits_1() {
    let empty = list_file("empty", "# nothing yet\n\n");
    let path = empty.to_str().unwrap();
    for args in [
        &["ping", "-g", "10.0.0.5", "10.0.0.1"][..],
        &["ping", "-a", "-g", "10.0.0.5", "10.0.0.1"],
        &["--json", "ping", "-g", "10.0.0.5", "10.0.0.1"],
        &["ping", "--file", path],
        // No target and stdin not a terminal (here /dev/null): an empty list, as fping reads it.
        &["ping"],
        &["ping", "-u"],
    ] {
        let out = netdx(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }
    let _ = std::fs::remove_file(&empty);
}

#[test]
fn no_target_on_a_terminal_is_the_usage_error() {
    let out = Command::new("script")
        .args(["-qec", &format!("{} ping", netdx_bin()), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux script runs");
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(
        text.starts_with("netdx: no target: give hosts, addresses or networks, --file FILE"),
        "{text:?}"
    );
    assert!(text.contains("try 'netdx ping --help'"), "{text:?}");
}

#[test]
fn bad_lists_and_ranges_are_one_line_exit_2_naming_the_line() {
    let long = format!("10.0.0.1\n{}\n", "a".repeat(2000));
    let files = [
        (
            "bad-target",
            "10.0.0.1\n\n# ok so far\n10.0.0.0/33\n".to_string(),
        ),
        ("two-words", "10.0.0.1 10.0.0.2\n".to_string()),
        ("long-line", long),
    ];
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(tag, text)| list_file(tag, text))
        .collect();
    let not_utf8 = list_file("not-utf8", "");
    std::fs::write(&not_utf8, b"10.0.0.1\nhost\xff\n").unwrap();
    let p = |path: &PathBuf| path.to_str().unwrap().to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--file".into(), p(&paths[0])],
            format!(
                "'{}' line 4: '10.0.0.0/33': the prefix length must be 0 to 32",
                p(&paths[0])
            ),
        ),
        (
            vec!["--file".into(), p(&paths[1])],
            "line 1: '10.0.0.1 10.0.0.2' is more than one target".into(),
        ),
        (
            vec!["--file".into(), p(&paths[2])],
            "line 2: longer than 1024 bytes".into(),
        ),
        (
            vec!["--file".into(), p(&not_utf8)],
            "line 2: not UTF-8 text".into(),
        ),
        (
            vec!["--file".into(), "/nonexistent/netdx-hosts".into()],
            "cannot open the target list '/nonexistent/netdx-hosts': no such file; check the path"
                .into(),
        ),
        (
            vec!["--file".into(), "/".into()],
            "it is a directory".into(),
        ),
        (
            vec!["--file".into(), "".into()],
            "an empty file name".into(),
        ),
        (
            vec!["--file".into(), p(&paths[0]), "10.0.0.1".into()],
            "cannot be used with".into(),
        ),
        (
            vec!["--file".into(), p(&paths[0]), "-g".into()],
            "cannot be used with".into(),
        ),
        (
            vec!["-g".into(), "fd00::1".into(), "fd00::9".into()],
            "-g START END takes IPv4 addresses".into(),
        ),
        (
            vec!["-g".into(), "10.0.0.1".into(), "router".into()],
            "'router' is not one".into(),
        ),
        (
            vec!["-g".into(), "10.0.0.0".into(), "10.1.0.0".into()],
            "'10.0.0.0 10.1.0.0' expands to 65537 targets; sweeps larger than a /16 need --force"
                .into(),
        ),
        (
            vec!["-g".into()],
            "-g needs a network (10.0.0.0/24) or a range START END".into(),
        ),
    ];
    for (args, message) in &cases {
        let mut full = vec!["ping"];
        full.extend(args.iter().map(String::as_str));
        assert_one_line_error(&netdx(&full), message);
    }
    // The same errors for a list on standard input, named as such.
    let out = Command::new(netdx_bin())
        .args(["ping"])
        .stdin(File::open(&paths[0]).unwrap())
        .output()
        .unwrap();
    assert_one_line_error(&out, "standard input line 4: '10.0.0.0/33'");
    for path in paths.iter().chain([&not_utf8]) {
        let _ = std::fs::remove_file(path);
    }
}
