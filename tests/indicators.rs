//! Decent-work indicators: legal parameters (§4.5), derived variables, the indicator catalog
//! and the §4.6 oracle, child-labour and forced-labour truth tables.

use chainsurvey::estimate::indicators::Error;
use chainsurvey::estimate::indicators::catalog::Catalog;
use chainsurvey::estimate::indicators::child_labour::{ChildLabour, classify_child_labour};
use chainsurvey::estimate::indicators::date::CivilDate;
use chainsurvey::estimate::indicators::derived::{DerivationSettings, derive, hourly_earnings};
use chainsurvey::estimate::indicators::evaluate::{
    domains, parameter_values, point_estimate, prepare, weighted_quantile,
};
use chainsurvey::estimate::indicators::expr::compile;
use chainsurvey::estimate::indicators::forced_labour::forced_labour;
use chainsurvey::estimate::indicators::legal::{LegalParameters, Region};
use chainsurvey::estimate::indicators::record::{Records, Schema, Value};

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).expect("date")
}

fn vn() -> LegalParameters {
    LegalParameters::vietnam().expect("shipped vn.json parses")
}

/// Every worker variable of VARIABLES.md plus the unit columns merged onto worker rows.
const WORKER_COLUMNS: &[&str] = &chainsurvey::questionnaire::dwscs::WORKER_ROW_COLUMNS;

/// Records from rows of (column, cell) pairs; unlisted columns are missing.
fn records(rows: &[Vec<(&str, &str)>]) -> Records {
    let names: Vec<String> = WORKER_COLUMNS.iter().map(|s| s.to_string()).collect();
    let schema = Schema::new(&names);
    let rows: Vec<Vec<Value>> = rows
        .iter()
        .map(|cells| {
            let mut row = vec![Value::Missing; schema.len()];
            for (column, cell) in cells {
                let idx = schema
                    .get(column)
                    .unwrap_or_else(|| panic!("test uses unknown column {column}"));
                row[idx] = Value::from_cell(cell);
            }
            row
        })
        .collect();
    Records::from_rows(schema, &rows).expect("rows fit the schema")
}

// ---------------------------------------------------------------------------------------
// Legal parameters.

#[test]
fn minimum_wage_lookups_by_date_and_region() {
    let legal = vn();
    let at = |d: &str, r: Region| {
        legal
            .minimum_wage(date(d), r)
            .expect("minimum wage in force")
    };
    let m = at("2023-06-30", Region::I);
    assert_eq!((m.monthly, m.hourly), (4_680_000.0, 22_500.0));
    assert!(m.instrument.contains("38/2022"));
    let m = at("2024-07-01", Region::II);
    assert_eq!((m.monthly, m.hourly), (4_410_000.0, 21_200.0));
    assert!(m.instrument.contains("74/2024"));
    let m = at("2026-01-01", Region::IV);
    assert_eq!((m.monthly, m.hourly), (3_700_000.0, 17_800.0));
    assert!(m.instrument.contains("293/2025"));
    // Decree boundaries: the last day of one decree and the first of the next.
    assert!(at("2024-06-30", Region::III).instrument.contains("38/2022"));
    assert_eq!(at("2024-06-30", Region::III).monthly, 3_640_000.0);
    assert!(at("2025-12-31", Region::III).instrument.contains("74/2024"));
    assert_eq!(at("2026-01-01", Region::III).monthly, 4_140_000.0);
    assert_eq!(at("2030-01-01", Region::I).monthly, 5_310_000.0);
    // Before Decree 38/2022 the file has no table.
    assert_eq!(legal.minimum_wage(date("2022-06-30"), Region::I), None);
    // All four regions of Decree 74/2024.
    let monthly: Vec<f64> = [Region::I, Region::II, Region::III, Region::IV]
        .iter()
        .map(|&r| at("2025-03-01", r).monthly)
        .collect();
    assert_eq!(
        monthly,
        vec![4_960_000.0, 4_410_000.0, 3_860_000.0, 3_450_000.0]
    );
    assert_eq!(Region::parse("iii"), None);
    assert_eq!(Region::parse("3"), Some(Region::III));
}

#[test]
fn working_time_boundaries() {
    let legal = vn();
    // Monthly overtime: 40/41 outside 2022 (with or without the 300-hour regime).
    for d in ["2023-06-15", "2022-03-31", "2023-01-01"] {
        assert!(!legal.overtime_month_exceeded(40.0, date(d), true), "{d}");
        assert!(legal.overtime_month_exceeded(41.0, date(d), true), "{d}");
    }
    // Inside 1 Apr – 31 Dec 2022, the 300-hour regime allows 60 h/month.
    for d in ["2022-04-01", "2022-06-15", "2022-12-31"] {
        assert!(!legal.overtime_month_exceeded(41.0, date(d), true), "{d}");
        assert!(!legal.overtime_month_exceeded(60.0, date(d), true), "{d}");
        assert!(legal.overtime_month_exceeded(61.0, date(d), true), "{d}");
        // Without the regime the exception does not apply.
        assert!(legal.overtime_month_exceeded(41.0, date(d), false), "{d}");
    }
    // Normal hours 48/49 a week.
    assert!(!legal.normal_week_exceeded(48.0));
    assert!(legal.normal_week_exceeded(49.0));
    // Yearly caps 200/201 and 300/301.
    assert!(!legal.overtime_year_exceeded(200.0, false));
    assert!(legal.overtime_year_exceeded(201.0, false));
    assert!(!legal.overtime_year_exceeded(300.0, true));
    assert!(legal.overtime_year_exceeded(301.0, true));
    // Minors: 40 h/week at 15–17, 20 h under 15; adults are not concerned.
    assert!(!legal.minor_hours_exceeded(16, 40.0));
    assert!(legal.minor_hours_exceeded(16, 41.0));
    assert!(!legal.minor_hours_exceeded(14, 20.0));
    assert!(legal.minor_hours_exceeded(14, 21.0));
    assert!(!legal.minor_hours_exceeded(18, 70.0));
    assert_eq!(legal.minor_daily_limit(17), Some(8.0));
    assert_eq!(legal.minor_daily_limit(13), Some(4.0));
    // Social insurance: contracts of at least one month; HI/UI duration is versioned.
    assert!(legal.si_eligible(1.0, date("2024-01-01")));
    assert!(!legal.si_eligible(0.5, date("2024-01-01")));
    assert!(!legal.si_eligible(12.0, date("2017-12-31")));
    assert_eq!(
        legal.hi_ui_min_contract_months(date("2024-01-01")),
        Some(3.0)
    );
}

#[test]
fn bad_legal_files_name_the_place() {
    let text = include_str!("../questionnaires/legal/vn.json");
    let bad_date = text.replacen("\"2024-07-01\"", "\"2024-13-01\"", 1);
    match LegalParameters::parse(&bad_date) {
        Err(Error::Legal(message)) => assert!(
            message.contains("minimum_wage[1].effective_from"),
            "{message}"
        ),
        other => panic!("expected a legal error, got {other:?}"),
    }
    let overlap = text.replacen("\"2024-06-30\"", "\"2024-07-15\"", 1);
    match LegalParameters::parse(&overlap) {
        Err(Error::Legal(message)) => assert!(message.contains("overlaps"), "{message}"),
        other => panic!("expected an overlap error, got {other:?}"),
    }
    let no_region = text.replacen(
        "\"IV\": {\"monthly\": 3250000, \"hourly\": 15600}",
        "\"V\": {\"monthly\": 1, \"hourly\": 1}",
        1,
    );
    assert!(
        matches!(LegalParameters::parse(&no_region), Err(Error::Legal(m)) if m.contains("region IV is missing"))
    );
    assert!(matches!(
        LegalParameters::parse("[1, 2"),
        Err(Error::Legal(_))
    ));
    assert!(CivilDate::parse("2023-02-29").is_none());
    assert!(CivilDate::parse("2024-02-29").is_some());
}

