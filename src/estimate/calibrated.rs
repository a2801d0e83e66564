//! A calibration step inside a design: the calibrated weights and what the variance needs to
//! account for it.
//!
//! The weights come from [`crate::weighting::calibration`]. For the variance, the linearized
//! variable of an estimator is replaced by its residual from the calibration model, as R
//! `survey:::svyrecvar` does for the `postStrata` of a design:
//!
//! - `calibrate` (GREG, raking and logit distances alike): `x'_k = x_k − g_k d_k m_kᵀβ`, with
//!   `β = (Σ d m mᵀ)⁻¹ Σ m_k x_k / g_k`, i.e. the residual of the design-weighted regression of
//!   `x/w` on the model matrix `m` (R `qr.resid(qr(m·√d), x/(g√d))·g√d`);
//! - `poststratify`: `x'_k = x_k − w_k · (Σ_{c} x/g) / (Σ_{c} d)` within post-stratum c;
//! - `rake`: ten sweeps of `x ← x − w · mean_c(x/w)` over the margins, where `mean_c` is the
//!   unweighted mean within the margin cell (R's approximation for raked designs).
//!
//! Model matrices expand factor columns with treatment contrasts and an intercept, naming the
//! columns `(Intercept)`, `<col><level>` as R's `model.matrix` does.

use std::collections::BTreeMap;
use std::collections::HashMap;

use nalgebra::DMatrix;

use crate::estimate::Error;
use crate::estimate::compensated::Sum;
use crate::estimate::design::{interact, key_codes};
use crate::estimate::spec::CalibrationSpec;
use crate::estimate::table::{Column, Table, format_number};
use crate::weighting::calibration::{self, AuxMatrix, CalibrationConfig, Distance, Margin};

/// A calibration step of a design.
#[derive(Debug, Clone)]
pub struct CalibrationStep {
    /// Design weights before calibration (`d`).
    pub base_weights: Vec<f64>,
    /// g-factors (`w = d·g`).
    pub g: Vec<f64>,
    /// Iterations used by the algorithm.
    pub iterations: usize,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Regression {
        model: Vec<f64>,
        columns: usize,
        inverse: DMatrix<f64>,
    },
    PostStrata {
        cell: Vec<u32>,
        cells: usize,
    },
    /// Cell codes and cell sizes (row counts) of each margin.
    /// Raking margins summarised by joint cell (the crossing of all margins): the joint cell
    /// of each row, its row count, and its cell in each margin (with the margin's cell count).
    Raking {
        joint: Vec<u32>,
        joint_rows: Vec<f64>,
        margin_cell: Vec<Vec<u32>>,
        margin_cells: Vec<usize>,
    },
}

impl CalibrationStep {
    /// The calibrated weights `d·g`.
    pub fn final_weights(&self) -> Vec<f64> {
        self.base_weights
            .iter()
            .zip(&self.g)
            .map(|(d, g)| d * g)
            .collect()
    }

