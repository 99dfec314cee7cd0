//! `netdx lab [NAME]`: list the labs, or run one and narrate it.

use std::io::{BufRead, IsTerminal};

use crate::cli::LabArgs;
use crate::error::{Error, Outcome};
use crate::lab;
use crate::render::lab as view;
use crate::render::{self, Output};

/// Lists or runs.
pub fn run(args: &LabArgs, out: &Output) -> Result<Outcome, Error> {
    let Some(name) = &args.name else {
        let text = if out.json {
            view::list_json()
        } else {
            view::list(out)
        };
        render::print(&text)?;
        return Ok(Outcome::Success);
    };
    let chosen = lab::find(name).ok_or_else(|| {
        Error::Usage(format!(
            "no lab '{name}'; did you mean {}? ('netdx lab' lists them)",
            lab::suggestions(name).join(", ")
        ))
    })?;
    let pause = args.step && !out.json && std::io::stdin().is_terminal();
    if !out.json {
        render::print(&view::header(chosen.name, chosen.summary))?;
    }
    let json = out.json;
    let style = *out;
    let mut observer = move |step: &lab::Step| -> std::io::Result<()> {
        if json {
            return Ok(());
        }
        render::print(&view::step(step, &style))?;
        if pause {
            render::print("          [Enter] ")?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
        }
        Ok(())
    };
    let report = lab::run(chosen, &mut observer).map_err(|source| match source {
        // A closed stdout is the output's failure, worded as every command's.
        lab::LabError::Output(io) => Error::from(io),
        source => Error::Lab {
            lab: chosen.name,
            source,
        },
    })?;
    let text = if out.json {
        view::json(&report)
    } else {
        view::conclusion(&report, out)
    };
    render::print(&text)?;
    Ok(if report.as_expected {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