// ---------------------------------------------------------------------------------------
// The §4.6 oracle.

/// (id, sex, weight, usual hours, monthly earnings in thousand VND, region, hourly VND).
const ORACLE: [(u32, &str, f64, &str, &str, &str, f64); 8] = [
    (1, "2", 100.0, "48", "6000", "I", 28846.15),
    (2, "2", 100.0, "60", "7200", "I", 27692.31),
    (3, "2", 200.0, "48", "4300", "II", 20673.08),
    (4, "1", 100.0, "44", "8000", "I", 41958.04),
    (5, "1", 150.0, "52", "6500", "II", 28846.15),
    (6, "2", 150.0, "40", "2500", "III", 14423.08),
    (7, "1", 100.0, "56", "9100", "I", 37500.00),
    (8, "2", 200.0, "48", "5200", "II", 25000.00),
];

fn oracle_records() -> (Records, Vec<f64>) {
    let rows: Vec<Vec<(&str, &str)>> = ORACLE
        .iter()
        .map(|&(_, sex, _, hours, earnings, region, _)| {
            vec![
                ("sex", sex),
                ("age", "30"),
                ("status_in_employment", "1"),
                ("pay_form", "1"),
                ("usual_hours", hours),
                ("other_job_hours", "0"),
                ("earn_basic", earnings),
                ("earn_overtime", "0"),
                ("earn_allowances", "0"),
                ("earn_bonus", "0"),
                ("mw_region", region),
                ("tier", "1"),
            ]
        })
        .collect();
    (records(&rows), ORACLE.iter().map(|o| o.2).collect())
}

fn estimate_of(
    catalog: &Catalog,
    records: &Records,
    weights: &[f64],
    id: &str,
    domain: Option<&[bool]>,
) -> f64 {
    let prepared = prepare(catalog, records);
    let params = parameter_values(&prepared, weights);
    let idx = catalog
        .indicators
        .iter()
        .position(|i| i.id == id)
        .expect("indicator id");
    let all = vec![true; records.len()];
    point_estimate(
        catalog,
        &prepared,
        idx,
        records,
        weights,
        &params,
        domain.unwrap_or(&all),
    )
    .expect("estimate")
}

fn settings(reference: &str) -> DerivationSettings {
    DerivationSettings {
        reference_date: date(reference),
        overtime_300h_regime: true,
    }
}

#[test]
fn oracle_hourly_earnings_column() {
    for &(id, _, _, hours, earnings, _, hourly) in &ORACLE {
        let h = hourly_earnings(earnings.parse().expect("e"), hours.parse().expect("h"))
            .expect("hourly");
        assert!((h - hourly).abs() < 0.005, "id {id}: {h} vs {hourly}");
    }
    assert!((hourly_earnings(2500.0, 40.0).expect("id 6") - 14_423.08).abs() < 0.005);
    assert_eq!(hourly_earnings(0.0, 40.0), None);
    assert_eq!(hourly_earnings(100.0, 0.0), None);
    // Through the derivation, as a column.
    let (mut recs, _) = oracle_records();
    let report = derive(&mut recs, &vn(), &settings("2025-06-30")).expect("derive");
    assert_eq!(report.hourly_excluded, 0);
    let h6 = recs
        .get(5, "hourly_earnings")
        .as_number()
        .expect("hourly of id 6");
    assert!((h6 - 14_423.08).abs() < 0.005);
}

#[test]
fn oracle_indicators() {
    let (mut recs, weights) = oracle_records();
    derive(&mut recs, &vn(), &settings("2025-06-30")).expect("derive");
    let catalog = Catalog::dwscs(&recs.schema).expect("catalog compiles");
    let est = |id: &str| estimate_of(&catalog, &recs, &weights, id, None);
    // Weighted median by the inverse-CDF rule: the cumulative weight reaches exactly 0.5 at id 8.
    assert_eq!(est("median_hourly_earnings"), 25_000.0);
    assert!((est("low_pay_rate") - 150.0 / 1100.0).abs() < 1e-12);
    assert!((est("low_pay_rate") - 0.136364).abs() < 5e-7);
    assert!((est("excessive_hours") - 350.0 / 1100.0).abs() < 1e-12);
    assert!((est("excessive_hours") - 0.318182).abs() < 5e-7);
    assert!(
        (est("gender_pay_gap") - 35.5408).abs() < 5e-5,
        "GPG {}",
        est("gender_pay_gap")
    );
    // Below the Decree 74/2024 monthly minimum: ids 3 and 6.
    assert!((est("below_minimum_wage") - 350.0 / 1100.0).abs() < 1e-12);
    assert!((est("below_minimum_wage") - 0.318182).abs() < 5e-7);
    // Mean hourly earnings by sex (the GPG inputs), through domains.
    let by_sex = domains(&recs, &["sex".to_string()]).expect("domains");
    let mean_f = estimate_of(
        &catalog,
        &recs,
        &weights,
        "mean_hourly_earnings",
        Some(&by_sex[1].mask),
    );
    let mean_m = estimate_of(
        &catalog,
        &recs,
        &weights,
        "mean_hourly_earnings",
        Some(&by_sex[0].mask),
    );
    assert_eq!(by_sex[0].key, vec!["1".to_string()]);
    assert!((mean_f - 22_602.56).abs() < 0.005, "F {mean_f}");
    assert!((mean_m - 35_064.94).abs() < 0.005, "M {mean_m}");
    assert_eq!(est("employment"), 1100.0);
    // Under Decree 38/2022 (reference 2023-06-30) only id 6 is below (2,500 < 3,640).
    let (mut old, _) = oracle_records();
    derive(&mut old, &vn(), &settings("2023-06-30")).expect("derive");
    let catalog_old = Catalog::dwscs(&old.schema).expect("catalog");
    assert!(
        (estimate_of(&catalog_old, &old, &weights, "below_minimum_wage", None) - 150.0 / 1100.0)
            .abs()
            < 1e-12
    );
}

#[test]
fn inverse_cdf_quantile_at_the_tie_and_elsewhere() {
    let values = [10.0, 20.0, 30.0, 40.0];
    let weights = [1.0, 1.0, 1.0, 1.0];
    let all = [true; 4];
    assert_eq!(weighted_quantile(&values, &weights, &all, 0.5), Some(20.0));
    assert_eq!(weighted_quantile(&values, &weights, &all, 0.51), Some(30.0));
    assert_eq!(weighted_quantile(&values, &weights, &all, 1.0), Some(40.0));
    assert_eq!(weighted_quantile(&values, &[0.0; 4], &all, 0.5), None);
    // Equal values are one step of the CDF.
    assert_eq!(
        weighted_quantile(&[5.0, 5.0, 9.0], &[1.0, 1.0, 1.0], &[true; 3], 0.4),
        Some(5.0)
    );
}

