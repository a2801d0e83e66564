//! The questionnaire format: model, expression language, linter, submission validator and
//! version diff.
//!
//! Architecture invariant: this module knows nothing about storage, HTTP, sampling or
//! weighting. It turns JSON text into checked types and checked types into findings.
//!
//! # The public API, in the order a questionnaire travels
//!
//! - [`Questionnaire::parse`] / [`Questionnaire::parse_bytes`]: JSON → typed model. Returns
//!   every structural finding (malformed JSON with line and column, invalid UTF-8 with its
//!   byte offset, nesting deeper than 128 levels, duplicate keys, unknown keys with a "did
//!   you mean", missing keys, wrong value types), never panics.
//! - [`lint`]: the whole-document checks (names, references, cycles, choices, languages,
//!   roster bounds, expressions). [`lint_source`] parses and lints in one call, which is what
//!   `questionnaire lint` and the server's upload use.
//! - [`compile`]: a lint-clean questionnaire → [`CompiledQuestionnaire`], with every
//!   expression parsed once, names resolved to slots, calculations in dependency order and
//!   choice sets ready for lookup. Compile once per questionnaire version.
//! - [`validate`] / [`validate_on`] (with a fixed date for `today()`): compiled
//!   questionnaire + answers (a `serde_json::Value`, from [`parse_answers_bytes`], which
//!   also rejects a key repeated in one object) →
//!   [`ValidationReport`]: findings with JSON Pointers into the answers, plus the recomputed
//!   calculations as JSON shaped like the answers. `has_errors()` decides acceptance;
//!   `to_json()` is the wire form. Validation never panics, whatever the JSON.
//! - [`diff`]: two versions → [`DiffReport`] classifying each change as compatible or
//!   breaking.
//! - [`outline`]: a readable text outline for designers (`questionnaire show`).
//!
//! Every finding is a [`Diagnostic`] with a stable `code`; the codes are listed in
//! `docs/questionnaire-format.md` ("Findings", "Version diff").
//!
//! What this module deliberately does not do: store versions, decide who may publish, or
//! render forms for enumerators. Those belong to `store`, `server` and the web client.

pub mod dwscs;
pub mod expr;

mod analysis;
mod compile;
mod diagnostic;
mod diff;
mod duplicate_keys;
mod fast_hash;
mod json;
mod layout;
mod lint;
mod model;
mod outline;
mod parse;
mod suggest;
mod text;
mod validate;

pub use compile::{CompiledQuestionnaire, compile};
pub use diagnostic::{Diagnostic, Severity, has_errors};
pub use diff::{Change, Compatibility, DiffReport, diff};
pub use json::{parse_answers_bytes, parse_answers_str, parse_json_bytes, parse_json_str};
pub use lint::{MAX_NAME_LEN, is_valid_id, is_valid_name, lint, lint_source};
pub use model::{
    Choice, ChoiceList, Expression, Item, ItemKind, QuestionType, Questionnaire, Required, Rule,
    RuleSeverity, SCHEMA_VERSION,
};
pub use outline::outline;
pub use parse::{CHOICE_KEYS, ITEM_KEYS, RULE_KEYS, TOP_LEVEL_KEYS};
pub use text::Text;
pub use validate::{Calculations, ValidationReport, validate, validate_on};
