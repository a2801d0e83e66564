//! The generated population: a frame plus the synthetic truth attached to each unit.

use std::collections::HashSet;

use super::Error;
use super::config::{District, Province, ProvinceGroup, SynthConfig, WorkforceClass};
use super::draw::{Stream, mix};
use super::enterprises::{draw_employment, group_probabilities, tax_code};
use super::indicators::UnitFacts;
use super::links::{LinkUnit, draw_links};
use crate::frame::{Frame, Tier0Rule, Unit, VsicVersion, compute_tiers};

/// Stream tags: each phase draws from its own ChaCha20 stream, so changing, say, the link
/// parameters leaves the enterprises unchanged.
const TAG_ENTERPRISES: u64 = 1;
const TAG_LINKS: u64 = 2;
const TAG_EFFECTS: u64 = 3;
/// Key of the worker streams (one ChaCha20 key per unit, one stream id per worker).
pub(super) const TAG_WORKERS: u64 = 4;

/// Firm-level random effects: each rate is the firm's own probability, drawn once from a Beta
/// around the class mean (§7.5), so that outcomes cluster within firms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FirmEffects {
    /// Female share of the workforce (Beta with the class mean and sd, §7.3).
    pub female_share: f64,
    pub written_contract: f64,
    pub social_insurance: f64,
    pub over_48h: f64,
    /// Men's probability of basic pay below the regional minimum (women add the class's
    /// `below_minimum_wage_women_add`).
    pub below_minimum_wage: f64,
    pub union_member: f64,
    pub injury_12m: f64,
    pub forced_labour_involuntary: f64,
}

/// The synthetic truth about one unit (same index as `Population::frame.units`).
#[derive(Clone, Debug, PartialEq)]
pub struct UnitTruth {
    /// Tier of the stratum the unit was generated in (which parameters it follows).
    pub design_tier: u8,
    /// Shortest link distance from a tier-0 unit: the tier a full link-tracing survey would
    /// assign (a tier-2 firm that also sells to a lead firm is tier 1 here). `None` if no
    /// tier-0 unit reaches it.
    pub tier: Option<u8>,
    /// Index into `config.strata`.
    pub stratum: usize,
    /// Index into `config.classes`.
    pub class: usize,
    /// Index into `config.province_groups`.
    pub group: usize,
    /// Index into the group's `provinces`.
    pub province: usize,
    /// Index into the province's `districts`.
    pub district: usize,
    /// Minimum-wage region 1–4 of the unit's district.
    pub mw_region: u8,
    /// A collective labour agreement is in force (enterprise item `cba_in_force`).
    pub cba_in_force: bool,
    pub effects: FirmEffects,
}

/// A generated population. Workers are not stored; see [`super::workers_of`].
#[derive(Clone, Debug)]
pub struct Population {
    pub config: SynthConfig,
    pub scale: f64,
    pub seed: u64,
    pub frame: Frame,
    pub units: Vec<UnitTruth>,
}

impl Population {
    /// The workforce class of unit `idx`.
    pub fn class(&self, idx: usize) -> &WorkforceClass {
        &self.config.classes[self.units[idx].class]
    }

    /// The province group of unit `idx`.
    pub fn group(&self, idx: usize) -> &ProvinceGroup {
        &self.config.province_groups[self.units[idx].group]
    }

    /// The province of unit `idx`.
    pub fn province(&self, idx: usize) -> &Province {
        &self.group(idx).provinces[self.units[idx].province]
    }

    /// The district of unit `idx`.
    pub fn district(&self, idx: usize) -> &District {
        &self.province(idx).districts[self.units[idx].district]
    }

    /// Regional monthly minimum wage (thousand VND) for unit `idx`.
    pub fn minimum_wage(&self, idx: usize) -> f64 {
        self.config.minimum_wage.monthly[(self.units[idx].mw_region - 1) as usize]
    }

    /// What the indicator definitions need to know about unit `idx` (for computing
    /// [`super::indicators::terms`] on sampled workers).
    pub fn unit_facts(&self, idx: usize) -> UnitFacts {
        let u = &self.frame.units[idx];
        UnitFacts {
            household_business: u.household_business,
            registered: u.registered,
            cba_in_force: self.units[idx].cba_in_force,
            minimum_wage: self.minimum_wage(idx),
        }
    }

    /// Total number of workers.
    pub fn workers_total(&self) -> u64 {
        self.frame.units.iter().map(|u| u.employees()).sum()
    }

    /// Indices of the tier-0 (lead) units.
    pub fn tier0(&self) -> Vec<usize> {
        (0..self.units.len())
            .filter(|i| self.units[*i].design_tier == 0)
            .collect()
    }
}

/// Largest accepted scale.
pub const MAX_SCALE: f64 = 20.0;

