//! The shipped DW-SCS questionnaires and their example submissions.
//!
//! Every questionnaire in `questionnaires/` must lint with no finding at all and compile.
//! Every example under `tests/data/examples/<id>/` is validated: a `valid/` submission must
//! produce no error and exactly the warnings listed in its sibling `<name>.expect.json` array
//! (none when there is no such file); an `invalid/` submission must produce the finding of its `<name>.expect.json`
//! (`{"code", "path", "severity"}`) and, for an error, be rejected. The examples are data, so
//! adding a case is adding two files; `check_examples` is the one helper they all go through.
//!
//! A few tests pin the contract other areas rely on (`VARIABLES.md`): the fixed variable
//! names, their types and codes, and the derived variables of the worker questionnaire,
//! computed by hand from the METHODOLOGY §4.2 formulas.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chainsurvey::questionnaire::dwscs;
use chainsurvey::questionnaire::expr::Date;
use chainsurvey::questionnaire::{
    CompiledQuestionnaire, Item, ItemKind, QuestionType, Questionnaire, Severity, ValidationReport,
    compile, lint, validate_on,
};
use serde_json::Value;

/// (questionnaire id, file under `questionnaires/`).
const SHIPPED: [(&str, &str); 3] = [
    ("dwscs-enterprise", "enterprise.json"),
    ("dwscs-worker", "worker.json"),
    ("dwscs-household-unit", "household_unit.json"),
];

/// The minimum numbers of examples each questionnaire must ship.
const MIN_VALID: usize = 3;
const MIN_INVALID: usize = 20;

fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn load(file: &str) -> Questionnaire {
    let path = repo_path("questionnaires").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Questionnaire::parse(&text).unwrap_or_else(|findings| {
        panic!("{file} does not parse: {findings:#?}");
    })
}

fn compiled(file: &str) -> CompiledQuestionnaire {
    compile(&load(file)).unwrap_or_else(|findings| panic!("{file} does not compile: {findings:#?}"))
}

/// The survey's reference date: no rule of the shipped questionnaires reads `today()`, but a
/// fixed date keeps the examples reproducible if one ever does.
fn reference_date() -> Date {
    Date::from_ymd(2026, 3, 15).expect("a valid calendar date")
}

fn run(compiled: &CompiledQuestionnaire, answers: &Value) -> ValidationReport {
    validate_on(compiled, answers, "en", reference_date())
}

fn describe(report: &ValidationReport) -> String {
    report
        .findings
        .iter()
        .map(|d| {
            format!(
                "  {} {} {}: {}",
                d.severity.as_str(),
                d.code,
                d.path,
                d.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One expected finding of an `.expect.json` file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    code: String,
    path: String,
    severity: String,
}

fn expected_of(value: &Value, file: &Path) -> Expected {
    let field = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: `{key}` must be a string", file.display()))
            .to_string()
    };
    Expected {
        code: field("code"),
        path: field("path"),
        severity: field("severity"),
    }
}

/// The expectations next to an example: an object (one finding) or an array of them; none
/// when the file does not exist.
fn expectations(example: &Path) -> Vec<Expected> {
    let stem = example
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_else(|| panic!("odd file name {}", example.display()));
    let file = example.with_file_name(format!("{stem}.expect.json"));
    if !file.exists() {
        return Vec::new();
    }
    match read_json(&file) {
        Value::Array(items) => items.iter().map(|v| expected_of(v, &file)).collect(),
        value => vec![expected_of(&value, &file)],
    }
}

fn produces(report: &ValidationReport, expected: &Expected) -> bool {
    report.findings.iter().any(|d| {
        d.code == expected.code
            && d.path == expected.path
            && d.severity.as_str() == expected.severity
    })
}

/// The example submissions (not the `.expect.json` files) of one directory, sorted.
fn examples_in(dir: &Path) -> Vec<PathBuf> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut out: Vec<PathBuf> = entries
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && !p.to_string_lossy().ends_with(".expect.json")
        })
        .collect();
    out.sort();
    out
}

