//! One survey round on a prepared population (METHODOLOGY §1.3 stages 1–5): the tier-0
//! stratified sample, enterprise and worker interviews, link tracing to tiers 1–3, the
//! weighting chain, and the multistage bootstrap replicates of the whole chain.
//!
//! Every step calls the library: `sampling::allocate`/`srswor` for tier 0,
//! `sampling::trace_links` for the rosters, `sampling::select_workers` for the take,
//! `weighting::plan::build_recipe` + `recipe::run_recipe` for the weights,
//! `weighting::bootstrap::multistage_replicates` for the variance.
//! What is simulated here is only the fieldwork: who responds, and that a responding
//! enterprise lists its register suppliers with their tax codes.

use crate::frame::Ownership;
use crate::sampling::{
    AllocationMethod, ReportedSupplier, StratumFacts, SupplierRoster, TraceMode, TraceRequest,
    WorkerSource, allocate, derive_seed, rng_from_seed, select_workers, srswor, trace_links,
    uniform,
};
use crate::weighting::Probability;
use crate::weighting::bootstrap::{
    BootstrapDesign, ReplicateSet, multistage_replicates, replicate_variance,
};
use crate::weighting::links::{DuplicateLinks, LinkScale};
use crate::weighting::nonresponse::{CollapseRule, ResponseStatus};
use crate::weighting::plan::{
    FrameSampleRecord, Outcome, PlanOptions, SelectedRecord, WorkerRecord, build_recipe,
};
use crate::weighting::recipe::run_recipe;
use crate::weighting::share::ShareMode;
use crate::weighting::workers::WorkerTake;

use crate::demo::config::RoundConfig;
use crate::demo::error::Error;
use crate::demo::setting::Setting;

/// The tiers a round traces to (0 = lead firms).
pub const TIERS: usize = 4;

/// Fieldwork counts of one tier.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct TierSizes {
    pub tier: u32,
    /// Units of this tier in the population.
    pub population: usize,
    /// Units reached by link tracing (tier 0: the lead firms in the frame).
    pub reached: usize,
    /// Units selected for interview.
    pub selected: usize,
    /// Enterprises that responded (with at least one worker per sex interviewed).
    pub responded: usize,
    pub workers_selected: u64,
    pub workers_responded: u64,
}

/// An interviewed worker: unit, its frame tier, and the worker's index in the unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InterviewedWorker {
    pub unit: usize,
    pub tier: u32,
    pub index: u64,
}

/// One bootstrap replicate: the stage set it perturbs, and the final worker weights of the
/// whole chain re-run with the replicate factors.
#[derive(Clone, Debug, PartialEq)]
pub struct Replicate {
    pub set: usize,
    pub weights: Vec<f64>,
}

/// The weighted sample of a round.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightedSample {
    pub sizes: Vec<TierSizes>,
    pub workers: Vec<InterviewedWorker>,
    /// Final weight of every interviewed worker.
    pub weights: Vec<f64>,
    pub replicates: Vec<Replicate>,
    /// The stage sets of the replicates (indexed by `Replicate::set`): name, 1/B and the
    /// design degrees of freedom of the stage.
    pub sets: Vec<ReplicateSet>,
    /// Tier-0 PSUs (sampled lead firms), certainty units included.
    pub psus: usize,
}

impl WeightedSample {
    /// v = Σ_r (1/B_{set(r)}) (θ_r − θ̂)² and its Satterthwaite degrees of freedom, from
    /// replicate estimates parallel to `replicates` (`weighting::bootstrap`).
    pub fn variance(&self, estimate: f64, replicate_estimates: &[f64]) -> (f64, Option<f64>) {
        let set_of: Vec<usize> = self.replicates.iter().map(|r| r.set).collect();
        replicate_variance(&self.sets, &set_of, estimate, replicate_estimates)
    }
}

struct Sampled {
    unit: usize,
    probability: f64,
    /// Tier-0 stratum (SRSWOR with f = π); `None` for a lead firm taken with certainty.
    stratum: Option<usize>,
}