// ---------------------------------------------------------------------------------------
// Classifications.

#[test]
fn child_labour_truth_table() {
    let bands = vn().child_labour_bands().to_vec();
    let ages = [3, 4, 5, 8, 11, 12, 13, 14, 15, 16, 17, 18, 30];
    let hours = [0.0, 0.5, 1.0, 13.9, 14.0, 42.9, 43.0, 60.0];
    for &age in &ages {
        for &h in &hours {
            for hazardous in [false, true] {
                let got = classify_child_labour(age, h, hazardous, &bands);
                let threshold = match age {
                    5..=11 => Some(1.0),
                    12..=14 => Some(14.0),
                    15..=17 => Some(43.0),
                    _ => None,
                };
                let expected = match threshold {
                    None => ChildLabour::NotApplicable,
                    Some(_) if hazardous => ChildLabour::Hazardous,
                    Some(t) if h >= t => ChildLabour::ByHours,
                    Some(_) => ChildLabour::PermittedWork,
                };
                assert_eq!(got, expected, "age {age}, hours {h}, hazardous {hazardous}");
                assert_eq!(
                    got.is_child_labour(),
                    threshold.is_some() && (hazardous || h >= threshold.unwrap_or(f64::INFINITY))
                );
            }
        }
    }
}

#[test]
fn forced_labour_truth_table() {
    // Every yes/no combination of the 4 involuntariness and 7 coercion items.
    for bits in 0u32..(1 << 11) {
        let involuntariness: Vec<Option<bool>> =
            (0..4).map(|i| Some(bits & (1 << i) != 0)).collect();
        let coercion: Vec<Option<bool>> = (4..11).map(|i| Some(bits & (1 << i) != 0)).collect();
        let expected = (bits & 0b1111) != 0 && (bits >> 4) != 0;
        assert_eq!(
            forced_labour(&involuntariness, &coercion),
            Some(expected),
            "bits {bits:011b}"
        );
    }
    // Unanswered items: undecided only while they could still make the flag true.
    let no = Some(false);
    let yes = Some(true);
    assert_eq!(
        forced_labour(&[yes, None, no, no], &[None, no, no, no, no, no, no]),
        None
    );
    assert_eq!(forced_labour(&[None, None, no, no], &[no; 7]), Some(false));
    assert_eq!(forced_labour(&[no; 4], &[None; 7]), Some(false));
    assert_eq!(
        forced_labour(
            &[None, yes, None, None],
            &[None, None, yes, None, None, None, None]
        ),
        Some(true)
    );
}

#[test]
fn derived_informality_child_and_forced_flags() {
    let mut recs = records(&[
        // Employee with SI paid: formal job, registered enterprise.
        vec![
            ("status_in_employment", "1"),
            ("si_paid", "1"),
            ("unit_type", "2"),
            ("registered", "1"),
            ("age", "30"),
        ],
        // Employee, SI don't know, no paid leave of either kind: informal job.
        vec![
            ("status_in_employment", "1"),
            ("paid_annual_leave", "2"),
            ("paid_sick_leave", "2"),
            ("unit_type", "5"),
            ("registered", "2"),
            ("age", "16"),
            ("usual_hours", "44"),
            ("hazardous_work", "2"),
        ],
        // Own-account worker in an unregistered household business: informal via the sector.
        vec![
            ("status_in_employment", "3"),
            ("unit_type", "5"),
            ("registered", "2"),
            ("age", "13"),
            ("usual_hours", "15"),
        ],
        // Forced labour: deceived and documents retained.
        vec![
            ("status_in_employment", "1"),
            ("fl_deceived", "1"),
            ("fl_id_retained", "1"),
            ("contract_type", "4"),
            ("age", "40"),
            ("overtime_hours_month", "41"),
        ],
    ]);
    derive(&mut recs, &vn(), &settings("2023-06-30")).expect("derive");
    let flag = |row: usize, col: &str| recs.get(row, col).as_number();
    assert_eq!(flag(0, "informal_job"), Some(0.0));
    assert_eq!(flag(0, "informal_sector"), Some(0.0));
    assert_eq!(flag(1, "informal_job"), Some(1.0));
    assert_eq!(flag(1, "informal_sector"), Some(1.0));
    assert_eq!(flag(2, "informal_job"), Some(1.0));
    assert_eq!(
        flag(1, "child_labour"),
        Some(1.0),
        "16 years old at 44 h ≥ 43 h"
    );
    assert_eq!(
        flag(1, "minor_hours_breach"),
        Some(1.0),
        "16 years old above 40 h"
    );
    assert_eq!(
        flag(2, "child_labour"),
        Some(1.0),
        "13 years old at 15 h ≥ 14 h"
    );
    assert_eq!(flag(0, "child_labour"), Some(0.0), "adult");
    assert_eq!(flag(3, "forced_labour"), Some(1.0));
    assert_eq!(flag(3, "precarious"), Some(1.0));
    assert_eq!(flag(3, "overtime_breach"), Some(1.0));
    assert_eq!(recs.get(1, "age_group").as_text(), "15-17");
    assert_eq!(recs.get(3, "age_group").as_text(), "35-44");
}

// ---------------------------------------------------------------------------------------
// Expressions and the catalog.

#[test]
fn expressions_compile_and_errors_name_the_column() {
    let (mut recs, _) = oracle_records();
    derive(&mut recs, &vn(), &settings("2025-06-30")).expect("derive");
    let ok = compile(
        "${usual_hours} + coalesce(${other_job_hours}, 0) > 48 and not(${sex} = '1')",
        &recs.schema,
        &[],
        "t",
    )
    .expect("compiles");
    assert!(chainsurvey::estimate::indicators::expr::holds(
        &ok,
        &recs,
        1,
        &[]
    ));
    match compile(
        "${usual_hours} > ${no_such}",
        &recs.schema,
        &[],
        "indicators[3].numerator",
    ) {
        Err(Error::Expression {
            place,
            column,
            message,
            ..
        }) => {
            assert_eq!(place, "indicators[3].numerator");
            assert_eq!(column, 18);
            assert!(message.contains("no_such"));
        }
        other => panic!("expected an expression error, got {other:?}"),
    }
    for bad in [
        "(${age} > 3",
        "${age} >",
        "frobnicate(${age})",
        "${age} > 3)",
        "${}",
        "${age} & 2",
        "not(${age}, 1)",
    ] {
        assert!(
            matches!(
                compile(bad, &recs.schema, &[], "t"),
                Err(Error::Expression { .. })
            ),
            "{bad}"
        );
    }
    // Arithmetic and missing values: a missing operand makes the comparison false.
    let missing = compile(
        "${earn_bonus} + ${ppe_provided} > 0",
        &recs.schema,
        &[],
        "t",
    )
    .expect("compiles");
    assert!(!chainsurvey::estimate::indicators::expr::holds(
        &missing,
        &recs,
        1,
        &[]
    ));
    let empty = compile("${ppe_provided} = ''", &recs.schema, &[], "t").expect("compiles");
    assert!(chainsurvey::estimate::indicators::expr::holds(
        &empty,
        &recs,
        1,
        &[]
    ));
    let div = compile(
        "7 div 2 * 2 = 7 and 7 mod 2 = 1 and -${age} < 0 and if(1 = 1, 'a', 'b') = 'a'",
        &recs.schema,
        &[],
        "t",
    )
    .expect("compiles");
    assert!(chainsurvey::estimate::indicators::expr::holds(
        &div,
        &recs,
        1,
        &[]
    ));
}

