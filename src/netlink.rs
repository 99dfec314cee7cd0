//! Netlink request/dump plumbing shared by every kernel query.
//!
//! rtnetlink (links, addresses, routes) and sock_diag (sockets) both answer a
//! `NLM_F_DUMP` request with a stream of multipart messages ended by
//! `NLMSG_DONE`; [`Conn::dump`] does that exchange once, synchronously, for
//! any message family the `netlink-packet-*` crates describe. No async
//! runtime: a dump is a handful of syscalls.
#![forbid(unsafe_code)]

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{
    ErrorMessage, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL, NLM_F_REQUEST,
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
};
use netlink_sys::{Socket, SocketAddr};

pub use netlink_sys::protocols::{NETLINK_ROUTE, NETLINK_SOCK_DIAG};

/// Large enough for any one datagram the kernel sends in a dump (it caps them
/// near 32 KiB); a larger one would be reported as truncated, never misread.
const RECV_BUFFER: usize = 64 * 1024;

/// How often a dump that the kernel flags as inconsistent is retried.
const DUMP_ATTEMPTS: usize = 3;

/// A failed exchange with the kernel over netlink.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// The socket could not be created (a kernel without this netlink family).
    #[error("opening a netlink socket: {0}")]
    Open(#[source] io::Error),
    /// The request could not be sent.
    #[error("sending the {what} request to the kernel: {source}")]
    Send {
        /// What was asked for, e.g. "link".
        what: &'static str,
        /// The syscall error.
        source: io::Error,
    },
    /// The reply could not be received.
    #[error("reading the kernel's {what} reply: {source}")]
    Recv {
        /// What was asked for.
        what: &'static str,
        /// The syscall error.
        source: io::Error,
    },
    /// The kernel answered with an error code.
    #[error("the kernel refused the {what} request: {source}")]
    Refused {
        /// What was asked for.
        what: &'static str,
        /// The errno the kernel returned.
        source: io::Error,
    },
    /// A reply did not decode as the expected message.
    #[error("the kernel's {what} reply could not be decoded: {detail}")]
    Decode {
        /// What was asked for.
        what: &'static str,
        /// The decoder's explanation.
        detail: String,
    },
    /// The table changed during every attempt to read it.
    #[error("the {what} table kept changing while it was read; run the command again")]
    Interrupted {
        /// What was asked for.
        what: &'static str,
    },
}

/// A connected netlink socket for one protocol family.
pub struct Conn {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
}

impl Conn {
    /// Opens and connects a socket for `protocol` (e.g. [`NETLINK_ROUTE`]).
    pub fn open(protocol: isize) -> Result<Self, NetlinkError> {
        let mut socket = Socket::new(protocol).map_err(NetlinkError::Open)?;
        socket.bind_auto().map_err(NetlinkError::Open)?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(NetlinkError::Open)?;
        Ok(Conn {
            socket,
            sequence: 0,
            buffer: vec![0; RECV_BUFFER],
        })
    }

    /// Sends `request` as a dump and passes every message of the reply to
    /// `keep`, collecting what it returns. Messages are converted as they
    /// arrive, so only the caller's (smaller) values stay in memory.
    ///
    /// `what` names the table in error messages ("link", "address", …).
    pub fn dump<Req, Resp, T>(
        &mut self,
        what: &'static str,
        request: Req,
        mut keep: impl FnMut(Resp) -> Option<T>,
    ) -> Result<Vec<T>, NetlinkError>
    where
        Req: NetlinkSerializable + Debug + Clone,
        Resp: NetlinkDeserializable + Debug,
    {
        for _ in 0..DUMP_ATTEMPTS {
            let mut kept = Vec::new();
            if self.dump_each(what, request.clone(), &mut |message: Resp| {
                if let Some(value) = keep(message) {
                    kept.push(value);
                }
            })? {
                return Ok(kept);
            }
        }
        Err(NetlinkError::Interrupted { what })
    }

    /// Sends `request` as a dump and hands every message to `each` as it
    /// arrives, keeping nothing. A dump the kernel flags as interrupted by a
    /// concurrent change is not retried here (what was handed over cannot be
    /// taken back): the return value is `false` when that happened.
    pub fn dump_each<Req, Resp>(
        &mut self,
        what: &'static str,
        request: Req,
        each: &mut dyn FnMut(Resp),
    ) -> Result<bool, NetlinkError>
    where
        Req: NetlinkSerializable + Debug,
        Resp: NetlinkDeserializable + Debug,
    {
        self.send(what, request, NLM_F_REQUEST | NLM_F_DUMP)?;
        let mut interrupted = false;
        self.receive(what, &mut |message: NetlinkMessage<Resp>| {
            interrupted |= message.header.flags & NLM_F_DUMP_INTR != 0;
            match message.payload {
                NetlinkPayload::Done(_) => Ok(Some(!interrupted)),
                NetlinkPayload::Error(err) => acknowledged(what, &err).map(|()| Some(!interrupted)),
                NetlinkPayload::InnerMessage(inner) => {
                    each(inner);
                    Ok(None)
                }
                _ => Ok(None),
            }
        })
    }

