//! The linearized variable of a proportion below a fraction of an estimated quantile — the
//! low-pay rate, `p̂ = Σ_D w 1{y < c·q̂} / Σ_D w` with `q̂` the p-quantile of earnings over
//! all employees (universe U) and `c = 2/3` — so its Taylor SE accounts for the estimated
//! threshold instead of treating it as fixed.
//!
//! This is the at-risk-of-poverty-rate linearization (Deville 1999; Osier 2009, as in the R
//! `convey` package's `svyarpr`):
//!
//! `z_k = 1_D(k)·(1{y_k < t} − p̂)/N̂_D + c·f̂_D(t)·z^q_k`, with `t = c·q̂` and
//! `z^q_k = −1_U(k)·(1{y_k ≤ q̂} − p)/(N̂_U·f̂_U(q̂))` the linearized variable of the quantile,
//!
//! where `f̂_S(x) = Σ_S w φ((y − x)/h_S)/(N̂_S h_S)` is a Gaussian-kernel density of y over the
//! rows of S (as a share of N̂_S). Bandwidth (Silverman's normal-reference rule):
//! `h_S = 1.06 · σ̂_S · n_S^{−1/5}`, with `σ̂_S` the weighted standard deviation of y over S and
//! `n_S` its rows with positive weight. (convey uses `σ̂_S · N̂_S^{−1/5}` with the weighted
//! population size; that rule changes with the scale of the weights, which is why it is not
//! used here.) The function returns the weighted variable `x_k = w_k z_k`, which any design
//! variance (Taylor, calibration residuals) takes as it takes a ratio's.
//!
//! Deliberately not here: replicate designs, which recompute the quantile in every replicate
//! (`table`), and quantiles other than by the inverse-CDF rule of the point estimate.

use crate::estimate::indicators::evaluate::weighted_quantile;

/// The inputs, one entry per data row.
#[derive(Clone, Copy, Debug)]
pub struct BelowFraction<'a> {
    /// The compared variable (hourly earnings) of the proportion's rows.
    pub values: &'a [f64],
    /// Rows of the proportion's universe within the domain (D).
    pub in_domain: &'a [bool],
    /// The quantile's variable, NaN outside its universe (U).
    pub quantile_values: &'a [f64],
    /// The quantile's probability (0.5 for the median).
    pub p: f64,
    /// The fraction c of the quantile that forms the threshold.
    pub fraction: f64,
    pub weights: &'a [f64],
}

/// The point estimate, its weighted linearized variable and the pieces that formed it.
#[derive(Clone, Debug, PartialEq)]
pub struct Linearized {
    pub estimate: f64,
    pub quantile: f64,
    pub threshold: f64,
    /// `w_k z_k` for every data row (zero outside D ∪ U).
    pub x: Vec<f64>,
    /// `f̂_D(t)` and `f̂_U(q̂)`, densities as shares per unit of y.
    pub density_at_threshold: f64,
    pub density_at_quantile: f64,
    /// Rows in D ∪ U (what the variance's domain mask should cover).
    pub mask: Vec<bool>,
}

/// Computes the estimate and its linearized variable; `None` when D or U has no weight or a
/// density cannot be formed (a single distinct value).
pub fn below_fraction_of_quantile(input: &BelowFraction<'_>) -> Option<Linearized> {
    let n = input.weights.len();
    let w = input.weights;
    let in_u: Vec<bool> = input
        .quantile_values
        .iter()
        .zip(w)
        .map(|(v, &wk)| v.is_finite() && wk > 0.0)
        .collect();
    let quantile = weighted_quantile(input.quantile_values, w, &in_u, input.p)?;
    let threshold = input.fraction * quantile;
    let in_d: Vec<bool> = (0..n)
        .map(|k| input.in_domain[k] && input.values[k].is_finite() && w[k] > 0.0)
        .collect();
    let n_d: f64 = (0..n).filter(|&k| in_d[k]).map(|k| w[k]).sum();
    let n_u: f64 = (0..n).filter(|&k| in_u[k]).map(|k| w[k]).sum();
    if n_d <= 0.0 || n_u <= 0.0 {
        return None;
    }
    let below = |k: usize| f64::from(u8::from(input.values[k] < threshold));
    let estimate = (0..n)
        .filter(|&k| in_d[k])
        .map(|k| w[k] * below(k))
        .sum::<f64>()
        / n_d;
    let density_at_threshold = density(input.values, w, &in_d, threshold)?;
    let density_at_quantile = density(input.quantile_values, w, &in_u, quantile)?;
    let slope = input.fraction * density_at_threshold;
    let x: Vec<f64> = (0..n)
        .map(|k| {
            let mut z = 0.0;
            if in_d[k] {
                z += (below(k) - estimate) / n_d;
            }
            if in_u[k] {
                let at_or_below = f64::from(u8::from(input.quantile_values[k] <= quantile));
                z -= slope * (at_or_below - input.p) / (n_u * density_at_quantile);
            }
            w[k] * z
        })
        .collect();
    let mask = (0..n).map(|k| in_d[k] || in_u[k]).collect();
    Some(Linearized {
        estimate,
        quantile,
        threshold,
        x,
        density_at_threshold,
        density_at_quantile,
        mask,
    })
}

