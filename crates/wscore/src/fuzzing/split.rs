//! Cutting one input into pieces of pseudo-random sizes, so a single fuzz
//! byte selects among many ways a stream can arrive.

/// Yields consecutive pieces of `data`, sizes drawn from a generator seeded
/// by `seed`: mostly small (where boundary bugs hide), sometimes large.
pub struct Pieces<'a> {
    data: &'a [u8],
    state: u32,
}

impl<'a> Pieces<'a> {
    pub fn new(data: &'a [u8], seed: u8) -> Self {
        Pieces {
            data,
            // Never zero: xorshift would stay at zero.
            state: 0x9E37_79B9 ^ u32::from(seed),
        }
    }

    /// A value from the generator (xorshift32).
    pub fn next_random(&mut self) -> u32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.data.is_empty() {
            return None;
        }
        let r = self.next_random();
        let limit = match r & 3 {
            0 => 1,
            1 => 4,
            2 => 16,
            _ => 1024,
        };
        let len = (1 + (r >> 2) as usize % limit).min(self.data.len());
        let (piece, rest) = self.data.split_at(len);
        self.data = rest;
        Some(piece)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_input_in_order() {
        let data: Vec<u8> = (0..=255).cycle().take(5000).collect();
        for seed in [0, 1, 77, 255] {
            let pieces: Vec<&[u8]> = Pieces::new(&data, seed).collect();
            assert!(pieces.iter().all(|p| !p.is_empty()));
            assert_eq!(pieces.concat(), data);
        }
    }
}
