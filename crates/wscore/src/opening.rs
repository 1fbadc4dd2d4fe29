//! The opening handshake whatever the draft: validate the request, give the
//! handler its view, then build the response and the framing to use.
use crate::error::WsError;
use crate::handler::{Handler, HandshakeRequest, ProtocolVersion};
use crate::handshake::hixie75::{self, Hixie75Request};
use crate::handshake::hybi00::{self, Hybi00Request, KEY3_LEN};
use crate::handshake::{detect_draft, rfc6455, Draft, HandshakeError, RequestHead};
use crate::hixie::{HixieDraft, HixieProtocol};
use crate::protocol::ProtocolConfig;
use crate::session::Session;
use crate::transport::Transport;
use crate::websocket::WebSocket;

/// A validated handshake, waiting for the handler's decisions.
#[derive(Debug)]
pub enum Opening {
    Rfc6455 { accept: String },
    Hybi00(Hybi00Request),
    Hixie75(Hixie75Request),
}

/// Who is asking, and what the server allows, besides the request itself.
pub struct OpeningContext {
    pub remote_addr: String,
    /// The handler file's options.
    pub options: Vec<(String, String)>,
    /// `WebSocketAllowDraft75`.
    pub allow_draft75: bool,
}

pub fn validate(
    head: &RequestHead,
    context: OpeningContext,
) -> Result<(Opening, HandshakeRequest), HandshakeError> {
    let mut request = HandshakeRequest {
        headers: head.headers.clone(),
        remote_addr: context.remote_addr,
        secure: head.secure,
        options: context.options,
        ..HandshakeRequest::new(head.uri.clone())
    };
    let opening = match detect_draft(head) {
        Draft::Rfc6455 => {
            let parsed = rfc6455::parse(head)?;
            request.version = ProtocolVersion::Rfc6455(parsed.version);
            request.origin = parsed.origin;
            request.requested_protocols = parsed.protocols;
            request.requested_extensions = parsed.extensions;
            Opening::Rfc6455 {
                accept: rfc6455::accept_key(&parsed.key),
            }
        }
        Draft::Hybi00 => {
            let parsed = hybi00::parse(head)?;
            request.version = ProtocolVersion::Hybi00;
            request.origin = parsed.origin.clone();
            request.location = Some(parsed.location.clone());
            request.requested_protocols = parsed.protocol.iter().cloned().collect();
            request.protocol = parsed.protocol.clone();
            Opening::Hybi00(parsed)
        }
        Draft::Hixie75 if !context.allow_draft75 => {
            return Err(HandshakeError::bad_request(
                "no Sec-WebSocket-Key or -Version: a Hixie-75 handshake, which is refused \
                 while WebSocketAllowDraft75 is Off",
            ))
        }
        Draft::Hixie75 => {
            let parsed = hixie75::parse(head)?;
            request.version = ProtocolVersion::Hixie75;
            request.origin = Some(parsed.origin.clone());
            request.location = Some(parsed.location.clone());
            request.requested_protocols = parsed.protocol.iter().cloned().collect();
            request.protocol = parsed.protocol.clone();
            Opening::Hixie75(parsed)
        }
    };
    Ok((opening, request))
}

impl Opening {
    /// HyBi-00 sends 8 more bytes after the headers, which the answer needs.
    pub fn needs_key3(&self) -> bool {
        matches!(self, Opening::Hybi00(_))
    }

    /// The handler's subprotocol choice must be one the client offered.
    pub fn check_protocol(&self, request: &HandshakeRequest) -> Result<(), String> {
        match &request.protocol {
            Some(chosen) if !request.requested_protocols.contains(chosen) => Err(format!(
                "the handler chose subprotocol '{chosen}', which the client did not offer"
            )),
            _ => Ok(()),
        }
    }

    /// The exact response bytes. `key3` is required for HyBi-00.
    pub fn response(
        &self,
        request: &HandshakeRequest,
        extensions: Option<&str>,
        key3: Option<&[u8; KEY3_LEN]>,
    ) -> Vec<u8> {
        let protocol = request.protocol.as_deref();
        let headers = &request.response_headers;
        match self {
            Opening::Rfc6455 { accept } => rfc6455::response(accept, protocol, extensions, headers),
            Opening::Hybi00(parsed) => {
                let key3 = key3.expect("HyBi-00 response needs key3");
                let answer = hybi00::challenge_response(parsed.part1, parsed.part2, key3);
                hybi00::response(parsed, protocol, headers, &answer)
            }
            Opening::Hixie75(parsed) => hixie75::response(parsed, protocol, headers),
        }
    }