    /// Replaces the weighted linearized variable `x` (length = rows) by its calibration
    /// residual, in place.
    pub fn residualize(&self, x: &mut [f64]) {
        let d = &self.base_weights;
        let g = &self.g;
        match &self.kind {
            Kind::Regression {
                model,
                columns,
                inverse,
            } => {
                let p = *columns;
                let mut rhs = vec![Sum::default(); p];
                for k in 0..x.len() {
                    if x[k] == 0.0 || g[k] == 0.0 {
                        continue;
                    }
                    let r = x[k] / g[k];
                    for j in 0..p {
                        rhs[j].add(model[k * p + j] * r);
                    }
                }
                let beta: Vec<f64> = (0..p)
                    .map(|i| (0..p).map(|j| inverse[(i, j)] * rhs[j].value()).sum())
                    .collect();
                for k in 0..x.len() {
                    let fitted: f64 = (0..p).map(|j| model[k * p + j] * beta[j]).sum();
                    x[k] -= g[k] * d[k] * fitted;
                }
            }
            Kind::PostStrata { cell, cells } => {
                let mut num = vec![Sum::default(); *cells];
                let mut den = vec![Sum::default(); *cells];
                for k in 0..x.len() {
                    let c = cell[k] as usize;
                    if g[k] != 0.0 {
                        num[c].add(x[k] / g[k]);
                    }
                    den[c].add(d[k]);
                }
                for k in 0..x.len() {
                    let c = cell[k] as usize;
                    x[k] -= d[k] * g[k] * num[c].value() / den[c].value();
                }
            }
            Kind::Raking {
                joint,
                joint_rows,
                margin_cell,
                margin_cells,
            } => {
                // R's svyrecvar for raked designs: ten sweeps of x ← x − w·mean_c(x/w) over the
                // margins, with unweighted means over the rows of margin cell c. With u = x/w
                // this is alternating centring of u; every row of a joint cell receives the
                // same correction A_j, so the sweeps run on joint-cell totals.
                let w: Vec<f64> = self.final_weights();
                let cells = joint_rows.len();
                let mut total = vec![Sum::default(); cells];
                for k in 0..x.len() {
                    total[joint[k] as usize].add(x[k] / w[k]);
                }
                let total: Vec<f64> = total.iter().map(Sum::value).collect();
                let mut correction = vec![0.0; cells];
                for _ in 0..10 {
                    for (cell_of, &n_cells) in margin_cell.iter().zip(margin_cells) {
                        let mut num = vec![Sum::default(); n_cells];
                        let mut den = vec![0.0; n_cells];
                        for j in 0..cells {
                            let c = cell_of[j] as usize;
                            num[c].add(total[j] - joint_rows[j] * correction[j]);
                            den[c] += joint_rows[j];
                        }
                        for j in 0..cells {
                            let c = cell_of[j] as usize;
                            correction[j] += num[c].value() / den[c];
                        }
                    }
                }
                for k in 0..x.len() {
                    x[k] -= w[k] * correction[joint[k] as usize];
                }
            }
        }
    }
}

