//! Benchmark of the synthetic population: generate the frame and compute the truth over every
//! worker at scale 1 (or `SYNTH_SCALE`), and compare with drawing the same number of uniform
//! random numbers (the floor any generator of that many draws must pay).
//!
//! Run: `cargo bench --bench synth` (release). Prints seconds, workers/s, the ratio to the
//! baseline, peak RSS (VmHWM) and the calibration checks.

use std::hint::black_box;
use std::time::Instant;

use rand::rngs::ChaCha20Rng;
use rand::{Rng, SeedableRng};

use chainsurvey::synth::{self, SynthConfig};

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let scale: f64 = std::env::var("SYNTH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let seed: u64 = std::env::var("SYNTH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let config = SynthConfig::vn_electronics();

    let t0 = Instant::now();
    let pop = match synth::generate(&config, scale, seed) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("generate failed: {e}");
            std::process::exit(2);
        }
    };
    let t_frame = t0.elapsed().as_secs_f64();
    let truth = synth::population_truth(&pop);
    let t_total = t0.elapsed().as_secs_f64();
    let hwm = vm_hwm_kib();

    // Worker regeneration alone (what a sampled interview costs).
    let t1 = Instant::now();
    let mut n = 0u64;
    for u in 0..pop.frame.units.len() {
        for w in synth::workers_of(&pop, u) {
            n += 1;
            black_box(&w);
        }
    }
    let t_workers = t1.elapsed().as_secs_f64();

    // Baseline: the same number of u64 draws from ChaCha20 turned into uniforms.
    let draws: u64 = (0..pop.frame.units.len())
        .map(|u| synth::draws_of(&pop, u))
        .sum();
    let t2 = Instant::now();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut acc = 0.0f64;
    for _ in 0..draws {
        acc += (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    }
    black_box(acc);
    let t_base = t2.elapsed().as_secs_f64();

    println!("synthetic population, scale {scale}, seed {seed}");
    println!(
        "  units {}, links {}, workers {}",
        pop.frame.units.len(),
        pop.frame.links.len(),
        truth.workers
    );
    println!("  frame generated:           {t_frame:8.3} s");
    println!(
        "  frame + truth (all workers): {t_total:6.3} s  ({:.0} workers/s)",
        truth.workers as f64 / t_total
    );
    println!(
        "  workers regenerated alone: {t_workers:8.3} s  ({:.0} workers/s)",
        n as f64 / t_workers
    );
    println!(
        "  baseline: {draws} uniform draws ({:.1} per worker): {t_base:.3} s",
        draws as f64 / n.max(1) as f64
    );
    println!(
        "  ratio frame+truth / baseline: {:.2}×; worker generation / baseline: {:.2}×",
        t_total / t_base,
        t_workers / t_base
    );
    match hwm {
        Some(k) => println!(
            "  peak RSS (VmHWM) after truth: {:.1} MiB",
            k as f64 / 1024.0
        ),
        None => println!("  peak RSS: /proc/self/status not available"),
    }
    println!();
    for c in synth::calibration_checks(&pop, &truth) {
        let r = match c.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "info",
        };
        println!("  {:<60} {:>14.4}  {:<22} {r}", c.name, c.value, c.target);
    }
}
