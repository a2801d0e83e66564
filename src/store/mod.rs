//! The sled database: typed trees, codecs, group-commit durability, journal, backup.
//!
//! A tour:
//! - [`Store`] is the one cheap-clone handle (an `Arc`) the server and the CLI share. Its
//!   methods are domain operations (`add_user`, `submit`, `review`, …); no caller ever sees a
//!   sled tree.
//! - Every mutation runs as a [`Tx`] under one write lock: it reads, decides, and collects
//!   its puts, events and counter bumps; the store appends them as one journal line, applies
//!   them to sled (one batch per tree, see `apply_writes`), queues a waiter for the group
//!   committer, and hands back a
//!   [`Durable`] that resolves only after the group commit (`commit.rs`) has fsynced the
//!   journal and the database. Nothing is acknowledged before that.
//! - `journal.jsonl` beside the database is the write-ahead log. On open, journal lines that
//!   sled lost are redone; `recover` rebuilds a damaged database from it.
//! - Values are JSON envelopes with a format version (`codec.rs`).
//!
//! Architecture invariant: this is the only module that imports `sled`. It knows nothing
//! about HTTP and does not validate answers against questionnaires: callers pass in what the
//! questionnaire engine decided.
//!
//! The write lock is a std mutex: it is held only while reading and writing small values in
//! sled's in-memory page cache (microseconds), never across an await or an fsync.

mod codec;
mod commit;
mod error;
mod events;
mod export_log;
mod journal;
mod time;
mod tree;
mod tx;

pub mod canonical;

mod assignments;
mod backup;
mod progress;
mod questionnaires;
mod review;
mod scan;
mod status;
mod submissions;
mod surveys;
mod users;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

pub use crate::store::assignments::{Assignment, NewAssignment, Target};
pub use crate::store::backup::{
    BackupReport, CompactReport, JournalPoint, RecoverReport, backup, recover, restore,
};
pub use crate::store::commit::Ticket;
pub use crate::store::error::Error;
pub use crate::store::events::{ChangesPage, Event, Feed};
pub use crate::store::export_log::{ExportView, Record, RecordBatch, open_export_view};
pub use crate::store::progress::{Progress, ProgressRow};
pub use crate::store::questionnaires::{Draft, Published, PublishedSummary};
pub use crate::store::review::{Decision, QuestionComment, Verdict};
pub use crate::store::scan::{InterviewHead, database_exists, is_in_use};
pub use crate::store::status::{AssignmentStatus, InterviewStatus};
pub use crate::store::submissions::{Interview, Revision, Submission, SubmitOutcome};
pub use crate::store::surveys::{
    AssignOutcome, FrameRecord, ReachedRow, SampleRecord, SampledUnit, Survey, Tier0Spec,
    TraceLinkRow, TraceRecord, UnmatchedRow, WorkerSelection, WorkerTakeRow, parse_survey_id,
};
pub use crate::store::time::{now_ms, parse_date_ms, rfc3339};
pub use crate::store::tx::Tx;
pub use crate::store::users::{Role, User, parse_user_name};

use crate::store::commit::Committer;
use crate::store::journal::Write;
use crate::store::tree::TreeId;

/// The database directory inside a data directory.
const DB_DIR: &str = "db";
/// The journal file inside a data directory.
const JOURNAL_FILE: &str = "journal.jsonl";
/// sled's page cache. sled's default is 1 GiB; the collection server's working set is
/// small (recent assignments, counters, tokens), and a bounded cache keeps a streamed
/// export of millions of interviews within a small, constant memory footprint.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Meta key holding how far into the journal the database has applied.
const APPLIED_KEY: &[u8] = b"applied";

/// The handle to an open data directory. Cloning is cheap and shares everything.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    trees: Vec<sled::Tree>,
    meta: sled::Tree,
    data_dir: PathBuf,
    write: Mutex<WriteState>,
    committer: Committer,
    /// Published questionnaire versions by `id/version`, decoded once: they are immutable,
    /// and decoding a definition of a few hundred KiB for every submission was a tenth of
    /// the ingest CPU. A std mutex held only for a map lookup or insert.
    published: Mutex<std::collections::HashMap<String, Arc<Published>>>,
    /// How many export-log entries readers may see (see `export_log`).
    export_visible: Arc<std::sync::atomic::AtomicU64>,
}

/// What only the holder of the write lock may change.
struct WriteState {
    next_seq: u64,
    next_tx: u64,
    journal_end: u64,
    /// The journal, appended to before each transaction is applied.
    journal: std::fs::File,
    /// What the export reads, appended to after each transaction is applied.
    export: export_log::ExportLog,
}

