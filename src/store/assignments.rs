//! Assignments: who interviews which unit with which questionnaire versions.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::store::progress::{Dims, bump};
use crate::store::status::AssignmentStatus;
use crate::store::tree::TreeId;
use crate::store::users::{Role, User};
use crate::store::{Durable, Error, Store, codec};

/// The unit an assignment is about, with the attributes progress is counted by.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Target {
    /// Frame unit id (enterprise, household business) or worker id.
    pub unit_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
}

/// A request to create an assignment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAssignment {
    pub questionnaire: String,
    /// Versions an interview may use; default: the latest published version.
    #[serde(default)]
    pub allowed_versions: Option<Vec<String>>,
    pub enumerator: String,
    pub target: Target,
    /// Answers filled in before the interview.
    #[serde(default)]
    pub preload: Option<Box<RawValue>>,
    /// When true the enumerator may not change preloaded answers.
    #[serde(default)]
    pub preload_protected: bool,
    /// Number of interviews expected (default 1).
    #[serde(default)]
    pub quantity: Option<u32>,
}

/// An assignment as stored and as sent to clients.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Assignment {
    /// UUID v7: time ordered, so listings come out in creation order.
    pub id: String,
    pub questionnaire: String,
    pub allowed_versions: Vec<String>,
    pub enumerator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<String>,
    pub target: Target,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preload: Option<Box<RawValue>>,
    pub preload_protected: bool,
    pub quantity: u32,
    pub submitted: u32,
    pub status: AssignmentStatus,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Assignment {
    pub(crate) fn dims(&self) -> Dims<'_> {
        Dims {
            enumerator: &self.enumerator,
            team: self.supervisor.as_deref(),
            questionnaire: &self.questionnaire,
            tier: self.target.tier,
            province: self.target.province.as_deref(),
        }
    }

    fn audience(&self) -> Vec<&str> {
        std::iter::once(self.enumerator.as_str())
            .chain(self.supervisor.as_deref())
            .collect()
    }
}

fn by_enumerator_key(enumerator: &str, id: &str) -> String {
    format!("{enumerator}\u{0}{id}")
}

/// Writes an assignment whose status changed from `old` (if any), keeping counters right.
pub(crate) fn save(
    tx: &mut crate::store::Tx<'_>,
    assignment: &Assignment,
    old: Option<AssignmentStatus>,
) {
    if old != Some(assignment.status) {
        if let Some(old) = old {
            bump(tx, "assignment", &assignment.dims(), old.as_str(), -1);
        }
        bump(
            tx,
            "assignment",
            &assignment.dims(),
            assignment.status.as_str(),
            1,
        );
    }
    tx.put(TreeId::Assignments, assignment.id.clone(), assignment);
}

impl Store {
    /// Creates assignments, all or none. Errors name the item (0-based) at fault.
    pub fn create_assignments(
        &self,
        items: Vec<NewAssignment>,
        actor: &str,
    ) -> Result<Durable<Vec<Assignment>>, Error> {
        self.write(|tx| self.create_assignments_in(tx, items, actor))
    }

