//! Workers, regenerated on demand from (seed, unit index, worker index).
//!
//! Each unit has its own ChaCha20 key (derived from the population seed and the unit index),
//! and worker k owns draws [k·64, (k+1)·64) of that key's stream: a full pass reads the stream
//! straight through (two ChaCha20 blocks per worker), and any single worker is produced alone
//! by seeking to its slot. The population never holds workers in memory. Workers `0..employees_male` are
//! men and the rest women, so within-unit selection by sex picks indices directly.
//!
//! Field names and codes follow `VARIABLES.md` (the worker questionnaire); money is in
//! thousand VND per month, hours per week unless named otherwise.

use serde_json::{Map, Value, json};

use super::config::{WorkerParams, WorkforceClass};
use super::draw::{Stream, mix};
use super::population::{FirmEffects, Population, TAG_WORKERS};

/// Sex (`sex`: "1" male, "2" female): the shared contract's type.
pub use crate::questionnaire::dwscs::Sex;

/// A yes/no answer that allows "don't know".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YesNoDk {
    Yes,
    No,
    DontKnow,
}

impl YesNoDk {
    fn from_bool(b: bool) -> YesNoDk {
        if b { YesNoDk::Yes } else { YesNoDk::No }
    }
    /// The answer as stored in a submission: "1", "2" or `{"missing": "dont_know"}`.
    pub fn answer(self) -> Value {
        match self {
            YesNoDk::Yes => json!("1"),
            YesNoDk::No => json!("2"),
            YesNoDk::DontKnow => json!({"missing": "dont_know"}),
        }
    }
}

/// Status in employment (`status_in_employment`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Employee,
    Employer,
    OwnAccount,
    ContributingFamily,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Employee => "1",
            Status::Employer => "2",
            Status::OwnAccount => "3",
            Status::ContributingFamily => "4",
        }
    }
}

/// Contract type (`contract_type`, METHODOLOGY §4.5 codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractType {
    Indefinite,
    Definite12To36,
    DefiniteUnder12,
    Verbal,
    NoContract,
    OtherCivil,
    DontKnow,
}

impl ContractType {
    pub fn code(self) -> &'static str {
        match self {
            ContractType::Indefinite => "1",
            ContractType::Definite12To36 => "2",
            ContractType::DefiniteUnder12 => "3",
            ContractType::Verbal => "4",
            ContractType::NoContract => "5",
            ContractType::OtherCivil => "6",
            ContractType::DontKnow => "9",
        }
    }
    /// A written labour contract (codes 1–3).
    pub fn is_written(self) -> bool {
        matches!(
            self,
            ContractType::Indefinite | ContractType::Definite12To36 | ContractType::DefiniteUnder12
        )
    }
}

/// Pay form (`pay_form`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayForm {
    Monthly,
    PieceRate,
    Daily,
    Hourly,
}

impl PayForm {
    pub fn code(self) -> &'static str {
        match self {
            PayForm::Monthly => "1",
            PayForm::PieceRate => "2",
            PayForm::Daily => "3",
            PayForm::Hourly => "4",
        }
    }
}

/// Age groups of METHODOLOGY §4.2 (plus 5–14 for children found in units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgeGroup {
    A5To14,
    A15To17,
    A18To24,
    A25To34,
    A35To44,
    A45To54,
    A55Plus,
}

impl AgeGroup {
    pub const ALL: [AgeGroup; 7] = [
        AgeGroup::A5To14,
        AgeGroup::A15To17,
        AgeGroup::A18To24,
        AgeGroup::A25To34,
        AgeGroup::A35To44,
        AgeGroup::A45To54,
        AgeGroup::A55Plus,
    ];
    pub fn of(age: u8) -> AgeGroup {
        match age {
            0..=14 => AgeGroup::A5To14,
            15..=17 => AgeGroup::A15To17,
            18..=24 => AgeGroup::A18To24,
            25..=34 => AgeGroup::A25To34,
            35..=44 => AgeGroup::A35To44,
            45..=54 => AgeGroup::A45To54,
            _ => AgeGroup::A55Plus,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            AgeGroup::A5To14 => "5-14",
            AgeGroup::A15To17 => "15-17",
            AgeGroup::A18To24 => "18-24",
            AgeGroup::A25To34 => "25-34",
            AgeGroup::A35To44 => "35-44",
            AgeGroup::A45To54 => "45-54",
            AgeGroup::A55Plus => "55+",
        }
    }
}