/// Generates the population of `config` at `scale` (1.0 ≈ 2,800 enterprises and 1.14 M workers
/// with the default) from `seed`. Same inputs, same population, bit for bit.
pub fn generate(config: &SynthConfig, scale: f64, seed: u64) -> Result<Population, Error> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::BadScale {
            scale,
            reason: "must be a positive number".into(),
        });
    }
    // Link matching is quadratic in the number of firms; beyond this the run time grows
    // from seconds to hours, and no use needs more than a few national chains.
    if scale > MAX_SCALE {
        return Err(Error::BadScale {
            scale,
            reason: format!("must be at most {MAX_SCALE}"),
        });
    }
    config.check()?;
    let counts: Vec<usize> = config
        .strata
        .iter()
        .map(|s| (s.firms * scale).round() as usize)
        .collect();
    let tier0: usize = config
        .strata
        .iter()
        .zip(&counts)
        .filter(|(s, _)| s.tier == 0)
        .map(|(_, n)| n)
        .sum();
    if tier0 == 0 {
        return Err(Error::BadScale {
            scale,
            reason: "too small: no tier-0 firm remains after rounding".into(),
        });
    }

    let mut es = Stream::new(seed, TAG_ENTERPRISES);
    // (stratum, employees) per firm, strata in config order.
    let mut firms: Vec<(usize, u64)> = Vec::new();
    for (si, s) in config.strata.iter().enumerate() {
        for e in draw_employment(s, counts[si], &mut es) {
            firms.push((si, e));
        }
    }
    let tiers: Vec<(u8, u64)> = firms
        .iter()
        .map(|(si, e)| (config.strata[*si].tier, *e))
        .collect();
    let probs = group_probabilities(config, &tiers);
    let clusters: Vec<String> = {
        let mut c: Vec<String> = config
            .province_groups
            .iter()
            .map(|g| g.cluster.clone())
            .collect();
        c.sort();
        c.dedup();
        c
    };

    let mut fs = Stream::new(seed, TAG_EFFECTS);
    let conc = config.workers.concentration;
    let mut used_tax = HashSet::new();
    let mut units = Vec::with_capacity(firms.len());
    let mut truth = Vec::with_capacity(firms.len());
    let mut link_units = Vec::with_capacity(firms.len());
    for (idx, (si, employees)) in firms.iter().enumerate() {
        let s = &config.strata[*si];
        let class_idx = config.class_index(&s.class).unwrap_or(0);
        let class = &config.classes[class_idx];
        let group = es.weighted(&probs[idx]);
        let g = &config.province_groups[group];
        let province = es.weighted(&g.provinces.iter().map(|p| p.weight).collect::<Vec<_>>());
        let p = &g.provinces[province];
        let district = es.weighted(&p.districts.iter().map(|d| d.weight).collect::<Vec<_>>());
        let vsic = &s.vsic[es.weighted(&s.vsic.iter().map(|v| v.weight).collect::<Vec<_>>())].code;
        let household = es.bernoulli(s.household_business_share);
        let registered = !household || es.bernoulli(s.household_registered_share);
        let tax = tax_code(&p.code, mix(seed, idx as u64), &mut used_tax);

        let fm = class.female_share;
        let fc = fm * (1.0 - fm) / (class.female_share_sd * class.female_share_sd) - 1.0;
        let effects = FirmEffects {
            female_share: fs.beta_mean(fm, fc),
            written_contract: fs.beta_mean(class.written_contract, conc),
            social_insurance: fs.beta_mean(class.social_insurance, conc),
            over_48h: fs.beta_mean(class.over_48h, conc),
            below_minimum_wage: fs.beta_mean(class.below_minimum_wage, conc),
            union_member: fs.beta_mean(class.union_member, conc),
            injury_12m: fs.beta_mean(class.injury_12m, conc),
            forced_labour_involuntary: fs.beta_mean(class.forced_labour_involuntary, conc),
        };
        let cba_in_force = fs.bernoulli(class.cba_rate);

        units.push(Unit {
            id: format!("SYN{:06}", idx + 1),
            tax_code: Some(tax),
            name: if household {
                format!("Ho kinh doanh {:06}", idx + 1)
            } else {
                format!("Cong ty {:06}", idx + 1)
            },
            vsic: vsic.clone(),
            vsic_version: VsicVersion::V2018,
            province: p.code.clone(),
            province_2025: Some(p.code_2025.clone()),
            ownership: s.ownership,
            household_business: household,
            registered,
            // Split by sex after the effects are centred (below).
            employees_male: *employees,
            employees_female: 0,
        });
        truth.push(UnitTruth {
            design_tier: s.tier,
            tier: None,
            stratum: *si,
            class: class_idx,
            group,
            province,
            district,
            mw_region: p.districts[district].mw_region,
            cba_in_force,
            effects,
        });
        link_units.push(LinkUnit {
            tier: s.tier,
            ownership: s.ownership,
            group,
            cluster: clusters.iter().position(|c| *c == g.cluster).unwrap_or(0),
        });
    }

    center_effects(config, &firms, &mut truth);
    for (u, t) in units.iter_mut().zip(&truth) {
        let e = u.employees_male;
        let female = ((e as f64 * t.effects.female_share).round() as u64).min(e);
        u.employees_female = female;
        u.employees_male = e - female;
    }

    let mut ls = Stream::new(seed, TAG_LINKS);
    let links = draw_links(config, &link_units, &mut ls);
    let frame = Frame::new(units, links).map_err(|id| Error::ConfigInvalid {
        path: "strata".into(),
        reason: format!("generated duplicate unit id {id}"),
    })?;
    let mut frame = frame;
    let lead_ids: Vec<String> = truth
        .iter()
        .zip(&frame.units)
        .filter(|(t, _)| t.design_tier == 0)
        .map(|(_, u)| u.id.clone())
        .collect();
    let tiers =
        compute_tiers(&frame, &Tier0Rule::Ids(lead_ids)).map_err(|e| Error::ConfigInvalid {
            path: "strata".into(),
            reason: format!("tier computation failed: {e}"),
        })?;
    for (i, t) in truth.iter_mut().enumerate() {
        t.tier = tiers.of(i).map(|d| d.min(u8::MAX as u32) as u8);
    }
    set_attributes(&mut frame, config, &truth);
    Ok(Population {
        config: config.clone(),
        scale,
        seed,
        frame,
        units: truth,
    })
}

