//! The connection as a byte stream for wscore: reads and writes go through
//! the connection's filter chain (so mod_ssl decrypts and encrypts as for
//! any response), waits poll the socket and the Sender wake-up together.
use std::io;
use std::os::raw::c_void;
use std::time::{Duration, Instant};

use wscore::transport::{Input, Transport, Wait};

use crate::ffi;
use crate::lifecycle::server_is_stopping;

const APR_SUCCESS: ffi::apr_status_t = 0;
const APR_EOF: ffi::apr_status_t = 70014;
const EAGAIN: ffi::apr_status_t = libc::EAGAIN;
/// The longest a poll sleeps before looking again (for the deadline).
const POLL_SLICE: Duration = Duration::from_secs(1);

pub struct ApacheTransport {
    c: *mut ffi::conn_rec,
    input: *mut ffi::apr_bucket_brigade,
    output: *mut ffi::apr_bucket_brigade,
    socket_fd: i32,
    bytes_in: u64,
    bytes_out: u64,
}

enum Read {
    Data(usize),
    Nothing,
    Eof,
}

impl ApacheTransport {
    /// # Safety
    /// `r` must be the request whose connection this module has taken
    /// over; the transport must not outlive it.
    pub unsafe fn new(r: *mut ffi::request_rec) -> io::Result<ApacheTransport> {
        // SAFETY: brigades are created once per connection in r->pool (which
        // lives as long as the WebSocket) and reused for every read/write.
        unsafe {
            let c = (*r).connection;
            let input = ffi::apr_brigade_create((*r).pool, (*c).bucket_alloc);
            let output = ffi::apr_brigade_create((*r).pool, (*c).bucket_alloc);
            let mut socket_fd: ffi::apr_os_sock_t = -1;
            let socket = ffi::ap_get_conn_socket(c);
            if socket.is_null() || ffi::apr_os_sock_get(&mut socket_fd, socket) != APR_SUCCESS {
                return Err(io::Error::other("the connection has no socket"));
            }
            Ok(ApacheTransport {
                c,
                input,
                output,
                socket_fd,
                bytes_in: 0,
                bytes_out: 0,
            })
        }
    }

    /// A duplicate of the client socket's descriptor (close-on-exec), which
    /// stays open when Apache closes its own.
    pub fn duplicate_socket(&self) -> io::Result<std::os::fd::OwnedFd> {
        // SAFETY: socket_fd is the connection's open socket for as long as
        // this transport exists; borrowing it only to duplicate it.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(self.socket_fd) };
        borrowed.try_clone_to_owned()
    }

    /// Bytes read from the client since the request head.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Bytes written to the client, the 101 response included.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// One non-blocking read through the input filters.
    fn read_now(&mut self, buf: &mut [u8]) -> Read {
        // SAFETY: the connection and brigades are live (see `new`); the
        // brigade is flattened into `buf` (at most buf.len() bytes) and
        // emptied before returning, so no bucket outlives the call.
        unsafe {
            let status = ffi::ap_get_brigade(
                (*self.c).input_filters,
                self.input,
                ffi::ap_input_mode_t_AP_MODE_READBYTES,
                ffi::apr_read_type_e_APR_NONBLOCK_READ,
                buf.len() as ffi::apr_off_t,
            );
            let result = match status {
                APR_SUCCESS => {
                    let mut len: ffi::apr_size_t = buf.len();
                    if ffi::apr_brigade_flatten(self.input, buf.as_mut_ptr().cast(), &mut len)
                        != APR_SUCCESS
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
            ffi::apr_brigade_cleanup(self.input.cast());
            result
        }
    }

    /// Polls the socket and the wake-up; returns (socket ready, woken).
    fn poll(&self, wakeup_fd: Option<i32>, timeout: Duration) -> (bool, bool) {
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
}

impl Transport for ApacheTransport {
    fn read(&mut self, buf: &mut [u8], wait: Wait<'_>) -> io::Result<Input> {
        let deadline = wait.timeout.map(|t| Instant::now() + t);
        let wakeup_fd = wait.wakeup.map(|w| w.fd());
        loop {
            // Filters may hold bytes the socket no longer shows (a TLS
            // record decrypted earlier): always ask them before polling.
            match self.read_now(buf) {
                Read::Data(n) => {
                    self.bytes_in += n as u64;
                    return Ok(Input::Data(n));
                }
                Read::Eof => return Ok(Input::Eof),
                Read::Nothing => {}
            }
            if server_is_stopping() {
                return Ok(Input::Stopping);
            }
            let slice = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(Input::TimedOut);
                    }
                    left.min(POLL_SLICE)
                }
                None => POLL_SLICE,
            };
            let (_readable, woken) = self.poll(wakeup_fd, slice);
            if woken {
                return Ok(Input::Woken);
            }
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
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
            self.bytes_out += data.len() as u64;
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "writing to the client failed (APR status {status})"
            )))
        }
    }
}
