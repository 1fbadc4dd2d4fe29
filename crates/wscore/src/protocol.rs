//! The server side of an RFC 6455 connection, sans-IO.
//!
//! Received bytes go in through [`Protocol::feed`], events come out of
//! [`Protocol::poll_event`], and every frame to send is appended to one
//! output buffer the caller drains with [`Protocol::output`] and
//! [`Protocol::consume_output`]. Payloads are unmasked, UTF-8 checked and
//! appended to the message as they arrive, so invalid text fails at once and
//! nothing is copied twice.
//!
//! With permessage-deflate or deflate-frame negotiated, compressed payloads
//! are inflated as they arrive, the inflated size counted against the
//! message limit, and sent messages are compressed (RSV1 set).

use std::fmt;

use crate::close::{
    codes, encode_close_payload, parse_close_payload, CloseFrame, ProtocolError,
    MAX_CONTROL_PAYLOAD,
};
use crate::extensions::codec::{Deflater, Inflater};
use crate::extensions::Compression;
use crate::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::mask::apply_mask;
use crate::utf8::Utf8Validator;

/// 16 MiB: the largest message Autobahn 9.x sends.
pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 16 * 1024 * 1024;

/// Up to this much of a declared payload is allocated up front; beyond it
/// the buffer grows as bytes really arrive, so a header alone cannot make
/// us allocate megabytes.
const EAGER_RESERVE_LIMIT: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolConfig {
    /// Largest message accepted, in bytes; a message of exactly this size is
    /// accepted, one byte more fails the connection with 1009.
    pub max_message_size: u64,
    /// Most frames one message may arrive in; one more fails with 1009, so
    /// a stream of tiny fragments cannot keep a message open forever.
    pub max_frames_per_message: u64,
    /// The compression extension the handshake agreed on. deflate-stream
    /// works below the frames and is not this type's business.
    pub compression: Option<Compression>,
}

/// Autobahn 9.3/9.4 send 4 MiB in 64-byte fragments (65,536 of them and
/// more); a limit of 2^20 leaves room for 16 MiB in 16-byte fragments.
pub const DEFAULT_MAX_FRAMES_PER_MESSAGE: u64 = 1 << 20;

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frames_per_message: DEFAULT_MAX_FRAMES_PER_MESSAGE,
            compression: None,
        }
    }
}

/// RSV1: "this message (or frame) is compressed".
const RSV1: u8 = 0x4;

/// Per-message or per-frame DEFLATE state of a connection.
#[derive(Debug)]
struct FrameCompression {
    /// deflate-frame: each data frame is a unit; else each message is.
    per_frame: bool,
    deflater: Deflater,
    inflater: Inflater,
}

