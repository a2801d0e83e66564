//! The questionnaire document as typed data (see `docs/questionnaire-format.md`).
//!
//! These types mirror the JSON one to one and carry the JSON Pointer of every item, so the
//! linter and the diff can point back into the document. Checks that need the whole tree
//! (names, references, cycles) are the linter's; [`crate::questionnaire::compile`] only
//! accepts a questionnaire the linter found free of errors.

use crate::questionnaire::text::Text;

/// The format version this engine reads.
pub const SCHEMA_VERSION: u64 = 1;

/// A parsed questionnaire document. Build it with [`Questionnaire::parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Questionnaire {
    /// Format version of the document (always [`SCHEMA_VERSION`] after parsing).
    pub schema_version: u64,
    /// Stable questionnaire id, e.g. `dwscs-worker`.
    pub id: String,
    /// Version label, e.g. `2026.1`.
    pub version: String,
    /// Bilingual title.
    pub title: Text,
    /// Declared languages; the first is the default.
    pub languages: Vec<String>,
    /// Named choice lists in document order.
    pub choice_lists: Vec<ChoiceList>,
    /// The item tree.
    pub items: Vec<Item>,
}

impl Questionnaire {
    /// The default language (the first declared one), or `en` when none is declared.
    pub fn default_language(&self) -> &str {
        self.languages.first().map(String::as_str).unwrap_or("en")
    }

    /// The choice list called `name`.
    pub fn choice_list(&self, name: &str) -> Option<&ChoiceList> {
        self.choice_lists.iter().find(|list| list.name == name)
    }

    /// Every item of the tree, depth first in document order.
    pub fn all_items(&self) -> Vec<&Item> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Item>) {
            for item in items {
                out.push(item);
                walk(&item.items, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.items, &mut out);
        out
    }
}

/// A named list of choices, `"yes_no": [...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceList {
    /// The list's name, referred to by a question's `choices`.
    pub name: String,
    /// The choices in display order.
    pub choices: Vec<Choice>,
    /// JSON Pointer of the list, e.g. `/choice_lists/yes_no`.
    pub pointer: String,
}

/// One choice of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The stored value (a string, unique in its list).
    pub value: String,
    /// Bilingual label.
    pub label: Text,
    /// Extra string columns a `choice_filter` can test, in document order.
    pub columns: Vec<(String, String)>,
}

/// The kind of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// Asks for a value.
    Question,
    /// Groups items for display; its children answer at the group's level.
    Group,
    /// Repeats its children once per row; answers are an array of row objects.
    Roster,
    /// Displays text; has no value.
    Note,
    /// A value computed from an expression, never submitted.
    Calculate,
}

impl ItemKind {
    /// The name used in the `kind` key.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Question => "question",
            ItemKind::Group => "group",
            ItemKind::Roster => "roster",
            ItemKind::Note => "note",
            ItemKind::Calculate => "calculate",
        }
    }

    /// Every kind, in documentation order.
    pub const ALL: [ItemKind; 5] = [
        ItemKind::Question,
        ItemKind::Group,
        ItemKind::Roster,
        ItemKind::Note,
        ItemKind::Calculate,
    ];
}

/// The type of a question's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuestionType {
    /// A string.
    Text,
    /// A JSON integer.
    Integer,
    /// A JSON number.
    Decimal,
    /// One choice value (a string).
    SelectOne,
    /// An array of distinct choice values.
    SelectMultiple,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 date and time with offset.
    Datetime,
    /// `{"lat", "lon", "alt"?, "accuracy"?}`.
    Geopoint,
}

impl QuestionType {
    /// The name used in the `type` key.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::Text => "text",
            QuestionType::Integer => "integer",
            QuestionType::Decimal => "decimal",
            QuestionType::SelectOne => "select_one",
            QuestionType::SelectMultiple => "select_multiple",
            QuestionType::Date => "date",
            QuestionType::Datetime => "datetime",
            QuestionType::Geopoint => "geopoint",
        }
    }

    /// Every type, in documentation order.
    pub const ALL: [QuestionType; 8] = [
        QuestionType::Text,
        QuestionType::Integer,
        QuestionType::Decimal,
        QuestionType::SelectOne,
        QuestionType::SelectMultiple,
        QuestionType::Date,
        QuestionType::Datetime,
        QuestionType::Geopoint,
    ];

    /// True for `select_one` and `select_multiple`.
    pub fn is_select(self) -> bool {
        matches!(self, QuestionType::SelectOne | QuestionType::SelectMultiple)
    }
}

