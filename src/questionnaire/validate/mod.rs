//! Submission validation: a compiled questionnaire plus one submission's answers → every
//! finding (with a JSON Pointer into the answers) and the recomputed calculations.
//!
//! The steps, in order:
//! 1. **Decode** the answers into frames (one per roster row, plus the top level): unknown
//!    fields, wrong types, malformed dates/datetimes/geopoints and malformed missing-answer
//!    objects are reported here.
//! 2. **Evaluate** relevance and calculations in dependency order (computed once at compile
//!    time). A non-relevant item is empty for everything that reads it; an answer given
//!    for it is reported (`not_relevant`) and ignored.
//! 3. **Check** every relevant item: required answers, don't-know/refused permission,
//!    choices (in the list, not excluded by `choice_filter`), rules (only on answered
//!    questions; `.` is the answer), roster row counts against `count`, `min` and `max`,
//!    and the rules of groups and rosters.
//!
//! Finding codes are listed in `docs/questionnaire-format.md`, "Validation codes".
//! Validation never panics on any JSON value; a non-object answers document is one finding.

mod answer;

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::questionnaire::compile::{CompiledQuestionnaire, CompiledRequired, Node};
use crate::questionnaire::diagnostic::{Diagnostic, pointer_index, pointer_push};
use crate::questionnaire::expr::{Date, Scope, Value, ValueRef, VarId, evaluate, evaluate_bool};
use crate::questionnaire::model::{Choice, ItemKind, RuleSeverity};
use crate::questionnaire::parse::describe;
use crate::questionnaire::suggest::suggestion_suffix;

pub use answer::Slot;
use answer::{Missing, decode_missing, decode_value};

/// The outcome of validating one submission.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationReport {
    /// Errors and warnings, in document order of the questionnaire per row.
    pub findings: Vec<Diagnostic>,
    /// The recomputed calculations, shaped like the answers: `{"name": value, "roster":
    /// [{"name": value}, …]}`; empty values are `null` (see [`Calculations::to_json`]).
    pub calculations: Json,
}

impl ValidationReport {
    /// True when any finding is an error (the submission must be rejected).
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Diagnostic::is_error)
    }

    /// The JSON form printed by `questionnaire validate --format json` and returned by the
    /// server: `{"valid", "errors", "warnings", "findings", "calculations"}`.
    pub fn to_json(&self) -> Json {
        let errors = self.findings.iter().filter(|d| d.is_error()).count();
        serde_json::json!({
            "valid": errors == 0,
            "errors": errors,
            "warnings": self.findings.len() - errors,
            "findings": self.findings,
            "calculations": self.calculations,
        })
    }
}

/// The recomputed calculations of one level (the top level, or one roster row), typed.
/// [`ValidationReport::calculations`] holds their JSON form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Calculations {
    /// Every calculation of this level in document order with its value
    /// ([`Value::Empty`] when not relevant or not computable).
    pub values: Vec<(Arc<str>, Value)>,
    /// For each roster of this level that contains calculations (directly or in nested
    /// rosters): its name and one entry per row.
    pub rosters: Vec<(Arc<str>, Vec<Calculations>)>,
}

impl Calculations {
    /// The value of the calculation `name` at this level.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    /// The rows of roster `name` at this level.
    pub fn rows(&self, name: &str) -> Option<&[Calculations]> {
        self.rosters
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, rows)| rows.as_slice())
    }

    /// Shaped like the answers: `{"name": value, "roster": [{"name": value}, …]}`, with
    /// empty values as `null`, whole numbers as JSON integers, dates as `YYYY-MM-DD`.
    pub fn to_json(&self) -> Json {
        let mut out = Map::new();
        for (name, value) in &self.values {
            out.insert(name.to_string(), value_to_json(value));
        }
        for (name, rows) in &self.rosters {
            let rows: Vec<Json> = rows.iter().map(Calculations::to_json).collect();
            out.insert(name.to_string(), Json::Array(rows));
        }
        Json::Object(out)
    }
}