impl FrameCompression {
    fn new(compression: Option<Compression>) -> Option<FrameCompression> {
        let (per_frame, params) = match compression? {
            Compression::PerMessage(params) => (false, params),
            Compression::PerFrame(params) => (true, params),
            Compression::Stream => return None,
        };
        Some(FrameCompression {
            per_frame,
            deflater: params.deflater(),
            inflater: params.inflater(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text(String),
    Binary(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Message(Message),
    /// A pong with the same payload has already been queued in the output,
    /// unless a close was already sent.
    Ping(Vec<u8>),
    /// Unsolicited pongs are reported too; callers may ignore them.
    Pong(Vec<u8>),
    /// The peer's (validated) close. Not answered automatically: the caller
    /// replies with [`Protocol::send_close`]. If we had already sent a close,
    /// the closing handshake is now complete.
    Close(Option<CloseFrame>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Text,
    Binary,
}

impl DataKind {
    fn opcode(self) -> OpCode {
        match self {
            DataKind::Text => OpCode::Text,
            DataKind::Binary => OpCode::Binary,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// A close frame was already sent (or the connection failed).
    Closed,
    /// A ping or pong payload over 125 bytes.
    TooLarge,
    /// A fragment of another kind, or a whole message, while a fragmented
    /// message is being sent.
    FragmentationState,
    /// Binary data, fragments or pings on a draft (Hixie-75, HyBi-00) that has none.
    NotInThisDraft,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::Closed => "the WebSocket close frame was already sent",
            SendError::TooLarge => "control frame payload over 125 bytes",
            SendError::FragmentationState => "fragmented message in progress or not started",
            SendError::NotInThisDraft => {
                "the client's protocol draft (Hixie-75 / HyBi-00) has only text messages"
            }
        })
    }
}

impl std::error::Error for SendError {}

/// Where the payload of the frame being read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PayloadKind {
    Data(DataKind),
    Ping,
    Pong,
    Close,
}

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct InFrame {
    kind: PayloadKind,
    fin: bool,
    mask: [u8; 4],
    /// Payload bytes not yet received.
    remaining: u64,
    /// Payload offset of the next byte, modulo 4: all the mask needs.
    mask_phase: usize,
    /// The payload is DEFLATE data to inflate.
    compressed: bool,
}

/// Buffer capacity an idle connection keeps (see
/// [`Protocol::release_idle_memory`]): messages up to about this size reuse
/// their buffers, larger ones cost no memory once they are gone.
const KEEP_WHEN_IDLE: usize = 64 * 1024;

#[derive(Debug)]
pub struct Protocol {
    config: ProtocolConfig,
    /// Received bytes; those before `input_pos` are consumed.
    input: Vec<u8>,
    input_pos: usize,
    frame: Option<InFrame>,
    /// Kind of the message being received, from its first frame to its last.
    receiving: Option<DataKind>,
    /// The message being received is compressed (permessage-deflate).
    receiving_compressed: bool,
    compression: Option<FrameCompression>,
    message: Vec<u8>,
    /// Frames of the message being received so far.
    message_frames: u64,
    utf8: Utf8Validator,
    /// Payload of the control frame being read (at most 125 bytes).
    control: Vec<u8>,
    /// Bytes to send; those before `output_pos` are written.
    output: Vec<u8>,
    output_pos: usize,
    /// Kind of the fragmented message being sent.
    sending: Option<DataKind>,
    close_sent: bool,
    close_received: bool,
    failed: bool,
    peer_close: Option<CloseFrame>,
}

impl Protocol {
    pub fn new(config: ProtocolConfig) -> Self {
        Protocol {
            compression: FrameCompression::new(config.compression),
            config,
            input: Vec::new(),
            input_pos: 0,
            frame: None,
            receiving: None,
            receiving_compressed: false,
            message: Vec::new(),
            message_frames: 0,
            utf8: Utf8Validator::new(),
            control: Vec::with_capacity(MAX_CONTROL_PAYLOAD),
            output: Vec::new(),
            output_pos: 0,
            sending: None,
            close_sent: false,
            close_received: false,
            failed: false,
            peer_close: None,
        }
    }

    /// Appends received bytes. Ignored once the peer's close was received or
    /// the connection failed.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed || self.close_received {
            return;
        }
        compact(&mut self.input, &mut self.input_pos);
        self.input.extend_from_slice(bytes);
    }

    /// Parses as far as the buffered input allows. `Ok(None)` = need more
    /// input.
    ///
    /// On a protocol violation returns the error AND queues a close frame
    /// carrying its code (unless a close was already sent); the protocol is
    /// then failed: further `poll_event` calls return `Ok(None)` and further
    /// feeds are ignored.
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        if self.failed || self.close_received {
            return Ok(None);
        }
        let result = self.next_event();
        if self.input_pos == self.input.len() {
            self.input.clear();
            self.input_pos = 0;
        }
        result.map_err(|error| self.fail(error))
    }

    /// Sends a whole message as one frame, compressed if an extension was
    /// negotiated.
    ///
    /// Text payloads are not checked: the caller passes valid UTF-8.
    pub fn send_message(&mut self, kind: DataKind, payload: &[u8]) -> Result<(), SendError> {
        self.send_whole(kind, payload, true)
    }

    /// Sends a whole message as one frame, never compressed (e.g. data
    /// that is already compressed).
    pub fn send_message_uncompressed(
        &mut self,
        kind: DataKind,
        payload: &[u8],
    ) -> Result<(), SendError> {
        self.send_whole(kind, payload, false)
    }

    fn send_whole(
        &mut self,
        kind: DataKind,
        payload: &[u8],
        compress: bool,
    ) -> Result<(), SendError> {
        self.check_can_send()?;
        if self.sending.is_some() {
            return Err(SendError::FragmentationState);
        }
        self.queue_data_frame(true, kind.opcode(), payload, compress);
        Ok(())
    }

    /// Sends one fragment of a message: the first uses `kind`'s opcode, the
    /// following ones (same `kind`) are continuations, until `fin`. Each
    /// fragment is compressed under deflate-frame; under permessage-deflate
    /// fragmented messages go uncompressed.
    pub fn send_fragment(
        &mut self,
        kind: DataKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        self.check_can_send()?;
        let opcode = match self.sending {
            None => kind.opcode(),
            Some(open) if open == kind => OpCode::Continuation,
            Some(_) => return Err(SendError::FragmentationState),
        };
        let per_frame = self.compression.as_ref().is_some_and(|c| c.per_frame);
        self.queue_data_frame(fin, opcode, payload, per_frame);
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Sends the close frame, with no payload or with a code and a reason
    /// (cut to fit 125 bytes). Only once: afterwards every send fails with
    /// [`SendError::Closed`].
    ///
    /// The code is not checked: pass one a peer may receive (1000-1003,
    /// 1007-1011, 3000-4999), never 1005, 1006 or 1015.
    pub fn send_close(&mut self, close: Option<(u16, &str)>) -> Result<(), SendError> {
        self.check_can_send()?;
        self.queue_close(close);
        Ok(())
    }

    /// Gives back the buffers' memory where they hold nothing (a large
    /// message leaves its capacity behind): for a connection about to wait.
    pub fn release_idle_memory(&mut self) {
        if self.input_pos == self.input.len() && self.input.capacity() > KEEP_WHEN_IDLE {
            self.input = Vec::new();
            self.input_pos = 0;
        }
        // Empty, not "between messages": a frame's payload streams in here
        // before the message is complete.
        if self.message.is_empty() && self.message.capacity() > KEEP_WHEN_IDLE {
            self.message = Vec::new();
        }
        if self.output_pos == self.output.len() && self.output.capacity() > KEEP_WHEN_IDLE {
            self.output = Vec::new();
            self.output_pos = 0;
        }
    }

    /// Bytes waiting to be written to the peer.
    pub fn output(&self) -> &[u8] {
        &self.output[self.output_pos..]
    }

    /// Marks the first `n` bytes of [`Protocol::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        let waiting = self.output.len() - self.output_pos;
        debug_assert!(n <= waiting, "consumed {n} of {waiting} output bytes");
        self.output_pos += n.min(waiting);
        if self.output_pos == self.output.len() {
            self.output.clear();
            self.output_pos = 0;
        }
    }

    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    pub fn close_received(&self) -> bool {
        self.close_received
    }

    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Fails the connection from outside the frame layer (e.g. a corrupt
    /// deflate-stream): queues the close carrying the error's code.
    pub fn fail_connection(&mut self, error: ProtocolError) -> ProtocolError {
        self.fail(error)
    }

    /// The peer's close frame, if it had a status code.
    /// True while part of a frame has arrived and the rest has not: a client
    /// stalled here is held to a shorter timeout than an idle one.
    pub fn is_mid_frame(&self) -> bool {
        !self.failed && (self.frame.is_some() || self.input_pos < self.input.len())
    }

    pub fn peer_close(&self) -> Option<&CloseFrame> {
        self.peer_close.as_ref()
    }

    fn next_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        loop {
            let frame = match self.frame.take() {
                Some(frame) => frame,
                None => match self.read_header()? {
                    Some(frame) => frame,
                    None => return Ok(None),
                },
            };
            let frame = self.read_payload(frame)?;
            if frame.remaining > 0 {
                self.frame = Some(frame);
                return Ok(None);
            }
            if let Some(event) = self.complete_frame(frame)? {
                return Ok(Some(event));
            }
        }
    }

    fn read_header(&mut self) -> Result<Option<InFrame>, ProtocolError> {
        let available = &self.input[self.input_pos..];
        let Some(&first) = available.first() else {
            return Ok(None);
        };
        // Checks on the first byte alone fail garbage before the rest of
        // its header arrives.
        let (kind, compressed) = self.check_first_byte(first)?;
        let Some((header, header_len)) = FrameHeader::parse(available)? else {
            return Ok(None);
        };
        let Some(mask) = header.mask else {
            return Err(ProtocolError::new(
                codes::PROTOCOL,
                "client frame not masked",
            ));
        };
        if let PayloadKind::Data(_) = kind {
            self.message_frames = if self.receiving.is_some() {
                self.message_frames + 1
            } else {
                1
            };
            if self.message_frames > self.config.max_frames_per_message {
                return Err(ProtocolError::new(
                    codes::TOO_BIG,
                    "too many frames in one message",
                ));
            }
        }
        // A compressed payload is streamed through the inflater, whose
        // output is what counts against the limit.
        if let (PayloadKind::Data(_), false) = (kind, compressed) {
            // Checked before any payload is buffered.
            let size = (self.message.len() as u64).saturating_add(header.payload_len);
            if size > self.config.max_message_size {
                return Err(ProtocolError::new(codes::TOO_BIG, "message too big"));
            }
            self.message
                .reserve(header.payload_len.min(EAGER_RESERVE_LIMIT) as usize);
        }
        self.input_pos += header_len;
        Ok(Some(InFrame {
            kind,
            fin: header.fin,
            mask,
            remaining: header.payload_len,
            mask_phase: 0,
            compressed,
        }))
    }

    /// Checks RSV bits, opcode and fragmentation state; says whether the
    /// payload is compressed.
    fn check_first_byte(&self, first: u8) -> Result<(PayloadKind, bool), ProtocolError> {
        let Some(opcode) = OpCode::from_u8(first & 0x0F) else {
            return Err(ProtocolError::new(codes::PROTOCOL, "reserved opcode"));
        };
        let compressed = self.check_rsv((first >> 4) & 0x7, opcode)?;
        let kind = match opcode {
            OpCode::Continuation => match self.receiving {
                Some(kind) => PayloadKind::Data(kind),
                None => {
                    return Err(ProtocolError::new(
                        codes::PROTOCOL,
                        "continuation frame without a message",
                    ))
                }
            },
            OpCode::Text | OpCode::Binary if self.receiving.is_some() => {
                return Err(ProtocolError::new(
                    codes::PROTOCOL,
                    "new message inside a fragmented message",
                ))
            }
            OpCode::Text => PayloadKind::Data(DataKind::Text),
            OpCode::Binary => PayloadKind::Data(DataKind::Binary),
            OpCode::Ping => PayloadKind::Ping,
            OpCode::Pong => PayloadKind::Pong,
            OpCode::Close => PayloadKind::Close,
        };
        Ok((kind, compressed))
    }

    /// RSV1 means "compressed" where a compression extension allows it: on
    /// the first frame of a message (permessage-deflate, RFC 7692 §6) or on
    /// any data frame (deflate-frame), never on a control frame. Every other
    /// RSV bit is a violation. Returns whether the payload is compressed.
    fn check_rsv(&self, rsv: u8, opcode: OpCode) -> Result<bool, ProtocolError> {
        let continuation = opcode == OpCode::Continuation;
        let rsv1_allowed = match &self.compression {
            None => false,
            _ if opcode.is_control() => false,
            Some(c) => c.per_frame || !continuation,
        };
        if rsv & !RSV1 != 0 || (rsv == RSV1 && !rsv1_allowed) {
            return Err(ProtocolError::new(
                codes::PROTOCOL,
                "reserved bits set without an extension",
            ));
        }
        let per_message = self.compression.as_ref().is_some_and(|c| !c.per_frame);
        Ok(rsv == RSV1 || (continuation && per_message && self.receiving_compressed))
    }

    /// Unmasks and stores the payload bytes available so far.
    fn read_payload(&mut self, mut frame: InFrame) -> Result<InFrame, ProtocolError> {
        let available = self.input.len() - self.input_pos;
        let n = frame.remaining.min(available as u64) as usize;
        if n == 0 {
            return Ok(frame);
        }
        if frame.compressed {
            return self.inflate_payload(frame, n);
        }
        let chunk = &self.input[self.input_pos..self.input_pos + n];
        let dest = match frame.kind {
            PayloadKind::Data(_) => &mut self.message,
            _ => &mut self.control,
        };
        let start = dest.len();
        dest.extend_from_slice(chunk);
        apply_mask(&mut dest[start..], frame.mask, frame.mask_phase);
        self.input_pos += n;
        frame.remaining -= n as u64;
        frame.mask_phase = (frame.mask_phase + n) & 3;
        if frame.kind == PayloadKind::Data(DataKind::Text) {
            self.utf8
                .feed(&self.message[start..])
                .map_err(|_| invalid_text())?;
        }
        Ok(frame)
    }

    /// Unmasks the next `n` compressed payload bytes in place and inflates
    /// them onto the message.
    fn inflate_payload(&mut self, mut frame: InFrame, n: usize) -> Result<InFrame, ProtocolError> {
        let chunk = &mut self.input[self.input_pos..self.input_pos + n];
        apply_mask(chunk, frame.mask, frame.mask_phase);
        let start = self.message.len();
        let inflater = &mut self.compression.as_mut().expect("negotiated").inflater;
        let inflated = inflater.inflate(chunk, &mut self.message, self.config.max_message_size);
        self.check_inflated(frame.kind, start, inflated)?;
        self.input_pos += n;
        frame.remaining -= n as u64;
        frame.mask_phase = (frame.mask_phase + n) & 3;
        Ok(frame)
    }

    /// Validates the text inflated since `start`, then passes on the
    /// inflater's verdict. Text comes first: bad text within the limit is
    /// what a byte-by-byte arrival would have reported before the inflater
    /// failed, so the error does not depend on how the bytes arrived.
    fn check_inflated(
        &mut self,
        kind: PayloadKind,
        start: usize,
        inflated: Result<(), ProtocolError>,
    ) -> Result<(), ProtocolError> {
        if kind == PayloadKind::Data(DataKind::Text) {
            let limit = usize::try_from(self.config.max_message_size).unwrap_or(usize::MAX);
            let end = self.message.len().min(limit).max(start);
            self.utf8
                .feed(&self.message[start..end])
                .map_err(|_| invalid_text())?;
        }
        inflated
    }

    /// Ends a compressed unit (a message, or a frame under deflate-frame).
    fn finish_compressed(&mut self, frame: &InFrame) -> Result<(), ProtocolError> {
        let Some(compression) = self.compression.as_mut() else {
            return Ok(());
        };
        if !frame.compressed || !(frame.fin || compression.per_frame) {
            return Ok(());
        }
        let start = self.message.len();
        let inflated = compression
            .inflater
            .finish_unit(&mut self.message, self.config.max_message_size);
        self.check_inflated(frame.kind, start, inflated)
    }

    /// Acts on a fully received frame.
    fn complete_frame(&mut self, frame: InFrame) -> Result<Option<Event>, ProtocolError> {
        if let PayloadKind::Data(_) = frame.kind {
            self.finish_compressed(&frame)?;
        }
        let event = match frame.kind {
            PayloadKind::Data(kind) if !frame.fin => {
                self.receiving = Some(kind);
                self.receiving_compressed = frame.compressed;
                return Ok(None);
            }
            PayloadKind::Data(kind) => {
                self.receiving = None;
                self.receiving_compressed = false;
                let payload = std::mem::take(&mut self.message);
                Event::Message(match kind {
                    DataKind::Binary => Message::Binary(payload),
                    DataKind::Text => {
                        self.utf8.finish().map_err(|_| invalid_text())?;
                        // Already validated; this second scan copies nothing.
                        Message::Text(String::from_utf8(payload).map_err(|_| invalid_text())?)
                    }
                })
            }
            PayloadKind::Ping => {
                if !self.close_sent {
                    compact(&mut self.output, &mut self.output_pos);
                    write_frame(&mut self.output, true, 0, OpCode::Pong, &self.control);
                }
                Event::Ping(self.take_control())
            }
            PayloadKind::Pong => Event::Pong(self.take_control()),
            PayloadKind::Close => {
                let close = parse_close_payload(&self.control)?;
                self.control.clear();
                self.close_received = true;
                self.peer_close.clone_from(&close);
                // Nothing after a close frame is read.
                self.input.clear();
                self.input_pos = 0;
                Event::Close(close)
            }
        };
        Ok(Some(event))
    }

    /// Copies the control payload out, keeping the buffer for the next one.
    fn take_control(&mut self) -> Vec<u8> {
        let payload = self.control.clone();
        self.control.clear();
        payload
    }

    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        self.failed = true;
        // Nothing more will be read: free the buffers.
        self.input = Vec::new();
        self.input_pos = 0;
        self.message = Vec::new();
        self.frame = None;
        self.receiving = None;
        self.receiving_compressed = false;
        if !self.close_sent {
            self.queue_close(Some((error.code, error.reason)));
        }
        error
    }

