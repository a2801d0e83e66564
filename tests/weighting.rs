//! Weighting vectors of METHODOLOGY §6 ("Indirect sampling (GWSM)", "Weighting
//! adjustments"), checked by exact enumeration of every possible sample. Where an oracle is a
//! fraction, the f64 result is compared with the fraction's value to 1e-12.

use chainsurvey::weighting::bootstrap::{BootstrapDesign, Replicates, multistage_replicates};
use chainsurvey::weighting::coverage::coverage;
use chainsurvey::weighting::kish::kish_deff;
use chainsurvey::weighting::links::{DuplicateLinks, LinkInput, LinkScale, LinkTable};
use chainsurvey::weighting::nonresponse::{CollapseRule, ResponseStatus, nonresponse_adjust};
use chainsurvey::weighting::recipe::{
    CalibrationStep, FrameStep, Recipe, RecipeOutput, TierStep, TrimStep, WorkerRow, run_recipe,
    run_replicate,
};
use chainsurvey::weighting::share::{
    FrameWeight, LinkRetention, ShareMode, ShareOperator, derived_z, share,
};
use chainsurvey::weighting::subsample::SubsampledUnit;
use chainsurvey::weighting::trim::{TrimCap, trim};
use chainsurvey::weighting::workers::{WorkerTake, worker_factors};
use chainsurvey::weighting::{DesignWeight, Error, Probability, base, probability};
use rand::Rng;
use rand::rngs::ChaCha20Rng;
use std::path::Path;
use std::process::Output;

const TOL: f64 = 1e-12;

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= TOL * expected.abs().max(1.0)
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        close(actual, expected),
        "{what}: got {actual}, expected {expected}"
    );
}

/// Every subset of size `n` of `0..population`, in lexicographic order ({0,1}, {0,2}, …),
/// which is the order of the sample tables of METHODOLOGY §2.7.
fn combinations(population: usize, n: usize) -> Vec<Vec<usize>> {
    fn rec(
        start: usize,
        population: usize,
        n: usize,
        current: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if current.len() == n {
            out.push(current.clone());
            return;
        }
        for next in start..population {
            current.push(next);
            rec(next + 1, population, n, current, out);
            current.pop();
        }
    }
    let mut out = Vec::new();
    rec(0, population, n, &mut Vec::new(), &mut out);
    out
}

fn links(rows: &[(usize, usize)]) -> Vec<LinkInput> {
    rows.iter()
        .map(|&(frame_unit, target_unit)| LinkInput {
            frame_unit,
            target_unit,
            importance: None,
        })
        .collect()
}

fn weighted_links(rows: &[(usize, usize, f64)]) -> Vec<LinkInput> {
    rows.iter()
        .map(|&(frame_unit, target_unit, b)| LinkInput {
            frame_unit,
            target_unit,
            importance: Some(b),
        })
        .collect()
}

/// A counted link table (every link counts 1) that refuses duplicate rows.
fn count_table(
    n_frame: usize,
    cluster_of: Vec<usize>,
    rows: &[(usize, usize)],
) -> Result<LinkTable, Error> {
    LinkTable::new(
        n_frame,
        cluster_of,
        &links(rows),
        LinkScale::Count,
        DuplicateLinks::Refuse,
    )
}

fn clustered(table: &LinkTable) -> ShareOperator {
    ShareOperator::compile(table, ShareMode::Clustered).expect("compile")
}

fn sample_of(units: &[usize], weight: f64) -> Vec<FrameWeight> {
    units
        .iter()
        .map(|&frame_unit| FrameWeight { frame_unit, weight })
        .collect()
}

/// Σ w·y over the pairs of `weights` and `y`.
fn weighted_sum(weights: &[f64], y: &[f64]) -> f64 {
    weights.iter().zip(y).map(|(w, y)| w * y).sum()
}

fn estimate(operator: &ShareOperator, sample: &[FrameWeight], y: &[f64]) -> f64 {
    let shared = share(operator, sample, None).expect("share");
    weighted_sum(&shared.unit_weight, y)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance s² (divisor n − 1).
fn sample_variance(values: &[f64]) -> f64 {
    let m = mean(values);
    values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() as f64 - 1.0)
}

// ---------------------------------------------------------------------------------------
// Worked example 1 (METHODOLOGY §2.7).
// Frame A1..A4 = 0..3. Target units S1a, S1b (cluster S1 = 0), S2a (S2 = 1), S3a, S3b
// (S3 = 2) = 0..4.

const EX1_Y: [f64; 5] = [100.0, 50.0, 40.0, 10.0, 20.0];

/// The links of example 1 as (frame unit, target unit).
const EX1_LINKS: [(usize, usize); 6] = [(0, 0), (1, 0), (1, 1), (2, 2), (3, 2), (3, 4)];

fn ex1_table() -> LinkTable {
    count_table(4, vec![0, 0, 1, 2, 2], &EX1_LINKS).expect("example 1 links")
}

/// SRSWOR variance estimator of a total from z over the sample: N²(1 − n/N) s²_z / n.
fn srswor_variance(z: &[f64], population: usize) -> f64 {
    let n = z.len() as f64;
    let big_n = population as f64;
    big_n * big_n * (1.0 - n / big_n) * sample_variance(z) / n
}

#[test]
fn example1_cluster_weights_estimates_and_expectation() {
    let operator = clustered(&ex1_table());
    // Rows of the §2.7 table: (w_S1, w_S2, w_S3) with None for "–", then Ŷ.
    let expected: [([Option<f64>; 3], f64); 6] = [
        ([Some(2.0), None, None], 300.0),
        ([Some(2.0 / 3.0), Some(1.0), None], 140.0),
        ([Some(2.0 / 3.0), Some(1.0), Some(2.0)], 200.0),
        ([Some(4.0 / 3.0), Some(1.0), None], 240.0),
        ([Some(4.0 / 3.0), Some(1.0), Some(2.0)], 300.0),
        ([None, Some(2.0), Some(2.0)], 140.0),
    ];
    let first_unit_of_cluster = [0, 2, 3];
    let mut estimates = Vec::new();
    for (sample, (weights, y_hat)) in combinations(4, 2).iter().zip(expected) {
        let shared = share(&operator, &sample_of(sample, 2.0), None).expect("share");
        for (cluster, expected_weight) in weights.iter().enumerate() {
            let unit = first_unit_of_cluster[cluster];
            match expected_weight {
                Some(w) => {
                    assert!(shared.reached[unit], "sample {sample:?} cluster {cluster}");
                    assert_close(shared.unit_weight[unit], *w, "cluster weight");
                }
                None => assert!(!shared.reached[unit] && shared.unit_weight[unit] == 0.0),
            }
        }
        let total = weighted_sum(&shared.unit_weight, &EX1_Y);
        assert_close(total, y_hat, "Ŷ");
        estimates.push(total);
    }
    assert_close(mean(&estimates), 220.0, "E(Ŷ)");
    // True variance over the 6 equally likely samples.
    let variance = estimates.iter().map(|e| (e - 220.0).powi(2)).sum::<f64>() / 6.0;
    assert_close(variance, 4400.0, "V(Ŷ)");
}

#[test]
fn example1_variance_estimator_from_z_is_unbiased() {
    let operator = clustered(&ex1_table());
    let y: Vec<Option<f64>> = EX1_Y.iter().map(|&v| Some(v)).collect();
    let expected_v = [5000.0, 1800.0, 0.0, 12800.0, 5000.0, 1800.0];
    let mut v_hats = Vec::new();
    for (sample, expected) in combinations(4, 2).iter().zip(expected_v) {
        let z = derived_z(&operator, sample, None, &y).expect("z");
        // Ŷ = Σ d_j z_j reproduces the share estimate.
        let y_hat: f64 = z.iter().map(|v| 2.0 * v).sum();
        assert_close(
            y_hat,
            estimate(&operator, &sample_of(sample, 2.0), &EX1_Y),
            "Σ d z",
        );
        let v = srswor_variance(&z, 4);
        assert_close(v, expected, "v̂");
        v_hats.push(v);
    }
    assert_close(mean(&v_hats), 4400.0, "E(v̂)");
    // The population z of §2.7: (50, 100, 20, 50), Σ = 220.
    let z_all = derived_z(&operator, &[0, 1, 2, 3], None, &y).expect("z");
    for (got, want) in z_all.iter().zip([50.0, 100.0, 20.0, 50.0]) {
        assert_close(*got, want, "z_j");
    }
}

#[test]
fn z_keeps_sampled_frame_units_without_links_as_zero_rows() {
    // Example 1 with a fifth frame unit A5 that has no link: it must stay in the sample's z
    // with z = 0 (dropping it would change n and understate the variance).
    let table = count_table(5, vec![0, 0, 1, 2, 2], &EX1_LINKS).expect("links");
    let operator = clustered(&table);
    let y: Vec<Option<f64>> = vec![Some(100.0), Some(50.0), Some(40.0), Some(10.0), Some(20.0)];
    let z = derived_z(&operator, &[1, 4], None, &y).expect("z");
    assert_eq!(z.len(), 2);
    assert_close(z[0], 100.0, "z_A2");
    assert_eq!(z[1], 0.0);
    // Values of unreached units may be unknown; a needed one may not.
    let partial = vec![Some(100.0), Some(50.0), None, None, None];
    assert!(derived_z(&operator, &[1, 4], None, &partial).is_ok());
    assert_eq!(
        derived_z(&operator, &[3], None, &partial),
        Err(Error::MissingTargetValue { target_unit: 2 })
    );
}

#[test]
fn example1_unit_without_own_link_gets_cluster_weight() {
    let table = ex1_table();
    let operator = clustered(&table);
    // Sample {A2, A4}: S3a (unit 3) has no link but carries w_S3 = 2.
    let shared = share(&operator, &sample_of(&[1, 3], 2.0), None).expect("share");
    assert!(shared.reached[3]);
    assert_close(shared.unit_weight[3], 2.0, "w(S3a)");
    let cov = coverage(&table);
    assert!(cov.orphan_clusters.is_empty());
    assert_eq!(cov.units_without_own_links, vec![3]);
    assert_eq!(
        chainsurvey::weighting::coverage::reached_without_own_links(&table, &shared),
        vec![3]
    );
}

#[test]
fn example1_singleton_mode_loses_the_unlinked_unit() {
    let operator = ShareOperator::compile(&ex1_table(), ShareMode::Singleton).expect("compile");
    let expected = [300.0, 140.0, 180.0, 240.0, 280.0, 120.0];
    let mut estimates = Vec::new();
    for (sample, want) in combinations(4, 2).iter().zip(expected) {
        let total = estimate(&operator, &sample_of(sample, 2.0), &EX1_Y);
        assert_close(total, want, "singleton Ŷ");
        estimates.push(total);
    }
    // Bias −10 = y(S3a).
    assert_close(mean(&estimates), 210.0, "singleton E(Ŷ)");
}

#[test]
fn example1_weighted_links() {
    // Cluster-level importances B(A1,S1) = 30, B(A2,S1) = 10 (split 6 + 4 over the two S1
    // units A2 links to, which leaves B_{A2,S1} = 10), B(A3,S2) = 5, B(A4,S2) = 15,
    // B(A4,S3) = 8.
    let table = LinkTable::new(
        4,
        vec![0, 0, 1, 2, 2],
        &weighted_links(&[
            (0, 0, 30.0),
            (1, 0, 6.0),
            (1, 1, 4.0),
            (2, 2, 5.0),
            (3, 2, 15.0),
            (3, 4, 8.0),
        ]),
        LinkScale::Importance,
        DuplicateLinks::Refuse,
    )
    .expect("weighted links");
    let operator = clustered(&table);
    let shared = share(&operator, &sample_of(&[1, 3], 2.0), None).expect("share");
    assert_close(shared.unit_weight[0], 0.5, "w_S1");
    assert_close(shared.unit_weight[2], 1.5, "w_S2");
    assert_close(shared.unit_weight[3], 2.0, "w_S3");
    assert_close(
        estimate(&operator, &sample_of(&[1, 3], 2.0), &EX1_Y),
        195.0,
        "Ŷ {A2,A4}",
    );
    let estimates: Vec<f64> = combinations(4, 2)
        .iter()
        .map(|s| estimate(&operator, &sample_of(s, 2.0), &EX1_Y))
        .collect();
    assert_close(mean(&estimates), 220.0, "E(Ŷ) weighted links");
}

