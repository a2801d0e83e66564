//! A whole frame-stage draw from a [`Design`]: population filter, take-all cut, strata,
//! allocation, selection within each stratum, and the record that makes it replayable.
//!
//! Each stratum draws from its own generator seeded by `derive_seed(design seed, stratum
//! key)`, so the sample of one stratum does not depend on the others, and the record keeps
//! every stratum seed and random start. Replaying the same design on the same frame (same
//! `frame_digest`) gives the same units and the same probabilities, bit for bit.

use crate::frame::{Frame, UnitIdx};
use crate::sampling::allocation::{StratumFacts, allocate, cost_optimal_total};
use crate::sampling::design::{Design, PrnSpec, SampleSizeSpec, SelectionMethod};
use crate::sampling::error::SamplingError;
use crate::sampling::order::{pareto, sequential_poisson};
use crate::sampling::poisson::poisson;
use crate::sampling::pps::{draw_pps_systematic, pps_inclusion_probabilities};
use crate::sampling::prn::{permanent_random_number, shifted};
use crate::sampling::sample_size::sample_size_for_proportion;
use crate::sampling::srswor::srswor;
use crate::sampling::strata::{Stratum, numeric_column, stratify};
use crate::sampling::systematic::draw_systematic;
use crate::sampling::uniform::{derive_seed, rng_from_seed, uniform_open};

/// Key of the take-all stratum made by the design's `take_all` rule.
pub const TAKE_ALL_STRATUM: &str = "take_all";

/// One selected unit with everything needed to weight it.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedUnit {
    pub unit: UnitIdx,
    /// Index into [`Sample::strata`].
    pub stratum: usize,
    /// Inclusion probability π (for sequential Poisson and Pareto: the target λ, which the
    /// true π approximates).
    pub pi: f64,
    pub take_all: bool,
    /// The permanent random number used, for coordinated methods.
    pub prn: Option<f64>,
}

/// What happened in one stratum.
#[derive(Clone, Debug, PartialEq)]
pub struct StratumRecord {
    pub key: String,
    pub population: u64,
    /// Allocated n_h (for Poisson: the expected size).
    pub n: u64,
    /// Realised number of selected units.
    pub selected: u64,
    /// First-pass real allocation.
    pub raw_allocation: f64,
    pub take_all: bool,
    pub seed: u64,
    /// Random start u of systematic methods.
    pub random_start: Option<f64>,
}

/// A drawn sample and its replay record.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub design_name: String,
    pub seed: u64,
    pub method: SelectionMethod,
    pub allocation: String,
    pub n_total: u64,
    pub strata: Vec<StratumRecord>,
    pub units: Vec<SelectedUnit>,
    /// `chainsurvey` version that drew it. Store [`Frame::digest`] of the frame next to the
    /// sample (the CLI writes it as `frame_digest`): it is not computed here because hashing
    /// a million-unit frame costs more than drawing from it.
    pub crate_version: &'static str,
}