    fn check_can_send(&self) -> Result<(), SendError> {
        if self.close_sent {
            return Err(SendError::Closed);
        }
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        self.check_can_send()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::TooLarge);
        }
        self.queue_frame(true, opcode, payload);
        Ok(())
    }

    fn queue_close(&mut self, close: Option<(u16, &str)>) {
        let mut payload = Vec::new();
        if let Some((code, reason)) = close {
            encode_close_payload(code, reason, &mut payload);
        }
        self.queue_frame(true, OpCode::Close, &payload);
        self.close_sent = true;
    }

    fn queue_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) {
        compact(&mut self.output, &mut self.output_pos);
        write_frame(&mut self.output, fin, 0, opcode, payload);
    }

    /// A data frame, compressed (RSV1) when asked and negotiated.
    fn queue_data_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8], compress: bool) {
        let Some(compression) = self.compression.as_mut().filter(|_| compress) else {
            return self.queue_frame(fin, opcode, payload);
        };
        let mut deflated = Vec::new();
        compression
            .deflater
            .compress_unit(payload, &mut deflated, true);
        compact(&mut self.output, &mut self.output_pos);
        write_frame(&mut self.output, fin, RSV1, opcode, &deflated);
    }
}

fn invalid_text() -> ProtocolError {
    ProtocolError::new(codes::INVALID_DATA, "text message is not valid UTF-8")
}