#[test]
fn shipped_catalog_covers_the_17_indicators() {
    let mut recs = records(&[]);
    derive(&mut recs, &vn(), &settings("2025-06-30")).expect("derive");
    let catalog = Catalog::dwscs(&recs.schema).expect("catalog compiles against the worker schema");
    let mut numbers: Vec<u32> = catalog.indicators.iter().map(|i| i.number).collect();
    numbers.dedup();
    assert_eq!(numbers, (1..=17).collect::<Vec<u32>>());
    assert_eq!(catalog.parameters.len(), 1);
    // Without the derived columns the catalog does not compile, and the error says where.
    let bare = records(&[]);
    match Catalog::dwscs(&bare.schema) {
        Err(Error::Expression { place, message, .. }) => {
            assert!(
                place.starts_with("parameters[0]") || place.starts_with("indicators["),
                "{place}"
            );
            assert!(message.contains("unknown variable"), "{message}");
        }
        other => panic!("expected an expression error, got {other:?}"),
    }
    // Malformed catalogs.
    assert!(matches!(
        Catalog::parse("{}", &recs.schema),
        Err(Error::Catalog(_))
    ));
    let text = include_str!("../questionnaires/indicators.json");
    let bad_kind = text.replacen("\"kind\": \"total\"", "\"kind\": \"sum\"", 1);
    assert!(
        matches!(Catalog::parse(&bad_kind, &recs.schema), Err(Error::Catalog(m)) if m.contains("employment"))
    );
}

// ---------------------------------------------------------------------------------------
// `chainsurvey estimate` on a survey directory.

fn write_oracle_survey(dir: &std::path::Path) {
    let mut csv = String::from(
        "worker_id,psu,weight,sex,age,status_in_employment,pay_form,usual_hours,other_job_hours,earn_basic,earn_overtime,earn_allowances,earn_bonus,mw_region,tier\n",
    );
    for &(id, sex, w, hours, earnings, region, _) in &ORACLE {
        csv.push_str(&format!(
            "{id},{id},{w},{sex},30,1,1,{hours},0,{earnings},0,0,0,{region},1\n"
        ));
    }
    std::fs::write(dir.join("workers.csv"), csv).expect("write csv");
    std::fs::write(
        dir.join("survey.json"),
        r#"{"schema_version": 1, "reference_date": "2025-06-30",
            "design": {"weights": "weight", "ids": ["psu"]}}"#,
    )
    .expect("write survey.json");
}

fn run_estimate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .arg("estimate")
        .args(args)
        .output()
        .expect("run chainsurvey estimate")
}

#[test]
fn estimate_command_produces_the_oracle_table_with_standard_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_oracle_survey(dir.path());
    let out = run_estimate(&[
        "--survey",
        dir.path().to_str().expect("path"),
        "--format",
        "json",
        "--by",
        "sex",
    ]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let rows = json["indicators"].as_array().expect("rows");
    let find = |id: &str, domain: &str| -> &serde_json::Value {
        rows.iter()
            .find(|r| r["id"] == id && r["domain"] == domain)
            .unwrap_or_else(|| panic!("row {id} {domain} missing"))
    };
    let low_pay = find("low_pay_rate", "all");
    assert!((low_pay["estimate"].as_f64().expect("estimate") - 0.136364).abs() < 5e-7);
    assert_eq!(low_pay["n"], 8);
    // SE under with-replacement element sampling (one PSU per row, no strata):
    // v = n/(n−1) Σ (x_k − x̄)², x_k = w_k z_k with the low-pay linearization of
    // docs/methodology.md: z = (1{y < t} − p̂)/N − (2/3)·f(t)/f(m)·(1{y ≤ m} − ½)/N, f the
    // Gaussian-kernel density with h = 1.06·σ̂_w·n^(−1/5). Only id 6 is low paid; m = 25,000.
    let w: Vec<f64> = ORACLE.iter().map(|o| o.2).collect();
    let hourly: Vec<f64> = ORACLE.iter().map(|o| o.6).collect();
    let y: Vec<f64> = ORACLE
        .iter()
        .map(|o| if o.0 == 6 { 1.0 } else { 0.0 })
        .collect();
    let total: f64 = w.iter().sum();
    let r = 150.0 / 1100.0;
    // Hourly earnings to the precision the engine derives them (E·1000/(H·52/12)).
    let exact: Vec<f64> = ORACLE
        .iter()
        .map(|o| {
            let e: f64 = o.4.parse().expect("earnings");
            let h: f64 = o.3.parse().expect("hours");
            e * 1000.0 / (h * 52.0 / 12.0)
        })
        .collect();
    assert!(exact.iter().zip(&hourly).all(|(a, b)| (a - b).abs() < 0.01));
    let mean_h = (0..8).map(|k| w[k] * exact[k]).sum::<f64>() / total;
    let sd = ((0..8)
        .map(|k| w[k] * (exact[k] - mean_h).powi(2))
        .sum::<f64>()
        / total)
        .sqrt();
    let bw = 1.06 * sd * 8f64.powf(-0.2);
    let f = |at: f64| {
        (0..8)
            .map(|k| w[k] * (-0.5 * ((exact[k] - at) / bw).powi(2)).exp())
            .sum::<f64>()
            / (total * bw * (2.0 * std::f64::consts::PI).sqrt())
    };
    let m = 25_000.0;
    let slope = 2.0 / 3.0 * f(2.0 / 3.0 * m) / f(m);
    let x: Vec<f64> = (0..8)
        .map(|k| {
            let at_or_below = if exact[k] <= m { 1.0 } else { 0.0 };
            w[k] * ((y[k] - r) - slope * (at_or_below - 0.5)) / total
        })
        .collect();
    let mean_x = x.iter().sum::<f64>() / 8.0;
    let v = 8.0 / 7.0 * x.iter().map(|v| (v - mean_x).powi(2)).sum::<f64>();
    let se = low_pay["se"].as_f64().expect("se");
    assert!((se - v.sqrt()).abs() < 1e-12, "se {se} vs {}", v.sqrt());
    assert_eq!(low_pay["flag"], "suppress", "n = 8 < 30");
    assert!(low_pay["ci_lower"].as_f64().expect("lower") < 0.136364);
    assert!(
        (find("gender_pay_gap", "all")["estimate"]
            .as_f64()
            .expect("gpg")
            - 35.5408)
            .abs()
            < 5e-5
    );
    assert!(find("gender_pay_gap", "all")["se"].as_f64().is_some());
    assert_eq!(find("median_hourly_earnings", "all")["estimate"], 25000.0);
    assert!(
        (find("excessive_hours", "all")["estimate"]
            .as_f64()
            .expect("e")
            - 0.318182)
            .abs()
            < 5e-7
    );
    assert!(
        (find("below_minimum_wage", "all")["estimate"]
            .as_f64()
            .expect("b")
            - 0.318182)
            .abs()
            < 5e-7
    );
    // Breakdown by sex, but never the gender pay gap by sex.
    let f_mean = find("mean_hourly_earnings", "sex=2")["estimate"]
        .as_f64()
        .expect("mean F");
    assert!((f_mean - 22_602.56).abs() < 0.005);
    assert!(
        !rows
            .iter()
            .any(|r| r["id"] == "gender_pay_gap" && r["domain"] == "sex=2")
    );

    // CSV output has the header and one line per row.
    let csv_out = run_estimate(&["--survey", dir.path().to_str().expect("path")]);
    assert!(csv_out.status.success());
    let text = String::from_utf8_lossy(&csv_out.stdout);
    assert!(text.starts_with(
        "id,number,label,domain,estimate,se,ci_lower,ci_upper,ci_method,cv,n,psus,flag,cv_letter"
    ));
    assert!(text.lines().any(|l| l.starts_with("low_pay_rate,3,")));
}

