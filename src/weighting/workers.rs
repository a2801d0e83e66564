//! Within-unit worker factors (METHODOLOGY §2.8.3): SRSWOR of m of M workers of one sex in a
//! unit, r of whom responded: within_unit = M/m and nr_adj = m/r.

use crate::weighting::error::Error;

/// The worker take of one (unit, sex) cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerTake {
    /// Workers in the cell (roster count M).
    pub population: u64,
    /// Workers selected (m); a take-all cell has m = M.
    pub selected: u64,
    /// Selected workers who responded (r).
    pub responded: u64,
}

/// The two worker factors of a cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerFactors {
    /// M/m, the inverse of the SRSWOR inclusion probability.
    pub within_unit: f64,
    /// m/r, the response-homogeneity adjustment inside the cell.
    pub nonresponse: f64,
}

/// Computes M/m and m/r; `place` names the cell in the error. Refuses m = 0, m > M, r = 0
/// and r > m.
pub fn worker_factors(take: WorkerTake, place: &str) -> Result<WorkerFactors, Error> {
    let WorkerTake {
        population,
        selected,
        responded,
    } = take;
    if selected == 0 || selected > population || responded == 0 || responded > selected {
        return Err(Error::WorkerCounts {
            place: place.to_string(),
            population,
            selected,
            responded,
        });
    }
    Ok(WorkerFactors {
        within_unit: population as f64 / selected as f64,
        nonresponse: selected as f64 / responded as f64,
    })
}
