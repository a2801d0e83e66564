//! Review: supervisors' decisions on interviews, and their queue.

use serde::{Deserialize, Serialize};

use crate::store::submissions::{Interview, queue_key, save_interview};
use crate::store::tree::TreeId;
use crate::store::{Durable, Error, Store, codec};

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Approve,
    Reject,
}

/// A comment on one answer, addressed by its JSON pointer into the answers
/// (e.g. `/suppliers/2/sup_share`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QuestionComment {
    pub path: String,
    pub comment: String,
}

/// A review decision on one revision of an interview.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Decision {
    pub instance_id: String,
    pub revision: u32,
    pub verdict: Verdict,
    pub reviewer: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub question_comments: Vec<QuestionComment>,
    pub at_ms: i64,
}

impl Store {
    /// Records a decision on the latest revision. Illegal transitions (deciding twice,
    /// deciding an approved interview) are conflicts. The caller has checked that the
    /// reviewer may review this interview.
    pub fn review(
        &self,
        instance_id: &str,
        verdict: Verdict,
        comment: String,
        question_comments: Vec<QuestionComment>,
        reviewer: &str,
    ) -> Result<Durable<(Interview, Decision)>, Error> {
        self.write(|tx| {
            let mut interview: Interview =
                tx.get(TreeId::Submissions, instance_id)?
                    .ok_or_else(|| Error::NotFound {
                        what: "interview",
                        id: instance_id.to_owned(),
                    })?;
            let old = interview.status;
            interview.status = old.review(verdict == Verdict::Approve)?;
            interview.updated_at_ms = tx.now_ms();
            let decision = Decision {
                instance_id: instance_id.to_owned(),
                revision: interview.revision,
                verdict,
                reviewer: reviewer.to_owned(),
                comment: comment.clone(),
                question_comments: question_comments.clone(),
                at_ms: tx.now_ms(),
            };
            save_interview(tx, &interview, Some(old));
            let seq = tx.event(
                reviewer,
                "review.decided",
                instance_id,
                &interview.audience(),
                serde_json::json!({"interview": interview, "decision": decision}),
            );
            tx.put(
                TreeId::Reviews,
                format!("{instance_id}/{seq:020}"),
                &decision,
            );
            Ok((interview, decision))
        })
    }

    /// Every decision on an interview, oldest first.
    pub fn decisions(&self, instance_id: &str) -> Result<Vec<Decision>, Error> {
        let prefix = format!("{instance_id}/");
        let mut out = Vec::new();
        for entry in self.tree(TreeId::Reviews).scan_prefix(prefix.as_bytes()) {
            let (key, value) = entry?;
            out.push(codec::decode(TreeId::Reviews, &key, &value)?);
        }
        Ok(out)
    }

    /// Interviews waiting for review: a supervisor's team's (`Some`), or everyone's (`None`,
    /// for managers). A page after `after` (an instance id), at most `limit`.
    pub fn review_queue(
        &self,
        supervisor: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Interview>, bool), Error> {
        let prefix = supervisor.map(|s| format!("{s}\u{0}")).unwrap_or_default();
        // The cursor is the last instance id returned; its queue key is found through the
        // interview's supervisor, so managers (whole queue) and supervisors page alike.
        let start = match after {
            Some(a) => {
                let owner = self.interview(a)?.and_then(|i| i.supervisor);
                format!("{}\u{0}", queue_key(owner.as_deref().or(supervisor), a))
            }
            None => prefix.clone(),
        };
        let mut out = Vec::new();
        let mut more = false;
        for entry in self.tree(TreeId::ReviewQueue).range(start.as_bytes()..) {
            let (key, _) = entry?;
            if !key.starts_with(prefix.as_bytes()) {
                break;
            }
            let text = String::from_utf8_lossy(&key);
            let Some((_, instance)) = text.split_once('\u{0}') else {
                continue;
            };
            let Some(interview) = self.interview(instance)? else {
                continue;
            };
            if out.len() == limit {
                more = true;
                break;
            }
            out.push(interview);
        }
        Ok((out, more))
    }
}