/// One worker's answers to the worker questionnaire (true values, as a respondent would give
/// them, with "don't know" where the configuration says so). Items that are asked only of
/// employees are `None` for other statuses.
#[derive(Clone, Debug, PartialEq)]
pub struct Worker {
    /// Index of the unit in the frame.
    pub unit: usize,
    /// Index of the worker within the unit (men first).
    pub index: u32,
    pub sex: Sex,
    pub age: u8,
    pub birth_year: u16,
    pub migrant: bool,
    pub status_in_employment: Status,
    pub tenure_months: u32,
    pub agency_hired: bool,
    pub contract_type: Option<ContractType>,
    pub contract_copy: Option<bool>,
    pub usual_hours: f64,
    pub actual_hours_7d: f64,
    pub other_job_hours: f64,
    pub overtime_hours_month: f64,
    pub night_work: bool,
    pub can_refuse_ot: bool,
    pub pay_form: PayForm,
    pub earn_basic: f64,
    pub earn_overtime: f64,
    pub earn_allowances: f64,
    pub earn_bonus: f64,
    pub paid_on_time: bool,
    pub si_paid: Option<YesNoDk>,
    pub hi_paid: Option<YesNoDk>,
    pub ui_paid: Option<YesNoDk>,
    pub paid_annual_leave: Option<YesNoDk>,
    pub paid_sick_leave: Option<YesNoDk>,
    pub injury_12m: bool,
    pub injury_days_lost: u32,
    pub ppe_provided: bool,
    pub union_member: bool,
    pub cba_covered: Option<YesNoDk>,
    pub fl_deceived: bool,
    pub fl_forced_ot: bool,
    pub fl_other_employer: bool,
    pub fl_live_premises: bool,
    pub fl_wages_withheld: bool,
    pub fl_id_retained: bool,
    pub fl_debt: bool,
    pub fl_threats: bool,
    pub fl_restricted_movement: bool,
    pub fl_penalty_leaving: bool,
    pub fl_cannot_leave: bool,
    pub hazardous_work: bool,
}

impl Worker {
    /// `earn_total`: the sum of the four earnings components (thousand VND).
    pub fn earn_total(&self) -> f64 {
        self.earn_basic + self.earn_overtime + self.earn_allowances + self.earn_bonus
    }

    /// `hourly_earnings` (VND/hour) = earn_total · 1000 / (usual_hours · 52/12), or `None`
    /// when earnings or hours are not positive (METHODOLOGY §4.2 notes).
    pub fn hourly_earnings(&self) -> Option<f64> {
        let e = self.earn_total();
        if e > 0.0 && self.usual_hours > 0.0 {
            Some(e * 1000.0 / (self.usual_hours * 52.0 / 12.0))
        } else {
            None
        }
    }

    pub fn age_group(&self) -> AgeGroup {
        AgeGroup::of(self.age)
    }

    pub fn is_employee(&self) -> bool {
        self.status_in_employment == Status::Employee
    }

