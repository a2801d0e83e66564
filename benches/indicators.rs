//! Benchmark of the decent-work indicators at survey-file scale: a synthetic worker file of
//! about 10⁶ rows (the embedded population at scale `IND_SCALE`, default 0.9, with the unit
//! columns `tier`, `mw_region`, `unit_type`, `registered` and `cba_in_force` merged on)
//! is read, derived and prepared, then every catalog indicator is estimated overall and by
//! tier × sex.
//!
//! Run: `cargo bench --bench indicators` (release). Prints seconds per stage, each as a
//! ratio to two baselines measured in the same run (one pass summing a column of 10⁶
//! values; one `csv` scan of the file counting fields), and peak RSS (VmHWM).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use chainsurvey::estimate::indicators::catalog::Catalog;
use chainsurvey::estimate::indicators::date::CivilDate;
use chainsurvey::estimate::indicators::derived::{DerivationSettings, derive};
use chainsurvey::estimate::indicators::evaluate::{
    domains, parameter_values, point_estimate, prepare,
};
use chainsurvey::estimate::indicators::legal::LegalParameters;
use chainsurvey::estimate::indicators::survey::{add_missing_known_columns, read_records};
use chainsurvey::synth::{self, SynthConfig};

fn vm_hwm_mib() -> f64 {
    let kib: Option<u64> = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        });
    kib.map_or(f64::NAN, |k| k as f64 / 1024.0)
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("indicators bench: {what}: {e}");
    std::process::exit(2)
}

/// The synthetic worker file with the unit columns merged onto each row.
fn worker_file(scale: f64, seed: u64) -> Vec<u8> {
    let pop = synth::generate(&SynthConfig::vn_electronics(), scale, seed)
        .unwrap_or_else(|e| fail("generate", e));
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail("tempdir", e));
    let path = dir.path().join("workers.csv");
    synth::write_workers_csv(&pop, &path).unwrap_or_else(|e| fail("write workers", e));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| fail("read workers", e));
    let suffix: std::collections::HashMap<&str, String> = pop
        .frame
        .units
        .iter()
        .zip(&pop.units)
        .map(|(unit, truth)| {
            let yn = |b: bool| if b { "1" } else { "2" };
            (
                unit.id.as_str(),
                format!(
                    ",{},{},{},{},{}",
                    truth.tier.unwrap_or(truth.design_tier),
                    truth.mw_region,
                    if unit.household_business { "5" } else { "2" },
                    yn(unit.registered),
                    yn(truth.cba_in_force),
                ),
            )
        })
        .collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_else(|| fail("workers.csv", "empty"));
    let _ = writeln!(
        out,
        "{header},tier,mw_region,unit_type,registered,cba_in_force"
    );
    for line in lines {
        let id = line.split(',').next().unwrap_or("");
        let tail = suffix
            .get(id)
            .unwrap_or_else(|| fail("workers.csv", format!("unknown unit {id}")));
        let _ = writeln!(out, "{line}{tail}");
    }
    out.into_bytes()
}

fn main() {
    let scale: f64 = std::env::var("IND_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.9);
    let bytes = worker_file(scale, 1);
    let hwm_file = vm_hwm_mib();

    // Baselines: a column sum, and a csv scan of the same bytes.
    let n_guess = bytes
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    let column: Vec<f64> = (0..n_guess).map(|k| 1.0 + (k % 7) as f64).collect();
    let t = Instant::now();
    let mut total = 0.0;
    for _ in 0..10 {
        total += black_box(&column).iter().sum::<f64>();
    }
    let t_sum = t.elapsed().as_secs_f64() / 10.0;
    black_box(total);
    let t = Instant::now();
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let mut fields = 0usize;
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        fields += record.len();
    }
    let t_scan = t.elapsed().as_secs_f64();
    black_box(fields);

    let legal = LegalParameters::vietnam().unwrap_or_else(|e| fail("legal", e));
    let settings = DerivationSettings {
        reference_date: CivilDate::parse("2026-06-30")
            .unwrap_or_else(|| fail("date", "2026-06-30")),
        overtime_300h_regime: true,
    };
    let t = Instant::now();
    let mut records = read_records(&bytes, "workers.csv").unwrap_or_else(|e| fail("read", e));
    let t_read = t.elapsed().as_secs_f64();
    let n = records.len();
    drop(bytes);
    let hwm_read = vm_hwm_mib();
    add_missing_known_columns(&mut records);
    let t = Instant::now();
    derive(&mut records, &legal, &settings).unwrap_or_else(|e| fail("derive", e));
    let t_derive = t.elapsed().as_secs_f64();
    let catalog = Catalog::dwscs(&records.schema).unwrap_or_else(|e| fail("catalog", e));
    let t = Instant::now();
    let prepared = prepare(&catalog, &records);
    let t_prepare = t.elapsed().as_secs_f64();
    let hwm_prepare = vm_hwm_mib();

    let weights: Vec<f64> = (0..n).map(|k| 1.0 + (k % 7) as f64).collect();
    let all = vec![true; n];
    let t = Instant::now();
    let params = parameter_values(&prepared, &weights);
    let mut estimates = Vec::new();
    for idx in 0..catalog.indicators.len() {
        estimates.push(point_estimate(
            &catalog, &prepared, idx, &records, &weights, &params, &all,
        ));
    }
    let t_overall = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let by = ["tier".to_string(), "sex".to_string()];
    let cells = domains(&records, &by).unwrap_or_else(|e| fail("domains", e));
    let mut n_cells = 0usize;
    for cell in &cells {
        for idx in 0..catalog.indicators.len() {
            black_box(point_estimate(
                &catalog, &prepared, idx, &records, &weights, &params, &cell.mask,
            ));
            n_cells += 1;
        }
    }
    let t_domains = t.elapsed().as_secs_f64();
    let hwm_end = vm_hwm_mib();

    println!(
        "indicators bench: {n} workers (scale {scale}), {} indicators, {} tier × sex domains",
        catalog.indicators.len(),
        cells.len()
    );
    println!("baseline column sum   {:>9.4} s", t_sum);
    println!("baseline csv scan     {:>9.4} s", t_scan);
    let line = |name: &str, s: f64| {
        println!(
            "{name:<22}{s:>9.4} s  = {:>9.1} × column sum  = {:>6.2} × csv scan",
            s / t_sum,
            s / t_scan
        );
    };
    line("read_records", t_read);
    line("derive", t_derive);
    line("prepare", t_prepare);
    line("estimate overall", t_overall);
    line(&format!("estimate tier×sex ({n_cells})"), t_domains);
    line(
        "total (read→tables)",
        t_read + t_derive + t_prepare + t_overall + t_domains,
    );
    println!(
        "peak RSS (VmHWM): after file {hwm_file:.0} MiB, after read {hwm_read:.0} MiB, after prepare {hwm_prepare:.0} MiB, end {hwm_end:.0} MiB"
    );
    for (ind, est) in catalog.indicators.iter().zip(&estimates) {
        println!(
            "  {:<28} {}",
            ind.id,
            est.map_or("NA".to_string(), |v| format!("{v:.4}"))
        );
    }
}
