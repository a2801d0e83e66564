//! Online backup, restore, journal compaction, and recovery from the journal.
//!
//! A backup is a complete data directory (a sled database and the journal) that
//! `chainsurvey serve --data BACKUP` could open as it is, plus a manifest (`backup.json`)
//! naming the exact point of the journal it holds. It is taken online without stopping
//! writers for the copy:
//!
//! 1. Under the write lock, for an instant, note where the journal ends (`start`).
//! 2. Without the lock, copy every sled tree into the backup. Writers carry on, so the copy
//!    is fuzzy: each key holds its value at some moment between `start` and the end of the
//!    copy, and a transaction may be half in it.
//! 3. Under the write lock, for an instant, note where the journal ends now: this is the
//!    backup's point `P`. Every write acknowledged before this moment is at or before `P`.
//! 4. Copy the journal up to `P`, mark the copied database as having applied the journal
//!    only up to `start`, and open the backup once: opening redoes the journal lines between
//!    `start` and `P`. A journal line holds the full value of every key it writes, so the redo
//!    sets each key the copy may have caught mid-flight to its value at `P`; keys no line
//!    between `start` and `P` touched never changed during the copy. The result is exactly the
//!    database at `P`, and the backup's own journal describes it.
//!
//! Compaction frees the disk space of journal lines a verified backup already holds: it
//! punches a hole over them (the file keeps its length, so every byte offset stored in the
//! database stays valid and the running server needs no pause), after recording in
//! `journal-floor.json` which backup now holds that history. `recover` then rebuilds from
//! that backup's database plus the journal after its point.
//!
//! Restore copies a backup into an empty data directory. Recovery moves a damaged database
//! aside and rebuilds it by replaying the journal (from its start, or from the backup named
//! by the floor), which holds every acknowledged write.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::store::commit::fsync_tree;
use crate::store::{APPLIED_KEY, Applied, DB_DIR, Error, JOURNAL_FILE, Store, export_log, journal};

/// The manifest inside a backup directory, written last: a backup without it is incomplete.
const MANIFEST_FILE: &str = "backup.json";
/// In a data directory: the most recent backup taken of it (used by compaction).
const LAST_BACKUP_FILE: &str = "last-backup.json";
/// In a data directory: where the readable journal starts and which backup holds what came
/// before. Absent while the journal is complete from its first byte.
const FLOOR_FILE: &str = "journal-floor.json";
/// Format version of the manifest and floor files.
const FORMAT: u32 = 1;

/// One backup or compaction at a time in this process: a compaction must not punch the
/// journal range a backup is copying.
static OPERATIONS: Mutex<()> = Mutex::new(());

/// A point in the journal: the state after transaction `tx`, whose line ends at byte
/// `journal_end` and starts at `line_start`; `seq` is the last event sequence at that point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalPoint {
    /// The last transaction included.
    pub tx: u64,
    /// Byte offset just past that transaction's journal line.
    pub journal_end: u64,
    /// Byte offset where that line starts (equal to `journal_end` for an empty journal).
    pub line_start: u64,
    /// The last event sequence number included.
    pub seq: u64,
}

/// What a backup did.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// The exact state the backup holds.
    pub point: JournalPoint,
    /// Where the journal ended when the (lock-free) copy started.
    pub copy_started_at: u64,
    /// Journal lines between the copy's start and the point, redone in the backup.
    pub redone_lines: u64,
}

/// What a compaction did.
#[derive(Debug, Clone)]
pub struct CompactReport {
    /// The backup that now holds the journal's history.
    pub backup: PathBuf,
    /// Journal bytes before this offset are gone (a hole); the file keeps its length.
    pub floor: u64,
    /// Bytes freed by this compaction (0 if a previous one already reached this point).
    pub freed_bytes: u64,
}

/// What a recovery did.
#[derive(Debug, Clone)]
pub struct RecoverReport {
    /// Where the damaged database was moved (if there was one).
    pub moved_to: Option<PathBuf>,
    /// Journal lines replayed.
    pub journal_lines: u64,
    /// The backup whose database was the starting point, when the journal was compacted.
    pub base: Option<PathBuf>,
}