/// Gaussian-kernel density of `values` over the rows in `mask` at `at`, as a share of the
/// weight total, with the bandwidth of [`bandwidth`].
pub fn density(values: &[f64], weights: &[f64], mask: &[bool], at: f64) -> Option<f64> {
    let h = bandwidth(values, weights, mask)?;
    let mut total = 0.0;
    let mut sum = 0.0;
    for k in 0..values.len() {
        if mask[k] {
            let u = (values[k] - at) / h;
            sum += weights[k] * (-0.5 * u * u).exp();
            total += weights[k];
        }
    }
    let value = sum / (total * h * (2.0 * std::f64::consts::PI).sqrt());
    (value.is_finite() && value > 0.0).then_some(value)
}

/// Silverman's normal-reference bandwidth `1.06 · σ̂_w · n^{−1/5}` over the rows in `mask`
/// (`σ̂_w` the weighted standard deviation, n the rows with positive weight); `None` when the
/// values do not vary.
pub fn bandwidth(values: &[f64], weights: &[f64], mask: &[bool]) -> Option<f64> {
    let (mut n, mut sw, mut swy) = (0usize, 0.0, 0.0);
    for k in 0..values.len() {
        if mask[k] && weights[k] > 0.0 {
            n += 1;
            sw += weights[k];
            swy += weights[k] * values[k];
        }
    }
    if n < 2 {
        return None;
    }
    let mean = swy / sw;
    let ss: f64 = (0..values.len())
        .filter(|&k| mask[k] && weights[k] > 0.0)
        .map(|k| weights[k] * (values[k] - mean) * (values[k] - mean))
        .sum();
    let sd = (ss / sw).sqrt();
    let h = 1.06 * sd * (n as f64).powf(-0.2);
    (h.is_finite() && h > 0.0).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_of_a_standard_normal_sample_is_near_phi() {
        // 2001 evenly spaced normal quantiles ≈ a standard normal sample.
        let n = 2001;
        let values: Vec<f64> = (1..=n)
            .map(|i| crate::estimate::interval::normal_quantile(i as f64 / (n as f64 + 1.0)))
            .collect();
        let w = vec![3.0; n];
        let all = vec![true; n];
        let f0 = density(&values, &w, &all, 0.0).expect("density");
        // φ(0) = 0.3989; the kernel smooths it by the factor 1/√(1 + h²).
        assert!((f0 - 0.3989).abs() < 0.02, "{f0}");
        let h = bandwidth(&values, &w, &all).expect("h");
        assert!((h - 1.06 * (n as f64).powf(-0.2)).abs() < 0.01, "{h}");
        // Constant values have no density.
        assert!(density(&[1.0, 1.0, 1.0], &[1.0; 3], &[true; 3], 1.0).is_none());
    }

    #[test]
    fn the_threshold_term_sums_to_zero_and_the_estimate_matches() {
        let values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 5.0, 25.0];
        let weights = [1.0, 2.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0];
        let all = [true; 8];
        let out = below_fraction_of_quantile(&BelowFraction {
            values: &values,
            in_domain: &all,
            quantile_values: &values,
            p: 0.5,
            fraction: 2.0 / 3.0,
            weights: &weights,
        })
        .expect("linearized");
        // Weighted median: cumulative weights over sorted values 5,10,20,25,30,40,50,60 are
        // 1,2,4,5,6,7,9,10 → the first ≥ 5 is 25; threshold 16.67: 5 and 10 are below.
        assert_eq!(out.quantile, 25.0);
        assert!((out.estimate - 2.0 / 10.0).abs() < 1e-15);
        // Both parts of z are centred: Σ w z = 0 (up to p − F̂(q̂) from the discrete median).
        let total: f64 = out.x.iter().sum();
        let f_at_q = 5.0 / 10.0;
        let expected =
            -(2.0 / 3.0) * out.density_at_threshold * (f_at_q - 0.5) / out.density_at_quantile;
        assert!((total - expected).abs() < 1e-12, "{total} vs {expected}");
    }
}
