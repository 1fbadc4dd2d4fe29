//! One connection's whole protocol state, sans-IO: fed the bytes read and
//! the time, it says what to write, what happened and when it next needs
//! to be woken. Both the blocking [`crate::websocket::WebSocket`] and an
//! event driver run on it, so every rule of a live connection (pongs, the
//! closing handshake, keep-alive pings, idle and stall limits, the wait for
//! the peer's close, the [`Sender`] queue, deflate-stream) is here once.
use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use crate::close::{codes, CloseFrame, ProtocolError};
use crate::codec::Codec;
use crate::error::WsError;
use crate::extensions::Compression;
use crate::handler::HandshakeRequest;
use crate::keepalive::{Clock, Due, Timeouts, TRANSPORT_PING};
use crate::protocol::{DataKind, Event, Message, Protocol, ProtocolConfig, SendError};
use crate::sender::{Inbox, Outgoing, Sender, Wakeup};

mod stream_wire;
use stream_wire::StreamWire;

/// How long a close this side sent waits for the peer's answer before the
/// session ends anyway.
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Counters for the access log and debug lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub messages_in: u64,
    pub messages_out: u64,
}

/// How a session ended; once it has, nothing more is read or sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// Both sides' closes went out (Hixie-75: the peer closed TCP).
    Closed,
    /// The peer broke the protocol; the close with the error's code is queued.
    Failed(ProtocolError),
    /// A time limit passed (idle, stalled frame, close unanswered); a 1001
    /// close is queued unless one went out before.
    Expired(&'static str),
    /// The connection is gone without a closing handshake.
    Lost,
    /// The server is stopping; a 1001 close is queued.
    Stopping,
}

impl End {
    /// The error a blocking caller reports for this ending.
    pub fn error(&self) -> WsError {
        match self {
            End::Closed => WsError::Closed,
            End::Failed(error) => WsError::Protocol(*error),
            End::Expired(_) => WsError::TimedOut,
            End::Lost => WsError::ConnectionLost,
            End::Stopping => WsError::ServerStopping,
        }
    }
}

pub struct Session {
    codec: Box<dyn Codec>,
    /// deflate-stream: every byte read and written goes through it.
    stream: Option<StreamWire>,
    inbox: Inbox,
    request: HandshakeRequest,
    /// The code of the close this side sent, once sent.
    close_sent: Option<u16>,
    /// When an unanswered close of ours gives up; set at the first
    /// [`Session::tick`] after it went out.
    close_deadline: Option<Instant>,
    end: Option<End>,
    stats: Stats,
    timeouts: Timeouts,
    clock: Clock,
    /// Trace lines not yet taken, while tracing is on.
    trace: Option<VecDeque<String>>,
}

impl Session {
    /// An RFC 6455 session (with deflate-stream below the frames if
    /// `config` says so).
    pub fn new(
        request: HandshakeRequest,
        config: ProtocolConfig,
        now: Instant,
    ) -> io::Result<Session> {
        let deflate_stream = config.compression == Some(Compression::Stream);
        let mut session = Session::with_codec(request, Box::new(Protocol::new(config)), now)?;
        session.stream = deflate_stream.then(StreamWire::default);
        Ok(session)
    }

    /// A session over another framing (the old drafts' [`crate::hixie::HixieProtocol`]).
    pub fn with_codec(
        request: HandshakeRequest,
        codec: Box<dyn Codec>,
        now: Instant,
    ) -> io::Result<Session> {
        Ok(Session {
            codec,
            stream: None,
            inbox: Inbox::new()?,
            request,
            close_sent: None,
            close_deadline: None,
            end: None,
            stats: Stats::default(),
            timeouts: Timeouts::default(),
            clock: Clock::new(now),
            trace: None,
        })
    }

    pub fn request(&self) -> &HandshakeRequest {
        &self.request
    }

    /// A handle other threads use to send to this connection.
    pub fn sender(&self) -> Sender {
        self.inbox.sender()
    }

    /// Readable when a [`Sender`] queued something: what a blocking wait
    /// polls (`None` after [`Session::notify_pushes_with`]).
    pub fn wakeup(&self) -> Option<&Wakeup> {
        self.inbox.wakeup()
    }

    /// Pushes call `notify` (on the pushing thread) instead of making a
    /// descriptor readable: for a driver that parks many connections. Call
    /// it before any [`Sender`] is handed out; earlier ones stay with the
    /// old queue.
    pub fn notify_pushes_with(&mut self, notify: impl Fn() + Send + Sync + 'static) {
        self.inbox = Inbox::notifying(notify);
    }

