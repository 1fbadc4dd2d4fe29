//! WebSocket compression extensions: which one a handshake agrees on, and
//! the DEFLATE codec they share.
//!
//! - `permessage-deflate` (RFC 7692): each message compressed, RSV1 on its
//!   first frame.
//! - `deflate-frame` / `x-webkit-deflate-frame` (the draft Chrome and
//!   Safari once spoke): each data frame compressed on its own, RSV1 on it.
//! - `deflate-stream` (HyBi drafts): the whole byte stream after the
//!   handshake is one DEFLATE stream in each direction.
pub mod codec;
pub mod deflate_frame;
pub mod deflate_stream;
pub mod negotiate;
pub mod permessage_deflate;

pub use negotiate::{negotiate, Agreement};

/// What the server allows, from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionSettings {
    /// `WebSocketCompression`: offer nothing when false.
    pub enabled: bool,
    /// `WebSocketCompressionMaxWindowBits` (8-15): the largest LZ77 window
    /// either side may use, which bounds the memory of each connection.
    /// Offers that cannot be held to it are declined.
    pub max_window_bits: u8,
}

pub const MIN_WINDOW_BITS: u8 = 8;
pub const MAX_WINDOW_BITS: u8 = 15;

impl Default for CompressionSettings {
    fn default() -> Self {
        CompressionSettings {
            enabled: true,
            max_window_bits: MAX_WINDOW_BITS,
        }
    }
}

/// The DEFLATE parameters both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// Window of our compressor (what the client must be able to inflate).
    pub deflate_window_bits: u8,
    /// We forget our compression history after each message or frame.
    pub deflate_no_context_takeover: bool,
    /// Window of the client's compressor (what we must be able to inflate).
    pub inflate_window_bits: u8,
    /// The client forgets its history after each message or frame.
    pub inflate_no_context_takeover: bool,
}

impl DeflateParams {
    pub fn deflater(&self) -> codec::Deflater {
        codec::Deflater::new(self.deflate_window_bits, self.deflate_no_context_takeover)
    }

    pub fn inflater(&self) -> codec::Inflater {
        codec::Inflater::new(self.inflate_window_bits, self.inflate_no_context_takeover)
    }
}

/// The compression extension in use on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    PerMessage(DeflateParams),
    PerFrame(DeflateParams),
    /// deflate-stream: 32 KiB windows, history kept, both ways.
    Stream,
}

/// Parses a window-bits value: a decimal 8-15 without leading zeros (RFC
/// 7692 §7.1.2).
pub(crate) fn parse_window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u8 = value.parse().ok()?;
    (MIN_WINDOW_BITS..=MAX_WINDOW_BITS)
        .contains(&bits)
        .then_some(bits)
}

/// Checks an offer's parameters against the names it may carry: each at
/// most once. `Err` = the offer must be declined.
pub(crate) fn check_param_names(
    params: &[(String, Option<String>)],
    known: &[&str],
) -> Result<(), ()> {
    for (i, (name, _)) in params.iter().enumerate() {
        if !known.contains(&name.as_str()) || params[..i].iter().any(|(n, _)| n == name) {
            return Err(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_bits_values() {
        for (value, bits) in [("8", Some(8)), ("15", Some(15)), ("10", Some(10))] {
            assert_eq!(parse_window_bits(value), bits);
        }
        for bad in ["7", "16", "08", "", "x", "-9", "+9", "9.0", "256"] {
            assert_eq!(parse_window_bits(bad), None, "{bad}");
        }
    }
}
