//! Checks of the compressed sending side of [`Protocol`]: arbitrary
//! sequences of messages (empty, tiny, large, incompressible, fragmented,
//! sent uncompressed, pings between them) under every parameter set a
//! handshake can agree on for each compression extension. A client built on
//! another DEFLATE implementation must read back exactly what was sent, in
//! order.

use super::peer::{read_frames, PeerInflater, ServerFrame};
use crate::extensions::deflate_stream::DeflateStream;
use crate::extensions::{negotiate, Compression, CompressionSettings};
use crate::handshake::parse_extensions;
use crate::protocol::{DataKind, Protocol, ProtocolConfig};

/// Most messages a sequence holds, and most of them that are large, so
/// one input stays quick to check under all 33 parameter sets.
const MAX_SENDS: usize = 48;
const MAX_LARGE: usize = 2;
const LARGE_LEN: usize = 100 * 1024;
const RANDOM_LEN: usize = 64 * 1024;
/// Sent after every sequence: a unit left open by the one before it would
/// show here.
const SENTINEL: &str = "end of sequence";

/// What the server is asked to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSend {
    /// `send_message`, or with `compress` false `send_message_uncompressed`.
    Whole {
        kind: DataKind,
        payload: Vec<u8>,
        compress: bool,
    },
    /// `send_fragment` calls, one per piece.
    Fragmented {
        kind: DataKind,
        pieces: Vec<Vec<u8>>,
    },
    Ping(Vec<u8>),
}

/// What the client must read: each data message whole, and each ping.
#[derive(Debug, PartialEq, Eq)]
enum Received {
    Message(DataKind, Vec<u8>),
    Ping(Vec<u8>),
}

/// Input: send descriptions (see [`parse_sends`]). The sequence is sent
/// under every agreed parameter set of permessage-deflate, deflate-frame
/// and deflate-stream; each time the client must read it back exactly.
pub fn check(data: &[u8]) {
    check_sends(&parse_sends(data));
}

/// `sends` under every parameter set, read back exactly and in order.
pub fn check_sends(sends: &[ServerSend]) {
    let expected = expected(sends);
    for offer in all_offers() {
        let compression = agree(&offer);
        let received = client_reads(compression, &server_output(compression, sends));
        assert_eq!(received.len(), expected.len(), "{offer}: message count");
        for (i, (got, want)) in received.iter().zip(&expected).enumerate() {
            assert!(
                got == want,
                "{offer}: message {i} differs: {got:?} != {want:?}"
            );
        }
    }
}

/// Every offer whose answer sets the server's sending side differently:
/// window bits 8-15 with and without no context takeover for the two
/// RSV1 extensions (16 sets each), and deflate-stream.
pub fn all_offers() -> Vec<String> {
    let mut offers = Vec::new();
    for bits in 8..=15 {
        for no_context_takeover in [false, true] {
            let (pmd, frame) = if no_context_takeover {
                ("; server_no_context_takeover", "; no_context_takeover")
            } else {
                ("", "")
            };
            offers.push(format!(
                "permessage-deflate; server_max_window_bits={bits}{pmd}"
            ));
            offers.push(format!("deflate-frame; max_window_bits={bits}{frame}"));
        }
    }
    offers.push("deflate-stream".to_owned());
    offers
}

/// What the handshake agrees on for `offer` under the default settings.
pub fn agree(offer: &str) -> Compression {
    let offers = parse_extensions(std::iter::once(offer)).expect("a valid offer");
    negotiate(&offers, &CompressionSettings::default())
        .unwrap_or_else(|| panic!("{offer:?} declined"))
        .compression
}

