//! Confidence intervals: Wald with a normal or Student-t critical value, and the logit
//! interval for proportions of R `svyciprop(method = "logit")`.

use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};

/// The two-sided critical value for `level`: normal when `df` is infinite or not positive
/// enough to define a t distribution, Student t with `df` degrees of freedom otherwise.
///
/// The statrs inverse is polished with two Newton steps on the CDF so the value agrees with
/// R's `qt`/`qnorm` to about 1e-13.
pub fn critical_value(level: f64, df: f64) -> f64 {
    let p = 1.0 - (1.0 - level) / 2.0;
    if !df.is_finite() || df <= 0.0 {
        let normal = Normal::standard();
        let mut x = normal.inverse_cdf(p);
        for _ in 0..2 {
            x -= (normal.cdf(x) - p) / normal.pdf(x);
        }
        return x;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_values_match_r() {
        // qnorm(0.975), qt(0.975, 10), qt(0.95, 3) from R.
        assert!((critical_value(0.95, f64::INFINITY) - 1.9599639845400536).abs() < 1e-13);
        let t10 = critical_value(0.95, 10.0);
        assert!((t10 - 2.2281388519862739).abs() < 1e-12, "{t10}");
        assert!((critical_value(0.90, 3.0) - 2.3533634348018246).abs() < 1e-12);
    }
}
