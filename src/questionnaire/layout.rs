//! Where every item lives: its flat index, the roster scope its value belongs to and its
//! slot in that scope's row. Shared by the linter (names, scoping, dependencies) and the
//! compiler (slots and frames).
//!
//! Scope 0 is the top level; every roster opens one more scope for its rows. A roster
//! item itself belongs to its parent's scope (its relevance and row count are evaluated
//! there); its children belong to its own scope. Groups do not open scopes.

use std::collections::HashMap;

use crate::questionnaire::expr::{Symbol, Symbols, Type};
use crate::questionnaire::model::{Item, ItemKind, Questionnaire};

/// One item in depth-first document order.
#[derive(Debug, Clone)]
pub struct LayoutNode<'q> {
    /// The item.
    pub item: &'q Item,
    /// Index of the enclosing group or roster.
    pub parent: Option<usize>,
    /// The scope the item's value (or, for a roster, its row count) belongs to.
    pub scope: usize,
    /// The item's slot in a row of `scope`.
    pub local: usize,
    /// For a roster: the scope of its rows.
    pub own_scope: Option<usize>,
}

/// One roster level (or the top level).
#[derive(Debug, Clone)]
pub struct LayoutScope {
    /// The roster whose rows this scope describes (`None` for the top level).
    pub roster: Option<usize>,
    /// The enclosing scope.
    pub parent: Option<usize>,
    /// Nesting depth: 0 for the top level.
    pub depth: usize,
    /// Number of slots in a row (every item of the scope has one).
    pub slots: usize,
}

/// The layout of a whole questionnaire.
#[derive(Debug, Clone, Default)]
pub struct Layout<'q> {
    /// Items in depth-first document order.
    pub nodes: Vec<LayoutNode<'q>>,
    /// Scopes; index 0 is the top level.
    pub scopes: Vec<LayoutScope>,
    /// Name → node index (the first item with the name; duplicates are lint errors).
    pub by_name: HashMap<&'q str, usize>,
}

impl<'q> Layout<'q> {
    /// Lays out a questionnaire.
    pub fn new(questionnaire: &'q Questionnaire) -> Layout<'q> {
        let mut layout = Layout {
            nodes: Vec::new(),
            scopes: vec![LayoutScope {
                roster: None,
                parent: None,
                depth: 0,
                slots: 0,
            }],
            by_name: HashMap::new(),
        };
        layout.add_items(&questionnaire.items, None, 0);
        layout
    }

    fn add_items(&mut self, items: &'q [Item], parent: Option<usize>, scope: usize) {
        for item in items {
            let index = self.nodes.len();
            let local = self.scopes[scope].slots;
            self.scopes[scope].slots += 1;
            self.nodes.push(LayoutNode {
                item,
                parent,
                scope,
                local,
                own_scope: None,
            });
            self.by_name.entry(item.name.as_str()).or_insert(index);
            if item.kind == ItemKind::Roster {
                let own = self.scopes.len();
                self.scopes.push(LayoutScope {
                    roster: Some(index),
                    parent: Some(scope),
                    depth: self.scopes[scope].depth + 1,
                    slots: 0,
                });
                self.nodes[index].own_scope = Some(own);
                self.add_items(&item.items, Some(index), own);
            } else {
                self.add_items(&item.items, Some(index), scope);
            }
        }
    }

    /// True when `ancestor` is `scope` or encloses it.
    pub fn scope_encloses(&self, ancestor: usize, scope: usize) -> bool {
        let mut current = Some(scope);
        while let Some(s) = current {
            if s == ancestor {
                return true;
            }
            current = self.scopes[s].parent;
        }
        false
    }

    /// The scope in which the expressions of node `index` are evaluated: the scope of the
    /// item's value. For a roster that is its parent's scope, so a roster's `relevant`,
    /// `count` and `rules` are evaluated outside its rows.
    pub fn context_scope(&self, index: usize) -> usize {
        self.nodes[index].scope
    }

    /// Names of every item, for "did you mean" suggestions.
    pub fn names(&self) -> Vec<&'q str> {
        self.nodes.iter().map(|n| n.item.name.as_str()).collect()
    }
}

/// The static view of the variables from one expression's context, for the type checker.
pub struct ContextSymbols<'a, 'q> {
    /// The layout.
    pub layout: &'a Layout<'q>,
    /// Inferred types of calculations, by node index.
    pub calculation_types: &'a [Type],
    /// The scope the expression is evaluated in.
    pub scope: usize,
    /// The type of `.` (a question's own rules only).
    pub dot: Option<Type>,
    /// For a `choice_filter`: the columns of the question's choice list.
    pub choice_columns: Option<&'a [&'a str]>,
}

impl Symbols for ContextSymbols<'_, '_> {
    fn lookup(&self, name: &str) -> Option<Symbol> {
        let &index = self.layout.by_name.get(name)?;
        let node = &self.layout.nodes[index];
        let ty = match node.item.kind {
            ItemKind::Question => {
                Type::of_question_type(node.item.question_type?.as_str()).unwrap_or(Type::Any)
            }
            ItemKind::Calculate => self
                .calculation_types
                .get(index)
                .copied()
                .unwrap_or(Type::Any),
            ItemKind::Roster => Type::Roster,
            ItemKind::Group | ItemKind::Note => return None,
        };
        let repeated = !self.layout.scope_encloses(node.scope, self.scope);
        Some(Symbol { ty, repeated })
    }

    fn dot(&self) -> Option<Type> {
        self.dot
    }

    fn in_choice_filter(&self) -> bool {
        self.choice_columns.is_some()
    }

    fn has_choice_column(&self, name: &str) -> bool {
        self.choice_columns
            .is_some_and(|columns| columns.contains(&name))
    }

    fn in_roster_row(&self, roster: Option<&str>) -> bool {
        match roster {
            None => self.layout.scopes[self.scope].roster.is_some(),
            Some(name) => self
                .layout
                .by_name
                .get(name)
                .and_then(|&index| self.layout.nodes[index].own_scope)
                .is_some_and(|own| self.layout.scope_encloses(own, self.scope)),
        }
    }

    fn has_choice_list(&self, name: &str) -> bool {
        self.layout.by_name.get(name).is_some_and(|&index| {
            let item = self.layout.nodes[index].item;
            item.kind == ItemKind::Question && item.choices.is_some()
        })
    }
}