/// How far the database has applied the journal (stored in sled, outside the journal).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Applied {
    tx: u64,
    end: u64,
}

/// A result that becomes true only after its group commit: call [`Durable::wait`] (async)
/// or [`Durable::wait_blocking`] (CLI) to get the value once it is on disk.
#[must_use = "a write is not durable until waited for"]
pub struct Durable<T> {
    value: T,
    ticket: Ticket,
}

impl<T> Durable<T> {
    /// Waits for the group commit, then returns the value.
    pub async fn wait(self) -> Result<T, Error> {
        self.ticket.wait().await?;
        Ok(self.value)
    }

    /// Waits on this thread for the group commit, then returns the value.
    pub fn wait_blocking(self) -> Result<T, Error> {
        self.ticket.wait_blocking()?;
        Ok(self.value)
    }
}

impl Store {
    /// Opens (or creates) the data directory `dir`: `dir/db` (sled) and `dir/journal.jsonl`.
    /// Journal lines the database lacks are redone, and everything is fsynced before the
    /// store accepts work.
    pub fn open(dir: &Path) -> Result<Store, Error> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create data directory", dir, e))?;
        let db_dir = dir.join(DB_DIR);
        let journal_path = dir.join(JOURNAL_FILE);
        let db = scan::retry_while_locked(|| {
            sled::Config::new()
                .path(&db_dir)
                .cache_capacity(CACHE_BYTES)
                // sled's own timer flush is not needed: the group committer flushes before
                // acknowledging anything, and a second writer of the log only adds disk
                // writes.
                .flush_every_ms(None)
                .open()
                .map_err(|err| match err {
                    sled::Error::Io(io) => Error::io(
                        "open database (is another chainsurvey running?)",
                        &db_dir,
                        io,
                    ),
                    other => Error::Target(format!(
                        "the database in {} cannot be opened ({other}); run `chainsurvey recover --data {}` \
                         to rebuild it from the journal",
                        db_dir.display(),
                        dir.display()
                    )),
                })
        })?;
        let trees = TreeId::ALL
            .iter()
            .map(|t| db.open_tree(t.name()))
            .collect::<Result<Vec<_>, _>>()?;
        let meta = db.open_tree("meta")?;

        let (journal_file, journal_len) = journal::open_for_append(&journal_path)?;
        let mut applied = read_applied(&meta)?;
        if applied.end > journal_len {
            // Only a power failure can do this: sled's own writes reached the disk while the
            // journal's last, never-synced lines did not. Those transactions were never
            // acknowledged (acknowledgement waits for the journal's fsync). They stay in the
            // database; the journal continues from its real end.
            tracing::warn!(
                database_applied = applied.end,
                journal_len,
                "the database holds unacknowledged transactions the journal lost in a power failure"
            );
            applied.end = journal_len;
        } else {
            let mut redone = 0u64;
            journal::for_each_line(&journal_path, applied.end, |line, _start, end| {
                apply_line(&trees, &meta, &line, end)?;
                applied = Applied { tx: line.tx, end };
                redone += 1;
                Ok(())
            })?;
            if redone > 0 {
                tracing::warn!(lines = redone, "redid journal lines the database had lost");
            }
        }
        db.flush()?;
        commit::fsync_tree(&db_dir)?;
        let floor = backup::journal_floor(dir)?;
        let export = export_log::ExportLog::open(dir, &journal_path, applied, floor, &trees)?;

