//! Allocation of a total sample size to strata (METHODOLOGY §3.3), then the constraints
//! algorithm exactly as stated there:
//!
//! 1. compute the real-valued allocation q_h over the strata still in play;
//! 2. every stratum with q_h ≥ N_h becomes take-all (n_h = N_h), leaves, n shrinks by N_h,
//!    and the allocation is recomputed; repeat until no stratum overflows;
//! 3. every stratum with q_h below the minimum gets n_h = min(N_h, n_min), leaves, and the
//!    rest is reallocated (going back to step 2, since the recomputed shares grow);
//! 4. the remaining real values are rounded by largest remainder (Hamilton) so Σ n_h = n;
//!    ties go to the larger N_h, then to the lower stratum index.
//!
//! When strata leave, methods that depend on the stratum set are recomputed over the strata
//! still in play (Kish uses their W_h = N_h / Σ N and their count H).

use crate::sampling::error::SamplingError;

/// What an allocation needs to know about one stratum.
#[derive(Clone, Debug, PartialEq)]
pub struct StratumFacts {
    /// Stratum label, for error messages.
    pub key: String,
    /// N_h, the number of population units.
    pub population: u64,
    /// S_h, the standard deviation of the design variable (Neyman, cost, power).
    pub sd: f64,
    /// Ȳ_h, the mean of the design variable (power: CV_h = S_h / Ȳ_h, X_h = N_h Ȳ_h).
    pub mean: f64,
    /// c_h, the cost of one interview (cost-optimal); 1 when unknown.
    pub cost: f64,
    /// X_h for power allocation when it is not N_h Ȳ_h (e.g. stratum value added).
    pub importance: Option<f64>,
}

/// An allocation rule of METHODOLOGY §3.3.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AllocationMethod {
    /// n_h ∝ N_h.
    Proportional,
    /// n_h ∝ N_h S_h.
    Neyman,
    /// n_h ∝ N_h S_h / √c_h.
    CostOptimal,
    /// Bankier: n_h ∝ CV_h X_h^q, 0 ≤ q ≤ 1.
    Power { q: f64 },
    /// Kish compromise: n_h ∝ √(I W_h² + H⁻²).
    Kish { i: f64 },
    /// n_h ∝ √N_h (GSO Input–Output survey 2021).
    SqrtN,
}

impl AllocationMethod {
    /// The name recorded with the sample.
    pub fn name(&self) -> String {
        match self {
            AllocationMethod::Proportional => "proportional".into(),
            AllocationMethod::Neyman => "neyman".into(),
            AllocationMethod::CostOptimal => "cost_optimal".into(),
            AllocationMethod::Power { q } => format!("power(q={q})"),
            AllocationMethod::Kish { i } => format!("kish(I={i})"),
            AllocationMethod::SqrtN => "sqrt_n".into(),
        }
    }
}

/// The result of [`allocate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Allocation {
    /// Final integer sample sizes, Σ = n.
    pub n_h: Vec<u64>,
    /// The first-pass real allocation over all strata (before any constraint).
    pub raw: Vec<f64>,
    /// The real values that were rounded (fixed strata hold their fixed value).
    pub real: Vec<f64>,
    /// Strata made take-all by step 2.
    pub take_all: Vec<bool>,
    /// Strata set to the minimum by step 3.
    pub at_minimum: Vec<bool>,
}

/// The real-valued allocation of `n` over `strata` by `method` (step 1 only).
pub fn raw_allocation(
    method: AllocationMethod,
    strata: &[StratumFacts],
    n: f64,
) -> Result<Vec<f64>, SamplingError> {
    let active: Vec<usize> = (0..strata.len()).collect();
    let mut out = vec![0.0; strata.len()];
    spread(method, strata, &active, n, &mut out)?;
    Ok(out)
}

