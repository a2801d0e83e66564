//! A survey design resolved against a data table: weights, the stage structure (clusters,
//! strata, population sizes) for Taylor linearization, an optional calibration step and
//! optional replicate weights.
//!
//! The stage structure follows R `svydesign` exactly: cluster ids of stage s are the
//! interaction of the id columns of stages 1..s (so they are nested by construction), `nest`
//! additionally interacts them with the strata, and the strata of stage s ≥ 2 are the clusters
//! of stage s − 1. `n_psu` of a stratum is counted on the full sample and never changes for a
//! domain, as in R.
// Row loops index several parallel columns at once; an index reads clearer than zipped
// iterators here.
#![allow(clippy::needless_range_loop)]

use std::collections::HashMap;

use crate::estimate::Error;
use crate::estimate::calibrated::{self, CalibrationStep};
use crate::estimate::estimator::Domain;
use crate::estimate::fast_hash::FastMap;
use crate::estimate::replicate::{self, ReplicateWeights};
use crate::estimate::spec::{DesignSpec, LonelyPsu, Pps, PpsVariance};
use crate::estimate::table::{Column, Table};

/// A design ready for estimation. Built once, used for any number of estimates.
#[derive(Debug, Clone)]
pub struct Design {
    pub(crate) rows: usize,
    /// Analysis weights (calibrated when a calibration step is present).
    pub(crate) weights: Vec<f64>,
    pub(crate) stages: Vec<Stage>,
    /// Whether stages after the first contribute (R: only when `fpc` is given).
    pub(crate) multistage: bool,
    pub(crate) lonely: LonelyPsu,
    pub(crate) has_strata: bool,
    pub(crate) calibration: Option<CalibrationStep>,
    pub(crate) replicates: Option<ReplicateWeights>,
    /// Overton's PPS approximation (first stage only): joint inclusion probabilities from
    /// the PSUs' inclusion probabilities, with the HT or YG variance.
    pub(crate) overton: Option<Overton>,
    /// Degrees of freedom already computed, keyed by a hash of the domain mask: the rank of a
    /// replicate matrix is costly and every estimate of a domain needs it.
    pub(crate) df_cache: std::sync::Arc<std::sync::Mutex<HashMap<u64, f64>>>,
}

/// Overton's approximation of a one-stage PPS design.
#[derive(Debug, Clone)]
pub(crate) struct Overton {
    /// Inclusion probability of each first-stage cluster.
    pub pi: Vec<f64>,
    pub variance: PpsVariance,
}

/// One sampling stage.
#[derive(Debug, Clone)]
pub(crate) struct Stage {
    /// Cluster code of each row (dense, 0..n_clusters).
    pub cluster: Vec<u32>,
    /// Stratum code of each cluster.
    pub stratum_of_cluster: Vec<u32>,
    /// Clusters of each stratum (all of them in the full sample).
    pub clusters_of_stratum: Vec<Vec<u32>>,
    /// Cluster code at the previous stage that contains each stratum (0 at stage 1).
    pub parent_of_stratum: Vec<u32>,
    /// Population size N_h of each stratum (∞ when sampling is with replacement).
    pub popsize: Option<Vec<f64>>,
    /// A printable label of each stratum, for error messages.
    pub stratum_label: Vec<String>,
    /// Brewer's PPS approximation: the inclusion probability of each cluster (from `fpc`),
    /// which then replaces the stratum's `n/N` per cluster.
    pub pi: Option<Vec<f64>>,
}

impl Stage {
    /// Number of sampled clusters in stratum `h` (R `fpc$sampsize`).
    pub fn n_psu(&self, h: usize) -> usize {
        self.clusters_of_stratum[h].len()
    }
}

