//! Calibration of design weights to known population totals (METHODOLOGY §3.7).
//!
//! Every function takes design weights `d` and returns g-factors, so the final weight of row
//! `k` is `d[k] * g[k]`. The methods are the Deville–Särndal family as R `survey` computes them:
//!
//! - [`calibrate`] with [`Distance::Linear`] is the GREG (closed form, one Newton step, same as
//!   R `calibrate(calfun = "linear")` without bounds, i.e. `regcalibrate`);
//! - [`Distance::Raking`] is multiplicative raking `g = exp(xᵀλ)`, solved by Newton–Raphson
//!   (R `calfun = "raking"`);
//! - [`Distance::Logit`] is the bounded logit distance with `g ∈ (L, U)`
//!   (R `calfun = "logit"`, `sampling::calib(method = "logit")`);
//! - [`Distance::TruncatedLinear`] is linear calibration with `g` clamped to `[L, U]`; the
//!   Newton step gives clamped rows zero derivative, which is the "fix at the bound and re-solve
//!   on the rest" iteration (R `calfun = "linear"` with `bounds`);
//! - [`poststratify`] is the closed form `g = N_c / N̂_c` (R `postStratify`);
//! - [`rake_ipf`] is iterative proportional fitting over categorical margins (R `rake`); its
//!   fixed point is the raking solution of [`calibrate`] with the margin indicators as `x`.
//!
//! Convergence is declared when every constraint satisfies `|Σ d g x − t| / (1 + |t|) <
//! tolerance`, the criterion of R `survey:::grake`. A calibration that cannot meet its totals
//! (an auxiliary column that is zero in the sample but not in the population, a cell absent from
//! the sample, or no convergence within `max_iter`) is an [`Error`](enum@Error), never silent weights.
//!
//! Deliberately not here: variance of calibrated estimators (that is `estimate`, which uses
//! the regression residuals), trimming, and the model-matrix expansion of factor columns.
// Row loops index several parallel columns at once; an index reads clearer than zipped
// iterators here.
#![allow(clippy::needless_range_loop)]

use nalgebra::{DMatrix, DVector};
use thiserror::Error;

/// Why a calibration could not produce weights. Each variant names the situation.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The auxiliary matrix does not have `rows × columns` values, or totals/columns disagree.
    #[error("calibration input has inconsistent shape: {0}")]
    Shape(String),
    /// A design weight is negative, NaN or infinite.
    #[error("design weight of row {row} is {value}; weights must be finite and non-negative")]
    BadWeight { row: usize, value: f64 },
    /// An auxiliary value is NaN or infinite.
    #[error("auxiliary value at row {row}, column {column} is not finite")]
    BadAuxiliary { row: usize, column: usize },
    /// The bounds are not `lower < 1 < upper` (logit) or `lower ≤ 1 ≤ upper` (truncated).
    #[error("calibration bounds ({lower}, {upper}) must satisfy lower < 1 < upper")]
    BadBounds { lower: f64, upper: f64 },
    /// A population total is not finite, or a post-stratum/margin total is negative.
    #[error("population total {index} is {value}")]
    BadTotal { index: usize, value: f64 },
    /// Column `column` is zero for every sampled row, but its population total is not zero:
    /// no weights can reach it.
    #[error("auxiliary column {column} is zero in the sample but its population total is {total}")]
    Unreachable { column: usize, total: f64 },
    /// A cell has a population total but no sample weight (R: "some strata absent from
    /// sample").
    #[error("cell {cell} of margin {margin} has population total {total} but no sample weight")]
    EmptyCell {
        margin: usize,
        cell: usize,
        total: f64,
    },
    /// A cell has sample weight but a zero population total (R: "strata in sample absent from
    /// population").
    #[error("cell {cell} of margin {margin} has sample weight but population total 0")]
    CellAbsentFromPopulation { margin: usize, cell: usize },
    /// The category code of a row is outside `0..cells`.
    #[error("row {row} has category {category} but margin {margin} has {cells} cells")]
    CategoryOutOfRange {
        margin: usize,
        row: usize,
        category: usize,
        cells: usize,
    },
    /// The algorithm did not meet the totals within `max_iter` iterations.
    #[error(
        "calibration did not converge in {iterations} iterations (largest relative misfit {max_misfit:e}); the totals may be unreachable with these bounds"
    )]
    NotConverged { iterations: usize, max_misfit: f64 },
}