#[test]
fn estimate_command_reports_bad_input_with_exit_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_estimate(&["--survey", dir.path().to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("survey.json"));
    write_oracle_survey(dir.path());
    std::fs::write(
        dir.path().join("survey.json"),
        r#"{"schema_version": 1, "reference_date": "2025-02-30", "design": {}}"#,
    )
    .expect("write");
    let out = run_estimate(&["--survey", dir.path().to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("reference_date"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A domain column that does not exist.
    write_oracle_survey(dir.path());
    let out = run_estimate(&[
        "--survey",
        dir.path().to_str().expect("path"),
        "--by",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn estimate_command_recomputes_the_low_pay_median_in_every_replicate() {
    // The §4.6 rows with delete-one JK1 replicate columns: replicate r drops row r and
    // multiplies the others by 8/7. The low-pay rate of each replicate is recomputed here by
    // hand (median of the 7 remaining hourly values, then the share below 2/3 of it).
    let dir = tempfile::tempdir().expect("tempdir");
    let mut csv = String::from(
        "worker_id,weight,sex,age,status_in_employment,pay_form,usual_hours,earn_basic,mw_region",
    );
    for r in 1..=8 {
        csv.push_str(&format!(",rep_{r}"));
    }
    csv.push('\n');
    for (row, &(id, sex, w, hours, earnings, region, _)) in ORACLE.iter().enumerate() {
        csv.push_str(&format!(
            "{id},{w},{sex},30,1,1,{hours},{earnings},{region}"
        ));
        for r in 0..8 {
            let rep = if r == row { 0.0 } else { w * 8.0 / 7.0 };
            csv.push_str(&format!(",{rep}"));
        }
        csv.push('\n');
    }
    std::fs::write(dir.path().join("workers.csv"), csv).expect("csv");
    std::fs::write(
        dir.path().join("survey.json"),
        r#"{"schema_version": 1, "reference_date": "2025-06-30",
            "design": {"weights": "weight", "ids": [], "replicates": {"columns": "rep_.*", "type": "jk1"}}}"#,
    )
    .expect("survey.json");
    let out = run_estimate(&[
        "--survey",
        dir.path().to_str().expect("path"),
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = json["indicators"].as_array().expect("rows");
    let find = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id && r["domain"] == "all")
            .expect("row")
            .clone()
    };

    let hourly: Vec<f64> = ORACLE.iter().map(|o| o.6).collect();
    let weights: Vec<f64> = ORACLE.iter().map(|o| o.2).collect();
    let low_pay_of = |keep: &dyn Fn(usize) -> bool| -> f64 {
        let mut pairs: Vec<(f64, f64)> = (0..8)
            .filter(|&k| keep(k))
            .map(|k| (hourly[k], weights[k]))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = pairs.iter().map(|p| p.1).sum();
        let mut cumulative = 0.0;
        let mut median = f64::NAN;
        for &(value, weight) in &pairs {
            cumulative += weight;
            if cumulative >= 0.5 * total * (1.0 - 1e-12) {
                median = value;
                break;
            }
        }
        pairs
            .iter()
            .filter(|p| p.0 < 2.0 / 3.0 * median)
            .map(|p| p.1)
            .sum::<f64>()
            / total
    };
    let thetas: Vec<f64> = (0..8).map(|r| low_pay_of(&|k| k != r)).collect();
    let mean_theta = thetas.iter().sum::<f64>() / 8.0;
    let v = 7.0 / 8.0 * thetas.iter().map(|t| (t - mean_theta).powi(2)).sum::<f64>();
    let low_pay = find("low_pay_rate");
    assert!(
        (low_pay["estimate"].as_f64().expect("estimate") - low_pay_of(&|_| true)).abs() < 1e-12
    );
    let se = low_pay["se"].as_f64().expect("se");
    assert!(
        (se - v.sqrt()).abs() < 1e-12,
        "se {se} vs hand {}",
        v.sqrt()
    );
    // Every kind has a replicate SE now, the median-based gap included.
    for id in [
        "median_hourly_earnings",
        "gender_pay_gap",
        "gender_pay_gap_median",
        "mean_hourly_earnings",
    ] {
        assert!(
            find(id)["se"].as_f64().is_some_and(|s| s > 0.0),
            "{id} has no SE"
        );
    }
}

#[test]
fn cells_keep_code_labels_and_compare_as_numbers() {
    assert_eq!(Value::from_cell(" 48 "), Value::Number(48.0));
    assert_eq!(Value::from_cell("2.5"), Value::Number(2.5));
    assert_eq!(Value::from_cell("01"), Value::Text("01".to_string()));
    assert_eq!(Value::from_cell("48.0"), Value::Text("48.0".to_string()));
    assert_eq!(Value::from_cell("NA"), Value::Missing);
    assert_eq!(Value::from_cell(""), Value::Missing);
    assert_eq!(Value::from_cell("48.0").as_number(), Some(48.0));
    // A province code keeps its leading zero as a domain label.
    let recs = records(&[
        vec![("mw_region", "01"), ("age", "30")],
        vec![("mw_region", "2"), ("age", "40")],
    ]);
    let by = domains(&recs, &["mw_region".to_string()]).expect("domains");
    assert_eq!(by[0].key, vec!["01".to_string()]);
    let expr =
        compile("${age} > 35.0 and ${mw_region} = 2", &recs.schema, &[], "t").expect("compiles");
    assert!(!chainsurvey::estimate::indicators::expr::holds(
        &expr,
        &recs,
        0,
        &[]
    ));
    assert!(chainsurvey::estimate::indicators::expr::holds(
        &expr,
        &recs,
        1,
        &[]
    ));
}

/// A synthetic worker file of 72 employees (also committed as
/// tests/r/data/workers_synthetic.csv, which tests/r/generate.R reads for the R cases
/// `workers-*`; `indicator_standard_errors_match_r_on_calibrated_designs` checks they agree) in 12 PSUs (6 per PSU), with a deterministic
/// pseudo-random spread of hours, earnings, sex and minimum-wage region, plus the columns the
/// `analyze` side needs: `excess` (usual hours > 48) and `hourly` (hourly earnings, VND).
fn synthetic_workers() -> (String, Vec<(f64, f64, u8, f64)>) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    };
    let mut csv = String::from(
        "worker_id,psu,weight,sex,age,status_in_employment,pay_form,usual_hours,other_job_hours,earn_basic,earn_overtime,earn_allowances,earn_bonus,mw_region,tier,excess,hourly\n",
    );
    let mut rows = Vec::new();
    for id in 0..72 {
        let psu = id / 6;
        let weight = 50.0 + 10.0 * (psu % 4) as f64 + (next() * 20.0).round();
        let sex = if next() < 0.55 { 2 } else { 1 };
        let hours = 36.0 + (next() * 24.0).round();
        let earnings = (3000.0 + next() * 7000.0 + if sex == 1 { 800.0 } else { 0.0 }).round();
        let region = ["I", "II", "III"][id % 3];
        let hourly = earnings * 1000.0 / (hours * 52.0 / 12.0);
        let excess = u8::from(hours > 48.0);
        csv.push_str(&format!(
            "{id},{psu},{weight},{sex},30,1,1,{hours},0,{earnings},0,0,0,{region},1,{excess},{hourly}\n"
        ));
        rows.push((weight, hourly, sex, f64::from(excess)));
    }
    (csv, rows)
}

const CALIBRATED_DESIGN: &str = r#"{"weights": "weight", "ids": ["psu"],
    "calibration": {"method": "poststratify", "strata": ["mw_region"],
      "population": [{"mw_region": "I", "Freq": 1500}, {"mw_region": "II", "Freq": 1700},
                     {"mw_region": "III", "Freq": 1900}]}}"#;

fn estimate_rows(dir: &std::path::Path, design: &str) -> Vec<serde_json::Value> {
    std::fs::write(
        dir.join("survey.json"),
        format!(r#"{{"schema_version": 1, "reference_date": "2025-06-30", "design": {design}}}"#),
    )
    .expect("survey.json");
    let out = run_estimate(&["--survey", dir.to_str().expect("path"), "--format", "json"]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["indicators"].as_array().expect("rows").clone()
}

fn row_of<'a>(rows: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["id"] == id && r["domain"] == "all")
        .unwrap_or_else(|| panic!("row {id} missing"))
}

#[test]
fn indicator_standard_errors_on_a_calibrated_design_equal_analyze() {
    use chainsurvey::estimate::analyze_text;
    let dir = tempfile::tempdir().expect("tempdir");
    let (csv, data) = synthetic_workers();
    std::fs::write(dir.path().join("workers.csv"), &csv).expect("csv");
    let rows = estimate_rows(dir.path(), CALIBRATED_DESIGN);

    // A proportion: the share working more than 48 hours, as an `analyze` mean of the 0/1
    // column on the same data and calibrated design (logit interval requested there too).
    let excessive = row_of(&rows, "excessive_hours");
    let analyzed = analyze_text(
        csv.as_bytes(),
        CALIBRATED_DESIGN,
        r#"{"type": "mean", "variables": ["excess"]}"#,
    )
    .expect("analyze");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
    let se = excessive["se"].as_f64().expect("se");
    assert!(
        close(
            excessive["estimate"].as_f64().expect("e"),
            analyzed[0].estimate
        ),
        "estimate {} vs analyze {}",
        excessive["estimate"],
        analyzed[0].estimate
    );
    assert!(
        close(se, analyzed[0].se),
        "se {se} vs analyze {}",
        analyzed[0].se
    );
    assert_eq!(excessive["ci_method"], "logit");
    // svyciprop's logit interval with the design df (R agreement: srs/proportion-logit).
    let (l, u) = chainsurvey::estimate::interval::logit(
        analyzed[0].estimate,
        analyzed[0].se,
        0.95,
        analyzed[0].df,
    );
    assert!(close(excessive["ci_lower"].as_f64().expect("l"), l));
    assert!(close(excessive["ci_upper"].as_f64().expect("u"), u));
    // Means use Wald with the design's t quantile (12 PSUs − 1 stratum = 11 df).
    let mean = row_of(&rows, "mean_hourly_earnings");
    assert_eq!(mean["ci_method"], "wald_t");
    let analyzed_mean = analyze_text(
        csv.as_bytes(),
        CALIBRATED_DESIGN,
        r#"{"type": "mean", "variables": ["hourly"], "ci": {"level": 0.95, "method": "wald_t"}}"#,
    )
    .expect("analyze");
    assert!(close(mean["se"].as_f64().expect("se"), analyzed_mean[0].se));
    assert!(close(
        mean["ci_lower"].as_f64().expect("l"),
        analyzed_mean[0].ci_lower
    ));
    assert_eq!(analyzed_mean[0].df, 11.0);

    // The mean-based gender pay gap g = 1 − (Y_F/N_F)/(Y_M/N_M): its linearized variable
    // u = Σ_j ∂g/∂T_j · c_j (c = the four group columns) has the gap's variance as a total, so
    // `analyze` of the total of u on the calibrated design must give the same SE. The weights
    // in ∂g/∂T are the calibrated ones (post-stratified by region).
    let population = [("I", 1500.0), ("II", 1700.0), ("III", 1900.0)];
    let region_of = |k: usize| ["I", "II", "III"][k % 3];
    let mut cell_weight = [0.0; 3];
    for (k, row) in data.iter().enumerate() {
        cell_weight[k % 3] += row.0;
    }
    let calibrated: Vec<f64> = data
        .iter()
        .enumerate()
        .map(|(k, row)| row.0 * population[k % 3].1 / cell_weight[k % 3])
        .collect();
    let mut totals = [0.0; 4];
    for (k, &(_, hourly, sex, _)) in data.iter().enumerate() {
        let base = if sex == 1 { 0 } else { 2 };
        totals[base] += calibrated[k] * hourly;
        totals[base + 1] += calibrated[k];
    }
    let r = (totals[2] / totals[3]) / (totals[0] / totals[1]);
    let gradient = [r / totals[0], -r / totals[1], -r / totals[2], r / totals[3]];
    let mut with_u = String::from("psu,weight,mw_region,u\n");
    for (k, &(weight, hourly, sex, _)) in data.iter().enumerate() {
        let u = if sex == 1 {
            gradient[0] * hourly + gradient[1]
        } else {
            gradient[2] * hourly + gradient[3]
        };
        with_u.push_str(&format!("{},{weight},{},{u:e}\n", k / 6, region_of(k)));
    }
    let gap_se = analyze_text(
        with_u.as_bytes(),
        CALIBRATED_DESIGN,
        r#"{"type": "total", "variables": ["u"]}"#,
    )
    .expect("analyze u")[0]
        .se;
    let gap = row_of(&rows, "gender_pay_gap");
    let ours = gap["se"].as_f64().expect("gap se") / 100.0;
    assert!(
        (ours - gap_se).abs() <= 1e-9 * gap_se,
        "gap se {ours} vs analyze of its linearized variable {gap_se}"
    );
    assert!(
        (gap["estimate"].as_f64().expect("gap") - 100.0 * (1.0 - r)).abs() < 1e-9,
        "gap estimate"
    );
    assert_eq!(gap["ci_method"], "wald_t");

    // Without the calibration step the same gap has a different SE: the calibration is used.
    let uncalibrated = estimate_rows(dir.path(), r#"{"weights": "weight", "ids": ["psu"]}"#);
    let plain = row_of(&uncalibrated, "gender_pay_gap")["se"]
        .as_f64()
        .expect("se");
    assert!(
        (plain / 100.0 - ours).abs() > 1e-6 * ours,
        "{plain} vs {ours}"
    );
}

#[test]
fn indicator_intervals_are_logit_for_proportions_and_t_for_the_rest() {
    use chainsurvey::estimate::indicators::table::{CiMethod, confidence_interval};
    use chainsurvey::estimate::interval;
    // A percentage gets the interval of its fraction, times 100.
    let pct = confidence_interval(true, 20.0, 4.0, 100.0, 0.95, 11.0, 50);
    let (l, u) = interval::logit(0.2, 0.04, 0.95, 11.0);
    assert_eq!(pct.method, CiMethod::Logit);
    assert!((pct.lower - 100.0 * l).abs() < 1e-12 && (pct.upper - 100.0 * u).abs() < 1e-12);
    assert!(pct.lower > 0.0 && pct.upper < 100.0);
    // The logit interval is asymmetric around p̂ = 0.05: the upper side is longer.
    let small = confidence_interval(true, 0.05, 0.02, 1.0, 0.95, 30.0, 50);
    assert!(small.upper - 0.05 > 0.05 - small.lower);
    assert!(small.lower > 0.0);
    // At 0 or 1 the logit interval is undefined and Wald collapses to the point: the exact
    // binomial interval on the domain's n (R: binom.test(0, 146) upper 0.02494977611).
    let zero = confidence_interval(true, 0.0, 0.0, 1.0, 0.95, 11.0, 146);
    assert_eq!(zero.method, CiMethod::ClopperPearson);
    assert_eq!(zero.lower, 0.0);
    assert!((zero.upper - 0.02494977611).abs() < 1e-10, "{}", zero.upper);
    // As a percentage, and at 1 (R: binom.test(20, 20) lower 0.831566529).
    let all = confidence_interval(true, 100.0, 0.0, 100.0, 0.95, 11.0, 20);
    assert_eq!(all.method, CiMethod::ClopperPearson);
    assert!((all.lower - 83.1566529).abs() < 1e-7 && all.upper == 100.0);
    assert_eq!(CiMethod::ClopperPearson.as_str(), "clopper_pearson");
    // A mean: t quantile with the design df; no df: normal.
    let mean = confidence_interval(false, 100.0, 10.0, 1.0, 0.95, 11.0, 50);
    assert_eq!(mean.method, CiMethod::WaldT);
    assert!((mean.upper - (100.0 + 10.0 * 2.200985160082949)).abs() < 1e-9);
    let normal = confidence_interval(false, 100.0, 10.0, 1.0, 0.95, 0.0, 50);
    assert_eq!(normal.method, CiMethod::Wald);
    assert!((normal.upper - (100.0 + 10.0 * 1.959963984540054)).abs() < 1e-9);
    assert_eq!(CiMethod::Logit.as_str(), "logit");
}

/// Draws from a lognormal(μ = 10, σ = 0.5) population by Box–Muller on ChaCha20 uniforms.
fn lognormal_population(size: usize, seed: u64) -> Vec<f64> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::ChaCha20Rng::seed_from_u64(seed);
    let mut uniform = move || ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64);
    (0..size)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            (10.0 + 0.5 * z).exp()
        })
        .collect()
}

