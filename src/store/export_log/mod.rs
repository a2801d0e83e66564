//! The export log: what the export reads, kept beside sled in files of our own.
//!
//! The export reads every interview of a questionnaire with its latest revision. Walking
//! sled for that cost more than the whole CSV writing, and opening a sled database of a
//! million interviews alone took 240 MB (its page table). So every transaction that writes
//! an interview head or a published questionnaire version also appends, under the same
//! write lock, to two files in `DATA/export/`:
//!
//! - `bodies.dat`: per new revision, one record with exactly what the export writes (ids,
//!   version, the submitted content and the calculations);
//! - `index.dat`: per head write, one fixed-size entry (`format.rs`): status, revision,
//!   arrival, questionnaire, where the body is, and which earlier entry of the same
//!   interview it supersedes.
//!
//! An export is two sequential passes over the index (mark superseded entries; then read
//! the current ones' bodies, nearly all in file order): no sled, no random reads, memory of
//! one bit per entry. Rows come in the order of each interview's latest change.
//!
//! The log is derived data: it is a function of the journal's writes (`project`), so it
//! needs no fsync of its own per request. Its durable point is recorded in `state.json`
//! (written atomically) by the committer every [`CHECKPOINT_BYTES`] or
//! [`CHECKPOINT_SECS`] after a group commit, and at open and close. On open the files are
//! cut back to that point and the journal after it is projected again, which yields
//! byte-for-byte the log the running server had written. Without a usable state (a
//! database from before the export log, a lost `export/` directory) the log is rebuilt from
//! the whole journal, or, when the journal was compacted, from sled.

mod format;
mod read;

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

pub use crate::store::export_log::read::{ExportView, Record, RecordBatch, open_export_view};

use crate::store::export_log::format::{
    ENTRY_LEN, Entry, InterviewBody, Kind, NO_ENTRY, corrupt, encode_published, key16,
    questionnaire_key,
};
use crate::store::journal::{self, Write};
use crate::store::scan::InterviewHead;
use crate::store::submissions::revision_key;
use crate::store::tree::TreeId;
use crate::store::{Applied, Error, codec};

/// The export log's directory inside a data directory.
pub(crate) const EXPORT_DIR: &str = "export";
const INDEX_FILE: &str = "index.dat";
const BODIES_FILE: &str = "bodies.dat";
const STATE_FILE: &str = "state.json";
const STATE_FORMAT: u32 = 1;
/// The committer records a durable point after this many new body bytes…
const CHECKPOINT_BYTES: u64 = 64 << 20;
/// …or this long after the previous one, whichever comes first.
const CHECKPOINT_SECS: u64 = 30;

/// A point of the export log: its files' lengths after journal transaction `tx`, whose
/// line ends at byte `journal_end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Point {
    pub entries: u64,
    pub bodies: u64,
    pub tx: u64,
    pub journal_end: u64,
}

/// `state.json`: a point whose bytes are on disk, and whether the store was closed cleanly
/// there (then the files end exactly at the point and nothing needs redoing).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct State {
    format: u32,
    #[serde(flatten)]
    point: Point,
    clean: bool,
}

/// The integer-key hasher for the interview map: keys are already SHA-256 prefixes.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type KeyMap = HashMap<u128, u32, std::hash::BuildHasherDefault<KeyHasher>>;

/// The writing side, owned by the store's write state (so under the write lock).
pub(crate) struct ExportLog {
    dir: PathBuf,
    index: File,
    bodies: File,
    point: Point,
    /// Per interview (key of its instance id): its current entry.
    current: KeyMap,
    staged_index: Vec<u8>,
    staged_bodies: Vec<u8>,
    /// Interviews given a new current entry by the transaction being staged.
    staged: KeyMap,
    /// How many entries readers may see (every byte they point to is written).
    visible: Arc<AtomicU64>,
}

