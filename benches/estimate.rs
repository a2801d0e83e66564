//! Speed of the estimation engine against R `survey` on the same file, in the same run.
//!
//! `cargo bench --bench estimate` (release). Generates a 1,000,000-row worker file (200 strata,
//! 5,000 PSUs; `CHAINSURVEY_BENCH_ROWS` overrides the row count, keeping 200 rows per PSU),
//! writes it as CSV, times four operations in Rust, then runs `benches/r/bench.R` on the same
//! CSV when `Rscript` is on the PATH and prints both timings, the ratio and the largest
//! relative difference of the estimates and SEs:
//!
//! 1. design set-up + 6 indicator-style means;
//! 2. the same 6 means by tier × sex (8 domains);
//! 3. raking to 3 margins (tier, sex, age group) + 6 means with raking-aware SEs;
//! 4. 200 bootstrap replicates + 6 means (random in both, so only the point estimates must
//!    agree; the SE ratio is printed).
//!
//! Timings exclude reading the CSV in both languages (printed separately). Rust figures are
//! the median of three runs; R runs once. `CHAINSURVEY_BENCH_SKIP_R=1` skips R.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use chainsurvey::estimate::spec::{EstimateSpec, parse_design, parse_estimates};
use chainsurvey::estimate::{AnalysisRow, Design, Table, analyze};
use rand::rngs::ChaCha20Rng;
use rand::{Rng, SeedableRng};

const VARIABLES: [&str; 6] = [
    "hours",
    "earnings",
    "low_pay",
    "excessive",
    "social_ins",
    "union",
];
const STRATA: usize = 200;
const ROWS_PER_PSU: usize = 200;
const SEED: u64 = 20_261_122;

fn main() {
    let rows: usize = std::env::var("CHAINSURVEY_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-estimate");
    std::fs::create_dir_all(&dir).expect("create bench directory");
    let csv_path = dir.join("workers.csv");
    let margins_path = dir.join("margins.json");
    println!("generating {rows} rows (seed {SEED}) …");
    let (csv, margins) = generate(rows);
    std::fs::write(&csv_path, &csv).expect("write CSV");
    std::fs::write(&margins_path, margins_json(&margins)).expect("write margins");

    let start = Instant::now();
    let table = Table::from_csv(csv.as_bytes()).expect("parse CSV");
    let read_seconds = start.elapsed().as_secs_f64();
    drop(csv);

    let base = r#"{"weights":"w","ids":["psu"],"strata":"stratum"}"#;
    let rake = format!(
        r#"{{"weights":"w","ids":["psu"],"strata":"stratum","calibration":{{"method":"rake","margins":["tier","sex","agegrp"],"population":[{},{},{}],"epsilon":1e-13,"maxit":200}}}}"#,
        margins.tier, margins.sex, margins.agegrp
    );
    let boot = r#"{"weights":"w","ids":["psu"],"strata":"stratum","replicates":{"type":"bootstrap","replicates":200,"seed":1}}"#;
    let means = estimates(&format!(
        r#"{{"type":"mean","variables":{}}}"#,
        variables_json()
    ));
    let domain_means = estimates(&format!(
        r#"{{"type":"mean","variables":{},"by":["tier","sex"]}}"#,
        variables_json()
    ));

    let ours = [
        ("setup_means", run(&table, base, &means)),
        ("domain_means", run_prebuilt(&table, base, &domain_means)),
        ("rake_means", run(&table, &rake, &means)),
        ("bootstrap", run(&table, boot, &means)),
    ];

    println!(
        "\nRust: CSV read {read_seconds:.3} s ({} rows)",
        table.rows()
    );
    let r = if std::env::var_os("CHAINSURVEY_BENCH_SKIP_R").is_some() {
        None
    } else {
        run_r(&csv_path, &margins_path, &dir)
    };
    println!(
        "\n{:<14} {:>10} {:>10} {:>9}  agreement with R (max relative difference)",
        "operation", "Rust s", "R s", "R/Rust"
    );
    for (name, (seconds, rows)) in &ours {
        let (r_seconds, agreement) = match &r {
            Some(doc) => {
                let r_seconds = doc[*name]["seconds"].as_f64().unwrap_or(f64::NAN);
                (r_seconds, compare(name, rows, &doc[*name]["rows"]))
            }
            None => (f64::NAN, "R not run".to_string()),
        };
        println!(
            "{name:<14} {seconds:>10.4} {r_seconds:>10.3} {:>8.1}×  {agreement}",
            r_seconds / seconds
        );
    }
    if let Some(doc) = &r {
        println!(
            "\nR survey {} read the CSV in {:.2} s (not included above).",
            doc["survey_version"].as_str().unwrap_or("?"),
            doc["read_csv_seconds"].as_f64().unwrap_or(f64::NAN)
        );
    }
}

