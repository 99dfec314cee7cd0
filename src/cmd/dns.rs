//! `netdx dns ARG...`: the words → questions and a server (`@SERVER`, else
//! /etc/resolv.conf's first) → one lookup per question → dig's layout,
//! `+short` or `--json`.

use crate::cli::DnsArgs;
use crate::cli::dns::RequestError;
use crate::dns::client::{self, Lookup, Options};
use crate::dns::{DnsError, Server};
use crate::error::{Error, Outcome};
use crate::names::resolv::{self, ResolvConf};
use crate::net::FamilyChoice;
use crate::render::{self, Output};

/// Runs the lookups.
pub fn run(args: &DnsArgs, out: &Output) -> Result<Outcome, Error> {
    let request = args.request().map_err(|err| match err {
        RequestError::Dns(dns) => Error::from(dns),
        other => Error::Usage(other.to_string()),
    })?;
    // As the C library reads it: no nameserver line means 127.0.0.1.
    let conf = ResolvConf::load();
    let family = args.family();
    let server = match &request.server {
        Some(text) => client::server(text, args.port, family)?,
        None => {
            let address = conf
                .nameservers
                .iter()
                .map(|a| a.ip())
                .find(|a| family.admits(a))
                .ok_or(DnsError::NoServer {
                    path: resolv::PATH,
                    family: if family == FamilyChoice::V6 {
                        "IPv6"
                    } else {
                        "IPv4"
                    },
                })?;
            Server {
                address: (address, args.port).into(),
                name: address.to_string(),
            }
        }
    };
    let options = Options {
        tcp: request.tcp,
        timeout: args.timeout.unwrap_or(conf.timeout),
        tries: args.retries.map_or(u32::from(conf.attempts), |r| r + 1),
        recurse: request.recurse,
        dnssec: request.dnssec,
        edns: request.edns,
    };
    let command = args.words.join(" ");
    let mut lookups = Vec::with_capacity(request.questions.len());
    for question in &request.questions {
        let lookup = client::lookup(question, &server, &options)?;
        if !out.json {
            let text = if request.short {
                render::dns::short(&lookup)
            } else {
                render::dns::text(question, &lookup, &command)
            };
            render::print(&text)?;
        }
        lookups.push((question.clone(), lookup));
    }
    if out.json {
        render::print(&render::dns::json(&lookups))?;
    }
    let all_data = lookups.iter().all(|(_, lookup)| match lookup {
        Lookup::Answered(exchange) => {
            u16::from(exchange.message.metadata.response_code) == 0
                && !exchange.message.answers.is_empty()
        }
        Lookup::NoReply { .. } => false,
    });
    Ok(if all_data {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