/// The calibration distance (Deville–Särndal `F`, with `g = F(xᵀλ)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distance {
    /// `g = 1 + u` (GREG); can give negative weights.
    Linear,
    /// `g = exp(u)`; weights stay positive.
    Raking,
    /// Bounded logit: `g ∈ (lower, upper)` with `lower < 1 < upper`.
    Logit { lower: f64, upper: f64 },
    /// `g = clamp(1 + u, lower, upper)`.
    TruncatedLinear { lower: f64, upper: f64 },
}

/// How [`calibrate`] and [`rake_ipf`] iterate. There is no `Default`: policy is explicit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationConfig {
    pub distance: Distance,
    /// Maximum number of Newton steps (or IPF cycles).
    pub max_iter: usize,
    /// Convergence when `max |Σ w x − t| / (1 + |t|) < tolerance` (R `epsilon`).
    pub tolerance: f64,
}

/// A row-major `rows × columns` auxiliary matrix borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub struct AuxMatrix<'a> {
    values: &'a [f64],
    rows: usize,
    columns: usize,
}

impl<'a> AuxMatrix<'a> {
    /// Wraps `values` (row `k`, column `j` at `values[k * columns + j]`).
    pub fn new(values: &'a [f64], rows: usize, columns: usize) -> Result<Self, Error> {
        if rows.checked_mul(columns) != Some(values.len()) {
            return Err(Error::Shape(format!(
                "{} values cannot form a {rows} × {columns} matrix",
                values.len()
            )));
        }
        if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::BadAuxiliary {
                row: pos / columns,
                column: pos % columns,
            });
        }
        Ok(AuxMatrix {
            values,
            rows,
            columns,
        })
    }

    /// Number of rows (sample units).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (calibration constraints).
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Row `k` as a slice.
    pub fn row(&self, k: usize) -> &'a [f64] {
        &self.values[k * self.columns..(k + 1) * self.columns]
    }
}

/// Result of a calibration: the g-factors and how they were reached.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrated {
    /// One g-factor per row; the calibrated weight is `d[k] * g[k]`.
    pub g: Vec<f64>,
    /// Lagrange multipliers λ (one per auxiliary column; empty for IPF/post-stratification).
    pub lambda: Vec<f64>,
    /// Newton steps or IPF cycles used.
    pub iterations: usize,
    /// Largest `|Σ d g x − t| / (1 + |t|)` at the end.
    pub max_misfit: f64,
}

/// A categorical margin for [`rake_ipf`]: the cell of every row and the population count of
/// every cell.
#[derive(Debug, Clone, Copy)]
pub struct Margin<'a> {
    pub category: &'a [usize],
    pub totals: &'a [f64],
}

