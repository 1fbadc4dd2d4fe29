//! Parsing of configuration values, shared by the native directives and
//! mod_pywebsocket's `PythonOption` lines so both accept exactly the same text.

/// `On` / `Off` (any case), as Apache's own flags; mod_pywebsocket's
/// boolean options used the same words.
pub fn parse_on_off(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("must be On or Off, not '{value}'")),
    }
}

/// A byte count: digits with an optional K, M or G suffix (powers of 1024).
/// Zero is refused: a limit of nothing would refuse every message.
pub fn parse_byte_size(value: &str) -> Result<u64, String> {
    let text = value.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1u64 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1u64 << 30),
        _ => (text, 1),
    };
    let invalid =
        || format!("must be a number of bytes (optionally with K, M or G), not '{value}'");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let count: u64 = digits.parse().map_err(|_| invalid())?;
    let bytes = count.checked_mul(multiplier).ok_or_else(invalid)?;
    if bytes == 0 {
        return Err("must be at least 1 byte".to_string());
    }
    Ok(bytes)
}

/// A whole number from `min` to `max`.
pub fn parse_count(value: &str, min: u64, max: u64) -> Result<u64, String> {
    let text = value.trim();
    text.parse::<u64>()
        .ok()
        .filter(|n| text.bytes().all(|b| b.is_ascii_digit()) && (min..=max).contains(n))
        .ok_or_else(|| match max {
            u64::MAX => format!("must be a whole number, at least {min}, not '{value}'"),
            _ => format!("must be a whole number from {min} to {max}, not '{value}'"),
        })
}

/// A number of seconds; 0 means "off" (returned as `None`).
pub fn parse_seconds(value: &str) -> Result<Option<std::time::Duration>, String> {
    let text = value.trim();
    let seconds: u64 = text
        .parse()
        .ok()
        .filter(|_| text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("must be a whole number of seconds (0 for off), not '{value}'"))?;
    Ok((seconds > 0).then(|| std::time::Duration::from_secs(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_off_words() {
        assert_eq!(parse_on_off("On"), Ok(true));
        assert_eq!(parse_on_off("off"), Ok(false));
        assert_eq!(parse_on_off(" OFF "), Ok(false));
        assert!(parse_on_off("yes").unwrap_err().contains("On or Off"));
        assert!(parse_on_off("").is_err());
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("12", 8, 15), Ok(12));
        assert_eq!(parse_count(" 0 ", 0, u64::MAX), Ok(0));
        assert!(parse_count("7", 8, 15)
            .unwrap_err()
            .contains("from 8 to 15"));
        assert!(parse_count("0", 1, u64::MAX)
            .unwrap_err()
            .contains("at least 1"));
        for bad in ["", "-1", "+3", "1e3", "x"] {
            assert!(parse_count(bad, 0, u64::MAX).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn seconds() {
        assert_eq!(
            parse_seconds("300"),
            Ok(Some(std::time::Duration::from_secs(300)))
        );
        assert_eq!(parse_seconds("0"), Ok(None));
        for bad in ["", "-1", "1.5", "5s", "+3"] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn byte_sizes_with_suffixes() {
        assert_eq!(parse_byte_size("125"), Ok(125));
        assert_eq!(parse_byte_size("16M"), Ok(16 * 1024 * 1024));
        assert_eq!(parse_byte_size("64k"), Ok(65536));
        assert_eq!(parse_byte_size("2G"), Ok(2 << 30));
    }

    #[test]
    fn byte_sizes_rejected() {
        for bad in [
            "",
            "M",
            "-1",
            "1.5M",
            "12 M",
            "0",
            "0K",
            "99999999999999999999",
            "16777216T",
        ] {
            assert!(parse_byte_size(bad).is_err(), "{bad:?} accepted");
        }
        assert!(
            parse_byte_size("18014398509481984K").is_err(),
            "overflow accepted"
        );
    }
}
