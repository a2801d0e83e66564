//! The forced-labour flag (METHODOLOGY §4.2 #17; 20th ICLS guidelines \[S22\]): at least one
//! *involuntariness* item AND at least one *coercion* item true.

/// The item sets of the two dimensions (VARIABLES.md), from the shared worker contract.
pub use crate::questionnaire::dwscs::{COERCION_ITEMS, INVOLUNTARINESS_ITEMS};

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
