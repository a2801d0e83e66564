//! Compiling a lint-clean questionnaire into the form the validator runs: every expression
//! parsed once and resolved to variable slots, items flattened with their roster scope and
//! slot, calculations and relevance in dependency order, choice lists as hash sets.
//!
//! Compile once per questionnaire version and share the result (it is immutable and
//! `Send + Sync`); validating a submission then does no parsing and no name resolution
//! beyond one hash lookup per answer key.

use std::collections::HashMap;
use std::sync::Arc;

use crate::questionnaire::analysis::analyze;
use crate::questionnaire::diagnostic::{Diagnostic, has_errors};
use crate::questionnaire::expr::{Expr, VarId};
use crate::questionnaire::fast_hash::FastHashMap;
use crate::questionnaire::layout::Layout;
use crate::questionnaire::lint::lint;
use crate::questionnaire::model::{
    Choice, ItemKind, QuestionType, Questionnaire, Required, RuleSeverity,
};
use crate::questionnaire::text::Text;

/// A questionnaire ready for validating submissions. Build it with [`compile`].
#[derive(Debug, Clone)]
pub struct CompiledQuestionnaire {
    pub(crate) questionnaire: Questionnaire,
    pub(crate) nodes: Vec<Node>,
    /// Where each node's value lives (indexed like `nodes`, i.e. by `VarId`): the
    /// evaluator's variable lookups read this small table instead of the large `Node`s.
    pub(crate) places: Vec<Place>,
    pub(crate) scopes: Vec<ScopeInfo>,
    /// Node indices in evaluation order (dependencies first).
    pub(crate) order: Vec<usize>,
    pub(crate) choice_sets: Vec<ChoiceSet>,
    /// Non-error lint findings (warnings) of the definition, kept for callers that show them.
    pub(crate) lint_warnings: Vec<Diagnostic>,
}

impl CompiledQuestionnaire {
    /// The questionnaire this was compiled from.
    pub fn questionnaire(&self) -> &Questionnaire {
        &self.questionnaire
    }

    /// The linter's warnings about the definition (compilation refuses errors).
    pub fn lint_warnings(&self) -> &[Diagnostic] {
        &self.lint_warnings
    }
}

/// The scope and slot of a node's value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub scope: usize,
    pub local: usize,
}

/// Whether an answer is required, compiled.
#[derive(Debug, Clone)]
pub(crate) enum CompiledRequired {
    No,
    Yes,
    When(Expr),
}

/// A rule, compiled.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub check: Expr,
    pub severity: RuleSeverity,
    pub message: Text,
}

/// One item, flattened.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Shared so that reports can carry names without copying them.
    pub name: Arc<str>,
    pub kind: ItemKind,
    pub question_type: Option<QuestionType>,
    pub label: Option<Text>,
    /// Scope of the item's value (for a roster: of its row count).
    pub scope: usize,
    /// Slot in a row of `scope`.
    pub local: usize,
    pub parent: Option<usize>,
    /// For a roster: the scope of its rows, and its position among `scope`'s rosters.
    pub own_scope: Option<usize>,
    pub roster_ordinal: usize,
    pub relevant: Option<Expr>,
    /// Items of one scope whose `relevant` has the same text share one slot of the
    /// per-row relevance cache, so the condition is evaluated once per row.
    pub relevant_cache_slot: Option<usize>,
    pub required: CompiledRequired,
    pub required_message: Option<Text>,
    pub rules: Vec<CompiledRule>,
    pub calculation: Option<Expr>,
    pub count: Option<Expr>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub choice_filter: Option<Expr>,
    pub choices: Option<usize>,
    pub allow_dont_know: bool,
    pub allow_refused: bool,
}

/// One roster level (or the top level).
#[derive(Debug, Clone)]
pub(crate) struct ScopeInfo {
    pub parent: Option<usize>,
    pub depth: usize,
    pub slots: usize,
    /// Answer key → node (questions, rosters and calculates of this scope).
    pub keys: FastHashMap<String, usize>,
    /// Roster nodes of this scope, by roster ordinal.
    pub rosters: Vec<usize>,
    /// The roster whose rows this scope describes.
    pub roster: Option<usize>,
    /// Calculations of this scope in document order.
    pub calculations: Vec<usize>,
    /// Whether this scope or a nested one has calculations (for the output shape).
    pub has_calculations: bool,
    /// Number of distinct `relevant` texts in this scope (size of the relevance cache).
    pub relevance_cache_size: usize,
}

/// A choice list as a lookup table.
#[derive(Debug, Clone)]
pub(crate) struct ChoiceSet {
    pub by_value: FastHashMap<String, usize>,
    pub choices: Vec<Choice>,
}

