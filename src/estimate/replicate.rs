//! Replicate weights: user-supplied columns, or generated from the design like R
//! `as.svrepdesign` (JK1, JKn, BRR, Fay, bootstrap, Rao–Wu), and the replicate variance
//! `v = scale · Σ_r rscale_r (θ_r − θ̄)²` of R `survey::svrVar`.
//!
//! Generated replicates are stored as one factor per first-stage PSU and replicate, so a
//! replicate estimate costs O(PSUs) after one pass over the rows; user columns are stored whole.
//!
//! Definitions (n_h PSUs in stratum h, f_h = (N_h − n_h)/N_h or 1 without fpc):
//! - JK1 (unstratified): replicate r drops PSU r, others × n/(n−1); scale f·(n−1)/n.
//! - JKn: replicate (h,i) drops PSU i of stratum h, others of h × n_h/(n_h−1); rscale
//!   f_h·(n_h−1)/n_h; lonely PSUs as R `jknweights` (skip, or `adjust`: one replicate that
//!   zeroes the stratum and multiplies all other PSUs by H/(H−1), rscale (H−1)/H; `average`
//!   multiplies scale by PSUs/replicates).
//! - BRR / Fay: two PSUs per stratum; half-sample s of replicate r from a Sylvester Hadamard
//!   matrix of order 2^⌈log₂(H+1)⌉ (row h+1, column r); chosen PSU × (2 − ρ), other × ρ;
//!   scale 1/(R(1−ρ)²). R gives the same replicates when passed the same matrix
//!   (`brrweights(hadamard.matrix = …)`).
//! - bootstrap (Canty–Davison, R `bootweights`): n_h PSUs drawn with replacement; factor =
//!   times drawn; scale n̄/((n̄−1)(R−1)) with n̄ the harmonic mean of n_h.
//! - subbootstrap (Rao–Wu): m_h = n_h − 1 draws; factor = 1 − λ_h + λ_h (n_h/m_h) r_hi with
//!   λ_h = √(m_h f_h/(n_h − 1)) (λ = 1 without fpc, which is R `subbootweights`); scale 1/(R−1).

use rand::rngs::ChaCha20Rng;
use rand::{Rng, SeedableRng};

use crate::estimate::Error;
use crate::estimate::compensated::Sum;
use crate::estimate::design::Design;
use crate::estimate::pattern;
use crate::estimate::spec::{ColumnSelection, DesignSpec, LonelyPsu, ReplicateKind, ReplicateSpec};
use crate::estimate::table::Table;

/// Replicate weights of a design and how their spread becomes a variance.
#[derive(Debug, Clone)]
pub struct ReplicateWeights {
    pub kind: ReplicateKind,
    pub scale: f64,
    pub rscales: Vec<f64>,
    pub mse: bool,
    storage: Storage,
}

#[derive(Debug, Clone)]
enum Storage {
    /// `w_r(k) = w_k · factors[r][psu[k]]`.
    PerPsu {
        psu: Vec<u32>,
        factors: Vec<Vec<f64>>,
    },
    /// `w_r(k) = columns[r][k]` (combined) or `w_k · columns[r][k]`.
    Columns {
        columns: Vec<Vec<f64>>,
        combined: bool,
    },
}

impl ReplicateWeights {
    /// Number of replicates.
    pub fn len(&self) -> usize {
        self.rscales.len()
    }

    /// True when there are no replicates.
    pub fn is_empty(&self) -> bool {
        self.rscales.is_empty()
    }

    /// The replicate weights of replicate `r` for every data row, given the analysis weights
    /// `weights` (what the replicate factors multiply).
    pub fn weight_column(&self, r: usize, weights: &[f64]) -> Vec<f64> {
        match &self.storage {
            Storage::PerPsu { psu, factors } => weights
                .iter()
                .zip(psu)
                .map(|(w, &p)| w * factors[r][p as usize])
                .collect(),
            Storage::Columns { columns, combined } => {
                if *combined {
                    columns[r].clone()
                } else {
                    weights
                        .iter()
                        .zip(&columns[r])
                        .map(|(w, f)| w * f)
                        .collect()
                }
            }
        }
    }

    /// Replaces the replicate weights by full per-row columns (combined weights), keeping
    /// scale, rscales and mse: what a calibration of every replicate produces.
    pub(crate) fn set_combined_columns(&mut self, columns: Vec<Vec<f64>>) {
        self.storage = Storage::Columns {
            columns,
            combined: true,
        };
    }

