//! Sample allocation, selection methods, link tracing (indirect sampling) and within-unit
//! worker selection. Every random procedure takes a seeded `ChaCha20Rng` and records the
//! seed, the algorithm name and the probabilities, so a replay reproduces a sample bit for
//! bit and weighting never has to recompute a probability.
//!
//! The tour, in the order of a survey round:
//!
//! - `design`: the JSON sampling design (`docs/design-format.md`) parsed into types;
//! - `sample_size`, `allocation`: how many units, and how many per stratum (METHODOLOGY
//!   §3.3, with the exact constraints algorithm);
//! - `strata`: stratification by any frame column;
//! - `srswor`, `systematic`, `pps`, `poisson`, `order` (sequential Poisson, Pareto), `prn`
//!   (permanent random numbers): the selection algorithms over plain slices (§3.4);
//! - `draw`: a whole frame-stage draw from a design, with its replay record;
//! - `linkage`, `trace`: tax-code record linkage and link tracing to the next tier, with
//!   p_{j,i}, π_{i|s} and L_i (§2.8, §2.9);
//! - `workers`: SRSWOR of workers by sex within units (§2.8.3);
//! - `uniform`: uniforms and derived seeds from the raw ChaCha20 stream.
//!
//! It deliberately does not compute weights or estimates (that is `weighting`), read
//! questionnaire submissions (rosters come in as plain structs), or do IO.
//!
//! Architecture invariant: sampling is synchronous and pure; it knows nothing about sled,
//! HTTP or questionnaires.

mod allocation;
mod design;
mod draw;
mod error;
mod linkage;
mod order;
mod poisson;
mod pps;
mod prn;
mod sample_size;
mod srswor;
mod strata;
mod systematic;
mod trace;
mod uniform;
mod workers;

pub use allocation::{
    Allocation, AllocationMethod, StratumFacts, allocate, cost_optimal_total, raw_allocation,
};
pub use design::{
    AllocationSpec, DESIGN_SCHEMA_VERSION, Design, PpsSize, PrnSpec, SampleSizeSpec,
    SelectionMethod, SelectionSpec, TraceMode, TraceSpec, WorkerSpec,
};
pub use draw::{
    Sample, SelectedUnit, StratumRecord, TAKE_ALL_STRATUM, draw_sample, population_units,
};
pub use error::SamplingError;
pub use linkage::{LinkageIndex, MatchKind, NoMatch, reported_key};
pub use order::{pareto, sequential_poisson};
pub use poisson::poisson;
pub use pps::{draw_pps_systematic, pps_inclusion_probabilities, pps_systematic};
pub use prn::{permanent_random_number, shifted};
pub use sample_size::{ProportionPlan, SampleSize, ceil_tolerant, sample_size_for_proportion};
pub use srswor::srswor;
pub use strata::{SINGLE_STRATUM, Stratum, numeric_column, stratify, stratum_key};
pub use systematic::{draw_systematic, systematic};
pub use trace::{
    CustomerReport, LinkCountMethod, ReachedUnit, ReportedSupplier, SupplierRoster, Trace,
    TraceRequest, TracedLink, UnmatchedReason, UnmatchedSupplier, trace_links, trace_mode_name,
};
pub use uniform::{derive_seed, rng_from_seed, uniform, uniform_below, uniform_open};
pub use workers::{RosterWorker, SelectedWorker, Sex, WorkerSource, WorkerTake, select_workers};
