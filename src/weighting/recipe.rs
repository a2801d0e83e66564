//! The weighting recipe: the whole chain as data, so it can be re-run with replicate frame
//! weights (METHODOLOGY §2.5 "Replicate route", §3.10).
//!
//! Order of the steps, as in DW-SCS:
//! 1. tier 0: base weights d_j = 1/π_j of the frame sample, then frame-unit non-response
//!    classes (adjusting d **before** sharing, §2.9);
//! 2. each later tier t: the share operator from the tier-(t−1) population to the tier-t
//!    population applied to the weighted respondents of tier t−1 (chained GWSM, §2.8.4), link
//!    subsampling u/p, reached-unit subsampling 1/π_{i|s}, then non-response classes among
//!    the selected units of the tier (§2.9);
//! 3. workers: unit weight × M/m × m/r (§2.8.3);
//! 4. calibration of the worker weights (optional);
//! 5. trimming with redistribution (optional), then re-calibration with the same
//!    calibration step, once (never a trim/calibrate loop).
//!
//! A replicate run replaces the tier-0 design weights by d^{(r)} and re-applies every later
//! step: sharing, non-response (with the classes fixed by the full-sample run), worker
//! factors, calibration and trimming (with the caps fixed by the full-sample run).

use crate::weighting::calibration::{self, AuxMatrix, CalibrationConfig, Margin};
use crate::weighting::error::Error;
use crate::weighting::factors::WeightColumns;
use crate::weighting::kish::kish_deff;
use crate::weighting::nonresponse::{
    ClassAdjustment, CollapseRule, ResponseStatus, nonresponse_adjust, nonresponse_reapply,
};
use crate::weighting::probability::DesignWeight;
use crate::weighting::share::{FrameWeight, LinkRetention, ShareOperator, share};
use crate::weighting::subsample::{SubsampledUnit, subsample_factors};
use crate::weighting::trim::{ClassTrim, TrimCap, trim};
use crate::weighting::workers::{WorkerTake, worker_factors};

/// The complete chain.
#[derive(Clone, Debug)]
pub struct Recipe {
    pub frame: FrameStep,
    /// Tiers 1, 2, …: `tiers[t-1]` maps the tier-(t−1) population to the tier-t population.
    pub tiers: Vec<TierStep>,
    /// Responding workers.
    pub workers: Vec<WorkerRow>,
    pub calibration: Option<CalibrationStep>,
    pub trimming: Option<TrimStep>,
}

/// The tier-0 (frame) sample.
#[derive(Clone, Debug)]
pub struct FrameStep {
    /// Population size of tier 0 (the frame U^A).
    pub n_population: usize,
    /// Sampled tier-0 units (indices into the tier-0 population).
    pub units: Vec<usize>,
    /// Their design weights 1/π, parallel to `units`.
    pub base: Vec<DesignWeight>,
    /// Response classes of the sampled units (parallel to `units`); `None` = all responded.
    pub nonresponse: Option<NonResponseStep>,
}

/// Non-response classes of the selected units of one tier.
#[derive(Clone, Debug)]
pub struct NonResponseStep {
    /// Selected units (population indices of the tier). At tier 0, in the order of
    /// `FrameStep::units`; at later tiers, every selected unit must be listed.
    pub units: Vec<usize>,
    /// Class label of each unit (classes are collapsed in label order).
    pub labels: Vec<usize>,
    pub status: Vec<ResponseStatus>,
    pub rule: CollapseRule,
}

/// One reached tier.
#[derive(Clone, Debug)]
pub struct TierStep {
    /// Links from the whole previous-tier population to this tier's population.
    pub operator: ShareOperator,
    /// Link subsampling record, if links were subsampled.
    pub retention: Option<LinkRetention>,
    /// Reached-unit subsample with π_{i|s}; `None` = every reached unit is selected.
    pub subsample: Option<Vec<SubsampledUnit>>,
    pub nonresponse: Option<NonResponseStep>,
}

/// One responding worker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerRow {
    /// Tier of the worker's unit (0 = frame sample).
    pub tier: usize,
    /// The unit (population index within its tier).
    pub unit: usize,
    /// The take of the worker's (unit, sex) cell.
    pub take: WorkerTake,
}