// ---------------------------------------------------------------------------------------
// The S6 vectors. METHODOLOGY §6 quotes only their results; the populations below are the
// smallest ones consistent with them, and they are the ones of Lavallée's R implementation
// tests that S6 cites. Frame {a,b,c,d} = 0..3, SRSWOR n = 2 (d = 2).
// Counting population: targets t1, t2, t5 (cluster H1 = 0), t3 (H2 = 1), t4 (H3 = 2) =
// units 0..4 with y = (1, 10, 100, 1000, 10000); links a–t1, a–t2, b–t1, c–t3, d–t3.

const S6_Y: [f64; 5] = [1.0, 10.0, 100.0, 1000.0, 10000.0];

fn s6_table(duplicates: DuplicateLinks, extra: &[(usize, usize)]) -> Result<LinkTable, Error> {
    let mut rows = vec![(0, 0), (0, 1), (1, 0), (2, 3), (3, 3)];
    rows.extend_from_slice(extra);
    LinkTable::new(
        4,
        vec![0, 0, 0, 1, 2],
        &links(&rows),
        LinkScale::Count,
        duplicates,
    )
}

fn s6_estimates(mode: ShareMode) -> Vec<f64> {
    let table = s6_table(DuplicateLinks::Refuse, &[]).expect("links");
    let operator = ShareOperator::compile(&table, mode).expect("compile");
    combinations(4, 2)
        .iter()
        .map(|s| estimate(&operator, &sample_of(s, 2.0), &S6_Y))
        .collect()
}

#[test]
fn s6_clustered_and_elimination_are_unbiased_and_different() {
    let clustered = s6_estimates(ShareMode::Clustered);
    let extended = s6_estimates(ShareMode::ClusterElimination);
    assert_close(mean(&clustered), 1111.0, "E clustered");
    assert_close(mean(&extended), 1111.0, "E extended");
    assert!(clustered.iter().zip(&extended).any(|(a, b)| !close(*a, *b)));
    // The cluster H3 has no link at all: the bias is exactly its total.
    let population: f64 = S6_Y.iter().sum();
    assert_close(population - mean(&clustered), 10000.0, "orphan bias");
    // Singleton mode also loses t5 (no own link).
    assert_close(
        mean(&s6_estimates(ShareMode::Singleton)),
        1011.0,
        "E singleton",
    );
    let cov = coverage(&s6_table(DuplicateLinks::Refuse, &[]).expect("links"));
    assert_eq!(cov.orphan_clusters, vec![2]);
    assert_eq!(cov.units_without_own_links, vec![2]);
}

#[test]
fn s6_three_modes_on_sample_a_c() {
    let table = s6_table(DuplicateLinks::Refuse, &[]).expect("links");
    let ac = sample_of(&[0, 2], 2.0);
    let weight = |mode| {
        share(
            &ShareOperator::compile(&table, mode).expect("compile"),
            &ac,
            None,
        )
        .expect("share")
        .unit_weight
    };
    let clustered = weight(ShareMode::Clustered);
    let extended = weight(ShareMode::ClusterElimination);
    let singleton = weight(ShareMode::Singleton);
    assert_close(clustered[0], 4.0 / 3.0, "clustered t1");
    assert_close(clustered[1], 4.0 / 3.0, "clustered t2");
    assert_close(extended[0], 1.0, "extended t1");
    assert_close(singleton[0], 1.0, "singleton t1");
    assert_close(singleton[1], 2.0, "singleton t2");
    // Sample {a, b}: w_H1 = 2·2/3 + 2·1/3 = 2.
    let ab = share(
        &ShareOperator::compile(&table, ShareMode::Clustered).expect("compile"),
        &sample_of(&[0, 1], 2.0),
        None,
    )
    .expect("share");
    assert_close(ab.unit_weight[0], 2.0, "w_H1 {a,b}");
}

#[test]
fn duplicate_link_rows_are_refused_or_deduplicated() {
    assert_eq!(
        s6_table(DuplicateLinks::Refuse, &[(0, 0)]),
        Err(Error::DuplicateLink {
            row: 5,
            first_row: 0,
            frame_unit: 0,
            target_unit: 0
        })
    );
    let deduped = s6_table(DuplicateLinks::Dedupe, &[(0, 0)]).expect("dedupe");
    assert_eq!(deduped.duplicates_dropped, 1);
    // L is not inflated: the weights equal those of the clean table.
    assert_eq!(
        deduped.unit_totals(),
        s6_table(DuplicateLinks::Refuse, &[])
            .expect("links")
            .unit_totals()
    );
    assert_eq!(deduped.cluster_totals(), vec![3.0, 2.0, 0.0]);
}

// Importance population (S6 quantitative tests): H1 = {t1, t2} = cluster 0, H2 = {t3} =
// cluster 1; B: a→t1 3, a→t2 1, b→t1 2, c→t3 4, d→t3 6; y = (1, 10, 100).

fn s6_importance_rows() -> Vec<(usize, usize, f64)> {
    vec![
        (0, 0, 3.0),
        (0, 1, 1.0),
        (1, 0, 2.0),
        (2, 2, 4.0),
        (3, 2, 6.0),
    ]
}

fn s6_importance_table(rows: &[(usize, usize, f64)]) -> Result<LinkTable, Error> {
    LinkTable::new(
        4,
        vec![0, 0, 1],
        &weighted_links(rows),
        LinkScale::Importance,
        DuplicateLinks::Refuse,
    )
}

#[test]
fn s6_weighted_links_and_supplied_totals() {
    let table = s6_importance_table(&s6_importance_rows()).expect("links");
    let operator = clustered(&table);
    let ab = share(&operator, &sample_of(&[0, 1], 2.0), None).expect("share");
    assert_close(
        ab.unit_weight[0],
        2.0 * 4.0 / 6.0 + 2.0 * 2.0 / 6.0,
        "w_H1 {a,b}",
    );
    let ac = share(&operator, &sample_of(&[0, 2], 2.0), None).expect("share");
    assert_close(ac.unit_weight[0], 2.0 * 4.0 / 6.0, "w_H1 {a,c}");
    assert_close(ac.unit_weight[2], 2.0 * 4.0 / 10.0, "w_H2 {a,c}");
    let y = [1.0, 10.0, 100.0];
    let estimates: Vec<f64> = combinations(4, 2)
        .iter()
        .map(|s| estimate(&operator, &sample_of(s, 2.0), &y))
        .collect();
    assert_close(mean(&estimates), 111.0, "E weighted");
    // A supplied population total (t1 really carries 9, not the observed 5).
    let supplied = table
        .clone()
        .with_supplied_totals(&[9.0, 1.0, 10.0])
        .expect("totals");
    let op = clustered(&supplied);
    let w = share(&op, &sample_of(&[0, 1], 2.0), None).expect("share");
    assert_close(
        w.unit_weight[0],
        2.0 * 4.0 / 10.0 + 2.0 * 2.0 / 10.0,
        "supplied w_H1",
    );
    assert_close(w.unit_weight[0], 1.2, "supplied w_H1 = 1.2");
}

#[test]
fn weighted_links_refusals() {
    // A zero importance on one link is fine when the cluster total is positive.
    let mut rows = s6_importance_rows();
    rows[1].2 = 0.0;
    let table = s6_importance_table(&rows).expect("zero link allowed");
    let op = clustered(&table);
    let w = share(&op, &sample_of(&[0, 1], 2.0), None).expect("share");
    assert_close(w.unit_weight[0], 2.0 * 3.0 / 5.0 + 2.0 * 2.0 / 5.0, "w_H1");
    // A reached cluster with B_i = 0 is refused (Constraint 4.1) …
    let zero = s6_importance_table(&s6_importance_rows())
        .expect("links")
        .with_supplied_totals(&[0.0, 0.0, 10.0])
        .expect("totals");
    let op = clustered(&zero);
    assert_eq!(
        share(&op, &sample_of(&[0, 1], 2.0), None),
        Err(Error::ZeroClusterTotal { cluster: 0 })
    );
    // … but not when the sample does not reach it.
    assert!(share(&op, &sample_of(&[2, 3], 2.0), None).is_ok());
    // Negative and missing importances.
    let mut negative = s6_importance_rows();
    negative[0].2 = -1.0;
    assert_eq!(
        s6_importance_table(&negative),
        Err(Error::LinkImportanceInvalid {
            row: 0,
            value: -1.0
        })
    );
    let mut missing = weighted_links(&s6_importance_rows());
    missing[0].importance = None;
    assert_eq!(
        LinkTable::new(
            4,
            vec![0, 0, 1],
            &missing,
            LinkScale::Importance,
            DuplicateLinks::Refuse
        ),
        Err(Error::LinkImportanceMissing { row: 0 })
    );
    let mut nan = s6_importance_rows();
    nan[2].2 = f64::NAN;
    assert!(matches!(
        s6_importance_table(&nan),
        Err(Error::LinkImportanceInvalid { row: 2, .. })
    ));
    // Cluster elimination has no convention for importances.
    assert_eq!(
        ShareOperator::compile(&table, ShareMode::ClusterElimination),
        Err(Error::EliminationUnsupported {
            what: "weighted links"
        })
    );
    // Out-of-range rows.
    assert!(matches!(
        count_table(4, vec![0], &[(7, 0)]),
        Err(Error::LinkFrameUnitOutOfRange {
            row: 0,
            frame_unit: 7,
            ..
        })
    ));
    assert!(matches!(
        count_table(4, vec![0], &[(0, 3)]),
        Err(Error::LinkTargetOutOfRange {
            row: 0,
            target_unit: 3,
            ..
        })
    ));
}

#[test]
fn link_subsampling_is_unbiased_given_the_frame_sample() {
    // Every link of a sampled frame unit is retained independently with p = 1/2; averaging
    // u/p-weighted estimates over every retention pattern gives back the full-link estimate,
    // and over every frame sample the total 220.
    let operator = clustered(&ex1_table());
    let half = Probability::new(0.5, "p").expect("p");
    let mut over_samples = Vec::new();
    for sample in combinations(4, 2) {
        let pairs: Vec<(usize, usize)> = sample
            .iter()
            .flat_map(|&j| operator.coefficients(j).iter().map(move |&(g, _)| (j, g)))
            .collect();
        let mut expected_given_sample = 0.0;
        for pattern in 0..(1u32 << pairs.len()) {
            let mut retention = LinkRetention::new();
            for (bit, &(j, g)) in pairs.iter().enumerate() {
                if pattern & (1 << bit) != 0 {
                    retention.retain(j, g, half);
                }
            }
            let shared =
                share(&operator, &sample_of(&sample, 2.0), Some(&retention)).expect("share");
            let total = weighted_sum(&shared.unit_weight, &EX1_Y);
            expected_given_sample += total / f64::from(1u32 << pairs.len());
        }
        assert_close(
            expected_given_sample,
            estimate(&operator, &sample_of(&sample, 2.0), &EX1_Y),
            "E(Ŷ | s)",
        );
        over_samples.push(expected_given_sample);
    }
    assert_close(mean(&over_samples), 220.0, "E(Ŷ) with link subsampling");
}

// ---------------------------------------------------------------------------------------
// Worked examples 2 and 3 through the recipe (exact enumeration of every path).

/// Example 2 population: frame A1..A4; enterprises S1, S2, S3 (clusters of one unit);
/// links A1–S1, A2–S1, A3–S2, A4–S2, A4–S3.
fn ex2_operator() -> ShareOperator {
    clustered(
        &count_table(4, vec![0, 1, 2], &[(0, 0), (1, 0), (2, 1), (3, 1), (3, 2)]).expect("links"),
    )
}

const EX2_WORKERS: [&[f64]; 3] = [&[1.0, 0.0, 0.0], &[1.0, 1.0], &[0.0, 1.0]];

fn design_weight(value: f64) -> DesignWeight {
    DesignWeight::new(value, "test").expect("weight")
}

/// A frame sample of `units` out of `n_population`, each with design weight `d`, all
/// responding.
fn frame_step(n_population: usize, units: Vec<usize>, d: f64) -> FrameStep {
    FrameStep {
        n_population,
        base: vec![design_weight(d); units.len()],
        units,
        nonresponse: None,
    }
}

/// A tier that shares through `operator` with every link kept, every reached unit selected
/// and no non-response.
fn plain_tier(operator: ShareOperator) -> TierStep {
    TierStep {
        operator,
        retention: None,
        subsample: None,
        nonresponse: None,
    }
}

/// The take of a worker cell: M workers, m selected, r responded.
fn worker_take(population: u64, selected: u64, responded: u64) -> WorkerTake {
    WorkerTake {
        population,
        selected,
        responded,
    }
}

