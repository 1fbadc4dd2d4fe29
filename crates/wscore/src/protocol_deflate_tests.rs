//! The protocol with permessage-deflate and deflate-frame negotiated,
//! driven with RFC 7692's example frames.
use super::*;
use crate::extensions::DeflateParams;
use crate::testing::client_frame;

/// RFC 7692 §7.2.3.1: "Hello" compressed, tail stripped.
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
/// §7.2.3.2: the second "Hello" of a message stream with context takeover.
const HELLO_AGAIN: [u8; 5] = [0xf2, 0x00, 0x11, 0x00, 0x00];
const RSV1: u8 = 0x40;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONTINUATION: u8 = 0x0;

fn params(no_context_takeover: bool) -> DeflateParams {
    DeflateParams {
        deflate_window_bits: 15,
        deflate_no_context_takeover: no_context_takeover,
        inflate_window_bits: 15,
        inflate_no_context_takeover: no_context_takeover,
    }
}

fn per_message(no_context_takeover: bool) -> Protocol {
    Protocol::new(ProtocolConfig {
        compression: Some(Compression::PerMessage(params(no_context_takeover))),
        ..ProtocolConfig::default()
    })
}

fn per_frame() -> Protocol {
    Protocol::new(ProtocolConfig {
        compression: Some(Compression::PerFrame(params(false))),
        ..ProtocolConfig::default()
    })
}

fn events(p: &mut Protocol, input: &[u8]) -> Result<Vec<Event>, u16> {
    p.feed(input);
    let mut out = Vec::new();
    while let Some(event) = p.poll_event().map_err(|e| e.code)? {
        out.push(event);
    }
    Ok(out)
}

fn text(s: &str) -> Event {
    Event::Message(Message::Text(s.to_owned()))
}

#[test]
fn rfc7692_hello_in_one_frame_and_split() {
    let mut p = per_message(false);
    let one = client_frame(true, RSV1 | TEXT, &HELLO);
    assert_eq!(events(&mut p, &one), Ok(vec![text("Hello")]));
    // §7.2.3.1, fragmented: RSV1 on the first frame only.
    let mut p = per_message(false);
    let split = [
        client_frame(false, RSV1 | TEXT, &HELLO[..3]),
        client_frame(true, CONTINUATION, &HELLO[3..]),
    ]
    .concat();
    for chunk in [1, 2, 5, split.len()] {
        let mut got = Vec::new();
        for piece in split.chunks(chunk) {
            got.extend(events(&mut p, piece).unwrap());
        }
        assert_eq!(got, [text("Hello")], "pieces of {chunk}");
    }
}

#[test]
fn context_is_kept_across_messages_unless_negotiated_off() {
    let mut p = per_message(false);
    let input = [
        client_frame(true, RSV1 | TEXT, &HELLO),
        client_frame(true, RSV1 | TEXT, &HELLO_AGAIN),
    ]
    .concat();
    assert_eq!(
        events(&mut p, &input),
        Ok(vec![text("Hello"), text("Hello")])
    );
    // Without takeover the second form refers to a history that is gone.
    let mut p = per_message(true);
    assert_eq!(events(&mut p, &input), Err(1007));
}

#[test]
fn uncompressed_messages_still_pass() {
    let mut p = per_message(false);
    let input = [
        client_frame(true, TEXT, b"plain"),
        client_frame(true, RSV1 | BINARY, &HELLO),
    ]
    .concat();
    assert_eq!(
        events(&mut p, &input),
        Ok(vec![
            text("plain"),
            Event::Message(Message::Binary(b"Hello".to_vec()))
        ])
    );
}

#[test]
fn rsv1_where_it_does_not_belong_is_1002() {
    let cases = [
        // On a continuation frame (permessage-deflate).
        [
            client_frame(false, TEXT, b"a"),
            client_frame(true, RSV1, b"b"),
        ]
        .concat(),
        // On a control frame.
        client_frame(true, RSV1 | 0x9, b""),
        // RSV2 and RSV3 stay reserved.
        client_frame(true, 0x20 | TEXT, b"x"),
        client_frame(true, 0x10 | RSV1 | TEXT, &HELLO),
    ];
    for input in cases {
        assert_eq!(events(&mut per_message(false), &input), Err(1002));
    }
    // Without a negotiated extension RSV1 is a violation too.
    let mut plain = Protocol::new(ProtocolConfig::default());
    assert_eq!(
        events(&mut plain, &client_frame(true, RSV1 | TEXT, &HELLO)),
        Err(1002)
    );
}