impl ExportLog {
    /// Opens the export log of `data_dir` and brings it up to the database's `applied`
    /// point (after the journal redo). `journal_floor` is where the readable journal
    /// starts (`None` unless compacted); `trees` serve the rebuild when the journal cannot.
    pub(crate) fn open(
        data_dir: &Path,
        journal_path: &Path,
        applied: Applied,
        journal_floor: Option<u64>,
        trees: &[sled::Tree],
    ) -> Result<ExportLog, Error> {
        let dir = data_dir.join(EXPORT_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let index_path = dir.join(INDEX_FILE);
        let bodies_path = dir.join(BODIES_FILE);
        let open = |path: &Path| {
            OpenOptions::new()
                .create(true)
                .read(true)
                .append(true)
                .open(path)
                .map_err(|e| Error::io("open export log", path, e))
        };
        let index = open(&index_path)?;
        let bodies = open(&bodies_path)?;
        let len = |file: &File, path: &Path| {
            file.metadata()
                .map(|m| m.len())
                .map_err(|e| Error::io("stat", path, e))
        };
        let (index_len, bodies_len) = (len(&index, &index_path)?, len(&bodies, &bodies_path)?);
        let state = read_state(&dir);
        let usable = state.filter(|s| {
            let p = s.point;
            s.format == STATE_FORMAT
                && p.tx <= applied.tx
                && p.journal_end <= applied.end
                && journal_floor.is_none_or(|floor| p.journal_end >= floor)
                && index_len >= p.entries * ENTRY_LEN as u64
                && bodies_len >= p.bodies
        });
        if state.is_some() && usable.is_none() {
            tracing::warn!(dir = %dir.display(), "the export log does not match the database; rebuilding it");
        }
        let start = usable.map(|s| s.point).unwrap_or_default();
        for (file, path, keep) in [
            (&index, &index_path, start.entries * ENTRY_LEN as u64),
            (&bodies, &bodies_path, start.bodies),
        ] {
            file.set_len(keep)
                .map_err(|e| Error::io("truncate export log", path, e))?;
        }
        let mut log = ExportLog {
            dir,
            index,
            bodies,
            point: start,
            current: KeyMap::default(),
            staged_index: Vec::new(),
            staged_bodies: Vec::new(),
            staged: KeyMap::default(),
            visible: Arc::new(AtomicU64::new(0)),
        };
        log.load_current()?;
        if usable.is_some() || journal_floor.is_none() {
            // The journal after the point (all of it for a new log) projects to exactly
            // the entries the log lacks.
            journal::for_each_line(journal_path, start.journal_end, |line, _, end| {
                let writes = journal::line_writes(&line)?;
                log.append(&writes, line.tx, end)
            })?;
        } else {
            log.rebuild_from_sled(trees, applied)?;
        }
        log.point.tx = log.point.tx.max(applied.tx);
        log.point.journal_end = log.point.journal_end.max(applied.end);
        log.sync()?;
        write_state(&log.dir, log.point, false)?;
        Ok(log)
    }

    /// Reads the entries up to the point and remembers each interview's current one.
    fn load_current(&mut self) -> Result<(), Error> {
        let entries = self.point.entries;
        // Sized once: growing by doubling would hold two tables at the peak.
        self.current.reserve(entries as usize);
        read::for_each_entry(
            &self.index,
            &self.dir.join(INDEX_FILE),
            entries,
            |n, entry| {
                if entry.kind == Kind::Interview {
                    self.current
                        .insert(u128::from_le_bytes(entry.key), n as u32);
                }
                Ok(())
            },
        )?;
        self.visible.store(entries, Ordering::Release);
        Ok(())
    }

    /// One interview per head, in key order, with its latest revision; then the published
    /// versions. Used only when the journal no longer holds the whole history.
    fn rebuild_from_sled(&mut self, trees: &[sled::Tree], applied: Applied) -> Result<(), Error> {
        let mut writes = Vec::new();
        for entry in trees[TreeId::Questionnaires.index()].iter() {
            let (key, value) = entry?;
            writes.push(Write {
                tree: TreeId::Questionnaires,
                key: String::from_utf8_lossy(&key).into_owned(),
                value: Some(value.to_vec()),
            });
        }
        self.append(&writes, applied.tx, applied.end)?;
        let revisions = &trees[TreeId::Revisions.index()];
        for entry in trees[TreeId::Submissions.index()].iter() {
            let (key, value) = entry?;
            let head: InterviewHead<'_> =
                codec::decode_borrowed(TreeId::Submissions, &key, &value)?;
            let revision_key = revision_key(&head.instance_id, head.revision);
            let revision = revisions.get(revision_key.as_bytes())?.ok_or_else(|| {
                corrupt(format!(
                    "interview {} has no revision {}",
                    head.instance_id, head.revision
                ))
            })?;
            let writes = [
                Write {
                    tree: TreeId::Revisions,
                    key: revision_key,
                    value: Some(revision.to_vec()),
                },
                Write {
                    tree: TreeId::Submissions,
                    key: String::from_utf8_lossy(&key).into_owned(),
                    value: Some(value.to_vec()),
                },
            ];
            self.append(&writes, applied.tx, applied.end)?;
        }
        Ok(())
    }

    /// Appends what transaction `tx` (whose journal line ends at `journal_end`) means for
    /// the export. Not durable until a checkpoint; the journal is what makes it so.
    pub(crate) fn append(
        &mut self,
        writes: &[Write],
        tx: u64,
        journal_end: u64,
    ) -> Result<(), Error> {
        self.staged_index.clear();
        self.staged_bodies.clear();
        self.staged.clear();
        let mut revisions: Vec<(&str, &[u8])> = Vec::new();
        for write in writes {
            let Some(value) = &write.value else {
                continue;
            };
            match write.tree {
                TreeId::Revisions => revisions.push((&write.key, value)),
                TreeId::Submissions => self.stage_head(&write.key, value, &revisions, tx)?,
                TreeId::Questionnaires => self.stage_published(&write.key, value, tx)?,
                _ => {}
            }
        }
        if !self.staged_index.is_empty() {
            let index_path = || self.dir.join(INDEX_FILE);
            let bodies_path = || self.dir.join(BODIES_FILE);
            // Bodies first: an entry never points past the bytes on disk.
            (&self.bodies)
                .write_all(&self.staged_bodies)
                .map_err(|e| Error::io("append to export log", bodies_path(), e))?;
            (&self.index)
                .write_all(&self.staged_index)
                .map_err(|e| Error::io("append to export log", index_path(), e))?;
            self.point.entries += (self.staged_index.len() / ENTRY_LEN) as u64;
            self.point.bodies += self.staged_bodies.len() as u64;
            self.current.extend(self.staged.drain());
            self.visible.store(self.point.entries, Ordering::Release);
        }
        self.point.tx = tx;
        self.point.journal_end = journal_end;
        Ok(())
    }

    fn next_entry(&self) -> Result<u32, Error> {
        let n = self.point.entries + (self.staged_index.len() / ENTRY_LEN) as u64;
        u32::try_from(n)
            .ok()
            .filter(|n| *n != NO_ENTRY)
            .ok_or_else(|| corrupt("the export log is full (4 billion entries)".into()))
    }

    fn stage_head(
        &mut self,
        key: &str,
        value: &[u8],
        revisions: &[(&str, &[u8])],
        tx: u64,
    ) -> Result<(), Error> {
        let head: InterviewHead<'_> =
            codec::decode_borrowed(TreeId::Submissions, key.as_bytes(), value)?;
        let id = u128::from_le_bytes(key16(&head.instance_id));
        let n = self.next_entry()?;
        let prev = self
            .staged
            .get(&id)
            .or_else(|| self.current.get(&id))
            .copied();
        let wanted = revision_key(&head.instance_id, head.revision);
        let (body, body_len, received_at_ms) =
            match revisions.iter().rev().find(|(k, _)| *k == wanted) {
                Some((_, stored)) => {
                    let revision: RevisionFields<'_> =
                        codec::decode_borrowed(TreeId::Revisions, wanted.as_bytes(), stored)?;
                    let start = self.staged_bodies.len();
                    InterviewBody {
                        instance_id: &head.instance_id,
                        enumerator: &head.enumerator,
                        questionnaire: &head.questionnaire,
                        version: &revision.version,
                        content: revision.content.get().as_bytes(),
                        calculations: revision.calculations.get().as_bytes(),
                    }
                    .encode(&mut self.staged_bodies)?;
                    let len = self.staged_bodies.len() - start;
                    (
                        self.point.bodies + start as u64,
                        u32::try_from(len).map_err(|_| {
                            Error::Invalid(format!("a revision of {len} bytes is too large"))
                        })?,
                        revision.received_at_ms,
                    )
                }
                // A status change: the body stays that of the previous entry.
                None => {
                    let prev = prev.ok_or_else(|| {
                        corrupt(format!(
                            "interview {} changed without a logged revision",
                            head.instance_id
                        ))
                    })?;
                    let before = self.entry(prev)?;
                    (before.body, before.body_len, before.received_at_ms)
                }
            };
        Entry {
            key: id.to_le_bytes(),
            body,
            body_len,
            prev: prev.unwrap_or(NO_ENTRY),
            questionnaire: questionnaire_key(&head.questionnaire),
            received_at_ms,
            tx,
            kind: Kind::Interview,
            status: head.status,
            revision: head.revision,
        }
        .encode(&mut self.staged_index);
        self.staged.insert(id, n);
        Ok(())
    }

    fn stage_published(&mut self, key: &str, value: &[u8], tx: u64) -> Result<(), Error> {
        let published: PublishedId<'_> =
            codec::decode_borrowed(TreeId::Questionnaires, key.as_bytes(), value)?;
        let start = self.staged_bodies.len();
        encode_published(key, value, &mut self.staged_bodies)?;
        let len = self.staged_bodies.len() - start;
        self.next_entry()?;
        Entry {
            key: key16(key),
            body: self.point.bodies + start as u64,
            body_len: u32::try_from(len).map_err(|_| {
                Error::Invalid(format!("a questionnaire of {len} bytes is too large"))
            })?,
            prev: NO_ENTRY,
            questionnaire: questionnaire_key(&published.id),
            received_at_ms: 0,
            tx,
            kind: Kind::Published,
            status: crate::store::InterviewStatus::ALL[0],
            revision: 0,
        }
        .encode(&mut self.staged_index);
        Ok(())
    }

    /// Entry `n`, staged or written.
    fn entry(&self, n: u32) -> Result<Entry, Error> {
        let n = u64::from(n);
        if n >= self.point.entries {
            let at = (n - self.point.entries) as usize * ENTRY_LEN;
            let bytes = self
                .staged_index
                .get(at..at + ENTRY_LEN)
                .ok_or_else(|| corrupt(format!("entry {n} does not exist")))?;
            return Entry::decode(n, bytes);
        }
        let mut bytes = [0u8; ENTRY_LEN];
        self.index
            .read_exact_at(&mut bytes, n * ENTRY_LEN as u64)
            .map_err(|e| Error::io("read export log", self.dir.join(INDEX_FILE), e))?;
        Entry::decode(n, &bytes)
    }

    fn sync(&self) -> Result<(), Error> {
        sync_files(&self.dir, &self.index, &self.bodies)
    }

    /// The current point (for backups and the committer).
    pub(crate) fn point(&self) -> Point {
        self.point
    }

    /// How many entries a reader may see right now.
    pub(crate) fn visible(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.visible)
    }

