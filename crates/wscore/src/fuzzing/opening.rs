//! Checks of [`opening::validate`], which picks the draft, and of the
//! response each draft then sends.

use super::handshake::{check_refusal, check_response_head};
use crate::extensions::{negotiate, CompressionSettings};
use crate::handler::ProtocolVersion;
use crate::handshake::hybi00::{challenge_response, KEY3_LEN};
use crate::handshake::{detect_draft, Draft, RequestHead};
use crate::opening::{self, Opening, OpeningContext};

/// Validates `head` with Hixie-75 refused and allowed: both agree except on
/// a Hixie-75 request, which only the second accepts. An accepted request
/// gets a well-formed response: the draft's status line, safe header lines
/// (the client's own headers offered as extra ones), the empty line, and
/// for HyBi-00 the 16-byte answer to `key3`.
pub fn check(head: &RequestHead, key3: [u8; KEY3_LEN]) {
    let refused = check_one(head, false, &key3);
    let allowed = check_one(head, true, &key3);
    if detect_draft(head) == Draft::Hixie75 {
        assert!(refused.is_err(), "Hixie-75 while not allowed");
    } else {
        assert_eq!(
            refused, allowed,
            "allow_draft75 changed a non-Hixie-75 outcome"
        );
    }
}

/// The response bytes, or the refusal's status.
fn check_one(
    head: &RequestHead,
    allow_draft75: bool,
    key3: &[u8; KEY3_LEN],
) -> Result<Vec<u8>, u16> {
    let context = OpeningContext {
        remote_addr: "192.0.2.1".into(),
        options: Vec::new(),
        allow_draft75,
    };
    let (opening, mut request) = match opening::validate(head, context) {
        Ok(validated) => validated,
        Err(error) => {
            check_refusal(&error);
            return Err(error.status);
        }
    };
    assert!(
        opening.check_protocol(&request).is_ok(),
        "offered protocol refused"
    );
    request.response_headers = head.headers.clone();
    let extensions = negotiate(
        &request.requested_extensions,
        &CompressionSettings::default(),
    )
    .map(|agreement| agreement.response);
    let response = match &opening {
        Opening::Rfc6455 { .. } => {
            assert!(matches!(
                request.version,
                ProtocolVersion::Rfc6455(13 | 8 | 7)
            ));
            let response = opening.response(&request, extensions.as_deref(), None);
            check_response_head(&response, "HTTP/1.1 101 Switching Protocols");
            response
        }
        Opening::Hybi00(parsed) => {
            assert_eq!(request.version, ProtocolVersion::Hybi00);
            assert!(opening.needs_key3());
            let response = opening.response(&request, None, Some(key3));
            let (head, answer) = response.split_at(response.len() - 16);
            check_response_head(head, "HTTP/1.1 101 WebSocket Protocol Handshake");
            assert_eq!(answer, challenge_response(parsed.part1, parsed.part2, key3));
            response
        }
        Opening::Hixie75(_) => {
            assert!(allow_draft75);
            assert_eq!(request.version, ProtocolVersion::Hixie75);
            let response = opening.response(&request, None, None);
            check_response_head(&response, "HTTP/1.1 101 Web Socket Protocol Handshake");
            response
        }
    };
    Ok(response)
}
