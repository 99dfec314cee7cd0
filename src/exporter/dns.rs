//! The `dns` prober: one query with netdx's DNS client, blackbox_exporter's
//! metrics (phases, section counts, the SOA serial) and its rcode check.
#![forbid(unsafe_code)]

use std::time::Instant;

use hickory_proto::rr::{RData, RecordType};

use super::config::Dns;
use super::metrics::Family;
use super::probe::{Found, ProbeLog, endpoint, left};
use crate::dns::client::{self, Lookup, Options};
use crate::dns::message::rcode_name;
use crate::dns::question::{query_name, record_class, record_type};
use crate::dns::{Question, Server};

/// Asks the server `target` (`HOST[:PORT]`) the module's question before `deadline`.
pub fn probe(settings: &Dns, target: &str, deadline: Instant, log: &mut ProbeLog) -> Found {
    let mut found = Answer {
        durations: Family::gauge(
            "probe_dns_duration_seconds",
            "Duration of DNS request by phase",
        ),
        counts: [0.0; 3],
        succeeded: 0.0,
        extra: Vec::new(),
    };
    let success = ask(settings, target, deadline, log, &mut found);
    let Answer {
        mut durations,
        counts,
        succeeded,
        extra,
    } = found;
    for phase in ["resolve", "connect", "request"] {
        if !durations.samples.iter().any(|s| s.labels[0].1 == phase) {
            durations.push(&[("phase", phase)], 0.0);
        }
    }
    let mut families = vec![durations];
    let gauges = [
        ("probe_dns_answer_rrs", "answer", counts[0]),
        ("probe_dns_authority_rrs", "authority", counts[1]),
        ("probe_dns_additional_rrs", "additional", counts[2]),
    ];
    for (name, section, value) in gauges {
        let help = format!("Returns number of entries in the {section} resource record list");
        families.push(Family::single(name, &help, value));
    }
    families.push(Family::single(
        "probe_dns_query_succeeded",
        "Displays whether or not the query was executed successfully",
        succeeded,
    ));
    families.extend(extra);
    Found { success, families }
}

/// What the query found, filled in as it goes.
struct Answer {
    durations: Family,
    counts: [f64; 3],
    succeeded: f64,
    extra: Vec<Family>,
}

fn ask(
    settings: &Dns,
    target: &str,
    deadline: Instant,
    log: &mut ProbeLog,
    found: &mut Answer,
) -> bool {
    let started = Instant::now();
    let address = endpoint(target, Some(53), &settings.resolve, log, &mut found.extra);
    found
        .durations
        .push(&[("phase", "resolve")], started.elapsed().as_secs_f64());
    let Some(address) = address else {
        return false;
    };
    let question = match question(settings) {
        Ok(question) => question,
        Err(err) => {
            log.error(err);
            return false;
        }
    };
    let server = Server {
        address,
        name: address.ip().to_string(),
    };
    let options = Options {
        tcp: settings.tcp,
        tls: None,
        https: None,
        timeout: left(deadline),
        tries: 1,
        recurse: settings.recursion_desired,
        dnssec: false,
        // blackbox_exporter's client sends no OPT record either.
        edns: false,
    };
    log.info(format!(
        "Making DNS query: target={address} dial_protocol={} query={} type={} class={}",
        if settings.tcp { "tcp" } else { "udp" },
        settings.query_name,
        settings.query_type,
        settings.query_class
    ));
    let asked = Instant::now();
    let lookup = client::lookup(&question, &server, &options);
    let total = asked.elapsed();
    let exchange = match lookup {
        Ok(Lookup::Answered(exchange)) => exchange,
        Ok(Lookup::NoReply { .. }) => {
            found.durations.push(&[("phase", "connect")], 0.0);
            found
                .durations
                .push(&[("phase", "request")], total.as_secs_f64());
            log.error("Error while sending a DNS query: no reply in time");
            return false;
        }
        Err(err) => {
            log.error(format!("Error while sending a DNS query: {err}"));
            return false;
        }
    };
    // As blackbox: the request is the exchange, connect the rest.
    let request = exchange.elapsed.min(total);
    found
        .durations
        .push(&[("phase", "connect")], (total - request).as_secs_f64());
    found
        .durations
        .push(&[("phase", "request")], request.as_secs_f64());
    let message = &exchange.message;
    found.counts[0] = message.answers.len() as f64;
    found.counts[1] = message.authorities.len() as f64;
    found.counts[2] = message.additionals.len() as f64;
    found.succeeded = 1.0;
    log.info(format!(
        "Got response: rcode={} answers={} authority={} additional={}",
        rcode_name(message.metadata.response_code),
        found.counts[0],
        found.counts[1],
        found.counts[2]
    ));
    if question.rtype == RecordType::SOA {
        let serial = message
            .answers
            .iter()
            .find_map(|record| match &record.data {
                RData::SOA(soa) => Some(f64::from(soa.serial)),
                _ => None,
            })
            .unwrap_or(0.0);
        found.extra.push(Family::single(
            "probe_dns_serial",
            "Returns the serial number of the zone",
            serial,
        ));
    }
    let rcode = rcode_name(message.metadata.response_code);
    if !settings
        .valid_rcodes
        .iter()
        .any(|valid| valid.eq_ignore_ascii_case(&rcode))
    {
        log.error(format!(
            "Rcode is not one of the valid rcodes: rcode={rcode} valid_rcodes={:?}",
            settings.valid_rcodes
        ));
        return false;
    }
    true
}

fn question(settings: &Dns) -> Result<Question, String> {
    let name = query_name(&settings.query_name).map_err(|err| err.to_string())?;
    let rtype = record_type(&settings.query_type)
        .ok_or_else(|| format!("Invalid query type {:?}", settings.query_type))?;
    let class = record_class(&settings.query_class)
        .ok_or_else(|| format!("Invalid query class {:?}", settings.query_class))?;
    Ok(Question { name, rtype, class })
}
