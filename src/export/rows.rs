//! Writing one level's CSV, one interview at a time (constant memory).

use std::io::Write;

use serde_json::Value;

use crate::export::{DONT_KNOW, Error, Level, REFUSED, SKIPPED};
use crate::store::{InterviewStatus, Store, rfc3339};

/// Which interviews to export.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only interviews in this status.
    pub status: Option<InterviewStatus>,
    /// Only interviews whose latest revision arrived at or after this time (ms).
    pub from_ms: Option<i64>,
    /// Only interviews whose latest revision arrived before this time (ms).
    pub to_ms: Option<i64>,
}

/// Writes the CSV of `level` for every interview of `questionnaire` that `filter` keeps.
/// Returns the number of data rows written.
pub fn write_level(
    store: &Store,
    questionnaire: &str,
    level: &Level,
    filter: &Filter,
    out: impl Write,
) -> Result<u64, Error> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    let mut header: Vec<&str> = vec!["KEY"];
    let is_main = level.path.is_empty();
    if is_main {
        header.extend([
            "instance_id",
            "revision",
            "version",
            "status",
            "enumerator",
            "received_at",
        ]);
    } else {
        header.extend(["PARENT_KEY", "instance_id"]);
    }
    header.extend(level.columns.iter().map(|c| c.name.as_str()));
    writer.write_record(&header).map_err(csv_error)?;
    let mut record: Vec<String> = Vec::with_capacity(header.len());
    let mut rows = 0u64;
    for interview in store.interviews_of(questionnaire) {
        let interview = interview?;
        if filter.status.is_some_and(|s| s != interview.status) {
            continue;
        }
        let Some(revision) = store.revision(&interview.instance_id, interview.revision)? else {
            return Err(Error::Corrupt(format!(
                "interview {} has no revision {}",
                interview.instance_id, interview.revision
            )));
        };
        if filter.from_ms.is_some_and(|t| revision.received_at_ms < t)
            || filter.to_ms.is_some_and(|t| revision.received_at_ms >= t)
        {
            continue;
        }
        let content: Value = serde_json::from_str(revision.content.get())
            .map_err(|e| Error::Corrupt(e.to_string()))?;
        let calculations: Value =
            serde_json::from_str(revision.calculations.get()).unwrap_or(Value::Null);
        let answers = content.get("answers").unwrap_or(&Value::Null);
        if is_main {
            record.clear();
            record.push(interview.instance_id.clone());
            record.push(interview.instance_id.clone());
            record.push(revision.revision.to_string());
            record.push(revision.version.clone());
            record.push(interview.status.as_str().to_owned());
            record.push(interview.enumerator.clone());
            record.push(rfc3339(revision.received_at_ms));
            push_values(&mut record, level, answers, &calculations);
            writer.write_record(&record).map_err(csv_error)?;
            rows += 1;
        } else {
            let mut sink =
                |key: &str, parent: &str, row: &Value, calc: &Value| -> Result<(), Error> {
                    record.clear();
                    record.push(key.to_owned());
                    record.push(parent.to_owned());
                    record.push(interview.instance_id.clone());
                    push_values(&mut record, level, row, calc);
                    writer.write_record(&record).map_err(csv_error)?;
                    rows += 1;
                    Ok(())
                };
            descend(
                &level.path,
                &interview.instance_id,
                answers,
                &calculations,
                &mut sink,
            )?;
        }
    }
    writer.flush()?;
    Ok(rows)
}

/// Receives `(key, parent_key, row answers, row calculations)`.
type RowSink<'a> = dyn FnMut(&str, &str, &Value, &Value) -> Result<(), Error> + 'a;

/// Walks down the roster path, calling `sink(key, parent_key, row, calculations)` for each
/// row of the last roster. Keys follow the `parent/roster[n]` convention (1-based).
fn descend(
    path: &[String],
    parent_key: &str,
    answers: &Value,
    calculations: &Value,
    sink: &mut RowSink<'_>,
) -> Result<(), Error> {
    let Some((roster, rest)) = path.split_first() else {
        return Ok(());
    };
    let Some(rows) = answers.get(roster).and_then(Value::as_array) else {
        return Ok(());
    };
    let calc_rows = calculations.get(roster).and_then(Value::as_array);
    for (i, row) in rows.iter().enumerate() {
        let key = format!("{parent_key}/{roster}[{}]", i + 1);
        let calc = calc_rows.and_then(|c| c.get(i)).unwrap_or(&Value::Null);
        if rest.is_empty() {
            sink(&key, parent_key, row, calc)?;
        } else {
            descend(rest, &key, row, calc, sink)?;
        }
    }
    Ok(())
}

fn push_values(record: &mut Vec<String>, level: &Level, row: &Value, calculations: &Value) {
    for column in &level.columns {
        let value = column
            .names
            .iter()
            .find_map(|n| row.get(n).filter(|v| !v.is_null()))
            .or_else(|| {
                column
                    .names
                    .iter()
                    .find_map(|n| calculations.get(n).filter(|v| !v.is_null()))
            });
        record.push(encode(value));
    }
}

/// Encodes one answer for CSV, with the documented missing-value codes.
pub fn encode(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => SKIPPED.to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => if *b { "1" } else { "0" }.to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Some(Value::Object(map)) => match map.get("missing").and_then(Value::as_str) {
            Some("dont_know") => DONT_KNOW.to_owned(),
            Some("refused") => REFUSED.to_owned(),
            _ if map.contains_key("lat") => ["lat", "lon", "alt", "accuracy"]
                .iter()
                .filter_map(|k| map.get(*k))
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            _ => Value::Object(map.clone()).to_string(),
        },
    }
}

fn csv_error(err: csv::Error) -> Error {
    match err.into_kind() {
        csv::ErrorKind::Io(io) => Error::Write(io),
        other => Error::Write(std::io::Error::other(format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_missing_states_and_types() {
        assert_eq!(encode(None), "-97");
        assert_eq!(encode(Some(&json!(null))), "-97");
        assert_eq!(encode(Some(&json!({"missing": "dont_know"}))), "-98");
        assert_eq!(encode(Some(&json!({"missing": "refused"}))), "-99");
        assert_eq!(encode(Some(&json!(["a", "c"]))), "a c");
        assert_eq!(encode(Some(&json!(12.5))), "12.5");
        assert_eq!(
            encode(Some(&json!({"lat": 21.0, "lon": 105.8}))),
            "21.0 105.8"
        );
    }
}
