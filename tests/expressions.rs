//! The expression language: the conformance corpus (`tests/data/expressions.json`) run
//! through parse → check → resolve → evaluate, plus property tests.
//!
//! The corpus runner reports every mismatching case at once. Its [`CaseScope`] is a small
//! reference implementation of roster scoping over the JSON answers of a case, written
//! independently of the validator's compiled scope.

use std::collections::HashMap;

use chainsurvey::questionnaire::expr::{
    self, Date, DateTime, ErrorCode, Expr, GeoPoint, Scope, Severity, Symbol, Symbols, Type, Value,
    ValueRef, VarId,
};
use proptest::prelude::*;
use serde_json::{Map, Value as Json};

const CORPUS: &str = include_str!("data/expressions.json");

// ---------------------------------------------------------------------------------------
// The corpus runner.
// ---------------------------------------------------------------------------------------

/// One declared variable of a case: its type and the rosters around it (outermost first).
#[derive(Debug, Clone)]
struct Var {
    name: String,
    ty: Type,
    /// The type name as written, to decode answers (`integer`, `select_multiple`, …).
    decl: String,
    rosters: Vec<String>,
    is_roster: bool,
}

/// A decoded answer.
#[derive(Debug, Clone)]
enum Answer {
    DontKnow,
    Refused,
    Bool(bool),
    Number(f64),
    Text(String),
    Date(Date),
    DateTime(DateTime),
    Multi(Vec<String>),
    GeoPoint(GeoPoint),
    Roster(Vec<Row>),
}

type Row = HashMap<String, Answer>;

impl Answer {
    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Answer::DontKnow => ValueRef::DontKnow,
            Answer::Refused => ValueRef::Refused,
            Answer::Bool(b) => ValueRef::Bool(*b),
            Answer::Number(x) => ValueRef::Number(*x),
            Answer::Text(s) => ValueRef::Text(s),
            Answer::Date(d) => ValueRef::Date(*d),
            Answer::DateTime(t) => ValueRef::DateTime(*t),
            Answer::Multi(items) => ValueRef::Multi(items),
            Answer::GeoPoint(p) => ValueRef::GeoPoint(*p),
            Answer::Roster(_) => ValueRef::Empty,
        }
    }
}

struct Case<'a> {
    id: String,
    json: &'a Map<String, Json>,
    vars: Vec<Var>,
    answers: Row,
    /// Context row path: (roster name, row index) pairs.
    context: Vec<(String, usize)>,
    dot: Option<Answer>,
    dot_type: Option<Type>,
    choice: Option<(String, HashMap<String, String>)>,
    today: Date,
    /// Select question → its choices as (value, label in the case's language).
    labels: HashMap<String, Vec<(String, String)>>,
}

fn type_of_decl(decl: &str) -> Result<Type, String> {
    match decl {
        "boolean" => Ok(Type::Bool),
        "number" => Ok(Type::Number),
        "any" => Ok(Type::Any),
        other => Type::of_question_type(other).ok_or_else(|| format!("unknown type {other:?}")),
    }
}

fn collect_vars(
    types: &Map<String, Json>,
    rosters: &[String],
    out: &mut Vec<Var>,
) -> Result<(), String> {
    for (name, decl) in types {
        match decl {
            Json::String(decl) => out.push(Var {
                name: name.clone(),
                ty: type_of_decl(decl)?,
                decl: decl.clone(),
                rosters: rosters.to_vec(),
                is_roster: false,
            }),
            Json::Object(obj) => {
                let inner = obj.get("roster").and_then(Json::as_object).ok_or_else(|| {
                    format!("type of {name} must be a string or {{\"roster\": {{…}}}}")
                })?;
                out.push(Var {
                    name: name.clone(),
                    ty: Type::Roster,
                    decl: "roster".into(),
                    rosters: rosters.to_vec(),
                    is_roster: true,
                });
                let mut nested = rosters.to_vec();
                nested.push(name.clone());
                collect_vars(inner, &nested, out)?;
            }
            other => return Err(format!("bad type for {name}: {other}")),
        }
    }
    Ok(())
}

