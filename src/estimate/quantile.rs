//! Weighted quantiles with the rules of R `survey` 4.x `svyquantile` and Woodruff intervals.
//!
//! Every rule drops zero weights, sorts by value (ties keep row order) and works on the
//! cumulative weights `C_i` (total `W`):
//!
//! - `math` (default; inverse CDF, METHODOLOGY §3.9): with `pos` the last `i` with
//!   `C_i ≤ pW` (1 if none), the value at `pos` when `C_pos = pW` exactly, else the next one;
//! - `school`: as `math` but the midpoint of the two values at an exact tie;
//! - `hf1` = `math` (R defines them identically); `hf2` = `school`; `hf3`: on merged ties, the low value at an exact tie only when its
//!   position is even (R `qrule_hf3`);
//! - `hf4`: interpolation between the low and high value with γ = (p − C_pos/W)/(C_next/W − p);
//! - `hf5`–`hf9`: linear interpolation of the sorted values against the plotting positions
//!   `p_k` of Hyndman–Fan (R's weighted generalisations).
//!
//! Note R's `math` rule, copied exactly: when `pW` is below the first cumulative weight it
//! returns the *second* smallest value (its `last()` falls back to position 1 and the tie test
//! fails). We reproduce it so estimates agree with R.
//!
//! Woodruff interval: `p̂ = F̂(q̂)` as a design-based mean of `1{y ≤ q̂}`, its interval
//! `p̂ ± c·SE`, mapped back through the same rule; `SE(q̂) = (upper − lower)/(2c)` with `c` the
//! normal or t(df) quantile (R `svyquantile(..., interval.type = "mean")`).

use crate::estimate::Error;
use crate::estimate::compensated::Sum;

/// A quantile rule of R `svyquantile(qrule = …)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Math,
    School,
    Hf1,
    Hf2,
    Hf3,
    Hf4,
    Hf5,
    Hf6,
    Hf7,
    Hf8,
    Hf9,
}

impl Rule {
    /// Parses the R name (`math`, `school`, `hf1` … `hf9`).
    pub fn parse(name: &str) -> Result<Rule, Error> {
        Ok(match name {
            "math" => Rule::Math,
            "school" => Rule::School,
            "hf1" => Rule::Hf1,
            "hf2" => Rule::Hf2,
            "hf3" => Rule::Hf3,
            "hf4" => Rule::Hf4,
            "hf5" => Rule::Hf5,
            "hf6" => Rule::Hf6,
            "hf7" => Rule::Hf7,
            "hf8" => Rule::Hf8,
            "hf9" => Rule::Hf9,
            other => {
                return Err(Error::Spec(format!(
                    "unknown qrule `{other}` (expected math, school or hf1 … hf9)"
                )));
            }
        })
    }
}

/// The `p`-quantile of `values` with `weights` under `rule`. Empty input gives NaN.
pub fn quantile(values: &[f64], weights: &[f64], p: f64, rule: Rule) -> f64 {
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w != 0.0)
        .map(|(&x, &w)| (x, w))
        .collect();
    if pairs.is_empty() || p.is_nan() {
        return f64::NAN;
    }
    // Stable sort: ties keep row order, as R's order().
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    match rule {
        Rule::Math | Rule::Hf1 => {
            let q = split(&pairs, p);
            if q.wlow == 0.0 { q.qlow } else { q.qup }
        }
        Rule::School | Rule::Hf2 => {
            let q = split(&pairs, p);
            if q.wlow == 0.0 {
                (q.qlow + q.qup) / 2.0
            } else {
                q.qup
            }
        }
        Rule::Hf3 => {
            // Weights of equal values merged first (R rowsum(w, x)).
            let mut merged: Vec<(f64, f64)> = Vec::new();
            for &(x, w) in &pairs {
                match merged.last_mut() {
                    Some(last) if last.0 == x => last.1 += w,
                    _ => merged.push((x, w)),
                }
            }
            let q = split(&merged, p);
            if q.wlow == 0.0 && q.ilow.is_multiple_of(2) {
                q.qlow
            } else {
                q.qup
            }
        }
        Rule::Hf4 => {
            let q = split(&pairs, p);
            let gamma = q.wlow / (q.wup + q.wlow);
            q.qlow * (1.0 - gamma) + q.qup * gamma
        }
        Rule::Hf5 | Rule::Hf6 | Rule::Hf7 | Rule::Hf8 | Rule::Hf9 => {
            let n = pairs.len();
            let x: Vec<f64> = pairs.iter().map(|p| p.0).collect();
            let w: Vec<f64> = pairs.iter().map(|p| p.1).collect();
            let cumw = cumulative(&w);
            let total = cumw[n - 1];
            let before = |i: usize| if i == 0 { 0.0 } else { cumw[i - 1] };
            let pk: Vec<f64> = match rule {
                Rule::Hf5 => (0..n).map(|i| (cumw[i] - w[i] / 2.0) / total).collect(),
                Rule::Hf6 => (0..n).map(|i| cumw[i] / (total + w[n - 1])).collect(),
                Rule::Hf7 => {
                    if n < 2 {
                        return x[0];
                    }
                    (0..n).map(|i| before(i) / cumw[n - 2]).collect()
                }
                Rule::Hf8 => (0..n)
                    .map(|i| (before(i) / 3.0 + cumw[i] * 2.0 / 3.0) / (total + w[n - 1] / 3.0))
                    .collect(),
                _ => (0..n)
                    .map(|i| {
                        (before(i) * 3.0 / 8.0 + cumw[i] * 5.0 / 8.0) / (total + w[n - 1] / 4.0)
                    })
                    .collect(),
            };
            approx(&pk, &x, p)
        }
    }
}

