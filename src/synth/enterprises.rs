//! Enterprises: employment by stratum, province group, district, activity code, tax code.

use std::collections::HashSet;

use super::config::{Stratum, SynthConfig};
use super::draw::{Stream, norm_cdf, norm_inv};

/// Employment of `n` firms of one stratum: the truncated lognormal of §7.1, drawn by
/// stratified (Latin-hypercube) inversion: firm i gets the quantile at a uniform point of the
/// i-th of n equal slices of the truncated distribution, in shuffled order. Each firm's size
/// still follows the truncated lognormal exactly, but the stratum total no longer swings with
/// the few giant lead firms, so the calibration totals hold for every seed.
pub fn draw_employment(stratum: &Stratum, n: usize, stream: &mut Stream) -> Vec<u64> {
    let mu = stratum.median_employees.ln();
    let sigma = stratum.sigma;
    // Truncation on the integer scale: values that round into [min, max].
    let lo = norm_cdf(((stratum.min_employees as f64 - 0.5).max(0.5).ln() - mu) / sigma);
    let hi = norm_cdf(((stratum.max_employees as f64 + 0.5).ln() - mu) / sigma);
    let mut out: Vec<u64> = (0..n)
        .map(|i| {
            let u = (i as f64 + stream.u01_open()) / n as f64;
            let p = (lo + (hi - lo) * u).clamp(1e-300, 1.0 - 1e-16);
            let e = (mu + sigma * norm_inv(p)).exp().round() as u64;
            e.clamp(stratum.min_employees, stratum.max_employees)
        })
        .collect();
    stream.shuffle(&mut out);
    out
}

/// Province-group probabilities for each firm.
///
/// Firms of tiers outside `size_tilt_tiers` use the group's firm share for their tier. Firms of
/// the tilted tiers (the lead firms and their direct suppliers, which hold most of the
/// employment) use p_ig ∝ a_g · exp(b_g · z_i), z_i the standardised log employment, with
/// (a_g, b_g) fitted by alternating scaling so that the expected firm shares equal the
/// §7.2 firm shares and the expected employment shares, together with the untilted firms,
/// equal the §7.2 employment shares. Where the targets cannot be met exactly (a group needs
/// more employment than its share of large firms can give) the fit stops at the closest
/// point it reaches in 400 rounds.
pub fn group_probabilities(config: &SynthConfig, firms: &[(u8, u64)]) -> Vec<Vec<f64>> {
    let groups = &config.province_groups;
    let g_n = groups.len();
    let share = |tier: u8| -> Vec<f64> {
        let v: Vec<f64> = groups.iter().map(|g| g.firm_share[tier as usize]).collect();
        let s: f64 = v.iter().sum();
        v.iter().map(|x| x / s).collect()
    };
    let mut probs: Vec<Vec<f64>> = firms.iter().map(|(t, _)| share(*t)).collect();
    let tilted: Vec<usize> = (0..firms.len())
        .filter(|i| config.size_tilt_tiers.contains(&firms[*i].0))
        .collect();
    if tilted.is_empty() {
        return probs;
    }
    let total_emp: f64 = firms.iter().map(|(_, e)| *e as f64).sum();
    let tilt_emp: f64 = tilted.iter().map(|i| firms[*i].1 as f64).sum();
    // Employment the untilted firms are expected to bring to each group.
    let mut other = vec![0.0; g_n];
    for (i, (_, e)) in firms.iter().enumerate() {
        if !config.size_tilt_tiers.contains(&firms[i].0) {
            for g in 0..g_n {
                other[g] += *e as f64 * probs[i][g];
            }
        }
    }
    let emp_total_share: f64 = groups.iter().map(|g| g.employment_share).sum();
    let mut target_emp: Vec<f64> = (0..g_n)
        .map(|g| {
            let want = groups[g].employment_share / emp_total_share * total_emp - other[g];
            (want / tilt_emp).max(0.002)
        })
        .collect();
    let s: f64 = target_emp.iter().sum();
    target_emp.iter_mut().for_each(|x| *x /= s);
    // Firm-share target: average of the tilted firms' tier shares.
    let mut target_firm = vec![0.0; g_n];
    for i in &tilted {
        for g in 0..g_n {
            target_firm[g] += probs[*i][g] / tilted.len() as f64;
        }
    }
    let logs: Vec<f64> = tilted.iter().map(|i| (firms[*i].1 as f64).ln()).collect();
    let m = logs.iter().sum::<f64>() / logs.len() as f64;
    let sd = (logs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / logs.len() as f64)
        .sqrt()
        .max(1e-9);
    let z: Vec<f64> = logs.iter().map(|x| (x - m) / sd).collect();
    let emp: Vec<f64> = tilted.iter().map(|i| firms[*i].1 as f64).collect();
    let mut a = target_firm.clone();
    let mut b = vec![0.0; g_n];
    let mut p = vec![vec![0.0; g_n]; tilted.len()];
    for _round in 0..400 {
        let mut f = vec![0.0; g_n];
        let mut e = vec![0.0; g_n];
        for (k, zk) in z.iter().enumerate() {
            let mut row_sum = 0.0;
            for g in 0..g_n {
                let v = a[g] * (b[g] * zk).clamp(-50.0, 50.0).exp();
                p[k][g] = v;
                row_sum += v;
            }
            for g in 0..g_n {
                p[k][g] /= row_sum;
                f[g] += p[k][g] / z.len() as f64;
                e[g] += p[k][g] * emp[k] / tilt_emp;
            }
        }
        let mut worst: f64 = 0.0;
        for g in 0..g_n {
            worst = worst
                .max((f[g] - target_firm[g]).abs())
                .max((e[g] - target_emp[g]).abs());
            a[g] *= target_firm[g] / f[g].max(1e-12);
            b[g] += 0.5 * (target_emp[g] / e[g].max(1e-12)).ln();
            b[g] = b[g].clamp(-5.0, 5.0);
        }
        if worst < 1e-5 {
            break;
        }
    }
    for (k, i) in tilted.iter().enumerate() {
        probs[*i] = p[k].clone();
    }
    probs
}

