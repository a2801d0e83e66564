//! Micro-benchmark of expression evaluation after resolution (the validator's hot path).
//!
//! Run with `cargo run --release --example expr_bench`. For each expression it prints the
//! time per evaluation and the ratio against a hand-written Rust closure computing the same
//! thing over the same answers, measured in the same run (the baseline), so the figures are
//! comparable across machines.

use std::hint::black_box;
use std::time::Instant;

use chainsurvey::questionnaire::expr::{self, Date, Scope, ValueRef, VarId};

/// One submission's answers, by slot.
struct Answers {
    age: f64,
    sex: &'static str,
    hours: f64,
    earnings: [f64; 4],
    tax: String,
    langs: Vec<String>,
}

const AGE: u32 = 0;
const SEX: u32 = 1;
const HOURS: u32 = 2;
const EARN: u32 = 3; // 3..=6
const TAX: u32 = 7;
const LANGS: u32 = 8;

impl Scope for Answers {
    fn value(&self, var: VarId) -> ValueRef<'_> {
        match var.0 {
            AGE => ValueRef::Number(self.age),
            SEX => ValueRef::Text(self.sex),
            HOURS => ValueRef::Number(self.hours),
            n @ EARN..=6 => ValueRef::Number(self.earnings[(n - EARN) as usize]),
            TAX => ValueRef::Text(&self.tax),
            LANGS => ValueRef::Multi(&self.langs),
            _ => ValueRef::Empty,
        }
    }

    fn dot(&self) -> ValueRef<'_> {
        ValueRef::Number(self.hours)
    }

    fn today(&self) -> Date {
        Date::EPOCH
    }
}

fn slot(name: &str) -> Option<VarId> {
    Some(VarId(match name {
        "age" => AGE,
        "sex" => SEX,
        "usual_hours" => HOURS,
        "earn_basic" => EARN,
        "earn_overtime" => EARN + 1,
        "earn_allowances" => EARN + 2,
        "earn_bonus" => EARN + 3,
        "tax_code" => TAX,
        "langs" => LANGS,
        _ => return None,
    }))
}

fn submissions() -> Vec<Answers> {
    // A deterministic spread of answers (no randomness needed for a timing loop).
    (0..1024u32)
        .map(|i| Answers {
            age: f64::from(12 + i % 80),
            sex: if i % 2 == 0 { "1" } else { "2" },
            hours: f64::from(20 + i % 70) + 0.5,
            earnings: [
                f64::from(5000 + i),
                f64::from(i % 900),
                300.0,
                f64::from(i % 7) * 100.0,
            ],
            tax: if i % 5 == 0 {
                format!("{:010}-001", 100_000_000 + i)
            } else {
                format!("{:010}", i)
            },
            langs: if i % 3 == 0 {
                vec!["vi".into()]
            } else {
                vec!["vi".into(), "en".into()]
            },
        })
        .collect()
}

/// Evaluations per measurement; the first command-line argument overrides it (a small
/// number is handy under `valgrind --tool=callgrind`).
fn iterations() -> usize {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000)
}

/// Nanoseconds per call of `f` over the submissions, round robin.
fn time(data: &[Answers], f: &dyn Fn(&Answers) -> f64) -> f64 {
    let iterations = iterations();
    let mut sink = 0.0;
    for answers in data.iter().take(64) {
        sink += f(answers); // Warm-up.
    }
    let start = Instant::now();
    for i in 0..iterations {
        sink += f(black_box(&data[i % data.len()]));
    }
    black_box(sink);
    start.elapsed().as_nanos() as f64 / iterations as f64
}

fn main() {
    let data = submissions();
    type Baseline = fn(&Answers) -> f64;
    let cases: Vec<(&str, Baseline)> = vec![
        ("${age} >= 15 and ${age} <= 99 and ${sex} = '2'", |a| {
            f64::from(u8::from(a.age >= 15.0 && a.age <= 99.0 && a.sex == "2"))
        }),
        (". >= 0 and . <= 112", |a| {
            f64::from(u8::from(a.hours >= 0.0 && a.hours <= 112.0))
        }),
        (
            "${earn_basic} + ${earn_overtime} + ${earn_allowances} + ${earn_bonus}",
            |a| a.earnings.iter().sum(),
        ),
        (
            "(${earn_basic} + ${earn_overtime} + ${earn_allowances} + ${earn_bonus}) * 1000 div (${usual_hours} * 52 div 12)",
            |a| a.earnings.iter().sum::<f64>() * 1000.0 / (a.hours * 52.0 / 12.0),
        ),
        (
            "selected(${langs}, 'en') and count-selected(${langs}) <= 3",
            |a| {
                f64::from(u8::from(
                    a.langs.iter().any(|l| l == "en") && a.langs.len() <= 3,
                ))
            },
        ),
        ("regex(${tax_code}, '^[0-9]{10}(-[0-9]{3})?$')", |a| {
            let t = a.tax.as_bytes();
            let ok = (t.len() == 10
                || (t.len() == 14 && t[10] == b'-' && t[11..].iter().all(u8::is_ascii_digit)))
                && t[..10].iter().all(u8::is_ascii_digit);
            f64::from(u8::from(ok))
        }),
        (
            "if(${age} < 15, 'child', if(${age} < 18, 'youth', 'adult'))",
            |a| {
                if a.age < 15.0 {
                    0.0
                } else if a.age < 18.0 {
                    1.0
                } else {
                    2.0
                }
            },
        ),
    ];
    println!(
        "expression evaluation after resolution, {} evaluations each (release build)",
        iterations()
    );
    println!(
        "{:>10} {:>10} {:>8}  expression",
        "ns/eval", "base ns", "ratio"
    );
    // An optional second argument runs only the case with that index (for profiling).
    let only: Option<usize> = std::env::args().nth(2).and_then(|a| a.parse().ok());
    for (index, (src, baseline)) in cases.into_iter().enumerate() {
        if only.is_some_and(|only| only != index) {
            continue;
        }
        let mut parsed = match expr::parse(src) {
            Ok(parsed) => parsed,
            Err(err) => {
                eprintln!("{src}: {err}");
                std::process::exit(1);
            }
        };
        if let Err(err) = parsed.resolve(&mut slot) {
            eprintln!("{src}: {err}");
            std::process::exit(1);
        }
        // Agreement first: the benchmark is meaningless if the two compute different things.
        for answers in &data {
            let value = expr::evaluate(&parsed, answers).ok().map(|v| match v {
                expr::Value::Text(t) => match t.as_str() {
                    "child" => 0.0,
                    "youth" => 1.0,
                    _ => 2.0,
                },
                other => other.to_number().unwrap_or(f64::NAN),
            });
            let want = baseline(answers);
            if value.is_none_or(|v| (v - want).abs() > 1e-9 * want.abs().max(1.0)) {
                eprintln!("{src}: evaluator gave {value:?}, baseline {want}");
                std::process::exit(1);
            }
        }
        let ns = time(&data, &|a| match expr::evaluate(&parsed, a) {
            Ok(expr::Value::Number(x)) => x,
            Ok(expr::Value::Bool(b)) => f64::from(u8::from(b)),
            Ok(other) => other.to_text().len() as f64,
            Err(_) => f64::NAN,
        });
        let base = time(&data, &baseline);
        println!(
            "{ns:>10.1} {base:>10.1} {:>7.1}x  {src}",
            ns / base.max(0.01)
        );
    }
}
