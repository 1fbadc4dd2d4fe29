//! Opening handshakes: the request head, draft detection, and the RFC 6455
//! handshakes of RFC 6455, HyBi-00 and Hixie-75.

pub mod common;
pub mod error;
pub mod extensions;
pub mod hixie75;
pub mod hybi00;
pub mod request;
pub mod rfc6455;
pub mod token;

pub use common::{is_safe_header, location};
pub use error::HandshakeError;
pub use extensions::{format_extension, parse_extensions, ExtensionOffer};
pub use request::{is_websocket_upgrade, RequestHead};

/// The protocol generation a handshake request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draft {
    /// draft-hixie-thewebsocketprotocol-75: no key at all.
    Hixie75,
    /// draft-ietf-hybi-thewebsocketprotocol-00 (hixie-76): `Sec-WebSocket-Key1/Key2`.
    Hybi00,
    /// RFC 6455 and the HyBi drafts 7 and 8: `Sec-WebSocket-Key` / `-Version`.
    Rfc6455,
}

/// Which draft `head` speaks, judged by its headers alone; the draft's own
/// parser then validates it. Call only for a WebSocket upgrade.
pub fn detect_draft(head: &RequestHead) -> Draft {
    if head.header("Sec-WebSocket-Key1").is_some() && head.header("Sec-WebSocket-Key2").is_some() {
        Draft::Hybi00
    } else if head.header("Sec-WebSocket-Key").is_some()
        || head.header("Sec-WebSocket-Version").is_some()
    {
        Draft::Rfc6455
    } else {
        Draft::Hixie75
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[&str]) -> RequestHead {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|name| (*name, "x")).collect();
        crate::testing::get_request("/", &pairs)
    }

    #[test]
    fn detects_hybi00() {
        let h = head(&["Upgrade", "sec-websocket-key1", "Sec-WebSocket-Key2"]);
        assert_eq!(detect_draft(&h), Draft::Hybi00);
    }

    #[test]
    fn detects_rfc6455() {
        assert_eq!(detect_draft(&head(&["Sec-WebSocket-Key"])), Draft::Rfc6455);
        assert_eq!(
            detect_draft(&head(&["sec-websocket-version"])),
            Draft::Rfc6455
        );
        // One HyBi-00 key alone is not HyBi-00.
        let h = head(&["Sec-WebSocket-Key1", "Sec-WebSocket-Version"]);
        assert_eq!(detect_draft(&h), Draft::Rfc6455);
    }

    #[test]
    fn detects_hixie75() {
        assert_eq!(detect_draft(&head(&["Upgrade", "Origin"])), Draft::Hixie75);
        assert_eq!(detect_draft(&head(&["Sec-WebSocket-Key1"])), Draft::Hixie75);
    }
}
