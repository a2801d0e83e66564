//! Permanent random numbers (PRN) for sample coordination across waves.
//!
//! A unit's PRN is a function of the PRN seed and its register id only: the same unit gets
//! the same number in every wave and in every frame, births get fresh numbers, and deaths
//! disturb nobody. Poisson, sequential Poisson and Pareto selection use the PRN in place of
//! a fresh uniform, so two waves with the same seed overlap as much as their π allow
//! (positive coordination); a `shift` moves every number by the same amount modulo 1, which
//! gives negative coordination (rotation) between two surveys.

use sha2::{Digest, Sha256};

/// The PRN of unit `unit_id` under `prn_seed`, in the open interval (0, 1).
pub fn permanent_random_number(prn_seed: u64, unit_id: &str) -> f64 {
    let mut hasher = Sha256::new();
    hasher.update(b"chainsurvey-prn-v1");
    hasher.update(prn_seed.to_le_bytes());
    hasher.update(unit_id.as_bytes());
    let digest = hasher.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    ((u64::from_le_bytes(bytes) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Shifts a PRN by `shift` modulo 1 (staying inside (0, 1)).
pub fn shifted(prn: f64, shift: f64) -> f64 {
    let moved = (prn + shift).rem_euclid(1.0);
    if moved <= 0.0 {
        f64::MIN_POSITIVE
    } else {
        moved
    }
}
