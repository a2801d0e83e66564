//! Publication rules (METHODOLOGY §3.12): suppress / use with caution / publish, and the
//! StatCan-style CV letter A–F. The thresholds are data ([`ReliabilityRules`]), so an office
//! can apply its own policy; [`ReliabilityRules::methodology_default`] is the engine default.

/// The publication decision for one estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Publish,
    Caution,
    Suppress,
}

impl Flag {
    /// Lower-case name used in output files.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Publish => "publish",
            Flag::Caution => "caution",
            Flag::Suppress => "suppress",
        }
    }
}

/// Configurable thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliabilityRules {
    /// Suppress when fewer respondents than this.
    pub min_n: usize,
    /// Caution when fewer respondents than this (but at least `min_n`).
    pub caution_below_n: usize,
    /// Suppress when fewer contributing PSUs than this.
    pub min_psus: usize,
    /// Caution when CV exceeds this.
    pub caution_cv: f64,
    /// Suppress when CV exceeds this.
    pub suppress_cv: f64,
    /// Upper bounds of letters A, B, C, D, E (CV as a fraction); above the last is F.
    pub letter_bounds: [f64; 5],
    /// For proportions at or below this, judge the smaller of the CVs of p and of 1 − p
    /// (the CV of a small p is large even when p is precise in absolute terms).
    pub small_proportion: Option<f64>,
}

impl ReliabilityRules {
    /// The METHODOLOGY §3.12 default policy: suppress if n < 30, PSUs < 5 or CV > 30%;
    /// caution if 15% < CV ≤ 30% or n in 30–59; letters A < 5% ≤ B < 10% ≤ C < 15% ≤ D <
    /// 25% ≤ E < 35% ≤ F.
    pub fn methodology_default() -> ReliabilityRules {
        ReliabilityRules {
            min_n: 30,
            caution_below_n: 60,
            min_psus: 5,
            caution_cv: 0.15,
            suppress_cv: 0.30,
            letter_bounds: [0.05, 0.10, 0.15, 0.25, 0.35],
            small_proportion: Some(0.1),
        }
    }
}

/// The inputs of a publication decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reliability {
    pub estimate: f64,
    pub se: f64,
    pub n: usize,
    pub psus: usize,
    /// True when the estimate is a proportion (enables the small-p rule).
    pub is_proportion: bool,
}

/// The CV the rules judge: `se/|estimate|`, or for a proportion `p ≤ small_proportion` the
/// smaller of `se/p` and `se/(1 − p)`.
pub fn judged_cv(rules: &ReliabilityRules, r: &Reliability) -> f64 {
    match rules.small_proportion {
        Some(limit) if r.is_proportion && r.estimate <= limit => {
            (r.se / r.estimate).min(r.se / (1.0 - r.estimate))
        }
        _ => r.se / r.estimate.abs(),
    }
}

/// The CV letter A–F.
pub fn cv_letter(rules: &ReliabilityRules, cv: f64) -> char {
    let letters = ['A', 'B', 'C', 'D', 'E'];
    for (bound, letter) in rules.letter_bounds.iter().zip(letters) {
        if cv < *bound {
            return letter;
        }
    }
    'F'
}

/// Suppress, caution or publish.
pub fn flag(rules: &ReliabilityRules, r: &Reliability) -> Flag {
    let cv = judged_cv(rules, r);
    if r.n < rules.min_n || r.psus < rules.min_psus || cv > rules.suppress_cv || cv.is_nan() {
        Flag::Suppress
    } else if cv > rules.caution_cv || r.n < rules.caution_below_n {
        Flag::Caution
    } else {
        Flag::Publish
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cv(cv: f64, n: usize) -> Reliability {
        Reliability {
            estimate: 100.0,
            se: 100.0 * cv,
            n,
            psus: 50,
            is_proportion: false,
        }
    }

    /// METHODOLOGY §6: CV 0.04 → A, 0.12 → C, 0.20 → caution (D), 0.31 → suppress; n = 25 →
    /// suppress regardless of CV.
    #[test]
    fn methodology_vectors() {
        let rules = ReliabilityRules::methodology_default();
        assert_eq!(cv_letter(&rules, 0.04), 'A');
        assert_eq!(flag(&rules, &with_cv(0.04, 500)), Flag::Publish);
        assert_eq!(cv_letter(&rules, 0.12), 'C');
        assert_eq!(flag(&rules, &with_cv(0.12, 500)), Flag::Publish);
        assert_eq!(cv_letter(&rules, 0.20), 'D');
        assert_eq!(flag(&rules, &with_cv(0.20, 500)), Flag::Caution);
        assert_eq!(flag(&rules, &with_cv(0.31, 500)), Flag::Suppress);
        assert_eq!(flag(&rules, &with_cv(0.01, 25)), Flag::Suppress);
        assert_eq!(flag(&rules, &with_cv(0.01, 45)), Flag::Caution);
        let few_psus = Reliability {
            psus: 4,
            ..with_cv(0.01, 500)
        };
        assert_eq!(flag(&rules, &few_psus), Flag::Suppress);
    }

    #[test]
    fn small_proportions_use_the_complement_cv() {
        let rules = ReliabilityRules::methodology_default();
        let small = Reliability {
            estimate: 0.05,
            se: 0.02,
            n: 500,
            psus: 50,
            is_proportion: true,
        };
        assert!((judged_cv(&rules, &small) - 0.02 / 0.95).abs() < 1e-12);
        assert_eq!(flag(&rules, &small), Flag::Publish);
        let as_mean = Reliability {
            is_proportion: false,
            ..small
        };
        assert_eq!(flag(&rules, &as_mean), Flag::Suppress);
        let large = Reliability {
            estimate: 0.5,
            se: 0.1,
            n: 500,
            psus: 50,
            is_proportion: true,
        };
        assert!((judged_cv(&rules, &large) - 0.2).abs() < 1e-12);
    }
}
