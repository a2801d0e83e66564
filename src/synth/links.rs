//! Buyer → supplier links with the §7.4 structure.
//!
//! For each tier transition (buyer tier → supplier tier) the generator matches "stubs" as in
//! a bipartite configuration model: each buyer names a negative-binomial number of suppliers
//! (its out-degree), and each supplier gets a target number of buyers L drawn from the §7.4
//! multiplicity distribution. Every buyer stub first draws the supplier's ownership side
//! (FDI or Vietnamese-owned, §7.4 "ownership mixing") and a locality class (same province
//! group / another group of the same cluster / anywhere), then picks a supplier of that kind
//! with probability proportional to the supplier's remaining stubs. When no supplier of that
//! kind has stubs left, the locality is relaxed, then the supplier is allowed to exceed its
//! target (probability ∝ target), and only then is the ownership side relaxed. Suppliers left
//! with no buyer get one buyer (same group if possible), so every supplier is reachable and
//! L ≥ 1 as in the target distribution. Cross-tier links (§7.4) are added last.

use std::collections::HashSet;

use super::config::{SynthConfig, Transition};
use super::draw::Stream;
use crate::frame::{Link, Ownership, UnitIdx};

/// What the link generator needs to know about a unit.
#[derive(Clone, Copy, Debug)]
pub struct LinkUnit {
    pub tier: u8,
    pub ownership: Ownership,
    pub group: usize,
    pub cluster: usize,
}

/// Locality class of a link.
#[derive(Clone, Copy, PartialEq)]
enum Loc {
    SameGroup,
    SameCluster,
    Anywhere,
}

fn loc_matches(loc: Loc, a: &LinkUnit, b: &LinkUnit) -> bool {
    match loc {
        Loc::SameGroup => a.group == b.group,
        Loc::SameCluster => a.cluster == b.cluster && a.group != b.group,
        Loc::Anywhere => true,
    }
}

/// Draws all links; weights are the supplier's share of sales going to each buyer.
pub fn draw_links(config: &SynthConfig, units: &[LinkUnit], stream: &mut Stream) -> Vec<Link> {
    let mut linked: HashSet<(UnitIdx, UnitIdx)> = HashSet::new();
    let mut links: Vec<(UnitIdx, UnitIdx)> = Vec::new();
    let loc = &config.links.locality;
    let loc_weights = [loc.same_group, loc.same_cluster, loc.anywhere];
    let draw_loc = |s: &mut Stream| match s.weighted(&loc_weights) {
        0 => Loc::SameGroup,
        1 => Loc::SameCluster,
        _ => Loc::Anywhere,
    };

    for tr in &config.links.transitions {
        transition(tr, units, stream, &mut linked, &mut links, &draw_loc);
    }

    for ct in &config.links.cross_tier {
        let buyers: Vec<UnitIdx> = (0..units.len())
            .filter(|i| units[*i].tier == ct.buyer_tier)
            .collect();
        if buyers.is_empty() {
            continue;
        }
        for s in 0..units.len() {
            if units[s].tier != ct.supplier_tier || !stream.bernoulli(ct.share) {
                continue;
            }
            let want = draw_loc(stream);
            let mut chosen = None;
            for l in [want, Loc::Anywhere] {
                let cand: Vec<UnitIdx> = buyers
                    .iter()
                    .copied()
                    .filter(|b| loc_matches(l, &units[s], &units[*b]) && !linked.contains(&(*b, s)))
                    .collect();
                if !cand.is_empty() {
                    chosen = Some(cand[stream.index(cand.len())]);
                    break;
                }
            }
            if let Some(b) = chosen {
                linked.insert((b, s));
                links.push((b, s));
            }
        }
    }

    links.sort_unstable();
    // Link weight: share of the supplier's sales going to the buyer. The supplier sells a
    // share U(0.3, 1) of its output inside the chain, split over its buyers by Gamma(1)
    // (flat Dirichlet) draws.
    let mut by_supplier: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
    for (k, (_, s)) in links.iter().enumerate() {
        by_supplier[*s].push(k);
    }
    let mut weights = vec![0.0; links.len()];
    for ks in &by_supplier {
        if ks.is_empty() {
            continue;
        }
        let in_chain = stream.uniform(0.3, 1.0);
        let g: Vec<f64> = ks.iter().map(|_| stream.gamma(1.0)).collect();
        let total: f64 = g.iter().sum();
        for (k, gk) in ks.iter().zip(g) {
            weights[*k] = (in_chain * gk / total * 1e4).round().max(1.0) / 1e4;
        }
    }
    links
        .into_iter()
        .zip(weights)
        .map(|((buyer, supplier), w)| Link {
            buyer,
            supplier,
            weight: Some(w),
        })
        .collect()
}