/// `backup.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    point: JournalPoint,
    /// The backup's journal is readable from this offset (0 unless the source was compacted).
    journal_floor: u64,
    created_ms: i64,
    source: PathBuf,
}

/// `last-backup.json` in a data directory.
#[derive(Debug, Serialize, Deserialize)]
struct LastBackup {
    format: u32,
    backup: PathBuf,
    point: JournalPoint,
}

/// `journal-floor.json` in a data directory.
#[derive(Debug, Serialize, Deserialize)]
struct Floor {
    format: u32,
    /// Journal bytes before this offset are not readable.
    keep_from: u64,
    /// The backup holding the state the readable journal continues from.
    backup: PathBuf,
    point: JournalPoint,
}

/// Copies a consistent snapshot of `store` into the new or empty directory `to`, without
/// holding the write lock during the copy (see the module docs).
pub fn backup(store: &Store, to: &Path) -> Result<BackupReport, Error> {
    store.backup_observed(to, &mut || {})
}

impl Store {
    /// [`backup`], calling `during_copy` while the database copy runs without the write
    /// lock. Tests use it to prove that writes are acknowledged during a backup.
    #[doc(hidden)]
    pub fn backup_observed(
        &self,
        to: &Path,
        during_copy: &mut dyn FnMut(),
    ) -> Result<BackupReport, Error> {
        backup_inner(self, to, during_copy)
    }
}

fn backup_inner(
    store: &Store,
    to: &Path,
    during_copy: &mut dyn FnMut(),
) -> Result<BackupReport, Error> {
    let _one_at_a_time = OPERATIONS.lock().unwrap_or_else(PoisonError::into_inner);
    require_empty(to)?;
    std::fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
    let to = to.canonicalize().map_err(|e| Error::io("resolve", to, e))?;
    let data_dir = store.inner.data_dir.clone();
    let journal_path = data_dir.join(JOURNAL_FILE);

    let start = {
        let state = store.lock_write();
        Applied {
            tx: state.next_tx - 1,
            end: state.journal_end,
        }
    };

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
    // The copy of `meta` holds whatever position the source had reached when it was read;
    // the backup must redo everything after `start`, so it is told it applied only that.
    let start_bytes = serde_json::to_vec(&start).unwrap_or_default();
    target_db
        .open_tree("meta")?
        .insert(APPLIED_KEY, start_bytes)?;
    target_db.flush()?;
    drop(target_db);
    during_copy();

    // The point: an instant under the lock. The barrier's ticket is taken under the lock and
    // waited for outside it, so writers wait for neither the copy nor the fsync.
    let (end, seq, export_point, barrier) = {
        let state = store.lock_write();
        (
            Applied {
                tx: state.next_tx - 1,
                end: state.journal_end,
            },
            state.next_seq - 1,
            state.export.point(),
            store.inner.committer.enqueue(0),
        )
    };
    barrier.wait_blocking()?;
    // The export log is append-only: its prefix up to the point is the backup's log.
    export_log::copy_prefix(&data_dir, &to, export_point)?;
    let floor = read_floor(&data_dir)?.map_or(0, |f| f.keep_from);
    copy_journal_range(&journal_path, &to.join(JOURNAL_FILE), floor, end.end)?;
    let point = JournalPoint {
        tx: end.tx,
        journal_end: end.end,
        line_start: last_line_start(&journal_path, floor, end.end)?,
        seq,
    };

    // Survey frame files (see `surveys.rs`) live beside the database; a file is always in
    // place before its record commits, so every record up to the point finds its file.
    let surveys = data_dir.join(crate::store::surveys::SURVEYS_DIR);
    if surveys.is_dir() {
        copy_dir(&surveys, &to.join(crate::store::surveys::SURVEYS_DIR))?;
    }
    fsync_tree(&to)?;

    // Opening redoes the lines between `start` and the point; then check where it got to.
    let mut redone_lines = 0u64;
    journal::for_each_line(&to.join(JOURNAL_FILE), start.end, |_, _, _| {
        redone_lines += 1;
        Ok(())
    })?;
    let copy = Store::open(&to)?;
    let reached = crate::store::read_applied(&copy.inner.meta)?;
    copy.close()?;
    drop(copy);
    if (reached.tx, reached.end) != (end.tx, end.end) {
        return Err(Error::Target(format!(
            "the backup in {} reached journal byte {} (tx {}) instead of {} (tx {}); it is not usable",
            to.display(),
            reached.end,
            reached.tx,
            end.end,
            end.tx
        )));
    }

    let manifest = Manifest {
        format: FORMAT,
        point,
        journal_floor: floor,
        created_ms: crate::store::now_ms(),
        source: data_dir.clone(),
    };
    write_json_atomically(&to.join(MANIFEST_FILE), &manifest)?;
    write_json_atomically(
        &data_dir.join(LAST_BACKUP_FILE),
        &LastBackup {
            format: FORMAT,
            backup: to.clone(),
            point,
        },
    )?;
    Ok(BackupReport {
        point,
        copy_started_at: start.end,
        redone_lines,
    })
}

