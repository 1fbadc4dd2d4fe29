//! The live connection a handler's `transfer_data` works with: blocking
//! receive and send on top of the sans-IO [`Protocol`], with pings answered,
//! the closing handshake done, and messages from other threads' [`Sender`]s
//! written while it waits for input.
use std::time::{Duration, Instant};

use crate::close::{codes, CloseFrame};
use crate::codec::Codec;
use crate::error::WsError;
use crate::extensions::deflate_stream::DeflateStream;
use crate::extensions::Compression;
use crate::handler::{Handler, HandshakeRequest};
use crate::keepalive::{Clock, Due, Timeouts};
use crate::protocol::{DataKind, Event, Message, Protocol, ProtocolConfig};
use crate::sender::{Inbox, Outgoing, Sender};
use crate::transport::{Input, Transport, Wait};

/// Bytes read from the transport at a time.
const READ_CHUNK: usize = 8 * 1024;
/// How long a server-initiated close waits for the peer's answer before the
/// server drops the TCP connection anyway.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Counters for the access log and debug lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub messages_in: u64,
    pub messages_out: u64,
}

/// Receives the trace lines of one connection.
type Tracer<'t> = Box<dyn FnMut(&str) + 't>;

pub struct WebSocket<'t> {
    transport: &'t mut dyn Transport,
    handler: &'t dyn Handler,
    protocol: Box<dyn Codec>,
    inbox: Inbox,
    read_buf: Vec<u8>,
    /// deflate-stream: every byte read and written goes through it.
    stream: Option<DeflateStream>,
    request: HandshakeRequest,
    /// The code we sent in our close frame, once sent.
    close_sent: Option<u16>,
    stats: Stats,
    timeouts: Timeouts,
    clock: Clock,
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
        let deflate_stream = config.compression == Some(Compression::Stream);
        let mut ws =
            WebSocket::with_codec(transport, handler, request, Box::new(Protocol::new(config)))?;
        ws.stream = deflate_stream.then(DeflateStream::default);
        Ok(ws)
    }

    /// A session over another framing (the old drafts' [`crate::hixie::HixieProtocol`]).
    pub fn with_codec(
        transport: &'t mut dyn Transport,
        handler: &'t dyn Handler,
        request: HandshakeRequest,
        codec: Box<dyn Codec>,
    ) -> Result<WebSocket<'t>, WsError> {
        Ok(WebSocket {
            transport,
            handler,
            protocol: codec,
            inbox: Inbox::new()?,
            read_buf: vec![0; READ_CHUNK],
            stream: None,
            request,
            close_sent: None,
            stats: Stats::default(),
            timeouts: Timeouts::default(),
            clock: Clock::new(Instant::now()),
            tracer: None,
        })
    }

    /// The handshake this connection was opened with (resource, origin,
    /// chosen subprotocol, options...).
    pub fn request(&self) -> &HandshakeRequest {
        &self.request
    }

    /// A handle other threads can use to send to this connection.
    pub fn sender(&self) -> Sender {
        self.inbox.sender()
    }

    /// Idle timeout, keep-alive pings and the stalled-frame limit (none by default).
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// Calls `tracer` with a line for every message, control frame and
    /// close, received and sent (the server's `trace1` log level).
    pub fn set_tracer(&mut self, tracer: impl FnMut(&str) + 't) {
        self.tracer = Some(Box::new(tracer));
    }

    fn trace(&mut self, line: impl FnOnce() -> String) {
        if let Some(tracer) = self.tracer.as_mut() {
            tracer(&line());
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The next message, or `None` once the client has closed (the closing
    /// handshake is then already answered).
    pub fn receive_message(&mut self) -> Result<Option<Message>, WsError> {
        loop {
            if self.protocol.close_received() {
                return Ok(None);
            }
            match self.next_event(None)? {
                Event::Message(message) => {
                    self.stats.messages_in += 1;
                    return Ok(Some(message));
                }
                Event::Close(frame) => {
                    self.answer_peer_close(frame.as_ref())?;
                    return Ok(None);
                }
                Event::Ping(_) | Event::Pong(_) => {}
            }
        }
    }

    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.send_data(DataKind::Text, text.as_bytes())
    }

    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.send_data(DataKind::Binary, data)
    }

    pub fn send_message(&mut self, message: &Message) -> Result<(), WsError> {
        match message {
            Message::Text(text) => self.send_text(text),
            Message::Binary(data) => self.send_binary(data),
        }
    }

    /// Sends a message as it is even where compression was negotiated
    /// (e.g. data that is already compressed).
    pub fn send_message_uncompressed(&mut self, message: &Message) -> Result<(), WsError> {
        let (kind, data) = match message {
            Message::Text(text) => (DataKind::Text, text.as_bytes()),
            Message::Binary(data) => (DataKind::Binary, data.as_slice()),
        };
        self.protocol.send_message_uncompressed(kind, data)?;
        self.stats.messages_out += 1;
        self.flush()
    }

    /// One fragment of a message; the first decides text or binary, the
    /// last has `fin` set. Nothing else may be sent in between but pings.
    pub fn send_fragment(&mut self, kind: DataKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.protocol.send_fragment(kind, data, fin)?;
        self.trace(|| format!("out: {kind:?} fragment, {} bytes, fin={fin}", data.len()));
        if fin {
            self.stats.messages_out += 1;
        }
        self.flush()
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.protocol.send_ping(payload)?;
        self.trace(|| format!("out: ping, {} bytes", payload.len()));
        self.flush()
    }

    /// Starts the closing handshake and waits (up to [`CLOSE_WAIT`]) for
    /// the client's answer; messages arriving meanwhile are discarded.
    /// Closing twice is harmless.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        if self.close_sent.is_none() && !self.protocol.is_failed() {
            self.queue_close(code, reason)?;
            self.flush()?;
        }
        let deadline = Instant::now() + CLOSE_WAIT;
        while !self.protocol.close_received() && !self.protocol.is_failed() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WsError::TimedOut);
            }
            self.next_event(Some(left))?;
        }
        Ok(())
    }

    /// The client's close code, once it has closed (`None` if its close
    /// frame carried no code).
    pub fn close_code(&self) -> Option<u16> {
        self.protocol.peer_close().map(|c| c.code)
    }

    pub fn close_reason(&self) -> Option<&str> {
        self.protocol.peer_close().map(|c| c.reason.as_str())
    }

    /// True once the client's close frame has arrived.
    pub fn close_received(&self) -> bool {
        self.protocol.close_received()
    }

    /// The code of the close frame this side sent, if any.
    pub fn close_sent(&self) -> Option<u16> {
        self.close_sent
    }

    /// Sends the close a failed handler owes the client, unless one went out.
    pub(crate) fn finish(&mut self, code: u16, reason: &str) {
        if self.protocol.close_received() || self.protocol.is_failed() {
            // Answered already (or failed: RFC 6455 §7.1.7 says stop processing).
            return;
        }
        let _ = self.close(code, reason);
    }

    fn send_data(&mut self, kind: DataKind, data: &[u8]) -> Result<(), WsError> {
        self.protocol.send_message(kind, data)?;
        self.trace(|| format!("out: {kind:?} message, {} bytes", data.len()));
        self.stats.messages_out += 1;
        self.flush()
    }

    /// The next protocol event, reading as needed; `timeout` bounds each wait.
    fn next_event(&mut self, timeout: Option<Duration>) -> Result<Event, WsError> {
        loop {
            match self.protocol.poll_event() {
                Ok(Some(event)) => {
                    self.trace(|| format!("in: {}", describe(&event)));
                    if let Event::Ping(payload) = &event {
                        let n = payload.len();
                        self.trace(|| format!("out: pong, {n} bytes"));
                        self.flush()?; // the pong is queued
                    }
                    return Ok(event);
                }
                Ok(None) => self.fill(timeout)?,
                Err(error) => {
                    self.trace(|| {
                        format!(
                            "in: protocol error, out: close {}: {}",
                            error.code, error.reason
                        )
                    });
                    // The protocol queued a close carrying the error's code.
                    self.close_sent.get_or_insert(error.code);
                    let _ = self.flush();
                    return Err(WsError::Protocol(error));
                }
            }
        }
    }

    fn answer_peer_close(&mut self, frame: Option<&CloseFrame>) -> Result<(), WsError> {
        if self.close_sent.is_some() {
            return Ok(()); // the peer answered our close
        }
        if let Some(report) = self.handler.message_before_closing(&self.request, frame) {
            self.send_message(&report)?;
        }
        let (code, reason) = self.handler.passive_closing_handshake(frame);
        self.queue_close(code, &reason)?;
        self.flush()
    }

    /// Reads more input, writing whatever other threads queued meanwhile,
    /// pinging and timing out as [`Timeouts`] say. `timeout` bounds this
    /// call alone (`Err(TimedOut)` without a close when it passes).
    fn fill(&mut self, timeout: Option<Duration>) -> Result<(), WsError> {
        let call_end = timeout.map(|t| Instant::now() + t);
        loop {
            if self.stream.as_ref().is_some_and(DeflateStream::has_input) {
                return self.inflate_stream();
            }
            self.write_queued()?;
            let now = Instant::now();
            let mut wait_for =
                match self
                    .clock
                    .due(&self.timeouts, now, self.protocol.is_mid_frame())
                {
                    Due::Ping => {
                        self.clock.pinged(now);
                        // The old drafts have no ping: their idle limit alone applies.
                        if self.protocol.send_ping(b"").is_ok() {
                            self.flush()?;
                        }
                        continue;
                    }
                    Due::Expired(reason) => {
                        self.send_close_now(codes::GOING_AWAY, reason);
                        return Err(WsError::TimedOut);
                    }
                    Due::Wait(limit) => limit,
                };
            if let Some(end) = call_end {
                let left = end.saturating_duration_since(now);
                if left.is_zero() {
                    return Err(WsError::TimedOut);
                }
                wait_for = Some(wait_for.map_or(left, |w| w.min(left)));
            }
            let wait = Wait {
                wakeup: Some(self.inbox.wakeup()),
                timeout: wait_for,
            };
            match self.transport.read(&mut self.read_buf, wait)? {
                Input::Data(n) => {
                    self.clock.input(Instant::now());
                    match &mut self.stream {
                        Some(stream) => stream.push_input(&self.read_buf[..n]),
                        None => {
                            self.protocol.feed(&self.read_buf[..n]);
                            return Ok(());
                        }
                    }
                }
                Input::Woken => self.inbox.acknowledge_wakeup(),
                Input::TimedOut => continue,
                Input::Eof if self.protocol.peer_closed_connection() => return Ok(()),
                Input::Eof => {
                    self.inbox.close();
                    return Err(WsError::ConnectionLost);
                }
                Input::Stopping => {
                    self.send_close_now(codes::GOING_AWAY, "server stopping");
                    return Err(WsError::ServerStopping);
                }
            }
        }
    }

    /// Sends a close without waiting for the answer (the session is ending).
    fn send_close_now(&mut self, code: u16, reason: &str) {
        if self.close_sent.is_none() && !self.protocol.is_failed() {
            let _ = self.queue_close(code, reason);
            let _ = self.flush();
        }
    }

    /// Feeds the protocol one bounded piece of the inflated deflate-stream.
    fn inflate_stream(&mut self) -> Result<(), WsError> {
        let stream = self.stream.as_mut().expect("deflate-stream");
        let mut inflated = Vec::new();
        if let Err(error) = stream.inflate_some(&mut inflated, READ_CHUNK) {
            let error = self.protocol.fail_connection(error);
            self.close_sent.get_or_insert(error.code);
            let _ = self.flush();
            return Err(WsError::Protocol(error));
        }
        self.protocol.feed(&inflated);
        Ok(())
    }

    fn write_queued(&mut self) -> Result<(), WsError> {
        for item in self.inbox.take_all() {
            match item {
                Outgoing::Message(message) => self.send_message(&message)?,
                Outgoing::Ping(payload) => self.send_ping(&payload)?,
                Outgoing::Close(code, reason) if self.close_sent.is_none() => {
                    self.queue_close(code, &reason)?;
                    self.flush()?;
                }
                Outgoing::Close(..) => {}
            }
        }
        Ok(())
    }

    /// Queues this side's close frame (the one place that sends a close).
    fn queue_close(&mut self, code: u16, reason: &str) -> Result<(), WsError> {
        self.protocol.send_close(Some((code, reason)))?;
        self.close_sent = Some(code);
        self.trace(|| format!("out: close {code} {reason:?}"));
        Ok(())
    }

    /// Writes everything the protocol has queued, in one write when possible.
    fn flush(&mut self) -> Result<(), WsError> {
        let pending = self.protocol.output();
        if pending.is_empty() {
            return Ok(());
        }
        let n = pending.len();
        let result = match &mut self.stream {
            Some(stream) => {
                let mut deflated = Vec::new();
                stream.deflate(pending, &mut deflated);
                self.transport.write_all(&deflated)
            }
            None => self.transport.write_all(pending),
        };
        self.protocol.consume_output(n);
        if result.is_err() {
            self.inbox.close();
        }
        result.map_err(WsError::Io)
    }
}

/// One line for the trace log.
fn describe(event: &Event) -> String {
    match event {
        Event::Message(Message::Text(text)) => format!("text message, {} bytes", text.len()),
        Event::Message(Message::Binary(data)) => format!("binary message, {} bytes", data.len()),
        Event::Ping(payload) => format!("ping, {} bytes", payload.len()),
        Event::Pong(payload) => format!("pong, {} bytes", payload.len()),
        Event::Close(Some(frame)) => format!("close {} {:?}", frame.code, frame.reason),
        Event::Close(None) => "close without a code".to_string(),
    }
}

impl Drop for WebSocket<'_> {
    fn drop(&mut self) {
        self.inbox.close();
    }
}

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod tests;
