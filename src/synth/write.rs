//! Writing a population out: the frame CSVs (`docs/frame-format.md`, with the synthetic
//! attributes as extra columns), the truth (CSV and JSON), the calibration table and,
//! optionally, every worker (streamed, one unit at a time).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::Error;
use super::calibration::Check;
use super::population::Population;
use super::truth::PopulationTruth;
use super::workers::{YesNoDk, workers_of};
use crate::frame::{write_links_csv, write_units_csv};
use crate::questionnaire::dwscs;

fn create(path: &Path) -> Result<BufWriter<File>, Error> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|e| write_err(path, e))
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Writes `units.csv`, `links.csv` and `tier0.txt` (the lead-firm ids, one per line: the
/// list `frame import|show --tier0-ids` reads) into `dir`.
pub fn write_frame_csv(pop: &Population, dir: &Path) -> Result<(), Error> {
    let path = dir.join("units.csv");
    let mut f = create(&path)?;
    write_units_csv(&pop.frame, &mut f).map_err(|e| write_err(&path, e))?;
    f.flush().map_err(|e| write_err(&path, e))?;
    let path = dir.join("links.csv");
    let mut f = create(&path)?;
    write_links_csv(&pop.frame, &mut f).map_err(|e| write_err(&path, e))?;
    f.flush().map_err(|e| write_err(&path, e))?;
    let path = dir.join("tier0.txt");
    let mut f = create(&path)?;
    let mut text = String::new();
    for i in pop.tier0() {
        text.push_str(&pop.frame.units[i].id);
        text.push('\n');
    }
    f.write_all(text.as_bytes())
        .map_err(|e| write_err(&path, e))?;
    f.flush().map_err(|e| write_err(&path, e))
}

/// Writes `truth.csv` and `truth.json` into `dir`.
pub fn write_truth(truth: &PopulationTruth, dir: &Path) -> Result<(), Error> {
    let path = dir.join("truth.csv");
    let f = create(&path)?;
    let mut w = csv::Writer::from_writer(f);
    let e = |err: csv::Error| write_err(&path, err);
    w.write_record([
        "indicator",
        "table",
        "tier",
        "sex",
        "age_group",
        "province_group",
        "ownership",
        "numerator",
        "denominator",
        "value",
    ])
    .map_err(e)?;
    for r in &truth.rows {
        w.write_record([
            r.indicator,
            r.table,
            &r.tier,
            &r.sex,
            &r.age_group,
            &r.province_group,
            &r.ownership,
            &r.numerator.to_string(),
            &r.denominator.map(|d| d.to_string()).unwrap_or_default(),
            &r.value.to_string(),
        ])
        .map_err(e)?;
    }
    w.flush().map_err(|err| write_err(&path, err))?;
    let path = dir.join("truth.json");
    let mut f = create(&path)?;
    serde_json::to_writer_pretty(&mut f, truth).map_err(|err| write_err(&path, err))?;
    f.flush().map_err(|err| write_err(&path, err))
}

/// Writes the calibration checks as CSV (`check,value,target,pass`; pass is `info` for
/// figures reported for information).
pub fn write_calibration_csv(checks: &[Check], path: &Path) -> Result<(), Error> {
    let f = create(path)?;
    let mut w = csv::Writer::from_writer(f);
    let e = |err: csv::Error| write_err(path, err);
    w.write_record(["check", "value", "target", "pass"])
        .map_err(e)?;
    for c in checks {
        let pass = match c.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "info",
        };
        w.write_record([c.name.as_str(), &c.value.to_string(), &c.target, pass])
            .map_err(e)?;
    }
    w.flush().map_err(|err| write_err(path, err))
}

/// Column names of the workers file: `unit_id`, `worker` (index within the unit), then the
/// `VARIABLES.md` names (from [`crate::questionnaire::dwscs`]; no consent, ethnicity,
/// education or occupation, which the population does not model).
pub const WORKER_COLUMNS: [&str; 47] = dwscs::join(&[
    &[
        "unit_id",
        "worker",
        "sex",
        "age",
        "birth_year",
        "migrant",
        "status_in_employment",
    ],
    &dwscs::JOB_AND_HOURS,
    &dwscs::EARNINGS_COMPONENTS,
    &dwscs::EARNINGS_CALCULATED,
    &dwscs::PROTECTION,
    &dwscs::INVOLUNTARINESS_ITEMS,
    &dwscs::COERCION_ITEMS,
    &[dwscs::HAZARDOUS_WORK],
]);

/// Streams every worker to a CSV file (codes as in `VARIABLES.md`; "don't know" written as
/// `dk`; items not asked left empty). Memory stays constant: one worker at a time.
pub fn write_workers_csv(pop: &Population, path: &Path) -> Result<u64, Error> {
    let f = create(path)?;
    let mut w = csv::Writer::from_writer(f);
    let e = |err: csv::Error| write_err(path, err);
    w.write_record(WORKER_COLUMNS).map_err(e)?;
    let yn = |b: bool| if b { "1" } else { "2" }.to_string();
    let dk = |a: Option<YesNoDk>| match a {
        Some(YesNoDk::Yes) => "1".to_string(),
        Some(YesNoDk::No) => "2".to_string(),
        Some(YesNoDk::DontKnow) => "dk".to_string(),
        None => String::new(),
    };
    let mut n = 0u64;
    for unit in 0..pop.frame.units.len() {
        let id = &pop.frame.units[unit].id;
        for x in workers_of(pop, unit) {
            n += 1;
            let rec: [String; 47] = [
                id.clone(),
                x.index.to_string(),
                x.sex.code().into(),
                x.age.to_string(),
                x.birth_year.to_string(),
                yn(x.migrant),
                x.status_in_employment.code().into(),
                x.tenure_months.to_string(),
                yn(x.agency_hired),
                x.contract_type
                    .map(|c| c.code().to_string())
                    .unwrap_or_default(),
                x.contract_copy.map(yn).unwrap_or_default(),
                x.usual_hours.to_string(),
                x.actual_hours_7d.to_string(),
                x.other_job_hours.to_string(),
                x.overtime_hours_month.to_string(),
                yn(x.night_work),
                yn(x.can_refuse_ot),
                x.pay_form.code().into(),
                x.earn_basic.to_string(),
                x.earn_overtime.to_string(),
                x.earn_allowances.to_string(),
                x.earn_bonus.to_string(),
                x.earn_total().to_string(),
                x.hourly_earnings()
                    .map(|h| format!("{h:.4}"))
                    .unwrap_or_default(),
                yn(x.paid_on_time),
                dk(x.si_paid),
                dk(x.hi_paid),
                dk(x.ui_paid),
                dk(x.paid_annual_leave),
                dk(x.paid_sick_leave),
                yn(x.injury_12m),
                x.injury_days_lost.to_string(),
                yn(x.ppe_provided),
                yn(x.union_member),
                dk(x.cba_covered),
                yn(x.fl_deceived),
                yn(x.fl_forced_ot),
                yn(x.fl_other_employer),
                yn(x.fl_live_premises),
                yn(x.fl_wages_withheld),
                yn(x.fl_id_retained),
                yn(x.fl_debt),
                yn(x.fl_threats),
                yn(x.fl_restricted_movement),
                yn(x.fl_penalty_leaving),
                yn(x.fl_cannot_leave),
                if x.age < 18 {
                    yn(x.hazardous_work)
                } else {
                    String::new()
                },
            ];
            w.write_record(&rec).map_err(e)?;
        }
    }
    w.flush().map_err(|err| write_err(path, err))?;
    Ok(n)
}
