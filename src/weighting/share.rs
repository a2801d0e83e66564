//! The GWSM share operator (METHODOLOGY §2.2–2.3, §2.6, §2.8.2): frame weights d_j → target
//! weights w_k = Σ_{j∈s} d_j θ̃_{j,k}, where θ̃ is the link matrix standardized over the
//! *population* so each column sums to 1 (Deville–Lavallée Property 3.1).
//!
//! The operator is compiled once from a [`LinkTable`] and a [`ShareMode`], then applied to
//! the full-sample weights and to every replicate's weights (the "replicate route" of §2.5).

use std::collections::{HashMap, HashSet};

use crate::weighting::error::Error;
use crate::weighting::links::{LinkScale, LinkTable};
use crate::weighting::probability::Probability;

/// How link sharing treats the clusters of the target population.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareMode {
    /// Classic clustered GWSM: w_i = Σ_{j∈s} d_j L_{j,i}/L_i (or B_{j,i}/B_i), given to every
    /// unit of the cluster, including units without a link of their own.
    Clustered,
    /// Every target unit is its own cluster (Sirken's multiplicity estimator): a unit with
    /// no link of its own can never be reached.
    Singleton,
    /// Cluster elimination (Lavallée §5.3): a frame unit linked to any member of a cluster
    /// counts as linked to all of them, so θ̃_{j,k} = 1/(number of distinct frame units
    /// linked to k's cluster). Unbiased, and a different weight from `Clustered`.
    ClusterElimination,
}

/// The compiled share operator. A *group* is the set of target units that always receive
/// the same weight: a cluster (clustered, elimination) or a single unit (singleton).
#[derive(Clone, Debug, PartialEq)]
pub struct ShareOperator {
    mode: ShareMode,
    n_frame: usize,
    group_of_unit: Vec<usize>,
    n_groups: usize,
    /// Per frame unit: (group, θ̃_{j,g}) for each group it links to, in group order.
    coefficients: Vec<Vec<(usize, f64)>>,
    /// Groups that have links but a zero population total (B_i = 0): reaching one is an error.
    degenerate: HashSet<usize>,
}

/// Link subsampling (§2.8.2): the links (frame unit j, group g) that were retained, each with
/// its retention probability p_{j,g} recorded at selection time. Links of a sampled frame
/// unit that are absent from the map were not retained (u = 0).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkRetention {
    retained: HashMap<(usize, usize), Probability>,
}

impl LinkRetention {
    /// An empty retention record (no link retained yet).
    pub fn new() -> LinkRetention {
        LinkRetention::default()
    }

    /// Records that link (frame unit, group) was retained with probability `p`.
    pub fn retain(&mut self, frame_unit: usize, group: usize, p: Probability) {
        self.retained.insert((frame_unit, group), p);
    }

    /// The factor u/p of a link: 1/p if retained, 0 otherwise.
    fn factor(&self, frame_unit: usize, group: usize) -> f64 {
        match self.retained.get(&(frame_unit, group)) {
            Some(p) => 1.0 / p.get(),
            None => 0.0,
        }
    }
}

/// One sampled frame unit and the weight it carries into sharing (its design weight, or a
/// replicate weight, possibly 0 for a deleted unit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameWeight {
    pub frame_unit: usize,
    pub weight: f64,
}

/// The result of sharing: one weight per target unit and whether it was reached.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedWeights {
    /// w_k for every target unit (0 where not reached).
    pub unit_weight: Vec<f64>,
    /// Whether the sample reached the unit (through a retained link).
    pub reached: Vec<bool>,
}

