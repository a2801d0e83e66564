//! The sampling design document (`docs/design-format.md`): JSON in, a typed [`Design`] out.
//!
//! The wire structs mirror the JSON one to one and reject unknown keys; [`Design::parse`]
//! then turns them into types that cannot hold an invalid combination (a power allocation
//! without q, a PPS method without a size column, a probability outside (0, 1]).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sampling::allocation::AllocationMethod;
use crate::sampling::error::SamplingError;
use crate::sampling::sample_size::ProportionPlan;

/// The current `schema_version` of design documents.
pub const DESIGN_SCHEMA_VERSION: u32 = 1;

/// A validated sampling design.
#[derive(Clone, Debug, PartialEq)]
pub struct Design {
    pub name: String,
    pub seed: u64,
    /// Which frame units form the population: `column` ∈ `values` for every entry.
    pub population: Vec<(String, Vec<String>)>,
    pub strata: Vec<String>,
    /// Units with `column` ≥ `at_least` form a take-all stratum.
    pub take_all: Option<(String, f64)>,
    pub allocation: AllocationSpec,
    pub sample_size: SampleSizeSpec,
    pub selection: SelectionSpec,
    pub prn: Option<PrnSpec>,
    pub tracing: Vec<TraceSpec>,
    pub workers: Option<WorkerSpec>,
}

/// How the total is spread over strata.
#[derive(Clone, Debug, PartialEq)]
pub struct AllocationSpec {
    pub method: AllocationMethod,
    /// Design variable for S_h and Ȳ_h (Neyman, cost, power).
    pub variable: Option<String>,
    pub min_per_stratum: u64,
    /// c_h by stratum key; strata not listed cost `default_cost`.
    pub costs: BTreeMap<String, f64>,
    pub default_cost: f64,
}

/// The total sample size, given or planned.
#[derive(Clone, Debug, PartialEq)]
pub enum SampleSizeSpec {
    Fixed(u64),
    Proportion(ProportionPlan),
    Budget { total: f64, fixed: f64 },
}

/// The selection method within strata.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectionSpec {
    pub method: SelectionMethod,
    /// Size measure column (PPS, and optional for Poisson/order sampling).
    pub size: Option<String>,
    /// Columns to sort each stratum by before selection (systematic methods).
    pub sort_by: Vec<String>,
}

/// Selection methods of METHODOLOGY §3.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionMethod {
    Srswor,
    Systematic,
    PpsSystematic,
    Poisson,
    SequentialPoisson,
    Pareto,
}

impl SelectionMethod {
    /// The algorithm name recorded with every selected unit.
    pub fn name(self) -> &'static str {
        match self {
            SelectionMethod::Srswor => "srswor",
            SelectionMethod::Systematic => "systematic",
            SelectionMethod::PpsSystematic => "pps_systematic",
            SelectionMethod::Poisson => "poisson",
            SelectionMethod::SequentialPoisson => "sequential_poisson",
            SelectionMethod::Pareto => "pareto",
        }
    }

    fn parse(name: &str) -> Option<SelectionMethod> {
        Some(match name {
            "srswor" => SelectionMethod::Srswor,
            "systematic" => SelectionMethod::Systematic,
            "pps_systematic" => SelectionMethod::PpsSystematic,
            "poisson" => SelectionMethod::Poisson,
            "sequential_poisson" => SelectionMethod::SequentialPoisson,
            "pareto" => SelectionMethod::Pareto,
            _ => return None,
        })
    }

    /// Does the method use uniforms that permanent random numbers can replace?
    pub fn uses_prn(self) -> bool {
        matches!(
            self,
            SelectionMethod::Poisson | SelectionMethod::SequentialPoisson | SelectionMethod::Pareto
        )
    }
}

/// Where permanent random numbers come from.
#[derive(Clone, Debug, PartialEq)]
pub enum PrnSpec {
    /// Derived from the unit id and this seed ([`crate::sampling::permanent_random_number`]).
    Seed { seed: u64, shift: f64 },
    /// Read from a frame column (values in (0, 1)).
    Column { column: String, shift: f64 },
}

/// How units reached from tier `from_tier` are taken into tier `from_tier + 1`.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSpec {
    pub from_tier: u32,
    pub mode: TraceMode,
}

/// Link-tracing options (METHODOLOGY §2.8).
#[derive(Clone, Debug, PartialEq)]
pub enum TraceMode {
    /// Every reached unit (π_{i|s} = 1).
    TakeAll,
    /// SRSWOR of `n` reached units.
    SubsampleUnitsSrswor { n: u64 },
    /// PPS systematic of `n` reached units; size = the reported purchase value summed over
    /// reporting buyers, or a frame column.
    SubsampleUnitsPps { n: u64, size: PpsSize },
    /// Each listed link kept with p = min(1, k / number of suppliers the buyer listed).
    SubsampleLinks { k: f64 },
}