/// Calibration of the worker weights, as data (the auxiliaries are per worker row).
#[derive(Clone, Debug)]
pub enum CalibrationStep {
    /// `calibration::calibrate` with a row-major auxiliary matrix.
    Calibrate {
        aux: Vec<f64>,
        columns: usize,
        totals: Vec<f64>,
        config: CalibrationConfig,
    },
    /// `calibration::poststratify`.
    Poststratify {
        cell_of_row: Vec<usize>,
        cell_totals: Vec<f64>,
    },
    /// `calibration::rake_ipf`: (cell of every row, cell totals) per margin.
    Rake {
        margins: Vec<(Vec<usize>, Vec<f64>)>,
        config: CalibrationConfig,
    },
}

/// Trimming of the worker weights within classes.
#[derive(Clone, Debug)]
pub struct TrimStep {
    pub classes: Vec<usize>,
    pub cap: TrimCap,
}

/// The full-sample run: every factor column, the unit weights per tier, and the reports.
#[derive(Clone, Debug)]
pub struct RecipeOutput {
    /// One row per worker (in `Recipe::workers` order).
    pub columns: WeightColumns,
    /// Final weights (product of the columns).
    pub weights: Vec<f64>,
    /// Unit weights (after non-response) per tier and population unit; 0 where not selected
    /// or not responding.
    pub unit_weights: Vec<Vec<f64>>,
    /// Non-response class reports per tier (None where the tier has no step).
    pub nonresponse: Vec<Option<Vec<ClassAdjustment>>>,
    pub trim: Option<Vec<ClassTrim>>,
    /// Kish deff_w of the weights entering trimming and of the final weights.
    pub deff_before_trim: Option<f64>,
    pub deff_final: Option<f64>,
    /// Workers whose final weight after re-calibration exceeds the trimming cap again
    /// (reported, not looped on).
    pub above_cap_after_recalibration: usize,
    fixed: Fixed,
}

/// What the full-sample run fixes for the replicates.
#[derive(Clone, Debug, Default)]
struct Fixed {
    /// Final class of each listed unit, per tier.
    nr_classes: Vec<Option<Vec<usize>>>,
    /// Cap of each trimming class, by class label.
    trim_caps: Vec<(usize, f64)>,
}

/// Runs the recipe on the full sample.
pub fn run_recipe(recipe: &Recipe) -> Result<RecipeOutput, Error> {
    let base: Vec<f64> = recipe.frame.base.iter().map(|d| d.get()).collect();
    run(recipe, &base, None, None)
}

/// Re-runs the recipe with replicate tier-0 weights d^{(r)} (parallel to
/// `recipe.frame.units`; 0 for a deleted unit) and returns the replicate worker weights.
pub fn run_replicate(
    recipe: &Recipe,
    full: &RecipeOutput,
    frame_weights: &[f64],
) -> Result<Vec<f64>, Error> {
    run(recipe, frame_weights, Some(&full.fixed), None).map(|out| out.weights)
}

/// Replicate factors of the later stages, for replicates that perturb more than the tier-0
/// weights (the multistage bootstrap of [`crate::weighting::bootstrap`]). A factor of 1
/// leaves its unit or worker as in the full sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LaterStageFactors {
    /// Per later tier t ≥ 1 (index t − 1), one factor per population unit of the tier,
    /// applied to the selected units' weights **before** the tier's non-response adjustment
    /// (so the adjustment is re-run on the perturbed weights). An empty vector means all 1.
    pub units: Vec<Vec<f64>>,
    /// One factor per worker row (in `Recipe::workers` order), applied to M/m; empty = all 1.
    pub workers: Vec<f64>,
}

