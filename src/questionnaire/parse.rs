//! From JSON to the typed [`Questionnaire`]: structure, key names and value types.
//!
//! The parser walks a `serde_json::Value` rather than deriving `Deserialize`, because it must
//! report *every* structural problem at once, each with its JSON Pointer, and suggest the key
//! a designer probably meant (`lable` → `label`). Keys that exist in the format but do not
//! apply to an item's kind (`choices` on a note) are kept for the linter, which reports them
//! with a more specific code.

use serde_json::{Map, Value};

use crate::questionnaire::diagnostic::{Diagnostic, pointer_index, pointer_push};
use crate::questionnaire::duplicate_keys::check_duplicate_keys;
use crate::questionnaire::json::{parse_json_bytes, parse_json_str};
use crate::questionnaire::model::{
    Choice, ChoiceList, Expression, Item, ItemKind, QuestionType, Questionnaire, Required, Rule,
    RuleSeverity, SCHEMA_VERSION,
};
use crate::questionnaire::suggest::suggestion_suffix;
use crate::questionnaire::text::Text;

/// Keys of the top-level object. `$schema` lets editors find `questionnaires/schema.json`.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "$schema",
    "schema_version",
    "id",
    "version",
    "title",
    "languages",
    "choice_lists",
    "items",
];

/// Keys of an item object (the union over all kinds).
pub const ITEM_KEYS: &[&str] = &[
    "kind",
    "name",
    "label",
    "hint",
    "relevant",
    "aliases",
    "type",
    "choices",
    "choice_filter",
    "required",
    "required_message",
    "rules",
    "allow_dont_know",
    "allow_refused",
    "items",
    "min",
    "max",
    "count",
    "calculation",
];

/// Keys of a choice object.
pub const CHOICE_KEYS: &[&str] = &["value", "label", "columns"];

/// Keys of a rule object.
pub const RULE_KEYS: &[&str] = &["check", "severity", "message"];

impl Questionnaire {
    /// Parses questionnaire JSON text. Never panics; returns every structural finding.
    ///
    /// A key repeated in one object is an error (`duplicate_key`), because JSON parsers keep
    /// only one of the two silently.
    pub fn parse(json_text: &str) -> Result<Questionnaire, Vec<Diagnostic>> {
        let value = parse_json_str(json_text).map_err(|d| vec![d])?;
        check_duplicate_keys(json_text).map_err(|d| vec![d])?;
        Questionnaire::from_value(&value)
    }

    /// Parses questionnaire JSON bytes; invalid UTF-8 is reported with its byte offset.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Questionnaire, Vec<Diagnostic>> {
        let value = parse_json_bytes(bytes).map_err(|d| vec![d])?;
        // Valid UTF-8 here: `parse_json_bytes` checked it.
        if let Ok(text) = std::str::from_utf8(bytes) {
            check_duplicate_keys(text).map_err(|d| vec![d])?;
        }
        Questionnaire::from_value(&value)
    }

    /// Converts an already parsed JSON value.
    pub fn from_value(value: &Value) -> Result<Questionnaire, Vec<Diagnostic>> {
        let mut reader = Reader::default();
        let questionnaire = reader.questionnaire(value);
        match questionnaire {
            Some(q) if reader.errors.is_empty() => Ok(q),
            _ => Err(reader.errors),
        }
    }
}

/// Collects findings while walking the document.
#[derive(Default)]
struct Reader {
    errors: Vec<Diagnostic>,
}

impl Reader {
    fn error(&mut self, code: &'static str, path: &str, message: String) {
        self.errors.push(Diagnostic::error(code, path, message));
    }