impl Design {
    /// Resolves `spec` against `table`: parses weights, ids, strata and fpc, applies the
    /// calibration step and forms replicate weights.
    pub fn build(table: &Table, spec: &DesignSpec) -> Result<Design, Error> {
        let rows = table.rows();
        if rows == 0 {
            return Err(Error::Data("the data file has no rows".into()));
        }
        if !spec.fpc.is_empty() && spec.fpc.len() != spec.ids.len().max(1) {
            return Err(Error::Fpc(format!(
                "{} fpc columns for {} stages; give one per stage",
                spec.fpc.len(),
                spec.ids.len().max(1)
            )));
        }

        // Keys per stage: ids interacted over stages (and with strata when nested).
        let strata_key: Vec<u32> = match &spec.strata {
            Some(name) => key_codes(table, name)?,
            None => vec![0; rows],
        };
        let id_columns: Vec<Vec<u32>> = if spec.ids.is_empty() {
            vec![(0..rows as u32).collect()]
        } else {
            spec.ids
                .iter()
                .map(|name| key_codes(table, name))
                .collect::<Result<_, _>>()?
        };
        let mut cluster_keys: Vec<Vec<u32>> = Vec::with_capacity(id_columns.len());
        for (s, ids) in id_columns.iter().enumerate() {
            let mut key = ids.clone();
            if s > 0 {
                key = interact(&cluster_keys[s - 1], &key);
            }
            cluster_keys.push(key);
        }
        if spec.nest && spec.strata.is_some() {
            for key in &mut cluster_keys {
                *key = interact(&strata_key, key);
            }
        }
        if let (Some(strata), false) = (&spec.strata, spec.nest) {
            // R check.strata: a first-stage cluster may not appear in two strata.
            // Cluster keys are dense codes, so a vector indexes them.
            let size = cluster_keys[0]
                .iter()
                .copied()
                .max()
                .map_or(0, |m| m as usize + 1);
            let mut stratum_of: Vec<u32> = vec![u32::MAX; size];
            for k in 0..rows {
                let slot = &mut stratum_of[cluster_keys[0][k] as usize];
                if *slot == u32::MAX {
                    *slot = strata_key[k];
                }
                let h = *slot;
                if h != strata_key[k] {
                    return Err(Error::NotNested {
                        ids: spec.ids.first().cloned().unwrap_or_default(),
                        strata: strata.clone(),
                    });
                }
            }
        }
        let mut stage_strata: Vec<Vec<u32>> = vec![strata_key.clone()];
        for s in 1..cluster_keys.len() {
            stage_strata.push(interact(&strata_key, &cluster_keys[s - 1]));
        }

        // Dense codes and the stratum/cluster tree.
        let mut stages = Vec::with_capacity(cluster_keys.len());
        let mut previous_cluster: Option<Vec<u32>> = None;
        for s in 0..cluster_keys.len() {
            let cluster = dense(&cluster_keys[s]);
            let stratum = dense(&stage_strata[s]);
            let n_clusters = cluster.iter().copied().max().map_or(0, |m| m as usize + 1);
            let n_strata = stratum.iter().copied().max().map_or(0, |m| m as usize + 1);
            let mut stratum_of_cluster = vec![u32::MAX; n_clusters];
            let mut parent_of_stratum = vec![0u32; n_strata];
            let mut first_row_of_stratum = vec![usize::MAX; n_strata];
            for k in 0..rows {
                let c = cluster[k] as usize;
                stratum_of_cluster[c] = stratum[k];
                let h = stratum[k] as usize;
                if first_row_of_stratum[h] == usize::MAX {
                    first_row_of_stratum[h] = k;
                    if let Some(prev) = &previous_cluster {
                        parent_of_stratum[h] = prev[k];
                    }
                }
            }
            let mut clusters_of_stratum = vec![Vec::new(); n_strata];
            for (c, &h) in stratum_of_cluster.iter().enumerate() {
                clusters_of_stratum[h as usize].push(c as u32);
            }
            let stratum_label = first_row_of_stratum
                .iter()
                .map(|&k| match (&spec.strata, s) {
                    (Some(name), 0) => table.column(name).map(|c| c.label(k)).unwrap_or_default(),
                    (_, 0) => "1".to_string(),
                    _ => format!(
                        "cluster {} of stage {}",
                        previous_cluster.as_ref().map_or(0, |p| p[k]),
                        s
                    ),
                })
                .collect();
            previous_cluster = Some(cluster.clone());
            stages.push(Stage {
                cluster,
                stratum_of_cluster,
                clusters_of_stratum,
                parent_of_stratum,
                popsize: None,
                stratum_label,
                pi: None,
            });
        }

        if spec.variance == Some(PpsVariance::YatesGrundy) && spec.pps != Some(Pps::Overton) {
            return Err(Error::Spec(
                "variance \"YG\" needs pps \"overton\" (as R, only HT otherwise)".into(),
            ));
        }
        if !spec.probs.is_empty() && spec.weights.is_some() {
            return Err(Error::Spec(
                "give either `weights` or `probs`, not both (R: \"Can't specify both sampling weights and probabilities\")".into(),
            ));
        }
        if !spec.probs.is_empty() && spec.probs.len() != spec.ids.len().max(1) {
            return Err(Error::Spec(format!(
                "{} probs columns for {} stages; give one per stage",
                spec.probs.len(),
                spec.ids.len().max(1)
            )));
        }
        let probs: Vec<&[f64]> = spec
            .probs
            .iter()
            .map(|name| table.numeric(name))
            .collect::<Result<_, _>>()?;
        for (name, col) in spec.probs.iter().zip(&probs) {
            if let Some(row) = col.iter().position(|v| !(*v > 0.0 && *v <= 1.0)) {
                return Err(Error::Spec(format!(
                    "probs `{name}` at data row {} is {}; inclusion probabilities must be in (0, 1]",
                    row + 1,
                    col[row]
                )));
            }
        }
        let overton = match spec.pps {
            Some(Pps::Overton) => {
                if probs.len() != 1 || stages.len() != 1 {
                    return Err(Error::Spec(
                        "pps \"overton\" needs one stage with its `probs` column (R: multistage PPS is not supported with this method)".into(),
                    ));
                }
                if !spec.fpc.is_empty() {
                    return Err(Error::Spec(
                        "pps \"overton\" takes the inclusion probabilities from `probs`; leave `fpc` out".into(),
                    ));
                }
                let pi = per_cluster(&stages[0], probs[0], &spec.probs[0])?;
                Some(Overton {
                    pi,
                    variance: spec.variance.unwrap_or(PpsVariance::HorvitzThompson),
                })
            }
            _ => None,
        };
        if spec.pps == Some(Pps::Brewer) {
            // Brewer: fpc holds each PSU's inclusion probability (R: "fpc must be specified as
            // sampling fraction for PPS sampling"), constant within the cluster only.
            if spec.fpc.is_empty() {
                return Err(Error::Fpc(
                    "pps \"brewer\" needs `fpc`: the inclusion probability of each PSU (per stage)"
                        .into(),
                ));
            }
            for (s, name) in spec.fpc.iter().enumerate() {
                let col = table.numeric(name)?;
                if let Some(row) = col.iter().position(|v| !(*v > 0.0 && *v <= 1.0)) {
                    return Err(Error::Fpc(format!(
                        "pps \"brewer\": `{name}` at data row {} is {}; give inclusion probabilities in (0, 1]",
                        row + 1,
                        col[row]
                    )));
                }
                let pi = per_cluster(&stages[s], col, name)?;
                stages[s].pi = Some(pi);
            }
        }
        // Finite population corrections: population sizes or fractions, constant in strata.
        if !spec.fpc.is_empty() && spec.pps != Some(Pps::Brewer) {
            let columns: Vec<&[f64]> = spec
                .fpc
                .iter()
                .map(|name| table.numeric(name))
                .collect::<Result<_, _>>()?;
            for (name, col) in spec.fpc.iter().zip(&columns) {
                if let Some(row) = col.iter().position(|v| v.is_nan()) {
                    return Err(Error::MissingDesignValue {
                        column: name.clone(),
                        row: row + 1,
                    });
                }
            }
            let is_popsize = columns.iter().any(|c| c.iter().any(|&v| v > 1.0));
            let all_at_least_one = columns.iter().all(|c| c.iter().all(|&v| v >= 1.0));
            if is_popsize != all_at_least_one {
                return Err(Error::Fpc(
                    "all fpc values must be ≥ 1 (population sizes) or all ≤ 1 (sampling fractions)"
                        .into(),
                ));
            }
            for (s, (stage, col)) in stages.iter_mut().zip(&columns).enumerate() {
                let n_strata = stage.clusters_of_stratum.len();
                let mut popsize = vec![f64::NAN; n_strata];
                for k in 0..rows {
                    let h = stage.stratum_of_cluster[stage.cluster[k] as usize] as usize;
                    let n = stage.clusters_of_stratum[h].len() as f64;
                    let value = if is_popsize { col[k] } else { n / col[k] };
                    if popsize[h].is_nan() {
                        popsize[h] = value;
                    } else if popsize[h] != value {
                        return Err(Error::Fpc(format!(
                            "`{}` varies within stratum {} at stage {}",
                            spec.fpc[s],
                            stage.stratum_label[h],
                            s + 1
                        )));
                    }
                    if value < n {
                        return Err(Error::Fpc(format!(
                            "`{}` implies more than 100% sampling in stratum {} at stage {} (N = {value}, n = {n})",
                            spec.fpc[s],
                            stage.stratum_label[h],
                            s + 1
                        )));
                    }
                }
                stage.popsize = Some(popsize);
            }
        }

        let weights: Vec<f64> = match &spec.weights {
            Some(name) => {
                let w = table.numeric(name)?;
                if let Some(row) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
                    return Err(Error::Spec(format!(
                        "weight `{name}` at data row {} is {}; weights must be finite and non-negative",
                        row + 1,
                        w[row]
                    )));
                }
                w.to_vec()
            }
            None if !probs.is_empty() => (0..rows)
                .map(|k| 1.0 / probs.iter().map(|p| p[k]).product::<f64>())
                .collect(),
            None if spec.pps == Some(Pps::Brewer) => (0..rows)
                .map(|k| {
                    stages.iter().fold(1.0, |acc, stage| {
                        let pi = stage
                            .pi
                            .as_ref()
                            .map_or(1.0, |p| p[stage.cluster[k] as usize]);
                        acc / pi
                    })
                })
                .collect(),
            None if !spec.fpc.is_empty() => (0..rows)
                .map(|k| {
                    stages.iter().fold(1.0, |acc, stage| {
                        let h = stage.stratum_of_cluster[stage.cluster[k] as usize] as usize;
                        let popsize = stage.popsize.as_ref().map_or(f64::NAN, |p| p[h]);
                        acc * popsize / stage.n_psu(h) as f64
                    })
                })
                .collect(),
            None => vec![1.0; rows],
        };
        if spec.weights.is_none() && weights.iter().any(|w| !w.is_finite()) {
            return Err(Error::Fpc(
                "weights cannot be derived from an infinite population size".into(),
            ));
        }

