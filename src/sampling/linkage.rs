//! Record linkage of reported tax codes to frame units, and the supplier → buyers index used
//! to count L_i over a whole tier.
//!
//! Matching rule (documented in `docs/design-format.md`): the reported code is normalised
//! ([`TaxCode`]: digits only, 10 or 13 digits); an exact match wins; a 13-digit branch code
//! with no unit of its own falls back to its 10-digit parent enterprise (the register often
//! lists only the head office) and the match is flagged as `parent`. Anything else is
//! unmatched with a reason.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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

/// A multiply-shift hasher for the integer tax-code keys: SipHash's DoS resistance buys
/// nothing for keys that are register data, and a million-unit index is built per trace.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = (value ^ (value >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Tax-code index and supplier → buyers adjacency of a frame, built once per frame.
pub struct LinkageIndex {
    by_tax_key: HashMap<u64, UnitIdx, BuildHasherDefault<KeyHasher>>,
    /// `buyers.neighbours(i)` = buyers of unit i in the frame's links.
    pub buyers: Adjacency,
}

impl LinkageIndex {
    /// Builds the index in O(units + links).
    pub fn build(frame: &Frame) -> LinkageIndex {
        let mut by_tax_key =
            HashMap::with_capacity_and_hasher(frame.units.len(), BuildHasherDefault::default());
        for (idx, unit) in frame.units.iter().enumerate() {
            if let Some(key) = unit.tax_code.as_deref().and_then(TaxCode::key_of) {
                by_tax_key.insert(key, idx);
            }
        }
        LinkageIndex {
            by_tax_key,
            buyers: Adjacency::buyers(frame),
        }
    }

    /// Matches one reported tax code.
    pub fn match_tax_code(&self, reported: Option<&str>) -> Result<(UnitIdx, MatchKind), NoMatch> {
        let text = reported
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(NoMatch::Missing)?;
        let key = TaxCode::key_of(text).ok_or(NoMatch::Invalid)?;
        if let Some(&idx) = self.by_tax_key.get(&key) {
            return Ok((idx, MatchKind::Exact));
        }
        TaxCode::parent_key(key)
            .and_then(|parent| self.by_tax_key.get(&parent))
            .map(|&idx| (idx, MatchKind::Parent))
            .ok_or(NoMatch::NotInFrame)
    }
}