/// The tier-0 stratified sample: certainty for large lead firms, Neyman allocation over
/// FDI / domestic strata of the rest, SRSWOR within strata.
fn tier0_sample(
    setting: &Setting,
    config: &RoundConfig,
) -> Result<(Vec<Sampled>, Vec<usize>), Error> {
    let frame = setting.frame();
    let leads: Vec<usize> = (0..frame.units.len())
        .filter(|&i| setting.tiers[i] == Some(0))
        .collect();
    let mut sample = Vec::new();
    let mut strata: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for &i in &leads {
        let unit = &frame.units[i];
        if unit.employees() >= config.take_all_employees {
            sample.push(Sampled {
                unit: i,
                probability: 1.0,
                stratum: None,
            });
        } else {
            let h = usize::from(unit.ownership != Ownership::Fdi);
            strata[h].push(i);
        }
    }
    let strata: Vec<(String, Vec<usize>)> = ["fdi", "domestic"]
        .iter()
        .zip(strata)
        .filter(|(_, members)| !members.is_empty())
        .map(|(k, members)| (k.to_string(), members))
        .collect();
    let facts: Vec<StratumFacts> = strata
        .iter()
        .map(|(key, members)| {
            let sizes: Vec<f64> = members
                .iter()
                .map(|&i| frame.units[i].employees() as f64)
                .collect();
            let mean = sizes.iter().sum::<f64>() / sizes.len() as f64;
            let var = sizes.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
                / (sizes.len().max(2) - 1) as f64;
            StratumFacts {
                key: key.clone(),
                population: members.len() as u64,
                sd: var.sqrt().max(1.0),
                mean,
                cost: 1.0,
                importance: None,
            }
        })
        .collect();
    let total: usize = strata.iter().map(|(_, m)| m.len()).sum();
    let mut stratum_sizes = Vec::new();
    if total > 0 {
        let n = ((config.tier0_fraction * total as f64).ceil() as u64).clamp(1, total as u64);
        let allocation = allocate(AllocationMethod::Neyman, &facts, n, 2)?;
        for ((key, members), &n_h) in strata.iter().zip(&allocation.n_h) {
            let big_n = members.len();
            let n_h = n_h as usize;
            if n_h == 0 {
                continue;
            }
            let mut rng = rng_from_seed(derive_seed(config.round_seed, &format!("tier0|{key}")));
            let picks = srswor(big_n, n_h, &mut rng)?;
            stratum_sizes.push(n_h);
            let stratum = Some(stratum_sizes.len() - 1);
            for pos in picks {
                sample.push(Sampled {
                    unit: members[pos],
                    probability: n_h as f64 / big_n as f64,
                    stratum,
                });
            }
        }
    }
    Ok((sample, stratum_sizes))
}

/// The interview outcome of one selected enterprise.
struct Interview {
    responded: bool,
    /// (sex cell population M, selected m, responded r, responding worker indices).
    cells: Vec<(u64, u64, u64, Vec<u64>)>,
    workers_selected: u64,
}

/// Simulates the enterprise interview and the worker interviews of one selected unit. The
/// enterprise counts as responding only if every non-empty sex cell has a responding worker,
/// so worker factors m/r are always defined.
fn interview(setting: &Setting, config: &RoundConfig, unit: usize) -> Result<Interview, Error> {
    let u = &setting.frame().units[unit];
    let mut rng = rng_from_seed(derive_seed(config.round_seed, &format!("respond|{}", u.id)));
    let enterprise = uniform(&mut rng) < config.enterprise_response;
    if !enterprise {
        return Ok(Interview {
            responded: false,
            cells: Vec::new(),
            workers_selected: 0,
        });
    }
    let takes = select_workers(
        &u.id,
        WorkerSource::Counts {
            male: u.employees_male,
            female: u.employees_female,
        },
        config.workers_per_sex,
        derive_seed(config.round_seed, "workers"),
    )?;
    let mut cells = Vec::new();
    let mut workers_selected = 0;
    let mut responded = true;
    for take in takes {
        if take.population == 0 {
            continue;
        }
        // Men are workers 0..employees_male of the unit, women the rest.
        let offset = match take.sex {
            crate::sampling::Sex::Male => 0,
            crate::sampling::Sex::Female => u.employees_male,
        };
        let mut answered = Vec::new();
        for selected in &take.selected {
            workers_selected += 1;
            if uniform(&mut rng) < config.worker_response {
                answered.push(offset + selected.line - 1);
            }
        }
        if answered.is_empty() {
            responded = false;
        }
        cells.push((take.population, take.take, answered.len() as u64, answered));
    }
    Ok(Interview {
        responded,
        cells,
        workers_selected,
    })
}

