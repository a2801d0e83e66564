//! Multistage rescaled bootstrap replicate weights for the whole DW-SCS chain (Preston 2009,
//! generalised to link-traced stages that are not nested in the tier-0 PSUs).
//!
//! Every random stage of the chain gets its own **set** of replicates, and each replicate of
//! a set perturbs that stage only and re-runs the whole recipe
//! ([`run_replicate_with`]):
//! - `tier0`: the stratified SRSWOR of lead firms (certainty firms have f = 1 and no term);
//! - `response`: the respondents of every tier, as an SRSWOR of r_c of the n_c selected
//!   units of their non-response class (the adjustment is re-run, so the perturbation acts
//!   as a ratio inside the class);
//! - `tier<t>`: the SRSWOR of reached units of tier t (one stratum per tier, f = π_{i|s});
//! - `workers`: the responding workers of each (unit, cell), an SRSWOR of r of M.
//!
//! Inside a group of n units (stratum, class, tier, worker cell), a replicate keeps a
//! half-sample of n* = ⌊n/2⌋ units drawn without replacement and multiplies unit u by
//! `1 − λ_u + λ_u · (n/n*) · kept_u`, with `λ_u² = n* (1 − f_u) q_u / (n − n*)`. For a total
//! Σ_u x_u this gives E*[(Σ δ_u x_u − Σ x_u)²] = n (1 − f) q s²_x exactly (q constant), the
//! SRSWOR unbiased variance times q. The variance of a statistic is
//! `v = Σ_sets (1/B) Σ_{b in set} (θ_b − θ̂)²`: the sets are independent, so their
//! variances add without the cross terms a product of perturbations would create.
//!
//! `q_u` is the share of unit u's own stage variance that no earlier set has already
//! captured. In a nested design it is Preston's product of the earlier sampling fractions:
//! perturbing the PSUs also moves the later-stage error of their units, by the share
//! (1 − f). In chained GWSM a unit k of tier t gets its weight from several units u of an
//! earlier set (its *ancestry* α_{u,k}, the share of w_k coming through u); perturbing them
//! captures the share `c_k = Σ_g n_g (n_g − n*_g)/(n*_g (n_g − 1)) · [Σ_{u∈g} λ_u² α_{u,k}² −
//! (Σ_{u∈g} λ_u α_{u,k})² / n_g]` of k's error, which is (1 − f) q_u for a unit reached by
//! one PSU and close to 0 for a unit reached evenly by many. So `q_k = 1 − Σ c_k` over the
//! earlier sets, and inside a unit the later stages multiply by the unit's own fractions
//! (response q·f_sel, workers q·f_sel·f_resp), as in Preston.
//!
//! What it deliberately does not do: estimate anything (that is the caller's, with the
//! replicate weights and the per-set scales), or model unequal-probability stages beyond
//! using each unit's own π as its f (exact for SRSWOR, an approximation otherwise).

use std::collections::{BTreeMap, HashMap};

use rand::rngs::ChaCha20Rng;
use rand::{Rng, SeedableRng};

use crate::weighting::error::Error;
use crate::weighting::nonresponse::ResponseStatus;
use crate::weighting::recipe::{LaterStageFactors, Recipe, RecipeOutput, run_replicate_with};
use crate::weighting::share::{FrameWeight, share};

/// What the bootstrap needs beyond the recipe: the tier-0 strata, the number of replicates
/// per set and the seed.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapDesign {
    /// Tier-0 stratum of every frame-sample entry (parallel to `recipe.frame.units`);
    /// `None` for a unit taken with certainty. Units of one stratum are an SRSWOR with
    /// f = π.
    pub frame_strata: Vec<Option<usize>>,
    /// Replicates per set (B).
    pub replicates: usize,
    pub seed: u64,
}

/// One set of replicates (one stage of the design).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicateSet {
    /// `tier0`, `response`, `tier2`, …, `workers`.
    pub name: String,
    /// The coefficient of each of its replicates in the variance: 1/B.
    pub scale: f64,
    /// Degrees of freedom of the stage's design variance: Σ over groups of (n_g − 1).
    pub design_df: f64,
}

