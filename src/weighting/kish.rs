//! Kish's weighting design effect (METHODOLOGY §3.11): deff_w = n Σw² / (Σw)² = 1 + CV²(w).

/// deff_w over the weights (zero weights count in n). Returns `None` for an empty input or
/// a zero total.
pub fn kish_deff(weights: &[f64]) -> Option<f64> {
    let n = weights.len() as f64;
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || total == 0.0 {
        return None;
    }
    let squares: f64 = weights.iter().map(|w| w * w).sum();
    Some(n * squares / (total * total))
}

/// Effective sample size n / deff_w = (Σw)² / Σw².
pub fn effective_n(weights: &[f64]) -> Option<f64> {
    kish_deff(weights).map(|deff| weights.len() as f64 / deff)
}
