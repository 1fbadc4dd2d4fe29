//! The one raw socket write of the module: a last close frame on an
//! ungraceful stop, when Apache's own connection is already gone.
use std::os::fd::{AsRawFd, BorrowedFd};

/// Sends `bytes` without blocking (whatever fits) and shuts the socket, so
/// the client sees the close frame and then the end of the stream.
/// Never blocks or allocates: it may run in a signal handler.
pub fn send_and_shut(fd: BorrowedFd<'_>, bytes: &[u8]) {
    // SAFETY: `fd` is open for the borrow; send and shutdown are
    // async-signal-safe, and the flags keep send from blocking or raising
    // SIGPIPE.
    unsafe {
        libc::send(
            fd.as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        );
        libc::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR);
    }
}
