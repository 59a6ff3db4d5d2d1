//! Helpers shared by the integration tests.

/// xorshift64*: small, deterministic, good enough to drive mutations, so a
/// failing fuzz case reproduces from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// `seed` with up to 9 random edits: a byte changed, a cut, a byte
    /// inserted, two bytes swapped, a prefix repeated.
    #[allow(dead_code)] // not every test file that includes this module mutates bytes
    pub fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..=self.below(8) {
            match self.below(5) {
                0 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v[i] = self.next() as u8;
                }
                1 if !v.is_empty() => {
                    let i = self.below(v.len());
                    v.truncate(i);
                }
                2 => {
                    let i = self.below(v.len() + 1);
                    let b = self.next() as u8;
                    v.insert(i, b);
                }
                3 if v.len() > 2 => {
                    let i = self.below(v.len());
                    let j = self.below(v.len());
                    v.swap(i, j);
                }
                _ => {
                    let i = self.below(v.len() + 1);
                    let chunk: Vec<u8> = v[..i].to_vec();
                    v.extend_from_slice(&chunk[..chunk.len().min(64)]);
                }
            }
        }
        v
    }
}