fn decode(decl: &str, json: &Json, vars: &[Var], name: &str) -> Result<Option<Answer>, String> {
    if json.is_null() {
        return Ok(None);
    }
    if let Some(missing) = json.get("missing").and_then(Json::as_str) {
        return match missing {
            "dont_know" => Ok(Some(Answer::DontKnow)),
            "refused" => Ok(Some(Answer::Refused)),
            other => Err(format!("{name}: unknown missing state {other:?}")),
        };
    }
    let bad = || format!("{name}: answer {json} does not fit type {decl}");
    Ok(Some(match decl {
        "integer" | "decimal" | "number" => Answer::Number(json.as_f64().ok_or_else(bad)?),
        "boolean" => Answer::Bool(json.as_bool().ok_or_else(bad)?),
        "text" | "select_one" => Answer::Text(json.as_str().ok_or_else(bad)?.to_string()),
        "date" => Answer::Date(json.as_str().and_then(Date::parse).ok_or_else(bad)?),
        "datetime" => Answer::DateTime(json.as_str().and_then(DateTime::parse).ok_or_else(bad)?),
        "select_multiple" => Answer::Multi(
            json.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
                .collect::<Result<_, _>>()?,
        ),
        "geopoint" => {
            let field = |k: &str| json.get(k).and_then(Json::as_f64);
            Answer::GeoPoint(GeoPoint {
                lat: field("lat").ok_or_else(bad)?,
                lon: field("lon").ok_or_else(bad)?,
                alt: field("alt"),
                accuracy: field("accuracy"),
            })
        }
        "roster" => {
            let rows = json.as_array().ok_or_else(bad)?;
            let mut decoded = Vec::new();
            for row in rows {
                decoded.push(decode_row(
                    row.as_object().ok_or_else(bad)?,
                    vars,
                    Some(name),
                )?);
            }
            Answer::Roster(decoded)
        }
        "any" => match json {
            Json::Bool(b) => Answer::Bool(*b),
            Json::Number(n) => Answer::Number(n.as_f64().ok_or_else(bad)?),
            Json::String(s) => Answer::Text(s.clone()),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    }))
}

fn decode_row(obj: &Map<String, Json>, vars: &[Var], roster: Option<&str>) -> Result<Row, String> {
    let mut row = Row::new();
    for (key, json) in obj {
        let var = vars
            .iter()
            .find(|v| &v.name == key && v.rosters.last().map(String::as_str) == roster)
            .ok_or_else(|| format!("answer {key} has no declared type at this level"))?;
        if let Some(answer) = decode(&var.decl, json, vars, key)? {
            row.insert(key.clone(), answer);
        }
    }
    Ok(row)
}

fn merged<'a>(
    defaults: &'a Map<String, Json>,
    case: &'a Map<String, Json>,
    key: &str,
) -> Map<String, Json> {
    let mut out = defaults
        .get(key)
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(own) = case.get(key).and_then(Json::as_object) {
        for (k, v) in own {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The choice labels of a case in its interview language: `choices` (question → list of
/// `{"value", "label": {lang: text}}`, shallow-merged like `types`), `language` (default:
/// the first of `languages`), falling back to the first of `languages` when a label lacks
/// the interview language.
fn choice_labels(
    defaults: &Map<String, Json>,
    case: &Map<String, Json>,
) -> Result<HashMap<String, Vec<(String, String)>>, String> {
    let languages: Vec<&str> = defaults
        .get("languages")
        .and_then(Json::as_array)
        .map(|l| l.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let fallback = languages.first().copied().unwrap_or("en");
    let language = case
        .get("language")
        .or_else(|| defaults.get("language"))
        .and_then(Json::as_str)
        .unwrap_or(fallback);
    let mut out = HashMap::new();
    for (question, list) in merged(defaults, case, "choices") {
        let list = list
            .as_array()
            .ok_or("choices: each question maps to a list")?;
        let mut choices = Vec::new();
        for choice in list {
            let value = choice
                .get("value")
                .and_then(Json::as_str)
                .ok_or("choices: each choice has a string value")?;
            let label = choice
                .get("label")
                .ok_or("choices: each choice has a label")?;
            let text = label
                .get(language)
                .or_else(|| label.get(fallback))
                .and_then(Json::as_str)
                .ok_or("choices: a label lacks both the language and the fallback")?;
            choices.push((value.to_string(), text.to_string()));
        }
        out.insert(question, choices);
    }
    Ok(out)
}

impl<'a> Case<'a> {
    fn load(
        index: usize,
        json: &'a Json,
        defaults: &Map<String, Json>,
    ) -> Result<Case<'a>, String> {
        let obj = json.as_object().ok_or("case is not an object")?;
        let id = obj
            .get("id")
            .and_then(Json::as_str)
            .map_or(format!("#{index}"), str::to_string);
        let mut vars = Vec::new();
        collect_vars(&merged(defaults, obj, "types"), &[], &mut vars)?;
        let answers = decode_row(&merged(defaults, obj, "answers"), &vars, None)?;
        let today_text = obj
            .get("today")
            .or_else(|| defaults.get("today"))
            .and_then(Json::as_str)
            .unwrap_or("2026-03-01");
        let today = Date::parse(today_text).ok_or("bad today")?;
        let mut context = Vec::new();
        let mut dot = None;
        let mut dot_type = None;
        let mut choice = None;
        if let Some(ctx) = obj.get("context").and_then(Json::as_object) {
            if let Some(row) = ctx.get("row").and_then(Json::as_array) {
                for pair in row.chunks(2) {
                    let (Some(name), Some(idx)) =
                        (pair[0].as_str(), pair.get(1).and_then(Json::as_u64))
                    else {
                        return Err(
                            "context.row must alternate roster names and 0-based indexes".into(),
                        );
                    };
                    context.push((name.to_string(), idx as usize));
                }
            }
            if let Some(decl) = ctx.get("dot_type").and_then(Json::as_str) {
                dot_type = Some(type_of_decl(decl)?);
                if let Some(value) = ctx.get("dot") {
                    dot = decode(decl, value, &vars, ".")?;
                }
            }
            if let Some(c) = ctx.get("choice").and_then(Json::as_object) {
                let value = c
                    .get("value")
                    .and_then(Json::as_str)
                    .ok_or("choice.value")?
                    .to_string();
                let mut columns = HashMap::new();
                if let Some(cols) = c.get("columns").and_then(Json::as_object) {
                    for (k, v) in cols {
                        columns.insert(
                            k.clone(),
                            v.as_str().ok_or("choice columns are strings")?.to_string(),
                        );
                    }
                }
                choice = Some((value, columns));
            }
        }
        let labels = choice_labels(defaults, obj)?;
        Ok(Case {
            id,
            json: obj,
            vars,
            answers,
            context,
            dot,
            dot_type,
            choice,
            today,
            labels,
        })
    }

    fn var(&self, name: &str) -> Option<usize> {
        self.vars.iter().position(|v| v.name == name)
    }

    /// How many leading rosters of `var` the context is inside.
    fn shared_depth(&self, rosters: &[String]) -> usize {
        rosters
            .iter()
            .zip(&self.context)
            .take_while(|(r, (c, _))| r == &c)
            .count()
    }

    /// The context's row at depth `depth` (0 = top level).
    fn context_row(&self, depth: usize) -> Option<&Row> {
        let mut row = &self.answers;
        for (roster, idx) in &self.context[..depth] {
            match row.get(roster) {
                Some(Answer::Roster(rows)) => row = rows.get(*idx)?,
                _ => return None,
            }
        }
        Some(row)
    }

    /// Every row reached from `row` by descending through `rosters`.
    fn rows_below<'r>(row: &'r Row, rosters: &[String], out: &mut Vec<&'r Row>) {
        match rosters.split_first() {
            None => out.push(row),
            Some((first, rest)) => {
                if let Some(Answer::Roster(rows)) = row.get(first) {
                    for r in rows {
                        Case::rows_below(r, rest, out);
                    }
                }
            }
        }
    }
}

struct CaseSymbols<'c>(&'c Case<'c>);

impl Symbols for CaseSymbols<'_> {
    fn lookup(&self, name: &str) -> Option<Symbol> {
        let case = self.0;
        let var = &case.vars[case.var(name)?];
        let repeated = case.shared_depth(&var.rosters) < var.rosters.len();
        Some(Symbol {
            ty: var.ty,
            repeated,
        })
    }

    fn dot(&self) -> Option<Type> {
        self.0.dot_type
    }

    fn in_choice_filter(&self) -> bool {
        self.0.choice.is_some()
    }

    fn has_choice_column(&self, name: &str) -> bool {
        self.0
            .choice
            .as_ref()
            .is_some_and(|(_, cols)| cols.contains_key(name))
    }

    fn in_roster_row(&self, roster: Option<&str>) -> bool {
        let context = &self.0.context;
        match roster {
            None => !context.is_empty(),
            Some(name) => context.iter().any(|(r, _)| r == name),
        }
    }

    fn has_choice_list(&self, name: &str) -> bool {
        let case = self.0;
        case.var(name)
            .is_some_and(|i| matches!(case.vars[i].decl.as_str(), "select_one" | "select_multiple"))
    }
}

struct CaseScope<'c>(&'c Case<'c>);

impl Scope for CaseScope<'_> {
    fn value(&self, var: VarId) -> ValueRef<'_> {
        let case = self.0;
        let var = &case.vars[var.0 as usize];
        let depth = case.shared_depth(&var.rosters);
        if depth < var.rosters.len() || var.is_roster {
            return ValueRef::Empty;
        }
        case.context_row(depth)
            .and_then(|row| row.get(&var.name))
            .map_or(ValueRef::Empty, Answer::as_ref)
    }

    fn dot(&self) -> ValueRef<'_> {
        self.0.dot.as_ref().map_or(ValueRef::Empty, Answer::as_ref)
    }

    fn row_count(&self, var: VarId) -> Option<usize> {
        let case = self.0;
        let var = &case.vars[var.0 as usize];
        if !var.is_roster {
            return None;
        }
        let mut path = var.rosters.clone();
        path.push(var.name.clone());
        let depth = case.shared_depth(&var.rosters);
        let mut rows = Vec::new();
        if let Some(start) = case.context_row(depth) {
            Case::rows_below(start, &path[depth..], &mut rows);
        }
        Some(rows.len())
    }

    fn for_each_instance(&self, var: VarId, visit: &mut dyn FnMut(ValueRef<'_>)) {
        let case = self.0;
        let var = &case.vars[var.0 as usize];
        let depth = case.shared_depth(&var.rosters);
        let mut rows = Vec::new();
        if let Some(start) = case.context_row(depth) {
            Case::rows_below(start, &var.rosters[depth..], &mut rows);
        }
        for row in rows {
            visit(row.get(&var.name).map_or(ValueRef::Empty, Answer::as_ref));
        }
    }

    fn choice_column(&self, name: &str) -> Option<&str> {
        let (value, columns) = self.0.choice.as_ref()?;
        if name == "value" {
            Some(value)
        } else {
            columns.get(name).map(String::as_str)
        }
    }

    fn today(&self) -> Date {
        self.0.today
    }

    fn position(&self, roster: Option<VarId>) -> Option<usize> {
        let context = &self.0.context;
        let (_, index) = match roster {
            None => context.last()?,
            Some(var) => {
                let name = &self.0.vars[var.0 as usize].name;
                context.iter().find(|(r, _)| r == name)?
            }
        };
        Some(index + 1)
    }

    fn choice_label(&self, question: VarId, value: &str) -> Option<&str> {
        let case = self.0;
        let list = case.labels.get(&case.vars[question.0 as usize].name)?;
        list.iter()
            .find(|(v, _)| v == value)
            .map(|(_, label)| label.as_str())
    }
}

