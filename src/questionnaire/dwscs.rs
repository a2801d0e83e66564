//! The DW-SCS worker variable contract (`VARIABLES.md`, `questionnaires/worker.json`): the
//! fixed names and codes that the synthetic population writes, the indicator derivations
//! read, and the tests check against the shipped questionnaire.
//!
//! Why here: `questionnaire` depends on no other module of ours, so `synth`, `sampling`,
//! `estimate` and the tests can all take the names from one place instead of spelling them
//! out again. The lists are grouped as VARIABLES.md groups them; the full lists are joined
//! from the groups at compile time ([`join`]), so a name is written once.
//!
//! What it deliberately does not do: parse or validate answers (that is the questionnaire
//! engine's job against `worker.json`), or hold the enterprise questionnaire's names.

/// `yes_no` list code for yes.
pub const YES: &str = "1";
/// `yes_no` list code for no.
pub const NO: &str = "2";

/// Respondent items, in questionnaire order.
pub const RESPONDENT: [&str; 9] = [
    "consent",
    "age",
    "birth_year",
    "sex",
    "migrant",
    "ethnicity",
    "education",
    "status_in_employment",
    "occupation",
];

/// Job, contract and working-time items, in questionnaire order.
pub const JOB_AND_HOURS: [&str; 11] = [
    "tenure_months",
    "agency_hired",
    "contract_type",
    "contract_copy",
    "usual_hours",
    "actual_hours_7d",
    "other_job_hours",
    "overtime_hours_month",
    "night_work",
    "can_refuse_ot",
    "pay_form",
];

/// The four earnings components of last month (thousand VND); `earn_total` is their sum.
pub const EARNINGS_COMPONENTS: [&str; 4] = [
    "earn_basic",
    "earn_overtime",
    "earn_allowances",
    "earn_bonus",
];

/// The questionnaire's calculated earnings (`earn_total`, then `hourly_earnings` in VND/h).
pub const EARNINGS_CALCULATED: [&str; 2] = ["earn_total", "hourly_earnings"];

/// Pay, social protection, safety and representation items, in questionnaire order.
pub const PROTECTION: [&str; 11] = [
    "paid_on_time",
    "si_paid",
    "hi_paid",
    "ui_paid",
    "paid_annual_leave",
    "paid_sick_leave",
    "injury_12m",
    "injury_days_lost",
    "ppe_provided",
    "union_member",
    "cba_covered",
];

/// Forced-labour items of the involuntariness dimension (20th ICLS guidelines).
pub const INVOLUNTARINESS_ITEMS: [&str; 4] = [
    "fl_deceived",
    "fl_forced_ot",
    "fl_other_employer",
    "fl_live_premises",
];

/// Forced-labour items of the coercion (menace of penalty) dimension.
/// `fl_cannot_leave = "1"` means the worker CANNOT leave when they want.
pub const COERCION_ITEMS: [&str; 7] = [
    "fl_wages_withheld",
    "fl_id_retained",
    "fl_debt",
    "fl_threats",
    "fl_restricted_movement",
    "fl_penalty_leaving",
    "fl_cannot_leave",
];

/// The child-labour item, asked of workers under 18.
pub const HAZARDOUS_WORK: &str = "hazardous_work";

/// Every collected worker variable of VARIABLES.md, in questionnaire order, without the
/// calculated earnings.
pub const WORKER_VARIABLES: [&str; 47] = join(&[
    &RESPONDENT,
    &JOB_AND_HOURS,
    &EARNINGS_COMPONENTS,
    &PROTECTION,
    &INVOLUNTARINESS_ITEMS,
    &COERCION_ITEMS,
    &[HAZARDOUS_WORK],
]);

/// The unit (enterprise) columns merged onto each worker row for the indicators: the
/// supply-chain tier, ownership, `unit_type` and `registered` (informality), the
/// minimum-wage region `mw_region` ("1"–"4" or "I"–"IV"), `cba_in_force`, and
/// `ot_regime_300h` (yes_no; overrides the survey's overtime regime).
pub const UNIT_COLUMNS: [&str; 7] = [
    "tier",
    "ownership",
    "unit_type",
    "registered",
    "mw_region",
    "cba_in_force",
    "ot_regime_300h",
];

/// A worker row as the indicators read it: [`WORKER_VARIABLES`] then [`UNIT_COLUMNS`].
pub const WORKER_ROW_COLUMNS: [&str; 54] = join(&[&WORKER_VARIABLES, &UNIT_COLUMNS]);

/// The items on the `yes_no` list ("1" yes, "2" no).
pub const YES_NO_ITEMS: [&str; 28] = join(&[
    &["consent", "migrant", "agency_hired", "contract_copy"],
    &["night_work", "can_refuse_ot"],
    &["paid_on_time"],
    &DONT_KNOW_ALLOWED,
    &["injury_12m", "ppe_provided", "union_member"],
    &INVOLUNTARINESS_ITEMS,
    &COERCION_ITEMS,
    &[HAZARDOUS_WORK],
]);

/// The `yes_no` items that also allow "don't know".
pub const DONT_KNOW_ALLOWED: [&str; 6] = [
    "si_paid",
    "hi_paid",
    "ui_paid",
    "paid_annual_leave",
    "paid_sick_leave",
    "cba_covered",
];

/// Worker sex (`sex`: "1" male, "2" female).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The questionnaire code.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "1",
            Sex::Female => "2",
        }
    }

    /// Label used in truth tables.
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Parses `1`/`2`/`male`/`female`/`M`/`F` (any case).
    pub fn parse(text: &str) -> Option<Sex> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "m" | "male" => Some(Sex::Male),
            "2" | "f" | "female" => Some(Sex::Female),
            _ => None,
        }
    }
}

/// Concatenates name lists into one array at compile time; a wrong length `N` is a compile
/// error (the const evaluation fails), so the lists above cannot drift from their groups.
pub const fn join<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut k = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            assert!(k < N, "join: more names than the declared length");
            out[k] = parts[p][i];
            k += 1;
            i += 1;
        }
        p += 1;
    }
    assert!(k == N, "join: fewer names than the declared length");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_yes_no_items_are_worker_variables() {
        let mut seen = std::collections::HashSet::new();
        for name in WORKER_ROW_COLUMNS.iter().chain(&EARNINGS_CALCULATED) {
            assert!(seen.insert(*name), "`{name}` appears twice");
        }
        for name in YES_NO_ITEMS {
            assert!(WORKER_VARIABLES.contains(&name), "`{name}`");
        }
        assert_eq!(WORKER_VARIABLES[0], "consent");
        assert_eq!(WORKER_VARIABLES[46], "hazardous_work");
        assert_eq!(WORKER_ROW_COLUMNS[53], "ot_regime_300h");
    }

    #[test]
    fn sex_codes_round_trip() {
        for sex in [Sex::Male, Sex::Female] {
            assert_eq!(Sex::parse(sex.code()), Some(sex));
            assert_eq!(Sex::parse(sex.label()), Some(sex));
        }
        assert_eq!(Sex::parse("3"), None);
    }
}
