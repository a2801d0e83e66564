//! A weighting plan keyed by register ids: the typed inputs of `chainsurvey weights`
//! (units with their tier and enterprise, the frame sample, the population link table, the
//! selected units of later tiers, the responding workers) turned into a [`Recipe`], plus
//! delete-one jackknife replicate frame weights for the replicate route of §2.5.
//!
//! Pure: the caller reads the files; this module only resolves ids and builds the recipe.

use std::collections::HashMap;

use crate::weighting::error::Error;
use crate::weighting::links::{DuplicateLinks, LinkInput, LinkScale, LinkTable};
use crate::weighting::nonresponse::{CollapseRule, ResponseStatus};
use crate::weighting::probability::Probability;
use crate::weighting::recipe::{FrameStep, NonResponseStep, Recipe, TierStep, TrimStep, WorkerRow};
use crate::weighting::share::{LinkRetention, ShareMode, ShareOperator};
use crate::weighting::subsample::SubsampledUnit;
use crate::weighting::trim::TrimCap;
use crate::weighting::workers::WorkerTake;

/// A population unit: its tier (0 = frame) and the cluster (enterprise) it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitRecord {
    pub id: String,
    pub tier: usize,
    pub cluster: String,
}

/// Response outcome of a selected unit with its weighting class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    pub class: usize,
    pub status: ResponseStatus,
}

/// A tier-0 sampled unit.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameSampleRecord {
    pub id: String,
    pub probability: Probability,
    pub outcome: Option<Outcome>,
}

/// A population link buyer → supplier (the buyer is in tier t − 1, the supplier in tier t).
#[derive(Clone, Debug, PartialEq)]
pub struct LinkRecord {
    pub buyer: String,
    pub supplier: String,
    pub importance: Option<f64>,
    /// Link subsampling (METHODOLOGY §2.8.2): `Some(p)` when the buyer's roster row for this
    /// link was kept with probability p recorded at selection time. As soon as one link into
    /// a tier carries a retention, that tier is link-subsampled: the links of responding
    /// buyers without one were not kept (u = 0), and a kept link contributes u/p = 1/p.
    pub retention: Option<Probability>,
}

/// A selected unit of tier ≥ 1: its conditional probability when reached units were
/// subsampled (`None` when every reached unit was taken) and its outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectedRecord {
    pub id: String,
    pub probability: Option<Probability>,
    pub outcome: Option<Outcome>,
}

/// A responding worker of a selected unit.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerRecord {
    pub unit: String,
    pub take: WorkerTake,
}

/// Options of the plan (no defaults on purpose: the CLI states them).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanOptions {
    pub share_mode: ShareMode,
    pub scale: LinkScale,
    pub duplicates: DuplicateLinks,
    pub collapse: CollapseRule,
    /// Trimming of the worker weights (one class), if any.
    pub trim: Option<TrimCap>,
}

fn unknown(what: &'static str, id: &str, place: String) -> Error {
    Error::InvalidParameter {
        what,
        reason: format!("{place}: unknown unit id `{id}`"),
    }
}