/// Each send is a selector byte, then its argument bytes:
/// - bits 0-2, the payload: 0 empty, 1 one byte, 2 a length byte `n` and
///   `n` input bytes, 3 four input bytes repeated to [`LARGE_LEN`], 4
///   [`RANDOM_LEN`] pseudo-random bytes from a seed byte, 5 a length byte
///   `n` and `n * 97` bytes of a repeated input snippet, 6-7 a ping;
/// - bit 3: text (bytes made valid UTF-8) or binary;
/// - bits 4-5: 0-1 `send_message`, 2 `send_message_uncompressed`, 3 in
///   fragments, as many as bits 6-7 say plus one (empty ones included).
pub fn parse_sends(mut data: &[u8]) -> Vec<ServerSend> {
    let mut sends = Vec::new();
    let mut large = 0;
    while let Some((&selector, rest)) = data.split_first() {
        if sends.len() == MAX_SENDS {
            break;
        }
        data = rest;
        let (payload, is_large) = payload(selector & 7, &mut data);
        if is_large {
            large += 1;
            if large > MAX_LARGE {
                continue;
            }
        }
        let Some(payload) = payload else {
            sends.push(ServerSend::Ping(take(&mut data, 8).to_vec()));
            continue;
        };
        let kind = if selector & 8 != 0 {
            DataKind::Text
        } else {
            DataKind::Binary
        };
        let payload = match kind {
            DataKind::Text => String::from_utf8_lossy(&payload).into_owned().into_bytes(),
            DataKind::Binary => payload,
        };
        sends.push(match selector >> 4 & 3 {
            0 | 1 => ServerSend::Whole {
                kind,
                payload,
                compress: true,
            },
            2 => ServerSend::Whole {
                kind,
                payload,
                compress: false,
            },
            _ => ServerSend::Fragmented {
                kind,
                pieces: split_at_char_boundaries(&payload, usize::from(selector >> 6) + 1),
            },
        });
    }
    sends
}

/// The payload a selector's low bits describe (`None` for a ping), and
/// whether it is a large one.
fn payload(class: u8, data: &mut &[u8]) -> (Option<Vec<u8>>, bool) {
    match class {
        0 => (Some(Vec::new()), false),
        1 => (Some(take(data, 1).to_vec()), false),
        2 => {
            let n = usize::from(take(data, 1).first().copied().unwrap_or(0));
            (Some(take(data, n).to_vec()), false)
        }
        3 => {
            let snippet = take(data, 4);
            let snippet: &[u8] = if snippet.is_empty() { b"x" } else { snippet };
            (Some(snippet.repeat(LARGE_LEN / snippet.len() + 1)), true)
        }
        4 => {
            let seed = take(data, 1).first().copied().unwrap_or(0);
            (Some(pseudo_random(RANDOM_LEN, seed)), true)
        }
        5 => {
            let n = usize::from(take(data, 1).first().copied().unwrap_or(0));
            let snippet = take(data, 4);
            let snippet: &[u8] = if snippet.is_empty() { b"ab" } else { snippet };
            let mut payload = snippet.repeat(n * 97 / snippet.len() + 1);
            payload.truncate(n * 97);
            (Some(payload), false)
        }
        _ => (None, false),
    }
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (taken, rest) = data.split_at(n.min(data.len()));
    *data = rest;
    taken
}

/// xorshift bytes: incompressible, and the same for the same seed.
pub fn pseudo_random(len: usize, seed: u8) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(seed);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

/// `count` pieces of about equal size; text is cut only between
/// characters, as a sender of text fragments must.
fn split_at_char_boundaries(payload: &[u8], count: usize) -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(payload).ok();
    let mut cuts = vec![0];
    for i in 1..count {
        let mut cut = payload.len() * i / count;
        while text.is_some_and(|t| !t.is_char_boundary(cut)) {
            cut += 1;
        }
        cuts.push(cut.max(*cuts.last().unwrap()));
    }
    cuts.push(payload.len());
    cuts.windows(2)
        .map(|w| payload[w[0]..w[1]].to_vec())
        .collect()
}

/// Everything the server writes for `sends` then the sentinel, through
/// the deflate-stream transform where that is agreed (one write per send,
/// as the connection flushes after each).
pub fn server_output(compression: Compression, sends: &[ServerSend]) -> Vec<u8> {
    let mut protocol = Protocol::new(ProtocolConfig {
        compression: Some(compression),
        ..ProtocolConfig::default()
    });
    let mut stream = (compression == Compression::Stream).then(DeflateStream::default);
    let mut wire = Vec::new();
    let sentinel = ServerSend::Whole {
        kind: DataKind::Text,
        payload: SENTINEL.into(),
        compress: true,
    };
    for send in sends.iter().chain([&sentinel]) {
        match send {
            ServerSend::Whole {
                kind,
                payload,
                compress: true,
            } => protocol.send_message(*kind, payload),
            ServerSend::Whole { kind, payload, .. } => {
                protocol.send_message_uncompressed(*kind, payload)
            }
            ServerSend::Fragmented { kind, pieces } => {
                let last = pieces.len() - 1;
                pieces
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, piece)| protocol.send_fragment(*kind, piece, i == last))
            }
            ServerSend::Ping(payload) => protocol.send_ping(payload),
        }
        .expect("a send on an open connection");
        let output = protocol.output();
        match stream.as_mut() {
            Some(stream) => stream.deflate(output, &mut wire),
            None => wire.extend_from_slice(output),
        }
        let written = output.len();
        protocol.consume_output(written);
    }
    wire
}

