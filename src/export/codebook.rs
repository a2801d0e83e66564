//! The codebook: every variable of every level with labels, type, choices and versions.

use serde_json::{Value, json};

use crate::export::{DONT_KNOW, Error, Layout, REFUSED, SKIPPED};

/// The codebook as JSON.
pub fn codebook_json(layout: &Layout) -> Value {
    let levels: Vec<Value> = layout
        .levels
        .iter()
        .map(|level| {
            json!({
                "level": level.name,
                "path": level.path,
                "file": format!("{}.csv", level.name),
                "columns": level.columns.iter().map(|c| json!({
                    "variable": c.name,
                    "former_names": c.names.iter().skip(1).collect::<Vec<_>>(),
                    "label": c.label,
                    "type": c.kind,
                    "choices": c.choices.iter().map(|(v, l)| json!({"value": v, "label": l})).collect::<Vec<_>>(),
                    "versions": c.versions,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "questionnaire": layout.questionnaire,
        "versions": layout.versions,
        "missing_codes": {SKIPPED: "skipped or not answered", DONT_KNOW: "don't know", REFUSED: "refused"},
        "key_columns": {
            "KEY": "the row's key: the instance id, then /roster[n] per roster level (1-based)",
            "PARENT_KEY": "the KEY of the row this roster row belongs to",
        },
        "levels": levels,
    })
}

/// The codebook as CSV: `level,variable,label_<lang>…,type,choices,versions`.
pub fn codebook_csv(
    layout: &Layout,
    languages: &[&str],
    out: impl std::io::Write,
) -> Result<(), Error> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec!["level".to_owned(), "variable".to_owned()];
    header.extend(languages.iter().map(|l| format!("label_{l}")));
    header.extend(["type", "choices", "versions"].map(str::to_owned));
    writer.write_record(&header).map_err(io)?;
    for level in &layout.levels {
        for column in &level.columns {
            let mut row = vec![level.name.clone(), column.name.clone()];
            row.extend(
                languages
                    .iter()
                    .map(|l| column.label.get(*l).cloned().unwrap_or_default()),
            );
            row.push(column.kind.clone());
            row.push(
                column
                    .choices
                    .iter()
                    .map(|(v, l)| {
                        format!(
                            "{v}={}",
                            l.get(languages.first().copied().unwrap_or("en"))
                                .cloned()
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            row.push(column.versions.join(" "));
            writer.write_record(&row).map_err(io)?;
        }
    }
    writer.flush()?;
    Ok(())
}

fn io(err: csv::Error) -> Error {
    Error::Write(std::io::Error::other(err.to_string()))
}