/// Validates `answers` with today's date (UTC) for `today()`. Rule messages are given in
/// `lang`, falling back to the questionnaire's default language.
pub fn validate(compiled: &CompiledQuestionnaire, answers: &Json, lang: &str) -> ValidationReport {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_secs() / 86_400) as i64)
        .unwrap_or(0);
    let today = Date::from_days(days).or_else(|| Date::from_ymd(2026, 1, 1));
    match today {
        Some(today) => validate_on(compiled, answers, lang, today),
        None => ValidationReport {
            findings: vec![Diagnostic::error(
                "internal",
                "",
                "the system clock is outside the supported calendar range",
            )],
            calculations: Json::Object(Map::new()),
        },
    }
}

/// Validates `answers` with a fixed date for `today()` (reproducible; the server passes the
/// submission's date).
pub fn validate_on(
    compiled: &CompiledQuestionnaire,
    answers: &Json,
    lang: &str,
    today: Date,
) -> ValidationReport {
    let Some(object) = answers.as_object() else {
        return ValidationReport {
            findings: vec![Diagnostic::error(
                "answers_not_object",
                "",
                format!(
                    "the answers must be a JSON object keyed by variable name, found {}",
                    describe(answers)
                ),
            )],
            calculations: Json::Object(Map::new()),
        };
    };
    let fallback = compiled.questionnaire.default_language();
    let mut run = Run {
        compiled,
        frames: Vec::new(),
        by_scope: vec![Vec::new(); compiled.scopes.len()],
        findings: Vec::new(),
        lang,
        fallback,
        today,
        suggestions_left: MAX_SUGGESTIONS,
    };
    run.decode_frame(0, None, String::new(), 0, object);
    run.evaluate();
    run.check();
    let calculations = if compiled.scopes[0].has_calculations {
        run.calculations(0).to_json()
    } else {
        Json::Object(Map::new())
    };
    ValidationReport {
        findings: run.findings,
        calculations,
    }
}

/// Unknown fields per submission that get a "did you mean" suggestion.
const MAX_SUGGESTIONS: u32 = 10;

/// The answers of one row (or of the top level) during validation.
struct Frame<'a> {
    scope: usize,
    parent: Option<usize>,
    /// JSON Pointer of the row object in the answers ("" for the top level).
    pointer: String,
    /// 0-based index of the row in its roster's answer array (0 for the top level), for
    /// `position()`.
    row: usize,
    slots: Vec<Slot<'a>>,
    relevant: Vec<bool>,
    /// Values of the scope's distinct `relevant` conditions once evaluated in this row
    /// (see `relevant_cache_slot`); `None` until first needed.
    relevance_cache: Vec<Option<bool>>,
    /// Row frames per roster ordinal of the scope.
    rows: Vec<Vec<usize>>,
    /// False once the row was dropped because its roster is not relevant.
    alive: bool,
}

struct Run<'c, 'a> {
    compiled: &'c CompiledQuestionnaire,
    frames: Vec<Frame<'a>>,
    by_scope: Vec<Vec<usize>>,
    findings: Vec<Diagnostic>,
    lang: &'c str,
    fallback: &'c str,
    today: Date,
    /// How many more unknown fields get a "did you mean" (see `unknown_field`).
    suggestions_left: u32,
}

