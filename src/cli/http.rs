//! `netdx http` arguments: curl's names for the options curl has.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::values;
use crate::http::{DEFAULT_MAX_REDIRECTS, Header, Pin, Request, Url};
use crate::net::FamilyChoice;

pub(super) const HTTP_EXAMPLES: &str = "\
Examples:
  netdx http http://10.0.3.2/             the status, headers and waterfall of one GET
  netdx http -I https://example.org/      HEAD: status line and headers only (curl -I)
  netdx http -L http://10.0.3.2/old       follow redirects (up to --max-redirs, 50)
  netdx http -c 10 http://10.0.3.2/       ten requests on one kept connection, percentiles per phase
  netdx http --cacert ca.pem https://web.test/ --resolve web.test:443:10.0.3.2
                                          TLS to a private CA's server, at a chosen address
  netdx http -d 'a=1' -H 'X-Trace: 1' http://10.0.3.2/form
                                          a POST with a form body and an extra field
  netdx http -o page.html -m 5 http://10.0.3.2/
                                          the body to a file, at most 5 seconds
  netdx http --json http://10.0.3.2/ | jq .time_starttransfer
                                          curl -w's times (ms), certificate, TCP_INFO as JSON

HTTP/1.1 only (ALPN offers http/1.1; HTTP/2 is not spoken). The phases are
stamped right after the call that ends each one: the name lookup (netdx's own
resolver: /etc/hosts, then DNS), connect(2), the TLS handshake, the request's
last write, the read bringing the first response byte, the read ending the
body. The times are cumulative from the start of each request, as curl -w's
time_* are. The body is discarded (its size and rate shown) unless -o names a
file. -k accepts any certificate, with a warning on stderr.

Exit status: 0 on a 2xx or 3xx response, 1 on a 4xx or 5xx or when a
request runs out of time (-m, --connect-timeout), 2 on errors (a bad URL,
an unresolvable host, a refused connection, a certificate not verified, a
malformed response).";

// `netdx http URL [OPTIONS]` (no doc comment: see cli::Command)
#[derive(Debug, Args)]
pub struct HttpArgs {
    /// The URL: http:// or https:// (http:// when none is given)
    #[arg(value_name = "URL")]
    pub url: String,
    /// The request method [default: GET; HEAD with -I; POST with -d]
    #[arg(short = 'X', long = "request", value_name = "METHOD", value_parser = method)]
    pub method: Option<String>,
    /// An extra header field, 'Name: value'; 'Name:' removes one netdx sends (Host, User-Agent, Accept)
    #[arg(short = 'H', long = "header", value_name = "'Name: value'", value_parser = header)]
    pub headers: Vec<Header>,
    /// A request body (form-encoded, as curl -d); @FILE reads it from FILE
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Option<String>,
    /// Headers only: send HEAD and show the status line and headers (curl -I)
    #[arg(short = 'I', long = "head")]
    pub head: bool,
    /// Follow redirects (301, 302, 303, 307, 308)
    #[arg(short = 'L', long = "location")]
    pub follow: bool,
    /// The most redirects -L follows
    #[arg(long = "max-redirs", value_name = "N", default_value_t = DEFAULT_MAX_REDIRECTS)]
    pub max_redirects: u32,
    /// Connect to ADDR for HOST:PORT instead of looking HOST up (curl --resolve)
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR", value_parser = pin)]
    pub pins: Vec<Pin>,
    /// Skip certificate verification (a warning says so on stderr)
    #[arg(short = 'k', long = "insecure")]
    pub insecure: bool,
    /// Trust the CA certificates in FILE (PEM) instead of the system's
    #[arg(long = "cacert", value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Speak HTTP/1.1 (the only version netdx speaks; accepted as curl's flag)
    #[arg(long = "http1.1")]
    pub http11: bool,
    /// Make the request COUNT times, on one connection while the server keeps it
    #[arg(short = 'c', long = "count", value_name = "COUNT", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub count: u32,
    /// Write the body to FILE instead of discarding it (with -c, the last response's)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The largest body to take, in bytes; a larger one stops the request (exit 2)
    #[arg(long = "max-filesize", value_name = "BYTES")]
    pub max_filesize: Option<u64>,
    /// The longest one request may take, lookup to last byte, in seconds (exit 1 past it)
    #[arg(short = 'm', long = "max-time", value_name = "SECS", value_parser = values::positive_seconds)]
    pub max_time: Option<Duration>,
    /// The longest the TCP and TLS handshakes may take, in seconds
    #[arg(long = "connect-timeout", value_name = "SECS", default_value = "10", value_parser = values::positive_seconds)]
    pub connect_timeout: Duration,
    /// IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
}

