//! Expression checks: syntax, references, scoping, types, cycles and unreachable items.
//! The work is done by [`crate::questionnaire::analysis`], which the compiler shares.

use crate::questionnaire::analysis::analyze;
use crate::questionnaire::diagnostic::Diagnostic;
use crate::questionnaire::layout::Layout;
use crate::questionnaire::model::Questionnaire;

/// Lints every expression of the questionnaire.
pub fn lint_expressions(questionnaire: &Questionnaire, out: &mut Vec<Diagnostic>) {
    let layout = Layout::new(questionnaire);
    out.extend(analyze(questionnaire, &layout).diagnostics);
}