/// Centres the firm effects of each stratum on the class means, employment-weighted.
///
/// The §7.3/§7.5 rates are read as the rates among the stratum's workers. Drawn independently,
/// the firm effects of the few very large lead firms would move those worker-level rates by
/// several points from seed to seed (a Beta(10, 10) firm with 40,000 workers). So each rate
/// is rescaled within the stratum until its employment-weighted mean equals the class mean:
/// multiplicatively for means ≤ 0.5, on the complement for larger means, which keeps every
/// firm's rate in [0, 1] and keeps the between-firm spread of the Beta draws.
fn center_effects(config: &SynthConfig, firms: &[(usize, u64)], truth: &mut [UnitTruth]) {
    type Get = fn(&mut FirmEffects) -> &mut f64;
    type Mean = fn(&WorkforceClass) -> f64;
    let fields: [(Get, Mean); 8] = [
        (|e| &mut e.female_share, |c| c.female_share),
        (|e| &mut e.written_contract, |c| c.written_contract),
        (|e| &mut e.social_insurance, |c| c.social_insurance),
        (|e| &mut e.over_48h, |c| c.over_48h),
        (|e| &mut e.below_minimum_wage, |c| c.below_minimum_wage),
        (|e| &mut e.union_member, |c| c.union_member),
        (|e| &mut e.injury_12m, |c| c.injury_12m),
        (
            |e| &mut e.forced_labour_involuntary,
            |c| c.forced_labour_involuntary,
        ),
    ];
    for si in 0..config.strata.len() {
        let members: Vec<usize> = (0..firms.len()).filter(|i| firms[*i].0 == si).collect();
        let total: f64 = members.iter().map(|i| firms[*i].1 as f64).sum();
        if members.is_empty() || total <= 0.0 {
            continue;
        }
        let class = &config.classes[truth[members[0]].class];
        for (get, target) in &fields {
            let m = target(class);
            for _round in 0..20 {
                let mean: f64 = members
                    .iter()
                    .map(|i| *get(&mut truth[*i].effects) * firms[*i].1 as f64)
                    .sum::<f64>()
                    / total;
                if (mean - m).abs() < 1e-9 {
                    break;
                }
                for i in &members {
                    let x = get(&mut truth[*i].effects);
                    *x = if m <= 0.5 {
                        if mean > 0.0 {
                            (*x * m / mean).min(1.0)
                        } else {
                            m
                        }
                    } else if mean < 1.0 {
                        (1.0 - (1.0 - *x) * (1.0 - m) / (1.0 - mean)).max(0.0)
                    } else {
                        m
                    };
                }
            }
        }
    }
}

/// Attribute columns of the synthetic frame (written as extra CSV columns and usable for
/// stratification): `tier` (link distance), `design_tier`, `province_group`, `district`,
/// `mw_region`, `cba_in_force` (1/0).
pub const ATTRIBUTES: [&str; 6] = [
    "tier",
    "design_tier",
    "province_group",
    "district",
    "mw_region",
    "cba_in_force",
];

fn set_attributes(frame: &mut Frame, config: &SynthConfig, truth: &[UnitTruth]) {
    let col = |f: &dyn Fn(&UnitTruth) -> String| truth.iter().map(f).collect::<Vec<String>>();
    let group = |t: &UnitTruth| &config.province_groups[t.group];
    let columns = [
        col(&|t| t.tier.map_or_else(String::new, |d| d.to_string())),
        col(&|t| t.design_tier.to_string()),
        col(&|t| group(t).id.clone()),
        col(&|t| {
            group(t).provinces[t.province].districts[t.district]
                .name
                .clone()
        }),
        col(&|t| t.mw_region.to_string()),
        col(&|t| {
            if t.cba_in_force {
                "1".into()
            } else {
                "0".into()
            }
        }),
    ];
    for (name, values) in ATTRIBUTES.iter().zip(columns) {
        // One value per unit by construction, so this cannot fail.
        let _ = frame.set_attribute(name, values);
    }
}
