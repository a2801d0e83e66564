//! Dated legal parameters (`questionnaires/legal/vn.json`): regional minimum wages by decree,
//! normal hours, overtime caps with the Resolution 17/2022 exception, minors' limits,
//! child-labour thresholds and social-insurance eligibility (METHODOLOGY §4.3–4.5).
//!
//! The file is parsed once into [`LegalParameters`]; lookups take a reference date and, for
//! minimum wages, the employer's region. The commune → region table is not part of this
//! file: records carry the region (`mw_region`), see docs/methodology.md.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use crate::estimate::indicators::date::CivilDate;
use crate::estimate::indicators::error::Error;

/// Minimum-wage region (vùng) I–IV.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    I,
    II,
    III,
    IV,
}

impl Region {
    /// Parses `I`…`IV` or `1`…`4`.
    pub fn parse(text: &str) -> Option<Region> {
        match text.trim() {
            "I" | "1" => Some(Region::I),
            "II" | "2" => Some(Region::II),
            "III" | "3" => Some(Region::III),
            "IV" | "4" => Some(Region::IV),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Region::I => 0,
            Region::II => 1,
            Region::III => 2,
            Region::IV => 3,
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Region::I => "I",
            Region::II => "II",
            Region::III => "III",
            Region::IV => "IV",
        };
        f.write_str(name)
    }
}

/// The minimum wage of one region under one decree.
#[derive(Clone, Debug, PartialEq)]
pub struct MinimumWage {
    /// VND per month.
    pub monthly: f64,
    /// VND per hour.
    pub hourly: f64,
    /// The decree, e.g. "Decree 74/2024/NĐ-CP".
    pub instrument: String,
}

#[derive(Clone, Debug, PartialEq)]
struct Decree {
    instrument: String,
    from: CivilDate,
    to: Option<CivilDate>,
    /// Regions I..IV: (monthly, hourly).
    rates: [(f64, f64); 4],
}

#[derive(Clone, Debug, PartialEq)]
struct OvertimeException {
    from: CivilDate,
    to: CivilDate,
    max_hours_per_month: f64,
}

#[derive(Clone, Debug, PartialEq)]
struct Dated {
    from: CivilDate,
    value: f64,
}

/// Child-labour hours threshold of one age band (SDG 8.7.1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChildLabourBand {
    pub min_age: u32,
    pub max_age: u32,
    pub min_weekly_hours: f64,
}

/// The parsed legal parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct LegalParameters {
    decrees: Vec<Decree>,
    normal_hours_per_day: f64,
    normal_hours_per_week: f64,
    overtime_per_month: f64,
    overtime_per_year: f64,
    overtime_per_year_listed: f64,
    overtime_exceptions: Vec<OvertimeException>,
    minors_15_17_per_week: f64,
    minors_15_17_per_day: f64,
    under_15_per_week: f64,
    under_15_per_day: f64,
    minimum_working_age: u32,
    child_labour_bands: Vec<ChildLabourBand>,
    si_min_contract_months: Vec<Dated>,
    hi_ui_min_contract_months: Vec<Dated>,
}

// The wire format (serde), converted to the validated types above.
#[derive(Deserialize)]
struct RawFile {
    schema_version: u32,
    minimum_wage: Vec<RawDecree>,
    working_time: RawWorkingTime,
    overtime: RawOvertime,
    minors: RawMinors,
    child_labour: RawChildLabour,
    social_insurance: RawSocialInsurance,
}

#[derive(Deserialize)]
struct RawDecree {
    instrument: String,
    effective_from: String,
    effective_to: Option<String>,
    regions: std::collections::BTreeMap<String, RawRate>,
}

#[derive(Deserialize)]
struct RawRate {
    monthly: f64,
    hourly: f64,
}

#[derive(Deserialize)]
struct RawWorkingTime {
    normal_hours_per_day: f64,
    normal_hours_per_week: f64,
}

