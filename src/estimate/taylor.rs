//! Taylor-linearization (ultimate-cluster and multistage) variance of an estimated total.
//!
//! Input: the weighted linearized variable `x_k = w_k u_k` of every row (zero outside the
//! domain) and which rows belong to the (sub)design. Output: the design-based variance of
//! `Σ x_k`, computed exactly as R `survey:::svyrecvar` → `multistage` → `onestage` →
//! `onestrat`:
//!
//! ```text
//! v = Σ_stages Σ_parent-clusters a_parent · (n_strat / n_ok_strat) ·
//!       Σ_h f_h · n_h/(n_h − 1) · Σ_i (z_hi − z̄_h)²
//! ```
//!
//! with `z_hi` the cluster totals of stratum h, `f_h = (N_h − n_h)/N_h` (1 without fpc),
//! `a_parent` the product of `n/N` of the enclosing clusters of earlier stages (later stages
//! only count when an fpc is given, as in R), and the lonely-PSU rules:
//!
//! - a stratum with one sampled PSU contributes 0 (`certainty`, `remove`), `f·z²` with the
//!   PSU centred at zero instead of its own mean (`adjust`), is left out and replaced by the
//!   average of the others through `n_strat / n_ok_strat` (`average`), or is an error (`fail`);
//! - a stratum with `f < 1e-7` (all PSUs taken) contributes 0 whatever the option;
//! - a domain in which only one PSU of a multi-PSU stratum is present is centred as usual
//!   (R's default `survey.adjust.domain.lonely = FALSE`).
//!
//! Strata with no row in the (sub)design do not count (R drops those rows when subsetting an
//! uncalibrated design). Sums of squares are taken over cluster totals, so the cost is one pass
//! over the rows per stage plus O(clusters).

use crate::estimate::Error;
use crate::estimate::compensated::Sum;
use crate::estimate::design::{Design, Overton};
use crate::estimate::spec::{LonelyPsu, PpsVariance};

/// Linearization variance of `Σ x` over the rows flagged in `present` (`x` has one value per
/// data row).
pub fn variance(design: &Design, x: &[f64], present: &[bool]) -> Result<f64, Error> {
    let rows: Vec<u32> = (0..design.rows as u32)
        .filter(|&k| present[k as usize])
        .collect();
    let values: Vec<f64> = rows.iter().map(|&k| x[k as usize]).collect();
    variance_rows(design, &rows, &values)
}

/// Linearization variance of `Σ x` where `x[i]` belongs to data row `rows[i]`; the rows listed
/// are the (sub)design. Cost: O(rows + clusters) per stage.
pub fn variance_rows(design: &Design, rows: &[u32], x: &[f64]) -> Result<f64, Error> {
    let sums = stage_sums(design, rows, |i, _| x[i], |_, _| 0.0);
    let z: Vec<Vec<f64>> = sums
        .a
        .iter()
        .map(|s| s.iter().map(Sum::value).collect())
        .collect();
    variance_of_cluster_totals(design, &sums.present, &z)
}

/// Per stage and cluster: totals of two row quantities `a(i, k)` and `b(i, k)` (`i` the
/// position in `rows`, `k` the data row), cluster presence, and whether a first-stage cluster
/// has a row with non-zero weight (for the degrees of freedom). One pass over the rows per
/// stage: estimators whose linearized variable is `a − θ b` combine the totals afterwards.
pub(crate) struct StageSums {
    pub a: Vec<Vec<Sum>>,
    pub b: Vec<Vec<Sum>>,
    pub present: Vec<Vec<bool>>,
}

pub(crate) fn stage_sums(
    design: &Design,
    rows: &[u32],
    a: impl Fn(usize, usize) -> f64,
    b: impl Fn(usize, usize) -> f64,
) -> StageSums {
    let n_stages = if design.multistage {
        design.stages.len()
    } else {
        1
    };
    let mut out = StageSums {
        a: Vec::new(),
        b: Vec::new(),
        present: Vec::new(),
    };
    for stage in &design.stages[..n_stages] {
        let n_clusters = stage.stratum_of_cluster.len();
        let mut sa = vec![Sum::default(); n_clusters];
        let mut sb = vec![Sum::default(); n_clusters];
        let mut present = vec![false; n_clusters];
        for (i, &k) in rows.iter().enumerate() {
            let k = k as usize;
            let c = stage.cluster[k] as usize;
            sa[c].add(a(i, k));
            sb[c].add(b(i, k));
            present[c] = true;
        }
        out.a.push(sa);
        out.b.push(sb);
        out.present.push(present);
    }
    out
}

