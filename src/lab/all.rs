//! `netdx lab all`: every lab run once, without narration, each ending in
//! a one-line verdict.
#![forbid(unsafe_code)]

use std::io;

use schemars::JsonSchema;
use serde::Serialize;

use super::{LABS, LabError, LabName, Report, Step, run};

/// How one lab of `netdx lab all` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The kernel did what the lab sets out to show.
    Reached,
    /// The lab ran to its end, but the kernel did something else.
    Missed,
    /// A call the lab could not go on without failed.
    Failed,
}

/// One lab's line in `netdx lab all`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Verdict {
    /// The lab's name.
    #[schemars(with = "LabName")]
    pub lab: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// What the kernel showed (the conclusion's first sentence), or why the lab could not run.
    pub text: String,
}

impl Report {
    /// The first sentence of the conclusion: what the kernel showed, in one line.
    pub fn verdict(&self) -> &str {
        first_sentence(&self.conclusion)
    }
}

/// Up to the first full stop that ends a sentence (". " before a capital,
/// or the end), so `0.5 s`, `127.0.0.1` and `e.g. on,5` do not end it.
fn first_sentence(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices(". ") {
        if bytes.get(at + 2).is_some_and(u8::is_ascii_uppercase) {
            return &text[..=at];
        }
    }
    text
}

/// Runs every lab without narration, handing each verdict to `on_verdict`
/// as the lab ends. A lab that cannot run is a verdict too, not the end.
pub fn run_all(
    on_verdict: &mut dyn FnMut(&Verdict) -> io::Result<()>,
) -> Result<Vec<Verdict>, LabError> {
    let mut verdicts = Vec::with_capacity(LABS.len());
    for lab in LABS {
        let mut quiet = |_: &Step| -> io::Result<()> { Ok(()) };
        let verdict = match run(lab, &mut quiet) {
            Ok(report) => Verdict {
                lab: lab.name,
                outcome: if report.as_expected {
                    Outcome::Reached
                } else {
                    Outcome::Missed
                },
                text: report.verdict().to_string(),
            },
            Err(err) => Verdict {
                lab: lab.name,
                outcome: Outcome::Failed,
                text: err.to_string(),
            },
        };
        on_verdict(&verdict).map_err(LabError::Output)?;
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// Whether every lab reached its outcome.
pub fn all_reached(verdicts: &[Verdict]) -> bool {
    verdicts.iter().all(|v| v.outcome == Outcome::Reached)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_is_the_first_sentence_not_a_decimal_point() {
        assert_eq!(
            first_sentence("recv() slept 0.5 s on 127.0.0.1 (e.g. on,5). Then more."),
            "recv() slept 0.5 s on 127.0.0.1 (e.g. on,5)."
        );
        assert_eq!(first_sentence("one sentence only."), "one sentence only.");
    }

    #[test]
    fn every_lab_has_a_lesson_and_the_calls_it_teaches() {
        for lab in LABS {
            assert!(lab.lesson.len() > 80, "{}", lab.name);
            assert!(!lab.calls.is_empty(), "{}", lab.name);
        }
        let verdict = |outcome| Verdict {
            lab: "recv",
            outcome,
            text: String::new(),
        };
        assert!(all_reached(&[verdict(Outcome::Reached)]));
        assert!(!all_reached(&[
            verdict(Outcome::Reached),
            verdict(Outcome::Missed)
        ]));
        assert!(!all_reached(&[verdict(Outcome::Failed)]));
    }
}