/// Decodes an `expect` value of the corpus.
fn expected_value(json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Empty,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Number(n.as_f64().ok_or("bad number")?),
        Json::String(s) => Value::Text(s.clone()),
        Json::Object(obj) => {
            if let Some(d) = obj.get("date").and_then(Json::as_str) {
                Value::Date(Date::parse(d).ok_or("bad expected date")?)
            } else if let Some(t) = obj.get("datetime").and_then(Json::as_str) {
                Value::DateTime(DateTime::parse(t).ok_or("bad expected datetime")?)
            } else if let Some(items) = obj.get("multi").and_then(Json::as_array) {
                Value::Multi(
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                )
            } else {
                return Err(format!("unknown expect encoding {json}"));
            }
        }
        Json::Array(_) => {
            return Err("arrays are not an expect encoding; use {\"multi\": […]}".into());
        }
    })
}

fn same_value(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => a == b || (a - b).abs() <= 1e-9 * b.abs().max(1.0),
        (Value::DateTime(a), Value::DateTime(b)) => a.epoch_millis() == b.epoch_millis(),
        _ => actual == expected,
    }
}

/// Runs one case; `Err` describes the mismatch.
fn run_case(case: &Case<'_>) -> Result<(), String> {
    let src = case
        .json
        .get("expr")
        .and_then(Json::as_str)
        .ok_or("missing expr")?;
    let expected_error = case.json.get("error").and_then(Json::as_str);
    let expected_column = case
        .json
        .get("column")
        .and_then(Json::as_u64)
        .map(|c| c as usize);
    let parsed = expr::parse(src);
    let mut parsed: Expr = match (parsed, expected_error) {
        (Err(err), Some(code)) if err.code.as_str() == code => {
            return match expected_column {
                Some(col) if col != err.column() => {
                    Err(format!("error column {} (want {col}): {err}", err.column()))
                }
                _ => Ok(()),
            };
        }
        (Err(err), _) => return Err(format!("parse failed: [{}] {err}", err.code)),
        (Ok(parsed), _) => parsed,
    };
    let diagnostics = expr::check(&parsed, &CaseSymbols(case));
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if let Some(code) = case.json.get("warning").and_then(Json::as_str)
        && !diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning && d.code.as_str() == code)
    {
        return Err(format!("expected a {code} warning, got {diagnostics:?}"));
    }
    match (errors.first(), expected_error) {
        (Some(first), Some(code)) => {
            if first.code.as_str() != code {
                return Err(format!(
                    "check error [{}] {} (want {code})",
                    first.code, first.message
                ));
            }
            if let Some(col) = expected_column
                && col != first.column
            {
                return Err(format!(
                    "check error at column {} (want {col}): {}",
                    first.column, first.message
                ));
            }
            return Ok(());
        }
        (Some(first), None) => {
            return Err(format!("check error [{}] {}", first.code, first.message));
        }
        (None, _) => {}
    }
    parsed
        .resolve(&mut |name| case.var(name).map(|i| VarId(i as u32)))
        .map_err(|e| format!("resolve: {e}"))?;
    let actual = match (expr::evaluate(&parsed, &CaseScope(case)), expected_error) {
        (Err(err), Some(code)) if err.code() == code => return Ok(()),
        (Err(err), _) => return Err(format!("evaluate: {err}")),
        (Ok(value), Some(code)) => {
            return Err(format!("expected error {code}, evaluated to {value:?}"));
        }
        (Ok(value), None) => value,
    };
    let expected = expected_value(
        case.json
            .get("expect")
            .ok_or("case has neither expect nor error")?,
    )?;
    if !same_value(&actual, &expected) {
        return Err(format!("got {actual:?}, want {expected:?}"));
    }
    // The boolean entry point must agree with the value's truth.
    let truth = expr::evaluate_bool(&parsed, &CaseScope(case))
        .map_err(|e| format!("evaluate_bool: {e}"))?;
    if truth != actual.to_bool() {
        return Err(format!("evaluate_bool gave {truth}, value {actual:?}"));
    }
    Ok(())
}

