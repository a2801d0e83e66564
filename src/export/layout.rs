//! The export layout: levels and their columns, unioned over versions.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::export::Error;

/// One exported variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column name (the variable's name in the first version that had it).
    pub name: String,
    /// Names this variable has or had, the column name included.
    pub names: Vec<String>,
    /// Question type (`integer`, `select_one`, …) or `calculate`.
    pub kind: String,
    /// Label per language, from the newest version that has the variable.
    pub label: BTreeMap<String, String>,
    /// Choices (value, label per language) for select questions, from the newest version.
    pub choices: Vec<(String, BTreeMap<String, String>)>,
    /// The versions in which the variable exists.
    pub versions: Vec<String>,
}

/// One level: the main level (`path` empty) or a roster.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// The questionnaire id for the main level, the roster name otherwise.
    pub name: String,
    /// Roster names from the main level down to this one.
    pub path: Vec<String>,
    pub columns: Vec<Column>,
}

/// The layout of a questionnaire's export.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub questionnaire: String,
    pub versions: Vec<String>,
    pub levels: Vec<Level>,
}

impl Layout {
    /// The level with this name (`None` for the main level).
    pub fn level(&self, name: Option<&str>) -> Result<&Level, Error> {
        let wanted = name.unwrap_or(&self.questionnaire);
        self.levels
            .iter()
            .find(|l| l.name == wanted)
            .ok_or_else(|| Error::UnknownLevel {
                level: wanted.to_owned(),
                known: self
                    .levels
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Builds the layout from `(version, definition)` pairs in publication order.
pub fn layout(questionnaire: &str, definitions: &[(String, Value)]) -> Result<Layout, Error> {
    if definitions.is_empty() {
        return Err(Error::NoVersions(questionnaire.to_owned()));
    }
    let mut levels: Vec<Level> = vec![Level {
        name: questionnaire.to_owned(),
        path: vec![],
        columns: vec![],
    }];
    for (version, definition) in definitions {
        let choice_lists = definition
            .get("choice_lists")
            .cloned()
            .unwrap_or(Value::Null);
        let items = definition
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        walk(&items, &[], version, &choice_lists, &mut levels);
    }
    Ok(Layout {
        questionnaire: questionnaire.to_owned(),
        versions: definitions.iter().map(|(v, _)| v.clone()).collect(),
        levels,
    })
}

fn walk(
    items: &[Value],
    path: &[String],
    version: &str,
    choice_lists: &Value,
    levels: &mut Vec<Level>,
) {
    for item in items {
        let kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
        let Some(name) = item.get("name").and_then(Value::as_str) else {
            continue;
        };
        match kind {
            "group" => {
                let children = item
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                walk(&children, path, version, choice_lists, levels);
            }
            "roster" => {
                let mut child_path = path.to_vec();
                child_path.push(name.to_owned());
                if !levels.iter().any(|l| l.path == child_path) {
                    levels.push(Level {
                        name: name.to_owned(),
                        path: child_path.clone(),
                        columns: vec![],
                    });
                }
                let children = item
                    .get("items")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                walk(&children, &child_path, version, choice_lists, levels);
            }
            "question" | "calculate" => {
                let Some(level) = levels.iter_mut().find(|l| l.path == path) else {
                    continue;
                };
                let aliases: Vec<&str> = item
                    .get("aliases")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let kind_text = if kind == "calculate" {
                    "calculate".to_owned()
                } else {
                    item.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("text")
                        .to_owned()
                };
                let label = texts(item.get("label"));
                let choices = item
                    .get("choices")
                    .and_then(Value::as_str)
                    .and_then(|list| choice_lists.get(list))
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .map(|c| {
                                (
                                    c.get("value")
                                        .and_then(Value::as_str)
                                        .unwrap_or("")
                                        .to_owned(),
                                    texts(c.get("label")),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let existing = level.columns.iter_mut().find(|c| {
                    c.names
                        .iter()
                        .any(|n| n == name || aliases.contains(&n.as_str()))
                });
                match existing {
                    Some(column) => {
                        if !column.names.iter().any(|n| n == name) {
                            column.names.push(name.to_owned());
                        }
                        column.kind = kind_text;
                        column.label = label;
                        column.choices = choices;
                        if !column.versions.iter().any(|v| v == version) {
                            column.versions.push(version.to_owned());
                        }
                    }
                    None => {
                        let mut names = vec![name.to_owned()];
                        names.extend(aliases.iter().map(|a| (*a).to_owned()));
                        level.columns.push(Column {
                            name: name.to_owned(),
                            names,
                            kind: kind_text,
                            label,
                            choices,
                            versions: vec![version.to_owned()],
                        });
                    }
                }
            }
            _ => {}
        }
    }
}

fn texts(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unions_versions_keeps_renamed_columns_and_finds_rosters() {
        let v1 = json!({"items": [
            {"kind": "question", "name": "age", "type": "integer", "label": {"en": "Age"}},
            {"kind": "group", "name": "g", "items": [
                {"kind": "question", "name": "sex", "type": "select_one", "choices": "sex", "label": {"en": "Sex"}}]},
            {"kind": "roster", "name": "suppliers", "items": [
                {"kind": "question", "name": "sup_name", "type": "text"},
                {"kind": "roster", "name": "products", "items": [{"kind": "question", "name": "hs", "type": "text"}]}]}
        ], "choice_lists": {"sex": [{"value": "1", "label": {"en": "Male"}}]}});
        let v2 = json!({"items": [
            {"kind": "question", "name": "age_years", "aliases": ["age"], "type": "integer", "label": {"en": "Age in years"}},
            {"kind": "question", "name": "phone", "type": "text"},
            {"kind": "roster", "name": "suppliers", "items": [{"kind": "question", "name": "sup_name", "type": "text"}]}
        ]});
        let layout = layout("w", &[("1".into(), v1), ("2".into(), v2)]).unwrap();
        let names: Vec<&str> = layout.levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["w", "suppliers", "products"]);
        let main: Vec<&str> = layout.levels[0]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(main, ["age", "sex", "phone"]);
        let age = &layout.levels[0].columns[0];
        assert_eq!(age.versions, ["1", "2"]);
        assert_eq!(age.label["en"], "Age in years");
        assert_eq!(age.names, ["age", "age_years"]);
        assert_eq!(layout.levels[0].columns[1].choices[0].0, "1");
        assert_eq!(layout.levels[0].columns[1].versions, ["1"]);
        assert_eq!(layout.levels[2].path, ["suppliers", "products"]);
        assert!(layout.level(Some("nope")).is_err());
    }
}
