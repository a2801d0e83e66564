//! The two state machines: an assignment's and an interview's.
//!
//! ```text
//! assignment:  assigned ──start──▶ in_progress ──submit (quantity reached)──▶ completed
//!                 └──────────submit (quantity reached)───────────────────────────┘
//!              any but closed ──close──▶ closed
//! interview:   (new) ──submit──▶ completed ──approve──▶ approved
//!                                   │  ▲                   
//!                                reject │
//!                                   ▼  │ resubmit
//!                                rejected ──resubmit──▶ resubmitted ──approve/reject──▶ …
//! ```
//! Anything else is illegal and answered with a 409 naming the current status.

use serde::{Deserialize, Serialize};

use crate::store::Error;

/// Where an assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    Assigned,
    InProgress,
    Completed,
    Closed,
}

impl AssignmentStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [AssignmentStatus; 4] = [
        AssignmentStatus::Assigned,
        AssignmentStatus::InProgress,
        AssignmentStatus::Completed,
        AssignmentStatus::Closed,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentStatus::Assigned => "assigned",
            AssignmentStatus::InProgress => "in_progress",
            AssignmentStatus::Completed => "completed",
            AssignmentStatus::Closed => "closed",
        }
    }

    /// The status after the enumerator opens the assignment.
    pub fn start(self) -> Result<Self, Error> {
        match self {
            AssignmentStatus::Assigned | AssignmentStatus::InProgress => {
                Ok(AssignmentStatus::InProgress)
            }
            other => Err(illegal("assignment", other.as_str(), "start")),
        }
    }

    /// The status after a new interview is accepted, given how many the assignment now has.
    pub fn submit(self, submitted: u32, quantity: u32) -> Result<Self, Error> {
        match self {
            AssignmentStatus::Closed => Err(Error::Conflict(
                "this assignment is closed and takes no more interviews; ask your supervisor to reopen it or to give you a new assignment"
                    .into(),
            )),
            AssignmentStatus::Completed => Err(Error::Conflict(format!(
                "this assignment already has its {quantity} interview(s); ask your supervisor for a new assignment"
            ))),
            _ if submitted >= quantity => Ok(AssignmentStatus::Completed),
            _ => Ok(AssignmentStatus::InProgress),
        }
    }

    /// The status after a manager closes the assignment.
    pub fn close(self) -> Result<Self, Error> {
        match self {
            AssignmentStatus::Closed => Err(illegal("assignment", "closed", "close")),
            _ => Ok(AssignmentStatus::Closed),
        }
    }
}

/// Where an interview (one instance id) stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterviewStatus {
    Completed,
    Approved,
    Rejected,
    Resubmitted,
}

impl InterviewStatus {
    /// Every status.
    pub const ALL: [InterviewStatus; 4] = [
        InterviewStatus::Completed,
        InterviewStatus::Approved,
        InterviewStatus::Rejected,
        InterviewStatus::Resubmitted,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            InterviewStatus::Completed => "completed",
            InterviewStatus::Approved => "approved",
            InterviewStatus::Rejected => "rejected",
            InterviewStatus::Resubmitted => "resubmitted",
        }
    }

    /// True when a supervisor has something to decide.
    pub fn awaits_review(self) -> bool {
        matches!(
            self,
            InterviewStatus::Completed | InterviewStatus::Resubmitted
        )
    }

    /// The status after a supervisor's decision.
    pub fn review(self, approve: bool) -> Result<Self, Error> {
        match (self, approve) {
            (s, true) if s.awaits_review() => Ok(InterviewStatus::Approved),
            (s, false) if s.awaits_review() => Ok(InterviewStatus::Rejected),
            (s, approve) => Err(illegal(
                "interview",
                s.as_str(),
                if approve { "approve" } else { "reject" },
            )),
        }
    }

    /// The status after the enumerator sends a corrected revision.
    pub fn resubmit(self) -> Result<Self, Error> {
        match self {
            InterviewStatus::Rejected => Ok(InterviewStatus::Resubmitted),
            InterviewStatus::Approved => Err(Error::Conflict(
                "this interview was already approved and cannot change; if it must be corrected, ask your supervisor"
                    .into(),
            )),
            other => Err(Error::Conflict(format!(
                "an interview with this instance id was already received with different content and is {}; \
                 a changed version can only be sent after a supervisor rejects it (use a new instance id for a new interview)",
                other.as_str()
            ))),
        }
    }
}

fn illegal(what: &str, status: &str, action: &str) -> Error {
    Error::Conflict(format!("cannot {action} an {what} that is {status}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_transitions() {
        let a = AssignmentStatus::Assigned;
        assert_eq!(a.start().ok(), Some(AssignmentStatus::InProgress));
        assert_eq!(a.submit(1, 2).ok(), Some(AssignmentStatus::InProgress));
        assert_eq!(a.submit(2, 2).ok(), Some(AssignmentStatus::Completed));
        assert!(AssignmentStatus::Completed.start().is_err());
        assert!(AssignmentStatus::Completed.submit(3, 2).is_err());
        assert!(AssignmentStatus::Closed.submit(0, 1).is_err());
        assert!(AssignmentStatus::Closed.close().is_err());
        assert_eq!(
            AssignmentStatus::Completed.close().ok(),
            Some(AssignmentStatus::Closed)
        );
    }

    #[test]
    fn interview_transitions() {
        use InterviewStatus::*;
        assert_eq!(Completed.review(true).ok(), Some(Approved));
        assert_eq!(Completed.review(false).ok(), Some(Rejected));
        assert_eq!(Rejected.resubmit().ok(), Some(Resubmitted));
        assert_eq!(Resubmitted.review(true).ok(), Some(Approved));
        assert!(Approved.review(false).is_err());
        assert!(Rejected.review(true).is_err());
        assert!(Completed.resubmit().is_err());
        assert!(Approved.resubmit().is_err());
    }
}
