//! Expression analysis shared by the linter and the compiler: parse every expression once,
//! type-check it in its context, build the dependency graph, find cycles and compute the
//! evaluation order.

use crate::questionnaire::diagnostic::{Diagnostic, Severity};
use crate::questionnaire::expr::{
    self, ErrorCode, Expr, ExprDiagnostic, ExprError, Type, check_typed,
};
use crate::questionnaire::layout::{ContextSymbols, Layout};
use crate::questionnaire::model::{Expression, ItemKind, Questionnaire, Required};
use crate::questionnaire::suggest::suggestion_suffix;

/// The parsed expressions of one item (`None` where absent or unparsable).
#[derive(Debug, Clone, Default)]
pub struct NodeExprs {
    /// `relevant`.
    pub relevant: Option<Expr>,
    /// `required` when it is an expression.
    pub required: Option<Expr>,
    /// `calculation`.
    pub calculation: Option<Expr>,
    /// Roster `count`.
    pub count: Option<Expr>,
    /// `choice_filter`.
    pub choice_filter: Option<Expr>,
    /// `rules[i].check`, in rule order.
    pub rules: Vec<Option<Expr>>,
}

/// The result of analysing every expression of a questionnaire.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Parsed expressions by node index (layout order).
    pub exprs: Vec<NodeExprs>,
    /// Findings: syntax, references, types, scoping, cycles, unreachable items.
    pub diagnostics: Vec<Diagnostic>,
    /// Node indices in an order where every node comes after what its relevance,
    /// calculation and count read, and after its enclosing group or roster. Complete only
    /// when there is no cycle.
    pub order: Vec<usize>,
}

/// Analyses every expression of `questionnaire`.
pub fn analyze(questionnaire: &Questionnaire, layout: &Layout<'_>) -> Analysis {
    let mut diagnostics = Vec::new();
    let mut exprs: Vec<NodeExprs> = Vec::with_capacity(layout.nodes.len());
    for node in &layout.nodes {
        let item = node.item;
        let mut parsed = NodeExprs::default();
        let mut parse = |e: &Expression| parse_one(e, &mut diagnostics);
        parsed.relevant = item.relevant.as_ref().and_then(&mut parse);
        if let Required::When(e) = &item.required {
            parsed.required = parse(e);
        }
        parsed.calculation = item.calculation.as_ref().and_then(&mut parse);
        parsed.count = item.count.as_ref().and_then(&mut parse);
        parsed.choice_filter = item.choice_filter.as_ref().and_then(&mut parse);
        parsed.rules = item.rules.iter().map(|r| parse(&r.check)).collect();
        exprs.push(parsed);
    }
    let calculation_types = infer_calculation_types(layout, &exprs);
    let names = layout.names();
    for (index, node) in layout.nodes.iter().enumerate() {
        let item = node.item;
        let parsed = &exprs[index];
        let scope = layout.context_scope(index);
        let ctx = |dot: Option<Type>| ContextSymbols {
            layout,
            calculation_types: &calculation_types,
            scope,
            dot,
            choice_columns: None,
        };
        let plain = ctx(None);
        if let (Some(e), Some(src)) = (&parsed.relevant, &item.relevant) {
            check_into(e, &src.pointer, &plain, &names, &mut diagnostics);
            if let Some(value) = e.constant_value()
                && !value.to_bool()
            {
                diagnostics.push(Diagnostic::warning(
                    "unreachable",
                    &src.pointer,
                    format!(
                        "`{}` is never relevant (its condition `{}` is always false), so it \
                         and everything inside it can never be asked",
                        item.name, src.source
                    ),
                ));
            }
        }
        if let (Some(e), Required::When(src)) = (&parsed.required, &item.required) {
            check_into(e, &src.pointer, &plain, &names, &mut diagnostics);
        }
        if let (Some(e), Some(src)) = (&parsed.calculation, &item.calculation) {
            check_into(e, &src.pointer, &plain, &names, &mut diagnostics);
        }
        if let (Some(e), Some(src)) = (&parsed.count, &item.count) {
            check_into(e, &src.pointer, &plain, &names, &mut diagnostics);
        }
        if let (Some(e), Some(src)) = (&parsed.choice_filter, &item.choice_filter) {
            let list = item
                .choices
                .as_deref()
                .and_then(|l| questionnaire.choice_list(l));
            let mut columns: Vec<&str> = Vec::new();
            if let Some(list) = list {
                for choice in &list.choices {
                    for (column, _) in &choice.columns {
                        if !columns.contains(&column.as_str()) {
                            columns.push(column);
                        }
                    }
                }
            }
            let filter_ctx = ContextSymbols {
                choice_columns: Some(&columns),
                ..ctx(None)
            };
            check_into(e, &src.pointer, &filter_ctx, &names, &mut diagnostics);
        }
        let dot = match item.kind {
            ItemKind::Question => item
                .question_type
                .and_then(|t| Type::of_question_type(t.as_str())),
            _ => None,
        };
        let rule_ctx = ctx(dot);
        for (rule, parsed_rule) in item.rules.iter().zip(&parsed.rules) {
            if let Some(e) = parsed_rule {
                check_into(e, &rule.check.pointer, &rule_ctx, &names, &mut diagnostics);
            }
        }
    }
    let order = dependency_order(layout, &exprs, &mut diagnostics);
    Analysis {
        exprs,
        diagnostics,
        order,
    }
}