    /// [`Store::create_assignments`] inside a caller's transaction, so that other records
    /// (e.g. a survey's "already assigned" markers) commit atomically with the assignments.
    pub(crate) fn create_assignments_in(
        &self,
        tx: &mut crate::store::Tx<'_>,
        items: Vec<NewAssignment>,
        actor: &str,
    ) -> Result<Vec<Assignment>, Error> {
        {
            let mut created = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                let at = |msg: String| Error::Invalid(format!("assignment {index}: {msg}"));
                let user: User = tx
                    .get(TreeId::Users, &item.enumerator)?
                    .ok_or_else(|| at(format!("enumerator {} does not exist", item.enumerator)))?;
                if user.role != Role::Enumerator {
                    return Err(at(format!(
                        "{} is a {}, not an enumerator",
                        user.name, user.role
                    )));
                }
                let allowed = match item.allowed_versions {
                    Some(versions) if !versions.is_empty() => versions,
                    Some(_) => return Err(at("allowed_versions is empty".into())),
                    None => {
                        let latest =
                            self.latest_published(&item.questionnaire)?.ok_or_else(|| {
                                at(format!(
                                    "questionnaire {} has no published version",
                                    item.questionnaire
                                ))
                            })?;
                        vec![latest.version]
                    }
                };
                for version in &allowed {
                    if !tx.contains(
                        TreeId::Questionnaires,
                        &format!("{}/{version}", item.questionnaire),
                    )? {
                        return Err(at(format!(
                            "version {version} of questionnaire {} is not published",
                            item.questionnaire
                        )));
                    }
                }
                if item.target.unit_id.is_empty() {
                    return Err(at("target.unit_id is empty".into()));
                }
                let quantity = item.quantity.unwrap_or(1);
                if quantity == 0 {
                    return Err(at("quantity must be at least 1".into()));
                }
                if let Some(preload) = &item.preload
                    && !preload.get().trim_start().starts_with('{')
                {
                    return Err(at("preload must be a JSON object of answers".into()));
                }
                let assignment = Assignment {
                    id: uuid::Uuid::now_v7().to_string(),
                    questionnaire: item.questionnaire,
                    allowed_versions: allowed,
                    enumerator: item.enumerator,
                    supervisor: user.supervisor.clone(),
                    target: item.target,
                    preload: item.preload,
                    preload_protected: item.preload_protected,
                    quantity,
                    submitted: 0,
                    status: AssignmentStatus::Assigned,
                    created_by: actor.to_owned(),
                    created_at_ms: tx.now_ms(),
                    updated_at_ms: tx.now_ms(),
                };
                save(tx, &assignment, None);
                tx.put_marker(
                    TreeId::AssignmentsByEnumerator,
                    by_enumerator_key(&assignment.enumerator, &assignment.id),
                );
                tx.event(
                    actor,
                    "assignment.created",
                    &assignment.id,
                    &assignment.audience(),
                    serde_json::to_value(&assignment).unwrap_or_default(),
                );
                created.push(assignment);
            }
            Ok(created)
        }
    }

    /// An assignment by id.
    pub fn assignment(&self, id: &str) -> Result<Option<Assignment>, Error> {
        self.get(TreeId::Assignments, id)
    }

    /// A page of assignments after `after` (an id), at most `limit`: an enumerator's own
    /// when `enumerator` is given, else all those `keep` accepts.
    pub fn list_assignments(
        &self,
        enumerator: Option<&str>,
        after: Option<&str>,
        limit: usize,
        keep: &dyn Fn(&Assignment) -> bool,
    ) -> Result<(Vec<Assignment>, bool), Error> {
        let mut out = Vec::new();
        let mut more = false;
        match enumerator {
            Some(user) => {
                let prefix = format!("{user}\u{0}");
                let start = match after {
                    Some(id) => format!("{prefix}{id}\u{0}"),
                    None => prefix.clone(),
                };
                for entry in self
                    .tree(TreeId::AssignmentsByEnumerator)
                    .range(start.as_bytes()..)
                {
                    let (key, _) = entry?;
                    let Some(id) = key.strip_prefix(prefix.as_bytes()) else {
                        break;
                    };
                    let id = String::from_utf8_lossy(id);
                    let Some(assignment) = self.assignment(&id)? else {
                        continue;
                    };
                    if !keep(&assignment) {
                        continue;
                    }
                    if out.len() == limit {
                        more = true;
                        break;
                    }
                    out.push(assignment);
                }
            }
            None => {
                let start = match after {
                    Some(id) => format!("{id}\u{0}"),
                    None => String::new(),
                };
                for entry in self.tree(TreeId::Assignments).range(start.as_bytes()..) {
                    let (key, value) = entry?;
                    let assignment: Assignment = codec::decode(TreeId::Assignments, &key, &value)?;
                    if !keep(&assignment) {
                        continue;
                    }
                    if out.len() == limit {
                        more = true;
                        break;
                    }
                    out.push(assignment);
                }
            }
        }
        Ok((out, more))
    }

    /// The enumerator opens an assignment (assigned → in progress).
    pub fn start_assignment(&self, id: &str, actor: &str) -> Result<Durable<Assignment>, Error> {
        self.change_assignment(id, actor, "assignment.started", AssignmentStatus::start)
    }

    /// A manager closes an assignment: no more interviews are accepted for it.
    pub fn close_assignment(&self, id: &str, actor: &str) -> Result<Durable<Assignment>, Error> {
        self.change_assignment(id, actor, "assignment.closed", AssignmentStatus::close)
    }

    fn change_assignment(
        &self,
        id: &str,
        actor: &str,
        kind: &str,
        next: fn(AssignmentStatus) -> Result<AssignmentStatus, Error>,
    ) -> Result<Durable<Assignment>, Error> {
        self.write(|tx| {
            let mut assignment: Assignment =
                tx.get(TreeId::Assignments, id)?
                    .ok_or_else(|| Error::NotFound {
                        what: "assignment",
                        id: id.to_owned(),
                    })?;
            let old = assignment.status;
            assignment.status = next(old)?;
            assignment.updated_at_ms = tx.now_ms();
            save(tx, &assignment, Some(old));
            tx.event(
                actor,
                kind,
                id,
                &assignment.audience(),
                serde_json::to_value(&assignment).unwrap_or_default(),
            );
            Ok(assignment)
        })
    }
}
