//! The RFC 6455 opening handshake (§4.2), which versions 8 and 7 (the
//! HyBi-08..12 drafts browsers shipped) share.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use sha1::{Digest, Sha1};

use super::common::{check_upgrade_request, ResponseHead};
use super::error::{quoted, HandshakeError};
use super::extensions::{parse_extensions, ExtensionOffer};
use super::request::RequestHead;
use super::token::is_token;

/// The versions we speak, as sent back after an unsupported one (§4.4).
pub const SUPPORTED_VERSIONS: &str = "13, 8, 7";

/// Appended to the key before hashing (§1.3).
const KEY_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Strict padding, as the key is always 24 characters ending in `==`; but
/// non-zero trailing bits are accepted: they change nothing in the accept
/// value, and refusing them would only break sloppy clients.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// A validated RFC 6455 (or version 8 / 7) handshake request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc6455Request {
    /// 13, 8 or 7.
    pub version: u8,
    /// `Sec-WebSocket-Key`, OWS trimmed.
    pub key: String,
    /// `Origin` for version 13, `Sec-WebSocket-Origin` for 8 and 7.
    pub origin: Option<String>,
    /// `Sec-WebSocket-Protocol` tokens in order, across repeated headers.
    pub protocols: Vec<String>,
    pub extensions: Vec<ExtensionOffer>,
}

impl Rfc6455Request {
    /// The `Sec-WebSocket-Accept` value answering this request.
    pub fn accept(&self) -> String {
        accept_key(&self.key)
    }
}

/// Validates `head` as an RFC 6455 handshake. Each failure is a distinct,
/// one-line reason; an unknown version also carries the
/// `Sec-WebSocket-Version` header the client should retry with.
pub fn parse(head: &RequestHead) -> Result<Rfc6455Request, HandshakeError> {
    check_upgrade_request(head)?;
    let version = parse_version(head)?;
    let key = parse_key(head)?;
    let origin_header = if version == 13 {
        "Origin"
    } else {
        "Sec-WebSocket-Origin"
    };
    let protocols = parse_protocols(head)?;
    let extensions = parse_extensions(head.header_values("Sec-WebSocket-Extensions"))
        .map_err(|e| HandshakeError::bad_request(format!("Sec-WebSocket-Extensions: {e}")))?;
    Ok(Rfc6455Request {
        version,
        key,
        origin: head.header(origin_header).map(str::to_string),
        protocols,
        extensions,
    })
}

fn parse_version(head: &RequestHead) -> Result<u8, HandshakeError> {
    let refuse = |why: String| {
        HandshakeError::bad_request(why).with_header("Sec-WebSocket-Version", SUPPORTED_VERSIONS)
    };
    let mut values = head.header_values("Sec-WebSocket-Version");
    let value = match (values.next(), values.next()) {
        (None, _) => return Err(refuse("Sec-WebSocket-Version header is missing".into())),
        (Some(_), Some(_)) => {
            return Err(refuse(
                "Sec-WebSocket-Version header occurs more than once".into(),
            ))
        }
        (Some(v), None) => v.trim_matches([' ', '\t']),
    };
    // Exact decimal spellings only: no sign, no leading zero, no list.
    match value {
        "13" => Ok(13),
        "8" => Ok(8),
        "7" => Ok(7),
        _ => Err(refuse(format!(
            "Sec-WebSocket-Version {} is not one of the supported {SUPPORTED_VERSIONS}",
            quoted(value)
        ))),
    }
}

fn parse_key(head: &RequestHead) -> Result<String, HandshakeError> {
    let mut values = head.header_values("Sec-WebSocket-Key");
    let key = match (values.next(), values.next()) {
        (None, _) => return Err(HandshakeError::bad_request("Sec-WebSocket-Key is missing")),
        (Some(_), Some(_)) => {
            return Err(HandshakeError::bad_request(
                "Sec-WebSocket-Key occurs more than once",
            ))
        }
        (Some(v), None) => v.trim_matches([' ', '\t']),
    };
    let decodes_to_16 = key.len() == 24
        && key.ends_with("==")
        && KEY_ENGINE.decode(key).is_ok_and(|bytes| bytes.len() == 16);
    if !decodes_to_16 {
        // Apache joins repeated headers with ", ": say so, it is the likely cause.
        let hint = if key.contains(',') {
            " (several keys joined by a proxy or server?)"
        } else {
            ""
        };
        return Err(HandshakeError::bad_request(format!(
            "Sec-WebSocket-Key {} is not base64 of 16 bytes{hint}",
            quoted(key)
        )));
    }
    Ok(key.to_string())
}

