//! Totals, means and ratios over a domain, with their design variance (Taylor linearization or
//! replicates) and design effect.
//!
//! Formulas (w = analysis weight, sums over the domain D):
//! - total `Ŷ = Σ w y`, linearized `x = w y`;
//! - mean `ȳ = Σ w y / Σ w`, linearized `x = w (y − ȳ)/Σ w`;
//! - ratio `R̂ = Σ w y / Σ w z`, linearized `x = w (y − R̂ z)/Σ w z`
//!   (R `svytotal`, `svymean`, `svyratio`).
//!
//! A domain keeps the full design: rows outside it contribute zero, the number of PSUs per
//! stratum stays that of the full sample, and strata without domain rows drop out (R `svyby`
//! and `subset`). For a calibrated design the linearized variable is replaced by its
//! calibration residual over all rows before the variance is taken.
//!
//! Design effect (R `deff = TRUE`): `v / v_srs` with `v_srs = s² (N̂ − n)/(N̂ n)` for a mean
//! (times N̂² for a total; for a ratio the total of its linearized variable), where `s²` is the
//! weighted variance with divisor `n − 1` and `n` the domain rows with non-zero weight.

use crate::estimate::Error;
use crate::estimate::compensated::Sum;
use crate::estimate::design::Design;
use crate::estimate::taylor;

/// Rows of a domain (or subset) of a design.
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    rows: Vec<bool>,
}

impl Domain {
    /// The whole sample.
    pub fn all(rows: usize) -> Domain {
        Domain {
            rows: vec![true; rows],
        }
    }

    /// The rows flagged `true`.
    pub fn from_mask(rows: Vec<bool>) -> Domain {
        Domain { rows }
    }

    /// Membership flags, one per data row.
    pub fn mask(&self) -> &[bool] {
        &self.rows
    }

    /// Rows in the domain.
    pub fn count(&self) -> usize {
        self.rows.iter().filter(|&&r| r).count()
    }

    /// The domain restricted to rows where `keep` is true.
    pub fn and(&self, keep: impl Fn(usize) -> bool) -> Domain {
        Domain {
            rows: self
                .rows
                .iter()
                .enumerate()
                .map(|(k, &r)| r && keep(k))
                .collect(),
        }
    }
}

/// A point estimate with its design-based precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub estimate: f64,
    pub variance: f64,
    /// Design effect when requested (R `deff = TRUE`).
    pub deff: Option<f64>,
    /// Domain rows used.
    pub n: usize,
    /// Design degrees of freedom of the domain (R `degf`).
    pub df: f64,
}

impl Estimate {
    /// Standard error.
    pub fn se(&self) -> f64 {
        self.variance.sqrt()
    }

    /// Coefficient of variation `se / |estimate|`.
    pub fn cv(&self) -> f64 {
        self.se() / self.estimate.abs()
    }
}

/// `Σ_D w y`.
pub fn total(design: &Design, y: &[f64], domain: &Domain, deff: bool) -> Result<Estimate, Error> {
    let w = design.weights();
    let mask = domain.mask();
    let estimate = weighted_sum(w, y, mask);
    let variance = if let Some(reps) = &design.replicates {
        let v = masked(y, mask);
        let thetas: Vec<f64> = reps.totals(w, &[&v]).iter().map(|t| t[0]).collect();
        reps.variance(&thetas, estimate)
    } else {
        let x: Vec<f64> = (0..y.len())
            .map(|k| if mask[k] { w[k] * y[k] } else { 0.0 })
            .collect();
        linearized_variance(design, x, mask)?
    };
    let deff = deff.then(|| {
        let (n, big_n, s2) = srs_parts(w, y, mask);
        variance / (s2 * big_n * big_n * (big_n - n) / (big_n * n))
    });
    Ok(Estimate {
        estimate,
        variance,
        deff,
        n: domain.count(),
        df: design.degrees_of_freedom(mask),
    })
}

/// `Σ_D w y / Σ_D w`.
pub fn mean(design: &Design, y: &[f64], domain: &Domain, deff: bool) -> Result<Estimate, Error> {
    let ones = vec![1.0; y.len()];
    let mut e = ratio(design, y, &ones, domain, false)?;
    if deff {
        let (n, big_n, s2) = srs_parts(design.weights(), y, domain.mask());
        e.deff = Some(e.variance / (s2 * (big_n - n) / (big_n * n)));
    }
    Ok(e)
}