/// What a client that agreed on `compression` reads from `wire`.
fn client_reads(compression: Compression, wire: &[u8]) -> Vec<Received> {
    let (per_frame, params) = match compression {
        Compression::PerMessage(params) => (false, params),
        Compression::PerFrame(params) => (true, params),
        Compression::Stream => {
            let mut wire = wire.to_vec();
            let plain = PeerInflater::default().inflate_stream(&mut wire);
            assert!(wire.is_empty(), "deflate-stream left a block unfinished");
            return messages(read_frames(&plain), |_| {
                unreachable!("RSV1 under deflate-stream")
            });
        }
    };
    let mut inflater = PeerInflater::default();
    let mut decode = |payload: &[u8]| {
        let inflated = inflater.inflate_unit(payload);
        if params.deflate_no_context_takeover {
            inflater.reset();
        }
        inflated
    };
    let frames = read_frames(wire);
    if per_frame {
        let frames = frames
            .into_iter()
            .map(|frame| match frame.rsv {
                4 => ServerFrame {
                    rsv: 0,
                    payload: decode(&frame.payload),
                    ..frame
                },
                _ => frame,
            })
            .collect();
        return messages(frames, |_| unreachable!("decoded above"));
    }
    messages(frames, decode)
}

/// Data frames joined into messages (RSV1 on a first frame: `decode` the
/// whole message) and pings, in order; panics on any other frame.
fn messages(frames: Vec<ServerFrame>, mut decode: impl FnMut(&[u8]) -> Vec<u8>) -> Vec<Received> {
    let mut received = Vec::new();
    let mut open: Option<(DataKind, bool, Vec<u8>)> = None;
    for frame in frames {
        if frame.opcode == 0x9 {
            assert!(frame.fin && frame.rsv == 0, "a bad ping frame");
            received.push(Received::Ping(frame.payload));
            continue;
        }
        let (kind, compressed, mut payload) = match (frame.opcode, open.take()) {
            (0x1 | 0x2, None) => {
                assert!(frame.rsv == 0 || frame.rsv == 4, "RSV {}", frame.rsv);
                let kind = if frame.opcode == 1 {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                (kind, frame.rsv == 4, Vec::new())
            }
            (0x0, Some(open)) => {
                assert_eq!(frame.rsv, 0, "RSV on a continuation");
                open
            }
            (opcode, open) => panic!("opcode {opcode} with a message open: {}", open.is_some()),
        };
        payload.extend_from_slice(&frame.payload);
        if !frame.fin {
            open = Some((kind, compressed, payload));
            continue;
        }
        let payload = if compressed {
            decode(&payload)
        } else {
            payload
        };
        received.push(Received::Message(kind, payload));
    }
    assert!(open.is_none(), "a message left unfinished");
    received
}

/// What the client must read for `sends`, the sentinel included.
fn expected(sends: &[ServerSend]) -> Vec<Received> {
    sends
        .iter()
        .map(|send| match send {
            ServerSend::Whole { kind, payload, .. } => Received::Message(*kind, payload.clone()),
            ServerSend::Fragmented { kind, pieces } => Received::Message(*kind, pieces.concat()),
            ServerSend::Ping(payload) => Received::Ping(payload.clone()),
        })
        .chain([Received::Message(DataKind::Text, SENTINEL.into())])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> ServerSend {
        ServerSend::Whole {
            kind: DataKind::Text,
            payload: s.into(),
            compress: true,
        }
    }

    fn binary(payload: Vec<u8>) -> ServerSend {
        ServerSend::Whole {
            kind: DataKind::Binary,
            payload,
            compress: true,
        }
    }

    /// The first sequence a Python `websockets` client failed on (1002
    /// "decompression failed" on "b"), byte for byte: the empty message is
    /// an empty stored block (RFC 7692 §7.2.3.6), never an empty payload.
    #[test]
    fn empty_text_between_two_compressed_ones() {
        let sends = [text("a"), text(""), text("b")];
        let wire = server_output(agree("permessage-deflate"), &sends);
        let expected_start = [
            [0xc1, 0x03, 0x4a, 0x04, 0x00].as_slice(),
            &[0xc1, 0x01, 0x00],
            &[0xc1, 0x03, 0x4a, 0x02, 0x00],
        ]
        .concat();
        assert_eq!(wire[..expected_start.len()], expected_start);
        // With no context takeover the empty one is the same byte.
        let wire = server_output(
            agree("permessage-deflate; server_no_context_takeover"),
            &sends,
        );
        assert_eq!(wire[..expected_start.len()], expected_start);
        // deflate-frame: the same units, one per frame.
        let wire = server_output(agree("deflate-frame"), &sends);
        assert_eq!(wire[..expected_start.len()], expected_start);
    }

    /// Both sequences from the report, read back under every parameter set
    /// of every extension. The second failed on the client with 1009: the
    /// broken empty message made the client read the random bytes as the
    /// body of a 65,280-byte stored block.
    #[test]
    fn reported_sequences_under_every_parameter_set() {
        let compressible = "0123456789abcdef".repeat(100 * 1024 / 16);
        let sequences = [
            vec![text("a"), text(""), text("b")],
            vec![
                text(&compressible),
                text("short"),
                text(""),
                binary(pseudo_random(10_000, 7)),
            ],
        ];
        for sends in sequences {
            check_sends(&sends);
        }
    }

    #[test]
    fn empty_messages_of_both_kinds_and_after_each_size() {
        let mut sends = Vec::new();
        for payload in [
            Vec::new(),
            b"x".to_vec(),
            b"abc".repeat(40_000),
            pseudo_random(RANDOM_LEN, 1),
        ] {
            sends.push(binary(payload.clone()));
            sends.push(text(""));
            sends.push(binary(Vec::new()));
            sends.push(ServerSend::Whole {
                kind: DataKind::Binary,
                payload,
                compress: false,
            });
            sends.push(text("after"));
        }
        check_sends(&sends);
    }

    #[test]
    fn fragments_and_pings_between_messages() {
        let sends = [
            ServerSend::Fragmented {
                kind: DataKind::Text,
                pieces: vec!["héllo ".into(), Vec::new(), "wörld".into()],
            },
            ServerSend::Ping(b"p".to_vec()),
            text(""),
            ServerSend::Fragmented {
                kind: DataKind::Binary,
                pieces: vec![Vec::new()],
            },
            text("last"),
        ];
        check_sends(&sends);
    }

    #[test]
    fn input_parsing_reaches_every_kind_of_send() {
        // Empty text; 1 byte; short "hi" uncompressed; large; random;
        // medium in 4 fragments; a ping.
        let input = [
            0x08, 0x01, b'z', 0x2a, 2, b'h', b'i', 0x03, b'q', b'r', b's', b't', 0x04, 9, 0xf5, 1,
            b'a', b'b', b'c', b'd', 0x06,
        ];
        let sends = parse_sends(&input);
        assert_eq!(sends.len(), 7);
        assert!(matches!(&sends[0], ServerSend::Whole { payload, .. } if payload.is_empty()));
        assert!(matches!(
            &sends[2],
            ServerSend::Whole {
                compress: false,
                ..
            }
        ));
        assert!(matches!(&sends[5], ServerSend::Fragmented { pieces, .. } if pieces.len() == 4));
        assert!(matches!(&sends[6], ServerSend::Ping(_)));
        check(&input);
    }

    #[test]
    fn every_extension_and_window_is_offered() {
        let agreed: Vec<Compression> = all_offers().iter().map(|o| agree(o)).collect();
        assert_eq!(agreed.len(), 33);
        for (i, a) in agreed.iter().enumerate() {
            assert!(!agreed[..i].contains(a), "{a:?} twice");
        }
    }
}