fn corpus() -> Json {
    serde_json::from_str(CORPUS).expect("tests/data/expressions.json is valid JSON")
}

#[test]
fn conformance_corpus() {
    let corpus = corpus();
    let defaults = corpus
        .get("defaults")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    let cases = corpus
        .get("cases")
        .and_then(Json::as_array)
        .expect("corpus has a cases array");
    let mut failures = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for (index, json) in cases.iter().enumerate() {
        let outcome = Case::load(index, json, &defaults).and_then(|case| {
            if !ids.insert(case.id.clone()) {
                return Err(format!("duplicate id {}", case.id));
            }
            run_case(&case).map_err(|e| format!("{}: {e}", case.id))
        });
        if let Err(message) = outcome {
            let src = json.get("expr").and_then(Json::as_str).unwrap_or("?");
            failures.push(format!("case {index} `{src}`: {message}"));
        }
    }
    assert!(
        cases.len() >= 300,
        "the corpus must hold at least 300 cases, has {}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_covers_every_function_and_error_code() {
    let corpus = corpus();
    let cases = corpus.get("cases").and_then(Json::as_array).expect("cases");
    let exprs: Vec<&str> = cases
        .iter()
        .filter_map(|c| c.get("expr").and_then(Json::as_str))
        .collect();
    for func in expr::Func::ALL {
        let call = format!("{}(", func.name());
        assert!(
            exprs.iter().any(|e| e.contains(&call)),
            "no corpus case calls {}()",
            func.name()
        );
    }
    let codes: Vec<&str> = cases
        .iter()
        .filter_map(|c| c.get("error").and_then(Json::as_str))
        .collect();
    for code in [
        ErrorCode::Parse,
        ErrorCode::Depth,
        ErrorCode::UnknownFunction,
        ErrorCode::Arity,
        ErrorCode::Regex,
        ErrorCode::UnknownReference,
        ErrorCode::Type,
        ErrorCode::Scope,
        ErrorCode::Format,
    ] {
        assert!(
            codes.contains(&code.as_str()),
            "no corpus case expects error {code}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Hostile input.
// ---------------------------------------------------------------------------------------

#[test]
fn ten_megabytes_of_parentheses_is_a_depth_error() {
    let open = "(".repeat(10 * 1024 * 1024);
    let err = expr::parse(&open).expect_err("must not parse");
    assert_eq!(err.code, ErrorCode::Depth);
    assert_eq!(err.column(), expr::MAX_DEPTH + 1);
    let balanced = format!("{}1{}", "(".repeat(5_000_000), ")".repeat(5_000_000));
    assert_eq!(
        expr::parse(&balanced).expect_err("too deep").code,
        ErrorCode::Depth
    );
    let minus = "-".repeat(1_000_000) + "1";
    assert_eq!(
        expr::parse(&minus).expect_err("too deep").code,
        ErrorCode::Depth
    );
    let calls = "not(".repeat(1_000_000);
    assert_eq!(
        expr::parse(&calls).expect_err("too deep").code,
        ErrorCode::Depth
    );
    let chain = vec!["1"; 1_000_000].join(" + ");
    assert_eq!(
        expr::parse(&chain).expect_err("too deep").code,
        ErrorCode::Depth
    );
}

#[test]
fn nesting_at_the_limit_parses_and_evaluates() {
    let depth = expr::MAX_DEPTH - 1;
    let src = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    let parsed = expr::parse(&src).expect("within the limit");
    assert_eq!(parsed.constant_value(), Some(Value::Number(1.0)));
    let chain = vec!["1"; 200].join(" + ");
    assert_eq!(
        expr::parse(&chain).expect("200 terms").constant_value(),
        Some(Value::Number(200.0))
    );
}

#[test]
fn deepest_accepted_trees_check_and_evaluate_without_overflow() {
    // The recursive walks (check, evaluate, print, drop) must fit the default 2 MB test
    // thread stack at the deepest tree the parser accepts, even in a debug build.
    struct Empty;
    impl Symbols for Empty {
        fn lookup(&self, _name: &str) -> Option<Symbol> {
            Some(Symbol {
                ty: Type::Number,
                repeated: false,
            })
        }
    }
    let depth = expr::MAX_DEPTH - 2;
    let sources = [
        format!("{}${{x}}{}", "not(".repeat(depth), ")".repeat(depth)),
        format!("{}${{x}}{}", "if(1, ".repeat(depth), ", 0)".repeat(depth)),
        format!(
            "{}${{x}}{}",
            "concat(coalesce(".repeat(depth / 2),
            ", 1))".repeat(depth / 2)
        ),
        format!("{}${{x}}", "-".repeat(depth)),
        vec!["${x}"; depth].join(" + "),
    ];
    for src in sources {
        let mut parsed = expr::parse(&src).unwrap_or_else(|e| panic!("{e}"));
        assert!(expr::check(&parsed, &Empty).is_empty());
        parsed
            .resolve(&mut |_| Some(VarId(0)))
            .unwrap_or_else(|e| panic!("{e}"));
        let value = expr::evaluate(&parsed, &XY(2.0, "t")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!matches!(value, Value::Empty), "{value:?}");
        assert!(expr::parse(&parsed.to_string()).is_ok());
    }
}

#[test]
fn error_columns_count_characters_not_bytes() {
    let err = expr::parse("'Hà Nội' = ${x").expect_err("unterminated reference");
    assert_eq!(err.code, ErrorCode::Parse);
    assert_eq!(err.column(), 12);
    assert_eq!(err.span.start, "'Hà Nội' = ".len());
}

// ---------------------------------------------------------------------------------------
// API used by the linter.
// ---------------------------------------------------------------------------------------

#[test]
fn references_dot_identifiers_and_constants() {
    let parsed = expr::parse("${a} + count(${rows}) > . and region = ${a}").expect("parses");
    let refs: Vec<(&str, usize)> = parsed
        .references()
        .iter()
        .map(|(n, s)| (*n, s.start))
        .collect();
    assert_eq!(refs, vec![("a", 0), ("rows", 13), ("a", 39)]);
    assert!(parsed.uses_dot());
    assert_eq!(
        parsed
            .bare_identifiers()
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>(),
        vec!["region"]
    );
    assert_eq!(parsed.constant_value(), None);
    assert_eq!(
        expr::parse("false()").expect("parses").constant_value(),
        Some(Value::Bool(false))
    );
    assert_eq!(
        expr::parse("1 = 2").expect("parses").constant_value(),
        Some(Value::Bool(false))
    );
    assert_eq!(
        expr::parse("today() > date('2020-01-01')")
            .expect("parses")
            .constant_value(),
        None
    );
}

#[test]
fn resolve_reports_the_unknown_name_and_evaluation_refuses_unresolved() {
    let mut parsed = expr::parse("${known} + ${unknown}").expect("parses");
    let err = parsed
        .resolve(&mut |name| (name == "known").then_some(VarId(0)))
        .expect_err("unknown name");
    assert_eq!(err.code, ErrorCode::UnknownReference);
    assert_eq!(err.column(), 12);
    assert!(!parsed.is_resolved());
    struct Nothing;
    impl Scope for Nothing {
        fn value(&self, _var: VarId) -> ValueRef<'_> {
            ValueRef::Empty
        }
        fn today(&self) -> Date {
            Date::EPOCH
        }
    }
    let err = expr::evaluate(&parsed, &Nothing).expect_err("unresolved");
    assert_eq!(err.code(), "unresolved");
}

// ---------------------------------------------------------------------------------------
// Property tests.
// ---------------------------------------------------------------------------------------

/// A generated arithmetic expression with its reference value computed in plain Rust.
#[derive(Debug, Clone)]
enum Arith {
    Lit(u16),
    Neg(Box<Arith>),
    Bin(char, Box<Arith>, Box<Arith>),
}

impl Arith {
    fn source(&self) -> String {
        match self {
            Arith::Lit(n) => n.to_string(),
            Arith::Neg(inner) => format!("-({})", inner.source()),
            Arith::Bin(op, a, b) => {
                let op = match op {
                    '/' => "div".to_string(),
                    '%' => "mod".to_string(),
                    other => other.to_string(),
                };
                format!("({} {op} {})", a.source(), b.source())
            }
        }
    }

    /// `None` where the language gives empty (division by zero, remainder by zero).
    fn reference(&self) -> Option<f64> {
        Some(match self {
            Arith::Lit(n) => f64::from(*n),
            Arith::Neg(inner) => -inner.reference()?,
            Arith::Bin(op, a, b) => {
                let (x, y) = (a.reference()?, b.reference()?);
                let r = match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    '/' => x / y,
                    _ => x % y,
                };
                if !r.is_finite() {
                    return None;
                }
                r
            }
        })
    }
}

fn arith() -> impl Strategy<Value = Arith> {
    let leaf = (0u16..1000).prop_map(Arith::Lit);
    leaf.prop_recursive(6, 64, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| Arith::Neg(Box::new(a))),
            (
                prop::sample::select(vec!['+', '-', '*', '/', '%']),
                inner.clone(),
                inner
            )
                .prop_map(|(op, a, b)| Arith::Bin(op, Box::new(a), Box::new(b))),
        ]
    })
}