fn parse_protocols(head: &RequestHead) -> Result<Vec<String>, HandshakeError> {
    let mut protocols = Vec::new();
    for element in head
        .header_values("Sec-WebSocket-Protocol")
        .flat_map(|v| v.split(','))
        .map(|e| e.trim_matches([' ', '\t']))
        .filter(|e| !e.is_empty())
    {
        if !is_token(element) {
            return Err(HandshakeError::bad_request(format!(
                "Sec-WebSocket-Protocol element {} is not a token",
                quoted(element)
            )));
        }
        protocols.push(element.to_string());
    }
    Ok(protocols)
}

/// `Sec-WebSocket-Accept` for `key`: base64(SHA-1(key + GUID)) (§4.2.2).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(KEY_GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

/// The exact bytes of the 101 response. `extra_headers` follow the
/// WebSocket ones in order; one that is not safe is left out (see
/// [`ResponseHead`]).
pub fn response(
    accept: &str,
    protocol: Option<&str>,
    extensions: Option<&str>,
    extra_headers: &[(String, String)],
) -> Vec<u8> {
    let mut head = ResponseHead::new("HTTP/1.1 101 Switching Protocols");
    head.header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept);
    if let Some(protocol) = protocol {
        head.header("Sec-WebSocket-Protocol", protocol);
    }
    if let Some(extensions) = extensions {
        head.header("Sec-WebSocket-Extensions", extensions);
    }
    head.headers(extra_headers).finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::common::is_safe_header;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    /// The RFC 6455 §1.2 client handshake.
    fn rfc_head() -> RequestHead {
        crate::testing::get_request(
            "/chat",
            &[
                ("Host", "server.example.com"),
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", KEY),
                ("Origin", "http://example.com"),
                ("Sec-WebSocket-Protocol", "chat, superchat"),
                ("Sec-WebSocket-Version", "13"),
            ],
        )
    }

    fn without(mut head: RequestHead, name: &str) -> RequestHead {
        head.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        head
    }

    fn with(head: RequestHead, name: &str, value: &str) -> RequestHead {
        let mut head = without(head, name);
        head.headers.push((name.into(), value.into()));
        head
    }

    fn adding(mut head: RequestHead, name: &str, value: &str) -> RequestHead {
        head.headers.push((name.into(), value.into()));
        head
    }

    fn refused(head: &RequestHead) -> HandshakeError {
        parse(head).expect_err("handshake accepted")
    }

    fn assert_bad(head: &RequestHead, reason_part: &str) {
        let e = refused(head);
        assert_eq!(e.status, 400, "{e}");
        assert!(
            e.reason.contains(reason_part),
            "{:?} lacks {reason_part:?}",
            e.reason
        );
        assert!(!e.reason.contains('\n') && !e.reason.contains('\r'));
    }

    fn assert_bad_version(head: &RequestHead, reason_part: &str) {
        assert_bad(head, reason_part);
        assert_eq!(
            refused(head).headers,
            [("Sec-WebSocket-Version".to_string(), "13, 8, 7".to_string())]
        );
    }

    #[test]
    fn rfc_example_accept_key() {
        assert_eq!(accept_key(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn rfc_example_parses() {
        let req = parse(&rfc_head()).unwrap();
        assert_eq!(
            req,
            Rfc6455Request {
                version: 13,
                key: KEY.into(),
                origin: Some("http://example.com".into()),
                protocols: vec!["chat".into(), "superchat".into()],
                extensions: vec![],
            }
        );
        assert_eq!(req.accept(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn rfc_example_response_bytes() {
        assert_eq!(
            response("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", Some("chat"), None, &[]),
            b"HTTP/1.1 101 Switching Protocols\r\n\
              Upgrade: websocket\r\n\
              Connection: Upgrade\r\n\
              Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
              Sec-WebSocket-Protocol: chat\r\n\
              \r\n"
        );
    }

    #[test]
    fn minimal_response_bytes() {
        assert_eq!(
            response("X", None, None, &[]),
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: X\r\n\r\n"
        );
    }

    #[test]
    fn full_response_bytes_in_order() {
        let extra = [
            ("Set-Cookie".to_string(), "a=b".to_string()),
            ("X-Served-By".to_string(), "rs".to_string()),
        ];
        assert_eq!(
            response(
                "A",
                Some("chat"),
                Some("permessage-deflate; server_no_context_takeover"),
                &extra
            ),
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: A\r\nSec-WebSocket-Protocol: chat\r\n\
              Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\
              Set-Cookie: a=b\r\nX-Served-By: rs\r\n\r\n"
        );
    }

    #[test]
    fn response_drops_injecting_headers() {
        let extra = [
            ("X-Bad".to_string(), "a\r\nSet-Cookie: evil".to_string()),
            ("Bad Name".to_string(), "v".to_string()),
            ("X-Nul".to_string(), "a\0".to_string()),
            ("X-Ok".to_string(), "fine".to_string()),
        ];
        let r = String::from_utf8(response("A", Some("p\r\nX: y"), None, &extra)).unwrap();
        assert_eq!(
            r,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: A\r\nX-Ok: fine\r\n\r\n"
        );
    }

    #[test]
    fn is_safe_header_rules() {
        assert!(is_safe_header("X-A", "any value; with \"stuff\""));
        assert!(is_safe_header("X-A", ""));
        assert!(!is_safe_header("", "v"));
        assert!(!is_safe_header("X:A", "v"));
        assert!(!is_safe_header("X-A", "a\nb"));
        assert!(!is_safe_header("X-A", "a\rb"));
    }

    #[test]
    fn accepts_versions_8_and_7_with_their_origin_header() {
        for v in ["8", "7"] {
            let head = with(rfc_head(), "Sec-WebSocket-Version", v);
            let head = with(head, "Sec-WebSocket-Origin", "http://old.example");
            let req = parse(&head).unwrap();
            assert_eq!(req.version.to_string(), v);
            assert_eq!(req.origin.as_deref(), Some("http://old.example"));
        }
        // Version 8 ignores a plain Origin, 13 ignores Sec-WebSocket-Origin.
        let head = with(rfc_head(), "Sec-WebSocket-Version", "8");
        assert_eq!(parse(&head).unwrap().origin, None);
        let head = with(without(rfc_head(), "Origin"), "Sec-WebSocket-Origin", "x");
        assert_eq!(parse(&head).unwrap().origin, None);
    }

    #[test]
    fn tolerant_of_case_and_lists() {
        let mut head = rfc_head();
        for (name, _) in head.headers.iter_mut() {
            *name = name.to_ascii_lowercase();
        }
        let head = with(head, "upgrade", "WebSocket");
        let head = with(head, "connection", "keep-alive, upgrade");
        let head = with(head, "sec-websocket-version", " 13\t");
        let head = with(head, "sec-websocket-key", &format!(" {KEY} "));
        let req = parse(&head).unwrap();
        assert_eq!(req.key, KEY);
        assert_eq!(req.version, 13);
    }

    #[test]
    fn http_2_0_head_is_not_too_old() {
        let mut head = rfc_head();
        head.http_version = (2, 0);
        assert!(parse(&head).is_ok());
    }

    #[test]
    fn protocols_across_headers_and_empty_elements() {
        let head = without(rfc_head(), "Sec-WebSocket-Protocol");
        assert!(parse(&head).unwrap().protocols.is_empty());
        let head = adding(head, "Sec-WebSocket-Protocol", ", chat,,v2.bin ");
        let head = adding(head, "sec-websocket-protocol", "superchat");
        assert_eq!(
            parse(&head).unwrap().protocols,
            ["chat", "v2.bin", "superchat"]
        );
        let head = with(rfc_head(), "Sec-WebSocket-Protocol", "");
        assert!(parse(&head).unwrap().protocols.is_empty());
    }

    #[test]
    fn extensions_parsed() {
        let head = adding(
            rfc_head(),
            "Sec-WebSocket-Extensions",
            "permessage-deflate; client_max_window_bits",
        );
        let head = adding(head, "Sec-WebSocket-Extensions", "x-webkit-deflate-frame");
        let req = parse(&head).unwrap();
        assert_eq!(
            req.extensions,
            [
                ExtensionOffer {
                    name: "permessage-deflate".into(),
                    params: vec![("client_max_window_bits".into(), None)]
                },
                ExtensionOffer {
                    name: "x-webkit-deflate-frame".into(),
                    params: vec![]
                }
            ]
        );
    }

    #[test]
    fn rejects_method() {
        for m in ["POST", "get", "HEAD", "CONNECT"] {
            let mut head = rfc_head();
            head.method = m.into();
            assert_bad(&head, &format!("method \"{m}\" is not GET"));
        }
    }

    #[test]
    fn rejects_old_http() {
        for v in [(1, 0), (0, 9)] {
            let mut head = rfc_head();
            head.http_version = v;
            assert_bad(&head, &format!("HTTP/{}.{} is too old", v.0, v.1));
        }
    }

    #[test]
    fn rejects_upgrade() {
        assert_bad(
            &without(rfc_head(), "Upgrade"),
            "Upgrade header (absent) lacks",
        );
        assert_bad(
            &with(rfc_head(), "Upgrade", "h2c"),
            "Upgrade header \"h2c\" lacks the token \"websocket\"",
        );
    }

    #[test]
    fn rejects_connection() {
        assert_bad(
            &without(rfc_head(), "Connection"),
            "Connection header (absent) lacks",
        );
        assert_bad(
            &with(rfc_head(), "Connection", "keep-alive"),
            "Connection header \"keep-alive\" lacks the token \"Upgrade\"",
        );
    }

    #[test]
    fn rejects_missing_host() {
        assert_bad(&without(rfc_head(), "Host"), "Host header is missing");
    }

    #[test]
    fn rejects_version_with_supported_list() {
        assert_bad_version(
            &without(rfc_head(), "Sec-WebSocket-Version"),
            "Sec-WebSocket-Version header is missing",
        );
        for v in [
            "12", "0", "14", "013", "+13", "13.0", "13, 8", "", "0x0d", "١٣",
        ] {
            assert_bad_version(
                &with(rfc_head(), "Sec-WebSocket-Version", v),
                "is not one of the supported 13, 8, 7",
            );
        }
        assert_bad_version(
            &adding(rfc_head(), "Sec-WebSocket-Version", "13"),
            "occurs more than once",
        );
    }

    #[test]
    fn rejects_key() {
        assert_bad(
            &without(rfc_head(), "Sec-WebSocket-Key"),
            "Sec-WebSocket-Key is missing",
        );
        assert_bad(
            &adding(rfc_head(), "Sec-WebSocket-Key", KEY),
            "Sec-WebSocket-Key occurs more than once",
        );
        for bad in [
            "",
            "dGhlIHNhbXBsZSBub25jZQ",       // padding missing
            "dGhlIHNhbXBsZSBub25jZQ=",      // padding short
            "dGhlIHNhbXBsZSBub25jZQ===",    // padding long
            "dGhlIHNhbXBsZSBub25jZUE=",     // 17 bytes, 24 chars
            "dGhlIHNhbXBsZSBub25j",         // 15 bytes
            "dGhlIHNhbXBsZSBub25jZQ-_",     // wrong alphabet
            "dGhlIHNhbXBsZSBub2 5jZQ==",    // inner space
            "dGhlIHNhbXBsZSBub25jZQ==AAAA", // trailing data
            "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==",
        ] {
            assert_bad(
                &with(rfc_head(), "Sec-WebSocket-Key", bad),
                "is not base64 of 16 bytes",
            );
        }
    }

    #[test]
    fn merged_duplicate_key_gets_a_hint() {
        let head = with(rfc_head(), "Sec-WebSocket-Key", &format!("{KEY}, {KEY}"));
        assert_bad(&head, "several keys joined");
    }

    #[test]
    fn key_with_nonzero_trailing_bits_is_accepted() {
        // Same 16 bytes as the RFC key except the unused low bits of the last
        // character; tolerated, and hashed as sent.
        let key = "dGhlIHNhbXBsZSBub25jZR==";
        let req = parse(&with(rfc_head(), "Sec-WebSocket-Key", key)).unwrap();
        assert_eq!(req.key, key);
        assert_ne!(req.accept(), accept_key(KEY));
    }

    #[test]
    fn rejects_bad_protocol_tokens() {
        for bad in ["chat v2", "chat, \"x\"", "a/b", "ch@t", "é"] {
            assert_bad(
                &with(rfc_head(), "Sec-WebSocket-Protocol", bad),
                "Sec-WebSocket-Protocol element",
            );
        }
    }

    #[test]
    fn rejects_bad_extensions() {
        for bad in [";", "a;b=", "a b", "a;b=\"c d\""] {
            assert_bad(
                &adding(rfc_head(), "Sec-WebSocket-Extensions", bad),
                "Sec-WebSocket-Extensions: ",
            );
        }
    }

    #[test]
    fn rejection_reasons_are_distinct() {
        let mut reasons = std::collections::HashSet::new();
        let mut post = rfc_head();
        post.method = "POST".into();
        let mut old = rfc_head();
        old.http_version = (1, 0);
        for head in [
            post,
            old,
            without(rfc_head(), "Upgrade"),
            without(rfc_head(), "Connection"),
            without(rfc_head(), "Host"),
            without(rfc_head(), "Sec-WebSocket-Version"),
            with(rfc_head(), "Sec-WebSocket-Version", "9"),
            without(rfc_head(), "Sec-WebSocket-Key"),
            with(rfc_head(), "Sec-WebSocket-Key", "x"),
            with(rfc_head(), "Sec-WebSocket-Protocol", "a b"),
            adding(rfc_head(), "Sec-WebSocket-Extensions", ";"),
        ] {
            assert!(reasons.insert(refused(&head).reason));
        }
    }

    #[test]
    fn only_version_errors_carry_the_version_header() {
        assert!(refused(&without(rfc_head(), "Host")).headers.is_empty());
        assert!(refused(&with(rfc_head(), "Sec-WebSocket-Key", "x"))
            .headers
            .is_empty());
    }
}
