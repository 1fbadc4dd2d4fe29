//! What the session needs from the embedding server: a byte stream it can
//! read with a deadline and a wake-up, and write to.
use std::io;
use std::time::Duration;

use crate::sender::Wakeup;

/// How long a read may wait, and what may interrupt it.
#[derive(Clone, Copy)]
pub struct Wait<'a> {
    /// Fired by a [`crate::sender::Sender`] on another thread.
    pub wakeup: Option<&'a Wakeup>,
    /// `None`: wait as long as the server's own timeouts allow.
    pub timeout: Option<Duration>,
}

/// What a read produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// This many bytes were stored at the start of the buffer.
    Data(usize),
    /// The peer closed the connection (or it was reset).
    Eof,
    /// The wake-up fired before any input arrived.
    Woken,
    /// The timeout passed with no input.
    TimedOut,
    /// The server is shutting down: close the WebSocket with 1001.
    Stopping,
}

/// A connection as the protocol core sees it. Implementations must return
/// bytes the server has already buffered (TLS records decrypted earlier)
/// before they wait on the socket.
pub trait Transport {
    fn read(&mut self, buf: &mut [u8], wait: Wait<'_>) -> io::Result<Input>;
    /// Writes all of `data` and pushes it to the peer.
    fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
}
