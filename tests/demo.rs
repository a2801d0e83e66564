//! The demo round and its Monte Carlo (ISSUES 5): design-unbiasedness of the employment
//! totals by tier, coverage of the overall total, determinism, and the `demo` command.

use std::process::Command;

use chainsurvey::demo::{self, RoundConfig};

/// Tiny population: about 280 enterprises and 113,000 workers, 7 lead firms.
const SCALE: f64 = 0.1;
const REPS: usize = 30;

#[test]
fn same_seed_gives_the_same_round_and_another_seed_another_sample() {
    // The population is generated once (its own determinism is tested in tests/synth.rs).
    let setting = demo::prepare(SCALE, 3).expect("population");
    let config = RoundConfig::default_for(SCALE, 3, 11);
    let first = demo::run_round_on(&setting, &config).expect("round");
    let second = demo::run_round_on(&setting, &config).expect("round");
    assert_eq!(first, second);
    let other = demo::run_round_on(
        &setting,
        &RoundConfig {
            round_seed: 12,
            ..config
        },
    )
    .expect("round");
    assert_ne!(first.estimates, other.estimates);
    // Every tier is reached and interviewed.
    for sizes in &first.sizes {
        assert!(sizes.responded > 0, "tier {} has no respondent", sizes.tier);
        assert!(sizes.workers_responded > 0, "tier {}", sizes.tier);
    }
}

#[test]
fn totals_are_unbiased_and_intervals_of_means_and_proportions_cover() {
    let setting = demo::prepare(SCALE, 2).expect("population");
    // Fewer bootstrap replicates per stage than the command's 50 keep the debug run short;
    // the Satterthwaite df carries their extra noise into the intervals.
    let config = RoundConfig {
        replicates: 20,
        ..RoundConfig::default_for(SCALE, 2, 0)
    };
    let mc = demo::montecarlo(&setting, &config, REPS, 5).expect("monte carlo");
    assert!(mc.failed.is_empty(), "failed rounds: {:?}", mc.failed);
    let employment: Vec<_> = mc
        .rows
        .iter()
        .filter(|r| r.indicator == "dw01_employment")
        .collect();
    // Overall and tiers 0–3.
    assert_eq!(employment.len(), 5, "{employment:?}");
    for row in &employment {
        assert_eq!(row.reps, REPS, "{row:?}");
        // The Monte Carlo mean is within 3 of its own standard errors of the truth.
        assert!(
            (row.mean_estimate - row.truth).abs() < 3.0 * row.mc_se_of_mean,
            "{}={}: mean {} truth {} MC SE {}",
            row.table,
            row.domain,
            row.mean_estimate,
            row.truth,
            row.mc_se_of_mean
        );
        assert!(
            row.empirical_se > 0.0 && row.mean_estimated_se > 0.0,
            "{row:?}"
        );
    }
    // 95 % coverage of the overall total, within 3 binomial SEs over REPS rounds.
    let overall = employment
        .iter()
        .find(|r| r.table == "overall")
        .expect("overall row");
    let tolerance = 3.0 * (0.95 * 0.05 / REPS as f64).sqrt();
    assert!(
        overall.coverage >= 0.95 - tolerance,
        "coverage {} below {}",
        overall.coverage,
        0.95 - tolerance
    );
    // Means and proportions, overall and by tier (the rows the tier-0 jackknife covered
    // 0.4–0.9 of the time). Pooled over the rows, coverage must be within 3 binomial SEs of
    // 0.95 counting only REPS independent trials (the rows of one round are correlated),
    // and the estimated SEs must carry most of the empirical SE (the jackknife carried
    // 0.35–0.9 of it).
    let ratios: Vec<_> = mc
        .rows
        .iter()
        .filter(|r| r.indicator != "dw01_employment")
        .collect();
    assert_eq!(ratios.len(), 30, "six indicators × overall and four tiers");
    let covered: f64 = ratios.iter().map(|r| r.coverage * r.reps as f64).sum();
    let intervals: f64 = ratios.iter().map(|r| r.reps as f64).sum();
    let pooled = covered / intervals;
    let log_ratio: f64 = ratios
        .iter()
        .map(|r| (r.mean_estimated_se / r.empirical_se).ln())
        .sum::<f64>()
        / ratios.len() as f64;
    let se_ratio = log_ratio.exp();
    eprintln!("pooled coverage {pooled:.3}, geometric mean SE ratio {se_ratio:.3}");
    assert!(
        pooled >= 0.95 - tolerance,
        "pooled coverage {pooled} below {}",
        0.95 - tolerance
    );
    assert!(
        (0.75..=1.3).contains(&se_ratio),
        "geometric mean SE ratio {se_ratio}"
    );
}

#[test]
fn a_bad_configuration_is_an_error_naming_the_field() {
    let mut config = RoundConfig::default_for(SCALE, 1, 1);
    config.enterprise_response = 0.0;
    let err = demo::run_round(&config).expect_err("zero response must be refused");
    assert!(err.to_string().contains("enterprise_response"), "{err}");
    config = RoundConfig::default_for(-1.0, 1, 1);
    assert!(demo::run_round(&config).is_err());
}

#[test]
fn demo_command_prints_json_with_estimates_and_truth() {
    let out = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["demo", "--scale", "0.1", "--seed", "4", "--format", "json"])
        .output()
        .expect("run chainsurvey demo");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(json["scale"], 0.1);
    assert_eq!(json["sizes"].as_array().map(Vec::len), Some(4));
    let estimates = json["estimates"].as_array().expect("estimates array");
    let overall = estimates
        .iter()
        .find(|e| e["indicator"] == "dw01_employment" && e["table"] == "overall")
        .expect("overall employment row");
    for field in ["estimate", "se", "ci_low", "ci_high", "truth"] {
        assert!(overall[field].is_f64(), "{field} in {overall}");
    }
    assert!(overall["covers"].is_boolean());
    assert!(overall["flag"].is_string());
}

#[test]
fn demo_command_text_shows_the_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["demo", "--scale", "0.1"])
        .output()
        .expect("run chainsurvey demo");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "dw05_excessive_hours",
        "95% CI",
        "truth",
        "tier=3",
        "answered",
    ] {
        assert!(text.contains(needle), "missing {needle} in {text}");
    }
}

#[test]
fn a_certainty_only_tier0_still_gets_the_later_stage_variance() {
    // Scale 0.03 leaves one lead firm, taken with certainty: the tier-0 stage has no
    // variance, but the response, reached-unit subsample and worker stages do.
    let config = RoundConfig::default_for(0.03, 1, 1);
    let setting = demo::prepare(0.03, 1).expect("population");
    let sample = demo::weighted_sample(&setting, &config).expect("round");
    assert_eq!(sample.psus, 1);
    let names: Vec<&str> = sample.sets.iter().map(|s| s.name.as_str()).collect();
    assert!(!names.contains(&"tier0"), "{names:?}");
    assert!(names.contains(&"workers"), "{names:?}");
    let result = demo::run_round_on(&setting, &config).expect("round");
    let overall = result
        .estimates
        .iter()
        .find(|r| r.indicator == "dw05_excessive_hours" && r.table == "overall")
        .expect("overall excessive hours");
    assert!(overall.se > 0.0 && overall.se.is_finite(), "{overall:?}");
    assert!(overall.ci_low < overall.estimate && overall.estimate < overall.ci_high);
}

#[test]
fn demo_output_into_a_closed_pipe_does_not_panic() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainsurvey"))
        .args(["demo", "--scale", "0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run chainsurvey demo");
    // Close the read end at once, as `chainsurvey demo | head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(out.status.success(), "stderr: {stderr}");
}
