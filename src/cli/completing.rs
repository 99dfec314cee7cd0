//! Free-text arguments with a known set of names (lab names, socket option
//! names, command names): the text reaches the command as typed, so its own
//! "did you mean" message stays, and the names are what shells complete and
//! help lists.
#![forbid(unsafe_code)]

use std::ffi::OsStr;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};

/// A [`TypedValueParser`] for text whose known names come from `names`.
///
/// The text is never checked against the names. clap asks for them when it
/// builds the one command that holds the argument (to size its help, unless
/// the argument has `hide_possible_values`, as a list too long for help
/// should), and when help, a man page or a completion script is rendered.
#[derive(Clone, Copy)]
pub struct Completing(pub fn() -> Vec<PossibleValue>);

impl TypedValueParser for Completing {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new((self.0)().into_iter()))
    }
}
