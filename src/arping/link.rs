//! The real link: one AF_PACKET socket bound to the interface for ARP,
//! woken by Ctrl-C as well as by frames.
#![forbid(unsafe_code)]

use std::io;
use std::time::{Instant, SystemTime};

use super::engine::{Link, Received};
use crate::net::packet::LinkSocket;
use crate::signals::Interrupts;

/// An interface's ARP traffic, for the engine.
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
        let at = SystemTime::now();
        self.socket.send(frame)?;
        Ok(at)
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
