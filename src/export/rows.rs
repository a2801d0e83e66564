//! Writing level CSVs: one walk over the interviews feeds every requested level.
//!
//! Each interview's latest revision is decoded exactly once, in place: while the stored
//! record is read, each answer of a wanted column is remembered as a byte range (a slot) in
//! a per-level table, roster arrays add rows to their level's table, and the calculations
//! fill the same tables. Then every requested level writes its rows from the slots. The
//! tables keep their allocations from one interview to the next, so after the first few
//! interviews the walk allocates nothing per row except for values that need decoding
//! (strings with escapes, arrays, objects).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use crate::export::scan::{Malformed, Plan, Table, encode_slot, read_interview};
use crate::export::{DONT_KNOW, Error, Filter, Layout, REFUSED, SKIPPED};
use crate::store::{ExportView, Record, RecordBatch, rfc3339};

/// The output buffer: large writes keep the per-write cost (a syscall, a socket frame)
/// negligible next to the rows.
pub(crate) const OUT_BUFFER: usize = 1 << 16;

/// Writes the CSV of one level (`None`: the main level) for every interview of the
/// layout's questionnaire that `filter` keeps. Returns the number of data rows written.
///
/// Rows go to `out` as they are produced (through a fixed-size buffer), never collected:
/// memory does not depend on the number of interviews.
pub fn write_level<W: Write + Send>(
    view: &ExportView,
    layout: &Layout,
    level: Option<&str>,
    filter: &Filter,
    out: W,
) -> Result<u64, Error> {
    let wanted = layout.level(level)?;
    let index = layout
        .levels
        .iter()
        .position(|l| std::ptr::eq(l, wanted))
        .unwrap_or_default();
    let rows = write_levels(view, layout, vec![(index, out)], filter)?;
    Ok(rows.first().copied().unwrap_or_default())
}

