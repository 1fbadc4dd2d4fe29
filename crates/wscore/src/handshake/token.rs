//! The RFC 7230 `token` rule, shared by every handshake header that is a
//! list of names (protocols, extensions, upgrade tokens).

/// Whether `b` is a `tchar` (RFC 7230 §3.2.6): a visible ASCII character
/// that is not a delimiter.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Whether `s` is a non-empty RFC 7230 token.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_tokens() {
        for t in [
            "chat",
            "permessage-deflate",
            "x.y_z~1",
            "!#$%&'*+-.^_`|~",
            "A9",
        ] {
            assert!(is_token(t), "{t}");
        }
    }

    #[test]
    fn rejects_non_tokens() {
        for t in [
            "", "a b", "a,b", "a;b", "a=b", "\"a\"", "a/b", "(a)", "a\tb", "é", "a\x7f", "[a]",
            "{a}", "a:b", "a@b", "a?b", "a\\b",
        ] {
            assert!(!is_token(t), "{t:?}");
        }
    }
}
