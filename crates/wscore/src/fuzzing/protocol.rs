//! Checks of the receiving side of [`Protocol`]: arbitrary bytes, arbitrary
//! arrival pieces, small message limits.

use super::split::Pieces;
use crate::close::{ProtocolError, MAX_CONTROL_PAYLOAD};
use crate::protocol::{Event, Message, Protocol, ProtocolConfig};

/// What one connection made of its input.
#[derive(Debug, PartialEq, Eq)]
struct Transcript {
    events: Vec<Event>,
    error: Option<ProtocolError>,
    /// Everything the protocol queued for the peer.
    output: Vec<u8>,
}

/// Input: a byte choosing `max_message_size`, a byte choosing how the rest
/// is split into reads, then the client's bytes.
///
/// Per connection: no panic; messages within the limit; nothing after an
/// error or a close; the output is well-formed server frames: one pong per
/// ping, then on error one close carrying the error's code and reason.
/// Across connections: the outcome does not depend on how the bytes were
/// split into reads or how the output was drained.
pub fn check(data: &[u8]) {
    let Some((&[size_selector, split_seed], wire)) = data.split_first_chunk::<2>() else {
        return;
    };
    let config = ProtocolConfig {
        max_message_size: max_message_size(size_selector),
        ..ProtocolConfig::default()
    };
    check_stream(&config, wire, split_seed);
}

/// The per-connection checks on `wire` fed whole and fed in pieces chosen
/// by `split_seed`, and the two outcomes must be the same.
pub(super) fn check_stream(config: &ProtocolConfig, wire: &[u8], split_seed: u8) {
    let whole = run(config, wire, None);
    let split = run(config, wire, Some(split_seed));
    assert_eq!(whole, split, "splitting the input changed the outcome");
}

/// Mostly tiny limits, so declared lengths far beyond them are common; a
/// few up to 8 MiB.
pub(super) fn max_message_size(selector: u8) -> u64 {
    match selector {
        0..=0xEF => u64::from(selector),
        _ => 1 << (selector - 0xF0 + 8),
    }
}

/// Feeds `wire` at once (`split_seed` None) or in pieces, draining events
/// after each read and the output in pieces of random size.
fn run(config: &ProtocolConfig, wire: &[u8], split_seed: Option<u8>) -> Transcript {
    let mut protocol = Protocol::new(config.clone());
    let mut transcript = Transcript {
        events: Vec::new(),
        error: None,
        output: Vec::new(),
    };
    let mut drain_random = Pieces::new(&[], split_seed.unwrap_or(0));
    let pieces: Vec<&[u8]> = match split_seed {
        None => vec![wire],
        Some(seed) => Pieces::new(wire, seed).collect(),
    };
    for piece in pieces {
        protocol.feed(piece);
        poll_all(&mut protocol, config, &mut transcript);
        if split_seed.is_some() {
            let waiting = protocol.output().len();
            let n = drain_random.next_random() as usize % (waiting + 1);
            transcript.output.extend_from_slice(&protocol.output()[..n]);
            protocol.consume_output(n);
        }
    }
    transcript.output.extend_from_slice(protocol.output());
    protocol.consume_output(protocol.output().len());
    assert!(protocol.output().is_empty());

    let finished = transcript.error.is_some() || protocol.close_received();
    if finished {
        protocol.feed(wire);
        assert_eq!(protocol.poll_event(), Ok(None), "event after the end");
        assert!(protocol.output().is_empty(), "output after the end");
    }
    assert_eq!(protocol.is_failed(), transcript.error.is_some());
    assert_eq!(protocol.close_sent(), transcript.error.is_some());
    check_output(&transcript);
    transcript
}

/// Polls until the protocol needs input, fails, or the peer closed.
fn poll_all(protocol: &mut Protocol, config: &ProtocolConfig, transcript: &mut Transcript) {
    loop {
        match protocol.poll_event() {
            Ok(Some(event)) => {
                if let Event::Message(message) = &event {
                    let len = match message {
                        Message::Text(text) => text.len(),
                        Message::Binary(bytes) => bytes.len(),
                    };
                    assert!(
                        len as u64 <= config.max_message_size,
                        "message over the limit"
                    );
                }
                if let Event::Close(_) = event {
                    assert!(protocol.close_received());
                }
                assert!(transcript.error.is_none(), "event after an error");
                transcript.events.push(event);
            }
            Ok(None) => return,
            Err(error) => {
                assert!(transcript.error.is_none(), "second error");
                assert!(protocol.is_failed());
                transcript.error = Some(error);
                return;
            }
        }
    }
}

/// The output must be exactly: a pong echoing each ping, in order, then a
/// close with the error's code and reason if there was an error.
fn check_output(transcript: &Transcript) {
    let mut expected: Vec<(u8, Vec<u8>)> = transcript
        .events
        .iter()
        .filter_map(|event| match event {
            Event::Ping(payload) => Some((0xA, payload.clone())),
            _ => None,
        })
        .collect();
    if let Some(error) = transcript.error {
        let mut payload = error.code.to_be_bytes().to_vec();
        payload.extend_from_slice(error.reason.as_bytes());
        expected.push((0x8, payload));
    }
    assert_eq!(server_frames(&transcript.output), expected);
}

/// Splits server output into (opcode, payload), asserting each frame is a
/// well-formed server frame: FIN, no RSV, unmasked, minimal length, control
/// payloads within 125 bytes.
fn server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while let [b0, b1, rest @ ..] = bytes {
        assert_eq!(b0 & 0xF0, 0x80, "FIN set, RSV clear: {b0:#04x}");
        assert_eq!(b1 & 0x80, 0, "server frame masked");
        let (len, rest) = match b1 & 0x7F {
            126 => {
                let (len, rest) = rest.split_first_chunk::<2>().expect("16-bit length");
                let len = u16::from_be_bytes(*len) as usize;
                assert!(len >= 126, "non-minimal 16-bit length {len}");
                (len, rest)
            }
            127 => {
                let (len, rest) = rest.split_first_chunk::<8>().expect("64-bit length");
                let len = u64::from_be_bytes(*len);
                assert!(len > 0xFFFF, "non-minimal 64-bit length {len}");
                (usize::try_from(len).expect("length fits"), rest)
            }
            n => (n as usize, rest),
        };
        let opcode = b0 & 0x0F;
        if opcode >= 8 {
            assert!(len <= MAX_CONTROL_PAYLOAD, "control payload of {len}");
        }
        assert!(rest.len() >= len, "frame cut short");
        frames.push((opcode, rest[..len].to_vec()));
        bytes = &rest[len..];
    }
    assert!(bytes.is_empty(), "trailing byte in output");
    frames
}
