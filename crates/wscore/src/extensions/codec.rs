//! Raw DEFLATE as WebSocket compression extensions use it: each unit (a
//! message, a frame) is compressed and ended with a sync flush, whose
//! trailing `00 00 ff ff` is stripped on the wire and appended again before
//! inflating (RFC 7692 §7.2.1-2).
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::close::{codes, ProtocolError};

/// The end of a sync flush: an empty stored block.
pub const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// A whole empty stored block: its header byte (not final, type 00, padding)
/// then the tail, LEN 0 and NLEN. What a sync flush with nothing pending emits.
const EMPTY_STORED_BLOCK: [u8; 5] = [0x00, 0x00, 0x00, 0xff, 0xff];

/// Output is produced this much at a time, so the size limit is checked
/// before more is allocated.
const INFLATE_STEP: usize = 16 * 1024;

/// One direction's compressor. Its zlib state (a few hundred KiB at 15
/// window bits) is made on first use, so an idle connection costs nothing.
pub struct Deflater {
    compress: Option<Compress>,
    window_bits: u8,
    /// Forget the history after each unit (`*_no_context_takeover`).
    reset_after_unit: bool,
}

impl Deflater {
    /// `window_bits` 8..=15. zlib (and zlib-rs) cannot make raw DEFLATE with
    /// a 256-byte window: asked for 8 they use 9, whose back-references a
    /// peer holding only 256 bytes could not resolve. So for 8 we emit stored
    /// blocks, which refer to nothing: valid for any window, just larger.
    pub fn new(window_bits: u8, reset_after_unit: bool) -> Deflater {
        Deflater {
            compress: None,
            window_bits,
            reset_after_unit,
        }
    }

    fn state(&mut self) -> &mut Compress {
        let window_bits = self.window_bits;
        self.compress.get_or_insert_with(|| {
            if window_bits <= 8 {
                Compress::new_with_window_bits(Compression::none(), false, 9)
            } else {
                Compress::new_with_window_bits(Compression::default(), false, window_bits.min(15))
            }
        })
    }

    /// Appends `data` compressed and sync-flushed to `out`; with
    /// `strip_tail` the final `00 00 ff ff` is left out (RFC 7692 §7.2.1).
    pub fn compress_unit(&mut self, data: &[u8], out: &mut Vec<u8>, strip_tail: bool) {
        let start = out.len();
        self.compress_flushed(data, out);
        // zlib flushes nothing when nothing came in since the last flush
        // (an empty unit after another one). An empty payload would leave
        // the peer, who appends the tail, reading `00 00 ff ff` as a stored
        // block header with LEN 0xff00 that swallows the next units. Every
        // unit is one: the stream is byte-aligned after a sync flush, so an
        // empty stored block can be added without the compressor knowing.
        if out.len() == start {
            out.extend_from_slice(&EMPTY_STORED_BLOCK);
        }
        if strip_tail && out.ends_with(&SYNC_TAIL) {
            out.truncate(out.len() - SYNC_TAIL.len());
        }
        if self.reset_after_unit {
            self.state().reset();
        }
    }

    /// Appends `data` compressed and sync-flushed (the tail kept), for a
    /// continuous stream (deflate-stream).
    pub fn compress_flushed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let mut input = data;
        let compress = self.state();
        loop {
            out.reserve((input.len() / 2).max(64));
            let before_in = compress.total_in();
            compress
                .compress_vec(input, out, FlushCompress::Sync)
                // Only fails on a misuse of the stream (never here).
                .expect("deflate of an in-memory buffer");
            input = &input[(compress.total_in() - before_in) as usize..];
            // Done once every byte went in and the flush had room to finish.
            if input.is_empty() && out.len() < out.capacity() {
                return;
            }
        }
    }
}

/// One direction's decompressor, with a limit on what it may produce.
pub struct Inflater {
    /// Made on first use, as the Deflater's.
    decompress: Option<Decompress>,
    window_bits: u8,
    reset_after_unit: bool,
    /// The unit ended with a final block (RFC 7692 §7.2.3.3): anything after
    /// it, the appended tail included, is ignored.
    stream_ended: bool,
}

impl Inflater {
    /// `window_bits` of the peer's compressor, 8..=15; a bigger window
    /// decodes a smaller one's output, so 8 is inflated with 9.
    pub fn new(window_bits: u8, reset_after_unit: bool) -> Inflater {
        Inflater {
            decompress: None,
            window_bits: window_bits.clamp(9, 15),
            reset_after_unit,
            stream_ended: false,
        }
    }