/// Compiles a questionnaire. Fails with the lint findings when the linter reports an error.
pub fn compile(questionnaire: &Questionnaire) -> Result<CompiledQuestionnaire, Vec<Diagnostic>> {
    let findings = lint(questionnaire);
    if has_errors(&findings) {
        return Err(findings);
    }
    let layout = Layout::new(questionnaire);
    let analysis = analyze(questionnaire, &layout);
    if has_errors(&analysis.diagnostics) {
        return Err(analysis.diagnostics);
    }
    let mut choice_sets = Vec::new();
    let mut list_index: HashMap<&str, usize> = HashMap::new();
    for list in &questionnaire.choice_lists {
        list_index.insert(&list.name, choice_sets.len());
        choice_sets.push(ChoiceSet {
            by_value: list
                .choices
                .iter()
                .enumerate()
                .map(|(i, c)| (c.value.clone(), i))
                .collect(),
            choices: list.choices.clone(),
        });
    }
    let mut resolve_errors = Vec::new();
    let mut resolve = |expr: Option<Expr>, pointer: &str| -> Option<Expr> {
        let mut expr = expr?;
        let mut resolver = |name: &str| layout.by_name.get(name).map(|&i| VarId(i as u32));
        if let Err(error) = expr.resolve(&mut resolver) {
            resolve_errors.push(
                Diagnostic::error("undefined_reference", pointer, error.message.clone())
                    .at_column(error.column()),
            );
        }
        Some(expr)
    };
    let mut scopes: Vec<ScopeInfo> = layout
        .scopes
        .iter()
        .map(|s| ScopeInfo {
            parent: s.parent,
            depth: s.depth,
            slots: s.slots,
            keys: FastHashMap::default(),
            rosters: Vec::new(),
            roster: s.roster,
            calculations: Vec::new(),
            has_calculations: false,
            relevance_cache_size: 0,
        })
        .collect();
    let mut relevance_texts: HashMap<(usize, &str), usize> = HashMap::new();
    let mut nodes = Vec::with_capacity(layout.nodes.len());
    for (index, (node, parsed)) in layout.nodes.iter().zip(analysis.exprs).enumerate() {
        let item = node.item;
        let pointer = |key: &str| format!("{}/{key}", item.pointer);
        let roster_ordinal = if item.kind == ItemKind::Roster {
            scopes[node.scope].rosters.push(index);
            scopes[node.scope].rosters.len() - 1
        } else {
            0
        };
        match item.kind {
            ItemKind::Question | ItemKind::Roster | ItemKind::Calculate => {
                scopes[node.scope].keys.insert(item.name.clone(), index);
            }
            ItemKind::Group | ItemKind::Note => {}
        }
        if item.kind == ItemKind::Calculate {
            scopes[node.scope].calculations.push(index);
        }
        let required = match (&item.required, parsed.required) {
            (Required::No, _) => CompiledRequired::No,
            (Required::Yes, _) => CompiledRequired::Yes,
            (Required::When(e), parsed) => match resolve(parsed, &e.pointer) {
                Some(expr) => CompiledRequired::When(expr),
                None => CompiledRequired::No,
            },
        };
        let mut rules = Vec::new();
        for (rule, parsed_rule) in item.rules.iter().zip(parsed.rules) {
            if let Some(check) = resolve(parsed_rule, &rule.check.pointer) {
                rules.push(CompiledRule {
                    check,
                    severity: rule.severity,
                    message: rule.message.clone(),
                });
            }
        }
        let relevant_cache_slot = item.relevant.as_ref().map(|e| {
            let next = scopes[node.scope].relevance_cache_size;
            let slot = *relevance_texts
                .entry((node.scope, e.source.as_str()))
                .or_insert(next);
            if slot == next {
                scopes[node.scope].relevance_cache_size += 1;
            }
            slot
        });
        nodes.push(Node {
            name: Arc::from(item.name.as_str()),
            kind: item.kind,
            question_type: item.question_type,
            label: item.label.clone(),
            scope: node.scope,
            local: node.local,
            parent: node.parent,
            own_scope: node.own_scope,
            roster_ordinal,
            relevant: resolve(parsed.relevant, &pointer("relevant")),
            relevant_cache_slot,
            required,
            required_message: item.required_message.clone(),
            rules,
            calculation: resolve(parsed.calculation, &pointer("calculation")),
            count: resolve(parsed.count, &pointer("count")),
            min: item.min,
            max: item.max,
            choice_filter: resolve(parsed.choice_filter, &pointer("choice_filter")),
            choices: item
                .choices
                .as_deref()
                .and_then(|l| list_index.get(l).copied()),
            allow_dont_know: item.allow_dont_know,
            allow_refused: item.allow_refused,
        });
    }
    if !resolve_errors.is_empty() {
        return Err(resolve_errors);
    }
    // A scope "has calculations" when it or any nested roster scope does.
    for scope in (0..scopes.len()).rev() {
        if !scopes[scope].calculations.is_empty() {
            scopes[scope].has_calculations = true;
        }
        if scopes[scope].has_calculations
            && let Some(parent) = scopes[scope].parent
        {
            scopes[parent].has_calculations = true;
        }
    }
    let places = nodes
        .iter()
        .map(|node| Place {
            scope: node.scope,
            local: node.local,
        })
        .collect();
    Ok(CompiledQuestionnaire {
        questionnaire: questionnaire.clone(),
        nodes,
        places,
        scopes,
        order: analysis.order,
        choice_sets,
        lint_warnings: findings,
    })
}
