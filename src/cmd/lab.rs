//! `netdx lab [NAME|all]`: list the labs, explain or run one and narrate it,
//! or run them all with a verdict each.

use std::io::{BufRead, IsTerminal};

use crate::cli::LabArgs;
use crate::error::{Error, Outcome};
use crate::lab;
use crate::render::lab as view;
use crate::render::{self, Output};

/// Lists or runs.
pub fn run(args: &LabArgs, out: &Output) -> Result<Outcome, Error> {
    // A lab's hosts, sockets and sysctls live in the kernel and go with
    // the process: Ctrl-C may end it anywhere.
    crate::signals::end_on_interrupt()?;
    let Some(name) = &args.name else {
        let text = if out.json {
            view::list_json()
        } else {
            view::list(out)
        };
        render::print(&text)?;
        return Ok(Outcome::Success);
    };
    if name == lab::ALL {
        return run_all(args, out);
    }
    let chosen = lab::find(name).ok_or_else(|| {
        Error::Usage(format!(
            "no lab '{name}'; did you mean {}? ('netdx lab' lists them)",
            lab::suggestions(name).join(", ")
        ))
    })?;
    if args.explain {
        render::print(&view::explain(chosen, out))?;
        return Ok(Outcome::Success);
    }
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

/// `netdx lab all`: every lab, one verdict line each as it ends.
fn run_all(args: &LabArgs, out: &Output) -> Result<Outcome, Error> {
    if args.step || args.explain {
        let flag = if args.step { "--step" } else { "--explain" };
        return Err(Error::Usage(format!(
            "{flag} is for one lab: 'netdx lab NAME {flag}' ('netdx lab' lists them)"
        )));
    }
    if !out.json {
        render::print(&view::all_header())?;
    }
    let json = out.json;
    let style = *out;
    let mut on_verdict = move |verdict: &lab::Verdict| -> std::io::Result<()> {
        if json {
            return Ok(());
        }
        render::print(&view::verdict(verdict, &style))
    };
    let verdicts = lab::run_all(&mut on_verdict).map_err(|source| match source {
        lab::LabError::Output(io) => Error::from(io),
        source => Error::Lab {
            lab: lab::ALL,
            source,
        },
    })?;
    render::print(&view::all_summary(&verdicts, out))?;
    Ok(if lab::all_reached(&verdicts) {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
