//! The forced-labour flag (METHODOLOGY §4.2 #17; 20th ICLS guidelines [S22]): at least one
//! *involuntariness* item AND at least one *coercion* item true.

/// Worker-questionnaire items of the involuntariness dimension (VARIABLES.md).
pub const INVOLUNTARINESS_ITEMS: [&str; 4] = [
    "fl_deceived",
    "fl_forced_ot",
    "fl_other_employer",
    "fl_live_premises",
];

/// Worker-questionnaire items of the coercion (menace of penalty) dimension.
/// `fl_cannot_leave = "1"` means the worker cannot leave when they want.
pub const COERCION_ITEMS: [&str; 7] = [
    "fl_wages_withheld",
    "fl_id_retained",
    "fl_debt",
    "fl_threats",
    "fl_restricted_movement",
    "fl_penalty_leaving",
    "fl_cannot_leave",
];

/// The flag from the item answers: `Some(true)` = yes, `Some(false)` = no, `None` =
/// unanswered. Forced labour when some involuntariness item and some coercion item are yes.
/// When the flag cannot be decided because unanswered items could still make it true, the
/// result is `None`; a "no" is returned only when every needed dimension is settled.
pub fn forced_labour(involuntariness: &[Option<bool>], coercion: &[Option<bool>]) -> Option<bool> {
    let dimension = |items: &[Option<bool>]| -> Option<bool> {
        if items.contains(&Some(true)) {
            Some(true)
        } else if items.iter().all(|i| *i == Some(false)) {
            Some(false)
        } else {
            None
        }
    };
    match (dimension(involuntariness), dimension(coercion)) {
        (Some(true), Some(true)) => Some(true),
        (Some(false), _) | (_, Some(false)) => Some(false),
        _ => None,
    }
}
