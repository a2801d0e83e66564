//! The fixed part of a round: the synthetic population, its truth, and what every round
//! reads from it (frame tiers, the tax-code index, supplier lists, the population link
//! table keyed by id). Built once and shared by the rounds of a Monte Carlo run, since
//! design-based repetitions draw new samples from one finite population.

use crate::frame::{Adjacency, Frame};
use crate::sampling::LinkageIndex;
use crate::synth::{self, Population, PopulationTruth, SynthConfig};
use crate::weighting::plan::{LinkRecord, UnitRecord};

use crate::demo::error::Error;

/// A population ready for survey rounds.
pub struct Setting {
    pub population: Population,
    pub truth: PopulationTruth,
    /// Frame tier of every unit (shortest link distance from the lead firms).
    pub tiers: Vec<Option<u32>>,
    pub index: LinkageIndex,
    /// Suppliers of every unit: what a responding enterprise lists on its roster.
    pub suppliers: Adjacency,
    /// Units in scope (with a tier), for the weighting plan; cluster = the unit itself.
    pub plan_units: Vec<UnitRecord>,
    /// Links from tier t − 1 to tier t: the population link table of chained GWSM.
    pub plan_links: Vec<LinkRecord>,
}

impl Setting {
    pub fn frame(&self) -> &Frame {
        &self.population.frame
    }
}

/// Generates the default population at (scale, seed) and computes its truth.
pub fn prepare(scale: f64, seed: u64) -> Result<Setting, Error> {
    let population = synth::generate(&SynthConfig::vn_electronics(), scale, seed)?;
    let truth = synth::population_truth(&population);
    let frame = &population.frame;
    let tiers: Vec<Option<u32>> = population
        .units
        .iter()
        .map(|u| u.tier.map(u32::from))
        .collect();
    let index = LinkageIndex::build(frame);
    let suppliers = Adjacency::suppliers(frame);
    let plan_units = frame
        .units
        .iter()
        .zip(&tiers)
        .filter_map(|(unit, tier)| {
            tier.map(|t| UnitRecord {
                id: unit.id.clone(),
                tier: t as usize,
                cluster: unit.id.clone(),
            })
        })
        .collect();
    let plan_links = frame
        .links
        .iter()
        .filter(|link| match (tiers[link.buyer], tiers[link.supplier]) {
            (Some(b), Some(s)) => s == b + 1,
            _ => false,
        })
        .map(|link| LinkRecord {
            buyer: frame.units[link.buyer].id.clone(),
            supplier: frame.units[link.supplier].id.clone(),
            importance: None,
            retention: None,
        })
        .collect();
    Ok(Setting {
        population,
        truth,
        tiers,
        index,
        suppliers,
        plan_units,
        plan_links,
    })
}
