//! Allocation, sample size, selection, link tracing and worker selection against the
//! METHODOLOGY §6 vectors, Monte Carlo inclusion frequencies, and a frozen replay.

use std::collections::HashMap;

use chainsurvey::frame::{Frame, Link, Ownership, Tier0Rule, Unit, VsicVersion, compute_tiers};
use chainsurvey::sampling::{
    AllocationMethod, CustomerReport, Design, LinkCountMethod, LinkageIndex, PpsSize,
    ProportionPlan, ReportedSupplier, RosterWorker, SamplingError, Sex, StratumFacts,
    SupplierRoster, TraceMode, TraceRequest, UnmatchedReason, WorkerSource, allocate,
    draw_pps_systematic, draw_sample, draw_systematic, pareto, permanent_random_number, poisson,
    pps_inclusion_probabilities, pps_systematic, raw_allocation, rng_from_seed,
    sample_size_for_proportion, select_workers, sequential_poisson, srswor, trace_links, uniform,
    uniform_open,
};

// ---------------------------------------------------------------------------------------
// Allocation (METHODOLOGY §3.3 worked example).

fn example_strata() -> Vec<StratumFacts> {
    let n = [200u64, 800, 3000];
    let sd = [900.0, 60.0, 8.0];
    let mean = [1500.0, 120.0, 12.0];
    (0..3)
        .map(|h| StratumFacts {
            key: format!("h{}", h + 1),
            population: n[h],
            sd: sd[h],
            mean: mean[h],
            cost: 1.0,
            importance: None,
        })
        .collect()
}

fn check_allocation(method: AllocationMethod, expected_raw: &[f64], expected: &[u64]) {
    let strata = example_strata();
    let raw = raw_allocation(method, &strata, 300.0).unwrap();
    for (got, want) in raw.iter().zip(expected_raw) {
        assert!(
            (got - want).abs() < 0.006,
            "{method:?}: raw {raw:?} vs {expected_raw:?}"
        );
    }
    let allocation = allocate(method, &strata, 300, 2).unwrap();
    assert_eq!(allocation.n_h, expected, "{method:?}");
    assert_eq!(allocation.n_h.iter().sum::<u64>(), 300);
}

#[test]
fn allocation_vectors_of_section_3_3() {
    check_allocation(
        AllocationMethod::Proportional,
        &[15.0, 60.0, 225.0],
        &[15, 60, 225],
    );
    check_allocation(
        AllocationMethod::Neyman,
        &[214.29, 57.14, 28.57],
        &[200, 67, 33],
    );
    check_allocation(
        AllocationMethod::Power { q: 0.5 },
        &[161.61, 76.18, 62.20],
        &[162, 76, 62],
    );
    check_allocation(
        AllocationMethod::Kish { i: 1.0 },
        &[65.38, 75.41, 159.21],
        &[65, 76, 159],
    );
    // Neyman: stratum 1 overflows and becomes take-all; the rest split 2:1.
    let neyman = allocate(AllocationMethod::Neyman, &example_strata(), 300, 2).unwrap();
    assert_eq!(neyman.take_all, vec![true, false, false]);
    assert!((neyman.real[1] - 200.0 / 3.0).abs() < 1e-9);
}

#[test]
fn power_allocation_sanity_checks() {
    // S13: q = 0 with equal CVs gives equal allocation; q = 1 with equal CVs gives
    // proportional-to-X (here X_h = N_h Ȳ_h with equal means: proportional).
    let strata: Vec<StratumFacts> = [100u64, 300, 600]
        .iter()
        .enumerate()
        .map(|(h, &n)| StratumFacts {
            key: format!("h{h}"),
            population: n,
            sd: 5.0,
            mean: 10.0,
            cost: 1.0,
            importance: None,
        })
        .collect();
    let equal = raw_allocation(AllocationMethod::Power { q: 0.0 }, &strata, 90.0).unwrap();
    for value in &equal {
        assert!((value - 30.0).abs() < 1e-9, "{equal:?}");
    }
    let proportional = raw_allocation(AllocationMethod::Power { q: 1.0 }, &strata, 90.0).unwrap();
    for (value, want) in proportional.iter().zip([9.0, 27.0, 54.0]) {
        assert!((value - want).abs() < 1e-9, "{proportional:?}");
    }
    // Kish: I = 0 is uniform; very large I approaches proportional.
    let uniform_kish = raw_allocation(AllocationMethod::Kish { i: 0.0 }, &strata, 90.0).unwrap();
    assert!(uniform_kish.iter().all(|v| (v - 30.0).abs() < 1e-9));
    let big_i = raw_allocation(AllocationMethod::Kish { i: 1e9 }, &strata, 90.0).unwrap();
    for (value, want) in big_i.iter().zip([9.0, 27.0, 54.0]) {
        assert!((value - want).abs() < 1e-3, "{big_i:?}");
    }
    assert!(matches!(
        raw_allocation(AllocationMethod::Power { q: 1.5 }, &strata, 90.0),
        Err(SamplingError::BadParameter { .. })
    ));
}