#[test]
fn low_pay_linearized_se_matches_the_monte_carlo_spread() {
    // Population of 50,000 hourly earnings; 1,000 simple random samples of 400 (seeded). The
    // spread of p̂ over samples is the true SE; the linearized SE (with the estimated median)
    // must be close to it on average, and the fixed-threshold SE must be too small.
    use chainsurvey::estimate::indicators::threshold::{BelowFraction, below_fraction_of_quantile};
    use rand::{Rng, SeedableRng};
    let population = lognormal_population(50_000, 20_261_122);
    let (big_n, n, samples) = (population.len(), 400usize, 1000usize);
    let mut rng = rand::rngs::ChaCha20Rng::seed_from_u64(7);
    let weights = vec![big_n as f64 / n as f64; n];
    let all = vec![true; n];
    let (mut estimates, mut se_lin, mut se_fixed) = (Vec::new(), 0.0, 0.0);
    for _ in 0..samples {
        // Sampling without replacement by a partial Fisher–Yates shuffle of indices.
        let mut index: Vec<usize> = (0..big_n).collect();
        for i in 0..n {
            let j = i + (rng.next_u64() % (big_n - i) as u64) as usize;
            index.swap(i, j);
        }
        let y: Vec<f64> = index[..n].iter().map(|&k| population[k]).collect();
        let lin = below_fraction_of_quantile(&BelowFraction {
            values: &y,
            in_domain: &all,
            quantile_values: &y,
            p: 0.5,
            fraction: 2.0 / 3.0,
            weights: &weights,
        })
        .expect("linearized");
        // SRS without replacement: v = (1 − n/N) n/(n−1) Σ (x − x̄)².
        let srs = |x: &[f64]| {
            let mean = x.iter().sum::<f64>() / n as f64;
            let ss: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
            ((1.0 - n as f64 / big_n as f64) * n as f64 / (n as f64 - 1.0) * ss).sqrt()
        };
        se_lin += srs(&lin.x);
        let fixed: Vec<f64> = y
            .iter()
            .zip(&weights)
            .map(|(v, w)| {
                w * (f64::from(u8::from(*v < lin.threshold)) - lin.estimate) / (big_n as f64)
            })
            .collect();
        se_fixed += srs(&fixed);
        estimates.push(lin.estimate);
    }
    let mean = estimates.iter().sum::<f64>() / samples as f64;
    let empirical =
        (estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (samples as f64 - 1.0)).sqrt();
    let (ratio_lin, ratio_fixed) = (
        se_lin / samples as f64 / empirical,
        se_fixed / samples as f64 / empirical,
    );
    println!(
        "low pay Monte Carlo: p̄ = {mean:.4}, empirical SE {empirical:.5}, linearized/empirical {ratio_lin:.3}, fixed-threshold/empirical {ratio_fixed:.3}"
    );
    // The estimated median is positively correlated with F̂(t), so the correct SE is below
    // the fixed-threshold one here (as for the at-risk-of-poverty rate); the fixed-threshold
    // SE misses the Monte Carlo spread by more than the 7% tolerance.
    assert!((ratio_lin - 1.0).abs() < 0.07, "ratio {ratio_lin}");
    assert!(
        (ratio_fixed - 1.0).abs() > (ratio_lin - 1.0).abs(),
        "{ratio_fixed} vs {ratio_lin}"
    );
}