    /// Replicate totals: `out[r][j] = Σ_k w_r(k) · values[j][k]` (`values` per data row).
    pub fn totals(&self, weights: &[f64], values: &[&[f64]]) -> Vec<Vec<f64>> {
        let rows: Vec<u32> = (0..weights.len() as u32).collect();
        self.totals_rows(weights, &rows, values)
    }

    /// Replicate totals over the listed rows: `values[j][i]` belongs to data row `rows[i]`.
    pub fn totals_rows(&self, weights: &[f64], rows: &[u32], values: &[&[f64]]) -> Vec<Vec<f64>> {
        match &self.storage {
            Storage::PerPsu { psu, factors } => {
                let n_psu = factors.first().map_or(0, Vec::len);
                let per_psu: Vec<Vec<f64>> = values
                    .iter()
                    .map(|v| {
                        let mut sums = vec![Sum::default(); n_psu];
                        for (&k, &value) in rows.iter().zip(v.iter()) {
                            if value != 0.0 {
                                let k = k as usize;
                                sums[psu[k] as usize].add(weights[k] * value);
                            }
                        }
                        sums.iter().map(Sum::value).collect()
                    })
                    .collect();
                factors
                    .iter()
                    .map(|f| {
                        per_psu
                            .iter()
                            .map(|sums| {
                                let mut s = Sum::default();
                                for (a, b) in f.iter().zip(sums) {
                                    s.add(a * b);
                                }
                                s.value()
                            })
                            .collect()
                    })
                    .collect()
            }
            Storage::Columns { columns, combined } => columns
                .iter()
                .map(|col| {
                    values
                        .iter()
                        .map(|v| {
                            let mut s = Sum::default();
                            for (&k, &value) in rows.iter().zip(v.iter()) {
                                if value != 0.0 {
                                    let k = k as usize;
                                    let w = if *combined {
                                        col[k]
                                    } else {
                                        weights[k] * col[k]
                                    };
                                    s.add(w * value);
                                }
                            }
                            s.value()
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// `scale · Σ_r rscale_r (θ_r − centre)²`, centred at the mean of the replicates with a
    /// positive rscale, or at `estimate` when `mse` (R `svrVar`).
    pub fn variance(&self, thetas: &[f64], estimate: f64) -> f64 {
        let centre = if self.mse {
            estimate
        } else {
            let mut s = Sum::default();
            let mut n = 0usize;
            for (t, r) in thetas.iter().zip(&self.rscales) {
                if *r > 0.0 {
                    s.add(*t);
                    n += 1;
                }
            }
            s.value() / n as f64
        };
        let mut v = Sum::default();
        for (t, r) in thetas.iter().zip(&self.rscales) {
            v.add((t - centre) * (t - centre) * r);
        }
        v.value() * self.scale
    }

    /// R `degf` of a replicate design: rank (tolerance 1e-5, sequential as LINPACK `dqrdc2`
    /// in R's `qr`) of the matrix of replicate weights over the domain rows, minus one.
    ///
    /// Modified Gram–Schmidt on the columns: a column is accepted when its residual norm is at
    /// least 1e-5 of its own norm. For generated replicates the columns live in the space of
    /// PSUs (metric Σ w² per PSU), so the cost is O(replicates · rank · PSUs), and the loop
    /// stops once the rank reaches the dimension of that space.
    pub fn degrees_of_freedom(&self, weights: &[f64], rows: &[u32]) -> usize {
        let vectors: Vec<Vec<f64>> = match &self.storage {
            Storage::PerPsu { psu, factors } => {
                let n_psu = factors.first().map_or(0, Vec::len);
                let mut s2 = vec![Sum::default(); n_psu];
                for &k in rows {
                    let k = k as usize;
                    s2[psu[k] as usize].add(weights[k] * weights[k]);
                }
                let root: Vec<f64> = s2.iter().map(|s| s.value().sqrt()).collect();
                let keep: Vec<usize> = (0..n_psu).filter(|&p| root[p] > 0.0).collect();
                factors
                    .iter()
                    .map(|f| keep.iter().map(|&p| f[p] * root[p]).collect())
                    .collect()
            }
            Storage::Columns { columns, combined } => columns
                .iter()
                .map(|c| {
                    rows.iter()
                        .map(|&k| {
                            let k = k as usize;
                            if *combined { c[k] } else { weights[k] * c[k] }
                        })
                        .collect()
                })
                .collect(),
        };
        let dimension = vectors.first().map_or(0, Vec::len);
        let mut basis: Vec<Vec<f64>> = Vec::new();
        for v in vectors {
            if basis.len() >= dimension {
                break;
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                continue;
            }
            let mut r = v;
            for b in &basis {
                let dot: f64 = r.iter().zip(b).map(|(x, y)| x * y).sum();
                for (x, y) in r.iter_mut().zip(b) {
                    *x -= dot * y;
                }
            }
            let resid = r.iter().map(|x| x * x).sum::<f64>().sqrt();
            if resid >= 1e-5 * norm {
                basis.push(r.iter().map(|x| x / resid).collect());
            }
        }
        basis.len().saturating_sub(1)
    }
}

/// Forms the replicate weights of `spec` for `design`.
pub fn build(
    table: &Table,
    design: &Design,
    design_spec: &DesignSpec,
    spec: &ReplicateSpec,
) -> Result<ReplicateWeights, Error> {
    if let Some(rho) = spec.fay_rho
        && !(0.0..1.0).contains(&rho)
    {
        return Err(Error::Replicates(format!(
            "fay_rho must be in [0, 1), got {rho}"
        )));
    }
    match &spec.columns {
        Some(selection) => from_columns(table, spec, selection),
        None => generate(design, design_spec, spec),
    }
}

fn from_columns(
    table: &Table,
    spec: &ReplicateSpec,
    selection: &ColumnSelection,
) -> Result<ReplicateWeights, Error> {
    let names: Vec<String> = match selection {
        ColumnSelection::List(list) => list.clone(),
        ColumnSelection::Pattern(p) => {
            let matcher = pattern::Pattern::parse(p).map_err(Error::Replicates)?;
            table
                .names()
                .iter()
                .filter(|n| matcher.is_match(n))
                .cloned()
                .collect()
        }
    };
    if names.is_empty() {
        return Err(Error::Replicates(
            "no replicate-weight columns selected".into(),
        ));
    }
    let mut columns = Vec::with_capacity(names.len());
    for name in &names {
        let col = table.numeric(name)?;
        if let Some(row) = col.iter().position(|v| !v.is_finite()) {
            return Err(Error::Replicates(format!(
                "column `{name}` has a missing or infinite value at data row {}",
                row + 1
            )));
        }
        columns.push(col.to_vec());
    }
    let r = columns.len() as f64;
    let rho = spec.fay_rho.unwrap_or(0.0);
    let scale = match (spec.kind, spec.scale) {
        (ReplicateKind::Brr, _) => 1.0 / r,
        (ReplicateKind::Fay, _) => {
            if spec.fay_rho.is_none() {
                return Err(Error::Replicates("type \"fay\" needs fay_rho".into()));
            }
            1.0 / (r * (1.0 - rho) * (1.0 - rho))
        }
        (_, Some(s)) => s,
        (ReplicateKind::Bootstrap | ReplicateKind::Subbootstrap, None) => 1.0 / (r - 1.0),
        (ReplicateKind::Jk1, None) => (r - 1.0) / r,
        (ReplicateKind::Jkn | ReplicateKind::Other, None) => 1.0,
    };
    let rscales = match &spec.rscales {
        Some(v) if v.len() == 1 => vec![v[0]; columns.len()],
        Some(v) if v.len() == columns.len() => v.clone(),
        Some(v) => {
            return Err(Error::Replicates(format!(
                "{} rscales for {} replicate columns",
                v.len(),
                columns.len()
            )));
        }
        None if spec.kind == ReplicateKind::Jkn => {
            return Err(Error::Replicates(
                "type \"jkn\" with replicate columns needs rscales".into(),
            ));
        }
        None => vec![1.0; columns.len()],
    };
    Ok(ReplicateWeights {
        kind: spec.kind,
        scale,
        rscales,
        mse: spec.mse,
        storage: Storage::Columns {
            columns,
            combined: spec.combined_weights,
        },
    })
}

fn generate(
    design: &Design,
    design_spec: &DesignSpec,
    spec: &ReplicateSpec,
) -> Result<ReplicateWeights, Error> {
    let stage = &design.stages[0];
    let psu = stage.cluster.clone();
    let n_psu = stage.stratum_of_cluster.len();
    let n_strata = stage.clusters_of_stratum.len();
    // First-stage fpc factor f_h = (N_h − n_h)/N_h per stratum (1 without fpc).
    let f_of = |h: usize| -> f64 {
        match &stage.popsize {
            Some(p) if p[h].is_finite() => (p[h] - stage.n_psu(h) as f64) / p[h],
            _ => 1.0,
        }
    };
    let (factors, scale, rscales): (Vec<Vec<f64>>, f64, Vec<f64>) = match spec.kind {
        ReplicateKind::Jk1 => {
            if design.has_strata {
                return Err(Error::Replicates(
                    "JK1 is for unstratified designs; use jkn".into(),
                ));
            }
            let n = n_psu as f64;
            let f = f_of(0);
            let factors = (0..n_psu)
                .map(|r| {
                    (0..n_psu)
                        .map(|p| if p == r { 0.0 } else { n / (n - 1.0) })
                        .collect()
                })
                .collect();
            (factors, f * (n - 1.0) / n, vec![1.0; n_psu])
        }
        ReplicateKind::Jkn => {
            if !design.has_strata {
                return Err(Error::Replicates(
                    "JKn needs a stratified design; use jk1".into(),
                ));
            }
            let mut factors = Vec::new();
            let mut rscales = Vec::new();
            for h in 0..n_strata {
                let clusters = &stage.clusters_of_stratum[h];
                let n = clusters.len() as f64;
                let f = f_of(h);
                if f == 0.0 {
                    continue;
                }
                if clusters.len() == 1 {
                    match design_spec.lonely_psu {
                        LonelyPsu::Fail => {
                            return Err(Error::LonelyPsu {
                                stratum: stage.stratum_label[h].clone(),
                                stage: 1,
                            });
                        }
                        LonelyPsu::Remove | LonelyPsu::Certainty | LonelyPsu::Average => continue,
                        LonelyPsu::Adjust => {
                            let ns = n_strata as f64;
                            let col = (0..n_psu)
                                .map(|p| {
                                    if stage.stratum_of_cluster[p] as usize == h {
                                        0.0
                                    } else {
                                        ns / (ns - 1.0)
                                    }
                                })
                                .collect();
                            factors.push(col);
                            rscales.push((ns - 1.0) / ns);
                            continue;
                        }
                    }
                }
                for &drop in clusters {
                    let col = (0..n_psu)
                        .map(|p| {
                            if stage.stratum_of_cluster[p] as usize != h {
                                1.0
                            } else if p == drop as usize {
                                0.0
                            } else {
                                n / (n - 1.0)
                            }
                        })
                        .collect();
                    factors.push(col);
                    rscales.push(f * (n - 1.0) / n);
                }
            }
            if factors.is_empty() {
                return Err(Error::Replicates(
                    "every stratum was exhaustively sampled: no replicates".into(),
                ));
            }
            let mut scale = 1.0;
            if design_spec.lonely_psu == LonelyPsu::Average && factors.len() < n_psu {
                scale = n_psu as f64 / factors.len() as f64;
            }
            (factors, scale, rscales)
        }
        ReplicateKind::Brr | ReplicateKind::Fay => {
            let rho = if spec.kind == ReplicateKind::Fay {
                spec.fay_rho
                    .ok_or_else(|| Error::Replicates("type \"fay\" needs fay_rho".into()))?
            } else {
                spec.fay_rho.unwrap_or(0.0)
            };
            let (factors, count) = brr_factors(design, rho)?;
            (
                factors,
                1.0 / (count as f64 * (1.0 - rho) * (1.0 - rho)),
                vec![1.0; count],
            )
        }
        ReplicateKind::Bootstrap | ReplicateKind::Subbootstrap => {
            let replicates = spec.replicates.unwrap_or(50);
            if replicates < 2 {
                return Err(Error::Replicates(
                    "need at least 2 bootstrap replicates".into(),
                ));
            }
            let mut rng = ChaCha20Rng::seed_from_u64(spec.seed.unwrap_or(1));
            let rao_wu = spec.kind == ReplicateKind::Subbootstrap;
            let factors = bootstrap_factors(design, replicates, rao_wu, &mut rng)?;
            let scale = if rao_wu {
                1.0 / (replicates as f64 - 1.0)
            } else {
                let mean_inverse: f64 = (0..n_strata)
                    .map(|h| 1.0 / stage.n_psu(h) as f64)
                    .sum::<f64>()
                    / n_strata as f64;
                let harmonic = 1.0 / mean_inverse;
                harmonic / ((harmonic - 1.0) * (replicates as f64 - 1.0))
            };
            (factors, scale, vec![1.0; replicates])
        }
        ReplicateKind::Other => {
            return Err(Error::Replicates(
                "type \"other\" needs replicate \"columns\"".into(),
            ));
        }
    };
    Ok(ReplicateWeights {
        kind: spec.kind,
        scale: spec.scale.unwrap_or(scale),
        rscales: spec.rscales.clone().unwrap_or(rscales),
        mse: spec.mse,
        storage: Storage::PerPsu { psu, factors },
    })
}

/// Sylvester Hadamard entry in 0/1 form: 1 where the ±1 matrix differs from its corner.
pub fn sylvester_bit(row: usize, column: usize) -> bool {
    (row & column).count_ones() % 2 == 1
}

/// The order of the Sylvester matrix used for `strata` BRR strata: 2^⌈log₂(H + 1)⌉.
pub fn brr_order(strata: usize) -> usize {
    (strata + 1).next_power_of_two()
}

/// BRR/Fay PSU factors and the number of replicates.
fn brr_factors(design: &Design, rho: f64) -> Result<(Vec<Vec<f64>>, usize), Error> {
    let stage = &design.stages[0];
    let n_psu = stage.stratum_of_cluster.len();
    // Strata in R's order: sorted by label (R `table` sorts the names as text).
    let mut order: Vec<usize> = (0..stage.clusters_of_stratum.len()).collect();
    order.sort_by(|a, b| stage.stratum_label[*a].cmp(&stage.stratum_label[*b]));
    for &h in &order {
        if stage.n_psu(h) != 2 {
            return Err(Error::Replicates(format!(
                "BRR needs exactly 2 PSUs per stratum; stratum {} has {}",
                stage.stratum_label[h],
                stage.n_psu(h)
            )));
        }
    }
    let count = brr_order(order.len());
    let mut factors = vec![vec![0.0; n_psu]; count];
    for (r, column) in factors.iter_mut().enumerate() {
        for (s, &h) in order.iter().enumerate() {
            // Row s + 1 of the matrix; bit 0 keeps the first PSU's "0" half (R col = 1).
            let second_half = sylvester_bit(s + 1, r);
            let clusters = &stage.clusters_of_stratum[h];
            let (first, second) = (clusters[0] as usize, clusters[1] as usize);
            if second_half {
                column[first] = 2.0 - rho;
                column[second] = rho;
            } else {
                column[first] = rho;
                column[second] = 2.0 - rho;
            }
        }
    }
    Ok((factors, count))
}

/// Bootstrap PSU factors: Canty–Davison (n_h draws) or Rao–Wu (n_h − 1 draws, rescaled).
fn bootstrap_factors(
    design: &Design,
    replicates: usize,
    rao_wu: bool,
    rng: &mut ChaCha20Rng,
) -> Result<Vec<Vec<f64>>, Error> {
    let stage = &design.stages[0];
    let n_psu = stage.stratum_of_cluster.len();
    let mut factors = vec![vec![0.0; n_psu]; replicates];
    for (h, clusters) in stage.clusters_of_stratum.iter().enumerate() {
        let n = clusters.len();
        if rao_wu && n < 2 {
            return Err(Error::Replicates(format!(
                "Rao–Wu bootstrap needs at least 2 PSUs per stratum; stratum {} has 1",
                stage.stratum_label[h]
            )));
        }
        let f = match &stage.popsize {
            Some(p) if p[h].is_finite() => (p[h] - n as f64) / p[h],
            _ => 1.0,
        };
        let m = if rao_wu { n - 1 } else { n };
        for column in factors.iter_mut() {
            let mut counts = vec![0usize; n];
            for _ in 0..m {
                counts[uniform_index(rng, n)] += 1;
            }
            for (i, &c) in clusters.iter().enumerate() {
                column[c as usize] = if rao_wu {
                    rao_wu_factor(n, f, counts[i])
                } else {
                    counts[i] as f64
                };
            }
        }
    }
    Ok(factors)
}

/// The Rao–Wu rescaling factor of a PSU drawn `times_drawn` times among `m = n − 1` draws
/// from a stratum of `n` PSUs with sampling-fraction complement `f = 1 − n/N`:
/// `1 − λ + λ (n/m) r` with `λ = √(m f/(n − 1))`.
pub fn rao_wu_factor(n: usize, f: f64, times_drawn: usize) -> f64 {
    let m = n - 1;
    let lambda = (m as f64 * f / (n as f64 - 1.0)).sqrt();
    1.0 - lambda + lambda * (n as f64 / m as f64) * times_drawn as f64
}

/// A uniform index in `0..n` from raw 64-bit draws (rejection sampling, no modulo bias).
fn uniform_index(rng: &mut ChaCha20Rng, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return (x % n) as usize;
        }
    }
}