/// Calibrates `design_weights` so that `Σ d g x = totals` under `config.distance`.
///
/// Newton–Raphson on λ from λ = 0: `T = Σ d F'(xᵀλ) x xᵀ`, `λ ← λ + T⁺ (t − Σ d F(xᵀλ) x)`,
/// with step halving when `g` becomes non-finite (as R `grake`). `T⁺` is a pseudo-inverse, so
/// collinear auxiliaries are allowed when the totals are consistent. Columns that are zero in
/// the sample and have a zero total are dropped (λ = 0 for them), as R does.
pub fn calibrate(
    design_weights: &[f64],
    aux: &AuxMatrix<'_>,
    totals: &[f64],
    config: &CalibrationConfig,
) -> Result<Calibrated, Error> {
    let n = aux.rows();
    let p = aux.columns();
    if design_weights.len() != n {
        return Err(Error::Shape(format!(
            "{} design weights for {n} auxiliary rows",
            design_weights.len()
        )));
    }
    if totals.len() != p {
        return Err(Error::Shape(format!(
            "{} totals for {p} auxiliary columns",
            totals.len()
        )));
    }
    check_weights(design_weights)?;
    if let Some((index, &value)) = totals.iter().enumerate().find(|(_, t)| !t.is_finite()) {
        return Err(Error::BadTotal { index, value });
    }
    match config.distance {
        Distance::Logit { lower, upper } if !(lower < 1.0 && 1.0 < upper) => {
            return Err(Error::BadBounds { lower, upper });
        }
        Distance::TruncatedLinear { lower, upper } if !(lower <= 1.0 && 1.0 <= upper) => {
            return Err(Error::BadBounds { lower, upper });
        }
        _ => {}
    }

    // Columns with no sample support: drop them when their total is zero, refuse otherwise.
    let mut active: Vec<usize> = Vec::with_capacity(p);
    for j in 0..p {
        let all_zero = (0..n).all(|k| aux.row(k)[j] == 0.0 || design_weights[k] == 0.0);
        if all_zero {
            if totals[j] != 0.0 {
                return Err(Error::Unreachable {
                    column: j,
                    total: totals[j],
                });
            }
        } else {
            active.push(j);
        }
    }
    let q = active.len();
    let mut lambda = vec![0.0; q];
    let mut u = vec![0.0; n];
    let misfit_of = |g: &[f64]| -> Vec<f64> {
        let mut achieved = vec![0.0; q];
        let mut comp = vec![0.0; q];
        for k in 0..n {
            let row = aux.row(k);
            let w = design_weights[k] * g[k];
            for (a, &j) in active.iter().enumerate() {
                neumaier_add(&mut achieved[a], &mut comp[a], w * row[j]);
            }
        }
        (0..q)
            .map(|a| totals[active[a]] - (achieved[a] + comp[a]))
            .collect()
    };
    let relative = |misfit: &[f64]| -> f64 {
        misfit
            .iter()
            .enumerate()
            .map(|(a, m)| m.abs() / (1.0 + totals[active[a]].abs()))
            .fold(0.0, f64::max)
    };

    let mut g: Vec<f64> = vec![1.0; n];
    let mut misfit = misfit_of(&g);
    let mut iterations = 0;
    loop {
        // At least one Newton step is taken, so the reported λ is always the solution.
        if (relative(&misfit) < config.tolerance && iterations > 0) || q == 0 {
            break;
        }
        if iterations >= config.max_iter {
            return Err(Error::NotConverged {
                iterations,
                max_misfit: relative(&misfit),
            });
        }
        iterations += 1;
        // T = Σ d F'(u) x xᵀ over the active columns.
        let mut t = DMatrix::<f64>::zeros(q, q);
        for k in 0..n {
            let d = design_weights[k];
            if d == 0.0 {
                continue;
            }
            let deriv = derivative(config.distance, u[k]);
            if deriv == 0.0 {
                continue;
            }
            let row = aux.row(k);
            let s = d * deriv;
            for a in 0..q {
                let xa = row[active[a]] * s;
                if xa == 0.0 {
                    continue;
                }
                for b in a..q {
                    t[(a, b)] += xa * row[active[b]];
                }
            }
        }
        for a in 0..q {
            for b in 0..a {
                t[(a, b)] = t[(b, a)];
            }
        }
        let step = solve_pseudo(t, DVector::from_vec(misfit.clone()));
        let mut scale = 1.0;
        loop {
            let trial: Vec<f64> = lambda
                .iter()
                .zip(&step)
                .map(|(l, s)| l + scale * s)
                .collect();
            let mut finite = true;
            for k in 0..n {
                let row = aux.row(k);
                let uk: f64 = active.iter().zip(&trial).map(|(&j, l)| row[j] * l).sum();
                let gk = distance_g(config.distance, uk);
                if !gk.is_finite() {
                    finite = false;
                    break;
                }
                u[k] = uk;
                g[k] = gk;
            }
            if finite {
                lambda = trial;
                break;
            }
            scale /= 2.0;
            iterations += 1;
            if iterations > config.max_iter {
                return Err(Error::NotConverged {
                    iterations,
                    max_misfit: f64::INFINITY,
                });
            }
        }
        misfit = misfit_of(&g);
    }
    let mut full_lambda = vec![0.0; p];
    for (a, &j) in active.iter().enumerate() {
        full_lambda[j] = lambda[a];
    }
    Ok(Calibrated {
        g,
        lambda: full_lambda,
        iterations,
        max_misfit: relative(&misfit),
    })
}

