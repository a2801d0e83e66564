//! The decent-work indicators of METHODOLOGY §4.2, defined once, as the reference the
//! population truth is computed with and the estimation code is compared against.
//!
//! Every indicator except the level (1) and the gaps (15) is a ratio Σ w·num / Σ w·den over
//! workers; [`terms`] gives one worker's (num, den) contribution, or `None` when the worker is
//! outside the indicator's universe. The population truth uses w = 1 for every worker.
//! Conventions (METHODOLOGY §4.2 notes and §4.6):
//! - hourly earnings h = E·1000 / (H·52/12) VND, E = earn_basic + earn_overtime +
//!   earn_allowances + earn_bonus (thousand VND, last month), H = usual weekly hours in the
//!   main job; employees with E ≤ 0 or H ≤ 0 have no valid hourly earnings;
//! - quantiles use the inverse-CDF rule: the smallest x whose cumulative weight share reaches
//!   p ([`weighted_quantile`]);
//! - low pay: h < 2/3 of the median hourly earnings of all employees of the population;
//! - "don't know" answers leave the worker out of the indicators that need that item.

use super::config::LegalParams;
use super::workers::{ContractType, PayForm, Worker, YesNoDk};

/// How an indicator's value is formed from its numerator and denominator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A count (the numerator); no denominator.
    Level,
    /// Σ value / Σ count.
    Mean,
    /// Σ indicator / Σ universe.
    Proportion,
    /// (male − female) / male × 100 of a mean or a median.
    Gap,
}

/// The indicators of METHODOLOGY §4.2 (9 and 15 split into their two variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Indicator {
    /// 1. Employment: number of employed persons (all workers of the units).
    Employment,
    /// 2. Average hourly earnings of employees with valid hourly earnings (VND/hour).
    MeanHourlyEarnings,
    /// 3. Low-pay rate: employees with valid hourly earnings h < (2/3)·median(h), the median
    ///    over all employees of the population.
    LowPay,
    /// 4. Below the regional minimum wage: among employees paid by the month (pay_form "1")
    ///    with usual_hours ≥ `full_time_min_hours` (full normal hours; 40 as in the §4.6
    ///    oracle), earn_basic < the monthly minimum of the employer's region.
    BelowMinimumWage,
    /// 5. Excessive working time: employed persons with usual_hours + other_job_hours > 48.
    ExcessiveHours,
    /// 6. Overtime above the legal limit: employees with overtime_hours_month > 40.
    OvertimeAboveLimit,
    /// 7. Precarious employment: employees (contract type known) with a definite-term contract
    ///    under 12 months ("3"), a verbal agreement ("4") or no contract ("5").
    Precarious,
    /// 8. Social-insurance coverage: employees with a written contract ("1"–"3", the ones the
    ///    compulsory scheme covers) who answered si_paid yes or no; numerator: yes.
    SocialInsurance,
    /// 9a. Health-insurance coverage: employees who answered hi_paid; numerator: yes.
    HealthInsurance,
    /// 9b. Unemployment-insurance coverage: employees who answered ui_paid; numerator: yes.
    UnemploymentInsurance,
    /// 10. Informal employment of employees: no employer SI contribution (si_paid "2"); when
    ///     si_paid is "don't know", informal if neither paid annual leave nor paid sick leave
    ///     ("2" and "2"); employees whose status stays unknown are left out.
    InformalJob,
    /// 11. Employment in the informal sector: employed persons in household businesses without
    ///     a business registration.
    InformalSector,
    /// 12. Non-fatal occupational injury: workers with ≥ 12 months of tenure; numerator: an
    ///     injury in the last 12 months with ≥ 1 lost day. A proportion; publish × 1,000.
    Injury,
    /// 13. Trade-union density: employees; numerator: union members.
    UnionDensity,
    /// 14. Collective bargaining coverage: employees; numerator: employees of units with a
    ///     collective labour agreement in force (the enterprise item `cba_in_force`).
    CbaCoverage,
    /// 15a. Gender pay gap, mean-based: (Ē_m − Ē_w)/Ē_m × 100 of mean hourly earnings.
    GenderPayGapMean,
    /// 15b. Gender pay gap, median-based: the same with inverse-CDF medians.
    GenderPayGapMedian,
    /// 16. Child labour: workers aged 5–17; numerator: aged 5–11 with ≥ 1 h, 12–14 with
    ///     ≥ 14 h, or 15–17 with ≥ 43 h actually worked in the reference week
    ///     (actual_hours_7d + other_job_hours), or 12–17 in hazardous work (SDG 8.7.1).
    ChildLabour,
    /// 17. Forced labour: all workers; numerator: ≥ 1 involuntariness item and ≥ 1 coercion
    ///     item (20th ICLS).
    ForcedLabour,
}

