//! Frame columns by name: the fixed unit fields, a few derived ones, and the attributes.
//!
//! Stratification, sorting and size measures name columns in the design document, so one
//! lookup serves them all. Derived names: `vsic2`/`vsic3` (division/group prefixes),
//! `size_class`, `employees` (male + female).

use std::borrow::Cow;

use crate::frame::{Frame, UnitIdx, VsicVersion};

/// The built-in column names [`Frame::column_value`] knows, besides attributes.
pub const BUILTIN_COLUMNS: [&str; 17] = [
    "id",
    "tax_code",
    "name",
    "vsic",
    "vsic2",
    "vsic3",
    "vsic_version",
    "province",
    "province_2025",
    "ownership",
    "household_business",
    "registered",
    "size_class",
    "employees",
    "employees_male",
    "employees_female",
    "index",
];

impl Frame {
    /// Does the frame have a column called `name` (built-in or attribute)?
    pub fn has_column(&self, name: &str) -> bool {
        BUILTIN_COLUMNS.contains(&name) || self.attributes().column(name).is_some()
    }

    /// The value of column `name` for unit `idx` as text; `None` for an unknown column.
    pub fn column_value(&self, idx: UnitIdx, name: &str) -> Option<Cow<'_, str>> {
        let unit = &self.units[idx];
        let flag = |b: bool| Cow::Borrowed(if b { "1" } else { "0" });
        Some(match name {
            "id" => Cow::Borrowed(unit.id.as_str()),
            "tax_code" => Cow::Borrowed(unit.tax_code.as_deref().unwrap_or("")),
            "name" => Cow::Borrowed(unit.name.as_str()),
            "vsic" => Cow::Borrowed(unit.vsic.as_str()),
            "vsic2" => Cow::Borrowed(unit.vsic.get(..2).unwrap_or(&unit.vsic)),
            "vsic3" => Cow::Borrowed(unit.vsic.get(..3).unwrap_or(&unit.vsic)),
            "vsic_version" => Cow::Borrowed(match unit.vsic_version {
                VsicVersion::V2018 => "2018",
                VsicVersion::V2025 => "2025",
            }),
            "province" => Cow::Borrowed(unit.province.as_str()),
            "province_2025" => Cow::Borrowed(unit.province_2025.as_deref().unwrap_or("")),
            "ownership" => Cow::Borrowed(unit.ownership.code()),
            "household_business" => flag(unit.household_business),
            "registered" => flag(unit.registered),
            "size_class" => Cow::Borrowed(unit.size_class().code()),
            "employees" => Cow::Owned(unit.employees().to_string()),
            "employees_male" => Cow::Owned(unit.employees_male.to_string()),
            "employees_female" => Cow::Owned(unit.employees_female.to_string()),
            "index" => Cow::Owned(idx.to_string()),
            _ => Cow::Borrowed(self.attributes().get(name, idx)?),
        })
    }

    /// The value of column `name` for unit `idx` as a number: `Ok(None)` for an unknown
    /// column, `Err(text)` when the value is not a finite number.
    pub fn numeric_value(&self, idx: UnitIdx, name: &str) -> Result<Option<f64>, String> {
        let unit = &self.units[idx];
        match name {
            "employees" => Ok(Some(unit.employees() as f64)),
            "employees_male" => Ok(Some(unit.employees_male as f64)),
            "employees_female" => Ok(Some(unit.employees_female as f64)),
            _ => match self.column_value(idx, name) {
                None => Ok(None),
                Some(text) => match text.trim().parse::<f64>() {
                    Ok(value) if value.is_finite() => Ok(Some(value)),
                    _ => Err(text.into_owned()),
                },
            },
        }
    }
}
