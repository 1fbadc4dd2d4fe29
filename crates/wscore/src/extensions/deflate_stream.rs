//! deflate-stream (HyBi drafts 00-05, as the seed spoke it): everything
//! after the handshake is one raw DEFLATE stream per direction, flushed
//! with a sync flush after each write, 32 KiB windows, no parameters.
//! A transform of the transport's bytes, below the frame layer.
use super::codec::{Deflater, Inflater};
use super::CompressionSettings;
use crate::close::ProtocolError;

pub const NAME: &str = "deflate-stream";

/// `true` when the offer can be accepted: it has no parameters and the
/// server allows 32 KiB windows (the stream's size cannot be negotiated).
pub fn accept(params: &[(String, Option<String>)], settings: &CompressionSettings) -> bool {
    params.is_empty() && settings.max_window_bits == 15
}

/// Both directions of a deflate-stream connection. Compressed input is
/// held and inflated a bounded piece at a time, so a small read cannot
/// turn into an unbounded buffer.
#[derive(Debug)]
pub struct DeflateStream {
    deflater: Deflater,
    inflater: Inflater,
    pending: Vec<u8>,
    pending_pos: usize,
}

impl Default for DeflateStream {
    fn default() -> Self {
        DeflateStream {
            deflater: Deflater::new(15, false),
            inflater: Inflater::new(15, false),
            pending: Vec::new(),
            pending_pos: 0,
        }
    }
}

impl DeflateStream {
    /// Takes compressed bytes as read from the peer.
    pub fn push_input(&mut self, compressed: &[u8]) {
        if self.pending_pos == self.pending.len() {
            self.pending.clear();
            self.pending_pos = 0;
        }
        self.pending.extend_from_slice(compressed);
    }

    pub fn has_input(&self) -> bool {
        self.pending_pos < self.pending.len()
    }

    /// Inflates held input onto `out`, at most `max_out` bytes of it.
    pub fn inflate_some(&mut self, out: &mut Vec<u8>, max_out: usize) -> Result<(), ProtocolError> {
        let consumed =
            self.inflater
                .inflate_some(&self.pending[self.pending_pos..], out, max_out)?;
        self.pending_pos += consumed;
        Ok(())
    }

    /// The compressed form of `data`, flushed so the peer can read it all.
    pub fn deflate(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.deflater.compress_flushed(data, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers() {
        let settings = CompressionSettings::default();
        assert!(accept(&[], &settings));
        assert!(!accept(&[("x".into(), None)], &settings));
        let limited = CompressionSettings {
            max_window_bits: 12,
            ..settings
        };
        assert!(!accept(&[], &limited));
    }

    #[test]
    fn round_trip_in_bounded_pieces() {
        let mut sender = DeflateStream::default();
        let mut receiver = DeflateStream::default();
        let data = b"\x81\x05Hello".repeat(10_000);
        let mut wire = Vec::new();
        sender.deflate(&data, &mut wire);
        sender.deflate(b"more", &mut wire);
        receiver.push_input(&wire);
        let mut out = Vec::new();
        while receiver.has_input() {
            let before = out.len();
            receiver.inflate_some(&mut out, 1000).unwrap();
            assert!(out.len() - before <= 1000);
        }
        assert_eq!(out.len(), data.len() + 4);
        assert!(out.ends_with(b"more"));
    }
}
