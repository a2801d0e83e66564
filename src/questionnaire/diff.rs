//! Version diff: what changed between two versions of a questionnaire, and whether data
//! collected with the old version still fits the new one.
//!
//! Items are matched by their stable `name`; a new item whose `aliases` contain an old name is
//! the same variable renamed. Each change is classified:
//!
//! - **compatible**: old submissions stay valid and exports keep their columns (a new
//!   optional question, a new choice, a new warning rule, text of labels, hints and messages,
//!   a rename that keeps the old name as an alias, moves between groups, which are only
//!   presentational);
//! - **breaking**: old submissions may no longer validate or a column changes meaning (a
//!   removed or retyped question, a removed choice, an item moved into or out of a roster,
//!   a question made required, a new error rule, tighter roster bounds, a removed
//!   don't-know/refused option).
//!
//! The diff does not compare expressions semantically: a changed `relevant` or `calculation`
//! is reported as a compatible change for a human to review.

use std::collections::HashMap;

use serde::Serialize;

use crate::questionnaire::model::{Item, ItemKind, Questionnaire, Required, RuleSeverity};
use crate::questionnaire::text::Text;

/// Whether a change (or a whole diff) keeps old data valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compatibility {
    /// Old submissions remain valid under the new version.
    Compatible,
    /// Old submissions may be invalid or mean something else under the new version.
    Breaking,
}

/// One difference between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Compatible or breaking.
    pub compatibility: Compatibility,
    /// A stable code such as `question_removed` (listed in the format doc).
    pub code: &'static str,
    /// The variable the change is about (its new name when renamed), or empty for the
    /// questionnaire itself.
    pub name: String,
    /// JSON Pointer in the old document, when the thing existed there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// JSON Pointer in the new document, when the thing exists there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_path: Option<String>,
    /// A sentence for a human.
    pub message: String,
}

/// All changes between two versions and the overall verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// Breaking when any change is breaking.
    pub verdict: Compatibility,
    /// Changes in new-document order, then removals in old-document order.
    pub changes: Vec<Change>,
}

impl DiffReport {
    /// True when any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.verdict == Compatibility::Breaking
    }
}

/// Compares two versions of a questionnaire.
pub fn diff(old: &Questionnaire, new: &Questionnaire) -> DiffReport {
    let mut ctx = Ctx {
        old,
        new,
        changes: Vec::new(),
    };
    ctx.top_level();
    let old_items = flatten(&old.items);
    let new_items = flatten(&new.items);
    let old_by_name: HashMap<&str, &Placed> = old_items
        .iter()
        .map(|p| (p.item.name.as_str(), p))
        .collect();
    let mut matched_old: Vec<&str> = Vec::new();
    for placed in &new_items {
        let candidates = std::iter::once(&placed.item.name).chain(&placed.item.aliases);
        let found = candidates
            .filter_map(|name| old_by_name.get(name.as_str()))
            .next();
        match found {
            Some(old_placed) => {
                matched_old.push(&old_placed.item.name);
                ctx.compare(old_placed, placed);
            }
            None => ctx.added(placed),
        }
    }
    for placed in &old_items {
        if !matched_old.contains(&placed.item.name.as_str()) {
            ctx.removed(placed);
        }
    }
    let verdict = ctx
        .changes
        .iter()
        .map(|c| c.compatibility)
        .max()
        .unwrap_or(Compatibility::Compatible);
    DiffReport {
        verdict,
        changes: ctx.changes,
    }
}

/// An item with the rosters that enclose it.
struct Placed<'q> {
    item: &'q Item,
    rosters: Vec<&'q str>,
}

fn flatten(items: &[Item]) -> Vec<Placed<'_>> {
    fn walk<'q>(items: &'q [Item], rosters: &mut Vec<&'q str>, out: &mut Vec<Placed<'q>>) {
        for item in items {
            out.push(Placed {
                item,
                rosters: rosters.clone(),
            });
            let is_roster = item.kind == ItemKind::Roster;
            if is_roster {
                rosters.push(&item.name);
            }
            walk(&item.items, rosters, out);
            if is_roster {
                rosters.pop();
            }
        }
    }
    let mut out = Vec::new();
    walk(items, &mut Vec::new(), &mut out);
    out
}

struct Ctx<'q> {
    old: &'q Questionnaire,
    new: &'q Questionnaire,
    changes: Vec<Change>,
}

