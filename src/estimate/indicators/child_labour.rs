//! Child-labour classification (METHODOLOGY §4.2 #16, §4.3; SDG 8.7.1 statistical
//! thresholds \[S21\]).

use crate::estimate::indicators::legal::ChildLabourBand;

/// The classification of one person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildLabour {
    /// Age outside 5–17: the classification does not apply.
    NotApplicable,
    /// A child in economic activity below the band's hours threshold, not in hazardous work.
    PermittedWork,
    /// At or above the hours threshold of the age band.
    ByHours,
    /// In hazardous work (any hours).
    Hazardous,
}

impl ChildLabour {
    /// Whether this is child labour.
    pub fn is_child_labour(self) -> bool {
        matches!(self, ChildLabour::ByHours | ChildLabour::Hazardous)
    }
}

/// Classifies a person aged `age` working `weekly_hours` of economic activity in the
/// reference week, with `hazardous` = in hazardous work: 5–11 with ≥ 1 h, 12–14 with ≥ 14 h,
/// 15–17 with ≥ 43 h (the bands of the legal file), or any hazardous work under 18.
pub fn classify_child_labour(
    age: u32,
    weekly_hours: f64,
    hazardous: bool,
    bands: &[ChildLabourBand],
) -> ChildLabour {
    let Some(band) = bands.iter().find(|b| b.min_age <= age && age <= b.max_age) else {
        return ChildLabour::NotApplicable;
    };
    if hazardous {
        ChildLabour::Hazardous
    } else if weekly_hours >= band.min_weekly_hours {
        ChildLabour::ByHours
    } else {
        ChildLabour::PermittedWork
    }
}