impl Indicator {
    pub const ALL: [Indicator; 19] = [
        Indicator::Employment,
        Indicator::MeanHourlyEarnings,
        Indicator::LowPay,
        Indicator::BelowMinimumWage,
        Indicator::ExcessiveHours,
        Indicator::OvertimeAboveLimit,
        Indicator::Precarious,
        Indicator::SocialInsurance,
        Indicator::HealthInsurance,
        Indicator::UnemploymentInsurance,
        Indicator::InformalJob,
        Indicator::InformalSector,
        Indicator::Injury,
        Indicator::UnionDensity,
        Indicator::CbaCoverage,
        Indicator::GenderPayGapMean,
        Indicator::GenderPayGapMedian,
        Indicator::ChildLabour,
        Indicator::ForcedLabour,
    ];

    /// Stable code used in truth files.
    pub fn code(self) -> &'static str {
        match self {
            Indicator::Employment => "dw01_employment",
            Indicator::MeanHourlyEarnings => "dw02_mean_hourly_earnings",
            Indicator::LowPay => "dw03_low_pay",
            Indicator::BelowMinimumWage => "dw04_below_minimum_wage",
            Indicator::ExcessiveHours => "dw05_excessive_hours",
            Indicator::OvertimeAboveLimit => "dw06_overtime_above_limit",
            Indicator::Precarious => "dw07_precarious",
            Indicator::SocialInsurance => "dw08_social_insurance",
            Indicator::HealthInsurance => "dw09a_health_insurance",
            Indicator::UnemploymentInsurance => "dw09b_unemployment_insurance",
            Indicator::InformalJob => "dw10_informal_job",
            Indicator::InformalSector => "dw11_informal_sector",
            Indicator::Injury => "dw12_injury",
            Indicator::UnionDensity => "dw13_union_density",
            Indicator::CbaCoverage => "dw14_cba_coverage",
            Indicator::GenderPayGapMean => "dw15a_gender_pay_gap_mean",
            Indicator::GenderPayGapMedian => "dw15b_gender_pay_gap_median",
            Indicator::ChildLabour => "dw16_child_labour",
            Indicator::ForcedLabour => "dw17_forced_labour",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Indicator::Employment => Kind::Level,
            Indicator::MeanHourlyEarnings => Kind::Mean,
            Indicator::GenderPayGapMean | Indicator::GenderPayGapMedian => Kind::Gap,
            _ => Kind::Proportion,
        }
    }
}

/// What the indicators need to know about the worker's unit.
#[derive(Clone, Copy, Debug)]
pub struct UnitFacts {
    pub household_business: bool,
    pub registered: bool,
    pub cba_in_force: bool,
    /// Monthly regional minimum wage for the unit (thousand VND).
    pub minimum_wage: f64,
}

