//! Compressed adjacency lists over the frame's links, built once in O(units + links).
//!
//! Tier computation walks buyer → suppliers; link counting (L_i) walks supplier → buyers.
//! A compressed layout (offsets + targets) keeps a 5-million-link frame in two flat vectors.

use crate::frame::{Frame, UnitIdx};

/// For each unit, the units on the other end of its links (and the link positions).
#[derive(Clone, Debug)]
pub struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<UnitIdx>,
    link_ids: Vec<usize>,
}

impl Adjacency {
    /// `suppliers(frame).neighbours(b)` = the suppliers of buyer `b`.
    pub fn suppliers(frame: &Frame) -> Adjacency {
        build(frame, |link| (link.buyer, link.supplier))
    }

    /// `buyers(frame).neighbours(s)` = the buyers of supplier `s`.
    pub fn buyers(frame: &Frame) -> Adjacency {
        build(frame, |link| (link.supplier, link.buyer))
    }

    /// The neighbours of `unit`, in link-file order.
    pub fn neighbours(&self, unit: UnitIdx) -> &[UnitIdx] {
        &self.targets[self.offsets[unit]..self.offsets[unit + 1]]
    }

    /// Positions in `Frame::links` of `unit`'s links, aligned with [`Adjacency::neighbours`].
    pub fn link_ids(&self, unit: UnitIdx) -> &[usize] {
        &self.link_ids[self.offsets[unit]..self.offsets[unit + 1]]
    }
}

fn build(frame: &Frame, ends: impl Fn(&crate::frame::Link) -> (UnitIdx, UnitIdx)) -> Adjacency {
    let n_units = frame.units.len();
    let mut offsets = vec![0usize; n_units + 1];
    for link in &frame.links {
        offsets[ends(link).0 + 1] += 1;
    }
    for pos in 0..n_units {
        offsets[pos + 1] += offsets[pos];
    }
    let mut fill = offsets.clone();
    let mut targets = vec![0; frame.links.len()];
    let mut link_ids = vec![0; frame.links.len()];
    for (link_id, link) in frame.links.iter().enumerate() {
        let (from, to) = ends(link);
        targets[fill[from]] = to;
        link_ids[fill[from]] = link_id;
        fill[from] += 1;
    }
    Adjacency {
        offsets,
        targets,
        link_ids,
    }
}
