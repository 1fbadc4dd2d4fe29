//! The framing of the pre-RFC drafts (Hixie-75 and HyBi-00): text as
//! `0x00 <UTF-8> 0xFF`, length-prefixed frames (high bit set) read and
//! discarded, and HyBi-00's closing handshake `0xFF 0x00`. No binary
//! messages, no fragments, no pings.
use crate::close::{codes, CloseFrame, ProtocolError};
use crate::codec::Codec;
use crate::protocol::{DataKind, Event, Message, SendError};
use crate::utf8::Utf8Validator;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HixieDraft {
    Hixie75,
    Hybi00,
}

/// A length prefix longer than this many 7-bit groups cannot be honest.
const MAX_LENGTH_GROUPS: u32 = 9;

#[derive(Debug)]
enum ReadState {
    /// Waiting for a frame-type byte.
    FrameType,
    /// Inside a sentinel-terminated frame; only type 0x00 is text.
    Sentinel { text: bool },
    /// Reading a length prefix.
    Length {
        frame_type: u8,
        length: u64,
        groups: u32,
    },
    /// Discarding a length-prefixed frame's payload.
    Skip { remaining: u64 },
}

pub struct HixieProtocol {
    draft: HixieDraft,
    max_message_size: u64,
    input: Vec<u8>,
    state: ReadState,
    message: Vec<u8>,
    utf8: Utf8Validator,
    output: Vec<u8>,
    close_sent: bool,
    close_received: bool,
    /// A close event not yet returned (Hixie-75's TCP close).
    close_pending: bool,
    failed: bool,
}

impl HixieProtocol {
    pub fn new(draft: HixieDraft, max_message_size: u64) -> HixieProtocol {
        HixieProtocol {
            draft,
            max_message_size,
            input: Vec::new(),
            state: ReadState::FrameType,
            message: Vec::new(),
            utf8: Utf8Validator::new(),
            output: Vec::new(),
            close_sent: false,
            close_received: false,
            close_pending: false,
            failed: false,
        }
    }

    fn fail(&mut self, error: ProtocolError) -> Result<Option<Event>, ProtocolError> {
        // These drafts "fail the connection" by closing it: no frame to send.
        self.failed = true;
        self.input.clear();
        Err(error)
    }

    /// Parses from `input`, returning the bytes consumed and maybe an event.
    fn parse(&mut self) -> Result<(usize, Option<Event>), ProtocolError> {
        let mut pos = 0;
        while pos < self.input.len() {
            match self.state {
                ReadState::FrameType => {
                    let frame_type = self.input[pos];
                    pos += 1;
                    self.state = if frame_type & 0x80 != 0 {
                        ReadState::Length {
                            frame_type,
                            length: 0,
                            groups: 0,
                        }
                    } else {
                        self.message.clear();
                        self.utf8.reset();
                        ReadState::Sentinel {
                            text: frame_type == 0x00,
                        }
                    };
                }
                ReadState::Length {
                    frame_type,
                    length,
                    groups,
                } => {
                    let byte = self.input[pos];
                    pos += 1;
                    let length = (length << 7) | u64::from(byte & 0x7f);
                    let groups = groups + 1;
                    if groups > MAX_LENGTH_GROUPS {
                        return Err(ProtocolError::new(
                            codes::TOO_BIG,
                            "frame length prefix too long",
                        ));
                    }
                    if byte & 0x80 != 0 {
                        self.state = ReadState::Length {
                            frame_type,
                            length,
                            groups,
                        };
                    } else if frame_type == 0xff && length == 0 && self.draft == HixieDraft::Hybi00
                    {
                        self.state = ReadState::FrameType;
                        self.close_received = true;
                        return Ok((pos, Some(Event::Close(None))));
                    } else {
                        self.state = ReadState::Skip { remaining: length };
                    }
                }
                ReadState::Skip { remaining } => {
                    let n = remaining.min((self.input.len() - pos) as u64);
                    pos += n as usize;
                    self.state = if remaining == n {
                        ReadState::FrameType
                    } else {
                        ReadState::Skip {
                            remaining: remaining - n,
                        }
                    };
                }
                ReadState::Sentinel { text } => {
                    let rest = &self.input[pos..];
                    let end = rest.iter().position(|b| *b == 0xff);
                    let chunk = &rest[..end.unwrap_or(rest.len())];
                    if text {
                        // The bytes within the limit are checked first, so
                        // the error is the same however the bytes arrive.
                        let room = self.max_message_size - self.message.len() as u64;
                        let within = chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX));
                        if self.utf8.feed(&chunk[..within]).is_err() {
                            return Err(ProtocolError::new(
                                codes::INVALID_DATA,
                                "invalid UTF-8 in text",
                            ));
                        }
                        if within < chunk.len() {
                            return Err(ProtocolError::new(codes::TOO_BIG, "message too big"));
                        }
                        self.message.extend_from_slice(chunk);
                    }
                    pos += chunk.len();
                    if end.is_none() {
                        break;
                    }
                    pos += 1; // the 0xFF sentinel
                    self.state = ReadState::FrameType;
                    if text {
                        if self.utf8.finish().is_err() {
                            return Err(ProtocolError::new(
                                codes::INVALID_DATA,
                                "invalid UTF-8 in text",
                            ));
                        }
                        let bytes = std::mem::take(&mut self.message);
                        let text = String::from_utf8(bytes).expect("validated incrementally");
                        return Ok((pos, Some(Event::Message(Message::Text(text)))));
                    }
                }
            }
        }
        Ok((pos, None))
    }
}

