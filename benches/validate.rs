//! Validation throughput: 100,000 generated worker submissions validated on one core.
//!
//! Run with `cargo bench --bench validate` (a release build). The questionnaire is
//! `questionnaires/worker.json`, compiled once. Submissions are generated from the worker
//! example submissions in `tests/data/examples/dwscs-worker/` (valid and invalid ones) by
//! perturbing their numeric answers with a seeded ChaCha20 generator and, for one in ten,
//! injecting a structural error (a wrong type, an unknown field, an out-of-list choice), so
//! the mix holds clean submissions, rule warnings and errors.
//!
//! Printed figures, all measured in the same run on the same submissions:
//! - the baseline: `serde_json` parsing of the submission texts alone;
//! - the engine's answers reader (`parse_answers_str`, which also rejects duplicate keys);
//! - parse + validate (what the server does per submission);
//! - the ratio between the two, and validation alone (the difference).
//!
//! Times are the CPU time of the benchmark thread (`/proc/thread-self/schedstat`) where
//! Linux provides it, because the machine is shared: time spent waiting for a core is not
//! work. Elsewhere they fall back to wall-clock time.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chainsurvey::questionnaire::expr::Date;
use chainsurvey::questionnaire::{Questionnaire, compile, parse_answers_str, validate_on};
use rand::rngs::ChaCha20Rng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// The number of submissions; `CHAINSURVEY_BENCH_SUBMISSIONS` overrides it (for profiling).
const SUBMISSIONS: usize = 100_000;
const SEED: u64 = 20_261_122;