fn check_into(
    expr: &Expr,
    pointer: &str,
    ctx: &ContextSymbols<'_, '_>,
    names: &[&str],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let (_, found) = check_typed(expr, ctx);
    for d in found {
        diagnostics.push(expr_diagnostic(&d, expr, pointer, ctx, names));
    }
}

fn parse_one(expression: &Expression, diagnostics: &mut Vec<Diagnostic>) -> Option<Expr> {
    match expr::parse(&expression.source) {
        Ok(e) => Some(e),
        Err(error) => {
            diagnostics.push(parse_error_diagnostic(&error, expression));
            None
        }
    }
}

fn parse_error_diagnostic(error: &ExprError, expression: &Expression) -> Diagnostic {
    let code = match error.code {
        ErrorCode::UnknownFunction => "unknown_function",
        ErrorCode::Arity => "arity",
        ErrorCode::Regex => "invalid_regex",
        ErrorCode::Depth => "expression_too_deep",
        _ => "expression_syntax",
    };
    Diagnostic::error(
        code,
        &expression.pointer,
        format!("in `{}`: {}", expression.source, error.message),
    )
    .at_column(error.column())
}

/// Turns a checker finding into a lint finding with a specific code.
fn expr_diagnostic(
    d: &ExprDiagnostic,
    expr: &Expr,
    pointer: &str,
    ctx: &ContextSymbols<'_, '_>,
    names: &[&str],
) -> Diagnostic {
    let source = expr.source();
    let spanned = source.get(d.span.start..d.span.end).unwrap_or("");
    let mut message = d.message.clone();
    let code = match d.code {
        ErrorCode::UnknownReference if spanned == "." => "dot_outside_rule",
        ErrorCode::UnknownReference if spanned.starts_with("${") => {
            let name = spanned.trim_start_matches("${").trim_end_matches('}');
            message.push_str(&suggestion_suffix(name, names));
            "undefined_reference"
        }
        ErrorCode::UnknownReference if ctx.choice_columns.is_some() => "unknown_choice_column",
        ErrorCode::UnknownReference => "undefined_reference",
        ErrorCode::Scope => "roster_scope",
        ErrorCode::Type => "type_mismatch",
        ErrorCode::Arity => "arity",
        ErrorCode::UnknownFunction => "unknown_function",
        ErrorCode::Regex => "invalid_regex",
        _ => "expression_syntax",
    };
    let message = format!("in `{source}`: {message}");
    let diagnostic = match d.severity {
        expr::Severity::Error => Diagnostic::error(code, pointer, message),
        expr::Severity::Warning => Diagnostic::warning(code, pointer, message),
    };
    diagnostic.at_column(d.column)
}

