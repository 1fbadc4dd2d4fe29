//! What the fan-out sender sends: a sequence number and the send time on
//! CLOCK_MONOTONIC, which every process on the machine shares, so a member
//! in another process could time the delivery too. Text, so it goes through
//! chat's text path; chat relays it as `#ID: TEXT`, wsecho as it came.

/// Nanoseconds on CLOCK_MONOTONIC.
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the struct we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Sent until every member has seen one: proves it is in the room.
    WarmUp,
    Message {
        seq: u64,
        sent_ns: u64,
    },
}

/// `warmup N`.
pub fn warm_up(n: u64) -> String {
    format!("warmup {n}")
}

/// `fanout SEQ SENT_NS`, padded with dots to `size` bytes.
pub fn message(seq: u64, sent_ns: u64, size: usize) -> String {
    let mut text = format!("fanout {seq} {sent_ns} ");
    let pad = size.saturating_sub(text.len());
    text.extend(std::iter::repeat_n('.', pad));
    text
}

/// Parses what a member received (with or without chat's `#ID: ` prefix).
pub fn parse(text: &str) -> Result<Received, String> {
    let body = match text.strip_prefix('#') {
        Some(rest) => rest.split_once(": ").map_or(text, |(_, body)| body),
        None => text,
    };
    let mut words = body.split(' ');
    let bad = || format!("unexpected message {:?}", &text[..text.len().min(80)]);
    match words.next() {
        Some("warmup") => Ok(Received::WarmUp),
        Some("fanout") => {
            let mut number = || words.next().and_then(|w| w.parse::<u64>().ok());
            let (seq, sent_ns) = (number().ok_or_else(bad)?, number().ok_or_else(bad)?);
            Ok(Received::Message { seq, sent_ns })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_back_with_or_without_the_chat_prefix() {
        let text = message(7, 123_456, 64);
        assert_eq!(text.len(), 64);
        let expected = Received::Message {
            seq: 7,
            sent_ns: 123_456,
        };
        assert_eq!(parse(&text), Ok(expected));
        let relayed = format!("#42: {text}");
        assert_eq!(
            parse(&relayed),
            Ok(Received::Message {
                seq: 7,
                sent_ns: 123_456
            })
        );
        assert_eq!(parse(&format!("#3: {}", warm_up(1))), Ok(Received::WarmUp));
        assert!(parse("#5 joined").is_err());
        assert!(parse("fanout x 1").is_err());
    }

    #[test]
    fn the_clock_moves_forward() {
        let a = monotonic_ns();
        assert!(monotonic_ns() >= a && a > 0);
    }
}
