//! The reading side of the export log: a view of the first N entries and the batches of
//! current interviews an export walks.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use crate::store::export_log::format::{
    BodyRanges, ENTRY_LEN, Entry, Kind, NO_ENTRY, body_ranges, corrupt, decode_published,
    questionnaire_key,
};
use crate::store::export_log::{BODIES_FILE, EXPORT_DIR, INDEX_FILE, clean_point};
use crate::store::questionnaires::Published;
use crate::store::scan::retry_while_locked;
use crate::store::status::InterviewStatus;
use crate::store::tree::TreeId;
use crate::store::{DB_DIR, Error, Store, codec};

/// Index bytes read at a time.
const INDEX_CHUNK: usize = 1 << 20;
/// Interviews per batch handed to the caller…
const BATCH: usize = 256;
/// …unless their records reach this many bytes first (large rosters).
const BATCH_BYTES: u64 = 1 << 20;

/// Calls `f(n, entry)` for entries `0..entries` of an index file, reading it in large
/// sequential chunks.
pub(crate) fn for_each_entry(
    index: &File,
    path: &Path,
    entries: u64,
    mut f: impl FnMut(u64, Entry) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut buf = vec![0u8; INDEX_CHUNK];
    let per_chunk = (INDEX_CHUNK / ENTRY_LEN) as u64;
    let mut n = 0u64;
    while n < entries {
        let count = per_chunk.min(entries - n);
        let chunk = &mut buf[..count as usize * ENTRY_LEN];
        index
            .read_exact_at(chunk, n * ENTRY_LEN as u64)
            .map_err(|e| Error::io("read export log", path, e))?;
        for bytes in chunk.chunks_exact(ENTRY_LEN) {
            f(n, Entry::decode(n, bytes)?)?;
            n += 1;
        }
    }
    Ok(())
}

/// A consistent view of the export log: its first `entries` entries, every byte of which
/// is written. Cheap to make; reading happens in [`ExportView::published`] and
/// [`ExportView::for_each_batch`]. Nothing in it touches sled.
pub struct ExportView {
    dir: PathBuf,
    entries: u64,
    /// The database lock held for a view opened from the command line, so that no server
    /// starts (and rewrites the log's tail) while it is read.
    _lock: Option<File>,
}

/// One interview of a [`RecordBatch`]: what the export writes about it.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub instance_id: &'a str,
    pub enumerator: &'a str,
    pub version: &'a str,
    pub revision: u32,
    pub status: InterviewStatus,
    pub received_at_ms: i64,
    /// The stored record; `content` and `calculations` are ranges of it.
    pub bytes: &'a [u8],
    pub content: Range<usize>,
    pub calculations: Range<usize>,
}

/// Interviews handed over together, their records in one buffer (owned, so a batch can
/// move to another thread).
#[derive(Default)]
pub struct RecordBatch {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

struct Item {
    record: Range<usize>,
    ranges: BodyRanges,
    status: InterviewStatus,
    revision: u32,
    received_at_ms: i64,
}

impl RecordBatch {
    /// The interviews, in log order.
    pub fn records(&self) -> impl Iterator<Item = Record<'_>> {
        self.items.iter().map(|item| {
            let bytes = &self.bytes[item.record.clone()];
            let text = |range: &Range<usize>| {
                std::str::from_utf8(&bytes[range.clone()]).unwrap_or_default()
            };
            Record {
                instance_id: text(&item.ranges.instance_id),
                enumerator: text(&item.ranges.enumerator),
                version: text(&item.ranges.version),
                revision: item.revision,
                status: item.status,
                received_at_ms: item.received_at_ms,
                bytes,
                content: item.ranges.content.clone(),
                calculations: item.ranges.calculations.clone(),
            }
        })
    }

