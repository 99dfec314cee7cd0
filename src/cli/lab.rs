//! `netdx lab` arguments.

use clap::Args;
use clap::builder::PossibleValue;

use super::completing::Completing;

pub(super) const LAB_EXAMPLES: &str = "\
Examples:
  netdx lab                      the labs, one line each, with the calls they teach
  netdx lab reuseaddr            run one, narrating every socket call
  netdx lab sticky --step        pause for Enter between calls
  netdx lab nagle --json         the transcript as JSON
  netdx lab recv --explain       the lesson, what to expect and why, without running
  netdx lab all                  run every lab: one verdict each

Every lab runs on loopback with real sockets; its closing words come from what
the kernel actually returned.
Exit status: 0 when the kernel behaved as the lab expects (with 'all': every
lab), 1 when it did something else (the lab says what and why that can be),
2 on errors.";

// `netdx lab [NAME] [--step]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct LabArgs {
    /// The lab to run, or `all`; without one, the list
    #[arg(value_name = "NAME", value_parser = Completing(lab_names))]
    pub name: Option<String>,
    /// Wait for Enter between calls (on a terminal)
    #[arg(long, conflicts_with = "explain")]
    pub step: bool,
    /// Print the lesson (what to expect and why) without running anything
    #[arg(long)]
    pub explain: bool,
}

/// Every lab's name, with what it shows (fish and zsh print it beside the name).
fn lab_names() -> Vec<PossibleValue> {
    crate::lab::LABS
        .iter()
        .map(|lab| PossibleValue::new(lab.name).help(lab.summary))
        .chain([PossibleValue::new(crate::lab::ALL).help("run every lab, one verdict each")])
        .collect()
}