/// Builds the calibration step for `spec` on `table`, starting from `base_weights`.
pub fn build(
    table: &Table,
    base_weights: &[f64],
    spec: &CalibrationSpec,
) -> Result<CalibrationStep, Error> {
    match spec {
        CalibrationSpec::Poststratify { strata, population } => {
            let (cell, labels) = cells_of(table, strata)?;
            let totals = population_cells(strata, population, &labels, "population")?;
            let cal = calibration::poststratify(base_weights, &to_usize(&cell), &totals)?;
            Ok(CalibrationStep {
                base_weights: base_weights.to_vec(),
                g: cal.g,
                iterations: cal.iterations,
                kind: Kind::PostStrata {
                    cell,
                    cells: labels.len(),
                },
            })
        }
        CalibrationSpec::Rake {
            margins,
            population,
            epsilon,
            maxit,
        } => {
            if margins.len() != population.len() {
                return Err(Error::Spec(format!(
                    "rake: {} margins but {} population tables",
                    margins.len(),
                    population.len()
                )));
            }
            let mut cells = Vec::new();
            let mut totals = Vec::new();
            for (m, (columns, pop)) in margins.iter().zip(population).enumerate() {
                let (cell, labels) = cells_of(table, columns)?;
                totals.push(population_cells(
                    columns,
                    pop,
                    &labels,
                    &format!("population[{m}]"),
                )?);
                cells.push((to_usize(&cell), cell, labels.len()));
            }
            let margin_views: Vec<Margin<'_>> = cells
                .iter()
                .zip(&totals)
                .map(|((category, _, _), t)| Margin {
                    category,
                    totals: t,
                })
                .collect();
            let config = CalibrationConfig {
                distance: Distance::Raking,
                max_iter: maxit.unwrap_or(100),
                tolerance: epsilon.unwrap_or(1e-10),
            };
            let cal = calibration::rake_ipf(base_weights, &margin_views, &config)?;
            Ok(CalibrationStep {
                base_weights: base_weights.to_vec(),
                g: cal.g,
                iterations: cal.iterations,
                kind: raking_kind(
                    &cells
                        .into_iter()
                        .map(|(_, c, n)| (c, n))
                        .collect::<Vec<_>>(),
                ),
            })
        }
        CalibrationSpec::Calibrate {
            terms,
            population_totals,
            calfun,
            bounds,
            epsilon,
            maxit,
        } => {
            let (model, names) = model_matrix(table, terms)?;
            let p = names.len();
            let mut totals = Vec::with_capacity(p);
            for name in &names {
                match population_totals.get(name) {
                    Some(&t) => totals.push(t),
                    None => {
                        return Err(Error::Spec(format!(
                            "calibrate: population_totals has no entry `{name}` (model columns are {})",
                            names.join(", ")
                        )));
                    }
                }
            }
            if let Some(extra) = population_totals.keys().find(|k| !names.contains(k)) {
                return Err(Error::Spec(format!(
                    "calibrate: population total `{extra}` matches no model column (model columns are {})",
                    names.join(", ")
                )));
            }
            let distance = match (calfun.as_deref().unwrap_or("linear"), bounds) {
                ("linear", None) => Distance::Linear,
                ("linear", Some([lo, hi])) if lo.is_infinite() && hi.is_infinite() => {
                    Distance::Linear
                }
                ("linear", Some([lo, hi])) => Distance::TruncatedLinear {
                    lower: *lo,
                    upper: *hi,
                },
                ("raking", None) => Distance::Raking,
                ("raking", Some(_)) => {
                    return Err(Error::Spec(
                        "calibrate: bounds with calfun \"raking\" are not supported; use \"logit\""
                            .into(),
                    ));
                }
                ("logit", Some([lo, hi])) => Distance::Logit {
                    lower: *lo,
                    upper: *hi,
                },
                ("logit", None) => {
                    return Err(Error::Spec(
                        "calibrate: calfun \"logit\" needs \"bounds\": [lo, hi]".into(),
                    ));
                }
                (other, _) => {
                    return Err(Error::Spec(format!(
                        "calibrate: unknown calfun `{other}` (expected linear, raking or logit)"
                    )));
                }
            };
            let config = CalibrationConfig {
                distance,
                max_iter: maxit.unwrap_or(50),
                tolerance: epsilon.unwrap_or(1e-10),
            };
            let aux = AuxMatrix::new(&model, table.rows(), p)?;
            let cal = calibration::calibrate(base_weights, &aux, &totals, &config)?;
            // (Σ d m mᵀ)⁻¹ for the residual projection (pseudo-inverse when collinear).
            let mut a = DMatrix::<f64>::zeros(p, p);
            for k in 0..table.rows() {
                let row = &model[k * p..(k + 1) * p];
                for i in 0..p {
                    for j in 0..p {
                        a[(i, j)] += base_weights[k] * row[i] * row[j];
                    }
                }
            }
            let inverse = match a.clone().cholesky() {
                Some(chol) => chol.inverse(),
                None => a
                    .pseudo_inverse(256.0 * f64::EPSILON)
                    .map_err(|e| Error::Spec(format!("calibrate: singular model matrix: {e}")))?,
            };
            Ok(CalibrationStep {
                base_weights: base_weights.to_vec(),
                g: cal.g,
                iterations: cal.iterations,
                kind: Kind::Regression {
                    model,
                    columns: p,
                    inverse,
                },
            })
        }
    }
}

/// Joint cells of the raking margins (each margin: cell code per row and number of cells).
fn raking_kind(margins: &[(Vec<u32>, usize)]) -> Kind {
    let rows = margins.first().map_or(0, |m| m.0.len());
    let mut joint: Vec<u32> = vec![0; rows];
    for (cell, _) in margins {
        joint = interact(&joint, cell);
    }
    let cells = joint.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut joint_rows = vec![0.0; cells];
    let mut margin_cell = vec![vec![0u32; cells]; margins.len()];
    for k in 0..rows {
        let j = joint[k] as usize;
        joint_rows[j] += 1.0;
        for (m, (cell, _)) in margins.iter().enumerate() {
            margin_cell[m][j] = cell[k];
        }
    }
    Kind::Raking {
        joint,
        joint_rows,
        margin_cell,
        margin_cells: margins.iter().map(|m| m.1).collect(),
    }
}

