//! `netdx dns ARG...`: the words → questions and a server (`@SERVER`, else
//! /etc/resolv.conf's first) → one lookup per question → dig's layout,
//! `+short` or `--json`.

use std::io::Write;
use std::time::Instant;

use crate::cli::DnsArgs;
use crate::cli::dns::{Request, RequestError};
use crate::dns::client::{self, Lookup, Options};
use crate::dns::{DnsError, Question, Server, bulk, server_label, validate};
use crate::error::{Error, Outcome};
use crate::names::resolv::{self, ResolvConf};
use crate::net::FamilyChoice;
use crate::render::dns::LookupDocument;
use crate::render::stream::StreamWriter;
use crate::render::stream::dns::{DnsEvent, LookupEvent, Start, Tally};
use crate::render::{self, Output};
use crate::targets::{self, Limits};

/// Runs the lookups.
pub fn run(args: &DnsArgs, out: &Output) -> Result<Outcome, Error> {
    let request = args.request().map_err(|err| match err {
        RequestError::Dns(dns) => Error::from(dns),
        other => Error::Usage(other.to_string()),
    })?;
    // As the C library reads it: no nameserver line means 127.0.0.1.
    let conf = ResolvConf::load();
    let family = args.family();
    let (tls, url) = secure(args, &request)?;
    let port = match (&url, args.port) {
        (_, Some(port)) => port,
        (Some(url), None) => url.port,
        (None, None) if request.tls => crate::dns::tls::PORT,
        (None, None) if request.https => crate::dns::https::PORT,
        (None, None) => 53,
    };
    let server = match (&request.server, &url) {
        (Some(text), _) => client::server(text, port, family)?,
        (None, Some(url)) => crate::dns::https::server(url, family)?,
        (None, None) => {
            let address = conf
                .nameservers
                .iter()
                .map(|a| a.ip())
                .find(|a| family.admits(a))
                .ok_or(DnsError::NoServer {
                    path: resolv::PATH,
                    family: crate::net::family_name(family == FamilyChoice::V6),
                })?;
            Server {
                address: (address, port).into(),
                name: address.to_string(),
            }
        }
    };
    // +https names no URL: the server's /dns-query.
    let https = match url {
        Some(url) => Some(url),
        None if request.https => Some(crate::dns::https::Endpoint {
            url: format!("https://{}/dns-query", server.name),
            host: server.name.clone(),
            port: server.address.port(),
            path: "/dns-query".into(),
        }),
        None => None,
    };
    let options = Options {
        tcp: request.tcp,
        tls,
        https,
        timeout: args.timeout.unwrap_or(conf.timeout),
        tries: args.retries.map_or(u32::from(conf.attempts), |r| r + 1),
        recurse: request.recurse,
        // Validation needs the signatures: the DO bit (and so EDNS).
        dnssec: request.dnssec || request.validate,
        edns: request.edns || request.validate,
    };
    if args.rate.is_some() && args.file.is_none() && !out.stream {
        return Err(Error::Usage(
            "--rate paces a list (--file or --json-stream); one lookup at a time needs none".into(),
        ));
    }
    if args.file.is_some() || out.stream {
        if request.wire || request.trace || request.validate {
            return Err(Error::Usage(format!(
                "{} shows one lookup at a time: not with --file or --json-stream",
                if request.wire {
                    "--wire"
                } else if request.trace {
                    "+trace"
                } else {
                    "--validate"
                }
            )));
        }
        if request.tcp || request.tls || request.https {
            return Err(Error::Usage(format!(
                "--file and --json-stream ask over UDP, many queries at once; {} asks one at a time: name the questions on the command line",
                if request.tls {
                    "--tls"
                } else if request.https {
                    "--https"
                } else {
                    "--tcp"
                }
            )));
        }
        return bulk(args, &request, &server, &options, out);
    }
    let command = args.words.join(" ");
    if request.trace {
        if request.tls || request.https {
            return Err(Error::Usage(
                "+trace asks each zone's servers over UDP (as dig +trace): drop --tls/--https"
                    .into(),
            ));
        }
        if request.wire {
            return Err(Error::Usage(
                "+trace and --wire: one at a time (--wire shows a single lookup)".into(),
            ));
        }
        return trace(&request, &server, options, family, &command, out);
    }
    let anchors = anchors(args, &request)?;
    let mut lookups = Vec::with_capacity(request.questions.len());
    for question in &request.questions {
        let lookup = client::lookup(question, &server, &options)?;
        let validation = match (&anchors, &lookup) {
            (Some(anchors), Lookup::Answered(exchange)) => Some(validate::validate(
                &exchange.message,
                question,
                &server,
                &options,
                anchors,
                validate::now(),
            )?),
            _ => None,
        };
        if !out.json {
            if request.wire {
                render::print(&render::dns::wire_text(&lookup))?;
            }
            let text = if request.short {
                render::dns::short(&lookup)
            } else {
                render::dns::text(question, &lookup, &command)
            };
            render::print(&text)?;
            if let Some(validation) = &validation {
                render::print(&render::dns::validation_text(validation))?;
            }
        }
        lookups.push((question.clone(), lookup, validation));
    }
    if out.json {
        render::print(&render::dns::json(&lookups, request.wire))?;
    }
    let all_data = lookups.iter().all(|(_, lookup, validation)| match lookup {
        Lookup::Answered(exchange) => {
            u16::from(exchange.message.metadata.response_code) == 0
                && !exchange.message.answers.is_empty()
                && validation.as_ref().is_none_or(|v| v.status == "secure")
        }
        Lookup::NoReply { .. } => false,
    });
    Ok(if all_data {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// `--validate`'s trust anchors: `--trust-anchor FILE`'s, else the root's.
fn anchors(args: &DnsArgs, request: &Request) -> Result<Option<Vec<validate::Anchor>>, Error> {
    if !request.validate {
        if args.trust_anchor.is_some() {
            return Err(Error::Usage(
                "--trust-anchor is for --validate: add it".into(),
            ));
        }
        return Ok(None);
    }
    Ok(Some(match &args.trust_anchor {
        Some(path) => validate::read_anchors(path)?,
        None => validate::root_anchors(),
    }))
}

/// The TLS configuration, and the endpoint of `--https URL`.
type Secure = (
    Option<std::sync::Arc<rustls::ClientConfig>>,
    Option<crate::dns::https::Endpoint>,
);

/// `--tls`, `--https URL`, `+https` and `--cacert`: the TLS configuration
/// (ALPN `dot` or `h2`) and the DNS-over-HTTPS endpoint named by a URL.
fn secure(args: &DnsArgs, request: &Request) -> Result<Secure, Error> {
    use crate::dns::{https, tls};
    if request.tls && request.https {
        return Err(Error::Usage(
            "--tls and --https: one transport at a time".into(),
        ));
    }
    if request.tcp && (request.tls || request.https) {
        return Err(Error::Usage(
            "--tcp with --tls or --https: both already run over TCP; pick one".into(),
        ));
    }
    if args.cacert.is_some() && !request.tls && !request.https {
        return Err(Error::Usage(
            "--cacert is for --tls and --https: add one".into(),
        ));
    }
    let config = if request.tls {
        Some(tls::client_config(args.cacert.as_deref(), tls::ALPN_DOT)?)
    } else if request.https {
        Some(tls::client_config(args.cacert.as_deref(), https::ALPN_H2)?)
    } else {
        None
    };
    let url = args.https.as_deref().map(https::endpoint).transpose()?;
    Ok((config, url))
}

/// `+trace`: each question walked from the root, every step printed as it
/// comes; as dig +trace, the DO bit is set to show the DS and RRSIG records
/// of each delegation.
fn trace(
    request: &Request,
    server: &Server,
    options: Options,
    family: FamilyChoice,
    command: &str,
    out: &Output,
) -> Result<Outcome, Error> {
    let mut network = crate::dns::trace::Network(Options {
        dnssec: true,
        ..options
    });
    let mut documents = Vec::new();
    let mut all_answered = true;
    for question in &request.questions {
        if !out.json {
            render::print(&render::dns_trace::banner(command))?;
        }
        let mut steps = Vec::new();
        let mut failed_output = None;
        let end = crate::dns::trace::trace(question, server, family, &mut network, &mut |event| {
            let step = render::dns_trace::step(event);
            if !out.json && failed_output.is_none() {
                if let Err(err) = render::print(&render::dns_trace::text(&step)) {
                    failed_output = Some(err);
                }
            }
            steps.push(step);
        })?;
        if let Some(err) = failed_output {
            return Err(err.into());
        }
        all_answered &= end == crate::dns::trace::End::Reached(crate::dns::trace::StepKind::Answer);
        let document =
            render::dns_trace::document(question, &server_label(server.address), steps, &end);
        if !out.json {
            render::print(&render::dns_trace::end_text(&document))?;
        }
        documents.push(document);
    }
    if out.json {
        render::print(&render::json::document(&documents))?;
    }
    Ok(if all_answered {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}

/// The most questions a `--file` list may hold.
const MAX_QUESTIONS: usize = 1_000_000;

/// `--file` and `--json-stream`: every question at once, `--concurrency`
/// in flight, each reported as it ends; a tally at the end.
fn bulk(
    args: &DnsArgs,
    request: &Request,
    server: &Server,
    options: &Options,
    out: &Output,
) -> Result<Outcome, Error> {
    // The list is read on its own thread into a queue a little longer than
    // the window, so memory holds the queries in flight, not the list.
    let (queue, mut questions) = std::sync::mpsc::sync_channel::<Question>(args.concurrency * 2);
    let mut reader = None;
    let asked = request.questions.clone();
    if let Some(source) = args.file.clone() {
        let request = request.clone();
        let limits = Limits {
            max_targets: MAX_QUESTIONS,
            remedy: "split the list into files of at most a million lines",
            words: true,
        };
        reader = Some(std::thread::spawn(move || {
            for question in asked {
                if queue.send(question).is_err() {
                    return Ok(());
                }
            }
            targets::read(&source, limits, |line| {
                for question in request.list_line(line)? {
                    // The receiver is gone only when the run stopped early.
                    queue
                        .send(question)
                        .map_err(|_| "the run stopped".to_string())?;
                }
                Ok(())
            })
            .map(drop)
        }));
    } else {
        for question in asked {
            // Room for the command line's questions: a window and more.
            let _ = queue.try_send(question);
        }
        drop(queue);
    }
    let label = server_label(server.address);
    let started = Instant::now();
    let mut tally = Tally::default();
    let mut lines = out.stream.then(StreamWriter::stdout);
    if let Some(lines) = lines.as_mut() {
        crate::render::stream::when_reader_leaves(|| std::process::exit(0))?;
        lines.emit(&DnsEvent::Start(Start {
            server: &label,
            questions: None,
            concurrency: args.concurrency,
            rate: args.rate,
        }))?;
    }
    let mut collected: Vec<(usize, LookupDocument)> = Vec::new();
    let stdout = std::io::stdout();
    let mut text = std::io::BufWriter::new(stdout.lock());
    let ran = bulk::run(
        &mut questions,
        server,
        options,
        bulk::Limits {
            concurrency: args.concurrency,
            rate: args.rate,
        },
        &mut |index, question, lookup| {
            let document = render::dns::document(question, &lookup);
            tally.add(&document);
            if let Some(lines) = lines.as_mut() {
                lines.emit(&DnsEvent::Lookup(Box::new(LookupEvent {
                    index,
                    lookup: document,
                })))
            } else if out.json {
                collected.push((index, document));
                Ok(())
            } else {
                text.write_all(render::dns::bulk_lines(&document).as_bytes())
            }
        },
    );
    // A bad line stops the reader, and the run with it: its error is the
    // one to report (unless the run failed first, which stopped the reader).
    if let Some(reader) = reader {
        drop(questions);
        let read = reader.join();
        if ran.is_ok() {
            match read {
                Ok(Err(err)) => return Err(err.into()),
                Ok(Ok(())) => {}
                Err(_) => return Err(Error::Usage("the list reader stopped".into())),
            }
        }
    }
    tally.ignored = ran?;
    tally.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(lines) = lines.as_mut() {
        lines.emit(&DnsEvent::Done(tally))?;
    } else if out.json {
        collected.sort_unstable_by_key(|(index, _)| *index);
        let documents: Vec<LookupDocument> = collected.into_iter().map(|(_, d)| d).collect();
        text.write_all(crate::render::json::document(&documents).as_bytes())?;
    } else {
        text.write_all(render::dns::tally_line(&tally).as_bytes())?;
    }
    text.flush()?;
    Ok(if tally.answered == tally.questions {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
