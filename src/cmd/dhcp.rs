//! `netdx dhcp -I IFACE`: arguments → link setup → the engine → the offers.

use crate::cli::DhcpArgs;
use crate::clock::SystemClock;
use crate::dhcp::{self, DhcpError, Request, engine, setup};
use crate::error::{Error, Outcome};
use crate::net::packet::LinkSocket;
use crate::net::packet::PacketLink;
use crate::render::{self, Output};
use crate::signals::Interrupts;
use crate::wire::dhcp::ETHERTYPE_IPV4;

/// Asks the link's DHCP servers what they offer.
pub fn run(args: &DhcpArgs, out: &Output) -> Result<Outcome, Error> {
    let link =
        setup::prepare(args.interface.as_ref(), args.mac, args.request).map_err(Error::Dhcp)?;
    let socket = LinkSocket::open(link.ifindex, ETHERTYPE_IPV4, "dhcp")
        .map_err(|err| Error::Dhcp(DhcpError::Socket(err)))?;
    crate::privilege::lock_down().map_err(|err| Error::Dhcp(DhcpError::Privilege(err)))?;
    let io = |source| {
        Error::Dhcp(DhcpError::Io {
            interface: link.interface.clone(),
            source,
        })
    };
    let interrupts = Interrupts::install().map_err(io)?;
    let request = Request {
        interface: link.interface.clone(),
        interface_mac: link.interface_mac,
        client_mac: link.client_mac,
        xid: link.xid,
        timeout: args.timeout.unwrap_or(dhcp::DEFAULT_TIMEOUT),
        request: args.request,
    };
    if !out.json {
        render::print(&render::dhcp::header(&request))?;
    }
    let mut link = PacketLink::new(socket, interrupts);
    let report = engine::run(&request, &mut link, &SystemClock).map_err(io)?;
    if out.json {
        render::print(&render::json::document(&report))?;
    } else {
        render::print(&render::dhcp::report(&report, args.wire))?;
    }
    Ok(if report.success() {
        Outcome::Success
    } else {
        Outcome::Negative
    })
}