/// The replicate weights of every set.
#[derive(Clone, Debug, PartialEq)]
pub struct Replicates {
    pub sets: Vec<ReplicateSet>,
    /// Final worker weights of every replicate (in `Recipe::workers` order).
    pub weights: Vec<Vec<f64>>,
    /// The set of every replicate (index into `sets`).
    pub set_of: Vec<usize>,
    /// q per tier and population unit: the share of the unit's own stage variance left to
    /// its own sets (1 for tier 0; 0 where the unit was not selected).
    pub remaining: Vec<Vec<f64>>,
}

impl Replicates {
    /// The variance of a statistic and its degrees of freedom, from its full-sample value and
    /// its replicate values (parallel to `weights`): see [`replicate_variance`].
    pub fn variance(&self, estimate: f64, replicate_estimates: &[f64]) -> (f64, Option<f64>) {
        replicate_variance(&self.sets, &self.set_of, estimate, replicate_estimates)
    }
}

/// v = Σ_r scale_{set(r)} (θ_r − θ̂)² (centred at the full-sample θ̂; a non-finite θ_r counts
/// as θ̂) and the Satterthwaite degrees of freedom of v = Σ_s v_s, each set counting
/// 1/(1/design_df + 1/B) degrees of freedom (the design's and the bootstrap's own Monte
/// Carlo noise). The degrees of freedom are `None` when v = 0.
pub fn replicate_variance(
    sets: &[ReplicateSet],
    set_of: &[usize],
    estimate: f64,
    replicate_estimates: &[f64],
) -> (f64, Option<f64>) {
    let mut by_set = vec![0.0; sets.len()];
    for (&set, &theta) in set_of.iter().zip(replicate_estimates) {
        let theta = if theta.is_finite() { theta } else { estimate };
        by_set[set] += sets[set].scale * (theta - estimate).powi(2);
    }
    let total: f64 = by_set.iter().sum();
    let denominator: f64 = by_set
        .iter()
        .zip(sets)
        .map(|(v, set)| {
            let df = 1.0 / (1.0 / set.design_df.max(1.0) + set.scale);
            v * v / df
        })
        .sum();
    let df = (total > 0.0 && denominator > 0.0).then(|| total * total / denominator);
    (total, df)
}

/// A group of one set: its members with their λ.
#[derive(Clone, Debug)]
struct Group {
    /// Members: frame entry (tier-0 sets), population unit (tier sets) or worker row.
    members: Vec<usize>,
    lambda: Vec<f64>,
}

impl Group {
    fn n_star(&self) -> usize {
        self.members.len() / 2
    }
}

/// Where a set's factors go.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// Frame entries (tier-0 weights).
    Frame,
    /// Units of tier t ≥ 1 (before non-response).
    Tier(usize),
    Workers,
}

struct SetPlan {
    name: String,
    /// Groups by target (the response set spans tiers).
    groups: Vec<(Target, Group)>,
}

/// λ of one unit: √(n* (1 − f) q / (n − n*)).
fn lambda(n: usize, f: f64, q: f64) -> f64 {
    let n_star = n / 2;
    if n_star == 0 {
        return 0.0;
    }
    let value = n_star as f64 * (1.0 - f).max(0.0) * q.clamp(0.0, 1.0) / (n - n_star) as f64;
    value.sqrt()
}

/// The share of a unit's error captured by perturbing a group whose members carry the
/// ancestry shares `alpha` (parallel to the group's members).
fn captured(group: &Group, alpha: &[f64]) -> f64 {
    let n = group.members.len();
    let n_star = group.n_star();
    if n_star == 0 {
        return 0.0;
    }
    let (mut sum_sq, mut sum) = (0.0, 0.0);
    for (l, a) in group.lambda.iter().zip(alpha) {
        sum_sq += (l * a).powi(2);
        sum += l * a;
    }
    let scale = n as f64 * (n - n_star) as f64 / (n_star as f64 * (n as f64 - 1.0));
    scale * (sum_sq - sum * sum / n as f64)
}

