//! A write transaction as the domain code sees it: reads that see its own writes, puts,
//! removals, events and counter bumps, collected in memory and applied by
//! [`crate::store::Store`] as one unit (one journal line, one sled batch per tree).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::Error;
use crate::store::codec;
use crate::store::events::{Event, feed_key, seq_key};
use crate::store::journal::Write;
use crate::store::tree::TreeId;

/// Pending changes of one write. Created by the store under its write lock, so reads here
/// see every earlier write and nothing can interleave.
pub struct Tx<'a> {
    trees: &'a [sled::Tree],
    writes: Vec<Write>,
    latest: HashMap<(TreeId, String), usize>,
    counters: BTreeMap<String, i64>,
    next_seq: u64,
    last_seq: u64,
    now_ms: i64,
}

impl<'a> Tx<'a> {
    pub(crate) fn new(trees: &'a [sled::Tree], next_seq: u64, now_ms: i64) -> Self {
        Tx {
            trees,
            writes: Vec::new(),
            latest: HashMap::new(),
            counters: BTreeMap::new(),
            next_seq,
            last_seq: 0,
            now_ms,
        }
    }

    /// The time of this write, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Reads a record, seeing this transaction's own earlier writes.
    pub fn get<T: DeserializeOwned>(&self, tree: TreeId, key: &str) -> Result<Option<T>, Error> {
        if let Some(&index) = self.latest.get(&(tree, key.to_owned())) {
            return match &self.writes[index].value {
                Some(bytes) => codec::decode(tree, key.as_bytes(), bytes).map(Some),
                None => Ok(None),
            };
        }
        match self.trees[tree.index()].get(key.as_bytes())? {
            Some(bytes) => codec::decode(tree, key.as_bytes(), &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// True when the key exists (seeing this transaction's writes).
    pub fn contains(&self, tree: TreeId, key: &str) -> Result<bool, Error> {
        if let Some(&index) = self.latest.get(&(tree, key.to_owned())) {
            return Ok(self.writes[index].value.is_some());
        }
        Ok(self.trees[tree.index()].contains_key(key.as_bytes())?)
    }

    /// Stores a record.
    pub fn put<T: Serialize>(&mut self, tree: TreeId, key: String, value: &T) {
        self.push(tree, key, Some(codec::encode(value)));
    }

    /// Stores an index entry (an empty record).
    pub fn put_marker(&mut self, tree: TreeId, key: String) {
        self.push(tree, key, Some(codec::encode(&())));
    }

    /// Removes a key.
    pub fn remove(&mut self, tree: TreeId, key: String) {
        self.push(tree, key, None);
    }

    /// Adds `delta` to a progress counter.
    pub fn bump(&mut self, counter: String, delta: i64) {
        *self.counters.entry(counter).or_insert(0) += delta;
    }

    /// Appends an event to the log and to the feed of each user in `audience`; returns its
    /// sequence number.
    pub fn event(
        &mut self,
        actor: &str,
        kind: &str,
        subject: &str,
        audience: &[&str],
        data: serde_json::Value,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.last_seq = seq;
        let mut audience: Vec<String> = audience.iter().map(|a| (*a).to_owned()).collect();
        audience.sort();
        audience.dedup();
        for user in &audience {
            self.put_marker(TreeId::Feeds, feed_key(user, seq));
        }
        let event = Event {
            seq,
            at_ms: self.now_ms,
            actor: actor.to_owned(),
            kind: kind.to_owned(),
            subject: subject.to_owned(),
            audience,
            data,
        };
        self.put(TreeId::Events, seq_key(seq), &event);
        seq
    }

    fn push(&mut self, tree: TreeId, key: String, value: Option<Vec<u8>>) {
        self.latest.insert((tree, key.clone()), self.writes.len());
        self.writes.push(Write { tree, key, value });
    }

    /// Turns the collected counter deltas into writes and returns everything to apply.
    pub(crate) fn finish(mut self) -> Result<Finished, Error> {
        let counters = std::mem::take(&mut self.counters);
        for (key, delta) in counters {
            if delta == 0 {
                continue;
            }
            let current: i64 = self.get(TreeId::Counters, &key)?.unwrap_or(0);
            self.put(TreeId::Counters, key, &(current + delta));
        }
        Ok(Finished {
            writes: self.writes,
            next_seq: self.next_seq,
            last_seq: self.last_seq,
        })
    }
}

/// The outcome of [`Tx::finish`].
pub(crate) struct Finished {
    pub writes: Vec<Write>,
    pub next_seq: u64,
    pub last_seq: u64,
}
