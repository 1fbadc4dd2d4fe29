//! RFC 6455 §5.2 frame headers: parsing what clients send and encoding
//! what the server sends.

use crate::close::{codes, ProtocolError, MAX_CONTROL_PAYLOAD};

/// Longest possible header: 2 + 8 (64-bit length) + 4 (masking key).
pub const MAX_HEADER_LEN: usize = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

impl OpCode {
    /// The opcode for a 4-bit wire value; `None` for the reserved ones.
    pub fn from_u8(value: u8) -> Option<OpCode> {
        match value {
            0x0 => Some(OpCode::Continuation),
            0x1 => Some(OpCode::Text),
            0x2 => Some(OpCode::Binary),
            0x8 => Some(OpCode::Close),
            0x9 => Some(OpCode::Ping),
            0xA => Some(OpCode::Pong),
            _ => None,
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    pub fn is_control(self) -> bool {
        is_control_opcode(self.as_u8())
    }
}

/// Control frames are those with the opcode's high bit set, reserved ones
/// (0xB-0xF) included (RFC 6455 §5.5).
fn is_control_opcode(opcode: u8) -> bool {
    opcode & 0x8 != 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub fin: bool,
    /// RSV1..RSV3 as the low three bits: RSV1 = 0b100.
    pub rsv: u8,
    /// The raw 4-bit opcode; reserved values are left for the caller to
    /// reject (see [`OpCode::from_u8`]).
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header at the start of `buf`. `Ok(None)` means more bytes are
    /// needed; otherwise returns the header and its length in bytes.
    ///
    /// Rejects (1002) what makes a header itself malformed: a 64-bit length
    /// with the top bit set, and control frames that are fragmented or carry
    /// more than 125 bytes. Non-minimal length encodings are accepted: RFC
    /// 6455 §5.2 says to use the minimal one but asks no one to reject others.
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x7;
        let opcode = b0 & 0x0F;
        let control = is_control_opcode(opcode);
        if control && !fin {
            return Err(ProtocolError::new(
                codes::PROTOCOL,
                "fragmented control frame",
            ));
        }
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut len) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(&[hi, lo]) => (u64::from(u16::from_be_bytes([hi, lo])), 4),
                _ => return Ok(None),
            },
            127 => match buf.get(2..10) {
                Some(bytes) => {
                    let mut be = [0u8; 8];
                    be.copy_from_slice(bytes);
                    let n = u64::from_be_bytes(be);
                    if n >> 63 != 0 {
                        return Err(ProtocolError::new(
                            codes::PROTOCOL,
                            "64-bit payload length with top bit set",
                        ));
                    }
                    (n, 10)
                }
                None => return Ok(None),
            },
            n => (u64::from(n), 2),
        };
        if control && payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(ProtocolError::new(
                codes::PROTOCOL,
                "control frame payload over 125 bytes",
            ));
        }
        let mask = if masked {
            match buf.get(len..len + 4) {
                Some(&[a, b, c, d]) => {
                    len += 4;
                    Some([a, b, c, d])
                }
                _ => return Ok(None),
            }
        } else {
            None
        };
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, len)))
    }

    /// Appends an unmasked (server to client) header with the minimal length
    /// encoding.
    pub fn encode_server(fin: bool, rsv: u8, opcode: OpCode, payload_len: u64, out: &mut Vec<u8>) {
        encode_header(fin, rsv, opcode.as_u8(), None, payload_len, out);
    }
}

/// A frame header with the minimal length encoding and, for a client
/// frame, its masking key.
fn encode_header(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload_len: u64,
    out: &mut Vec<u8>,
) {
    debug_assert!(rsv <= 0x7 && opcode <= 0xF && payload_len >> 63 == 0);
    let b0 = (u8::from(fin) << 7) | ((rsv & 0x7) << 4) | opcode;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload_len {
        0..=125 => out.extend_from_slice(&[b0, mask_bit | payload_len as u8]),
        126..=0xFFFF => {
            out.extend_from_slice(&[b0, mask_bit | 126]);
            out.extend_from_slice(&(payload_len as u16).to_be_bytes());
        }
        _ => {
            out.extend_from_slice(&[b0, mask_bit | 127]);
            out.extend_from_slice(&payload_len.to_be_bytes());
        }
    }
    if let Some(mask) = mask {
        out.extend_from_slice(&mask);
    }
}

