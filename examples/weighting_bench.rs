//! Speed of the weighting chain and of the data-driven indicators, as ratios against
//! baselines measured in the same run. Run with:
//!
//! ```text
//! cargo run --release --example weighting_bench
//! ```
//!
//! 1. GWSM replicate route: re-applying a compiled `ShareOperator` per replicate versus the
//!    baseline of rebuilding the link table and the operator for every replicate.
//! 2. Indicators: `prepare` + `point_estimate` of the excessive-hours proportion from the
//!    catalog expression, versus a hand-written loop over the same rows.

use std::time::Instant;

use chainsurvey::estimate::indicators::catalog::Catalog;
use chainsurvey::estimate::indicators::date::CivilDate;
use chainsurvey::estimate::indicators::derived::{DerivationSettings, derive};
use chainsurvey::estimate::indicators::evaluate::{parameter_values, point_estimate, prepare};
use chainsurvey::estimate::indicators::legal::LegalParameters;
use chainsurvey::estimate::indicators::record::{Records, Schema, Value};
use chainsurvey::estimate::indicators::survey::KNOWN_COLUMNS;
use chainsurvey::weighting::links::{DuplicateLinks, LinkInput, LinkScale, LinkTable};
use chainsurvey::weighting::share::{FrameWeight, ShareMode, ShareOperator, share};
use rand::rngs::ChaCha20Rng;
use rand::{Rng, SeedableRng};

fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    ((uniform(rng) * n as f64) as usize).min(n - 1)
}

