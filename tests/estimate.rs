//! The estimation engine against R `survey` (tests/r/cases.json, written by
//! tests/r/generate.R) and the METHODOLOGY oracles (§3.10, §3.11, §4.6).
//!
//! Every R case goes through `chainsurvey::estimate::analyze_text`, the function behind
//! `chainsurvey analyze`, with the case's own DESIGN.json and ESTIMATE.json.

use std::collections::HashMap;
use std::path::Path;

use chainsurvey::estimate::{self, AnalysisRow, Design, Domain, Table, analyze_text, estimator};
use serde_json::Value;

/// Relative tolerance for estimates, SEs and design effects.
const TOLERANCE: f64 = 1e-9;
/// Relative tolerance for CI end points (R's logit CI goes through an iterative glm fit).
const CI_TOLERANCE: f64 = 1e-8;

fn relative_difference(ours: f64, theirs: f64) -> f64 {
    if ours == theirs || (ours.is_nan() && theirs.is_nan()) {
        return 0.0;
    }
    (ours - theirs).abs() / theirs.abs().max(f64::MIN_POSITIVE)
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) if s == "NA" || s == "NaN" => f64::NAN,
        _ => f64::NAN,
    }
}

struct Outcome {
    cases: usize,
    rows: usize,
    max_relative: f64,
    worst: String,
}