/// Infers the type of each calculation from its expression, in a few passes so that
/// calculations may refer to calculations defined later.
fn infer_calculation_types(layout: &Layout<'_>, exprs: &[NodeExprs]) -> Vec<Type> {
    let mut types = vec![Type::Any; layout.nodes.len()];
    for _ in 0..3 {
        let mut changed = false;
        for (index, parsed) in exprs.iter().enumerate() {
            let Some(calculation) = &parsed.calculation else {
                continue;
            };
            let ctx = ContextSymbols {
                layout,
                calculation_types: &types,
                scope: layout.context_scope(index),
                dot: None,
                choice_columns: None,
            };
            let (ty, _) = check_typed(calculation, &ctx);
            if ty != types[index] {
                types[index] = ty;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    types
}

/// Builds the dependency graph, reports cycles and returns a topological order.
///
/// Edges: an item depends on the variables its `relevant`, `calculation`, roster `count`
/// and `required` read, and on its enclosing group or roster (whose relevance it inherits).
/// `required` takes part in cycle detection only, because it produces no value.
fn dependency_order(
    layout: &Layout<'_>,
    exprs: &[NodeExprs],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<usize> {
    let n = layout.nodes.len();
    // (dependency, role, expression pointer) per node.
    let mut value_edges: Vec<Vec<(usize, &str)>> = vec![Vec::new(); n];
    let mut required_edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (index, node) in layout.nodes.iter().enumerate() {
        if let Some(parent) = node.parent {
            value_edges[index].push((parent, "parent"));
        }
        let parsed = &exprs[index];
        let item = node.item;
        let roles = [
            (
                parsed.relevant.as_ref(),
                item.relevant.as_ref().map(|e| e.pointer.as_str()),
            ),
            (
                parsed.calculation.as_ref(),
                item.calculation.as_ref().map(|e| e.pointer.as_str()),
            ),
            (
                parsed.count.as_ref(),
                item.count.as_ref().map(|e| e.pointer.as_str()),
            ),
        ];
        for (expr, pointer) in roles {
            if let (Some(expr), Some(pointer)) = (expr, pointer) {
                for (name, _) in expr.references() {
                    if let Some(&dep) = layout.by_name.get(name) {
                        value_edges[index].push((dep, pointer));
                    }
                }
            }
        }
        if let Some(required) = &parsed.required {
            for (name, _) in required.references() {
                if let Some(&dep) = layout.by_name.get(name) {
                    required_edges[index].push(dep);
                }
            }
        }
    }
    let value_graph: Vec<Vec<usize>> = value_edges
        .iter()
        .map(|edges| edges.iter().map(|&(d, _)| d).collect())
        .collect();
    let (order, cycles) = topological(&value_graph);
    let mut reported: Vec<Vec<usize>> = Vec::new();
    for cycle in cycles {
        report_cycle(layout, &cycle, &value_edges, diagnostics, &mut reported);
    }
    // Cycles through `required`: a required condition that depends on the item itself,
    // directly or through values that depend on it.
    let mut full_graph = value_graph.clone();
    for (index, deps) in required_edges.iter().enumerate() {
        full_graph[index].extend(deps);
    }
    let (_, cycles) = topological(&full_graph);
    for cycle in cycles {
        let mut sorted = cycle.clone();
        sorted.sort_unstable();
        if reported.contains(&sorted) {
            continue;
        }
        let first = cycle[0];
        let item = layout.nodes[first].item;
        let pointer = match &item.required {
            Required::When(e) => e.pointer.clone(),
            _ => item.pointer.clone(),
        };
        let names: Vec<&str> = cycle
            .iter()
            .map(|&i| layout.nodes[i].item.name.as_str())
            .collect();
        diagnostics.push(Diagnostic::error(
            "cycle",
            pointer,
            format!(
                "circular dependency through `required`: {} → {}",
                names.join(" → "),
                names[0]
            ),
        ));
        reported.push(sorted);
    }
    order
}

fn report_cycle(
    layout: &Layout<'_>,
    cycle: &[usize],
    edges: &[Vec<(usize, &str)>],
    diagnostics: &mut Vec<Diagnostic>,
    reported: &mut Vec<Vec<usize>>,
) {
    let names: Vec<&str> = cycle
        .iter()
        .map(|&i| layout.nodes[i].item.name.as_str())
        .collect();
    let first = cycle[0];
    let next = cycle.get(1).copied().unwrap_or(first);
    // Point at the expression of the first item that reads the next one.
    let pointer = edges[first]
        .iter()
        .find(|&&(dep, role)| dep == next && role != "parent")
        .map(|&(_, p)| p.to_string())
        .unwrap_or_else(|| layout.nodes[first].item.pointer.clone());
    diagnostics.push(Diagnostic {
        severity: Severity::Error,
        code: "cycle",
        path: pointer,
        column: None,
        message: format!(
            "circular dependency: {} → {} (each needs the next to be computed first)",
            names.join(" → "),
            names[0]
        ),
    });
    let mut sorted = cycle.to_vec();
    sorted.sort_unstable();
    reported.push(sorted);
}

/// Depth-first topological sort (dependencies first). Returns the order of the nodes not on
/// a cycle plus each cycle found (as the node sequence along its edges).
fn topological(graph: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let n = graph.len();
    let mut marks = vec![Mark::New; n];
    let mut order = Vec::with_capacity(n);
    let mut cycles = Vec::new();
    // Iterative DFS: (node, next edge index). The path is the active stack.
    for start in 0..n {
        if marks[start] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
            if let Some(&dep) = graph[node].get(*edge) {
                *edge += 1;
                match marks[dep] {
                    Mark::New => {
                        marks[dep] = Mark::Active;
                        stack.push((dep, 0));
                    }
                    Mark::Active => {
                        let position = stack.iter().position(|&(n, _)| n == dep).unwrap_or(0);
                        let cycle: Vec<usize> = stack[position..].iter().map(|&(n, _)| n).collect();
                        cycles.push(cycle);
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    (order, cycles)
}
