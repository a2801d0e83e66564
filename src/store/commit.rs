//! The group committer: the one thread that makes writes durable.
//!
//! A write appends its journal line to the journal file (a plain `write`, no sync), applies
//! its changes to sled in memory, queues a waiter here, and waits. Writing the journal line
//! *before* applying to sled, under the store's write lock, keeps journal order equal to
//! apply order and guarantees that after a process crash the journal holds every
//! transaction sled holds. The committer thread wakes, takes *every* waiter queued so far,
//! and for the whole batch:
//!
//! 1. `fdatasync`s the journal;
//! 2. runs `db.flush()` (sled 0.34 writes its buffers with `sync_file_range`, which is not
//!    a durability guarantee, sled issue #1452);
//! 3. `fsync`s every file of the sled directory and the directory itself;
//! 4. publishes the batch's highest event sequence as the durable watermark, and
//! 5. answers every waiter.
//!
//! There is never one fsync per request: under load a batch holds as many requests as
//! arrived during the previous batch's fsyncs. If any step fails the committer marks the
//! store failed and answers this and every later waiter with an error: the server then
//! refuses writes (503) until restarted, because after a failed fsync the kernel may have
//! dropped the dirty pages and retrying would report success for lost data.
//!
//! Locks: `pending` is a std mutex because it is held for a few pointer moves, never across
//! an await or I/O; the condvar wakes the committer thread, which is an OS thread (its work
//! is blocking I/O and must not run on the async runtime).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::store::Error;
use crate::store::export_log::{Checkpointer, Point};

/// The answer a waiter gets: `Ok` once its write is durable.
pub type CommitResult = Result<(), Error>;

/// What a write waits on.
#[must_use = "a write is not durable until its ticket resolves"]
pub struct Ticket {
    receiver: oneshot::Receiver<CommitResult>,
}

impl Ticket {
    /// Waits asynchronously for the group commit that covers this write.
    pub async fn wait(self) -> CommitResult {
        self.receiver.await.unwrap_or(Err(Error::Unavailable))
    }

    /// Waits on the current thread (for the CLI and benches, never on the async runtime).
    pub fn wait_blocking(self) -> CommitResult {
        self.receiver
            .blocking_recv()
            .unwrap_or(Err(Error::Unavailable))
    }
}

/// State shared between the writers and the committer thread.
pub struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
    /// Highest event sequence known durable; sync never shows events beyond it.
    durable_seq: AtomicU64,
    /// Set after a failed flush or fsync; writes are refused from then on.
    failed: AtomicBool,
    /// Number of group commits done (for tests and the bench).
    batches: AtomicU64,
    /// Fault injection for tests: the next group commit fails as if fsync had failed.
    inject_failure: AtomicBool,
}

#[derive(Default)]
struct Pending {
    waiters: Vec<oneshot::Sender<CommitResult>>,
    last_seq: u64,
    /// The export log's point after the latest queued write.
    export: Option<Point>,
    /// A caller wants the export log's point recorded after this batch.
    force_checkpoint: bool,
    shutdown: bool,
}