#[derive(Deserialize)]
struct RawOvertime {
    max_hours_per_month: f64,
    max_hours_per_year: f64,
    max_hours_per_year_listed_cases: f64,
    exceptions: Vec<RawException>,
}

#[derive(Deserialize)]
struct RawException {
    effective_from: String,
    effective_to: String,
    max_hours_per_month: f64,
}

#[derive(Deserialize)]
struct RawMinors {
    minimum_working_age: u32,
    age_15_17: RawHours,
    under_15: RawHours,
}

#[derive(Deserialize)]
struct RawHours {
    max_hours_per_day: f64,
    max_hours_per_week: f64,
}

#[derive(Deserialize)]
struct RawChildLabour {
    bands: Vec<RawBand>,
}

#[derive(Deserialize)]
struct RawBand {
    min_age: u32,
    max_age: u32,
    min_weekly_hours: f64,
}

#[derive(Deserialize)]
struct RawSocialInsurance {
    compulsory_min_contract_months: Vec<RawDated>,
    hi_ui_min_contract_months: Vec<RawDated>,
}

#[derive(Deserialize)]
struct RawDated {
    effective_from: String,
    months: f64,
}

fn date(text: &str, place: &str) -> Result<CivilDate, Error> {
    CivilDate::parse(text)
        .ok_or_else(|| Error::Legal(format!("{place}: `{text}` is not a date YYYY-MM-DD")))
}

fn positive(value: f64, place: &str) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::Legal(format!(
            "{place}: {value} is not a positive number"
        )))
    }
}

fn dated(raw: &[RawDated], place: &str) -> Result<Vec<Dated>, Error> {
    let mut out = Vec::with_capacity(raw.len());
    for (idx, entry) in raw.iter().enumerate() {
        let here = format!("{place}[{idx}]");
        out.push(Dated {
            from: date(&entry.effective_from, &here)?,
            value: positive(entry.months, &here)?,
        });
    }
    out.sort_by_key(|d| d.from);
    Ok(out)
}

fn dated_value(values: &[Dated], at: CivilDate) -> Option<f64> {
    values.iter().rev().find(|d| d.from <= at).map(|d| d.value)
}

