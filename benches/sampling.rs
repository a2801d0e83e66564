//! Benchmark of the two hot sampling paths, each against a baseline measured in the same
//! run: PPS systematic selection from a 1,000,000-unit frame (baseline: one pass summing
//! the size column), and link tracing over 5,000,000 links (baseline: one pass over the
//! links). Also times a full stratified design draw, tier BFS and the linkage index.
//!
//! Run: `cargo bench --bench sampling` (release). Sizes: `BENCH_UNITS` (default 1,000,000),
//! `BENCH_LINKS_PER_BUYER` (default 25, with a fifth of the units as buyers: 5,000,000
//! links).

use std::hint::black_box;
use std::time::{Duration, Instant};

use chainsurvey::frame::{Frame, Link, Ownership, Tier0Rule, Unit, VsicVersion, compute_tiers};
use chainsurvey::sampling::{
    Design, LinkageIndex, ReportedSupplier, SupplierRoster, TraceMode, TraceRequest,
    draw_pps_systematic, draw_sample, pps_inclusion_probabilities, rng_from_seed, trace_links,
    uniform, uniform_below,
};

/// Nanoseconds this thread has spent on a CPU (`/proc/thread-self/schedstat`), so the
/// figures can be read apart from the waiting a shared, overloaded machine adds.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A timing: wall clock and on-CPU time of the same run.
#[derive(Clone, Copy)]
struct Timing {
    wall: Duration,
    cpu: Option<Duration>,
}

