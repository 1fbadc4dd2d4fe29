//! Raw socket calls: the last close frame of an ungraceful stop, when
//! Apache's own connection is already gone, and waiting for a descriptor
//! to be ready.
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

/// Waits until `fd` is readable (or writable, with `writable`), hung up or
/// in error, or `timeout` passes; true unless it timed out.
pub fn poll_ready(fd: BorrowedFd<'_>, writable: bool, timeout: std::time::Duration) -> bool {
    let mut pollfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: if writable {
            libc::POLLOUT
        } else {
            libc::POLLIN
        },
        revents: 0,
    };
    let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd for the call; the fd is open for the borrow.
    unsafe { libc::poll(&mut pollfd, 1, millis) > 0 }
}
