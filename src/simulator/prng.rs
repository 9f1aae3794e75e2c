//! A tiny seeded generator. Histories must come out the same for a seed on every
//! machine and every crate version, so the generator is written here rather than taken
//! from a crate whose stream may change between releases.

/// SplitMix64: one word of state, good enough spread for simulated histories.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// A generator for one (seed, day) pair, independent of every other day.
    pub fn for_day(seed: u64, day: i64) -> SplitMix64 {
        let mut mixer = SplitMix64::new(seed ^ (day as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        SplitMix64::new(mixer.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next_u64() % bound
        }
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with the given chance in percent.
    pub fn percent(&mut self, chance: u32) -> bool {
        self.below(100) < u64::from(chance)
    }
}

/// FNV-1a of a string, to mix appliance names into seeds.
pub(crate) fn hash_str(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_days_differ() {
        let a: Vec<u64> = (0..4)
            .map(|_| SplitMix64::for_day(7, 100).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            SplitMix64::for_day(7, 100).next_u64(),
            SplitMix64::for_day(7, 101).next_u64()
        );
        let mut r = SplitMix64::new(1);
        assert!((0..1000).all(|_| r.unit() < 1.0 && r.below(10) < 10));
    }
}
