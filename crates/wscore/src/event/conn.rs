//! What a callback may do with its connection.
use std::time::{Duration, Instant};

use crate::error::WsError;
use crate::handler::HandshakeRequest;
use crate::protocol::{DataKind, Message};
use crate::sender::Sender;
use crate::session::Session;

/// The connection as a callback sees it. Sends are queued on the session
/// and written by the driver once the callback returns.
pub struct Conn<'a> {
    session: &'a mut Session,
    wants: &'a mut Wants,
    now: Instant,
}

/// What a callback asked to be called back for.
#[derive(Default)]
pub(super) struct Wants {
    /// When `on_timer` is due.
    pub timer: Option<Instant>,
    /// `on_written` once the output is out; message callbacks wait.
    pub written: bool,
}

impl<'a> Conn<'a> {
    pub(super) fn new(session: &'a mut Session, wants: &'a mut Wants, now: Instant) -> Conn<'a> {
        Conn {
            session,
            wants,
            now,
        }
    }

    /// The handshake this connection was opened with.
    pub fn request(&self) -> &HandshakeRequest {
        self.session.request()
    }

    /// A handle other threads (or other connections) use to send here.
    pub fn sender(&self) -> Sender {
        self.session.sender()
    }

    /// The time this callback runs at, by the driver's clock.
    pub fn now(&self) -> Instant {
        self.now
    }

    pub fn send(&mut self, message: &Message) -> Result<(), WsError> {
        Ok(self.session.send_message(message)?)
    }

    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        Ok(self.session.send_data(DataKind::Text, text.as_bytes())?)
    }

    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        Ok(self.session.send_data(DataKind::Binary, data)?)
    }

    /// Sends a message as it is even where compression was negotiated.
    pub fn send_uncompressed(&mut self, message: &Message) -> Result<(), WsError> {
        Ok(self.session.send_uncompressed(message)?)
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        Ok(self.session.send_ping(payload)?)
    }

    /// Starts the closing handshake (or, in `on_close`, chooses the
    /// answer). Returns at once: no message callback runs after it, and
    /// the connection ends when the peer answers or gives no answer in
    /// [`crate::session::CLOSE_WAIT`]. Closing twice is harmless.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        Ok(self.session.close(code, reason)?)
    }

    /// Calls `on_timer` once, `after` from now; replaces a timer already set.
    pub fn set_timer(&mut self, after: Duration) {
        self.wants.timer = Some(self.now + after);
    }

    pub fn cancel_timer(&mut self) {
        self.wants.timer = None;
    }

    /// Calls `on_written` once everything sent so far has been written to
    /// the connection, and holds `on_message` (the client's input waits)
    /// until then. For more output than should sit in memory at once: send
    /// a part, call this, send the next part from `on_written`, so the
    /// client's reading paces the handler as a blocking write would.
    pub fn when_written(&mut self) {
        self.wants.written = true;
    }
}
