//! A client's reading of the server's output, built on another DEFLATE
//! implementation (miniz_oxide) than the one that compressed it (zlib-rs
//! through flate2), so a bug the two share cannot hide.
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::extensions::codec::SYNC_TAIL;

/// One server frame as a client sees it.
#[derive(Debug, PartialEq, Eq)]
pub struct ServerFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Splits server output (unmasked frames, RFC 6455 §5.2) into frames;
/// panics on anything else, trailing bytes included.
pub fn read_frames(mut wire: &[u8]) -> Vec<ServerFrame> {
    let mut frames = Vec::new();
    while !wire.is_empty() {
        assert!(wire.len() >= 2, "a frame header cut short: {wire:02x?}");
        let (first, second) = (wire[0], wire[1]);
        assert_eq!(second & 0x80, 0, "a server frame is never masked");
        let (len, header) = match second & 0x7f {
            126 => (u64::from(u16::from_be_bytes([wire[2], wire[3]])), 4),
            127 => (u64::from_be_bytes(wire[2..10].try_into().unwrap()), 10),
            short => (u64::from(short), 2),
        };
        let end = header + usize::try_from(len).unwrap();
        assert!(wire.len() >= end, "a frame payload cut short");
        frames.push(ServerFrame {
            fin: first & 0x80 != 0,
            rsv: first >> 4 & 7,
            opcode: first & 0xf,
            payload: wire[header..end].to_vec(),
        });
        wire = &wire[end..];
    }
    frames
}

/// The client's decompressor for one direction of raw DEFLATE.
pub struct PeerInflater {
    state: Box<InflateState>,
}

impl Default for PeerInflater {
    fn default() -> Self {
        PeerInflater {
            state: InflateState::new_boxed(DataFormat::Raw),
        }
    }
}

impl PeerInflater {
    /// Forgets the history (the sender negotiated no context takeover).
    pub fn reset(&mut self) {
        self.state.reset(DataFormat::Raw);
    }

    /// One compressed unit as RFC 7692 §7.2.2 reads it: the payload with
    /// the sync tail appended. Everything must come out: a unit that leaves
    /// the inflater inside a block would swallow the next ones.
    pub fn inflate_unit(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut input = [payload, &SYNC_TAIL].concat();
        let out = self.inflate_stream(&mut input);
        assert!(input.is_empty(), "{} bytes left unread", input.len());
        out
    }

    /// Inflates all of `input` that can be decoded now; what is left (an
    /// unfinished block) stays in `input`. Panics on invalid data and on a
    /// final block, which no WebSocket sender of ours may emit.
    pub fn inflate_stream(&mut self, input: &mut Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = vec![0; 64 * 1024];
        let mut pos = 0;
        loop {
            let result = inflate(&mut self.state, &input[pos..], &mut buf, MZFlush::None);
            pos += result.bytes_consumed;
            out.extend_from_slice(&buf[..result.bytes_written]);
            match result.status {
                Ok(MZStatus::Ok) if result.bytes_consumed + result.bytes_written > 0 => {}
                // No progress: everything decodable has been decoded.
                Ok(MZStatus::Ok) | Err(MZError::Buf) => break,
                Ok(MZStatus::StreamEnd) => panic!("the sender ended its DEFLATE stream"),
                other => panic!("invalid DEFLATE data: {other:?}"),
            }
        }
        input.drain(..pos);
        out
    }
}