impl<'c, 'a> Run<'c, 'a> {
    fn node(&self, index: usize) -> &'c Node {
        &self.compiled.nodes[index]
    }

    fn answer_pointer(&self, frame: usize, name: &str) -> String {
        pointer_push(&self.frames[frame].pointer, name)
    }

    // ----- Step 1: decoding -----------------------------------------------------------

    fn decode_frame(
        &mut self,
        scope: usize,
        parent: Option<usize>,
        pointer: String,
        row: usize,
        object: &'a Map<String, Json>,
    ) -> usize {
        let info = &self.compiled.scopes[scope];
        let index = self.frames.len();
        self.frames.push(Frame {
            scope,
            parent,
            pointer,
            row,
            slots: vec![Slot::Empty; info.slots],
            relevant: vec![true; info.slots],
            relevance_cache: vec![None; info.relevance_cache_size],
            rows: vec![Vec::new(); info.rosters.len()],
            alive: true,
        });
        self.by_scope[scope].push(index);
        for (key, value) in object {
            let Some(&node_index) = info.keys.get(key.as_str()) else {
                self.unknown_field(index, key);
                continue;
            };
            let node = self.node(node_index);
            match node.kind {
                ItemKind::Question => self.decode_question(index, node, value),
                ItemKind::Roster => self.decode_roster(index, node, value),
                ItemKind::Calculate => self.findings.push(Diagnostic::warning(
                    "calculation_submitted",
                    pointer_push(&self.frames[index].pointer, key),
                    format!(
                        "`{key}` is a calculation: it is computed by the validator, so the \
                         submitted value is ignored"
                    ),
                )),
                ItemKind::Group | ItemKind::Note => {}
            }
        }
        index
    }

    fn unknown_field(&mut self, frame: usize, key: &str) {
        let info = &self.compiled.scopes[self.frames[frame].scope];
        let pointer = pointer_push(&self.frames[frame].pointer, key);
        // A name that exists elsewhere (in a roster, or outside this roster) gets a precise
        // message; otherwise suggest a close name of this scope.
        let elsewhere = self.compiled.nodes.iter().find(|n| &*n.name == key);
        let message = match elsewhere {
            Some(node) if matches!(node.kind, ItemKind::Group | ItemKind::Note) => format!(
                "`{key}` is a {} and has no answer; put its questions' answers directly here",
                node.kind.as_str()
            ),
            Some(node) => {
                let place = match self.compiled.scopes[node.scope].roster {
                    Some(roster) => format!("in the rows of roster `{}`", self.node(roster).name),
                    None => "at the top level of the answers".to_string(),
                };
                format!("`{key}` is not answered here: it belongs {place}")
            }
            None => {
                // Suggestions cost an edit distance against every name of the level, so a
                // submission stuffed with unknown keys gets them only for the first few.
                let suggestion = if self.suggestions_left > 0 {
                    self.suggestions_left -= 1;
                    let names: Vec<&str> = info.keys.keys().map(String::as_str).collect();
                    suggestion_suffix(key, &names)
                } else {
                    String::new()
                };
                format!(
                    "unknown field `{key}`: the questionnaire has no such question here{suggestion}"
                )
            }
        };
        self.findings
            .push(Diagnostic::error("unknown_field", pointer, message));
    }

    fn decode_question(&mut self, frame: usize, node: &'c Node, value: &'a Json) {
        if value.is_null() {
            return;
        }
        let slot = match decode_missing(value) {
            Some(Ok(Missing::DontKnow)) => Slot::DontKnow,
            Some(Ok(Missing::Refused)) => Slot::Refused,
            Some(Err(error)) => {
                let pointer = self.answer_pointer(frame, &node.name);
                self.findings
                    .push(Diagnostic::error(error.code, pointer, error.message));
                Slot::Invalid
            }
            None => {
                let Some(question_type) = node.question_type else {
                    return;
                };
                match decode_value(question_type, value) {
                    Ok(slot) => slot,
                    Err(error) => {
                        let pointer = self.answer_pointer(frame, &node.name);
                        self.findings.push(Diagnostic::error(
                            error.code,
                            pointer,
                            format!("`{}`: {}", node.name, error.message),
                        ));
                        Slot::Invalid
                    }
                }
            }
        };
        self.frames[frame].slots[node.local] = slot;
    }

    fn decode_roster(&mut self, frame: usize, node: &'c Node, value: &'a Json) {
        let pointer = self.answer_pointer(frame, &node.name);
        let rows = match value {
            Json::Null => return,
            Json::Array(rows) => rows,
            other => {
                self.findings.push(Diagnostic::error(
                    "wrong_type",
                    pointer,
                    format!(
                        "roster `{}` must be an array of row objects, found {}",
                        node.name,
                        describe(other)
                    ),
                ));
                return;
            }
        };
        let Some(own_scope) = node.own_scope else {
            return;
        };
        // Marks the roster as answered even when it has no valid row.
        self.frames[frame].slots[node.local] = Slot::Number(rows.len() as f64);
        for (row_index, row) in rows.iter().enumerate() {
            let row_pointer = pointer_index(&pointer, row_index);
            match row.as_object() {
                Some(object) => {
                    let row_frame =
                        self.decode_frame(own_scope, Some(frame), row_pointer, row_index, object);
                    self.frames[frame].rows[node.roster_ordinal].push(row_frame);
                }
                None => self.findings.push(Diagnostic::error(
                    "wrong_type",
                    row_pointer,
                    format!(
                        "each row of roster `{}` must be an object, found {}",
                        node.name,
                        describe(row)
                    ),
                )),
            }
        }
    }

    // ----- Step 2: relevance and calculations ------------------------------------------

    fn evaluate(&mut self) {
        for &index in &self.compiled.order {
            let node = self.node(index);
            for position in 0..self.by_scope[node.scope].len() {
                let frame = self.by_scope[node.scope][position];
                if !self.frames[frame].alive {
                    continue;
                }
                self.evaluate_instance(node, frame);
            }
        }
    }

    fn evaluate_instance(&mut self, node: &'c Node, frame: usize) {
        let inherited = self.inherited_relevance(node, frame);
        let relevant = inherited
            && match (&node.relevant, node.relevant_cache_slot) {
                (None, _) => true,
                // Every variable a condition reads is final before the first item using it
                // is evaluated (dependency order), so a cached result stays correct.
                (Some(_), Some(slot)) if self.frames[frame].relevance_cache[slot].is_some() => {
                    self.frames[frame].relevance_cache[slot].unwrap_or(false)
                }
                (Some(expr), slot) => {
                    let value = evaluate_bool(expr, &Ctx::new(self, frame)).unwrap_or(false);
                    if let Some(slot) = slot {
                        self.frames[frame].relevance_cache[slot] = Some(value);
                    }
                    value
                }
            };
        self.frames[frame].relevant[node.local] = relevant;
        if !relevant {
            self.drop_answers(node, frame);
            return;
        }
        if let Some(calculation) = &node.calculation {
            let value = {
                let ctx = Ctx::new(self, frame);
                evaluate(calculation, &ctx).unwrap_or(Value::Empty)
            };
            self.frames[frame].slots[node.local] = Slot::Computed(value);
        }
    }

    /// Whether the enclosing group (same frame) or roster (parent frame) is relevant.
    fn inherited_relevance(&self, node: &Node, frame: usize) -> bool {
        let Some(parent) = node.parent else {
            return true;
        };
        let parent_node = self.node(parent);
        if parent_node.scope == node.scope {
            self.frames[frame].relevant[parent_node.local]
        } else {
            // The parent is the roster whose rows this frame is; its relevance lives in
            // the enclosing frame.
            match self.frames[frame].parent {
                Some(outer) => self.frames[outer].relevant[parent_node.local],
                None => true,
            }
        }
    }

    /// Reports and clears answers given for a non-relevant item.
    fn drop_answers(&mut self, node: &'c Node, frame: usize) {
        match node.kind {
            ItemKind::Question => {
                let slot = &self.frames[frame].slots[node.local];
                if !matches!(slot, Slot::Empty | Slot::Invalid) {
                    self.findings.push(Diagnostic::error(
                        "not_relevant",
                        self.answer_pointer(frame, &node.name),
                        format!(
                            "`{}` is answered but not relevant here (its skip condition is \
                             false): remove the answer",
                            node.name
                        ),
                    ));
                    self.frames[frame].slots[node.local] = Slot::Empty;
                }
            }
            ItemKind::Roster => {
                let rows = std::mem::take(&mut self.frames[frame].rows[node.roster_ordinal]);
                if !rows.is_empty() {
                    self.findings.push(Diagnostic::error(
                        "not_relevant",
                        self.answer_pointer(frame, &node.name),
                        format!(
                            "roster `{}` has {} row(s) but is not relevant here: remove them",
                            node.name,
                            rows.len()
                        ),
                    ));
                }
                for row in rows {
                    self.kill(row);
                }
                self.frames[frame].slots[node.local] = Slot::Empty;
            }
            ItemKind::Calculate => self.frames[frame].slots[node.local] = Slot::Empty,
            ItemKind::Group | ItemKind::Note => {}
        }
    }

    fn kill(&mut self, frame: usize) {
        self.frames[frame].alive = false;
        let rows: Vec<usize> = self.frames[frame].rows.iter().flatten().copied().collect();
        for row in rows {
            self.kill(row);
        }
    }

    // ----- Step 3: checks ---------------------------------------------------------------

    fn check(&mut self) {
        for index in 0..self.compiled.nodes.len() {
            let node = self.node(index);
            for position in 0..self.by_scope[node.scope].len() {
                let frame = self.by_scope[node.scope][position];
                if !self.frames[frame].alive || !self.frames[frame].relevant[node.local] {
                    continue;
                }
                match node.kind {
                    ItemKind::Question => self.check_question(node, frame),
                    ItemKind::Roster => self.check_roster(node, frame),
                    ItemKind::Group => self.check_container_rules(node, frame),
                    ItemKind::Note | ItemKind::Calculate => {}
                }
            }
        }
    }

    fn check_question(&mut self, node: &'c Node, frame: usize) {
        let slot = &self.frames[frame].slots[node.local];
        match slot {
            Slot::Invalid => {}
            Slot::Empty => {
                let required = match &node.required {
                    CompiledRequired::No => false,
                    CompiledRequired::Yes => true,
                    CompiledRequired::When(expr) => {
                        evaluate_bool(expr, &Ctx::new(self, frame)).unwrap_or(false)
                    }
                };
                if required {
                    let message = match &node.required_message {
                        Some(text) => text.get_or(self.lang, self.fallback).to_string(),
                        None => format!("`{}` is required{}", node.name, self.label_suffix(node)),
                    };
                    let pointer = self.answer_pointer(frame, &node.name);
                    self.findings
                        .push(Diagnostic::error("required_missing", pointer, message));
                }
            }
            Slot::DontKnow if !node.allow_dont_know => {
                let pointer = self.answer_pointer(frame, &node.name);
                self.findings.push(Diagnostic::error(
                    "dont_know_not_allowed",
                    pointer,
                    format!("`{}` does not accept \"don't know\"", node.name),
                ));
            }
            Slot::Refused if !node.allow_refused => {
                let pointer = self.answer_pointer(frame, &node.name);
                self.findings.push(Diagnostic::error(
                    "refused_not_allowed",
                    pointer,
                    format!("`{}` does not accept a refusal", node.name),
                ));
            }
            Slot::DontKnow | Slot::Refused => {}
            _ => {
                if let Some(set) = node.choices {
                    self.check_choices(node, frame, set);
                }
                self.check_rules(node, frame);
            }
        }
    }

    fn label_suffix(&self, node: &Node) -> String {
        match &node.label {
            Some(label) => format!(" ({})", label.get_or(self.lang, self.fallback)),
            None => String::new(),
        }
    }

    fn check_choices(&mut self, node: &'c Node, frame: usize, set: usize) {
        // Borrowed from the compiled questionnaire and the answers (not from `self`), so the
        // values can be checked one by one without first copying them into a list: this
        // runs for every answered choice question of every submission.
        let frames = &self.frames;
        let set = &self.compiled.choice_sets[set];
        let mut found = Vec::new();
        let mut check = |position: Option<usize>, value: &str| {
            let Some(&choice_index) = set.by_value.get(value) else {
                found.push((position, value.to_string(), None));
                return;
            };
            if let Some(filter) = &node.choice_filter {
                let mut ctx = Ctx::new(self, frame);
                ctx.choice = Some(&set.choices[choice_index]);
                if !evaluate_bool(filter, &ctx).unwrap_or(false) {
                    found.push((position, value.to_string(), Some(filter)));
                }
            }
        };
        match &frames[frame].slots[node.local] {
            Slot::Text(value) => check(None, value),
            Slot::Multi(values) => {
                for (i, value) in values.iter().enumerate() {
                    check(Some(i), value);
                }
            }
            _ => {}
        }
        // Messages and pointers are built only for findings: most answers have none.
        for (position, value, filter) in found {
            let pointer = match position {
                Some(i) => pointer_index(&self.answer_pointer(frame, &node.name), i),
                None => self.answer_pointer(frame, &node.name),
            };
            let finding = match filter {
                None => {
                    let mut valid: Vec<&str> =
                        set.choices.iter().map(|c| c.value.as_str()).collect();
                    valid.truncate(20);
                    Diagnostic::error(
                        "invalid_choice",
                        pointer,
                        format!(
                            "\"{value}\" is not a choice of `{}` (valid: {})",
                            node.name,
                            valid.join(", ")
                        ),
                    )
                }
                Some(filter) => Diagnostic::error(
                    "choice_filtered",
                    pointer,
                    format!(
                        "\"{value}\" is a choice of `{}` but is excluded here by its \
                         choice filter `{}`",
                        node.name,
                        filter.source()
                    ),
                ),
            };
            self.findings.push(finding);
        }
    }

    fn check_rules(&mut self, node: &'c Node, frame: usize) {
        let mut found = Vec::new();
        {
            let mut ctx = Ctx::new(self, frame);
            ctx.dot = self.frames[frame].slots[node.local].as_value_ref();
            for rule in &node.rules {
                if !evaluate_bool(&rule.check, &ctx).unwrap_or(false) {
                    found.push(self.rule_failure(node, frame, rule.severity, &rule.message));
                }
            }
        }
        self.findings.extend(found);
    }

    fn rule_failure(
        &self,
        node: &Node,
        frame: usize,
        severity: RuleSeverity,
        message: &crate::questionnaire::text::Text,
    ) -> Diagnostic {
        let pointer = match node.kind {
            ItemKind::Question | ItemKind::Roster => self.answer_pointer(frame, &node.name),
            // A group has no place in the answers: point at the row (or the top level).
            _ => self.frames[frame].pointer.clone(),
        };
        let text = message.get_or(self.lang, self.fallback).to_string();
        match severity {
            RuleSeverity::Error => Diagnostic::error("rule_failed", pointer, text),
            RuleSeverity::Warning => Diagnostic::warning("rule_failed", pointer, text),
        }
    }

    fn check_container_rules(&mut self, node: &'c Node, frame: usize) {
        let mut found = Vec::new();
        {
            let ctx = Ctx::new(self, frame);
            for rule in &node.rules {
                if !evaluate_bool(&rule.check, &ctx).unwrap_or(false) {
                    found.push(self.rule_failure(node, frame, rule.severity, &rule.message));
                }
            }
        }
        self.findings.extend(found);
    }

    fn check_roster(&mut self, node: &'c Node, frame: usize) {
        let rows = self.frames[frame].rows[node.roster_ordinal].len() as i64;
        if let Some(count) = &node.count {
            let expected = evaluate(count, &Ctx::new(self, frame))
                .ok()
                .and_then(|v| v.to_number());
            match expected {
                Some(n) if n >= 0.0 && n.fract() == 0.0 => {
                    let expected_rows = n as i64;
                    if rows != expected_rows {
                        self.findings.push(Diagnostic::error(
                            "roster_count",
                            self.answer_pointer(frame, &node.name),
                            format!(
                                "roster `{}` has {rows} row(s) but its count `{}` is \
                                 {expected_rows}",
                                node.name,
                                count.source()
                            ),
                        ));
                    }
                }
                // An empty count (e.g. its question was skipped) does not constrain the rows.
                None => {}
                Some(n) => self.findings.push(Diagnostic::error(
                    "roster_count",
                    self.answer_pointer(frame, &node.name),
                    format!(
                        "the count `{}` of roster `{}` is {n}, not a whole number of rows",
                        count.source(),
                        node.name
                    ),
                )),
            }
        }
        if let Some(min) = node.min
            && rows < min
        {
            self.findings.push(Diagnostic::error(
                "roster_min",
                self.answer_pointer(frame, &node.name),
                format!(
                    "roster `{}` needs at least {min} row(s), has {rows}",
                    node.name
                ),
            ));
        }
        if let Some(max) = node.max
            && rows > max
        {
            self.findings.push(Diagnostic::error(
                "roster_max",
                self.answer_pointer(frame, &node.name),
                format!(
                    "roster `{}` allows at most {max} row(s), has {rows}",
                    node.name
                ),
            ));
        }
        self.check_container_rules(node, frame);
    }

    // ----- Output -----------------------------------------------------------------------

    /// Moves the computed values out of the frames (they are not needed any more).
    fn calculations(&mut self, frame: usize) -> Calculations {
        let compiled = self.compiled;
        let info = &compiled.scopes[self.frames[frame].scope];
        let mut out = Calculations {
            values: Vec::with_capacity(info.calculations.len()),
            rosters: Vec::new(),
        };
        for &index in &info.calculations {
            let node = &compiled.nodes[index];
            let value =
                match std::mem::replace(&mut self.frames[frame].slots[node.local], Slot::Empty) {
                    Slot::Computed(value) => value,
                    _ => Value::Empty,
                };
            out.values.push((node.name.clone(), value));
        }
        for &roster in &info.rosters {
            let node = &compiled.nodes[roster];
            let Some(own) = node.own_scope else { continue };
            if !compiled.scopes[own].has_calculations {
                continue;
            }
            let row_frames = self.frames[frame].rows[node.roster_ordinal].clone();
            let rows: Vec<Calculations> = row_frames
                .into_iter()
                .map(|row| self.calculations(row))
                .collect();
            out.rosters.push((node.name.clone(), rows));
        }
        out
    }
}

