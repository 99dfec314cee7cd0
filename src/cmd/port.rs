//! `netdx port` and `netdx lsof -i`: who is using a port.

use std::io::{BufRead, BufWriter, IsTerminal, Write};

use crate::cli::{LsofArgs, PortArgs};
use crate::error::{Error, Outcome};
use crate::process::{PinError, SignalChoice};
use crate::render::sockets as view;
use crate::render::{self, Output};
use crate::sockets::port::{self, Owner, PortQuery, PortSpec};
use crate::sockets::{Families, Proto, Protocols};

/// Lists the sockets on the ports, optionally signalling their owners.
pub fn run(args: &PortArgs, out: &Output) -> Result<Outcome, Error> {
    let specs: Vec<PortSpec> = args
        .ports
        .iter()
        .flat_map(|list| list.0.iter().copied())
        .collect();
    if args.tcp && specs.iter().any(|s| s.proto == Some(Proto::Udp)) {
        return Err(Error::Usage("--tcp conflicts with a udp: port".into()));
    }
    if args.udp && specs.iter().any(|s| s.proto == Some(Proto::Tcp)) {
        return Err(Error::Usage("--udp conflicts with a tcp: port".into()));
    }
    let query = PortQuery {
        specs,
        protocols: Protocols {
            tcp: !args.udp,
            udp: !args.tcp,
            raw: false,
            unix: false,
        },
        families: match (args.ipv4, args.ipv6) {
            (true, _) => Families {
                v4: true,
                v6: false,
            },
            (_, true) => Families {
                v4: false,
                v6: true,
            },
            _ => Families { v4: true, v6: true },
        },
        listening: args.listen,
        local_only: args.local,
    };
    report(&query, args.terse, args.kill, args.yes, out)
}

/// `netdx lsof -i [4|6][tcp|udp][@ADDR][:PORT]`.
pub fn run_lsof(args: &LsofArgs, out: &Output) -> Result<Outcome, Error> {
    let query = lsof_query(&args.internet).map_err(Error::Usage)?;
    report(&query, args.terse, None, false, out)
}

/// Reads lsof's `-i` syntax; host names are not supported (no DNS here).
fn lsof_query(spec: &str) -> Result<PortQuery, String> {
    let mut rest = spec.trim();
    let mut families = Families { v4: true, v6: true };
    if let Some(tail) = rest.strip_prefix('4') {
        families = Families {
            v4: true,
            v6: false,
        };
        rest = tail;
    } else if let Some(tail) = rest.strip_prefix('6') {
        families = Families {
            v4: false,
            v6: true,
        };
        rest = tail;
    }
    let lower = rest.to_ascii_lowercase();
    let (protocols, rest) = if let Some(tail) = lower.strip_prefix("tcp") {
        (
            Protocols {
                tcp: true,
                udp: false,
                raw: false,
                unix: false,
            },
            tail.to_string(),
        )
    } else if let Some(tail) = lower.strip_prefix("udp") {
        (
            Protocols {
                tcp: false,
                udp: true,
                raw: false,
                unix: false,
            },
            tail.to_string(),
        )
    } else {
        (
            Protocols {
                tcp: true,
                udp: true,
                raw: false,
                unix: false,
            },
            lower,
        )
    };
    if rest.starts_with('@') {
        return Err(format!(
            "-i {spec}: netdx lsof takes ports, not hosts; use netdx netstat --addr for addresses"
        ));
    }
    let Some(ports) = rest.strip_prefix(':') else {
        return Err(format!(
            "-i {spec}: give a port, e.g. -i :8080 or -i tcp:80"
        ));
    };
    let specs = port::parse_specs(ports)?;
    Ok(PortQuery {
        specs: specs.0,
        protocols,
        families,
        listening: false,
        local_only: false,
    })
}

fn report(
    query: &PortQuery,
    terse: bool,
    kill: Option<SignalChoice>,
    yes: bool,
    out: &Output,
) -> Result<Outcome, Error> {
    if kill.is_some() && !yes && !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "--kill asks before signalling, and stdin is not a terminal: add --yes to signal without asking".into(),
        ));
    }
    let listing = port::find(query)?;
    // The owners are pinned now, while their pids are fresh: the table and
    // the prompts come before any signal, and a pid freed meanwhile could
    // be handed to another process.
    let owners = kill.map(|_| port::pin_owners(&listing.sockets));
    if let Some(note) = view::source_note(&listing.source) {
        eprint!("{note}");
    }
    if let Some(note) = view::hidden_note(listing.hidden_processes) {
        eprint!("{note}");
    }
    if out.json {
        render::print(&render::json::document(&listing.sockets))?;
    } else if terse {
        render::print(&view::pids(&listing.sockets))?;
    } else if !listing.sockets.is_empty() {
        // Thousands of rows go out through one buffer as they are laid out,
        // rather than as one text of megabytes first.
        let mut w = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        view::port_table_to(&listing.sockets, out, &mut w)?;
        w.flush()?;
    }
    if let (Some(signal), Some(owners)) = (kill, owners) {
        signal_owners(owners, signal, yes)?;
    }
    let outcome = if listing.sockets.is_empty() {
        Outcome::Negative
    } else {
        Outcome::Success
    };
    // netdx exits next, and the kernel takes its memory back at once:
    // freeing 12,500 sockets and their holders one by one first costs ~1 ms.
    std::mem::forget(listing);
    Ok(outcome)
}

/// Signals every owner once, after asking on a terminal; reports each pid on stderr.
fn signal_owners(owners: Vec<Owner>, signal: SignalChoice, yes: bool) -> Result<(), Error> {
    let mut stderr = std::io::stderr().lock();
    for Owner { pid, name, pinned } in owners {
        // The command name is the owner's to choose: escaped as the tables do,
        // so it can't redraw the screen under the question.
        let name = render::printable(&name);
        let pinned = match pinned {
            Ok(pinned) => pinned,
            Err(PinError::Protected) => {
                writeln!(
                    stderr,
                    "netdx: not signalling {pid} ({name}): netdx never signals pid 1 or itself"
                )?;
                continue;
            }
            Err(why) => {
                writeln!(stderr, "{signal} not sent to {pid} ({name}): {why}")?;
                continue;
            }
        };
        if !yes {
            write!(stderr, "send {signal} to {pid} ({name})? [y/N] ")?;
            stderr.flush()?;
            let mut answer = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut answer)
                .map_err(Error::Prompt)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                writeln!(stderr, "skipped {pid}")?;
                continue;
            }
        }
        let delivery = pinned.send(signal);
        match &delivery.error {
            None => writeln!(stderr, "{} sent to {pid} ({name})", delivery.signal)?,
            Some(why) => writeln!(
                stderr,
                "{} not delivered to {pid} ({name}): {why}",
                delivery.signal
            )?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsof_internet_specs_translate() {
        let q = lsof_query(":8080").unwrap();
        assert!(q.protocols.tcp && q.protocols.udp && q.families.v4 && q.families.v6);
        let q = lsof_query("4TCP:80").unwrap();
        assert!(q.protocols.tcp && !q.protocols.udp && !q.families.v6);
        let q = lsof_query("udp:53,5353").unwrap();
        assert_eq!(q.specs.len(), 2);
        assert!(lsof_query("tcp").unwrap_err().contains("give a port"));
        assert!(lsof_query("@host:80").unwrap_err().contains("not hosts"));
        assert!(lsof_query(":0").is_err());
    }
}
