//! The population link table of one GWSM step: frame units j → target units k grouped in
//! clusters i, with link counts or importances measured over the *whole* frame population
//! (METHODOLOGY §2.1, §2.4 (d)).

use std::collections::HashMap;

use crate::weighting::error::Error;

/// One link row as read from the link file: frame unit `frame_unit` is linked to target
/// unit `target_unit`, optionally with an importance B ≥ 0 (e.g. a purchase value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkInput {
    pub frame_unit: usize,
    pub target_unit: usize,
    pub importance: Option<f64>,
}

/// What a link counts for in the denominators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkScale {
    /// Every link counts 1 (classic GWSM: θ = l, L_{j,i}/L_i).
    Count,
    /// Every link counts its importance B (weighted links, Lavallée §4.5: B_{j,i}/B_i).
    /// Every row must carry a finite B ≥ 0.
    Importance,
}

/// What to do with a second row for the same (frame unit, target unit) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateLinks {
    /// Refuse the table (the default of Lavallée's R implementation).
    Refuse,
    /// Keep the first row; a duplicate with a different importance is still refused.
    Dedupe,
}

/// A validated link table. Units and clusters are dense indices; `cluster_of[k]` is the
/// cluster of target unit k.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkTable {
    pub(crate) n_frame: usize,
    pub(crate) cluster_of: Vec<usize>,
    pub(crate) n_clusters: usize,
    /// (frame unit, target unit, value) with value = 1 or B.
    pub(crate) links: Vec<(usize, usize, f64)>,
    pub(crate) scale: LinkScale,
    /// Population link total of each target unit (L_k or B_k), counted from the rows or
    /// supplied by the caller.
    pub(crate) unit_totals: Vec<f64>,
    pub(crate) totals_supplied: bool,
    /// Number of duplicate rows dropped under [`DuplicateLinks::Dedupe`].
    pub duplicates_dropped: usize,
}

impl LinkTable {
    /// Validates a link table over `n_frame` frame units and the target units described by
    /// `cluster_of` (one cluster index per target unit; a singleton population passes
    /// `0..n`). The rows must list every link of the population, not only those of the
    /// sample: L_i is a population count.
    pub fn new(
        n_frame: usize,
        cluster_of: Vec<usize>,
        rows: &[LinkInput],
        scale: LinkScale,
        duplicates: DuplicateLinks,
    ) -> Result<LinkTable, Error> {
        let n_target = cluster_of.len();
        // Cluster indices are dense: at most one cluster per target unit.
        if let Some((unit, &cluster)) = cluster_of.iter().enumerate().find(|&(_, &c)| c >= n_target)
        {
            return Err(Error::InvalidParameter {
                what: "cluster index",
                reason: format!(
                    "target unit {unit}: cluster {cluster} is not below the number of target units {n_target}"
                ),
            });
        }
        let n_clusters = cluster_of.iter().map(|c| c + 1).max().unwrap_or(0);
        let mut first_row: HashMap<(usize, usize), (usize, f64)> =
            HashMap::with_capacity(rows.len());
        let mut links = Vec::with_capacity(rows.len());
        let mut unit_totals = vec![0.0; n_target];
        let mut duplicates_dropped = 0;
        for (row, link) in rows.iter().enumerate() {
            if link.frame_unit >= n_frame {
                return Err(Error::LinkFrameUnitOutOfRange {
                    row,
                    frame_unit: link.frame_unit,
                    n_frame,
                });
            }
            if link.target_unit >= n_target {
                return Err(Error::LinkTargetOutOfRange {
                    row,
                    target_unit: link.target_unit,
                    n_target,
                });
            }
            let value = match scale {
                LinkScale::Count => 1.0,
                LinkScale::Importance => match link.importance {
                    None => return Err(Error::LinkImportanceMissing { row }),
                    Some(b) if !b.is_finite() || b < 0.0 => {
                        return Err(Error::LinkImportanceInvalid { row, value: b });
                    }
                    Some(b) => b,
                },
            };
            let key = (link.frame_unit, link.target_unit);
            if let Some(&(first, first_value)) = first_row.get(&key) {
                // A repeated importance that disagrees cannot be deduplicated safely.
                if duplicates == DuplicateLinks::Refuse || first_value != value {
                    return Err(Error::DuplicateLink {
                        row,
                        first_row: first,
                        frame_unit: link.frame_unit,
                        target_unit: link.target_unit,
                    });
                }
                duplicates_dropped += 1;
                continue;
            }
            first_row.insert(key, (row, value));
            unit_totals[link.target_unit] += value;
            links.push((link.frame_unit, link.target_unit, value));
        }
        Ok(LinkTable {
            n_frame,
            cluster_of,
            n_clusters,
            links,
            scale,
            unit_totals,
            totals_supplied: false,
            duplicates_dropped,
        })
    }

    /// Replaces the counted population totals (L_k or B_k per target unit) with totals
    /// supplied from elsewhere, e.g. a link count obtained by record linkage to the whole
    /// frame when the link rows are known to be incomplete.
    pub fn with_supplied_totals(mut self, totals: &[f64]) -> Result<LinkTable, Error> {
        if totals.len() != self.cluster_of.len() {
            return Err(Error::LengthMismatch {
                what: "supplied link totals",
                expected: self.cluster_of.len(),
                found: totals.len(),
            });
        }
        for (target_unit, &value) in totals.iter().enumerate() {
            if !value.is_finite() || value < 0.0 {
                return Err(Error::SuppliedTotalInvalid { target_unit, value });
            }
        }
        self.unit_totals = totals.to_vec();
        self.totals_supplied = true;
        Ok(self)
    }

    /// Number of frame units.
    pub fn n_frame(&self) -> usize {
        self.n_frame
    }

    /// Number of target units.
    pub fn n_target(&self) -> usize {
        self.cluster_of.len()
    }

    /// Number of clusters.
    pub fn n_clusters(&self) -> usize {
        self.n_clusters
    }

    /// The cluster of each target unit.
    pub fn cluster_of(&self) -> &[usize] {
        &self.cluster_of
    }

    /// Population link total of each target unit (L_k or B_k).
    pub fn unit_totals(&self) -> &[f64] {
        &self.unit_totals
    }

    /// Population link total of each cluster (L_i = Σ_k L_k, or B_i).
    pub fn cluster_totals(&self) -> Vec<f64> {
        let mut totals = vec![0.0; self.n_clusters];
        for (unit, &cluster) in self.cluster_of.iter().enumerate() {
            totals[cluster] += self.unit_totals[unit];
        }
        totals
    }

    /// The scale the links count on.
    pub fn scale(&self) -> LinkScale {
        self.scale
    }
}
