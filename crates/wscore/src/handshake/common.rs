//! What every WebSocket handshake shares, whatever its draft: the request
//! line and upgrade headers, the `ws://` location, and writing the response
//! head safely.
use super::error::{quoted, HandshakeError};
use super::request::RequestHead;
use super::token::is_token;

/// GET, HTTP/1.1 or later, `Upgrade: websocket`, `Connection: Upgrade`, Host.
pub fn check_upgrade_request(head: &RequestHead) -> Result<(), HandshakeError> {
    if head.method != "GET" {
        return Err(HandshakeError::bad_request(format!(
            "method {} is not GET, the only method of a WebSocket handshake",
            quoted(&head.method)
        )));
    }
    if head.http_version < (1, 1) {
        let (major, minor) = head.http_version;
        return Err(HandshakeError::bad_request(format!(
            "HTTP/{major}.{minor} is too old: a WebSocket handshake needs HTTP/1.1"
        )));
    }
    if !head.header_has_token("Upgrade", "websocket") {
        return Err(HandshakeError::bad_request(format!(
            "Upgrade header {} lacks the token \"websocket\"",
            header_for_log(head, "Upgrade")
        )));
    }
    if !head.header_has_token("Connection", "upgrade") {
        return Err(HandshakeError::bad_request(format!(
            "Connection header {} lacks the token \"Upgrade\"",
            header_for_log(head, "Connection")
        )));
    }
    if head.header("Host").is_none() {
        return Err(HandshakeError::bad_request("Host header is missing"));
    }
    Ok(())
}

/// The header's first value quoted, or "(absent)".
pub fn header_for_log(head: &RequestHead, name: &str) -> String {
    match head.header(name) {
        Some(v) => quoted(v),
        None => "(absent)".into(),
    }
}

/// `ws://host/resource` (or `wss://`), as the old drafts echo it back: the
/// Host header as the client sent it, so it matches the URL it opened.
pub fn location(head: &RequestHead) -> String {
    let scheme = if head.secure { "wss" } else { "ws" };
    format!(
        "{scheme}://{}{}",
        head.header("Host").unwrap_or(""),
        head.uri
    )
}

/// Whether a header can go on the wire as is: a token name, and a value
/// with no CR, LF or NUL that could split the response.
pub fn is_safe_header(name: &str, value: &str) -> bool {
    is_token(name) && !value.contains(['\r', '\n', '\0'])
}

/// A response head written in order. A header that is not
/// [`is_safe_header`] is left out rather than let it inject headers.
pub struct ResponseHead {
    text: String,
}

impl ResponseHead {
    /// `status_line` without its CRLF, e.g. `HTTP/1.1 101 Switching Protocols`.
    pub fn new(status_line: &str) -> ResponseHead {
        ResponseHead {
            text: format!("{status_line}\r\n"),
        }
    }

    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        if is_safe_header(name, value) {
            self.text.push_str(name);
            self.text.push_str(": ");
            self.text.push_str(value);
            self.text.push_str("\r\n");
        }
        self
    }

    pub fn headers(&mut self, headers: &[(String, String)]) -> &mut Self {
        for (name, value) in headers {
            self.header(name, value);
        }
        self
    }

    /// The head's bytes, ending with the empty line.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes
    }
}
