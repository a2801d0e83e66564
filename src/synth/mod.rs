//! The embedded default population: a synthetic Viet Nam electronics supply chain with
//! known truth (`shared/data/vietnam-electronics.md` §7).
//!
//! What: [`generate`] builds enterprises (tier × ownership × size × province group, with
//! lognormal employment), buyer → supplier links with the §7.4 multiplicity structure, and
//! per-unit attributes (true tier, province group, minimum-wage region, firm random effects)
//! as a [`crate::frame::Frame`] plus [`UnitTruth`]s. Workers are never stored: [`workers_of`]
//! regenerates the workers of one enterprise from (seed, enterprise index), and [`worker`]
//! regenerates a single worker, so a sample of workers costs only what it selects.
//! [`population_truth`] computes every METHODOLOGY §4.2 indicator over all workers in one
//! streaming pass; [`indicators`] is the reference definition of those indicators.
//! [`calibration_checks`] compares a population with the §7 calibration targets.
//!
//! Why: estimates from the survey engine can only be judged against a population whose truth
//! is known exactly; the parameters live in a JSON [`SynthConfig`] so another country or
//! sector can be simulated.
//!
//! What it deliberately does not do: sampling, link tracing, weighting or estimation (those
//! modules consume a [`Population`]); it does not simulate non-response or measurement error
//! (answers are the workers' true values, with a configured don't-know rate).

mod calibration;
mod config;
mod draw;
mod enterprises;
mod error;
pub mod indicators;
mod links;
mod population;
mod truth;
mod workers;
mod write;

pub use calibration::{Check, calibration_checks};
pub use config::{DEFAULT_CONFIG_JSON, SynthConfig};
pub use error::Error;
pub use population::ATTRIBUTES;
pub use population::{FirmEffects, MAX_SCALE, Population, UnitTruth, generate};
pub use truth::{PopulationTruth, TruthRow, population_truth};
pub use workers::{
    AgeGroup, ContractType, PayForm, Sex, Status, Worker, YesNoDk, draws_of, worker, workers_of,
};
pub use write::{
    WORKER_COLUMNS, write_calibration_csv, write_frame_csv, write_truth, write_workers_csv,
};
