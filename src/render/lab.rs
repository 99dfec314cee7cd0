//! The labs' views: the list, each call as it happens, and the ending.

use crate::lab::{Actor, LABS, Lab, Network, Outcome, Report, Step, Verdict};

use super::{Output, Role, table};

/// `netdx lab`: one line per lab.
pub fn list(out: &Output) -> String {
    let mut grid = table::new(&["Lab", "Shows", "Teaches", "Runs on"], &[], out);
    for lab in LABS {
        grid.add_row(vec![
            table::cell(lab.name, Role::Name),
            comfy_table::Cell::new(lab.summary),
            comfy_table::Cell::new(teaches(lab)),
            comfy_table::Cell::new(runs_on(lab.network)),
        ]);
    }
    let mut text = table::finish(&grid);
    text.push_str("\nRun one with 'netdx lab NAME' (--step to pause between calls, --explain for the lesson alone), or every one with 'netdx lab all'.\n");
    text
}

/// `loopback`, or the namespaces and the privilege they need.
fn runs_on(network: Network) -> &'static str {
    match network {
        Network::Loopback => "loopback",
        Network::Namespaces => "2 namespaces (root)",
    }
}

/// `recv, MSG_PEEK; SO_RCVTIMEO`: the calls, then the options.
fn teaches(lab: &Lab) -> String {
    let calls = lab.calls.join(", ");
    if lab.options.is_empty() {
        calls
    } else {
        format!("{calls}; {}", lab.options.join(", "))
    }
}

/// One lab in `netdx lab --json`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct LabEntry {
    /// The lab's name.
    #[schemars(with = "crate::lab::LabName")]
    pub name: &'static str,
    /// What it shows, in one line.
    pub summary: &'static str,
    /// The socket options it is about.
    #[schemars(with = "Vec<crate::sockopt::OptionName>")]
    pub options: &'static [&'static str],
    /// The socket calls and flags it teaches (`recv`, `MSG_PEEK`).
    pub calls: &'static [&'static str],
    /// Where it runs: `namespaces` needs root.
    pub network: crate::lab::Network,
}

/// `netdx lab NAME --explain --json`: the lesson, before anything runs.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct LessonView {
    /// The lab and what it teaches.
    #[serde(flatten)]
    pub lab: LabEntry,
    /// What to expect and why.
    pub lesson: &'static str,
}

/// `netdx lab --json`: every lab.
pub fn list_document() -> Vec<LabEntry> {
    LABS.iter().map(entry).collect()
}

fn entry(lab: &Lab) -> LabEntry {
    LabEntry {
        name: lab.name,
        summary: lab.summary,
        options: lab.options,
        calls: lab.calls,
        network: lab.network,
    }
}

/// `netdx lab NAME --explain`: the lesson, the calls, how to run it.
pub fn explain(lab: &Lab, out: &Output) -> String {
    if out.json {
        return super::json::document(&LessonView {
            lab: entry(lab),
            lesson: lab.lesson,
        });
    }
    let mut text = header(lab.name, lab.summary);
    text.push_str(lab.lesson);
    text.push_str("\n\n");
    text.push_str(&format!("Calls:   {}\n", lab.calls.join(", ")));
    if !lab.options.is_empty() {
        text.push_str(&format!("Options: {}\n", lab.options.join(", ")));
    }
    if lab.network == Network::Namespaces {
        text.push_str("Runs on: two network namespaces of its own joined by a veth pair, removed when it ends: needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)\n");
    }
    text.push_str(&format!(
        "Run it:  netdx lab {} (--step to pause between calls)\n",
        lab.name
    ));
    text
}

/// `netdx lab all --json`: every lab's verdict.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct AllDocument<'a> {
    /// One verdict per lab, in the order they ran.
    pub labs: &'a [Verdict],
    /// How many reached their outcome.
    pub reached: usize,
    /// How many ran.
    pub total: usize,
}

/// `lab all: …` before the first verdict.
pub fn all_header() -> String {
    format!(
        "lab all: the {} labs, one after another, each ending in what the kernel showed\n\n",
        LABS.len()
    )
}

/// One lab's line: `recv            reached  A blocking recv() …`.
pub fn verdict(verdict: &Verdict, out: &Output) -> String {
    let (word, role) = match verdict.outcome {
        Outcome::Reached => ("reached", Role::Good),
        Outcome::Missed => ("missed", Role::Bad),
        Outcome::Failed => ("failed", Role::Bad),
    };
    format!(
        "{}  {}  {}\n",
        out.style.paint(Role::Name, &format!("{:<15}", verdict.lab)),
        out.style.paint(role, &format!("{word:<7}")),
        super::printable(&verdict.text)
    )
}