impl Store {
    /// Frees the journal lines that the backup `backup` (or, if `None`, the most recent
    /// backup taken of this data directory) already holds. Safe on a running store: it
    /// touches only journal bytes before the backup's point, which nothing writes or reads
    /// again, and keeps every stored byte offset valid. Refuses, changing nothing, when the
    /// backup is incomplete, of another data directory, or not ahead of the current floor.
    pub fn compact_journal(&self, backup: Option<&Path>) -> Result<CompactReport, Error> {
        let _one_at_a_time = OPERATIONS.lock().unwrap_or_else(PoisonError::into_inner);
        let data_dir = &self.inner.data_dir;
        let backup =
            match backup {
                Some(path) => path.to_path_buf(),
                None => read_json::<LastBackup>(&data_dir.join(LAST_BACKUP_FILE))?
                    .ok_or_else(|| {
                        Error::Target(format!(
                            "{} has no recorded backup; take one with `chainsurvey backup` first",
                            data_dir.display()
                        ))
                    })?
                    .backup,
            };
        let journal_len = self.lock_write().journal_end;
        let old_floor = read_floor(data_dir)?;
        let manifest = usable_base(data_dir, &backup, old_floor.as_ref(), journal_len)?;
        let keep_from = manifest.point.line_start;
        let old_keep = old_floor.as_ref().map_or(0, |f| f.keep_from);
        if keep_from <= old_keep {
            return Ok(CompactReport {
                backup,
                floor: old_keep,
                freed_bytes: 0,
            });
        }
        // The export log must not need the journal lines about to go: its recorded point
        // (where a reopen redoes the journal from) moves past them first.
        self.inner.committer.enqueue_checkpoint().wait_blocking()?;
        let export_from = export_log::recorded_point(data_dir).map_or(0, |p| p.journal_end);
        if export_from < keep_from {
            return Err(Error::Target(format!(
                "the export log's recorded point (journal byte {export_from}) is before the \
                 backup's (byte {keep_from}); nothing was compacted, try again"
            )));
        }
        // The floor is recorded (durably) before any byte goes: a crash in between leaves
        // bytes nobody needs, never a hole nobody knows about.
        write_json_atomically(
            &data_dir.join(FLOOR_FILE),
            &Floor {
                format: FORMAT,
                keep_from,
                backup: backup.clone(),
                point: manifest.point,
            },
        )?;
        let journal_path = data_dir.join(JOURNAL_FILE);
        if let Err(err) = punch_hole(&journal_path, old_keep, keep_from) {
            // Nothing was freed: put the previous floor back so recovery does not depend
            // on a backup it does not need.
            restore_floor(data_dir, old_floor.as_ref())?;
            return Err(err);
        }
        Ok(CompactReport {
            backup,
            floor: keep_from,
            freed_bytes: keep_from - old_keep,
        })
    }
}

