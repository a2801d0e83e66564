//! Online backup, restore, and recovery from the journal.
//!
//! A backup is a complete data directory (a sled database and the journal) that
//! `chainsurvey serve --data BACKUP` could open as it is. It is taken online: writers wait
//! on the write lock while the copy runs (a few seconds per hundred thousand interviews),
//! readers do not. Restore copies a backup into an empty data directory. Recovery moves a
//! damaged database aside and rebuilds it by replaying the whole journal, which holds every
//! acknowledged write.

use std::path::{Path, PathBuf};

use crate::store::commit::fsync_tree;
use crate::store::{DB_DIR, Error, JOURNAL_FILE, Store, journal};

/// What a recovery did.
#[derive(Debug, Clone)]
pub struct RecoverReport {
    /// Where the damaged database was moved (if there was one).
    pub moved_to: Option<PathBuf>,
    /// Journal lines replayed.
    pub journal_lines: u64,
}

fn require_empty(dir: &Path) -> Result<(), Error> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::Target(format!(
                    "{} is not empty; choose a new directory",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("read", dir, e)),
    }
}

/// Copies a consistent snapshot of `store` into the new or empty directory `to`.
pub fn backup(store: &Store, to: &Path) -> Result<(), Error> {
    require_empty(to)?;
    std::fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
    // Holding the write lock stops new writes; the barrier makes every earlier write durable
    // (journal included) before we copy.
    let state = store.lock_write();
    store.inner.committer.enqueue(0).wait_blocking()?;
    let target_db = sled::Config::new().path(to.join(DB_DIR)).open()?;
    for name in store.inner.db.tree_names() {
        let source = store.inner.db.open_tree(&name)?;
        let target = target_db.open_tree(&name)?;
        let mut batch = sled::Batch::default();
        let mut n = 0usize;
        for entry in source.iter() {
            let (key, value) = entry?;
            batch.insert(key, value);
            n += 1;
            if n.is_multiple_of(10_000) {
                target.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        target.apply_batch(batch)?;
    }
    target_db.flush()?;
    drop(target_db);
    copy_prefix(
        &store.inner.data_dir.join(JOURNAL_FILE),
        &to.join(JOURNAL_FILE),
        state.journal_end,
    )?;
    // Survey frame files (see `surveys.rs`) live beside the database; the records naming
    // them were copied above, and a file is always in place before its record commits.
    let surveys = store
        .inner
        .data_dir
        .join(crate::store::surveys::SURVEYS_DIR);
    if surveys.is_dir() {
        copy_dir(&surveys, &to.join(crate::store::surveys::SURVEYS_DIR))?;
    }
    drop(state);
    fsync_tree(to)
}

/// Copies the first `len` bytes of a file and fsyncs the copy.
fn copy_prefix(from: &Path, to: &Path, len: u64) -> Result<(), Error> {
    use std::io::Read as _;
    let source = std::fs::File::open(from).map_err(|e| Error::io("open", from, e))?;
    let mut target = std::fs::File::create(to).map_err(|e| Error::io("create", to, e))?;
    std::io::copy(&mut source.take(len), &mut target).map_err(|e| Error::io("copy to", to, e))?;
    target.sync_all().map_err(|e| Error::io("fsync", to, e))
}

/// Copies the backup `from` into the new or empty data directory `data`, then opens it to
/// check it.
pub fn restore(from: &Path, data: &Path) -> Result<(), Error> {
    if !from.join(DB_DIR).is_dir() || !from.join(JOURNAL_FILE).is_file() {
        return Err(Error::Target(format!(
            "{} is not a chainsurvey backup (expected {DB_DIR}/ and {JOURNAL_FILE})",
            from.display()
        )));
    }
    require_empty(data)?;
    copy_dir(from, data)?;
    fsync_tree(data)?;
    let store = Store::open(data)?;
    store.close()
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io("read", from, e))? {
        let entry = entry.map_err(|e| Error::io("read", from, e))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else if path.extension().is_some_and(|e| e == "tmp") {
            // A frame file still being written; its record does not exist yet.
            continue;
        } else {
            std::fs::copy(&path, &target).map_err(|e| Error::io("copy", &path, e))?;
        }
    }
    Ok(())
}

/// Rebuilds the database of data directory `data` from its journal. The old database, if
/// any, is moved to `db.damaged-<time>` and left for inspection.
pub fn recover(data: &Path) -> Result<RecoverReport, Error> {
    let journal_path = data.join(JOURNAL_FILE);
    if !journal_path.is_file() {
        return Err(Error::Target(format!(
            "{} has no journal; nothing to recover from",
            data.display()
        )));
    }
    let db_dir = data.join(DB_DIR);
    let moved_to = if db_dir.exists() {
        let target = data.join(format!("db.damaged-{}", crate::store::now_ms()));
        std::fs::rename(&db_dir, &target).map_err(|e| Error::io("move aside", &db_dir, e))?;
        Some(target)
    } else {
        None
    };
    let mut journal_lines = 0u64;
    journal::for_each_line(&journal_path, 0, |_, _, _| {
        journal_lines += 1;
        Ok(())
    })?;
    // Opening a data directory redoes every journal line the database lacks: for a fresh
    // database, that is all of them.
    let store = Store::open(data)?;
    store.close()?;
    Ok(RecoverReport {
        moved_to,
        journal_lines,
    })
}
