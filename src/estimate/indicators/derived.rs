//! Derived variables of the worker records (METHODOLOGY §4.2 notes, §4.4, §4.5, §6
//! "Derived variables"), added as columns so the indicator expressions can use them.
//!
//! Inputs are the worker-questionnaire names of VARIABLES.md plus unit columns merged onto
//! each worker row (`unit_type`, `registered`, `mw_region`, `cba_in_force`); see
//! docs/methodology.md for the microdata layout. Money is in thousand VND as collected;
//! minimum wages are in VND.

use crate::estimate::indicators::child_labour::{ChildLabour, classify_child_labour};
use crate::estimate::indicators::date::CivilDate;
use crate::estimate::indicators::error::Error;
use crate::estimate::indicators::forced_labour::{
    COERCION_ITEMS, INVOLUNTARINESS_ITEMS, forced_labour,
};
use crate::estimate::indicators::legal::{LegalParameters, Region};
use crate::estimate::indicators::record::{Column, Records, Value};
use crate::questionnaire::dwscs::EARNINGS_COMPONENTS;

/// Survey-level settings the derivations need.
#[derive(Clone, Debug, PartialEq)]
pub struct DerivationSettings {
    /// The reference date (end of the reference month) for minimum wages and overtime caps.
    pub reference_date: CivilDate,
    /// Whether employers are under the 300 h/year overtime regime (electronics for export is
    /// a listed case); a record column `ot_regime_300h` ("1"/"2") overrides it.
    pub overtime_300h_regime: bool,
}

/// What the derivation could not use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DerivationReport {
    /// Employees excluded from hourly earnings because E ≤ 0, H ≤ 0 or either is missing.
    pub hourly_excluded: usize,
    /// Records whose `mw_region` is missing or not I–IV.
    pub region_unknown: usize,
}

/// Hourly earnings in VND: h = E · 1000 / (H · 52/12), E in thousand VND per month and H
/// usual weekly hours. `None` when E ≤ 0 or H ≤ 0.
pub fn hourly_earnings(monthly_thousand_vnd: f64, usual_weekly_hours: f64) -> Option<f64> {
    if monthly_thousand_vnd > 0.0 && usual_weekly_hours > 0.0 {
        Some(monthly_thousand_vnd * 1000.0 / (usual_weekly_hours * 52.0 / 12.0))
    } else {
        None
    }
}

/// The default age group of §4.2: 15–17, 18–24, 25–34, 35–44, 45–54, 55+ ("<15" below).
pub fn age_group(age: f64) -> &'static str {
    match age {
        a if a < 15.0 => "<15",
        a if a < 18.0 => "15-17",
        a if a < 25.0 => "18-24",
        a if a < 35.0 => "25-34",
        a if a < 45.0 => "35-44",
        a if a < 55.0 => "45-54",
        _ => "55+",
    }
}

fn yes_no(value: &Value) -> Option<bool> {
    if value.is_code("1") {
        Some(true)
    } else if value.is_code("2") {
        Some(false)
    } else {
        None
    }
}

fn flag(value: Option<bool>) -> Value {
    match value {
        Some(b) => Value::Number(if b { 1.0 } else { 0.0 }),
        None => Value::Missing,
    }
}

