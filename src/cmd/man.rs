//! `netdx man [COMMAND [SUBCOMMAND]]`: print one man page, or write them all
//! with `--dir`.

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Outcome};
use crate::render::{self, Output, man};

/// Prints the page asked for, or writes every page into `--dir`.
pub fn run(args: &ManArgs, out: &Output) -> Result<Outcome, Error> {
    if out.json {
        return Err(Error::Usage(
            "--json: 'netdx man' writes roff, not JSON".to_string(),
        ));
    }
    // clap's `help` command needs no page, and no entry in netdx(1)'s list.
    let mut tree = Cli::command().disable_help_subcommand(true);
    tree.build();
    if let Some(dir) = &args.dir {
        let pages = every_page(&tree);
        std::fs::create_dir_all(dir).map_err(|source| Error::File {
            action: "creating directory",
            path: dir.clone(),
            source,
        })?;
        for page in &pages {
            let path = dir.join(page.file_name());
            std::fs::write(&path, &page.roff).map_err(|source| Error::File {
                action: "writing",
                path,
                source,
            })?;
        }
        return Ok(Outcome::Success);
    }
    let page = match (&args.command, &args.subcommand) {
        (None, _) => man::page(&tree, None, &tree),
        (Some(name), None) => {
            let command = find(&tree, name, "netdx")?;
            man::page(&tree, Some(&tree), command)
        }
        (Some(name), Some(sub)) => {
            let parent = find(&tree, name, "netdx")?;
            let command = find(parent, sub, &format!("netdx {name}"))?;
            man::page(&tree, Some(parent), command)
        }
    };
    render::print(&page.roff)?;
    Ok(Outcome::Success)
}

/// netdx(1), then each command's page followed by its subcommands' pages.
fn every_page(tree: &clap::Command) -> Vec<man::Page> {
    fn below(tree: &clap::Command, parent: &clap::Command, pages: &mut Vec<man::Page>) {
        for command in man::subcommands(parent) {
            pages.push(man::page(tree, Some(parent), command));
            below(tree, command, pages);
        }
    }
    let mut pages = vec![man::page(tree, None, tree)];
    below(tree, tree, &mut pages);
    pages
}

/// The command called `name` under `parent` (spelled `parent_words` on the
/// command line), or the usage error that says what there is.
fn find<'t>(
    parent: &'t clap::Command,
    name: &str,
    parent_words: &str,
) -> Result<&'t clap::Command, Error> {
    man::subcommands(parent)
        .find(|command| command.get_name() == name)
        .ok_or_else(|| {
            let known: Vec<&str> = man::subcommands(parent).map(|c| c.get_name()).collect();
            Error::Usage(if known.is_empty() {
                format!("no man page for '{parent_words} {name}': '{parent_words}' has no commands")
            } else {
                format!(
                    "no man page for '{parent_words} {name}': '{parent_words}' has no command '{name}' (it has {})",
                    known.join(", ")
                )
            })
        })
}