/// Allocates `n` to `strata` with the constraints algorithm (module docs).
pub fn allocate(
    method: AllocationMethod,
    strata: &[StratumFacts],
    n: u64,
    min_per_stratum: u64,
) -> Result<Allocation, SamplingError> {
    let total: u64 = strata.iter().map(|s| s.population).sum();
    if n > total {
        return Err(SamplingError::SampleLargerThanPopulation {
            n,
            population: total,
        });
    }
    let needed: u64 = strata
        .iter()
        .map(|s| s.population.min(min_per_stratum))
        .sum();
    if needed > n {
        return Err(SamplingError::MinimumInfeasible {
            n,
            min_per_stratum,
            needed,
        });
    }
    let raw = raw_allocation(method, strata, n as f64)?;
    let h = strata.len();
    let mut take_all = vec![false; h];
    let mut at_minimum = vec![false; h];
    let mut fixed: Vec<Option<u64>> = vec![None; h];
    // Empty strata take nothing and play no part in the shares.
    for (pos, stratum) in strata.iter().enumerate() {
        if stratum.population == 0 {
            fixed[pos] = Some(0);
        }
    }
    let mut remaining = n;
    let mut real = vec![0.0; h];
    loop {
        let active: Vec<usize> = (0..h).filter(|&pos| fixed[pos].is_none()).collect();
        if active.is_empty() {
            break;
        }
        spread(method, strata, &active, remaining as f64, &mut real)?;
        let overflow: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&pos| real[pos] >= strata[pos].population as f64)
            .collect();
        if !overflow.is_empty() {
            for pos in overflow {
                fixed[pos] = Some(strata[pos].population);
                take_all[pos] = true;
                remaining -= strata[pos].population;
            }
            continue;
        }
        let under: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&pos| real[pos] < min_per_stratum as f64)
            .collect();
        if !under.is_empty() {
            for pos in under {
                let value = strata[pos].population.min(min_per_stratum);
                fixed[pos] = Some(value);
                at_minimum[pos] = true;
                remaining =
                    remaining
                        .checked_sub(value)
                        .ok_or(SamplingError::MinimumInfeasible {
                            n,
                            min_per_stratum,
                            needed,
                        })?;
            }
            continue;
        }
        break;
    }
    let mut n_h = vec![0u64; h];
    let mut free: Vec<usize> = Vec::new();
    for pos in 0..h {
        match fixed[pos] {
            Some(value) => {
                n_h[pos] = value;
                real[pos] = value as f64;
            }
            None => free.push(pos),
        }
    }
    round_largest_remainder(strata, &free, &real, remaining, &mut n_h);
    Ok(Allocation {
        n_h,
        raw,
        real,
        take_all,
        at_minimum,
    })
}

/// Hamilton rounding of `real[free]` to integers summing to `target`.
fn round_largest_remainder(
    strata: &[StratumFacts],
    free: &[usize],
    real: &[f64],
    target: u64,
    n_h: &mut [u64],
) {
    let mut assigned = 0u64;
    for &pos in free {
        let floor = real[pos].floor().max(0.0) as u64;
        n_h[pos] = floor;
        assigned += floor;
    }
    let mut order: Vec<usize> = free.to_vec();
    // Remainders closer than 1e-9 are ties: they differ only by floating-point noise.
    order.sort_by(|&a, &b| {
        let ra = real[a] - real[a].floor();
        let rb = real[b] - real[b].floor();
        if (ra - rb).abs() > 1e-9 {
            rb.total_cmp(&ra)
        } else {
            strata[b]
                .population
                .cmp(&strata[a].population)
                .then(a.cmp(&b))
        }
    });
    let mut left = target.saturating_sub(assigned);
    for &pos in order.iter().cycle().take(order.len() * 2) {
        if left == 0 {
            break;
        }
        if n_h[pos] < strata[pos].population {
            n_h[pos] += 1;
            left -= 1;
        }
    }
}