/// Best of `runs` timings of `f` (the minimum is the least noisy on a shared machine).
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Timing, T) {
    let mut best = Timing {
        wall: Duration::MAX,
        cpu: None,
    };
    let mut last = None;
    for _ in 0..runs {
        let cpu_start = cpu_ns();
        let start = Instant::now();
        let value = f();
        let wall = start.elapsed();
        let cpu = match (cpu_start, cpu_ns()) {
            (Some(a), Some(b)) => Some(Duration::from_nanos(b.saturating_sub(a))),
            _ => None,
        };
        if wall < best.wall {
            best = Timing { wall, cpu };
        }
        last = Some(value);
    }
    (best, last.expect("runs > 0"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(name: &str, time: Timing, baseline_name: &str, baseline: Timing) {
    let cpu = |t: Timing| t.cpu.map_or("?".to_string(), |c| format!("{:.2}", ms(c)));
    println!(
        "{name:<44} {:>9.2} ms (cpu {:>8} ms)   {baseline_name}: {:>7.2} ms (cpu {:>6} ms)   ratio {:>6.1}× wall, {} cpu",
        ms(time.wall),
        cpu(time),
        ms(baseline.wall),
        cpu(baseline),
        time.wall.as_secs_f64() / baseline.wall.as_secs_f64(),
        match (time.cpu, baseline.cpu) {
            (Some(a), Some(b)) if b.as_nanos() > 0 =>
                format!("{:.1}×", a.as_secs_f64() / b.as_secs_f64()),
            _ => "?".to_string(),
        }
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n_units = env_usize("BENCH_UNITS", 1_000_000);
    let links_per_buyer = env_usize("BENCH_LINKS_PER_BUYER", 25);
    let n_buyers = n_units / 5;
    let mut rng = rng_from_seed(2026);

    // A frame with skewed employment (a log-uniform spread from 1 to ~20,000 workers).
    let vsics = ["2610", "2630", "2640", "2220", "2592", "1702"];
    let provinces = ["24", "27", "01", "79", "74", "31"];
    let units: Vec<Unit> = (0..n_units)
        .map(|k| {
            let employees = (uniform(&mut rng) * 10.0).exp() as u64 + 1;
            Unit {
                id: format!("U{k:07}"),
                tax_code: Some(format!("{:010}", 100_000_000 + k)),
                name: String::new(),
                vsic: vsics[if k < n_buyers { k % 3 } else { 3 + k % 3 }].to_string(),
                vsic_version: VsicVersion::V2018,
                province: provinces[k % 6].to_string(),
                province_2025: None,
                ownership: if k % 4 == 0 {
                    Ownership::Fdi
                } else {
                    Ownership::Domestic
                },
                household_business: false,
                registered: true,
                employees_male: employees / 2,
                employees_female: employees - employees / 2,
            }
        })
        .collect();
    // Every tier-0 unit (the first fifth, VSIC 26xx) buys from `links_per_buyer` distinct
    // suppliers among the others.
    let n_suppliers = n_units - n_buyers;
    let mut links = Vec::with_capacity(n_buyers * links_per_buyer);
    for buyer in 0..n_buyers {
        let start = uniform_below(&mut rng, n_suppliers as u64) as usize;
        let step = 1 + uniform_below(&mut rng, 997) as usize;
        for j in 0..links_per_buyer {
            let supplier = n_buyers + (start + j * step) % n_suppliers;
            links.push(Link {
                buyer,
                supplier,
                weight: None,
            });
        }
    }
    let frame = match Frame::new(units, links) {
        Ok(frame) => frame,
        Err(id) => panic!("duplicate id {id}"),
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    println!(
        "frame: {} units, {} links (release build: {})",
        frame.units.len(),
        frame.links.len(),
        !cfg!(debug_assertions)
    );

    // --- PPS systematic from the whole frame.
    let sizes: Vec<f64> = frame.units.iter().map(|u| u.employees() as f64).collect();
    let (baseline_sum, _) = best_of(5, || black_box(sizes.iter().sum::<f64>()));
    let n = 5_000;
    let (pps_time, selected) = best_of(5, || {
        let pi = pps_inclusion_probabilities(black_box(&sizes), n).expect("positive sizes");
        let mut rng = rng_from_seed(7);
        draw_pps_systematic(&pi, &mut rng).expect("valid π").0
    });
    assert_eq!(selected.len() as u64, n);
    println!("\nPPS systematic, n = {n} of N = {n_units} (capping + cumulation + selection)");
    report(
        "pps_inclusion_probabilities + pps_systematic",
        pps_time,
        "sum of sizes",
        baseline_sum,
    );

    let design = Design::parse(
        r#"{"schema_version":1,"seed":1,"strata":["vsic2","ownership"],
            "allocation":{"method":"neyman","variable":"employees"},"sample_size":{"n":5000},
            "selection":{"method":"pps_systematic","size":"employees"}}"#,
    )
    .expect("bench design parses");
    let (draw_time, sample) = best_of(3, || draw_sample(&frame, &design).expect("draw"));
    assert_eq!(sample.units.len(), 5000);
    report(
        "draw_sample (4 strata, Neyman, PPS)",
        draw_time,
        "sum of sizes",
        baseline_sum,
    );

    // --- Tiers and link tracing over all links.
    let (baseline_links, _) = best_of(5, || {
        black_box(frame.links.iter().map(|l| l.supplier as u64).sum::<u64>())
    });
    println!(
        "\nlinks: {} (baseline = one pass over the links)",
        frame.links.len()
    );
    let (tier_time, tiers) = best_of(3, || {
        compute_tiers(&frame, &Tier0Rule::VsicPrefixes(vec!["26".into()])).expect("tiers")
    });
    report(
        "compute_tiers (BFS)",
        tier_time,
        "one pass over links",
        baseline_links,
    );
    let (index_time, index) = best_of(3, || LinkageIndex::build(&frame));
    report(
        "LinkageIndex::build (tax codes + buyers)",
        index_time,
        "one pass over links",
        baseline_links,
    );

    // Every tier-0 unit responds and reports all its suppliers with their tax codes.
    let mut rosters: Vec<SupplierRoster> = (0..n_buyers)
        .map(|buyer| SupplierRoster {
            respondent_id: frame.units[buyer].id.clone(),
            rows: Vec::with_capacity(links_per_buyer),
        })
        .collect();
    for link in &frame.links {
        let roster = &mut rosters[link.buyer];
        roster.rows.push(ReportedSupplier {
            row: roster.rows.len() as u32 + 1,
            tax_code: frame.units[link.supplier].tax_code.clone(),
            name: String::new(),
            purchase_value: Some(1.0),
        });
    }
    let n_rows: usize = rosters.iter().map(|r| r.rows.len()).sum();
    let (baseline_rows, _) = best_of(5, || {
        black_box(
            rosters
                .iter()
                .flat_map(|r| &r.rows)
                .map(|row| row.tax_code.as_deref().map_or(0, str::len))
                .sum::<usize>(),
        )
    });
    for mode in [TraceMode::TakeAll, TraceMode::SubsampleLinks { k: 3.0 }] {
        let (time, trace) = best_of(3, || {
            trace_links(&TraceRequest {
                frame: &frame,
                index: &index,
                tiers: tiers.as_slice(),
                from_tier: 0,
                rosters: &rosters,
                customers: &[],
                mode: &mode,
                seed: 11,
            })
            .expect("trace")
        });
        assert_eq!(trace.links.len(), n_rows);
        println!(
            "trace {:?}: {} reported rows, {} reached, {} selected",
            mode,
            n_rows,
            trace.reached.len(),
            trace.reached.iter().filter(|r| r.selected).count()
        );
        report(
            "  trace_links (match, subsample, L_i)",
            time,
            "one pass over links",
            baseline_links,
        );
        report(
            "  trace_links",
            time,
            "one pass over roster rows",
            baseline_rows,
        );
    }

    // The usual case: a tier-0 *sample* responds (every 100th tier-0 unit), while L_i is
    // still counted over the whole register (all 5,000,000 links).
    let sampled: Vec<SupplierRoster> = rosters.iter().step_by(100).cloned().collect();
    let sampled_rows: usize = sampled.iter().map(|r| r.rows.len()).sum();
    let (time, trace) = best_of(3, || {
        trace_links(&TraceRequest {
            frame: &frame,
            index: &index,
            tiers: tiers.as_slice(),
            from_tier: 0,
            rosters: &sampled,
            customers: &[],
            mode: &TraceMode::TakeAll,
            seed: 11,
        })
        .expect("trace")
    });
    println!(
        "trace from a 1% tier-0 sample: {} respondents, {} rows, {} reached (L over all links)",
        sampled.len(),
        sampled_rows,
        trace.reached.len()
    );
    report("  trace_links", time, "one pass over links", baseline_links);
}
