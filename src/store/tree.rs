//! The names of the sled trees and what each holds.

/// One sled tree. The journal names trees by [`TreeId::name`], so names never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TreeId {
    /// `name` → user record (role, password hash, supervisor).
    Users,
    /// token id → token record (user, SHA-256 of the secret).
    Tokens,
    /// questionnaire id → the latest uploaded draft.
    Drafts,
    /// `id/version` → a published, immutable questionnaire version.
    Questionnaires,
    /// assignment id (UUID v7, time ordered) → assignment.
    Assignments,
    /// `enumerator\0assignment id` → empty; an enumerator's own assignments in order.
    AssignmentsByEnumerator,
    /// instance id → interview head (status, latest revision, owner).
    Submissions,
    /// `instance id/revision (6 digits)` → one submitted revision with its content.
    Revisions,
    /// `instance id/decision seq` → a review decision.
    Reviews,
    /// sequence (20 digits) → event; the append-only audit log.
    Events,
    /// `audience\0sequence` → empty; which events each user's sync sees.
    Feeds,
    /// counter key → signed count; progress figures maintained on write.
    Counters,
    /// `questionnaire id\0instance id` → empty. No longer written (nothing read it; the
    /// export scans the interview heads); kept so that databases and journals written by
    /// earlier versions still open and replay.
    SubmissionsByQuestionnaire,
    /// `supervisor\0instance id` → empty; interviews waiting for review (team-less ones
    /// under the empty supervisor name).
    ReviewQueue,
    /// `survey id` → survey; `survey id/…` → its frame, sample, trace, worker and
    /// assignment records (see `surveys.rs`).
    Surveys,
}

impl TreeId {
    /// Every tree, in a fixed order.
    pub const ALL: [TreeId; 15] = [
        TreeId::Users,
        TreeId::Tokens,
        TreeId::Drafts,
        TreeId::Questionnaires,
        TreeId::Assignments,
        TreeId::AssignmentsByEnumerator,
        TreeId::Submissions,
        TreeId::Revisions,
        TreeId::Reviews,
        TreeId::Events,
        TreeId::Feeds,
        TreeId::Counters,
        TreeId::SubmissionsByQuestionnaire,
        TreeId::ReviewQueue,
        TreeId::Surveys,
    ];

    /// The sled tree name (also used in the journal).
    pub fn name(self) -> &'static str {
        match self {
            TreeId::Users => "users",
            TreeId::Tokens => "tokens",
            TreeId::Drafts => "drafts",
            TreeId::Questionnaires => "questionnaires",
            TreeId::Assignments => "assignments",
            TreeId::AssignmentsByEnumerator => "assignments_by_enumerator",
            TreeId::Submissions => "submissions",
            TreeId::Revisions => "revisions",
            TreeId::Reviews => "reviews",
            TreeId::Events => "events",
            TreeId::Feeds => "feeds",
            TreeId::Counters => "counters",
            TreeId::SubmissionsByQuestionnaire => "submissions_by_questionnaire",
            TreeId::ReviewQueue => "review_queue",
            TreeId::Surveys => "surveys",
        }
    }

    /// The tree with this journal name.
    pub fn from_name(name: &str) -> Option<TreeId> {
        TreeId::ALL.into_iter().find(|t| t.name() == name)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
