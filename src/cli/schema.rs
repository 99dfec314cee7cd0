//! `netdx schema` arguments.

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::render::schema::{self, Document};

pub(super) const SCHEMA_EXAMPLES: &str = "\
Examples:
  netdx schema                   every document that has a schema, and what prints it
  netdx schema ping              the JSON Schema of 'netdx ping --json'
  netdx schema ping.stream       the JSON Schema of each 'netdx ping --json-stream' line
  netdx schema trace > trace.schema.json
                                 for any draft 2020-12 validator

Schemas are JSON Schema draft 2020-12, generated from the types netdx
serialises; the same files are in docs/schema/. Fields are only ever added:
a rename or a type change is a breaking change, called out in CHANGELOG.md.

Exit status: 0 the schema (or the list) was printed, 2 an unknown name.";

// `netdx schema [NAME]` (a plain comment: a doc comment here would replace
// the command's summary in --help and its man page)
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The document whose schema to print; without one, the list
    #[arg(value_name = "NAME", value_parser = document_name())]
    pub document: Option<&'static Document>,
}

/// A registered document's name, parsed into the document (clap lists the
/// names in the error and in completions).
fn document_name() -> impl TypedValueParser<Value = &'static Document> {
    PossibleValuesParser::new(schema::names())
        .try_map(|name| schema::find(&name).ok_or_else(|| format!("no schema '{name}'")))
}
