//! Every close-code path of RFC 6455 through a real Apache, with raw frames.
mod common;

use common::{frame, Apache, RawWs, Setup};

fn server() -> Apache {
    Apache::start(
        "close-codes",
        Setup::default().extra(
            "<Location /small>\n  WebSocketHandler echo\n  WebSocketMaxMessageSize 1000\n</Location>",
        ),
    )
}

fn closes_with(apache: &Apache, bytes: &[u8], code: u16) {
    let mut ws = RawWs::open(apache, "/echo");
    ws.send(bytes);
    let (got, reason) = ws.expect_close();
    assert_eq!(got, Some(code), "reason: {reason}");
    assert!(
        ws.server_closed(),
        "the server must close TCP after failing the connection"
    );
}

#[test]
fn protocol_violations_close_with_1002() {
    let apache = server();
    // Unmasked client frame.
    closes_with(&apache, &[0x81, 0x02, b'h', b'i'], 1002);
    // RSV1 without a negotiated extension.
    closes_with(&apache, &frame(true, 0b100, 0x1, b"hi"), 1002);
    // Reserved opcodes, data and control.
    closes_with(&apache, &frame(true, 0, 0x3, b""), 1002);
    closes_with(&apache, &frame(true, 0, 0xb, b""), 1002);
    // Continuation with no message started.
    closes_with(&apache, &frame(true, 0, 0x0, b"x"), 1002);
    // Fragmented ping.
    closes_with(&apache, &frame(false, 0, 0x9, b""), 1002);
    // Close with a 1-byte body, and with a code nobody may send.
    closes_with(&apache, &frame(true, 0, 0x8, &[0x03]), 1002);
    closes_with(&apache, &frame(true, 0, 0x8, &1005u16.to_be_bytes()), 1002);
    closes_with(&apache, &frame(true, 0, 0x8, &999u16.to_be_bytes()), 1002);
}

#[test]
fn invalid_utf8_fails_at_once_with_1007() {
    let apache = server();
    // A text frame announcing 100 bytes whose third is invalid: the server
    // must not wait for the other 97.
    let mut ws = RawWs::open(&apache, "/echo");
    let full = frame(true, 0, 0x1, &[b'o', b'k', 0xff].repeat(34)[..100]);
    ws.send(&full[..2 + 4 + 3]);
    assert_eq!(ws.expect_close().0, Some(1007));
    // The same inside a fragmented message, in its second fragment.
    let mut bytes = frame(false, 0, 0x1, "héllo".as_bytes());
    bytes.extend(frame(true, 0, 0x0, &[0xed, 0xa0, 0x80]));
    closes_with(&apache, &bytes, 1007);
}

#[test]
fn messages_over_the_limit_close_with_1009_and_the_limit_itself_passes() {
    let apache = server();
    let mut ws = RawWs::open(&apache, "/small");
    ws.send(&frame(true, 0, 0x2, &[7u8; 1000]));
    let (first, payload) = ws.read_frame().unwrap();
    assert_eq!(
        (first, payload.len()),
        (0x82, 1000),
        "exactly the limit is accepted"
    );
    // 1001 bytes in two fragments: refused when the second header arrives.
    ws.send(&frame(false, 0, 0x2, &[7u8; 600]));
    ws.send(&frame(true, 0, 0x0, &[7u8; 401]));
    assert_eq!(ws.expect_close().0, Some(1009));

    // A header declaring 1 GiB is refused before any payload is sent.
    let mut ws = RawWs::open(&apache, "/small");
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    ws.send(&header);
    assert_eq!(ws.expect_close().0, Some(1009));

    // The default limit (16 MiB) applies elsewhere: 1 MiB passes on /echo.
    let mut ws = RawWs::open(&apache, "/echo");
    ws.send(&frame(true, 0, 0x2, &vec![1u8; 1 << 20]));
    assert_eq!(ws.read_frame().unwrap().1.len(), 1 << 20);
}

#[test]
fn ping_gets_its_pong_and_close_gets_its_answer() {
    let apache = server();
    let mut ws = RawWs::open(&apache, "/echo");
    ws.send(&frame(true, 0, 0x9, b"are you there"));
    assert_eq!(ws.read_frame().unwrap(), (0x8a, b"are you there".to_vec()));
    // An unsolicited pong is ignored: the next echo comes back normally.
    ws.send(&frame(true, 0, 0xa, b"stray"));
    ws.send(&frame(true, 0, 0x1, b"still here"));
    assert_eq!(ws.read_frame().unwrap(), (0x81, b"still here".to_vec()));
    ws.send(&frame(true, 0, 0x8, &[0x0f, 0xa0, b'o', b'k'])); // 4000 "ok"
    assert_eq!(ws.expect_close(), (Some(1000), String::new()));
    assert!(
        ws.server_closed(),
        "the server closes TCP after the closing handshake"
    );
}

#[test]
fn too_many_frames_in_one_message_close_with_1009() {
    let apache = Apache::start(
        "max-frames",
        Setup::default().extra(
            "<Location /few>\n  WebSocketHandler echo\n  WebSocketMaxFramesPerMessage 3\n</Location>",
        ),
    );
    let mut ws = RawWs::open(&apache, "/few");
    ws.send(&frame(false, 0, 0x1, b"a"));
    ws.send(&frame(false, 0, 0x0, b"b"));
    ws.send(&frame(true, 0, 0x0, b"c"));
    assert_eq!(ws.read_frame().unwrap(), (0x81, b"abc".to_vec()));
    ws.send(&frame(false, 0, 0x1, b""));
    for _ in 0..3 {
        ws.send(&frame(false, 0, 0x0, b""));
    }
    assert_eq!(ws.expect_close().0, Some(1009));
}
