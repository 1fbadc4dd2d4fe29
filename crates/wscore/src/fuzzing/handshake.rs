//! Checks of the opening-handshake parsers and the text parsers next to
//! them (handler files, resource names) on arbitrary text.

use crate::dispatch::normalize_resource;
use crate::handler_file::parse_handler_file;

use super::{negotiation, opening};
use crate::handshake::extensions::{format_extension, parse_extensions};
use crate::handshake::hybi00::KEY3_LEN;
use crate::handshake::is_safe_header;
use crate::handshake::rfc6455;
use crate::handshake::token::is_token;
use crate::handshake::{detect_draft, is_websocket_upgrade, Draft, HandshakeError, RequestHead};

/// Input: an HTTP request head (request line, then `Name: value` lines), as
/// lossy UTF-8. The same text is also read as a handler file and its path
/// and whole text as resource names.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let head = request_head(&text);
    check_rfc6455(&head);
    check_extensions(head.header_values("Sec-WebSocket-Extensions"));
    opening::check(&head, key3(data));
    check_resource(head.path());
    check_resource(&text);
    check_handler_file(&text);
}

/// HyBi-00's 8 bytes after the head: the input's last 8, zero-padded.
fn key3(data: &[u8]) -> [u8; KEY3_LEN] {
    let mut key3 = [0; KEY3_LEN];
    let tail = &data[data.len().saturating_sub(KEY3_LEN)..];
    key3[..tail.len()].copy_from_slice(tail);
    key3
}

/// A lenient reading of `text` as a request head, so that most inputs reach
/// the handshake parser. A version that does not parse is HTTP/1.0.
fn request_head(text: &str) -> RequestHead {
    let mut lines = text.lines();
    let mut request_line = lines.next().unwrap_or("").split(' ');
    let method = request_line.next().unwrap_or("").to_string();
    let uri = request_line.next().unwrap_or("").to_string();
    let http_version = request_line
        .next()
        .and_then(|v| v.strip_prefix("HTTP/"))
        .and_then(|v| v.split_once('.'))
        .and_then(|(major, minor)| Some((major.parse().ok()?, minor.parse().ok()?)))
        .unwrap_or((1, 0));
    let headers = lines
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| {
            (
                name.to_string(),
                value.trim_matches([' ', '\t']).to_string(),
            )
        })
        .collect();
    RequestHead {
        method,
        uri,
        http_version,
        headers,
        secure: text.len() % 2 == 1,
    }
}

fn check_rfc6455(head: &RequestHead) {
    let request = match rfc6455::parse(head) {
        Ok(request) => request,
        Err(error) => return check_refusal(&error),
    };
    assert!(is_websocket_upgrade(head));
    assert_ne!(detect_draft(head), Draft::Hixie75);
    assert!(matches!(request.version, 13 | 8 | 7));
    assert_eq!(request.key.len(), 24);
    assert!(request.protocols.iter().all(|p| is_token(p)));
    let accept = request.accept();
    assert_eq!(accept.len(), 28, "base64 of a SHA-1");
    let extensions = (!request.extensions.is_empty()).then(|| {
        request
            .extensions
            .iter()
            .map(|offer| format_extension(&offer.name, &offer.params))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let protocol = request.protocols.first().map(String::as_str);
    // The client's own headers as extra headers: the hostile case.
    let response = rfc6455::response(&accept, protocol, extensions.as_deref(), &head.headers);
    let safe_extras = head
        .headers
        .iter()
        .filter(|(n, v)| is_safe_header(n, v))
        .count();
    // Upgrade, Connection and Sec-WebSocket-Accept, then the optional ones.
    let expected_lines =
        3 + usize::from(protocol.is_some()) + usize::from(extensions.is_some()) + safe_extras;
    let lines = check_response_head(&response, "HTTP/1.1 101 Switching Protocols");
    assert_eq!(lines, expected_lines, "header lines in {response:?}");
}

/// A refusal is a 4xx with a one-line reason and headers safe to send.
pub(super) fn check_refusal(error: &HandshakeError) {
    assert!(
        (400..500).contains(&error.status),
        "status {}",
        error.status
    );
    assert!(!error.reason.is_empty());
    assert!(
        !error.reason.contains(char::is_control),
        "reason not one clean line: {:?}",
        error.reason
    );
    assert!(error.headers.iter().all(|(n, v)| is_safe_header(n, v)));
}

/// The 101 response head: `status_line`, header lines of `token: value`
/// with no CR, LF or NUL inside, then the empty line, nothing else.
/// Returns the number of header lines.
pub(super) fn check_response_head(response: &[u8], status_line: &str) -> usize {
    let text = std::str::from_utf8(response).expect("response is UTF-8");
    let head = text
        .strip_suffix("\r\n\r\n")
        .expect("ends with an empty line");
    let mut lines_seen = head.split("\r\n");
    assert_eq!(lines_seen.next(), Some(status_line));
    let mut count = 0;
    for line in lines_seen {
        let (name, value) = line.split_once(": ").expect("a `name: value` line");
        assert!(is_safe_header(name, value), "header line {line:?}");
        count += 1;
    }
    count
}

/// Parsed offers survive formatting and parsing again unchanged.
fn check_extensions<'a>(values: impl Iterator<Item = &'a str>) {
    let Ok(offers) = parse_extensions(values) else {
        return;
    };
    negotiation::check(&offers);
    let formatted: Vec<String> = offers
        .iter()
        .map(|offer| format_extension(&offer.name, &offer.params))
        .collect();
    let joined = formatted.join(", ");
    assert_eq!(
        parse_extensions(std::iter::once(joined.as_str())).as_ref(),
        Ok(&offers),
        "round trip through {joined:?}"
    );
}

/// A normalized resource is canonical: absolute, no empty, `.` or `..`
/// segment, no trailing `/` (but `/` itself), and normalizes to itself.
fn check_resource(path: &str) {
    let Some(resource) = normalize_resource(path) else {
        return;
    };
    assert!(resource.starts_with('/'));
    if resource != "/" {
        assert!(resource[1..]
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | "..")));
    }
    assert_eq!(normalize_resource(&resource).as_ref(), Some(&resource));
}

/// A parsed file names a handler and has distinct, well-formed keys; an
/// error points at a line of the file (or 0 for the whole file).
fn check_handler_file(text: &str) {
    match parse_handler_file(text) {
        Ok(file) => {
            assert!(!file.handler.is_empty());
            let mut keys: Vec<&str> = file.options.iter().map(|(k, _)| k.as_str()).collect();
            assert!(!keys.contains(&"handler"));
            keys.sort_unstable();
            let before = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), before, "duplicate option key");
            assert!(keys.iter().all(|k| !k.is_empty()));
        }
        Err(error) => {
            assert!(error.line <= text.lines().count());
            assert!(!error.message.is_empty());
        }
    }
}