    /// Sends one (non-dump) request and returns the kernel's answer to it,
    /// as `ip route get` asks for one route.
    pub fn request<Req, Resp>(
        &mut self,
        what: &'static str,
        request: Req,
    ) -> Result<Resp, NetlinkError>
    where
        Req: NetlinkSerializable + Debug,
        Resp: NetlinkDeserializable + Debug,
    {
        self.send(what, request, NLM_F_REQUEST)?;
        self.receive(
            what,
            &mut |message: NetlinkMessage<Resp>| match message.payload {
                NetlinkPayload::InnerMessage(inner) => Ok(Some(inner)),
                NetlinkPayload::Error(err) => Err(NetlinkError::Refused {
                    what,
                    source: io::Error::from_raw_os_error(err.code.map_or(0, |c| -c.get())),
                }),
                _ => Ok(None),
            },
        )
    }

    /// Sends one change (a link's flags; with `create`, a new link or
    /// address that must not exist yet) and waits for the kernel's
    /// acknowledgement.
    pub fn change<Req>(
        &mut self,
        what: &'static str,
        request: Req,
        create: bool,
    ) -> Result<(), NetlinkError>
    where
        Req: NetlinkSerializable + NetlinkDeserializable + Debug,
    {
        let flags = if create { NLM_F_CREATE | NLM_F_EXCL } else { 0 };
        self.send(what, request, NLM_F_REQUEST | NLM_F_ACK | flags)?;
        self.receive(
            what,
            &mut |message: NetlinkMessage<Req>| match message.payload {
                NetlinkPayload::Error(err) => acknowledged(what, &err).map(Some),
                _ => Ok(None),
            },
        )
    }

    /// Sends `request` with the next sequence number and `flags`.
    fn send<Req>(
        &mut self,
        what: &'static str,
        request: Req,
        flags: u16,
    ) -> Result<(), NetlinkError>
    where
        Req: NetlinkSerializable + Debug,
    {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(request));
        packet.finalize();
        let mut out = vec![0; packet.buffer_len()];
        packet.serialize(&mut out);
        self.socket
            .send(&out, 0)
            .map_err(|source| NetlinkError::Send { what, source })?;
        Ok(())
    }

    /// Decodes the answer to the last request, message by message, until
    /// `handle` returns a value (or an error); messages answering another
    /// sequence number are skipped.
    fn receive<Resp, R>(
        &mut self,
        what: &'static str,
        handle: &mut dyn FnMut(NetlinkMessage<Resp>) -> Result<Option<R>, NetlinkError>,
    ) -> Result<R, NetlinkError>
    where
        Resp: NetlinkDeserializable + Debug,
    {
        loop {
            let received = self.recv(what)?;
            if received > self.buffer.len() {
                return Err(NetlinkError::Decode {
                    what,
                    detail: format!("a {received}-byte datagram exceeds the receive buffer"),
                });
            }
            let mut offset = 0;
            while offset < received {
                let bytes = &self.buffer[offset..received];
                let message: NetlinkMessage<Resp> =
                    NetlinkMessage::deserialize(bytes).map_err(|err| NetlinkError::Decode {
                        what,
                        detail: err.to_string(),
                    })?;
                let length = message.header.length as usize;
                if length == 0 {
                    return Err(NetlinkError::Decode {
                        what,
                        detail: "a message of length zero".to_string(),
                    });
                }
                offset += align4(length);
                if message.header.sequence_number != self.sequence {
                    continue;
                }
                if let Some(value) = handle(message)? {
                    return Ok(value);
                }
            }
        }
    }
}

impl Conn {
    /// Reads one datagram, retrying when a signal interrupts the wait.
    fn recv(&mut self, what: &'static str) -> Result<usize, NetlinkError> {
        loop {
            let mut window = &mut self.buffer[..];
            match self.socket.recv(&mut window, libc::MSG_TRUNC) {
                Ok(received) => return Ok(received),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(NetlinkError::Recv { what, source }),
            }
        }
    }
}

/// An error message with code 0 is the kernel's acknowledgement; any other
/// code is its refusal.
fn acknowledged(what: &'static str, err: &ErrorMessage) -> Result<(), NetlinkError> {
    match err.code {
        Some(code) => Err(NetlinkError::Refused {
            what,
            source: io::Error::from_raw_os_error(-code.get()),
        }),
        None => Ok(()),
    }
}

/// Netlink messages start on 4-byte boundaries.
fn align4(length: usize) -> usize {
    (length + 3) & !3
}
