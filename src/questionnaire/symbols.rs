//! The names of a questionnaire: which item each name (or alias) denotes and which rosters
//! enclose it. Shared by the linter (duplicates, scoping) and the compiler (slots).

use std::collections::HashMap;

use crate::questionnaire::model::{Item, ItemKind, QuestionType, Questionnaire};

/// One named item, flattened out of the tree.
#[derive(Debug, Clone)]
pub struct Symbol<'q> {
    /// The item itself.
    pub item: &'q Item,
    /// Index of the item in depth-first document order (the order of [`Symbols::items`]).
    pub order: usize,
    /// Names of the rosters enclosing the item, outermost first (excluding the item itself).
    pub rosters: Vec<&'q str>,
    /// Index (in [`Symbols::items`]) of the enclosing group or roster, if any.
    pub parent: Option<usize>,
}

impl Symbol<'_> {
    /// The question type, when the item is a question.
    pub fn question_type(&self) -> Option<QuestionType> {
        self.item.question_type
    }
}

/// Every item of a questionnaire with its scope, and a name → item index.
#[derive(Debug, Clone, Default)]
pub struct Symbols<'q> {
    /// Every item, depth first in document order.
    pub items: Vec<Symbol<'q>>,
    /// Name → index into `items` for the first item with that name (duplicates are lint
    /// errors, so a lint-clean questionnaire has exactly one).
    pub by_name: HashMap<&'q str, usize>,
    /// Alias → index into `items`.
    pub by_alias: HashMap<&'q str, usize>,
}

impl<'q> Symbols<'q> {
    /// Collects the symbols of a questionnaire.
    pub fn collect(questionnaire: &'q Questionnaire) -> Symbols<'q> {
        let mut symbols = Symbols::default();
        let mut rosters = Vec::new();
        collect_items(&questionnaire.items, None, &mut rosters, &mut symbols);
        symbols
    }

    /// The symbol named `name` (not by alias).
    pub fn get(&self, name: &str) -> Option<&Symbol<'q>> {
        self.by_name.get(name).map(|&index| &self.items[index])
    }

    /// Every name and alias, for "did you mean" suggestions.
    pub fn names(&self) -> Vec<&'q str> {
        self.items.iter().map(|s| s.item.name.as_str()).collect()
    }
}

fn collect_items<'q>(
    items: &'q [Item],
    parent: Option<usize>,
    rosters: &mut Vec<&'q str>,
    symbols: &mut Symbols<'q>,
) {
    for item in items {
        let order = symbols.items.len();
        symbols.items.push(Symbol {
            item,
            order,
            rosters: rosters.clone(),
            parent,
        });
        symbols.by_name.entry(item.name.as_str()).or_insert(order);
        for alias in &item.aliases {
            symbols.by_alias.entry(alias.as_str()).or_insert(order);
        }
        if item.kind == ItemKind::Roster {
            rosters.push(item.name.as_str());
            collect_items(&item.items, Some(order), rosters, symbols);
            rosters.pop();
        } else {
            collect_items(&item.items, Some(order), rosters, symbols);
        }
    }
}