#[test]
fn sqrt_cost_minimum_and_rounding_rules() {
    let mut strata = example_strata();
    // √N: √200 : √800 : √3000 = 14.14 : 28.28 : 54.77, i.e. 43.65, 87.30, 169.05; the
    // largest remainder (.65) gets the last unit.
    let sqrt = allocate(AllocationMethod::SqrtN, &strata, 300, 2).unwrap();
    assert_eq!(sqrt.n_h, vec![44, 87, 169]);
    // Cost-optimal with equal costs equals Neyman; quadrupling the cost of stratum 3
    // halves its share relative to Neyman.
    let cost = allocate(AllocationMethod::CostOptimal, &strata, 300, 2).unwrap();
    assert_eq!(cost.n_h, vec![200, 67, 33]);
    strata[2].cost = 4.0;
    let raw = raw_allocation(AllocationMethod::CostOptimal, &strata, 300.0).unwrap();
    let neyman = raw_allocation(AllocationMethod::Neyman, &example_strata(), 300.0).unwrap();
    assert!((raw[2] / raw[1] - 0.5 * neyman[2] / neyman[1]).abs() < 1e-9);
    // Budget: n = (C − c₀) Σ N_h S_h/√c_h / Σ N_h S_h √c_h = 276 · 240000 / 276000 = 240.
    let n = chainsurvey::sampling::cost_optimal_total(&strata, 296.0, 20.0).unwrap();
    assert!((n - 240.0).abs() < 1e-9, "{n}");
    // Minimum per stratum: a stratum with S_h = 0 would get nothing under Neyman; it gets
    // the minimum (2) and the others share the rest.
    let mut zero = example_strata();
    zero[2].sd = 0.0;
    let with_min = allocate(AllocationMethod::Neyman, &zero, 100, 2).unwrap();
    assert_eq!(with_min.n_h[2], 2);
    assert!(with_min.at_minimum[2]);
    assert_eq!(with_min.n_h.iter().sum::<u64>(), 100);
    // Ties in the remainders go to the larger N_h, then the lower index: 3 strata of equal
    // share and n = 4 give 4/3 each; the one extra unit goes to the largest stratum.
    let tied: Vec<StratumFacts> = [50u64, 70, 70]
        .iter()
        .enumerate()
        .map(|(h, &n)| StratumFacts {
            key: format!("t{h}"),
            population: n,
            sd: 1.0,
            mean: 1.0,
            cost: 1.0,
            importance: None,
        })
        .collect();
    let result = allocate(AllocationMethod::SqrtN, &tied[..1], 4, 0).unwrap();
    assert_eq!(result.n_h, vec![4]);
    let equal = allocate(AllocationMethod::Kish { i: 0.0 }, &tied, 4, 0).unwrap();
    assert_eq!(equal.n_h, vec![1, 2, 1]);
    // Infeasible requests are errors.
    assert!(matches!(
        allocate(AllocationMethod::Proportional, &example_strata(), 5000, 2),
        Err(SamplingError::SampleLargerThanPopulation { .. })
    ));
    assert!(matches!(
        allocate(AllocationMethod::Proportional, &example_strata(), 5, 2),
        Err(SamplingError::MinimumInfeasible { needed: 6, .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Sample size for a proportion.

#[test]
fn sample_size_vectors() {
    let mut plan = ProportionPlan {
        p: 0.5,
        margin: 0.05,
        z: 1.96,
        deff: 1.0,
        population: None,
        response_rate: 1.0,
    };
    let size = sample_size_for_proportion(&plan).unwrap();
    assert!((size.n0 - 384.16).abs() < 1e-9);
    assert_eq!(size.n, 385);
    plan.population = Some(1000);
    let size = sample_size_for_proportion(&plan).unwrap();
    assert!((size.n_design - 384.16 / 1.38416).abs() < 1e-9);
    assert!((size.n_design - 277.54).abs() < 0.005);
    assert_eq!(size.n, 278);
    plan.response_rate = 0.8;
    plan.deff = 1.5;
    let size = sample_size_for_proportion(&plan).unwrap();
    let design = 576.24 / (1.0 + 576.24 / 1000.0);
    assert!((size.n_inflated - design / 0.8).abs() < 1e-9);
    assert_eq!(size.n, (design / 0.8).ceil() as u64);
    plan.p = 1.0;
    assert!(sample_size_for_proportion(&plan).is_err());
}

// ---------------------------------------------------------------------------------------
// Selection: worked examples (METHODOLOGY §3.4).

#[test]
fn pps_capping_and_systematic_example() {
    let sizes = [120.0, 80.0, 60.0, 40.0, 30.0, 20.0, 10.0, 5.0, 5.0];
    let pi = pps_inclusion_probabilities(&sizes, 4).unwrap();
    let expected = [1.0, 0.96, 0.72, 0.48, 0.36, 0.24, 0.12, 0.06, 0.06];
    for (got, want) in pi.iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{pi:?}");
    }
    let sample = pps_systematic(&pi, 0.35).unwrap();
    assert_eq!(sample, vec![0, 1, 2, 4]); // units {1, 2, 3, 5}
    // u = 1 (the top of (0, 1]) still yields exactly n units.
    assert_eq!(pps_systematic(&pi, 1.0).unwrap().len(), 4);
    assert!(pps_systematic(&pi, 0.0).is_err());
    assert!(matches!(
        pps_inclusion_probabilities(&[1.0, 0.0, 0.0], 2),
        Err(SamplingError::TooFewPositiveSizes { n: 2, positive: 1 })
    ));
    assert!(matches!(
        pps_inclusion_probabilities(&[1.0, -3.0], 1),
        Err(SamplingError::BadSize { .. })
    ));
}

#[test]
fn pareto_example() {
    let lambda = [0.2, 0.7, 0.8, 0.5, 0.4, 0.4];
    let u = [0.1, 0.5, 0.9, 0.35, 0.6, 0.2];
    assert_eq!(pareto(&lambda, &u, 3).unwrap(), vec![0, 1, 5]); // units {1, 2, 6}
    // Sequential Poisson ranks ξ = U/λ = (.5, .714, 1.125, .7, 1.5, .5): units {1, 4, 6}.
    assert_eq!(sequential_poisson(&lambda, &u, 3).unwrap(), vec![0, 3, 5]);
    // Poisson with the same U: U < λ for units {1, 2, 4, 6}.
    assert_eq!(poisson(&lambda, &u).unwrap(), vec![0, 1, 3, 5]);
}

// ---------------------------------------------------------------------------------------
// Monte Carlo inclusion frequencies: 10⁵ draws, every unit within 3 SE of π.

const DRAWS: usize = 100_000;

fn check_inclusion(
    name: &str,
    pi: &[f64],
    tolerance_extra: f64,
    mut draw: impl FnMut() -> Vec<usize>,
) {
    let mut hits = vec![0u64; pi.len()];
    for _ in 0..DRAWS {
        for k in draw() {
            hits[k] += 1;
        }
    }
    for (k, (&count, &p)) in hits.iter().zip(pi).enumerate() {
        let freq = count as f64 / DRAWS as f64;
        let se = (p * (1.0 - p) / DRAWS as f64).sqrt();
        assert!(
            (freq - p).abs() <= 3.0 * se + tolerance_extra,
            "{name}: unit {k}: frequency {freq} vs π {p} (3 SE = {})",
            3.0 * se
        );
    }
}

const SIZES: [f64; 8] = [50.0, 30.0, 20.0, 12.0, 9.0, 6.0, 4.0, 2.0];

#[test]
fn monte_carlo_equal_probability_methods() {
    let mut rng = rng_from_seed(11);
    check_inclusion("srswor", &[3.0 / 8.0; 8], 0.0, || {
        srswor(8, 3, &mut rng).unwrap()
    });
    let mut rng = rng_from_seed(12);
    check_inclusion("systematic", &[3.0 / 8.0; 8], 0.0, || {
        draw_systematic(8, 3, &mut rng).unwrap().0
    });
}

#[test]
fn monte_carlo_pps_and_poisson_methods() {
    let pi = pps_inclusion_probabilities(&SIZES, 3).unwrap();
    assert_eq!(pi[0], 1.0, "the largest unit is take-all");
    let mut rng = rng_from_seed(21);
    check_inclusion("pps_systematic", &pi, 0.0, || {
        let selected = draw_pps_systematic(&pi, &mut rng).unwrap().0;
        assert_eq!(selected.len(), 3);
        selected
    });
    let mut rng = rng_from_seed(22);
    let mut uniforms = vec![0.0; SIZES.len()];
    check_inclusion("poisson", &pi, 0.0, || {
        for u in uniforms.iter_mut() {
            *u = uniform(&mut rng);
        }
        poisson(&pi, &uniforms).unwrap()
    });
    // Poisson with permanent random numbers: each draw is a new PRN seed (a new register),
    // so the frequencies over seeds are the Poisson π.
    let mut prn_seed = 0u64;
    let ids: Vec<String> = (0..SIZES.len()).map(|k| format!("U{k}")).collect();
    check_inclusion("poisson_prn", &pi, 0.0, || {
        prn_seed += 1;
        let prns: Vec<f64> = ids
            .iter()
            .map(|id| permanent_random_number(prn_seed, id))
            .collect();
        poisson(&pi, &prns).unwrap()
    });
}

/// Exact inclusion probabilities of an order sampling design, by numerical integration, as
/// an independent reference: unit k is selected iff fewer than n' of the other units rank
/// below it, so π_k = ∫₀¹ P(#{j ≠ k : Q_j ≤ q_k(u)} < n') du, where q_k(u) is k's rank at
/// U_k = u and the count is Poisson-binomial with P(Q_j ≤ t) = F_j(t). Take-all units
/// (λ = 1) are selected and leave n' = n − #take-all.
fn order_sampling_exact_pi(
    lambda: &[f64],
    n: usize,
    rank: impl Fn(f64, f64) -> f64,
    cdf: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let take_all = lambda.iter().filter(|&&l| l >= 1.0).count();
    let wanted = n - take_all;
    let steps = 20_000;
    lambda
        .iter()
        .enumerate()
        .map(|(k, &lk)| {
            if lk >= 1.0 {
                return 1.0;
            }
            let mut integral = 0.0;
            for step in 0..steps {
                let u = (step as f64 + 0.5) / steps as f64;
                let t = rank(u, lk);
                // dist[c] = P(c of the others rank below t).
                let mut dist = vec![0.0; lambda.len() + 1];
                dist[0] = 1.0;
                for (j, &lj) in lambda.iter().enumerate() {
                    if j == k || lj >= 1.0 {
                        continue;
                    }
                    let p = cdf(t, lj);
                    for c in (0..lambda.len()).rev() {
                        dist[c + 1] += dist[c] * p;
                        dist[c] *= 1.0 - p;
                    }
                }
                integral += dist[..wanted].iter().sum::<f64>();
            }
            integral / steps as f64
        })
        .collect()
}

#[test]
fn monte_carlo_order_sampling() {
    // Order sampling has π ≈ λ, not = λ (at N = 8 the gap is about 0.01), so the Monte
    // Carlo frequencies are checked against the exact π computed by integration, and the
    // exact π against λ with the loose tolerance the approximation deserves.
    let lambda = pps_inclusion_probabilities(&SIZES, 3).unwrap();
    let pareto_pi = order_sampling_exact_pi(
        &lambda,
        3,
        |u, l| u * (1.0 - l) / ((1.0 - u) * l),
        |t, l| t * l / (1.0 - l + t * l),
    );
    let sequential_pi = order_sampling_exact_pi(&lambda, 3, |u, l| u / l, |t, l| (t * l).min(1.0));
    for ((p, s), l) in pareto_pi.iter().zip(&sequential_pi).zip(&lambda) {
        assert!(
            (p - l).abs() < 0.03 && (s - l).abs() < 0.05,
            "{pareto_pi:?} {sequential_pi:?} {lambda:?}"
        );
    }
    assert!((pareto_pi.iter().sum::<f64>() - 3.0).abs() < 1e-6);
    let mut rng = rng_from_seed(31);
    let mut uniforms = vec![0.0; SIZES.len()];
    check_inclusion("pareto", &pareto_pi, 0.0, || {
        for u in uniforms.iter_mut() {
            *u = uniform_open(&mut rng);
        }
        let selected = pareto(&lambda, &uniforms, 3).unwrap();
        assert_eq!(selected.len(), 3);
        selected
    });
    let mut rng = rng_from_seed(32);
    check_inclusion("sequential_poisson", &sequential_pi, 0.0, || {
        for u in uniforms.iter_mut() {
            *u = uniform_open(&mut rng);
        }
        sequential_poisson(&lambda, &uniforms, 3).unwrap()
    });
}

#[test]
fn prn_coordination_across_waves() {
    // Same PRN seed, slightly different π in wave 2: Poisson samples overlap maximally, so
    // every wave-1 unit whose π did not fall stays selected.
    let ids: Vec<String> = (0..200).map(|k| format!("ENT{k:04}")).collect();
    let prns: Vec<f64> = ids
        .iter()
        .map(|id| permanent_random_number(2026, id))
        .collect();
    assert_eq!(
        prns,
        ids.iter()
            .map(|id| permanent_random_number(2026, id))
            .collect::<Vec<_>>()
    );
    let wave1 = poisson(&vec![0.2; 200], &prns).unwrap();
    let wave2 = poisson(&vec![0.25; 200], &prns).unwrap();
    assert!(wave1.iter().all(|k| wave2.contains(k)));
    assert!(prns.iter().all(|&u| u > 0.0 && u < 1.0));
}

// ---------------------------------------------------------------------------------------
// Link tracing on the example-2 population (METHODOLOGY §2.8.3): frame {A1..A4}, links
// A1–S1, A2–S1, A3–S2, A4–S2, A4–S3, tier-2 links S1–T1, S2–T1, S3–T2.

fn unit(id: &str, tax: Option<&str>, vsic: &str) -> Unit {
    Unit {
        id: id.into(),
        tax_code: tax.map(Into::into),
        name: format!("unit {id}"),
        vsic: vsic.into(),
        vsic_version: VsicVersion::V2018,
        province: "27".into(),
        province_2025: Some("24".into()),
        ownership: Ownership::Domestic,
        household_business: false,
        registered: true,
        employees_male: 10,
        employees_female: 20,
    }
}

fn example_frame() -> Frame {
    let units = vec![
        unit("A1", Some("0100000001"), "2610"),
        unit("A2", Some("0100000002"), "2610"),
        unit("A3", Some("0100000003"), "2610"),
        unit("A4", Some("0100000004"), "2610"),
        unit("S1", Some("0200000001"), "2220"),
        unit("S2", Some("0200000002"), "2220"),
        unit("S3", Some("0200000003"), "2599"),
        unit("T1", Some("0300000001"), "1702"),
        unit("T2", None, "1811"),
    ];
    let idx = |id: &str| units.iter().position(|u| u.id == id).unwrap();
    let pairs = [
        ("A1", "S1"),
        ("A2", "S1"),
        ("A3", "S2"),
        ("A4", "S2"),
        ("A4", "S3"),
        ("S1", "T1"),
        ("S2", "T1"),
        ("S3", "T2"),
    ];
    let links = pairs
        .iter()
        .map(|(b, s)| Link {
            buyer: idx(b),
            supplier: idx(s),
            weight: None,
        })
        .collect();
    Frame::new(units, links).unwrap()
}

fn supplier(row: u32, tax: Option<&str>, value: f64) -> ReportedSupplier {
    ReportedSupplier {
        row,
        tax_code: tax.map(Into::into),
        name: format!("row {row}"),
        purchase_value: Some(value),
    }
}

fn rosters_a2_a4() -> Vec<SupplierRoster> {
    vec![
        SupplierRoster {
            respondent_id: "A2".into(),
            rows: vec![
                supplier(1, Some("0200-000-001"), 10.0),
                supplier(2, Some("0200000001"), 5.0), // the same supplier again
                supplier(3, Some("KR-778812"), 3.0),  // a Korean supplier: not domestic
                supplier(4, None, 1.0),
                supplier(5, Some("0100000001"), 1.0), // A1 is tier 0
                supplier(6, Some("0999999999"), 1.0),
            ],
        },
        SupplierRoster {
            respondent_id: "A4".into(),
            rows: vec![
                supplier(1, Some("0200000002"), 30.0),
                supplier(2, Some("0200000003-001"), 20.0), // a branch of S3
                supplier(3, Some("0100000004"), 1.0),      // itself
            ],
        },
    ]
}

fn run_trace(
    frame: &Frame,
    rosters: &[SupplierRoster],
    customers: &[CustomerReport],
    mode: &TraceMode,
    seed: u64,
) -> chainsurvey::sampling::Trace {
    let tiers = compute_tiers(frame, &Tier0Rule::VsicPrefixes(vec!["26".into()])).unwrap();
    let index = LinkageIndex::build(frame);
    trace_links(&TraceRequest {
        frame,
        index: &index,
        tiers: tiers.as_slice(),
        from_tier: 0,
        rosters,
        customers,
        mode,
        seed,
    })
    .unwrap()
}

#[test]
fn trace_take_all_matches_reports_unmatched_and_counts_l_over_the_population() {
    let frame = example_frame();
    let trace = run_trace(&frame, &rosters_a2_a4(), &[], &TraceMode::TakeAll, 7);
    let id = |u: usize| frame.units[u].id.as_str();
    let reached: Vec<(&str, u32, f64)> = trace
        .reached
        .iter()
        .map(|r| (id(r.unit), r.l, r.pi_given_s))
        .collect();
    // Ω = {S1, S2, S3}; L over all of U⁰ by the register: S1 has A1 and A2, S2 has A3 and
    // A4, S3 has A4 — even though A1 and A3 are not in the sample.
    assert_eq!(
        reached,
        vec![("S1", 2, 1.0), ("S2", 2, 1.0), ("S3", 1, 1.0)]
    );
    assert!(
        trace
            .reached
            .iter()
            .all(|r| r.link_count_method == LinkCountMethod::RegisterLinks)
    );
    let reasons: Vec<(&str, u32, UnmatchedReason)> = trace
        .unmatched
        .iter()
        .map(|u| (id(u.respondent), u.row, u.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("A2", 2, UnmatchedReason::Duplicate { first_row: 1 }),
            ("A2", 3, UnmatchedReason::InvalidTaxCode),
            ("A2", 4, UnmatchedReason::NoTaxCode),
            ("A2", 5, UnmatchedReason::EarlierTier(0)),
            ("A2", 6, UnmatchedReason::NotInFrame),
            ("A4", 3, UnmatchedReason::SelfReference),
        ]
    );
    let s3_link = trace.links.iter().find(|l| id(l.supplier) == "S3").unwrap();
    assert_eq!(s3_link.match_kind.name(), "parent");
    assert_eq!(trace.links.len(), 3);
    assert!(trace.links.iter().all(|l| l.p == 1.0 && l.retained));
}

#[test]
fn l_methods_customer_roster_self_report_and_reporters_only() {
    // A frame without register links: L must come from the reached units' own reports.
    let mut frame = example_frame();
    frame.links.clear();
    let customers = vec![
        // S1's customer roster: A1, A2 and a non-frame buyer → L = 2 by record linkage.
        CustomerReport {
            unit_id: "S1".into(),
            customer_tax_codes: vec![
                Some("0100000001".into()),
                Some("0100000002".into()),
                Some("0777777777".into()),
            ],
            self_reported_links: Some(5),
        },
        // S2 only says "3 of my customers are electronics makers".
        CustomerReport {
            unit_id: "S2".into(),
            customer_tax_codes: vec![],
            self_reported_links: Some(3),
        },
    ];
    let trace = run_trace(&frame, &rosters_a2_a4(), &customers, &TraceMode::TakeAll, 7);
    let by_id: HashMap<&str, &chainsurvey::sampling::ReachedUnit> = trace
        .reached
        .iter()
        .map(|r| (frame.units[r.unit].id.as_str(), r))
        .collect();
    // Without register links nothing places A1 in tier 0 except its VSIC rule (tier 0 by
    // VSIC 26), so the customer-roster match counts it.
    assert_eq!(by_id["S1"].l, 2);
    assert_eq!(
        by_id["S1"].link_count_method,
        LinkCountMethod::RecordLinkage
    );
    assert_eq!(by_id["S1"].unmatched_customer_codes, 1);
    assert_eq!(by_id["S1"].l_self_reported, Some(5));
    assert_eq!(by_id["S2"].l, 3);
    assert_eq!(by_id["S2"].link_count_method, LinkCountMethod::SelfReported);
    assert_eq!(by_id["S3"].l, 1);
    assert_eq!(
        by_id["S3"].link_count_method,
        LinkCountMethod::ReportersOnly
    );
}

#[test]
fn reached_unit_srswor_subsample_has_pi_two_thirds() {
    // Example 2's stage 2: SRSWOR of 2 of the 3 reached suppliers, π_{i|s} = 2/3.
    let frame = example_frame();
    let mode = TraceMode::SubsampleUnitsSrswor { n: 2 };
    let mut hits = [0u64; 3];
    let draws = 20_000;
    for seed in 0..draws {
        let trace = run_trace(&frame, &rosters_a2_a4(), &[], &mode, seed);
        assert_eq!(trace.reached.len(), 3);
        assert!(
            trace
                .reached
                .iter()
                .all(|r| (r.pi_given_s - 2.0 / 3.0).abs() < 1e-15)
        );
        assert_eq!(trace.reached.iter().filter(|r| r.selected).count(), 2);
        for (pos, r) in trace.reached.iter().enumerate() {
            hits[pos] += u64::from(r.selected);
        }
    }
    let se = ((2.0 / 9.0) / draws as f64).sqrt();
    for count in hits {
        assert!(
            (count as f64 / draws as f64 - 2.0 / 3.0).abs() < 3.0 * se,
            "{hits:?}"
        );
    }
}

#[test]
fn reached_unit_pps_subsample_uses_purchase_values() {
    let frame = example_frame();
    let mode = TraceMode::SubsampleUnitsPps {
        n: 2,
        size: PpsSize::PurchaseValue,
    };
    let trace = run_trace(&frame, &rosters_a2_a4(), &[], &mode, 3);
    // Sizes: S1 10 (row 2 is a duplicate and does not count), S2 30, S3 20; n = 2.
    let pi: Vec<f64> = trace.reached.iter().map(|r| r.pi_given_s).collect();
    let expected = pps_inclusion_probabilities(&[10.0, 30.0, 20.0], 2).unwrap();
    assert_eq!(pi, expected);
    assert_eq!(trace.reached.iter().filter(|r| r.selected).count(), 2);
    // A reached unit without a purchase value would get π_{i|s} = 0: refused.
    let mut rosters = rosters_a2_a4();
    rosters[1].rows[0].purchase_value = None;
    let tiers = compute_tiers(&frame, &Tier0Rule::VsicPrefixes(vec!["26".into()])).unwrap();
    let index = LinkageIndex::build(&frame);
    let result = trace_links(&TraceRequest {
        frame: &frame,
        index: &index,
        tiers: tiers.as_slice(),
        from_tier: 0,
        rosters: &rosters,
        customers: &[],
        mode: &mode,
        seed: 3,
    });
    assert_eq!(
        result,
        Err(SamplingError::BadSize {
            unit: "S2".into(),
            size: 0.0
        })
    );
}

#[test]
fn link_subsampling_is_unbiased_e_u_over_p_is_one() {
    // One tier-0 respondent listing 5 suppliers; p = min(1, 2/5) = 0.4 per link.
    let mut units = vec![unit("A", Some("0100000001"), "2610")];
    for k in 0..5 {
        units.push(unit(
            &format!("S{k}"),
            Some(&format!("020000000{k}")),
            "2220",
        ));
    }
    let frame = Frame::new(units, vec![]).unwrap();
    let rosters = vec![SupplierRoster {
        respondent_id: "A".into(),
        rows: (0..5)
            .map(|k| supplier(k + 1, Some(&format!("020000000{k}")), 1.0))
            .collect(),
    }];
    let tiers = compute_tiers(&frame, &Tier0Rule::VsicPrefixes(vec!["26".into()])).unwrap();
    let index = LinkageIndex::build(&frame);
    let mode = TraceMode::SubsampleLinks { k: 2.0 };
    let mut sum_u_over_p = [0.0f64; 5];
    // 40,000 traces: each builds a whole trace record, and the check is of the stored
    // p and u, not of a selection algorithm (those run 10⁵ draws above).
    let draws = 40_000u64;
    for seed in 0..draws {
        let trace = trace_links(&TraceRequest {
            frame: &frame,
            index: &index,
            tiers: tiers.as_slice(),
            from_tier: 0,
            rosters: &rosters,
            customers: &[],
            mode: &mode,
            seed,
        })
        .unwrap();
        for (pos, link) in trace.links.iter().enumerate() {
            assert_eq!(link.p, 0.4);
            assert_eq!(link.listed, 5);
            if link.retained {
                sum_u_over_p[pos] += 1.0 / link.p;
            }
        }
        // Only suppliers with a kept link are reached.
        assert_eq!(
            trace.reached.len(),
            trace.links.iter().filter(|l| l.retained).count()
        );
    }
    // Var(u/p) = (1 − p)/p = 1.5 per draw.
    let se = (1.5 / draws as f64).sqrt();
    for total in sum_u_over_p {
        let mean = total / draws as f64;
        assert!((mean - 1.0).abs() < 3.0 * se, "E[u/p] = {mean}");
    }
}

#[test]
fn trace_rejects_unknown_respondents() {
    let frame = example_frame();
    let tiers = compute_tiers(&frame, &Tier0Rule::VsicPrefixes(vec!["26".into()])).unwrap();
    let index = LinkageIndex::build(&frame);
    let rosters = vec![SupplierRoster {
        respondent_id: "ZZ".into(),
        rows: vec![],
    }];
    let result = trace_links(&TraceRequest {
        frame: &frame,
        index: &index,
        tiers: tiers.as_slice(),
        from_tier: 0,
        rosters: &rosters,
        customers: &[],
        mode: &TraceMode::TakeAll,
        seed: 1,
    });
    assert_eq!(result, Err(SamplingError::UnknownUnit("ZZ".into())));
}

// ---------------------------------------------------------------------------------------
// Workers.

#[test]
fn workers_srswor_by_sex_with_take_all_and_stored_m() {
    let takes = select_workers(
        "E1",
        WorkerSource::Counts {
            male: 4,
            female: 120,
        },
        6,
        99,
    )
    .unwrap();
    assert_eq!(takes.len(), 2);
    assert_eq!(
        (
            takes[0].sex,
            takes[0].population,
            takes[0].take,
            takes[0].take_all
        ),
        (Sex::Male, 4, 4, true)
    );
    assert_eq!(
        takes[0].selected.iter().map(|w| w.line).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        (
            takes[1].sex,
            takes[1].population,
            takes[1].take,
            takes[1].take_all
        ),
        (Sex::Female, 120, 6, false)
    );
    assert!(
        takes[1]
            .selected
            .iter()
            .all(|w| (1..=120).contains(&w.line))
    );
    // Same seed and unit → same workers, whatever else was drawn before.
    assert_eq!(
        takes,
        select_workers(
            "E1",
            WorkerSource::Counts {
                male: 4,
                female: 120
            },
            6,
            99
        )
        .unwrap()
    );
    let roster: Vec<RosterWorker> = (0..10)
        .map(|k| RosterWorker {
            worker_id: format!("W{k}"),
            sex: if k % 2 == 0 { Sex::Male } else { Sex::Female },
        })
        .collect();
    let takes = select_workers("E2", WorkerSource::Roster(&roster), 2, 5).unwrap();
    for take in &takes {
        assert_eq!((take.population, take.take), (5, 2));
        for worker in &take.selected {
            let id = worker.worker_id.as_deref().unwrap();
            let listed = roster.iter().find(|w| w.worker_id == id).unwrap();
            assert_eq!(listed.sex, take.sex);
        }
    }
    // Inclusion frequency m/M over 20,000 units (seeds): the SRSWOR itself is checked
    // over 10⁵ draws above; this checks the per-unit seeding and positions.
    let worker_draws = 20_000u64;
    let mut hits = [0u64; 10];
    for seed in 0..worker_draws {
        let takes = select_workers(
            "E3",
            WorkerSource::Counts {
                male: 10,
                female: 0,
            },
            3,
            seed,
        )
        .unwrap();
        for worker in &takes[0].selected {
            hits[worker.line as usize - 1] += 1;
        }
    }
    let se = (0.3 * 0.7 / worker_draws as f64).sqrt();
    assert!(
        hits.iter()
            .all(|&h| (h as f64 / worker_draws as f64 - 0.3).abs() < 3.0 * se),
        "{hits:?}"
    );
    assert!(select_workers("E4", WorkerSource::Counts { male: 1, female: 1 }, 0, 1).is_err());
}

// ---------------------------------------------------------------------------------------
// Designs, draws and replay.

/// A 60-unit frame: 3 VSIC groups × 2 ownerships, employment 5..~600.
fn design_frame() -> Frame {
    let vsics = ["2610", "2630", "2220"];
    let owners = [Ownership::Fdi, Ownership::Domestic];
    let units: Vec<Unit> = (0..60)
        .map(|k| {
            let mut u = unit(
                &format!("U{k:02}"),
                Some(&format!("01{k:08}")),
                vsics[k % 3],
            );
            u.ownership = owners[(k / 3) % 2];
            u.employees_male = 5 + (k as u64 * 37) % 300;
            u.employees_female = 2 * ((k as u64 * 53) % 150);
            u
        })
        .collect();
    Frame::new(units, vec![]).unwrap()
}

const GOLDEN_DESIGN: &str = r#"{
  "schema_version": 1,
  "name": "golden",
  "seed": 20260315,
  "strata": ["vsic", "ownership"],
  "take_all": {"column": "employees", "at_least": 500},
  "allocation": {"method": "neyman", "variable": "employees", "min_per_stratum": 2},
  "sample_size": {"n": 20},
  "selection": {"method": "pps_systematic", "size": "employees", "sort_by": ["province", "id"]}
}"#;

fn selected_ids(frame: &Frame, design: &str) -> Vec<String> {
    let design = Design::parse(design).unwrap();
    let sample = draw_sample(frame, &design).unwrap();
    sample
        .units
        .iter()
        .map(|s| frame.units[s.unit].id.clone())
        .collect()
}

#[test]
fn replay_reproduces_the_frozen_sample() {
    let frame = design_frame();
    let design = Design::parse(GOLDEN_DESIGN).unwrap();
    let first = draw_sample(&frame, &design).unwrap();
    let second = draw_sample(&frame, &design).unwrap();
    assert_eq!(first, second);
    assert_eq!(first.n_total, 20);
    assert_eq!(design_frame().digest(), frame.digest());
    assert_eq!(frame.digest().len(), 64);
    assert_eq!(first.units.len(), 20);
    let pis: Vec<u64> = first.units.iter().map(|s| s.pi.to_bits()).collect();
    let again: Vec<u64> = second.units.iter().map(|s| s.pi.to_bits()).collect();
    assert_eq!(pis, again);
    // Frozen: seed 20260315 on this frame selects exactly these units. A change here means
    // stored samples can no longer be replayed.
    assert_eq!(selected_ids(&frame, GOLDEN_DESIGN), GOLDEN_IDS);
}

const GOLDEN_IDS: [&str; 20] = [
    "U08", "U14", "U31", "U48", "U56", "U05", "U29", "U47", "U20", "U44", "U21", "U39", "U51",
    "U30", "U54", "U04", "U16", "U40", "U13", "U49",
];

#[test]
fn every_selection_method_draws_from_a_design() {
    let frame = design_frame();
    for method in [
        "srswor",
        "systematic",
        "pps_systematic",
        "poisson",
        "sequential_poisson",
        "pareto",
    ] {
        let design = format!(
            r#"{{"schema_version":1,"seed":5,"strata":["ownership"],
                "allocation":{{"method":"proportional"}},"sample_size":{{"n":12}},
                "selection":{{"method":"{method}","size":"employees"}}}}"#
        );
        let design = Design::parse(&design).unwrap();
        let sample = draw_sample(&frame, &design).unwrap();
        assert_eq!(sample.strata.len(), 2);
        assert!(sample.units.iter().all(|s| s.pi > 0.0 && s.pi <= 1.0));
        if method != "poisson" {
            assert_eq!(sample.units.len(), 12, "{method}");
        }
        for record in &sample.strata {
            assert_eq!(record.n, 6);
        }
    }
    // PRN: same PRN seed in two waves with a different design seed selects the same units.
    let wave = |seed: u64| {
        format!(
            r#"{{"schema_version":1,"seed":{seed},"sample_size":{{"n":10}},
                "selection":{{"method":"pareto","size":"employees"}},"prn":{{"seed":77}}}}"#
        )
    };
    assert_eq!(
        selected_ids(&frame, &wave(1)),
        selected_ids(&frame, &wave(2))
    );
}

