//! Bytes in and out of a taken-over connection through its filter chains
//! (so mod_ssl decrypts and encrypts as for any response), with one bucket
//! brigade per direction, reused for every read and write.
use std::io;
use std::marker::PhantomData;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::os::raw::c_void;
use std::time::Duration;

use super::ffi;
use super::request::Request;

const APR_SUCCESS: ffi::apr_status_t = 0;
const APR_EOF: ffi::apr_status_t = 70014;
const EAGAIN: ffi::apr_status_t = libc::EAGAIN;

/// What one non-blocking read found.
pub enum Read {
    Data(usize),
    Nothing,
    Eof,
}

/// One non-blocking read of at most `buf.len()` bytes through `c`'s input
/// filters, via `input`, which is left empty.
///
/// # Safety
/// `c` is a live connection and `input` a brigade of its bucket allocator,
/// used by no other thread meanwhile.
pub(super) unsafe fn read_nonblocking(
    c: *mut ffi::conn_rec,
    input: *mut ffi::apr_bucket_brigade,
    buf: &mut [u8],
) -> Read {
    // SAFETY: per the contract above; the brigade is flattened into `buf`
    // and emptied before returning, so no bucket outlives the call. The
    // head of c->input_filters is read anew: removing a filter changes it.
    unsafe {
        let status = ffi::ap_get_brigade(
            (*c).input_filters,
            input,
            ffi::ap_input_mode_t_AP_MODE_READBYTES,
            ffi::apr_read_type_e_APR_NONBLOCK_READ,
            buf.len() as ffi::apr_off_t,
        );
        let result = match status {
            APR_SUCCESS => {
                let mut len: ffi::apr_size_t = buf.len();
                if ffi::apr_brigade_flatten(input, buf.as_mut_ptr().cast(), &mut len) != APR_SUCCESS
                {
                    Read::Eof
                } else if len == 0 {
                    // Plain sockets say "no data" this way; a closed one
                    // answers APR_EOF on the next read.
                    Read::Nothing
                } else {
                    Read::Data(len)
                }
            }
            // mod_ssl says "no data" with EAGAIN.
            EAGAIN => Read::Nothing,
            APR_EOF => Read::Eof,
            _ => Read::Eof, // reset, TLS alert...: the connection is gone
        };
        ffi::apr_brigade_cleanup(input.cast());
        result
    }
}

/// The descriptor of a connection's client socket, if it has one.
///
/// # Safety
/// `c` must be a live connection.
pub(super) unsafe fn socket_fd(c: *mut ffi::conn_rec) -> Option<i32> {
    let mut fd: ffi::apr_os_sock_t = -1;
    // SAFETY: c is live (the caller's promise); apr_os_sock_get only reads
    // the socket.
    let found = unsafe {
        let socket = ffi::ap_get_conn_socket(c);
        !socket.is_null() && ffi::apr_os_sock_get(&mut fd, socket) == APR_SUCCESS
    };
    (found && fd >= 0).then_some(fd)
}

/// The connection of a request this module has taken over; `'r`: it lives
/// no longer than the request whose pool holds its brigades.
pub struct ConnIo<'r> {
    c: *mut ffi::conn_rec,
    input: *mut ffi::apr_bucket_brigade,
    output: *mut ffi::apr_bucket_brigade,
    socket_fd: i32,
    _lives: PhantomData<Request<'r>>,
}

impl<'r> ConnIo<'r> {
    pub fn new(r: Request<'r>) -> io::Result<ConnIo<'r>> {
        let c = r.connection().as_ptr();
        let pool = r.pool().as_ptr();
        // SAFETY: brigades are created once per connection in r->pool (which
        // lives as long as the WebSocket) and reused for every read/write.
        unsafe {
            let input = ffi::apr_brigade_create(pool, (*c).bucket_alloc);
            let output = ffi::apr_brigade_create(pool, (*c).bucket_alloc);
            let Some(socket_fd) = socket_fd(c) else {
                return Err(io::Error::other("the connection has no socket"));
            };
            Ok(ConnIo {
                c,
                input,
                output,
                socket_fd,
                _lives: PhantomData,
            })
        }
    }

    /// A duplicate of the client socket's descriptor (close-on-exec), which
    /// stays open when Apache closes its own.
    pub fn duplicate_socket(&self) -> io::Result<OwnedFd> {
        // SAFETY: socket_fd is the connection's open socket for as long as
        // this value exists; borrowing it only to duplicate it.
        let borrowed = unsafe { BorrowedFd::borrow_raw(self.socket_fd) };
        borrowed.try_clone_to_owned()
    }

    /// One non-blocking read through the input filters.
    pub fn read_now(&mut self, buf: &mut [u8]) -> Read {
        // SAFETY: the connection and brigades are live (see `new`).
        unsafe { read_nonblocking(self.c, self.input, buf) }
    }

    /// Polls the socket and the wake-up; returns (socket ready, woken).
    pub fn poll(&self, wakeup_fd: Option<i32>, timeout: Duration) -> (bool, bool) {
        let mut fds = [
            libc::pollfd {
                fd: self.socket_fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: wakeup_fd.unwrap_or(-1), // poll ignores negative fds
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: fds is a valid array of two pollfd for the duration of the call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout.as_millis() as libc::c_int) };
        if n <= 0 {
            return (false, false); // timeout or EINTR: the caller re-checks its deadline
        }
        (fds[0].revents != 0, fds[1].revents != 0)
    }

    /// Writes and flushes `data` through the output filters; Err is the APR status.
    pub fn write_all(&mut self, data: &[u8]) -> Result<(), ffi::apr_status_t> {
        // SAFETY: the connection and brigade are live; apr_brigade_write
        // copies small data into the brigade and passes large data down
        // through ap_filter_flush before returning, and the brigade is
        // emptied before we return, so `data` is not referenced afterwards.
        let status = unsafe {
            let filters = (*self.c).output_filters;
            let mut status = ffi::apr_brigade_write(
                self.output,
                Some(ffi::ap_filter_flush),
                filters.cast::<c_void>(),
                data.as_ptr().cast(),
                data.len(),
            );
            if status == APR_SUCCESS {
                status = ffi::ap_fflush(filters, self.output);
            }
            ffi::apr_brigade_cleanup(self.output.cast());
            status
        };
        if status == APR_SUCCESS {
            Ok(())
        } else {
            Err(status)
        }
    }
}
