//! Walks over the stored interviews: every interview of a questionnaire with its latest
//! revision (a merge join of two sequential sled scans, for callers such as survey tracing
//! that read a few fields of each), the borrowed interview head the export log decodes, and
//! the checks of whether a data directory holds a database and whether another process has
//! it open. (The CSV export reads the export log, `export_log/`, not these.)

use std::borrow::Cow;
use std::path::Path;

use serde::Deserialize;

use crate::store::status::InterviewStatus;
use crate::store::submissions::{Interview, Revision, revision_key};
use crate::store::tree::TreeId;
use crate::store::{DB_DIR, Error, Store, codec};

/// A stored revision not yet decoded.
struct RawRevision {
    key: sled::IVec,
    value: sled::IVec,
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

/// How long an open waits for the database lock before reporting it held.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs `open` again while it fails because the database lock is held, for up to
/// [`LOCK_WAIT`]. A store closed and dropped in this process can keep sled's lock for a
/// moment (sled finishes its last log write on a thread of its own), so an immediate
/// reopen (`chainsurvey export` after reconciling, tests) would otherwise fail spuriously;
/// a lock another process holds is still reported, [`LOCK_WAIT`] later.
pub(crate) fn retry_while_locked<T>(
    mut open: impl FnMut() -> Result<T, Error>,
) -> Result<T, Error> {
    let started = std::time::Instant::now();
    loop {
        match open() {
            Err(err) if is_in_use(&err) && started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
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

    /// The merge join of [`Store::latest_revisions`], revisions undecoded.
    fn latest_revisions_raw(
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
                    Ok(Some((interview, raw)))
                };
                step().transpose()
            })
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