/// The size measure for PPS subsampling of reached units.
#[derive(Clone, Debug, PartialEq)]
pub enum PpsSize {
    PurchaseValue,
    Column(String),
}

/// Worker take within interviewed units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerSpec {
    /// m, workers per sex (take-all when M ≤ m).
    pub per_sex: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignDoc {
    schema_version: u32,
    #[serde(default)]
    name: String,
    seed: u64,
    #[serde(default)]
    population: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    strata: Vec<String>,
    take_all: Option<TakeAllDoc>,
    allocation: Option<AllocationDoc>,
    sample_size: SampleSizeDoc,
    selection: SelectionDoc,
    prn: Option<PrnDoc>,
    #[serde(default)]
    tracing: Vec<TraceDoc>,
    workers: Option<WorkersDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TakeAllDoc {
    column: String,
    at_least: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllocationDoc {
    method: String,
    variable: Option<String>,
    q: Option<f64>,
    i: Option<f64>,
    min_per_stratum: Option<u64>,
    #[serde(default)]
    costs: BTreeMap<String, f64>,
    default_cost: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleSizeDoc {
    n: Option<u64>,
    proportion: Option<ProportionDoc>,
    budget: Option<BudgetDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProportionDoc {
    p: f64,
    margin: f64,
    #[serde(default = "default_z")]
    z: f64,
    #[serde(default = "one")]
    deff: f64,
    population: Option<u64>,
    #[serde(default = "one")]
    response_rate: f64,
}

fn default_z() -> f64 {
    1.96
}

fn one() -> f64 {
    1.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetDoc {
    total: f64,
    #[serde(default)]
    fixed: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SelectionDoc {
    method: String,
    size: Option<String>,
    #[serde(default)]
    sort_by: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrnDoc {
    seed: Option<u64>,
    column: Option<String>,
    #[serde(default)]
    shift: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceDoc {
    from_tier: u32,
    mode: String,
    n: Option<u64>,
    k: Option<f64>,
    size: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkersDoc {
    per_sex: u64,
}

fn design_error(message: impl Into<String>) -> SamplingError {
    SamplingError::Design(message.into())
}

impl Design {
    /// Parses and validates a design document.
    pub fn parse(json: &str) -> Result<Design, SamplingError> {
        let doc: DesignDoc =
            serde_json::from_str(json).map_err(|err| design_error(err.to_string()))?;
        if doc.schema_version != DESIGN_SCHEMA_VERSION {
            return Err(design_error(format!(
                "schema_version {} is not supported (expected {DESIGN_SCHEMA_VERSION})",
                doc.schema_version
            )));
        }
        let allocation = match doc.allocation {
            None => AllocationSpec {
                method: AllocationMethod::Proportional,
                variable: None,
                min_per_stratum: 2,
                costs: BTreeMap::new(),
                default_cost: 1.0,
            },
            Some(a) => parse_allocation(a)?,
        };
        let sample_size = match (
            doc.sample_size.n,
            doc.sample_size.proportion,
            doc.sample_size.budget,
        ) {
            (Some(n), None, None) => SampleSizeSpec::Fixed(n),
            (None, Some(p), None) => SampleSizeSpec::Proportion(ProportionPlan {
                p: p.p,
                margin: p.margin,
                z: p.z,
                deff: p.deff,
                population: p.population,
                response_rate: p.response_rate,
            }),
            (None, None, Some(b)) => {
                if allocation.method != AllocationMethod::CostOptimal {
                    return Err(design_error(
                        "sample_size.budget needs allocation.method = cost_optimal",
                    ));
                }
                SampleSizeSpec::Budget {
                    total: b.total,
                    fixed: b.fixed,
                }
            }
            _ => {
                return Err(design_error(
                    "sample_size needs exactly one of `n`, `proportion`, `budget`",
                ));
            }
        };
        let method = SelectionMethod::parse(&doc.selection.method).ok_or_else(|| {
            design_error(format!(
                "selection.method `{}` is not one of srswor, systematic, pps_systematic, poisson, sequential_poisson, pareto",
                doc.selection.method
            ))
        })?;
        if method == SelectionMethod::PpsSystematic && doc.selection.size.is_none() {
            return Err(design_error("selection.method pps_systematic needs `size`"));
        }
        let prn = match doc.prn {
            None => None,
            Some(p) => {
                if !(0.0..1.0).contains(&p.shift) {
                    return Err(design_error("prn.shift must be in [0, 1)"));
                }
                Some(match (p.seed, p.column) {
                    (Some(seed), None) => PrnSpec::Seed {
                        seed,
                        shift: p.shift,
                    },
                    (None, Some(column)) => PrnSpec::Column {
                        column,
                        shift: p.shift,
                    },
                    _ => return Err(design_error("prn needs exactly one of `seed`, `column`")),
                })
            }
        };
        if prn.is_some() && !method.uses_prn() {
            return Err(design_error(format!(
                "prn coordination needs poisson, sequential_poisson or pareto, not {}",
                method.name()
            )));
        }
        let tracing = doc
            .tracing
            .into_iter()
            .map(parse_trace)
            .collect::<Result<Vec<_>, _>>()?;
        let take_all = doc.take_all.map(|t| (t.column, t.at_least));
        Ok(Design {
            name: doc.name,
            seed: doc.seed,
            population: doc.population.into_iter().collect(),
            strata: doc.strata,
            take_all,
            allocation,
            sample_size,
            selection: SelectionSpec {
                method,
                size: doc.selection.size,
                sort_by: doc.selection.sort_by,
            },
            prn,
            tracing,
            workers: doc.workers.map(|w| WorkerSpec { per_sex: w.per_sex }),
        })
    }

    /// The tracing step for links out of tier `from_tier` (take-all when not specified).
    pub fn trace_mode(&self, from_tier: u32) -> TraceMode {
        self.tracing
            .iter()
            .find(|t| t.from_tier == from_tier)
            .map_or(TraceMode::TakeAll, |t| t.mode.clone())
    }
}

fn parse_allocation(a: AllocationDoc) -> Result<AllocationSpec, SamplingError> {
    let needs = |what: Option<f64>, name: &str| {
        what.ok_or_else(|| design_error(format!("allocation.method {} needs `{name}`", a.method)))
    };
    let method = match a.method.as_str() {
        "proportional" => AllocationMethod::Proportional,
        "neyman" => AllocationMethod::Neyman,
        "cost_optimal" => AllocationMethod::CostOptimal,
        "power" => AllocationMethod::Power {
            q: needs(a.q, "q")?,
        },
        "kish" => AllocationMethod::Kish {
            i: needs(a.i, "i")?,
        },
        "sqrt_n" => AllocationMethod::SqrtN,
        other => {
            return Err(design_error(format!(
                "allocation.method `{other}` is not one of proportional, neyman, cost_optimal, power, kish, sqrt_n"
            )));
        }
    };
    let needs_variable = matches!(
        method,
        AllocationMethod::Neyman | AllocationMethod::CostOptimal | AllocationMethod::Power { .. }
    );
    if needs_variable && a.variable.is_none() {
        return Err(design_error(format!(
            "allocation.method {} needs `variable` (the column for S_h)",
            a.method
        )));
    }
    Ok(AllocationSpec {
        method,
        variable: a.variable,
        min_per_stratum: a.min_per_stratum.unwrap_or(2),
        costs: a.costs,
        default_cost: a.default_cost.unwrap_or(1.0),
    })
}

fn parse_trace(t: TraceDoc) -> Result<TraceSpec, SamplingError> {
    let mode = match t.mode.as_str() {
        "take_all" => TraceMode::TakeAll,
        "subsample_units_srswor" => TraceMode::SubsampleUnitsSrswor {
            n: t.n
                .ok_or_else(|| design_error("subsample_units_srswor needs `n`"))?,
        },
        "subsample_units_pps" => TraceMode::SubsampleUnitsPps {
            n: t.n
                .ok_or_else(|| design_error("subsample_units_pps needs `n`"))?,
            size: match t.size.as_deref() {
                None | Some("purchase_value") => PpsSize::PurchaseValue,
                Some(column) => PpsSize::Column(column.to_string()),
            },
        },
        "subsample_links" => {
            let k =
                t.k.ok_or_else(|| design_error("subsample_links needs `k`"))?;
            if !(k.is_finite() && k > 0.0) {
                return Err(design_error("subsample_links needs k > 0"));
            }
            TraceMode::SubsampleLinks { k }
        }
        other => {
            return Err(design_error(format!(
                "tracing mode `{other}` is not one of take_all, subsample_units_srswor, subsample_units_pps, subsample_links"
            )));
        }
    };
    Ok(TraceSpec {
        from_tier: t.from_tier,
        mode,
    })
}