/// Draws the frame-stage sample described by `design` from `frame`.
pub fn draw_sample(frame: &Frame, design: &Design) -> Result<Sample, SamplingError> {
    let population = population_units(frame, design)?;
    let (take_all_units, rest) = split_take_all(frame, design, &population)?;
    let strata = stratify(frame, &rest, &design.strata)?;
    let facts = stratum_facts(frame, design, &strata)?;
    let n_total = match &design.sample_size {
        SampleSizeSpec::Fixed(n) => *n,
        SampleSizeSpec::Proportion(plan) => sample_size_for_proportion(plan)?.n,
        // A budget buys whole interviews: round down.
        SampleSizeSpec::Budget { total, fixed } => {
            cost_optimal_total(&facts, *total, *fixed)?.floor() as u64
        }
    };
    let n_rest =
        n_total
            .checked_sub(take_all_units.len() as u64)
            .ok_or(SamplingError::BadParameter {
                name: "n".into(),
                value: n_total.to_string(),
                reason: format!("smaller than the {} take-all units", take_all_units.len()),
            })?;
    let allocation = if strata.is_empty() {
        None
    } else {
        Some(allocate(
            design.allocation.method,
            &facts,
            n_rest,
            design.allocation.min_per_stratum,
        )?)
    };
    let mut sample = Sample {
        design_name: design.name.clone(),
        seed: design.seed,
        method: design.selection.method,
        allocation: design.allocation.method.name(),
        n_total,
        strata: Vec::new(),
        units: Vec::new(),
        crate_version: env!("CARGO_PKG_VERSION"),
    };
    if !take_all_units.is_empty() {
        sample.strata.push(StratumRecord {
            key: TAKE_ALL_STRATUM.into(),
            population: take_all_units.len() as u64,
            n: take_all_units.len() as u64,
            selected: take_all_units.len() as u64,
            raw_allocation: take_all_units.len() as f64,
            take_all: true,
            seed: 0,
            random_start: None,
        });
        for &unit in &take_all_units {
            sample.units.push(SelectedUnit {
                unit,
                stratum: 0,
                pi: 1.0,
                take_all: true,
                prn: None,
            });
        }
    }
    if let Some(allocation) = allocation {
        for (pos, stratum) in strata.iter().enumerate() {
            let record_index = sample.strata.len();
            let seed = derive_seed(design.seed, &stratum.key);
            let n_h = allocation.n_h[pos];
            let (selected, start) =
                select_in_stratum(frame, design, stratum, n_h, seed, record_index)?;
            sample.strata.push(StratumRecord {
                key: stratum.key.clone(),
                population: stratum.units.len() as u64,
                n: n_h,
                selected: selected.len() as u64,
                raw_allocation: allocation.raw[pos],
                take_all: n_h == stratum.units.len() as u64,
                seed,
                random_start: start,
            });
            sample.units.extend(selected);
        }
    }
    Ok(sample)
}

/// Frame units passing the design's population filter, in frame order.
pub fn population_units(frame: &Frame, design: &Design) -> Result<Vec<UnitIdx>, SamplingError> {
    for (column, _) in &design.population {
        if !frame.has_column(column) {
            return Err(SamplingError::UnknownColumn(column.clone()));
        }
    }
    Ok((0..frame.units.len())
        .filter(|&unit| {
            design.population.iter().all(|(column, values)| {
                frame
                    .column_value(unit, column)
                    .is_some_and(|v| values.iter().any(|w| w == v.as_ref()))
            })
        })
        .collect())
}

fn split_take_all(
    frame: &Frame,
    design: &Design,
    population: &[UnitIdx],
) -> Result<(Vec<UnitIdx>, Vec<UnitIdx>), SamplingError> {
    let Some((column, at_least)) = &design.take_all else {
        return Ok((Vec::new(), population.to_vec()));
    };
    let values = numeric_column(frame, population, column)?;
    let mut take_all = Vec::new();
    let mut rest = Vec::new();
    for (&unit, value) in population.iter().zip(values) {
        if value >= *at_least {
            take_all.push(unit);
        } else {
            rest.push(unit);
        }
    }
    Ok((take_all, rest))
}

fn stratum_facts(
    frame: &Frame,
    design: &Design,
    strata: &[Stratum],
) -> Result<Vec<StratumFacts>, SamplingError> {
    strata
        .iter()
        .map(|stratum| {
            let (mean, sd) = match &design.allocation.variable {
                Some(column) => mean_sd(&numeric_column(frame, &stratum.units, column)?),
                None => (1.0, 1.0),
            };
            Ok(StratumFacts {
                key: stratum.key.clone(),
                population: stratum.units.len() as u64,
                sd,
                mean,
                cost: design
                    .allocation
                    .costs
                    .get(&stratum.key)
                    .copied()
                    .unwrap_or(design.allocation.default_cost),
                importance: None,
            })
        })
        .collect()
}

/// Mean and standard deviation (divisor N − 1; 0 for a single unit).
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (ss / (n - 1.0)).sqrt())
}

