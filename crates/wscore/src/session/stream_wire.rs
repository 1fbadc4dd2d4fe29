//! deflate-stream as the session sees it: the bytes read are inflated a
//! bounded piece at a time (a small read cannot become an unbounded
//! buffer), and the codec's output is deflated once per write.
use crate::close::ProtocolError;
use crate::codec::Codec;
use crate::extensions::deflate_stream::DeflateStream;

/// Inflated bytes handed to the codec at a time.
const INFLATE_CHUNK: usize = 8 * 1024;

#[derive(Debug, Default)]
pub(super) struct StreamWire {
    stream: DeflateStream,
    /// Deflated bytes; those before `written` are written.
    deflated: Vec<u8>,
    written: usize,
}

impl StreamWire {
    pub(super) fn push_input(&mut self, compressed: &[u8]) {
        self.stream.push_input(compressed);
    }

    /// The next piece of inflated input, `None` when all is inflated.
    pub(super) fn inflate_some(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        if !self.stream.has_input() {
            return Ok(None);
        }
        let mut inflated = Vec::new();
        self.stream.inflate_some(&mut inflated, INFLATE_CHUNK)?;
        Ok(Some(inflated))
    }

    /// Deflates (and flushes) what the codec queued since the last call,
    /// then returns every deflated byte not yet written.
    pub(super) fn output(&mut self, codec: &mut dyn Codec) -> &[u8] {
        let plain = codec.output();
        if !plain.is_empty() {
            let n = plain.len();
            self.stream.deflate(plain, &mut self.deflated);
            codec.consume_output(n);
        }
        &self.deflated[self.written..]
    }

    pub(super) fn consume_output(&mut self, n: usize) {
        self.written = (self.written + n).min(self.deflated.len());
        if self.written == self.deflated.len() {
            self.deflated.clear();
            self.written = 0;
        }
    }

    pub(super) fn release_idle_memory(&mut self) {
        if self.written == self.deflated.len() {
            self.deflated = Vec::new();
            self.written = 0;
        }
    }
}
