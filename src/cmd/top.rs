//! `netdx top`: arguments → the kernel's counters every -i → a table
//! refreshed in place on a terminal, one table with --once, JSON lines
//! elsewhere.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crate::cli::{TopArgs, TopSort};
use crate::error::{Error, Outcome};
use crate::render::stream::StreamWriter;
use crate::render::stream::top::TopEvent;
use crate::render::{self, Output};
use crate::signals::Interrupts;
use crate::top::kernel::Kernel;
use crate::top::{self, Report, Request, RunError, Sort};

/// Shows who is using the network.
pub fn run(args: &TopArgs, out: &Output) -> Result<Outcome, Error> {
    if out.json && !args.once {
        return Err(Error::Usage(
            "top --json prints one measurement: add --once (or --json-stream for a line per refresh)"
                .into(),
        ));
    }
    let sort = match args.sort {
        TopSort::Rate => Sort::Rate,
        TopSort::Total => Sort::Total,
    };
    let request = Request {
        interval: args.interval,
        sort,
        count: args.once.then_some(1),
    };
    let live = !args.once && !out.json && !out.stream && out.tty && std::io::stdin().is_terminal();
    if live {
        return live::run(&request, args.by);
    }
    let stream = out.stream || (!args.once && !out.json);
    if stream && !out.stream {
        eprintln!(
            "netdx: top: stdout is not a terminal, so a --json-stream line per refresh follows (--once for one table)"
        );
    }
    let interrupts = Interrupts::install()?;
    if stream {
        let stopper = interrupts.stopper()?;
        render::stream::when_reader_leaves(move || stopper.stop())?;
    }
    let mut writer = stream.then(StreamWriter::stdout);
    let mut last: Option<Report> = None;
    let mut on_report = |report: Report| -> std::io::Result<()> {
        match &mut writer {
            Some(lines) => lines.emit(&TopEvent::Refresh(&report)),
            None => {
                last = Some(report);
                Ok(())
            }
        }
    };
    // Sleeps to the next refresh; Ctrl-C (or a stream reader that left) ends the run.
    let mut wait = |d: Duration| {
        let deadline = Instant::now() + d;
        loop {
            if interrupts.take().stop {
                return false;
            }
            match crate::net::wait_readable(&interrupts.fds(), deadline) {
                Ok(true) => continue,
                Ok(false) if Instant::now() >= deadline => return !interrupts.take().stop,
                Ok(false) => continue,
                Err(_) => return false,
            }
        }
    };
    finish(top::run(
        &request,
        &mut Kernel::default(),
        &Instant::now,
        &mut wait,
        &mut user_of,
        &mut on_report,
    ))?;
    if let Some(report) = last {
        let text = if out.json {
            render::json::document(&report)
        } else {
            render::top::report(&report, args.by, 0, out)
        };
        render::print(&text)?;
    }
    Ok(Outcome::Success)
}

fn user_of(pid: u32) -> Option<String> {
    crate::process::info(pid).and_then(|info| info.user)
}

fn finish(result: Result<u64, RunError>) -> Result<u64, Error> {
    match result {
        Ok(reports) => Ok(reports),
        Err(RunError::Top(err)) => Err(err.into()),
        Err(RunError::Output(err)) => Err(err.into()),
    }
}

/// The table refreshed in place on the alternate screen; keys switch the
/// view; the screen is restored on every way out, panics included.
mod live {
    use std::cell::{Cell, RefCell};
    use std::time::{Duration, Instant};

    use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

    use super::{finish, user_of};
    use crate::cli::TopBy;
    use crate::error::{Error, Outcome};
    use crate::render::top::screen::{Screen, draw};
    use crate::render::{self, Output, Style};
    use crate::top::kernel::Kernel;
    use crate::top::{self, Report, Request};

    pub fn run(request: &Request, by: TopBy) -> Result<Outcome, Error> {
        let view = Cell::new(by);
        let last: RefCell<Option<Report>> = RefCell::new(None);
        let screen = Screen::enter()?;
        let mut on_report = |report: Report| -> std::io::Result<()> {
            draw(&report, view.get(), request.sort)?;
            *last.borrow_mut() = Some(report);
            Ok(())
        };
        // Waits for the next refresh, reading keys; false on q or Ctrl-C.
        let mut wait = |d: Duration| -> bool {
            let deadline = Instant::now() + d;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match event::poll(left) {
                    Ok(true) => {}
                    Ok(false) => return true,
                    Err(_) => return false,
                }
                let Ok(event) = event::read() else {
                    return false;
                };
                match event {
                    Event::Key(key) if key.kind != KeyEventKind::Release => {
                        let control = key.modifiers.contains(KeyModifiers::CONTROL);
                        match key.code {
                            KeyCode::Char('q') | KeyCode::Esc => return false,
                            KeyCode::Char('c') if control => return false,
                            KeyCode::Char('p') => view.set(TopBy::Process),
                            KeyCode::Char('c') => view.set(TopBy::Connection),
                            KeyCode::Char('i') => view.set(TopBy::Interface),
                            _ => continue,
                        }
                    }
                    Event::Resize(..) => {}
                    _ => continue,
                }
                // A view key or a resize: the last figures again, at once.
                if let Some(report) = last.borrow().as_ref() {
                    let _ = draw(report, view.get(), request.sort);
                }
            }
        };
        let result = top::run(
            request,
            &mut Kernel::default(),
            &Instant::now,
            &mut wait,
            &mut user_of,
            &mut on_report,
        );
        drop(screen);
        finish(result)?;
        // The last table stays on the normal screen, as top's does on exit.
        if let Some(report) = last.borrow().as_ref() {
            let out = Output {
                json: false,
                stream: false,
                tty: true,
                style: Style::plain(),
            };
            render::print(&render::top::report(report, view.get(), 0, &out))?;
        }
        Ok(Outcome::Success)
    }
}
