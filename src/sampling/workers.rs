//! The last stage: workers within each interviewed unit (METHODOLOGY §1.3 stage 5, §2.8.3).
//!
//! Per sex g, SRSWOR of m_{i,g} = min(m, M_{i,g}) workers from the unit's roster (or, when
//! only the counts are known, from positions 1..M_{i,g} of a list to be made on site). M and
//! m are stored with the selection: the within-unit factor M/m is the weighting's business.
//! Each unit draws from its own generator `derive_seed(seed, "workers|" + unit id)`, so the
//! selection in one unit does not depend on the order units are processed in.

use crate::sampling::error::SamplingError;
use crate::sampling::srswor::srswor;
use crate::sampling::uniform::{derive_seed, rng_from_seed};

/// Worker sex, as in the worker questionnaire (`"1"` male, `"2"` female): the shared
/// contract's type.
pub use crate::questionnaire::dwscs::Sex;

/// One worker of a unit's roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterWorker {
    pub worker_id: String,
    pub sex: Sex,
}

/// What is known about a unit's workforce.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WorkerSource<'a> {
    /// Counts by sex only (from the enterprise questionnaire or the frame).
    Counts { male: u64, female: u64 },
    /// The listed roster.
    Roster(&'a [RosterWorker]),
}

/// A selected worker: position (1-based) in the unit's list of that sex, and the roster id
/// when a roster was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedWorker {
    pub line: u64,
    pub worker_id: Option<String>,
}

/// The selection in one unit × sex.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerTake {
    pub unit_id: String,
    pub sex: Sex,
    /// M_{i,g}.
    pub population: u64,
    /// m_{i,g}.
    pub take: u64,
    pub take_all: bool,
    /// The unit's generator seed.
    pub seed: u64,
    pub selected: Vec<SelectedWorker>,
}

/// Selects up to `per_sex` workers of each sex in unit `unit_id`.
pub fn select_workers(
    unit_id: &str,
    source: WorkerSource,
    per_sex: u64,
    seed: u64,
) -> Result<Vec<WorkerTake>, SamplingError> {
    if per_sex == 0 {
        return Err(SamplingError::BadParameter {
            name: "per_sex".into(),
            value: "0".into(),
            reason: "take at least one worker per sex".into(),
        });
    }
    let unit_seed = derive_seed(seed, &format!("workers|{unit_id}"));
    let mut rng = rng_from_seed(unit_seed);
    let mut takes = Vec::with_capacity(2);
    for sex in [Sex::Male, Sex::Female] {
        let listed: Vec<&RosterWorker> = match source {
            WorkerSource::Roster(roster) => roster.iter().filter(|w| w.sex == sex).collect(),
            WorkerSource::Counts { .. } => Vec::new(),
        };
        let population = match source {
            WorkerSource::Counts { male, female } => match sex {
                Sex::Male => male,
                Sex::Female => female,
            },
            WorkerSource::Roster(_) => listed.len() as u64,
        };
        let take = per_sex.min(population);
        let positions: Vec<usize> = if take == population {
            (0..population as usize).collect()
        } else {
            srswor(population as usize, take as usize, &mut rng)?
        };
        let selected = positions
            .into_iter()
            .map(|pos| SelectedWorker {
                line: pos as u64 + 1,
                worker_id: listed.get(pos).map(|w| w.worker_id.clone()),
            })
            .collect();
        takes.push(WorkerTake {
            unit_id: unit_id.to_string(),
            sex,
            population,
            take,
            take_all: take == population,
            seed: unit_seed,
            selected,
        });
    }
    Ok(takes)
}