impl LegalParameters {
    /// Parses the JSON text of a legal-parameter file. Errors name the JSON path.
    pub fn parse(text: &str) -> Result<LegalParameters, Error> {
        let raw: RawFile = serde_json::from_str(text)
            .map_err(|e| Error::Legal(format!("legal parameters: {e}")))?;
        if raw.schema_version != 1 {
            return Err(Error::Legal(format!(
                "schema_version {} is not supported (expected 1)",
                raw.schema_version
            )));
        }
        let mut decrees = Vec::with_capacity(raw.minimum_wage.len());
        for (idx, d) in raw.minimum_wage.iter().enumerate() {
            let place = format!("minimum_wage[{idx}]");
            let from = date(&d.effective_from, &format!("{place}.effective_from"))?;
            let to = match &d.effective_to {
                Some(text) => Some(date(text, &format!("{place}.effective_to"))?),
                None => None,
            };
            if to.is_some_and(|to| to < from) {
                return Err(Error::Legal(format!(
                    "{place}: effective_to is before effective_from"
                )));
            }
            let mut rates = [(0.0, 0.0); 4];
            for name in ["I", "II", "III", "IV"] {
                let rate = d.regions.get(name).ok_or_else(|| {
                    Error::Legal(format!("{place}.regions: region {name} is missing"))
                })?;
                let region_place = format!("{place}.regions.{name}");
                let region = Region::parse(name)
                    .ok_or_else(|| Error::Legal(format!("{region_place}: unknown region")))?;
                rates[region.index()] = (
                    positive(rate.monthly, &region_place)?,
                    positive(rate.hourly, &region_place)?,
                );
            }
            if let Some(unknown) = d.regions.keys().find(|k| Region::parse(k).is_none()) {
                return Err(Error::Legal(format!(
                    "{place}.regions: unknown region `{unknown}`"
                )));
            }
            decrees.push(Decree {
                instrument: d.instrument.clone(),
                from,
                to,
                rates,
            });
        }
        decrees.sort_by_key(|d| d.from);
        for pair in decrees.windows(2) {
            if pair[0].to.is_none_or(|to| to >= pair[1].from) {
                return Err(Error::Legal(format!(
                    "minimum wages: {} overlaps {}",
                    pair[0].instrument, pair[1].instrument
                )));
            }
        }
        let mut overtime_exceptions = Vec::new();
        for (idx, e) in raw.overtime.exceptions.iter().enumerate() {
            let place = format!("overtime.exceptions[{idx}]");
            overtime_exceptions.push(OvertimeException {
                from: date(&e.effective_from, &place)?,
                to: date(&e.effective_to, &place)?,
                max_hours_per_month: positive(e.max_hours_per_month, &place)?,
            });
        }
        let child_labour_bands = raw
            .child_labour
            .bands
            .iter()
            .map(|b| ChildLabourBand {
                min_age: b.min_age,
                max_age: b.max_age,
                min_weekly_hours: b.min_weekly_hours,
            })
            .collect();
        Ok(LegalParameters {
            decrees,
            normal_hours_per_day: positive(
                raw.working_time.normal_hours_per_day,
                "working_time.normal_hours_per_day",
            )?,
            normal_hours_per_week: positive(
                raw.working_time.normal_hours_per_week,
                "working_time.normal_hours_per_week",
            )?,
            overtime_per_month: positive(
                raw.overtime.max_hours_per_month,
                "overtime.max_hours_per_month",
            )?,
            overtime_per_year: positive(
                raw.overtime.max_hours_per_year,
                "overtime.max_hours_per_year",
            )?,
            overtime_per_year_listed: positive(
                raw.overtime.max_hours_per_year_listed_cases,
                "overtime.max_hours_per_year_listed_cases",
            )?,
            overtime_exceptions,
            minors_15_17_per_week: positive(
                raw.minors.age_15_17.max_hours_per_week,
                "minors.age_15_17",
            )?,
            minors_15_17_per_day: positive(
                raw.minors.age_15_17.max_hours_per_day,
                "minors.age_15_17",
            )?,
            under_15_per_week: positive(raw.minors.under_15.max_hours_per_week, "minors.under_15")?,
            under_15_per_day: positive(raw.minors.under_15.max_hours_per_day, "minors.under_15")?,
            minimum_working_age: raw.minors.minimum_working_age,
            child_labour_bands,
            si_min_contract_months: dated(
                &raw.social_insurance.compulsory_min_contract_months,
                "social_insurance.compulsory_min_contract_months",
            )?,
            hi_ui_min_contract_months: dated(
                &raw.social_insurance.hi_ui_min_contract_months,
                "social_insurance.hi_ui_min_contract_months",
            )?,
        })
    }

