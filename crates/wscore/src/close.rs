//! Close frames (RFC 6455 §5.5.1, §7.4) and the protocol error type that
//! carries the close code a violation is answered with.

use std::fmt;

/// Close status codes (RFC 6455 §7.4.1).
pub mod codes {
    pub const NORMAL: u16 = 1000;
    pub const GOING_AWAY: u16 = 1001;
    pub const PROTOCOL: u16 = 1002;
    pub const UNSUPPORTED: u16 = 1003;
    /// Never on the wire: "the close frame had no status code".
    pub const NO_STATUS: u16 = 1005;
    /// Never on the wire: "the connection dropped without a close frame".
    pub const ABNORMAL: u16 = 1006;
    pub const INVALID_DATA: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const MANDATORY_EXT: u16 = 1010;
    pub const INTERNAL: u16 = 1011;
}

/// Largest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A violation of the protocol by the peer, and the close code to fail the
/// connection with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: u16,
    pub reason: &'static str,
}

impl ProtocolError {
    pub const fn new(code: u16, reason: &'static str) -> Self {
        ProtocolError { code, reason }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebSocket protocol error {}: {}", self.code, self.reason)
    }
}

impl std::error::Error for ProtocolError {}

/// The status code and reason of a received close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    pub code: u16,
    pub reason: String,
}

/// Whether a peer may send `code` in a close frame. 1004-1006 and 1015 are
/// reserved or local-only, 1012-2999 are unassigned by RFC 6455 (Autobahn
/// 7.9.x expects them rejected), 3000-4999 are for libraries and apps.
pub fn is_valid_received_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// Parses a close frame payload: empty (no status), or a status code and an
/// optional UTF-8 reason.
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    let (code, reason) = match payload {
        [] => return Ok(None),
        [_] => {
            return Err(ProtocolError::new(
                codes::PROTOCOL,
                "close payload of one byte",
            ))
        }
        [hi, lo, reason @ ..] => (u16::from_be_bytes([*hi, *lo]), reason),
    };
    if !is_valid_received_code(code) {
        return Err(ProtocolError::new(codes::PROTOCOL, "invalid close code"));
    }
    // Autobahn 7.5.1 accepts 1002 or 1007 here; invalid UTF-8 is what 1007
    // means everywhere else, so use it.
    let reason = std::str::from_utf8(reason)
        .map_err(|_| ProtocolError::new(codes::INVALID_DATA, "close reason is not UTF-8"))?;
    Ok(Some(CloseFrame {
        code,
        reason: reason.to_owned(),
    }))
}

/// Appends a close payload to `out`: the code, then `reason` cut at a char
/// boundary so the payload fits a control frame (125 bytes).
pub fn encode_close_payload(code: u16, reason: &str, out: &mut Vec<u8>) {
    let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&reason.as_bytes()[..end]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_code_validity() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
        ] {
            assert!(is_valid_received_code(code), "{code}");
        }
        for code in [
            0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!is_valid_received_code(code), "{code}");
        }
    }

    #[test]
    fn empty_payload_has_no_status() {
        assert_eq!(parse_close_payload(&[]), Ok(None));
    }

    #[test]
    fn one_byte_payload_is_protocol_error() {
        assert_eq!(parse_close_payload(&[0x03]).unwrap_err().code, 1002);
    }

    #[test]
    fn code_without_reason() {
        assert_eq!(
            parse_close_payload(&[0x03, 0xe8]),
            Ok(Some(CloseFrame {
                code: 1000,
                reason: String::new()
            }))
        );
    }

    #[test]
    fn code_with_reason() {
        let mut payload = vec![0x0f, 0xa0];
        payload.extend_from_slice("bye κόσμε".as_bytes());
        assert_eq!(
            parse_close_payload(&payload),
            Ok(Some(CloseFrame {
                code: 4000,
                reason: "bye κόσμε".to_owned()
            }))
        );
    }

    #[test]
    fn invalid_codes_are_protocol_errors() {
        for code in [0u16, 999, 1004, 1005, 1006, 1012, 1015, 2999, 5000, 65535] {
            let err = parse_close_payload(&code.to_be_bytes()).unwrap_err();
            assert_eq!(err.code, 1002, "{code}");
        }
    }

    #[test]
    fn invalid_utf8_reason_is_1007() {
        // Autobahn 7.5.1 payload.
        let mut payload = vec![0x03, 0xe8];
        payload
            .extend_from_slice(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited");
        assert_eq!(parse_close_payload(&payload).unwrap_err().code, 1007);
    }

    #[test]
    fn encode_short_reason() {
        let mut out = vec![0xaa];
        encode_close_payload(1000, "bye", &mut out);
        assert_eq!(out, [0xaa, 0x03, 0xe8, b'b', b'y', b'e']);
    }

    #[test]
    fn encode_truncates_at_char_boundary() {
        let mut out = Vec::new();
        encode_close_payload(1001, &"a".repeat(200), &mut out);
        assert_eq!(out.len(), 125);

        // 61 two-byte chars = 122 bytes fit; the 62nd would make 124 > 123.
        let mut out = Vec::new();
        let reason = "é".repeat(100);
        encode_close_payload(1001, &reason, &mut out);
        assert_eq!(out.len(), 2 + 122);
        assert!(std::str::from_utf8(&out[2..]).is_ok());

        let mut out = Vec::new();
        encode_close_payload(1001, &"𝄞".repeat(40), &mut out);
        assert_eq!(out.len(), 2 + 120);
        assert!(std::str::from_utf8(&out[2..]).is_ok());
    }

    #[test]
    fn encoded_payload_parses_back() {
        let mut out = Vec::new();
        encode_close_payload(3001, "done", &mut out);
        assert_eq!(
            parse_close_payload(&out),
            Ok(Some(CloseFrame {
                code: 3001,
                reason: "done".to_owned()
            }))
        );
    }

    #[test]
    fn error_display() {
        let err = ProtocolError::new(codes::TOO_BIG, "message too big");
        assert_eq!(
            err.to_string(),
            "WebSocket protocol error 1009: message too big"
        );
    }
}
