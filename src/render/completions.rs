//! Completion scripts: clap_complete's, and the lines its fish generator
//! leaves out.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

use clap_complete::Shell;

/// The completion script for `shell`, from the built command `tree`.
pub fn script(shell: Shell, tree: &mut clap::Command) -> String {
    let mut bytes = Vec::new();
    clap_complete::generate(shell, tree, "netdx", &mut bytes);
    let mut script = String::from_utf8_lossy(&bytes).into_owned();
    if shell == Shell::Fish {
        script.push_str(&fish_positionals(tree));
    }
    script
}

/// clap_complete's fish script completes options only. These lines complete
/// the arguments with known values too (lab names, option names, shells,
/// man's commands), each at its place on the line: `__fish_is_nth_token` counts
/// the words that are not options.
fn fish_positionals(tree: &clap::Command) -> String {
    let mut lines = String::from(
        "\n# Arguments with known values (clap_complete's fish script has options only).\n",
    );
    for command in tree.get_subcommands() {
        fish_command(command, &[command.get_name()], &mut lines);
    }
    lines
}

fn fish_command(command: &clap::Command, path: &[&str], lines: &mut String) {
    let within = match path {
        [] => return,
        [first] => format!("__fish_netdx_using_subcommand {first}"),
        [first, .., last] => {
            format!("__fish_netdx_using_subcommand {first}; and __fish_seen_subcommand_from {last}")
        }
    };
    for (index, arg) in command.get_positionals().enumerate() {
        let condition = format!(
            "{within}; and __fish_is_nth_token {}",
            path.len() + index + 1
        );
        for value in arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
        {
            let _ = write!(
                lines,
                "complete -c netdx -n {} -f -a {}",
                fish_quote(&condition),
                fish_quote(value.get_name())
            );
            if let Some(help) = value.get_help() {
                let _ = write!(lines, " -d {}", fish_quote(&help.to_string()));
            }
            lines.push('\n');
        }
    }
    for sub in command.get_subcommands() {
        let mut deeper = path.to_vec();
        deeper.push(sub.get_name());
        fish_command(sub, &deeper, lines);
    }
}

/// `text` as one fish word: single quotes, with `\` and `'` escaped.
fn fish_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}
