//! Submissions: interviews (one per client-generated instance id) and their revisions.
//!
//! Idempotency rules, decided under the write lock:
//! - a new instance id creates revision 1 and moves the assignment along;
//! - the same instance id with content identical to one of its revisions is a replay: the
//!   caller answers 201 again with that revision and nothing is written;
//! - different content is a new revision only when the interview was rejected (a
//!   resubmission, history kept); otherwise it is a conflict (409).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::store::assignments::{Assignment, save as save_assignment};
use crate::store::canonical::canonical_json;
use crate::store::progress::{Dims, bump};
use crate::store::status::InterviewStatus;
use crate::store::tree::TreeId;
use crate::store::users::User;
use crate::store::{Durable, Error, Store, Tx, codec};

/// A submission the server has parsed and validated with the questionnaire engine.
#[derive(Debug, Clone)]
pub struct Submission {
    pub instance_id: String,
    pub assignment_id: String,
    pub questionnaire: String,
    pub version: String,
    /// Hash of the published definition the answers were validated against.
    pub definition_hash: String,
    /// `{"answers": …, "paradata": …}` as sent (stored canonically).
    pub content: serde_json::Value,
    /// SHA-256 of the canonical JSON of everything the client sent that identifies content.
    pub content_hash: String,
    /// Warning-severity findings from validation (a JSON array).
    pub warnings: serde_json::Value,
    /// Calculations computed by the validator (a JSON object).
    pub calculations: serde_json::Value,
}

/// The head record of an interview.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Interview {
    pub instance_id: String,
    pub assignment_id: String,
    pub questionnaire: String,
    pub enumerator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    pub status: InterviewStatus,
    /// The latest revision number (1-based).
    pub revision: u32,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Interview {
    pub(crate) fn dims(&self) -> Dims<'_> {
        Dims {
            enumerator: &self.enumerator,
            team: self.supervisor.as_deref(),
            questionnaire: &self.questionnaire,
            tier: self.tier,
            province: self.province.as_deref(),
        }
    }

    pub(crate) fn audience(&self) -> Vec<&str> {
        std::iter::once(self.enumerator.as_str())
            .chain(self.supervisor.as_deref())
            .collect()
    }
}

/// One submitted revision of an interview.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revision {
    pub instance_id: String,
    pub revision: u32,
    pub questionnaire: String,
    pub version: String,
    pub definition_hash: String,
    pub content_hash: String,
    pub content: Box<RawValue>,
    pub warnings: Box<RawValue>,
    pub calculations: Box<RawValue>,
    pub received_at_ms: i64,
}

/// What [`Store::submit`] did.
#[derive(Debug, Clone)]
pub enum SubmitOutcome {
    /// A new interview or a new revision was stored.
    Created { interview: Interview, revision: u32 },
    /// The same content was already stored as this revision; nothing was written.
    Replayed { interview: Interview, revision: u32 },
}

pub(crate) fn revision_key(instance_id: &str, revision: u32) -> String {
    format!("{instance_id}/{revision:06}")
}

pub(crate) fn queue_key(supervisor: Option<&str>, instance_id: &str) -> String {
    format!("{}\u{0}{instance_id}", supervisor.unwrap_or(""))
}

/// Writes an interview whose status changed from `old`, keeping counters and the review
/// queue right.
pub(crate) fn save_interview(tx: &mut Tx<'_>, interview: &Interview, old: Option<InterviewStatus>) {
    if old != Some(interview.status) {
        if let Some(old) = old {
            bump(tx, "interview", &interview.dims(), old.as_str(), -1);
        }
        bump(
            tx,
            "interview",
            &interview.dims(),
            interview.status.as_str(),
            1,
        );
    }
    let queue = queue_key(interview.supervisor.as_deref(), &interview.instance_id);
    if interview.status.awaits_review() {
        tx.put_marker(TreeId::ReviewQueue, queue);
    } else if old.is_some_and(InterviewStatus::awaits_review) {
        tx.remove(TreeId::ReviewQueue, queue);
    }
    tx.put(
        TreeId::Submissions,
        interview.instance_id.clone(),
        interview,
    );
}

