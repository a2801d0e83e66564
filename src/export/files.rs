//! A whole export written into a directory: one CSV per level and the codebook (JSON and
//! CSV), with the same names and bytes as the HTTP export.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::export::{Error, Filter, codebook_csv, codebook_json, load_layout, write_levels};
use crate::store::ExportView;

/// The codebook files beside the level CSVs (the HTTP names
/// `/api/v1/exports/{questionnaire}/codebook.json` and `.csv`).
pub const CODEBOOK_JSON: &str = "codebook.json";
pub const CODEBOOK_CSV: &str = "codebook.csv";

/// One file [`write_files`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenFile {
    pub name: String,
    /// Data rows for a level CSV, variables for a codebook.
    pub rows: u64,
}

/// Writes every level of `questionnaire` (`<level>.csv`, the main level named after the
/// questionnaire) and the codebook into `out`, creating it if needed, in one walk over the
/// interviews. Each file is written under a temporary name and renamed when complete, so
/// a failed export leaves no file that looks finished.
pub fn write_files(
    view: &ExportView,
    questionnaire: &str,
    filter: &Filter,
    out: &Path,
) -> Result<Vec<WrittenFile>, Error> {
    let (layout, languages) = load_layout(view, questionnaire)?;
    let mut names: Vec<String> = layout
        .levels
        .iter()
        .map(|l| format!("{}.csv", l.name))
        .collect();
    names.extend([CODEBOOK_JSON.to_owned(), CODEBOOK_CSV.to_owned()]);
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(Error::FileClash(name.clone()));
        }
    }
    std::fs::create_dir_all(out).map_err(|e| Error::File {
        path: out.to_path_buf(),
        source: e,
    })?;
    let partial = |name: &str| out.join(format!(".{name}.partial"));
    let result = (|| -> Result<Vec<WrittenFile>, Error> {
        let mut outputs = Vec::new();
        for (index, level) in layout.levels.iter().enumerate() {
            let path = partial(&format!("{}.csv", level.name));
            let file = File::create(&path).map_err(|e| Error::File {
                path: path.clone(),
                source: e,
            })?;
            outputs.push((index, file));
        }
        let rows = write_levels(view, &layout, outputs, filter)?;
        let mut written: Vec<WrittenFile> = names
            .iter()
            .zip(rows)
            .map(|(name, rows)| WrittenFile {
                name: name.clone(),
                rows,
            })
            .collect();
        let variables: u64 = layout.levels.iter().map(|l| l.columns.len() as u64).sum();
        let json = serde_json::to_vec(&codebook_json(&layout))
            .map_err(|e| Error::Corrupt(format!("codebook: {e}")))?;
        let path = partial(CODEBOOK_JSON);
        std::fs::write(&path, json).map_err(|e| Error::File {
            path: path.clone(),
            source: e,
        })?;
        let path = partial(CODEBOOK_CSV);
        let file = File::create(&path).map_err(|e| Error::File {
            path: path.clone(),
            source: e,
        })?;
        let langs: Vec<&str> = languages.iter().map(String::as_str).collect();
        codebook_csv(&layout, &langs, std::io::BufWriter::new(file))?;
        for name in [CODEBOOK_JSON, CODEBOOK_CSV] {
            written.push(WrittenFile {
                name: name.to_owned(),
                rows: variables,
            });
        }
        for name in &names {
            let done: PathBuf = out.join(name);
            std::fs::rename(partial(name), &done).map_err(|e| Error::File {
                path: done.clone(),
                source: e,
            })?;
        }
        Ok(written)
    })();
    if result.is_err() {
        for name in &names {
            let _ = std::fs::remove_file(partial(name));
        }
    }
    result
}
