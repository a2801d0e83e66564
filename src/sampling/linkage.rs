//! Record linkage of reported tax codes to frame units, and the supplier → buyers index used
//! to count L_i over a whole tier.
//!
//! Matching rule (documented in `docs/design-format.md`): the reported code is normalised
//! ([`TaxCode`]: digits only, 10 or 13 digits); an exact match wins; a 13-digit branch code
//! with no unit of its own falls back to its 10-digit parent enterprise (the register often
//! lists only the head office) and the match is flagged as `parent`. Anything else is
//! unmatched with a reason.
//!
//! The tax-code index is a flat open-addressing table (linear probing, load ≤ 1/2) rather
//! than a `HashMap`: a lookup in a million-unit frame is one cache miss instead of two
//! (control bytes, then bucket), and tracing millions of roster rows is bound by exactly
//! those misses. [`LinkageIndex::lookup_keys`] looks up a batch of keys with independent
//! loads so the processor overlaps the misses.

use crate::frame::{Adjacency, Frame, TaxCode, UnitIdx};

/// How a reported code found its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchKind {
    /// The normalised code equals the unit's.
    Exact,
    /// A branch code matched its parent enterprise.
    Parent,
}

impl MatchKind {
    pub fn name(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Parent => "parent",
        }
    }
}

/// Why a reported code did not give a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoMatch {
    /// No code was reported (name only).
    Missing,
    /// The text is not a Vietnamese tax code (e.g. a foreign supplier's identifier).
    Invalid,
    /// A well-formed code that no frame unit has.
    NotInFrame,
}

const EMPTY: u32 = u32::MAX;

/// Tax-code index and supplier → buyers adjacency of a frame, built once per frame.
pub struct LinkageIndex {
    /// `(key, unit)` slots; `unit == EMPTY` marks a free slot.
    slots: Vec<(u64, u32)>,
    /// Right shift that turns a 64-bit Fibonacci hash into a slot number.
    shift: u32,
    /// `buyers.neighbours(i)` = buyers of unit i in the frame's links.
    pub buyers: Adjacency,
}

impl LinkageIndex {
    /// Builds the index in O(units + links).
    pub fn build(frame: &Frame) -> LinkageIndex {
        let capacity = (frame.units.len() * 2).next_power_of_two().max(16);
        let mut index = LinkageIndex {
            slots: vec![(0, EMPTY); capacity],
            shift: 64 - capacity.trailing_zeros(),
            buyers: Adjacency::buyers(frame),
        };
        for (idx, unit) in frame.units.iter().enumerate() {
            if let Some(key) = unit.tax_code.as_deref().and_then(TaxCode::key_of) {
                index.insert(key, idx as u32);
            }
        }
        index
    }

    fn slot_of(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn insert(&mut self, key: u64, unit: u32) {
        let mask = self.slots.len() - 1;
        let mut slot = self.slot_of(key);
        loop {
            let entry = &mut self.slots[slot];
            if entry.1 == EMPTY || entry.0 == key {
                // Tax codes are unique in an imported frame; for a frame built in code with a
                // repeated code, the later unit wins, as a map insert would.
                *entry = (key, unit);
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The unit with tax-code key `key`.
    pub fn lookup_key(&self, key: u64) -> Option<UnitIdx> {
        let mask = self.slots.len() - 1;
        let mut slot = self.slot_of(key);
        loop {
            let (k, unit) = self.slots[slot];
            if unit == EMPTY {
                return None;
            }
            if k == key {
                return Some(unit as UnitIdx);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Looks up a batch of keys (`None` = no key), writing `out[k]`. The first probes of all
    /// keys are issued before any result is used, so their cache misses overlap.
    pub fn lookup_keys(&self, keys: &[Option<u64>], out: &mut Vec<Option<UnitIdx>>) {
        out.clear();
        let first: Vec<(u64, u32)> = keys
            .iter()
            .map(|key| key.map_or((0, EMPTY), |k| self.slots[self.slot_of(k)]))
            .collect();
        for (key, (k, unit)) in keys.iter().zip(first) {
            out.push(match key {
                None => None,
                Some(_) if unit == EMPTY => None,
                Some(key) if k == *key => Some(unit as UnitIdx),
                Some(key) => self.lookup_key(*key),
            });
        }
    }

    /// Matches one reported tax code.
    pub fn match_tax_code(&self, reported: Option<&str>) -> Result<(UnitIdx, MatchKind), NoMatch> {
        let key = reported_key(reported)?;
        self.resolve(key, self.lookup_key(key))
    }

    /// Finishes a match given the exact lookup's result: the parent fallback for branches.
    pub fn resolve(
        &self,
        key: u64,
        exact: Option<UnitIdx>,
    ) -> Result<(UnitIdx, MatchKind), NoMatch> {
        if let Some(idx) = exact {
            return Ok((idx, MatchKind::Exact));
        }
        TaxCode::parent_key(key)
            .and_then(|parent| self.lookup_key(parent))
            .map(|idx| (idx, MatchKind::Parent))
            .ok_or(NoMatch::NotInFrame)
    }
}

/// The normalised key of a reported code, or why there is none.
pub fn reported_key(reported: Option<&str>) -> Result<u64, NoMatch> {
    let text = reported
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(NoMatch::Missing)?;
    TaxCode::key_of(text).ok_or(NoMatch::Invalid)
}