/// Adds the derived columns: `earn_total` (if absent), `hourly_earnings`, `employee`,
/// `employed`, `hours_all_jobs`, `age_group`, `youth`, `region`, `min_wage_monthly`,
/// `min_wage_hourly`, `monthly_wage_vnd`, `below_min_wage`, `overtime_cap_month`,
/// `overtime_breach`, `precarious`, `informal_sector`, `informal_job`, `child_labour`,
/// `minor_hours_breach`, `forced_labour`.
pub fn derive(
    records: &mut Records,
    legal: &LegalParameters,
    settings: &DerivationSettings,
) -> Result<DerivationReport, Error> {
    let n = records.len();
    let mut report = DerivationReport::default();
    let mut columns: Vec<(&str, Column)> = [
        "earn_total",
        "hourly_earnings",
        "employee",
        "employed",
        "hours_all_jobs",
        "age_group",
        "youth",
        "region",
        "min_wage_monthly",
        "min_wage_hourly",
        "monthly_wage_vnd",
        "below_min_wage",
        "overtime_cap_month",
        "overtime_breach",
        "precarious",
        "informal_sector",
        "informal_job",
        "child_labour",
        "minor_hours_breach",
        "forced_labour",
    ]
    .into_iter()
    .map(|name| (name, Column::with_capacity(n)))
    .collect();
    let has_total = records.schema.get("earn_total").is_some();
    // Column positions are resolved once; the loop reads rows by index.
    let col_actual_hours_7d = records.schema.get("actual_hours_7d");
    let col_age = records.schema.get("age");
    let col_contract_type = records.schema.get("contract_type");
    let col_earn_allowances = records.schema.get("earn_allowances");
    let col_earn_basic = records.schema.get("earn_basic");
    let col_earn_total = records.schema.get("earn_total");
    let col_hazardous_work = records.schema.get("hazardous_work");
    let col_mw_region = records.schema.get("mw_region");
    let col_ot_regime_300h = records.schema.get("ot_regime_300h");
    let col_other_job_hours = records.schema.get("other_job_hours");
    let col_overtime_hours_month = records.schema.get("overtime_hours_month");
    let col_paid_annual_leave = records.schema.get("paid_annual_leave");
    let col_paid_sick_leave = records.schema.get("paid_sick_leave");
    let col_registered = records.schema.get("registered");
    let col_si_paid = records.schema.get("si_paid");
    let col_status_in_employment = records.schema.get("status_in_employment");
    let col_unit_type = records.schema.get("unit_type");
    let col_usual_hours = records.schema.get("usual_hours");
    let col_components: Vec<Option<usize>> = EARNINGS_COMPONENTS
        .iter()
        .map(|c| records.schema.get(c))
        .collect();
    let col_involuntariness: Vec<Option<usize>> = INVOLUNTARINESS_ITEMS
        .iter()
        .map(|c| records.schema.get(c))
        .collect();
    let col_coercion: Vec<Option<usize>> = COERCION_ITEMS
        .iter()
        .map(|c| records.schema.get(c))
        .collect();
    for row in 0..n {
        let v = |column: Option<usize>| -> Value {
            column.map_or(Value::Missing, |i| {
                records.column(i).map_or(Value::Missing, |c| c.value(row))
            })
        };
        let mut out: Vec<Value> = Vec::with_capacity(columns.len());
        // Earnings.
        let components: Vec<Option<f64>> =
            col_components.iter().map(|&c| v(c).as_number()).collect();
        let earn_total = if has_total {
            v(col_earn_total).as_number()
        } else if components.iter().all(Option::is_none) {
            None
        } else {
            Some(components.iter().flatten().sum())
        };
        let hours = v(col_usual_hours).as_number();
        let employee = v(col_status_in_employment).is_code("1");
        let hourly = match (earn_total, hours) {
            (Some(e), Some(h)) => hourly_earnings(e, h),
            _ => None,
        };
        if employee && hourly.is_none() {
            report.hourly_excluded += 1;
        }
        out.push(earn_total.map_or(Value::Missing, Value::Number));
        out.push(hourly.map_or(Value::Missing, Value::Number));
        out.push(flag(Some(employee)));
        out.push(Value::Number(1.0));
        let all_jobs = hours.map(|h| h + v(col_other_job_hours).as_number().unwrap_or(0.0));
        out.push(all_jobs.map_or(Value::Missing, Value::Number));
        // Age.
        let age = v(col_age).as_number();
        out.push(age.map_or(Value::Missing, |a| Value::Text(age_group(a).to_string())));
        out.push(flag(age.map(|a| (15.0..25.0).contains(&a))));
        // Region and minimum wage.
        let region = Region::parse(&v(col_mw_region).as_text());
        if region.is_none() {
            report.region_unknown += 1;
        }
        out.push(region.map_or(Value::Missing, |r| Value::Text(r.to_string())));
        let minimum = region.and_then(|r| legal.minimum_wage_rates(settings.reference_date, r));
        out.push(minimum.map_or(Value::Missing, |(monthly, _)| Value::Number(monthly)));
        out.push(minimum.map_or(Value::Missing, |(_, hourly)| Value::Number(hourly)));
        // The wage compared with the monthly minimum: basic wage plus allowances.
        let wage = v(col_earn_basic)
            .as_number()
            .map(|basic| (basic + v(col_earn_allowances).as_number().unwrap_or(0.0)) * 1000.0);
        out.push(wage.map_or(Value::Missing, Value::Number));
        out.push(flag(match (wage, minimum) {
            (Some(w), Some((monthly, _))) => Some(w < monthly),
            _ => None,
        }));
        // Overtime.
        let regime = yes_no(&v(col_ot_regime_300h)).unwrap_or(settings.overtime_300h_regime);
        let cap = legal.overtime_cap_month(settings.reference_date, regime);
        out.push(Value::Number(cap));
        out.push(flag(v(col_overtime_hours_month).as_number().map(|h| {
            legal.overtime_month_exceeded(h, settings.reference_date, regime)
        })));
        // Contracts and informality.
        let contract = v(col_contract_type).as_text();
        out.push(flag(if contract.is_empty() || contract == "9" {
            None
        } else {
            Some(matches!(contract.as_str(), "3" | "4" | "5"))
        }));
        let household = v(col_unit_type).is_code("5");
        let registered = yes_no(&v(col_registered));
        let informal_sector = match registered {
            Some(r) => Some(household && !r),
            None if !household && !v(col_unit_type).as_text().is_empty() => Some(false),
            None => None,
        };
        out.push(flag(informal_sector));
        let informal_job = if employee {
            match yes_no(&v(col_si_paid)) {
                Some(paid) => Some(!paid),
                None => match (
                    yes_no(&v(col_paid_annual_leave)),
                    yes_no(&v(col_paid_sick_leave)),
                ) {
                    (Some(false), Some(false)) => Some(true),
                    (Some(true), _) | (_, Some(true)) => Some(false),
                    _ => None,
                },
            }
        } else {
            informal_sector
        };
        out.push(flag(informal_job));
        // Child labour (reference-week hours in all jobs) and minors' legal hours.
        let week_hours = v(col_actual_hours_7d).as_number().or(all_jobs);
        let hazardous = yes_no(&v(col_hazardous_work)).unwrap_or(false);
        let child = match age {
            Some(a) if a >= 0.0 => {
                let band = classify_child_labour(a as u32, 0.0, false, legal.child_labour_bands());
                match week_hours {
                    // Outside 5–17 the classification does not apply: not child labour.
                    _ if band == ChildLabour::NotApplicable => Some(false),
                    Some(h) => Some(
                        classify_child_labour(a as u32, h, hazardous, legal.child_labour_bands())
                            .is_child_labour(),
                    ),
                    None if hazardous => Some(true),
                    None => None,
                }
            }
            _ => None,
        };
        out.push(flag(child));
        out.push(flag(match (age, all_jobs) {
            (Some(a), Some(h)) if a >= 0.0 => Some(legal.minor_hours_exceeded(a as u32, h)),
            _ => None,
        }));
        // Forced labour.
        let involuntariness: Vec<Option<bool>> =
            col_involuntariness.iter().map(|&c| yes_no(&v(c))).collect();
        let coercion: Vec<Option<bool>> = col_coercion.iter().map(|&c| yes_no(&v(c))).collect();
        out.push(flag(forced_labour(&involuntariness, &coercion)));
        for (column, value) in columns.iter_mut().zip(out) {
            column.1.push(&value);
        }
    }
    for (name, values) in columns {
        if name == "earn_total" && has_total {
            continue;
        }
        records.put_column(name, values);
    }
    Ok(report)
}