/// One worker row for each unit `0..n_units` of `tier`, the only worker of its unit
/// (take 1 of 1).
fn sole_workers(tier: usize, n_units: usize) -> Vec<WorkerRow> {
    (0..n_units)
        .map(|unit| WorkerRow {
            tier,
            unit,
            take: worker_take(1, 1, 1),
        })
        .collect()
}

/// A recipe without calibration and trimming.
fn recipe_of(frame: FrameStep, tiers: Vec<TierStep>, workers: Vec<WorkerRow>) -> Recipe {
    Recipe {
        frame,
        tiers,
        workers,
        calibration: None,
        trimming: None,
    }
}

#[test]
fn example2_three_stage_expectation_by_full_enumeration() {
    let operator = ex2_operator();
    let mut expected_y = 0.0;
    let mut expected_m = 0.0;
    for sample in combinations(4, 2) {
        let p_sample = 1.0 / 6.0;
        let reached = share(&operator, &sample_of(&sample, 2.0), None)
            .expect("share")
            .reached;
        let omega: Vec<usize> = (0..3).filter(|&i| reached[i]).collect();
        let m = omega.len().min(2);
        let subsets = combinations(omega.len(), m);
        for subset in &subsets {
            let chosen: Vec<usize> = subset.iter().map(|&idx| omega[idx]).collect();
            let p_subset = 1.0 / subsets.len() as f64;
            let pi = Probability::new(m as f64 / omega.len() as f64, "π_i|s").expect("π");
            // One worker per chosen supplier: enumerate every combination of worker draws.
            let mut draws: Vec<Vec<usize>> = vec![Vec::new()];
            for &i in &chosen {
                draws = draws
                    .into_iter()
                    .flat_map(|prefix| {
                        (0..EX2_WORKERS[i].len()).map(move |w| {
                            let mut next = prefix.clone();
                            next.push(w);
                            next
                        })
                    })
                    .collect();
            }
            for draw in &draws {
                let p_draw: f64 = chosen
                    .iter()
                    .map(|&i| 1.0 / EX2_WORKERS[i].len() as f64)
                    .product();
                let recipe = recipe_of(
                    frame_step(4, sample.clone(), 2.0),
                    vec![TierStep {
                        subsample: Some(
                            chosen
                                .iter()
                                .map(|&target_unit| SubsampledUnit {
                                    target_unit,
                                    probability: pi,
                                })
                                .collect(),
                        ),
                        ..plain_tier(operator.clone())
                    }],
                    chosen
                        .iter()
                        .map(|&unit| WorkerRow {
                            tier: 1,
                            unit,
                            take: worker_take(EX2_WORKERS[unit].len() as u64, 1, 1),
                        })
                        .collect(),
                );
                let out = run_recipe(&recipe).expect("recipe");
                let y_hat: f64 = chosen
                    .iter()
                    .zip(draw)
                    .zip(&out.weights)
                    .map(|((&i, &w), weight)| weight * EX2_WORKERS[i][w])
                    .sum();
                let m_hat: f64 = out.weights.iter().sum();
                let p = p_sample * p_subset * p_draw;
                expected_y += p * y_hat;
                expected_m += p * m_hat;
            }
        }
    }
    assert_close(expected_y, 4.0, "E(Ŷ)");
    assert_close(expected_m, 7.0, "E(M̂)");
}

#[test]
fn example2_realized_path() {
    // s^A = {A2, A4}; subsample {S1, S3} with π = 2/3; worker 1 of S1 and worker 2 of S3.
    let pi = Probability::new(2.0 / 3.0, "π").expect("π");
    let recipe = recipe_of(
        frame_step(4, vec![1, 3], 2.0),
        vec![TierStep {
            subsample: Some(vec![
                SubsampledUnit {
                    target_unit: 0,
                    probability: pi,
                },
                SubsampledUnit {
                    target_unit: 2,
                    probability: pi,
                },
            ]),
            ..plain_tier(ex2_operator())
        }],
        vec![
            WorkerRow {
                tier: 1,
                unit: 0,
                take: worker_take(3, 1, 1),
            },
            WorkerRow {
                tier: 1,
                unit: 2,
                take: worker_take(2, 1, 1),
            },
        ],
    );
    let out = run_recipe(&recipe).expect("recipe");
    assert_close(out.weights[0], 4.5, "worker of S1");
    assert_close(out.weights[1], 6.0, "worker of S3");
    assert_close(out.weights[0] * 1.0 + out.weights[1] * 1.0, 10.5, "Ŷ");
    assert_close(out.weights.iter().sum(), 10.5, "M̂");
    // The stored columns multiply to the weight and keep each factor.
    assert_close(out.columns.share[0], 1.0, "share S1");
    assert_close(out.columns.share[1], 2.0, "share S3");
    assert_close(out.columns.subsample[0], 1.5, "subsample");
    assert_close(out.columns.within_unit[0], 3.0, "M/m");
    assert_close(out.columns.base[0], 1.0, "base of a reached unit");
    // A subsampled unit that was not reached is refused.
    let mut bad = recipe.clone();
    bad.frame = frame_step(4, vec![0, 2], 2.0);
    assert!(matches!(
        run_recipe(&bad),
        Err(Error::SubsampledUnitNotReached { target_unit: 2 })
    ));
}

/// Example 3: tier-2 links S1–T1, S2–T1, S3–T2; Y_T1 = 7, Y_T2 = 5.
fn ex3_recipe(sample: &[usize]) -> Recipe {
    let tier2 = count_table(3, vec![0, 1], &[(0, 0), (1, 0), (2, 1)]).expect("tier-2 links");
    recipe_of(
        frame_step(4, sample.to_vec(), 2.0),
        vec![plain_tier(ex2_operator()), plain_tier(clustered(&tier2))],
        Vec::new(),
    )
}

#[test]
fn example3_chained_gwsm() {
    let y = [7.0, 5.0];
    let expected = [7.0, 7.0, 17.0, 7.0, 17.0, 17.0];
    let mut estimates = Vec::new();
    for (sample, want) in combinations(4, 2).iter().zip(expected) {
        let out = run_recipe(&ex3_recipe(sample)).expect("recipe");
        let total: f64 = out.unit_weights[2].iter().zip(y).map(|(w, y)| w * y).sum();
        assert_close(total, want, "tier-2 Ŷ");
        estimates.push(total);
    }
    assert_close(mean(&estimates), 12.0, "E(Ŷ) tier 2");
    let out = run_recipe(&ex3_recipe(&[0, 3])).expect("recipe");
    assert_close(out.unit_weights[1][0], 1.0, "w1 S1");
    assert_close(out.unit_weights[1][1], 1.0, "w1 S2");
    assert_close(out.unit_weights[1][2], 2.0, "w1 S3");
    assert_close(out.unit_weights[2][0], 1.0, "w2 T1");
    assert_close(out.unit_weights[2][1], 2.0, "w2 T2");
}

#[test]
fn gwsm_jk1_over_frame_units_reruns_the_share_operator() {
    // Example 1, sample {A2, A4}; one record per target unit (take 1 of 1) so Ŷ = Σ w y.
    let recipe = recipe_of(
        frame_step(4, vec![1, 3], 2.0),
        vec![plain_tier(clustered(&ex1_table()))],
        sole_workers(1, 5),
    );
    let full = run_recipe(&recipe).expect("full");
    let total = |w: &[f64]| weighted_sum(w, &EX1_Y);
    assert_close(total(&full.weights), 300.0, "Ŷ");
    // Delete A2: d_A4 = 4, w = (S2: 2, S3: 4), Ŷ = 200. Delete A4: d_A2 = 4, w_S1 = 8/3, Ŷ = 400.
    let drop_a2 = run_replicate(&recipe, &full, &[0.0, 4.0]).expect("replicate");
    assert_close(drop_a2[2], 2.0, "w_S2 without A2");
    assert_close(drop_a2[4], 4.0, "w_S3 without A2");
    assert_close(total(&drop_a2), 200.0, "Ŷ without A2");
    let drop_a4 = run_replicate(&recipe, &full, &[4.0, 0.0]).expect("replicate");
    assert_close(drop_a4[0], 8.0 / 3.0, "w_S1 without A4");
    assert_close(total(&drop_a4), 400.0, "Ŷ without A4");
    let replicates = [total(&drop_a2), total(&drop_a4)];
    let v_jk1 = 0.5 * replicates.iter().map(|r| (r - 300.0).powi(2)).sum::<f64>();
    assert_close(v_jk1, 10000.0, "v_JK1");
    assert_close(v_jk1 * 0.5, 5000.0, "v_JK1 × (1 − f) = the §2.7 v̂");
}

// ---------------------------------------------------------------------------------------
// Weighting adjustments.

#[test]
fn nonresponse_classes_with_unknown_eligibility() {
    use ResponseStatus::{Ineligible, NonRespondent, Respondent, Unknown};
    // Class 0: 10 eligible, d = 2, 8 respond. Class 1: 20 eligible (12 respond) + 5
    // ineligible + 5 unknown, d = 50.
    let mut labels = vec![0; 10];
    let mut status = vec![Respondent; 8];
    status.extend([NonRespondent; 2]);
    let mut weights = vec![2.0; 10];
    labels.extend([1; 30]);
    status.extend([Respondent; 12]);
    status.extend([NonRespondent; 8]);
    status.extend([Ineligible; 5]);
    status.extend([Unknown; 5]);
    weights.extend([50.0; 30]);
    let loose = CollapseRule {
        min_respondents: 1,
        max_factor: 2.0,
    };
    let adj = nonresponse_adjust(&labels, &status, &weights, loose).expect("adjust");
    assert_eq!(adj.classes.len(), 2);
    assert_close(adj.classes[0].factor, 1.25, "a_c1");
    assert_close(adj.factor[0] * weights[0], 2.5, "w c1");
    assert_close(adj.classes[1].eligibility_rate, 0.8, "ê_c2");
    assert_close(adj.classes[1].factor, 2.0, "a_c2");
    assert_close(adj.factor[10] * weights[10], 100.0, "w c2");
    assert_eq!(adj.factor[9], 0.0, "non-respondent gets 0");
    assert_eq!(adj.factor[39], 0.0, "unknown gets 0");
    // The weight total of the eligible population is kept: Σ respondents' weights =
    // Σ_{R∪NR} d + ê Σ_U d per class.
    let kept: f64 = (0..40).map(|k| adj.factor[k] * weights[k]).sum();
    assert_close(kept, 20.0 + 1000.0 + 0.8 * 250.0, "adjusted total");

    // With the §3.6 defaults (20 respondents, a ≤ 2), class 0 (8 respondents) collapses
    // into its neighbour; the merged class pools the sums.
    let default_rule = CollapseRule {
        min_respondents: 20,
        max_factor: 2.0,
    };
    let merged = nonresponse_adjust(&labels, &status, &weights, default_rule).expect("adjust");
    assert_eq!(merged.classes.len(), 1);
    assert_eq!(merged.classes[0].members, vec![0, 1]);
    let e_hat = 1020.0 / 1270.0;
    assert_close(merged.classes[0].eligibility_rate, e_hat, "merged ê");
    assert_close(
        merged.classes[0].factor,
        (1020.0 + e_hat * 250.0) / 616.0,
        "merged a",
    );
    assert!(!merged.classes[0].breaks_rule);
    // A class with a > max_factor also collapses.
    let strict = CollapseRule {
        min_respondents: 1,
        max_factor: 1.5,
    };
    let collapsed = nonresponse_adjust(&labels, &status, &weights, strict).expect("adjust");
    assert_eq!(collapsed.classes.len(), 1);
    // No respondent anywhere is an error, not a division by zero.
    assert_eq!(
        nonresponse_adjust(&[0, 0], &[NonRespondent, Unknown], &[1.0, 1.0], loose),
        Err(Error::NoRespondents)
    );
}

#[test]
fn worker_factor_with_worker_nonresponse() {
    let f = worker_factors(worker_take(120, 6, 5), "F").expect("factors");
    assert_close(f.within_unit, 20.0, "M/m");
    assert_close(f.nonresponse, 1.2, "m/r");
    assert_close(f.within_unit * f.nonresponse, 24.0, "24 × unit weight");
    for (m_big, m, r) in [(120, 0, 0), (5, 6, 5), (120, 6, 7), (120, 6, 0)] {
        assert!(matches!(
            worker_factors(worker_take(m_big, m, r), "cell"),
            Err(Error::WorkerCounts { .. })
        ));
    }
    // Through the recipe: a tier-0 unit with d = 3 and take (120, 6, 5) → 72.
    let recipe = recipe_of(
        frame_step(1, vec![0], 3.0),
        Vec::new(),
        vec![WorkerRow {
            tier: 0,
            unit: 0,
            take: worker_take(120, 6, 5),
        }],
    );
    let out = run_recipe(&recipe).expect("recipe");
    assert_close(out.weights[0], 72.0, "worker weight");
    assert_close(out.columns.nr_adj[0], 1.2, "nr_adj column");
}