/// Copies the backup `from` into the new or empty data directory `data`, then opens it to
/// check it. If the backup's journal does not reach back to its first byte (its source was
/// compacted), the restored directory records the backup as its recovery base.
pub fn restore(from: &Path, data: &Path) -> Result<(), Error> {
    if !from.join(DB_DIR).is_dir() || !from.join(JOURNAL_FILE).is_file() {
        return Err(Error::Target(format!(
            "{} is not a chainsurvey backup (expected {DB_DIR}/ and {JOURNAL_FILE})",
            from.display()
        )));
    }
    let manifest = read_json::<Manifest>(&from.join(MANIFEST_FILE))?;
    require_empty(data)?;
    copy_dir(from, data)?;
    // The restored directory is a data directory, not a backup, and has no backup yet.
    for name in [MANIFEST_FILE, LAST_BACKUP_FILE, FLOOR_FILE] {
        remove_if_present(&data.join(name))?;
    }
    if let Some(manifest) = manifest.filter(|m| m.journal_floor > 0) {
        let from = from
            .canonicalize()
            .map_err(|e| Error::io("resolve", from, e))?;
        write_json_atomically(
            &data.join(FLOOR_FILE),
            &Floor {
                format: FORMAT,
                keep_from: manifest.point.line_start,
                backup: from,
                point: manifest.point,
            },
        )?;
    }
    fsync_tree(data)?;
    let store = Store::open(data)?;
    store.close()
}

/// Rebuilds the database of data directory `data` from its journal. The old database, if
/// any, is moved to `db.damaged-<time>` and left for inspection. If the journal was
/// compacted, the rebuild starts from the database of the backup named in
/// `journal-floor.json` and replays the journal after that backup's point.
pub fn recover(data: &Path) -> Result<RecoverReport, Error> {
    recover_inner(data, None)
}

impl Store {
    /// [`recover`] starting from the database of `backup` instead of the backup the floor
    /// names (for instance after moving backups to other storage, or to start from a newer
    /// backup and replay less). The backup must be complete, of this data directory's
    /// history, and not older than the journal's floor; otherwise nothing changes.
    pub fn recover_from_backup(data: &Path, backup: &Path) -> Result<RecoverReport, Error> {
        recover_inner(data, Some(backup))
    }
}

fn recover_inner(data: &Path, backup: Option<&Path>) -> Result<RecoverReport, Error> {
    let journal_path = data.join(JOURNAL_FILE);
    if !journal_path.is_file() {
        return Err(Error::Target(format!(
            "{} has no journal; nothing to recover from",
            data.display()
        )));
    }
    let journal_len = std::fs::metadata(&journal_path)
        .map_err(|e| Error::io("stat", &journal_path, e))?
        .len();
    let floor = read_floor(data)?;
    // Check the base before touching anything.
    let base_path = backup
        .map(Path::to_path_buf)
        .or_else(|| floor.as_ref().map(|f| f.backup.clone()));
    let base = match base_path {
        Some(path) => {
            let manifest = usable_base(data, &path, floor.as_ref(), journal_len)?;
            Some((path, manifest))
        }
        None => None,
    };
    let replay_from = base.as_ref().map_or(0, |(_, m)| m.point.journal_end);
    let mut journal_lines = 0u64;
    journal::for_each_line(&journal_path, replay_from, |_, _, _| {
        journal_lines += 1;
        Ok(())
    })?;

    let db_dir = data.join(DB_DIR);
    let moved_to = if db_dir.exists() {
        let target = data.join(format!("db.damaged-{}", crate::store::now_ms()));
        std::fs::rename(&db_dir, &target).map_err(|e| Error::io("move aside", &db_dir, e))?;
        Some(target)
    } else {
        None
    };
    // The export log is derived from the journal: start it over from the base's (or
    // from nothing) and let the open below project the journal after it.
    let export_dir = data.join(export_log::EXPORT_DIR);
    if export_dir.exists() {
        std::fs::remove_dir_all(&export_dir).map_err(|e| Error::io("remove", &export_dir, e))?;
    }
    if let Some((backup, _)) = &base {
        // The backup's database has applied the journal exactly up to its point.
        copy_dir(&backup.join(DB_DIR), &db_dir)?;
        fsync_tree(&db_dir)?;
        let base_export = backup.join(export_log::EXPORT_DIR);
        if base_export.is_dir() {
            copy_dir(&base_export, &export_dir)?;
        }
    }
    // Opening a data directory redoes every journal line the database lacks: for a fresh
    // database, that is all of them; for a backup's, those after its point.
    let store = Store::open(data)?;
    store.close()?;
    Ok(RecoverReport {
        moved_to,
        journal_lines,
        base: base.map(|(path, _)| path),
    })
}

