//! Checks of the compressed receiving side of [`Protocol`]: permessage-deflate
//! and deflate-frame as a handshake agrees on them, frames with RSV1 carrying
//! garbage or real DEFLATE data, small limits on the inflated size.

use super::protocol::{check_stream, max_message_size};
use crate::extensions::codec::Deflater;
use crate::extensions::{negotiate, Compression, CompressionSettings};
use crate::frame::encode_client_frame;
use crate::handshake::parse_extensions;
use crate::protocol::ProtocolConfig;

/// Input: a byte choosing `max_message_size`, a byte choosing how the wire
/// is split into reads, a byte choosing the extension and its parameters,
/// then frame descriptions (see [`client_wire`]).
///
/// Same invariants as the `protocol` target, with inflated messages held
/// to the limit.
pub fn check(data: &[u8]) {
    let Some((&[size_selector, split_seed, extension_selector], frames)) =
        data.split_first_chunk::<3>()
    else {
        return;
    };
    let compression = agreed_compression(extension_selector);
    let config = ProtocolConfig {
        max_message_size: max_message_size(size_selector),
        compression: Some(compression),
        ..ProtocolConfig::default()
    };
    let wire = client_wire(compression, frames);
    check_stream(&config, &wire, split_seed);
}

/// The compression a handshake agrees on for an offer built from
/// `selector`: bit 0 permessage-deflate or deflate-frame, bits 1-3 the
/// window bits offered, bit 4 no context takeover, bits 5-7 the server's
/// window limit.
fn agreed_compression(selector: u8) -> Compression {
    let window_bits = 8 + (selector >> 1 & 7);
    let no_context_takeover = selector & 0x10 != 0;
    let offer = if selector & 1 == 0 {
        let mut offer = format!("permessage-deflate; client_max_window_bits={window_bits}");
        if no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        offer
    } else {
        let mut offer = format!("x-webkit-deflate-frame; max_window_bits={window_bits}");
        if no_context_takeover {
            offer.push_str("; no_context_takeover");
        }
        offer
    };
    let settings = CompressionSettings {
        enabled: true,
        max_window_bits: 8 + (selector >> 5),
    };
    let offers = parse_extensions(std::iter::once(offer.as_str())).expect("a valid offer");
    negotiate(&offers, &settings)
        .unwrap_or_else(|| panic!("{offer:?} declined"))
        .compression
}

/// Client frames described by `frames`: each is a first byte (FIN, RSV,
/// opcode, taken as is), a payload byte, then payload source bytes. The
/// payload byte's bit 7 chooses real DEFLATE data (the next `len` source
/// bytes compressed by a client compressor, repeated 64 times when bit 6 is
/// set, so the inflated size far exceeds the frame) over raw bytes; its
/// low bits give `len`. The last frame may declare more payload than there
/// is, leaving the connection mid-frame.
fn client_wire(compression: Compression, mut frames: &[u8]) -> Vec<u8> {
    let params = match compression {
        Compression::PerMessage(params) | Compression::PerFrame(params) => params,
        Compression::Stream => unreachable!("not offered"),
    };
    // The client's compressor: our inflater's window and takeover.
    let mut deflater = Deflater::new(
        params.inflate_window_bits,
        params.inflate_no_context_takeover,
    );
    let mut wire = Vec::new();
    while let [first, payload_byte, rest @ ..] = frames {
        let real = payload_byte & 0x80 != 0;
        let len = usize::from(if real {
            payload_byte & 0x3F
        } else {
            payload_byte & 0x7F
        });
        let (source, rest) = rest.split_at(len.min(rest.len()));
        frames = rest;
        let mut payload = if real {
            let repeat = if payload_byte & 0x40 != 0 { 64 } else { 1 };
            let mut compressed = Vec::new();
            deflater.compress_unit(&source.repeat(repeat), &mut compressed, true);
            compressed
        } else {
            source.to_vec()
        };
        // Raw payload cut short: the header declares `len`, fewer follow.
        let missing = if real { 0 } else { len - source.len() };
        payload.resize(payload.len() + missing, 0);
        let mask = [*first, *payload_byte, 0x5A, 0xA5];
        let (fin, rsv, opcode) = (first & 0x80 != 0, first >> 4 & 7, first & 0xF);
        encode_client_frame(fin, rsv, opcode, mask, &payload, &mut wire);
        wire.truncate(wire.len() - missing);
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extensions::DeflateParams;
    use crate::protocol::{Event, Message, Protocol};

    #[test]
    fn selector_reaches_both_extensions_and_all_windows() {
        let mut seen = std::collections::HashSet::new();
        for selector in 0..=255u8 {
            let (per_frame, params) = match agreed_compression(selector) {
                Compression::PerMessage(p) => (false, p),
                Compression::PerFrame(p) => (true, p),
                Compression::Stream => unreachable!(),
            };
            let DeflateParams {
                inflate_window_bits,
                inflate_no_context_takeover,
                ..
            } = params;
            seen.insert((per_frame, inflate_window_bits, inflate_no_context_takeover));
        }
        for bits in 8..=15 {
            assert!(seen.contains(&(false, bits, false)), "{bits}");
            assert!(seen.contains(&(false, bits, true)), "{bits}");
            assert!(seen.contains(&(true, bits, false)), "{bits}");
        }
    }

    #[test]
    fn real_payload_is_the_compressed_source() {
        // Text, FIN + RSV1; real data, 5 source bytes.
        let wire = client_wire(
            agreed_compression(0),
            &[0xC1, 0x85, b'H', b'e', b'l', b'l', b'o'],
        );
        let mut protocol = Protocol::new(ProtocolConfig {
            compression: Some(agreed_compression(0)),
            ..ProtocolConfig::default()
        });
        protocol.feed(&wire);
        assert_eq!(
            protocol.poll_event(),
            Ok(Some(Event::Message(Message::Text("Hello".into()))))
        );
    }
}