fn raw(value: &serde_json::Value) -> Result<Box<RawValue>, Error> {
    RawValue::from_string(canonical_json(value)).map_err(|err| Error::Invalid(err.to_string()))
}

impl Store {
    /// Which revision of `instance_id` holds exactly this content, if any (a replay check
    /// the server makes before spending time on validation).
    pub fn find_replay(
        &self,
        instance_id: &str,
        content_hash: &str,
    ) -> Result<Option<(Interview, u32)>, Error> {
        let Some(interview) = self.interview(instance_id)? else {
            return Ok(None);
        };
        for revision in self.revisions(instance_id)? {
            if revision.content_hash == content_hash {
                return Ok(Some((interview, revision.revision)));
            }
        }
        Ok(None)
    }

    /// Stores a validated submission from `enumerator`, or recognizes a replay.
    pub fn submit(
        &self,
        submission: Submission,
        enumerator: &User,
    ) -> Result<Durable<SubmitOutcome>, Error> {
        let prepared = Prepared::new(submission)?;
        self.write(|tx| submit_in(tx, &prepared, enumerator))
    }

    /// Stores many validated submissions, each with its enumerator, as ONE write: one
    /// journal line, one sled apply and one group-commit ticket for the whole batch. The
    /// database ends exactly as if [`Store::submit`] had been called for each item in order
    /// (same keys, values, counters and event sequence; only timestamps may differ), and
    /// the replay rules are the same: an item identical to a stored revision, or to an
    /// earlier item of the batch, is answered [`SubmitOutcome::Replayed`] and writes
    /// nothing.
    ///
    /// All or nothing: if any item is refused (conflict, unknown assignment, …) its error
    /// is returned and nothing of the batch is written. Meant for bulk loads (benchmarks,
    /// migrations); batches of a few thousand keep the journal line and memory moderate.
    pub fn submit_many<'u>(
        &self,
        items: impl IntoIterator<Item = (Submission, &'u User)>,
    ) -> Result<Durable<Vec<SubmitOutcome>>, Error> {
        // Serialising the JSON documents is the bulk of the work and needs no lock.
        let prepared = items
            .into_iter()
            .map(|(submission, user)| Ok((Prepared::new(submission)?, user)))
            .collect::<Result<Vec<_>, Error>>()?;
        self.write(|tx| {
            prepared
                .iter()
                .map(|(item, user)| submit_in(tx, item, user))
                .collect()
        })
    }

    /// An interview's head record.
    pub fn interview(&self, instance_id: &str) -> Result<Option<Interview>, Error> {
        self.get(TreeId::Submissions, instance_id)
    }

    /// One revision of an interview.
    pub fn revision(&self, instance_id: &str, revision: u32) -> Result<Option<Revision>, Error> {
        self.get(TreeId::Revisions, &revision_key(instance_id, revision))
    }

    /// Every revision of an interview, oldest first.
    pub fn revisions(&self, instance_id: &str) -> Result<Vec<Revision>, Error> {
        let prefix = format!("{instance_id}/");
        let mut out = Vec::new();
        for entry in self.tree(TreeId::Revisions).scan_prefix(prefix.as_bytes()) {
            let (key, value) = entry?;
            out.push(codec::decode(TreeId::Revisions, &key, &value)?);
        }
        Ok(out)
    }
}

/// A submission with its JSON documents already in their stored (canonical) form.
struct Prepared {
    submission: Submission,
    content: Box<RawValue>,
    warnings: Box<RawValue>,
    calculations: Box<RawValue>,
}

impl Prepared {
    fn new(submission: Submission) -> Result<Prepared, Error> {
        Ok(Prepared {
            content: raw(&submission.content)?,
            warnings: raw(&submission.warnings)?,
            calculations: raw(&submission.calculations)?,
            submission,
        })
    }
}

