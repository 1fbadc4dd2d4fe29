//! Incremental, fail-fast UTF-8 validation for text messages.
//!
//! A text message arrives in frames and a frame in reads, so a character can
//! be split anywhere. RFC 6455 §8.1 lets an endpoint fail the connection as
//! soon as it sees invalid UTF-8, and Autobahn 6.x checks that we do so at
//! the first byte that can never be valid, not at the end of the message.

use std::fmt;

/// The bytes fed so far are not, and can never become, valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

impl std::error::Error for Utf8Error {}

/// Validates a byte stream fed in arbitrary pieces.
#[derive(Debug, Clone)]
pub struct Utf8Validator {
    /// Continuation bytes still expected by the current sequence.
    pending: u8,
    /// Allowed range of the next continuation byte. Narrower than 80..=BF
    /// right after E0/F0 (overlongs), ED (surrogates) and F4 (> U+10FFFF).
    next_min: u8,
    next_max: u8,
    failed: bool,
}

impl Default for Utf8Validator {
    fn default() -> Self {
        Self::new()
    }
}

impl Utf8Validator {
    pub fn new() -> Self {
        Utf8Validator {
            pending: 0,
            next_min: 0x80,
            next_max: 0xBF,
            failed: false,
        }
    }

    /// Validates the next piece of the stream. Once an error is returned,
    /// every further `feed` fails too until `reset` or `finish`.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Utf8Error> {
        if self.failed {
            return Err(Utf8Error);
        }
        // Complete a sequence left open by the previous piece, bytewise.
        let mut start = 0;
        while self.pending > 0 {
            let Some(&byte) = bytes.get(start) else {
                return Ok(());
            };
            self.step(byte)?;
            start += 1;
        }
        // Bulk: std's validator skips ASCII a word at a time and checks the
        // same ranges as `step`. An error with `error_len() == None` only
        // means the piece ends inside a sequence; that tail is run through
        // `step` so the state carries over to the next piece.
        let rest = &bytes[start..];
        match std::str::from_utf8(rest) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(self.fail()),
            Err(e) => rest[e.valid_up_to()..]
                .iter()
                .try_for_each(|&byte| self.step(byte)),
        }
    }

    /// Ends the stream: fails if it stopped inside a sequence (or had already
    /// failed). Either way the validator is reset for the next message.
    pub fn finish(&mut self) -> Result<(), Utf8Error> {
        let complete = !self.failed && self.pending == 0;
        self.reset();
        if complete {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }

    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Advances the state machine by one byte (Unicode Table 3-7 ranges).
    fn step(&mut self, byte: u8) -> Result<(), Utf8Error> {
        if self.pending > 0 {
            if byte < self.next_min || byte > self.next_max {
                return Err(self.fail());
            }
            self.pending -= 1;
            self.next_min = 0x80;
            self.next_max = 0xBF;
            return Ok(());
        }
        let (pending, min, max) = match byte {
            0x00..=0x7F => return Ok(()),
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            // Continuation bytes without a lead, C0/C1 (always overlong),
            // F5..FF (beyond U+10FFFF or never used).
            _ => return Err(self.fail()),
        };
        self.pending = pending;
        self.next_min = min;
        self.next_max = max;
        Ok(())
    }

    fn fail(&mut self) -> Utf8Error {
        self.failed = true;
        Utf8Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Index of the first byte after which `bytes` can no longer be a prefix
    /// of valid UTF-8, using std as the independent oracle.
    fn first_bad_byte(bytes: &[u8]) -> Option<usize> {
        (1..=bytes.len()).find_map(|k| match std::str::from_utf8(&bytes[..k]) {
            Err(e) if e.error_len().is_some() => Some(k - 1),
            _ => None,
        })
    }

    /// Feeds `bytes` cut at `cuts`; returns the index of the piece whose
    /// feed failed, and the result of `finish`.
    fn feed_pieces(bytes: &[u8], cuts: &[usize]) -> (Option<usize>, Result<(), Utf8Error>) {
        let mut v = Utf8Validator::new();
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(bytes.len());
        let mut failed_piece = None;
        for (i, w) in bounds.windows(2).enumerate() {
            if v.feed(&bytes[w[0]..w[1]]).is_err() && failed_piece.is_none() {
                failed_piece = Some(i);
            }
        }
        (failed_piece, v.finish())
    }

    /// Checks every single split position and byte-at-a-time feeding.
    fn check(bytes: &[u8]) {
        let bad = first_bad_byte(bytes);
        let complete = std::str::from_utf8(bytes).is_ok();
        for cut in 0..=bytes.len() {
            let (failed, finish) = feed_pieces(bytes, &[cut]);
            // Piece 0 holds bytes[..cut]; the failure belongs to the piece
            // holding the bad byte.
            let expected = bad.map(|b| usize::from(b >= cut));
            assert_eq!(failed, expected, "{bytes:02x?} cut at {cut}");
            assert_eq!(finish.is_ok(), complete, "{bytes:02x?} cut at {cut}");
        }
        let cuts: Vec<usize> = (1..bytes.len()).collect();
        let (failed, finish) = feed_pieces(bytes, &cuts);
        assert_eq!(failed, bad, "{bytes:02x?} byte at a time");
        assert_eq!(finish.is_ok(), complete, "{bytes:02x?} byte at a time");
    }

    const KOSME: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";

    #[test]
    fn valid_sequences() {
        let valid: &[&[u8]] = &[
            b"",
            b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
            KOSME,
            b"\x00",
            b"\xc2\x80",
            b"\xdf\xbf",
            b"\xe0\xa0\x80",
            b"\xed\x9f\xbf",
            b"\xee\x80\x80",
            b"\xef\xbf\xbd",
            b"\xef\xbf\xbe",
            b"\xef\xbf\xbf",
            b"\xf0\x90\x80\x80",
            b"\xf4\x8f\xbf\xbf",
            b"\x7f",
        ];
        for bytes in valid {
            assert!(std::str::from_utf8(bytes).is_ok());
            check(bytes);
        }
    }

    #[test]
    fn invalid_sequences_fail_at_first_bad_byte() {
        let invalid: &[&[u8]] = &[
            // Lone and unexpected continuation bytes.
            b"\x80",
            b"\xbf",
            b"a\x80\xbfb",
            // Overlongs.
            b"\xc0\x80",
            b"\xc1\xbf",
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xe0\x9f\xbf",
            b"\xf0\x80\x80\xaf",
            b"\xf0\x8f\xbf\xbf",
            b"\xf8\x80\x80\x80\xaf",
            b"\xfc\x80\x80\x80\x80\xaf",
            // Beyond U+10FFFF.
            b"\xf4\x90\x80\x80",
            b"\xf5\x80\x80\x80",
            b"\xf7\xbf\xbf\xbf",
            b"\xf8\x88\x80\x80\x80",
            b"\xfc\x84\x80\x80\x80\x80",
            b"\xfe",
            b"\xff",
            b"\xfe\xfe\xff\xff",
            // Surrogates, single and paired.
            b"\xed\xa0\x80",
            b"\xed\xad\xbf",
            b"\xed\xae\x80",
            b"\xed\xaf\xbf",
            b"\xed\xb0\x80",
            b"\xed\xbe\x80",
            b"\xed\xbf\xbf",
            b"\xed\xa0\x80\xed\xb0\x80",
            b"\xed\xaf\xbf\xed\xbf\xbf",
            // Sequences cut short by another byte.
            b"\xc2\x41",
            b"\xe1\x80\x41",
            b"\xf1\x80\x80\x41",
            b"\xc2\xc2\x80",
            b"\xe1\xe1\x80\x80",
            // Autobahn 6.3.1: valid text with a surrogate in the middle.
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            // Autobahn 6.4.x: code point 0x110000 after valid text.
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80edited",
        ];
        for bytes in invalid {
            assert!(first_bad_byte(bytes).is_some(), "{bytes:02x?}");
            check(bytes);
        }
    }

    #[test]
    fn incomplete_at_end_fails_only_at_finish() {
        let incomplete: &[&[u8]] = &[b"\xc2", b"\xe1\x80", b"\xf1\x80\x80", b"ab\xf4\x8f\xbf"];
        for bytes in incomplete {
            assert_eq!(first_bad_byte(bytes), None);
            check(bytes);
        }
    }

    #[test]
    fn specific_fail_fast_points() {
        let cases: &[(&[u8], usize)] = &[
            (b"\xf4\x90", 1),
            (b"\xed\xa0", 1),
            (b"\xc0", 0),
            (b"\xc1", 0),
            (b"\xe0\x80", 1),
            (b"\xf0\x8f", 1),
        ];
        for &(bytes, at) in cases {
            let mut v = Utf8Validator::new();
            for (i, &b) in bytes.iter().enumerate() {
                assert_eq!(v.feed(&[b]).is_err(), i == at, "{bytes:02x?} byte {i}");
            }
        }
    }

    #[test]
    fn stays_failed_until_reset_and_finish_resets() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xff").is_err());
        assert!(v.feed(b"ok").is_err());
        assert!(v.finish().is_err());
        assert!(v.feed(b"ok").is_ok());
        assert!(v.feed(b"\xc3").is_ok());
        assert!(v.finish().is_err());
        assert!(v.finish().is_ok());
        assert!(v.feed(b"\xc3").is_ok());
        v.reset();
        assert!(v.feed(b"a").is_ok());
        assert!(v.finish().is_ok());
    }

    #[test]
    fn long_ascii_and_multibyte_stream_in_chunks() {
        let text = "aé€𝄞".repeat(1000);
        for chunk in [1, 2, 3, 5, 7, 64, 4096] {
            let mut v = Utf8Validator::new();
            for piece in text.as_bytes().chunks(chunk) {
                v.feed(piece).unwrap();
            }
            v.finish().unwrap();
        }
    }
}