        let next_seq = match trees[TreeId::Events.index()].last()? {
            Some((key, _)) => events::parse_seq_key(&key)? + 1,
            None => 1,
        };
        let sync_handle = journal_file
            .try_clone()
            .map_err(|e| Error::io("duplicate journal handle", &journal_path, e))?;
        let committer = Committer::start(
            db.clone(),
            db_dir,
            journal_path,
            sync_handle,
            next_seq - 1,
            export.checkpointer()?,
        );
        let export_visible = export.visible();
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                trees,
                meta,
                data_dir: dir.to_path_buf(),
                write: Mutex::new(WriteState {
                    next_seq,
                    next_tx: applied.tx + 1,
                    journal_end: journal_len,
                    journal: journal_file,
                    export,
                }),
                committer,
                published: Mutex::default(),
                export_visible,
            }),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// True after a failed flush or fsync: writes are refused until restart.
    pub fn is_failed(&self) -> bool {
        self.inner.committer.failed()
    }

    /// Highest event sequence that is durable.
    pub fn durable_seq(&self) -> u64 {
        self.inner.committer.durable_seq()
    }

    /// Makes the next group commit fail as a failed fsync would. For fault-injection tests;
    /// after it the store refuses writes until reopened, exactly as after a real failure.
    #[doc(hidden)]
    pub fn inject_commit_failure(&self) {
        self.inner.committer.inject_failure();
    }

    /// Number of group commits since open.
    pub fn commit_batches(&self) -> u64 {
        self.inner.committer.batches()
    }

    /// A ticket that resolves after everything applied so far is durable (used to answer an
    /// idempotent replay only once the original write is on disk, and at shutdown).
    pub fn barrier(&self) -> Ticket {
        let _write = self.lock_write();
        self.inner.committer.enqueue(0)
    }

    /// Flushes, stops the committer and waits for it. Later writes fail with
    /// [`Error::Unavailable`].
    pub fn close(&self) -> Result<(), Error> {
        let barrier = self.barrier();
        let result = barrier.wait_blocking();
        self.inner.committer.shutdown();
        result
    }

    /// Runs `f` as one atomic, journaled write and returns its value with the ticket of its
    /// group commit.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, Error>,
    ) -> Result<Durable<T>, Error> {
        if self.is_failed() {
            return Err(Error::Unavailable);
        }
        let mut state = self.lock_write();
        let mut tx = Tx::new(&self.inner.trees, state.next_seq, now_ms());
        let value = f(&mut tx)?;
        let finished = tx.finish()?;
        if !finished.writes.is_empty() {
            let tx_id = state.next_tx;
            let line = journal::render(tx_id, &finished.writes);
            let applied = Applied {
                tx: tx_id,
                end: state.journal_end + line.len() as u64,
            };
            // Journal first, then sled: after a crash the journal holds everything sled does.
            if let Err(err) = journal::append(&mut state.journal, &line) {
                // A partial line may be on disk; refuse all further writes (it is cut off at
                // the next open).
                self.inner.committer.mark_failed();
                tracing::error!(error = %err, "journal write failed; the store now refuses writes");
                return Err(Error::Unavailable);
            }
            state.next_tx += 1;
            state.journal_end = applied.end;
            if let Err(err) = apply_writes(
                &self.inner.trees,
                &self.inner.meta,
                &finished.writes,
                applied,
            ) {
                // The journal has a transaction sled lacks; the next open redoes it. Until
                // then, refuse writes rather than diverge.
                self.inner.committer.mark_failed();
                return Err(err);
            }
            state.next_seq = finished.next_seq;
            if let Err(err) = state.export.append(&finished.writes, tx_id, applied.end) {
                // The journal and sled hold the transaction; the next open projects it into
                // the export log again. Until then, refuse writes rather than diverge.
                self.inner.committer.mark_failed();
                tracing::error!(error = %err, "export log write failed; the store now refuses writes");
                return Err(Error::Unavailable);
            }
        }
        let ticket = self
            .inner
            .committer
            .enqueue_at(finished.last_seq, Some(state.export.point()));
        drop(state);
        Ok(Durable { value, ticket })
    }

    fn lock_write(&self) -> MutexGuard<'_, WriteState> {
        // The write state is three counters updated together after a successful apply, so a
        // panic in a transaction closure cannot leave them half-updated.
        self.inner
            .write
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn tree(&self, tree: TreeId) -> &sled::Tree {
        &self.inner.trees[tree.index()]
    }

    pub(crate) fn get<T: serde::de::DeserializeOwned>(
        &self,
        tree: TreeId,
        key: &str,
    ) -> Result<Option<T>, Error> {
        match self.tree(tree).get(key.as_bytes())? {
            Some(bytes) => codec::decode(tree, key.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every key/value of every tree, in tree then key order, values decoded as JSON. Used by
    /// tests and by `recover --verify` to compare two databases.
    pub fn dump(&self) -> Result<Vec<(String, String, serde_json::Value)>, Error> {
        let mut out = Vec::new();
        for tree in TreeId::ALL {
            for entry in self.tree(tree).iter() {
                let (key, value) = entry?;
                let value: serde_json::Value =
                    serde_json::from_slice(&value).map_err(|err| Error::Corrupt {
                        tree: tree.name(),
                        key: String::from_utf8_lossy(&key).into_owned(),
                        reason: err.to_string(),
                    })?;
                out.push((
                    tree.name().to_owned(),
                    String::from_utf8_lossy(&key).into_owned(),
                    value,
                ));
            }
        }
        Ok(out)
    }
}

fn read_applied(meta: &sled::Tree) -> Result<Applied, Error> {
    match meta.get(APPLIED_KEY)? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|err| Error::Corrupt {
            tree: "meta",
            key: "applied".into(),
            reason: err.to_string(),
        }),
        None => Ok(Applied::default()),
    }
}

