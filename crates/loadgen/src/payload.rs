//! Message payloads that carry their sequence number, so a lost, repeated
//! or reordered echo is detected, and whose body is checked byte for byte.

/// The first bytes of every payload: the sequence number in hex.
pub const SEQ_LEN: usize = 16;
/// Text that compresses like ordinary chat or JSON traffic.
const FILLER: &[u8] =
    b"{\"user\":\"alice\",\"text\":\"the quick brown fox jumps over the lazy dog\",\"n\":12345} ";

pub struct Payloads {
    size: usize,
    body: Vec<u8>,
}

impl Payloads {
    /// Payloads of `size` bytes; sizes below [`SEQ_LEN`] are raised to it.
    pub fn new(size: usize) -> Payloads {
        let size = size.max(SEQ_LEN);
        let body = FILLER
            .iter()
            .copied()
            .cycle()
            .take(size - SEQ_LEN)
            .collect();
        Payloads { size, body }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Appends payload number `seq` to `out`.
    pub fn write(&self, seq: u64, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{seq:016x}").as_bytes());
        out.extend_from_slice(&self.body);
    }

    /// Checks an echoed payload: `Err` says what was wrong.
    pub fn check(&self, expected_seq: u64, got: &[u8]) -> Result<(), String> {
        if got.len() != self.size {
            return Err(format!(
                "message {expected_seq}: {} bytes came back, {} were sent",
                got.len(),
                self.size
            ));
        }
        let seq = std::str::from_utf8(&got[..SEQ_LEN])
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok());
        if seq != Some(expected_seq) {
            return Err(format!(
                "expected message {expected_seq}, got {seq:?} (lost or reordered)"
            ));
        }
        if got[SEQ_LEN..] != self.body[..] {
            return Err(format!(
                "message {expected_seq}: the body came back altered"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Payloads;

    #[test]
    fn a_payload_checks_against_its_own_number_only() {
        let p = Payloads::new(100);
        let mut buf = Vec::new();
        p.write(7, &mut buf);
        assert_eq!(buf.len(), 100);
        assert!(p.check(7, &buf).is_ok());
        assert!(p.check(8, &buf).unwrap_err().contains("reordered"));
        buf[50] ^= 1;
        assert!(p.check(7, &buf).unwrap_err().contains("altered"));
    }
}
