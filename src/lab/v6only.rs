//! `netdx lab v6only`: an IPv6 socket on [::] accepts IPv4 clients as
//! ::ffff:127.0.0.1 while IPV6_V6ONLY is off, and refuses them when on.
#![forbid(unsafe_code)]

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use socket2::Socket;

use super::calls;
use super::{Actor, Conclusion, LabError, Need, Transcript, failed_with};
use crate::sockopt::Value;

fn listener(t: &mut Transcript<'_>, v6only: bool) -> Result<(Socket, u16), LabError> {
    let socket = calls::tcp(t, Actor::Server, true)?;
    calls::setsockopt(
        t,
        Actor::Server,
        &socket,
        "IPV6_V6ONLY",
        Value::Bool(v6only),
    )?;
    let any = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0);
    calls::bind(t, Actor::Server, &socket, any).need("bind")?;
    calls::listen(t, Actor::Server, &socket, 4)?;
    let port = calls::local(&socket).map_or(0, |a| a.port());
    Ok((socket, port))
}

pub(super) fn run(t: &mut Transcript<'_>) -> Result<Conclusion, LabError> {
    let (dual, port) = listener(t, false)?;
    t.note("bound to [::] with IPV6_V6ONLY off: one socket for both families");
    let client = calls::tcp(t, Actor::Client, false)?;
    let v4 = SocketAddr::from(([127, 0, 0, 1], port));
    let _ = calls::connect(t, Actor::Client, &client, v4)?;
    let accepted = calls::accept(t, Actor::Server, &dual)?;
    let mapped = match &accepted {
        Ok((_, peer)) => match peer.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some(),
            IpAddr::V4(_) => false,
        },
        Err(_) => false,
    };
    t.note("the IPv4 client shows up as an IPv4-mapped IPv6 address, ::ffff:127.0.0.1");

    let (only, port2) = listener(t, true)?;
    let client2 = calls::tcp(t, Actor::Client, false)?;
    let refused = calls::connect(
        t,
        Actor::Client,
        &client2,
        SocketAddr::from(([127, 0, 0, 1], port2)),
    )?;
    let v4_refused = failed_with(&refused, libc::ECONNREFUSED);
    t.note("with IPV6_V6ONLY on, nothing listens on 127.0.0.1 for that port: refused");
    let client3 = calls::tcp(t, Actor::Client, true)?;
    let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port2);
    let v6_ok = calls::connect(t, Actor::Client, &client3, v6)?.is_ok();
    t.note("IPv6 clients still connect");
    drop((dual, only, client, client3));

    let as_expected = mapped && v4_refused && v6_ok;
    let default = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only")
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let text = format!(
        "An AF_INET6 socket bound to [::] with IPV6_V6ONLY off {} IPv4 clients, seen as ::ffff:a.b.c.d. With it on, the IPv4 connect {}, and IPv6 {}. The default comes from net.ipv6.bindv6only (here {default}), so servers should set the option explicitly: off for one dual-stack socket, on to run separate IPv4 and IPv6 sockets on the same port.",
        if mapped { "accepted" } else { "did not accept" },
        if v4_refused {
            "was refused"
        } else {
            "was not refused"
        },
        if v6_ok {
            "still connected"
        } else {
            "did not connect"
        }
    );
    Ok(Conclusion::new(as_expected, text))
}