/// Applies writes in the order the transaction made them, then the new journal position.
///
/// These are plain sled inserts and removals, deliberately not a sled transaction or
/// batch: in sled 0.34 each of those pins the log, which writes out the current log buffer
/// (a `pwrite` and a `sync_file_range`) before and after it, so a transaction per request
/// cost a disk write per request, and a batch per tree several. Plain writes fill the log
/// buffer and reach the disk at the next group commit's `db.flush()`, many requests at a
/// time.
///
/// The atomicity a sled transaction gave is the journal's job. Every write is an absolute
/// value (counters included), and the journal position is written last, so after a crash
/// redoing the journal from the stored position reproduces the database whatever part of
/// the last transactions sled kept (sled recovers its log in order, so a stored position
/// implies the writes before it). Readers need no cross-tree snapshot: a transaction
/// writes what readers reach second first (a revision before the interview head that
/// points to it; events become visible to sync only at the durable watermark).
fn apply_writes(
    trees: &[sled::Tree],
    meta: &sled::Tree,
    writes: &[Write],
    applied: Applied,
) -> Result<(), Error> {
    for write in writes {
        let tree = &trees[write.tree.index()];
        match &write.value {
            Some(value) => tree.insert(write.key.as_bytes(), value.as_slice())?,
            None => tree.remove(write.key.as_bytes())?,
        };
    }
    let applied_bytes = serde_json::to_vec(&applied).unwrap_or_default();
    meta.insert(APPLIED_KEY, applied_bytes)?;
    Ok(())
}

/// Applies one journal line (redo at open, or recovery).
fn apply_line(
    trees: &[sled::Tree],
    meta: &sled::Tree,
    line: &journal::Line,
    end: u64,
) -> Result<(), Error> {
    let writes = journal::line_writes(line)?;
    apply_writes(trees, meta, &writes, Applied { tx: line.tx, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without sled transactions, a crash can leave sled with only part of the last
    /// transactions (and a journal position before them). Redoing the journal from that
    /// position must give exactly the database of the completed transactions.
    #[test]
    fn redo_completes_a_partially_applied_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .add_user("lan", Role::Enumerator, None, None, "t")
            .unwrap()
            .wait_blocking()
            .unwrap();
        let position = read_applied(&store.inner.meta).unwrap();
        let counter = |tx: &mut Tx<'_>| {
            let now: i64 = tx.get(TreeId::Counters, "c")?.unwrap_or(0);
            tx.put(TreeId::Counters, "c".into(), &(now + 1));
            tx.put(TreeId::Drafts, format!("d{now}"), &now);
            tx.event("t", "test", "s", &["lan"], serde_json::json!({"n": now}));
            Ok(())
        };
        for _ in 0..3 {
            store.write(counter).unwrap().wait_blocking().unwrap();
        }
        let complete = store.dump().unwrap();

        // The "crash": the last two transactions half applied, the position before them.
        store.tree(TreeId::Drafts).remove("d1").unwrap();
        store
            .tree(TreeId::Counters)
            .insert("c", codec::encode(&1i64))
            .unwrap();
        let events = store.tree(TreeId::Events);
        let (last, _) = events.last().unwrap().unwrap();
        events.remove(last).unwrap();
        let mut earlier = position;
        // Two journal lines back: the first counter write stays applied.
        let mut ends = Vec::new();
        journal::for_each_line(&dir.path().join(JOURNAL_FILE), 0, |line, _, end| {
            ends.push((line.tx, end));
            Ok(())
        })
        .unwrap();
        let (tx, end) = ends[ends.len() - 3];
        earlier.tx = tx;
        earlier.end = end;
        store
            .inner
            .meta
            .insert(APPLIED_KEY, serde_json::to_vec(&earlier).unwrap())
            .unwrap();
        assert_ne!(store.dump().unwrap(), complete);
        store.close().unwrap();
        drop(store);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.dump().unwrap(), complete);
        // And the next write continues the sequences after the redone ones.
        let seq_before = store.durable_seq();
        store.write(counter).unwrap().wait_blocking().unwrap();
        assert_eq!(store.durable_seq(), seq_before + 1);
    }
}