#[test]
fn trimming_feasible_redistributes_and_keeps_the_total() {
    let mut weights = vec![2.0; 9];
    weights.push(20.0);
    let trimmed = trim(&weights, &[0; 10], TrimCap::MedianMultiple(3.5)).expect("trim");
    assert_close(trimmed.classes[0].cap, 7.0, "cap");
    for w in &trimmed.weights[..9] {
        assert_close(*w, 31.0 / 9.0, "redistributed weight");
    }
    assert_close(trimmed.weights[9], 7.0, "trimmed weight");
    assert_close(trimmed.weights.iter().sum(), 38.0, "total kept");
    assert_eq!(trimmed.classes[0].n_trimmed, 1);
    assert_close(trimmed.classes[0].excess, 13.0, "excess");
    assert_close(trimmed.trim_adj[9], 7.0 / 20.0, "trim_adj");
}

#[test]
fn trimming_infeasible_is_reported_without_looping() {
    let weights = [1.0, 1.0, 1.0, 1.0, 20.0];
    match trim(&weights, &[0; 5], TrimCap::MedianMultiple(3.5)) {
        Err(Error::TrimInfeasible(report)) => {
            assert_eq!(report.classes.len(), 1);
            assert_close(report.classes[0].cap, 3.5, "cap");
            assert_close(report.classes[0].total, 24.0, "total");
            assert_eq!(report.classes[0].n_positive, 5);
            assert!(report.to_string().contains("17.5 < total 24"), "{report}");
        }
        other => panic!("expected an infeasibility report, got {other:?}"),
    }
    // The §3.8 rule with the 99th percentile as a floor: the cap becomes 20, nothing to trim.
    let relaxed = trim(
        &weights,
        &[0; 5],
        TrimCap::MedianMultipleOrQuantile {
            k1: 3.5,
            quantile: 0.99,
        },
    )
    .expect("trim");
    assert_eq!(relaxed.weights, weights.to_vec());
}

#[test]
fn trimming_in_the_recipe_recalibrates_once_and_reports_deff() {
    // Ten tier-0 units, one worker each (take 1/1), base weights (2 × 9, 20); post-stratify
    // to a population of 38 in one cell, trim at 3.5 × median, re-calibrate.
    let mut base = vec![design_weight(2.0); 9];
    base.push(design_weight(20.0));
    let recipe = Recipe {
        frame: FrameStep {
            n_population: 10,
            units: (0..10).collect(),
            base,
            nonresponse: None,
        },
        tiers: Vec::new(),
        workers: sole_workers(0, 10),
        calibration: Some(CalibrationStep::Poststratify {
            cell_of_row: vec![0; 10],
            cell_totals: vec![38.0],
        }),
        trimming: Some(TrimStep {
            classes: vec![0; 10],
            cap: TrimCap::MedianMultiple(3.5),
        }),
    };
    let out = run_recipe(&recipe).expect("recipe");
    assert_close(out.weights[9], 7.0, "trimmed");
    assert_close(out.weights.iter().sum(), 38.0, "calibrated total");
    assert_close(out.columns.trim_adj[9], 0.35, "trim_adj");
    let before = out.deff_before_trim.expect("deff before");
    let after = out.deff_final.expect("deff after");
    assert_close(
        before,
        10.0 * (9.0 * 4.0 + 400.0) / (38.0 * 38.0),
        "deff before",
    );
    assert!(after < before);
    assert_eq!(out.above_cap_after_recalibration, 0);
    // An infeasible trim inside the recipe is an error carrying the report.
    let mut bad = recipe.clone();
    bad.frame.base = vec![
        design_weight(1.0),
        design_weight(1.0),
        design_weight(1.0),
        design_weight(1.0),
        design_weight(20.0),
    ];
    bad.frame.units = (0..5).collect();
    bad.workers.truncate(5);
    bad.calibration = None;
    bad.trimming = Some(TrimStep {
        classes: vec![0; 5],
        cap: TrimCap::MedianMultiple(3.5),
    });
    assert!(matches!(run_recipe(&bad), Err(Error::TrimInfeasible(_))));
}

#[test]
fn frame_nonresponse_is_applied_before_sharing_and_in_replicates() {
    use chainsurvey::weighting::recipe::NonResponseStep;
    // Example 1 sample {A1, A2, A3} with A3 not responding; one class; d = 4/3.
    let recipe = recipe_of(
        FrameStep {
            nonresponse: Some(NonResponseStep {
                units: vec![0, 1, 2],
                labels: vec![0, 0, 0],
                status: vec![
                    ResponseStatus::Respondent,
                    ResponseStatus::Respondent,
                    ResponseStatus::NonRespondent,
                ],
                rule: CollapseRule {
                    min_respondents: 1,
                    max_factor: 2.0,
                },
            }),
            ..frame_step(4, vec![0, 1, 2], 4.0 / 3.0)
        },
        vec![plain_tier(clustered(&ex1_table()))],
        sole_workers(1, 1),
    );
    let out = run_recipe(&recipe).expect("recipe");
    // A1 and A2 carry 2 each after a = 1.5; w_S1 = 2·1/3 + 2·2/3 = 2. S2 is linked only to
    // the non-respondent A3, whose links are unknown in practice: it carries weight 0.
    assert_close(out.unit_weights[0][0], 2.0, "adjusted d_A1");
    assert_close(out.weights[0], 2.0, "w_S1");
    assert_eq!(out.unit_weights[1][2], 0.0);
    // Replicate with A1 deleted (JK1 factor 3/2 on the others): a is recomputed in the
    // same class: (0 + 2 + 2) / 2 = 2 → d_A2 = 4, w_S1 = 4 · 2/3 = 8/3.
    let rep = run_replicate(&recipe, &out, &[0.0, 2.0, 2.0]).expect("replicate");
    assert_close(rep[0], 8.0 / 3.0, "replicate w_S1");
}

#[test]
fn kish_deff_of_the_variance_example() {
    let weights = [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0];
    assert_close(
        kish_deff(&weights).expect("deff"),
        1.122_448_979_591_836_7,
        "deff_w",
    );
    assert_eq!(kish_deff(&[]), None);
}

#[test]
fn probabilities_and_base_weights_are_parsed_at_the_boundary() {
    for bad in [0.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Probability::new(bad, "row 3"),
            Err(Error::ProbabilityOutOfRange { .. })
        ));
    }
    assert!(DesignWeight::new(0.5, "row 4").is_err());
    let stages = [
        Probability::new(0.1, "psu").expect("p"),
        Probability::new(0.5, "unit").expect("p"),
    ];
    assert_close(
        base::multistage_weight(&stages).expect("d").get(),
        20.0,
        "multistage",
    );
    assert_close(
        base::multistage_weight(&[]).expect("census").get(),
        1.0,
        "census",
    );
    let weights = base::base_weights(&stages);
    assert_close(weights[0].get(), 10.0, "1/π");
    let _: probability::DesignWeight = weights[1];
}

// ---------------------------------------------------------------------------------------
// Monte Carlo: repeated GWSM designs on a small synthetic supply chain (fixed seed).

// Random draws of the Monte Carlo modules.

