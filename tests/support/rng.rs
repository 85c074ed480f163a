//! Deterministic randomness for tests and benchmarks: xorshift64*, seeded by
//! hand so that every run makes the same choices. Shared with `#[path]` by
//! the test and bench targets that need it; each adds its own helpers in an
//! `impl Rng` block of its own.

/// A xorshift64* generator. The seed must not be 0.
pub struct Rng(pub u64);

#[allow(dead_code)] // not every target uses every helper
impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (multiply-shift, no modulo bias worth the name).
    pub fn below(&mut self, n: u64) -> u64 {
        u64::try_from((u128::from(self.next()) * u128::from(n)) >> 64).unwrap_or(0)
    }

    /// Shuffles `v` in place (Fisher-Yates).
    pub fn shuffle<X>(&mut self, v: &mut [X]) {
        for i in (1..v.len()).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).unwrap_or(0);
            v.swap(i, j);
        }
    }
}