impl<'q> Ctx<'q> {
    fn push(
        &mut self,
        compatibility: Compatibility,
        code: &'static str,
        name: &str,
        old_path: Option<&str>,
        new_path: Option<&str>,
        message: String,
    ) {
        self.changes.push(Change {
            compatibility,
            code,
            name: name.to_string(),
            old_path: old_path.map(str::to_string),
            new_path: new_path.map(str::to_string),
            message,
        });
    }

    fn top_level(&mut self) {
        let (old, new) = (self.old, self.new);
        if old.id != new.id {
            self.push(
                Compatibility::Breaking,
                "id_changed",
                "",
                Some("/id"),
                Some("/id"),
                format!(
                    "the questionnaire id changed from `{}` to `{}`: this is another questionnaire",
                    old.id, new.id
                ),
            );
        }
        if old.title != new.title {
            self.push(
                Compatibility::Compatible,
                "text_changed",
                "",
                Some("/title"),
                Some("/title"),
                "the title changed".to_string(),
            );
        }
        if old.languages != new.languages {
            self.push(
                Compatibility::Compatible,
                "languages_changed",
                "",
                Some("/languages"),
                Some("/languages"),
                format!(
                    "languages changed from [{}] to [{}]",
                    old.languages.join(", "),
                    new.languages.join(", ")
                ),
            );
        }
    }

    fn added(&mut self, placed: &Placed<'q>) {
        let item = placed.item;
        let (compatibility, code, message) = match item.kind {
            ItemKind::Question if item.required != Required::No => (
                Compatibility::Breaking,
                "required_question_added",
                format!(
                    "new required question `{}`: submissions of the old version lack it",
                    item.name
                ),
            ),
            ItemKind::Question => (
                Compatibility::Compatible,
                "question_added",
                format!("new optional question `{}`", item.name),
            ),
            ItemKind::Roster if item.min.is_some_and(|m| m > 0) => (
                Compatibility::Breaking,
                "roster_added",
                format!(
                    "new roster `{}` with min {}: submissions of the old version have no rows",
                    item.name,
                    item.min.unwrap_or(0)
                ),
            ),
            kind => (
                Compatibility::Compatible,
                "item_added",
                format!("new {} `{}`", kind.as_str(), item.name),
            ),
        };
        self.push(
            compatibility,
            code,
            &item.name,
            None,
            Some(&item.pointer),
            message,
        );
    }

    fn removed(&mut self, placed: &Placed<'q>) {
        let item = placed.item;
        let (compatibility, code) = match item.kind {
            ItemKind::Question => (Compatibility::Breaking, "question_removed"),
            ItemKind::Roster => (Compatibility::Breaking, "roster_removed"),
            ItemKind::Calculate => (Compatibility::Breaking, "calculate_removed"),
            ItemKind::Group | ItemKind::Note => (Compatibility::Compatible, "item_removed"),
        };
        let message = match compatibility {
            Compatibility::Breaking => format!(
                "{} `{}` was removed (to rename it, keep the old name in the new item's \
                 `aliases`)",
                item.kind.as_str(),
                item.name
            ),
            Compatibility::Compatible => {
                format!("{} `{}` was removed", item.kind.as_str(), item.name)
            }
        };
        self.push(
            compatibility,
            code,
            &item.name,
            Some(&item.pointer),
            None,
            message,
        );
    }