fn select_in_stratum(
    frame: &Frame,
    design: &Design,
    stratum: &Stratum,
    n_h: u64,
    seed: u64,
    record_index: usize,
) -> Result<(Vec<SelectedUnit>, Option<f64>), SamplingError> {
    let method = design.selection.method;
    let mut units = stratum.units.clone();
    if !design.selection.sort_by.is_empty() {
        for column in &design.selection.sort_by {
            if !frame.has_column(column) {
                return Err(SamplingError::UnknownColumn(column.clone()));
            }
        }
        let keys: Vec<Vec<String>> = units
            .iter()
            .map(|&u| {
                design
                    .selection
                    .sort_by
                    .iter()
                    .map(|c| frame.column_value(u, c).unwrap_or_default().into_owned())
                    .collect()
            })
            .collect();
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        units = order.into_iter().map(|pos| stratum.units[pos]).collect();
    }
    let population = units.len();
    let mut rng = rng_from_seed(seed);
    let pi: Vec<f64> = match &design.selection.size {
        Some(column)
            if method != SelectionMethod::Srswor && method != SelectionMethod::Systematic =>
        {
            let sizes = numeric_column(frame, &units, column)?;
            pps_inclusion_probabilities(&sizes, n_h).map_err(|err| name_unit(err, frame, &units))?
        }
        _ => vec![n_h as f64 / population.max(1) as f64; population],
    };
    let prns: Option<Vec<f64>> = match &design.prn {
        None => None,
        Some(PrnSpec::Seed { seed, shift }) => Some(
            units
                .iter()
                .map(|&u| shifted(permanent_random_number(*seed, &frame.units[u].id), *shift))
                .collect(),
        ),
        Some(PrnSpec::Column { column, shift }) => {
            let values = numeric_column(frame, &units, column)?;
            for (&unit, &value) in units.iter().zip(&values) {
                if !(value > 0.0 && value < 1.0) {
                    return Err(SamplingError::BadProbability {
                        unit: frame.units[unit].id.clone(),
                        value,
                    });
                }
            }
            Some(values.into_iter().map(|v| shifted(v, *shift)).collect())
        }
    };
    let uniforms = |rng: &mut rand::rngs::ChaCha20Rng| -> Vec<f64> {
        match &prns {
            Some(values) => values.clone(),
            None => (0..population).map(|_| uniform_open(rng)).collect(),
        }
    };
    let (positions, start) = match method {
        SelectionMethod::Srswor => (srswor(population, n_h as usize, &mut rng)?, None),
        SelectionMethod::Systematic => {
            let (positions, u) = draw_systematic(population, n_h as usize, &mut rng)?;
            (positions, Some(u))
        }
        SelectionMethod::PpsSystematic => {
            let (positions, u) = draw_pps_systematic(&pi, &mut rng)?;
            (positions, Some(u))
        }
        SelectionMethod::Poisson => (poisson(&pi, &uniforms(&mut rng))?, None),
        SelectionMethod::SequentialPoisson => (
            sequential_poisson(&pi, &uniforms(&mut rng), n_h as usize)?,
            None,
        ),
        SelectionMethod::Pareto => (pareto(&pi, &uniforms(&mut rng), n_h as usize)?, None),
    };
    let selected = positions
        .into_iter()
        .map(|pos| SelectedUnit {
            unit: units[pos],
            stratum: record_index,
            pi: pi[pos],
            take_all: pi[pos] >= 1.0,
            prn: prns.as_ref().map(|values| values[pos]),
        })
        .collect();
    Ok((selected, start))
}

/// Replaces a positional unit label (`#3`) in a size error by the unit's register id.
fn name_unit(err: SamplingError, frame: &Frame, units: &[UnitIdx]) -> SamplingError {
    match err {
        SamplingError::BadSize { unit, size } => {
            let id = unit
                .trim_start_matches('#')
                .parse::<usize>()
                .ok()
                .and_then(|pos| units.get(pos.wrapping_sub(1)))
                .map_or(unit.clone(), |&u| frame.units[u].id.clone());
            SamplingError::BadSize { unit: id, size }
        }
        other => other,
    }
}
