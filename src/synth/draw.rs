//! Random draws built on raw `u64`s from ChaCha20, so that a population depends only on our
//! own arithmetic and on the ChaCha20 stream, never on `rand`'s distribution internals.

use rand::rngs::ChaCha20Rng;
use rand::{Rng, SeedableRng};

/// A ChaCha20 stream that turns raw `u64`s into the draws the generator needs and counts how
/// many `u64`s it consumed (the benchmark compares against drawing that many uniforms).
#[derive(Debug)]
pub struct Stream {
    rng: ChaCha20Rng,
    draws: u64,
}

/// splitmix64 finaliser: spreads (seed, tag, index) into independent 64-bit seeds.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Stream {
    /// A stream for one purpose (`tag`) of one population seed.
    pub fn new(seed: u64, tag: u64) -> Stream {
        Stream {
            rng: ChaCha20Rng::seed_from_u64(mix(seed, tag)),
            draws: 0,
        }
    }

    /// The 256-bit ChaCha20 key of a purpose (`tag`) of a seed: the key of [`Stream::keyed`].
    pub fn key(seed: u64, tag: u64) -> [u8; 32] {
        ChaCha20Rng::seed_from_u64(mix(seed, tag)).get_seed()
    }

    /// The ChaCha20 stream under `key`, positioned at `draw` 64-bit draws from its start.
    /// Workers own fixed slots of one unit's stream, so worker k starts at k · slot.
    pub fn keyed_at(key: [u8; 32], draw: u64) -> Stream {
        let mut rng = ChaCha20Rng::from_seed(key);
        // Each u64 is two 32-bit words; positions stay even, so no draw straddles a block.
        rng.set_word_pos(draw as u128 * 2);
        Stream { rng, draws: draw }
    }

    /// Discards draws until `draw` have been taken from the stream's start (no-op if past it).
    pub fn skip_to(&mut self, draw: u64) {
        while self.draws < draw {
            self.next_u64();
        }
    }

    /// Number of `u64`s drawn so far (counting from the stream's start for [`Stream::keyed_at`]).
    pub fn draws(&self) -> u64 {
        self.draws
    }

    /// A raw `u64`.
    pub fn next_u64(&mut self) -> u64 {
        self.draws += 1;
        self.rng.next_u64()
    }

    /// Uniform on [0, 1) with 53 random bits.
    pub fn u01(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on (0, 1): never exactly 0, so logs and inverse CDFs stay finite.
    pub fn u01_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.u01()
    }

    /// Uniform integer on [lo, hi] (inclusive); `lo <= hi`.
    pub fn int_between(&mut self, lo: u64, hi: u64) -> u64 {
        let span = hi - lo + 1;
        lo + ((self.next_u64() as u128 * span as u128) >> 64) as u64
    }

    /// Index in [0, n), n > 0.
    pub fn index(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// True with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.u01() < p
    }

    /// Standard normal by inversion (one uniform per draw keeps streams aligned).
    pub fn std_normal(&mut self) -> f64 {
        norm_inv(self.u01_open())
    }

    /// Normal truncated to [lo, hi] by inversion of the CDF on the truncated range.
    pub fn truncated_normal(&mut self, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
        let a = norm_cdf((lo - mean) / sd);
        let b = norm_cdf((hi - mean) / sd);
        let u = a + (b - a) * self.u01_open();
        (mean + sd * norm_inv(u.clamp(1e-300, 1.0 - 1e-16))).clamp(lo, hi)
    }

    /// Gamma(shape, scale = 1), Marsaglia–Tsang; shapes below 1 use the u^(1/shape) boost.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let g = self.gamma(shape + 1.0);
            return g * self.u01_open().powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.std_normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.u01_open();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        if x + y > 0.0 { x / (x + y) } else { 0.5 }
    }

    /// A firm-level rate with the given mean: Beta(mean·c, (1 − mean)·c) with concentration
    /// c, so that rates cluster within firms (§7.5). Means of 0 or 1 are returned as is.
    pub fn beta_mean(&mut self, mean: f64, concentration: f64) -> f64 {
        if mean <= 0.0 || mean >= 1.0 {
            return mean.clamp(0.0, 1.0);
        }
        self.beta(mean * concentration, (1.0 - mean) * concentration)
    }

    /// Poisson(λ) by sequential inversion in chunks of at most 30 (exact for any λ).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        let mut rest = lambda;
        let mut total = 0;
        while rest > 0.0 {
            let l = rest.min(30.0);
            rest -= l;
            let mut p = (-l).exp();
            let mut cdf = p;
            let u = self.u01();
            let mut k = 0u64;
            while u > cdf && k < 1000 {
                k += 1;
                p *= l / k as f64;
                cdf += p;
            }
            total += k;
        }
        total
    }

    /// Negative binomial with the given mean and dispersion k (variance mean + mean²/k), as a
    /// Gamma–Poisson mixture.
    pub fn neg_binomial(&mut self, mean: f64, k: f64) -> u64 {
        let lambda = self.gamma(k) * mean / k;
        self.poisson(lambda)
    }

    /// Index drawn with probability proportional to `weights` (non-negative, positive sum).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.u01() * total;
        for (i, w) in weights.iter().enumerate() {
            if target < *w {
                return i;
            }
            target -= w;
        }
        // Rounding can leave the target just past the last positive weight.
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// Standard normal CDF, Φ(x) = erfc(−x/√2)/2.
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2)
}

/// Inverse standard normal CDF: Acklam's rational approximation (relative error < 1.2e-9),
/// refined by one Halley step against [`norm_cdf`].
pub fn norm_inv(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.02425;
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    if p < LOW {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_inv_inverts_norm_cdf() {
        for &p in &[1e-6, 0.01, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999_99] {
            let x = norm_inv(p);
            assert!((norm_cdf(x) - p).abs() < 1e-8 * p.max(1e-3), "p={p} x={x}");
        }
        assert!((norm_inv(0.975) - 1.959_963_985).abs() < 1e-7);
    }

    #[test]
    fn moments_of_draws_match_their_parameters() {
        let mut s = Stream::new(7, 1);
        let n = 40_000;
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let beta: Vec<f64> = (0..n).map(|_| s.beta_mean(0.3, 20.0)).collect();
        assert!((mean(&beta) - 0.3).abs() < 0.005);
        let nb: Vec<f64> = (0..n).map(|_| s.neg_binomial(35.0, 1.5) as f64).collect();
        let m = mean(&nb);
        let var = nb.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
        assert!((m - 35.0).abs() < 0.6, "mean {m}");
        // Var = μ + μ²/k = 35 + 816.7.
        assert!((var / 851.7 - 1.0).abs() < 0.06, "var {var}");
        let tn: Vec<f64> = (0..n)
            .map(|_| s.truncated_normal(52.0, 6.0, 48.0, 84.0))
            .collect();
        assert!(tn.iter().all(|x| (48.0..=84.0).contains(x)));
        // Mean of N(52, 6) truncated below at 48: 52 + 6·φ(2/3)/(1 − Φ(−2/3)) = 54.564.
        assert!((mean(&tn) - 54.564).abs() < 0.1, "{}", mean(&tn));
    }
}
