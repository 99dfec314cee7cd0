//! `netdx completions SHELL`: the shell's completion script, made from the
//! whole command tree.

use crate::cli::{self, CompletionsArgs};
use crate::error::{Error, Outcome};
use crate::render::{self, Output};

/// Prints the script.
pub fn run(args: &CompletionsArgs, out: &Output) -> Result<Outcome, Error> {
    if out.json {
        return Err(Error::Usage(
            "--json: 'netdx completions' writes a shell script, not JSON".to_string(),
        ));
    }
    let mut tree = cli::command_tree();
    render::print(&render::completions::script(args.shell, &mut tree))?;
    Ok(Outcome::Success)
}