/// A 10-digit Vietnamese tax code (mã số thuế): two digits of the issuing province, a 7-digit
/// serial, and the check digit N10 = 10 − (31·N1 + 29·N2 + 23·N3 + 19·N4 + 17·N5 + 13·N6 +
/// 7·N7 + 5·N8 + 3·N9) mod 11, where a remainder of 0 makes the serial unusable. The rule is
/// recalled from the tax authority's convention [R]; the codes are synthetic either way.
/// `used` keeps codes unique within the population.
pub fn tax_code(province: &str, start: u64, used: &mut HashSet<String>) -> String {
    const W: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];
    let mut serial = start % 10_000_000;
    loop {
        let prefix = format!("{province:0>2}{serial:07}");
        let sum: u32 = prefix
            .bytes()
            .zip(W)
            .map(|(b, w)| (b - b'0') as u32 * w)
            .sum();
        let r = sum % 11;
        if r != 0 {
            let code = format!("{prefix}{}", 10 - r);
            if used.insert(code.clone()) {
                return code;
            }
        }
        serial = (serial + 1) % 10_000_000;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_codes_are_unique_ten_digits_with_check_digit() {
        let mut used = HashSet::new();
        let a = tax_code("27", 123, &mut used);
        let b = tax_code("27", 123, &mut used);
        assert_eq!(a.len(), 10);
        assert!(a.starts_with("27"));
        assert_ne!(a, b);
        let d: Vec<u32> = a.bytes().map(|c| (c - b'0') as u32).collect();
        let s: u32 = [31, 29, 23, 19, 17, 13, 7, 5, 3]
            .iter()
            .zip(&d)
            .map(|(w, x)| w * x)
            .sum();
        assert_eq!(d[9], 10 - s % 11);
    }
}