    /// How many interviews.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The bytes of all records.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Where one wanted interview's record is, and its entry's fields.
struct Wanted {
    body: u64,
    len: u32,
    status: InterviewStatus,
    revision: u32,
    received_at_ms: i64,
}

impl Store {
    /// A view of the export log as it is now (for the HTTP export).
    pub fn export_view(&self) -> ExportView {
        ExportView {
            dir: self.inner.data_dir.join(EXPORT_DIR),
            entries: self
                .inner
                .export_visible
                .load(std::sync::atomic::Ordering::Acquire),
            _lock: None,
        }
    }
}

/// Opens the export log of the data directory `data_dir` for a command-line export,
/// without opening sled: takes the database lock (refusing, as sled would, when a server
/// holds it) and reads the log up to the point its last clean close recorded. After an
/// unclean stop the store is opened and closed once first, which brings the log up to
/// date (and costs the memory of opening sled).
pub fn open_export_view(data_dir: &Path) -> Result<ExportView, Error> {
    let lock_path = data_dir.join(DB_DIR).join("db");
    let lock = || -> Result<File, Error> {
        let file = File::open(&lock_path).map_err(|e| Error::io("open", &lock_path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::io(
                "open database (is another chainsurvey running?)",
                &lock_path,
                std::io::Error::other(format!(
                    "could not acquire lock on {:?}: held by another process",
                    lock_path
                )),
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io("lock", &lock_path, e)),
        }
    };
    let mut held = retry_while_locked(lock)?;
    let mut point = clean_point(data_dir);
    if point.is_none() {
        drop(held);
        Store::open(data_dir)?.close()?;
        held = retry_while_locked(lock)?;
        point = clean_point(data_dir);
    }
    let point = point.ok_or_else(|| {
        corrupt(format!(
            "{} has no complete export log even after opening the store",
            data_dir.display()
        ))
    })?;
    Ok(ExportView {
        dir: data_dir.join(EXPORT_DIR),
        entries: point.entries,
        _lock: Some(held),
    })
}

impl ExportView {
    fn open(&self, name: &str) -> Result<(File, PathBuf), Error> {
        let path = self.dir.join(name);
        let file = File::open(&path).map_err(|e| Error::io("open export log", &path, e))?;
        Ok((file, path))
    }

    /// Number of entries in view.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Every published questionnaire version, in publication order.
    pub fn published(&self) -> Result<Vec<Published>, Error> {
        let (index, index_path) = self.open(INDEX_FILE)?;
        let (bodies, bodies_path) = self.open(BODIES_FILE)?;
        let mut out = Vec::new();
        for_each_entry(&index, &index_path, self.entries, |_, entry| {
            if entry.kind != Kind::Published {
                return Ok(());
            }
            let mut record = vec![0u8; entry.body_len as usize];
            bodies
                .read_exact_at(&mut record, entry.body)
                .map_err(|e| Error::io("read export log", &bodies_path, e))?;
            let (key, value) = decode_published(&record)?;
            out.push(codec::decode(
                TreeId::Questionnaires,
                key.as_bytes(),
                value,
            )?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with batches of the current state of every interview of `questionnaire`
    /// that `keep(status, received_at_ms)` accepts, in the order of their latest change.
    ///
    /// Two sequential passes over the index: the first marks every entry a later one
    /// supersedes (one bit per entry), the second reads the bodies of the rest, coalescing
    /// neighbouring records into one read.
    pub fn for_each_batch<E: From<Error>>(
        &self,
        questionnaire: &str,
        mut keep: impl FnMut(InterviewStatus, i64) -> bool,
        mut f: impl FnMut(RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        let (index, index_path) = self.open(INDEX_FILE)?;
        let (bodies, bodies_path) = self.open(BODIES_FILE)?;
        let mut superseded = vec![0u64; (self.entries as usize).div_ceil(64)];
        for_each_entry(&index, &index_path, self.entries, |n, entry| {
            if entry.prev != NO_ENTRY {
                if u64::from(entry.prev) >= n {
                    return Err(corrupt(format!("entry {n} supersedes a later entry")));
                }
                superseded[entry.prev as usize / 64] |= 1 << (entry.prev % 64);
            }
            Ok(())
        })?;
        let wanted_key = questionnaire_key(questionnaire);
        let mut pending: Vec<Wanted> = Vec::with_capacity(BATCH);
        let mut pending_bytes = 0u64;
        let mut failure: Option<E> = None;
        let walked = for_each_entry(&index, &index_path, self.entries, |n, entry| {
            if entry.kind != Kind::Interview
                || entry.questionnaire != wanted_key
                || superseded[n as usize / 64] & (1 << (n % 64)) != 0
                || !keep(entry.status, entry.received_at_ms)
            {
                return Ok(());
            }
            pending.push(Wanted {
                body: entry.body,
                len: entry.body_len,
                status: entry.status,
                revision: entry.revision,
                received_at_ms: entry.received_at_ms,
            });
            pending_bytes += u64::from(entry.body_len);
            if pending.len() == BATCH || pending_bytes >= BATCH_BYTES {
                let batch = load(&bodies, &bodies_path, &pending, questionnaire)?;
                pending.clear();
                pending_bytes = 0;
                if let Err(err) = f(batch) {
                    // Stop the walk; the caller's own error is returned below, this
                    // placeholder never is.
                    failure = Some(err);
                    return Err(Error::Unavailable);
                }
            }
            Ok(())
        });
        if let Some(err) = failure {
            return Err(err);
        }
        walked?;
        if !pending.is_empty() {
            f(load(&bodies, &bodies_path, &pending, questionnaire)?)?;
        }
        Ok(())
    }
}

/// Reads the records of `wanted` into one batch, one read per run of adjacent records.
fn load(
    bodies: &File,
    path: &Path,
    wanted: &[Wanted],
    questionnaire: &str,
) -> Result<RecordBatch, Error> {
    let total: usize = wanted.iter().map(|w| w.len as usize).sum();
    let mut bytes = vec![0u8; total];
    let mut at = 0usize;
    let mut i = 0usize;
    while i < wanted.len() {
        let start = wanted[i].body;
        let mut end = start + u64::from(wanted[i].len);
        let mut j = i + 1;
        while j < wanted.len() && wanted[j].body == end {
            end += u64::from(wanted[j].len);
            j += 1;
        }
        let run = (end - start) as usize;
        bodies
            .read_exact_at(&mut bytes[at..at + run], start)
            .map_err(|e| Error::io("read export log", path, e))?;
        at += run;
        i = j;
    }
    let mut items = Vec::with_capacity(wanted.len());
    let mut at = 0usize;
    for w in wanted {
        let record = at..at + w.len as usize;
        at = record.end;
        let ranges = body_ranges(&bytes[record.clone()])?;
        // The questionnaire key is a hash: check the name itself.
        if bytes[record.start + ranges.questionnaire.start..record.start + ranges.questionnaire.end]
            != *questionnaire.as_bytes()
        {
            continue;
        }
        items.push(Item {
            record,
            ranges,
            status: w.status,
            revision: w.revision,
            received_at_ms: w.received_at_ms,
        });
    }
    Ok(RecordBatch { bytes, items })
}
