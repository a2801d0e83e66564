//! The synthetic population: configuration errors, determinism, per-enterprise worker
//! regeneration, structure of the frame, the indicator reference against the METHODOLOGY
//! §4.6 oracle, consistency of the truth tables, and the §7 calibration checks.

use std::collections::HashSet;
use std::sync::LazyLock;

use chainsurvey::frame::{Ownership, province_change, read_frame};
use chainsurvey::synth::indicators::{
    Indicator, UnitFacts, gender_pay_gap, low_pay_threshold, terms, weighted_quantile,
};
use chainsurvey::synth::{
    self, ContractType, Error, PayForm, Population, PopulationTruth, Sex, Status, SynthConfig,
    Worker, YesNoDk, worker, workers_of,
};

/// Scale 0.05, seed 1: the small population most tests share (≈ 140 units, 40,000 workers).
static SMALL: LazyLock<Population> = LazyLock::new(|| {
    synth::generate(&SynthConfig::vn_electronics(), 0.05, 1).expect("generate 0.05")
});
static SMALL_TRUTH: LazyLock<PopulationTruth> = LazyLock::new(|| synth::population_truth(&SMALL));

fn config_error(json: &str) -> Error {
    match SynthConfig::from_json(json) {
        Ok(_) => panic!("config was accepted"),
        Err(e) => e,
    }
}

/// The default config with one textual substitution (must apply exactly once).
fn edited(from: &str, to: &str) -> String {
    let text = synth::DEFAULT_CONFIG_JSON;
    assert_eq!(text.matches(from).count(), 1, "{from} must occur once");
    text.replacen(from, to, 1)
}