    /// The worker's answers keyed by the `VARIABLES.md` names, in the submission encoding of
    /// `docs/questionnaire-format.md` (select_one values as strings, don't know as
    /// `{"missing": "dont_know"}`, items not asked left out). Items the generator does not
    /// simulate (ethnicity, education, occupation) are not included.
    pub fn answers(&self) -> Map<String, Value> {
        let yn = |b: bool| json!(if b { "1" } else { "2" });
        let mut m = Map::new();
        m.insert("consent".into(), json!("1"));
        m.insert("age".into(), json!(self.age));
        m.insert("birth_year".into(), json!(self.birth_year));
        m.insert("sex".into(), json!(self.sex.code()));
        m.insert("migrant".into(), yn(self.migrant));
        m.insert(
            "status_in_employment".into(),
            json!(self.status_in_employment.code()),
        );
        m.insert("tenure_months".into(), json!(self.tenure_months));
        m.insert("agency_hired".into(), yn(self.agency_hired));
        if let Some(c) = self.contract_type {
            m.insert("contract_type".into(), json!(c.code()));
        }
        if let Some(c) = self.contract_copy {
            m.insert("contract_copy".into(), yn(c));
        }
        m.insert("usual_hours".into(), json!(self.usual_hours));
        m.insert("actual_hours_7d".into(), json!(self.actual_hours_7d));
        m.insert("other_job_hours".into(), json!(self.other_job_hours));
        m.insert(
            "overtime_hours_month".into(),
            json!(self.overtime_hours_month),
        );
        m.insert("night_work".into(), yn(self.night_work));
        m.insert("can_refuse_ot".into(), yn(self.can_refuse_ot));
        m.insert("pay_form".into(), json!(self.pay_form.code()));
        m.insert("earn_basic".into(), json!(self.earn_basic));
        m.insert("earn_overtime".into(), json!(self.earn_overtime));
        m.insert("earn_allowances".into(), json!(self.earn_allowances));
        m.insert("earn_bonus".into(), json!(self.earn_bonus));
        m.insert("paid_on_time".into(), yn(self.paid_on_time));
        for (k, v) in [
            ("si_paid", self.si_paid),
            ("hi_paid", self.hi_paid),
            ("ui_paid", self.ui_paid),
            ("paid_annual_leave", self.paid_annual_leave),
            ("paid_sick_leave", self.paid_sick_leave),
            ("cba_covered", self.cba_covered),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.answer());
            }
        }
        m.insert("injury_12m".into(), yn(self.injury_12m));
        if self.injury_12m {
            m.insert("injury_days_lost".into(), json!(self.injury_days_lost));
        }
        m.insert("ppe_provided".into(), yn(self.ppe_provided));
        m.insert("union_member".into(), yn(self.union_member));
        for (k, v) in [
            ("fl_deceived", self.fl_deceived),
            ("fl_forced_ot", self.fl_forced_ot),
            ("fl_other_employer", self.fl_other_employer),
            ("fl_live_premises", self.fl_live_premises),
            ("fl_wages_withheld", self.fl_wages_withheld),
            ("fl_id_retained", self.fl_id_retained),
            ("fl_debt", self.fl_debt),
            ("fl_threats", self.fl_threats),
            ("fl_restricted_movement", self.fl_restricted_movement),
            ("fl_penalty_leaving", self.fl_penalty_leaving),
            ("fl_cannot_leave", self.fl_cannot_leave),
        ] {
            m.insert(k.into(), yn(v));
        }
        if self.age < 18 {
            m.insert("hazardous_work".into(), yn(self.hazardous_work));
        }
        m
    }
}

/// Everything about a unit that its workers' draws depend on.
#[derive(Clone)]
struct UnitContext<'a> {
    unit: usize,
    key: [u8; 32],
    males: u64,
    total: u64,
    class: &'a WorkforceClass,
    params: &'a WorkerParams,
    effects: FirmEffects,
    migrant_rate: f64,
    minimum_wage: f64,
    household: bool,
    cba: bool,
    reference_year: u16,
    normal_hours: f64,
    excessive_hours: f64,
}

impl<'a> UnitContext<'a> {
    fn new(pop: &'a Population, unit: usize) -> UnitContext<'a> {
        let u = &pop.frame.units[unit];
        let class = pop.class(unit);
        UnitContext {
            unit,
            key: Stream::key(mix(pop.seed, TAG_WORKERS), unit as u64),
            males: u.employees_male,
            total: u.employees(),
            class,
            params: &pop.config.workers,
            effects: pop.units[unit].effects,
            migrant_rate: (pop.group(unit).migrant_rate * class.migrant_factor).min(0.98),
            minimum_wage: pop.minimum_wage(unit),
            household: u.household_business,
            cba: pop.units[unit].cba_in_force,
            reference_year: pop.config.reference_year,
            normal_hours: pop.config.legal.normal_weekly_hours,
            excessive_hours: pop.config.legal.excessive_hours,
        }
    }
}

/// Draws reserved per worker. `draw_into` takes at most 56 (counted branch by branch: age 5,
/// birth year, migrant, status, tenure, agency 1 each, contract 3, hours 3, actual hours 2,
/// second job 2, overtime, night work, pay form, income, below-minimum, basic share, basic,
/// allowances, paid on time 1 each, social protection 11, injury 3, PPE, union 1 each,
/// forced labour 9, can refuse, hazardous 1 each); the tests check that sequential and
/// single-worker generation agree for every worker of a population.
const WORKER_SLOT: u64 = 64;

/// The workers of unit `unit`, generated one at a time (men first, then women); empty when
/// `unit` is not a unit of the population.
pub fn workers_of(pop: &Population, unit: usize) -> impl Iterator<Item = Worker> + '_ {
    let ctx = (unit < pop.units.len()).then(|| UnitContext::new(pop, unit));
    let total = ctx.as_ref().map_or(0, |c| c.total);
    let mut stream = ctx.as_ref().map(|c| Stream::keyed_at(c.key, 0));
    (0..total).filter_map(move |k| {
        let (c, s) = (ctx.as_ref()?, stream.as_mut()?);
        s.skip_to(k * WORKER_SLOT);
        let w = draw_into(c, k, s);
        debug_assert!(s.draws() <= (k + 1) * WORKER_SLOT, "worker slot overrun");
        Some(w)
    })
}

