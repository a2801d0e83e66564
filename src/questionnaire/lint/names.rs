//! Names: valid identifiers, unique across the whole tree (rosters and groups included), and
//! aliases that clash with no name or other alias.

use std::collections::HashMap;

use crate::questionnaire::diagnostic::{Diagnostic, pointer_index, pointer_push};
use crate::questionnaire::model::{Item, Questionnaire};

/// Longest allowed variable name (export formats such as Stata limit names to 32, SPSS to 64).
pub const MAX_NAME_LEN: usize = 64;

/// True for names matching `[a-z][a-z0-9_]*` of at most [`MAX_NAME_LEN`] characters.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// True for questionnaire ids matching `[a-z][a-z0-9_-]*`.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Lints the questionnaire id, every name and every alias.
pub fn lint_names(questionnaire: &Questionnaire, items: &[&Item], out: &mut Vec<Diagnostic>) {
    if !is_valid_id(&questionnaire.id) {
        out.push(Diagnostic::error(
            "invalid_id",
            "/id",
            format!(
                "questionnaire id `{}` must match [a-z][a-z0-9_-]* (lowercase letters, digits, \
                 `_` and `-`, starting with a letter)",
                questionnaire.id
            ),
        ));
    }
    if questionnaire.version.trim().is_empty() {
        out.push(Diagnostic::error(
            "invalid_version",
            "/version",
            "the version label must not be empty",
        ));
    }
    // First place each name is defined, to point duplicates back at it.
    let mut first_name: HashMap<&str, &str> = HashMap::new();
    for item in items {
        let name_path = pointer_push(&item.pointer, "name");
        if !is_valid_name(&item.name) {
            out.push(Diagnostic::error(
                "invalid_name",
                &name_path,
                format!(
                    "name `{}` must match [a-z][a-z0-9_]* and have at most {MAX_NAME_LEN} \
                     characters",
                    item.name
                ),
            ));
        }
        match first_name.get(item.name.as_str()) {
            Some(first) => out.push(Diagnostic::error(
                "duplicate_name",
                &name_path,
                format!(
                    "name `{}` is already used by the item at {first}; names must be unique in \
                     the whole questionnaire, rosters and groups included",
                    item.name
                ),
            )),
            None => {
                first_name.insert(&item.name, &item.pointer);
            }
        }
    }
    let mut first_alias: HashMap<&str, &str> = HashMap::new();
    for item in items {
        for (index, alias) in item.aliases.iter().enumerate() {
            let path = pointer_index(&pointer_push(&item.pointer, "aliases"), index);
            if !is_valid_name(alias) {
                out.push(Diagnostic::error(
                    "invalid_name",
                    &path,
                    format!("alias `{alias}` must match [a-z][a-z0-9_]*"),
                ));
            }
            if let Some(owner) = first_name.get(alias.as_str()) {
                out.push(Diagnostic::error(
                    "alias_conflict",
                    &path,
                    format!(
                        "alias `{alias}` of `{}` is the name of the item at {owner}; a former \
                         name cannot be reused while it is an alias",
                        item.name
                    ),
                ));
            } else if let Some(other) = first_alias.get(alias.as_str()) {
                out.push(Diagnostic::error(
                    "alias_conflict",
                    &path,
                    format!(
                        "alias `{alias}` of `{}` is also an alias of the item at {other}",
                        item.name
                    ),
                ));
            } else {
                first_alias.insert(alias, &item.pointer);
            }
        }
    }
}