    /// Handles for the committer's checkpoints.
    pub(crate) fn checkpointer(&self) -> Result<Checkpointer, Error> {
        let clone = |file: &File, name: &str| {
            file.try_clone()
                .map_err(|e| Error::io("duplicate handle", self.dir.join(name), e))
        };
        Ok(Checkpointer {
            dir: self.dir.clone(),
            index: clone(&self.index, INDEX_FILE)?,
            bodies: clone(&self.bodies, BODIES_FILE)?,
            last: self.point,
            last_at: Instant::now(),
        })
    }
}

/// The fields of a stored revision the export log keeps.
#[derive(Deserialize)]
struct RevisionFields<'a> {
    #[serde(borrow)]
    version: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    content: &'a RawValue,
    #[serde(borrow)]
    calculations: &'a RawValue,
    received_at_ms: i64,
}

#[derive(Deserialize)]
struct PublishedId<'a> {
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
}

/// Records durable points of the export log; owned by the group committer.
pub(crate) struct Checkpointer {
    dir: PathBuf,
    index: File,
    bodies: File,
    last: Point,
    last_at: Instant,
}

impl Checkpointer {
    /// The last point recorded.
    pub(crate) fn last(&self) -> Point {
        self.last
    }

    /// After a group commit that made everything up to `point` durable in the journal:
    /// records `point` if enough has happened since the last one, or when `forced` (a
    /// caller needs the point on disk now), or `clean` (the store is closing).
    pub(crate) fn after_commit(
        &mut self,
        point: Point,
        clean: bool,
        forced: bool,
    ) -> Result<(), Error> {
        let due = clean
            || forced
            || point.bodies >= self.last.bodies + CHECKPOINT_BYTES
            || (point != self.last && self.last_at.elapsed().as_secs() >= CHECKPOINT_SECS);
        if !due {
            return Ok(());
        }
        sync_files(&self.dir, &self.index, &self.bodies)?;
        write_state(&self.dir, point, clean)?;
        self.last = point;
        self.last_at = Instant::now();
        Ok(())
    }
}