        let mut design = Design {
            rows,
            weights,
            multistage: !spec.fpc.is_empty() && stages.len() > 1,
            stages,
            lonely: spec.lonely_psu,
            has_strata: spec.strata.is_some(),
            calibration: None,
            replicates: None,
            overton,
            df_cache: Default::default(),
        };
        if let Some(replicates) = &spec.replicates {
            if spec.pps.is_some() && replicates.columns.is_none() {
                return Err(Error::Replicates(
                    "generating replicates from a PPS design is not supported; give replicate columns".into(),
                ));
            }
            design.replicates = Some(replicate::build(table, &design, spec, replicates)?);
        }
        if let Some(calibration) = &spec.calibration {
            let step = calibrated::build(table, &design.weights, calibration)?;
            if let Some(reps) = &mut design.replicates {
                // As R `calibrate`/`postStratify`/`rake` on a replicate design: every
                // replicate's weights are calibrated to the same population figures, starting
                // from the replicate weights themselves. The variance then comes from the
                // spread of the calibrated replicates alone (no residuals needed).
                let mut columns = Vec::with_capacity(reps.len());
                for r in 0..reps.len() {
                    let start = reps.weight_column(r, &design.weights);
                    let replicate_step =
                        calibrated::build(table, &start, calibration).map_err(|e| {
                            Error::Replicates(format!("calibrating replicate {}: {e}", r + 1))
                        })?;
                    columns.push(replicate_step.final_weights());
                }
                reps.set_combined_columns(columns);
            }
            design.weights = step.final_weights();
            design.calibration = Some(step);
        }
        Ok(design)
    }

    /// Number of rows of the data.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The analysis weights (calibrated if the design has a calibration step).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Whether variances come from replicate weights.
    pub fn is_replicate(&self) -> bool {
        self.replicates.is_some()
    }

    /// Number of replicates, for a replicate design.
    pub fn replicate_count(&self) -> Option<usize> {
        self.replicates.as_ref().map(ReplicateWeights::len)
    }

    /// Whether a calibration step is part of the design.
    pub fn is_calibrated(&self) -> bool {
        self.calibration.is_some()
    }

    /// Design degrees of freedom for the rows in `in_domain` (R `degf`): first-stage PSUs
    /// minus strata among rows with non-zero weight, or for replicate designs the rank of the
    /// replicate-weight matrix minus one.
    pub fn degrees_of_freedom(&self, in_domain: &[bool]) -> f64 {
        let rows: Vec<u32> = (0..self.rows as u32)
            .filter(|&k| in_domain[k as usize])
            .collect();
        self.degrees_of_freedom_rows(&rows)
    }

    /// [`Design::degrees_of_freedom`] of a [`Domain`].
    pub fn degrees_of_freedom_of(&self, domain: &Domain) -> f64 {
        self.degrees_of_freedom_rows(domain.rows())
    }

    fn degrees_of_freedom_rows(&self, rows: &[u32]) -> f64 {
        if let Some(reps) = &self.replicates {
            let key = rows_hash(rows);
            if let Ok(cache) = self.df_cache.lock()
                && let Some(&df) = cache.get(&key)
            {
                return df;
            }
            let df = reps.degrees_of_freedom(&self.weights, rows) as f64;
            // A poisoned lock only loses the memo, never the answer.
            if let Ok(mut cache) = self.df_cache.lock() {
                cache.insert(key, df);
            }
            return df;
        }
        let stage = &self.stages[0];
        let mut psu_seen = vec![false; stage.stratum_of_cluster.len()];
        let mut stratum_seen = vec![false; stage.clusters_of_stratum.len()];
        let (mut psus, mut strata) = (0usize, 0usize);
        for &k in rows {
            let k = k as usize;
            if self.weights[k] == 0.0 {
                continue;
            }
            let c = stage.cluster[k] as usize;
            if !psu_seen[c] {
                psu_seen[c] = true;
                psus += 1;
                let h = stage.stratum_of_cluster[c] as usize;
                if !stratum_seen[h] {
                    stratum_seen[h] = true;
                    strata += 1;
                }
            }
        }
        psus as f64 - strata as f64
    }
}