#[test]
fn low_pay_linearized_se_agrees_with_bootstrap_replicates_that_recompute_the_median() {
    // 600 employees in 100 PSUs of 6 with lognormal hourly earnings (monthly earnings in
    // thousands over 44 usual hours). Taylor with the linearized threshold vs JK1 replicates
    // bootstrap replicates generated from the same design (each replicate recomputes the
    // median). Not JK1: the delete-one-PSU jackknife is inconsistent for a median-based
    // statistic (on this sample it gives 2.07 × the linearized SE).
    let hourly = lognormal_population(600, 99);
    let mut csv = String::from(
        "worker_id,psu,weight,sex,age,status_in_employment,pay_form,usual_hours,other_job_hours,earn_basic,earn_overtime,earn_allowances,earn_bonus,mw_region,tier\n",
    );
    for (id, h) in hourly.iter().enumerate() {
        let earnings = h * 44.0 * 52.0 / 12.0 / 1000.0;
        let weight = 40.0 + (id % 7) as f64 * 5.0;
        let sex = 1 + id % 2;
        csv.push_str(&format!(
            "{id},{},{weight},{sex},30,1,1,44,0,{earnings},0,0,0,I,1\n",
            id / 6
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("workers.csv"), &csv).expect("csv");
    let taylor = estimate_rows(dir.path(), r#"{"weights": "weight", "ids": ["psu"]}"#);
    let jk1 = estimate_rows(
        dir.path(),
        r#"{"weights": "weight", "ids": ["psu"], "replicates": {"type": "bootstrap", "replicates": 1000, "seed": 3}}"#,
    );
    let se_t = row_of(&taylor, "low_pay_rate")["se"].as_f64().expect("se");
    let se_j = row_of(&jk1, "low_pay_rate")["se"].as_f64().expect("se");
    println!(
        "low pay SE: linearized {se_t:.5}, bootstrap {se_j:.5}, ratio {:.3}",
        se_t / se_j
    );
    assert!((se_t / se_j - 1.0).abs() < 0.10, "{se_t} vs {se_j}");
    assert_eq!(
        row_of(&taylor, "low_pay_rate")["estimate"],
        row_of(&jk1, "low_pay_rate")["estimate"]
    );
}

#[test]
fn a_threshold_that_disagrees_with_its_numerator_is_an_error() {
    let shipped = include_str!("../questionnaires/indicators.json");
    let dir = tempfile::tempdir().expect("tempdir");
    let (csv, _) = synthetic_workers();
    std::fs::write(dir.path().join("workers.csv"), &csv).expect("csv");
    // A fraction of ½ where the numerator says ⅔.
    let wrong = shipped.replace("\"fraction\": 0.6666666666666666", "\"fraction\": 0.5");
    assert_ne!(wrong, shipped);
    std::fs::write(dir.path().join("indicators.json"), &wrong).expect("catalog");
    std::fs::write(
        dir.path().join("survey.json"),
        r#"{"schema_version": 1, "reference_date": "2025-06-30", "indicators": "indicators.json",
            "design": {"weights": "weight", "ids": ["psu"]}}"#,
    )
    .expect("survey.json");
    let out = run_estimate(&["--survey", dir.path().to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("low_pay_rate") && stderr.contains("disagrees with the numerator"),
        "{stderr}"
    );
    // An unknown parameter is a catalog error naming it.
    let unknown = shipped.replace(
        "\"parameter\": \"median_hourly_earnings\"",
        "\"parameter\": \"nope\"",
    );
    std::fs::write(dir.path().join("indicators.json"), &unknown).expect("catalog");
    let out = run_estimate(&["--survey", dir.path().to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`nope`"));
}

#[test]
fn indicators_on_a_calibrated_replicate_design_use_the_recalibrated_replicates() {
    use chainsurvey::estimate::analyze_text;
    let design = r#"{"weights": "weight", "ids": ["psu"], "replicates": {"type": "jk1"},
        "calibration": {"method": "poststratify", "strata": ["mw_region"],
          "population": [{"mw_region": "I", "Freq": 1500}, {"mw_region": "II", "Freq": 1700},
                         {"mw_region": "III", "Freq": 1900}]}}"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let (csv, _) = synthetic_workers();
    std::fs::write(dir.path().join("workers.csv"), &csv).expect("csv");
    let rows = estimate_rows(dir.path(), design);
    for (id, column) in [
        ("excessive_hours", "excess"),
        ("mean_hourly_earnings", "hourly"),
    ] {
        let analyzed = analyze_text(
            csv.as_bytes(),
            design,
            &format!(r#"{{"type": "mean", "variables": ["{column}"]}}"#),
        )
        .expect("analyze");
        let se = row_of(&rows, id)["se"].as_f64().expect("se");
        assert!(
            (se - analyzed[0].se).abs() <= 1e-12 * analyzed[0].se,
            "{id}: {se} vs analyze {}",
            analyzed[0].se
        );
    }
    // Not the uncalibrated replicates: their SE differs.
    let plain = estimate_rows(
        dir.path(),
        r#"{"weights": "weight", "ids": ["psu"], "replicates": {"type": "jk1"}}"#,
    );
    let a = row_of(&rows, "excessive_hours")["se"].as_f64().expect("se");
    let b = row_of(&plain, "excessive_hours")["se"]
        .as_f64()
        .expect("se");
    assert!((a - b).abs() > 1e-9 * a, "{a} vs {b}");
}

/// The R results of case `id` in tests/r/cases.json: (estimate index, name) → (estimate, se).
fn r_case(id: &str) -> Vec<(u64, String, f64, f64)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/r/cases.json"))
        .expect("cases.json");
    let root: serde_json::Value = serde_json::from_str(&text).expect("json");
    let case = root["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("R case {id} missing"));
    case["results"]
        .as_array()
        .unwrap_or_else(|| panic!("R case {id} has no results: {}", case["error"]))
        .iter()
        .map(|r| {
            let num = |v: &serde_json::Value| v.as_f64().expect("number");
            (
                r["estimate_index"].as_u64().expect("index"),
                r["name"].as_str().expect("name").to_string(),
                num(&r["estimate"]),
                num(&r["se"]),
            )
        })
        .collect()
}

#[test]
fn indicator_standard_errors_match_r_on_calibrated_designs() {
    // The committed CSV is the synthetic file, byte for byte.
    let (csv, _) = synthetic_workers();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/r/data/workers_synthetic.csv"
    ))
    .expect("workers_synthetic.csv");
    assert_eq!(committed, csv);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("workers.csv"), &csv).expect("csv");
    let poststrat = r#"{"method": "poststratify", "strata": ["mw_region"],
          "population": [{"mw_region": "I", "Freq": 1500}, {"mw_region": "II", "Freq": 1700},
                         {"mw_region": "III", "Freq": 1900}]}"#;
    for (case, design) in [
        (
            "workers-poststratify/taylor",
            format!(r#"{{"weights": "weight", "ids": ["psu"], "calibration": {poststrat}}}"#),
        ),
        (
            "workers-poststratify/jk1",
            format!(
                r#"{{"weights": "weight", "ids": ["psu"], "replicates": {{"type": "jk1"}}, "calibration": {poststrat}}}"#
            ),
        ),
    ] {
        let rows = estimate_rows(dir.path(), &design);
        let r = r_case(case);
        for (id, column) in [
            ("excessive_hours", "excess"),
            ("mean_hourly_earnings", "hourly"),
        ] {
            let (_, _, r_estimate, r_se) = r
                .iter()
                .find(|x| x.1 == column)
                .unwrap_or_else(|| panic!("{case}: no R row {column}"))
                .clone();
            let row = row_of(&rows, id);
            let (estimate, se) = (
                row["estimate"].as_f64().expect("estimate"),
                row["se"].as_f64().expect("se"),
            );
            assert!(
                (estimate - r_estimate).abs() <= 1e-9 * r_estimate.abs(),
                "{case} {id}"
            );
            assert!(
                (se - r_se).abs() <= 1e-9 * r_se,
                "{case} {id}: se {se} vs R {r_se}"
            );
        }
    }
}
