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

/// The three kinds of input every parser fuzz test feeds its harness, in turn:
/// a soup of the format's own tokens, a mutated fixture file, and random bytes.
/// `rounds` inputs in all, from the deterministic `seed`.
#[allow(dead_code)] // not every test file that includes this module fuzzes a parser
pub fn fuzz_rounds(
    seed: u64,
    rounds: usize,
    tokens: &[&str],
    fixtures: &[Vec<u8>],
    mut run: impl FnMut(&[u8]),
) {
    let mut rng = Rng(seed);
    for i in 0..rounds {
        let input: Vec<u8> = match i % 3 {
            0 => {
                let mut out = Vec::new();
                for _ in 0..rng.below(200) {
                    out.extend_from_slice(tokens[rng.below(tokens.len())].as_bytes());
                }
                out
            }
            1 if !fixtures.is_empty() => {
                let seed = &fixtures[rng.below(fixtures.len())];
                rng.mutate(seed)
            }
            _ => (0..rng.below(512)).map(|_| rng.next() as u8).collect(),
        };
        run(&input);
    }
}
