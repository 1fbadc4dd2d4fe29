//! Differential check of [`Utf8Validator`] against `std::str::from_utf8`.

use super::split::Pieces;
use crate::utf8::Utf8Validator;

/// Input: one byte choosing how the rest is split, then the bytes to
/// validate. The validator must fail exactly at the first piece after which
/// the bytes so far can never become valid UTF-8 (fail-fast, but never
/// early), and `finish` must agree with std on the whole input.
pub fn check(data: &[u8]) {
    let Some((&seed, text)) = data.split_first() else {
        return;
    };
    let mut validator = Utf8Validator::new();
    let mut fed = 0;
    for piece in Pieces::new(text, seed) {
        fed += piece.len();
        let hopeless = matches!(
            std::str::from_utf8(&text[..fed]),
            Err(e) if e.error_len().is_some()
        );
        assert_eq!(
            validator.feed(piece).is_err(),
            hopeless,
            "verdict after {fed} of {} bytes",
            text.len()
        );
    }
    assert_eq!(
        validator.finish().is_ok(),
        std::str::from_utf8(text).is_ok(),
        "verdict on the whole input"
    );
    // `finish` resets: the next message starts clean.
    assert_eq!(validator.feed("é".as_bytes()), Ok(()));
    assert_eq!(validator.finish(), Ok(()));
}