fn sync_files(dir: &Path, index: &File, bodies: &File) -> Result<(), Error> {
    index
        .sync_data()
        .map_err(|e| Error::io("fdatasync", dir.join(INDEX_FILE), e))?;
    bodies
        .sync_data()
        .map_err(|e| Error::io("fdatasync", dir.join(BODIES_FILE), e))
}

fn read_state(dir: &Path) -> Option<State> {
    let bytes = std::fs::read(dir.join(STATE_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes `state.json` so that it is entirely there or not at all.
fn write_state(dir: &Path, point: Point, clean: bool) -> Result<(), Error> {
    let state = State {
        format: STATE_FORMAT,
        point,
        clean,
    };
    let path = dir.join(STATE_FILE);
    let tmp = dir.join("state.json.tmp");
    let bytes = serde_json::to_vec(&state).unwrap_or_default();
    let mut file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Copies the log of data directory `from` up to `point` into `to` (a backup's data
/// directory) and records the
/// point there as a clean one: the backup's database is exactly at that point.
pub(crate) fn copy_prefix(from: &Path, to: &Path, point: Point) -> Result<(), Error> {
    let from = from.join(EXPORT_DIR);
    let to = to.join(EXPORT_DIR);
    std::fs::create_dir_all(&to).map_err(|e| Error::io("create", &to, e))?;
    for (name, len) in [
        (INDEX_FILE, point.entries * ENTRY_LEN as u64),
        (BODIES_FILE, point.bodies),
    ] {
        let source = from.join(name);
        let target = to.join(name);
        let mut reader = File::open(&source)
            .map_err(|e| Error::io("open", &source, e))
            .map(|f| std::io::Read::take(f, len))?;
        let mut writer = File::create(&target).map_err(|e| Error::io("create", &target, e))?;
        let copied =
            std::io::copy(&mut reader, &mut writer).map_err(|e| Error::io("copy", &source, e))?;
        if copied != len {
            return Err(corrupt(format!(
                "{} has {copied} bytes, fewer than the {len} of the backup's point",
                source.display()
            )));
        }
        writer
            .sync_all()
            .map_err(|e| Error::io("fsync", &target, e))?;
    }
    write_state(&to, point, true)
}

/// The last durable point recorded in a data directory's export log, clean or not.
pub(crate) fn recorded_point(data_dir: &Path) -> Option<Point> {
    read_state(&data_dir.join(EXPORT_DIR))
        .filter(|s| s.format == STATE_FORMAT)
        .map(|s| s.point)
}

/// The state file of a data directory says the log there is complete (written by a
/// clean close), and at which point.
pub(crate) fn clean_point(data_dir: &Path) -> Option<Point> {
    read_state(&data_dir.join(EXPORT_DIR))
        .filter(|s| s.clean && s.format == STATE_FORMAT)
        .map(|s| s.point)
}
