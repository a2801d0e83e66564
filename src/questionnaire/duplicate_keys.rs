//! Rejecting duplicate keys in a JSON object.
//!
//! `serde_json::Value` keeps the last of two equal keys silently, so a questionnaire with two
//! `relevant` keys on one item would lose one skip condition without a word. This pass walks
//! the document once with a visitor that remembers the keys of each object and fails on the
//! first repeat, with serde_json's line and column.

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};

use crate::questionnaire::diagnostic::Diagnostic;

/// Checks that no object in `text` has the same key twice. Syntax errors are left to the
/// real parse, which reports them with more context.
pub fn check_duplicate_keys(text: &str) -> Result<(), Diagnostic> {
    match serde_json::from_str::<Unique>(text) {
        Ok(_) => Ok(()),
        Err(error) => {
            let message = error.to_string();
            match message.strip_prefix(DUPLICATE_PREFIX) {
                Some(rest) => {
                    let key = rest.split(DUPLICATE_SUFFIX).next().unwrap_or(rest);
                    Err(Diagnostic::error(
                        "duplicate_key",
                        "",
                        format!(
                            "the key `{key}` appears twice in one object (line {}, column {}); \
                             JSON keeps only one of them, so remove or rename the other",
                            error.line(),
                            error.column()
                        ),
                    ))
                }
                None => Ok(()),
            }
        }
    }
}

const DUPLICATE_PREFIX: &str = "duplicate key `";
const DUPLICATE_SUFFIX: &str = "` in one object";

/// Any JSON value whose objects have unique keys.
struct Unique;

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        while seq.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(A::Error::custom(format!(
                    "{DUPLICATE_PREFIX}{key}{DUPLICATE_SUFFIX}"
                )));
            }
            map.next_value::<Unique>()?;
            seen.insert(key);
        }
        Ok(Unique)
    }
}

/// Parses JSON text into a `serde_json::Value` in one pass, failing on the first key that
/// appears twice in one object with the JSON Pointer of the repeated key.
///
/// This is the submission path: answers are parsed once per submission, so the check must
/// not cost a second pass over the text as [`check_duplicate_keys`] does for questionnaires.
/// The builder mirrors `serde_json`'s own `Value` visitor (same numbers, same recursion
/// limit, keys kept in the same map type), so a document without duplicates parses to the
/// identical value.
pub(crate) fn parse_unique(text: &str) -> Result<serde_json::Value, UniqueError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut duplicate = None;
    let seed = BuildSeed {
        path: None,
        duplicate: &mut duplicate,
    };
    let result = serde::de::DeserializeSeed::deserialize(seed, &mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    match (result, duplicate) {
        (Ok(value), _) => Ok(value),
        (Err(error), Some(pointer)) => Err(UniqueError::Duplicate {
            pointer,
            line: error.line(),
            column: error.column(),
        }),
        (Err(error), None) => Err(UniqueError::Json(error)),
    }
}

/// Why [`parse_unique`] failed.
#[derive(Debug)]
pub(crate) enum UniqueError {
    /// Not JSON (or nested too deep): serde_json's own error.
    Json(serde_json::Error),
    /// A key repeated in one object: its JSON Pointer and where the repeat ends.
    Duplicate {
        pointer: String,
        line: usize,
        column: usize,
    },
}

/// The path from the root to the value being built, as a linked list on the stack: it costs
/// nothing while parsing, and is turned into a JSON Pointer only when a duplicate is found.
struct PathNode<'p> {
    parent: Option<&'p PathNode<'p>>,
    segment: Segment<'p>,
}

enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

fn pointer_of(path: Option<&PathNode<'_>>, last: &str) -> String {
    let mut segments = vec![last.replace('~', "~0").replace('/', "~1")];
    let mut node = path;
    while let Some(current) = node {
        segments.push(match current.segment {
            Segment::Key(key) => key.replace('~', "~0").replace('/', "~1"),
            Segment::Index(index) => index.to_string(),
        });
        node = current.parent;
    }
    segments.iter().rev().fold(String::new(), |mut pointer, s| {
        pointer.push('/');
        pointer.push_str(s);
        pointer
    })
}

/// Builds one JSON value at `path`; records the pointer of a duplicate key in `duplicate`
/// (the serde error alone cannot carry it out).
struct BuildSeed<'p, 'd> {
    path: Option<&'p PathNode<'p>>,
    duplicate: &'d mut Option<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for BuildSeed<'_, '_> {
    type Value = serde_json::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BuildSeed<'_, '_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(serde_json::Value::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(serde_json::Value::from(n))
    }

    fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(x)
            .map_or(serde_json::Value::Null, serde_json::Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let node = PathNode {
                parent: self.path,
                segment: Segment::Index(items.len()),
            };
            let seed = BuildSeed {
                path: Some(&node),
                duplicate: &mut *self.duplicate,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => break,
            }
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One search of the map per key: the vacant entry is filled once the value is
            // built, and an occupied one is the duplicate.
            match object.entry(key) {
                serde_json::map::Entry::Occupied(entry) => {
                    let key = entry.key();
                    let message = format!("{DUPLICATE_PREFIX}{key}{DUPLICATE_SUFFIX}");
                    *self.duplicate = Some(pointer_of(self.path, key));
                    return Err(A::Error::custom(message));
                }
                serde_json::map::Entry::Vacant(entry) => {
                    let node = PathNode {
                        parent: self.path,
                        segment: Segment::Key(entry.key()),
                    };
                    let value = map.next_value_seed(BuildSeed {
                        path: Some(&node),
                        duplicate: &mut *self.duplicate,
                    })?;
                    entry.insert(value);
                }
            }
        }
        Ok(serde_json::Value::Object(object))
    }
}
