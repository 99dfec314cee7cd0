//! `netdx top --json-stream`: a `refresh` line per refresh, each the
//! `--once --json` document of that interval.

use schemars::JsonSchema;
use serde::Serialize;

use crate::top::Report;

/// One line of `top --json-stream` (schema `top.stream`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TopEvent<'a> {
    /// A refresh: the rates over the interval since the last one.
    Refresh(&'a Report),
}
