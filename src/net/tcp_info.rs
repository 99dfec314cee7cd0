//! The kernel's `struct tcp_info` of a connected socket (getsockopt
//! TCP_INFO), read as bytes for [`crate::sockets::tcp_info::TcpInfoView`]:
//! nix has no typed option for it, and its struct getter would panic on a
//! kernel whose struct is shorter than the one asked for.
// The one getsockopt call is the only unsafe code here.
#![deny(unsafe_code)]

use std::io;
use std::os::fd::AsRawFd;

/// Room for every field netdx reads and more (the kernel copies at most its own size).
const ROOM: usize = 256;

/// The bytes of the socket's `struct tcp_info`, as long as the kernel's is.
#[allow(unsafe_code)]
pub fn read(socket: &impl AsRawFd) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; ROOM];
    let mut length = ROOM as libc::socklen_t;
    // SAFETY: `bytes` is ROOM writable bytes and `length` says so; the
    // kernel writes at most `length` bytes and stores how many it wrote.
    let result = unsafe {
        libc::getsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            bytes.as_mut_ptr().cast(),
            &mut length,
        )
    };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    bytes.truncate((length as usize).min(ROOM));
    Ok(bytes)
}
