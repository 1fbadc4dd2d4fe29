//! The HyBi-00 (draft-hixie-thewebsocketprotocol-76) handshake: two keys
//! whose digits divided by their spaces, and 8 bytes sent after the
//! headers, are answered with an MD5 digest.
use md5::{Digest, Md5};

use super::common::{check_upgrade_request, location, ResponseHead};
use super::error::{quoted, HandshakeError};
use super::request::RequestHead;

/// The bytes the client sends after the request headers (no Content-Length).
pub const KEY3_LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hybi00Request {
    /// The key numbers divided by their space counts.
    pub part1: u32,
    pub part2: u32,
    pub origin: Option<String>,
    /// `Sec-WebSocket-Protocol`, echoed back if the handler keeps it.
    pub protocol: Option<String>,
    /// `ws://host/resource` for `Sec-WebSocket-Location`.
    pub location: String,
}

pub fn parse(head: &RequestHead) -> Result<Hybi00Request, HandshakeError> {
    check_upgrade_request(head)?;
    let part1 = key_part(head, "Sec-WebSocket-Key1")?;
    let part2 = key_part(head, "Sec-WebSocket-Key2")?;
    let protocol = head.header("Sec-WebSocket-Protocol").map(str::to_string);
    if let Some(p) = &protocol {
        if p.is_empty() || !p.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(HandshakeError::bad_request(format!(
                "Sec-WebSocket-Protocol {} is not printable ASCII",
                quoted(p)
            )));
        }
    }
    Ok(Hybi00Request {
        part1,
        part2,
        origin: head.header("Origin").map(str::to_string),
        protocol,
        location: location(head),
    })
}

/// A key's digits as a number, divided by its number of spaces (§5.2).
fn key_part(head: &RequestHead, name: &str) -> Result<u32, HandshakeError> {
    let mut values = head.header_values(name);
    let key = match (values.next(), values.next()) {
        (Some(key), None) => key,
        (None, _) => return Err(HandshakeError::bad_request(format!("{name} is missing"))),
        (Some(_), Some(_)) => {
            return Err(HandshakeError::bad_request(format!(
                "{name} occurs more than once"
            )))
        }
    };
    let spaces = key.bytes().filter(|b| *b == b' ').count() as u64;
    let digits: String = key.chars().filter(char::is_ascii_digit).collect();
    let refuse = |why: &str| HandshakeError::bad_request(format!("{name} {} {why}", quoted(key)));
    if spaces == 0 {
        return Err(refuse("has no spaces"));
    }
    let number: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| refuse("has too many digits"))?
    };
    if !number.is_multiple_of(spaces) {
        return Err(refuse("has a digit count not divisible by its spaces"));
    }
    u32::try_from(number / spaces).map_err(|_| refuse("divides to more than 32 bits"))
}

/// The 16-byte answer: MD5 of both parts (big-endian) and the 8-byte key3.
pub fn challenge_response(part1: u32, part2: u32, key3: &[u8; KEY3_LEN]) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(part1.to_be_bytes());
    md5.update(part2.to_be_bytes());
    md5.update(key3);
    md5.finalize().into()
}

/// The exact bytes of the 101 response, challenge answer included.
pub fn response(
    request: &Hybi00Request,
    protocol: Option<&str>,
    extra_headers: &[(String, String)],
    answer: &[u8; 16],
) -> Vec<u8> {
    let mut head = ResponseHead::new("HTTP/1.1 101 WebSocket Protocol Handshake");
    head.header("Upgrade", "WebSocket")
        .header("Connection", "Upgrade");
    if let Some(origin) = &request.origin {
        head.header("Sec-WebSocket-Origin", origin);
    }
    head.header("Sec-WebSocket-Location", &request.location);
    if let Some(protocol) = protocol {
        head.header("Sec-WebSocket-Protocol", protocol);
    }
    let mut bytes = head.headers(extra_headers).finish();
    bytes.extend_from_slice(answer);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of draft-hixie-thewebsocketprotocol-76 §1.3.
    fn draft_example() -> RequestHead {
        crate::testing::get_request(
            "/demo",
            &[
                ("Host", "example.com"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key2", "12998 5 Y3 1  .P00"),
                ("Sec-WebSocket-Protocol", "sample"),
                ("Upgrade", "WebSocket"),
                ("Sec-WebSocket-Key1", "4 @1  46546xW%0l 1 5"),
                ("Origin", "http://example.com"),
            ],
        )
    }

    #[test]
    fn the_drafts_worked_example() {
        let request = parse(&draft_example()).unwrap();
        let answer = challenge_response(request.part1, request.part2, b"^n:ds[4U");
        assert_eq!(&answer, b"8jKS'y:G*Co,Wxa-");
        let bytes = response(&request, request.protocol.as_deref(), &[], &answer);
        let expected = b"HTTP/1.1 101 WebSocket Protocol Handshake\r\n\
            Upgrade: WebSocket\r\n\
            Connection: Upgrade\r\n\
            Sec-WebSocket-Origin: http://example.com\r\n\
            Sec-WebSocket-Location: ws://example.com/demo\r\n\
            Sec-WebSocket-Protocol: sample\r\n\
            \r\n\
            8jKS'y:G*Co,Wxa-";
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(expected)
        );
    }

    #[test]
    fn the_issues_example_keys() {
        let mut head = draft_example();
        head.headers
            .retain(|(k, _)| !k.starts_with("Sec-WebSocket-Key"));
        head.headers.push((
            "Sec-WebSocket-Key1".into(),
            "18x 6]8vM;54 *(5:  {   U1]8  z [  8".into(),
        ));
        head.headers.push((
            "Sec-WebSocket-Key2".into(),
            "1_ tx7X d  <  nw  334J702) 7]o}` 0".into(),
        ));
        let request = parse(&head).unwrap();
        let answer = challenge_response(request.part1, request.part2, b"Tm[K T2u");
        assert_eq!(&answer, b"fQJ,fN/4F4!~K~MH");
    }

    #[test]
    fn wss_location_uses_the_host_as_sent() {
        let mut head = draft_example();
        head.secure = true;
        head.uri = "/chat?room=1".into();
        head.headers[0].1 = "example.com:8443".into();
        assert_eq!(
            parse(&head).unwrap().location,
            "wss://example.com:8443/chat?room=1"
        );
    }

    #[test]
    fn bad_keys_are_400() {
        for (key1, why) in [
            ("12345", "has no spaces"),
            ("1 2 3", "not divisible"), // 123 / 2
            ("99999999999999999999999 1", "too many digits"),
            ("9999999999 1", "more than 32 bits"),
        ] {
            let mut head = draft_example();
            head.headers[5].1 = key1.into();
            let error = parse(&head).unwrap_err();
            assert_eq!(error.status, 400);
            assert!(error.reason.contains(why), "{key1}: {}", error.reason);
        }
        let mut head = draft_example();
        head.headers.retain(|(k, _)| k != "Sec-WebSocket-Key2");
        assert!(parse(&head)
            .unwrap_err()
            .reason
            .contains("Sec-WebSocket-Key2 is missing"));
    }
}
