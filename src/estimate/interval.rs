//! Confidence intervals: Wald with a normal or Student-t critical value, and the logit
//! interval for proportions of R `svyciprop(method = "logit")`.

use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};

/// The two-sided critical value for `level`: normal when `df` is infinite or not positive
/// enough to define a t distribution, Student t with `df` degrees of freedom otherwise.
///
/// The normal quantile is Wichura's AS 241 (the algorithm of R's `qnorm`, ~1e-16); the t
/// quantile is statrs' inverse polished by Newton steps on its CDF.
pub fn critical_value(level: f64, df: f64) -> f64 {
    let p = 1.0 - (1.0 - level) / 2.0;
    if !df.is_finite() || df <= 0.0 {
        return normal_quantile(p);
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => {
            let mut x = t.inverse_cdf(p);
            for _ in 0..3 {
                let step = (t.cdf(x) - p) / t.pdf(x);
                if step.is_finite() {
                    x -= step;
                }
            }
            x
        }
        Err(_) => f64::NAN,
    }
}

/// The standard normal quantile by Wichura (1988), Algorithm AS 241 (PPND16).
// The coefficients are written exactly as published.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                + 67265.770927008700853)
                * r
                + 45921.953931549871457)
                * r
                + 13731.693765509461125)
                * r
                + 1971.5909503065514427)
                * r
                + 133.14166789178437745)
                * r
                + 3.387132872796366608)
            / (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                + 39307.89580009271061)
                * r
                + 21213.794301586595867)
                * r
                + 5394.1960214247511077)
                * r
                + 687.1870074920579083)
                * r
                + 42.313330701600911252)
                * r
                + 1.0);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    if tail <= 0.0 {
        return if q < 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let mut r = (-tail.ln()).sqrt();
    let value = if r <= 5.0 {
        r -= 1.6;
        (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
            + 0.24178072517745061177)
            * r
            + 1.27045825245236838258)
            * r
            + 3.64784832476320460504)
            * r
            + 5.7694972214606914055)
            * r
            + 4.6303378461565452959)
            * r
            + 1.42343711074968357734)
            / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                + 0.0151986665636164571966)
                * r
                + 0.14810397642748007459)
                * r
                + 0.68976733498510000455)
                * r
                + 1.6763848301838038494)
                * r
                + 2.05319162663775882187)
                * r
                + 1.0)
    } else {
        r -= 5.0;
        (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
            + 0.0012426609473880784386)
            * r
            + 0.026532189526576123093)
            * r
            + 0.29656057182850489123)
            * r
            + 1.7848265399172913358)
            * r
            + 5.4637849111641143699)
            * r
            + 6.6579046435011037772)
            / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                + 1.8463183175100546818e-5)
                * r
                + 7.868691311456132591e-4)
                * r
                + 0.0148753612908506148525)
                * r
                + 0.13692988092273580531)
                * r
                + 0.59983220655588793769)
                * r
                + 1.0)
    };
    if q < 0.0 { -value } else { value }
}

/// `estimate ± c·se`.
pub fn wald(estimate: f64, se: f64, level: f64, df: f64) -> (f64, f64) {
    let c = critical_value(level, df);
    (estimate - c * se, estimate + c * se)
}

/// `expit(logit p ± c·se/(p(1−p)))`: the interval of an intercept-only logistic model, which
/// is what `svyciprop(method = "logit")` computes (the delta-method SE of logit p̂).
pub fn logit(p: f64, se: f64, level: f64, df: f64) -> (f64, f64) {
    let c = critical_value(level, df);
    let eta = (p / (1.0 - p)).ln();
    let half = c * se / (p * (1.0 - p));
    let expit = |x: f64| 1.0 / (1.0 + (-x).exp());
    (expit(eta - half), expit(eta + half))
}

/// The exact (Clopper–Pearson) interval of a proportion observed at the boundary: no unit
/// (`p = 0`) or every unit (`p = 1`) of the `n` sampled in the domain has the attribute.
/// There the design-based SE is 0 and the Wald and logit intervals collapse to the point,
/// which claims certainty the sample does not have; Korn and Graubard (1998, Survey
/// Methodology 24(2)) use the binomial exact interval with the effective sample size, which at
/// the boundary (no variation to estimate a design effect from) is `n`:
/// `[0, 1 − (α/2)^{1/n}]` at 0 and `[(α/2)^{1/n}, 1]` at 1. `None` when `p` is strictly
/// inside (0, 1) or `n` is 0.
pub fn boundary_proportion(p: f64, n: usize, level: f64) -> Option<(f64, f64)> {
    if n == 0 || !(0.0..1.0).contains(&level) {
        return None;
    }
    let tail = ((1.0 - level) / 2.0).powf(1.0 / n as f64);
    if p == 0.0 {
        Some((0.0, 1.0 - tail))
    } else if p == 1.0 {
        Some((tail, 1.0))
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    #[test]
    fn boundary_intervals_are_the_exact_binomial_ones() {
        // R: binom.test(0, 146)$conf.int = [0, 0.02494977611]; binom.test(20, 20) lower
        // 0.8315665 (qbeta(0.025, 20, 1)).
        let (l, u) = boundary_proportion(0.0, 146, 0.95).expect("p = 0");
        assert_eq!(l, 0.0);
        assert!((u - 0.02494977611).abs() < 1e-10, "{u}");
        let (l, u) = boundary_proportion(1.0, 20, 0.95).expect("p = 1");
        assert!((l - 0.831566529).abs() < 1e-9, "{l}");
        assert_eq!(u, 1.0);
        assert_eq!(boundary_proportion(0.3, 20, 0.95), None);
        assert_eq!(boundary_proportion(0.0, 0, 0.95), None);
    }

    #[test]
    fn critical_values_match_r() {
        // qnorm(0.975), qt(0.975, 10), qt(0.95, 3) from R.
        let z = critical_value(0.95, f64::INFINITY);
        assert!((z - 1.9599639845400536).abs() < 1e-13, "{z}");
        let t10 = critical_value(0.95, 10.0);
        assert!((t10 - 2.2281388519862739).abs() < 1e-12, "{t10}");
        assert!((critical_value(0.90, 3.0) - 2.3533634348018246).abs() < 1e-12);
    }
}