#[test]
fn malformed_config_is_rejected_with_its_position() {
    match config_error("{\n  \"name\": \"x\",\n  oops\n}") {
        Error::ConfigParse { line, .. } => assert_eq!(line, 3),
        other => panic!("unexpected {other}"),
    }
    let e = config_error(&edited(
        "\"reference_year\": 2025,",
        "\"reference_year\": 2025, \"colour\": 1,",
    ));
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn invalid_config_values_name_their_json_path() {
    let cases = [
        (
            edited(
                "\"median_employees\": 6000, \"sigma\": 1.10",
                "\"median_employees\": 6000, \"sigma\": -1.0",
            ),
            "strata[0].sigma",
        ),
        (
            edited("\"class\": \"t0_fdi\"", "\"class\": \"t9\""),
            "strata[0].class",
        ),
        (
            edited(
                "\"ownership\": \"FDI\", \"firms\": 45,",
                "\"ownership\": \"XYZ\", \"firms\": 45,",
            ),
            "ownership",
        ),
        (
            edited("\"written_contract\": 0.99", "\"written_contract\": 1.5"),
            "classes[0].written_contract",
        ),
        (
            edited(
                "{\"name\": \"Yen Phong\", \"mw_region\": 2,",
                "{\"name\": \"Yen Phong\", \"mw_region\": 7,",
            ),
            "province_groups[0].provinces[0].districts[0].mw_region",
        ),
        (
            edited(
                "\"locality\": {\"same_group\": 0.70",
                "\"locality\": {\"same_group\": -0.70",
            ),
            "links.locality",
        ),
    ];
    for (json, path) in cases {
        let e = config_error(&json);
        assert!(e.to_string().contains(path), "expected {path} in: {e}");
    }
}

#[test]
fn bad_scales_are_errors() {
    let c = SynthConfig::vn_electronics();
    for scale in [0.0, -1.0, f64::NAN, f64::INFINITY, 0.001, 1000.0] {
        assert!(
            matches!(synth::generate(&c, scale, 1), Err(Error::BadScale { .. })),
            "scale {scale}"
        );
    }
}

#[test]
fn same_seed_gives_the_same_population_and_another_seed_does_not() {
    let c = SynthConfig::vn_electronics();
    let a = synth::generate(&c, 0.05, 1).expect("a");
    assert_eq!(a.frame.units, SMALL.frame.units);
    assert_eq!(a.frame.links, SMALL.frame.links);
    assert_eq!(a.units, SMALL.units);
    let unit = a.frame.units.len() / 2;
    assert!(workers_of(&a, unit).eq(workers_of(&SMALL, unit)));
    let b = synth::generate(&c, 0.05, 2).expect("b");
    assert_ne!(a.frame.units, b.frame.units);
    assert_ne!(a.frame.links, b.frame.links);
    let w_a: Vec<Worker> = workers_of(&a, 0).take(50).collect();
    let w_b: Vec<Worker> = workers_of(&b, 0).take(50).collect();
    assert_ne!(w_a, w_b);
}

#[test]
fn any_worker_regenerates_alone_as_in_the_full_pass() {
    let pop = &*SMALL;
    let mut checked = 0;
    for unit in (0..pop.frame.units.len()).step_by(7) {
        let all: Vec<Worker> = workers_of(pop, unit).collect();
        assert_eq!(all.len() as u64, pop.frame.units[unit].employees());
        let males = pop.frame.units[unit].employees_male as usize;
        // Every worker of small units, a spread of workers of large ones.
        let step = if all.len() < 300 { 1 } else { 37 };
        for (k, w) in all.iter().enumerate().step_by(step) {
            assert_eq!(worker(pop, unit, k as u64).as_ref(), Some(w));
            assert_eq!(w.sex, if k < males { Sex::Male } else { Sex::Female });
            checked += 1;
        }
        assert_eq!(worker(pop, unit, all.len() as u64), None);
    }
    assert!(checked > 20);
    assert_eq!(worker(pop, pop.frame.units.len(), 0), None);
    assert_eq!(workers_of(pop, pop.frame.units.len()).count(), 0);
}

#[test]
fn frame_is_well_formed() {
    let pop = &*SMALL;
    let units = &pop.frame.units;
    let mut taxes = HashSet::new();
    for (i, u) in units.iter().enumerate() {
        let t = &pop.units[i];
        let tax = u.tax_code.as_deref().expect("tax code");
        assert!(
            tax.len() == 10 && tax.bytes().all(|b| b.is_ascii_digit()),
            "{tax}"
        );
        assert!(tax.starts_with(&u.province));
        assert!(taxes.insert(tax.to_string()), "duplicate tax code {tax}");
        assert!(u.employees() >= 1);
        if t.design_tier == 0 {
            assert!(
                u.vsic.starts_with("26"),
                "lead {} has VSIC {}",
                u.id,
                u.vsic
            );
        }
        assert!(t.tier.is_some(), "{} is not reachable from tier 0", u.id);
        assert!(t.tier.unwrap_or(9) <= t.design_tier);
        let cw = province_change(&u.province).expect("province in the crosswalk");
        assert_eq!(
            u.province_2025.as_deref(),
            Some(cw.code_2025.as_str()),
            "{}",
            u.province
        );
        assert!((1..=4).contains(&t.mw_region));
        if u.household_business {
            assert_eq!((t.design_tier, u.ownership), (3, Ownership::Domestic));
        } else {
            assert!(u.registered);
        }
        for rate in [
            t.effects.female_share,
            t.effects.over_48h,
            t.effects.below_minimum_wage,
        ] {
            assert!((0.0..=1.0).contains(&rate));
        }
    }
    assert!(units.iter().any(|u| u.household_business && !u.registered));
    let mut links = HashSet::new();
    let mut sold = vec![0.0; units.len()];
    for l in &pop.frame.links {
        assert_ne!(l.buyer, l.supplier);
        assert!(links.insert((l.buyer, l.supplier)), "duplicate link");
        assert!(pop.units[l.buyer].design_tier < pop.units[l.supplier].design_tier);
        let w = l.weight.expect("link weight");
        assert!(w > 0.0 && w <= 1.0);
        sold[l.supplier] += w;
    }
    assert!(sold.iter().all(|s| *s <= 1.0 + 1e-9));
    for name in synth::ATTRIBUTES {
        assert_eq!(
            pop.frame.attributes().column(name).map(|c| c.len()),
            Some(units.len())
        );
    }
}

/// METHODOLOGY §4.6: eight employees with weights; the indicator functions must give the
/// published values.
#[test]
fn indicator_reference_reproduces_the_methodology_oracle() {
    let legal = SynthConfig::vn_electronics().legal;
    // (sex, weight, usual hours, monthly earnings in thousand VND, region)
    let rows = [
        (Sex::Female, 100.0, 48.0, 6000.0, 1),
        (Sex::Female, 100.0, 60.0, 7200.0, 1),
        (Sex::Female, 200.0, 48.0, 4300.0, 2),
        (Sex::Male, 100.0, 44.0, 8000.0, 1),
        (Sex::Male, 150.0, 52.0, 6500.0, 2),
        (Sex::Female, 150.0, 40.0, 2500.0, 3),
        (Sex::Male, 100.0, 56.0, 9100.0, 1),
        (Sex::Female, 200.0, 48.0, 5200.0, 2),
    ];
    let minimum = [4960.0, 4410.0, 3860.0, 3450.0];
    let workers: Vec<(Worker, f64, UnitFacts)> = rows
        .iter()
        .map(|(sex, wt, h, e, region)| {
            let mut w = plain_worker(*sex);
            w.usual_hours = *h;
            w.earn_basic = *e;
            let facts = UnitFacts {
                household_business: false,
                registered: true,
                cba_in_force: false,
                minimum_wage: minimum[*region - 1],
            };
            (w, *wt, facts)
        })
        .collect();
    let hourly: Vec<f64> = workers
        .iter()
        .map(|(w, _, _)| w.hourly_earnings().expect("h"))
        .collect();
    assert!((hourly[5] - 14_423.08).abs() < 0.01);
    let mut pairs: Vec<(f64, f64)> = hourly
        .iter()
        .zip(&workers)
        .map(|(h, (_, wt, _))| (*h, *wt))
        .collect();
    let median = weighted_quantile(&mut pairs, 0.5).expect("median");
    assert!((median - 25_000.0).abs() < 1e-9, "median {median}");
    let threshold = low_pay_threshold(median);
    let rate = |ind: Indicator| {
        let (mut num, mut den) = (0.0, 0.0);
        for (w, wt, f) in &workers {
            if let Some((n, d)) = terms(ind, w, f, &legal, threshold) {
                num += wt * n;
                den += wt * d;
            }
        }
        num / den
    };
    assert!((rate(Indicator::LowPay) - 0.136_364).abs() < 1e-6);
    assert!((rate(Indicator::ExcessiveHours) - 0.318_182).abs() < 1e-6);
    assert!((rate(Indicator::BelowMinimumWage) - 0.318_182).abs() < 1e-6);
    let mean = |sex: Sex| {
        let (mut num, mut den) = (0.0, 0.0);
        for (h, (w, wt, _)) in hourly.iter().zip(&workers) {
            if w.sex == sex {
                num += wt * h;
                den += wt;
            }
        }
        num / den
    };
    assert!((mean(Sex::Female) - 22_602.56).abs() < 0.01);
    assert!((mean(Sex::Male) - 35_064.94).abs() < 0.01);
    assert!((gender_pay_gap(mean(Sex::Male), mean(Sex::Female)) - 35.5408).abs() < 1e-4);
}

/// A worker with every item at its "formal, unremarkable" value.
fn plain_worker(sex: Sex) -> Worker {
    Worker {
        unit: 0,
        index: 0,
        sex,
        age: 30,
        birth_year: 1995,
        migrant: false,
        status_in_employment: Status::Employee,
        tenure_months: 24,
        agency_hired: false,
        contract_type: Some(ContractType::Indefinite),
        contract_copy: Some(true),
        usual_hours: 48.0,
        actual_hours_7d: 48.0,
        other_job_hours: 0.0,
        overtime_hours_month: 0.0,
        night_work: false,
        can_refuse_ot: true,
        pay_form: PayForm::Monthly,
        earn_basic: 6000.0,
        earn_overtime: 0.0,
        earn_allowances: 0.0,
        earn_bonus: 0.0,
        paid_on_time: true,
        si_paid: Some(YesNoDk::Yes),
        hi_paid: Some(YesNoDk::Yes),
        ui_paid: Some(YesNoDk::Yes),
        paid_annual_leave: Some(YesNoDk::Yes),
        paid_sick_leave: Some(YesNoDk::Yes),
        injury_12m: false,
        injury_days_lost: 0,
        ppe_provided: true,
        union_member: true,
        cba_covered: Some(YesNoDk::Yes),
        fl_deceived: false,
        fl_forced_ot: false,
        fl_other_employer: false,
        fl_live_premises: false,
        fl_wages_withheld: false,
        fl_id_retained: false,
        fl_debt: false,
        fl_threats: false,
        fl_restricted_movement: false,
        fl_penalty_leaving: false,
        fl_cannot_leave: false,
        hazardous_work: false,
    }
}

#[test]
fn indicator_universes_and_fallbacks_follow_the_definitions() {
    let legal = SynthConfig::vn_electronics().legal;
    let f = UnitFacts {
        household_business: true,
        registered: false,
        cba_in_force: true,
        minimum_wage: 4410.0,
    };
    let t = |w: &Worker, ind| terms(ind, w, &f, &legal, 20_000.0);
    // Informal job: SI "no" → informal; SI unknown → leave decides; unknown leave → excluded.
    let mut w = plain_worker(Sex::Female);
    w.si_paid = Some(YesNoDk::No);
    assert_eq!(t(&w, Indicator::InformalJob), Some((1.0, 1.0)));
    w.si_paid = Some(YesNoDk::DontKnow);
    w.paid_annual_leave = Some(YesNoDk::No);
    w.paid_sick_leave = Some(YesNoDk::No);
    assert_eq!(t(&w, Indicator::InformalJob), Some((1.0, 1.0)));
    w.paid_sick_leave = Some(YesNoDk::DontKnow);
    assert_eq!(t(&w, Indicator::InformalJob), None);
    assert_eq!(t(&w, Indicator::SocialInsurance), None);
    // Forced labour needs both dimensions.
    let mut w = plain_worker(Sex::Male);
    w.fl_forced_ot = true;
    assert_eq!(t(&w, Indicator::ForcedLabour), Some((0.0, 1.0)));
    w.fl_cannot_leave = true;
    assert_eq!(t(&w, Indicator::ForcedLabour), Some((1.0, 1.0)));
    // Child labour thresholds by age band; adults are outside the universe.
    let mut w = plain_worker(Sex::Male);
    assert_eq!(t(&w, Indicator::ChildLabour), None);
    for (age, hours, hazardous, expected) in [
        (11, 1.0, false, 1.0),
        (13, 13.0, false, 0.0),
        (13, 14.0, false, 1.0),
        (16, 42.0, false, 0.0),
        (16, 43.0, false, 1.0),
        (16, 20.0, true, 1.0),
    ] {
        w.age = age;
        w.actual_hours_7d = hours;
        w.hazardous_work = hazardous;
        assert_eq!(
            t(&w, Indicator::ChildLabour),
            Some((expected, 1.0)),
            "age {age} h {hours}"
        );
    }
    // Boundaries: > 48 h is excessive, 48 is not; overtime > 40 h/month.
    let mut w = plain_worker(Sex::Female);
    w.usual_hours = 48.0;
    assert_eq!(t(&w, Indicator::ExcessiveHours), Some((0.0, 1.0)));
    w.other_job_hours = 1.0;
    assert_eq!(t(&w, Indicator::ExcessiveHours), Some((1.0, 1.0)));
    w.overtime_hours_month = 40.0;
    assert_eq!(t(&w, Indicator::OvertimeAboveLimit), Some((0.0, 1.0)));
    w.overtime_hours_month = 41.0;
    assert_eq!(t(&w, Indicator::OvertimeAboveLimit), Some((1.0, 1.0)));
    // Employers are outside the employee indicators but inside employment and sector.
    let mut w = plain_worker(Sex::Male);
    w.status_in_employment = Status::Employer;
    assert_eq!(t(&w, Indicator::UnionDensity), None);
    assert_eq!(t(&w, Indicator::InformalSector), Some((1.0, 1.0)));
}

#[test]
fn truth_tables_add_up_and_match_a_direct_count() {
    let pop = &*SMALL;
    let truth = &*SMALL_TRUTH;
    assert_eq!(truth.workers, pop.workers_total());
    let overall = |ind: Indicator| truth.overall(ind).expect("overall row");
    assert_eq!(
        overall(Indicator::Employment).numerator,
        pop.workers_total() as f64
    );
    let females: u64 = pop.frame.units.iter().map(|u| u.employees_female).sum();
    let by_sex = truth
        .rows
        .iter()
        .find(|r| {
            r.table == "sex" && r.sex == "female" && r.indicator == Indicator::Employment.code()
        })
        .expect("female employment");
    assert_eq!(by_sex.numerator, females as f64);
    assert!((truth.low_pay_threshold - truth.median_hourly_earnings * 2.0 / 3.0).abs() < 1e-9);

    // Every margin adds up to the overall numerator and denominator.
    for ind in Indicator::ALL {
        if ind.kind() == chainsurvey::synth::indicators::Kind::Gap {
            continue;
        }
        let o = overall(ind);
        for table in [
            "tier",
            "sex",
            "age_group",
            "province_group",
            "ownership",
            "tier_sex",
        ] {
            let rows: Vec<_> = truth
                .rows
                .iter()
                .filter(|r| r.table == table && r.indicator == ind.code())
                .collect();
            let num: f64 = rows.iter().map(|r| r.numerator).sum();
            let den: f64 = rows.iter().map(|r| r.denominator.unwrap_or(0.0)).sum();
            assert!(
                (num - o.numerator).abs() <= 1e-6 * o.numerator.abs().max(1.0),
                "{} {table}",
                ind.code()
            );
            assert!(
                (den - o.denominator.unwrap_or(0.0)).abs() < 1e-6,
                "{} {table}",
                ind.code()
            );
        }
    }

    // An independent count over the workers for a few indicators.
    let (mut excessive, mut employees, mut union, mut low, mut hourly_n) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    for unit in 0..pop.frame.units.len() {
        for w in workers_of(pop, unit) {
            if w.usual_hours + w.other_job_hours > 48.0 {
                excessive += 1.0;
            }
            if w.status_in_employment == Status::Employee {
                employees += 1.0;
                union += w.union_member as u8 as f64;
                let e = w.earn_basic + w.earn_overtime + w.earn_allowances + w.earn_bonus;
                if e > 0.0 && w.usual_hours > 0.0 {
                    hourly_n += 1.0;
                    if e * 1000.0 / (w.usual_hours * 52.0 / 12.0) < truth.low_pay_threshold {
                        low += 1.0;
                    }
                }
            }
        }
    }
    assert_eq!(overall(Indicator::ExcessiveHours).numerator, excessive);
    assert_eq!(overall(Indicator::UnionDensity).numerator, union);
    assert_eq!(
        overall(Indicator::UnionDensity).denominator,
        Some(employees)
    );
    assert_eq!(overall(Indicator::LowPay).numerator, low);
    assert_eq!(overall(Indicator::LowPay).denominator, Some(hourly_n));
    // Gaps exist overall and by tier, not by sex.
    assert!(overall(Indicator::GenderPayGapMean).value.is_finite());
    assert!(
        truth
            .rows
            .iter()
            .all(|r| !(r.table == "sex" && r.indicator.starts_with("dw15")))
    );
}

#[test]
fn worker_answers_use_the_questionnaire_names_and_codes() {
    let pop = &*SMALL;
    let w = workers_of(pop, 0).next().expect("a worker");
    let a = w.answers();
    assert_eq!(a.get("sex").and_then(|v| v.as_str()), Some(w.sex.code()));
    assert_eq!(
        a.get("usual_hours").and_then(|v| v.as_f64()),
        Some(w.usual_hours)
    );
    for name in [
        "contract_type",
        "si_paid",
        "earn_basic",
        "fl_cannot_leave",
        "union_member",
    ] {
        assert!(a.contains_key(name), "{name} missing");
    }
    // Worker records carry the variable codes the indicators expect.
    assert!(matches!(
        a.get("status_in_employment").and_then(|v| v.as_str()),
        Some("1" | "2" | "3" | "4")
    ));
}

/// §7 calibration checks at scale 1: every check of the frame passes; the worker-level
/// share above 48 h is checked on a systematic 1-in-100 subsample of workers (regenerated
/// alone), which keeps the test fast in debug builds.
#[test]
fn calibration_checks_pass_at_full_scale() {
    let pop = synth::generate(&SynthConfig::vn_electronics(), 1.0, 3).expect("generate 1.0");
    // The truth is not needed for the frame checks; an empty truth skips the worker check.
    let empty = PopulationTruth {
        seed: pop.seed,
        scale: pop.scale,
        config: String::new(),
        workers: 0,
        employees_with_hourly_earnings: 0,
        median_hourly_earnings: f64::NAN,
        low_pay_threshold: f64::NAN,
        rows: Vec::new(),
    };
    let checks = synth::calibration_checks(&pop, &empty);
    let failed: Vec<_> = checks.iter().filter(|c| c.pass == Some(false)).collect();
    assert!(failed.is_empty(), "failed: {failed:#?}");
    assert!(checks.iter().filter(|c| c.pass == Some(true)).count() >= 20);
    let total = checks
        .iter()
        .find(|c| c.name == "total employment")
        .expect("total");
    assert!((1_100_000.0..=1_300_000.0).contains(&total.value));

    let (mut over, mut n) = (0u64, 0u64);
    for unit in 0..pop.frame.units.len() {
        let m = pop.frame.units[unit].employees();
        let mut k = (unit as u64 * 7) % 100;
        while k < m {
            let w = worker(&pop, unit, k).expect("worker");
            over += (w.usual_hours + w.other_job_hours > 48.0) as u64;
            n += 1;
            k += 100;
        }
    }
    let share = over as f64 / n as f64;
    assert!(
        (0.45..=0.55).contains(&share),
        "share > 48 h = {share} over {n}"
    );
}

#[test]
fn cli_writes_the_frame_truth_and_calibration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["frame", "synth", "--scale", "0.02", "--seed", "5", "--out"])
        .arg(dir.path())
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("calibration check") && stdout.contains("female share"),
        "{stdout}"
    );
    for f in [
        "units.csv",
        "links.csv",
        "tier0.txt",
        "truth.csv",
        "truth.json",
        "calibration.csv",
        "config.json",
        "synth.json",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("synth.json")).expect("synth.json"),
    )
    .expect("json");
    assert_eq!(meta["seed"], 5);
    assert_eq!(meta["config_sha256"].as_str().map(str::len), Some(64));
    // The frame CSVs re-import through the frame module without errors.
    let frame = read_frame(
        &dir.path().join("units.csv"),
        Some(&dir.path().join("links.csv")),
        10,
    )
    .expect("re-import");
    let pop = synth::generate(&SynthConfig::vn_electronics(), 0.02, 5).expect("same population");
    assert_eq!(frame.units.len(), pop.frame.units.len());
    assert_eq!(frame.links.len(), pop.frame.links.len());
    assert_eq!(
        frame.attributes().column("tier").map(|c| c.len()),
        Some(frame.units.len())
    );

    // `frame show` reads the frame with the lead-firm list as tier 0.
    let show = std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["frame", "show", "--units"])
        .arg(dir.path().join("units.csv"))
        .arg("--links")
        .arg(dir.path().join("links.csv"))
        .arg("--tier0-ids")
        .arg(dir.path().join("tier0.txt"))
        .output()
        .expect("run show");
    assert!(
        show.status.success(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );

    // A bad config file is reported with its path, nothing is written.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, edited("\"sigma\": 0.80", "\"sigma\": 0.0")).expect("write");
    let out2 = dir.path().join("out2");
    let res = std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["frame", "synth", "--config"])
        .arg(&bad)
        .arg("--out")
        .arg(&out2)
        .output()
        .expect("run");
    assert!(!res.status.success());
    assert!(String::from_utf8_lossy(&res.stderr).contains("strata[9].sigma"));
    assert!(!out2.exists());
}