/// Handle to the committer thread.
pub struct Committer {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Committer {
    /// Starts the committer thread for a database in `db_dir`; `journal` is a handle to the
    /// journal file used only to sync it.
    pub fn start(
        db: sled::Db,
        db_dir: PathBuf,
        journal_path: PathBuf,
        journal: File,
        durable_seq: u64,
        checkpointer: Checkpointer,
    ) -> Committer {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            durable_seq: AtomicU64::new(durable_seq),
            failed: AtomicBool::new(false),
            batches: AtomicU64::new(0),
            inject_failure: AtomicBool::new(false),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("chainsurvey-committer".into())
            .spawn(move || {
                run(
                    thread_shared,
                    db,
                    db_dir,
                    journal_path,
                    journal,
                    checkpointer,
                )
            })
            .unwrap_or_else(|err| panic!("cannot start the committer thread: {err}"));
        Committer {
            shared,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Queues a waiter for the next group commit; `last_seq` is the highest event sequence
    /// the waiter's write created (0 for none).
    pub fn enqueue(&self, last_seq: u64) -> Ticket {
        self.enqueue_at(last_seq, None)
    }

    /// A ticket that resolves after everything applied so far is durable *and* the export
    /// log's durable point has been recorded (before journal compaction).
    pub fn enqueue_checkpoint(&self) -> Ticket {
        lock(&self.shared.pending).force_checkpoint = true;
        self.enqueue_at(0, None)
    }

    /// [`Committer::enqueue`] for a write that left the export log at `export`.
    pub fn enqueue_at(&self, last_seq: u64, export: Option<Point>) -> Ticket {
        let (sender, receiver) = oneshot::channel();
        let mut pending = lock(&self.shared.pending);
        if self.shared.failed.load(Ordering::Acquire) || pending.shutdown {
            let _ = sender.send(Err(Error::Unavailable));
        } else {
            pending.last_seq = pending.last_seq.max(last_seq);
            if export.is_some() {
                pending.export = export;
            }
            pending.waiters.push(sender);
            self.shared.wake.notify_one();
        }
        Ticket { receiver }
    }

    /// True after a failed flush or fsync.
    pub fn failed(&self) -> bool {
        self.shared.failed.load(Ordering::Acquire)
    }

    /// Makes the next group commit fail as a failed fsync would (tests only).
    pub fn inject_failure(&self) {
        self.shared.inject_failure.store(true, Ordering::Release);
    }

    /// Marks the store failed (a journal write failed): every later write is refused.
    pub fn mark_failed(&self) {
        self.shared.failed.store(true, Ordering::Release);
    }

    /// The durable event watermark.
    pub fn durable_seq(&self) -> u64 {
        self.shared.durable_seq.load(Ordering::Acquire)
    }

    /// How many group commits have run.
    pub fn batches(&self) -> u64 {
        self.shared.batches.load(Ordering::Relaxed)
    }

    /// Finishes the queued batches and stops the thread. Idempotent.
    pub fn shutdown(&self) {
        lock(&self.shared.pending).shutdown = true;
        self.shared.wake.notify_one();
        let handle = lock(&self.thread).take();
        if let Some(handle) = handle
            && handle.join().is_err()
        {
            tracing::error!("the committer thread panicked");
        }
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks cannot leave their plain data inconsistent, so
    // poisoning is ignored rather than turned into a second panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run(
    shared: Arc<Shared>,
    db: sled::Db,
    db_dir: PathBuf,
    journal_path: PathBuf,
    journal: File,
    mut checkpointer: Checkpointer,
) {
    // The export log's point after the last successful group commit.
    let mut durable_export = checkpointer.last();
    loop {
        let (waiters, last_seq, export, forced, shutdown) = {
            let mut pending = lock(&shared.pending);
            while pending.waiters.is_empty() && !pending.shutdown {
                pending = shared
                    .wake
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            (
                std::mem::take(&mut pending.waiters),
                pending.last_seq,
                pending.export,
                std::mem::take(&mut pending.force_checkpoint),
                pending.shutdown,
            )
        };
        if !waiters.is_empty() || shutdown {
            let outcome = if shared.failed.load(Ordering::Acquire) {
                Err(Error::Unavailable)
            } else if shared.inject_failure.swap(false, Ordering::AcqRel) {
                Err(Error::io(
                    "fsync",
                    &db_dir,
                    std::io::Error::other("injected failure (test)"),
                ))
            } else {
                make_durable(&db, &db_dir, &journal_path, &journal)
            };
            match &outcome {
                Ok(()) => {
                    shared.durable_seq.fetch_max(last_seq, Ordering::AcqRel);
                    shared.batches.fetch_add(1, Ordering::Relaxed);
                    durable_export = export.unwrap_or(durable_export);
                }
                Err(err) => {
                    if !shared.failed.swap(true, Ordering::AcqRel) {
                        tracing::error!(error = %err, "group commit failed; the store now refuses writes");
                    }
                }
            }
            // A forced checkpoint is on disk before its waiter hears back.
            if forced && outcome.is_ok() {
                record_export_point(&mut checkpointer, durable_export, false, true);
            }
            for waiter in waiters {
                let answer = match &outcome {
                    Ok(()) => Ok(()),
                    Err(_) => Err(Error::Unavailable),
                };
                // A waiter whose request was cancelled has dropped its receiver; fine.
                let _ = waiter.send(answer);
            }
        }
        let clean = shutdown && !shared.failed.load(Ordering::Acquire);
        record_export_point(&mut checkpointer, durable_export, clean, false);
        if shutdown {
            return;
        }
    }
}

/// Records the export log's durable point when due. The log is derived from the journal:
/// a failed checkpoint loses nothing (the next open projects the journal from the previous
/// one), so it is reported, not fatal (journal compaction checks the recorded point).
fn record_export_point(checkpointer: &mut Checkpointer, point: Point, clean: bool, forced: bool) {
    if let Err(err) = checkpointer.after_commit(point, clean, forced) {
        tracing::warn!(error = %err, "could not record the export log's durable point");
    }
}

fn make_durable(
    db: &sled::Db,
    db_dir: &Path,
    journal_path: &Path,
    journal: &File,
) -> Result<(), Error> {
    journal
        .sync_data()
        .map_err(|e| Error::io("fdatasync journal", journal_path, e))?;
    db.flush()?;
    fsync_tree(db_dir)
}

/// fsyncs every regular file under `dir` (recursively) and then each directory, so file
/// contents and the directory entries of newly created files (sled snapshots, blobs) are
/// both on disk.
pub fn fsync_tree(dir: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| Error::io("stat", &path, e))?;
        if file_type.is_dir() {
            fsync_tree(&path)?;
        } else if file_type.is_file() {
            match File::open(&path) {
                Ok(file) => file.sync_all().map_err(|e| Error::io("fsync", &path, e))?,
                // sled removes old snapshot files concurrently; a vanished file needs no sync.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("open for fsync", &path, e)),
            }
        }
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}
