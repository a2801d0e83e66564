//! Uniform random numbers from a seeded ChaCha20 stream, converted in our own code.
//!
//! rand's value helpers may change their algorithms between versions; turning the raw
//! `next_u64()` stream into numbers here keeps a stored seed replayable bit for bit.

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::ChaCha20Rng;
use sha2::{Digest, Sha256};

const TWO_POW_53_INV: f64 = 1.0 / (1u64 << 53) as f64;

/// A uniform number in [0, 1) with 53 random bits.
pub fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * TWO_POW_53_INV
}

/// A uniform number in the open interval (0, 1): the midpoint of a 2⁻⁵³ cell, so neither 0
/// nor 1 can occur (order-sampling ranks divide by U and by 1 − U).
pub fn uniform_open(rng: &mut ChaCha20Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * TWO_POW_53_INV
}

/// A uniform integer in 0..bound (bound > 0), unbiased (Lemire's multiply-and-reject).
pub fn uniform_below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    debug_assert!(bound > 0);
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let product = u128::from(rng.next_u64()) * u128::from(bound);
        if (product as u64) >= threshold {
            return (product >> 64) as u64;
        }
    }
}

/// A generator for a seed.
pub fn rng_from_seed(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A seed derived from a parent seed and a label (a stratum key, a unit id), so that each
/// stratum or unit has its own stream: replaying one stratum does not depend on the others.
pub fn derive_seed(seed: u64, label: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(label.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}
