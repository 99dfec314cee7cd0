//! `netdx schema [NAME]`: one document's JSON Schema, or the list of them.

use crate::cli::SchemaArgs;
use crate::error::{Error, Outcome};
use crate::render::schema as registry;
use crate::render::{self, Output};

/// Prints the schema asked for, or every document's name.
pub fn run(args: &SchemaArgs, out: &Output) -> Result<Outcome, Error> {
    let text = match args.document {
        // A schema is JSON already: `--json` changes nothing.
        Some(document) => document.schema_text(),
        None if out.json => render::json::document(&registry::list()),
        None => registry::list_text(),
    };
    render::print(&text)?;
    Ok(Outcome::Success)
}