/// Re-runs the recipe with replicate tier-0 weights and later-stage factors, and returns
/// the replicate worker weights. Sharing, subsampling, non-response (with the full-sample
/// classes), worker factors, calibration and trimming (full-sample caps) are all re-run.
pub fn run_replicate_with(
    recipe: &Recipe,
    full: &RecipeOutput,
    frame_weights: &[f64],
    later: &LaterStageFactors,
) -> Result<Vec<f64>, Error> {
    if later.units.len() > recipe.tiers.len() {
        return Err(Error::LengthMismatch {
            what: "later-stage unit factors (tiers)",
            expected: recipe.tiers.len(),
            found: later.units.len(),
        });
    }
    if !later.workers.is_empty() && later.workers.len() != recipe.workers.len() {
        return Err(Error::LengthMismatch {
            what: "worker replicate factors",
            expected: recipe.workers.len(),
            found: later.workers.len(),
        });
    }
    run(recipe, frame_weights, Some(&full.fixed), Some(later)).map(|out| out.weights)
}

impl RecipeOutput {
    /// The final non-response class of every unit listed in tier `tier`'s non-response step
    /// (parallel to its `units`), as fixed by this run; `None` when the tier has no step.
    pub fn nonresponse_classes(&self, tier: usize) -> Option<&[usize]> {
        self.fixed
            .nr_classes
            .get(tier)
            .and_then(|classes| classes.as_deref())
    }
}

/// Whether each selected unit of a tier responded: the units a non-response step lists as
/// respondents, or every selected unit when the tier has no step. Only respondents report
/// their suppliers, so only they reach units of the next tier.
fn respondents(step: Option<&NonResponseStep>, selected: &[bool]) -> Vec<bool> {
    match step {
        None => selected.to_vec(),
        Some(step) => {
            let mut out = vec![false; selected.len()];
            for (&unit, &status) in step.units.iter().zip(&step.status) {
                if let Some(slot) = out.get_mut(unit) {
                    *slot = status == ResponseStatus::Respondent && selected[unit];
                }
            }
            out
        }
    }
}

fn check_nr_units(step: &NonResponseStep) -> Result<(), Error> {
    if step.labels.len() != step.units.len() {
        return Err(Error::LengthMismatch {
            what: "non-response labels",
            expected: step.units.len(),
            found: step.labels.len(),
        });
    }
    if step.status.len() != step.units.len() {
        return Err(Error::LengthMismatch {
            what: "non-response statuses",
            expected: step.units.len(),
            found: step.status.len(),
        });
    }
    Ok(())
}

/// Applies a non-response step to `unit_weight` (indexed by population unit) in place.
fn apply_nonresponse(
    step: &NonResponseStep,
    unit_weight: &mut [f64],
    nr_factor: &mut [f64],
    fixed: Option<&[usize]>,
) -> Result<(Option<Vec<ClassAdjustment>>, Vec<usize>), Error> {
    check_nr_units(step)?;
    let mut listed = vec![false; unit_weight.len()];
    for &unit in &step.units {
        match listed.get_mut(unit) {
            Some(seen) => *seen = true,
            None => {
                return Err(Error::SampleUnitOutOfRange {
                    frame_unit: unit,
                    n_frame: unit_weight.len(),
                });
            }
        }
    }
    let weights: Vec<f64> = step.units.iter().map(|&u| unit_weight[u]).collect();
    let (factors, classes, unit_class) = match fixed {
        None => {
            let adjustment = nonresponse_adjust(&step.labels, &step.status, &weights, step.rule)?;
            (
                adjustment.factor,
                Some(adjustment.classes),
                adjustment.unit_class,
            )
        }
        Some(unit_class) => (
            nonresponse_reapply(unit_class, &step.status, &weights)?,
            None,
            unit_class.to_vec(),
        ),
    };
    for (idx, &unit) in step.units.iter().enumerate() {
        unit_weight[unit] *= factors[idx];
        nr_factor[unit] = factors[idx];
    }
    Ok((classes, unit_class))
}