struct Split {
    qlow: f64,
    qup: f64,
    ilow: usize,
    wlow: f64,
    wup: f64,
}

/// R `survey:::qs`: the position of `pW` among the cumulative weights (1-based `ilow`).
fn split(pairs: &[(f64, f64)], p: f64) -> Split {
    let w: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let cumw = cumulative(&w);
    let n = pairs.len();
    let total = cumw[n - 1];
    let target = p * total;
    let pos = cumw.iter().rposition(|&c| c <= target).unwrap_or(0);
    let next = if pos == n - 1 { pos } else { pos + 1 };
    Split {
        qlow: pairs[pos].0,
        qup: pairs[next].0,
        ilow: pos + 1,
        wlow: p - cumw[pos] / total,
        wup: cumw[next] / total - p,
    }
}

/// Running sums, each compensated (R accumulates `cumsum` in extended precision).
fn cumulative(w: &[f64]) -> Vec<f64> {
    let mut s = Sum::default();
    w.iter()
        .map(|&x| {
            s.add(x);
            s.value()
        })
        .collect()
}

/// R `approx(x, y, v, method = "linear", rule = 2)` for increasing `x`.
fn approx(x: &[f64], y: &[f64], v: f64) -> f64 {
    let n = x.len();
    if v <= x[0] {
        return y[0];
    }
    if v >= x[n - 1] {
        return y[n - 1];
    }
    // Bisection as R's approx1: x[i] <= v <= x[j].
    let (mut i, mut j) = (0usize, n - 1);
    while i < j - 1 {
        let ij = (i + j) / 2;
        if v < x[ij] {
            j = ij;
        } else {
            i = ij;
        }
    }
    if v == x[j] {
        return y[j];
    }
    if v == x[i] {
        return y[i];
    }
    y[i] + (y[j] - y[i]) * ((v - x[i]) / (x[j] - x[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// METHODOLOGY §4.6: the weighted median of hourly earnings is 25,000 at the exact 0.5 tie.
    #[test]
    fn median_at_exact_tie_with_math_rule() {
        let hourly = [
            28846.15, 27692.31, 20673.08, 41958.04, 28846.15, 14423.08, 37500.00, 25000.00,
        ];
        let w = [100.0, 100.0, 200.0, 100.0, 150.0, 150.0, 100.0, 200.0];
        assert_eq!(quantile(&hourly, &w, 0.5, Rule::Math), 25000.0);
        // An interpolating rule gives something else, which is why the rule must be fixed.
        assert_eq!(
            quantile(&hourly, &w, 0.5, Rule::School),
            (25000.0 + 27692.31) / 2.0
        );
    }

    #[test]
    fn interpolating_rules_stay_within_data() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let w = [1.0, 1.0, 1.0, 1.0];
        for rule in [
            Rule::Hf4,
            Rule::Hf5,
            Rule::Hf6,
            Rule::Hf7,
            Rule::Hf8,
            Rule::Hf9,
        ] {
            let q = quantile(&x, &w, 0.5, rule);
            assert!((1.0..=4.0).contains(&q), "{rule:?}: {q}");
        }
        // Equal weights: hf7 is R's default type 7 quantile.
        assert_eq!(quantile(&x, &w, 0.5, Rule::Hf7), 2.5);
        assert_eq!(quantile(&x, &w, 0.25, Rule::Hf7), 1.75);
    }
}