/// Converts a computed value to JSON: whole numbers as integers, dates as `YYYY-MM-DD`,
/// select_multiple as arrays, empty as `null`.
pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Empty => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Json::from(*x as i64),
        Value::Number(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
        Value::Text(s) => Json::String(s.clone()),
        Value::Multi(values) => Json::Array(values.iter().cloned().map(Json::String).collect()),
        Value::GeoPoint(p) => serde_json::json!({
            "lat": p.lat, "lon": p.lon, "alt": p.alt, "accuracy": p.accuracy
        }),
        other => Json::String(other.to_text()),
    }
}

/// The evaluator's view of a submission from one frame.
struct Ctx<'r, 'c, 'a> {
    run: &'r Run<'c, 'a>,
    frame: usize,
    dot: ValueRef<'r>,
    choice: Option<&'c Choice>,
}

impl<'r, 'c, 'a> Ctx<'r, 'c, 'a> {
    fn new(run: &'r Run<'c, 'a>, frame: usize) -> Self {
        Ctx {
            run,
            frame,
            dot: ValueRef::Empty,
            choice: None,
        }
    }

    /// The frame of scope `scope` that encloses the context frame, if `scope` encloses it.
    #[inline]
    fn enclosing_frame(&self, scope: usize) -> Option<usize> {
        let frames = &self.run.frames;
        // The common case: a variable of the context's own row (or of the top level when
        // there are no rosters).
        if frames[self.frame].scope == scope {
            return Some(self.frame);
        }
        let scopes = &self.run.compiled.scopes;
        let mut frame = self.frame;
        let target_depth = scopes[scope].depth;
        while scopes[frames[frame].scope].depth > target_depth {
            frame = frames[frame].parent?;
        }
        (frames[frame].scope == scope).then_some(frame)
    }