fn main() {
    let seed = 2026;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);

    // 1. GWSM.
    let (n_frame, n_clusters, n_links, n_sample, n_replicates) =
        (20_000, 80_000, 1_000_000, 2_000, 50);
    let mut cluster_of = Vec::new();
    for cluster in 0..n_clusters {
        for _ in 0..1 + below(&mut rng, 3) {
            cluster_of.push(cluster);
        }
    }
    let mut seen = std::collections::HashSet::with_capacity(n_links);
    let mut links = Vec::with_capacity(n_links);
    while links.len() < n_links {
        let (j, k) = (below(&mut rng, n_frame), below(&mut rng, cluster_of.len()));
        if seen.insert((j, k)) {
            links.push(LinkInput {
                frame_unit: j,
                target_unit: k,
                importance: None,
            });
        }
    }
    let mut units: Vec<usize> = (0..n_frame).collect();
    for i in 0..n_sample {
        let j = i + below(&mut rng, n_frame - i);
        units.swap(i, j);
    }
    let sample: Vec<FrameWeight> = units[..n_sample]
        .iter()
        .map(|&frame_unit| FrameWeight {
            frame_unit,
            weight: n_frame as f64 / n_sample as f64,
        })
        .collect();
    let build = || {
        let table = LinkTable::new(
            n_frame,
            cluster_of.clone(),
            &links,
            LinkScale::Count,
            DuplicateLinks::Refuse,
        )
        .expect("links");
        ShareOperator::compile(&table, ShareMode::Clustered).expect("compile")
    };
    let start = Instant::now();
    let operator = build();
    let build_time = start.elapsed().as_secs_f64();
    let replicate = |r: usize| -> Vec<FrameWeight> {
        let factor = n_sample as f64 / (n_sample as f64 - 1.0);
        sample
            .iter()
            .enumerate()
            .map(|(i, fw)| FrameWeight {
                frame_unit: fw.frame_unit,
                weight: if i == r { 0.0 } else { fw.weight * factor },
            })
            .collect()
    };
    let start = Instant::now();
    let mut checksum = 0.0;
    for r in 0..n_replicates {
        checksum += share(&operator, &replicate(r), None)
            .expect("share")
            .unit_weight
            .iter()
            .sum::<f64>();
    }
    let reuse = start.elapsed().as_secs_f64() / n_replicates as f64;
    let baseline_reps = 5;
    let start = Instant::now();
    for r in 0..baseline_reps {
        let rebuilt = build();
        checksum -= share(&rebuilt, &replicate(r), None)
            .expect("share")
            .unit_weight
            .iter()
            .sum::<f64>();
    }
    let rebuild = start.elapsed().as_secs_f64() / baseline_reps as f64;
    println!(
        "GWSM ({n_frame} frame units, {} target units, {n_links} links, sample {n_sample}, seed {seed}):",
        cluster_of.len()
    );
    println!("  build link table + compile operator: {:.3} s", build_time);
    println!(
        "  per replicate: compiled operator {:.3} ms vs rebuild-per-replicate baseline {:.3} ms -> {:.0}x faster",
        reuse * 1e3,
        rebuild * 1e3,
        rebuild / reuse
    );
    println!("  (checksum {checksum:.3})");

    // 2. Indicators on 200,000 worker rows (row-major records: ~2.4 KB per row with every VARIABLES.md column).
    let n_rows = 200_000;
    let names: Vec<String> = KNOWN_COLUMNS.iter().map(|s| s.to_string()).collect();
    let schema = Schema::new(&names);
    let col = |name: &str| schema.get(name).expect("known column");
    let (c_status, c_hours, c_other, c_sex, c_age, c_basic, c_region, c_pay) = (
        col("status_in_employment"),
        col("usual_hours"),
        col("other_job_hours"),
        col("sex"),
        col("age"),
        col("earn_basic"),
        col("mw_region"),
        col("pay_form"),
    );
    let mut rows = Vec::with_capacity(n_rows);
    let mut weights = Vec::with_capacity(n_rows);
    for _ in 0..n_rows {
        let mut row = vec![Value::Missing; schema.len()];
        row[c_status] = Value::Text("1".into());
        row[c_pay] = Value::Text("1".into());
        row[c_hours] = Value::Number((35.0 + 30.0 * uniform(&mut rng)).round());
        row[c_other] = Value::Number(0.0);
        row[c_sex] = Value::Text(if uniform(&mut rng) < 0.6 {
            "2".into()
        } else {
            "1".into()
        });
        row[c_age] = Value::Number((18.0 + 40.0 * uniform(&mut rng)).round());
        row[c_basic] = Value::Number((4000.0 + 6000.0 * uniform(&mut rng)).round());
        row[c_region] = Value::Text(["I", "II", "III", "IV"][below(&mut rng, 4)].into());
        rows.push(row);
        weights.push(10.0 + 90.0 * uniform(&mut rng));
    }
    let mut records = Records::from_rows(schema, &rows).expect("rows fit the schema");
    drop(rows);
    let legal = LegalParameters::vietnam().expect("legal");
    let settings = DerivationSettings {
        reference_date: CivilDate::new(2025, 6, 30).expect("date"),
        overtime_300h_regime: true,
    };
    let start = Instant::now();
    derive(&mut records, &legal, &settings).expect("derive");
    let derive_time = start.elapsed().as_secs_f64();
    let catalog = Catalog::dwscs(&records.schema).expect("catalog");
    let start = Instant::now();
    let prepared = prepare(&catalog, &records);
    let prepare_time = start.elapsed().as_secs_f64();
    let idx = catalog
        .indicators
        .iter()
        .position(|i| i.id == "excessive_hours")
        .expect("indicator");
    let all = vec![true; n_rows];
    let start = Instant::now();
    let params = parameter_values(&prepared, &weights);
    let mut catalog_value = 0.0;
    for _ in 0..10 {
        catalog_value = point_estimate(&catalog, &prepared, idx, &records, &weights, &params, &all)
            .expect("estimate");
    }
    let catalog_time = start.elapsed().as_secs_f64() / 10.0;
    let start = Instant::now();
    let mut direct_value = 0.0;
    for _ in 0..10 {
        let (mut num, mut den) = (0.0, 0.0);
        let hours = records.column(c_hours).expect("usual_hours");
        let other = records.column(c_other).expect("other_job_hours");
        for (k, w) in weights.iter().enumerate() {
            if let Some(h) = hours.value(k).as_number() {
                let total = h + other.value(k).as_number().unwrap_or(0.0);
                den += w;
                if total > 48.0 {
                    num += w;
                }
            }
        }
        direct_value = num / den;
    }
    let direct_time = start.elapsed().as_secs_f64() / 10.0;
    assert!(
        (catalog_value - direct_value).abs() < 1e-9,
        "{catalog_value} vs {direct_value}"
    );
    println!(
        "Indicators ({n_rows} worker rows, {} catalog entries):",
        catalog.indicators.len()
    );
    println!(
        "  derive (legal lookups, flags): {derive_time:.2} s; prepare every catalog expression once: {prepare_time:.2} s"
    );
    println!(
        "  one weight set, excessive hours: catalog {:.2} ms vs hand-written loop {:.2} ms -> ratio {:.2}",
        catalog_time * 1e3,
        direct_time * 1e3,
        catalog_time / direct_time
    );
}