fn main() {
    let submission_count: usize = std::env::var("CHAINSURVEY_BENCH_SUBMISSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SUBMISSIONS);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (definition_path, templates) = load_inputs(&root);
    let text = std::fs::read(&definition_path).expect("read the questionnaire");
    let questionnaire = Questionnaire::parse_bytes(&text).expect("the questionnaire parses");
    let compile_start = Instant::now();
    let compiled = compile(&questionnaire).expect("the questionnaire lints clean");
    let compile_time = compile_start.elapsed();

    // Four in five submissions start from a valid example, one in five from an invalid one.
    let mut rng = ChaCha20Rng::seed_from_u64(SEED);
    let submissions: Vec<String> = (0..submission_count)
        .map(|_| {
            let pool = if uniform(&mut rng) < 0.8 || templates.invalid.is_empty() {
                &templates.valid
            } else {
                &templates.invalid
            };
            let template = &pool[(rng.next_u64() % pool.len() as u64) as usize];
            generate(template, &mut rng).to_string()
        })
        .collect();
    let bytes: usize = submissions.iter().map(String::len).sum();
    let today = Date::from_ymd(2026, 6, 1).expect("a date");

    // Warm up caches and the allocator once.
    for text in submissions.iter().take(1_000) {
        let answers: Value = serde_json::from_str(text).expect("generated JSON parses");
        black_box(validate_on(&compiled, &answers, "vi", today));
    }

    let parse_time = time(|| {
        for text in &submissions {
            let answers: Value = serde_json::from_str(text).expect("generated JSON parses");
            black_box(answers);
        }
    });
    // The engine's answers reader (what `questionnaire validate` uses): serde_json plus the
    // duplicate-key check in the same pass, so it should cost about the same as the baseline.
    let reader_time = time(|| {
        for text in &submissions {
            black_box(parse_answers_str(text).expect("generated JSON has unique keys"));
        }
    });
    let mut with_errors = 0usize;
    let mut with_warnings_only = 0usize;
    let mut codes: BTreeMap<&'static str, usize> = BTreeMap::new();
    let full_time = time(|| {
        for text in &submissions {
            let answers: Value = serde_json::from_str(text).expect("generated JSON parses");
            let report = validate_on(&compiled, &answers, "vi", today);
            if report.has_errors() {
                with_errors += 1;
            } else if !report.findings.is_empty() {
                with_warnings_only += 1;
            }
            for finding in &report.findings {
                *codes.entry(finding.code).or_default() += 1;
            }
            black_box(report);
        }
    });
    // The submissions without any finding, timed again on their own: the common case in the
    // field, where the client has already applied the same rules.
    let clean: Vec<&String> = submissions
        .iter()
        .filter(|text| {
            let answers: Value = serde_json::from_str(text).expect("generated JSON parses");
            validate_on(&compiled, &answers, "vi", today)
                .findings
                .is_empty()
        })
        .collect();
    let clean_parse_time = time(|| {
        for text in &clean {
            let answers: Value = serde_json::from_str(text).expect("generated JSON parses");
            black_box(answers);
        }
    });
    let clean_full_time = time(|| {
        for text in &clean {
            let answers: Value = serde_json::from_str(text).expect("generated JSON parses");
            black_box(validate_on(&compiled, &answers, "vi", today));
        }
    });
    let mut codes: Vec<(&str, usize)> = codes.into_iter().collect();
    codes.sort_by_key(|&(_, n)| std::cmp::Reverse(n));

    let per_second = |d: Duration| submission_count as f64 / d.as_secs_f64();
    println!(
        "timing: {} (one thread)",
        if thread_cpu_time().is_some() {
            "CPU time of the thread, from /proc/thread-self/schedstat"
        } else {
            "wall-clock time"
        }
    );
    println!(
        "questionnaire: {} ({} items), compiled once in {:.2} ms",
        definition_path.display(),
        questionnaire.all_items().len(),
        compile_time.as_secs_f64() * 1e3
    );
    println!(
        "submissions: {submission_count} from {} valid and {} invalid templates (seed {SEED}), {:.0} \
         bytes each on average; {with_errors} with errors, {with_warnings_only} with warnings only",
        templates.valid.len(),
        templates.invalid.len(),
        bytes as f64 / submission_count as f64
    );
    let shown: Vec<String> = codes
        .iter()
        .take(8)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    println!("most frequent findings: {}", shown.join(", "));
    println!(
        "baseline serde_json parse only: {:>10.0} submissions/s ({:.2} µs each)",
        per_second(parse_time),
        parse_time.as_secs_f64() * 1e6 / submission_count as f64
    );
    println!(
        "answers reader (duplicate keys): {:>10.0} submissions/s ({:.2}× the baseline's time)",
        per_second(reader_time),
        reader_time.as_secs_f64() / parse_time.as_secs_f64()
    );
    println!(
        "parse + validate (one core):    {:>10.0} submissions/s ({:.2} µs each)",
        per_second(full_time),
        full_time.as_secs_f64() * 1e6 / submission_count as f64
    );
    let validate_only = full_time.saturating_sub(parse_time);
    println!(
        "validation alone:               {:>10.0} submissions/s ({:.2} µs each)",
        per_second(validate_only),
        validate_only.as_secs_f64() * 1e6 / submission_count as f64
    );
    println!(
        "ratio (parse + validate) / parse: {:.2}×; target ≥ 50,000 submissions/s: {}",
        full_time.as_secs_f64() / parse_time.as_secs_f64(),
        if per_second(full_time) >= 50_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    let clean_rate = |d: Duration| clean.len() as f64 / d.as_secs_f64();
    println!(
        "clean submissions only ({}): parse {:.0}/s, parse + validate {:.0}/s, ratio {:.2}×",
        clean.len(),
        clean_rate(clean_parse_time),
        clean_rate(clean_full_time),
        clean_full_time.as_secs_f64() / clean_parse_time.as_secs_f64()
    );
}

/// The CPU time this thread has run, from `/proc/thread-self/schedstat` (nanoseconds on
/// the CPU), or `None` where that file does not exist.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Times `f` on this thread's CPU clock when available: the machine is shared, and waiting
/// for a core is not validation work. Falls back to wall-clock time.
fn time(mut f: impl FnMut()) -> Duration {
    let cpu_start = thread_cpu_time();
    let start = Instant::now();
    f();
    let wall = start.elapsed();
    match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    }
}

/// Example submissions to generate from.
struct Templates {
    valid: Vec<Value>,
    invalid: Vec<Value>,
}

/// The worker questionnaire and its example submissions, or the test fixture when the
/// shipped files are not there.
fn load_inputs(root: &Path) -> (PathBuf, Templates) {
    let worker = root.join("questionnaires/worker.json");
    let examples = root.join("tests/data/examples/dwscs-worker");
    let mut templates = Templates {
        valid: Vec::new(),
        invalid: Vec::new(),
    };
    for sub in ["valid", "invalid"] {
        let Ok(entries) = std::fs::read_dir(examples.join(sub)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".json") || name.ends_with(".expect.json") {
                continue;
            }
            if let Some(value) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .filter(Value::is_object)
            {
                if sub == "valid" {
                    templates.valid.push(value);
                } else {
                    templates.invalid.push(value);
                }
            }
        }
    }
    if worker.exists() && !templates.valid.is_empty() {
        return (worker, templates);
    }
    let fixture = root.join("tests/data/questionnaire/clean.json");
    let answers = std::fs::read_to_string(root.join("tests/data/questionnaire/clean_answers.json"))
        .expect("read the fixture answers");
    let answers: Value = serde_json::from_str(&answers).expect("fixture answers parse");
    (
        fixture,
        Templates {
            valid: vec![answers],
            invalid: Vec::new(),
        },
    )
}

fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// One submission: the template with its earnings and hours scaled by 0.8–1.2 (integers
/// stay integers) and, one time in ten, one structural error.
fn generate(template: &Value, rng: &mut ChaCha20Rng) -> Value {
    let mut answers = template.clone();
    let Some(map) = answers.as_object_mut() else {
        return answers;
    };
    for (key, value) in map.iter_mut() {
        // Amounts and hours vary between workers; ages, years and counts are kept so that
        // the skip pattern of the template stays the same.
        let varies = key.starts_with("earn_") || key.contains("hours");
        if let Value::Number(n) = value
            && varies
            && uniform(rng) < 0.7
        {
            let factor = 0.8 + 0.4 * uniform(rng);
            *value = match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Value::from((i as f64 * factor).round() as i64),
                (None, Some(x)) => Value::from((x * factor * 10.0).round() / 10.0),
                _ => value.clone(),
            };
        }
    }
    let keys: Vec<String> = map.keys().cloned().collect();
    if uniform(rng) < 0.1 && !keys.is_empty() {
        let key = &keys[(rng.next_u64() % keys.len() as u64) as usize];
        match rng.next_u64() % 3 {
            0 => {
                map.insert(key.clone(), Value::from("not a valid answer"));
            }
            1 => {
                map.insert(format!("{key}_typo"), Value::from(1));
            }
            _ => {
                map.insert(key.clone(), Value::from("99"));
            }
        }
    }
    answers
}
