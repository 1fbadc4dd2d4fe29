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

/// The descriptor that becomes readable when input arrives for `c`: the
/// client socket of a primary connection, the pipe mod_http2 signals for an
/// HTTP/2 stream (RFC 8441). `Ok(None)`: the input is closed already.
///
/// # Safety
/// `c` must be a live connection.
#[cfg(has_pollfd_from_conn)]
unsafe fn input_fd(c: *mut ffi::conn_rec) -> io::Result<Option<i32>> {
    // SAFETY: c is live; the hook fills the pollfd with a descriptor the
    // connection owns, read here only to take its OS handle.
    unsafe {
        let mut pfd: ffi::apr_pollfd_t = std::mem::zeroed();
        let status = ffi::ap_get_pollfd_from_conn(c, &mut pfd, std::ptr::null_mut());
        if status != APR_SUCCESS {
            return socket_fd(c)
                .map(Some)
                .ok_or_else(|| io::Error::other("the connection has no pollable input"));
        }
        let mut fd: i32 = -1;
        let found = match pfd.desc_type {
            ffi::apr_datatype_e_APR_POLL_SOCKET => ffi::apr_os_sock_get(&mut fd, pfd.desc.s),
            ffi::apr_datatype_e_APR_POLL_FILE => ffi::apr_os_file_get(&mut fd, pfd.desc.f),
            _ => return Ok(None), // APR_NO_DESC: no more input
        };
        if found == APR_SUCCESS && fd >= 0 {
            Ok(Some(fd))
        } else {
            Err(io::Error::other("the connection's input cannot be polled"))
        }
    }
}

/// Without `ap_get_pollfd_from_conn` (httpd before 2.4.58) only a primary
/// connection's socket can be polled: an HTTP/2 stream cannot be served.
///
/// # Safety
/// `c` must be a live connection.
#[cfg(not(has_pollfd_from_conn))]
unsafe fn input_fd(c: *mut ffi::conn_rec) -> io::Result<Option<i32>> {
    // SAFETY: c is live (the caller's promise); a plain field read.
    if unsafe { !(*c).master.is_null() } {
        return Err(io::Error::other(
            "an HTTP/2 stream needs httpd 2.4.58 or later (ap_get_pollfd_from_conn)",
        ));
    }
    // SAFETY: as above.
    unsafe { socket_fd(c) }
        .map(Some)
        .ok_or_else(|| io::Error::other("the connection has no socket"))
}

/// The connection of a request this module has taken over; `'r`: it lives
/// no longer than the request whose pool holds its brigades.
pub struct ConnIo<'r> {
    c: *mut ffi::conn_rec,
    input: *mut ffi::apr_bucket_brigade,
    output: *mut ffi::apr_bucket_brigade,
    /// What to poll for input (-1 once the input is closed: poll ignores it).
    input_fd: i32,
    /// The client's socket, on a primary connection only: an HTTP/2
    /// stream shares its connection's socket with other streams.
    client_socket: Option<i32>,
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
            let input_fd = input_fd(c)?.unwrap_or(-1);
            let client_socket = if (*c).master.is_null() {
                socket_fd(c)
            } else {
                None
            };
            Ok(ConnIo {
                c,
                input,
                output,
                input_fd,
                client_socket,
                _lives: PhantomData,
            })
        }
    }

    /// A duplicate of the client socket's descriptor (close-on-exec), which
    /// stays open when Apache closes its own; none for an HTTP/2 stream.
    pub fn duplicate_socket(&self) -> io::Result<OwnedFd> {
        let Some(socket) = self.client_socket else {
            return Err(io::Error::other(
                "an HTTP/2 stream has no socket of its own",
            ));
        };
        // SAFETY: the connection's open socket for as long as this value
        // exists; borrowing it only to duplicate it.
        let borrowed = unsafe { BorrowedFd::borrow_raw(socket) };
        borrowed.try_clone_to_owned()
    }

    /// One non-blocking read through the input filters.
    pub fn read_now(&mut self, buf: &mut [u8]) -> Read {
        // SAFETY: the connection and brigades are live (see `new`).
        unsafe { read_nonblocking(self.c, self.input, buf) }
    }

    /// Polls the input and the wake-up; returns (input ready, woken).
    pub fn poll(&self, wakeup_fd: Option<i32>, timeout: Duration) -> (bool, bool) {
        let mut fds = [
            libc::pollfd {
                fd: self.input_fd,
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
