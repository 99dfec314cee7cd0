//! `netdx completions SHELL` arguments.

use clap::Args;

pub(super) const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  netdx completions bash > ~/.local/share/bash-completion/completions/netdx
  netdx completions zsh > ~/.zfunc/_netdx       with fpath+=(~/.zfunc) in ~/.zshrc
  netdx completions fish > ~/.config/fish/completions/netdx.fish
  netdx completions elvish >> ~/.config/elvish/rc.elv
  netdx completions powershell >> $PROFILE
  source <(netdx completions bash)              for this bash session only

Commands, options, and the values netdx knows complete: --color, lab names,
'sockopt explain' option names, 'man' command names, the shells here. Hosts,
ports and --set NAME=VALUE do not.
Exit status: 0 when the script was written, 2 on errors.";

// `netdx completions SHELL` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}
