//! Stratification by any frame columns: the stratum key is the column values joined by `|`
//! (`2610|large|FDI`), strata are ordered by key, and units keep frame order inside them.

use std::collections::HashMap;

use crate::frame::{Frame, UnitIdx};
use crate::sampling::error::SamplingError;

/// Stratum key when the design has no stratification columns.
pub const SINGLE_STRATUM: &str = "all";

/// One stratum: its key and its units in frame order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stratum {
    pub key: String,
    pub units: Vec<UnitIdx>,
}

/// Groups `units` of `frame` by the values of `columns`.
pub fn stratify(
    frame: &Frame,
    units: &[UnitIdx],
    columns: &[String],
) -> Result<Vec<Stratum>, SamplingError> {
    for column in columns {
        if !frame.has_column(column) {
            return Err(SamplingError::UnknownColumn(column.clone()));
        }
    }
    // Keys are built in one reused buffer and looked up by `&str`, so a million units cost
    // a handful of allocations, not a million; strata are sorted by key at the end.
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut strata: Vec<Stratum> = Vec::new();
    let mut key = String::new();
    for &unit in units {
        key.clear();
        if columns.is_empty() {
            key.push_str(SINGLE_STRATUM);
        }
        for (pos, column) in columns.iter().enumerate() {
            if pos > 0 {
                key.push('|');
            }
            key.push_str(&frame.column_value(unit, column).unwrap_or_default());
        }
        let slot = match position.get(key.as_str()) {
            Some(&slot) => slot,
            None => {
                position.insert(key.clone(), strata.len());
                strata.push(Stratum {
                    key: key.clone(),
                    units: Vec::new(),
                });
                strata.len() - 1
            }
        };
        strata[slot].units.push(unit);
    }
    strata.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(strata)
}

/// The stratum key of `unit` (columns must exist).
pub fn stratum_key(frame: &Frame, unit: UnitIdx, columns: &[String]) -> String {
    if columns.is_empty() {
        return SINGLE_STRATUM.to_string();
    }
    let values: Vec<String> = columns
        .iter()
        .map(|c| frame.column_value(unit, c).unwrap_or_default().into_owned())
        .collect();
    values.join("|")
}

/// The value of numeric `column` for every unit of `units`.
pub fn numeric_column(
    frame: &Frame,
    units: &[UnitIdx],
    column: &str,
) -> Result<Vec<f64>, SamplingError> {
    if !frame.has_column(column) {
        return Err(SamplingError::UnknownColumn(column.to_string()));
    }
    units
        .iter()
        .map(|&unit| match frame.numeric_value(unit, column) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(SamplingError::UnknownColumn(column.to_string())),
            Err(value) => Err(SamplingError::NotNumeric {
                unit: frame.units[unit].id.clone(),
                column: column.to_string(),
                value,
            }),
        })
        .collect()
}
