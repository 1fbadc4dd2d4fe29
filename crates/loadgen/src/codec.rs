//! The client side of RFC 6455 framing (masked frames out, unmasked in) and
//! RFC 7692 permessage-deflate, kept small so the client costs little.
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncReadExt};

pub const OP_CONT: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;
const DEFLATE_TAIL: [u8; 4] = [0, 0, 0xff, 0xff];
/// The client reads this much at a time: small, like a browser's socket reads.
const READ_BUF: usize = 16 * 1024;

/// Appends one masked frame (FIN set) to `out`.
pub fn encode_frame(opcode: u8, rsv1: bool, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    let rsv = if rsv1 { 0b100 } else { 0 };
    wscore::frame::encode_client_frame(true, rsv, opcode, mask, payload, out);
}

/// A message or control frame read from the server.
pub struct Frame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

/// Reads whole messages (reassembling fragments, inflating compressed ones);
/// control frames come back as they are.
pub struct Reader<R> {
    stream: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    inflate: Option<Decompress>,
    /// A fragmented message being reassembled (opcode, compressed, data):
    /// a control frame may come between its fragments.
    partial: Option<(u8, bool, Vec<u8>)>,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// `leftover`: bytes read past the handshake response.
    pub fn new(stream: R, leftover: &[u8], deflate: bool) -> Reader<R> {
        let mut buf = vec![0; READ_BUF.max(leftover.len())];
        buf[..leftover.len()].copy_from_slice(leftover);
        Reader {
            stream,
            buf,
            start: 0,
            end: leftover.len(),
            inflate: deflate.then(|| Decompress::new(false)),
            partial: None,
        }
    }

    pub async fn next(&mut self) -> Result<Frame, String> {
        loop {
            let (fin, rsv1, opcode, len) = self.header().await?;
            let mut payload = Vec::new();
            self.take(len, &mut payload).await?;
            if opcode >= OP_CLOSE {
                return Ok(Frame { opcode, payload });
            }
            match (&mut self.partial, opcode) {
                (None, OP_TEXT | OP_BINARY) => self.partial = Some((opcode, rsv1, payload)),
                (Some((_, _, data)), OP_CONT) => data.extend_from_slice(&payload),
                _ => return Err(format!("unexpected frame opcode {opcode:#x}")),
            }
            if fin {
                let (opcode, compressed, data) = self.partial.take().expect("set above");
                let payload = if compressed {
                    self.inflate(data)?
                } else {
                    data
                };
                return Ok(Frame { opcode, payload });
            }
        }
    }

    fn inflate(&mut self, mut data: Vec<u8>) -> Result<Vec<u8>, String> {
        let inflate = self
            .inflate
            .as_mut()
            .ok_or("a compressed frame without permessage-deflate")?;
        data.extend_from_slice(&DEFLATE_TAIL);
        let mut out = Vec::with_capacity(data.len() * 4);
        let mut consumed = 0;
        loop {
            let before_in = inflate.total_in();
            out.reserve(16 * 1024);
            let status = inflate
                .decompress_vec(&data[consumed..], &mut out, FlushDecompress::Sync)
                .map_err(|e| format!("inflating a message: {e}"))?;
            consumed += (inflate.total_in() - before_in) as usize;
            if consumed == data.len() && out.len() < out.capacity() || status == Status::StreamEnd {
                return Ok(out);
            }
        }
    }

    async fn header(&mut self) -> Result<(bool, bool, u8, usize), String> {
        self.want(2).await?;
        let b0 = self.buf[self.start];
        let b1 = self.buf[self.start + 1];
        if b1 & 0x80 != 0 {
            return Err("the server sent a masked frame".into());
        }
        let (len, header_len) = match b1 & 0x7f {
            126 => {
                self.want(4).await?;
                let s = self.start;
                (
                    u16::from_be_bytes([self.buf[s + 2], self.buf[s + 3]]) as usize,
                    4,
                )
            }
            127 => {
                self.want(10).await?;
                let s = self.start;
                (
                    u64::from_be_bytes(self.buf[s + 2..s + 10].try_into().unwrap()) as usize,
                    10,
                )
            }
            n => (n as usize, 2),
        };
        self.start += header_len;
        Ok((b0 & 0x80 != 0, b0 & 0x40 != 0, b0 & 0x0f, len))
    }

    /// Moves `len` payload bytes into `out`.
    async fn take(&mut self, mut len: usize, out: &mut Vec<u8>) -> Result<(), String> {
        out.reserve(len);
        while len > 0 {
            if self.start == self.end {
                self.fill().await?;
            }
            let n = len.min(self.end - self.start);
            out.extend_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            len -= n;
        }
        Ok(())
    }

    /// Makes `n` bytes available at `start`.
    async fn want(&mut self, n: usize) -> Result<(), String> {
        while self.end - self.start < n {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            self.fill().await?;
        }
        Ok(())
    }

    async fn fill(&mut self) -> Result<(), String> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        let n = self
            .stream
            .read(&mut self.buf[self.end..])
            .await
            .map_err(|e| format!("reading: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.end += n;
        Ok(())
    }
}

/// Compresses outgoing messages; a fresh context per message
/// (client_no_context_takeover), so any server may accept it.
pub struct Deflater(Compress);

impl Default for Deflater {
    fn default() -> Self {
        Deflater(Compress::new(Compression::fast(), false))
    }
}

impl Deflater {
    pub fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        self.0.reset();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            let before_in = self.0.total_in() as usize;
            out.reserve(4096);
            self.0
                .compress_vec(&data[before_in..], &mut out, FlushCompress::Sync)
                .expect("deflate cannot fail on memory input");
            if self.0.total_in() as usize == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&DEFLATE_TAIL) {
            out.truncate(out.len() - DEFLATE_TAIL.len());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_frames_unmask_to_the_payload() {
        let mut out = Vec::new();
        let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        encode_frame(OP_BINARY, false, &payload, [1, 2, 3, 4], &mut out);
        assert_eq!(&out[..4], &[0x82, 0x80 | 126, 1, 44]);
        let mut body = out[8..].to_vec();
        wscore::mask::apply_mask(&mut body, [1, 2, 3, 4], 0);
        assert_eq!(body, payload);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn fragments_and_compressed_messages_are_reassembled() {
        let text = b"hello hello hello hello".repeat(100);
        let compressed = Deflater::default().compress(&text);
        let mut wire = vec![0xC1, 126];
        wire.extend_from_slice(&(compressed.len() as u16).to_be_bytes());
        wire.extend_from_slice(&compressed);
        wire.extend_from_slice(&[0x02, 2, b'a', b'b', 0x89, 0, 0x80, 1, b'c']);
        let mut reader = Reader::new(&wire[..], &[], true);
        let first = reader.next().await.unwrap();
        assert_eq!((first.opcode, first.payload), (OP_TEXT, text));
        assert_eq!(reader.next().await.unwrap().opcode, OP_PING);
        let second = reader.next().await.unwrap();
        assert_eq!(
            (second.opcode, second.payload),
            (OP_BINARY, b"abc".to_vec())
        );
    }
}