/// Source text built from the language's own tokens, to reach deep into the parser.
fn token_soup() -> impl Strategy<Value = String> {
    let tokens = vec![
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        " div ",
        " mod ",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        " and ",
        " or ",
        "1",
        "2.5",
        ".5",
        "'a'",
        "\"b\"",
        "${x}",
        "${y}",
        ".",
        "if(",
        "coalesce(",
        "selected(",
        "count(",
        "sum(",
        "not(",
        "regex(",
        "'^[0-9]+$'",
        "today()",
        "concat(",
        "x",
        "value",
        "${",
        "'",
        "[",
        "$",
        "..",
        "é",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..40).prop_map(|parts| parts.concat())
}

/// Random well-formed expressions over two variables.
fn well_formed() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (0u32..100).prop_map(|n| n.to_string()),
        Just("${x}".to_string()),
        Just("${y}".to_string()),
        Just("'t'".to_string()),
        Just("\"it's\"".to_string()),
        Just(".".to_string()),
        Just("1.25".to_string()),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        let ops = vec![
            "+", "-", "*", "div", "mod", "=", "!=", "<", "<=", ">", ">=", "and", "or",
        ];
        prop_oneof![
            (inner.clone(), prop::sample::select(ops), inner.clone())
                .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("if({a}, {b}, {c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("coalesce({a}, {b})")),
            inner.clone().prop_map(|a| format!("not({a})")),
            inner.prop_map(|a| format!("round({a}, 1)")),
        ]
    })
}