/// A whole server close frame with this code and reason.
pub fn encode_server_close(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = Vec::new();
    crate::close::encode_close_payload(code, reason, &mut payload);
    let mut frame = Vec::with_capacity(payload.len() + 2);
    FrameHeader::encode_server(true, 0, OpCode::Close, payload.len() as u64, &mut frame);
    frame.extend_from_slice(&payload);
    frame
}

/// A whole masked client frame, as clients send them: for test clients and
/// the load generator. `opcode` is raw, so reserved ones can be sent too.
pub fn encode_client_frame(
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: [u8; 4],
    payload: &[u8],
    out: &mut Vec<u8>,
) {
    encode_header(fin, rsv, opcode, Some(mask), payload.len() as u64, out);
    let start = out.len();
    out.extend_from_slice(payload);
    crate::mask::apply_mask(&mut out[start..], mask, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(buf: &[u8]) -> (FrameHeader, usize) {
        // Every proper prefix needs more bytes; the whole header parses.
        let (header, len) = FrameHeader::parse(buf).unwrap().unwrap();
        for cut in 0..len {
            assert_eq!(FrameHeader::parse(&buf[..cut]), Ok(None), "cut {cut}");
        }
        (header, len)
    }

    #[test]
    fn server_close_frame_bytes() {
        let mut expected = vec![0x88, 0x11, 0x03, 0xe9];
        expected.extend_from_slice(b"server stopping");
        assert_eq!(encode_server_close(1001, "server stopping"), expected);
    }

    #[test]
    fn opcode_round_trip() {
        for value in 0..16u8 {
            match OpCode::from_u8(value) {
                Some(op) => assert_eq!(op.as_u8(), value),
                None => assert!(matches!(value, 3..=7 | 0xB..=0xF)),
            }
        }
        assert!(OpCode::Close.is_control());
        assert!(OpCode::Ping.is_control());
        assert!(OpCode::Pong.is_control());
        assert!(!OpCode::Text.is_control());
        assert!(!OpCode::Binary.is_control());
        assert!(!OpCode::Continuation.is_control());
    }

    #[test]
    fn rfc_unmasked_hello_header() {
        let (h, len) = parse_all(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(len, 2);
        assert_eq!(
            h,
            FrameHeader {
                fin: true,
                rsv: 0,
                opcode: 1,
                mask: None,
                payload_len: 5
            }
        );
    }

    #[test]
    fn rfc_masked_hello_header() {
        let frame = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let (h, len) = parse_all(&frame);
        assert_eq!(len, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(h.payload_len, 5);
        assert!(h.fin);
    }

    #[test]
    fn rfc_fragmented_headers() {
        let (first, _) = parse_all(&[0x01, 0x03]);
        assert!(!first.fin);
        assert_eq!(first.opcode, 1);
        let (last, _) = parse_all(&[0x80, 0x02]);
        assert!(last.fin);
        assert_eq!(last.opcode, 0);
    }

    #[test]
    fn rfc_16_and_64_bit_lengths() {
        let (h, len) = parse_all(&[0x82, 0x7E, 0x01, 0x00]);
        assert_eq!((h.payload_len, len), (256, 4));
        let (h, len) = parse_all(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
        assert_eq!((h.payload_len, len), (65536, 10));
        let (h, len) = parse_all(&[0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 1, 2, 3, 4]);
        assert_eq!(
            (h.payload_len, len, h.mask),
            (65536, 14, Some([1, 2, 3, 4]))
        );
    }

    #[test]
    fn rsv_bits() {
        let (h, _) = parse_all(&[0xC1, 0x00]);
        assert_eq!(h.rsv, 0b100);
        let (h, _) = parse_all(&[0xF1, 0x00]);
        assert_eq!(h.rsv, 0b111);
    }

    #[test]
    fn non_minimal_lengths_accepted() {
        let (h, _) = parse_all(&[0x82, 0x7E, 0x00, 0x05]);
        assert_eq!(h.payload_len, 5);
        let (h, _) = parse_all(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(h.payload_len, 5);
        // Even for control frames, as long as the length itself is <= 125.
        let (h, _) = parse_all(&[0x89, 0x7E, 0x00, 0x7D]);
        assert_eq!(h.payload_len, 125);
    }

    #[test]
    fn top_bit_length_rejected() {
        let err = FrameHeader::parse(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(err.code, 1002);
        let (h, _) = parse_all(&[0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(h.payload_len, u64::MAX >> 1);
    }

    #[test]
    fn control_frame_limits() {
        // 125 is fine, 126 is not.
        let (h, _) = parse_all(&[0x89, 0x7D]);
        assert_eq!(h.payload_len, 125);
        assert_eq!(
            FrameHeader::parse(&[0x89, 0x7E, 0x00, 0x7E])
                .unwrap_err()
                .code,
            1002
        );
        assert_eq!(
            FrameHeader::parse(&[0x88, 0xFE, 0x00, 0x7E])
                .unwrap_err()
                .code,
            1002
        );
        // Fragmented control frames fail as soon as two bytes are there.
        for opcode in [0x8, 0x9, 0xA, 0xB, 0xF] {
            assert_eq!(FrameHeader::parse(&[opcode, 0x80]).unwrap_err().code, 1002);
        }
        // Reserved control opcodes obey the same limits.
        assert_eq!(
            FrameHeader::parse(&[0x8B, 0x7E, 0, 0x7E]).unwrap_err().code,
            1002
        );
    }

    fn encoded(fin: bool, rsv: u8, opcode: OpCode, len: u64) -> Vec<u8> {
        let mut out = Vec::new();
        FrameHeader::encode_server(fin, rsv, opcode, len, &mut out);
        out
    }

    #[test]
    fn encode_minimal_lengths() {
        assert_eq!(encoded(true, 0, OpCode::Text, 5), [0x81, 0x05]);
        assert_eq!(encoded(true, 0, OpCode::Binary, 0), [0x82, 0x00]);
        assert_eq!(encoded(true, 0, OpCode::Binary, 125), [0x82, 0x7D]);
        assert_eq!(
            encoded(true, 0, OpCode::Binary, 126),
            [0x82, 0x7E, 0x00, 0x7E]
        );
        // RFC 6455 §5.7: 256 bytes and 64 KiB binary messages.
        assert_eq!(
            encoded(true, 0, OpCode::Binary, 256),
            [0x82, 0x7E, 0x01, 0x00]
        );
        assert_eq!(
            encoded(true, 0, OpCode::Binary, 0xFFFF),
            [0x82, 0x7E, 0xFF, 0xFF]
        );
        assert_eq!(
            encoded(true, 0, OpCode::Binary, 65536),
            [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]
        );
    }

    #[test]
    fn encode_flags_and_opcodes() {
        assert_eq!(encoded(false, 0, OpCode::Text, 3), [0x01, 0x03]);
        assert_eq!(encoded(true, 0, OpCode::Continuation, 2), [0x80, 0x02]);
        assert_eq!(encoded(true, 0b100, OpCode::Text, 1), [0xC1, 0x01]);
        assert_eq!(encoded(true, 0, OpCode::Close, 2), [0x88, 0x02]);
        assert_eq!(encoded(true, 0, OpCode::Ping, 5), [0x89, 0x05]);
        assert_eq!(encoded(true, 0, OpCode::Pong, 5), [0x8A, 0x05]);
    }

    #[test]
    fn encode_then_parse_round_trip() {
        for len in [0, 1, 125, 126, 65535, 65536, 1 << 40] {
            let out = encoded(true, 0, OpCode::Binary, len);
            let (h, hlen) = FrameHeader::parse(&out).unwrap().unwrap();
            assert_eq!((h.payload_len, hlen, h.mask), (len, out.len(), None));
        }
    }
}
