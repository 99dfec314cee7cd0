//! `http://` and `https://` URLs: what netdx connects to and asks for, and
//! a redirect's `Location` resolved against the URL it answered.
#![forbid(unsafe_code)]

use std::fmt;

/// The scheme of a URL netdx fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// The port a URL without one means.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A URL parsed into what the request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// The host: a name, an IPv4 address, or an IPv6 address without brackets.
    pub host: String,
    /// The port (the scheme's when the URL names none).
    pub port: u16,
    /// The request target: path and query, `/` at least; no fragment.
    pub target: String,
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// A scheme other than http or https.
    #[error("unsupported scheme '{0}' (http:// and https:// only)")]
    Scheme(String),
    /// No host after the scheme.
    #[error("no host in the URL")]
    NoHost,
    /// A port that is not 1-65535.
    #[error("bad port '{0}' (1-65535)")]
    Port(String),
    /// `user:password@` in the URL.
    #[error("credentials in the URL are not supported (send -H 'Authorization: …' instead)")]
    Credentials,
    /// White space or a control character.
    #[error("white space or a control character in the URL (percent-encode it: %20)")]
    Character,
    /// An IPv6 literal without its closing bracket, or a bad one.
    #[error("bad IPv6 address in brackets")]
    Bracket,
}

impl Url {
    /// Parses `text`; without a scheme it is http, as curl assumes.
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::Character);
        }
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) if !scheme.contains('/') => {
                let scheme = match scheme.to_ascii_lowercase().as_str() {
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    _ => return Err(UrlError::Scheme(scheme.to_string())),
                };
                (scheme, rest)
            }
            _ => (Scheme::Http, text),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let (host, port) = split_authority(authority)?;
        let port = match port {
            None | Some("") => scheme.default_port(),
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0 && port.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| UrlError::Port(port.to_string()))?,
        };
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        let tail = tail.split('#').next().unwrap_or_default();
        let target = if tail.starts_with('/') {
            tail.to_string()
        } else {
            format!("/{tail}")
        };
        Ok(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            target,
        })
    }

    /// The `Host` field's value: the host, with the port unless it is the scheme's.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.scheme.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Where a redirect's `Location` points, resolved against this URL
    /// (absolute, scheme-relative, absolute-path or relative references).
    pub fn join(&self, location: &str) -> Result<Url, UrlError> {
        let location = location.trim();
        if location.contains("://") && !location.starts_with('/') {
            return Url::parse(location);
        }
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{}://{rest}", self.scheme.as_str()));
        }
        let base = format!("{}://{}", self.scheme.as_str(), self.authority());
        if location.starts_with('/') {
            return Url::parse(&format!("{base}{location}"));
        }
        let path = self.target.split('?').next().unwrap_or("/");
        let directory = &path[..path.rfind('/').map_or(0, |at| at + 1)];
        if location.starts_with('?') {
            return Url::parse(&format!("{base}{path}{location}"));
        }
        Url::parse(&format!("{base}{directory}{location}"))
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.target
        )
    }
}

/// `host[:port]` or `[v6][:port]`.
fn split_authority(authority: &str) -> Result<(&str, Option<&str>), UrlError> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or(UrlError::Bracket)?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(UrlError::Bracket);
        }
        return match after {
            "" => Ok((host, None)),
            _ => after
                .strip_prefix(':')
                .map(|port| (host, Some(port)))
                .ok_or_else(|| UrlError::Port(after.to_string())),
        };
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_host_port_and_target() {
        let url = Url::parse("HTTPS://Example.ORG:8443/a/b?q=1#frag").unwrap();
        assert_eq!(url.scheme, Scheme::Https);
        assert_eq!((url.host.as_str(), url.port), ("example.org", 8443));
        assert_eq!(url.target, "/a/b?q=1");
        assert_eq!(url.authority(), "example.org:8443");
        let bare = Url::parse("10.0.0.1").unwrap();
        assert_eq!(
            (bare.scheme, bare.port, bare.target.as_str()),
            (Scheme::Http, 80, "/")
        );
        let v6 = Url::parse("http://[fd09::2]:8080?x").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.port, v6.target.as_str()),
            ("fd09::2", 8080, "/?x")
        );
        assert_eq!(v6.to_string(), "http://[fd09::2]:8080/?x");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert_eq!(Url::parse("ftp://x/"), Err(UrlError::Scheme("ftp".into())));
        assert_eq!(Url::parse("http:///x"), Err(UrlError::NoHost));
        assert_eq!(Url::parse("http://x:0/"), Err(UrlError::Port("0".into())));
        assert_eq!(
            Url::parse("http://x:99999/"),
            Err(UrlError::Port("99999".into()))
        );
        assert_eq!(
            Url::parse("http://x:+80/"),
            Err(UrlError::Port("+80".into()))
        );
        assert_eq!(Url::parse("http://u:p@x/"), Err(UrlError::Credentials));
        assert_eq!(Url::parse("http://x/a b"), Err(UrlError::Character));
        assert_eq!(Url::parse("http://[fd09::2/"), Err(UrlError::Bracket));
        assert_eq!(Url::parse("http://[nope]/"), Err(UrlError::Bracket));
    }

    #[test]
    fn locations_resolve_against_the_url_they_answered() {
        let base = Url::parse("http://h:8080/dir/page?x=1").unwrap();
        let join = |l: &str| base.join(l).unwrap().to_string();
        assert_eq!(join("https://other/x"), "https://other/x");
        assert_eq!(join("//other/y"), "http://other/y");
        assert_eq!(join("/root"), "http://h:8080/root");
        assert_eq!(join("next"), "http://h:8080/dir/next");
        assert_eq!(join("?y=2"), "http://h:8080/dir/page?y=2");
    }
}
