//! `netdx man [COMMAND [SUBCOMMAND]]` arguments.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, ValueHint};

use super::completing::Completing;

pub(super) const MAN_EXAMPLES: &str = "\
Examples:
  netdx man | man -l -                 netdx(1), the overview
  netdx man ping | man -l -            netdx-ping(1)
  netdx man echo serve | man -l -      netdx-echo-serve(1)
  netdx man --dir ~/.local/share/man/man1
                                       every page, as netdx.1, netdx-ping.1, …

The pages hold what --help says: options, examples and exit status.
Exit status: 0 when the page was written, 2 for a command netdx does not have
and on errors.";

// `netdx man [COMMAND [SUBCOMMAND]] [--dir DIR]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct ManArgs {
    // The names come from the command tree, which holds these arguments:
    // hide_possible_values keeps clap from asking for them while it builds
    // the tree (it would build the tree again, without end).
    /// The command whose page to print; without one, netdx(1)
    #[arg(value_name = "COMMAND", value_parser = Completing(command_names), hide_possible_values = true)]
    pub command: Option<String>,
    /// A command of COMMAND, for its own page (echo serve, sockopt explain)
    #[arg(value_name = "SUBCOMMAND", value_parser = Completing(subcommand_names), hide_possible_values = true)]
    pub subcommand: Option<String>,
    /// Write every page into DIR (created if missing) instead of printing one
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath, conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

/// The commands of netdx (their names and summaries need no building).
fn command_names() -> Vec<PossibleValue> {
    named(&<super::Cli as clap::CommandFactory>::command(), 1)
}

/// The commands of netdx's commands (`serve`, `probe`, `explain`).
fn subcommand_names() -> Vec<PossibleValue> {
    named(&super::command_tree(), 2)
}

/// The names `depth` levels down the tree, without clap's `help` command.
fn named(command: &clap::Command, depth: usize) -> Vec<PossibleValue> {
    command
        .get_subcommands()
        .filter(|sub| sub.get_name() != "help")
        .flat_map(|sub| {
            if depth == 1 {
                vec![
                    PossibleValue::new(sub.get_name().to_string())
                        .help(sub.get_about().cloned().unwrap_or_default()),
                ]
            } else {
                named(sub, depth - 1)
            }
        })
        .collect()
}