/// Checks that `backup` is a complete backup of this data directory's journal history that
/// the readable journal continues, and returns its manifest.
fn usable_base(
    data: &Path,
    backup: &Path,
    floor: Option<&Floor>,
    journal_len: u64,
) -> Result<Manifest, Error> {
    let manifest = read_json::<Manifest>(&backup.join(MANIFEST_FILE))?.ok_or_else(|| {
        Error::Target(format!(
            "{} is not a complete chainsurvey backup (no {MANIFEST_FILE}); it cannot be a recovery base",
            backup.display()
        ))
    })?;
    let point = manifest.point;
    if point.journal_end > journal_len {
        return Err(Error::Target(format!(
            "the backup {} reaches journal byte {} but the journal of {} has only {journal_len} bytes; \
             it is a backup of another data directory",
            backup.display(),
            point.journal_end,
            data.display()
        )));
    }
    if let Some(floor) = floor
        && point.line_start < floor.keep_from
    {
        return Err(Error::Target(format!(
            "the backup {} is older than the journal's floor (byte {}); use {} or a newer backup",
            backup.display(),
            floor.keep_from,
            floor.backup.display()
        )));
    }
    // Same history: the backup's last journal line is byte for byte the line at the same
    // place in this journal (it embeds the transaction number and every value written).
    let ours = read_range(
        &data.join(JOURNAL_FILE),
        point.line_start,
        point.journal_end,
    )?;
    let theirs = read_range(
        &backup.join(JOURNAL_FILE),
        point.line_start,
        point.journal_end,
    )?;
    if ours != theirs {
        return Err(Error::Target(format!(
            "the backup {} does not share the journal history of {}; it is a backup of another data directory",
            backup.display(),
            data.display()
        )));
    }
    if !backup.join(DB_DIR).is_dir() {
        return Err(Error::Target(format!(
            "the backup {} has no database directory",
            backup.display()
        )));
    }
    Ok(manifest)
}

/// Where the readable journal of `data` starts, when it was compacted.
pub(crate) fn journal_floor(data: &Path) -> Result<Option<u64>, Error> {
    Ok(read_floor(data)?.map(|f| f.keep_from))
}

fn read_floor(data: &Path) -> Result<Option<Floor>, Error> {
    read_json::<Floor>(&data.join(FLOOR_FILE))
}

fn restore_floor(data: &Path, floor: Option<&Floor>) -> Result<(), Error> {
    match floor {
        Some(floor) => write_json_atomically(&data.join(FLOOR_FILE), floor),
        None => remove_if_present(&data.join(FLOOR_FILE)),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|err| Error::Target(format!("{} is unreadable: {err}", path.display())))
}