/// Validates every example of one questionnaire; returns the expected codes of the invalid
/// ones (for the coverage test). Collects all failures before failing, so one run shows
/// every broken example.
fn check_examples(id: &str, file: &str) -> BTreeSet<String> {
    let compiled = compiled(file);
    let base = repo_path("tests/data/examples").join(id);
    let mut failures = Vec::new();
    let mut codes = BTreeSet::new();

    let valid = examples_in(&base.join("valid"));
    for example in &valid {
        let report = run(&compiled, &read_json(example));
        if report.has_errors() {
            failures.push(format!(
                "{} should be valid but has errors:\n{}",
                example.display(),
                describe(&report)
            ));
        }
        // A valid example produces exactly the warnings it lists: a realistic clean interview
        // must not trip a soft rule by accident.
        let mut expected = expectations(example);
        expected.sort();
        let mut produced: Vec<Expected> = report
            .findings
            .iter()
            .map(|d| Expected {
                code: d.code.to_string(),
                path: d.path.clone(),
                severity: d.severity.as_str().to_string(),
            })
            .collect();
        produced.sort();
        if produced != expected {
            failures.push(format!(
                "{} should produce exactly {expected:?}; it produced:\n{}",
                example.display(),
                describe(&report)
            ));
        }
    }

    let invalid = examples_in(&base.join("invalid"));
    for example in &invalid {
        let expected = expectations(example);
        if expected.is_empty() {
            failures.push(format!("{} has no .expect.json", example.display()));
            continue;
        }
        let report = run(&compiled, &read_json(example));
        for e in &expected {
            codes.insert(e.code.clone());
            if !produces(&report, e) {
                failures.push(format!(
                    "{} should produce {e:?}; it produced:\n{}",
                    example.display(),
                    describe(&report)
                ));
            }
            if e.severity == "error" && !report.has_errors() {
                failures.push(format!("{} should be rejected", example.display()));
            }
        }
    }

    assert!(
        valid.len() >= MIN_VALID,
        "{id}: only {} valid examples",
        valid.len()
    );
    assert!(
        invalid.len() >= MIN_INVALID,
        "{id}: only {} invalid examples",
        invalid.len()
    );
    assert!(failures.is_empty(), "{id}:\n{}", failures.join("\n"));
    codes
}

#[test]
fn shipped_questionnaires_lint_without_any_finding() {
    for (id, file) in SHIPPED {
        let questionnaire = load(file);
        assert_eq!(questionnaire.id, id, "{file}");
        assert_eq!(questionnaire.version, "2026.1", "{file}");
        assert_eq!(questionnaire.languages, ["en", "vi"], "{file}");
        let findings = lint(&questionnaire);
        assert!(findings.is_empty(), "{file} lint findings: {findings:#?}");
        assert!(
            !findings.iter().any(|d| d.severity == Severity::Error),
            "{file} has lint errors"
        );
    }
}

#[test]
fn worker_examples() {
    check_examples("dwscs-worker", "worker.json");
}

#[test]
fn enterprise_examples() {
    check_examples("dwscs-enterprise", "enterprise.json");
}

#[test]
fn household_unit_examples() {
    check_examples("dwscs-household-unit", "household_unit.json");
}

/// The invalid examples, taken together, exercise every kind of finding a submission can
/// have in the field.
#[test]
fn invalid_examples_cover_every_finding_kind() {
    let mut codes = BTreeSet::new();
    for (id, file) in SHIPPED {
        codes.extend(check_examples(id, file));
    }
    for code in [
        "required_missing",
        "rule_failed",
        "wrong_type",
        "invalid_choice",
        "choice_filtered",
        "not_relevant",
        "dont_know_not_allowed",
        "refused_not_allowed",
        "invalid_missing",
        "roster_min",
        "roster_max",
        "roster_count",
        "unknown_field",
    ] {
        assert!(codes.contains(code), "no invalid example expects `{code}`");
    }
}

fn find<'q>(questionnaire: &'q Questionnaire, name: &str) -> &'q Item {
    questionnaire
        .all_items()
        .into_iter()
        .find(|item| item.name == name)
        .unwrap_or_else(|| panic!("`{}` has no item `{name}`", questionnaire.id))
}

fn choice_values(questionnaire: &Questionnaire, item: &Item) -> Vec<String> {
    let list = item
        .choices
        .as_deref()
        .unwrap_or_else(|| panic!("`{}` has no choices", item.name));
    questionnaire
        .choice_list(list)
        .unwrap_or_else(|| panic!("no choice list `{list}`"))
        .choices
        .iter()
        .map(|c| c.value.clone())
        .collect()
}

/// Asserts that `names` are questions of type `ty` (or, with `None`, calculates).
fn assert_items(questionnaire: &Questionnaire, names: &[&str], ty: Option<QuestionType>) {
    for name in names {
        let item = find(questionnaire, name);
        match ty {
            Some(ty) => {
                assert_eq!(item.kind, ItemKind::Question, "`{name}` kind");
                assert_eq!(item.question_type, Some(ty), "`{name}` type");
            }
            None => assert_eq!(item.kind, ItemKind::Calculate, "`{name}` kind"),
        }
    }
}

