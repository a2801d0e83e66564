//! Choice lists: select questions name an existing, non-empty list; lists have unique values;
//! non-select questions have no choices.

use std::collections::HashSet;

use crate::questionnaire::diagnostic::{Diagnostic, pointer_index, pointer_push};
use crate::questionnaire::model::{Item, ItemKind, Questionnaire};
use crate::questionnaire::suggest::suggestion_suffix;

/// Lints the choice lists and every question's use of them.
pub fn lint_choices(questionnaire: &Questionnaire, items: &[&Item], out: &mut Vec<Diagnostic>) {
    for list in &questionnaire.choice_lists {
        if list.choices.is_empty() {
            out.push(Diagnostic::error(
                "empty_choice_list",
                &list.pointer,
                format!("choice list `{}` has no choices", list.name),
            ));
        }
        let mut seen = HashSet::new();
        for (index, choice) in list.choices.iter().enumerate() {
            if !seen.insert(choice.value.as_str()) {
                out.push(Diagnostic::error(
                    "duplicate_choice_value",
                    pointer_push(&pointer_index(&list.pointer, index), "value"),
                    format!(
                        "value \"{}\" appears more than once in choice list `{}`",
                        choice.value, list.name
                    ),
                ));
            }
            if choice.value.is_empty() {
                out.push(Diagnostic::error(
                    "invalid_choice_value",
                    pointer_push(&pointer_index(&list.pointer, index), "value"),
                    "a choice value must not be empty",
                ));
            }
        }
    }
    let list_names: Vec<&str> = questionnaire
        .choice_lists
        .iter()
        .map(|l| l.name.as_str())
        .collect();
    let mut used = HashSet::new();
    for item in items {
        let choices_path = pointer_push(&item.pointer, "choices");
        if item.kind != ItemKind::Question {
            continue;
        }
        match (&item.choices, item.is_select()) {
            (None, true) => out.push(Diagnostic::error(
                "missing_choices",
                &item.pointer,
                format!(
                    "select question `{}` needs `choices` naming a choice list",
                    item.name
                ),
            )),
            (Some(_), false) => out.push(Diagnostic::error(
                "choices_on_non_select",
                &choices_path,
                format!(
                    "question `{}` is of type {} and cannot have choices; use select_one or \
                     select_multiple",
                    item.name,
                    item.question_type.map(|t| t.as_str()).unwrap_or("(none)")
                ),
            )),
            (Some(list), true) => {
                used.insert(list.as_str());
                if questionnaire.choice_list(list).is_none() {
                    out.push(Diagnostic::error(
                        "unknown_choice_list",
                        &choices_path,
                        format!(
                            "choice list `{list}` is not defined in choice_lists{}",
                            suggestion_suffix(list, &list_names)
                        ),
                    ));
                }
            }
            (None, false) => {}
        }
        if item.choice_filter.is_some() && !item.is_select() {
            out.push(Diagnostic::error(
                "choices_on_non_select",
                pointer_push(&item.pointer, "choice_filter"),
                format!(
                    "question `{}` is not a select question, so it cannot have a choice_filter",
                    item.name
                ),
            ));
        }
    }
    for list in &questionnaire.choice_lists {
        if !used.contains(list.name.as_str()) {
            out.push(Diagnostic::warning(
                "unused_choice_list",
                &list.pointer,
                format!("choice list `{}` is not used by any question", list.name),
            ));
        }
    }
}
