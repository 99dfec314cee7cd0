//! `LinkSocket`: an AF_PACKET socket bound to one interface and one
//! EtherType, for the probes that live below IP (ARP). Frames are sent and
//! read whole (Ethernet header included); every frame read carries the
//! kernel's receive time (SO_TIMESTAMPNS), as [`super::ProbeSocket`]'s do.
//!
//! socket2 and nix open, bind and read the socket; what neither can do
//! without unsafe code is turn a `sockaddr_ll` into an address to bind to
//! (nix's `LinkAddr` has no safe constructor, socket2 none for AF_PACKET),
//! so [`link_address`] holds the one unsafe block here.
#![deny(unsafe_code)]

use std::io::{self, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Instant, SystemTime};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessageOwned, LinkAddr, MsgFlags, SockaddrLike, SockaddrStorage, TimestampingFlag,
    Timestamps, bind, recvmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use socket2::{Domain, Protocol, Socket, Type};

use super::{SocketError, system_time, wait_readable};
use crate::signals::Interrupts;

/// Room for the largest Ethernet frame without jumbo frames, and then some:
/// anything longer is reported as truncated, never read past.
const FRAME_BUFFER: usize = 2048;

/// How long a send waits for the kernel's departure stamp.
const SEND_STAMP_PATIENCE: std::time::Duration = std::time::Duration::from_millis(2);

/// `sll_pkttype` of a frame this host sent (seen by a tap).
const PACKET_OUTGOING: u8 = 4;

/// One frame read from the link.
#[derive(Debug)]
pub struct Frame<'a> {
    /// The frame from its Ethernet header on.
    pub bytes: &'a [u8],
    /// When the kernel received it.
    pub at: Option<SystemTime>,
    /// A frame this host sent, not one it received.
    pub outgoing: bool,
    /// It was longer than the buffer and was cut short.
    pub truncated: bool,
}

/// What one read learned, before the bytes are lent out.
struct Arrival {
    len: usize,
    at: Option<SystemTime>,
    outgoing: bool,
    truncated: bool,
}

/// An AF_PACKET raw socket on one interface, for one EtherType.
pub struct LinkSocket {
    socket: Socket,
    buffer: Vec<u8>,
    cmsg: Vec<u8>,
}

