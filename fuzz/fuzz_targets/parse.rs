//! Fuzz target for the expression parser, checker and evaluator.
//!
//! Any input must give `Ok` or `Err`, never a panic, a stack overflow or a hang. Inputs
//! that parse are also printed and reparsed (the canonical form must give the same tree),
//! checked against a permissive symbol table and evaluated against a scope with answers
//! of every kind, so the whole pipeline is exercised, not only the parser.
#![no_main]

use chainsurvey::questionnaire::expr::{self, Date, Scope, Symbol, Symbols, Type, ValueRef, VarId};
use libfuzzer_sys::fuzz_target;

/// Every name exists; its type depends on its first letter, and names starting with `r`
/// are repeated, so type and scope checks are reached too.
struct AnyName;

fn type_of(name: &str) -> Type {
    match name.as_bytes().first() {
        Some(b'n') => Type::Number,
        Some(b't') => Type::Text,
        Some(b'd') => Type::Date,
        Some(b'm') => Type::Multi,
        Some(b'g') => Type::GeoPoint,
        Some(b'r') => Type::Roster,
        _ => Type::Any,
    }
}

impl Symbols for AnyName {
    fn lookup(&self, name: &str) -> Option<Symbol> {
        Some(Symbol {
            ty: type_of(name),
            repeated: name.starts_with('r'),
        })
    }
    fn dot(&self) -> Option<Type> {
        Some(Type::Number)
    }
    fn in_choice_filter(&self) -> bool {
        true
    }
    fn has_choice_column(&self, name: &str) -> bool {
        name.len() < 4
    }
}

struct Answers {
    multi: Vec<String>,
}

impl Scope for Answers {
    fn value(&self, var: VarId) -> ValueRef<'_> {
        match var.0 % 7 {
            0 => ValueRef::Number(f64::from(var.0) - 3.5),
            1 => ValueRef::Text("0101234567"),
            2 => ValueRef::Date(Date::from_days(i64::from(var.0) * 1000).unwrap_or(Date::EPOCH)),
            3 => ValueRef::Multi(&self.multi),
            4 => ValueRef::DontKnow,
            5 => ValueRef::Refused,
            _ => ValueRef::Empty,
        }
    }
    fn dot(&self) -> ValueRef<'_> {
        ValueRef::Number(56.0)
    }
    fn row_count(&self, var: VarId) -> Option<usize> {
        (var.0 % 2 == 0).then_some(3)
    }
    fn for_each_instance(&self, var: VarId, visit: &mut dyn FnMut(ValueRef<'_>)) {
        for _ in 0..3 {
            visit(self.value(var));
        }
    }
    fn choice_column(&self, name: &str) -> Option<&str> {
        (name.len() < 4).then_some("north")
    }
    fn today(&self) -> Date {
        Date::parse("2026-03-01").unwrap_or(Date::EPOCH)
    }
}

fuzz_target!(|data: &[u8]| {
    // Callers turn non-UTF-8 bytes into their own error before parsing.
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut parsed) = expr::parse(src) else {
        return;
    };
    let printed = parsed.to_string();
    let reparsed = expr::parse(&printed).expect("the canonical form reparses");
    assert!(
        parsed.same_tree(&reparsed),
        "round trip changed the tree: {src:?} -> {printed:?}"
    );
    let _ = expr::check(&parsed, &AnyName);
    let _ = parsed.constant_value();
    let mut next = 0u32;
    let mut slots = std::collections::HashMap::new();
    let _ = parsed.resolve(&mut |name| {
        let slot = *slots.entry(name.to_string()).or_insert_with(|| {
            next += 1;
            next
        });
        Some(VarId(slot))
    });
    let scope = Answers {
        multi: vec!["a".into(), "b".into()],
    };
    let _ = expr::evaluate(&parsed, &scope);
});