    /// Inflates `input` onto `out`, failing with 1009 as soon as `out`
    /// would exceed `limit` bytes (before that much is allocated), with
    /// 1007 on data that is not DEFLATE.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: u64,
    ) -> Result<(), ProtocolError> {
        let mut input = input;
        loop {
            // One byte over the limit is enough to know it is exceeded.
            let room = (limit.saturating_sub(out.len() as u64) + 1).min(INFLATE_STEP as u64);
            let before = out.len();
            let step = self.inflate_some(input, out, room as usize);
            // Output comes in order: bytes over the limit came before any
            // garbage after them, as they would arriving byte by byte.
            if out.len() as u64 > limit {
                return Err(ProtocolError::new(codes::TOO_BIG, "message too big"));
            }
            input = &input[step?..];
            // Output space left over means everything available came out.
            if out.len() - before < room as usize {
                return Ok(());
            }
        }
    }

    /// Inflates at most `max_out` bytes of output onto `out`; returns how
    /// many input bytes were used (the rest is for the next call).
    pub fn inflate_some(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<usize, ProtocolError> {
        if self.stream_ended {
            return Ok(input.len());
        }
        let start = out.len();
        out.resize(start + max_out, 0);
        let window_bits = self.window_bits;
        let decompress = self
            .decompress
            .get_or_insert_with(|| Decompress::new_with_window_bits(false, window_bits));
        let (before_in, before_out) = (decompress.total_in(), decompress.total_out());
        let status = decompress.decompress(input, &mut out[start..], FlushDecompress::None);
        out.truncate(start + (decompress.total_out() - before_out) as usize);
        let total_in = decompress.total_in();
        let status = status
            .map_err(|_| ProtocolError::new(codes::INVALID_DATA, "invalid compressed data"))?;
        if status == Status::StreamEnd {
            self.stream_ended = true;
            return Ok(input.len());
        }
        Ok((total_in - before_in) as usize)
    }

    /// Ends a unit: inflates the stripped tail, then forgets the history if
    /// negotiated (or if the peer ended its stream with a final block).
    pub fn finish_unit(&mut self, out: &mut Vec<u8>, limit: u64) -> Result<(), ProtocolError> {
        self.inflate(&SYNC_TAIL, out, limit)?;
        if self.reset_after_unit || self.stream_ended {
            if let Some(decompress) = self.decompress.as_mut() {
                decompress.reset(false);
            }
            self.stream_ended = false;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("reset_after_unit", &self.reset_after_unit)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("reset_after_unit", &self.reset_after_unit)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7692 §7.2.3.1: "Hello" compressed, without the tail.
    const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    fn inflate_all(inflater: &mut Inflater, parts: &[&[u8]], limit: u64) -> Result<Vec<u8>, u16> {
        let mut out = Vec::new();
        for part in parts {
            inflater
                .inflate(part, &mut out, limit)
                .map_err(|e| e.code)?;
        }
        inflater.finish_unit(&mut out, limit).map_err(|e| e.code)?;
        Ok(out)
    }

    #[test]
    fn rfc7692_hello_whole_and_split() {
        let mut inflater = Inflater::new(15, false);
        assert_eq!(
            inflate_all(&mut inflater, &[&HELLO], 100).unwrap(),
            b"Hello"
        );
        // §7.2.3.1's fragmented form: the same bytes in two frames.
        let mut inflater = Inflater::new(15, false);
        assert_eq!(
            inflate_all(&mut inflater, &[&HELLO[..3], &HELLO[3..]], 100).unwrap(),
            b"Hello"
        );
    }

    #[test]
    fn rfc7692_context_takeover_second_hello() {
        // §7.2.3.2: the second "Hello" refers back to the first.
        let mut inflater = Inflater::new(15, false);
        assert_eq!(
            inflate_all(&mut inflater, &[&HELLO], 100).unwrap(),
            b"Hello"
        );
        let second = [0xf2, 0x00, 0x11, 0x00, 0x00];
        assert_eq!(
            inflate_all(&mut inflater, &[&second], 100).unwrap(),
            b"Hello"
        );
    }

    #[test]
    fn rfc7692_stored_block_and_bfinal() {
        // §7.2.3.4: "Hello" in a stored block.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        let mut inflater = Inflater::new(15, false);
        assert_eq!(
            inflate_all(&mut inflater, &[&stored], 100).unwrap(),
            b"Hello"
        );
        // §7.2.3.3: a final block; the inflater then starts afresh.
        let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(
            inflate_all(&mut inflater, &[&bfinal], 100).unwrap(),
            b"Hello"
        );
        assert_eq!(
            inflate_all(&mut inflater, &[&HELLO], 100).unwrap(),
            b"Hello"
        );
    }

    #[test]
    fn our_hello_matches_rfc_and_takes_over_context() {
        let mut deflater = Deflater::new(15, false);
        let mut out = Vec::new();
        deflater.compress_unit(b"Hello", &mut out, true);
        assert_eq!(out, HELLO);
        out.clear();
        deflater.compress_unit(b"Hello", &mut out, true);
        assert_eq!(out, [0xf2, 0x00, 0x11, 0x00, 0x00]);
        // Without context takeover both are the first form.
        let mut deflater = Deflater::new(15, true);
        for _ in 0..2 {
            out.clear();
            deflater.compress_unit(b"Hello", &mut out, true);
            assert_eq!(out, HELLO);
        }
    }

    #[test]
    fn window_8_refers_to_nothing() {
        let mut deflater = Deflater::new(8, false);
        let data = b"abcdefgh".repeat(100);
        let mut out = Vec::new();
        deflater.compress_unit(&data, &mut out, true);
        // Stored: the data appears verbatim after the 5-byte block header.
        assert_eq!(&out[5..5 + data.len()], &data[..]);
        let mut inflater = Inflater::new(8, false);
        assert_eq!(inflate_all(&mut inflater, &[&out], 10_000).unwrap(), data);
    }

    #[test]
    fn round_trip_large_in_pieces() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut deflater = Deflater::new(10, false);
        let mut out = Vec::new();
        deflater.compress_unit(&data, &mut out, true);
        let mut inflater = Inflater::new(10, false);
        let pieces: Vec<&[u8]> = out.chunks(1000).collect();
        assert_eq!(inflate_all(&mut inflater, &pieces, 300_000).unwrap(), data);
        let mut inflater = Inflater::new(10, false);
        assert_eq!(inflate_all(&mut inflater, &pieces, 299_999), Err(1009));
    }

    #[test]
    fn bomb_fails_at_the_limit_without_allocating_it() {
        let mut deflater = Deflater::new(15, false);
        let mut bomb = Vec::new();
        deflater.compress_unit(&vec![0u8; 50_000_000], &mut bomb, true);
        assert!(bomb.len() < 100_000);
        let mut inflater = Inflater::new(15, false);
        let mut out = Vec::new();
        let error = inflater.inflate(&bomb, &mut out, 1_000_000).unwrap_err();
        assert_eq!(error.code, 1009);
        assert!(out.capacity() <= 2 * 1_000_001 + INFLATE_STEP);
    }

    #[test]
    fn output_over_the_limit_before_garbage_is_1009_however_it_arrives() {
        // "Hd", then invalid data (found by the `compressed` fuzz target:
        // whole it was 1007, byte by byte 1009).
        let data = [0xf2, 0x48, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xb7, 0xff, 0xff];
        let mut inflater = Inflater::new(8, false);
        let error = inflater.inflate(&data, &mut Vec::new(), 1).unwrap_err();
        assert_eq!(error.code, 1009);
        let mut inflater = Inflater::new(8, false);
        let mut out = Vec::new();
        let first_error = data
            .iter()
            .find_map(|b| inflater.inflate(&[*b], &mut out, 1).err());
        assert_eq!(first_error.map(|e| e.code), Some(1009));
    }

    #[test]
    fn garbage_is_1007() {
        let mut inflater = Inflater::new(15, false);
        // Block type 3 is reserved.
        assert_eq!(
            inflate_all(&mut inflater, &[&[0xff, 0xff, 0xff]], 100),
            Err(1007)
        );
    }

    #[test]
    fn empty_unit() {
        let mut deflater = Deflater::new(15, false);
        let mut out = Vec::new();
        deflater.compress_unit(b"", &mut out, true);
        let mut inflater = Inflater::new(15, false);
        assert_eq!(inflate_all(&mut inflater, &[&out], 10).unwrap(), b"");
        assert_eq!(inflate_all(&mut inflater, &[&[0x00]], 10).unwrap(), b"");
    }
}