    /// Clears a wake-up that fired (its items are taken by [`Session::drain_queue`]).
    pub fn acknowledge_wakeup(&self) {
        self.inbox.acknowledge_wakeup();
    }

    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
    }

    /// Records a line for every message, control frame and close, both
    /// ways, for [`Session::take_trace`].
    pub fn set_tracing(&mut self, on: bool) {
        self.trace = on.then(VecDeque::new);
    }

    /// The trace lines recorded since the last call, oldest first.
    pub fn take_trace(&mut self) -> VecDeque<String> {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn trace(&mut self, line: impl FnOnce() -> String) {
        if let Some(lines) = self.trace.as_mut() {
            lines.push_back(line());
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    // ---- input and time ----

    /// Bytes read from the peer.
    pub fn feed(&mut self, bytes: &[u8], now: Instant) {
        self.clock.input(now);
        match &mut self.stream {
            Some(stream) => stream.push_input(bytes),
            None => self.codec.feed(bytes),
        }
    }

    /// The peer closed its side. True when that is this draft's normal
    /// close (Hixie-75): a `Close` event follows. Otherwise the session is
    /// [`End::Lost`].
    pub fn end_of_input(&mut self) -> bool {
        if self.codec.peer_closed_connection() {
            return true;
        }
        self.connection_lost();
        false
    }

    /// The transport failed or is gone: nothing more can be written.
    pub fn connection_lost(&mut self) {
        self.inbox.close();
        self.end.get_or_insert(End::Lost);
    }

    /// The server is stopping: closes with 1001 without waiting.
    pub fn stop(&mut self) {
        self.close_now(codes::GOING_AWAY, "server stopping");
        self.end.get_or_insert(End::Stopping);
    }

    /// Lets time pass: sends a keep-alive ping when one is due, and ends
    /// the session when a limit has passed.
    pub fn tick(&mut self, now: Instant) {
        if self.end.is_some() {
            return;
        }
        if self.awaits_close_answer() {
            let deadline = *self.close_deadline.get_or_insert(now + CLOSE_WAIT);
            if now >= deadline {
                return self.expire("close not answered");
            }
        }
        loop {
            match self
                .clock
                .due(&self.timeouts, now, self.codec.is_mid_frame())
            {
                due @ (Due::Ping | Due::TransportPing) => {
                    self.clock.pinged(now);
                    let payload = match due {
                        Due::TransportPing => TRANSPORT_PING,
                        _ => b"",
                    };
                    // The old drafts have no ping (their idle limit alone
                    // applies), and none goes out after a close.
                    let _ = self.codec.send_ping(payload);
                }
                Due::Expired(reason) => return self.expire(reason),
                Due::Wait(_) => return,
            }
        }
    }

    /// When [`Session::tick`] must run next, if nothing arrives before;
    /// `None` once ended, or when no limit is set.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        if self.is_finished() {
            return None;
        }
        let clock = match self
            .clock
            .due(&self.timeouts, now, self.codec.is_mid_frame())
        {
            Due::Wait(after) => after.map(|after| now + after),
            Due::Ping | Due::TransportPing | Due::Expired(_) => Some(now),
        };
        let close = self
            .awaits_close_answer()
            .then(|| self.close_deadline.unwrap_or(now + CLOSE_WAIT));
        clock.into_iter().chain(close).min()
    }

    /// The next event from the input so far. Pings are answered already; a
    /// peer's `Close` is answered with [`Session::close`] (unless this side
    /// closed first). A protocol error ends the session instead.
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            if self.end.is_some() {
                return None;
            }
            match self.codec.poll_event() {
                Ok(Some(event)) => {
                    if !matches!(&event, Event::Pong(p) if p == TRANSPORT_PING) {
                        self.clock.activity();
                    }
                    self.trace(|| format!("in: {}", describe(&event)));
                    match &event {
                        Event::Message(_) => self.stats.messages_in += 1,
                        Event::Ping(payload) => {
                            let n = payload.len();
                            self.trace(|| format!("out: pong, {n} bytes"));
                        }
                        Event::Pong(_) | Event::Close(_) => {}
                    }
                    return Some(event);
                }
                Ok(None) if self.inflate_some() => {}
                Ok(None) => {
                    // Part of a frame is activity too (a long message
                    // arriving slowly is not idle).
                    if self.codec.is_mid_frame() {
                        self.clock.activity();
                    } else {
                        self.clock.settled();
                    }
                    return None;
                }
                Err(error) => {
                    self.trace(|| {
                        format!(
                            "in: protocol error, out: close {}: {}",
                            error.code, error.reason
                        )
                    });
                    self.fail(error);
                    return None;
                }
            }
        }
    }

    /// Feeds the codec one bounded piece of the inflated deflate-stream;
    /// false when there is none.
    fn inflate_some(&mut self) -> bool {
        let Some(stream) = self.stream.as_mut() else {
            return false;
        };
        match stream.inflate_some() {
            Ok(Some(inflated)) => {
                self.codec.feed(&inflated);
                true
            }
            Ok(None) => false,
            Err(error) => {
                let error = self.codec.fail_connection(error);
                self.fail(error);
                false
            }
        }
    }

    /// The codec queued a close carrying the error's code.
    fn fail(&mut self, error: ProtocolError) {
        self.close_sent.get_or_insert(error.code);
        self.end.get_or_insert(End::Failed(error));
    }

    fn expire(&mut self, reason: &'static str) {
        self.close_now(codes::GOING_AWAY, reason);
        self.end.get_or_insert(End::Expired(reason));
    }

    // ---- what this side sends ----

    /// A whole message, compressed if an extension was negotiated.
    pub fn send_message(&mut self, message: &Message) -> Result<(), SendError> {
        let (kind, data) = parts(message);
        self.send_data(kind, data)
    }

    /// [`Session::send_message`] without the `Message`: text must be UTF-8.
    pub fn send_data(&mut self, kind: DataKind, data: &[u8]) -> Result<(), SendError> {
        self.codec.send_message(kind, data)?;
        self.trace(|| format!("out: {kind:?} message, {} bytes", data.len()));
        self.stats.messages_out += 1;
        Ok(())
    }

    /// A whole message as it is even where compression was negotiated.
    pub fn send_uncompressed(&mut self, message: &Message) -> Result<(), SendError> {
        let (kind, data) = parts(message);
        self.codec.send_message_uncompressed(kind, data)?;
        self.stats.messages_out += 1;
        Ok(())
    }

    /// One fragment of a message; the first decides text or binary, the
    /// last has `fin` set.
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        self.codec.send_fragment(kind, data, fin)?;
        self.trace(|| format!("out: {kind:?} fragment, {} bytes, fin={fin}", data.len()));
        if fin {
            self.stats.messages_out += 1;
        }
        Ok(())
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.codec.send_ping(payload)?;
        self.trace(|| format!("out: ping, {} bytes", payload.len()));
        Ok(())
    }

    /// Queues this side's close (the one place that sends a close); does
    /// nothing once a close went out or the connection failed. Started by
    /// this side, it waits [`CLOSE_WAIT`] for the answer.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), SendError> {
        if self.close_sent.is_some() || self.codec.is_failed() || self.end.is_some() {
            return Ok(());
        }
        self.codec.send_close(Some((code, reason)))?;
        self.close_sent = Some(code);
        self.trace(|| format!("out: close {code} {reason:?}"));
        Ok(())
    }

    /// A close that ends the session at once (nobody waits for the answer).
    fn close_now(&mut self, code: u16, reason: &str) {
        let _ = self.close(code, reason);
    }

    /// Moves what other threads' [`Sender`]s queued into the output, in
    /// order. Items after this side's close are dropped; any other refusal
    /// (binary on an old draft, an oversized ping) is returned.
    pub fn drain_queue(&mut self) -> Result<(), SendError> {
        for item in self.inbox.take_all() {
            let sent = match item {
                Outgoing::Message(message) => self.send_message(&message),
                Outgoing::Ping(payload) => self.send_ping(&payload),
                Outgoing::Close(code, reason) => self.close(code, &reason),
            };
            match sent {
                Ok(()) | Err(SendError::Closed) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    // ---- output ----

    /// Bytes to write, in order (deflate-stream applied).
    pub fn output(&mut self) -> &[u8] {
        match &mut self.stream {
            Some(stream) => stream.output(self.codec.as_mut()),
            None => self.codec.output(),
        }
    }

    /// Gives back the memory of buffers that hold nothing: for a driver
    /// about to park the connection (an idle WebSocket then costs little
    /// however large its last message was).
    pub fn release_idle_memory(&mut self) {
        self.codec.release_idle_memory();
        if let Some(stream) = self.stream.as_mut() {
            stream.release_idle_memory();
        }
    }

    /// Marks the first `n` bytes of [`Session::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        match &mut self.stream {
            Some(stream) => stream.consume_output(n),
            None => self.codec.consume_output(n),
        }
    }

    // ---- state ----

    /// True once the session has ended: nothing more to read, and nothing
    /// more will be queued (what is in [`Session::output`] still goes out).
    pub fn is_finished(&self) -> bool {
        self.end().is_some()
    }

    pub fn end(&self) -> Option<End> {
        self.end.clone().or_else(|| {
            (self.close_sent.is_some() && self.codec.close_received()).then_some(End::Closed)
        })
    }

    /// Our close went out and the peer's has not come.
    fn awaits_close_answer(&self) -> bool {
        self.close_sent.is_some() && !self.codec.close_received() && !self.codec.is_failed()
    }

    /// The code of the close this side sent, if any.
    pub fn close_sent(&self) -> Option<u16> {
        self.close_sent
    }

    /// True once the peer's close has arrived.
    pub fn close_received(&self) -> bool {
        self.codec.close_received()
    }

    pub fn is_failed(&self) -> bool {
        self.codec.is_failed()
    }

    /// The peer's close frame, if it carried a code.
    pub fn peer_close(&self) -> Option<&CloseFrame> {
        self.codec.peer_close()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.inbox.close();
    }
}

fn parts(message: &Message) -> (DataKind, &[u8]) {
    match message {
        Message::Text(text) => (DataKind::Text, text.as_bytes()),
        Message::Binary(data) => (DataKind::Binary, data),
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

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
