//! Probability-proportional-to-size inclusion probabilities with iterative take-all capping,
//! and PPS systematic selection (METHODOLOGY §3.4).
//!
//! Capping: π_k = n x_k / X; every unit with π_k ≥ 1 becomes take-all (π = 1) and the rest
//! are recomputed with n − #take-all over their own total, until no π exceeds 1 (the
//! `check_pik` rule of the `sampling` R package). Units of size 0 get π = 0.
//!
//! Selection: take-all units are selected; the others are cumulated in frame order,
//! C_k = Σ_{l≤k} π_l, and with u ∈ (0, 1] the unit whose interval (C_{k−1}, C_k] contains
//! u, u+1, …, u+n'−1 is selected. Each unit with π < 1 holds at most one point, so exactly
//! n units come out and unit k is selected with probability π_k.

use rand::rngs::ChaCha20Rng;

use crate::sampling::error::SamplingError;
use crate::sampling::uniform::uniform;

/// Capped PPS inclusion probabilities for a sample of `n` with size measures `sizes`.
/// `labels(k)` names unit k in errors.
pub fn pps_inclusion_probabilities(sizes: &[f64], n: u64) -> Result<Vec<f64>, SamplingError> {
    let mut positive = 0u64;
    for (k, &x) in sizes.iter().enumerate() {
        if !(x.is_finite() && x >= 0.0) {
            return Err(SamplingError::BadSize {
                unit: format!("#{}", k + 1),
                size: x,
            });
        }
        positive += u64::from(x > 0.0);
    }
    if positive < n {
        return Err(SamplingError::TooFewPositiveSizes { n, positive });
    }
    let mut pi = vec![0.0; sizes.len()];
    let mut take_all = vec![false; sizes.len()];
    let mut n_take_all = 0u64;
    loop {
        let n_rest = (n - n_take_all) as f64;
        let x_rest: f64 = sizes
            .iter()
            .zip(&take_all)
            .filter(|(_, t)| !**t)
            .map(|(x, _)| x)
            .sum();
        let mut capped = false;
        for k in 0..sizes.len() {
            if take_all[k] {
                continue;
            }
            pi[k] = if x_rest > 0.0 {
                n_rest * sizes[k] / x_rest
            } else {
                0.0
            };
            if pi[k] >= 1.0 {
                pi[k] = 1.0;
                take_all[k] = true;
                n_take_all += 1;
                capped = true;
            }
        }
        if !capped {
            return Ok(pi);
        }
    }
}

/// PPS systematic selection with inclusion probabilities `pi` (from
/// [`pps_inclusion_probabilities`]) and start `u` ∈ (0, 1]; returns positions in order.
pub fn pps_systematic(pi: &[f64], u: f64) -> Result<Vec<usize>, SamplingError> {
    if !(u > 0.0 && u <= 1.0) {
        return Err(SamplingError::BadParameter {
            name: "u".into(),
            value: u.to_string(),
            reason: "the random start must be in (0, 1]".into(),
        });
    }
    let mut selected = Vec::new();
    let mut rest_total = 0.0;
    let mut last_positive = None;
    for (k, &p) in pi.iter().enumerate() {
        if !(0.0..=1.0).contains(&p) {
            return Err(SamplingError::BadProbability {
                unit: format!("#{}", k + 1),
                value: p,
            });
        }
        if p < 1.0 && p > 0.0 {
            rest_total += p;
            last_positive = Some(k);
        }
    }
    let n_points = rest_total.round() as u64;
    let mut next_point = u;
    let mut points_used = 0u64;
    let mut cumulative = 0.0;
    for (k, &p) in pi.iter().enumerate() {
        if p >= 1.0 {
            selected.push(k);
            continue;
        }
        if p <= 0.0 {
            continue;
        }
        cumulative += p;
        if points_used < n_points && next_point <= cumulative {
            selected.push(k);
            points_used += 1;
            next_point += 1.0;
        }
    }
    // Rounding can leave the cumulative total a hair below n', so a last point at u ≈ 1 may
    // fall just past the end; it belongs to the last unit with 0 < π < 1.
    if points_used < n_points
        && let Some(k) = last_positive
        && selected.last() != Some(&k)
    {
        selected.push(k);
        selected.sort_unstable();
    }
    Ok(selected)
}

/// Draws u from `rng` and runs [`pps_systematic`]; returns positions and u.
pub fn draw_pps_systematic(
    pi: &[f64],
    rng: &mut ChaCha20Rng,
) -> Result<(Vec<usize>, f64), SamplingError> {
    let u = 1.0 - uniform(rng);
    Ok((pps_systematic(pi, u)?, u))
}
