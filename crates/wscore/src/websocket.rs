//! The live connection a handler's `transfer_data` works with: blocking
//! receive and send over a [`Transport`], every protocol rule being the
//! [`Session`]'s. Messages from other threads' [`Sender`]s are written while
//! it waits for input.
use std::time::Instant;

use crate::close::CloseFrame;
use crate::codec::Codec;
use crate::error::WsError;
use crate::handler::{Handler, HandshakeRequest};
use crate::keepalive::Timeouts;
use crate::protocol::{DataKind, Event, Message, ProtocolConfig};
use crate::sender::Sender;
use crate::session::Session;
pub use crate::session::{Stats, CLOSE_WAIT};
use crate::transport::{Input, Transport, Wait};

/// Bytes read from the transport at a time.
const READ_CHUNK: usize = 8 * 1024;

/// Receives the trace lines of one connection.
type Tracer<'t> = Box<dyn FnMut(&str) + 't>;

pub struct WebSocket<'t> {
    transport: &'t mut dyn Transport,
    handler: &'t dyn Handler,
    session: Session,
    read_buf: Vec<u8>,
    /// Receives one line per message, control frame and close, both ways.
    tracer: Option<Tracer<'t>>,
}

impl<'t> WebSocket<'t> {
    pub fn new(
        transport: &'t mut dyn Transport,
        handler: &'t dyn Handler,
        request: HandshakeRequest,
        config: ProtocolConfig,
    ) -> Result<WebSocket<'t>, WsError> {
        let session = Session::new(request, config, Instant::now())?;
        Ok(WebSocket::over(transport, handler, session))
    }

    /// A session over another framing (the old drafts' [`crate::hixie::HixieProtocol`]).
    pub fn with_codec(
        transport: &'t mut dyn Transport,
        handler: &'t dyn Handler,
        request: HandshakeRequest,
        codec: Box<dyn Codec>,
    ) -> Result<WebSocket<'t>, WsError> {
        let session = Session::with_codec(request, codec, Instant::now())?;
        Ok(WebSocket::over(transport, handler, session))
    }

    fn over(
        transport: &'t mut dyn Transport,
        handler: &'t dyn Handler,
        session: Session,
    ) -> WebSocket<'t> {
        WebSocket {
            transport,
            handler,
            session,
            read_buf: vec![0; READ_CHUNK],
            tracer: None,
        }
    }

    /// The handshake this connection was opened with (resource, origin,
    /// chosen subprotocol, options...).
    pub fn request(&self) -> &HandshakeRequest {
        self.session.request()
    }

    /// A handle other threads can use to send to this connection.
    pub fn sender(&self) -> Sender {
        self.session.sender()
    }

    /// Idle timeout, keep-alive pings and the stalled-frame limit (none by default).
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.session.set_timeouts(timeouts);
    }

    /// Calls `tracer` with a line for every message, control frame and
    /// close, received and sent (the server's `trace1` log level).
    pub fn set_tracer(&mut self, tracer: impl FnMut(&str) + 't) {
        self.session.set_tracing(true);
        self.tracer = Some(Box::new(tracer));
    }

    pub fn stats(&self) -> Stats {
        self.session.stats()
    }

    /// The next message, or `None` once the client has closed (the closing
    /// handshake is then already answered).
    pub fn receive_message(&mut self) -> Result<Option<Message>, WsError> {
        loop {
            if self.session.close_received() {
                return Ok(None);
            }
            match self.next_event()? {
                Event::Message(message) => return Ok(Some(message)),
                Event::Close(frame) => {
                    self.answer_peer_close(frame.as_ref())?;
                    return Ok(None);
                }
                Event::Ping(_) | Event::Pong(_) => {}
            }
        }
    }

    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.session.send_data(DataKind::Text, text.as_bytes())?;
        self.flush()
    }

    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.session.send_data(DataKind::Binary, data)?;
        self.flush()
    }

    pub fn send_message(&mut self, message: &Message) -> Result<(), WsError> {
        self.session.send_message(message)?;
        self.flush()
    }

    /// Sends a message as it is even where compression was negotiated
    /// (e.g. data that is already compressed).
    pub fn send_message_uncompressed(&mut self, message: &Message) -> Result<(), WsError> {
        self.session.send_uncompressed(message)?;
        self.flush()
    }

    /// One fragment of a message; the first decides text or binary, the
    /// last has `fin` set. Nothing else may be sent in between but pings.
    pub fn send_fragment(&mut self, kind: DataKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.session.send_fragment(kind, data, fin)?;
        self.flush()
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.session.send_ping(payload)?;
        self.flush()
    }

    /// Starts the closing handshake and waits (up to [`CLOSE_WAIT`]) for
    /// the client's answer; messages arriving meanwhile are discarded.
    /// Closing twice is harmless.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        self.session.close(code, reason)?;
        self.flush()?;
        while !self.session.close_received() && !self.session.is_failed() {
            self.next_event()?;
        }
        Ok(())
    }

    /// The protocol state underneath (counts, closes), read-only.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The client's close code, once it has closed (`None` if its close
    /// frame carried no code).
    pub fn close_code(&self) -> Option<u16> {
        self.session.peer_close().map(|c| c.code)
    }

    pub fn close_reason(&self) -> Option<&str> {
        self.session.peer_close().map(|c| c.reason.as_str())
    }

    /// True once the client's close frame has arrived.
    pub fn close_received(&self) -> bool {
        self.session.close_received()
    }

    /// The code of the close frame this side sent, if any.
    pub fn close_sent(&self) -> Option<u16> {
        self.session.close_sent()
    }

    /// Sends the close a failed handler owes the client, unless one went out.
    pub(crate) fn finish(&mut self, code: u16, reason: &str) {
        if self.session.close_received() || self.session.is_failed() {
            // Answered already (or failed: RFC 6455 §7.1.7 says stop processing).
            return;
        }
        let _ = self.close(code, reason);
    }

    /// The session, for the event-style runner that drives it itself.
    pub(crate) fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The next session event, waiting for input as needed.
    fn next_event(&mut self) -> Result<Event, WsError> {
        loop {
            let event = self.session.poll_event();
            // Writes the pong or the failure's close, and the trace lines.
            let flushed = self.flush();
            if let Some(event) = event {
                flushed?;
                return Ok(event);
            }
            if let Some(end) = self.session.end() {
                return Err(end.error()); // what ended it matters more than the write
            }
            flushed?;
            self.wait_for_input(None)?;
        }
    }

    fn answer_peer_close(&mut self, frame: Option<&CloseFrame>) -> Result<(), WsError> {
        if self.session.close_sent().is_some() {
            return Ok(()); // the peer answered our close
        }
        let request = self.session.request();
        if let Some(report) = self.handler.message_before_closing(request, frame) {
            self.send_message(&report)?;
        }
        let (code, reason) = self.handler.passive_closing_handshake(frame);
        self.session.close(code, &reason)?;
        self.flush()
    }

    /// Waits until there is input for the session (or it has ended, or
    /// `until` has come), writing meanwhile what [`Sender`]s queue and what
    /// the session's clock sends (pings, the close of an expiry).
    pub(crate) fn wait_for_input(&mut self, until: Option<Instant>) -> Result<(), WsError> {
        loop {
            self.session.drain_queue()?;
            let now = Instant::now();
            self.session.tick(now);
            self.flush()?;
            if self.session.is_finished() || until.is_some_and(|at| now >= at) {
                return Ok(());
            }
            let wake = self.session.next_wake(now).into_iter().chain(until).min();
            let wait = Wait {
                wakeup: self.session.wakeup(),
                timeout: wake.map(|at| at.saturating_duration_since(now)),
            };
            match self.transport.read(&mut self.read_buf, wait)? {
                Input::Data(n) => {
                    self.session.feed(&self.read_buf[..n], Instant::now());
                    return Ok(());
                }
                Input::Woken => self.session.acknowledge_wakeup(),
                Input::TimedOut => {}
                Input::Eof if self.session.end_of_input() => return Ok(()),
                Input::Eof => return Err(WsError::ConnectionLost),
                Input::Stopping => {
                    self.session.stop();
                    let _ = self.flush();
                    return Err(WsError::ServerStopping);
                }
            }
        }
    }

    /// Writes everything the session has queued, in one write when
    /// possible, and hands on its trace lines.
    pub(crate) fn flush(&mut self) -> Result<(), WsError> {
        if let Some(tracer) = self.tracer.as_mut() {
            for line in self.session.take_trace() {
                tracer(&line);
            }
        }
        let pending = self.session.output();
        if pending.is_empty() {
            return Ok(());
        }
        let n = pending.len();
        let result = self.transport.write_all(pending);
        self.session.consume_output(n);
        if result.is_err() {
            self.session.connection_lost();
        }
        result.map_err(WsError::Io)
    }
}

// Names the unit tests took from this module before the session moved out.
#[cfg(test)]
use {crate::close::codes, std::time::Duration};

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod tests;
