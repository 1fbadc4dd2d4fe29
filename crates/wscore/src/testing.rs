//! An in-memory transport for unit tests: scripted input, captured output.
use std::collections::VecDeque;
use std::io;

use crate::transport::{Input, Transport, Wait};

#[derive(Default)]
pub struct MemoryTransport {
    /// Each entry is returned by one read (split if the buffer is smaller).
    pub input: VecDeque<Vec<u8>>,
    pub output: Vec<u8>,
    pub writes: usize,
    /// What a read returns once `input` is empty.
    pub at_end: Option<Input>,
}

impl MemoryTransport {
    pub fn with_input(chunks: &[&[u8]]) -> MemoryTransport {
        MemoryTransport {
            input: chunks.iter().map(|c| c.to_vec()).collect(),
            ..Default::default()
        }
    }
}

impl Transport for MemoryTransport {
    fn read(&mut self, buf: &mut [u8], _wait: Wait<'_>) -> io::Result<Input> {
        let Some(mut chunk) = self.input.pop_front() else {
            return Ok(match &self.at_end {
                Some(Input::TimedOut) => Input::TimedOut,
                Some(Input::Stopping) => Input::Stopping,
                _ => Input::Eof,
            });
        };
        let n = chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.input.push_front(chunk.split_off(n));
        }
        Ok(Input::Data(n))
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.output.extend_from_slice(data);
        self.writes += 1;
        Ok(())
    }
}

/// A plain `GET` request head over HTTP/1.1 (no TLS) with these headers,
/// in order.
pub fn get_request(uri: &str, headers: &[(&str, &str)]) -> crate::handshake::RequestHead {
    crate::handshake::RequestHead {
        method: "GET".into(),
        uri: uri.into(),
        http_version: (1, 1),
        headers: headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        secure: false,
    }
}

/// A masked client frame (mask key 0x37fa213d, as in RFC 6455 §5.7).
/// `bits` is the low 7 bits of the first byte: RSV bits and opcode.
pub fn client_frame(fin: bool, bits: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    let (rsv, opcode) = ((bits >> 4) & 0x7, bits & 0xF);
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    crate::frame::encode_client_frame(fin, rsv, opcode, mask, payload, &mut frame);
    frame
}

/// A client close frame with a code and reason.
pub fn client_close(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    client_frame(true, 0x8, &payload)
}