/// R's `model.matrix(~ terms)`: an intercept, numeric columns as they are, factor columns as
/// treatment dummies of every level but the first. Returns the row-major matrix and names.
pub fn model_matrix(table: &Table, terms: &[String]) -> Result<(Vec<f64>, Vec<String>), Error> {
    let rows = table.rows();
    let mut names = vec!["(Intercept)".to_string()];
    let mut blocks: Vec<Vec<Vec<f64>>> = Vec::new();
    for term in terms {
        let column = table.column(term)?;
        if let Some(row) = (0..rows).find(|&k| column.is_missing(k)) {
            return Err(Error::MissingDesignValue {
                column: term.clone(),
                row: row + 1,
            });
        }
        match column {
            Column::Numeric(values) => {
                names.push(term.clone());
                blocks.push(vec![values.clone()]);
            }
            Column::Factor { codes, levels } => {
                let mut block = Vec::new();
                for (l, level) in levels.iter().enumerate().skip(1) {
                    names.push(format!("{term}{level}"));
                    block.push(
                        codes
                            .iter()
                            .map(|&c| f64::from(u8::from(c as usize == l)))
                            .collect(),
                    );
                }
                blocks.push(block);
            }
        }
    }
    let p = names.len();
    let mut model = vec![0.0; rows * p];
    for k in 0..rows {
        model[k * p] = 1.0;
    }
    let mut j = 1;
    for block in &blocks {
        for col in block {
            for k in 0..rows {
                model[k * p + j] = col[k];
            }
            j += 1;
        }
    }
    Ok((model, names))
}

/// Cell code of every row for the combination of `columns`, and each cell's labels.
fn cells_of(table: &Table, columns: &[String]) -> Result<(Vec<u32>, Vec<Vec<String>>), Error> {
    // Codes per column, crossed; labels are formatted once per cell, not per row.
    let mut cell: Vec<u32> = vec![0; table.rows()];
    for name in columns {
        cell = interact(&cell, &key_codes(table, name)?);
    }
    let cells = cell.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut labels: Vec<Vec<String>> = vec![Vec::new(); cells];
    let cols: Vec<&Column> = columns
        .iter()
        .map(|c| table.column(c))
        .collect::<Result<_, _>>()?;
    for (k, &c) in cell.iter().enumerate() {
        let slot = &mut labels[c as usize];
        if slot.is_empty() && !cols.is_empty() {
            *slot = cols.iter().map(|col| col.label(k)).collect();
        }
    }
    Ok((cell, labels))
}

/// Population counts per sample cell from `[{col: value, …, "Freq": N}]`.
fn population_cells(
    columns: &[String],
    population: &[BTreeMap<String, serde_json::Value>],
    labels: &[Vec<String>],
    place: &str,
) -> Result<Vec<f64>, Error> {
    let mut totals = vec![f64::NAN; labels.len()];
    let position: HashMap<&Vec<String>, usize> =
        labels.iter().enumerate().map(|(i, l)| (l, i)).collect();
    for (i, entry) in population.iter().enumerate() {
        let freq = entry
            .get("Freq")
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| Error::Spec(format!("{place}[{i}] needs a numeric \"Freq\"")))?;
        let mut key = Vec::with_capacity(columns.len());
        for column in columns {
            let value = entry
                .get(column)
                .ok_or_else(|| Error::Spec(format!("{place}[{i}] has no value for `{column}`")))?;
            key.push(json_label(value));
        }
        if entry.len() != columns.len() + 1 {
            return Err(Error::Spec(format!(
                "{place}[{i}] has keys other than {} and Freq",
                columns.join(", ")
            )));
        }
        match position.get(&key) {
            Some(&c) => totals[c] = freq,
            None if freq == 0.0 => {}
            None => {
                return Err(Error::Spec(format!(
                    "{place}[{i}]: cell {} has population {freq} but no sample rows",
                    key.join(".")
                )));
            }
        }
    }
    if let Some(c) = totals.iter().position(|t| t.is_nan()) {
        return Err(Error::Spec(format!(
            "{place}: sample cell {} has no population count",
            labels[c].join(".")
        )));
    }
    Ok(totals)
}

/// A JSON scalar as the label the data would show.
pub(crate) fn json_label(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n
            .as_f64()
            .map(format_number)
            .unwrap_or_else(|| n.to_string()),
        serde_json::Value::Bool(b) => {
            if *b {
                "TRUE".into()
            } else {
                "FALSE".into()
            }
        }
        other => other.to_string(),
    }
}

fn to_usize(codes: &[u32]) -> Vec<usize> {
    codes.iter().map(|&c| c as usize).collect()
}