/// Median-of-three time (seconds) of design set-up + the estimates, and the last result.
fn run(table: &Table, design_json: &str, estimates: &[EstimateSpec]) -> (f64, Vec<AnalysisRow>) {
    let spec = parse_design(design_json).expect("design spec");
    let mut times = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let design = Design::build(table, &spec).expect("design");
        rows = estimates
            .iter()
            .flat_map(|e| analyze(table, &design, e).expect("estimate"))
            .collect();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[1], rows)
}

/// As [`run`] but with the design built outside the timing (R's svyby is timed the same way).
fn run_prebuilt(
    table: &Table,
    design_json: &str,
    estimates: &[EstimateSpec],
) -> (f64, Vec<AnalysisRow>) {
    let design =
        Design::build(table, &parse_design(design_json).expect("design spec")).expect("design");
    let mut times = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        rows = estimates
            .iter()
            .flat_map(|e| analyze(table, &design, e).expect("estimate"))
            .collect();
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    (times[1], rows)
}

fn estimates(json: &str) -> Vec<EstimateSpec> {
    parse_estimates(json).expect("estimate spec")
}

fn variables_json() -> String {
    serde_json::to_string(&VARIABLES).unwrap_or_default()
}

/// Largest relative difference of estimate and SE against R's rows (bootstrap: estimates only,
/// and the range of the SE ratios).
fn compare(name: &str, ours: &[AnalysisRow], theirs: &serde_json::Value) -> String {
    let Some(theirs) = theirs.as_array() else {
        return "no R rows".into();
    };
    let mut max_estimate: f64 = 0.0;
    let mut max_se: f64 = 0.0;
    let mut se_ratio = (f64::INFINITY, 0.0f64);
    let mut matched = 0;
    for t in theirs {
        let domain = t["domain"].as_str().unwrap_or("");
        let Some(o) = ours
            .iter()
            .find(|o| o.name == t["name"].as_str().unwrap_or("") && o.domain == domain)
        else {
            continue;
        };
        matched += 1;
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
        let te = t["estimate"].as_f64().unwrap_or(f64::NAN);
        let ts = t["se"].as_f64().unwrap_or(f64::NAN);
        max_estimate = max_estimate.max(rel(o.estimate, te));
        max_se = max_se.max(rel(o.se, ts));
        let ratio = o.se / ts;
        se_ratio = (se_ratio.0.min(ratio), se_ratio.1.max(ratio));
    }
    if matched != theirs.len() || matched != ours.len() {
        return format!(
            "matched {matched} of {} R rows / {} ours",
            theirs.len(),
            ours.len()
        );
    }
    if name == "bootstrap" {
        format!(
            "estimates {max_estimate:.1e}; random replicates: SE ratio Rust/R {:.3}–{:.3}",
            se_ratio.0, se_ratio.1
        )
    } else {
        format!("estimates {max_estimate:.1e}, SEs {max_se:.1e} ({matched} rows)")
    }
}

fn run_r(csv: &Path, margins: &Path, dir: &Path) -> Option<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/r/bench.R");
    let out = dir.join("r.json");
    println!("running R survey (Rscript {}) …", script.display());
    let status = Command::new("Rscript")
        .env("LC_ALL", "C")
        .arg(&script)
        .arg(csv)
        .arg(margins)
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {
            let text = std::fs::read_to_string(&out).ok()?;
            serde_json::from_str(&text).ok()
        }
        Ok(s) => {
            println!("Rscript failed ({s}); R timings skipped");
            None
        }
        Err(e) => {
            println!("Rscript not available ({e}); R timings skipped");
            None
        }
    }
}