    fn compare(&mut self, old_placed: &Placed<'q>, new_placed: &Placed<'q>) {
        let (old, new) = (old_placed.item, new_placed.item);
        let name = new.name.as_str();
        let paths = (Some(old.pointer.as_str()), Some(new.pointer.as_str()));
        if old.name != new.name {
            self.push(
                Compatibility::Compatible,
                "renamed",
                name,
                paths.0,
                paths.1,
                format!(
                    "`{}` was renamed to `{}` (the old name is an alias)",
                    old.name, name
                ),
            );
        }
        if old.kind != new.kind {
            self.push(
                Compatibility::Breaking,
                "kind_changed",
                name,
                paths.0,
                paths.1,
                format!(
                    "`{name}` changed from a {} to a {}",
                    old.kind.as_str(),
                    new.kind.as_str()
                ),
            );
            return;
        }
        if old_placed.rosters != new_placed.rosters {
            let show = |r: &[&str]| {
                if r.is_empty() {
                    "the top level".to_string()
                } else {
                    format!("roster {}", r.join(" > "))
                }
            };
            self.push(
                Compatibility::Breaking,
                "roster_structure_changed",
                name,
                paths.0,
                paths.1,
                format!(
                    "`{name}` moved from {} to {}: its answers change shape",
                    show(&old_placed.rosters),
                    show(&new_placed.rosters)
                ),
            );
        }
        if old.question_type != new.question_type {
            let show = |t: Option<crate::questionnaire::model::QuestionType>| {
                t.map_or("(none)", |t| t.as_str())
            };
            self.push(
                Compatibility::Breaking,
                "type_changed",
                name,
                paths.0,
                paths.1,
                format!(
                    "`{name}` changed type from {} to {}",
                    show(old.question_type),
                    show(new.question_type)
                ),
            );
        }
        self.compare_texts(old, new, name);
        if old.relevant.as_ref().map(|e| &e.source) != new.relevant.as_ref().map(|e| &e.source) {
            self.push(
                Compatibility::Compatible,
                "relevance_changed",
                name,
                paths.0,
                paths.1,
                format!("the skip condition (`relevant`) of `{name}` changed"),
            );
        }
        if old.calculation.as_ref().map(|e| &e.source)
            != new.calculation.as_ref().map(|e| &e.source)
        {
            self.push(
                Compatibility::Compatible,
                "calculation_changed",
                name,
                paths.0,
                paths.1,
                format!("the calculation of `{name}` changed"),
            );
        }
        self.compare_required(old, new, name);
        self.compare_missing_options(old, new, name);
        self.compare_rules(old, new, name);
        self.compare_choices(old, new, name);
        if new.kind == ItemKind::Roster {
            self.compare_roster(old, new, name);
        }
    }

    fn compare_texts(&mut self, old: &Item, new: &Item, name: &str) {
        let pairs: [(&str, Option<&Text>, Option<&Text>); 3] = [
            ("label", old.label.as_ref(), new.label.as_ref()),
            ("hint", old.hint.as_ref(), new.hint.as_ref()),
            (
                "required_message",
                old.required_message.as_ref(),
                new.required_message.as_ref(),
            ),
        ];
        for (key, a, b) in pairs {
            if a != b {
                self.push(
                    Compatibility::Compatible,
                    "text_changed",
                    name,
                    Some(&old.pointer),
                    Some(&new.pointer),
                    format!("the {key} of `{name}` changed"),
                );
            }
        }
    }

    fn compare_required(&mut self, old: &Item, new: &Item, name: &str) {
        let describe = |r: &Required| match r {
            Required::No => "optional".to_string(),
            Required::Yes => "required".to_string(),
            Required::When(e) => format!("required when `{}`", e.source),
        };
        // Compare what the designer wrote, not where it sits in the document.
        let same = match (&old.required, &new.required) {
            (Required::When(a), Required::When(b)) => a.source == b.source,
            (a, b) => a == b,
        };
        if same {
            return;
        }
        let compatibility = match (&old.required, &new.required) {
            (_, Required::No) => Compatibility::Compatible,
            (Required::Yes, _) => Compatibility::Compatible,
            _ => Compatibility::Breaking,
        };
        self.push(
            compatibility,
            "required_changed",
            name,
            Some(&old.pointer),
            Some(&new.pointer),
            format!(
                "`{name}` changed from {} to {}",
                describe(&old.required),
                describe(&new.required)
            ),
        );
    }

    fn compare_missing_options(&mut self, old: &Item, new: &Item, name: &str) {
        let options = [
            ("don't know", old.allow_dont_know, new.allow_dont_know),
            ("refused", old.allow_refused, new.allow_refused),
        ];
        for (what, was, is) in options {
            if was == is {
                continue;
            }
            let (compatibility, verb) = if is {
                (Compatibility::Compatible, "now accepts")
            } else {
                (Compatibility::Breaking, "no longer accepts")
            };
            self.push(
                compatibility,
                "missing_option_changed",
                name,
                Some(&old.pointer),
                Some(&new.pointer),
                format!("`{name}` {verb} \"{what}\""),
            );
        }
    }