/// Builds the recipe. Links that do not go from tier t − 1 to tier t are ignored (they
/// cannot carry weight in chained GWSM); the count is returned with the recipe.
pub fn build_recipe(
    units: &[UnitRecord],
    frame_sample: &[FrameSampleRecord],
    links: &[LinkRecord],
    selected: &[SelectedRecord],
    workers: &[WorkerRecord],
    options: &PlanOptions,
) -> Result<(Recipe, usize), Error> {
    // A tier is a link distance, so it is below the number of units.
    if let Some((row, unit)) = units
        .iter()
        .enumerate()
        .find(|(_, u)| u.tier >= units.len())
    {
        return Err(Error::InvalidParameter {
            what: "units",
            reason: format!(
                "row {}: tier {} of unit `{}` exceeds the number of units",
                row + 1,
                unit.tier,
                unit.id
            ),
        });
    }
    let n_tiers = units.iter().map(|u| u.tier + 1).max().unwrap_or(0);
    // Position of each unit inside its tier's population.
    let mut position: HashMap<&str, (usize, usize)> = HashMap::with_capacity(units.len());
    let mut tier_sizes = vec![0usize; n_tiers];
    let mut clusters: Vec<HashMap<&str, usize>> = vec![HashMap::new(); n_tiers];
    let mut cluster_of: Vec<Vec<usize>> = vec![Vec::new(); n_tiers];
    for (row, unit) in units.iter().enumerate() {
        if position
            .insert(&unit.id, (unit.tier, tier_sizes[unit.tier]))
            .is_some()
        {
            return Err(Error::InvalidParameter {
                what: "units",
                reason: format!("row {}: unit id `{}` appears twice", row + 1, unit.id),
            });
        }
        tier_sizes[unit.tier] += 1;
        let next = clusters[unit.tier].len();
        let cluster = *clusters[unit.tier].entry(&unit.cluster).or_insert(next);
        cluster_of[unit.tier].push(cluster);
    }
    // Tier 0.
    let mut frame_units = Vec::with_capacity(frame_sample.len());
    let mut base = Vec::with_capacity(frame_sample.len());
    let mut frame_outcomes = Vec::new();
    for (row, record) in frame_sample.iter().enumerate() {
        let place = format!("frame sample row {}", row + 1);
        match position.get(record.id.as_str()) {
            Some(&(0, idx)) => frame_units.push(idx),
            Some(&(tier, _)) => {
                return Err(Error::InvalidParameter {
                    what: "frame sample",
                    reason: format!(
                        "{place}: unit `{}` is in tier {tier}, not tier 0",
                        record.id
                    ),
                });
            }
            None => return Err(unknown("frame sample", &record.id, place)),
        }
        base.push(record.probability.inverse());
        frame_outcomes.push(record.outcome);
    }
    let frame_nonresponse = nonresponse_step(
        &frame_units,
        &frame_outcomes,
        options.collapse,
        "frame sample",
    )?;
    // Later tiers.
    let mut tier_links: Vec<Vec<LinkInput>> = vec![Vec::new(); n_tiers];
    let mut tier_retained: Vec<Vec<(usize, usize, Probability)>> = vec![Vec::new(); n_tiers];
    let mut ignored = 0;
    for (row, link) in links.iter().enumerate() {
        let place = format!("link row {}", row + 1);
        let &(buyer_tier, buyer) = position
            .get(link.buyer.as_str())
            .ok_or_else(|| unknown("links", &link.buyer, place.clone()))?;
        let &(supplier_tier, supplier) = position
            .get(link.supplier.as_str())
            .ok_or_else(|| unknown("links", &link.supplier, place))?;
        if supplier_tier != buyer_tier + 1 {
            ignored += 1;
            continue;
        }
        tier_links[supplier_tier].push(LinkInput {
            frame_unit: buyer,
            target_unit: supplier,
            importance: link.importance,
        });
        if let Some(p) = link.retention {
            tier_retained[supplier_tier].push((buyer, supplier, p));
        }
    }
    let mut tiers = Vec::with_capacity(n_tiers.saturating_sub(1));
    for t in 1..n_tiers {
        let table = LinkTable::new(
            tier_sizes[t - 1],
            cluster_of[t].clone(),
            &tier_links[t],
            options.scale,
            options.duplicates,
        )?;
        let operator = ShareOperator::compile(&table, options.share_mode)?;
        // Kept links are recorded per (buyer, sharing group) as the share operator counts them.
        let retention = if tier_retained[t].is_empty() {
            None
        } else {
            let mut kept = LinkRetention::new();
            for &(buyer, supplier, p) in &tier_retained[t] {
                kept.retain(buyer, operator.group_of_unit()[supplier], p);
            }
            Some(kept)
        };
        let mut units_t = Vec::new();
        let mut outcomes_t = Vec::new();
        let mut subsample = Vec::new();
        for (row, record) in selected.iter().enumerate() {
            let place = format!("selected units row {}", row + 1);
            let &(tier, idx) = position
                .get(record.id.as_str())
                .ok_or_else(|| unknown("selected units", &record.id, place))?;
            if tier != t {
                continue;
            }
            units_t.push(idx);
            outcomes_t.push(record.outcome);
            if let Some(p) = record.probability {
                subsample.push(SubsampledUnit {
                    target_unit: idx,
                    probability: p,
                });
            }
        }
        let nonresponse =
            nonresponse_step(&units_t, &outcomes_t, options.collapse, "selected units")?;
        tiers.push(TierStep {
            operator,
            retention,
            subsample: if subsample.is_empty() {
                None
            } else {
                Some(subsample)
            },
            nonresponse,
        });
    }
    let mut worker_rows = Vec::with_capacity(workers.len());
    for (row, worker) in workers.iter().enumerate() {
        let place = format!("worker row {}", row + 1);
        let &(tier, unit) = position
            .get(worker.unit.as_str())
            .ok_or_else(|| unknown("workers", &worker.unit, place))?;
        worker_rows.push(WorkerRow {
            tier,
            unit,
            take: worker.take,
        });
    }
    let trimming = options.trim.map(|cap| TrimStep {
        classes: vec![0; worker_rows.len()],
        cap,
    });
    Ok((
        Recipe {
            frame: FrameStep {
                n_population: tier_sizes.first().copied().unwrap_or(0),
                units: frame_units,
                base,
                nonresponse: frame_nonresponse,
            },
            tiers,
            workers: worker_rows,
            calibration: None,
            trimming,
        },
        ignored,
    ))
}

fn nonresponse_step(
    units: &[usize],
    outcomes: &[Option<Outcome>],
    rule: CollapseRule,
    what: &'static str,
) -> Result<Option<NonResponseStep>, Error> {
    let given = outcomes.iter().filter(|o| o.is_some()).count();
    if given == 0 {
        return Ok(None);
    }
    if given != outcomes.len() {
        return Err(Error::InvalidParameter {
            what,
            reason: "give a class and status for every unit or for none".to_string(),
        });
    }
    let outcomes: Vec<Outcome> = outcomes.iter().flatten().copied().collect();
    Ok(Some(NonResponseStep {
        units: units.to_vec(),
        labels: outcomes.iter().map(|o| o.class).collect(),
        status: outcomes.iter().map(|o| o.status).collect(),
        rule,
    }))
}

/// Delete-one jackknife (JK1) replicate frame weights over the frame sample: replicate r
/// drops frame unit r and multiplies the others by n/(n − 1). Run each through
/// [`crate::weighting::recipe::run_replicate`]; the variance is (n − 1)/n Σ (θ_r − θ̄)².
pub fn jk1_frame_weights(recipe: &Recipe) -> Vec<Vec<f64>> {
    let n = recipe.frame.units.len();
    let factor = if n > 1 {
        n as f64 / (n as f64 - 1.0)
    } else {
        0.0
    };
    (0..n)
        .map(|r| {
            recipe
                .frame
                .base
                .iter()
                .enumerate()
                .map(|(j, d)| if j == r { 0.0 } else { d.get() * factor })
                .collect()
        })
        .collect()
}
