//! `netdx netstat`: sockets, routes, protocol counters, interfaces.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::net::IpAddr;

use crate::cli::NetstatArgs;
use crate::error::{Error, Outcome};
use crate::iface::{self, Selection};
use crate::names::services::Services;
use crate::render::sockets::{self as view, SocketTable, SocketView};
use crate::render::{self, Output};
use crate::sockets::{self, Families, Filter, Protocols, Query, SourceChoice, StateMask};
use crate::{protostats, routes};

/// Runs the view the flags ask for.
pub fn run(args: &NetstatArgs, out: &Output) -> Result<Outcome, Error> {
    let any_protocol = args.tcp || args.udp || args.raw || args.unix;
    if args.statistics {
        let groups = protostats::read()?;
        let text = if out.json {
            render::json::document(&view::StatisticsDocument::new(&groups))
        } else {
            view::statistics(&groups)
        };
        render::print(&text)?;
        return Ok(Outcome::Success);
    }
    if args.route {
        let (v4, v6) = families(args);
        let table = routes::list(v4, v6)?;
        let text = if out.json {
            render::json::document(&table)
        } else {
            view::routes(&table, out)
        };
        render::print(&text)?;
        return Ok(Outcome::Success);
    }
    if args.info && !any_protocol {
        let interfaces = iface::collect(&Selection::Up)?;
        let text = if out.json {
            render::json::document(&interfaces)
        } else {
            render::iface::short_table(&interfaces, out)
        };
        render::print(&text)?;
        return Ok(Outcome::Success);
    }

    let query = query(args, any_protocol);
    // As ss does: find every socket's holders first, then stream the table
    // past them, so no socket is kept longer than it takes to print it.
    let owners = query.owners.then(sockets::owners::scan_all);
    let stdout = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    let source = if out.json {
        let mut array = render::json::ArrayWriter::new(&mut w);
        let source = sockets::visit(&query, owners.as_ref(), |socket| array.push(&socket))?;
        array.finish()?;
        source
    } else {
        let services = (!args.numeric).then(Services::load);
        let mut hosts: Option<HashMap<IpAddr, String>> = args.resolve.then(HashMap::new);
        let socket_view_names = SocketView {
            processes: args.processes,
            extended: args.extended,
            timers: args.timers,
            tcp_info: args.info,
            memory: args.memory,
            services: services.as_ref(),
            hosts: None,
        };
        if let Some(hosts) = hosts.as_mut() {
            // Names need the addresses first: a --resolve listing is collected, then looked up.
            let listing = sockets::list(&Query {
                owners: false,
                ..query.clone()
            })?;
            *hosts = sockets::resolve_names(&listing.sockets);
        }
        let socket_view = SocketView {
            hosts: hosts.as_ref(),
            ..socket_view_names
        };
        let mut table = SocketTable::new(&socket_view);
        let source = sockets::visit(&query, owners.as_ref(), |socket| table.add(&socket))?;
        table.write_to(out, &mut w)?;
        source
    };
    w.flush()?;
    if let Some(note) = view::source_note(&source) {
        eprint!("{note}");
    }
    if let Some(note) = owners.as_ref().and_then(|o| view::hidden_note(o.hidden)) {
        eprint!("{note}");
    }
    Ok(Outcome::Success)
}

fn families(args: &NetstatArgs) -> (bool, bool) {
    match (args.ipv4, args.ipv6) {
        (true, _) => (true, false),
        (_, true) => (false, true),
        _ => (true, true),
    }
}

/// The socket query the flags describe (defaults as ss: every protocol, connected sockets).
fn query(args: &NetstatArgs, any_protocol: bool) -> Query {
    let family_only = args.ipv4 || args.ipv6;
    let (v4, v6) = families(args);
    let protocols = if any_protocol {
        Protocols {
            tcp: args.tcp,
            udp: args.udp,
            raw: args.raw,
            unix: args.unix && !family_only,
        }
    } else {
        Protocols {
            tcp: true,
            udp: true,
            raw: true,
            unix: !family_only,
        }
    };
    let states = match (args.state, args.all, args.listening) {
        (Some(mask), _, _) => mask,
        (None, true, _) => StateMask::ALL,
        (None, false, true) => StateMask::LISTENING,
        _ => StateMask::CONNECTED,
    };
    Query {
        protocols,
        families: Families { v4, v6 },
        states,
        filter: Filter {
            local_ports: args.sport.into_iter().collect(),
            remote_ports: args.dport.into_iter().collect(),
            any_ports: args.port.into_iter().collect(),
            address: args.addr,
        },
        owners: args.processes,
        tcp_info: args.info,
        congestion: args.info,
        memory: args.memory,
        source: if args.source == "proc" {
            SourceChoice::Proc
        } else {
            SourceChoice::Auto
        },
    }
}