fn run_r_cases() -> Outcome {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/r");
    let text = std::fs::read_to_string(dir.join("cases.json")).expect("tests/r/cases.json exists");
    let root: Value = serde_json::from_str(&text).expect("cases.json is JSON");
    let cases = root["cases"].as_array().expect("cases array");
    let mut data_cache: HashMap<String, Vec<u8>> = HashMap::new();
    let mut outcome = Outcome {
        cases: 0,
        rows: 0,
        max_relative: 0.0,
        worst: String::new(),
    };
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().expect("case id");
        let data_path = case["data"].as_str().expect("data path");
        let data = data_cache
            .entry(data_path.to_string())
            .or_insert_with(|| std::fs::read(dir.join(data_path)).expect("case data file"));
        let design = serde_json::to_string(&case["design"]).expect("design");
        // One call per estimate, so rows of different requests cannot be confused.
        let result: Result<Vec<(usize, AnalysisRow)>, _> = case["estimate"]
            .as_array()
            .expect("estimate list")
            .iter()
            .enumerate()
            .map(|(i, e)| {
                analyze_text(data, &design, &serde_json::to_string(e).expect("estimate"))
                    .map(|rows| rows.into_iter().map(|r| (i, r)).collect::<Vec<_>>())
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| v.into_iter().flatten().collect());
        outcome.cases += 1;
        if let Some(message) = case.get("error") {
            match result {
                Err(_) => {}
                Ok(rows) => failures.push(format!(
                    "{id}: R failed ({message}) but we returned {} rows",
                    rows.len()
                )),
            }
            continue;
        }
        let rows = match result {
            Ok(rows) => rows,
            Err(e) => {
                failures.push(format!("{id}: error {e}"));
                continue;
            }
        };
        let ours: HashMap<(usize, String, String), &AnalysisRow> = rows
            .iter()
            .map(|(i, r)| ((*i, r.name.clone(), r.domain.clone()), r))
            .collect();
        let expected = case["results"].as_array().expect("results");
        if expected.len() != rows.len() {
            failures.push(format!(
                "{id}: R has {} rows, we have {}",
                expected.len(),
                rows.len()
            ));
        }
        for exp in expected {
            let key = (
                exp["estimate_index"].as_u64().expect("estimate_index") as usize,
                exp["name"].as_str().unwrap_or_default().to_string(),
                exp["domain"].as_str().unwrap_or_default().to_string(),
            );
            let Some(row) = ours.get(&key) else {
                failures.push(format!(
                    "{id}: no row {key:?}; we have {:?}",
                    ours.keys().collect::<Vec<_>>()
                ));
                continue;
            };
            outcome.rows += 1;
            let mut checks = vec![(
                "estimate",
                row.estimate,
                number(&exp["estimate"]),
                TOLERANCE,
            )];
            // An SE that is exactly zero in R may be a rounding residue on our side.
            let r_se = number(&exp["se"]);
            checks.push(("se", row.se, r_se, TOLERANCE));
            if let Some(d) = exp.get("deff") {
                checks.push(("deff", row.deff.unwrap_or(f64::NAN), number(d), TOLERANCE));
            }
            if let Some(lo) = exp.get("ci_lower") {
                checks.push(("ci_lower", row.ci_lower, number(lo), CI_TOLERANCE));
                checks.push((
                    "ci_upper",
                    row.ci_upper,
                    number(&exp["ci_upper"]),
                    CI_TOLERANCE,
                ));
            }
            for (what, ours, theirs, tolerance) in checks {
                let rel = relative_difference(ours, theirs);
                if tolerance == TOLERANCE && rel > outcome.max_relative {
                    outcome.max_relative = rel;
                    outcome.worst = format!("{id} {key:?} {what}");
                }
                if rel > tolerance || rel.is_nan() {
                    failures.push(format!(
                        "{id} {key:?} {what}: ours {ours:.17e}, R {theirs:.17e} (rel {rel:.2e})"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with R:\n{}",
        failures.len(),
        failures.join("\n")
    );
    outcome
}

#[test]
fn agrees_with_r_survey_on_every_case() {
    let outcome = run_r_cases();
    eprintln!(
        "R agreement: {} cases, {} rows, max relative difference {:.2e} ({})",
        outcome.cases, outcome.rows, outcome.max_relative, outcome.worst
    );
    assert!(outcome.cases >= 60, "only {} cases", outcome.cases);
    assert!(outcome.rows >= 250, "only {} rows", outcome.rows);
}

// ---------------------------------------------------------------------------------------
// METHODOLOGY §3.10 worked variance example: two strata, PSUs of two workers each.

const SECTION_3_10: &str = "stratum,psu,w,y,one\n\
1,a,10,1,1\n1,a,10,0,1\n1,b,10,1,1\n1,b,10,1,1\n1,c,10,0,1\n1,c,10,0,1\n\
2,d,20,0,1\n2,d,20,1,1\n2,e,20,0,1\n2,e,20,0,1\n";

fn section_3_10(design: &str) -> Vec<AnalysisRow> {
    analyze_text(
        SECTION_3_10.as_bytes(),
        design,
        r#"{"type":"ratio","numerator":"y","denominator":"one","ci":{"method":"wald"}}"#,
    )
    .expect("analysis runs")
}

#[test]
fn section_3_10_taylor() {
    let rows = section_3_10(r#"{"weights":"w","ids":["psu"],"strata":"stratum"}"#);
    assert!((rows[0].estimate - 50.0 / 140.0).abs() < 1e-12);
    assert!((rows[0].se.powi(2) - 1.0 / 28.0).abs() < 1e-12);
    assert!((rows[0].se - 0.188982).abs() < 1e-6);
    // df = PSUs − strata.
    assert_eq!(rows[0].df, 3.0);
}

#[test]
fn section_3_10_jackknife() {
    let jkn = section_3_10(
        r#"{"weights":"w","ids":["psu"],"strata":"stratum","replicates":{"type":"jkn"}}"#,
    );
    assert!(
        (jkn[0].se.powi(2) - 1.0 / 28.0).abs() < 1e-12,
        "{}",
        jkn[0].se.powi(2)
    );
    // The replicate estimates themselves.
    let table = Table::from_csv(SECTION_3_10.as_bytes()).unwrap();
    let spec = estimate::spec::parse_design(
        r#"{"weights":"w","ids":["psu"],"strata":"stratum","replicates":{"type":"jkn"}}"#,
    )
    .unwrap();
    let design = Design::build(&table, &spec).unwrap();
    let thetas = estimator::ratio_replicates(
        &design,
        table.numeric("y").unwrap(),
        table.numeric("one").unwrap(),
        &Domain::all(table.rows()),
    )
    .expect("a replicate design");
    let expected = [0.357143, 0.25, 0.464286, 0.214286, 0.5];
    assert_eq!(thetas.len(), 5);
    for (t, e) in thetas.iter().zip(expected) {
        assert!((t - e).abs() < 1e-6, "{t} vs {e}");
    }
    // The oracle's JK1 (ignoring strata) is centred at the full-sample estimate (R mse = TRUE);
    // R's default centres at the replicate mean: 0.031377777777777789.
    let jk1 =
        section_3_10(r#"{"weights":"w","ids":["psu"],"replicates":{"type":"jk1","mse":true}}"#);
    assert!(
        (jk1[0].se.powi(2) - 0.0314104).abs() < 1e-7,
        "{}",
        jk1[0].se.powi(2)
    );
    let jk1_mean = section_3_10(r#"{"weights":"w","ids":["psu"],"replicates":{"type":"jk1"}}"#);
    assert!((jk1_mean[0].se.powi(2) - 0.031_377_777_777_777_79).abs() < 1e-15);
}

#[test]
fn section_3_10_rao_wu_replicate() {
    // r = (a:2, b:0, c:0; d:1, e:0): stratum 1 has n = 3, m = 2; stratum 2 n = 2, m = 1.
    let factor_a = estimate::replicate::rao_wu_factor(3, 1.0, 2);
    let factor_d = estimate::replicate::rao_wu_factor(2, 1.0, 1);
    assert_eq!((10.0 * factor_a, 20.0 * factor_d), (30.0, 40.0));
    assert_eq!(estimate::replicate::rao_wu_factor(3, 1.0, 0), 0.0);
    // A user-supplied replicate column with those weights gives R̂* = 0.5.
    let csv = SECTION_3_10
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("{line},rep1")
            } else {
                let psu = line.split(',').nth(1).unwrap();
                let w = match psu {
                    "a" => 30,
                    "d" => 40,
                    _ => 0,
                };
                format!("{line},{w}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let table = Table::from_csv(csv.as_bytes()).unwrap();
    let spec = estimate::spec::parse_design(
        r#"{"weights":"w","replicates":{"columns":["rep1"],"type":"other","scale":1}}"#,
    )
    .unwrap();
    let design = Design::build(&table, &spec).unwrap();
    let thetas = estimator::ratio_replicates(
        &design,
        table.numeric("y").unwrap(),
        table.numeric("one").unwrap(),
        &Domain::all(table.rows()),
    )
    .unwrap();
    assert_eq!(thetas, vec![0.5]);
}

/// METHODOLOGY §3.11: Kish deff_w for the §3.10 table.
#[test]
fn section_3_11_kish_deff() {
    let table = Table::from_csv(SECTION_3_10.as_bytes()).unwrap();
    let deff = estimate::kish_deff(table.numeric("w").unwrap());
    assert!((deff - 1.122449).abs() < 1e-6, "{deff}");
}

/// METHODOLOGY §4.6 through the analysis entry point: the median at the exact 0.5 tie.
#[test]
fn section_4_6_median_through_analyze() {
    let csv = "id,w,hourly\n1,100,28846.15\n2,100,27692.31\n3,200,20673.08\n4,100,41958.04\n\
5,150,28846.15\n6,150,14423.08\n7,100,37500\n8,200,25000\n";
    let rows = analyze_text(
        csv.as_bytes(),
        r#"{"weights":"w"}"#,
        r#"{"type":"quantile","variables":["hourly"],"probs":[0.5],"qrule":"math"}"#,
    )
    .unwrap();
    assert_eq!(rows[0].estimate, 25000.0);
}

// ---------------------------------------------------------------------------------------
// Properties of our own replicate generators (R's random replicates are checked above as
// user-supplied columns).

fn stratified_sample() -> String {
    // 6 strata × 4 PSUs × 3 rows, deterministic values.
    let mut csv = String::from("h,psu,w,y,x\n");
    for h in 0..6 {
        for p in 0..4 {
            for r in 0..3 {
                let y = ((h * 7 + p * 3 + r * 5) % 11) as f64 + 0.5 * h as f64;
                let x = 1.0 + ((h + p + r) % 4) as f64;
                csv.push_str(&format!("{h},{h}-{p},{},{y},{x}\n", 10 + h));
            }
        }
    }
    csv
}

#[test]
fn bootstrap_generators_are_seeded_and_approximate_taylor() {
    let csv = stratified_sample();
    let taylor = analyze_text(
        csv.as_bytes(),
        r#"{"weights":"w","ids":["psu"],"strata":"h"}"#,
        r#"{"type":"total","variables":["y"]}"#,
    )
    .unwrap()[0]
        .se;
    for kind in ["bootstrap", "subbootstrap"] {
        let design = format!(
            r#"{{"weights":"w","ids":["psu"],"strata":"h","replicates":{{"type":"{kind}","replicates":4000,"seed":7}}}}"#
        );
        let a = analyze_text(
            csv.as_bytes(),
            &design,
            r#"{"type":"total","variables":["y"]}"#,
        )
        .unwrap()[0]
            .se;
        let b = analyze_text(
            csv.as_bytes(),
            &design,
            r#"{"type":"total","variables":["y"]}"#,
        )
        .unwrap()[0]
            .se;
        assert_eq!(a, b, "same seed, same replicates");
        let other_seed = design.replace("\"seed\":7", "\"seed\":8");
        let c = analyze_text(
            csv.as_bytes(),
            &other_seed,
            r#"{"type":"total","variables":["y"]}"#,
        )
        .unwrap()[0]
            .se;
        assert_ne!(a, c);
        let ratio = a / taylor;
        assert!(
            (0.9..1.1).contains(&ratio),
            "{kind}: bootstrap SE / Taylor SE = {ratio}"
        );
    }
}

#[test]
fn brr_variance_of_a_total_equals_the_paired_taylor_variance() {
    // 5 strata × 2 PSUs; for a total a fully balanced BRR set reproduces Σ_h (z_h1 − z_h2)².
    let mut csv = String::from("h,psu,w,y\n");
    for h in 0..5 {
        for p in 0..2 {
            for r in 0..2 {
                csv.push_str(&format!(
                    "s{h},{h}{p},{},{}\n",
                    3 + h,
                    (h * 3 + p * 5 + r * 2) % 7
                ));
            }
        }
    }
    let est = r#"{"type":"total","variables":["y"]}"#;
    let taylor = analyze_text(
        csv.as_bytes(),
        r#"{"weights":"w","ids":["psu"],"strata":"h"}"#,
        est,
    )
    .unwrap()[0]
        .se;
    let brr = analyze_text(
        csv.as_bytes(),
        r#"{"weights":"w","ids":["psu"],"strata":"h","replicates":{"type":"brr"}}"#,
        est,
    )
    .unwrap()[0]
        .se;
    assert!(
        (brr - taylor).abs() < 1e-9 * taylor,
        "BRR {brr} vs Taylor {taylor}"
    );
    // Fay's factor is undone by the 1/(1−ρ)² scale for a total as well.
    let fay = analyze_text(
        csv.as_bytes(),
        r#"{"weights":"w","ids":["psu"],"strata":"h","replicates":{"type":"fay","fay_rho":0.5}}"#,
        est,
    )
    .unwrap()[0]
        .se;
    assert!(
        (fay - taylor).abs() < 1e-9 * taylor,
        "Fay {fay} vs Taylor {taylor}"
    );
}

// ---------------------------------------------------------------------------------------
// Bad input: clear errors, never a panic.

#[test]
fn bad_input_gives_named_errors() {
    let csv = "w,y,s\n1,2,a\n1,3,b\n";
    let err = |design: &str, est: &str| {
        analyze_text(csv.as_bytes(), design, est)
            .unwrap_err()
            .to_string()
    };
    assert!(
        err(
            r#"{"weights":"ww"}"#,
            r#"{"type":"mean","variables":["y"]}"#
        )
        .contains("`ww`")
    );
    assert!(
        err(r#"{"weights":"w"}"#, r#"{"type":"mean","variables":["s"]}"#)
            .contains("must be numeric")
    );
    assert!(
        err(
            r#"{"weights":"w"}"#,
            r#"{"type":"median","variables":["y"]}"#
        )
        .contains("median")
    );
    assert!(
        err(
            r#"{"weights":"w","bogus":1}"#,
            r#"{"type":"mean","variables":["y"]}"#
        )
        .contains("bogus")
    );
    assert!(
        err(
            r#"{"weights":"w"}"#,
            r#"{"type":"mean","variables":["y"],"subset":{"s":"zz"}}"#
        )
        .contains("no observations")
    );
    assert!(
        err(
            r#"{"weights":"w"}"#,
            r#"{"type":"quantile","variables":["y"],"probs":[1.5]}"#
        )
        .contains("probs")
    );
    assert!(err(r#"{"weights":"w"}"#, "not json").contains("ESTIMATE.json"));
    let missing = "w,y\n1,2\n1,\n";
    let e = analyze_text(
        missing.as_bytes(),
        r#"{"weights":"w"}"#,
        r#"{"type":"mean","variables":["y"]}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("na_rm"), "{e}");
    let ok = analyze_text(
        missing.as_bytes(),
        r#"{"weights":"w"}"#,
        r#"{"type":"mean","variables":["y"],"na_rm":true}"#,
    )
    .unwrap();
    assert_eq!(ok[0].estimate, 2.0);
}

// ---------------------------------------------------------------------------------------
// The command line: `chainsurvey analyze` prints the same rows and exits 2 on bad input.

#[test]
fn analyze_command_prints_json_and_csv_and_exits_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/r/data/apistrat.csv");
    let design = dir.path().join("design.json");
    let estimate = dir.path().join("estimate.json");
    std::fs::write(
        &design,
        r#"{"weights":"pw","ids":[],"strata":"stype","fpc":"fpc"}"#,
    )
    .unwrap();
    std::fs::write(
        &estimate,
        r#"{"type":"mean","variables":["api00"],"by":["sch.wide"],"deff":true}"#,
    )
    .unwrap();
    let run = |format: &str, design: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
            .args(["analyze", "--data"])
            .arg(&data)
            .arg("--design")
            .arg(design)
            .arg("--estimate")
            .arg(&estimate)
            .args(["--format", format])
            .output()
            .unwrap()
    };
    let json = run("json", &design);
    assert_eq!(
        json.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["design"]["df"], 197.0);
    let rows = doc["estimates"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["domain"], "sch.wide=No");
    // Same numbers as the library call.
    let lib = analyze_text(
        &std::fs::read(&data).unwrap(),
        &std::fs::read_to_string(&design).unwrap(),
        &std::fs::read_to_string(&estimate).unwrap(),
    )
    .unwrap();
    assert_eq!(rows[0]["se"].as_f64().unwrap(), lib[0].se);
    let csv = run("csv", &design);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(
        text.starts_with("name,domain,estimate,se,ci_lower,ci_upper,deff,cv,n,df\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3);

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"weights":"pww"}"#).unwrap();
    let out = run("json", &bad);
    assert_eq!(out.status.code(), Some(2));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        message.contains("unknown column `pww`") && message.contains("did you mean `pw`"),
        "{message}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn malformed_csv_is_an_error_not_a_panic() {
    let design = r#"{"weights":"w"}"#;
    let est = r#"{"type":"mean","variables":["y"]}"#;
    let non_utf8 = b"w,y,s\n1,2,\xff\xfe\n1,3,b\n";
    let e = analyze_text(non_utf8, design, est).unwrap_err().to_string();
    assert!(e.contains("UTF-8") && e.contains("`s`"), "{e}");
    let ragged = "w,y\n1,2\n1,3,4\n";
    let e = analyze_text(ragged.as_bytes(), design, est)
        .unwrap_err()
        .to_string();
    assert!(e.contains("CSV record"), "{e}");
    let duplicate = "w,y,y\n1,2,3\n";
    let e = analyze_text(duplicate.as_bytes(), design, est)
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice"), "{e}");
    let e = analyze_text(b"", design, est).unwrap_err().to_string();
    assert!(e.contains("no rows") || e.contains("unknown column"), "{e}");
}

mod calibration_properties {
    use chainsurvey::weighting::calibration::{AuxMatrix, CalibrationConfig, Distance, calibrate};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Linear, raking and logit calibration reproduce reachable totals to 1e-9.
        #[test]
        fn calibrated_weights_hit_their_totals(
            rows in prop::collection::vec((1.0f64..50.0, 0.0f64..10.0, prop::bool::ANY), 12..40),
            shift in 0.9f64..1.1,
        ) {
            let d: Vec<f64> = rows.iter().map(|r| r.0).collect();
            let mut x = Vec::new();
            for r in &rows {
                x.extend([1.0, r.1, f64::from(u8::from(r.2))]);
            }
            let n = rows.len();
            let aux = AuxMatrix::new(&x, n, 3).unwrap();
            let ht: Vec<f64> = (0..3).map(|j| (0..n).map(|k| d[k] * x[k * 3 + j]).sum()).collect();
            // Skip degenerate draws where a column has no support.
            prop_assume!(ht[1] > 0.0 && ht[2] > 0.0 && ht[2] < ht[0]);
            let totals = [ht[0] * shift, ht[1] * (2.0 - shift), ht[2]];
            for distance in [Distance::Linear, Distance::Raking, Distance::Logit { lower: 0.3, upper: 3.0 }] {
                let config = CalibrationConfig { distance, max_iter: 100, tolerance: 1e-12 };
                if let Ok(cal) = calibrate(&d, &aux, &totals, &config) {
                    for j in 0..3 {
                        let achieved: f64 = (0..n).map(|k| d[k] * cal.g[k] * x[k * 3 + j]).sum();
                        prop_assert!((achieved - totals[j]).abs() <= 1e-9 * totals[j].abs().max(1.0),
                            "{distance:?} column {j}: {achieved} vs {}", totals[j]);
                    }
                    if let Distance::Logit { lower, upper } = distance {
                        prop_assert!(cal.g.iter().all(|g| *g > lower && *g < upper));
                    }
                } else {
                    // Only bounded calibration may legitimately fail to reach the totals.
                    let bounded = matches!(distance, Distance::Logit { .. });
                    prop_assert!(bounded, "unbounded calibration failed");
                }
            }
        }
    }
}

#[test]
fn pps_designs_refuse_inconsistent_specifications() {
    // Four PSUs of two rows; p is a per-PSU inclusion probability, bad varies within PSU 1.
    let csv = "psu,w,y,p,bad,q,st\n1,2,1,0.5,0.5,0.5,1\n1,2,2,0.5,0.4,0.5,1\n2,4,3,0.25,0.25,0.5,1\n2,4,4,0.25,0.25,0.5,1\n3,2,5,0.5,0.5,0.5,2\n3,2,6,0.5,0.5,0.5,2\n4,4,7,0.25,0.25,0.5,2\n4,4,8,0.25,0.25,0.5,2\n";
    let mean = r#"{"type":"mean","variables":["y"]}"#;
    let err = |design: &str| {
        analyze_text(csv.as_bytes(), design, mean)
            .unwrap_err()
            .to_string()
    };
    assert!(err(r#"{"weights":"w","probs":"p","ids":["psu"]}"#).contains("not both"));
    assert!(err(r#"{"ids":["psu"],"pps":"brewer"}"#).contains("needs `fpc`"));
    assert!(
        err(r#"{"ids":["psu"],"fpc":"bad","pps":"brewer"}"#).contains("varies within a cluster")
    );
    assert!(err(r#"{"ids":["psu"],"probs":"p","variance":"YG"}"#).contains("overton"));
    assert!(err(r#"{"ids":["psu","y"],"probs":["p","q"],"pps":"overton"}"#).contains("one stage"));
    assert!(err(r#"{"ids":["psu"],"probs":"w"}"#).contains("(0, 1]"));
    assert!(
        err(r#"{"ids":["psu"],"fpc":"p","pps":"brewer","replicates":{"type":"jk1"}}"#)
            .contains("PPS")
    );

    // Brewer with π ≡ n/N per stratum is the ordinary without-replacement design: the same
    // SE as fpc given as that fraction without pps. Weights derive from fpc as 1/π.
    let srs = "psu,y,st,f\n1,1,1,0.5\n2,3,1,0.5\n3,2,1,0.5\n4,7,2,0.25\n5,5,2,0.25\n6,6,2,0.25\n";
    let brewer = analyze_text(
        srs.as_bytes(),
        r#"{"ids":["psu"],"strata":"st","fpc":"f","pps":"brewer"}"#,
        mean,
    )
    .expect("brewer");
    let wor = analyze_text(
        srs.as_bytes(),
        r#"{"ids":["psu"],"strata":"st","fpc":"f"}"#,
        mean,
    )
    .expect("wor");
    assert!((brewer[0].estimate - wor[0].estimate).abs() < 1e-15);
    assert!((brewer[0].se - wor[0].se).abs() < 1e-14 * wor[0].se);
    // Overton YG with equal π in a stratum is the same design too (Ď_ij = −(1 − π)/(n − 1)).
    let overton = analyze_text(
        srs.as_bytes(),
        r#"{"ids":["psu"],"strata":"st","probs":"f","pps":"overton","variance":"YG"}"#,
        mean,
    )
    .expect("overton");
    assert!(
        (overton[0].se - wor[0].se).abs() < 1e-12 * wor[0].se,
        "{} vs {}",
        overton[0].se,
        wor[0].se
    );
}

#[test]
fn a_replicate_that_cannot_be_calibrated_is_a_named_error() {
    // Post-stratum "b" lives in PSU 3 only: the JK1 replicate that drops PSU 3 has no weight
    // in it, so its totals cannot be met.
    let csv = "psu,w,y,g\n1,1,1,a\n1,1,2,a\n2,1,3,a\n3,1,4,b\n3,1,5,b\n";
    let design = r#"{"weights":"w","ids":["psu"],"replicates":{"type":"jk1"},
        "calibration":{"method":"poststratify","strata":["g"],
          "population":[{"g":"a","Freq":30},{"g":"b","Freq":20}]}}"#;
    let err = analyze_text(
        csv.as_bytes(),
        design,
        r#"{"type":"mean","variables":["y"]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("calibrating replicate 3"), "{err}");
    // Without replicates the same calibration works (weights 10, 10, 10, 10, 10).
    let ok = analyze_text(
        csv.as_bytes(),
        r#"{"weights":"w","ids":["psu"],
        "calibration":{"method":"poststratify","strata":["g"],
          "population":[{"g":"a","Freq":30},{"g":"b","Freq":20}]}}"#,
        r#"{"type":"total","variables":["y"]}"#,
    )
    .expect("calibrated");
    assert!((ok[0].estimate - (10.0 * 6.0 + 10.0 * 9.0)).abs() < 1e-9);
}
