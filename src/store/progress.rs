//! Progress counters, maintained in the same write as each status change.
//!
//! A counter key is `kind ␁ dimension ␁ value ␁ status` (␁ = U+0001, which no name can hold)
//! where kind is `assignment` or `interview` and dimension is `all`, `enumerator`, `team`,
//! `questionnaire`, `tier` or `province`. Reading progress is a scan of the counters tree,
//! whose size depends on the number of enumerators, questionnaires, tiers and provinces,
//! never on the number of submissions.

use serde::Serialize;

use crate::store::tree::TreeId;
use crate::store::{Error, Store, Tx, codec};

const SEP: char = '\u{1}';

/// The attributes a piece of work is counted under.
pub(crate) struct Dims<'a> {
    pub enumerator: &'a str,
    pub team: Option<&'a str>,
    pub questionnaire: &'a str,
    pub tier: Option<u32>,
    pub province: Option<&'a str>,
}

/// One counter.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProgressRow {
    /// `assignment` or `interview`.
    pub kind: String,
    /// `all`, `enumerator`, `team`, `questionnaire`, `tier` or `province`.
    pub dimension: String,
    /// The enumerator name, team supervisor, questionnaire id, tier or province (empty for `all`).
    pub value: String,
    pub status: String,
    pub count: i64,
}

/// Every non-zero counter.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub rows: Vec<ProgressRow>,
}

pub(crate) fn bump(tx: &mut Tx<'_>, kind: &str, dims: &Dims<'_>, status: &str, delta: i64) {
    let tier = dims.tier.map(|t| t.to_string());
    let pairs: [(&str, Option<&str>); 6] = [
        ("all", Some("")),
        ("enumerator", Some(dims.enumerator)),
        ("team", dims.team),
        ("questionnaire", Some(dims.questionnaire)),
        ("tier", tier.as_deref()),
        ("province", dims.province),
    ];
    for (dimension, value) in pairs {
        if let Some(value) = value {
            tx.bump(
                format!("{kind}{SEP}{dimension}{SEP}{value}{SEP}{status}"),
                delta,
            );
        }
    }
}

impl Store {
    /// All progress counters (zero counts left out).
    pub fn progress(&self) -> Result<Progress, Error> {
        let mut rows = Vec::new();
        for entry in self.tree(TreeId::Counters).iter() {
            let (key, value) = entry?;
            let count: i64 = codec::decode(TreeId::Counters, &key, &value)?;
            if count == 0 {
                continue;
            }
            let text = String::from_utf8_lossy(&key);
            let parts: Vec<&str> = text.split(SEP).collect();
            let [kind, dimension, value, status] = parts.as_slice() else {
                return Err(Error::Corrupt {
                    tree: "counters",
                    key: text.into_owned(),
                    reason: "not kind/dimension/value/status".into(),
                });
            };
            rows.push(ProgressRow {
                kind: (*kind).to_owned(),
                dimension: (*dimension).to_owned(),
                value: (*value).to_owned(),
                status: (*status).to_owned(),
                count,
            });
        }
        Ok(Progress { rows })
    }
}