/// Spreads `n` over the `active` strata by `method`, writing into `out[active]`.
fn spread(
    method: AllocationMethod,
    strata: &[StratumFacts],
    active: &[usize],
    n: f64,
    out: &mut [f64],
) -> Result<(), SamplingError> {
    let total_population: f64 = active.iter().map(|&p| strata[p].population as f64).sum();
    let h = active.len() as f64;
    let mut shares = Vec::with_capacity(active.len());
    for &pos in active {
        let s = &strata[pos];
        let big_n = s.population as f64;
        let share = match method {
            AllocationMethod::Proportional => big_n,
            AllocationMethod::Neyman => big_n * check_sd(s)?,
            AllocationMethod::CostOptimal => {
                if !(s.cost.is_finite() && s.cost > 0.0) {
                    return Err(bad_stratum(s, format!("cost {} must be > 0", s.cost)));
                }
                big_n * check_sd(s)? / s.cost.sqrt()
            }
            AllocationMethod::Power { q } => {
                if !(0.0..=1.0).contains(&q) {
                    return Err(SamplingError::BadParameter {
                        name: "q".into(),
                        value: q.to_string(),
                        reason: "power allocation needs 0 ≤ q ≤ 1".into(),
                    });
                }
                if !(s.mean.is_finite() && s.mean > 0.0) {
                    return Err(bad_stratum(
                        s,
                        format!("power allocation needs a mean > 0, got {}", s.mean),
                    ));
                }
                let cv = check_sd(s)? / s.mean;
                let importance = s.importance.unwrap_or(big_n * s.mean);
                if !(importance.is_finite() && importance >= 0.0) {
                    return Err(bad_stratum(
                        s,
                        format!("importance {importance} must be ≥ 0"),
                    ));
                }
                cv * importance.powf(q)
            }
            AllocationMethod::Kish { i } => {
                if !(i.is_finite() && i >= 0.0) {
                    return Err(SamplingError::BadParameter {
                        name: "I".into(),
                        value: i.to_string(),
                        reason: "Kish allocation needs I ≥ 0".into(),
                    });
                }
                let w = big_n / total_population;
                (i * w * w + 1.0 / (h * h)).sqrt()
            }
            AllocationMethod::SqrtN => big_n.sqrt(),
        };
        shares.push(share);
    }
    let sum: f64 = shares.iter().sum();
    if !(sum.is_finite() && sum > 0.0) {
        return Err(SamplingError::BadParameter {
            name: "allocation".into(),
            value: method.name(),
            reason: "every stratum has a zero share (e.g. all S_h = 0); use proportional".into(),
        });
    }
    for (&pos, share) in active.iter().zip(shares) {
        out[pos] = n * share / sum;
    }
    Ok(())
}

fn check_sd(s: &StratumFacts) -> Result<f64, SamplingError> {
    if s.sd.is_finite() && s.sd >= 0.0 {
        Ok(s.sd)
    } else {
        Err(bad_stratum(
            s,
            format!("standard deviation {} must be ≥ 0", s.sd),
        ))
    }
}

fn bad_stratum(s: &StratumFacts, reason: String) -> SamplingError {
    SamplingError::BadStratum {
        stratum: s.key.clone(),
        reason,
    }
}

/// The total sample size a fixed budget buys under cost-optimal allocation:
/// n = (C − c₀) Σ N_h S_h/√c_h / Σ N_h S_h √c_h.
pub fn cost_optimal_total(
    strata: &[StratumFacts],
    budget: f64,
    fixed_cost: f64,
) -> Result<f64, SamplingError> {
    let mut numerator = 0.0;
    let mut denominator = 0.0;
    for s in strata {
        if !(s.cost.is_finite() && s.cost > 0.0) {
            return Err(bad_stratum(s, format!("cost {} must be > 0", s.cost)));
        }
        let ns = s.population as f64 * check_sd(s)?;
        numerator += ns / s.cost.sqrt();
        denominator += ns * s.cost.sqrt();
    }
    if denominator <= 0.0 || denominator.is_nan() || budget <= fixed_cost {
        return Err(SamplingError::BadParameter {
            name: "budget".into(),
            value: budget.to_string(),
            reason: "needs a budget above the fixed cost and some stratum with S_h > 0".into(),
        });
    }
    Ok((budget - fixed_cost) * numerator / denominator)
}