/// Worker-level rates of each workforce class match the configured §7.5 means (the firm
/// effects are centred on them), within 4 standard errors plus half a point.
#[test]
fn worker_rates_follow_the_class_parameters() {
    let pop = &*SMALL;
    let config = &pop.config;
    // Per class: [written contract, > 48 h (main job), union, injury, men below minimum]
    // as (hits, trials).
    let mut counts = vec![[(0u64, 0u64); 5]; config.classes.len()];
    for unit in 0..pop.frame.units.len() {
        let class = pop.units[unit].class;
        let mw = pop.minimum_wage(unit);
        for w in workers_of(pop, unit) {
            let c = &mut counts[class];
            c[1].0 += (w.usual_hours > 48.0) as u64;
            c[1].1 += 1;
            c[3].0 += w.injury_12m as u64;
            c[3].1 += 1;
            if w.status_in_employment != Status::Employee {
                continue;
            }
            c[0].0 += w.contract_type.is_some_and(|t| t.is_written()) as u64;
            c[0].1 += 1;
            c[2].0 += w.union_member as u64;
            c[2].1 += 1;
            if w.sex == Sex::Male {
                c[4].0 += (w.earn_basic < mw) as u64;
                c[4].1 += 1;
            }
        }
    }
    let mut checked = 0;
    for (k, class) in config.classes.iter().enumerate() {
        let want = [
            class.written_contract,
            class.over_48h,
            class.union_member,
            class.injury_12m,
            class.below_minimum_wage,
        ];
        for (j, (hits, n)) in counts[k].iter().enumerate() {
            if *n < 2000 {
                continue;
            }
            let got = *hits as f64 / *n as f64;
            let se = (want[j] * (1.0 - want[j]) / *n as f64).sqrt();
            assert!(
                (got - want[j]).abs() <= 4.0 * se + 0.005,
                "class {} item {j}: {got} vs {} (n = {n})",
                class.id,
                want[j]
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} class rates checked");
}

/// Golden values for seed 1, scale 0.05: a change here means the generator (or the pinned
/// `rand`/ChaCha20 stream) changed, and every stored synthetic population with it.
#[test]
fn golden_values_for_seed_1_are_frozen() {
    let pop = &*SMALL;
    assert_eq!((pop.frame.units.len(), pop.frame.links.len()), (141, 356));
    assert_eq!(pop.workers_total(), 41_115);
    let u = &pop.frame.units[0];
    assert_eq!(u.tax_code.as_deref(), Some("2408224659"));
    assert_eq!(
        (u.vsic.as_str(), u.employees_male, u.employees_female),
        ("2640", 2828, 4742)
    );
    let l = pop.frame.links[0];
    assert_eq!((l.buyer, l.supplier, l.weight), (0, 3, Some(0.0343)));
    let w = worker(pop, 0, 0).expect("worker");
    assert_eq!(
        (w.age, w.usual_hours, w.earn_basic, w.earn_total()),
        (30, 54.0, 5955.0, 7740.0)
    );
}