/// One worker's (numerator, denominator) contribution to a ratio indicator, or `None` when
/// the worker is outside its universe. `low_pay_threshold` is in VND/hour (pass the
/// population value from [`low_pay_threshold`]). Gap indicators are not worker sums and
/// always return `None`; form them with [`gender_pay_gap`].
pub fn terms(
    ind: Indicator,
    w: &Worker,
    unit: &UnitFacts,
    legal: &LegalParams,
    low_pay_threshold: f64,
) -> Option<(f64, f64)> {
    let flag = |b: bool| Some((if b { 1.0 } else { 0.0 }, 1.0));
    let employee = w.is_employee();
    let answered = |a: Option<YesNoDk>| match a {
        Some(YesNoDk::Yes) => Some(true),
        Some(YesNoDk::No) => Some(false),
        _ => None,
    };
    match ind {
        Indicator::Employment => Some((1.0, 1.0)),
        Indicator::MeanHourlyEarnings => {
            if !employee {
                return None;
            }
            w.hourly_earnings().map(|h| (h, 1.0))
        }
        Indicator::LowPay => {
            if !employee {
                return None;
            }
            w.hourly_earnings()
                .map(|h| (if h < low_pay_threshold { 1.0 } else { 0.0 }, 1.0))
        }
        Indicator::BelowMinimumWage => {
            if employee
                && w.pay_form == PayForm::Monthly
                && w.usual_hours >= legal.full_time_min_hours
            {
                flag(w.earn_basic < unit.minimum_wage)
            } else {
                None
            }
        }
        Indicator::ExcessiveHours => {
            flag(w.usual_hours + w.other_job_hours > legal.excessive_hours)
        }
        Indicator::OvertimeAboveLimit => {
            if employee {
                flag(w.overtime_hours_month > legal.overtime_monthly_cap)
            } else {
                None
            }
        }
        Indicator::Precarious => match w.contract_type {
            Some(ContractType::DontKnow) | None => None,
            Some(c) if employee => flag(matches!(
                c,
                ContractType::DefiniteUnder12 | ContractType::Verbal | ContractType::NoContract
            )),
            Some(_) => None,
        },
        Indicator::SocialInsurance => {
            if employee && w.contract_type.is_some_and(|c| c.is_written()) {
                answered(w.si_paid).and_then(&flag)
            } else {
                None
            }
        }
        Indicator::HealthInsurance => {
            if employee {
                answered(w.hi_paid).and_then(&flag)
            } else {
                None
            }
        }
        Indicator::UnemploymentInsurance => {
            if employee {
                answered(w.ui_paid).and_then(&flag)
            } else {
                None
            }
        }
        Indicator::InformalJob => {
            if !employee {
                return None;
            }
            match answered(w.si_paid) {
                Some(si) => flag(!si),
                None => match (answered(w.paid_annual_leave), answered(w.paid_sick_leave)) {
                    (Some(false), Some(false)) => flag(true),
                    (Some(true), _) | (_, Some(true)) => flag(false),
                    _ => None,
                },
            }
        }
        Indicator::InformalSector => flag(unit.household_business && !unit.registered),
        Indicator::Injury => {
            if w.tenure_months >= 12 {
                flag(w.injury_12m && w.injury_days_lost >= 1)
            } else {
                None
            }
        }
        Indicator::UnionDensity => {
            if employee {
                flag(w.union_member)
            } else {
                None
            }
        }
        Indicator::CbaCoverage => {
            if employee {
                flag(unit.cba_in_force)
            } else {
                None
            }
        }
        Indicator::GenderPayGapMean | Indicator::GenderPayGapMedian => None,
        Indicator::ChildLabour => {
            if !(5..=17).contains(&w.age) {
                return None;
            }
            let h = w.actual_hours_7d + w.other_job_hours;
            let cl = match w.age {
                5..=11 => h >= 1.0,
                12..=14 => h >= 14.0 || w.hazardous_work,
                _ => h >= 43.0 || w.hazardous_work,
            };
            flag(cl)
        }
        Indicator::ForcedLabour => {
            let inv = w.fl_deceived || w.fl_forced_ot || w.fl_other_employer || w.fl_live_premises;
            let coe = w.fl_wages_withheld
                || w.fl_id_retained
                || w.fl_debt
                || w.fl_threats
                || w.fl_restricted_movement
                || w.fl_penalty_leaving
                || w.fl_cannot_leave;
            flag(inv && coe)
        }
    }
}

/// Low-pay threshold: two thirds of the median hourly earnings (VND/hour).
pub fn low_pay_threshold(median_hourly: f64) -> f64 {
    median_hourly * 2.0 / 3.0
}

/// Gender pay gap in percent: (male − female) / male × 100, of means or of medians.
pub fn gender_pay_gap(male: f64, female: f64) -> f64 {
    (male - female) / male * 100.0
}

/// Weighted quantile by the inverse-CDF rule: the smallest value x such that the weight of
/// values ≤ x is at least p·Σw. `pairs` are (value, weight) with weights > 0; sorted in
/// place. `None` when empty.
pub fn weighted_quantile(pairs: &mut [(f64, f64)], p: f64) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|x| x.1).sum();
    let target = p * total;
    let mut cum = 0.0;
    for (v, w) in pairs.iter() {
        cum += w;
        // A relative tolerance so that a cumulative share of exactly p (as in the §4.6
        // oracle) is not missed by rounding.
        if cum >= target * (1.0 - 1e-12) {
            return Some(*v);
        }
    }
    pairs.last().map(|x| x.0)
}

/// Median of unit-weight values by the inverse-CDF rule (the ⌈n/2⌉-th smallest value);
/// reorders `values`. `None` when empty.
pub fn median_unweighted(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let k = values.len().div_ceil(2) - 1;
    let (_, v, _) = values.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    Some(*v)
}