/// An expression as written in the document, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    /// The source text, e.g. `${age} >= 15`.
    pub source: String,
    /// JSON Pointer of the string holding it, e.g. `/items/3/relevant`.
    pub pointer: String,
}

/// Whether a question must be answered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Required {
    /// `false` or absent.
    #[default]
    No,
    /// `true`.
    Yes,
    /// Required when the expression is true.
    When(Expression),
}

/// The severity of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleSeverity {
    /// A failure makes the submission invalid (a "hard" check).
    Error,
    /// A failure is stored with the submission (a "soft" check).
    Warning,
}

/// A validation rule: passes when `check` is true.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The condition that must hold.
    pub check: Expression,
    /// What a failure means.
    pub severity: RuleSeverity,
    /// Bilingual message shown on failure.
    pub message: Text,
    /// JSON Pointer of the rule object.
    pub pointer: String,
}

/// One item of the tree. The keys that do not apply to its kind are kept so the linter can
/// report them (`misplaced_key`) instead of silently ignoring them.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What the item is.
    pub kind: ItemKind,
    /// The stable variable name.
    pub name: String,
    /// JSON Pointer of the item object, e.g. `/items/3/items/0`.
    pub pointer: String,
    /// Keys present in the document, in document order (for the `misplaced_key` lint).
    pub keys: Vec<String>,
    /// Former names.
    pub aliases: Vec<String>,
    /// Bilingual label.
    pub label: Option<Text>,
    /// Bilingual hint (questions).
    pub hint: Option<Text>,
    /// When false the item and its children are skipped.
    pub relevant: Option<Expression>,
    /// Value type (questions).
    pub question_type: Option<QuestionType>,
    /// Choice list name (select questions).
    pub choices: Option<String>,
    /// Per-choice filter (select questions).
    pub choice_filter: Option<Expression>,
    /// Whether an answer is required (questions).
    pub required: Required,
    /// Message shown when a required answer is missing.
    pub required_message: Option<Text>,
    /// Validation rules.
    pub rules: Vec<Rule>,
    /// Whether "don't know" is accepted.
    pub allow_dont_know: bool,
    /// Whether "refused" is accepted.
    pub allow_refused: bool,
    /// Children (groups and rosters).
    pub items: Vec<Item>,
    /// Minimum number of rows (rosters).
    pub min: Option<i64>,
    /// Maximum number of rows (rosters).
    pub max: Option<i64>,
    /// Exact number of rows (rosters).
    pub count: Option<Expression>,
    /// Computed value (calculates).
    pub calculation: Option<Expression>,
}

impl Item {
    /// Every expression of this item (not of its children) with a short role name.
    pub fn expressions(&self) -> Vec<(&'static str, &Expression)> {
        let mut out = Vec::new();
        if let Some(e) = &self.relevant {
            out.push(("relevant", e));
        }
        if let Required::When(e) = &self.required {
            out.push(("required", e));
        }
        if let Some(e) = &self.choice_filter {
            out.push(("choice_filter", e));
        }
        if let Some(e) = &self.count {
            out.push(("count", e));
        }
        if let Some(e) = &self.calculation {
            out.push(("calculation", e));
        }
        for rule in &self.rules {
            out.push(("check", &rule.check));
        }
        out
    }

    /// True when the item is a question of a select type.
    pub fn is_select(&self) -> bool {
        self.kind == ItemKind::Question && self.question_type.is_some_and(QuestionType::is_select)
    }

    /// True when the item holds a value in the answers (questions and calculates).
    pub fn has_value(&self) -> bool {
        matches!(self.kind, ItemKind::Question | ItemKind::Calculate)
    }
}