#[test]
fn bad_compressed_data_and_bad_text() {
    let mut p = per_message(false);
    assert_eq!(
        events(&mut p, &client_frame(true, RSV1 | BINARY, &[0xff, 0xff])),
        Err(1007)
    );
    // Valid DEFLATE of invalid UTF-8 fails as text does: 1007.
    let mut deflater = crate::extensions::codec::Deflater::new(15, false);
    let mut bad = Vec::new();
    deflater.compress_unit(b"ok\xed\xa0\x80", &mut bad, true);
    let mut p = per_message(false);
    assert_eq!(
        events(&mut p, &client_frame(true, RSV1 | TEXT, &bad)),
        Err(1007)
    );
}

#[test]
fn deflate_bomb_is_1009_within_the_limit() {
    let mut deflater = crate::extensions::codec::Deflater::new(15, false);
    let mut bomb = Vec::new();
    deflater.compress_unit(&vec![b'a'; 10_000_000], &mut bomb, true);
    let mut p = Protocol::new(ProtocolConfig {
        max_message_size: 100_000,
        compression: Some(Compression::PerMessage(params(false))),
        ..ProtocolConfig::default()
    });
    assert_eq!(
        events(&mut p, &client_frame(true, RSV1 | TEXT, &bomb)),
        Err(1009)
    );
    assert!(p.message.capacity() <= 300_000, "{}", p.message.capacity());
    // Exactly the limit, inflated, is accepted.
    let mut exact = Vec::new();
    let mut deflater = crate::extensions::codec::Deflater::new(15, false);
    deflater.compress_unit(&[7; 1000], &mut exact, true);
    let mut p = Protocol::new(ProtocolConfig {
        max_message_size: 1000,
        compression: Some(Compression::PerMessage(params(false))),
        ..ProtocolConfig::default()
    });
    let got = events(&mut p, &client_frame(true, RSV1 | BINARY, &exact)).unwrap();
    assert_eq!(got, [Event::Message(Message::Binary(vec![7; 1000]))]);
}

#[test]
fn sent_messages_are_compressed_with_rsv1_on_the_first_frame() {
    let mut p = per_message(false);
    p.send_message(DataKind::Text, b"Hello").unwrap();
    p.send_message(DataKind::Text, b"Hello").unwrap();
    let mut expected = vec![0xC1, 7];
    expected.extend_from_slice(&HELLO);
    expected.extend_from_slice(&[0xC1, 5]);
    expected.extend_from_slice(&HELLO_AGAIN);
    assert_eq!(p.output(), expected);
    let n = p.output().len();
    p.consume_output(n);
    // Uncompressed on request, and control frames never compressed.
    p.send_message_uncompressed(DataKind::Text, b"Hi").unwrap();
    p.send_ping(b"p").unwrap();
    p.send_close(Some((1000, ""))).unwrap();
    assert_eq!(
        p.output(),
        [0x81, 2, b'H', b'i', 0x89, 1, b'p', 0x88, 2, 0x03, 0xe8]
    );
}

#[test]
fn server_no_context_takeover_repeats_the_first_form() {
    let mut p = per_message(true);
    p.send_message(DataKind::Text, b"Hello").unwrap();
    p.send_message(DataKind::Text, b"Hello").unwrap();
    let one = [&[0xC1, 7][..], &HELLO].concat();
    assert_eq!(p.output(), [one.clone(), one].concat());
}

#[test]
fn deflate_frame_compresses_each_frame() {
    let mut p = per_frame();
    // RSV1 on a continuation is fine here: each frame is its own unit.
    let input = [
        client_frame(false, RSV1 | TEXT, &HELLO),
        client_frame(false, CONTINUATION, b", "),
        client_frame(true, RSV1 | CONTINUATION, &HELLO_AGAIN),
    ]
    .concat();
    assert_eq!(events(&mut p, &input), Ok(vec![text("Hello, Hello")]));
    p.send_fragment(DataKind::Text, b"Hello", false).unwrap();
    p.send_fragment(DataKind::Text, b"Hello", true).unwrap();
    let expected = [&[0x41, 7][..], &HELLO, &[0xC0, 5], &HELLO_AGAIN].concat();
    assert_eq!(p.output(), expected);
}

/// Invalid text within the limit is reported as such whether the rest of
/// an over-long message inflates in the same read or a later one (found by
/// the `compressed` fuzz target: whole it was 1009, byte by byte 1007).
#[test]
fn invalid_text_before_the_limit_wins_however_the_bytes_arrive() {
    let mut deflater = Deflater::new(15, false);
    let mut payload = Vec::new();
    deflater.compress_unit(&[0xC9, b'x'].repeat(64), &mut payload, true);
    let frame = client_frame(true, RSV1 | TEXT, &payload);
    let config = ProtocolConfig {
        max_message_size: 7,
        compression: Some(Compression::PerMessage(params(false))),
        ..ProtocolConfig::default()
    };
    for chunk in [1, frame.len()] {
        let mut p = Protocol::new(config.clone());
        let mut result = Ok(Vec::new());
        for piece in frame.chunks(chunk) {
            result = events(&mut p, piece);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(1007), "pieces of {chunk}");
    }
}
