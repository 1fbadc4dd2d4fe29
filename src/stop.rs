//! The one raw socket write of the module: a last close frame on an
//! ungraceful stop, when Apache's own connection is already gone.
use std::os::fd::RawFd;

/// Sends `bytes` without blocking (whatever fits) and shuts the socket, so
/// the client sees the close frame and then the end of the stream.
pub fn send_and_shut(fd: RawFd, bytes: &[u8]) {
    // SAFETY: `fd` is a socket descriptor the registry owns and keeps open
    // while it is used here; send and shutdown are async-signal-safe, and
    // the flags keep send from blocking or raising SIGPIPE.
    unsafe {
        libc::send(
            fd,
            bytes.as_ptr().cast(),
            bytes.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        );
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}
