//! Checks of [`HixieProtocol`] (Hixie-75 and HyBi-00 framing) on arbitrary
//! bytes, as a session drives it: each text message echoed, each close
//! answered.

use super::split::Pieces;
use crate::close::ProtocolError;
use crate::codec::Codec;
use crate::hixie::{HixieDraft, HixieProtocol};
use crate::protocol::{DataKind, Event, Message, SendError};

/// What one connection made of its input.
#[derive(Debug, PartialEq, Eq)]
struct Transcript {
    events: Vec<Event>,
    error: Option<ProtocolError>,
    output: Vec<u8>,
}

/// Input: a byte choosing the draft (bit 0) and `max_message_size` (the
/// rest), a byte choosing how the rest is split into reads, then the
/// client's bytes.
///
/// Per connection: no panic; only text messages within the limit (a close
/// only in HyBi-00 or when Hixie-75's TCP connection ends); nothing after
/// a failure or a close; the output is exactly what was sent (the echoes,
/// HyBi-00's `FF 00` close), nothing at all on failure. Across
/// connections: the outcome does not depend on how the bytes were split.
pub fn check(data: &[u8]) {
    let Some((&[selector, split_seed], wire)) = data.split_first_chunk::<2>() else {
        return;
    };
    let draft = if selector & 1 == 0 {
        HixieDraft::Hybi00
    } else {
        HixieDraft::Hixie75
    };
    // Mostly tiny limits; 0x7F is 1 MiB.
    let max = match selector >> 1 {
        0x7F => 1 << 20,
        n => u64::from(n),
    };
    let whole = run(draft, max, wire, None);
    let split = run(draft, max, wire, Some(split_seed));
    assert_eq!(whole, split, "splitting the input changed the outcome");
}

fn run(draft: HixieDraft, max: u64, wire: &[u8], split_seed: Option<u8>) -> Transcript {
    let mut codec = HixieProtocol::new(draft, max);
    let mut transcript = Transcript {
        events: Vec::new(),
        error: None,
        output: Vec::new(),
    };
    let mut expected_output = Vec::new();
    let pieces: Vec<&[u8]> = match split_seed {
        None => vec![wire],
        Some(seed) => Pieces::new(wire, seed).collect(),
    };
    for piece in pieces {
        codec.feed(piece);
        poll_all(
            &mut codec,
            draft,
            max,
            &mut transcript,
            &mut expected_output,
        );
        // Drained as a session would, after each read.
        transcript.output.extend_from_slice(codec.output());
        codec.consume_output(codec.output().len());
    }
    if transcript.error.is_none() && !codec.close_received() {
        // The client hangs up: Hixie-75's only close.
        let closes = codec.peer_closed_connection();
        assert_eq!(closes, draft == HixieDraft::Hixie75);
        poll_all(
            &mut codec,
            draft,
            max,
            &mut transcript,
            &mut expected_output,
        );
        transcript.output.extend_from_slice(codec.output());
        codec.consume_output(codec.output().len());
    }
    assert_eq!(
        transcript.output, expected_output,
        "output not what was sent"
    );
    assert_eq!(codec.is_failed(), transcript.error.is_some());
    if codec.is_failed() || codec.close_received() {
        codec.feed(wire);
        assert_eq!(codec.poll_event(), Ok(None), "event after the end");
        assert!(codec.output().is_empty(), "output after the end");
        assert!(!codec.peer_closed_connection());
    }
    transcript
}

/// Polls until the codec needs input, fails, or closed, answering as a
/// session does; what it sends is added to `expected_output`.
fn poll_all(
    codec: &mut HixieProtocol,
    draft: HixieDraft,
    max: u64,
    transcript: &mut Transcript,
    expected_output: &mut Vec<u8>,
) {
    loop {
        match codec.poll_event() {
            Ok(Some(event)) => {
                assert!(transcript.error.is_none(), "event after a failure");
                assert!(
                    !transcript.events.contains(&Event::Close(None)),
                    "event after the close"
                );
                match &event {
                    Event::Message(Message::Text(text)) => {
                        assert!(text.len() as u64 <= max, "message over the limit");
                        codec
                            .send_message(DataKind::Text, text.as_bytes())
                            .expect("echo before any close");
                        expected_output.push(0x00);
                        expected_output.extend_from_slice(text.as_bytes());
                        expected_output.push(0xFF);
                    }
                    Event::Close(None) => {
                        assert!(codec.close_received());
                        codec.send_close(Some((1000, ""))).expect("first close");
                        if draft == HixieDraft::Hybi00 {
                            expected_output.extend_from_slice(&[0xFF, 0x00]);
                        }
                        assert_eq!(
                            codec.send_message(DataKind::Text, b"late"),
                            Err(SendError::Closed)
                        );
                    }
                    other => panic!("{other:?} in a draft without it"),
                }
                transcript.events.push(event);
            }
            Ok(None) => return,
            Err(error) => {
                assert!(transcript.error.is_none(), "second error");
                assert!(codec.is_failed());
                assert_eq!(
                    codec.send_message(DataKind::Text, b"late"),
                    Err(SendError::Closed)
                );
                transcript.error = Some(error);
                return;
            }
        }
    }
}