    fn questionnaire(&mut self, value: &Value) -> Option<Questionnaire> {
        let Some(map) = value.as_object() else {
            self.error(
                "not_an_object",
                "",
                format!(
                    "a questionnaire must be a JSON object, found {}",
                    describe(value)
                ),
            );
            return None;
        };
        self.check_keys(map, "", TOP_LEVEL_KEYS, "the questionnaire");
        let schema_version = match map.get("schema_version") {
            None => {
                self.missing("", "schema_version", "the questionnaire");
                None
            }
            Some(v) => match v.as_u64() {
                Some(SCHEMA_VERSION) => Some(SCHEMA_VERSION),
                _ => {
                    self.error(
                        "unsupported_schema_version",
                        "/schema_version",
                        format!(
                            "schema_version must be {SCHEMA_VERSION} (this engine reads format \
                             version {SCHEMA_VERSION}), found {v}"
                        ),
                    );
                    None
                }
            },
        };
        let id = self.required_string(map, "", "id", "the questionnaire");
        let version = self.required_string(map, "", "version", "the questionnaire");
        let title = match map.get("title") {
            Some(v) => self.text(v, "/title"),
            None => {
                self.missing("", "title", "the questionnaire");
                None
            }
        };
        let languages = match map.get("languages") {
            Some(v) => self.string_array(v, "/languages"),
            None => {
                self.missing("", "languages", "the questionnaire");
                None
            }
        };
        let choice_lists = match map.get("choice_lists") {
            Some(v) => self.choice_lists(v),
            None => Vec::new(),
        };
        let items = match map.get("items") {
            Some(v) => self.items(v, "/items"),
            None => {
                self.missing("", "items", "the questionnaire");
                Vec::new()
            }
        };
        Some(Questionnaire {
            schema_version: schema_version?,
            id: id?,
            version: version?,
            title: title?,
            languages: languages?,
            choice_lists,
            items,
        })
    }

    fn choice_lists(&mut self, value: &Value) -> Vec<ChoiceList> {
        let Some(map) = self.object(value, "/choice_lists", "choice_lists") else {
            return Vec::new();
        };
        let mut lists = Vec::new();
        for (name, list) in map {
            let pointer = pointer_push("/choice_lists", name);
            let Some(array) = list.as_array() else {
                self.error(
                    "wrong_type",
                    &pointer,
                    format!(
                        "choice list `{name}` must be an array of choices, found {}",
                        describe(list)
                    ),
                );
                continue;
            };
            let mut choices = Vec::new();
            for (index, choice) in array.iter().enumerate() {
                if let Some(choice) = self.choice(choice, &pointer_index(&pointer, index)) {
                    choices.push(choice);
                }
            }
            lists.push(ChoiceList {
                name: name.clone(),
                choices,
                pointer,
            });
        }
        lists
    }

