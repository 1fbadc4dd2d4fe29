//! The error a failed opening handshake is answered with.

use std::fmt;

/// Why a handshake was refused: the HTTP status to answer with, a one-line
/// reason for the error log, and any extra response headers (for instance
/// `Sec-WebSocket-Version` after an unsupported version, RFC 6455 §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeError {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl HandshakeError {
    /// A refusal with `status` and no extra headers.
    pub fn new(status: u16, reason: impl Into<String>) -> Self {
        HandshakeError {
            status,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }

    /// A 400 Bad Request: the client sent a malformed handshake.
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(400, reason)
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WebSocket handshake refused ({}): {}",
            self.status, self.reason
        )
    }
}

impl std::error::Error for HandshakeError {}

/// Longest client-supplied text quoted in a reason, so one hostile header
/// cannot flood the error log.
const MAX_QUOTED: usize = 80;

/// Quotes client-supplied text for a reason: escaped (no control characters
/// reach the log, the reason stays one line) and truncated.
pub fn quoted(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{:?}...", &text[..cut]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_status_and_reason() {
        let e = HandshakeError::bad_request("Host header is missing");
        assert_eq!(e.status, 400);
        assert!(e.headers.is_empty());
        assert_eq!(
            e.to_string(),
            "WebSocket handshake refused (400): Host header is missing"
        );
    }

    #[test]
    fn with_header_appends() {
        let e = HandshakeError::new(403, "no")
            .with_header("A", "1")
            .with_header("B", "2");
        assert_eq!(e.status, 403);
        assert_eq!(
            e.headers,
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
    }

    #[test]
    fn is_a_std_error() {
        let e: Box<dyn std::error::Error> = Box::new(HandshakeError::bad_request("x"));
        assert!(e.to_string().contains('x'));
    }

    #[test]
    fn quoted_escapes_and_truncates() {
        assert_eq!(quoted("ab"), "\"ab\"");
        assert_eq!(quoted("a\r\nb"), "\"a\\r\\nb\"");
        let long = "x".repeat(200);
        let q = quoted(&long);
        assert!(q.ends_with("\"..."));
        assert_eq!(q.len(), MAX_QUOTED + 2 + 3);
        // Never cuts inside a multi-byte character.
        let wide = "é".repeat(200);
        assert!(quoted(&wide).ends_with("\"..."));
    }
}
