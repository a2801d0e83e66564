//! The export read path: every interview of a questionnaire with its latest revision, read
//! as one merge join of two sequential scans and handed out as borrowed bytes.
//!
//! The interview heads (`submissions`) and the revisions (`revisions`) are both keyed by
//! instance id, so walking both trees in key order meets each head's latest revision without
//! a random read. [`Store::scan_latest`] is the allocation-free form the export uses: the
//! head is borrowed from its stored bytes and the revision is handed over undecoded, so the
//! caller parses the revision's JSON exactly once, in place. [`Store::latest_revisions`]
//! is the convenient owned form for callers that read few interviews' worth of fields.

use std::borrow::Cow;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::store::status::InterviewStatus;
use crate::store::submissions::{Interview, Revision, revision_key};
use crate::store::tree::TreeId;
use crate::store::{DB_DIR, Error, Store, codec};

/// A stored revision not yet decoded (see [`Store::scan_latest`]). Cloning shares the
/// stored bytes.
#[derive(Clone)]
pub struct RawRevision {
    key: sled::IVec,
    value: sled::IVec,
}

/// A revision borrowed from its stored bytes: the fields the export needs, with the JSON
/// documents left unparsed.
#[derive(Debug, Deserialize)]
pub struct RevisionView<'a> {
    pub revision: u32,
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    #[serde(borrow)]
    pub content: &'a RawValue,
    #[serde(borrow)]
    pub calculations: &'a RawValue,
    pub received_at_ms: i64,
}

impl RawRevision {
    /// The stored bytes (a JSON envelope); a [`RevisionView`]'s documents point into
    /// them, so a caller can scan them by offset.
    pub fn bytes(&self) -> &[u8] {
        &self.value
    }

    /// Decodes the borrowed view, refusing values from a newer format.
    pub fn view(&self) -> Result<RevisionView<'_>, Error> {
        codec::decode_borrowed(TreeId::Revisions, &self.key, &self.value)
    }

    /// The stored key (`instance id/revision`), for error messages.
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

/// An interview head borrowed from its stored bytes: what the export writes about it.
#[derive(Debug, Deserialize)]
pub struct InterviewHead<'a> {
    #[serde(borrow)]
    pub instance_id: Cow<'a, str>,
    #[serde(borrow)]
    pub questionnaire: Cow<'a, str>,
    #[serde(borrow)]
    pub enumerator: Cow<'a, str>,
    pub status: InterviewStatus,
    /// The latest revision number (1-based).
    pub revision: u32,
}

/// True when opening failed because another process (a running server, another command)
/// holds the database: sled locks its `db` file exclusively while open and refuses a
/// second opener with this I/O error, before anything is read or written.
pub fn is_in_use(err: &Error) -> bool {
    matches!(err, Error::Io { source, .. } if source.to_string().contains("could not acquire lock"))
}

/// True when `dir` holds a chainsurvey database (opening it would not create one).
pub fn database_exists(dir: &Path) -> bool {
    dir.join(DB_DIR).join("db").is_file()
}

