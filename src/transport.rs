//! The connection as a byte stream for wscore: reads and writes go through
//! the connection's filter chain (so mod_ssl decrypts and encrypts as for
//! any response), waits poll the socket and the Sender wake-up together.
use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use wscore::transport::{Input, Transport, Wait};

use crate::apache::conn_io::{ConnIo, Read};
use crate::apache::request::Request;
use crate::lifecycle::server_is_stopping;

/// The longest a poll sleeps before looking again (for the deadline).
const POLL_SLICE: Duration = Duration::from_secs(1);

/// The taken-over connection of a request; `'r`: it lives no longer than
/// the request.
pub struct ApacheTransport<'r> {
    io: ConnIo<'r>,
    bytes_in: u64,
    bytes_out: u64,
}

impl<'r> ApacheTransport<'r> {
    /// For the request whose connection this module takes over.
    pub fn new(r: Request<'r>) -> io::Result<ApacheTransport<'r>> {
        Ok(ApacheTransport {
            io: ConnIo::new(r)?,
            bytes_in: 0,
            bytes_out: 0,
        })
    }

    /// A duplicate of the client socket's descriptor (close-on-exec), which
    /// stays open when Apache closes its own.
    pub fn duplicate_socket(&self) -> io::Result<OwnedFd> {
        self.io.duplicate_socket()
    }

    /// Bytes read from the client since the request head.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Bytes written to the client, the 101 response included.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }
}

impl Transport for ApacheTransport<'_> {
    fn read(&mut self, buf: &mut [u8], wait: Wait<'_>) -> io::Result<Input> {
        let deadline = wait.timeout.map(|t| Instant::now() + t);
        let wakeup_fd = wait.wakeup.map(|w| w.fd());
        loop {
            // Filters may hold bytes the socket no longer shows (a TLS
            // record decrypted earlier): always ask them before polling.
            match self.io.read_now(buf) {
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
            let (_readable, woken) = self.io.poll(wakeup_fd, slice);
            if woken {
                return Ok(Input::Woken);
            }
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self.io.write_all(data) {
            Ok(()) => {
                self.bytes_out += data.len() as u64;
                Ok(())
            }
            Err(status) => Err(io::Error::other(format!(
                "writing to the client failed (APR status {status})"
            ))),
        }
    }
}