/// The names, types and codes fixed by `VARIABLES.md`, which the synthetic population and
/// the indicator definitions read.
#[test]
fn worker_variables_follow_the_shared_contract() {
    let q = load("worker.json");
    // Every collected variable of the shared contract is a question of worker.json.
    for name in dwscs::WORKER_VARIABLES {
        assert_eq!(find(&q, name).kind, ItemKind::Question, "`{name}` kind");
    }
    let yes_no = dwscs::YES_NO_ITEMS;
    assert_items(&q, &yes_no, Some(QuestionType::SelectOne));
    for name in yes_no {
        assert_eq!(
            choice_values(&q, find(&q, name)),
            ["1", "2"],
            "`{name}` codes"
        );
    }
    for name in dwscs::DONT_KNOW_ALLOWED {
        assert!(
            find(&q, name).allow_dont_know,
            "`{name}` must allow don't know"
        );
    }
    assert_items(
        &q,
        &["age", "birth_year", "tenure_months", "injury_days_lost"],
        Some(QuestionType::Integer),
    );
    assert_items(
        &q,
        &[
            "usual_hours",
            "actual_hours_7d",
            "other_job_hours",
            "overtime_hours_month",
            "earn_basic",
            "earn_overtime",
            "earn_allowances",
            "earn_bonus",
        ],
        Some(QuestionType::Decimal),
    );
    assert_items(&q, &dwscs::EARNINGS_CALCULATED, None);
    assert_eq!(choice_values(&q, find(&q, "sex")), ["1", "2"]);
    assert_eq!(
        choice_values(&q, find(&q, "status_in_employment")),
        ["1", "2", "3", "4"]
    );
    assert_eq!(
        choice_values(&q, find(&q, "contract_type")),
        ["1", "2", "3", "4", "5", "6", "9"]
    );
    assert_eq!(
        choice_values(&q, find(&q, "pay_form")),
        ["1", "2", "3", "4"]
    );
    for name in ["ethnicity", "education", "occupation"] {
        assert_eq!(find(&q, name).kind, ItemKind::Question, "`{name}`");
    }
}

#[test]
fn enterprise_and_household_variables_follow_the_shared_contract() {
    for file in ["enterprise.json", "household_unit.json"] {
        let q = load(file);
        assert_items(
            &q,
            &[
                "unit_name",
                "tax_code",
                "vsic",
                "sup_name",
                "sup_tax_code",
                "sup_product",
                "cus_name",
                "cus_tax_code",
                "cus_product",
            ],
            Some(QuestionType::Text),
        );
        assert_items(
            &q,
            &[
                "province",
                "commune",
                "unit_type",
                "registered",
                "sup_province",
                "sup_type",
                "sup_subcontract",
                "cus_province",
            ],
            Some(QuestionType::SelectOne),
        );
        assert_items(
            &q,
            &[
                "sup_purchase_value",
                "sup_purchase_share",
                "cus_sales_share",
            ],
            Some(QuestionType::Decimal),
        );
        assert_items(
            &q,
            &[
                "n_domestic_suppliers",
                "n_customers",
                "n_customers_electronics",
            ],
            Some(QuestionType::Integer),
        );
        assert_eq!(find(&q, "suppliers").kind, ItemKind::Roster, "{file}");
        assert_eq!(find(&q, "customers").kind, ItemKind::Roster, "{file}");
        assert_eq!(
            choice_values(&q, find(&q, "unit_type")),
            ["1", "2", "3", "4", "5"],
            "{file}"
        );
        assert_eq!(
            choice_values(&q, find(&q, "sup_type")),
            ["1", "2", "3"],
            "{file}"
        );
        // The electronics provinces of the synthetic frame, with their GSO codes.
        let provinces = choice_values(&q, find(&q, "province"));
        for code in [
            "01", "19", "22", "24", "25", "26", "27", "30", "31", "33", "35", "40", "48", "74",
            "75", "77", "79", "80",
        ] {
            assert!(
                provinces.iter().any(|p| p == code),
                "{file}: province {code} missing"
            );
        }
    }
    let q = load("enterprise.json");
    assert_items(
        &q,
        &["workers_male", "workers_female"],
        Some(QuestionType::Integer),
    );
    for name in ["cba_in_force", "union_grassroots"] {
        assert_eq!(choice_values(&q, find(&q, name)), ["1", "2"], "`{name}`");
    }
}