#[test]
fn design_documents_are_validated() {
    let cases = [
        (
            r#"{"schema_version":2,"seed":1,"sample_size":{"n":1},"selection":{"method":"srswor"}}"#,
            "schema_version 2",
        ),
        (
            r#"{"schema_version":1,"seed":1,"sample_size":{"n":1},"selection":{"method":"lottery"}}"#,
            "selection.method `lottery`",
        ),
        (
            r#"{"schema_version":1,"seed":1,"sample_size":{"n":1},"selection":{"method":"pps_systematic"}}"#,
            "needs `size`",
        ),
        (
            r#"{"schema_version":1,"seed":1,"sample_size":{"n":1,"budget":{"total":5}},"selection":{"method":"srswor"}}"#,
            "exactly one",
        ),
        (
            r#"{"schema_version":1,"seed":1,"allocation":{"method":"power"},"sample_size":{"n":1},"selection":{"method":"srswor"}}"#,
            "needs `q`",
        ),
        (
            r#"{"schema_version":1,"seed":1,"allocation":{"method":"neyman"},"sample_size":{"n":1},"selection":{"method":"srswor"}}"#,
            "needs `variable`",
        ),
        (
            r#"{"schema_version":1,"seed":1,"sample_size":{"n":1},"selection":{"method":"srswor"},"prn":{"seed":3}}"#,
            "prn coordination",
        ),
        (
            r#"{"schema_version":1,"seed":1,"sample_size":{"n":1},"selection":{"method":"srswor"},"tracing":[{"from_tier":0,"mode":"subsample_links"}]}"#,
            "needs `k`",
        ),
        (
            r#"{"schema_version":1,"seed":1,"sample_size":{"n":1},"selection":{"method":"srswor"},"colour":"red"}"#,
            "unknown field `colour`",
        ),
    ];
    for (json, expected) in cases {
        match Design::parse(json) {
            Err(SamplingError::Design(message)) => {
                assert!(message.contains(expected), "{message} lacks {expected}")
            }
            other => panic!("{json}: expected a design error, got {other:?}"),
        }
    }
    let frame = design_frame();
    let unknown = Design::parse(r#"{"schema_version":1,"seed":1,"strata":["colour"],"sample_size":{"n":4},"selection":{"method":"srswor"}}"#).unwrap();
    assert_eq!(
        draw_sample(&frame, &unknown),
        Err(SamplingError::UnknownColumn("colour".into()))
    );
    let proportion = Design::parse(r#"{"schema_version":1,"seed":1,"sample_size":{"proportion":{"p":0.5,"margin":0.05,"population":60}},"selection":{"method":"srswor"}}"#).unwrap();
    let sample = draw_sample(&frame, &proportion).unwrap();
    // n = 384.16 / (1 + 384.16/60) = 51.9 → 52.
    assert_eq!(sample.units.len(), 52);
}

// ---------------------------------------------------------------------------------------
// End to end: the stored π_{i|s} and L_i give unbiased GWSM estimates (example 2).

#[test]
fn example_2_tracing_records_give_unbiased_totals() {
    // Y_i = workers with excessive hours (S1: 1, S2: 2, S3: 1; total 4); M_i = workers
    // (3, 2, 2; total 7). Stage 1 SRSWOR 2 of {A1..A4} (d = 2, all 6 samples); stage 2
    // SRSWOR of min(2, |Ω|) reached suppliers from the trace, with its stored π_{i|s};
    // GWSM weight w_i = Σ_{j∈s, j→i} d_j / L_i with the trace's L_i (§2.2, §2.8.1).
    let frame = example_frame();
    let y: HashMap<&str, f64> = [("S1", 1.0), ("S2", 2.0), ("S3", 1.0)].into();
    let m: HashMap<&str, f64> = [("S1", 3.0), ("S2", 2.0), ("S3", 2.0)].into();
    let frame_units = ["A1", "A2", "A3", "A4"];
    let seeds_per_sample = 2_000u64;
    let (mut sum_y, mut sum_y2, mut sum_m, mut count) = (0.0, 0.0, 0.0, 0.0);
    for a in 0..4 {
        for b in a + 1..4 {
            let rosters: Vec<SupplierRoster> = [frame_units[a], frame_units[b]]
                .iter()
                .map(|&buyer| {
                    let buyer_idx = frame.index_of(buyer).unwrap();
                    let rows = frame
                        .links
                        .iter()
                        .filter(|l| l.buyer == buyer_idx)
                        .enumerate()
                        .map(|(pos, l)| {
                            supplier(
                                pos as u32 + 1,
                                frame.units[l.supplier].tax_code.as_deref(),
                                1.0,
                            )
                        })
                        .collect();
                    SupplierRoster {
                        respondent_id: buyer.into(),
                        rows,
                    }
                })
                .collect();
            for seed in 0..seeds_per_sample {
                let trace = run_trace(
                    &frame,
                    &rosters,
                    &[],
                    &TraceMode::SubsampleUnitsSrswor { n: 2 },
                    seed,
                );
                let (mut est_y, mut est_m) = (0.0, 0.0);
                for reached in trace.reached.iter().filter(|r| r.selected) {
                    let reporters = trace
                        .links
                        .iter()
                        .filter(|l| l.supplier == reached.unit)
                        .count();
                    let w = 2.0 * reporters as f64 / f64::from(reached.l) / reached.pi_given_s;
                    let id = frame.units[reached.unit].id.as_str();
                    est_y += w * y[id];
                    est_m += w * m[id];
                }
                sum_y += est_y;
                sum_y2 += est_y * est_y;
                sum_m += est_m;
                count += 1.0;
            }
        }
    }
    let mean_y = sum_y / count;
    let se_y = ((sum_y2 / count - mean_y * mean_y) / count).sqrt();
    assert!(
        (mean_y - 4.0).abs() < 3.0 * se_y,
        "E(Ŷ) = {mean_y} ± {se_y}"
    );
    assert!(
        (sum_m / count - 7.0).abs() < 0.1,
        "E(M̂) = {}",
        sum_m / count
    );
}

// ---------------------------------------------------------------------------------------
// The command line: frame import errors, and draw → trace → workers CSVs.

fn chainsurvey(args: &[&str]) -> std::process::Output {
    match std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(args)
        .output()
    {
        Ok(output) => output,
        Err(err) => panic!("running chainsurvey: {err}"),
    }
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/frame");

#[test]
fn cli_frame_import_reports_positioned_errors_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("units.csv");
    std::fs::write(
        &bad,
        "id,vsic,province,ownership,employees_male,employees_female\nA,2610,99,FDI,-1,3\nA,2610,27,FDI,1,1\n",
    )
    .unwrap();
    let out = chainsurvey(&["frame", "import", "--units", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("units.csv:2: column 3 `province`: `99` is not a pre-2025"),
        "{stderr}"
    );
    assert!(
        stderr.contains("units.csv:2: column 5 `employees_male`: `-1` is negative"),
        "{stderr}"
    );
    assert!(
        stderr.contains("units.csv:3: column 1 `id`: duplicate unit id `A`"),
        "{stderr}"
    );

    let units = format!("{FIXTURES}/units.csv");
    let links = format!("{FIXTURES}/links.csv");
    let checked = dir.path().join("checked");
    let out = chainsurvey(&[
        "frame",
        "import",
        "--units",
        &units,
        "--links",
        &links,
        "--tier0-vsic",
        "26",
        "--out",
        checked.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(checked.join("units.csv")).unwrap();
    assert!(
        written
            .lines()
            .next()
            .unwrap()
            .ends_with(",region6,prn,tier"),
        "{written}"
    );
    let out = chainsurvey(&[
        "frame",
        "show",
        "--units",
        &units,
        "--links",
        &links,
        "--tier0-vsic",
        "26",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("units: 6   links: 7"));
}

#[test]
fn cli_draw_trace_workers_write_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(
        path("design.json"),
        r#"{"schema_version":1,"seed":42,"population":{"tier":["1","2","3"]},"strata":["ownership"],
            "allocation":{"method":"proportional","min_per_stratum":1},"sample_size":{"n":3},
            "selection":{"method":"pps_systematic","size":"employees"},
            "tracing":[{"from_tier":0,"mode":"subsample_links","k":5}],"workers":{"per_sex":5}}"#,
    )
    .unwrap();
    std::fs::write(path("tier0.txt"), "T0\n").unwrap();
    let units = format!("{FIXTURES}/units.csv");
    let links = format!("{FIXTURES}/links.csv");
    let frame_args = ["--units", &units, "--links", &links, "--tier0-ids"];
    let tier0 = path("tier0.txt");
    let design = path("design.json");
    let sample = path("sample.csv");
    let mut args = vec!["sample", "draw"];
    args.extend(frame_args);
    args.extend([tier0.as_str(), "--design", &design, "--out", &sample]);
    let out = chainsurvey(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drawn = std::fs::read_to_string(&sample).unwrap();
    // Tiers 1–3 are A, B (tier 1), C (2), D (3). FDI stratum = {A} (take-all); DOM = {B, C,
    // D} with n = 2 by PPS on employment (100, 15, 3): B is capped to 1, then C gets
    // 15/18 and D 3/18.
    let rows: Vec<Vec<String>> = drawn
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{drawn}");
    let pi_of = |id: &str| {
        rows.iter()
            .find(|r| r[0] == id)
            .map(|r| r[3].parse::<f64>().unwrap())
    };
    assert_eq!(pi_of("A"), Some(1.0));
    assert_eq!(pi_of("B"), Some(1.0));
    let other = pi_of("C").or(pi_of("D")).unwrap();
    assert!((other - 15.0 / 18.0).abs() < 1e-12 || (other - 3.0 / 18.0).abs() < 1e-12);

    std::fs::write(
        path("suppliers.csv"),
        "respondent_id,row,sup_tax_code,sup_name,sup_purchase_value\nT0,1,0101234568,Alpha,100\nT0,2,0101-234-569,Beta,20\nT0,3,KR-1,Samsung Korea,500\n",
    )
    .unwrap();
    std::fs::write(
        path("customers.csv"),
        "unit_id,cus_tax_code,n_customers_electronics\nA,0101234567,\n",
    )
    .unwrap();
    let (suppliers, customers, trace, unmatched) = (
        path("suppliers.csv"),
        path("customers.csv"),
        path("trace.csv"),
        path("unmatched.csv"),
    );
    let mut args = vec!["sample", "trace"];
    args.extend(frame_args);
    args.extend([
        tier0.as_str(),
        "--design",
        &design,
        "--suppliers",
        &suppliers,
        "--customers",
        &customers,
        "--out",
        &trace,
        "--unmatched",
        &unmatched,
    ]);
    let out = chainsurvey(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let traced = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = traced.lines().collect();
    assert_eq!(lines.len(), 3, "{traced}");
    assert!(
        lines[0].starts_with(
            "buyer_id,supplier_id,supplier_tax_code,roster_row,match,listed,p,retained"
        )
    );
    assert!(
        lines[1].starts_with(
            "T0,A,0101234568,1,exact,2,1.0,1,1,1.0,1,1,1,,record_linkage,0,subsample_links(k=5),"
        ),
        "{traced}"
    );
    assert!(
        lines[2].starts_with("T0,B,0101234569,2,exact,2,1.0,1,1,1.0,1,1,1,,register_links,0,"),
        "{traced}"
    );
    let unmatched_rows = std::fs::read_to_string(&unmatched).unwrap();
    assert!(
        unmatched_rows.contains("T0,3,KR-1,Samsung Korea,not a Vietnamese tax code"),
        "{unmatched_rows}"
    );

    let workers = path("workers.csv");
    let out = chainsurvey(&[
        "sample",
        "workers",
        "--units",
        &units,
        "--interviewed",
        &sample,
        "--design",
        &design,
        "--out",
        &workers,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let selected = std::fs::read_to_string(&workers).unwrap();
    // A: 300 men, 700 women → 5 + 5; B: 40 + 60 → 5 + 5; C (15 = 12 + 3) or D (2 + 1).
    let a_rows: Vec<&str> = selected.lines().filter(|l| l.starts_with("A,")).collect();
    assert_eq!(a_rows.len(), 10);
    assert!(
        a_rows
            .iter()
            .all(|l| l.contains(",300,5,0,") || l.contains(",700,5,0,")),
        "{selected}"
    );
}