/// `Σ_D w y / Σ_D w z`.
pub fn ratio(
    design: &Design,
    y: &[f64],
    z: &[f64],
    domain: &Domain,
    deff: bool,
) -> Result<Estimate, Error> {
    let w = design.weights();
    let mask = domain.mask();
    let numerator = weighted_sum(w, y, mask);
    let denominator = weighted_sum(w, z, mask);
    let estimate = numerator / denominator;
    let variance = if let Some(reps) = &design.replicates {
        let vy = masked(y, mask);
        let vz = masked(z, mask);
        let thetas: Vec<f64> = reps
            .totals(w, &[&vy, &vz])
            .iter()
            .map(|t| t[0] / t[1])
            .collect();
        reps.variance(&thetas, estimate)
    } else {
        let x: Vec<f64> = (0..y.len())
            .map(|k| {
                if mask[k] {
                    w[k] * (y[k] - estimate * z[k]) / denominator
                } else {
                    0.0
                }
            })
            .collect();
        linearized_variance(design, x, mask)?
    };
    let deff = deff.then(|| {
        let r: Vec<f64> = (0..y.len())
            .map(|k| (y[k] - estimate * z[k]) / denominator)
            .collect();
        let (n, big_n, s2) = srs_parts(w, &r, mask);
        variance / (s2 * big_n * big_n * (big_n - n) / (big_n * n))
    });
    Ok(Estimate {
        estimate,
        variance,
        deff,
        n: domain.count(),
        df: design.degrees_of_freedom(mask),
    })
}

/// The replicate estimates `Σ_D w_r y / Σ_D w_r z` of a ratio (a mean when `z = 1`), or
/// `None` for a design without replicate weights.
pub fn ratio_replicates(
    design: &Design,
    y: &[f64],
    z: &[f64],
    domain: &Domain,
) -> Option<Vec<f64>> {
    let reps = design.replicates.as_ref()?;
    let mask = domain.mask();
    let vy = masked(y, mask);
    let vz = masked(z, mask);
    Some(
        reps.totals(design.weights(), &[&vy, &vz])
            .iter()
            .map(|t| t[0] / t[1])
            .collect(),
    )
}

/// Kish's weighting design effect `n Σ w² / (Σ w)²` (METHODOLOGY §3.11).
pub fn kish_deff(weights: &[f64]) -> f64 {
    let mut s1 = Sum::default();
    let mut s2 = Sum::default();
    for &w in weights {
        s1.add(w);
        s2.add(w * w);
    }
    weights.len() as f64 * s2.value() / (s1.value() * s1.value())
}

/// Taylor variance of the weighted linearized variable `x` (already zero outside the domain).
pub(crate) fn linearized_variance(
    design: &Design,
    mut x: Vec<f64>,
    mask: &[bool],
) -> Result<f64, Error> {
    match &design.calibration {
        Some(step) => {
            // A calibrated design keeps every row (R sets weights to zero outside a subset).
            step.residualize(&mut x);
            let all = vec![true; x.len()];
            taylor::variance(design, &x, &all)
        }
        None => taylor::variance(design, &x, mask),
    }
}

/// `Σ_D w v` with compensated summation.
pub(crate) fn weighted_sum(w: &[f64], v: &[f64], mask: &[bool]) -> f64 {
    let mut s = Sum::default();
    for k in 0..v.len() {
        if mask[k] {
            s.add(w[k] * v[k]);
        }
    }
    s.value()
}

/// `v` with zeros outside the domain.
pub(crate) fn masked(v: &[f64], mask: &[bool]) -> Vec<f64> {
    v.iter()
        .zip(mask)
        .map(|(&x, &m)| if m { x } else { 0.0 })
        .collect()
}

/// `(n, N̂, s²)` for the SRS variance of a design effect: rows with non-zero weight, their
/// weight sum, and the weighted variance with divisor n − 1 (R `svyvar`).
fn srs_parts(w: &[f64], y: &[f64], mask: &[bool]) -> (f64, f64, f64) {
    let mut n = 0usize;
    let mut sw = Sum::default();
    let mut swy = Sum::default();
    for k in 0..y.len() {
        if mask[k] && w[k] != 0.0 {
            n += 1;
            sw.add(w[k]);
            swy.add(w[k] * y[k]);
        }
    }
    let big_n = sw.value();
    let mean = swy.value() / big_n;
    let mut ss = Sum::default();
    for k in 0..y.len() {
        if mask[k] && w[k] != 0.0 {
            ss.add(w[k] * (y[k] - mean) * (y[k] - mean));
        }
    }
    let n_f = n as f64;
    (n_f, big_n, ss.value() / big_n * n_f / (n_f - 1.0))
}
