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
