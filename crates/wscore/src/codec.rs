//! What the session needs from a framing: RFC 6455's [`Protocol`] or the
//! old drafts' [`crate::hixie::HixieProtocol`], fed bytes and yielding
//! events and bytes to write (sans-IO).
use crate::close::{CloseFrame, ProtocolError};
use crate::protocol::{DataKind, Event, Protocol, SendError};

pub trait Codec: Send {
    fn feed(&mut self, bytes: &[u8]);
    /// The next event from the buffered input; `Ok(None)` needs more input.
    fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError>;
    fn send_message(&mut self, kind: DataKind, payload: &[u8]) -> Result<(), SendError>;
    /// A message sent as it is even where compression was negotiated.
    fn send_message_uncompressed(
        &mut self,
        kind: DataKind,
        payload: &[u8],
    ) -> Result<(), SendError> {
        self.send_message(kind, payload)
    }
    fn send_fragment(&mut self, kind: DataKind, payload: &[u8], fin: bool)
        -> Result<(), SendError>;
    fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError>;
    fn send_close(&mut self, close: Option<(u16, &str)>) -> Result<(), SendError>;
    /// Bytes waiting to be written.
    fn output(&self) -> &[u8];
    fn consume_output(&mut self, n: usize);
    fn close_received(&self) -> bool;
    fn is_failed(&self) -> bool;
    fn peer_close(&self) -> Option<&CloseFrame>;
    /// Fails the connection for an error found outside the codec (a broken
    /// deflate-stream), queuing the close it calls for; returns the error.
    fn fail_connection(&mut self, error: ProtocolError) -> ProtocolError;
    /// Part of a frame has arrived, the rest has not.
    fn is_mid_frame(&self) -> bool;
    /// Frees buffer capacity that holds nothing (see
    /// [`Protocol::release_idle_memory`]).
    fn release_idle_memory(&mut self) {}
    /// The peer closed TCP. Returns true when that is this draft's normal
    /// close (Hixie-75 has no close frame): a `Close` event follows.
    fn peer_closed_connection(&mut self) -> bool {
        false
    }
}

impl Codec for Protocol {
    fn send_message_uncompressed(
        &mut self,
        kind: DataKind,
        payload: &[u8],
    ) -> Result<(), SendError> {
        Protocol::send_message_uncompressed(self, kind, payload)
    }

    fn fail_connection(&mut self, error: ProtocolError) -> ProtocolError {
        Protocol::fail_connection(self, error)
    }

    fn release_idle_memory(&mut self) {
        Protocol::release_idle_memory(self)
    }

    fn feed(&mut self, bytes: &[u8]) {
        Protocol::feed(self, bytes)
    }

    fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        Protocol::poll_event(self)
    }

    fn send_message(&mut self, kind: DataKind, payload: &[u8]) -> Result<(), SendError> {
        Protocol::send_message(self, kind, payload)
    }

    fn send_fragment(
        &mut self,
        kind: DataKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        Protocol::send_fragment(self, kind, payload, fin)
    }

    fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        Protocol::send_ping(self, payload)
    }

    fn send_close(&mut self, close: Option<(u16, &str)>) -> Result<(), SendError> {
        Protocol::send_close(self, close)
    }

    fn output(&self) -> &[u8] {
        Protocol::output(self)
    }

    fn consume_output(&mut self, n: usize) {
        Protocol::consume_output(self, n)
    }

    fn close_received(&self) -> bool {
        Protocol::close_received(self)
    }

    fn is_failed(&self) -> bool {
        Protocol::is_failed(self)
    }

    fn peer_close(&self) -> Option<&CloseFrame> {
        Protocol::peer_close(self)
    }

    fn is_mid_frame(&self) -> bool {
        Protocol::is_mid_frame(self)
    }
}