    fn compare_rules(&mut self, old: &Item, new: &Item, name: &str) {
        for rule in &new.rules {
            let before = old
                .rules
                .iter()
                .find(|r| r.check.source == rule.check.source);
            match before {
                None => {
                    let (compatibility, code) = match rule.severity {
                        RuleSeverity::Error => (Compatibility::Breaking, "error_rule_added"),
                        RuleSeverity::Warning => (Compatibility::Compatible, "warning_rule_added"),
                    };
                    self.push(
                        compatibility,
                        code,
                        name,
                        None,
                        Some(&rule.pointer),
                        format!("new rule on `{name}`: `{}`", rule.check.source),
                    );
                }
                Some(previous) => {
                    if previous.severity == RuleSeverity::Warning
                        && rule.severity == RuleSeverity::Error
                    {
                        self.push(
                            Compatibility::Breaking,
                            "rule_severity_changed",
                            name,
                            Some(&previous.pointer),
                            Some(&rule.pointer),
                            format!(
                                "rule `{}` on `{name}` changed from warning to error",
                                rule.check.source
                            ),
                        );
                    } else if previous.severity != rule.severity {
                        self.push(
                            Compatibility::Compatible,
                            "rule_severity_changed",
                            name,
                            Some(&previous.pointer),
                            Some(&rule.pointer),
                            format!(
                                "rule `{}` on `{name}` changed from error to warning",
                                rule.check.source
                            ),
                        );
                    }
                    if previous.message != rule.message {
                        self.push(
                            Compatibility::Compatible,
                            "text_changed",
                            name,
                            Some(&previous.pointer),
                            Some(&rule.pointer),
                            format!(
                                "the message of rule `{}` on `{name}` changed",
                                rule.check.source
                            ),
                        );
                    }
                }
            }
        }
        for rule in &old.rules {
            if !new
                .rules
                .iter()
                .any(|r| r.check.source == rule.check.source)
            {
                self.push(
                    Compatibility::Compatible,
                    "rule_removed",
                    name,
                    Some(&rule.pointer),
                    None,
                    format!("rule `{}` on `{name}` was removed", rule.check.source),
                );
            }
        }
    }

    fn compare_choices(&mut self, old: &Item, new: &Item, name: &str) {
        let old_list = old.choices.as_deref().and_then(|l| self.old.choice_list(l));
        let new_list = new.choices.as_deref().and_then(|l| self.new.choice_list(l));
        let (Some(old_list), Some(new_list)) = (old_list, new_list) else {
            return;
        };
        for (index, choice) in new_list.choices.iter().enumerate() {
            let path = format!("{}/{index}", new_list.pointer);
            match old_list.choices.iter().find(|c| c.value == choice.value) {
                None => self.push(
                    Compatibility::Compatible,
                    "choice_added",
                    name,
                    None,
                    Some(&path),
                    format!("`{name}` has a new choice \"{}\"", choice.value),
                ),
                Some(previous) if previous.label != choice.label => self.push(
                    Compatibility::Compatible,
                    "text_changed",
                    name,
                    None,
                    Some(&path),
                    format!(
                        "the label of choice \"{}\" of `{name}` changed",
                        choice.value
                    ),
                ),
                Some(_) => {}
            }
        }
        for (index, choice) in old_list.choices.iter().enumerate() {
            if !new_list.choices.iter().any(|c| c.value == choice.value) {
                self.push(
                    Compatibility::Breaking,
                    "choice_removed",
                    name,
                    Some(&format!("{}/{index}", old_list.pointer)),
                    None,
                    format!(
                        "choice \"{}\" of `{name}` was removed: old answers with it become invalid",
                        choice.value
                    ),
                );
            }
        }
    }

    fn compare_roster(&mut self, old: &Item, new: &Item, name: &str) {
        let tighter_min = match (old.min, new.min) {
            (_, None) => false,
            (None, Some(m)) => m > 0,
            (Some(a), Some(b)) => b > a,
        };
        let tighter_max = match (old.max, new.max) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(a), Some(b)) => b < a,
        };
        if old.min != new.min || old.max != new.max {
            let compatibility = if tighter_min || tighter_max {
                Compatibility::Breaking
            } else {
                Compatibility::Compatible
            };
            let show = |v: Option<i64>| v.map_or("none".to_string(), |v| v.to_string());
            self.push(
                compatibility,
                "roster_bounds_changed",
                name,
                Some(&old.pointer),
                Some(&new.pointer),
                format!(
                    "roster `{name}` bounds changed from min {} max {} to min {} max {}",
                    show(old.min),
                    show(old.max),
                    show(new.min),
                    show(new.max)
                ),
            );
        }
        if old.count.as_ref().map(|e| &e.source) != new.count.as_ref().map(|e| &e.source) {
            self.push(
                Compatibility::Breaking,
                "roster_structure_changed",
                name,
                Some(&old.pointer),
                Some(&new.pointer),
                format!("the row count expression of roster `{name}` changed"),
            );
        }
    }
}
