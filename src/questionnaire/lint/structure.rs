//! Per-item structure: the keys each kind needs and accepts, roster bounds, and rules where
//! they cannot apply.

use crate::questionnaire::diagnostic::{Diagnostic, pointer_push};
use crate::questionnaire::model::{Item, ItemKind};

/// Keys each kind accepts. Keys outside this list but inside the format are reported as
/// `misplaced_key` (or a more specific code) rather than silently ignored.
fn accepted_keys(kind: ItemKind) -> &'static [&'static str] {
    const COMMON: [&str; 5] = ["kind", "name", "label", "relevant", "aliases"];
    match kind {
        ItemKind::Question => &[
            "kind",
            "name",
            "label",
            "relevant",
            "aliases",
            "hint",
            "type",
            "choices",
            "choice_filter",
            "required",
            "required_message",
            "rules",
            "allow_dont_know",
            "allow_refused",
        ],
        ItemKind::Group => &[
            "kind", "name", "label", "relevant", "aliases", "rules", "items",
        ],
        ItemKind::Roster => &[
            "kind", "name", "label", "relevant", "aliases", "rules", "items", "min", "max", "count",
        ],
        ItemKind::Note => &COMMON,
        ItemKind::Calculate => &[
            "kind",
            "name",
            "label",
            "relevant",
            "aliases",
            "calculation",
        ],
    }
}

/// Lints the keys, required parts and bounds of one item.
pub fn lint_item_structure(item: &Item, out: &mut Vec<Diagnostic>) {
    let accepted = accepted_keys(item.kind);
    for key in &item.keys {
        if accepted.contains(&key.as_str()) {
            continue;
        }
        let path = pointer_push(&item.pointer, key);
        // Choices on a non-select question are reported by the choice checks.
        if item.kind == ItemKind::Question && (key == "choices" || key == "choice_filter") {
            continue;
        }
        if item.kind == ItemKind::Note && key == "rules" {
            out.push(Diagnostic::error(
                "rules_on_note",
                path,
                format!(
                    "note `{}` has rules, but a note has no value to check; move the rules to \
                     the question they are about",
                    item.name
                ),
            ));
            continue;
        }
        out.push(Diagnostic::error(
            "misplaced_key",
            path,
            format!(
                "`{key}` does not apply to a {} item (`{}`)",
                item.kind.as_str(),
                item.name
            ),
        ));
    }
    let needs_label = item.kind != ItemKind::Calculate;
    if needs_label && item.label.is_none() {
        out.push(Diagnostic::error(
            "missing_label",
            &item.pointer,
            format!("{} `{}` needs a `label`", item.kind.as_str(), item.name),
        ));
    }
    match item.kind {
        ItemKind::Question if item.question_type.is_none() => out.push(Diagnostic::error(
            "missing_type",
            &item.pointer,
            format!("question `{}` needs a `type`", item.name),
        )),
        ItemKind::Calculate if item.calculation.is_none() => out.push(Diagnostic::error(
            "missing_calculation",
            &item.pointer,
            format!("calculate `{}` needs a `calculation`", item.name),
        )),
        ItemKind::Group | ItemKind::Roster if item.items.is_empty() => {
            out.push(Diagnostic::warning(
                "empty_container",
                &item.pointer,
                format!("{} `{}` has no items", item.kind.as_str(), item.name),
            ))
        }
        ItemKind::Roster => lint_roster_bounds(item, out),
        _ => {}
    }
}

fn lint_roster_bounds(item: &Item, out: &mut Vec<Diagnostic>) {
    for (key, bound) in [("min", item.min), ("max", item.max)] {
        if let Some(value) = bound
            && value < 0
        {
            out.push(Diagnostic::error(
                "roster_bounds",
                pointer_push(&item.pointer, key),
                format!("roster `{}` has a negative {key} ({value})", item.name),
            ));
        }
    }
    if let (Some(min), Some(max)) = (item.min, item.max)
        && min > max
    {
        out.push(Diagnostic::error(
            "roster_bounds",
            pointer_push(&item.pointer, "min"),
            format!(
                "roster `{}` has min {min} greater than max {max}, so no row count is valid",
                item.name
            ),
        ));
    }
    if item.max == Some(0) {
        out.push(Diagnostic::warning(
            "roster_bounds",
            pointer_push(&item.pointer, "max"),
            format!(
                "roster `{}` has max 0, so it can never have a row",
                item.name
            ),
        ));
    }
    if let Some(count) = &item.count
        && let Some(constant) = constant_integer(&count.source)
    {
        let below = item.min.is_some_and(|min| constant < min);
        let above = item.max.is_some_and(|max| constant > max);
        if below || above || constant < 0 {
            out.push(Diagnostic::error(
                "roster_bounds",
                &count.pointer,
                format!(
                    "roster `{}` has the constant count {constant}, outside its bounds \
                     (min {}, max {})",
                    item.name,
                    item.min.map_or("none".to_string(), |v| v.to_string()),
                    item.max.map_or("none".to_string(), |v| v.to_string())
                ),
            ));
        }
    }
}

/// The value of an expression that is a bare integer literal such as `"3"` or `"-1"`.
fn constant_integer(source: &str) -> Option<i64> {
    source.trim().parse().ok()
}