fn example(id: &str, name: &str) -> Value {
    read_json(
        &repo_path("tests/data/examples")
            .join(id)
            .join("valid")
            .join(format!("{name}.json")),
    )
}

fn number(calculations: &Value, name: &str) -> f64 {
    calculations
        .get(name)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("calculation `{name}` is not a number: {calculations}"))
}

/// The derived variables of the worker questionnaire, checked against values computed by
/// hand from METHODOLOGY §4.2 (hourly earnings = monthly earnings × 1000 / (usual hours ×
/// 52/12); informal job; forced labour = involuntariness and coercion; child labour).
#[test]
fn worker_calculations_match_hand_computed_values() {
    let compiled = compiled("worker.json");

    // 24-year-old woman: 5,200 + 1,900 + 1,100 + 300 thousand VND, 56 hours a week.
    let report = run(
        &compiled,
        &example("dwscs-worker", "female_assembler_bac_ninh"),
    );
    assert!(!report.has_errors(), "{}", describe(&report));
    let c = &report.calculations;
    assert_eq!(number(c, "earn_total"), 8500.0);
    let hourly = 8_500_000.0 / (56.0 * 52.0 / 12.0);
    assert!((number(c, "hourly_earnings") - hourly).abs() < 1e-6, "{c}");
    assert!((hourly - 35_027.472_527).abs() < 1e-3);
    assert_eq!(number(c, "informal_job"), 0.0);
    assert_eq!(number(c, "forced_labour"), 0.0);
    assert_eq!(number(c, "precarious_job"), 0.0);
    assert_eq!(number(c, "total_usual_hours"), 56.0);
    assert_eq!(c.get("age_group").and_then(Value::as_str), Some("2"));
    assert!(
        c.get("child_labour").is_some_and(Value::is_null),
        "adults have no child-labour flag"
    );

    // 17-year-old on a < 12-month contract: SI unknown and no paid leave → informal; deceived
    // and forced overtime (involuntariness) with ID retained and debt (coercion) → forced
    // labour; hazardous work → child labour.
    let report = run(
        &compiled,
        &example("dwscs-worker", "young_worker_forced_labour_flag"),
    );
    assert!(!report.has_errors(), "{}", describe(&report));
    let c = &report.calculations;
    assert_eq!(number(c, "earn_total"), 5700.0);
    assert!((number(c, "hourly_earnings") - 5_700_000.0 / (40.0 * 52.0 / 12.0)).abs() < 1e-6);
    assert_eq!(number(c, "informal_job"), 1.0);
    assert_eq!(number(c, "forced_labour"), 1.0);
    assert_eq!(number(c, "child_labour"), 1.0);
    assert_eq!(number(c, "precarious_job"), 1.0);
    assert_eq!(c.get("age_group").and_then(Value::as_str), Some("1"));

    // A 13-year-old working 16 hours in the reference week: ≥ 14 hours at ages 12–14.
    let report = run(&compiled, &example("dwscs-worker", "child_protocol_age_13"));
    assert!(!report.has_errors(), "{}", describe(&report));
    assert_eq!(number(&report.calculations, "child_labour"), 1.0);
    assert!(
        report
            .calculations
            .get("hourly_earnings")
            .is_some_and(Value::is_null)
    );

    // Don't know on one earnings component leaves the total and hourly earnings empty
    // (excluded from indicators 2, 3 and 15), never a wrong number.
    let mut answers = example("dwscs-worker", "female_assembler_bac_ninh");
    answers["earn_bonus"] = serde_json::json!({"missing": "dont_know"});
    let report = run(&compiled, &answers);
    assert!(!report.has_errors(), "{}", describe(&report));
    assert!(
        report
            .calculations
            .get("earn_total")
            .is_some_and(Value::is_null)
    );
    assert!(
        report
            .calculations
            .get("hourly_earnings")
            .is_some_and(Value::is_null)
    );
}

/// The household form lists every worker, so its roster count follows `n_workers` exactly,
/// and link tracing reads the same supplier variables as from the enterprise form.
#[test]
fn household_roster_follows_the_number_of_workers() {
    let compiled = compiled("household_unit.json");
    let mut answers = example(
        "dwscs-household-unit",
        "registered_plastics_workshop_bac_giang",
    );
    assert!(!run(&compiled, &answers).has_errors());
    for n in [3, 5] {
        answers["n_workers"] = serde_json::json!(n);
        let report = run(&compiled, &answers);
        assert!(
            report
                .findings
                .iter()
                .any(|d| d.code == "roster_count" && d.path == "/hh_workers"),
            "n_workers = {n}: {}",
            describe(&report)
        );
    }
}