impl Codec for HixieProtocol {
    fn feed(&mut self, bytes: &[u8]) {
        if !self.failed && !self.close_received {
            self.input.extend_from_slice(bytes);
        }
    }

    fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        if self.close_pending {
            self.close_pending = false;
            return Ok(Some(Event::Close(None)));
        }
        if self.failed || self.close_received {
            return Ok(None);
        }
        match self.parse() {
            Ok((consumed, event)) => {
                self.input.drain(..consumed);
                Ok(event)
            }
            Err(error) => self.fail(error),
        }
    }

    fn send_message(&mut self, kind: DataKind, payload: &[u8]) -> Result<(), SendError> {
        if self.close_sent || self.failed {
            return Err(SendError::Closed);
        }
        if kind == DataKind::Binary {
            return Err(SendError::NotInThisDraft);
        }
        self.output.reserve(payload.len() + 2);
        self.output.push(0x00);
        self.output.extend_from_slice(payload);
        self.output.push(0xff);
        Ok(())
    }

    fn send_fragment(&mut self, _: DataKind, _: &[u8], _: bool) -> Result<(), SendError> {
        Err(SendError::NotInThisDraft)
    }

    fn send_ping(&mut self, _: &[u8]) -> Result<(), SendError> {
        Err(SendError::NotInThisDraft)
    }

    fn send_close(&mut self, _close: Option<(u16, &str)>) -> Result<(), SendError> {
        if self.close_sent || self.failed {
            return Err(SendError::Closed);
        }
        self.close_sent = true;
        match self.draft {
            HixieDraft::Hybi00 => self.output.extend_from_slice(&[0xff, 0x00]),
            // No close frame: closing the TCP connection is the close.
            HixieDraft::Hixie75 => self.close_received = true,
        }
        Ok(())
    }

    fn output(&self) -> &[u8] {
        &self.output
    }

    fn consume_output(&mut self, n: usize) {
        self.output.drain(..n);
    }

    fn close_received(&self) -> bool {
        self.close_received
    }

    fn is_failed(&self) -> bool {
        self.failed
    }

    fn peer_close(&self) -> Option<&CloseFrame> {
        None
    }

    fn fail_connection(&mut self, error: ProtocolError) -> ProtocolError {
        let _ = self.fail(error);
        error
    }

    fn is_mid_frame(&self) -> bool {
        !self.failed && !matches!(self.state, ReadState::FrameType)
    }

    fn peer_closed_connection(&mut self) -> bool {
        // After a failure the connection is over: no close to report.
        if self.draft != HixieDraft::Hixie75 || self.close_received || self.failed {
            return false;
        }
        self.close_received = true;
        self.close_pending = true;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(codec: &mut HixieProtocol, input: &[u8]) -> Vec<Result<Event, u16>> {
        codec.feed(input);
        let mut out = Vec::new();
        loop {
            match codec.poll_event() {
                Ok(Some(event)) => out.push(Ok(event)),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e.code));
                    return out;
                }
            }
        }
    }

    fn text(s: &str) -> Result<Event, u16> {
        Ok(Event::Message(Message::Text(s.into())))
    }

    #[test]
    fn text_frames_in_one_piece_and_byte_by_byte() {
        let input = b"\x00Hello\xff\x00w\xc3\xb6rld\xff";
        let mut whole = HixieProtocol::new(HixieDraft::Hybi00, 1 << 20);
        assert_eq!(
            events(&mut whole, input),
            vec![text("Hello"), text("wörld")]
        );
        let mut split = HixieProtocol::new(HixieDraft::Hybi00, 1 << 20);
        let got: Vec<_> = input
            .iter()
            .flat_map(|b| events(&mut split, &[*b]))
            .collect();
        assert_eq!(got, vec![text("Hello"), text("wörld")]);
    }

    #[test]
    fn length_prefixed_and_unknown_sentinel_frames_are_discarded() {
        // 0x80 frame with length 0x81 0x00 = 128 bytes, then a 0x01 sentinel frame.
        let mut input = vec![0x80, 0x81, 0x00];
        input.extend(std::iter::repeat_n(0xff, 128));
        input.extend_from_slice(b"\x01ignored\xff\x00kept\xff");
        let mut codec = HixieProtocol::new(HixieDraft::Hybi00, 1 << 20);
        assert_eq!(events(&mut codec, &input), vec![text("kept")]);
    }

    #[test]
    fn hybi00_closing_handshake() {
        let mut codec = HixieProtocol::new(HixieDraft::Hybi00, 1 << 20);
        assert_eq!(
            events(&mut codec, b"\x00bye\xff\xff\x00\x00late\xff"),
            vec![text("bye"), Ok(Event::Close(None))]
        );
        assert!(codec.close_received());
        codec.send_close(Some((1000, ""))).unwrap();
        assert_eq!(codec.output(), &[0xff, 0x00]);
        assert_eq!(
            codec.send_message(DataKind::Text, b"x"),
            Err(SendError::Closed)
        );
    }

    #[test]
    fn hixie75_has_no_close_frame() {
        let mut codec = HixieProtocol::new(HixieDraft::Hixie75, 1 << 20);
        // 0xFF 0x00 is just an empty discarded frame in Hixie-75.
        assert_eq!(events(&mut codec, b"\xff\x00\x00a\xff"), vec![text("a")]);
        assert!(codec.peer_closed_connection());
        assert_eq!(codec.poll_event(), Ok(Some(Event::Close(None))));
        codec.send_close(None).unwrap();
        assert!(codec.output().is_empty());
    }

    #[test]
    fn invalid_utf8_and_oversize_fail() {
        let mut codec = HixieProtocol::new(HixieDraft::Hybi00, 1 << 20);
        assert_eq!(events(&mut codec, b"\x00ok\xc0"), vec![Err(1007)]);
        assert!(codec.is_failed());
        let mut codec = HixieProtocol::new(HixieDraft::Hybi00, 4);
        assert_eq!(events(&mut codec, b"\x00abcd\xff"), vec![text("abcd")]);
        assert_eq!(events(&mut codec, b"\x00abcde"), vec![Err(1009)]);
        let mut codec = HixieProtocol::new(HixieDraft::Hybi00, 4);
        assert_eq!(events(&mut codec, &[0x80; 12]), vec![Err(1009)]);
    }

    #[test]
    fn hixie75_tcp_close_after_a_failure_is_no_close() {
        // Found by the `hixie` fuzz target: a close event after the failure.
        let mut codec = HixieProtocol::new(HixieDraft::Hixie75, 4);
        assert_eq!(events(&mut codec, b"\x00abcde"), vec![Err(1009)]);
        assert!(!codec.peer_closed_connection());
        assert_eq!(codec.poll_event(), Ok(None));
    }

    #[test]
    fn invalid_text_within_the_limit_wins_however_it_arrives() {
        // Found by the `hixie` fuzz target: whole 1009, in pieces 1007.
        let input = b"\x00ab\xc0cdef\xff";
        let mut whole = HixieProtocol::new(HixieDraft::Hybi00, 4);
        assert_eq!(events(&mut whole, input), vec![Err(1007)]);
        let mut split = HixieProtocol::new(HixieDraft::Hybi00, 4);
        let first_error = input
            .iter()
            .flat_map(|b| events(&mut split, &[*b]))
            .find(Result::is_err);
        assert_eq!(first_error, Some(Err(1007)));
    }

    #[test]
    fn sends_text_only() {
        let mut codec = HixieProtocol::new(HixieDraft::Hybi00, 1 << 20);
        codec
            .send_message(DataKind::Text, "héllo".as_bytes())
            .unwrap();
        assert_eq!(codec.output(), b"\x00h\xc3\xa9llo\xff");
        codec.consume_output(codec.output().len());
        assert_eq!(
            codec.send_message(DataKind::Binary, b"x"),
            Err(SendError::NotInThisDraft)
        );
        assert_eq!(codec.send_ping(b""), Err(SendError::NotInThisDraft));
        assert!(codec.output().is_empty());
    }
}
