//! The append-only event log and the per-user feeds that sync reads.
//!
//! Every state change writes one [`Event`] keyed by its sequence number, in the same atomic
//! write as the change itself. An event names the users it concerns (`audience`), and each
//! of them gets a feed entry, so an enumerator's sync reads only their own feed instead of
//! scanning everyone's events. Managers, admins, designers and researchers read the whole
//! log.
//!
//! Sync never shows an event beyond the durable watermark: sequences are allocated under
//! the write lock and become visible in sled before their group commit, and a crash could
//! otherwise let a client see sequence N that is then reused for a different change.

use serde::{Deserialize, Serialize};

use crate::store::tree::TreeId;
use crate::store::{Error, Store, codec};

/// One state change: who did what to which thing, when, and its data at that moment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub seq: u64,
    pub at_ms: i64,
    pub actor: String,
    /// `assignment.created`, `assignment.started`, `assignment.closed`,
    /// `submission.accepted`, `review.decided`, `questionnaire.published`,
    /// `questionnaire.draft_uploaded`, `user.created`, `user.team_changed`.
    pub kind: String,
    /// The id of the thing changed.
    pub subject: String,
    /// Users whose sync shows this event (besides the whole-log readers).
    pub audience: Vec<String>,
    /// The changed thing as it was after the change.
    pub data: serde_json::Value,
}

/// Which events a caller's sync reads.
#[derive(Debug, Clone)]
pub enum Feed {
    /// The whole log.
    All,
    /// The events naming this user in their audience.
    User(String),
}

/// A page of changes.
#[derive(Debug, Clone, Serialize)]
pub struct ChangesPage {
    pub changes: Vec<Event>,
    /// Pass as `since` next time; equals the input when there was nothing new.
    pub next: u64,
    /// True when more changes are available right now (the page was full).
    pub more: bool,
}

pub(crate) fn seq_key(seq: u64) -> String {
    format!("{seq:020}")
}

pub(crate) fn feed_key(user: &str, seq: u64) -> String {
    format!("{user}\u{0}{seq:020}")
}

pub(crate) fn parse_seq_key(key: &[u8]) -> Result<u64, Error> {
    std::str::from_utf8(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Corrupt {
            tree: "events",
            key: String::from_utf8_lossy(key).into_owned(),
            reason: "not a sequence number".into(),
        })
}

impl Store {
    /// Events of `feed` with sequence greater than `since`, at most `limit`, never beyond the
    /// durable watermark. `more` tells the caller to ask again with `next`.
    pub fn changes_since(
        &self,
        feed: &Feed,
        since: u64,
        limit: usize,
    ) -> Result<ChangesPage, Error> {
        let durable = self.durable_seq();
        let mut seqs: Vec<u64> = Vec::new();
        let mut more = false;
        match feed {
            Feed::All => {
                let start = seq_key(since.saturating_add(1));
                for entry in self.tree(TreeId::Events).range(start.as_bytes()..) {
                    let (key, _) = entry?;
                    let seq = parse_seq_key(&key)?;
                    if seq > durable {
                        break;
                    }
                    if seqs.len() == limit {
                        more = true;
                        break;
                    }
                    seqs.push(seq);
                }
            }
            Feed::User(user) => {
                let start = feed_key(user, since.saturating_add(1));
                let prefix = format!("{user}\u{0}");
                for entry in self.tree(TreeId::Feeds).range(start.as_bytes()..) {
                    let (key, _) = entry?;
                    let Some(rest) = key.strip_prefix(prefix.as_bytes()) else {
                        break;
                    };
                    let seq = parse_seq_key(rest)?;
                    if seq > durable {
                        break;
                    }
                    if seqs.len() == limit {
                        more = true;
                        break;
                    }
                    seqs.push(seq);
                }
            }
        }
        let mut changes = Vec::with_capacity(seqs.len());
        for seq in &seqs {
            let key = seq_key(*seq);
            let bytes = self
                .tree(TreeId::Events)
                .get(key.as_bytes())?
                .ok_or_else(|| Error::Corrupt {
                    tree: "feeds",
                    key: key.clone(),
                    reason: "feed entry without its event".into(),
                })?;
            changes.push(codec::decode(TreeId::Events, key.as_bytes(), &bytes)?);
        }
        let next = seqs.last().copied().unwrap_or(since);
        Ok(ChangesPage {
            changes,
            next,
            more,
        })
    }
}
