//! What `frame show` prints: counts by tier × ownership × size class, link statistics, and
//! the distribution of L (links of each tier-t unit to tier t−1, over the whole frame).

use std::collections::BTreeMap;

use crate::frame::adjacency::Adjacency;
use crate::frame::tier::Tiers;
use crate::frame::{Frame, Ownership, SizeClass};

/// Counts of one tier × ownership × size cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CellCount {
    pub units: u64,
    pub employees: u64,
}

/// A frame's summary.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameSummary {
    /// Key: (tier or `None` = out of scope, ownership, size class).
    pub cells: BTreeMap<(Option<u32>, Ownership, SizeClass), CellCount>,
    pub n_units: usize,
    pub n_links: usize,
    /// Links that carry a weight, and the sum of the weights.
    pub n_weighted_links: usize,
    pub weight_total: f64,
    /// Units with at least one supplier link, and the largest number of suppliers of a unit.
    pub n_buyers: usize,
    pub max_suppliers: usize,
    /// `l_distribution[t][L]` = number of tier-(t+1) units with L distinct buyers in tier t.
    pub l_distribution: Vec<BTreeMap<usize, usize>>,
}

/// Summarises `frame` with its `tiers`.
pub fn summarize(frame: &Frame, tiers: &Tiers) -> FrameSummary {
    let mut cells: BTreeMap<(Option<u32>, Ownership, SizeClass), CellCount> = BTreeMap::new();
    for (idx, unit) in frame.units.iter().enumerate() {
        let cell = cells
            .entry((tiers.of(idx), unit.ownership, unit.size_class()))
            .or_default();
        cell.units += 1;
        cell.employees += unit.employees();
    }
    let suppliers = Adjacency::suppliers(frame);
    let buyers = Adjacency::buyers(frame);
    let (n_buyers, max_suppliers) = (0..frame.units.len()).fold((0, 0), |(n, max), u| {
        let k = suppliers.neighbours(u).len();
        (n + usize::from(k > 0), max.max(k))
    });
    let mut l_distribution = vec![BTreeMap::new(); tiers.max_tier() as usize];
    for idx in 0..frame.units.len() {
        if let Some(t) = tiers.of(idx).filter(|&t| t > 0) {
            // Links are unique per (buyer, supplier) pair after import, so counting the
            // buyers in tier t−1 counts distinct buyers.
            let l = buyers
                .neighbours(idx)
                .iter()
                .filter(|&&b| tiers.of(b) == Some(t - 1))
                .count();
            *l_distribution[t as usize - 1].entry(l).or_insert(0) += 1;
        }
    }
    FrameSummary {
        cells,
        n_units: frame.units.len(),
        n_links: frame.links.len(),
        n_weighted_links: frame.links.iter().filter(|l| l.weight.is_some()).count(),
        weight_total: frame.links.iter().filter_map(|l| l.weight).sum(),
        n_buyers,
        max_suppliers,
        l_distribution,
    }
}

impl std::fmt::Display for FrameSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "units: {}   links: {}", self.n_units, self.n_links)?;
        writeln!(f, "\ntier  ownership  size     units  employees")?;
        // In-scope tiers first, out-of-scope units last.
        let in_scope = self.cells.iter().filter(|((tier, _, _), _)| tier.is_some());
        let out_of_scope = self.cells.iter().filter(|((tier, _, _), _)| tier.is_none());
        for ((tier, ownership, size), count) in in_scope.chain(out_of_scope) {
            let tier = tier.map_or("out".to_string(), |t| t.to_string());
            writeln!(
                f,
                "{tier:<5} {:<10} {:<7} {:>6} {:>10}",
                ownership.code(),
                size.code(),
                count.units,
                count.employees
            )?;
        }
        writeln!(
            f,
            "\nlinks: {} buyers with suppliers, max {} suppliers per buyer, {} weighted links (total weight {:.6})",
            self.n_buyers, self.max_suppliers, self.n_weighted_links, self.weight_total
        )?;
        for (t, dist) in self.l_distribution.iter().enumerate() {
            let parts: Vec<String> = dist.iter().map(|(l, n)| format!("L={l}: {n}")).collect();
            writeln!(
                f,
                "tier {} units by links to tier {t}: {}",
                t + 1,
                parts.join(", ")
            )?;
        }
        Ok(())
    }
}
