//! Where an export reads from: a view of the store's export log (the server's own, or one
//! opened from the command line without sled) and the published definitions in it that
//! give the layout.

use std::path::Path;

use serde_json::Value;

use crate::export::{Error, Layout, layout};
use crate::store::{ExportView, database_exists, is_in_use, open_export_view};

/// The export layout of a questionnaire from all its published versions (in publication
/// order), and the languages those versions declare (in first-appearance order).
pub fn load_layout(view: &ExportView, questionnaire: &str) -> Result<(Layout, Vec<String>), Error> {
    let mut definitions = Vec::new();
    let mut languages: Vec<String> = Vec::new();
    let all = view.published()?;
    let mut versions: Vec<_> = all.iter().filter(|p| p.id == questionnaire).collect();
    // Publication order (ties, within a millisecond, by version), as `list_published`.
    versions.sort_by(|a, b| {
        (a.published_at_ms, a.version.as_str()).cmp(&(b.published_at_ms, b.version.as_str()))
    });
    for published in versions {
        let definition: Value = serde_json::from_str(published.definition.get()).map_err(|e| {
            Error::Corrupt(format!(
                "published definition {}/{}: {e}",
                published.id, published.version
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
        definitions.push((published.version.clone(), definition));
    }
    if definitions.is_empty() {
        let mut published: Vec<String> = all.into_iter().map(|p| p.id).collect();
        published.sort();
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

/// Opens the data directory `dir` for an export from the command line: its export log,
/// without opening sled (see [`open_export_view`]).
///
/// Refuses, without touching anything, a directory with no database and a database a
/// running server holds (the HTTP export reads the same data while the server runs).
pub fn open_for_export(dir: &Path) -> Result<ExportView, Error> {
    if !database_exists(dir) {
        return Err(Error::NoDatabase(dir.to_path_buf()));
    }
    open_export_view(dir).map_err(|err| {
        if is_in_use(&err) {
            Error::InUse(dir.to_path_buf())
        } else {
            Error::Store(err)
        }
    })
}