/// Post-stratification: `g_k = N_c / Σ_{i∈c} d_i` for the cell `c` of row `k`.
///
/// Cells with no rows and a zero total are ignored. A cell with population total but no sample
/// weight is [`Error::EmptyCell`] (R `postStratify(partial = FALSE)`); a cell with sample weight
/// and a zero total is [`Error::CellAbsentFromPopulation`].
pub fn poststratify(
    design_weights: &[f64],
    cell_of_row: &[usize],
    cell_totals: &[f64],
) -> Result<Calibrated, Error> {
    if design_weights.len() != cell_of_row.len() {
        return Err(Error::Shape(format!(
            "{} design weights for {} cell codes",
            design_weights.len(),
            cell_of_row.len()
        )));
    }
    check_weights(design_weights)?;
    check_cell_totals(cell_totals)?;
    let sums = cell_sums(0, design_weights, None, cell_of_row, cell_totals.len())?;
    let ratio = cell_ratios(0, &sums, cell_totals)?;
    let g: Vec<f64> = cell_of_row.iter().map(|&c| ratio[c]).collect();
    Ok(Calibrated {
        g,
        lambda: Vec::new(),
        iterations: 1,
        max_misfit: 0.0,
    })
}

/// Raking by iterative proportional fitting over categorical `margins`.
///
/// One cycle post-stratifies the current weights to each margin in turn; cycles repeat until
/// every margin cell satisfies `|Σ w − N_c| / (1 + N_c) < config.tolerance` (checked after a
/// full cycle) or `config.max_iter` cycles have run ([`Error::NotConverged`]).
/// `config.distance` is ignored: IPF is raking.
pub fn rake_ipf(
    design_weights: &[f64],
    margins: &[Margin<'_>],
    config: &CalibrationConfig,
) -> Result<Calibrated, Error> {
    check_weights(design_weights)?;
    for (m, margin) in margins.iter().enumerate() {
        if margin.category.len() != design_weights.len() {
            return Err(Error::Shape(format!(
                "margin {m} has {} cell codes for {} rows",
                margin.category.len(),
                design_weights.len()
            )));
        }
        check_cell_totals(margin.totals)?;
        // Reachability is a property of the design weights, so check it once up front.
        let sums = cell_sums(
            m,
            design_weights,
            None,
            margin.category,
            margin.totals.len(),
        )?;
        cell_ratios(m, &sums, margin.totals)?;
    }
    // Every row of one joint cell (the crossing of all margins) gets the same factor, so IPF
    // runs on the joint-cell totals when there are not too many possible cells: two passes
    // over the rows instead of one per margin and cycle.
    let n = design_weights.len();
    let joint_size = margins
        .iter()
        .try_fold(1usize, |acc, m| acc.checked_mul(m.totals.len().max(1)));
    if let Some(size) = joint_size
        && margins.len() > 1
        && size <= 4 * n + 1024
    {
        let mut joint = vec![0usize; n];
        let mut stride = 1usize;
        for margin in margins {
            for (j, &c) in joint.iter_mut().zip(margin.category) {
                *j += c * stride;
            }
            stride *= margin.totals.len().max(1);
        }
        // Occupied joint cells, their design-weight totals and their category per margin.
        let mut slot = vec![usize::MAX; size];
        let mut cell_weight: Vec<f64> = Vec::new();
        let mut cell_comp: Vec<f64> = Vec::new();
        let mut first_row: Vec<usize> = Vec::new();
        for (k, &j) in joint.iter().enumerate() {
            if slot[j] == usize::MAX {
                slot[j] = cell_weight.len();
                cell_weight.push(0.0);
                cell_comp.push(0.0);
                first_row.push(k);
            }
            let s = slot[j];
            neumaier_add(&mut cell_weight[s], &mut cell_comp[s], design_weights[k]);
        }
        let cell_weight: Vec<f64> = cell_weight
            .iter()
            .zip(&cell_comp)
            .map(|(s, c)| s + c)
            .collect();
        let categories: Vec<Vec<usize>> = margins
            .iter()
            .map(|m| first_row.iter().map(|&k| m.category[k]).collect())
            .collect();
        let aggregated: Vec<Margin<'_>> = margins
            .iter()
            .zip(&categories)
            .map(|(m, category)| Margin {
                category,
                totals: m.totals,
            })
            .collect();
        let cal = rake_rows(&cell_weight, &aggregated, config)?;
        let g = joint.iter().map(|&j| cal.g[slot[j]]).collect();
        return Ok(Calibrated { g, ..cal });
    }
    rake_rows(design_weights, margins, config)
}

/// IPF over the rows given (rows may be joint cells with their weight totals).
fn rake_rows(
    design_weights: &[f64],
    margins: &[Margin<'_>],
    config: &CalibrationConfig,
) -> Result<Calibrated, Error> {
    let n = design_weights.len();
    let mut g = vec![1.0; n];
    if margins.is_empty() {
        return Ok(Calibrated {
            g,
            lambda: Vec::new(),
            iterations: 0,
            max_misfit: 0.0,
        });
    }
    // One pass per margin: the pass that applies margin m's ratios also accumulates the cell
    // sums of the next margin. The misfit of a cycle is the largest misfit seen before each
    // margin's update, so a converged cycle leaves every margin within tolerance.
    let mut sums = cell_sums(
        0,
        design_weights,
        None,
        margins[0].category,
        margins[0].totals.len(),
    )?;
    let mut iterations = 0;
    loop {
        if iterations >= config.max_iter {
            let misfit = margin_misfit(&sums, margins[0].totals);
            return Err(Error::NotConverged {
                iterations,
                max_misfit: misfit,
            });
        }
        iterations += 1;
        let mut misfit: f64 = 0.0;
        for (m, margin) in margins.iter().enumerate() {
            misfit = misfit.max(margin_misfit(&sums, margin.totals));
            let ratio = cell_ratios(m, &sums, margin.totals)?;
            let next = &margins[(m + 1) % margins.len()];
            let mut next_sums = vec![0.0; next.totals.len()];
            let mut next_comp = vec![0.0; next.totals.len()];
            for k in 0..n {
                g[k] *= ratio[margin.category[k]];
                let c = next.category[k];
                neumaier_add(
                    &mut next_sums[c],
                    &mut next_comp[c],
                    design_weights[k] * g[k],
                );
            }
            sums = next_sums
                .iter()
                .zip(&next_comp)
                .map(|(s, c)| s + c)
                .collect();
        }
        if misfit < config.tolerance {
            // `sums` now holds margin 0 after the full cycle; report the true final misfit.
            let final_misfit = margins
                .iter()
                .enumerate()
                .map(|(m, margin)| {
                    cell_sums(
                        m,
                        design_weights,
                        Some(&g),
                        margin.category,
                        margin.totals.len(),
                    )
                    .map(|s| margin_misfit(&s, margin.totals))
                })
                .collect::<Result<Vec<f64>, Error>>()?
                .into_iter()
                .fold(0.0, f64::max);
            return Ok(Calibrated {
                g,
                lambda: Vec::new(),
                iterations,
                max_misfit: final_misfit,
            });
        }
    }
}

fn margin_misfit(sums: &[f64], totals: &[f64]) -> f64 {
    sums.iter()
        .zip(totals)
        .map(|(s, t)| (s - t).abs() / (1.0 + t.abs()))
        .fold(0.0, f64::max)
}

/// `F(u)`: the g-factor for linear predictor `u`.
pub fn distance_g(distance: Distance, u: f64) -> f64 {
    match distance {
        Distance::Linear => 1.0 + u,
        Distance::Raking => u.exp(),
        Distance::TruncatedLinear { lower, upper } => (1.0 + u).clamp(lower, upper),
        Distance::Logit { lower, upper } => {
            let a = (upper - lower) / ((1.0 - lower) * (upper - 1.0));
            let z = a * u;
            // Written in e^{-|z|} so that neither branch overflows.
            if z > 0.0 {
                let e = (-z).exp();
                (lower * (upper - 1.0) * e + upper * (1.0 - lower))
                    / ((upper - 1.0) * e + (1.0 - lower))
            } else {
                let e = z.exp();
                (lower * (upper - 1.0) + upper * (1.0 - lower) * e)
                    / ((upper - 1.0) + (1.0 - lower) * e)
            }
        }
    }
}

/// `F'(u)`, the Newton weight of a row.
fn derivative(distance: Distance, u: f64) -> f64 {
    match distance {
        Distance::Linear => 1.0,
        Distance::Raking => u.exp(),
        Distance::TruncatedLinear { lower, upper } => {
            if 1.0 + u > lower && 1.0 + u < upper {
                1.0
            } else {
                0.0
            }
        }
        Distance::Logit { lower, upper } => {
            let a = (upper - lower) / ((1.0 - lower) * (upper - 1.0));
            let z = a * u;
            let c = upper - 1.0;
            let d = 1.0 - lower;
            let numerator = a * (upper - lower) * c * d;
            // E / (c + dE)² = e^{-z} / (c e^{-z} + d)² for z > 0.
            if z > 0.0 {
                let e = (-z).exp();
                numerator * e / ((c * e + d) * (c * e + d))
            } else {
                let e = z.exp();
                numerator * e / ((c + d * e) * (c + d * e))
            }
        }
    }
}

/// Solves `T x = b` with a pseudo-inverse (tolerance 256 ε relative to the largest singular
/// value, as R's `MASS::ginv(tol = 256 * .Machine$double.eps)`).
fn solve_pseudo(t: DMatrix<f64>, b: DVector<f64>) -> Vec<f64> {
    if let Some(chol) = t.clone().cholesky() {
        let x = chol.solve(&b);
        if x.iter().all(|v| v.is_finite()) {
            return x.iter().copied().collect();
        }
    }
    let svd = t.svd(true, true);
    let max_sv = svd.singular_values.iter().copied().fold(0.0, f64::max);
    let eps = 256.0 * f64::EPSILON * max_sv;
    match svd.solve(&b, eps) {
        Ok(x) => x.iter().copied().collect(),
        Err(_) => vec![0.0; b.len()],
    }
}

fn check_weights(design_weights: &[f64]) -> Result<(), Error> {
    match design_weights
        .iter()
        .position(|d| !d.is_finite() || *d < 0.0)
    {
        Some(row) => Err(Error::BadWeight {
            row,
            value: design_weights[row],
        }),
        None => Ok(()),
    }
}

fn check_cell_totals(totals: &[f64]) -> Result<(), Error> {
    match totals.iter().position(|t| !t.is_finite() || *t < 0.0) {
        Some(index) => Err(Error::BadTotal {
            index,
            value: totals[index],
        }),
        None => Ok(()),
    }
}

/// Weighted cell sums `Σ_{k∈c} d_k g_k` (Neumaier-compensated).
fn cell_sums(
    margin: usize,
    design_weights: &[f64],
    g: Option<&[f64]>,
    category: &[usize],
    cells: usize,
) -> Result<Vec<f64>, Error> {
    let mut sums = vec![0.0; cells];
    let mut comp = vec![0.0; cells];
    for (row, (&c, &d)) in category.iter().zip(design_weights).enumerate() {
        if c >= cells {
            return Err(Error::CategoryOutOfRange {
                margin,
                row,
                category: c,
                cells,
            });
        }
        let w = match g {
            Some(g) => d * g[row],
            None => d,
        };
        neumaier_add(&mut sums[c], &mut comp[c], w);
    }
    Ok(sums.iter().zip(&comp).map(|(s, c)| s + c).collect())
}

/// `N_c / N̂_c` per cell, refusing cells that cannot be matched.
fn cell_ratios(margin: usize, sums: &[f64], totals: &[f64]) -> Result<Vec<f64>, Error> {
    sums.iter()
        .zip(totals)
        .enumerate()
        .map(|(cell, (&s, &t))| {
            if s == 0.0 && t > 0.0 {
                Err(Error::EmptyCell {
                    margin,
                    cell,
                    total: t,
                })
            } else if s > 0.0 && t == 0.0 {
                Err(Error::CellAbsentFromPopulation { margin, cell })
            } else if s == 0.0 {
                Ok(1.0)
            } else {
                Ok(t / s)
            }
        })
        .collect()
}

/// One step of Neumaier (improved Kahan) summation.
fn neumaier_add(sum: &mut f64, comp: &mut f64, value: f64) {
    let t = *sum + value;
    if sum.abs() >= value.abs() {
        *comp += (*sum - t) + value;
    } else {
        *comp += (value - t) + *sum;
    }
    *sum = t;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The METHODOLOGY §3.7 test design: 10 units, d = 5, x = (1{k≤5}, 1{k>5}, k).
    fn section_3_7() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let d = vec![5.0; 10];
        let mut x = Vec::new();
        for k in 1..=10 {
            x.extend([
                f64::from(u8::from(k <= 5)),
                f64::from(u8::from(k > 5)),
                f64::from(k),
            ]);
        }
        (d, x, vec![24.0, 26.0, 300.0])
    }

    fn config(distance: Distance) -> CalibrationConfig {
        CalibrationConfig {
            distance,
            max_iter: 50,
            tolerance: 1e-13,
        }
    }

    fn assert_totals(d: &[f64], x: &[f64], g: &[f64], t: &[f64]) {
        for (j, &tj) in t.iter().enumerate() {
            let achieved: f64 = (0..d.len()).map(|k| d[k] * g[k] * x[k * 3 + j]).sum();
            assert!(
                (achieved - tj).abs() < 1e-9,
                "total {j}: {achieved} vs {tj}"
            );
        }
    }

    #[test]
    fn linear_gives_k_over_25_pattern() {
        let (d, x, t) = section_3_7();
        let aux = AuxMatrix::new(&x, 10, 3).unwrap();
        let cal = calibrate(&d, &aux, &t, &config(Distance::Linear)).unwrap();
        let expected = [14.0, 19.0, 24.0, 29.0, 34.0, 16.0, 21.0, 26.0, 31.0, 36.0];
        for (g, e) in cal.g.iter().zip(expected) {
            assert!((g - e / 25.0).abs() < 1e-12, "{g} vs {}", e / 25.0);
        }
        let lambda = [-16.0 / 25.0, -39.0 / 25.0, 0.2];
        for (l, e) in cal.lambda.iter().zip(lambda) {
            assert!((l - e).abs() < 1e-12);
        }
        assert_totals(&d, &x, &cal.g, &t);
    }

    #[test]
    fn raking_matches_oracle_in_five_newton_steps() {
        let (d, x, t) = section_3_7();
        let aux = AuxMatrix::new(&x, 10, 3).unwrap();
        let expected = [
            0.613221, 0.751666, 0.921368, 1.129383, 1.384362, 0.664322, 0.814305, 0.998149,
            1.223499, 1.499725,
        ];
        // The oracle's "5 Newton iterations from λ = 0" is convergence to machine precision;
        // the looser R default (1e-7 on |misfit|/(1 + |t|)) is met after 4.
        let to_precision = CalibrationConfig {
            distance: Distance::Raking,
            max_iter: 50,
            tolerance: 1e-14,
        };
        assert_eq!(
            calibrate(&d, &aux, &t, &to_precision).unwrap().iterations,
            5
        );
        let r_default = CalibrationConfig {
            distance: Distance::Raking,
            max_iter: 50,
            tolerance: 1e-7,
        };
        assert_eq!(calibrate(&d, &aux, &t, &r_default).unwrap().iterations, 4);
        let cal = calibrate(&d, &aux, &t, &config(Distance::Raking)).unwrap();
        for (g, e) in cal.g.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{g} vs {e}");
        }
        assert_totals(&d, &x, &cal.g, &t);
    }

    #[test]
    fn logit_matches_oracle_and_stays_in_bounds() {
        let (d, x, t) = section_3_7();
        let aux = AuxMatrix::new(&x, 10, 3).unwrap();
        let cal = calibrate(
            &d,
            &aux,
            &t,
            &config(Distance::Logit {
                lower: 0.5,
                upper: 1.5,
            }),
        )
        .unwrap();
        let expected = [
            0.592359, 0.720703, 0.940784, 1.186889, 1.359266, 0.640734, 0.813111, 1.059216,
            1.279297, 1.407641,
        ];
        for (g, e) in cal.g.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{g} vs {e}");
            assert!(*g > 0.5 && *g < 1.5);
        }
        for (l, e) in cal.lambda.iter().zip([-0.8271906, -1.9876923, 0.2558985]) {
            assert!((l - e).abs() < 1e-6, "{l} vs {e}");
        }
        assert_totals(&d, &x, &cal.g, &t);
    }

    #[test]
    fn truncated_linear_respects_bounds_and_totals() {
        let (d, x, t) = section_3_7();
        let aux = AuxMatrix::new(&x, 10, 3).unwrap();
        let distance = Distance::TruncatedLinear {
            lower: 0.6,
            upper: 1.4,
        };
        let cal = calibrate(&d, &aux, &t, &config(distance)).unwrap();
        assert!(cal.g.iter().all(|g| (0.6..=1.4).contains(g)));
        assert!(
            cal.g.iter().any(|g| *g == 0.6 || *g == 1.4),
            "bounds should bind here"
        );
        assert_totals(&d, &x, &cal.g, &t);
    }

    #[test]
    fn impossible_bounds_are_an_error_not_weights() {
        let (d, x, t) = section_3_7();
        let aux = AuxMatrix::new(&x, 10, 3).unwrap();
        let distance = Distance::TruncatedLinear {
            lower: 0.99,
            upper: 1.01,
        };
        let result = calibrate(&d, &aux, &t, &config(distance));
        assert!(
            matches!(result, Err(Error::NotConverged { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn unreachable_column_is_reported() {
        let d = vec![1.0; 3];
        let x = vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let aux = AuxMatrix::new(&x, 3, 2).unwrap();
        let result = calibrate(&d, &aux, &[3.0, 5.0], &config(Distance::Linear));
        assert_eq!(
            result,
            Err(Error::Unreachable {
                column: 1,
                total: 5.0
            })
        );
    }

    #[test]
    fn ipf_converges_to_both_margins_and_equals_newton_raking() {
        // 2 × 2 sex × region with unequal design weights.
        let d = vec![1.0, 2.0, 3.0, 4.0, 2.0, 2.0, 1.0, 5.0];
        let sex = [0usize, 0, 0, 0, 1, 1, 1, 1];
        let region = [0usize, 1, 0, 1, 0, 1, 0, 1];
        let sex_totals = [12.0, 14.0];
        let region_totals = [9.0, 17.0];
        let margins = [
            Margin {
                category: &sex,
                totals: &sex_totals,
            },
            Margin {
                category: &region,
                totals: &region_totals,
            },
        ];
        let cal = rake_ipf(&d, &margins, &config(Distance::Raking)).unwrap();
        for (cat, totals) in [(&sex, &sex_totals), (&region, &region_totals)] {
            for (c, &total) in totals.iter().enumerate() {
                let s: f64 = (0..8)
                    .filter(|&k| cat[k] == c)
                    .map(|k| d[k] * cal.g[k])
                    .sum();
                assert!((s - total).abs() < 1e-9);
            }
        }
        // Newton raking on indicators (intercept-free, full dummies minus one redundancy).
        let mut x = Vec::new();
        for k in 0..8 {
            x.extend([
                1.0,
                f64::from(u8::from(sex[k] == 1)),
                f64::from(u8::from(region[k] == 1)),
            ]);
        }
        let aux = AuxMatrix::new(&x, 8, 3).unwrap();
        let newton = calibrate(&d, &aux, &[26.0, 14.0, 17.0], &config(Distance::Raking)).unwrap();
        for (a, b) in cal.g.iter().zip(&newton.g) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
    }

    #[test]
    fn poststratify_is_ratio_per_cell() {
        let d = [2.0, 2.0, 3.0];
        let cal = poststratify(&d, &[0, 0, 1], &[10.0, 6.0]).unwrap();
        assert_eq!(cal.g, vec![2.5, 2.5, 2.0]);
        assert_eq!(
            poststratify(&d, &[0, 0, 0], &[10.0, 6.0]),
            Err(Error::EmptyCell {
                margin: 0,
                cell: 1,
                total: 6.0
            })
        );
        assert_eq!(
            poststratify(&d, &[0, 0, 1], &[10.0, 0.0]),
            Err(Error::CellAbsentFromPopulation { margin: 0, cell: 1 })
        );
    }
}