impl Store {
    /// Every interview of a questionnaire with its latest revision, in instance id order.
    ///
    /// Both trees are keyed by instance id, so this is a merge join of two sequential scans
    /// (no random reads): the interview heads in order, and the revisions tree advanced to
    /// each head's latest revision. Memory is constant.
    pub fn latest_revisions(
        &self,
        questionnaire: &str,
    ) -> impl Iterator<Item = Result<(Interview, Revision), Error>> + '_ {
        self.latest_revisions_raw(questionnaire).map(|entry| {
            let (interview, raw) = entry?;
            let revision: Revision = codec::decode(TreeId::Revisions, &raw.key, &raw.value)?;
            Ok((interview, revision))
        })
    }

    /// Like [`Store::latest_revisions`], but each revision stays the stored bytes until the
    /// caller borrows a [`RevisionView`] from it.
    pub fn latest_revisions_raw(
        &self,
        questionnaire: &str,
    ) -> impl Iterator<Item = Result<(Interview, RawRevision), Error>> + '_ {
        let questionnaire = questionnaire.to_owned();
        let mut revisions = self.tree(TreeId::Revisions).iter();
        let mut pending: Option<(sled::IVec, sled::IVec)> = None;
        self.tree(TreeId::Submissions)
            .iter()
            .filter_map(move |entry| {
                let step = || -> Result<Option<(Interview, RawRevision)>, Error> {
                    let (key, value) = entry?;
                    let interview: Interview = codec::decode(TreeId::Submissions, &key, &value)?;
                    if interview.questionnaire != questionnaire {
                        return Ok(None);
                    }
                    let target = revision_key(&interview.instance_id, interview.revision);
                    let raw = seek(&mut revisions, &mut pending, target.as_bytes())?;
                    self.touch(&key, &raw)?;
                    Ok(Some((interview, raw)))
                };
                step().transpose()
            })
    }

    /// Calls `f` with every interview of `questionnaire` and its latest revision, in
    /// instance id order, stopping at the first error.
    ///
    /// The same merge join as [`Store::latest_revisions`] without its per-interview
    /// allocations: the head is borrowed from the stored bytes and the revision is handed
    /// over undecoded. Memory is constant: one head, one revision and sled's bounded cache.
    pub fn scan_latest<E: From<Error>>(
        &self,
        questionnaire: &str,
        mut f: impl FnMut(&InterviewHead<'_>, &RawRevision) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut revisions = self.tree(TreeId::Revisions).iter();
        let mut pending: Option<(sled::IVec, sled::IVec)> = None;
        let mut target = Vec::with_capacity(64);
        for entry in self.tree(TreeId::Submissions).iter() {
            let (key, value) = entry.map_err(Error::from)?;
            let head: InterviewHead<'_> =
                codec::decode_borrowed(TreeId::Submissions, &key, &value)?;
            if head.questionnaire != questionnaire {
                continue;
            }
            target.clear();
            // The key format of `revision_key`, written without a temporary string.
            use std::io::Write;
            write!(target, "{}/{:06}", head.instance_id, head.revision)
                .map_err(|e| Error::io("format a revision key", "", e))?;
            let raw = seek(&mut revisions, &mut pending, &target)?;
            self.touch(&key, &raw)?;
            f(&head, &raw)?;
        }
        Ok(())
    }
}

impl Store {
    /// Reads an interview's head and revision again by key, which keeps a long scan's
    /// memory bounded.
    ///
    /// Why: sled 0.34 records page accesses in 256 per-shard queues of 64 entries and
    /// settles them (evicting beyond `cache_capacity`) only when a queue fills. A
    /// sequential scan touches each leaf page once, so up to 256 × 63 decoded leaves (for
    /// revisions of ~2 KB, 11 to a leaf: hundreds of MB) stay in memory uncounted; the
    /// export's RSS grew with the database. A point lookup of the pages just read is cheap
    /// (they are in memory) and records one more access each, so the queues fill about ten
    /// times as often and eviction keeps up: measured at 100,000 interviews, peak RSS of
    /// the bare walk fell from 170 MB to 84 MB, and the walk got faster (less memory to
    /// fault in).
    fn touch(&self, head_key: &[u8], revision: &RawRevision) -> Result<(), Error> {
        self.tree(TreeId::Submissions).get(head_key)?;
        self.tree(TreeId::Revisions).get(&revision.key)?;
        Ok(())
    }
}

/// Advances the revisions iterator to `target` and returns that revision. A key past the
/// target is kept in `pending` for the next interview (the heads come in the same order).
fn seek(
    revisions: &mut sled::Iter,
    pending: &mut Option<(sled::IVec, sled::IVec)>,
    target: &[u8],
) -> Result<RawRevision, Error> {
    loop {
        let (key, value) = match pending.take() {
            Some(kv) => kv,
            None => match revisions.next() {
                Some(kv) => kv?,
                None => break,
            },
        };
        match key.as_ref().cmp(target) {
            std::cmp::Ordering::Less => continue,
            std::cmp::Ordering::Equal => return Ok(RawRevision { key, value }),
            std::cmp::Ordering::Greater => {
                *pending = Some((key, value));
                break;
            }
        }
    }
    Err(Error::Corrupt {
        tree: "revisions",
        key: String::from_utf8_lossy(target).into_owned(),
        reason: "the interview's latest revision is missing".into(),
    })
}