/// The closing line of `netdx lab all`, or its JSON document.
pub fn all_summary(verdicts: &[Verdict], out: &Output) -> String {
    let reached = verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Reached)
        .count();
    if out.json {
        return super::json::document(&AllDocument {
            labs: verdicts,
            reached,
            total: verdicts.len(),
        });
    }
    let line = format!(
        "{reached} of {} labs reached their outcome.",
        verdicts.len()
    );
    let role = if reached == verdicts.len() {
        Role::Good
    } else {
        Role::Bad
    };
    let mut text = format!("\n{}\n", out.style.paint(role, &line));
    if reached < verdicts.len() {
        text.push_str("Run a lab that did not with 'netdx lab NAME' to see every call.\n");
    }
    text
}

/// The lab list as JSON.
pub fn list_json() -> String {
    super::json::document(&list_document())
}

/// `lab reuseaddr: …` before the first call.
pub fn header(name: &str, summary: &str) -> String {
    format!("lab {name}: {summary}\n\n")
}

/// Who made a call, as the transcript names them.
fn actor_word(actor: Actor) -> &'static str {
    match actor {
        Actor::Server => "server",
        Actor::Client => "client",
        Actor::Clients => "clients",
        Actor::Reader => "reader",
        Actor::Writer => "writer",
        Actor::Sender => "sender",
        Actor::Receiver => "receiver",
        Actor::ServerA => "server A",
        Actor::ServerB => "server B",
        Actor::ServerC => "server C",
        Actor::PeerA => "peer A",
        Actor::PeerB => "peer B",
        Actor::PeerC => "peer C",
        Actor::Netdx => "netdx",
    }
}

/// One call: `[server] bind(fd 3, 127.0.0.1:0) = 0`, its time when it
/// waited noticeably, and its note on the next line.
pub fn step(step: &Step, out: &Output) -> String {
    let outcome = match (&step.result, &step.errno) {
        (Some(result), _) => format!("= {result}"),
        (None, Some(errno)) => {
            let failed = format!("= -1 {errno} ({})", step.meaning.as_deref().unwrap_or(""));
            out.style.paint(Role::Bad, &failed)
        }
        (None, None) => String::new(),
    };
    let timing = if step.elapsed_ms >= 5.0 {
        format!(
            "  <{}>",
            crate::lab::duration_text(std::time::Duration::from_secs_f64(step.elapsed_ms / 1000.0))
        )
    } else {
        String::new()
    };
    let actor = format!("[{}]", actor_word(step.actor));
    if step.actor == Actor::Netdx {
        // Something netdx observed or did between the lab's calls.
        let mut line = format!(
            "{:<10} {} {} → {}\n",
            out.style.paint(Role::Name, &actor),
            step.call,
            super::printable(&step.args),
            step.result.as_deref().unwrap_or("")
        );
        if let Some(note) = &step.note {
            line.push_str(&format!("{:<10}   ↳ {note}\n", ""));
        }
        return line;
    }
    let mut line = format!(
        "{:<10} {}({}) {outcome}{timing}\n",
        out.style.paint(Role::Name, &actor),
        step.call,
        super::printable(&step.args)
    );
    if let Some(note) = &step.note {
        line.push_str(&format!("{:<10}   ↳ {note}\n", ""));
    }
    line
}

/// The closing words.
pub fn conclusion(report: &Report, out: &Output) -> String {
    let heading = if report.as_expected {
        out.style.paint(Role::Good, "What this showed:")
    } else {
        out.style
            .paint(Role::Bad, "What happened (not what the lab expects):")
    };
    format!("\n{heading} {}\n", report.conclusion)
}

/// `--json`: the whole transcript.
pub fn json(report: &Report) -> String {
    super::json::document(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_are_worded_as_their_json_names() {
        for actor in [
            Actor::Server,
            Actor::Client,
            Actor::Clients,
            Actor::Reader,
            Actor::Writer,
            Actor::Sender,
            Actor::Receiver,
            Actor::ServerA,
            Actor::ServerB,
            Actor::ServerC,
            Actor::PeerA,
            Actor::PeerB,
            Actor::PeerC,
            Actor::Netdx,
        ] {
            let json = serde_json::to_value(actor).unwrap();
            assert_eq!(json.as_str(), Some(actor_word(actor)), "{actor:?}");
        }
    }
}