fn calibrate_step(step: &CalibrationStep, weights: &[f64]) -> Result<Vec<f64>, Error> {
    let result = match step {
        CalibrationStep::Calibrate {
            aux,
            columns,
            totals,
            config,
        } => AuxMatrix::new(aux, weights.len(), *columns)
            .and_then(|matrix| calibration::calibrate(weights, &matrix, totals, config)),
        CalibrationStep::Poststratify {
            cell_of_row,
            cell_totals,
        } => calibration::poststratify(weights, cell_of_row, cell_totals),
        CalibrationStep::Rake { margins, config } => {
            let borrowed: Vec<Margin<'_>> = margins
                .iter()
                .map(|(category, totals)| Margin { category, totals })
                .collect();
            calibration::rake_ipf(weights, &borrowed, config)
        }
    };
    result
        .map(|calibrated| calibrated.g)
        .map_err(|e| Error::Calibration(e.to_string()))
}

fn run(
    recipe: &Recipe,
    frame_weights: &[f64],
    fixed: Option<&Fixed>,
    later: Option<&LaterStageFactors>,
) -> Result<RecipeOutput, Error> {
    let frame = &recipe.frame;
    if frame.base.len() != frame.units.len() {
        return Err(Error::LengthMismatch {
            what: "frame design weights",
            expected: frame.units.len(),
            found: frame.base.len(),
        });
    }
    if frame_weights.len() != frame.units.len() {
        return Err(Error::LengthMismatch {
            what: "frame (replicate) weights",
            expected: frame.units.len(),
            found: frame_weights.len(),
        });
    }
    let n_tiers = recipe.tiers.len() + 1;
    // Per tier and population unit: base, share, subsample, nr and the resulting weight.
    let mut unit_base: Vec<Vec<f64>> = Vec::with_capacity(n_tiers);
    let mut unit_share: Vec<Vec<f64>> = Vec::with_capacity(n_tiers);
    let mut unit_subsample: Vec<Vec<f64>> = Vec::with_capacity(n_tiers);
    let mut unit_nr: Vec<Vec<f64>> = Vec::with_capacity(n_tiers);
    let mut unit_weights: Vec<Vec<f64>> = Vec::with_capacity(n_tiers);
    let mut selected: Vec<Vec<bool>> = Vec::with_capacity(n_tiers);
    let mut nr_reports = Vec::with_capacity(n_tiers);
    let mut nr_classes = Vec::with_capacity(n_tiers);

    // Tier 0.
    let n0 = frame.n_population;
    let mut base0 = vec![0.0; n0];
    let mut selected0 = vec![false; n0];
    for (idx, &unit) in frame.units.iter().enumerate() {
        if unit >= n0 {
            return Err(Error::SampleUnitOutOfRange {
                frame_unit: unit,
                n_frame: n0,
            });
        }
        if selected0[unit] {
            return Err(Error::DuplicateSampleUnit { frame_unit: unit });
        }
        let w = frame_weights[idx];
        if !w.is_finite() || w < 0.0 {
            return Err(Error::WeightInvalid {
                place: format!("frame sample entry {idx}"),
                value: w,
            });
        }
        base0[unit] = w;
        selected0[unit] = true;
    }
    let mut weight0 = base0.clone();
    let mut nr0 = vec![1.0; n0];
    let fixed_class = |tier: usize| fixed.and_then(|f| f.nr_classes.get(tier).cloned().flatten());
    match &frame.nonresponse {
        Some(step) => {
            let fixed0 = fixed_class(0);
            let (report, classes) =
                apply_nonresponse(step, &mut weight0, &mut nr0, fixed0.as_deref())?;
            nr_reports.push(report);
            nr_classes.push(Some(classes));
        }
        None => {
            nr_reports.push(None);
            nr_classes.push(None);
        }
    }
    unit_base.push(base0);
    unit_share.push(vec![1.0; n0]);
    unit_subsample.push(vec![1.0; n0]);
    unit_nr.push(nr0);
    unit_weights.push(weight0);
    selected.push(selected0);

    // Tiers 1, 2, …: share the weighted respondents of the previous tier.
    for (t, tier) in recipe.tiers.iter().enumerate() {
        let previous = &unit_weights[t];
        if tier.operator.n_frame() != previous.len() {
            return Err(Error::LengthMismatch {
                what: "share operator frame size (previous tier population)",
                expected: previous.len(),
                found: tier.operator.n_frame(),
            });
        }
        // Respondents of the previous tier carry their weight into sharing: only they listed
        // their suppliers, so only their links reach units (a non-respondent's register
        // links were never observed). A respondent with weight 0 (deleted in a replicate)
        // stays in the sample, so every replicate reaches the same units.
        let previous_step = if t == 0 {
            frame.nonresponse.as_ref()
        } else {
            recipe.tiers[t - 1].nonresponse.as_ref()
        };
        let reporting = respondents(previous_step, &selected[t]);
        let sample: Vec<FrameWeight> = reporting
            .iter()
            .enumerate()
            .filter(|&(_, &reports)| reports)
            .map(|(frame_unit, _)| FrameWeight {
                frame_unit,
                weight: previous[frame_unit],
            })
            .collect();
        let shared = share(&tier.operator, &sample, tier.retention.as_ref())?;
        let n = shared.unit_weight.len();
        let subsample = match &tier.subsample {
            Some(units) => subsample_factors(&shared, units)?,
            None => shared
                .reached
                .iter()
                .map(|&r| if r { 1.0 } else { 0.0 })
                .collect(),
        };
        let is_selected: Vec<bool> = subsample.iter().map(|&f| f > 0.0).collect();
        // A replicate's unit factor rides on the subsample column, so the final weight stays
        // the product of the columns.
        let mut subsample = subsample;
        if let Some(factors) = later.and_then(|l| l.units.get(t)).filter(|f| !f.is_empty()) {
            if factors.len() != n {
                return Err(Error::LengthMismatch {
                    what: "later-stage unit factors (units of the tier)",
                    expected: n,
                    found: factors.len(),
                });
            }
            for (k, factor) in factors.iter().enumerate() {
                if !factor.is_finite() || *factor < 0.0 {
                    return Err(Error::WeightInvalid {
                        place: format!("replicate factor of tier {} unit {k}", t + 1),
                        value: *factor,
                    });
                }
                if is_selected[k] {
                    subsample[k] *= factor;
                }
            }
        }
        let mut weight: Vec<f64> = (0..n)
            .map(|k| shared.unit_weight[k] * subsample[k])
            .collect();
        let mut nr = vec![1.0; n];
        match &tier.nonresponse {
            Some(step) => {
                let mut listed = vec![false; n];
                for &u in &step.units {
                    if let Some(slot) = listed.get_mut(u) {
                        *slot = true;
                    }
                }
                if let Some(missing) = (0..n).find(|&k| is_selected[k] && !listed[k]) {
                    return Err(Error::InvalidParameter {
                        what: "tier non-response step",
                        reason: format!(
                            "tier {}: selected unit {missing} has no response status",
                            t + 1
                        ),
                    });
                }
                let fixed_t = fixed_class(t + 1);
                let (report, classes) =
                    apply_nonresponse(step, &mut weight, &mut nr, fixed_t.as_deref())?;
                nr_reports.push(report);
                nr_classes.push(Some(classes));
            }
            None => {
                nr_reports.push(None);
                nr_classes.push(None);
            }
        }
        unit_base.push(vec![1.0; n]);
        unit_share.push(shared.unit_weight);
        unit_subsample.push(
            subsample
                .iter()
                .zip(&is_selected)
                .map(|(&f, &chosen)| if chosen { f } else { 1.0 })
                .collect(),
        );
        unit_nr.push(nr);
        unit_weights.push(weight);
        selected.push(is_selected);
    }

    // Workers.
    let n_workers = recipe.workers.len();
    let mut columns = WeightColumns::ones(n_workers);
    for (row, worker) in recipe.workers.iter().enumerate() {
        let place = format!("worker row {row}");
        let tier_selected = selected.get(worker.tier).ok_or(Error::InvalidParameter {
            what: "worker tier",
            reason: format!("{place}: tier {} does not exist", worker.tier),
        })?;
        if !tier_selected.get(worker.unit).copied().unwrap_or(false) {
            return Err(Error::InvalidParameter {
                what: "worker unit",
                reason: format!(
                    "{place}: unit {} of tier {} was not selected",
                    worker.unit, worker.tier
                ),
            });
        }
        let factors = worker_factors(worker.take, &place)?;
        let (t, u) = (worker.tier, worker.unit);
        columns.base[row] = unit_base[t][u];
        columns.share[row] = unit_share[t][u];
        columns.subsample[row] = unit_subsample[t][u];
        let replicate_factor = later
            .and_then(|l| l.workers.get(row))
            .copied()
            .unwrap_or(1.0);
        if !replicate_factor.is_finite() || replicate_factor < 0.0 {
            return Err(Error::WeightInvalid {
                place: format!("replicate factor of {place}"),
                value: replicate_factor,
            });
        }
        columns.within_unit[row] = factors.within_unit * replicate_factor;
        columns.nr_adj[row] = unit_nr[t][u] * factors.nonresponse;
    }

    // Calibration, trimming, re-calibration.
    let pre = columns.pre_calibration();
    if let Some(step) = &recipe.calibration {
        columns.calib_g = calibrate_step(step, &pre)?;
    }
    let calibrated: Vec<f64> = (0..n_workers)
        .map(|k| pre[k] * columns.calib_g[k])
        .collect();
    let deff_before_trim = kish_deff(&calibrated);
    let mut trim_report = None;
    let mut trim_caps = Vec::new();
    let mut above_cap_after_recalibration = 0;
    if let Some(step) = &recipe.trimming {
        if step.classes.len() != n_workers {
            return Err(Error::LengthMismatch {
                what: "trimming classes",
                expected: n_workers,
                found: step.classes.len(),
            });
        }
        let trimmed = match fixed {
            None => trim(&calibrated, &step.classes, step.cap)?,
            Some(f) => trim_with_fixed_caps(&calibrated, &step.classes, &f.trim_caps)?,
        };
        trim_caps = trimmed.classes.iter().map(|c| (c.class, c.cap)).collect();
        columns.trim_adj = trimmed.trim_adj.clone();
        if let Some(calibration_step) = &recipe.calibration {
            // Re-calibrate once: the new g multiplies the first, so calib_g stays the total
            // calibration factor and trim_adj the trimming factor.
            let g2 = calibrate_step(calibration_step, &trimmed.weights)?;
            for (g, g_again) in columns.calib_g.iter_mut().zip(&g2) {
                *g *= g_again;
            }
        }
        let final_weights = columns.final_weights();
        above_cap_after_recalibration = (0..n_workers)
            .filter(|&k| {
                let cap = trim_caps
                    .iter()
                    .find(|(class, _)| *class == step.classes[k])
                    .map(|(_, cap)| *cap)
                    .unwrap_or(f64::INFINITY);
                final_weights[k] > cap * (1.0 + 1e-9)
            })
            .count();
        trim_report = Some(trimmed.classes);
    }
    let weights = columns.final_weights();
    let deff_final = kish_deff(&weights);
    Ok(RecipeOutput {
        columns,
        weights,
        unit_weights,
        nonresponse: nr_reports,
        trim: trim_report,
        deff_before_trim,
        deff_final,
        above_cap_after_recalibration,
        fixed: Fixed {
            nr_classes,
            trim_caps,
        },
    })
}

/// Trimming inside a replicate: the caps of the full-sample run, class by class.
fn trim_with_fixed_caps(
    weights: &[f64],
    classes: &[usize],
    caps: &[(usize, f64)],
) -> Result<crate::weighting::trim::Trimmed, Error> {
    let mut out = weights.to_vec();
    let mut trim_adj = vec![1.0; weights.len()];
    let mut reports = Vec::new();
    for &(class, cap) in caps {
        let members: Vec<usize> = (0..weights.len())
            .filter(|&k| classes[k] == class)
            .collect();
        let class_weights: Vec<f64> = members.iter().map(|&k| weights[k]).collect();
        let one_class = vec![class; members.len()];
        let trimmed = trim(&class_weights, &one_class, TrimCap::Fixed(cap))?;
        for (idx, &k) in members.iter().enumerate() {
            out[k] = trimmed.weights[idx];
            trim_adj[k] = trimmed.trim_adj[idx];
        }
        reports.extend(trimmed.classes);
    }
    Ok(crate::weighting::trim::Trimmed {
        weights: out,
        trim_adj,
        classes: reports,
    })
}
