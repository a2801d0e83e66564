//! Questionnaire drafts and published, immutable versions.
//!
//! The store does not lint: the server lints a draft with the questionnaire engine before
//! calling [`Store::put_draft`], and publishing copies the stored draft, so only lint-clean
//! text can become a version. A published `(id, version)` is never overwritten.

use std::sync::{Arc, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::store::canonical::{canonical_json, sha256_hex};
use crate::store::tree::TreeId;
use crate::store::{Durable, Error, Store, codec};

/// The latest uploaded draft of a questionnaire id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Draft {
    pub id: String,
    pub version: String,
    pub definition: Box<RawValue>,
    pub uploaded_by: String,
    pub uploaded_at_ms: i64,
}

/// A published version: immutable, identified by `(id, version)` and its content hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Published {
    pub id: String,
    pub version: String,
    /// SHA-256 of the canonical JSON of the definition.
    pub hash: String,
    pub definition: Box<RawValue>,
    pub published_by: String,
    pub published_at_ms: i64,
}

/// A published version without its definition, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedSummary {
    pub id: String,
    pub version: String,
    pub hash: String,
    pub published_by: String,
    pub published_at_ms: i64,
}

fn version_key(id: &str, version: &str) -> String {
    format!("{id}/{version}")
}

impl Store {
    /// Stores (or replaces) the draft of `definition["id"]`. The caller has linted it.
    pub fn put_draft(
        &self,
        id: &str,
        version: &str,
        definition: &serde_json::Value,
        actor: &str,
    ) -> Result<Durable<Draft>, Error> {
        let raw = RawValue::from_string(canonical_json(definition))
            .map_err(|err| Error::Invalid(format!("definition is not JSON: {err}")))?;
        self.write(|tx| {
            let draft = Draft {
                id: id.to_owned(),
                version: version.to_owned(),
                definition: raw,
                uploaded_by: actor.to_owned(),
                uploaded_at_ms: tx.now_ms(),
            };
            tx.put(TreeId::Drafts, id.to_owned(), &draft);
            tx.event(
                actor,
                "questionnaire.draft_uploaded",
                id,
                &[],
                serde_json::json!({"id": id, "version": version}),
            );
            Ok(draft)
        })
    }

    /// The current draft of a questionnaire id.
    pub fn draft(&self, id: &str) -> Result<Option<Draft>, Error> {
        self.get(TreeId::Drafts, id)
    }

    /// Publishes the current draft of `id` as an immutable version. 409 when that version
    /// already exists.
    pub fn publish(&self, id: &str, actor: &str) -> Result<Durable<PublishedSummary>, Error> {
        self.write(|tx| {
            let draft: Draft = tx.get(TreeId::Drafts, id)?.ok_or_else(|| Error::NotFound {
                what: "draft",
                id: id.to_owned(),
            })?;
            let key = version_key(id, &draft.version);
            if tx.contains(TreeId::Questionnaires, &key)? {
                return Err(Error::Conflict(format!(
                    "version {} of {id} is already published and cannot change; give the draft a new version",
                    draft.version
                )));
            }
            let published = Published {
                id: id.to_owned(),
                version: draft.version.clone(),
                hash: sha256_hex(draft.definition.get().as_bytes()),
                definition: draft.definition,
                published_by: actor.to_owned(),
                published_at_ms: tx.now_ms(),
            };
            tx.put(TreeId::Questionnaires, key, &published);
            tx.remove(TreeId::Drafts, id.to_owned());
            let summary = summary(&published);
            tx.event(
                actor,
                "questionnaire.published",
                id,
                &[],
                serde_json::to_value(&summary).unwrap_or_default(),
            );
            Ok(summary)
        })
    }

    /// A published version.
    pub fn published(&self, id: &str, version: &str) -> Result<Option<Published>, Error> {
        self.get(TreeId::Questionnaires, &version_key(id, version))
    }

    /// A published version, shared: decoded from the database once per open store and kept
    /// (published versions never change), so the submission path does not decode the
    /// definition per request.
    pub fn published_shared(
        &self,
        id: &str,
        version: &str,
    ) -> Result<Option<Arc<Published>>, Error> {
        let key = version_key(id, version);
        let cache = &self.inner.published;
        if let Some(found) = cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(Some(Arc::clone(found)));
        }
        let Some(published) = self.get::<Published>(TreeId::Questionnaires, &key)? else {
            return Ok(None);
        };
        let published = Arc::new(published);
        cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::clone(&published));
        Ok(Some(published))
    }

    /// Every published version (of one id, or of all), in id then publication order.
    pub fn list_published(&self, id: Option<&str>) -> Result<Vec<PublishedSummary>, Error> {
        let prefix = id.map(|id| format!("{id}/")).unwrap_or_default();
        let mut out = Vec::new();
        for entry in self
            .tree(TreeId::Questionnaires)
            .scan_prefix(prefix.as_bytes())
        {
            let (key, value) = entry?;
            let published: Published = codec::decode(TreeId::Questionnaires, &key, &value)?;
            out.push(summary(&published));
        }
        out.sort_by(|a, b| {
            (a.id.as_str(), a.published_at_ms).cmp(&(b.id.as_str(), b.published_at_ms))
        });
        Ok(out)
    }

    /// The most recently published version of `id`.
    pub fn latest_published(&self, id: &str) -> Result<Option<Published>, Error> {
        let latest = self.list_published(Some(id))?.into_iter().last();
        match latest {
            Some(s) => self.published(&s.id, &s.version),
            None => Ok(None),
        }
    }
}

fn summary(p: &Published) -> PublishedSummary {
    PublishedSummary {
        id: p.id.clone(),
        version: p.version.clone(),
        hash: p.hash.clone(),
        published_by: p.published_by.clone(),
        published_at_ms: p.published_at_ms,
    }
}
