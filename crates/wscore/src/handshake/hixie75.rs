//! The Hixie-75 (draft-hixie-thewebsocketprotocol-75) handshake: no key,
//! the origin and location echoed back. Served only when enabled
//! (`WebSocketAllowDraft75 On`).
use super::common::{check_upgrade_request, location, ResponseHead};
use super::error::HandshakeError;
use super::request::RequestHead;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hixie75Request {
    pub origin: String,
    /// `WebSocket-Protocol`, echoed back if the handler keeps it.
    pub protocol: Option<String>,
    pub location: String,
}

pub fn parse(head: &RequestHead) -> Result<Hixie75Request, HandshakeError> {
    check_upgrade_request(head)?;
    let origin = head
        .header("Origin")
        .ok_or_else(|| HandshakeError::bad_request("Origin header is missing (Hixie-75)"))?;
    Ok(Hixie75Request {
        origin: origin.to_string(),
        protocol: head.header("WebSocket-Protocol").map(str::to_string),
        location: location(head),
    })
}

/// The exact bytes of the 101 response.
pub fn response(
    request: &Hixie75Request,
    protocol: Option<&str>,
    extra_headers: &[(String, String)],
) -> Vec<u8> {
    let mut head = ResponseHead::new("HTTP/1.1 101 Web Socket Protocol Handshake");
    head.header("Upgrade", "WebSocket")
        .header("Connection", "Upgrade")
        .header("WebSocket-Origin", &request.origin)
        .header("WebSocket-Location", &request.location);
    if let Some(protocol) = protocol {
        head.header("WebSocket-Protocol", protocol);
    }
    head.headers(extra_headers).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft_example() -> RequestHead {
        crate::testing::get_request(
            "/demo",
            &[
                ("Upgrade", "WebSocket"),
                ("Connection", "Upgrade"),
                ("Host", "example.com"),
                ("Origin", "http://example.com"),
                ("WebSocket-Protocol", "sample"),
            ],
        )
    }

    #[test]
    fn the_drafts_example_response() {
        let request = parse(&draft_example()).unwrap();
        let bytes = response(&request, request.protocol.as_deref(), &[]);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "HTTP/1.1 101 Web Socket Protocol Handshake\r\n\
             Upgrade: WebSocket\r\n\
             Connection: Upgrade\r\n\
             WebSocket-Origin: http://example.com\r\n\
             WebSocket-Location: ws://example.com/demo\r\n\
             WebSocket-Protocol: sample\r\n\r\n"
        );
    }

    #[test]
    fn origin_is_required() {
        let mut head = draft_example();
        head.headers.retain(|(k, _)| k != "Origin");
        assert_eq!(parse(&head).unwrap_err().status, 400);
    }
}