    /// Reads and parses a file.
    pub fn load(path: &Path) -> Result<LegalParameters, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Legal(format!("{}: {e}", path.display())))?;
        LegalParameters::parse(&text).map_err(|e| match e {
            Error::Legal(message) => Error::Legal(format!("{}: {message}", path.display())),
            other => other,
        })
    }

    /// The shipped Viet Nam parameters (`questionnaires/legal/vn.json`, embedded).
    pub fn vietnam() -> Result<LegalParameters, Error> {
        LegalParameters::parse(include_str!("../../../questionnaires/legal/vn.json"))
    }

    /// The minimum wage in force on `date` in `region`, or `None` before the first decree
    /// (and in gaps between decrees).
    pub fn minimum_wage(&self, date: CivilDate, region: Region) -> Option<MinimumWage> {
        self.decrees
            .iter()
            .find(|d| d.from <= date && d.to.is_none_or(|to| date <= to))
            .map(|d| {
                let (monthly, hourly) = d.rates[region.index()];
                MinimumWage {
                    monthly,
                    hourly,
                    instrument: d.instrument.clone(),
                }
            })
    }

    /// The (monthly, hourly) minimum wage in force on `date` in `region`, without the
    /// decree name (the allocation-free form used per record).
    pub fn minimum_wage_rates(&self, date: CivilDate, region: Region) -> Option<(f64, f64)> {
        self.decrees
            .iter()
            .find(|d| d.from <= date && d.to.is_none_or(|to| date <= to))
            .map(|d| d.rates[region.index()])
    }

    /// Normal hours per week (48).
    pub fn normal_hours_per_week(&self) -> f64 {
        self.normal_hours_per_week
    }

    /// Normal hours per day (8).
    pub fn normal_hours_per_day(&self) -> f64 {
        self.normal_hours_per_day
    }

    /// Monthly overtime cap on `date`: 40 h, or the Resolution 17/2022 cap (60 h) inside its
    /// period for employers under the 300-hour regime.
    pub fn overtime_cap_month(&self, date: CivilDate, listed_300h_regime: bool) -> f64 {
        if listed_300h_regime
            && let Some(e) = self
                .overtime_exceptions
                .iter()
                .find(|e| e.from <= date && date <= e.to)
        {
            return e.max_hours_per_month;
        }
        self.overtime_per_month
    }

    /// Yearly overtime cap: 200 h, or 300 h in the listed cases (which include electronics
    /// for export).
    pub fn overtime_cap_year(&self, listed_300h_regime: bool) -> f64 {
        if listed_300h_regime {
            self.overtime_per_year_listed
        } else {
            self.overtime_per_year
        }
    }

    /// Whether monthly overtime `hours` breaks the cap in force on `date`.
    pub fn overtime_month_exceeded(
        &self,
        hours: f64,
        date: CivilDate,
        listed_300h_regime: bool,
    ) -> bool {
        hours > self.overtime_cap_month(date, listed_300h_regime)
    }

    /// Whether yearly overtime `hours` breaks the cap.
    pub fn overtime_year_exceeded(&self, hours: f64, listed_300h_regime: bool) -> bool {
        hours > self.overtime_cap_year(listed_300h_regime)
    }

    /// Whether weekly `hours` exceed the normal-hours limit (48).
    pub fn normal_week_exceeded(&self, hours: f64) -> bool {
        hours > self.normal_hours_per_week
    }

    /// Whether a minor's weekly hours break the legal limit for their age (40 h at 15–17,
    /// 20 h under 15). Adults: `false`.
    pub fn minor_hours_exceeded(&self, age: u32, weekly_hours: f64) -> bool {
        if age >= 18 {
            false
        } else if age >= self.minimum_working_age {
            weekly_hours > self.minors_15_17_per_week
        } else {
            weekly_hours > self.under_15_per_week
        }
    }

    /// Daily limits for minors (8 h at 15–17, 4 h under 15); `None` for adults.
    pub fn minor_daily_limit(&self, age: u32) -> Option<f64> {
        if age >= 18 {
            None
        } else if age >= self.minimum_working_age {
            Some(self.minors_15_17_per_day)
        } else {
            Some(self.under_15_per_day)
        }
    }

    /// Minimum working age (15).
    pub fn minimum_working_age(&self) -> u32 {
        self.minimum_working_age
    }

    /// Child-labour bands (SDG 8.7.1 thresholds).
    pub fn child_labour_bands(&self) -> &[ChildLabourBand] {
        &self.child_labour_bands
    }

    /// Whether a contract of `months` makes compulsory social insurance apply on `date`.
    pub fn si_eligible(&self, contract_months: f64, date: CivilDate) -> bool {
        dated_value(&self.si_min_contract_months, date).is_some_and(|min| contract_months >= min)
    }

    /// Minimum contract duration (months) for health/unemployment insurance on `date`.
    pub fn hi_ui_min_contract_months(&self, date: CivilDate) -> Option<f64> {
        dated_value(&self.hi_ui_min_contract_months, date)
    }
}