fn transition(
    tr: &Transition,
    units: &[LinkUnit],
    stream: &mut Stream,
    linked: &mut HashSet<(UnitIdx, UnitIdx)>,
    links: &mut Vec<(UnitIdx, UnitIdx)>,
    draw_loc: &dyn Fn(&mut Stream) -> Loc,
) {
    let buyers: Vec<UnitIdx> = (0..units.len())
        .filter(|i| units[*i].tier == tr.buyer_tier)
        .collect();
    let sups: Vec<UnitIdx> = (0..units.len())
        .filter(|i| units[*i].tier == tr.supplier_tier)
        .collect();
    if buyers.is_empty() || sups.is_empty() {
        return;
    }
    // Bins are dealt out in their exact shares (largest remainder), then shuffled, so the
    // realised multiplicity distribution does not carry multinomial noise on top of the
    // matching.
    let share_total: f64 = tr.multiplicity.iter().map(|b| b.share).sum();
    let quotas: Vec<f64> = tr
        .multiplicity
        .iter()
        .map(|b| b.share / share_total * sups.len() as f64)
        .collect();
    let mut counts: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    order.sort_by(|a, b| {
        (quotas[*b] - quotas[*b].floor()).total_cmp(&(quotas[*a] - quotas[*a].floor()))
    });
    let short = sups.len() - counts.iter().sum::<usize>();
    for k in order.iter().take(short) {
        counts[*k] += 1;
    }
    let mut bins: Vec<usize> = counts
        .iter()
        .enumerate()
        .flat_map(|(k, c)| std::iter::repeat_n(k, *c))
        .collect();
    stream.shuffle(&mut bins);
    let target: Vec<f64> = bins
        .iter()
        .map(|k| {
            let bin = &tr.multiplicity[*k];
            stream.int_between(bin.min as u64, bin.max as u64) as f64
        })
        .collect();
    let mut remaining = target.clone();

    let mut stubs: Vec<UnitIdx> = Vec::new();
    for b in &buyers {
        let own = units[*b].ownership;
        let Some(od) = tr
            .out_degree
            .iter()
            .find(|o| o.buyer_ownership.contains(&own))
        else {
            continue;
        };
        let max = od.max.min(sups.len() as u64);
        let min = od.min.min(max);
        // Truncation by rejection; after 100 misses the draw is clamped.
        let mut d = stream.neg_binomial(od.mean, od.dispersion);
        for _ in 0..100 {
            if (min..=max).contains(&d) {
                break;
            }
            d = stream.neg_binomial(od.mean, od.dispersion);
        }
        let d = d.clamp(min, max);
        stubs.extend(std::iter::repeat_n(*b, d as usize));
    }
    // The §7.4 out-degree means do not imply the same number of links as the §7.4
    // multiplicity distribution (e.g. ≈ 1,735 against ≈ 2,260 for T0 → T1). The multiplicity
    // is what link-sharing weights depend on, so the drawn out-degrees are scaled to the
    // targets' total (within each buyer's [min, max]).
    let demand = stubs.len() as f64;
    let supply: f64 = target.iter().sum();
    if demand > 0.0 && (supply - demand).abs() > 0.5 {
        let factor = supply / demand;
        let mut scaled = Vec::with_capacity(supply as usize);
        let mut k = 0;
        while k < stubs.len() {
            let b = stubs[k];
            let d = stubs[k..].iter().take_while(|x| **x == b).count();
            let own = units[b].ownership;
            let (lo, cap) = tr
                .out_degree
                .iter()
                .find(|o| o.buyer_ownership.contains(&own))
                .map_or((0, sups.len() as u64), |o| {
                    (o.min, o.max.min(sups.len() as u64))
                });
            let new_d = ((d as f64 * factor).round() as u64)
                .min(cap.max(d as u64))
                .max(lo.min(d as u64));
            scaled.extend(std::iter::repeat_n(b, new_d as usize));
            k += d;
        }
        stubs = scaled;
    }
    stream.shuffle(&mut stubs);

    let mut w = vec![0.0; sups.len()];
    for b in stubs {
        let bu = &units[b];
        let p_fdi = tr
            .supplier_fdi_probability
            .iter()
            .find(|o| o.buyer_ownership.contains(&bu.ownership))
            .map_or(0.5, |o| o.probability);
        let want_fdi = stream.bernoulli(p_fdi);
        let want_loc = draw_loc(stream);
        // (ownership side respected, locality, use remaining stubs rather than targets)
        let attempts = [
            (true, want_loc, true),
            (true, Loc::Anywhere, true),
            (true, want_loc, false),
            (true, Loc::Anywhere, false),
            (false, Loc::Anywhere, true),
            (false, Loc::Anywhere, false),
        ];
        let mut chosen = None;
        for (side, l, use_remaining) in attempts {
            let mut total = 0.0;
            for (j, s) in sups.iter().enumerate() {
                let su = &units[*s];
                let ok = (!side || (su.ownership == Ownership::Fdi) == want_fdi)
                    && loc_matches(l, bu, su)
                    && !linked.contains(&(b, *s));
                w[j] = if !ok {
                    0.0
                } else if use_remaining {
                    remaining[j].max(0.0)
                } else {
                    target[j]
                };
                total += w[j];
            }
            if total > 0.0 {
                chosen = Some(stream.weighted(&w));
                break;
            }
        }
        if let Some(j) = chosen {
            remaining[j] -= 1.0;
            linked.insert((b, sups[j]));
            links.push((b, sups[j]));
        }
    }

    // Suppliers nobody named get one buyer, so every unit is in the chain.
    for (j, s) in sups.iter().enumerate() {
        if remaining[j] < target[j] {
            continue;
        }
        let su = &units[*s];
        let mut chosen = None;
        for l in [Loc::SameGroup, Loc::SameCluster, Loc::Anywhere] {
            let cand: Vec<UnitIdx> = buyers
                .iter()
                .copied()
                .filter(|b| loc_matches(l, &units[*b], su))
                .collect();
            if !cand.is_empty() {
                chosen = Some(cand[stream.index(cand.len())]);
                break;
            }
        }
        if let Some(b) = chosen {
            linked.insert((b, *s));
            links.push((b, *s));
        }
    }
}