/// Writes a small JSON file so that it is either entirely there or not at all: a temporary
/// file, fsynced, renamed over the target, then the directory fsynced.
fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    let tmp = path.with_extension("json.tmp");
    let mut file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", path, e))?;
    sync_parent(path)
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_parent(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

fn sync_parent(path: &Path) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

fn read_range(path: &Path, from: u64, to: u64) -> Result<Vec<u8>, Error> {
    let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    file.seek(SeekFrom::Start(from))
        .map_err(|e| Error::io("seek", path, e))?;
    let mut out = Vec::new();
    file.take(to.saturating_sub(from))
        .read_to_end(&mut out)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(out)
}

/// Copies bytes `[from, to)` of a journal to the same offsets of a new file and fsyncs it.
/// Bytes before `from` (a compacted prefix) stay a hole, so the copy takes no space for them.
fn copy_journal_range(source: &Path, target: &Path, from: u64, to: u64) -> Result<(), Error> {
    let mut input = File::open(source).map_err(|e| Error::io("open", source, e))?;
    input
        .seek(SeekFrom::Start(from))
        .map_err(|e| Error::io("seek", source, e))?;
    let mut output = File::create(target).map_err(|e| Error::io("create", target, e))?;
    output
        .set_len(from)
        .and_then(|()| output.seek(SeekFrom::Start(from)).map(drop))
        .map_err(|e| Error::io("extend", target, e))?;
    let copied = std::io::copy(&mut input.take(to - from), &mut output)
        .map_err(|e| Error::io("copy to", target, e))?;
    if copied != to - from {
        return Err(Error::Target(format!(
            "the journal {} ended after {} bytes while copying up to byte {to}",
            source.display(),
            from + copied
        )));
    }
    output.sync_all().map_err(|e| Error::io("fsync", target, e))
}

/// Where the journal line ending at byte `end` starts (searching no further back than
/// `floor`).
fn last_line_start(path: &Path, floor: u64, end: u64) -> Result<u64, Error> {
    if end <= floor {
        return Ok(end);
    }
    let mut file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut buf = vec![0u8; 64 * 1024];
    // `end - 1` is the line's own newline; the previous newline ends the line before.
    let mut upto = end - 1;
    while upto > floor {
        let from = upto.saturating_sub(buf.len() as u64).max(floor);
        let chunk = &mut buf[..(upto - from) as usize];
        file.seek(SeekFrom::Start(from))
            .and_then(|_| file.read_exact(chunk))
            .map_err(|e| Error::io("read", path, e))?;
        if let Some(pos) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(from + pos as u64 + 1);
        }
        upto = from;
    }
    Ok(floor)
}

/// Frees the disk blocks of bytes `[from, to)` of a file without changing its length or
/// the offsets of later bytes (reads of the range return zeros).
#[cfg(target_os = "linux")]
fn punch_hole(path: &Path, from: u64, to: u64) -> Result<(), Error> {
    use std::os::fd::AsRawFd as _;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open", path, e))?;
    let (Ok(offset), Ok(len)) = (i64::try_from(from), i64::try_from(to - from)) else {
        return Err(Error::Target(format!(
            "journal offsets {from}..{to} are too large"
        )));
    };
    // SAFETY: `fallocate` only reads its integer arguments; the descriptor is open and owned
    // by `file` for the whole call.
    let rc = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset,
            len,
        )
    };
    if rc != 0 {
        return Err(Error::io(
            "free compacted journal range (fallocate punch hole; needs ext4, xfs, btrfs or tmpfs)",
            path,
            std::io::Error::last_os_error(),
        ));
    }
    file.sync_all().map_err(|e| Error::io("fsync", path, e))
}

#[cfg(not(target_os = "linux"))]
fn punch_hole(path: &Path, _from: u64, _to: u64) -> Result<(), Error> {
    Err(Error::Target(format!(
        "journal compaction of {} needs Linux (fallocate punch hole)",
        path.display()
    )))
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
        } else if entry.file_name() == JOURNAL_FILE {
            // Keep a compacted journal's hole a hole.
            let len = entry
                .metadata()
                .map_err(|e| Error::io("stat", &path, e))?
                .len();
            let floor = first_data_offset(&path, len)?;
            copy_journal_range(&path, &target, floor, len)?;
        } else {
            std::fs::copy(&path, &target).map_err(|e| Error::io("copy", &path, e))?;
        }
    }
    Ok(())
}

/// The offset of the first byte of a file that is not in a hole (its length if none).
#[cfg(target_os = "linux")]
fn first_data_offset(path: &Path, len: u64) -> Result<u64, Error> {
    use std::os::fd::AsRawFd as _;
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    // SAFETY: `lseek` only reads its integer arguments on a descriptor `file` keeps open.
    let offset = unsafe { libc::lseek(file.as_raw_fd(), 0, libc::SEEK_DATA) };
    // -1 means no data at all (ENXIO) or no SEEK_DATA support: copy everything then.
    Ok(u64::try_from(offset).map_or(0, |o| o.min(len)))
}

#[cfg(not(target_os = "linux"))]
fn first_data_offset(_path: &Path, _len: u64) -> Result<u64, Error> {
    Ok(0)
}