    /// The bare session (no transport) for this draft's framing, for a
    /// driver that does its own I/O.
    pub fn bare_session(
        &self,
        request: HandshakeRequest,
        config: ProtocolConfig,
        now: std::time::Instant,
    ) -> std::io::Result<Session> {
        let max = config.max_message_size;
        let draft = match self {
            Opening::Rfc6455 { .. } => return Session::new(request, config, now),
            Opening::Hybi00(_) => HixieDraft::Hybi00,
            Opening::Hixie75(_) => HixieDraft::Hixie75,
        };
        Session::with_codec(request, Box::new(HixieProtocol::new(draft, max)), now)
    }

    /// The session the handler gets, speaking this draft's framing.
    pub fn session<'t>(
        &self,
        transport: &'t mut dyn Transport,
        handler: &'t dyn Handler,
        request: HandshakeRequest,
        config: ProtocolConfig,
    ) -> Result<WebSocket<'t>, WsError> {
        let max = config.max_message_size;
        let draft = match self {
            Opening::Rfc6455 { .. } => return WebSocket::new(transport, handler, request, config),
            Opening::Hybi00(_) => HixieDraft::Hybi00,
            Opening::Hixie75(_) => HixieDraft::Hixie75,
        };
        WebSocket::with_codec(
            transport,
            handler,
            request,
            Box::new(HixieProtocol::new(draft, max)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)]) -> RequestHead {
        crate::testing::get_request("/chat?x=1", headers)
    }

    fn context(allow_draft75: bool) -> OpeningContext {
        OpeningContext {
            remote_addr: "192.0.2.1".into(),
            options: vec![("k".into(), "v".into())],
            allow_draft75,
        }
    }

    const HIXIE75: &[(&str, &str)] = &[
        ("Upgrade", "WebSocket"),
        ("Connection", "Upgrade"),
        ("Host", "example.com"),
        ("Origin", "http://example.com"),
        ("WebSocket-Protocol", "chat"),
    ];

    #[test]
    fn hixie75_only_when_allowed() {
        let error = validate(&head(HIXIE75), context(false)).unwrap_err();
        assert_eq!(error.status, 400);
        assert!(
            error.reason.contains("WebSocketAllowDraft75"),
            "{}",
            error.reason
        );
        let (opening, request) = validate(&head(HIXIE75), context(true)).unwrap();
        assert_eq!(request.version, ProtocolVersion::Hixie75);
        assert_eq!(
            request.location.as_deref(),
            Some("ws://example.com/chat?x=1")
        );
        assert_eq!(
            request.protocol.as_deref(),
            Some("chat"),
            "accepted unless the handler clears it"
        );
        assert_eq!(request.options, vec![("k".to_string(), "v".to_string())]);
        let response = String::from_utf8(opening.response(&request, None, None)).unwrap();
        assert!(response.starts_with("HTTP/1.1 101 Web Socket Protocol Handshake\r\n"));
        assert!(response.contains("WebSocket-Protocol: chat\r\n"));
    }

    #[test]
    fn rfc6455_request_view() {
        let (opening, request) = validate(
            &head(&[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Host", "h"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "8"),
                ("Sec-WebSocket-Origin", "http://o"),
                ("Sec-WebSocket-Protocol", "a, b"),
            ]),
            context(false),
        )
        .unwrap();
        assert!(!opening.needs_key3());
        assert_eq!(request.version, ProtocolVersion::Rfc6455(8));
        assert_eq!(request.origin.as_deref(), Some("http://o"));
        assert_eq!(request.requested_protocols, vec!["a", "b"]);
        assert_eq!(request.protocol, None, "RFC 6455: the handler must choose");
        let mut chosen = request.clone();
        chosen.protocol = Some("c".into());
        assert!(opening.check_protocol(&chosen).is_err());
        chosen.protocol = Some("b".into());
        assert!(opening.check_protocol(&chosen).is_ok());
    }
}
