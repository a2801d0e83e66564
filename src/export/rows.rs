//! Writing one level's CSV, one interview at a time (constant memory).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

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

/// A row of answers (or calculations) borrowed from the stored JSON text: values stay
/// unparsed until their column is written, which keeps the export allocation-light.
type Row<'a> = HashMap<&'a str, &'a RawValue>;

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(borrow)]
    answers: Row<'a>,
}

/// The output buffer: large writes keep the per-write cost (a syscall, a socket frame)
/// negligible next to the rows.
const OUT_BUFFER: usize = 1 << 16;

/// Writes the CSV of `level` for every interview of `questionnaire` that `filter` keeps.
/// Returns the number of data rows written.
///
/// Rows go to `out` as they are produced (through a fixed-size buffer), never collected:
/// memory does not depend on the number of interviews.
pub fn write_level(
    store: &Store,
    questionnaire: &str,
    level: &Level,
    filter: &Filter,
    out: impl Write,
) -> Result<u64, Error> {
    let mut writer = csv::WriterBuilder::new()
        .buffer_capacity(OUT_BUFFER)
        .from_writer(out);
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
    let slots = SlotIndex::new(level);
    let mut answers: Vec<Option<Slot<'_>>> = Vec::new();
    let mut calculations: Vec<Option<Slot<'_>>> = Vec::new();
    let mut number = itoa_buffer();
    let mut rows = 0u64;
    for entry in store.latest_revisions_raw(questionnaire) {
        let (interview, raw) = entry?;
        if filter.status.is_some_and(|s| s != interview.status) {
            continue;
        }
        let revision = raw.view()?;
        if filter.from_ms.is_some_and(|t| revision.received_at_ms < t)
            || filter.to_ms.is_some_and(|t| revision.received_at_ms >= t)
        {
            continue;
        }
        let corrupt = |e: serde_json::Error| {
            Error::Corrupt(format!("interview {}: {e}", interview.instance_id))
        };
        if is_main {
            // The slot vectors borrow from this revision only; their capacity is reused.
            let mut answer_slots = recycle(std::mem::take(&mut answers));
            let mut calc_slots = recycle(std::mem::take(&mut calculations));
            answer_slots.resize(level.columns.len(), None);
            calc_slots.resize(level.columns.len(), None);
            let mut de = serde_json::Deserializer::from_str(revision.content.get());
            serde::de::DeserializeSeed::deserialize(
                ContentSeed {
                    index: &slots,
                    slots: &mut answer_slots,
                },
                &mut de,
            )
            .map_err(corrupt)?;
            // Calculations that do not parse are treated as absent, as before.
            let mut de = serde_json::Deserializer::from_str(revision.calculations.get());
            if serde::de::DeserializeSeed::deserialize(
                MapSeed {
                    index: &slots,
                    slots: &mut calc_slots,
                },
                &mut de,
            )
            .is_err()
            {
                calc_slots.iter_mut().for_each(|s| *s = None);
            }
            let received = rfc3339(revision.received_at_ms);
            number.clear();
            write!(number, "{}", revision.revision)?;
            for field in [
                interview.instance_id.as_bytes(),
                interview.instance_id.as_bytes(),
                number.as_slice(),
                revision.version.as_bytes(),
                interview.status.as_str().as_bytes(),
                interview.enumerator.as_bytes(),
                received.as_bytes(),
            ] {
                writer.write_field(field).map_err(csv_error)?;
            }
            for (answer, calc) in answer_slots.iter().zip(&calc_slots) {
                let raw = answer.or(*calc).map(|s| s.value);
                writer
                    .write_field(encode_raw(raw).as_bytes())
                    .map_err(csv_error)?;
            }
            writer.write_record(None::<&[u8]>).map_err(csv_error)?;
            rows += 1;
            answers = recycle(answer_slots);
            calculations = recycle(calc_slots);
        } else {
            let content: Content<'_> =
                serde_json::from_str(revision.content.get()).map_err(corrupt)?;
            let calculations: Row<'_> =
                serde_json::from_str(revision.calculations.get()).unwrap_or_default();
            let mut sink =
                |key: &str, parent: &str, row: &Row<'_>, calc: &Row<'_>| -> Result<(), Error> {
                    for field in [key, parent, interview.instance_id.as_str()] {
                        writer.write_field(field).map_err(csv_error)?;
                    }
                    write_values(&mut writer, level, row, calc)?;
                    rows += 1;
                    Ok(())
                };
            descend(
                &level.path,
                &interview.instance_id,
                &content.answers,
                &calculations,
                &mut sink,
            )?;
        }
    }
    writer.flush()?;
    Ok(rows)
}

fn itoa_buffer() -> Vec<u8> {
    Vec::with_capacity(12)
}

