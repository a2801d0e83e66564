//! Where an export reads from: the store (opened for export by the CLI) and the published
//! definitions that give the layout.

use std::path::Path;

use serde_json::Value;

use crate::export::{Error, Layout, layout};
use crate::store::{Store, database_exists, is_in_use};

/// The export layout of a questionnaire from all its published versions (in publication
/// order), and the languages those versions declare (in first-appearance order).
pub fn load_layout(store: &Store, questionnaire: &str) -> Result<(Layout, Vec<String>), Error> {
    let mut definitions = Vec::new();
    let mut languages: Vec<String> = Vec::new();
    for summary in store.list_published(Some(questionnaire))? {
        let Some(published) = store.published(&summary.id, &summary.version)? else {
            continue;
        };
        let definition: Value = serde_json::from_str(published.definition.get()).map_err(|e| {
            Error::Corrupt(format!(
                "published definition {}/{}: {e}",
                summary.id, summary.version
            ))
        })?;
        for lang in definition["languages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !languages.iter().any(|l| l == lang) {
                languages.push(lang.to_owned());
            }
        }
        definitions.push((summary.version, definition));
    }
    if definitions.is_empty() {
        let mut published: Vec<String> = store
            .list_published(None)?
            .into_iter()
            .map(|s| s.id)
            .collect();
        published.dedup();
        return Err(Error::UnknownQuestionnaire {
            questionnaire: questionnaire.to_owned(),
            published: if published.is_empty() {
                "none".to_owned()
            } else {
                published.join(", ")
            },
        });
    }
    let layout = layout(questionnaire, &definitions)?;
    Ok((layout, languages))
}

/// Opens the data directory `dir` for an export from the command line.
///
/// Refuses, without touching anything, a directory with no database (opening would create
/// one) and a database a running server holds (sled allows one process at a time; the
/// HTTP export reads the same data while the server runs).
pub fn open_for_export(dir: &Path) -> Result<Store, Error> {
    if !database_exists(dir) {
        return Err(Error::NoDatabase(dir.to_path_buf()));
    }
    Store::open(dir).map_err(|err| {
        if is_in_use(&err) {
            Error::InUse(dir.to_path_buf())
        } else {
            Error::Store(err)
        }
    })
}