struct Margins {
    tier: String,
    sex: String,
    agegrp: String,
}

fn margins_json(m: &Margins) -> String {
    format!(
        r#"{{"tier":{},"sex":{},"agegrp":{}}}"#,
        m.tier, m.sex, m.agegrp
    )
}

/// A uniform in [0, 1) from raw bits (our own conversion; see DEPENDENCIES.md).
fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn normal(rng: &mut ChaCha20Rng) -> f64 {
    let u1 = uniform(rng).max(1e-300);
    let u2 = uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The worker file and raking margins (population = weighted sample counts, shifted by a few
/// percent so the raking has work to do).
fn generate(rows: usize) -> (String, Margins) {
    let mut rng = ChaCha20Rng::seed_from_u64(SEED);
    let psus = (rows / ROWS_PER_PSU).max(STRATA);
    let mut csv = String::with_capacity(rows * 64);
    csv.push_str(
        "stratum,psu,w,tier,sex,agegrp,hours,earnings,low_pay,excessive,social_ins,union\n",
    );
    let mut tier_w = [0.0; 4];
    let mut sex_w = [0.0; 2];
    let mut age_w = [0.0; 5];
    for psu in 0..psus {
        let stratum = psu % STRATA;
        let tier = (psu / STRATA) % 4;
        let firm_effect = 0.3 * normal(&mut rng);
        let base_weight = 20.0 + stratum as f64 * 0.5;
        for _ in 0..ROWS_PER_PSU {
            let w = (base_weight * (0.8 + 0.4 * uniform(&mut rng)) * 1e4).round() / 1e4;
            let sex = usize::from(uniform(&mut rng) < 0.45);
            let agegrp = (uniform(&mut rng) * 5.0) as usize;
            let hours = ((44.0 + 6.0 * normal(&mut rng) + 3.0 * tier as f64) * 10.0).round() / 10.0;
            let earnings = ((8.6 + firm_effect - 0.1 * sex as f64 + 0.4 * normal(&mut rng)).exp()
                * 100.0)
                .round()
                / 100.0;
            let low_pay = u8::from(earnings < 4000.0);
            let excessive = u8::from(hours > 48.0);
            let social_ins = u8::from(uniform(&mut rng) < 0.55 + firm_effect.clamp(-0.3, 0.3));
            let union = u8::from(uniform(&mut rng) < 0.25 + 0.05 * tier as f64);
            let sex_label = if sex == 1 { "M" } else { "F" };
            let _ = writeln!(
                csv,
                "{stratum},{psu},{w},{tier},{sex_label},a{agegrp},{hours},{earnings},{low_pay},{excessive},{social_ins},{union}"
            );
            tier_w[tier] += w;
            sex_w[sex] += w;
            age_w[agegrp] += w;
        }
    }
    // Every margin must add up to the same population total, or raking cannot converge.
    let grand_total = tier_w.iter().sum::<f64>().round();
    let table = |name: &str, labels: &[String], totals: &[f64], shift: f64| {
        let shifted: Vec<f64> = totals
            .iter()
            .enumerate()
            .map(|(i, t)| if i == 0 { t * (1.0 + shift) } else { *t })
            .collect();
        let sum: f64 = shifted.iter().sum();
        let mut counts: Vec<f64> = shifted
            .iter()
            .map(|t| (t * grand_total / sum).round())
            .collect();
        let last = counts.len() - 1;
        counts[last] = grand_total - counts[..last].iter().sum::<f64>();
        let cells: Vec<String> = labels
            .iter()
            .zip(&counts)
            .map(|(l, c)| format!(r#"{{"{name}":{l},"Freq":{c}}}"#))
            .collect();
        format!("[{}]", cells.join(","))
    };
    let tiers: Vec<String> = (0..4).map(|t| t.to_string()).collect();
    let sexes = vec!["\"F\"".to_string(), "\"M\"".to_string()];
    let ages: Vec<String> = (0..5).map(|a| format!("\"a{a}\"")).collect();
    let margins = Margins {
        tier: table("tier", &tiers, &tier_w, 0.04),
        sex: table("sex", &sexes, &sex_w, -0.03),
        agegrp: table("agegrp", &ages, &age_w, 0.05),
    };
    (csv, margins)
}
