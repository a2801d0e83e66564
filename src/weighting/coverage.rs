//! Coverage diagnostics of a link table (METHODOLOGY §2.4 (a), §6 "Coverage diagnostics").

use crate::weighting::links::LinkTable;
use crate::weighting::share::SharedWeights;

/// What the link table can and cannot reach.
#[derive(Clone, Debug, PartialEq)]
pub struct Coverage {
    /// Clusters with population link total 0 (L_i = 0): never reachable, so the GWSM
    /// estimator understates the total by exactly their Y_i.
    pub orphan_clusters: Vec<usize>,
    /// Target units without a link of their own inside clusters that do have links. The
    /// clustered GWSM gives them the cluster weight; the singleton (Sirken) mode loses them.
    pub units_without_own_links: Vec<usize>,
}

/// Population-scope coverage of a link table.
pub fn coverage(table: &LinkTable) -> Coverage {
    let cluster_totals = table.cluster_totals();
    let orphan_clusters: Vec<usize> = (0..table.n_clusters())
        .filter(|&c| cluster_totals[c] <= 0.0)
        .collect();
    let units_without_own_links: Vec<usize> = (0..table.n_target())
        .filter(|&k| table.unit_totals()[k] <= 0.0 && cluster_totals[table.cluster_of()[k]] > 0.0)
        .collect();
    Coverage {
        orphan_clusters,
        units_without_own_links,
    }
}

/// Reached target units that have no link of their own (they carry their cluster's weight).
pub fn reached_without_own_links(table: &LinkTable, shared: &SharedWeights) -> Vec<usize> {
    (0..table.n_target())
        .filter(|&k| shared.reached[k] && table.unit_totals()[k] <= 0.0)
        .collect()
}