/// Worker `index` of unit `unit` alone, identical to the same item of [`workers_of`];
/// `None` if either index is out of range.
pub fn worker(pop: &Population, unit: usize, index: u64) -> Option<Worker> {
    if unit >= pop.units.len() || index >= pop.frame.units[unit].employees() {
        return None;
    }
    let ctx = UnitContext::new(pop, unit);
    let mut s = Stream::keyed_at(ctx.key, index * WORKER_SLOT);
    Some(draw_into(&ctx, index, &mut s))
}

/// Number of `u64` draws the workers of `unit` use (for the benchmark baseline).
pub fn draws_of(pop: &Population, unit: usize) -> u64 {
    if unit >= pop.units.len() {
        return 0;
    }
    let ctx = UnitContext::new(pop, unit);
    (0..ctx.total)
        .map(|k| {
            let mut s = Stream::keyed_at(ctx.key, k * WORKER_SLOT);
            draw_into(&ctx, k, &mut s);
            s.draws() - k * WORKER_SLOT
        })
        .sum()
}

fn draw_into(ctx: &UnitContext, k: u64, s: &mut Stream) -> Worker {
    let c = ctx.class;
    let p = ctx.params;
    let e = &ctx.effects;
    let sex = if k < ctx.males {
        Sex::Male
    } else {
        Sex::Female
    };
    let female = sex == Sex::Female;

    // Age: rare children and minors first, then the class's bands (35+ split by config).
    let u = s.u01();
    let age: u8 = if u < c.child_12_14 {
        s.int_between(12, 14) as u8
    } else if u < c.child_12_14 + c.minor_15_17 {
        s.int_between(15, 17) as u8
    } else {
        match s.weighted(&[c.age_18_24, c.age_25_34, c.age_35_plus]) {
            0 => s.int_between(18, 24) as u8,
            1 => s.int_between(25, 34) as u8,
            _ => {
                let split: Vec<f64> = p.age_35_plus_split.iter().map(|b| b.share).collect();
                let band = &p.age_35_plus_split[s.weighted(&split)];
                s.int_between(band.min as u64, band.max as u64) as u8
            }
        }
    };
    let birth_year = ctx.reference_year - age as u16 - s.bernoulli(0.5) as u16;
    let migrant = s.bernoulli(ctx.migrant_rate);

    // In a household business worker 0 is the owner; other workers may be family members.
    let status = if ctx.household && k == 0 {
        if ctx.total > 1 {
            Status::Employer
        } else {
            Status::OwnAccount
        }
    } else if ctx.household && s.bernoulli(p.contributing_family_share) {
        Status::ContributingFamily
    } else {
        Status::Employee
    };
    let employee = status == Status::Employee;

    // Tenure: exponential with the class's separation rate, no longer than working life.
    let tenure_cap = (age.saturating_sub(12) as u32).max(1) * 12;
    let tenure_months = ((-s.u01_open().ln() * 12.0 / c.separation_rate.max(1e-6)).floor() as u32)
        .clamp(1, tenure_cap);
    let agency_hired = employee && s.bernoulli(p.agency_hired_rate);

    // Contract.
    let (contract_type, contract_copy) = if employee {
        let written = s.bernoulli(e.written_contract);
        let ct = if written {
            let m = &p.contract_mix_written;
            if tenure_months >= m.indefinite_after_months {
                ContractType::Indefinite
            } else {
                let add = if female { m.women_under_12_add } else { 0.0 };
                match s.weighted(&[
                    m.indefinite,
                    (m.definite_12_36 - add).max(0.0),
                    m.definite_under_12 + add,
                ]) {
                    0 => ContractType::Indefinite,
                    1 => ContractType::Definite12To36,
                    _ => ContractType::DefiniteUnder12,
                }
            }
        } else {
            let m = &p.contract_mix_unwritten;
            match s.weighted(&[m.verbal, m.none, m.other]) {
                0 => ContractType::Verbal,
                1 => ContractType::NoContract,
                _ => ContractType::OtherCivil,
            }
        };
        let copy = ct.is_written() && s.bernoulli(p.contract_copy_rate);
        (Some(ct), Some(copy))
    } else {
        (None, None)
    };

    // Hours: the share above 48 h is the firm's rate (§7.5); the §7.3 normal gives the shape
    // on each side of 48 h, and most of the others work exactly the normal 48 h.
    let usual_hours = if s.bernoulli(e.over_48h) {
        s.truncated_normal(
            c.hours_mean,
            c.hours_sd,
            ctx.excessive_hours + 0.5,
            p.hours_max,
        )
        .round()
        .max(ctx.excessive_hours + 1.0)
    } else if s.bernoulli(p.hours_at_normal_share) {
        ctx.normal_hours.min(ctx.excessive_hours)
    } else {
        s.truncated_normal(
            c.hours_mean,
            c.hours_sd,
            p.hours_min,
            ctx.excessive_hours - 0.5,
        )
        .round()
        .min(ctx.excessive_hours - 1.0)
    };
    let actual_hours_7d = if s.bernoulli(0.85) {
        usual_hours
    } else {
        (usual_hours * s.uniform(0.5, 1.1)).round()
    };
    let other_job_hours = if s.bernoulli(p.other_job_rate) {
        s.uniform(p.other_job_hours_min, p.other_job_hours_max)
            .round()
    } else {
        0.0
    };
    let overtime_hours_month = if usual_hours > ctx.normal_hours {
        ((usual_hours - ctx.normal_hours) * 52.0 / 12.0 * s.uniform(0.9, 1.1)).round()
    } else {
        0.0
    };
    let night_work = s.bernoulli(p.night_work_rate);
    let pay_form = if s.bernoulli(c.piece_rate_share) {
        PayForm::PieceRate
    } else {
        PayForm::Monthly
    };

    // Earnings: gross income from the class lognormal; basic pay set against the regional
    // minimum so that the below-minimum rate is the firm's rate (+ the women's add-on).
    let sex_factor = if female { p.women_income_factor } else { 1.0 };
    let income = sex_factor * c.income_median * (c.income_sigma * s.std_normal()).exp();
    let mw = ctx.minimum_wage;
    let below_p = e.below_minimum_wage
        + if female {
            c.below_minimum_wage_women_add
        } else {
            0.0
        };
    let below = s.bernoulli(below_p);
    let share = s.uniform(p.basic_share_of_income[0], p.basic_share_of_income[1]);
    let earn_basic = if below {
        (mw * s.uniform(p.below_minimum_wage_floor, 1.0))
            .floor()
            .min(mw - 1.0)
    } else {
        let b = (income * share).round();
        if b >= mw {
            b
        } else {
            (mw * s.uniform(1.0, 1.0 + p.basic_above_minimum_max)).ceil()
        }
    };
    let (earn_overtime, earn_allowances, earn_bonus) = if employee {
        let ot = (overtime_hours_month * earn_basic / 208.0 * p.overtime_premium).round();
        let rest = (income - earn_basic - ot).max(0.0);
        let allow = (rest * s.uniform(0.3, 0.7)).round();
        (ot, allow, (rest - allow).round().max(0.0))
    } else {
        (0.0, 0.0, 0.0)
    };
    let paid_on_time = s.bernoulli(p.paid_on_time_rate);

    // Social protection: contributions follow the contract; answers may be "don't know".
    let report = |truth: bool, s: &mut Stream| {
        if s.bernoulli(p.dont_know_rate) {
            YesNoDk::DontKnow
        } else {
            YesNoDk::from_bool(truth)
        }
    };
    let (si_paid, hi_paid, ui_paid, paid_annual_leave, paid_sick_leave, cba_covered) = if employee {
        let written = contract_type.is_some_and(|c| c.is_written());
        let p_si = if written {
            (e.social_insurance / e.written_contract.max(1e-6)).min(0.999)
        } else {
            p.social_insurance_without_contract
        };
        let si = s.bernoulli(p_si);
        let hi = s.bernoulli(if si {
            p.health_insurance_given_si
        } else {
            p.health_insurance_without_si
        });
        let ui = s.bernoulli(if si {
            p.unemployment_insurance_given_si
        } else {
            p.unemployment_insurance_without_si
        });
        let leave_p = if si {
            p.paid_leave_given_si
        } else {
            p.paid_leave_without_si
        };
        let annual = s.bernoulli(leave_p);
        let sick = s.bernoulli(leave_p);
        (
            Some(report(si, s)),
            Some(report(hi, s)),
            Some(report(ui, s)),
            Some(report(annual, s)),
            Some(report(sick, s)),
            Some(report(ctx.cba, s)),
        )
    } else {
        (None, None, None, None, None, None)
    };

    let injury_12m = s.bernoulli(e.injury_12m);
    let injury_days_lost = if injury_12m && s.bernoulli(p.injury_days_lost_share) {
        1 + (-s.u01_open().ln() * 4.0).floor() as u32
    } else {
        0
    };
    let ppe_provided = s.bernoulli(p.ppe_rate);
    let union_member = s.bernoulli(e.union_member);

    // Forced labour: involuntariness at the firm's rate; coercion far more likely with it.
    // Item weights: which involuntariness / coercion items a case shows (ILO 2012 dimensions).
    const INVOLUNTARY_ITEMS: [f64; 4] = [0.35, 0.45, 0.05, 0.15];
    const COERCION_ITEMS: [f64; 7] = [0.25, 0.15, 0.15, 0.10, 0.10, 0.15, 0.10];
    let mut inv = [false; 4];
    let mut coe = [false; 7];
    let involuntary = s.bernoulli(e.forced_labour_involuntary);
    if involuntary {
        inv[s.weighted(&INVOLUNTARY_ITEMS)] = true;
        if s.bernoulli(0.2) {
            inv[s.weighted(&INVOLUNTARY_ITEMS)] = true;
        }
    }
    let coerced = s.bernoulli(if involuntary {
        p.coercion_given_involuntary
    } else {
        p.coercion_without_involuntary
    });
    if coerced {
        coe[s.weighted(&COERCION_ITEMS)] = true;
        if s.bernoulli(0.2) {
            coe[s.weighted(&COERCION_ITEMS)] = true;
        }
    }
    let can_refuse_ot = !inv[1] && s.bernoulli(p.can_refuse_overtime_rate);
    let hazardous_work = age < 18 && s.bernoulli(p.hazardous_work_rate_minors);

    Worker {
        unit: ctx.unit,
        index: k as u32,
        sex,
        age,
        birth_year,
        migrant,
        status_in_employment: status,
        tenure_months,
        agency_hired,
        contract_type,
        contract_copy,
        usual_hours,
        actual_hours_7d,
        other_job_hours,
        overtime_hours_month,
        night_work,
        can_refuse_ot,
        pay_form,
        earn_basic,
        earn_overtime,
        earn_allowances,
        earn_bonus,
        paid_on_time,
        si_paid,
        hi_paid,
        ui_paid,
        paid_annual_leave,
        paid_sick_leave,
        injury_12m,
        injury_days_lost,
        ppe_provided,
        union_member,
        cba_covered,
        fl_deceived: inv[0],
        fl_forced_ot: inv[1],
        fl_other_employer: inv[2],
        fl_live_premises: inv[3],
        fl_wages_withheld: coe[0],
        fl_id_retained: coe[1],
        fl_debt: coe[2],
        fl_threats: coe[3],
        fl_restricted_movement: coe[4],
        fl_penalty_leaving: coe[5],
        fl_cannot_leave: coe[6],
        hazardous_work,
    }
}