/// Empties a slot vector and hands its allocation over to another borrow lifetime, so the
/// next interview fills it without allocating (an empty vector holds no borrow; the
/// collect reuses the allocation in place).
fn recycle<'b>(mut slots: Vec<Option<Slot<'_>>>) -> Vec<Option<Slot<'b>>> {
    slots.clear();
    slots.into_iter().map(|_| None).collect()
}

/// One answer found for a column: its unparsed value and the rank of the name it was found
/// under (a column's current name ranks before its former names, as in [`present`]).
#[derive(Clone, Copy)]
struct Slot<'a> {
    rank: usize,
    value: &'a RawValue,
}

/// Every name of every column of a level → (column, rank of the name), built once.
struct SlotIndex<'l> {
    names: HashMap<&'l str, (usize, usize)>,
}

impl<'l> SlotIndex<'l> {
    fn new(level: &'l Level) -> SlotIndex<'l> {
        let mut names = HashMap::new();
        for (column, c) in level.columns.iter().enumerate() {
            for (rank, name) in c.names.iter().enumerate() {
                // A name shared by two columns keeps the first, as the column-by-column
                // lookup did.
                names.entry(name.as_str()).or_insert((column, rank));
            }
        }
        SlotIndex { names }
    }

    fn offer<'a>(&self, slots: &mut [Option<Slot<'a>>], name: &str, value: &'a RawValue) {
        if value.get() == "null" {
            return;
        }
        if let Some(&(column, rank)) = self.names.get(name)
            && let Some(slot) = slots.get_mut(column)
            && slot.is_none_or(|s| rank < s.rank)
        {
            *slot = Some(Slot { rank, value });
        }
    }
}

/// Reads `{"answers": {...}, ...}` straight into the column slots.
struct ContentSeed<'i, 's, 'a> {
    index: &'i SlotIndex<'i>,
    slots: &'s mut Vec<Option<Slot<'a>>>,
}

impl<'de, 'i, 's> serde::de::DeserializeSeed<'de> for ContentSeed<'i, 's, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, 'i, 's> serde::de::Visitor<'de> for ContentSeed<'i, 's, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with answers")
    }
    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<&'de str>()? {
            if key == "answers" && !seen {
                seen = true;
                map.next_value_seed(MapSeed {
                    index: self.index,
                    slots: &mut *self.slots,
                })?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        if !seen {
            return Err(serde::de::Error::missing_field("answers"));
        }
        Ok(())
    }
}

/// Reads one JSON object of `name: value` into the column slots, values unparsed.
struct MapSeed<'i, 's, 'a> {
    index: &'i SlotIndex<'i>,
    slots: &'s mut Vec<Option<Slot<'a>>>,
}

impl<'de, 'i, 's> serde::de::DeserializeSeed<'de> for MapSeed<'i, 's, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de, 'i, 's> serde::de::Visitor<'de> for MapSeed<'i, 's, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of answers")
    }
    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while let Some(key) = map.next_key::<&'de str>()? {
            let value = map.next_value::<&'de RawValue>()?;
            self.index.offer(self.slots, key, value);
        }
        Ok(())
    }
}

/// Receives `(key, parent_key, row answers, row calculations)`.
type RowSink<'s> = dyn for<'a> FnMut(&str, &str, &Row<'a>, &Row<'a>) -> Result<(), Error> + 's;

/// Walks down the roster path, calling `sink(key, parent_key, row, calculations)` for each
/// row of the last roster. Keys follow the `parent/roster[n]` convention (1-based).
fn descend(
    path: &[String],
    parent_key: &str,
    answers: &Row<'_>,
    calculations: &Row<'_>,
    sink: &mut RowSink<'_>,
) -> Result<(), Error> {
    let Some((roster, rest)) = path.split_first() else {
        return Ok(());
    };
    let Some(raw) = answers.get(roster.as_str()) else {
        return Ok(());
    };
    let rows: Vec<Row<'_>> = serde_json::from_str(raw.get()).unwrap_or_default();
    let calc_rows: Vec<Row<'_>> = calculations
        .get(roster.as_str())
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .unwrap_or_default();
    let empty = Row::new();
    for (i, row) in rows.iter().enumerate() {
        let key = format!("{parent_key}/{roster}[{}]", i + 1);
        let calc = calc_rows.get(i).unwrap_or(&empty);
        if rest.is_empty() {
            sink(&key, parent_key, row, calc)?;
        } else {
            descend(rest, &key, row, calc, sink)?;
        }
    }
    Ok(())
}

fn present<'a>(names: &[String], map: &Row<'a>) -> Option<&'a RawValue> {
    names
        .iter()
        .find_map(|n| map.get(n.as_str()).copied().filter(|v| v.get() != "null"))
}