/// Runs the fieldwork and the weighting of one round on `setting`.
pub fn weighted_sample(setting: &Setting, config: &RoundConfig) -> Result<WeightedSample, Error> {
    config.check()?;
    let frame = setting.frame();
    let (tier0, _stratum_sizes) = tier0_sample(setting, config)?;
    let mut sizes: Vec<TierSizes> = (0..TIERS as u32)
        .map(|t| TierSizes {
            tier: t,
            population: setting.tiers.iter().filter(|&&x| x == Some(t)).count(),
            ..TierSizes::default()
        })
        .collect();
    sizes[0].reached = sizes[0].population;
    let collapse = CollapseRule {
        min_respondents: 20,
        max_factor: 2.0,
    };
    let class_of = |unit: usize| usize::from(frame.units[unit].ownership != Ownership::Fdi);
    let status = |responded: bool| {
        if responded {
            ResponseStatus::Respondent
        } else {
            ResponseStatus::NonRespondent
        }
    };

    let mut frame_sample = Vec::with_capacity(tier0.len());
    let mut selected_records = Vec::new();
    let mut worker_records = Vec::new();
    let mut workers = Vec::new();
    // Selected units of the current tier with their π_{i|s}.
    let mut current: Vec<(usize, f64)> = tier0.iter().map(|s| (s.unit, 1.0)).collect();
    for t in 0..TIERS {
        sizes[t].selected = current.len();
        let mut rosters = Vec::new();
        for &(unit, pi) in &current {
            let result = interview(setting, config, unit)?;
            sizes[t].workers_selected += result.workers_selected;
            let outcome = Some(Outcome {
                class: class_of(unit),
                status: status(result.responded),
            });
            let id = frame.units[unit].id.clone();
            if t == 0 {
                let probability = tier0
                    .iter()
                    .find(|s| s.unit == unit)
                    .map_or(1.0, |s| s.probability);
                frame_sample.push(FrameSampleRecord {
                    id: id.clone(),
                    probability: Probability::new(probability, "tier-0 sample")?,
                    outcome,
                });
            } else {
                selected_records.push(SelectedRecord {
                    id: id.clone(),
                    // A take-all tier records no probability: the recipe then keeps the
                    // units reached from responding buyers.
                    probability: match config.tier_caps[t - 1] {
                        Some(_) => Some(Probability::new(pi, "reached-unit subsample")?),
                        None => None,
                    },
                    outcome,
                });
            }
            if !result.responded {
                continue;
            }
            sizes[t].responded += 1;
            for (population, selected, responded, answered) in result.cells {
                sizes[t].workers_responded += responded;
                for index in answered {
                    workers.push(InterviewedWorker {
                        unit,
                        tier: t as u32,
                        index,
                    });
                    worker_records.push(WorkerRecord {
                        unit: id.clone(),
                        take: WorkerTake {
                            population,
                            selected,
                            responded,
                        },
                    });
                }
            }
            // The supplier roster: the register suppliers, reported with their tax codes.
            let rows = setting
                .suppliers
                .neighbours(unit)
                .iter()
                .enumerate()
                .map(|(row, &s)| ReportedSupplier {
                    row: row as u32 + 1,
                    tax_code: frame.units[s].tax_code.clone(),
                    name: frame.units[s].name.clone(),
                    purchase_value: None,
                })
                .collect();
            rosters.push(SupplierRoster {
                respondent_id: id,
                rows,
            });
        }
        if t + 1 == TIERS {
            break;
        }
        let mode = match config.tier_caps[t] {
            None => TraceMode::TakeAll,
            Some(n) => TraceMode::SubsampleUnitsSrswor { n },
        };
        let trace = trace_links(&TraceRequest {
            frame,
            index: &setting.index,
            tiers: &setting.tiers,
            from_tier: t as u32,
            rosters: &rosters,
            customers: &[],
            mode: &mode,
            seed: config.round_seed,
        })?;
        sizes[t + 1].reached = trace.reached.len();
        current = trace
            .reached
            .iter()
            .filter(|r| r.selected)
            .map(|r| (r.unit, r.pi_given_s))
            .collect();
    }

    let options = PlanOptions {
        share_mode: ShareMode::Clustered,
        scale: LinkScale::Count,
        duplicates: DuplicateLinks::Refuse,
        collapse,
        trim: None,
    };
    let (recipe, _ignored) = build_recipe(
        &setting.plan_units,
        &frame_sample,
        &setting.plan_links,
        &selected_records,
        &worker_records,
        &options,
    )?;
    let full = run_recipe(&recipe)?;
    // Multistage rescaled bootstrap: one replicate set per stage (tier-0 strata, response,
    // reached-unit subsamples, workers), each re-running the whole chain.
    let design = BootstrapDesign {
        frame_strata: tier0.iter().map(|s| s.stratum).collect(),
        replicates: config.replicates,
        seed: derive_seed(config.round_seed, "bootstrap"),
    };
    let boot = multistage_replicates(&recipe, &full, &design)?;
    let replicates = boot
        .weights
        .into_iter()
        .zip(boot.set_of)
        .map(|(weights, set)| Replicate { set, weights })
        .collect();
    Ok(WeightedSample {
        sizes,
        workers,
        weights: full.weights,
        replicates,
        sets: boot.sets,
        psus: tier0.len(),
    })
}