impl HttpArgs {
    /// The arguments as a request, or what is wrong with them.
    pub fn request(&self) -> Result<Request, String> {
        let url = Url::parse(&self.url).map_err(|err| format!("bad URL {:?}: {err}", self.url))?;
        let body = match self.data.as_deref() {
            None => None,
            Some(data) => Some(match data.strip_prefix('@') {
                Some(path) => std::fs::read(path).map_err(|err| format!("-d @{path}: {err}"))?,
                None => data.as_bytes().to_vec(),
            }),
        };
        if self.head && body.is_some() {
            return Err("-I sends HEAD, which carries no body: drop -d or -I".into());
        }
        let method = match (&self.method, self.head, &body) {
            (Some(method), _, _) => method.clone(),
            (None, true, _) => "HEAD".into(),
            (None, false, Some(_)) => "POST".into(),
            (None, false, None) => "GET".into(),
        };
        Ok(Request {
            url,
            method,
            headers: self.headers.clone(),
            body,
            follow: self.follow,
            max_redirects: self.max_redirects,
            pins: self.pins.clone(),
            family: FamilyChoice::from_flags(self.ipv4, self.ipv6),
            insecure: self.insecure,
            cacert: self.cacert.clone(),
            count: self.count,
            max_filesize: self.max_filesize,
            keep_body: 0,
            output: self.output.clone(),
            max_time: self.max_time,
            connect_timeout: self.connect_timeout,
        })
    }
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A method: an HTTP token (`GET`, `PURGE`).
fn method(text: &str) -> Result<String, String> {
    if is_token(text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "'{text}' is not a method (letters, e.g. GET, POST, PUT)"
        ))
    }
}

/// `Name: value` (or `Name:`), without CR or LF.
fn header(text: &str) -> Result<Header, String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not 'Name: value'"))?;
    if !is_token(name) {
        return Err(format!("'{name}' is not a header field name"));
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err("a header value may not hold CR, LF or NUL".into());
    }
    Ok(Header {
        name: name.to_string(),
        value: value.trim().to_string(),
    })
}

/// `HOST:PORT:ADDR` (ADDR may be an IPv6 address, bracketed or not).
fn pin(text: &str) -> Result<Pin, String> {
    let bad = || format!("'{text}' is not HOST:PORT:ADDR");
    let (host, rest) = text.split_once(':').ok_or_else(bad)?;
    let (port, address) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("'{port}' is not a port (1-65535)"))?;
    let address = address.trim_start_matches('[').trim_end_matches(']');
    let address: IpAddr = address
        .parse()
        .map_err(|_| format!("'{address}' is not an IP address"))?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Pin {
        host: host.to_ascii_lowercase(),
        port,
        address,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_pins_and_methods_are_checked_at_the_edge() {
        assert_eq!(
            header("X-A:  b c ").unwrap(),
            Header {
                name: "X-A".into(),
                value: "b c".into()
            }
        );
        assert_eq!(header("Accept:").unwrap().value, "");
        assert!(header("no colon").is_err());
        assert!(header("Bad Name: x").is_err());
        assert!(header("X: a\r\nInjected: 1").is_err());
        let pinned = pin("Web.test:443:10.0.3.2").unwrap();
        assert_eq!((pinned.host.as_str(), pinned.port), ("web.test", 443));
        assert_eq!(
            pin("h:80:[fd09::2]").unwrap().address,
            "fd09::2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            pin("h:80:fd09::2").unwrap().address,
            "fd09::2".parse::<IpAddr>().unwrap()
        );
        assert!(pin("h:0:10.0.0.1").is_err());
        assert!(pin("h:80:nope").is_err());
        assert!(method("GET").is_ok());
        assert!(method("GE T").is_err());
    }
}