    /// Calls `visit` with every live frame of `scope` reachable from the context: below the
    /// deepest frame the context and `scope` share.
    fn for_each_frame(&self, scope: usize, visit: &mut dyn FnMut(usize)) {
        let scopes = &self.run.compiled.scopes;
        // Scopes from `scope` up to (excluding) the shared ancestor.
        let mut path = Vec::new();
        let mut current = scope;
        let start = loop {
            if let Some(frame) = self.enclosing_frame(current) {
                break frame;
            }
            path.push(current);
            match scopes[current].parent {
                Some(parent) => current = parent,
                None => return,
            }
        };
        path.reverse();
        self.descend(start, &path, visit);
    }

    fn descend(&self, frame: usize, path: &[usize], visit: &mut dyn FnMut(usize)) {
        let Some((&next, rest)) = path.split_first() else {
            if self.run.frames[frame].alive {
                visit(frame);
            }
            return;
        };
        let compiled = self.run.compiled;
        let Some(roster) = compiled.scopes[next].roster else {
            return;
        };
        let ordinal = compiled.nodes[roster].roster_ordinal;
        for &row in &self.run.frames[frame].rows[ordinal] {
            self.descend(row, rest, visit);
        }
    }
}

impl Scope for Ctx<'_, '_, '_> {
    fn value(&self, var: VarId) -> ValueRef<'_> {
        let Some(place) = self.run.compiled.places.get(var.0 as usize) else {
            return ValueRef::Empty;
        };
        match self.enclosing_frame(place.scope) {
            Some(frame) => self.run.frames[frame].slots[place.local].as_value_ref(),
            None => ValueRef::Empty,
        }
    }

    fn dot(&self) -> ValueRef<'_> {
        self.dot
    }

    fn row_count(&self, var: VarId) -> Option<usize> {
        let node = self.run.compiled.nodes.get(var.0 as usize)?;
        node.own_scope?;
        // The roster's rows hang below frames of its parent scope (where the roster item
        // itself lives): count them below every such frame in scope. Starting from the
        // rows' own scope instead would, from inside a row, find just that row
        // (`count(${suppliers})` in a supplier row is all suppliers, as the corpus says).
        let frames = &self.run.frames;
        let mut rows = 0;
        self.for_each_frame(node.scope, &mut |frame| {
            rows += frames[frame].rows[node.roster_ordinal]
                .iter()
                .filter(|&&row| frames[row].alive)
                .count();
        });
        Some(rows)
    }

    fn for_each_instance(&self, var: VarId, visit: &mut dyn FnMut(ValueRef<'_>)) {
        let Some(node) = self.run.compiled.nodes.get(var.0 as usize) else {
            return;
        };
        let frames = &self.run.frames;
        self.for_each_frame(node.scope, &mut |frame| {
            visit(frames[frame].slots[node.local].as_value_ref())
        });
    }

    fn choice_column(&self, name: &str) -> Option<&str> {
        let choice = self.choice?;
        if name == "value" {
            return Some(&choice.value);
        }
        choice
            .columns
            .iter()
            .find(|(column, _)| column == name)
            .map(|(_, v)| v.as_str())
    }

    fn today(&self) -> Date {
        self.run.today
    }

    fn position(&self, roster: Option<VarId>) -> Option<usize> {
        let frame = match roster {
            None => self.frame,
            Some(var) => {
                let own = self.run.compiled.nodes.get(var.0 as usize)?.own_scope?;
                self.enclosing_frame(own)?
            }
        };
        let frame = &self.run.frames[frame];
        // The top level is no roster row.
        frame.parent.map(|_| frame.row + 1)
    }

    fn choice_label(&self, question: VarId, value: &str) -> Option<&str> {
        let compiled = self.run.compiled;
        let set = &compiled.choice_sets[compiled.nodes.get(question.0 as usize)?.choices?];
        let choice = &set.choices[*set.by_value.get(value)?];
        Some(choice.label.get_or(self.run.lang, self.run.fallback))
    }
}
