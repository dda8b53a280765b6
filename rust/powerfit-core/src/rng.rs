//! Counter-based random streams: replicate i of seed s draws from its own xoshiro256++ stream,
//! seeded by SplitMix64 from (s, i). Results therefore do not depend on how replicates are
//! spread over threads.

/// SplitMix64 step (Steele, Lea, Flood 2014): a good 64-bit mixer for seeding.
#[inline]
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xoshiro256++ (Blackman and Vigna 2019).
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// The stream of replicate `index` under `seed`.
    pub fn stream(seed: u64, index: u64) -> Rng {
        let mut sm = seed ^ 0x6a09_e667_f3bc_c909;
        let base = splitmix64(&mut sm);
        let mut st = base ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03);
        let mut s = [0u64; 4];
        for v in s.iter_mut() {
            *v = splitmix64(&mut st);
        }
        if s == [0; 4] {
            s[0] = 1;
        }
        Rng { s }
    }

    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform integer in [0, n) (Lemire's multiply-shift; bias below 2^-32 for n < 2^32).
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in (0, 1).
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box-Muller; one draw per call for simplicity of the stream).
    #[inline]
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(1, 7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::stream(1, 7).next_u64(), Rng::stream(1, 8).next_u64());
        assert_ne!(Rng::stream(1, 7).next_u64(), Rng::stream(2, 7).next_u64());
    }

    #[test]
    fn moments() {
        let mut r = Rng::stream(42, 0);
        let n = 200_000;
        let (mut s, mut s2, mut cnt) = (0.0, 0.0, [0usize; 10]);
        for _ in 0..n {
            let z = r.normal();
            s += z;
            s2 += z * z;
            cnt[r.below(10)] += 1;
        }
        assert!((s / n as f64).abs() < 0.01);
        assert!((s2 / n as f64 - 1.0).abs() < 0.02);
        for c in cnt {
            assert!((c as f64 / n as f64 - 0.1).abs() < 0.005);
        }
    }
}