fn write_values<W: Write>(
    writer: &mut csv::Writer<W>,
    level: &Level,
    row: &Row<'_>,
    calculations: &Row<'_>,
) -> Result<(), Error> {
    for column in &level.columns {
        let raw = present(&column.names, row).or_else(|| present(&column.names, calculations));
        writer
            .write_field(encode_raw(raw).as_bytes())
            .map_err(csv_error)?;
    }
    writer.write_record(None::<&[u8]>).map_err(csv_error)
}

/// Encodes one unparsed answer, parsing only what needs it (strings with escapes, arrays,
/// objects).
fn encode_raw(raw: Option<&RawValue>) -> Cow<'_, str> {
    let Some(raw) = raw else {
        return Cow::Borrowed(SKIPPED);
    };
    let text = raw.get();
    match text.as_bytes().first() {
        None | Some(b'n') => Cow::Borrowed(SKIPPED),
        Some(b't') => Cow::Borrowed("1"),
        Some(b'f') => Cow::Borrowed("0"),
        Some(b'"') => match serde_json::from_str::<&str>(text) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(serde_json::from_str::<String>(text).unwrap_or_default()),
        },
        Some(b'[' | b'{') => Cow::Owned(encode(serde_json::from_str::<Value>(text).ok().as_ref())),
        Some(_) => Cow::Borrowed(text),
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

#[cfg(test)]
mod streaming_tests {
    use super::*;
    use crate::export::layout;
    use crate::store::canonical::content_hash;
    use crate::store::{NewAssignment, Role, Submission, Target};
    use serde_json::json;

    /// Records, at each write the export makes, how many bytes it had written so far.
    struct Recorder(Vec<usize>, usize);

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.1 += buf.len();
            self.0.push(self.1);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A large export reaches its output in buffer-sized pieces while the interviews are
    /// still being walked, instead of being built up in memory and written at the end.
    #[test]
    fn rows_are_written_while_walking_not_collected() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let definition = json!({"id": "q", "version": "1", "items": [
            {"kind": "question", "name": "note", "type": "text"}]});
        store
            .add_user("boss", Role::Admin, None, None, "t")
            .unwrap()
            .wait_blocking()
            .unwrap();
        store
            .add_user("e", Role::Enumerator, None, None, "t")
            .unwrap()
            .wait_blocking()
            .unwrap();
        store
            .put_draft("q", "1", &definition, "boss")
            .unwrap()
            .wait_blocking()
            .unwrap();
        let published = store.publish("q", "boss").unwrap().wait_blocking().unwrap();
        let assignment = store
            .create_assignments(
                vec![NewAssignment {
                    questionnaire: "q".into(),
                    allowed_versions: None,
                    enumerator: "e".into(),
                    target: Target {
                        unit_id: "U".into(),
                        tier: None,
                        province: None,
                    },
                    preload: None,
                    preload_protected: false,
                    quantity: Some(u32::MAX),
                }],
                "boss",
            )
            .unwrap()
            .wait_blocking()
            .unwrap()
            .remove(0)
            .id;
        let enumerator = store.user("e").unwrap().unwrap();
        let n = 120;
        let long = "x".repeat(2000);
        let mut tickets = Vec::new();
        for i in 0..n {
            let content = json!({"questionnaire": "q", "version": "1", "assignment_id": assignment,
                "answers": {"note": format!("{i} {long}")}});
            let submission = Submission {
                instance_id: format!("00000000-0000-4000-8000-{i:012}"),
                assignment_id: assignment.clone(),
                questionnaire: "q".into(),
                version: "1".into(),
                definition_hash: published.hash.clone(),
                content_hash: content_hash(&content),
                content,
                warnings: json!([]),
                calculations: json!({}),
            };
            tickets.push(store.submit(submission, &enumerator).unwrap());
        }
        for t in tickets {
            t.wait_blocking().unwrap();
        }
        let layout = layout("q", &[("1".into(), definition)]).unwrap();
        let mut out = Recorder(Vec::new(), 0);
        let rows = write_level(
            &store,
            "q",
            layout.level(None).unwrap(),
            &Filter::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(rows, n);
        let total = out.1;
        assert!(
            total > 2000 * n as usize,
            "every row was written ({total} bytes)"
        );
        // At least one write happened with under half the export produced, and no single
        // write carried more than a buffer and a row.
        assert!(
            out.0.first().is_some_and(|first| *first < total / 2),
            "{:?}",
            out.0
        );
        let mut before = 0;
        for at in &out.0 {
            assert!(
                at - before <= OUT_BUFFER + 4096,
                "a write of {} bytes",
                at - before
            );
            before = *at;
        }
    }
}
