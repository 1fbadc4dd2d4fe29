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

/// Waits until one of `fds` is readable or `timeout` passes; one flag per
/// fd (readable, hung up or invalid all count: the caller looks again).
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout: std::time::Duration) -> Vec<bool> {
    let mut pollfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let millis = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: pollfds is a valid array of pollfds.len() entries for the
    // call, and each fd is open for the borrow.
    let n = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, millis) };
    if n <= 0 {
        return vec![false; fds.len()];
    }
    pollfds.iter().map(|p| p.revents != 0).collect()
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