impl ShareOperator {
    /// Compiles the operator. Refuses cluster elimination together with weighted links or
    /// supplied totals (no published convention says what an extended link weighs).
    pub fn compile(table: &LinkTable, mode: ShareMode) -> Result<ShareOperator, Error> {
        let (group_of_unit, n_groups): (Vec<usize>, usize) = match mode {
            ShareMode::Clustered | ShareMode::ClusterElimination => {
                (table.cluster_of.clone(), table.n_clusters)
            }
            ShareMode::Singleton => ((0..table.n_target()).collect(), table.n_target()),
        };
        // Numerators B_{j,g} (sorted by frame unit, then group, and merged) and
        // denominators B_g. Sorting a vector beats a tree map by an order of magnitude on
        // millions of links.
        let mut pairs: Vec<(usize, usize, f64)> = table
            .links
            .iter()
            .map(|&(frame_unit, unit, value)| (frame_unit, group_of_unit[unit], value))
            .collect();
        pairs.sort_unstable_by_key(|&(frame_unit, group, _)| (frame_unit, group));
        let elimination = mode == ShareMode::ClusterElimination;
        if elimination {
            if table.scale == LinkScale::Importance {
                return Err(Error::EliminationUnsupported {
                    what: "weighted links",
                });
            }
            if table.totals_supplied {
                return Err(Error::EliminationUnsupported {
                    what: "supplied link totals",
                });
            }
        }
        let mut numerators: Vec<(usize, usize, f64)> = Vec::with_capacity(pairs.len());
        for (frame_unit, group, value) in pairs {
            match numerators.last_mut() {
                Some(last) if last.0 == frame_unit && last.1 == group => {
                    // Cluster elimination counts a frame unit once per cluster.
                    if !elimination {
                        last.2 += value;
                    }
                }
                _ => numerators.push((frame_unit, group, if elimination { 1.0 } else { value })),
            }
        }
        let mut denominators = vec![0.0; n_groups];
        if elimination {
            for &(_, group, _) in &numerators {
                denominators[group] += 1.0;
            }
        } else {
            for (unit, &total) in table.unit_totals.iter().enumerate() {
                denominators[group_of_unit[unit]] += total;
            }
        }
        let mut coefficients: Vec<Vec<(usize, f64)>> = vec![Vec::new(); table.n_frame];
        let mut degenerate = HashSet::new();
        for &(frame_unit, group, numerator) in &numerators {
            let denominator = denominators[group];
            if denominator > 0.0 {
                coefficients[frame_unit].push((group, numerator / denominator));
            } else {
                degenerate.insert(group);
                coefficients[frame_unit].push((group, f64::NAN));
            }
        }
        Ok(ShareOperator {
            mode,
            n_frame: table.n_frame,
            group_of_unit,
            n_groups,
            coefficients,
            degenerate,
        })
    }

    /// The sharing mode.
    pub fn mode(&self) -> ShareMode {
        self.mode
    }

    /// The group (cluster or unit) of each target unit.
    pub fn group_of_unit(&self) -> &[usize] {
        &self.group_of_unit
    }

    /// Number of groups.
    pub fn n_groups(&self) -> usize {
        self.n_groups
    }

    /// Number of target units.
    pub fn n_target(&self) -> usize {
        self.group_of_unit.len()
    }

    /// Number of frame units.
    pub fn n_frame(&self) -> usize {
        self.n_frame
    }