impl LinkSocket {
    /// Opens a packet socket for `ethertype` frames on interface `ifindex`
    /// (CAP_NET_RAW); `command` names the netdx command in the error.
    pub fn open(
        ifindex: u32,
        ethertype: u16,
        command: &'static str,
    ) -> Result<LinkSocket, SocketError> {
        let protocol = Protocol::from(i32::from(ethertype.to_be()));
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(protocol)).map_err(|source| {
            SocketError::NeedRaw {
                family: "packet (AF_PACKET)",
                command,
                source,
            }
        })?;
        let address = link_address(ifindex, ethertype).ok_or_else(|| SocketError::Option {
            option: "bind to the interface",
            source: io::Error::from(io::ErrorKind::InvalidInput),
        })?;
        bind(socket.as_raw_fd(), &address).map_err(|errno| SocketError::Option {
            option: "bind to the interface",
            source: errno.into(),
        })?;
        socket
            .set_nonblocking(true)
            .map_err(|source| SocketError::Option {
                option: "O_NONBLOCK",
                source,
            })?;
        setsockopt(&socket.as_fd(), sockopt::ReceiveTimestampns, &true).map_err(|errno| {
            SocketError::Option {
                option: "SO_TIMESTAMPNS",
                source: errno.into(),
            }
        })?;
        // The kernel's stamp of each frame as it leaves (software TX
        // timestamps, on the error queue): round trips then run from the
        // wire to the wire. A kernel or driver without them leaves the
        // send time to the caller's clock.
        let _ = setsockopt(
            &socket.as_fd(),
            sockopt::Timestamping,
            &(TimestampingFlag::SOF_TIMESTAMPING_TX_SOFTWARE
                | TimestampingFlag::SOF_TIMESTAMPING_SOFTWARE
                | TimestampingFlag::SOF_TIMESTAMPING_OPT_TSONLY),
        );
        Ok(LinkSocket {
            socket,
            buffer: vec![0; FRAME_BUFFER],
            cmsg: nix::cmsg_space!(TimeSpec, Timestamps, libc::sock_extended_err),
        })
    }

    /// Sends one whole frame (Ethernet header included) on the interface.
    pub fn send(&self, frame: &[u8]) -> io::Result<usize> {
        loop {
            match self.socket.send(frame) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// The kernel's stamp of the last frame sent (the first stamp not
    /// before `not_before`, when it was handed to the kernel), waiting up
    /// to `patience` for it; `None` when the driver gives none. Older
    /// stamps are skipped: a frame can be stamped again by each driver it
    /// crosses while it still belongs to this socket (a veth, then a
    /// bridge port's veth for a unicast frame), and those later stamps
    /// are still queued when the next frame is sent.
    pub fn sent_at(
        &mut self,
        not_before: SystemTime,
        patience: std::time::Duration,
    ) -> io::Result<Option<SystemTime>> {
        let deadline = Instant::now() + patience;
        let fd = self.socket.as_raw_fd();
        loop {
            let mut iov = [IoSliceMut::new(&mut self.buffer)];
            match recvmsg::<SockaddrStorage>(
                fd,
                &mut iov,
                Some(&mut self.cmsg),
                MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
            ) {
                Ok(message) => {
                    let stamp = message.cmsgs().ok().and_then(|mut cmsgs| {
                        cmsgs.find_map(|cmsg| match cmsg {
                            ControlMessageOwned::ScmTimestampsns(ts) => {
                                Some(system_time(ts.system))
                            }
                            _ => None,
                        })
                    });
                    if stamp.is_some_and(|at| at >= not_before) {
                        return Ok(stamp);
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => {
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                    // The error queue wakes poll with POLLERR.
                    let mut fds = [nix::poll::PollFd::new(
                        self.socket.as_fd(),
                        nix::poll::PollFlags::empty(),
                    )];
                    let _ = nix::poll::poll(
                        &mut fds,
                        super::poll_timeout(deadline.saturating_duration_since(Instant::now())),
                    );
                }
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// Waits until `deadline` for a frame, or until one of `wake` (signal
    /// descriptors) is readable; `None` when no frame came.
    pub fn recv_until(
        &mut self,
        deadline: Instant,
        wake: &[BorrowedFd<'_>],
    ) -> io::Result<Option<Frame<'_>>> {
        loop {
            if let Some(arrival) = self.read()? {
                return Ok(Some(Frame {
                    bytes: &self.buffer[..arrival.len.min(self.buffer.len())],
                    at: arrival.at,
                    outgoing: arrival.outgoing,
                    truncated: arrival.truncated,
                }));
            }
            let mut fds = vec![self.socket.as_fd()];
            fds.extend_from_slice(wake);
            if !wait_readable(&fds, deadline)? {
                return Ok(None);
            }
            if !wake.is_empty() && !self.readable()? {
                return Ok(None);
            }
        }
    }

    /// Whether a frame is queued (after a wait that a signal may have ended).
    fn readable(&self) -> io::Result<bool> {
        wait_readable(
            &[self.socket.as_fd()],
            Instant::now() + std::time::Duration::from_nanos(1),
        )
        .or(Ok(false))
    }

    /// Reads one frame without waiting: its length, receive time, direction
    /// and whether it was cut.
    fn read(&mut self) -> io::Result<Option<Arrival>> {
        let fd = self.socket.as_raw_fd();
        loop {
            let mut iov = [IoSliceMut::new(&mut self.buffer)];
            let message = match recvmsg::<SockaddrStorage>(
                fd,
                &mut iov,
                Some(&mut self.cmsg),
                MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_TRUNC,
            ) {
                Ok(message) => message,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(errno) => return Err(errno.into()),
            };
            let outgoing = message
                .address
                .as_ref()
                .and_then(|a| a.as_link_addr())
                .is_some_and(|link| link.pkttype() == PACKET_OUTGOING);
            let mut at = None;
            if let Ok(cmsgs) = message.cmsgs() {
                for cmsg in cmsgs {
                    match cmsg {
                        ControlMessageOwned::ScmTimestampns(ts) => at = Some(system_time(ts)),
                        ControlMessageOwned::ScmTimestampsns(ts) if at.is_none() => {
                            at = Some(system_time(ts.system));
                        }
                        _ => {}
                    }
                }
            }
            let truncated = message.bytes > FRAME_BUFFER;
            return Ok(Some(Arrival {
                len: message.bytes,
                at,
                outgoing,
                truncated,
            }));
        }
    }
}

impl AsFd for LinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// A frame read from the link.
#[derive(Debug, Clone)]
pub struct Received {
    /// The frame, Ethernet header first.
    pub bytes: Vec<u8>,
    /// The kernel's receive time.
    pub at: Option<SystemTime>,
}

/// What stopped a run early.
#[derive(Debug)]
pub enum RunError {
    /// Sending or receiving on the link failed.
    Link(io::Error),
    /// Printing a reply failed (the reader of the output left).
    Output(io::Error),
}

/// Where an engine's frames go and come from: a [`PacketLink`], or a
/// script in simulation.
pub trait Link {
    /// Sends a whole frame; returns the wall-clock time it left.
    fn send(&mut self, frame: &[u8]) -> io::Result<SystemTime>;
    /// The next frame that arrived, waiting until `deadline` (or an
    /// interrupt) at most; `None` when none came.
    fn recv_until(&mut self, deadline: Instant) -> io::Result<Option<Received>>;
    /// Whether the user asked to stop (Ctrl-C).
    fn stopped(&mut self) -> bool;
}

/// A [`LinkSocket`] as an engine's [`Link`], woken by Ctrl-C as well as by frames.
pub struct PacketLink {
    socket: LinkSocket,
    interrupts: Interrupts,
    stop: bool,
}

impl PacketLink {
    /// Wraps an opened socket; `interrupts` end waits early.
    pub fn new(socket: LinkSocket, interrupts: Interrupts) -> PacketLink {
        PacketLink {
            socket,
            interrupts,
            stop: false,
        }
    }
}

impl Link for PacketLink {
    fn send(&mut self, frame: &[u8]) -> io::Result<SystemTime> {
        let before = SystemTime::now();
        self.socket.send(frame)?;
        // The kernel's departure stamp when the driver gives one (veth and
        // most NICs do, at once); our clock before the send otherwise.
        let stamped = self.socket.sent_at(before, SEND_STAMP_PATIENCE)?;
        Ok(stamped.unwrap_or(before))
    }

    fn recv_until(&mut self, deadline: Instant) -> io::Result<Option<Received>> {
        loop {
            let fds = self.interrupts.fds();
            match self.socket.recv_until(deadline, &fds)? {
                // Frames this host sent (other programs' ARP) are not answers.
                Some(frame) if frame.outgoing || frame.truncated => continue,
                Some(frame) => {
                    return Ok(Some(Received {
                        bytes: frame.bytes.to_vec(),
                        at: frame.at,
                    }));
                }
                None => {
                    self.stop |= self.interrupts.take().stop;
                    return Ok(None);
                }
            }
        }
    }

    fn stopped(&mut self) -> bool {
        self.stop |= self.interrupts.take().stop;
        self.stop
    }
}

/// The `sockaddr_ll` that binds a packet socket to `ifindex` and `ethertype`.
#[allow(unsafe_code)]
fn link_address(ifindex: u32, ethertype: u16) -> Option<LinkAddr> {
    let raw = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: ethertype.to_be(),
        sll_ifindex: i32::try_from(ifindex).ok()?,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `raw` is a fully initialised sockaddr_ll that outlives the
    // call, and `len` is its size; from_raw checks both and copies it.
    unsafe {
        LinkAddr::from_raw(
            (&raw as *const libc::sockaddr_ll).cast::<libc::sockaddr>(),
            Some(len),
        )
    }
}

/// A scripted segment's next frame for the engines' simulation tests: the
/// earliest of `pending` due by `deadline`, with the clock moved to it, or
/// `None` with the clock moved to the deadline.
#[cfg(test)]
pub(crate) fn next_scripted(
    pending: &mut Vec<(Instant, Vec<u8>)>,
    clock: &crate::clock::SimClock,
    deadline: Instant,
) -> Option<Received> {
    use crate::clock::Clock;
    let next = pending
        .iter()
        .enumerate()
        .filter(|(_, (at, _))| *at <= deadline)
        .min_by_key(|(_, (at, _))| *at)
        .map(|(i, _)| i);
    let Some(i) = next else {
        clock.advance_to(deadline);
        return None;
    };
    let (at, bytes) = pending.remove(i);
    clock.advance_to(at);
    Some(Received {
        bytes,
        at: Some(clock.wall()),
    })
}