/// Builds the replicate weights of every stage and runs the recipe for each.
pub fn multistage_replicates(
    recipe: &Recipe,
    full: &RecipeOutput,
    design: &BootstrapDesign,
) -> Result<Replicates, Error> {
    let frame = &recipe.frame;
    if design.frame_strata.len() != frame.units.len() {
        return Err(Error::LengthMismatch {
            what: "bootstrap frame strata",
            expected: frame.units.len(),
            found: design.frame_strata.len(),
        });
    }
    if design.replicates < 2 {
        return Err(Error::InvalidParameter {
            what: "bootstrap replicates",
            reason: format!("{}: at least 2 per stage are needed", design.replicates),
        });
    }
    let n_tiers = recipe.tiers.len() + 1;
    let sizes: Vec<usize> = full.unit_weights.iter().map(Vec::len).collect();
    // Selection fraction, response fraction and remaining share q per tier and unit.
    let mut f_sel: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![1.0; n]).collect();
    let mut f_resp: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![1.0; n]).collect();
    let mut remaining: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
    // Ancestry of every selected unit of the current tier: (tier, unit) → share.
    let mut ancestry: Vec<BTreeMap<(usize, usize), f64>> = vec![BTreeMap::new(); sizes[0]];
    // Earlier groups that can capture a later unit's error: (tier of members, group).
    let mut earlier: Vec<(usize, Group)> = Vec::new();

    let mut frame_set = SetPlan {
        name: "tier0".into(),
        groups: Vec::new(),
    };
    let mut response_set = SetPlan {
        name: "response".into(),
        groups: Vec::new(),
    };
    let mut unit_sets: Vec<SetPlan> = Vec::new();

    // Tier 0: strata of the frame sample.
    let mut strata: Vec<(usize, Vec<usize>)> = Vec::new();
    for (entry, stratum) in design.frame_strata.iter().enumerate() {
        let unit = frame.units[entry];
        let pi = 1.0 / frame.base[entry].get();
        f_sel[0][unit] = pi;
        remaining[0][unit] = 1.0;
        ancestry[unit].insert((0, unit), 1.0);
        if let Some(h) = stratum {
            match strata.iter_mut().find(|(k, _)| k == h) {
                Some((_, members)) => members.push(entry),
                None => strata.push((*h, vec![entry])),
            }
        }
    }
    for (_, members) in strata {
        let n = members.len();
        let lambda: Vec<f64> = members
            .iter()
            .map(|&e| lambda(n, f_sel[0][frame.units[e]], 1.0))
            .collect();
        let group = Group { members, lambda };
        earlier.push((
            0,
            Group {
                members: group.members.iter().map(|&e| frame.units[e]).collect(),
                lambda: group.lambda.clone(),
            },
        ));
        frame_set.groups.push((Target::Frame, group));
    }

    for t in 0..n_tiers {
        if t > 0 {
            // Ancestry of the selected units of tier t from the respondents of tier t − 1.
            let step = &recipe.tiers[t - 1];
            let previous = &full.unit_weights[t - 1];
            // Selected units of the tier: listed by its non-response step or its subsample,
            // or carrying weight.
            let mut chosen: Vec<bool> = full.unit_weights[t].iter().map(|&w| w > 0.0).collect();
            for unit in step.nonresponse.iter().flat_map(|s| s.units.iter()) {
                if let Some(slot) = chosen.get_mut(*unit) {
                    *slot = true;
                }
            }
            for s in step.subsample.iter().flatten() {
                if let Some(slot) = chosen.get_mut(s.target_unit) {
                    *slot = true;
                }
            }
            let mut incoming: Vec<Vec<(usize, f64)>> = vec![Vec::new(); sizes[t]];
            for (i, &w) in previous.iter().enumerate() {
                if w <= 0.0 {
                    continue;
                }
                let shared = share(
                    &step.operator,
                    &[FrameWeight {
                        frame_unit: i,
                        weight: w,
                    }],
                    step.retention.as_ref(),
                )?;
                for (k, &c) in shared.unit_weight.iter().enumerate() {
                    if c > 0.0 && chosen[k] {
                        incoming[k].push((i, c));
                    }
                }
            }
            let mut next = vec![BTreeMap::new(); sizes[t]];
            for (k, sources) in incoming.iter().enumerate() {
                let total: f64 = sources.iter().map(|(_, c)| c).sum();
                if total <= 0.0 {
                    continue;
                }
                let map: &mut BTreeMap<(usize, usize), f64> = &mut next[k];
                for &(i, c) in sources {
                    let p = c / total;
                    for (&key, &a) in &ancestry[i] {
                        *map.entry(key).or_insert(0.0) += p * a;
                    }
                }
            }
            ancestry = next;
            // q_k = 1 − Σ over earlier groups of the share they capture.
            for k in 0..sizes[t] {
                if ancestry[k].is_empty() {
                    continue;
                }
                let mut c = 0.0;
                for (tier, group) in &earlier {
                    let alpha: Vec<f64> = group
                        .members
                        .iter()
                        .map(|&u| ancestry[k].get(&(*tier, u)).copied().unwrap_or(0.0))
                        .collect();
                    if alpha.iter().any(|&a| a > 0.0) {
                        c += captured(group, &alpha);
                    }
                }
                remaining[t][k] = (1.0 - c).clamp(0.0, 1.0);
                ancestry[k].insert((t, k), 1.0);
            }
            // The reached-unit subsample of the tier: one SRSWOR, f = π_{i|s}.
            if let Some(subsample) = &step.subsample {
                let members: Vec<usize> = subsample.iter().map(|s| s.target_unit).collect();
                for s in subsample {
                    f_sel[t][s.target_unit] = s.probability.get();
                }
                let n = members.len();
                let lambda: Vec<f64> = members
                    .iter()
                    .map(|&k| lambda(n, f_sel[t][k], remaining[t][k]))
                    .collect();
                let group = Group { members, lambda };
                earlier.push((t, group.clone()));
                unit_sets.push(SetPlan {
                    name: format!("tier{t}"),
                    groups: vec![(Target::Tier(t), group)],
                });
            }
        }
        // The response phase of the tier, class by class.
        let (step, units): (Option<_>, Vec<usize>) = if t == 0 {
            (frame.nonresponse.as_ref(), frame.units.clone())
        } else {
            let step = recipe.tiers[t - 1].nonresponse.as_ref();
            (step, step.map(|s| s.units.clone()).unwrap_or_default())
        };
        if let (Some(step), Some(classes)) = (step, full.nonresponse_classes(t)) {
            let n_classes = classes.iter().map(|c| c + 1).max().unwrap_or(0);
            for class in 0..n_classes {
                let mut respondents = Vec::new();
                let mut eligible = 0usize;
                for (idx, &unit) in units.iter().enumerate() {
                    if classes[idx] != class {
                        continue;
                    }
                    match step.status[idx] {
                        ResponseStatus::Respondent => {
                            eligible += 1;
                            respondents.push((idx, unit));
                        }
                        ResponseStatus::NonRespondent | ResponseStatus::Unknown => eligible += 1,
                        ResponseStatus::Ineligible => {}
                    }
                }
                if respondents.is_empty() {
                    continue;
                }
                let f = respondents.len() as f64 / eligible as f64;
                let n = respondents.len();
                for &(_, unit) in &respondents {
                    f_resp[t][unit] = f;
                }
                let lambda: Vec<f64> = respondents
                    .iter()
                    .map(|&(_, u)| lambda(n, f, remaining[t][u] * f_sel[t][u]))
                    .collect();
                let (target, members): (Target, Vec<usize>) = if t == 0 {
                    (Target::Frame, respondents.iter().map(|&(e, _)| e).collect())
                } else {
                    (
                        Target::Tier(t),
                        respondents.iter().map(|&(_, u)| u).collect(),
                    )
                };
                earlier.push((
                    t,
                    Group {
                        members: respondents.iter().map(|&(_, u)| u).collect(),
                        lambda: lambda.clone(),
                    },
                ));
                response_set
                    .groups
                    .push((target, Group { members, lambda }));
            }
        }
    }

    // Workers: the respondents of each (tier, unit, take) cell.
    let mut cells: HashMap<(usize, usize, u64, u64, u64), Vec<usize>> = HashMap::new();
    for (row, worker) in recipe.workers.iter().enumerate() {
        let take = worker.take;
        cells
            .entry((
                worker.tier,
                worker.unit,
                take.population,
                take.selected,
                take.responded,
            ))
            .or_default()
            .push(row);
    }
    let mut cell_keys: Vec<_> = cells.keys().copied().collect();
    cell_keys.sort_unstable();
    let mut worker_set = SetPlan {
        name: "workers".into(),
        groups: Vec::new(),
    };
    for key in cell_keys {
        let (tier, unit, population, _, _) = key;
        let members = cells.remove(&key).unwrap_or_default();
        let n = members.len();
        let f = n as f64 / population.max(1) as f64;
        let q = remaining
            .get(tier)
            .and_then(|r| r.get(unit))
            .copied()
            .unwrap_or(0.0)
            * f_sel[tier][unit]
            * f_resp[tier][unit];
        let lambda = vec![lambda(n, f, q); n];
        worker_set
            .groups
            .push((Target::Workers, Group { members, lambda }));
    }

    let mut plans = vec![frame_set, response_set];
    plans.extend(unit_sets);
    plans.push(worker_set);
    let base: Vec<f64> = frame.base.iter().map(|d| d.get()).collect();
    // Without calibration or trimming a worker factor only multiplies the final weight.
    let workers_are_last = recipe.calibration.is_none() && recipe.trimming.is_none();
    let mut rng = ChaCha20Rng::seed_from_u64(design.seed);
    let mut out = Replicates {
        sets: Vec::new(),
        weights: Vec::new(),
        set_of: Vec::new(),
        remaining,
    };
    for plan in plans {
        let live: Vec<&(Target, Group)> = plan
            .groups
            .iter()
            .filter(|(_, g)| g.n_star() > 0 && g.lambda.iter().any(|&l| l > 0.0))
            .collect();
        if live.is_empty() {
            continue;
        }
        let set_index = out.sets.len();
        out.sets.push(ReplicateSet {
            name: plan.name.clone(),
            scale: 1.0 / design.replicates as f64,
            design_df: live.iter().map(|(_, g)| g.members.len() as f64 - 1.0).sum(),
        });
        for _ in 0..design.replicates {
            let mut frame_weights = base.clone();
            let mut later = LaterStageFactors {
                units: vec![Vec::new(); recipe.tiers.len()],
                workers: Vec::new(),
            };
            for (target, group) in &live {
                let kept = half_sample(group.members.len(), group.n_star(), &mut rng);
                let n = group.members.len() as f64;
                let ratio = n / group.n_star() as f64;
                for (idx, &member) in group.members.iter().enumerate() {
                    let l = group.lambda[idx];
                    let factor = 1.0 - l + l * ratio * if kept[idx] { 1.0 } else { 0.0 };
                    match *target {
                        Target::Frame => frame_weights[member] *= factor,
                        Target::Tier(t) => {
                            let factors = &mut later.units[t - 1];
                            if factors.is_empty() {
                                factors.resize(sizes[t], 1.0);
                            }
                            factors[member] *= factor;
                        }
                        Target::Workers => {
                            if later.workers.is_empty() {
                                later.workers.resize(recipe.workers.len(), 1.0);
                            }
                            later.workers[member] *= factor;
                        }
                    }
                }
            }
            let weights = if plan.name == "workers" && workers_are_last {
                full.weights
                    .iter()
                    .zip(&later.workers)
                    .map(|(w, f)| w * f)
                    .collect()
            } else {
                run_replicate_with(recipe, full, &frame_weights, &later)?
            };
            out.weights.push(weights);
            out.set_of.push(set_index);
        }
    }
    Ok(out)
}

/// Which of n members a half-sample of `n_star` drawn without replacement keeps (a partial
/// Fisher–Yates shuffle).
fn half_sample(n: usize, n_star: usize, rng: &mut ChaCha20Rng) -> Vec<bool> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut kept = vec![false; n];
    for i in 0..n_star {
        let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let j = i + ((u * (n - i) as f64) as usize).min(n - i - 1);
        order.swap(i, j);
        kept[order[i]] = true;
    }
    kept
}
