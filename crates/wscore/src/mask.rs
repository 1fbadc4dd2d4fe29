//! RFC 6455 §5.3 payload masking.
//!
//! Masking is a plain XOR with a repeating 4-byte key, so unmasking and
//! masking are the same operation and can be done in place, in pieces.

/// XORs `buf` in place with `key`, where `offset` is the position of `buf[0]`
/// within the frame payload. Lets a payload be unmasked piece by piece as it
/// arrives: call with the running payload offset each time.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    // Rotate the key so that `rotated[0]` applies to `buf[0]`.
    let rotated = rotate_key(key, offset);

    // Eight bytes at a time: a word holds the key exactly twice, so the key
    // phase is unchanged after each word. Native byte order on both sides
    // keeps every byte paired with its own key byte.
    let key_word = u64::from_ne_bytes([
        rotated[0], rotated[1], rotated[2], rotated[3], rotated[0], rotated[1], rotated[2],
        rotated[3],
    ]);
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ key_word).to_ne_bytes());
    }
    for (i, byte) in words.into_remainder().iter_mut().enumerate() {
        *byte ^= rotated[i & 3];
    }
}

fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut rotated = key;
    rotated.rotate_left(offset & 3);
    rotated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_naive_for_all_offsets_and_lengths() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for offset in 0..8 {
            for len in 0..100 {
                let original: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut fast = original.clone();
                let mut slow = original.clone();
                apply_mask(&mut fast, key, offset);
                naive(&mut slow, key, offset);
                assert_eq!(fast, slow, "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn rfc6455_masked_hello() {
        // RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    #[test]
    fn unmasking_in_pieces_equals_whole() {
        let key = [1, 2, 3, 4];
        let original: Vec<u8> = (0..=255).collect();
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        for split in [1, 3, 5, 8, 13, 100] {
            let mut pieces = original.clone();
            let mut start = 0;
            while start < pieces.len() {
                let end = (start + split).min(pieces.len());
                apply_mask(&mut pieces[start..end], key, start);
                start = end;
            }
            assert_eq!(pieces, whole, "split {split}");
        }
    }

    #[test]
    fn masking_twice_is_identity() {
        let mut buf: Vec<u8> = (0..50).collect();
        apply_mask(&mut buf, [9, 8, 7, 6], 3);
        apply_mask(&mut buf, [9, 8, 7, 6], 3);
        assert_eq!(buf, (0..50).collect::<Vec<u8>>());
    }
}