/// Writes the CSVs of several levels (indexes into `layout.levels`, each with its output)
/// in one walk over the interviews. Returns the number of data rows written per output.
///
/// Three stages overlap: this thread reads batches of interviews from the export log;
/// workers (one per core) turn each batch into CSV bytes per output; a sink thread writes
/// the chunks to the outputs in batch order, so the bytes do not depend on which worker
/// was faster. Bounded channels cap the memory in flight at a few batches per worker.
pub fn write_levels<W: Write + Send>(
    view: &ExportView,
    layout: &Layout,
    outputs: Vec<(usize, W)>,
    filter: &Filter,
) -> Result<Vec<u64>, Error> {
    let wanted: Vec<usize> = outputs.iter().map(|(i, _)| *i).collect();
    let plan = Plan::new(layout, &wanted)?;
    let mut sinks = Vec::with_capacity(outputs.len());
    for (index, out) in outputs {
        let mut out = std::io::BufWriter::with_capacity(OUT_BUFFER, out);
        let mut header_bytes = csv::Writer::from_writer(Vec::new());
        header_bytes
            .write_record(header(&layout.levels[index]))
            .map_err(csv_error)?;
        out.write_all(&header_bytes.into_inner().map_err(|e| e.into_error())?)?;
        sinks.push((out, 0u64));
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    std::thread::scope(|scope| -> Result<Vec<u64>, Error> {
        let (work, work_queue) = std::sync::mpsc::sync_channel::<(u64, RecordBatch)>(2 * workers);
        // Shared by the workers and dropped with the last of them, so that the reading
        // thread's next send fails (instead of blocking) once nobody can take it.
        let work_queue = Arc::new(Mutex::new(work_queue));
        let (done, finished) =
            std::sync::mpsc::sync_channel::<(u64, Result<Chunk, Error>)>(2 * workers);
        for _ in 0..workers {
            let work_queue = Arc::clone(&work_queue);
            let done = done.clone();
            let (plan, wanted) = (&plan, &wanted);
            scope.spawn(move || {
                let mut worker = Worker::new(plan, wanted);
                loop {
                    let next = work_queue
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok((seq, batch)) = next else { break };
                    let chunk = worker.batch(&batch);
                    let failed = chunk.is_err();
                    if done.send((seq, chunk)).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop((done, work_queue));
        let sink = scope.spawn(move || -> Result<Vec<u64>, Error> {
            let mut next = 0u64;
            let mut early: BTreeMap<u64, Chunk> = BTreeMap::new();
            for (seq, chunk) in finished {
                early.insert(seq, chunk?);
                while let Some(chunk) = early.remove(&next) {
                    for ((out, rows), (bytes, n)) in sinks.iter_mut().zip(chunk.outputs) {
                        // Buffer-sized writes: an HTTP body gets frames of a bounded size.
                        for piece in bytes.chunks(OUT_BUFFER) {
                            out.write_all(piece)?;
                        }
                        *rows += n;
                    }
                    next += 1;
                }
            }
            let mut counts = Vec::with_capacity(sinks.len());
            for (mut out, rows) in sinks {
                out.flush()?;
                counts.push(rows);
            }
            Ok(counts)
        });
        let mut seq = 0u64;
        let walked = view.for_each_batch(
            &layout.questionnaire,
            |status, received_at_ms| {
                filter.keeps_status(status) && filter.keeps_time(received_at_ms)
            },
            |batch| -> Result<(), Error> {
                work.send((seq, batch)).map_err(|_| Error::Cancelled)?;
                seq += 1;
                Ok(())
            },
        );
        drop(work);
        let counts = sink.join().unwrap_or_else(|_| {
            Err(Error::Corrupt(
                "the export's writing thread panicked".into(),
            ))
        });
        // The sink's (or a worker's) error explains a cancelled walk.
        let counts = counts?;
        walked?;
        Ok(counts)
    })
}

/// One batch's CSV bytes and row count per output.
struct Chunk {
    outputs: Vec<(Vec<u8>, u64)>,
}

/// A `Write` into a buffer the worker takes back after each batch (`csv::Writer` lends
/// no mutable access to its writer).
#[derive(Clone, Default)]
struct SharedBuffer(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What one worker thread reuses from interview to interview: the slot tables, scratch
/// buffers and a CSV writer per output.
struct Worker<'p, 'l> {
    plan: &'p Plan<'l>,
    tables: Vec<Table>,
    scratch: Scratch,
    writers: Vec<(usize, csv::Writer<SharedBuffer>, SharedBuffer, u64)>,
}

impl<'p, 'l> Worker<'p, 'l> {
    fn new(plan: &'p Plan<'l>, wanted: &[usize]) -> Self {
        Worker {
            plan,
            tables: plan
                .levels
                .iter()
                .map(|l| Table::new(l.level.columns.len()))
                .collect(),
            scratch: Scratch::default(),
            writers: wanted
                .iter()
                .map(|&index| {
                    let buffer = SharedBuffer::default();
                    let writer = csv::WriterBuilder::new()
                        .buffer_capacity(OUT_BUFFER)
                        .from_writer(buffer.clone());
                    (index, writer, buffer, 0)
                })
                .collect(),
        }
    }

    fn batch(&mut self, batch: &RecordBatch) -> Result<Chunk, Error> {
        for record in batch.records() {
            self.interview(&record)?;
        }
        let mut outputs = Vec::with_capacity(self.writers.len());
        for (_, writer, buffer, rows) in &mut self.writers {
            writer.flush()?;
            outputs.push((
                std::mem::take(&mut *buffer.0.borrow_mut()),
                std::mem::take(rows),
            ));
        }
        Ok(Chunk { outputs })
    }

    fn interview(&mut self, record: &Record<'_>) -> Result<(), Error> {
        let Worker {
            plan,
            tables,
            scratch,
            writers,
        } = self;
        let read = read_interview(
            plan,
            tables,
            record.bytes,
            record.content.start,
            record.calculations.start,
            &mut scratch.name,
            record.instance_id,
        );
        if let Err(Malformed(what, at)) = read {
            return Err(Error::Corrupt(format!(
                "the latest revision of interview {}: {what} at byte {at}",
                record.instance_id
            )));
        }
        for (index, writer, _, rows) in writers.iter_mut() {
            let table = &tables[*index];
            for row in 0..table.rows() {
                if *index == 0 {
                    write_main_fields(writer, record, scratch)?;
                } else {
                    let parent = &tables[plan.levels[*index].parent.unwrap_or_default()];
                    let fields = [
                        table.key(row),
                        parent.key(table.parent[row] as usize),
                        record.instance_id.as_bytes(),
                    ];
                    for field in fields {
                        writer.write_field(field).map_err(csv_error)?;
                    }
                }
                for (answer, calc) in table.answers(row).iter().zip(table.calcs(row)) {
                    let slot = if answer.is_empty() { calc } else { answer };
                    let value = encode_slot(record.bytes, slot, &mut scratch.value);
                    writer.write_field(value).map_err(csv_error)?;
                }
                writer.write_record(None::<&[u8]>).map_err(csv_error)?;
                *rows += 1;
            }
        }
        Ok(())
    }
}

fn header(level: &crate::export::Level) -> Vec<&str> {
    let mut header: Vec<&str> = vec!["KEY"];
    if level.path.is_empty() {
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
    header
}

/// Buffers reused from row to row.
#[derive(Default)]
struct Scratch {
    number: Vec<u8>,
    value: Vec<u8>,
    name: String,
}

fn write_main_fields<W: Write>(
    writer: &mut csv::Writer<W>,
    record: &Record<'_>,
    scratch: &mut Scratch,
) -> Result<(), Error> {
    scratch.number.clear();
    write!(scratch.number, "{}", record.revision)?;
    let received = rfc3339(record.received_at_ms);
    for field in [
        record.instance_id.as_bytes(),
        record.instance_id.as_bytes(),
        scratch.number.as_slice(),
        record.version.as_bytes(),
        record.status.as_str().as_bytes(),
        record.enumerator.as_bytes(),
        received.as_bytes(),
    ] {
        writer.write_field(field).map_err(csv_error)?;
    }
    Ok(())
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

pub(crate) fn csv_error(err: csv::Error) -> Error {
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

/// The store every export test here starts from: an admin, an enumerator, questionnaire
/// `q` version 1 published from `definition`, and one open assignment.
#[cfg(test)]
mod fixture {
    use crate::store::canonical::content_hash;
    use crate::store::{NewAssignment, PublishedSummary, Role, Store, Submission, Target, User};
    use serde_json::{Value, json};

    pub struct Fixture {
        pub store: Store,
        pub published: PublishedSummary,
        pub assignment: String,
        pub enumerator: User,
    }

    pub fn published_store(dir: &std::path::Path, definition: &Value) -> Fixture {
        let store = Store::open(dir).unwrap();
        for (name, role) in [("boss", Role::Admin), ("e", Role::Enumerator)] {
            store
                .add_user(name, role, None, None, "t")
                .unwrap()
                .wait_blocking()
                .unwrap();
        }
        let mut definition = definition.clone();
        definition["id"] = json!("q");
        definition["version"] = json!("1");
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
        Fixture {
            store,
            published,
            assignment,
            enumerator,
        }
    }

    impl Fixture {
        /// Interview `i` with these answers, paradata and calculations.
        pub fn submission(
            &self,
            i: usize,
            answers: &Value,
            paradata: Value,
            calculations: Value,
        ) -> Submission {
            let content = json!({"questionnaire": "q", "version": "1",
                "assignment_id": self.assignment, "answers": answers, "paradata": paradata});
            Submission {
                instance_id: format!("00000000-0000-4000-8000-{i:012}"),
                assignment_id: self.assignment.clone(),
                questionnaire: "q".into(),
                version: "1".into(),
                definition_hash: self.published.hash.clone(),
                content_hash: content_hash(&content),
                content,
                warnings: json!([]),
                calculations,
            }
        }
    }
}

#[cfg(test)]
mod streaming_tests {
    use super::fixture::published_store;
    use super::*;
    use crate::export::layout;
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
        let definition = json!({"id": "q", "version": "1", "items": [
            {"kind": "question", "name": "note", "type": "text"}]});
        let fx = published_store(dir.path(), &definition);
        let store = &fx.store;
        let n = 120;
        let long = "x".repeat(2000);
        let mut tickets = Vec::new();
        for i in 0..n {
            let answers = json!({"note": format!("{i} {long}")});
            let submission = fx.submission(i, &answers, json!({}), json!({}));
            tickets.push(store.submit(submission, &fx.enumerator).unwrap());
        }
        for t in tickets {
            t.wait_blocking().unwrap();
        }
        let layout = layout("q", &[("1".into(), definition)]).unwrap();
        let mut out = Recorder(Vec::new(), 0);
        let rows = write_level(
            &store.export_view(),
            &layout,
            None,
            &Filter::default(),
            &mut out,
        )
        .unwrap();
        assert_eq!(rows, n as u64);
        let total = out.1;
        assert!(total > 2000 * n, "every row was written ({total} bytes)");
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

/// The scanner against a reference built from `serde_json::Value` trees: escapes in keys
/// and values, renamed columns, calculations at every level, nested rosters, values of
/// every JSON type, rows that are not objects, roster values that are not arrays.
#[cfg(test)]
mod oracle_tests {
    use super::fixture::published_store;
    use super::*;
    use crate::export::layout;
    use serde_json::json;

    fn column_value<'v>(column: &crate::export::Column, row: &'v Value) -> Option<&'v Value> {
        column
            .names
            .iter()
            .find_map(|n| row.get(n).filter(|v| !v.is_null()))
    }

    /// The rows of the level at `path` below one answers/calculations pair, as the
    /// documentation states them.
    fn reference_rows(
        path: &[String],
        key: &str,
        answers: &Value,
        calcs: &Value,
        out: &mut Vec<(String, String, Value, Value)>,
        parent: &str,
    ) {
        let Some((roster, rest)) = path.split_first() else {
            out.push((
                key.to_owned(),
                parent.to_owned(),
                answers.clone(),
                calcs.clone(),
            ));
            return;
        };
        let Some(rows) = answers.get(roster).and_then(Value::as_array) else {
            return;
        };
        for (i, row) in rows.iter().enumerate() {
            let child = format!("{key}/{roster}[{}]", i + 1);
            let calc = calcs
                .get(roster)
                .and_then(|c| c.get(i))
                .cloned()
                .unwrap_or(Value::Null);
            reference_rows(rest, &child, row, &calc, out, key);
        }
    }

    #[test]
    fn scanner_matches_a_value_tree_reference() {
        let definition = json!({"items": [
            {"kind": "question", "name": "q\"1", "type": "text"},
            {"kind": "question", "name": "n", "type": "decimal"},
            {"kind": "question", "name": "renamed", "aliases": ["old"], "type": "text"},
            {"kind": "calculate", "name": "c", "calculation": "1"},
            {"kind": "question", "name": "multi", "type": "select_multiple"},
            {"kind": "question", "name": "where", "type": "geopoint"},
            {"kind": "roster", "name": "r", "items": [
                {"kind": "question", "name": "x", "type": "text"},
                {"kind": "calculate", "name": "y", "calculation": "1"},
                {"kind": "roster", "name": "s", "items": [{"kind": "question", "name": "z", "type": "integer"}]}
            ]}
        ]});
        let layout = layout("q", &[("1".into(), definition.clone())]).unwrap();
        let interviews = [
            (
                json!({"q\"1": "say \"hi\"\n\\ é ✓", "n": 1.5e3, "renamed": "new", "old": "stale", "multi": ["a", "b"],
                       "where": {"lat": 21.0, "lon": 105.8}, "flag": true,
                       "r": [{"x": "one, two", "s": [{"z": 1}, {"z": {"missing": "refused"}}]}, null, {"s": "none"}]}),
                json!({"c": 3, "r": [{"y": "first"}, {"y": "second"}, {"y": null, "x": "from calc"}]}),
            ),
            (
                json!({"old": "only old", "n": null, "r": {"not": "an array"}, "extra": [1, {"deep": "[{"}]}),
                json!("not an object"),
            ),
            (json!({}), json!({})),
        ];
        let dir = tempfile::tempdir().unwrap();
        let fx = published_store(dir.path(), &definition);
        let store = &fx.store;
        for (i, (answers, calculations)) in interviews.iter().enumerate() {
            let submission =
                fx.submission(i, answers, json!({"note \"x\"": 1}), calculations.clone());
            store
                .submit(submission, &fx.enumerator)
                .unwrap()
                .wait_blocking()
                .unwrap();
        }

        // write_levels consumes its outputs; they write into buffers the test keeps.
        let buffers: Vec<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
            layout.levels.iter().map(|_| Default::default()).collect();
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let counts = write_levels(
            &store.export_view(),
            &layout,
            buffers
                .iter()
                .enumerate()
                .map(|(i, b)| (i, Shared(b.clone())))
                .collect(),
            &Filter::default(),
        )
        .unwrap();

        for (index, level) in layout.levels.iter().enumerate() {
            let mut expected = csv::Writer::from_writer(Vec::new());
            expected.write_record(header(level)).unwrap();
            let mut rows_written = 0;
            for entry in store.latest_revisions("q") {
                let (interview, revision) = entry.unwrap();
                let content: Value = serde_json::from_str(revision.content.get()).unwrap();
                let calcs: Value = serde_json::from_str(revision.calculations.get()).unwrap();
                let calcs = if calcs.is_object() {
                    calcs
                } else {
                    Value::Null
                };
                let mut rows = Vec::new();
                reference_rows(
                    &level.path,
                    &interview.instance_id,
                    &content["answers"],
                    &calcs,
                    &mut rows,
                    "",
                );
                for (key, parent, row, calc) in rows {
                    let mut record = vec![key.clone()];
                    if level.path.is_empty() {
                        record.extend([
                            key,
                            revision.revision.to_string(),
                            revision.version.clone(),
                            interview.status.as_str().to_owned(),
                            interview.enumerator.clone(),
                            rfc3339(revision.received_at_ms),
                        ]);
                    } else {
                        record.extend([parent, interview.instance_id.clone()]);
                    }
                    for column in &level.columns {
                        let value =
                            column_value(column, &row).or_else(|| column_value(column, &calc));
                        record.push(encode(value));
                    }
                    expected.write_record(&record).unwrap();
                    rows_written += 1;
                }
            }
            let expected = String::from_utf8(expected.into_inner().unwrap()).unwrap();
            let got = String::from_utf8(buffers[index].lock().unwrap().clone()).unwrap();
            assert_eq!(got, expected, "level {}", level.name);
            assert_eq!(counts[index], rows_written);
        }
        // The cases the reference covers are really there.
        assert_eq!(counts, [3, 3, 2]);
        let main = String::from_utf8(buffers[0].lock().unwrap().clone()).unwrap();
        assert!(main.contains("\"say \"\"hi\"\"\n\\ é ✓\""), "{main}");
        assert!(
            main.contains(",new,") && main.contains(",only old,"),
            "{main}"
        );
        let r = String::from_utf8(buffers[1].lock().unwrap().clone()).unwrap();
        assert!(
            r.contains("/r[2],") && r.contains("/r[3],") && r.contains("from calc"),
            "{r}"
        );
        assert!(
            String::from_utf8(buffers[2].lock().unwrap().clone())
                .unwrap()
                .contains(",-99")
        );
    }
}
