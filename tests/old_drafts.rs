//! HyBi-00 (hixie-76) and Hixie-75 clients on raw sockets, over ws and wss,
//! through a real Apache.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Apache, Setup};

/// The drafts' examples come from http://example.com: allow any origin here
/// (origin policy has its own tests).
fn setup() -> Setup {
    Setup::default().extra("WebSocketOriginCheck Off")
}

const KEY1: &str = "4 @1  46546xW%0l 1 5";
const KEY2: &str = "12998 5 Y3 1  .P00";
const KEY3: &[u8; 8] = b"^n:ds[4U";
/// The draft's worked example answer for these keys.
const ANSWER: &[u8; 16] = b"8jKS'y:G*Co,Wxa-";

fn hybi00_head(host: &str) -> String {
    format!(
        "GET /echo HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\
         Origin: http://example.com\r\nSec-WebSocket-Protocol: sample\r\n\
         Sec-WebSocket-Key1: {KEY1}\r\nSec-WebSocket-Key2: {KEY2}\r\n\r\n"
    )
}

fn hixie75_head(host: &str) -> String {
    format!(
        "GET /echo HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\
         Origin: http://example.com\r\n\r\n"
    )
}

/// Reads the response head (through the blank line).
fn read_head(stream: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).to_string()
}

fn read_exact_n(stream: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).unwrap();
    buf
}

fn at_eof(stream: &mut impl Read) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Ok(0) | Err(_))
}

fn hybi00_session(stream: &mut (impl Read + Write), host: &str, scheme: &str, split_key3: bool) {
    if split_key3 {
        stream.write_all(hybi00_head(host).as_bytes()).unwrap();
        stream.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        stream.write_all(&KEY3[..3]).unwrap();
        stream.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        stream.write_all(&KEY3[3..]).unwrap();
    } else {
        let mut request = hybi00_head(host).into_bytes();
        request.extend_from_slice(KEY3);
        stream.write_all(&request).unwrap();
    }
    stream.flush().unwrap();
    let head = read_head(stream);
    assert_eq!(
        head,
        format!(
            "HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Origin: http://example.com\r\nSec-WebSocket-Location: {scheme}://{host}/echo\r\n\
             Sec-WebSocket-Protocol: sample\r\n\r\n"
        )
    );
    assert_eq!(&read_exact_n(stream, 16)[..], ANSWER);
    stream.write_all("\x00héllo\u{7f}\x00".as_bytes()).unwrap();
    stream.write_all(b"\xff").unwrap();
    stream.flush().unwrap();
    let mut expected = "\x00héllo\u{7f}\x00".as_bytes().to_vec();
    expected.push(0xff);
    assert_eq!(read_exact_n(stream, expected.len()), expected);
    // A length-prefixed frame is discarded; then the closing handshake.
    stream
        .write_all(&[0x80, 0x03, 1, 2, 3, 0xff, 0x00])
        .unwrap();
    stream.flush().unwrap();
    assert_eq!(read_exact_n(stream, 2), vec![0xff, 0x00]);
    assert!(
        at_eof(stream),
        "the server closes after the closing handshake"
    );
}

fn tls(apache: &Apache) -> native_tls::TlsStream<TcpStream> {
    let connector = native_tls::TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", apache.tls_port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    connector.connect("127.0.0.1", tcp).unwrap()
}

fn tcp(apache: &Apache) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", apache.port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

#[test]
fn hybi00_echo_over_ws_and_wss() {
    let apache = Apache::start("hybi00", setup());
    let host = format!("127.0.0.1:{}", apache.port);
    hybi00_session(&mut tcp(&apache), &host, "ws", false);
    hybi00_session(&mut tcp(&apache), &host, "ws", true);
    let tls_host = format!("127.0.0.1:{}", apache.tls_port);
    hybi00_session(&mut tls(&apache), &tls_host, "wss", false);
    hybi00_session(&mut tls(&apache), &tls_host, "wss", true);
}

#[test]
fn hybi00_bad_keys_are_400() {
    let apache = Apache::start("hybi00-bad", setup());
    let request = hybi00_head("x").replace(KEY2, "12998 5 Y3 1  .P01"); // 1299853101 / 5 spaces
    let response = apache.raw(request.as_bytes());
    assert_eq!(response.status, 400, "{}", response.head);
    assert_eq!(
        apache.wait_log_lines("Sec-WebSocket-Key2", 1).len(),
        1,
        "{}",
        apache.error_log()
    );
}

#[test]
fn hybi00_missing_key3_is_400_after_waiting() {
    let apache = Apache::start("hybi00-nokey3", setup());
    let mut request = hybi00_head("x").into_bytes();
    request.extend_from_slice(&KEY3[..5]);
    let response = apache.raw(&request);
    assert_eq!(response.status, 400, "{}", response.head);
    assert_eq!(
        apache.wait_log_lines("5 of the 8 bytes", 1).len(),
        1,
        "{}",
        apache.error_log()
    );
}

fn hixie75_session(stream: &mut (impl Read + Write), host: &str, scheme: &str) {
    stream.write_all(hixie75_head(host).as_bytes()).unwrap();
    stream.flush().unwrap();
    let head = read_head(stream);
    assert_eq!(
        head,
        format!(
            "HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\
             WebSocket-Origin: http://example.com\r\nWebSocket-Location: {scheme}://{host}/echo\r\n\r\n"
        )
    );
    stream.write_all(b"\x00hi\xff\x00Goodbye\xff").unwrap();
    stream.flush().unwrap();
    assert_eq!(read_exact_n(stream, 13), b"\x00hi\xff\x00Goodbye\xff");
    assert!(
        at_eof(stream),
        "after Goodbye the echo handler ends: Hixie-75 closes the TCP"
    );
}

#[test]
fn hixie75_is_refused_while_off() {
    let apache = Apache::start("hixie75-off", setup());
    let response = apache.raw(hixie75_head("x").as_bytes());
    assert_eq!(response.status, 400, "{}", response.head);
    assert_eq!(
        apache
            .wait_log_lines("WebSocketAllowDraft75 is Off", 1)
            .len(),
        1
    );
}

#[test]
fn hixie75_echo_over_ws_and_wss_when_allowed() {
    let apache = Apache::start("hixie75-on", setup().extra("WebSocketAllowDraft75 On"));
    hixie75_session(
        &mut tcp(&apache),
        &format!("127.0.0.1:{}", apache.port),
        "ws",
    );
    hixie75_session(
        &mut tls(&apache),
        &format!("127.0.0.1:{}", apache.tls_port),
        "wss",
    );
}

#[test]
fn hixie75_via_the_pywebsocket_option() {
    let apache = Apache::start(
        "hixie75-py",
        setup().extra("PythonOption mod_pywebsocket.allow_draft75 On"),
    );
    hixie75_session(
        &mut tcp(&apache),
        &format!("127.0.0.1:{}", apache.port),
        "ws",
    );
}
