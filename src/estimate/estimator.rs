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
use crate::estimate::replicate::ReplicateWeights;
use crate::estimate::taylor;

/// Rows of a domain (or subset) of a design: membership flags and the list of member rows
/// (estimators touch only the members, so a domain costs O(its rows + PSUs)).
#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    mask: Vec<bool>,
    rows: Vec<u32>,
}

impl Domain {
    /// The whole sample.
    pub fn all(rows: usize) -> Domain {
        Domain {
            mask: vec![true; rows],
            rows: (0..rows as u32).collect(),
        }
    }

    /// The rows flagged `true`.
    pub fn from_mask(mask: Vec<bool>) -> Domain {
        let rows = mask
            .iter()
            .enumerate()
            .filter(|(_, m)| **m)
            .map(|(k, _)| k as u32)
            .collect();
        Domain { mask, rows }
    }

    /// Membership flags, one per data row.
    pub fn mask(&self) -> &[bool] {
        &self.mask
    }

    /// The member rows, in increasing order.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// Rows in the domain.
    pub fn count(&self) -> usize {
        self.rows.len()
    }

    /// The domain restricted to rows where `keep` is true.
    pub fn and(&self, keep: impl Fn(usize) -> bool) -> Domain {
        let mut mask = self.mask.clone();
        let rows = self
            .rows
            .iter()
            .copied()
            .filter(|&k| {
                let ok = keep(k as usize);
                mask[k as usize] = ok;
                ok
            })
            .collect();
        Domain { mask, rows }
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
    let rows = domain.rows();
    let estimate = weighted_sum(w, y, rows);
    let variance = if let Some(reps) = &design.replicates {
        let v = gather(y, rows);
        let thetas: Vec<f64> = reps
            .totals_rows(w, rows, &[&v])
            .iter()
            .map(|t| t[0])
            .collect();
        reps.variance(&thetas, estimate)
    } else {
        let x: Vec<f64> = rows
            .iter()
            .map(|&k| w[k as usize] * y[k as usize])
            .collect();
        linearized_variance_rows(design, x, domain)?
    };
    let deff = deff.then(|| deff_of_total(variance, srs_parts(w, |k| y[k], rows)));
    Ok(domain_estimate(design, domain, estimate, variance, deff))
}

/// `Σ_D w y / Σ_D w`.
pub fn mean(design: &Design, y: &[f64], domain: &Domain, deff: bool) -> Result<Estimate, Error> {
    if design.replicates.is_none() && design.calibration.is_none() {
        let w = design.weights();
        let mut e = ratio_by_cluster_totals(design, domain, |k| w[k] * y[k], |k| w[k])?;
        if deff {
            let parts = srs_parts(w, |k| y[k], domain.rows());
            e.deff = Some(deff_of_mean(e.variance, parts));
        }
        return Ok(e);
    }
    let w = design.weights();
    let rows = domain.rows();
    let mut sw = Sum::default();
    let mut swy = Sum::default();
    for &k in rows {
        let k = k as usize;
        sw.add(w[k]);
        swy.add(w[k] * y[k]);
    }
    let (total_w, estimate) = (sw.value(), swy.value() / sw.value());
    let variance = if let Some(reps) = &design.replicates {
        let vy = gather(y, rows);
        let ones = vec![1.0; rows.len()];
        let thetas = replicate_ratios(reps, w, rows, &vy, &ones);
        reps.variance(&thetas, estimate)
    } else {
        let x: Vec<f64> = rows
            .iter()
            .map(|&k| w[k as usize] * (y[k as usize] - estimate) / total_w)
            .collect();
        linearized_variance_rows(design, x, domain)?
    };
    let deff = deff.then(|| deff_of_mean(variance, srs_parts(w, |k| y[k], rows)));
    Ok(domain_estimate(design, domain, estimate, variance, deff))
}

/// `Σ a / Σ b` with its Taylor variance from cluster totals, in one pass over the domain rows
/// per stage: the cluster total of the linearized variable is `(A_c − θ B_c) / B` (no
/// calibration, no replicates). The degrees of freedom come from the same pass.
fn ratio_by_cluster_totals(
    design: &Design,
    domain: &Domain,
    a: impl Fn(usize) -> f64,
    b: impl Fn(usize) -> f64,
) -> Result<Estimate, Error> {
    let w = design.weights();
    let sums = taylor::stage_sums(design, domain.rows(), |_, k| a(k), |_, k| b(k));
    let mut na = Sum::default();
    let mut nb = Sum::default();
    for (x, y) in sums.a[0].iter().zip(&sums.b[0]) {
        na.add(x.value());
        nb.add(y.value());
    }
    let (numerator, denominator) = (na.value(), nb.value());
    let estimate = numerator / denominator;
    let z: Vec<Vec<f64>> = sums
        .a
        .iter()
        .zip(&sums.b)
        .map(|(sa, sb)| {
            sa.iter()
                .zip(sb)
                .map(|(x, y)| (x.value() - estimate * y.value()) / denominator)
                .collect()
        })
        .collect();
    let variance = taylor::variance_of_cluster_totals(design, &sums.present, &z)?;
    // R's degf: PSUs minus strata among rows with non-zero weight.
    let df = if domain.rows().iter().all(|&k| w[k as usize] != 0.0) {
        let stage = &design.stages[0];
        let mut strata_seen = vec![false; stage.clusters_of_stratum.len()];
        let (mut psus, mut strata) = (0usize, 0usize);
        for (c, &p) in sums.present[0].iter().enumerate() {
            if p {
                psus += 1;
                let h = stage.stratum_of_cluster[c] as usize;
                if !strata_seen[h] {
                    strata_seen[h] = true;
                    strata += 1;
                }
            }
        }
        psus as f64 - strata as f64
    } else {
        design.degrees_of_freedom_of(domain)
    };
    Ok(Estimate {
        estimate,
        variance,
        deff: None,
        n: domain.count(),
        df,
    })
}

/// `Σ_D w y / Σ_D w z`.
pub fn ratio(
    design: &Design,
    y: &[f64],
    z: &[f64],
    domain: &Domain,
    deff: bool,
) -> Result<Estimate, Error> {
    if design.replicates.is_none() && design.calibration.is_none() {
        let w = design.weights();
        let mut e = ratio_by_cluster_totals(design, domain, |k| w[k] * y[k], |k| w[k] * z[k])?;
        if deff {
            let denominator = weighted_sum(w, z, domain.rows());
            let r = e.estimate;
            let parts = srs_parts(w, |k| (y[k] - r * z[k]) / denominator, domain.rows());
            e.deff = Some(deff_of_total(e.variance, parts));
        }
        return Ok(e);
    }
    let w = design.weights();
    let rows = domain.rows();
    let numerator = weighted_sum(w, y, rows);
    let denominator = weighted_sum(w, z, rows);
    let estimate = numerator / denominator;
    let variance = if let Some(reps) = &design.replicates {
        let vy = gather(y, rows);
        let vz = gather(z, rows);
        let thetas = replicate_ratios(reps, w, rows, &vy, &vz);
        reps.variance(&thetas, estimate)
    } else {
        let x: Vec<f64> = rows
            .iter()
            .map(|&k| {
                let k = k as usize;
                w[k] * (y[k] - estimate * z[k]) / denominator
            })
            .collect();
        linearized_variance_rows(design, x, domain)?
    };
    let deff = deff.then(|| {
        let parts = srs_parts(w, |k| (y[k] - estimate * z[k]) / denominator, rows);
        deff_of_total(variance, parts)
    });
    Ok(domain_estimate(design, domain, estimate, variance, deff))
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
    let rows = domain.rows();
    let vy = gather(y, rows);
    let vz = gather(z, rows);
    Some(replicate_ratios(reps, design.weights(), rows, &vy, &vz))
}

/// `Σ_D w_r y / Σ_D w_r z` for each replicate `r`, with `y` and `z` given at the domain rows
/// ([`gather`]): the replicate estimates of a ratio, or of a mean with `z = 1`.
fn replicate_ratios(
    reps: &ReplicateWeights,
    w: &[f64],
    rows: &[u32],
    y: &[f64],
    z: &[f64],
) -> Vec<f64> {
    reps.totals_rows(w, rows, &[y, z])
        .iter()
        .map(|t| t[0] / t[1])
        .collect()
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

/// Taylor variance of the weighted linearized variable `x` given for every data row (zero
/// outside the domain): the calibration residual is taken first when the design is
/// calibrated. Use this (not `taylor::variance` directly) for any custom estimator.
pub fn linearized_variance(design: &Design, mut x: Vec<f64>, mask: &[bool]) -> Result<f64, Error> {
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

/// [`linearized_variance`] with `x` given for the domain rows only.
fn linearized_variance_rows(design: &Design, x: Vec<f64>, domain: &Domain) -> Result<f64, Error> {
    match &design.calibration {
        Some(step) => {
            let mut full = vec![0.0; design.rows()];
            for (&k, v) in domain.rows().iter().zip(&x) {
                full[k as usize] = *v;
            }
            step.residualize(&mut full);
            let all: Vec<u32> = (0..design.rows() as u32).collect();
            taylor::variance_rows(design, &all, &full)
        }
        None => taylor::variance_rows(design, domain.rows(), &x),
    }
}

/// `Σ_D w v` with compensated summation.
pub(crate) fn weighted_sum(w: &[f64], v: &[f64], rows: &[u32]) -> f64 {
    let mut s = Sum::default();
    for &k in rows {
        s.add(w[k as usize] * v[k as usize]);
    }
    s.value()
}

/// `v` at the domain rows.
pub(crate) fn gather(v: &[f64], rows: &[u32]) -> Vec<f64> {
    rows.iter().map(|&k| v[k as usize]).collect()
}

/// The estimate over `domain` with its variance and design effect: `n` is the domain's rows
/// and `df` its design degrees of freedom.
fn domain_estimate(
    design: &Design,
    domain: &Domain,
    estimate: f64,
    variance: f64,
    deff: Option<f64>,
) -> Estimate {
    Estimate {
        estimate,
        variance,
        deff,
        n: domain.count(),
        df: design.degrees_of_freedom_of(domain),
    }
}

/// Design effect of a total, or of a ratio through its linearized variable: `variance` over
/// the SRS variance `s² N̂² (N̂ − n)/(N̂ n)`, with `(n, N̂, s²)` from [`srs_parts`].
fn deff_of_total(variance: f64, (n, big_n, s2): (f64, f64, f64)) -> f64 {
    variance / (s2 * big_n * big_n * (big_n - n) / (big_n * n))
}

/// Design effect of a mean: `variance` over the SRS variance `s² (N̂ − n)/(N̂ n)`, with
/// `(n, N̂, s²)` from [`srs_parts`].
fn deff_of_mean(variance: f64, (n, big_n, s2): (f64, f64, f64)) -> f64 {
    variance / (s2 * (big_n - n) / (big_n * n))
}

/// `(n, N̂, s²)` for the SRS variance of a design effect: rows with non-zero weight, their
/// weight sum, and the weighted variance with divisor n − 1 (R `svyvar`).
fn srs_parts(w: &[f64], y: impl Fn(usize) -> f64, rows: &[u32]) -> (f64, f64, f64) {
    let mut n = 0usize;
    let mut sw = Sum::default();
    let mut swy = Sum::default();
    for &k in rows {
        let k = k as usize;
        if w[k] != 0.0 {
            n += 1;
            sw.add(w[k]);
            swy.add(w[k] * y(k));
        }
    }
    let big_n = sw.value();
    let mean = swy.value() / big_n;
    let mut ss = Sum::default();
    for &k in rows {
        let k = k as usize;
        if w[k] != 0.0 {
            let d = y(k) - mean;
            ss.add(w[k] * d * d);
        }
    }
    let n_f = n as f64;
    (n_f, big_n, ss.value() / big_n * n_f / (n_f - 1.0))
}
