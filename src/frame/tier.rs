//! Tiers: tier 0 is chosen by a rule; tier t is the shortest buyer → supplier distance to
//! tier 0 (METHODOLOGY §1.3).
//!
//! Breadth-first search from all of tier 0 at once gives each unit its shortest distance, so
//! a unit reachable at distances 1 and 2 is tier 1, and cycles cannot loop (a unit is visited
//! once). Units never reached are out of scope: connected to the chain only through units
//! that are not in the frame, or not at all. That is a coverage limitation of the design, and
//! it is reported, not hidden.

use crate::frame::adjacency::Adjacency;
use crate::frame::error::FrameError;
use crate::frame::{Frame, UnitIdx};

/// How tier 0 (units unequivocally in the supply chain) is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Tier0Rule {
    /// Units whose VSIC code starts with one of these prefixes (e.g. `26`, `2732`).
    VsicPrefixes(Vec<String>),
    /// Units with these register ids (a lead-firm list).
    Ids(Vec<String>),
}

/// The tier of every unit of a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tiers {
    tier: Vec<Option<u32>>,
}

impl Tiers {
    /// The tier of `unit`, `None` when out of scope.
    pub fn of(&self, unit: UnitIdx) -> Option<u32> {
        self.tier[unit]
    }

    /// Every unit's tier, indexed by [`UnitIdx`].
    pub fn as_slice(&self) -> &[Option<u32>] {
        &self.tier
    }

    /// Units of tier `t`, in frame order.
    pub fn members(&self, t: u32) -> Vec<UnitIdx> {
        (0..self.tier.len())
            .filter(|&u| self.tier[u] == Some(t))
            .collect()
    }

    /// Units that no chain of links connects to tier 0.
    pub fn out_of_scope(&self) -> Vec<UnitIdx> {
        (0..self.tier.len())
            .filter(|&u| self.tier[u].is_none())
            .collect()
    }

    /// The largest tier present (0 when only tier 0 exists).
    pub fn max_tier(&self) -> u32 {
        self.tier.iter().flatten().copied().max().unwrap_or(0)
    }

    /// Number of units in each tier 0..=max, then the out-of-scope count.
    pub fn counts(&self) -> (Vec<usize>, usize) {
        let mut counts = vec![0usize; self.max_tier() as usize + 1];
        let mut out = 0;
        for tier in &self.tier {
            match tier {
                Some(t) => counts[*t as usize] += 1,
                None => out += 1,
            }
        }
        (counts, out)
    }

    /// The tier as a frame attribute value: `0`, `1`, … or `out`.
    pub fn label(&self, unit: UnitIdx) -> String {
        match self.tier[unit] {
            Some(t) => t.to_string(),
            None => "out".to_string(),
        }
    }
}

/// The units selected by `rule`, in frame order.
pub fn tier0_units(frame: &Frame, rule: &Tier0Rule) -> Result<Vec<UnitIdx>, FrameError> {
    let units: Vec<UnitIdx> = match rule {
        Tier0Rule::VsicPrefixes(prefixes) => (0..frame.units.len())
            .filter(|&u| {
                prefixes
                    .iter()
                    .any(|prefix| frame.units[u].vsic.starts_with(prefix.as_str()))
            })
            .collect(),
        Tier0Rule::Ids(ids) => {
            let mut units = Vec::with_capacity(ids.len());
            for id in ids {
                let idx = frame
                    .index_of(id)
                    .ok_or_else(|| FrameError::UnknownTier0Id(id.clone()))?;
                units.push(idx);
            }
            units.sort_unstable();
            units.dedup();
            units
        }
    };
    if units.is_empty() {
        return Err(FrameError::EmptyTier0);
    }
    Ok(units)
}

/// Computes every unit's tier by breadth-first search along buyer → supplier links.
pub fn compute_tiers(frame: &Frame, rule: &Tier0Rule) -> Result<Tiers, FrameError> {
    let tier0 = tier0_units(frame, rule)?;
    let suppliers = Adjacency::suppliers(frame);
    let mut tier: Vec<Option<u32>> = vec![None; frame.units.len()];
    let mut frontier = tier0;
    for &unit in &frontier {
        tier[unit] = Some(0);
    }
    let mut distance = 0u32;
    while !frontier.is_empty() {
        distance += 1;
        let mut next = Vec::new();
        for &buyer in &frontier {
            for &supplier in suppliers.neighbours(buyer) {
                if tier[supplier].is_none() {
                    tier[supplier] = Some(distance);
                    next.push(supplier);
                }
            }
        }
        frontier = next;
    }
    Ok(Tiers { tier })
}