    /// θ̃_{j,g} for frame unit j: (group, coefficient) pairs.
    pub fn coefficients(&self, frame_unit: usize) -> &[(usize, f64)] {
        self.coefficients
            .get(frame_unit)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    fn check_sample(&self, sample: &[FrameWeight]) -> Result<(), Error> {
        let mut seen = HashSet::with_capacity(sample.len());
        for entry in sample {
            if entry.frame_unit >= self.n_frame {
                return Err(Error::SampleUnitOutOfRange {
                    frame_unit: entry.frame_unit,
                    n_frame: self.n_frame,
                });
            }
            if !seen.insert(entry.frame_unit) {
                return Err(Error::DuplicateSampleUnit {
                    frame_unit: entry.frame_unit,
                });
            }
            if !entry.weight.is_finite() || entry.weight < 0.0 {
                return Err(Error::WeightInvalid {
                    place: format!("frame unit {}", entry.frame_unit),
                    value: entry.weight,
                });
            }
        }
        Ok(())
    }

    /// Group-level weights w_g = Σ_{j∈s} d_j (u_{j,g}/p_{j,g}) θ̃_{j,g} and reached flags.
    fn group_weights(
        &self,
        sample: &[FrameWeight],
        retention: Option<&LinkRetention>,
    ) -> Result<(Vec<f64>, Vec<bool>), Error> {
        self.check_sample(sample)?;
        let mut weights = vec![0.0; self.n_groups];
        let mut reached = vec![false; self.n_groups];
        for entry in sample {
            for &(group, coefficient) in &self.coefficients[entry.frame_unit] {
                let factor = match retention {
                    Some(r) => r.factor(entry.frame_unit, group),
                    None => 1.0,
                };
                if factor == 0.0 {
                    continue;
                }
                if self.degenerate.contains(&group) {
                    return Err(Error::ZeroClusterTotal { cluster: group });
                }
                reached[group] = true;
                weights[group] += entry.weight * factor * coefficient;
            }
        }
        Ok((weights, reached))
    }
}

/// Applies the share operator: the target-unit weights reached from `sample` (§2.2 steps
/// 1–4), with optional link subsampling. Every unit of a group gets the group's weight.
pub fn share(
    operator: &ShareOperator,
    sample: &[FrameWeight],
    retention: Option<&LinkRetention>,
) -> Result<SharedWeights, Error> {
    let (weights, reached) = operator.group_weights(sample, retention)?;
    Ok(SharedWeights {
        unit_weight: operator.group_of_unit.iter().map(|&g| weights[g]).collect(),
        reached: operator.group_of_unit.iter().map(|&g| reached[g]).collect(),
    })
}

/// The derived frame variable of §2.5: z_j = Σ_g (u/p) θ̃_{j,g} Σ_{k∈g} y_k for every sampled
/// frame unit, in the order of `frame_units`, **including z_j = 0 for a sampled unit without
/// links** (dropping those rows understates the variance). `y` holds, per target unit, its
/// value already multiplied by any later-stage expansion factor (subsampling, within-unit),
/// which gives the ultimate-cluster form ẑ_j of §2.8.1; `None` is allowed only for units
/// that no sampled frame unit reaches. Then Ŷ = Σ_{j∈s} d_j z_j, and the variance is the
/// frame design's variance of a total applied to z.
pub fn derived_z(
    operator: &ShareOperator,
    frame_units: &[usize],
    retention: Option<&LinkRetention>,
    y: &[Option<f64>],
) -> Result<Vec<f64>, Error> {
    if y.len() != operator.n_target() {
        return Err(Error::LengthMismatch {
            what: "target values y",
            expected: operator.n_target(),
            found: y.len(),
        });
    }
    let sample: Vec<FrameWeight> = frame_units
        .iter()
        .map(|&frame_unit| FrameWeight {
            frame_unit,
            weight: 1.0,
        })
        .collect();
    operator.check_sample(&sample)?;
    // Group totals, with the first missing member remembered so the error can name it.
    let mut totals: Vec<Result<f64, usize>> = vec![Ok(0.0); operator.n_groups];
    for (unit, value) in y.iter().enumerate() {
        let group = operator.group_of_unit[unit];
        totals[group] = match (totals[group], value) {
            (Ok(sum), Some(v)) => Ok(sum + v),
            (Ok(_), None) => Err(unit),
            (Err(first), _) => Err(first),
        };
    }
    let mut z = Vec::with_capacity(frame_units.len());
    for &frame_unit in frame_units {
        let mut value = 0.0;
        for &(group, coefficient) in &operator.coefficients[frame_unit] {
            let factor = match retention {
                Some(r) => r.factor(frame_unit, group),
                None => 1.0,
            };
            if factor == 0.0 {
                continue;
            }
            if operator.degenerate.contains(&group) {
                return Err(Error::ZeroClusterTotal { cluster: group });
            }
            match totals[group] {
                Ok(total) => value += factor * coefficient * total,
                Err(target_unit) => return Err(Error::MissingTargetValue { target_unit }),
            }
        }
        z.push(value);
    }
    Ok(z)
}