/// The value of `column` for each cluster of `stage`; it must be constant within a cluster.
fn per_cluster(stage: &Stage, column: &[f64], name: &str) -> Result<Vec<f64>, Error> {
    let mut out = vec![f64::NAN; stage.stratum_of_cluster.len()];
    for (k, &v) in column.iter().enumerate() {
        let slot = &mut out[stage.cluster[k] as usize];
        if slot.is_nan() {
            *slot = v;
        } else if *slot != v {
            return Err(Error::Spec(format!(
                "`{name}` varies within a cluster (data row {}): an inclusion probability belongs to the cluster",
                k + 1
            )));
        }
    }
    Ok(out)
}

/// A 64-bit FNV-1a hash of a row list.
fn rows_hash(rows: &[u32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &k in rows {
        h ^= u64::from(k);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ rows.len() as u64
}

/// Codes of a key column (ids, strata, by): equal cells get equal codes; missing is an error.
pub(crate) fn key_codes(table: &Table, name: &str) -> Result<Vec<u32>, Error> {
    let column = table.column(name)?;
    match column {
        Column::Factor { codes, .. } => {
            if let Some(row) = codes.iter().position(|&c| c == Column::MISSING) {
                return Err(Error::MissingDesignValue {
                    column: name.to_string(),
                    row: row + 1,
                });
            }
            Ok(codes.clone())
        }
        Column::Numeric(values) => {
            let mut index: FastMap<u64, u32> = FastMap::default();
            let mut codes = Vec::with_capacity(values.len());
            for (row, &v) in values.iter().enumerate() {
                if v.is_nan() {
                    return Err(Error::MissingDesignValue {
                        column: name.to_string(),
                        row: row + 1,
                    });
                }
                // +0.0 and -0.0 are the same key.
                let bits = if v == 0.0 { 0 } else { v.to_bits() };
                let next = index.len() as u32;
                codes.push(*index.entry(bits).or_insert(next));
            }
            Ok(codes)
        }
    }
}

/// The interaction of two key vectors (codes of the pairs, in order of first appearance).
pub(crate) fn interact(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut index: FastMap<u64, u32> = FastMap::default();
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let next = index.len() as u32;
            *index
                .entry((u64::from(x) << 32) | u64::from(y))
                .or_insert(next)
        })
        .collect()
}

/// Renumbers codes densely in order of first appearance.
fn dense(keys: &[u32]) -> Vec<u32> {
    let size = keys.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut map = vec![u32::MAX; size];
    let mut next = 0u32;
    keys.iter()
        .map(|&k| {
            let slot = &mut map[k as usize];
            if *slot == u32::MAX {
                *slot = next;
                next += 1;
            }
            *slot
        })
        .collect()
}