struct XY(f64, &'static str);

impl Scope for XY {
    fn value(&self, var: VarId) -> ValueRef<'_> {
        if var.0 == 0 {
            ValueRef::Number(self.0)
        } else {
            ValueRef::Text(self.1)
        }
    }
    fn dot(&self) -> ValueRef<'_> {
        ValueRef::Number(self.0)
    }
    fn today(&self) -> Date {
        Date::EPOCH
    }
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(src in "\\PC{0,60}") {
        let _ = expr::parse(&src);
    }

    #[test]
    fn parse_never_panics_on_token_soup(src in token_soup()) {
        if let Ok(parsed) = expr::parse(&src) {
            // Whatever parses also checks and evaluates without panicking.
            let _ = parsed.constant_value();
        } else if let Err(err) = expr::parse(&src) {
            prop_assert!(err.span.start <= src.len() && err.span.end <= src.len());
            prop_assert!(err.column() >= 1);
        }
    }

    #[test]
    fn printing_and_reparsing_gives_the_same_tree(src in well_formed()) {
        let first = expr::parse(&src).map_err(|e| TestCaseError::fail(format!("{src}: {e}")))?;
        let printed = first.to_string();
        let second = expr::parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert!(first.same_tree(&second), "{} vs {}", src, printed);
        prop_assert_eq!(second.to_string(), printed);
    }

    #[test]
    fn printed_form_evaluates_like_the_original(src in well_formed(), x in -50.0f64..50.0) {
        let mut first = expr::parse(&src).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut second = expr::parse(&first.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut resolver = |name: &str| Some(VarId(u32::from(name == "y")));
        first.resolve(&mut resolver).map_err(|e| TestCaseError::fail(e.to_string()))?;
        second.resolve(&mut resolver).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let scope = XY(x, "t");
        prop_assert_eq!(expr::evaluate(&first, &scope), expr::evaluate(&second, &scope));
    }

    #[test]
    fn arithmetic_matches_a_reference(tree in arith()) {
        let src = tree.source();
        let parsed = expr::parse(&src).map_err(|e| TestCaseError::fail(format!("{src}: {e}")))?;
        let got = parsed.constant_value();
        match tree.reference() {
            Some(want) => prop_assert_eq!(got, Some(Value::Number(if want == 0.0 { 0.0 } else { want })), "{}", src),
            None => prop_assert_eq!(got, Some(Value::Empty), "{}", src),
        }
    }

    #[test]
    fn int_and_round_identities(x in -1.0e9f64..1.0e9, digits in 0i32..6) {
        let eval = |src: String| expr::parse(&src).ok().and_then(|e| e.constant_value());
        let lit = expr::format_number(x);
        let as_expr = if x < 0.0 { format!("(0 - {})", expr::format_number(-x)) } else { lit.clone() };
        // int() truncates toward zero and is idempotent.
        let int = eval(format!("int({as_expr})")).and_then(|v| v.to_number());
        prop_assert_eq!(int, Some(x.trunc() + 0.0));
        prop_assert_eq!(eval(format!("int(int({as_expr}))")).and_then(|v| v.to_number()), int);
        // round() is idempotent, lands on a multiple of 10^-digits, moves by at most half a unit.
        let rounded = eval(format!("round({as_expr}, {digits})")).and_then(|v| v.to_number());
        let rounded = rounded.ok_or_else(|| TestCaseError::fail("round gave empty"))?;
        let unit = 10f64.powi(-digits);
        prop_assert!((rounded - x).abs() <= unit / 2.0 + 1e-9 * x.abs().max(1.0), "{} {}", x, rounded);
        let again = eval(format!("round({}, {digits})", if rounded < 0.0 { format!("(0 - {})", expr::format_number(-rounded)) } else { expr::format_number(rounded) }));
        prop_assert_eq!(again.and_then(|v| v.to_number()), Some(rounded));
        // round(x) and -round(-x) agree (half away from zero is symmetric).
        let neg = eval(format!("-round(-{as_expr}, {digits})")).and_then(|v| v.to_number());
        prop_assert_eq!(neg, Some(rounded + 0.0));
    }

    #[test]
    fn comparisons_are_consistent(a in -100i32..100, b in -100i32..100) {
        let eval = |src: String| expr::parse(&src).ok().and_then(|e| e.constant_value());
        let (a_src, b_src) = (format!("({a})"), format!("({b})"));
        let lt = eval(format!("{a_src} < {b_src}"));
        let ge = eval(format!("not({a_src} >= {b_src})"));
        prop_assert_eq!(lt.clone(), ge);
        prop_assert_eq!(lt, Some(Value::Bool(a < b)));
        // Numbers written as texts compare numerically.
        prop_assert_eq!(eval(format!("'{a}' < '{b}'")), Some(Value::Bool(a < b)));
        prop_assert_eq!(eval(format!("'{a}' = {b}")), Some(Value::Bool(a == b)));
    }
}