/// The multistage variance from cluster totals `z[stage][cluster]` of the linearized variable
/// and the clusters present in the (sub)design.
pub(crate) fn variance_of_cluster_totals(
    design: &Design,
    present: &[Vec<bool>],
    z: &[Vec<f64>],
) -> Result<f64, Error> {
    if let Some(overton) = &design.overton {
        return Ok(overton_variance(design, overton, &z[0]));
    }
    let n_stages = z.len();
    // Multiplier of each cluster of the previous stage (1 at the top).
    let mut parent_factor: Vec<f64> = vec![1.0];
    let mut total = 0.0;
    for s in 0..n_stages {
        let stage = &design.stages[s];
        let n_clusters = stage.stratum_of_cluster.len();
        let n_strata = stage.clusters_of_stratum.len();
        let cluster_present = &present[s];
        let z = &z[s];

        // Per parent cluster: Σ of non-NA stratum variances, strata present, strata not NA.
        let n_parents = parent_factor.len();
        let mut parent_sum = vec![0.0; n_parents];
        let mut parent_strata = vec![0usize; n_parents];
        let mut parent_ok = vec![0usize; n_parents];
        for h in 0..n_strata {
            let clusters = &stage.clusters_of_stratum[h];
            let n_subset = clusters
                .iter()
                .filter(|&&c| cluster_present[c as usize])
                .count();
            if n_subset == 0 {
                continue;
            }
            let parent = stage.parent_of_stratum[h] as usize;
            parent_strata[parent] += 1;
            match stratum_variance(
                design.lonely,
                stage.popsize.as_ref().map(|p| p[h]),
                stage.pi.as_deref(),
                clusters,
                n_subset,
                z,
            ) {
                StratumVariance::Value(v) => {
                    parent_sum[parent] += v;
                    parent_ok[parent] += 1;
                }
                StratumVariance::Missing => {}
                StratumVariance::Lonely => {
                    return Err(Error::LonelyPsu {
                        stratum: stage.stratum_label[h].clone(),
                        stage: s + 1,
                    });
                }
            }
        }
        for p in 0..n_parents {
            if parent_strata[p] == 0 {
                continue;
            }
            let scaled = parent_sum[p] * parent_strata[p] as f64 / parent_ok[p] as f64;
            total += parent_factor[p] * scaled;
        }

        // Multipliers for the next stage: a_cluster = a_parent · n_h / N_h.
        if s + 1 < n_stages {
            parent_factor = (0..n_clusters)
                .map(|c| {
                    let h = stage.stratum_of_cluster[c] as usize;
                    let a = parent_factor[stage.parent_of_stratum[h] as usize];
                    let n = stage.n_psu(h) as f64;
                    if let Some(pi) = &stage.pi {
                        // Brewer: N_c = n/π_c, so n/N_c = π_c (R: nPSU/popsize per cluster).
                        return a * n / (n / pi[c]);
                    }
                    let big_n = stage.popsize.as_ref().map_or(f64::INFINITY, |p| p[h]);
                    if big_n.is_infinite() {
                        0.0
                    } else {
                        a * n / big_n
                    }
                })
                .collect();
        }
    }
    Ok(total)
}

enum StratumVariance {
    Value(f64),
    /// `lonely_psu = "average"`: left out, replaced by the average of the others.
    Missing,
    /// `lonely_psu = "fail"` on a single-PSU stratum.
    Lonely,
}

fn stratum_variance(
    lonely: LonelyPsu,
    popsize: Option<f64>,
    pi: Option<&[f64]>,
    clusters: &[u32],
    n_subset: usize,
    z: &[f64],
) -> StratumVariance {
    let n_psu = clusters.len();
    let n = n_psu as f64;
    let f_stratum = match popsize {
        None => 1.0,
        Some(big_n) if big_n.is_infinite() => 1.0,
        Some(big_n) => (big_n - n) / big_n,
    };
    // The factor of cluster c: the stratum's (N − n)/N, or with Brewer's approximation
    // (N_c − n)/N_c with N_c = n/π_c, i.e. 1 − π_c (R `as.fpc` with `pps`, then `onestrat`).
    let f_of = |c: u32| match pi {
        Some(pi) => {
            let big_n = n / pi[c as usize];
            (big_n - n) / big_n
        }
        None => f_stratum,
    };
    if clusters.iter().all(|&c| f_of(c) < 1e-7) {
        return StratumVariance::Value(0.0);
    }
    let multiplier = if n_psu > 1 { n / (n - 1.0) } else { 1.0 };
    let centre = lonely != LonelyPsu::Adjust || n_subset > 1 || n_psu > 1;
    let mean = if centre {
        let mut s = Sum::default();
        for &c in clusters {
            s.add(z[c as usize]);
        }
        s.value() / n
    } else {
        0.0
    };
    let mut ss = Sum::default();
    for &c in clusters {
        let d = z[c as usize] - mean;
        ss.add(f_of(c) * multiplier * d * d);
    }
    if n_psu > 1 {
        return StratumVariance::Value(ss.value());
    }
    match lonely {
        LonelyPsu::Certainty | LonelyPsu::Remove | LonelyPsu::Adjust => {
            StratumVariance::Value(ss.value())
        }
        LonelyPsu::Average => StratumVariance::Missing,
        LonelyPsu::Fail => StratumVariance::Lonely,
    }
}

/// Overton's approximation (R `overton2Dcheck`, then `htvar.matrix` / `ygvar.matrix`): with
/// first-stage cluster totals z and inclusion probabilities π, `Ď_ii = 1 − π_i`, and for two
/// PSUs of the same stratum (n PSUs) `Ď_ij = 1 − (n − (π_i + π_j)/2)/(n − 1)` (0 when
/// (π_i + π_j)/2 = 1, and across strata). HT: `v = Σ_ij Ď_ij z_i z_j`; YG: `v = HT − Σ_ij
/// Ď_ij z_j²`. The sums run within strata, so the cost is Σ_h n_h².
fn overton_variance(design: &Design, overton: &Overton, z: &[f64]) -> f64 {
    let stage = &design.stages[0];
    let pi = &overton.pi;
    let mut ht = Sum::default();
    let mut correction = Sum::default();
    for clusters in &stage.clusters_of_stratum {
        let n = clusters.len() as f64;
        for &i in clusters {
            let i = i as usize;
            for &j in clusters {
                let j = j as usize;
                let d = if i == j {
                    1.0 - pi[i]
                } else {
                    let fbar = (pi[i] + pi[j]) / 2.0;
                    if fbar == 1.0 {
                        0.0
                    } else {
                        1.0 - (n - fbar) / (n - 1.0)
                    }
                };
                ht.add(d * z[i] * z[j]);
                correction.add(d * z[j] * z[j]);
            }
        }
    }
    match overton.variance {
        PpsVariance::HorvitzThompson => ht.value(),
        PpsVariance::YatesGrundy => ht.value() - correction.value(),
    }
}