/// Header and payload appended in one go, so the frame is contiguous.
fn write_frame(out: &mut Vec<u8>, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) {
    out.reserve(MAX_HEADER_LEN + payload.len());
    FrameHeader::encode_server(fin, rsv, opcode, payload.len() as u64, out);
    out.extend_from_slice(payload);
}

/// Drops the consumed prefix of `buf`, but only when the bytes to move are
/// no more than those consumed, which keeps the cost amortized O(1) per byte
/// however the buffer is fed and drained.
fn compact(buf: &mut Vec<u8>, pos: &mut usize) {
    let unread = buf.len() - *pos;
    if *pos > 0 && unread <= *pos {
        buf.copy_within(*pos.., 0);
        buf.truncate(unread);
        *pos = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// A client frame with the given first byte, masked with `KEY`, the
    /// length encoded minimally (spelled out here, not via `FrameHeader`).
    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![first];
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if len <= 0xFFFF {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        out.extend_from_slice(&KEY);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
        out
    }

    fn text(s: &str) -> Event {
        Event::Message(Message::Text(s.to_owned()))
    }

    fn binary(b: &[u8]) -> Event {
        Event::Message(Message::Binary(b.to_vec()))
    }

    /// The close frame a failure must queue, spelled out byte by byte.
    fn close_bytes(code: u16, reason: &str) -> Vec<u8> {
        let mut out = vec![0x88, (2 + reason.len()) as u8];
        out.extend_from_slice(&code.to_be_bytes());
        out.extend_from_slice(reason.as_bytes());
        out
    }

    #[derive(Debug, PartialEq)]
    struct Outcome {
        events: Vec<Event>,
        error: Option<ProtocolError>,
        output: Vec<u8>,
    }

    fn run_chunked(config: &ProtocolConfig, input: &[u8], chunk: usize) -> Outcome {
        let mut p = Protocol::new(config.clone());
        let mut events = Vec::new();
        let mut error = None;
        for piece in input.chunks(chunk) {
            p.feed(piece);
            loop {
                match p.poll_event() {
                    Ok(Some(event)) => events.push(event),
                    Ok(None) => break,
                    Err(e) => {
                        assert!(error.is_none(), "second error {e}");
                        assert!(p.is_failed());
                        error = Some(e);
                    }
                }
            }
        }
        Outcome {
            events,
            error,
            output: p.output().to_vec(),
        }
    }

    /// Runs `input` whole and in pieces of 1, 2, 3, 5, 7 and 13 bytes; all
    /// must give the same outcome.
    fn run_with(config: &ProtocolConfig, input: &[u8]) -> Outcome {
        let whole = run_chunked(config, input, input.len().max(1));
        for chunk in [1, 2, 3, 5, 7, 13] {
            assert_eq!(
                run_chunked(config, input, chunk),
                whole,
                "chunk size {chunk}"
            );
        }
        whole
    }

    fn run(input: &[u8]) -> Outcome {
        run_with(&ProtocolConfig::default(), input)
    }

    /// Asserts `input` fails with `code` after `events`, queuing exactly the
    /// matching close frame.
    fn assert_fails(input: &[u8], events: &[Event], code: u16) {
        let outcome = run(input);
        let error = outcome.error.expect("no error");
        assert_eq!(error.code, code, "{error}");
        assert_eq!(outcome.events, events);
        assert_eq!(outcome.output, close_bytes(code, error.reason));
    }

    fn cat(frames: &[Vec<u8>]) -> Vec<u8> {
        frames.concat()
    }

    // ---- RFC 6455 §5.7 examples ----

    #[test]
    fn rfc_masked_hello_from_client() {
        let input = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let outcome = run(&input);
        assert_eq!(outcome.events, [text("Hello")]);
        assert_eq!(outcome.error, None);
        assert!(outcome.output.is_empty());
    }

    #[test]
    fn rfc_unmasked_hello_sent_by_server() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_message(DataKind::Text, b"Hello").unwrap();
        assert_eq!(p.output(), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    }

    #[test]
    fn rfc_fragmented_hello_from_client() {
        let input = cat(&[client_frame(0x01, b"Hel"), client_frame(0x80, b"lo")]);
        assert_eq!(run(&input).events, [text("Hello")]);
    }

    #[test]
    fn rfc_fragmented_hello_sent_by_server() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_fragment(DataKind::Text, b"Hel", false).unwrap();
        p.send_fragment(DataKind::Text, b"lo", true).unwrap();
        assert_eq!(
            p.output(),
            [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]
        );
    }

    #[test]
    fn rfc_ping_hello_gets_pong() {
        let outcome = run(&client_frame(0x89, b"Hello"));
        assert_eq!(outcome.events, [Event::Ping(b"Hello".to_vec())]);
        assert_eq!(outcome.output, [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    }

    #[test]
    fn rfc_256_byte_binary() {
        let payload: Vec<u8> = (0..=255).collect();
        let input = client_frame(0x82, &payload);
        assert_eq!(&input[..4], [0x82, 0xFE, 0x01, 0x00]);
        assert_eq!(run(&input).events, [binary(&payload)]);

        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_message(DataKind::Binary, &payload).unwrap();
        assert_eq!(p.output()[..4], [0x82, 0x7E, 0x01, 0x00]);
        assert_eq!(p.output()[4..], payload[..]);
    }

    #[test]
    fn rfc_64k_binary() {
        let payload: Vec<u8> = (0..65536).map(|i| (i % 251) as u8).collect();
        let input = client_frame(0x82, &payload);
        assert_eq!(&input[..10], [0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        let outcome = run_chunked(&ProtocolConfig::default(), &input, 1000);
        assert_eq!(outcome.events, [binary(&payload)]);

        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_message(DataKind::Binary, &payload).unwrap();
        assert_eq!(
            p.output()[..10],
            [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]
        );
        assert_eq!(p.output()[10..], payload[..]);
    }

    // ---- valid traffic ----

    #[test]
    fn several_frames_in_one_feed() {
        let input = cat(&[
            client_frame(0x81, b"one"),
            client_frame(0x82, &[1, 2, 3]),
            client_frame(0x8A, b"p"),
            client_frame(0x81, "κόσμε".as_bytes()),
        ]);
        let outcome = run(&input);
        assert_eq!(
            outcome.events,
            [
                text("one"),
                binary(&[1, 2, 3]),
                Event::Pong(b"p".to_vec()),
                text("κόσμε")
            ]
        );
        assert!(outcome.output.is_empty());
    }

    #[test]
    fn empty_messages_and_fragments() {
        let input = cat(&[
            client_frame(0x81, b""),
            client_frame(0x82, b""),
            client_frame(0x01, b""),
            client_frame(0x00, b""),
            client_frame(0x80, b""),
            client_frame(0x89, b""),
        ]);
        let outcome = run(&input);
        assert_eq!(
            outcome.events,
            [text(""), binary(b""), text(""), Event::Ping(Vec::new())]
        );
        assert_eq!(outcome.output, [0x8A, 0x00]);
    }

    #[test]
    fn control_frames_between_fragments() {
        let input = cat(&[
            client_frame(0x02, b"ab"),
            client_frame(0x89, b"x"),
            client_frame(0x00, b"cd"),
            client_frame(0x8A, b"y"),
            client_frame(0x80, b"ef"),
        ]);
        let outcome = run(&input);
        assert_eq!(
            outcome.events,
            [
                Event::Ping(b"x".to_vec()),
                Event::Pong(b"y".to_vec()),
                binary(b"abcdef")
            ]
        );
        assert_eq!(outcome.output, [0x8A, 0x01, b'x']);
    }

    #[test]
    fn text_split_inside_a_character_across_fragments() {
        let bytes = "κόσμε".as_bytes();
        let input = cat(&[
            client_frame(0x01, &bytes[..1]),
            client_frame(0x00, &bytes[1..4]),
            client_frame(0x80, &bytes[4..]),
        ]);
        assert_eq!(run(&input).events, [text("κόσμε")]);
    }

    #[test]
    fn ping_of_125_bytes_is_echoed() {
        let payload = [0xfe; 125];
        let outcome = run(&client_frame(0x89, &payload));
        assert_eq!(outcome.events, [Event::Ping(payload.to_vec())]);
        let mut expected = vec![0x8A, 125];
        expected.extend_from_slice(&payload);
        assert_eq!(outcome.output, expected);
    }

    #[test]
    fn non_minimal_length_is_accepted() {
        let mut input = vec![0x81, 0x80 | 126, 0x00, 0x02];
        input.extend_from_slice(&KEY);
        input.extend([b'h' ^ KEY[0], b'i' ^ KEY[1]]);
        assert_eq!(run(&input).events, [text("hi")]);
    }

    #[test]
    fn message_of_exactly_the_limit_is_accepted() {
        let config = ProtocolConfig {
            max_message_size: 10,
            ..ProtocolConfig::default()
        };
        let outcome = run_with(&config, &client_frame(0x82, &[7; 10]));
        assert_eq!(outcome.events, [binary(&[7; 10])]);
        let fragmented = cat(&[
            client_frame(0x01, b"abcd"),
            client_frame(0x00, b"efg"),
            client_frame(0x80, b"hij"),
        ]);
        assert_eq!(run_with(&config, &fragmented).events, [text("abcdefghij")]);
    }

    #[test]
    fn default_limit_message_in_4k_pieces() {
        // Autobahn 9.1.6 size; also shows the input buffer stays small.
        let payload = vec![b'a'; DEFAULT_MAX_MESSAGE_SIZE as usize];
        let input = client_frame(0x81, &payload);
        let mut p = Protocol::new(ProtocolConfig::default());
        let mut events = Vec::new();
        for piece in input.chunks(4096) {
            p.feed(piece);
            while let Some(event) = p.poll_event().unwrap() {
                events.push(event);
            }
            assert!(p.input.capacity() <= 2 * 4096 + MAX_HEADER_LEN);
        }
        assert_eq!(events.len(), 1);
        assert!(matches!(&events[0], Event::Message(Message::Text(s)) if s.len() == payload.len()));
    }

    // ---- failures ----

    #[test]
    fn unmasked_client_frame_is_1002() {
        assert_fails(&[0x81, 0x05, b'H', b'e', b'l', b'l', b'o'], &[], 1002);
        assert_fails(&[0x89, 0x00], &[], 1002);
    }

    #[test]
    fn rsv_bits_are_1002() {
        for first in [0xC1, 0xA1, 0x91, 0xF1, 0xC9] {
            assert_fails(&client_frame(first, b"x"), &[], 1002);
        }
        // Autobahn 3.2: a valid message first is still delivered.
        let input = cat(&[client_frame(0x81, b"ok"), client_frame(0xA1, b"x")]);
        assert_fails(&input, &[text("ok")], 1002);
    }

    #[test]
    fn reserved_opcodes_are_1002() {
        for opcode in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_fails(&client_frame(0x80 | opcode, b""), &[], 1002);
            assert_fails(&client_frame(0x80 | opcode, b"abc"), &[], 1002);
        }
    }

    #[test]
    fn first_byte_fails_before_rest_of_header() {
        for first in [0x83, 0xC1, 0x80] {
            let mut p = Protocol::new(ProtocolConfig::default());
            p.feed(&[first]);
            assert_eq!(p.poll_event().unwrap_err().code, 1002);
        }
    }

    #[test]
    fn continuation_without_message_is_1002() {
        assert_fails(&client_frame(0x80, b"x"), &[], 1002);
        assert_fails(&client_frame(0x00, b"x"), &[], 1002);
        // After a completed fragmented message, too.
        let input = cat(&[
            client_frame(0x01, b"a"),
            client_frame(0x80, b"b"),
            client_frame(0x80, b"c"),
        ]);
        assert_fails(&input, &[text("ab")], 1002);
    }

    #[test]
    fn new_message_inside_fragmented_message_is_1002() {
        for first in [0x81, 0x82, 0x01, 0x02] {
            let input = cat(&[client_frame(0x01, b"a"), client_frame(first, b"b")]);
            assert_fails(&input, &[], 1002);
        }
    }

    #[test]
    fn bad_control_frames_are_1002() {
        assert_fails(&client_frame(0x89, &[0; 126]), &[], 1002);
        assert_fails(&client_frame(0x88, &[0; 126]), &[], 1002);
        assert_fails(&client_frame(0x09, b"x"), &[], 1002);
        assert_fails(&client_frame(0x0A, b"x"), &[], 1002);
        assert_fails(&client_frame(0x08, b""), &[], 1002);
    }

    #[test]
    fn length_with_top_bit_is_1002() {
        let mut input = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
        input.extend_from_slice(&KEY);
        assert_fails(&input, &[], 1002);
    }

    #[test]
    fn invalid_utf8_is_1007() {
        assert_fails(&client_frame(0x81, b"\xff"), &[], 1007);
        assert_fails(&client_frame(0x81, b"ok\xed\xa0\x80"), &[], 1007);
        // Incomplete at the end of the message.
        assert_fails(&client_frame(0x81, b"ok\xc3"), &[], 1007);
        let input = cat(&[client_frame(0x01, b"ok\xe2\x82"), client_frame(0x80, b"")]);
        assert_fails(&input, &[], 1007);
        // Autobahn 6.3.2-style: invalid sequence spread over fragments.
        let bytes = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited";
        let frames: Vec<Vec<u8>> = bytes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let first = match i {
                    0 => 0x01,
                    i if i == bytes.len() - 1 => 0x80,
                    _ => 0x00,
                };
                client_frame(first, &[*b])
            })
            .collect();
        assert_fails(&cat(&frames), &[], 1007);
    }

    #[test]
    fn invalid_utf8_fails_mid_frame() {
        // A 1000-byte frame (8-byte header) whose payload bytes 3-4 are
        // F4 90: the error comes with the 0x90, not at the end of the frame.
        let mut payload = vec![b'a'; 1000];
        payload[3] = 0xF4;
        payload[4] = 0x90;
        let input = client_frame(0x81, &payload);
        let mut p = Protocol::new(ProtocolConfig::default());
        p.feed(&input[..8 + 4]);
        assert_eq!(p.poll_event(), Ok(None));
        p.feed(&input[12..13]);
        let error = p.poll_event().unwrap_err();
        assert_eq!(error.code, 1007);
        assert_eq!(p.output(), close_bytes(1007, error.reason));
        // Same inside a later fragment of a fragmented message.
        let mut continuation = input[..13].to_vec();
        continuation[0] = 0x80;
        let mut p = Protocol::new(ProtocolConfig::default());
        p.feed(&client_frame(0x01, b"valid"));
        assert_eq!(p.poll_event(), Ok(None));
        p.feed(&continuation);
        assert_eq!(p.poll_event().unwrap_err().code, 1007);
    }

    #[test]
    fn too_many_frames_in_one_message_is_1009() {
        let config = ProtocolConfig {
            max_frames_per_message: 3,
            ..Default::default()
        };
        let three = cat(&[
            client_frame(0x01, b"a"),
            client_frame(0x00, b"b"),
            client_frame(0x80, b"c"),
        ]);
        assert_eq!(run_with(&config, &three).events, [text("abc")]);
        let four = cat(&[
            client_frame(0x01, b"a"),
            client_frame(0x00, b""),
            client_frame(0x00, b""),
            client_frame(0x80, b"d"),
        ]);
        let outcome = run_with(&config, &four);
        assert_eq!(outcome.error.map(|e| e.code), Some(1009));
        // The count starts again with each message.
        assert_eq!(
            run_with(&config, &[three.clone(), three].concat()).events,
            [text("abc"), text("abc")]
        );
    }

    #[test]
    fn message_over_the_limit_is_1009_at_the_header() {
        let config = ProtocolConfig {
            max_message_size: 10,
            ..ProtocolConfig::default()
        };
        let input = client_frame(0x82, &[7; 11]);
        // Fails with only the header fed: nothing is buffered first.
        let mut p = Protocol::new(config.clone());
        p.feed(&input[..6]);
        let error = p.poll_event().unwrap_err();
        assert_eq!(error.code, 1009);
        assert_eq!(p.output(), close_bytes(1009, error.reason));

        let outcome = run_with(&config, &input);
        assert_eq!(outcome.error.map(|e| e.code), Some(1009));
        let fragmented = cat(&[client_frame(0x01, b"abcdef"), client_frame(0x80, b"ghijk")]);
        let outcome = run_with(&config, &fragmented);
        assert_eq!(outcome.error.map(|e| e.code), Some(1009));
        // A huge declared length fails without overflow.
        let mut huge = vec![0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        huge.extend_from_slice(&KEY);
        assert_fails(&huge, &[], 1009);
    }

    #[test]
    fn bad_close_payloads() {
        assert_fails(&client_frame(0x88, &[0x03]), &[], 1002);
        for code in [0u16, 999, 1004, 1005, 1006, 1012, 1015, 2999, 5000] {
            assert_fails(&client_frame(0x88, &code.to_be_bytes()), &[], 1002);
        }
        let mut payload = vec![0x03, 0xe8];
        payload.extend_from_slice(b"\xce\xba\xed\xa0\x80");
        assert_fails(&client_frame(0x88, &payload), &[], 1007);
    }

    #[test]
    fn failed_protocol_is_inert() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.feed(&client_frame(0x83, b""));
        assert!(p.poll_event().is_err());
        assert!(p.is_failed() && p.close_sent() && !p.close_received());
        p.feed(&client_frame(0x81, b"late"));
        assert_eq!(p.poll_event(), Ok(None));
        assert_eq!(p.send_message(DataKind::Text, b"x"), Err(SendError::Closed));
        assert_eq!(p.send_close(None), Err(SendError::Closed));
    }

    #[test]
    fn failure_after_our_close_queues_no_second_close() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_close(Some((1000, ""))).unwrap();
        p.feed(&client_frame(0x83, b""));
        assert_eq!(p.poll_event().unwrap_err().code, 1002);
        assert_eq!(p.output(), [0x88, 0x02, 0x03, 0xe8]);
    }

    // ---- closing handshake ----

    #[test]
    fn peer_initiated_close() {
        let mut payload = vec![0x03, 0xe8];
        payload.extend_from_slice(b"bye");
        let input = cat(&[
            client_frame(0x81, b"last"),
            client_frame(0x88, &payload),
            client_frame(0x81, b"ignored"),
        ]);
        let close = CloseFrame {
            code: 1000,
            reason: "bye".to_owned(),
        };
        let outcome = run(&input);
        assert_eq!(
            outcome.events,
            [text("last"), Event::Close(Some(close.clone()))]
        );
        assert!(outcome.output.is_empty(), "close is not answered by itself");

        let mut p = Protocol::new(ProtocolConfig::default());
        p.feed(&input);
        p.poll_event().unwrap();
        p.poll_event().unwrap();
        assert!(p.close_received() && !p.close_sent());
        assert_eq!(p.peer_close(), Some(&close));
        assert_eq!(p.poll_event(), Ok(None));
        p.feed(&client_frame(0x89, b"late"));
        assert_eq!(p.poll_event(), Ok(None));
        // Echo the peer's code.
        p.send_close(Some((close.code, "bye"))).unwrap();
        assert_eq!(p.output(), [0x88, 0x05, 0x03, 0xe8, b'b', b'y', b'e']);
        assert!(p.close_sent());
        assert_eq!(p.send_message(DataKind::Text, b"x"), Err(SendError::Closed));
        assert_eq!(p.send_ping(b""), Err(SendError::Closed));
        assert_eq!(p.send_pong(b""), Err(SendError::Closed));
        assert_eq!(
            p.send_fragment(DataKind::Binary, b"", true),
            Err(SendError::Closed)
        );
        assert_eq!(p.send_close(None), Err(SendError::Closed));
    }

    #[test]
    fn empty_close_has_no_status() {
        let outcome = run(&client_frame(0x88, b""));
        assert_eq!(outcome.events, [Event::Close(None)]);
        let mut p = Protocol::new(ProtocolConfig::default());
        p.feed(&client_frame(0x88, b""));
        p.poll_event().unwrap();
        assert!(p.close_received());
        assert_eq!(p.peer_close(), None);
        p.send_close(None).unwrap();
        assert_eq!(p.output(), [0x88, 0x00]);
    }

    #[test]
    fn server_initiated_close() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_close(Some((1001, "going away"))).unwrap();
        let mut expected = vec![0x88, 12, 0x03, 0xe9];
        expected.extend_from_slice(b"going away");
        assert_eq!(p.output(), expected);
        p.consume_output(expected.len());
        // Still reading: messages come out, pings get no pong.
        p.feed(&client_frame(0x81, b"late"));
        p.feed(&client_frame(0x89, b"p"));
        p.feed(&client_frame(0x88, &[0x03, 0xe9]));
        assert_eq!(p.poll_event(), Ok(Some(text("late"))));
        assert_eq!(p.poll_event(), Ok(Some(Event::Ping(b"p".to_vec()))));
        assert_eq!(
            p.poll_event(),
            Ok(Some(Event::Close(Some(CloseFrame {
                code: 1001,
                reason: String::new()
            }))))
        );
        assert!(p.output().is_empty());
        assert!(p.close_sent() && p.close_received());
    }

    #[test]
    fn close_reason_is_truncated_to_fit() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_close(Some((1000, &"é".repeat(100)))).unwrap();
        assert_eq!(p.output()[..2], [0x88, 124]);
        assert_eq!(p.output().len(), 126);
    }

    // ---- sending ----

    #[test]
    fn control_payload_limits() {
        let mut p = Protocol::new(ProtocolConfig::default());
        assert_eq!(p.send_ping(&[0; 126]), Err(SendError::TooLarge));
        assert_eq!(p.send_pong(&[0; 126]), Err(SendError::TooLarge));
        assert!(p.output().is_empty());
        p.send_ping(&[0; 125]).unwrap();
        p.send_pong(b"ab").unwrap();
        assert_eq!(p.output()[..2], [0x89, 125]);
        assert_eq!(p.output()[127..], [0x8A, 0x02, b'a', b'b']);
    }

    #[test]
    fn fragmentation_state_is_enforced() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_fragment(DataKind::Binary, b"a", false).unwrap();
        assert_eq!(
            p.send_message(DataKind::Binary, b"x"),
            Err(SendError::FragmentationState)
        );
        assert_eq!(
            p.send_fragment(DataKind::Text, b"x", true),
            Err(SendError::FragmentationState)
        );
        // Control frames may go between fragments.
        p.send_ping(b"").unwrap();
        p.send_fragment(DataKind::Binary, b"b", false).unwrap();
        p.send_fragment(DataKind::Binary, b"c", true).unwrap();
        p.send_message(DataKind::Text, b"d").unwrap();
        assert_eq!(
            p.output(),
            [0x02, 0x01, b'a', 0x89, 0x00, 0x00, 0x01, b'b', 0x80, 0x01, b'c', 0x81, 0x01, b'd']
        );
    }

    #[test]
    fn an_idle_connection_gives_back_what_a_large_message_took() {
        let mut p = Protocol::new(ProtocolConfig::default());
        let big = vec![7u8; 1 << 20];
        p.feed(&client_frame(0x82, &big));
        assert_eq!(
            p.poll_event(),
            Ok(Some(Event::Message(Message::Binary(big.clone()))))
        );
        p.send_message(DataKind::Binary, &big).unwrap();
        let n = p.output().len();
        p.consume_output(n);
        assert!(p.input.capacity() + p.output.capacity() >= 2 << 20);
        p.release_idle_memory();
        assert_eq!(
            p.input.capacity() + p.message.capacity() + p.output.capacity(),
            0
        );
        // A message half received keeps its bytes, whole frames and
        // payload streaming in alike.
        for payload in [b"kept".to_vec(), (0..100_000).map(|i| i as u8).collect()] {
            let frame = client_frame(0x82, &payload);
            for cut in [8, frame.len() / 2, frame.len() - 1] {
                p.feed(&frame[..cut]);
                assert_eq!(p.poll_event(), Ok(None));
                p.release_idle_memory();
                p.feed(&frame[cut..]);
                let whole = Event::Message(Message::Binary(payload.clone()));
                assert_eq!(p.poll_event(), Ok(Some(whole)));
            }
        }
    }

    #[test]
    fn output_is_consumed_in_pieces() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_message(DataKind::Binary, b"abcdef").unwrap();
        p.consume_output(4);
        assert_eq!(p.output(), b"cdef");
        p.send_message(DataKind::Binary, b"g").unwrap();
        assert_eq!(p.output(), b"cdef\x82\x01g");
        p.consume_output(7);
        assert!(p.output().is_empty());
        assert_eq!(p.output_pos, 0);
    }

    #[test]
    fn pong_is_queued_after_pending_output() {
        let mut p = Protocol::new(ProtocolConfig::default());
        p.send_message(DataKind::Text, b"hi").unwrap();
        p.consume_output(1);
        p.feed(&client_frame(0x89, b"!"));
        assert_eq!(p.poll_event(), Ok(Some(Event::Ping(b"!".to_vec()))));
        assert_eq!(p.output(), [0x02, b'h', b'i', 0x8A, 0x01, b'!']);
    }

    #[test]
    fn send_error_display() {
        assert_eq!(
            SendError::TooLarge.to_string(),
            "control frame payload over 125 bytes"
        );
    }
}

#[cfg(test)]
#[path = "protocol_deflate_tests.rs"]
mod deflate_tests;