    fn choice(&mut self, value: &Value, path: &str) -> Option<Choice> {
        let map = self.object(value, path, "a choice")?;
        self.check_keys(map, path, CHOICE_KEYS, "a choice");
        let value_text = match map.get("value") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                let hint = if other.is_number() {
                    format!(" (write it as a string: \"{other}\")")
                } else {
                    String::new()
                };
                self.error(
                    "wrong_type",
                    &pointer_push(path, "value"),
                    format!(
                        "a choice value must be a string, found {}{hint}",
                        describe(other)
                    ),
                );
                None
            }
            None => {
                self.missing(path, "value", "a choice");
                None
            }
        };
        let label = match map.get("label") {
            Some(v) => self.text(v, &pointer_push(path, "label")),
            None => {
                self.missing(path, "label", "a choice");
                None
            }
        };
        let mut columns = Vec::new();
        if let Some(v) = map.get("columns") {
            let columns_path = pointer_push(path, "columns");
            if let Some(columns_map) = self.object(v, &columns_path, "choice columns") {
                for (column, cell) in columns_map {
                    match cell {
                        Value::String(s) => columns.push((column.clone(), s.clone())),
                        other => self.error(
                            "wrong_type",
                            &pointer_push(&columns_path, column),
                            format!(
                                "choice column `{column}` must be a string, found {}",
                                describe(other)
                            ),
                        ),
                    }
                }
            }
        }
        Some(Choice {
            value: value_text?,
            label: label?,
            columns,
        })
    }

    fn items(&mut self, value: &Value, path: &str) -> Vec<Item> {
        let Some(array) = value.as_array() else {
            self.error(
                "wrong_type",
                path,
                format!(
                    "`items` must be an array of items, found {}",
                    describe(value)
                ),
            );
            return Vec::new();
        };
        array
            .iter()
            .enumerate()
            .filter_map(|(index, item)| self.item(item, &pointer_index(path, index)))
            .collect()
    }

    fn item(&mut self, value: &Value, path: &str) -> Option<Item> {
        let map = self.object(value, path, "an item")?;
        self.check_keys(map, path, ITEM_KEYS, "an item");
        let kind = match map.get("kind") {
            None => {
                self.missing(path, "kind", "an item");
                None
            }
            Some(Value::String(s)) => {
                let kind = ItemKind::ALL.into_iter().find(|k| k.as_str() == s);
                if kind.is_none() {
                    let names: Vec<&str> = ItemKind::ALL.iter().map(|k| k.as_str()).collect();
                    self.error(
                        "invalid_value",
                        &pointer_push(path, "kind"),
                        format!(
                            "unknown item kind `{s}`{}; expected one of {}",
                            suggestion_suffix(s, &names),
                            names.join(", ")
                        ),
                    );
                }
                kind
            }
            Some(other) => {
                self.wrong_type(path, "kind", "a string", other);
                None
            }
        };
        let name = self.required_string(map, path, "name", "an item");
        let question_type = match map.get("type") {
            None => None,
            Some(Value::String(s)) => {
                let found = QuestionType::ALL.into_iter().find(|t| t.as_str() == s);
                if found.is_none() {
                    let names: Vec<&str> = QuestionType::ALL.iter().map(|t| t.as_str()).collect();
                    self.error(
                        "invalid_value",
                        &pointer_push(path, "type"),
                        format!(
                            "unknown question type `{s}`{}; expected one of {}",
                            suggestion_suffix(s, &names),
                            names.join(", ")
                        ),
                    );
                }
                found
            }
            Some(other) => {
                self.wrong_type(path, "type", "a string", other);
                None
            }
        };
        let required = match map.get("required") {
            None | Some(Value::Bool(false)) => Required::No,
            Some(Value::Bool(true)) => Required::Yes,
            Some(Value::String(s)) => Required::When(Expression {
                source: s.clone(),
                pointer: pointer_push(path, "required"),
            }),
            Some(other) => {
                self.wrong_type(
                    path,
                    "required",
                    "true, false or an expression string",
                    other,
                );
                Required::No
            }
        };
        let rules = match map.get("rules") {
            None => Vec::new(),
            Some(v) => self.rules(v, &pointer_push(path, "rules")),
        };
        let items = match map.get("items") {
            None => Vec::new(),
            Some(v) => self.items(v, &pointer_push(path, "items")),
        };
        let aliases = match map.get("aliases") {
            None => Some(Vec::new()),
            Some(v) => self.string_array(v, &pointer_push(path, "aliases")),
        };
        let label = self.optional_text(map, path, "label");
        let hint = self.optional_text(map, path, "hint");
        let required_message = self.optional_text(map, path, "required_message");
        let item = Item {
            kind: kind?,
            name: name?,
            pointer: path.to_string(),
            keys: map.keys().cloned().collect(),
            aliases: aliases.unwrap_or_default(),
            label,
            hint,
            relevant: self.expression(map, path, "relevant"),
            question_type,
            choices: self.optional_string(map, path, "choices"),
            choice_filter: self.expression(map, path, "choice_filter"),
            required,
            required_message,
            rules,
            allow_dont_know: self.optional_bool(map, path, "allow_dont_know"),
            allow_refused: self.optional_bool(map, path, "allow_refused"),
            items,
            min: self.optional_integer(map, path, "min"),
            max: self.optional_integer(map, path, "max"),
            count: self.expression(map, path, "count"),
            calculation: self.expression(map, path, "calculation"),
        };
        Some(item)
    }

    fn rules(&mut self, value: &Value, path: &str) -> Vec<Rule> {
        let Some(array) = value.as_array() else {
            self.error(
                "wrong_type",
                path,
                format!(
                    "`rules` must be an array of rules, found {}",
                    describe(value)
                ),
            );
            return Vec::new();
        };
        let mut rules = Vec::new();
        for (index, rule) in array.iter().enumerate() {
            let rule_path = pointer_index(path, index);
            let Some(map) = self.object(rule, &rule_path, "a rule") else {
                continue;
            };
            self.check_keys(map, &rule_path, RULE_KEYS, "a rule");
            let check = match map.get("check") {
                Some(_) => self.expression(map, &rule_path, "check"),
                None => {
                    self.missing(&rule_path, "check", "a rule");
                    None
                }
            };
            let severity = match map.get("severity") {
                None => {
                    self.missing(&rule_path, "severity", "a rule");
                    None
                }
                Some(Value::String(s)) if s == "error" => Some(RuleSeverity::Error),
                Some(Value::String(s)) if s == "warning" => Some(RuleSeverity::Warning),
                Some(other) => {
                    let shown = other
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or(other.to_string());
                    self.error(
                        "invalid_value",
                        &pointer_push(&rule_path, "severity"),
                        format!(
                            "a rule's severity must be \"error\" or \"warning\", found {shown}{}",
                            suggestion_suffix(&shown, &["error", "warning"])
                        ),
                    );
                    None
                }
            };
            let message = match map.get("message") {
                Some(v) => self.text(v, &pointer_push(&rule_path, "message")),
                None => {
                    self.missing(&rule_path, "message", "a rule");
                    None
                }
            };
            if let (Some(check), Some(severity), Some(message)) = (check, severity, message) {
                rules.push(Rule {
                    check,
                    severity,
                    message,
                    pointer: rule_path,
                });
            }
        }
        rules
    }

    fn text(&mut self, value: &Value, path: &str) -> Option<Text> {
        let map = match value {
            Value::Object(map) => map,
            Value::String(s) => {
                self.error(
                    "wrong_type",
                    path,
                    format!(
                        "a text must be an object by language, e.g. {{\"en\": {}, \"vi\": \"…\"}}, \
                         found a bare string",
                        Value::String(s.clone())
                    ),
                );
                return None;
            }
            other => {
                self.error(
                    "wrong_type",
                    path,
                    format!(
                        "a text must be an object by language such as {{\"en\": \"…\", \"vi\": \
                         \"…\"}}, found {}",
                        describe(other)
                    ),
                );
                return None;
            }
        };
        let mut translations = Vec::new();
        for (lang, text) in map {
            match text {
                Value::String(s) => translations.push((lang.clone(), s.clone())),
                other => self.error(
                    "wrong_type",
                    &pointer_push(path, lang),
                    format!(
                        "the `{lang}` text must be a string, found {}",
                        describe(other)
                    ),
                ),
            }
        }
        Some(Text { translations })
    }

    fn optional_text(&mut self, map: &Map<String, Value>, path: &str, key: &str) -> Option<Text> {
        map.get(key)
            .and_then(|v| self.text(v, &pointer_push(path, key)))
    }

    fn expression(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<Expression> {
        match map.get(key)? {
            Value::String(s) => Some(Expression {
                source: s.clone(),
                pointer: pointer_push(path, key),
            }),
            other => {
                self.wrong_type(path, key, "an expression string", other);
                None
            }
        }
    }

    fn required_string(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        what: &str,
    ) -> Option<String> {
        match map.get(key) {
            None => {
                self.missing(path, key, what);
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.wrong_type(path, key, "a string", other);
                None
            }
        }
    }

    fn optional_string(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<String> {
        match map.get(key)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.wrong_type(path, key, "a string", other);
                None
            }
        }
    }

    fn optional_bool(&mut self, map: &Map<String, Value>, path: &str, key: &str) -> bool {
        match map.get(key) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.wrong_type(path, key, "true or false", other);
                false
            }
        }
    }

    fn optional_integer(&mut self, map: &Map<String, Value>, path: &str, key: &str) -> Option<i64> {
        match map.get(key)? {
            Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
            other => {
                self.wrong_type(path, key, "an integer", other);
                None
            }
        }
    }

    fn string_array(&mut self, value: &Value, path: &str) -> Option<Vec<String>> {
        let Some(array) = value.as_array() else {
            self.error(
                "wrong_type",
                path,
                format!("expected an array of strings, found {}", describe(value)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(array.len());
        for (index, element) in array.iter().enumerate() {
            match element {
                Value::String(s) => out.push(s.clone()),
                other => self.error(
                    "wrong_type",
                    &pointer_index(path, index),
                    format!("expected a string, found {}", describe(other)),
                ),
            }
        }
        Some(out)
    }

    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        let map = value.as_object();
        if map.is_none() {
            self.error(
                "wrong_type",
                path,
                format!("{what} must be a JSON object, found {}", describe(value)),
            );
        }
        map
    }

    fn check_keys(&mut self, map: &Map<String, Value>, path: &str, allowed: &[&str], what: &str) {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let suffix = suggestion_suffix(key, allowed);
                self.error(
                    "unknown_key",
                    &pointer_push(path, key),
                    format!("unknown key `{key}` in {what}{suffix}"),
                );
            }
        }
    }

    fn missing(&mut self, path: &str, key: &str, what: &str) {
        self.error("missing_key", path, format!("{what} needs the key `{key}`"));
    }

    fn wrong_type(&mut self, path: &str, key: &str, expected: &str, found: &Value) {
        self.error(
            "wrong_type",
            &pointer_push(path, key),
            format!("`{key}` must be {expected}, found {}", describe(found)),
        );
    }
}

/// A short description of a JSON value for messages: its type and, for scalars, the value.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let shown: String = s.chars().take(40).collect();
            format!("the string \"{shown}\"")
        }
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}
