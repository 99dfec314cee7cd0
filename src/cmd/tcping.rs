//! `netdx tcping HOST:PORT`: arguments → resolve → the engine → ping's lines.

use crate::cli::TcpingArgs;
use crate::clock::SystemClock;
use crate::error::{Error, Outcome};
use crate::net::FamilyChoice;
use crate::render::stream::StreamWriter;
use crate::render::stream::tcping::{Start, TcpingEvent};
use crate::render::{self, Output};
use crate::signals::Interrupts;
use crate::tcping::dial::SocketDialer;
use crate::tcping::engine::{self, RunError};
use crate::tcping::{Request, TcpingError, resolve, split_target};

/// Times TCP handshakes to one port.
pub fn run(args: &TcpingArgs, out: &Output) -> Result<Outcome, Error> {
    let tcping = Error::Tcping;
    let (host, port) = split_target(&args.target, args.port.as_deref()).map_err(tcping)?;
    let family = FamilyChoice::from_flags(args.ipv4, args.ipv6);
    let address = resolve(&host, port, family).map_err(tcping)?;
    let io = |source| {
        tcping(TcpingError::Io {
            target: address,
            source,
        })
    };
    let interrupts = Interrupts::install().map_err(io)?;
    super::stop_when_reader_leaves(out, &interrupts).map_err(io)?;
    let request = Request {
        target: address,
        count: args.count,
        interval: args.interval,
        timeout: args.timeout,
    };
    let text = !out.json && !out.stream;
    let lines = text && !args.quiet;
    let mut stream = out.stream.then(StreamWriter::stdout);
    if let Some(stream) = &mut stream {
        stream.emit(&TcpingEvent::Start(Start {
            host: &host,
            address: address.ip(),
            port,
        }))?;
    }
    if text {
        render::print(&render::tcping::header(&host, address))?;
    }
    let mut on_probe = |probe: &crate::tcping::Probe| -> std::io::Result<()> {
        if let Some(stream) = &mut stream {
            stream.emit(&TcpingEvent::Probe(probe))?;
        } else if lines {
            render::print(&render::tcping::probe(address, probe))?;
        }
        Ok(())
    };
    let mut dialer = SocketDialer::new(address, interrupts);
    let report = match engine::run(&request, &host, &mut dialer, &SystemClock, &mut on_probe) {
        Ok(report) => report,
        Err(RunError::Output(err)) => return Err(Error::from(err)),
        Err(RunError::Dial(err)) => return Err(io(err)),
    };
    if let Some(stream) = &mut stream {
        stream.emit(&TcpingEvent::Done(&report))?;
    } else if out.json {
        render::print(&render::json::document(&report))?;
    } else {
        render::print(&render::tcping::summary(&report))?;
    }
    Ok(if report.success() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