proptest! {
    /// min()/max() of dates: the chronological extreme, whatever the order of the
    /// arguments and wherever empty ones (an impossible date, `''`) sit among them.
    #[test]
    fn min_and_max_of_dates_ignore_order_and_empty_arguments(
        days in prop::collection::vec(-719_162i64..2_932_896, 1..6),
        empties in 0usize..3,
        rotate in 0usize..8,
    ) {
        let eval = |src: String| expr::parse(&src).ok().and_then(|e| e.constant_value());
        let mut args: Vec<String> = days.iter().map(|d| format!("date({d})")).collect();
        for _ in 0..empties {
            args.push("date('2026-02-30')".to_string());
        }
        args.push("''".to_string());
        let n = args.len();
        args.rotate_left(rotate % n);
        let reversed: Vec<String> = args.iter().rev().cloned().collect();
        let date = |d: Option<&i64>| d.and_then(|d| Date::from_days(*d)).map(Value::Date);
        let (latest, earliest) = (date(days.iter().max()), date(days.iter().min()));
        for order in [&args, &reversed] {
            prop_assert_eq!(eval(format!("max({})", order.join(", "))), latest.clone());
            prop_assert_eq!(eval(format!("min({})", order.join(", "))), earliest.clone());
        }
    }

    /// format-date() prints the same calendar fields as the date's own text.
    #[test]
    fn format_date_agrees_with_the_date_text(day in -719_162i64..2_932_896) {
        let eval = |src: String| expr::parse(&src).ok().and_then(|e| e.constant_value());
        let date = Date::from_days(day).expect("in range");
        let (y, m, d) = date.ymd();
        prop_assert_eq!(
            eval(format!("format-date(date({day}), '%Y-%m-%d')")),
            Some(Value::Text(date.to_string()))
        );
        prop_assert_eq!(
            eval(format!("format-date(date({day}), '%e/%n/%y')")),
            Some(Value::Text(format!("{d}/{m}/{:02}", y % 100)))
        );
    }
}

#[test]
fn compiled_expressions_can_be_shared_between_threads() {
    // The server validates submissions concurrently against one compiled questionnaire.
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expr>();
    assert_send_sync::<Value>();
    assert_send_sync::<expr::ExprError>();
    assert_send_sync::<expr::EvalError>();
}

// ---------------------------------------------------------------------------------------
// position() and choice-label() through the questionnaire engine (compile → validate): the
// validator's scope serves row numbers, choice lists and the interview language.
// ---------------------------------------------------------------------------------------

mod engine {
    use chainsurvey::questionnaire::expr::Date;
    use chainsurvey::questionnaire::{Diagnostic, Questionnaire, compile, validate_on};
    use serde_json::{Value as Json, json};