fn uniform(rng: &mut ChaCha20Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn below(rng: &mut ChaCha20Rng, n: usize) -> usize {
    ((uniform(rng) * n as f64) as usize).min(n - 1)
}

/// SRSWOR of `n` of `0..population` (partial Fisher–Yates).
fn srswor(rng: &mut ChaCha20Rng, population: usize, n: usize) -> Vec<usize> {
    let mut units: Vec<usize> = (0..population).collect();
    for i in 0..n {
        let j = i + below(rng, population - i);
        units.swap(i, j);
    }
    units.truncate(n);
    units
}

mod monte_carlo {
    use super::*;
    use rand::SeedableRng;

    struct Population {
        operator: ShareOperator,
        y: Vec<f64>,
        n_frame: usize,
        n_clusters: usize,
    }

    /// 80 buyers (tier 0), 50 supplier enterprises with 1–3 plants each; every buyer links
    /// to 1–3 plants, and every enterprise gets at least one link (coverage holds). Plant
    /// employment is skewed (a few large plants).
    fn population(rng: &mut ChaCha20Rng) -> Population {
        let n_frame = 80;
        let n_clusters = 50;
        let mut cluster_of = Vec::new();
        let mut y = Vec::new();
        for cluster in 0..n_clusters {
            for _ in 0..1 + below(rng, 3) {
                cluster_of.push(cluster);
                let u = uniform(rng);
                y.push((20.0 + 400.0 * u * u * u).round());
            }
        }
        let mut rows = std::collections::BTreeSet::new();
        for cluster in 0..n_clusters {
            let plants: Vec<usize> = (0..cluster_of.len())
                .filter(|&k| cluster_of[k] == cluster)
                .collect();
            rows.insert((below(rng, n_frame), plants[below(rng, plants.len())]));
        }
        for buyer in 0..n_frame {
            for _ in 0..1 + below(rng, 3) {
                rows.insert((buyer, below(rng, cluster_of.len())));
            }
        }
        let rows: Vec<(usize, usize)> = rows.into_iter().collect();
        let table = count_table(n_frame, cluster_of, &rows).expect("synthetic links");
        assert!(coverage(&table).orphan_clusters.is_empty());
        Population {
            operator: clustered(&table),
            y,
            n_frame,
            n_clusters,
        }
    }

    #[test]
    fn gwsm_totals_are_unbiased_and_95_percent_intervals_cover() {
        let seed = 20_261_122;
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let pop = population(&mut rng);
        let truth: f64 = pop.y.iter().sum();
        let y: Vec<Option<f64>> = pop.y.iter().map(|&v| Some(v)).collect();
        let (n, replications) = (20, 4000);
        let d = pop.n_frame as f64 / n as f64;
        let mut estimates = Vec::with_capacity(replications);
        let mut variances = Vec::with_capacity(replications);
        let mut covered = 0;
        for _ in 0..replications {
            let sample = srswor(&mut rng, pop.n_frame, n);
            let shared = share(&pop.operator, &sample_of(&sample, d), None).expect("share");
            let estimate = weighted_sum(&shared.unit_weight, &pop.y);
            let z = derived_z(&pop.operator, &sample, None, &y).expect("z");
            assert!((z.iter().map(|v| d * v).sum::<f64>() - estimate).abs() < 1e-9 * truth);
            let v = srswor_variance(&z, pop.n_frame);
            if (estimate - truth).abs() <= 1.959_963_984_540_054 * v.sqrt() {
                covered += 1;
            }
            estimates.push(estimate);
            variances.push(v);
        }
        let mean_estimate = mean(&estimates);
        let empirical_variance = sample_variance(&estimates);
        let mc_se = (empirical_variance / replications as f64).sqrt();
        let relative_bias = (mean_estimate - truth) / truth;
        let coverage_rate = covered as f64 / replications as f64;
        let variance_ratio = mean(&variances) / empirical_variance;
        eprintln!(
            "Monte Carlo (seed {seed}, {replications} samples, {} clusters): relative bias {relative_bias:.5}, coverage {coverage_rate:.4}, E(v̂)/V {variance_ratio:.4}",
            pop.n_clusters
        );
        assert!(
            (mean_estimate - truth).abs() < 3.0 * mc_se,
            "bias {relative_bias} beyond 3 MC SE"
        );
        assert!(relative_bias.abs() < 0.01);
        // The z-based variance estimator is unbiased; the Wald interval with n = 20 of a
        // skewed variable covers a little under 95%.
        assert!(
            (0.9..1.1).contains(&variance_ratio),
            "E(v̂)/V = {variance_ratio}"
        );
        assert!(
            (0.92..=0.97).contains(&coverage_rate),
            "coverage {coverage_rate}"
        );
    }

    #[test]
    fn subsampled_and_link_subsampled_gwsm_stay_unbiased() {
        let seed = 7;
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let pop = population(&mut rng);
        let truth: f64 = pop.y.iter().sum();
        let (n, replications) = (20, 3000);
        let d = pop.n_frame as f64 / n as f64;
        let mut subsampled = Vec::with_capacity(replications);
        let mut link_subsampled = Vec::with_capacity(replications);
        for _ in 0..replications {
            let sample = srswor(&mut rng, pop.n_frame, n);
            let frame = sample_of(&sample, d);
            // Reached-cluster subsampling: SRSWOR of 12 reached enterprises, π = 12/|Ω|.
            let shared = share(&pop.operator, &frame, None).expect("share");
            let group_of = pop.operator.group_of_unit();
            let reached: Vec<usize> = (0..pop.n_clusters)
                .filter(|&c| (0..group_of.len()).any(|k| group_of[k] == c && shared.reached[k]))
                .collect();
            let m = reached.len().min(12);
            let chosen: Vec<usize> = srswor(&mut rng, reached.len(), m)
                .into_iter()
                .map(|i| reached[i])
                .collect();
            let factor = reached.len() as f64 / m as f64;
            let estimate: f64 = (0..group_of.len())
                .filter(|&k| chosen.contains(&group_of[k]))
                .map(|k| shared.unit_weight[k] * factor * pop.y[k])
                .sum();
            subsampled.push(estimate);
            // Link subsampling: each link of a sampled buyer kept with p = 0.6.
            let p = Probability::new(0.6, "p").expect("p");
            let mut retention = LinkRetention::new();
            for &j in &sample {
                for &(g, _) in pop.operator.coefficients(j) {
                    if uniform(&mut rng) < 0.6 {
                        retention.retain(j, g, p);
                    }
                }
            }
            let kept = share(&pop.operator, &frame, Some(&retention)).expect("share");
            link_subsampled.push(weighted_sum(&kept.unit_weight, &pop.y));
        }
        for (name, estimates) in [
            ("reached-unit subsampling", &subsampled),
            ("link subsampling", &link_subsampled),
        ] {
            let m = mean(estimates);
            let mc_se = (sample_variance(estimates) / replications as f64).sqrt();
            eprintln!(
                "Monte Carlo {name} (seed {seed}): relative bias {:.5}",
                (m - truth) / truth
            );
            assert!(
                (m - truth).abs() < 3.5 * mc_se,
                "{name}: mean {m} vs truth {truth} (MC SE {mc_se})"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// `chainsurvey weights` and its hand-over to `chainsurvey estimate`.

fn run_cli(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(args)
        .output()
        .expect("run chainsurvey")
}

/// `chainsurvey weights --dir <dir>`: the weighted file goes to stdout.
fn run_weights(dir: &Path) -> Output {
    run_cli(&["weights", "--dir", dir.to_str().expect("path")])
}

/// `chainsurvey weights --dir <dir> --output <out_file>`.
fn run_weights_to(dir: &Path, out_file: &Path) -> Output {
    run_cli(&[
        "weights",
        "--dir",
        dir.to_str().expect("path"),
        "--output",
        out_file.to_str().expect("path"),
    ])
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Exit status 2 (bad input) with every one of `needles` on stderr.
fn assert_refused(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    }
}

fn csv_headers<R: std::io::Read>(reader: &mut csv::Reader<R>) -> Vec<String> {
    reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect()
}

fn write_fixture(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write fixture");
}

/// The `weighting.json` of the fixture directories: their file names and the options of
/// example 2, then `tail` (the replicates and anything else).
fn weighting_config(tail: &str) -> String {
    format!(
        r#"{{"schema_version": 1, "units": "units.csv", "frame_sample": "frame_sample.csv",
            "links": "links.csv", "selected": "selected.csv", "workers": "workers.csv",
            "share_mode": "clustered", "link_scale": "count", "duplicate_links": "refuse",
            "collapse": {{"min_respondents": 1, "max_factor": 2.0}}, {tail}}}"#
    )
}

/// Example 2's realized path as files: frame sample {A2, A4}, subsample {S1, S3} with
/// π = 2/3, one worker of S1 (M = 3) and one of S3 (M = 2).
fn write_example2_dir(dir: &Path) {
    let files = [
        (
            "units.csv",
            "id,tier,cluster\nA1,0,A1\nA2,0,A2\nA3,0,A3\nA4,0,A4\nS1,1,S1\nS2,1,S2\nS3,1,S3\n",
        ),
        ("frame_sample.csv", "id,pi\nA2,0.5\nA4,0.5\n"),
        (
            "links.csv",
            "buyer,supplier\nA1,S1\nA2,S1\nA3,S2\nA4,S2\nA4,S3\n",
        ),
        (
            "selected.csv",
            "id,pi\nS1,0.6666666666666666\nS3,0.6666666666666666\n",
        ),
        (
            "workers.csv",
            "worker_id,unit,workers_population,workers_selected,workers_responded,status_in_employment,usual_hours,other_job_hours,sex,age\n\
             w1,S1,3,1,1,1,52,0,1,30\nw2,S3,2,1,1,1,40,0,2,40\n",
        ),
    ];
    for (name, text) in files {
        write_fixture(dir, name, text);
    }
    write_fixture(
        dir,
        "weighting.json",
        &weighting_config(r#""replicates": "jk1""#),
    );
}

#[test]
fn weights_command_writes_every_factor_and_jk1_replicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_example2_dir(dir.path());
    let out_file = dir.path().join("weighted.csv");
    assert_success(&run_weights_to(dir.path(), &out_file));
    let mut reader = csv::Reader::from_path(&out_file).expect("output csv");
    let headers = csv_headers(&mut reader);
    for column in [
        "base",
        "share",
        "subsample",
        "within_unit",
        "nr_adj",
        "calib_g",
        "trim_adj",
        "weight",
        "rep_1",
        "rep_2",
    ] {
        assert!(
            headers.contains(&column.to_string()),
            "missing {column} in {headers:?}"
        );
    }
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let value = |row: usize, name: &str| -> f64 { rows[row][col(name)].parse().expect("number") };
    assert_close(value(0, "weight"), 4.5, "worker of S1");
    assert_close(value(1, "weight"), 6.0, "worker of S3");
    assert_close(value(0, "subsample"), 1.5, "subsample column");
    assert_close(value(0, "within_unit"), 3.0, "within_unit column");
    // JK1 over frame units: dropping A2 loses S1 and doubles A4 (S3: 4·1.5·2 = 12);
    // dropping A4 gives S1 4·(1/2)·1.5·3 = 9 and loses S3.
    assert_close(value(0, "rep_1"), 0.0, "rep 1 S1");
    assert_close(value(1, "rep_1"), 12.0, "rep 1 S3");
    assert_close(value(0, "rep_2"), 9.0, "rep 2 S1");
    assert_close(value(1, "rep_2"), 0.0, "rep 2 S3");

    // Hand the weighted file to `estimate` with the replicate columns.
    let survey = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&out_file, survey.path().join("workers.csv")).expect("copy");
    std::fs::write(
        survey.path().join("survey.json"),
        r#"{"schema_version": 1, "reference_date": "2025-06-30",
            "design": {"weights": "weight", "ids": [], "replicates": {"columns": ["rep_1", "rep_2"], "type": "jk1"}}}"#,
    )
    .expect("survey.json");
    let out = run_cli(&[
        "estimate",
        "--survey",
        survey.path().to_str().expect("path"),
        "--format",
        "json",
    ]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let row = json["indicators"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "excessive_hours" && r["domain"] == "all")
        .expect("excessive hours row")
        .clone();
    // 4.5 / 10.5; replicates 0 and 1; JK1 v = (n−1)/n Σ (θ_r − θ̄)² = ½ (¼ + ¼).
    assert_close(
        row["estimate"].as_f64().expect("estimate"),
        4.5 / 10.5,
        "estimate",
    );
    assert_close(row["se"].as_f64().expect("se"), 0.5, "JK1 SE");
}

#[test]
fn weights_command_reports_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_example2_dir(dir.path());
    write_fixture(dir.path(), "frame_sample.csv", "id,pi\nA2,0.5\nA9,0.5\n");
    assert_refused(&run_weights(dir.path()), &["A9", "frame sample row 2"]);
    write_fixture(dir.path(), "frame_sample.csv", "id,pi\nA2,1.5\n");
    assert_refused(&run_weights(dir.path()), &["line 2"]);
    write_fixture(dir.path(), "frame_sample.csv", "id,pi\nA2,0.5\nA4,0.5\n");
    write_fixture(dir.path(), "links.csv", "buyer,supplier\nA1,S1\nA1,S1\n");
    assert_refused(&run_weights(dir.path()), &["duplicates link row"]);
}

// ---------------------------------------------------------------------------------------
// Invariants (proptest).

mod invariants {
    use super::*;
    use proptest::prelude::*;

    /// A random link population: up to 12 frame units, up to 15 target units in up to 6
    /// clusters (dense cluster indices, as `LinkTable` requires), random links with
    /// importances.
    fn population() -> impl Strategy<Value = (usize, Vec<usize>, Vec<(usize, usize, f64)>)> {
        (2usize..12, 1usize..15, 1usize..6).prop_flat_map(|(n_frame, n_target, n_clusters)| {
            (
                Just(n_frame),
                proptest::collection::vec(0..n_clusters.min(n_target), n_target),
                proptest::collection::vec((0..n_frame, 0..n_target, 0.0f64..10.0), 0..30),
            )
        })
    }

    fn dedupe(rows: &[(usize, usize, f64)]) -> Vec<(usize, usize, f64)> {
        let mut seen = std::collections::HashSet::new();
        rows.iter()
            .copied()
            .filter(|&(j, k, _)| seen.insert((j, k)))
            .collect()
    }

    proptest! {
        #[test]
        fn census_of_the_frame_gives_every_covered_unit_weight_one(
            (n_frame, cluster_of, rows) in population(),
            mode_idx in 0usize..3,
            weighted in any::<bool>(),
        ) {
            let rows = dedupe(&rows);
            let (scale, inputs) = if weighted {
                (LinkScale::Importance, weighted_links(&rows))
            } else {
                (LinkScale::Count, links(&rows.iter().map(|&(j, k, _)| (j, k)).collect::<Vec<_>>()))
            };
            let mode = [ShareMode::Clustered, ShareMode::Singleton, ShareMode::ClusterElimination][mode_idx];
            let table = LinkTable::new(n_frame, cluster_of.clone(), &inputs, scale, DuplicateLinks::Refuse).expect("links");
            let Ok(operator) = ShareOperator::compile(&table, mode) else {
                // Elimination with importances is refused by design.
                prop_assert!(mode == ShareMode::ClusterElimination && weighted);
                return Ok(());
            };
            let census: Vec<FrameWeight> = (0..n_frame).map(|frame_unit| FrameWeight { frame_unit, weight: 1.0 }).collect();
            match share(&operator, &census, None) {
                Ok(shared) => {
                    for k in 0..cluster_of.len() {
                        if shared.reached[k] {
                            // Θ̃ columns sum to 1 over the population (Property 3.1).
                            prop_assert!((shared.unit_weight[k] - 1.0).abs() < 1e-9, "unit {k}: {}", shared.unit_weight[k]);
                        }
                    }
                }
                // Only a reached cluster with total importance 0 may refuse.
                Err(Error::ZeroClusterTotal { .. }) => prop_assert!(weighted),
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }

        #[test]
        fn sharing_equals_the_sum_of_d_times_z(
            (n_frame, cluster_of, rows) in population(),
            sample_mask in proptest::collection::vec(any::<bool>(), 12),
            y in proptest::collection::vec(0.0f64..100.0, 15),
        ) {
            let rows = dedupe(&rows);
            let pairs: Vec<(usize, usize)> = rows.iter().map(|&(j, k, _)| (j, k)).collect();
            let table = count_table(n_frame, cluster_of.clone(), &pairs).expect("links");
            let operator = clustered(&table);
            let sample: Vec<usize> = (0..n_frame).filter(|&j| sample_mask[j]).collect();
            let d = 1.7;
            let shared = share(&operator, &sample_of(&sample, d), None).expect("share");
            let values: Vec<Option<f64>> = (0..cluster_of.len()).map(|k| Some(y[k])).collect();
            let z = derived_z(&operator, &sample, None, &values).expect("z");
            prop_assert_eq!(z.len(), sample.len());
            let by_share: f64 = (0..cluster_of.len()).map(|k| shared.unit_weight[k] * y[k]).sum();
            let by_z: f64 = z.iter().map(|v| d * v).sum();
            prop_assert!((by_share - by_z).abs() < 1e-9 * (1.0 + by_share.abs()));
        }

        #[test]
        fn trimming_keeps_class_totals_and_meets_the_cap(
            weights in proptest::collection::vec(0.1f64..50.0, 1..40),
            classes_seed in proptest::collection::vec(0usize..3, 40),
            k1 in 1.0f64..5.0,
        ) {
            let classes: Vec<usize> = classes_seed[..weights.len()].to_vec();
            match trim(&weights, &classes, TrimCap::MedianMultiple(k1)) {
                Ok(trimmed) => {
                    for report in &trimmed.classes {
                        let members: Vec<usize> = (0..weights.len()).filter(|&k| classes[k] == report.class).collect();
                        let before: f64 = members.iter().map(|&k| weights[k]).sum();
                        let after: f64 = members.iter().map(|&k| trimmed.weights[k]).sum();
                        prop_assert!((before - after).abs() < 1e-9 * before);
                        for &k in &members {
                            prop_assert!(trimmed.weights[k] <= report.cap * (1.0 + 1e-9));
                        }
                    }
                }
                Err(Error::TrimInfeasible(report)) => {
                    for c in &report.classes {
                        prop_assert!((c.n_positive as f64) * c.cap < c.total);
                    }
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }

        #[test]
        fn nonresponse_keeps_the_estimated_eligible_total(
            units in proptest::collection::vec((0usize..4, 0usize..4, 0.5f64..20.0), 1..60),
        ) {
            let labels: Vec<usize> = units.iter().map(|u| u.0).collect();
            let status: Vec<ResponseStatus> = units
                .iter()
                .map(|u| [ResponseStatus::Respondent, ResponseStatus::NonRespondent, ResponseStatus::Ineligible, ResponseStatus::Unknown][u.1])
                .collect();
            let weights: Vec<f64> = units.iter().map(|u| u.2).collect();
            let rule = CollapseRule { min_respondents: 1, max_factor: 1e9 };
            match nonresponse_adjust(&labels, &status, &weights, rule) {
                Ok(adj) => {
                    for (c, class) in adj.classes.iter().enumerate() {
                        let members: Vec<usize> = (0..units.len()).filter(|&k| adj.unit_class[k] == c).collect();
                        let sum = |s: ResponseStatus| members.iter().filter(|&&k| status[k] == s).map(|&k| weights[k]).sum::<f64>();
                        let eligible = sum(ResponseStatus::Respondent) + sum(ResponseStatus::NonRespondent);
                        let expected = eligible + class.eligibility_rate * sum(ResponseStatus::Unknown);
                        let adjusted: f64 = members.iter().map(|&k| weights[k] * adj.factor[k]).sum();
                        prop_assert!((adjusted - expected).abs() < 1e-9 * (1.0 + expected));
                    }
                }
                Err(Error::NoRespondents) => prop_assert!(!status.contains(&ResponseStatus::Respondent)),
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }
}

#[test]
fn weights_command_calibrates_worker_weights() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_example2_dir(dir.path());
    let run_with = |calibration: &str, replicates: &str| {
        let config = weighting_config(&format!(
            r#""replicates": "{replicates}", "calibration": {calibration}"#
        ));
        write_fixture(dir.path(), "weighting.json", &config);
        run_weights(dir.path())
    };
    let table = |out: &Output| -> (Vec<String>, Vec<csv::StringRecord>) {
        assert_success(out);
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        let headers = csv_headers(&mut reader);
        (headers, reader.records().map(|r| r.expect("row")).collect())
    };
    let value = |t: &(Vec<String>, Vec<csv::StringRecord>), row: usize, name: &str| -> f64 {
        let col = t.0.iter().position(|h| h == name).expect("column");
        t.1[row][col].parse().expect("number")
    };
    // Post-stratified to 3 men and 4 women: g = 3/4.5 and 4/6.
    let by_sex = table(&run_with(
        r#"{"method": "poststratify", "column": "sex", "totals": {"1": 3, "2": 4}}"#,
        "none",
    ));
    assert_close(value(&by_sex, 0, "weight"), 3.0, "man");
    assert_close(value(&by_sex, 1, "weight"), 4.0, "woman");
    assert_close(value(&by_sex, 0, "calib_g"), 3.0 / 4.5, "g man");
    // One cell of 7 employees, with JK1 replicates: every replicate is calibrated again, so
    // the surviving worker of each replicate carries the whole total.
    let one_cell = table(&run_with(
        r#"{"method": "rake", "margins": [{"column": "status_in_employment", "totals": {"1": 7}}]}"#,
        "jk1",
    ));
    assert_close(value(&one_cell, 0, "weight"), 3.0, "full sample man");
    assert_close(value(&one_cell, 1, "rep_1"), 7.0, "rep 1 woman");
    assert_close(value(&one_cell, 0, "rep_2"), 7.0, "rep 2 man");
    // A replicate that empties a calibration cell is an error, not silent weights.
    let out = run_with(
        r#"{"method": "poststratify", "column": "sex", "totals": {"1": 3, "2": 4}}"#,
        "jk1",
    );
    assert_refused(&out, &["no sample weight"]);
    // A worker value without a population total is an error naming the line.
    let out = run_with(
        r#"{"method": "rake", "margins": [{"column": "sex", "totals": {"1": 3}}]}"#,
        "none",
    );
    assert_refused(&out, &["line 3", "sex"]);
}

#[test]
fn link_total_sensitivity_brackets_the_estimate() {
    use chainsurvey::weighting::sensitivity::link_total_sensitivity;
    // S6 counting population, sample {a, b}: recorded L_t1 = 2; plausible t1 totals 2 to 4.
    let table = s6_table(DuplicateLinks::Refuse, &[]).expect("links");
    let lower = [2.0, 1.0, 0.0, 2.0, 0.0];
    let upper = [4.0, 1.0, 0.0, 2.0, 0.0];
    let ab = sample_of(&[0, 1], 2.0);
    let range = link_total_sensitivity(&table, ShareMode::Clustered, &lower, &upper, &ab, &S6_Y)
        .expect("range");
    // H1 weight 2 (L_H1 = 3) at the recorded totals, 2·2/5 + 2·1/5 = 1.2 with L_t1 = 4.
    assert_close(range.at_lower_totals, 2.0 * 111.0, "lower totals");
    assert_close(range.at_upper_totals, 1.2 * 111.0, "upper totals");
    // Bounds below the recorded links are refused.
    let too_low = [1.0, 1.0, 0.0, 2.0, 0.0];
    assert!(matches!(
        link_total_sensitivity(&table, ShareMode::Clustered, &too_low, &upper, &ab, &S6_Y),
        Err(Error::InvalidParameter { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Monte Carlo on the synthetic Viet Nam electronics chain (`synth`, fixed seeds): repeated
// tier-0 SRSWOR → GWSM to tier 1 → SRSWOR of workers in every reached unit.

mod synthetic_chain {
    use super::*;
    use chainsurvey::synth::{self, SynthConfig};
    use rand::SeedableRng;

    /// SRSWOR of `m` of `0..population` by rejection, for small m (no O(population) work).
    fn draw_distinct(rng: &mut ChaCha20Rng, population: usize, m: usize) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::with_capacity(m);
        while chosen.len() < m {
            let candidate = below(rng, population);
            if !chosen.contains(&candidate) {
                chosen.push(candidate);
            }
        }
        chosen
    }

    #[test]
    fn tier1_totals_are_unbiased_with_near_nominal_coverage() {
        let (scale, population_seed, design_seed) = (0.3, 11, 2026);
        let pop = synth::generate(&SynthConfig::vn_electronics(), scale, population_seed)
            .expect("population");
        let tier0: Vec<usize> = (0..pop.units.len())
            .filter(|&i| pop.units[i].tier == Some(0))
            .collect();
        let tier1: Vec<usize> = (0..pop.units.len())
            .filter(|&i| pop.units[i].tier == Some(1))
            .collect();
        let pos0: std::collections::HashMap<usize, usize> =
            tier0.iter().enumerate().map(|(p, &u)| (u, p)).collect();
        let pos1: std::collections::HashMap<usize, usize> =
            tier1.iter().enumerate().map(|(p, &u)| (u, p)).collect();
        // Links from the whole tier-0 population to tier 1 (L counted over U⁰, §2.4 (d)).
        let mut rows = std::collections::BTreeSet::new();
        for link in &pop.frame.links {
            if let (Some(&j), Some(&k)) = (pos0.get(&link.buyer), pos1.get(&link.supplier)) {
                rows.insert((j, k));
            }
        }
        let rows: Vec<(usize, usize)> = rows.into_iter().collect();
        let table =
            count_table(tier0.len(), (0..tier1.len()).collect(), &rows).expect("tier-1 links");
        assert!(
            coverage(&table).orphan_clusters.is_empty(),
            "every tier-1 unit has a tier-0 buyer"
        );
        let operator = clustered(&table);
        // Worker outcome: usual hours in all jobs above 48 (indicator #5), per tier-1 unit.
        let excessive: Vec<Vec<f64>> = tier1
            .iter()
            .map(|&u| {
                synth::workers_of(&pop, u)
                    .map(|w| {
                        if w.usual_hours + w.other_job_hours > 48.0 {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let truth: f64 = excessive.iter().flatten().sum();
        let (n0, take, replications) = (tier0.len() / 2, 5usize, 1500);
        // Wald interval with the design's degrees of freedom (n − 1 PSUs, one stratum).
        let critical = chainsurvey::estimate::interval::critical_value(0.95, n0 as f64 - 1.0);
        let d = tier0.len() as f64 / n0 as f64;
        let mut rng = ChaCha20Rng::seed_from_u64(design_seed);
        let (mut estimates, mut covered) = (Vec::with_capacity(replications), 0);
        for _ in 0..replications {
            let sample = srswor(&mut rng, tier0.len(), n0);
            let shared = share(&operator, &sample_of(&sample, d), None).expect("share");
            // Within each reached unit: SRSWOR of min(5, M) workers, expanded by M/m.
            let y_hat: Vec<Option<f64>> = (0..tier1.len())
                .map(|i| {
                    if !shared.reached[i] || excessive[i].is_empty() {
                        return shared.reached[i].then_some(0.0);
                    }
                    let big_m = excessive[i].len();
                    let m = big_m.min(take);
                    let chosen = draw_distinct(&mut rng, big_m, m);
                    Some(
                        big_m as f64 / m as f64
                            * chosen.iter().map(|&w| excessive[i][w]).sum::<f64>(),
                    )
                })
                .collect();
            let estimate: f64 = (0..tier1.len())
                .map(|i| shared.unit_weight[i] * y_hat[i].unwrap_or(0.0))
                .sum();
            // Ultimate-cluster variance: z_j from the expanded unit totals, SRSWOR formula.
            let z = derived_z(&operator, &sample, None, &y_hat).expect("z");
            let v = srswor_variance(&z, tier0.len());
            if (estimate - truth).abs() <= critical * v.sqrt() {
                covered += 1;
            }
            estimates.push(estimate);
        }
        let mean_estimate = mean(&estimates);
        let mc_se = (sample_variance(&estimates) / replications as f64).sqrt();
        let relative_bias = (mean_estimate - truth) / truth;
        let coverage_rate = covered as f64 / replications as f64;
        eprintln!(
            "Monte Carlo on synth (scale {scale}, population seed {population_seed}, design seed {design_seed}): \
             tier 0 N = {}, n = {n0}; tier 1 N = {}; workers with > 48 h in tier 1 = {truth}; \
             relative bias {relative_bias:.4}, 95% coverage {coverage_rate:.3} over {replications} samples",
            tier0.len(),
            tier1.len()
        );
        assert!(
            (mean_estimate - truth).abs() < 3.0 * mc_se,
            "bias {relative_bias} beyond 3 MC SE"
        );
        assert!(
            (0.90..=0.98).contains(&coverage_rate),
            "coverage {coverage_rate}"
        );
    }
}

#[test]
fn absurd_cluster_and_tier_indices_are_refused_not_allocated() {
    assert!(matches!(
        count_table(2, vec![0, usize::MAX], &[(0, 0)]),
        Err(Error::InvalidParameter {
            what: "cluster index",
            ..
        })
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    write_example2_dir(dir.path());
    write_fixture(
        dir.path(),
        "units.csv",
        "id,tier\nA1,0\nA2,0\nA3,0\nA4,0\nS1,1\nS2,1\nS3,4000000000\n",
    );
    assert_refused(&run_weights(dir.path()), &["exceeds the number of units"]);
}

#[test]
fn weights_command_applies_frame_nonresponse_before_sharing() {
    // Three tier-0 units drawn with π = 3/4; A1 did not respond. In its class,
    // a = (3 · 4/3) / (2 · 4/3) = 1.5, so A2 and A4 carry 2 into sharing and the worker
    // weights are those of the realized path of example 2 (4.5 and 6).
    let dir = tempfile::tempdir().expect("tempdir");
    write_example2_dir(dir.path());
    write_fixture(
        dir.path(),
        "frame_sample.csv",
        "id,pi,nr_class,status\nA1,0.75,0,NR\nA2,0.75,0,R\nA4,0.75,0,R\n",
    );
    let out = run_weights(dir.path());
    assert_success(&out);
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = csv_headers(&mut reader);
    let weight = headers
        .iter()
        .position(|h| h == "weight")
        .expect("weight column");
    let weights: Vec<f64> = reader
        .records()
        .map(|r| r.expect("row")[weight].parse().expect("number"))
        .collect();
    assert_close(weights[0], 4.5, "worker of S1");
    assert_close(weights[1], 6.0, "worker of S3");
    // An unknown status code is refused with its line.
    write_fixture(
        dir.path(),
        "frame_sample.csv",
        "id,pi,nr_class,status\nA2,0.5,0,maybe\n",
    );
    assert_refused(&run_weights(dir.path()), &["line 2"]);
}

// ---------------------------------------------------------------------------------------
// Multistage bootstrap (weighting::bootstrap), reach by responding buyers, link retention
// through the plan.

/// A tier-0-only recipe: `units` sampled from `n_population` (one SRSWOR stratum), one
/// worker cell per unit with (M, m), every worker responding.
fn two_stage_recipe(n_population: usize, cells: &[(u64, u64)]) -> Recipe {
    let n = cells.len();
    let d = n_population as f64 / n as f64;
    let mut workers = Vec::new();
    for (unit, &(population, selected)) in cells.iter().enumerate() {
        for _ in 0..selected {
            workers.push(WorkerRow {
                tier: 0,
                unit,
                take: worker_take(population, selected, selected),
            });
        }
    }
    recipe_of(
        frame_step(n_population, (0..n).collect(), d),
        Vec::new(),
        workers,
    )
}

/// `multistage_replicates` of a recipe's full-sample output, with the tier-0 strata, the
/// replicates per set (B) and the seed.
fn bootstrap(
    recipe: &Recipe,
    full: &RecipeOutput,
    frame_strata: Vec<Option<usize>>,
    replicates: usize,
    seed: u64,
) -> Replicates {
    let design = BootstrapDesign {
        frame_strata,
        replicates,
        seed,
    };
    multistage_replicates(recipe, full, &design).expect("bootstrap")
}

#[test]
fn multistage_bootstrap_matches_the_two_stage_srswor_variance() {
    // 5 of 12 PSUs; in PSU i, m_i of M_i workers by SRSWOR.
    let cells = [(10, 3), (8, 4), (20, 5), (6, 2), (15, 3)];
    let y: Vec<Vec<f64>> = vec![
        vec![1.0, 4.0, 2.0],
        vec![3.0, 3.0, 7.0, 1.0],
        vec![0.0, 5.0, 2.0, 9.0, 4.0],
        vec![6.0, 2.0],
        vec![8.0, 1.0, 3.0],
    ];
    let (big_n, n) = (12.0, 5.0);
    let recipe = two_stage_recipe(12, &cells);
    let values: Vec<f64> = y.iter().flatten().copied().collect();
    // The unbiased two-stage variance: N²(1 − f₁)s²_Ŷ/n + (N/n) Σ M_i²(1 − f₂ᵢ)s²ᵢ/m_i.
    let totals: Vec<f64> = cells
        .iter()
        .zip(&y)
        .map(|(&(m_big, m), ys)| m_big as f64 / m as f64 * ys.iter().sum::<f64>())
        .collect();
    let first = big_n * big_n * (1.0 - n / big_n) * sample_variance(&totals) / n;
    let second: f64 = cells
        .iter()
        .zip(&y)
        .map(|(&(m_big, m), ys)| {
            let (m_big, m) = (m_big as f64, m as f64);
            big_n / n * m_big * m_big * (1.0 - m / m_big) * sample_variance(ys) / m
        })
        .sum();
    let full = run_recipe(&recipe).expect("recipe");
    let estimate = weighted_sum(&full.weights, &values);
    let boot = bootstrap(&recipe, &full, vec![Some(0); 5], 20_000, 7);
    let names: Vec<&str> = boot.sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["tier0", "workers"]);
    let replicate_estimates: Vec<f64> = boot
        .weights
        .iter()
        .map(|w| weighted_sum(w, &values))
        .collect();
    let (v_boot, df) = boot.variance(estimate, &replicate_estimates);
    let expected = first + second;
    assert!(
        (v_boot / expected - 1.0).abs() < 0.04,
        "bootstrap {v_boot} vs analytic {expected} (first stage {first}, second {second})"
    );
    // Each stage separately, too: the worker stage must carry f₁ = 5/12 of its naive term.
    let stage = |set: usize| {
        let own: Vec<f64> = replicate_estimates
            .iter()
            .zip(&boot.set_of)
            .map(|(&theta, &s)| if s == set { theta } else { estimate })
            .collect();
        boot.variance(estimate, &own).0
    };
    assert!(
        (stage(0) / first - 1.0).abs() < 0.05,
        "{} vs {first}",
        stage(0)
    );
    assert!(
        (stage(1) / second - 1.0).abs() < 0.05,
        "{} vs {second}",
        stage(1)
    );
    assert!(df.is_some_and(|df| df > 1.0));
}

#[test]
fn bootstrap_leaves_certainty_psus_only_their_later_stages() {
    // Both PSUs taken with certainty (π = 1): no tier-0 set, the worker stage in full.
    let mut recipe = two_stage_recipe(2, &[(10, 3), (8, 4)]);
    recipe.frame.base = vec![design_weight(1.0); 2];
    let full = run_recipe(&recipe).expect("recipe");
    let boot = bootstrap(&recipe, &full, vec![None, None], 20_000, 3);
    let names: Vec<&str> = boot.sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["workers"]);
    let y = [1.0, 4.0, 2.0, 3.0, 3.0, 7.0, 1.0];
    let estimate = weighted_sum(&full.weights, &y);
    let thetas: Vec<f64> = boot.weights.iter().map(|w| weighted_sum(w, &y)).collect();
    // s² of (1, 4, 2) = 7/3; of (3, 3, 7, 1) = 19/3. Σ M²(1 − f)s²/m over the cells.
    let expected_exact =
        100.0 * (1.0 - 0.3) * (7.0 / 3.0) / 3.0 + 64.0 * (1.0 - 0.5) * (19.0 / 3.0) / 4.0;
    let v = boot.variance(estimate, &thetas).0;
    assert!(
        (v / expected_exact - 1.0).abs() < 0.05,
        "{v} vs {expected_exact}"
    );
}

/// Frame {A0..A5}, 4 sampled (π = 2/3, one stratum); tier 1: unit 0 linked to A0 only
/// (nested), unit 1 linked to every frame unit (shared evenly).
fn shared_and_nested_recipe() -> Recipe {
    let mut rows = vec![(0, 0)];
    rows.extend((0..6).map(|j| (j, 1)));
    let table = count_table(6, vec![0, 1], &rows).expect("table");
    let take = worker_take(50, 4, 4);
    recipe_of(
        frame_step(6, vec![0, 1, 2, 3], 1.5),
        vec![plain_tier(clustered(&table))],
        (0..8)
            .map(|k| WorkerRow {
                tier: 1,
                unit: k / 4,
                take,
            })
            .collect(),
    )
}

#[test]
fn later_stages_keep_what_the_tier0_replicates_do_not_capture() {
    let recipe = shared_and_nested_recipe();
    let full = run_recipe(&recipe).expect("recipe");
    let boot = bootstrap(&recipe, &full, vec![Some(0); 4], 10, 1);
    // Nested in one PSU: Preston's q = f₁ = 2/3. Reached evenly by all four sampled PSUs:
    // perturbing them moves its weight not at all relative to its error, q = 1.
    assert!(
        (boot.remaining[1][0] - 4.0 / 6.0).abs() < 1e-12,
        "{:?}",
        boot.remaining
    );
    assert!(
        (boot.remaining[1][1] - 1.0).abs() < 1e-12,
        "{:?}",
        boot.remaining
    );
    assert_eq!(boot.remaining[0], vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0]);
    // Replicates are deterministic given the seed.
    let again = bootstrap(&recipe, &full, vec![Some(0); 4], 10, 1);
    assert_eq!(boot, again);
    // Bad input is an error, not a panic.
    let short = BootstrapDesign {
        frame_strata: vec![Some(0); 3],
        replicates: 10,
        seed: 1,
    };
    assert!(multistage_replicates(&recipe, &full, &short).is_err());
}

#[test]
fn only_responding_buyers_reach_units_of_a_take_all_tier() {
    use chainsurvey::weighting::recipe::NonResponseStep;
    // A0 responds, A1 does not. S0 is linked to A0, S1 only to A1: S1 was never reported,
    // so it is not selected (it needs no response status and cannot carry workers).
    let table = count_table(2, vec![0, 1], &[(0, 0), (1, 1)]).expect("table");
    let rule = CollapseRule {
        min_respondents: 1,
        max_factor: 3.0,
    };
    let take = worker_take(5, 1, 1);
    let mut recipe = recipe_of(
        FrameStep {
            nonresponse: Some(NonResponseStep {
                units: vec![0, 1],
                labels: vec![0, 0],
                status: vec![ResponseStatus::Respondent, ResponseStatus::NonRespondent],
                rule,
            }),
            ..frame_step(2, vec![0, 1], 1.0)
        },
        vec![TierStep {
            // Only the traced unit S0 has a status.
            nonresponse: Some(NonResponseStep {
                units: vec![0],
                labels: vec![0],
                status: vec![ResponseStatus::Respondent],
                rule,
            }),
            ..plain_tier(clustered(&table))
        }],
        vec![WorkerRow {
            tier: 1,
            unit: 0,
            take,
        }],
    );
    let out = run_recipe(&recipe).expect("S1 is not selected, so it needs no status");
    // a = 2 on A0; S0 gets 2 · 1/1 and its worker 2 · 5.
    assert_close(out.unit_weights[1][0], 2.0, "w_S0");
    assert_eq!(out.unit_weights[1][1], 0.0);
    assert_close(out.weights[0], 10.0, "worker of S0");
    // A worker in S1 is refused: S1 was not selected.
    recipe.workers.push(WorkerRow {
        tier: 1,
        unit: 1,
        take,
    });
    assert!(matches!(
        run_recipe(&recipe),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn plan_link_retention_reaches_the_recipe() {
    use chainsurvey::weighting::plan::{
        FrameSampleRecord, LinkRecord, PlanOptions, UnitRecord, build_recipe,
    };
    let unit = |id: &str, tier| UnitRecord {
        id: id.into(),
        tier,
        cluster: id.into(),
    };
    let units = [unit("A1", 0), unit("A2", 0), unit("S1", 1), unit("S2", 1)];
    let link = |buyer: &str, supplier: &str, p: Option<f64>| LinkRecord {
        buyer: buyer.into(),
        supplier: supplier.into(),
        importance: None,
        retention: p.map(|p| Probability::new(p, "test").expect("p")),
    };
    // A1 lists S1 and S2; its S1 row was kept with p = 1/2, its S2 row was not kept.
    let links = [
        link("A1", "S1", Some(0.5)),
        link("A1", "S2", None),
        link("A2", "S2", None),
    ];
    let frame_sample = [FrameSampleRecord {
        id: "A1".into(),
        probability: Probability::new(0.5, "test").expect("p"),
        outcome: None,
    }];
    let options = PlanOptions {
        share_mode: ShareMode::Clustered,
        scale: LinkScale::Count,
        duplicates: DuplicateLinks::Refuse,
        collapse: CollapseRule {
            min_respondents: 1,
            max_factor: 2.0,
        },
        trim: None,
    };
    let (recipe, _) =
        build_recipe(&units, &frame_sample, &links, &[], &[], &options).expect("recipe");
    assert!(recipe.tiers[0].retention.is_some());
    let out = run_recipe(&recipe).expect("run");
    // S1: d · (u/p) · L_{A1,S1}/L_S1 = 2 · 2 · 1 = 4; S2's link was not kept: not reached.
    assert_close(out.unit_weights[1][0], 4.0, "w_S1 with link subsampling");
    assert_eq!(out.unit_weights[1][1], 0.0);
    // Without retention records every link of A1 counts: S2 gets 2 · 1/2.
    let plain: Vec<LinkRecord> = links
        .iter()
        .map(|l| LinkRecord {
            retention: None,
            ..l.clone()
        })
        .collect();
    let (recipe, _) =
        build_recipe(&units, &frame_sample, &plain, &[], &[], &options).expect("recipe");
    assert!(recipe.tiers[0].retention.is_none());
    let out = run_recipe(&recipe).expect("run");
    assert_close(out.unit_weights[1][0], 2.0, "w_S1");
    assert_close(out.unit_weights[1][1], 1.0, "w_S2");
}

#[test]
fn weights_command_writes_multistage_bootstrap_replicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_example2_dir(dir.path());
    write_fixture(
        dir.path(),
        "weighting.json",
        &weighting_config(r#""replicates": "bootstrap", "bootstrap_replicates": 30, "seed": 2"#),
    );
    let out_file = dir.path().join("weighted.csv");
    let out = run_weights_to(dir.path(), &out_file);
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Two stages vary: the tier-0 SRSWOR (2 of 4) and the tier-1 subsample (2 of 3); each
    // worker cell has one respondent, so the worker stage has no variance to estimate.
    assert!(stderr.contains("stage sets tier0, tier1;"), "{stderr}");
    assert!(stderr.contains("\"scale\": 0.0333"), "{stderr}");
    let mut reader = csv::Reader::from_path(&out_file).expect("output csv");
    let headers = csv_headers(&mut reader);
    assert!(headers.contains(&"rep_60".to_string()), "{headers:?}");
    assert!(!headers.contains(&"rep_61".to_string()), "{headers:?}");
    let first_rep = headers.iter().position(|h| h == "rep_1").expect("rep_1");
    for record in reader.records() {
        let record = record.expect("row");
        for cell in record.iter().skip(first_rep) {
            let w: f64 = cell.parse().expect("number");
            assert!(w.is_finite() && w >= 0.0, "{w}");
        }
    }
    // A bad replicate count is refused with the field named.
    write_fixture(
        dir.path(),
        "weighting.json",
        &weighting_config(r#""replicates": "bootstrap", "bootstrap_replicates": 1"#),
    );
    assert_refused(&run_weights(dir.path()), &["bootstrap_replicates"]);
}

/// A small synthetic round with three random stages: 4 of 6 lead firms (SRSWOR, one
/// stratum), 4 of the 6 reached suppliers (π = 2/3) and 3 of 10 workers per supplier, with
/// answers that make the hours, earnings, pay-gap and union indicators non-trivial.
fn write_bootstrap_round(dir: &Path, b: usize, seed: u64) {
    let two_thirds = 2.0_f64 / 3.0;
    let mut workers = String::from(
        "worker_id,unit,workers_population,workers_selected,workers_responded,status_in_employment,usual_hours,other_job_hours,sex,age,pay_form,earn_basic,earn_overtime,earn_allowances,earn_bonus,mw_region,union_member\n",
    );
    let hours = [[40, 52, 60], [44, 48, 50], [56, 40, 38], [49, 45, 70]];
    for (u, (unit, hours)) in ["S1", "S2", "S4", "S5"].iter().zip(hours).enumerate() {
        for (j, h) in hours.iter().enumerate() {
            let sex = 1 + (u + j) % 2;
            let other = if j == 2 { 4 } else { 0 };
            // Monthly earnings from 3.1 to 10.2 million VND (in thousands): some below the
            // 2025 region-I hourly minimum, some below 2/3 of the median.
            let earnings = 3_100 + 1_700 * ((5 * u + 7 * j) % 5) + 100 * u;
            let union = (u * 3 + j) % 3 == 0;
            workers.push_str(&format!(
                "w{u}{j},{unit},10,3,3,1,{h},{other},{sex},{},1,{earnings},0,0,0,I,{}\n",
                20 + 7 * u + 3 * j,
                u8::from(union)
            ));
        }
    }
    let config = weighting_config(&format!(
        r#""replicates": "bootstrap", "bootstrap_replicates": {b}, "seed": {seed}"#
    ));
    let files = [
        (
            "units.csv",
            "id,tier\nA1,0\nA2,0\nA3,0\nA4,0\nA5,0\nA6,0\nS1,1\nS2,1\nS3,1\nS4,1\nS5,1\nS6,1\n"
                .to_string(),
        ),
        (
            "frame_sample.csv",
            format!("id,pi\nA1,{two_thirds}\nA2,{two_thirds}\nA4,{two_thirds}\nA5,{two_thirds}\n"),
        ),
        (
            "links.csv",
            "buyer,supplier\nA1,S1\nA1,S2\nA2,S2\nA2,S3\nA3,S4\nA4,S4\nA4,S5\nA5,S5\nA5,S6\nA6,S6\nA6,S1\n"
                .to_string(),
        ),
        (
            "selected.csv",
            format!("id,pi\nS1,{two_thirds}\nS2,{two_thirds}\nS4,{two_thirds}\nS5,{two_thirds}\n"),
        ),
        ("workers.csv", workers),
        ("weighting.json", config),
    ];
    for (name, text) in files {
        write_fixture(dir, name, &text);
    }
}

/// `chainsurvey estimate --format json` on a survey directory holding `workers.csv` and a
/// `survey.json` with `design`; the rows keyed by (indicator id, domain).
fn estimate_rows(
    survey: &Path,
    design: &str,
    by: &str,
) -> std::collections::BTreeMap<(String, String), serde_json::Value> {
    std::fs::write(
        survey.join("survey.json"),
        format!(r#"{{"schema_version": 1, "reference_date": "2025-06-30", "design": {design}}}"#),
    )
    .expect("survey.json");
    let out = run_cli(&[
        "estimate",
        "--survey",
        survey.to_str().expect("path"),
        "--format",
        "json",
        "--by",
        by,
    ]);
    assert!(
        out.status.success(),
        "design {design}: stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["indicators"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let key = (
                r["id"].as_str().expect("id").to_string(),
                r["domain"].as_str().expect("domain").to_string(),
            );
            (key, r.clone())
        })
        .collect()
}

fn assert_relative(actual: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tolerance * expected.abs().max(f64::MIN_POSITIVE),
        "{what}: got {actual}, expected {expected}"
    );
}

#[test]
fn bootstrap_replicates_hand_over_to_estimate() {
    use chainsurvey::weighting::bootstrap::{ReplicateSet, replicate_variance};

    const B: usize = 20;
    let dir = tempfile::tempdir().expect("tempdir");
    write_bootstrap_round(dir.path(), B, 5);
    let out_file = dir.path().join("weighted.csv");
    let out = run_weights_to(dir.path(), &out_file);
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();

    // The replicate settings exactly as `weights` printed them, and its stage sets.
    let printed = stderr
        .lines()
        .find_map(|line| line.split_once("; estimate with "))
        .expect("printed replicate settings");
    let settings: serde_json::Value = serde_json::from_str(printed.1).expect("settings json");
    let scale = settings["scale"].as_f64().expect("scale");
    assert_eq!(scale, 1.0 / B as f64);
    assert_eq!(settings["type"], "other");
    assert_eq!(settings["mse"], true);
    let set_names: Vec<&str> = printed
        .0
        .split_once("stage sets ")
        .expect("stage sets")
        .1
        .split(", ")
        .collect();
    // Three random stages: lead firms, suppliers and workers (3 of 10 in every cell).
    assert_eq!(set_names, ["tier0", "tier1", "workers"], "{stderr}");

    // The weighted file: full-sample weights and the replicate columns, by worker.
    let mut reader = csv::Reader::from_path(&out_file).expect("output csv");
    let headers = csv_headers(&mut reader);
    let rep_columns: Vec<usize> = (1..)
        .map_while(|r| headers.iter().position(|h| *h == format!("rep_{r}")))
        .collect();
    assert_eq!(rep_columns.len(), B * set_names.len(), "{headers:?}");
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let number = |row: &csv::StringRecord, c: usize| -> f64 { row[c].parse().expect("number") };
    let weights: Vec<f64> = rows.iter().map(|r| number(r, col("weight"))).collect();
    let replicates: Vec<Vec<f64>> = rep_columns
        .iter()
        .map(|&c| rows.iter().map(|r| number(r, c)).collect())
        .collect();
    // Replicates that all equal the full sample would make every check below vacuous.
    assert!(
        replicates.iter().any(|rep| rep
            .iter()
            .zip(&weights)
            .any(|(a, b)| (a - b).abs() > 1e-6 * b)),
        "replicates equal the full sample"
    );

    // The survey directory: the weighted file and the printed settings as the design.
    let survey = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&out_file, survey.path().join("workers.csv")).expect("copy");
    let design = format!(
        r#"{{"weights": "weight", "ids": [], "replicates": {}}}"#,
        printed.1
    );
    let handed = estimate_rows(survey.path(), &design, "sex");

    // (a) Estimates equal the full-sample ones, computed directly for `excessive_hours`
    // (usual + other-job hours > 48 among the employed) and by `estimate` without replicates
    // for every row.
    let excessive: (f64, f64) = rows.iter().zip(&weights).fold((0.0, 0.0), |acc, (r, w)| {
        let hours = number(r, col("usual_hours")) + number(r, col("other_job_hours"));
        (acc.0 + if hours > 48.0 { *w } else { 0.0 }, acc.1 + w)
    });
    let key = |id: &str| (id.to_string(), "all".to_string());
    assert_relative(
        handed[&key("excessive_hours")]["estimate"]
            .as_f64()
            .expect("estimate"),
        excessive.0 / excessive.1,
        1e-12,
        "excessive_hours",
    );
    let full = estimate_rows(survey.path(), r#"{"weights": "weight", "ids": []}"#, "sex");
    assert_eq!(
        full.keys().collect::<Vec<_>>(),
        handed.keys().collect::<Vec<_>>()
    );

    // (b) Each replicate's estimates, with that replicate column as the weight: the SE of
    // every row is √(scale · Σ_r (θ_r − θ̂)²) around the full-sample θ̂.
    let per_replicate: Vec<_> = (1..=rep_columns.len())
        .map(|r| {
            let design = format!(r#"{{"weights": "rep_{r}", "ids": []}}"#);
            estimate_rows(survey.path(), &design, "sex")
        })
        .collect();
    let mut checked = Vec::new();
    for (key, row) in &handed {
        let Some(estimate) = row["estimate"].as_f64() else {
            continue;
        };
        assert_relative(
            estimate,
            full[key]["estimate"].as_f64().expect("full estimate"),
            1e-12,
            &format!("{key:?} estimate"),
        );
        let thetas: Vec<f64> = per_replicate
            .iter()
            .map(|rows| rows[key]["estimate"].as_f64().unwrap_or(f64::NAN))
            .collect();
        let direct = (scale * thetas.iter().map(|t| (t - estimate).powi(2)).sum::<f64>()).sqrt();
        checked.push((key.clone(), row["se"].as_f64(), direct, thetas));
    }
    let mut compared = 0;
    for (key, se, direct, _) in &checked {
        let se = se.unwrap_or_else(|| panic!("{key:?}: no SE (direct {direct})"));
        assert_relative(se, *direct, 1e-9, &format!("{key:?} SE"));
        compared += usize::from(se > 0.0);
    }
    // Totals, means, proportions (low pay with its median recomputed per replicate),
    // quantiles and both pay gaps, overall and by sex, with non-zero SEs.
    assert!(compared >= 20, "only {compared} non-zero SEs: {checked:?}");

    // (c) The same SE from the bootstrap library's own variance formula (what the demo's
    // Monte Carlo uses), on the same replicate estimates: sets of B columns in order, each
    // with scale 1/B (its degrees of freedom do not enter the variance).
    let sets: Vec<ReplicateSet> = set_names
        .iter()
        .map(|name| ReplicateSet {
            name: name.to_string(),
            scale,
            design_df: 1.0,
        })
        .collect();
    let set_of: Vec<usize> = (0..rep_columns.len()).map(|r| r / B).collect();
    for id in ["mean_hourly_earnings", "excessive_hours"] {
        let (key, se, _, thetas) = checked
            .iter()
            .find(|(key, ..)| key.0 == id && key.1 == "all")
            .expect("row");
        let estimate = handed[key]["estimate"].as_f64().expect("estimate");
        let (v, _) = replicate_variance(&sets, &set_of, estimate, thetas);
        assert!(v > 0.0, "{id}: no bootstrap variance");
        assert_relative(
            se.expect("se"),
            v.sqrt(),
            1e-9,
            &format!("{id}: library SE"),
        );
    }

    // Feeding the weighted file back as the worker file would duplicate `weight` and the
    // `rep_<r>` columns: refused with the file and column named, the output left alone.
    let before = std::fs::read(&out_file).expect("read output");
    std::fs::copy(&out_file, dir.path().join("workers.csv")).expect("copy");
    assert_refused(
        &run_weights_to(dir.path(), &out_file),
        &["workers.csv", "column `base`"],
    );
    assert_eq!(std::fs::read(&out_file).expect("read output"), before);
}