/// The body of one submission inside a write: replay check, state checks, then the
/// revision, interview head, counters, review queue and event.
fn submit_in(
    tx: &mut Tx<'_>,
    prepared: &Prepared,
    enumerator: &User,
) -> Result<SubmitOutcome, Error> {
    let submission = &prepared.submission;
    let existing: Option<Interview> = tx.get(TreeId::Submissions, &submission.instance_id)?;
    if let Some(interview) = &existing {
        if interview.enumerator != enumerator.name {
            return Err(Error::Conflict(format!(
                "instance id {} is already used by another interview; generate a new instance id",
                submission.instance_id
            )));
        }
        for n in 1..=interview.revision {
            let key = revision_key(&submission.instance_id, n);
            let revision: Option<Revision> = tx.get(TreeId::Revisions, &key)?;
            if revision.is_some_and(|r| r.content_hash == submission.content_hash) {
                return Ok(SubmitOutcome::Replayed {
                    interview: interview.clone(),
                    revision: n,
                });
            }
        }
    }
    let mut assignment: Assignment = tx
        .get(TreeId::Assignments, &submission.assignment_id)?
        .ok_or_else(|| Error::NotFound {
            what: "assignment",
            id: submission.assignment_id.clone(),
        })?;
    check_assignment(&assignment, submission, enumerator)?;
    let now = tx.now_ms();
    let (interview, old_status) = match existing {
        Some(mut interview) => {
            if interview.assignment_id != submission.assignment_id {
                return Err(Error::Conflict(format!(
                    "instance id {} belongs to assignment {}, not {}",
                    submission.instance_id, interview.assignment_id, submission.assignment_id
                )));
            }
            if assignment.status == crate::store::AssignmentStatus::Closed {
                return Err(Error::Conflict(
                    "this assignment is closed and takes no more corrections; ask your supervisor"
                        .into(),
                ));
            }
            let old = interview.status;
            interview.status = old.resubmit()?;
            interview.revision += 1;
            interview.updated_at_ms = now;
            (interview, Some(old))
        }
        None => {
            let old_status = assignment.status;
            assignment.submitted += 1;
            assignment.status = old_status.submit(assignment.submitted, assignment.quantity)?;
            assignment.updated_at_ms = now;
            save_assignment(tx, &assignment, Some(old_status));
            let interview = Interview {
                instance_id: submission.instance_id.clone(),
                assignment_id: assignment.id.clone(),
                questionnaire: assignment.questionnaire.clone(),
                enumerator: enumerator.name.clone(),
                supervisor: assignment.supervisor.clone(),
                tier: assignment.target.tier,
                province: assignment.target.province.clone(),
                status: InterviewStatus::Completed,
                revision: 1,
                created_at_ms: now,
                updated_at_ms: now,
            };
            (interview, None)
        }
    };
    let revision = Revision {
        instance_id: submission.instance_id.clone(),
        revision: interview.revision,
        questionnaire: submission.questionnaire.clone(),
        version: submission.version.clone(),
        definition_hash: submission.definition_hash.clone(),
        content_hash: submission.content_hash.clone(),
        content: prepared.content.clone(),
        warnings: prepared.warnings.clone(),
        calculations: prepared.calculations.clone(),
        received_at_ms: now,
    };
    tx.put(
        TreeId::Revisions,
        revision_key(&interview.instance_id, interview.revision),
        &revision,
    );
    save_interview(tx, &interview, old_status);
    tx.event(
        &enumerator.name,
        "submission.accepted",
        &interview.instance_id,
        &interview.audience(),
        serde_json::json!({"interview": interview, "version": submission.version}),
    );
    Ok(SubmitOutcome::Created {
        revision: interview.revision,
        interview,
    })
}

fn check_assignment(
    assignment: &Assignment,
    submission: &Submission,
    enumerator: &User,
) -> Result<(), Error> {
    if assignment.enumerator != enumerator.name {
        return Err(Error::Forbidden(format!(
            "assignment {} is not yours",
            assignment.id
        )));
    }
    if assignment.questionnaire != submission.questionnaire {
        return Err(Error::Conflict(format!(
            "assignment {} is for questionnaire {}, not {}; open the assignment again and use its questionnaire",
            assignment.id, assignment.questionnaire, submission.questionnaire
        )));
    }
    if !assignment.allowed_versions.contains(&submission.version) {
        return Err(Error::Conflict(format!(
            "version {} of {} is not allowed for this assignment (allowed: {}); sync to get the right version, \
             then re-enter the interview in it",
            submission.version,
            submission.questionnaire,
            assignment.allowed_versions.join(", ")
        )));
    }
    Ok(())
}