    fn text(s: &str) -> Json {
        json!({"en": s, "vi": s})
    }

    /// Sites (roster) with units (nested roster); calculations use position() and
    /// choice-label(), and count() of the roster a row belongs to (all its rows in scope,
    /// not just the row itself); `extra` items are appended at the top level.
    fn definition(extra: &[Json]) -> String {
        let mut items = vec![
            json!({"kind": "question", "name": "main_kind", "type": "select_one",
                   "choices": "kind", "label": text("Main kind")}),
            json!({"kind": "calculate", "name": "main_kind_label",
                   "calculation": "choice-label(${main_kind}, ${main_kind})"}),
            json!({"kind": "roster", "name": "sites", "label": text("Sites"), "items": [
                {"kind": "question", "name": "site_kind", "type": "select_one",
                 "choices": "kind", "label": text("Site kind")},
                {"kind": "calculate", "name": "site_no", "calculation": "position()"},
                {"kind": "calculate", "name": "last_site",
                 "calculation": "position() = count(${sites})"},
                {"kind": "calculate", "name": "site_label",
                 "calculation": "concat(position(), ': ', choice-label(${site_kind}, ${site_kind}))"},
                {"kind": "roster", "name": "units", "label": text("Units"), "items": [
                    {"kind": "question", "name": "unit_size", "type": "integer",
                     "label": text("Size"),
                     "rules": [{"check": "position() = 1 or . > 0", "severity": "error",
                                "message": text("only the first unit may be empty")}]},
                    {"kind": "calculate", "name": "unit_ref",
                     "calculation": "concat(position(${sites}), '.', position(), '/', count(${units}))"}
                ]}
            ]}),
            json!({"kind": "calculate", "name": "shop_label",
                   "calculation": "choice-label('2', ${site_kind})"}),
        ];
        items.extend(extra.iter().cloned());
        json!({
            "schema_version": 1, "id": "positions", "version": "1", "title": text("Positions"),
            "languages": ["en", "vi"],
            "choice_lists": {"kind": [
                {"value": "1", "label": {"en": "Factory", "vi": "Nhà máy"}},
                {"value": "2", "label": {"en": "Shop", "vi": "Cửa hàng"}}
            ]},
            "items": items
        })
        .to_string()
    }

    fn compile_errors(extra: &[Json]) -> Vec<Diagnostic> {
        let q = Questionnaire::parse(&definition(extra)).expect("parses");
        match compile(&q) {
            Ok(_) => Vec::new(),
            Err(findings) => findings.into_iter().filter(Diagnostic::is_error).collect(),
        }
    }

    #[test]
    fn validator_serves_row_numbers_and_choice_labels() {
        let q = Questionnaire::parse(&definition(&[])).expect("parses");
        let compiled = compile(&q).expect("compiles");
        let answers = json!({"main_kind": "1", "sites": [
            {"site_kind": "2", "units": [{"unit_size": 0}, {"unit_size": 0}]},
            {"site_kind": "1", "units": [{"unit_size": 3}]}
        ]});
        let today = Date::parse("2026-03-01").expect("a date");
        let vi = validate_on(&compiled, &answers, "vi", today);
        assert_eq!(
            vi.calculations,
            json!({
                "main_kind_label": "Nhà máy", "shop_label": "Cửa hàng",
                "sites": [
                    {"site_no": 1, "last_site": false, "site_label": "1: Cửa hàng",
                     "units": [{"unit_ref": "1.1/2"}, {"unit_ref": "1.2/2"}]},
                    {"site_no": 2, "last_site": true, "site_label": "2: Nhà máy",
                     "units": [{"unit_ref": "2.1/1"}]}
                ]
            })
        );
        // The rule holds for the first unit of a site only: row 2 of site 1 fails.
        let failed: Vec<&str> = vi
            .findings
            .iter()
            .filter(|f| f.code == "rule_failed")
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(failed, ["/sites/0/units/1/unit_size"]);
        let en = validate_on(&compiled, &answers, "en", today);
        assert_eq!(en.calculations["main_kind_label"], json!("Factory"));
        assert_eq!(en.calculations["sites"][0]["site_label"], json!("1: Shop"));
        // An unknown language falls back to the default (the first declared).
        let fr = validate_on(&compiled, &answers, "fr", today);
        assert_eq!(fr.calculations["shop_label"], json!("Shop"));
    }

    #[test]
    fn position_outside_a_roster_row_and_bad_label_questions_are_lint_errors() {
        let top = [json!({"kind": "calculate", "name": "n", "calculation": "position() + 1"})];
        let errors = compile_errors(&top);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "roster_scope");
        assert_eq!(errors[0].path, "/items/4/calculation");
        assert_eq!(errors[0].column, Some(1));
        // A roster's own relevance is evaluated outside its rows.
        let mut with_relevance: Json = serde_json::from_str(&definition(&[])).expect("json");
        with_relevance["items"][2]["relevant"] = json!("position() = 1");
        let q = Questionnaire::parse(&with_relevance.to_string()).expect("parses");
        let errors = compile(&q).expect_err("position() outside a row");
        assert!(
            errors
                .iter()
                .any(|f| f.code == "roster_scope" && f.path == "/items/2/relevant"),
            "{errors:?}"
        );
        let label = [json!({"kind": "calculate", "name": "l",
                            "calculation": "choice-label('1', ${main_kind_label})"})];
        let errors = compile_errors(&label);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].code, "type_mismatch");
        assert_eq!(errors[0].column, Some(19));
    }
}
