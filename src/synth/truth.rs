//! Population truth: every indicator of [`super::indicators`] over all workers, by tier,
//! sex, age group, province group and ownership (each margin, the overall value and
//! tier × sex), with numerators and denominators so that estimates can be judged exactly.
//!
//! One streaming pass regenerates every worker once and adds its contributions to the cells
//! of the full tier × sex × age × group × ownership cross-classification; only the employees'
//! hourly earnings (8 bytes + a 4-byte cell id each) are kept, for the medians (low-pay
//! threshold, median gender pay gap), which need all values.

use std::collections::BTreeMap;

use super::indicators::{
    Indicator, Kind, gender_pay_gap, low_pay_threshold, median_unweighted, terms,
};
use super::population::Population;
use super::workers::{AgeGroup, Sex, workers_of};
use crate::frame::Ownership;

/// One value of the truth: an indicator in one domain.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TruthRow {
    /// Indicator code (e.g. `dw05_excessive_hours`).
    pub indicator: &'static str,
    /// Table name: `overall`, `tier`, `sex`, `age_group`, `province_group`, `ownership`,
    /// `tier_sex`.
    pub table: &'static str,
    /// Domain values; `all` where the table does not split by that dimension. Tier is the
    /// link-distance tier (`none` if unreachable).
    pub tier: String,
    pub sex: String,
    pub age_group: String,
    pub province_group: String,
    pub ownership: String,
    /// Σ num (a count for proportions and the level, Σ h for the mean, male − female for
    /// the gaps).
    pub numerator: f64,
    /// Σ den (the universe count; the male value for the gaps; none for the level).
    pub denominator: Option<f64>,
    /// The indicator value (proportions as fractions, gaps in percent).
    pub value: f64,
}

/// The truth of a population.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PopulationTruth {
    pub seed: u64,
    pub scale: f64,
    pub config: String,
    pub workers: u64,
    /// Employees with valid hourly earnings (the low-pay universe).
    pub employees_with_hourly_earnings: u64,
    /// Median hourly earnings of all employees (VND/hour, inverse-CDF rule).
    pub median_hourly_earnings: f64,
    pub low_pay_threshold: f64,
    pub rows: Vec<TruthRow>,
}

impl PopulationTruth {
    /// The row of `indicator` in the `overall` table.
    pub fn overall(&self, indicator: Indicator) -> Option<&TruthRow> {
        self.rows
            .iter()
            .find(|r| r.table == "overall" && r.indicator == indicator.code())
    }
}

#[derive(Clone, Copy, Default)]
struct Neumaier {
    sum: f64,
    c: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.c += (self.sum - t) + x;
        } else {
            self.c += (x - t) + self.sum;
        }
        self.sum = t;
    }
    fn value(&self) -> f64 {
        self.sum + self.c
    }
}

#[derive(Clone, Copy, Default)]
struct Acc {
    num: Neumaier,
    den: f64,
}

#[derive(Clone, Copy, PartialEq)]
enum Dim {
    Tier,
    Sex,
    Age,
    Group,
    Ownership,
}

const TABLES: [(&str, &[Dim]); 7] = [
    ("overall", &[]),
    ("tier", &[Dim::Tier]),
    ("sex", &[Dim::Sex]),
    ("age_group", &[Dim::Age]),
    ("province_group", &[Dim::Group]),
    ("ownership", &[Dim::Ownership]),
    ("tier_sex", &[Dim::Tier, Dim::Sex]),
];

const OWNERSHIPS: [Ownership; 3] = [Ownership::Fdi, Ownership::Domestic, Ownership::State];
const N_IND: usize = Indicator::ALL.len();

struct Cells {
    tiers: usize,
    groups: usize,
}

impl Cells {
    fn count(&self) -> usize {
        self.tiers * 2 * 7 * self.groups * 3
    }
    fn id(&self, tier: usize, sex: usize, age: usize, group: usize, own: usize) -> usize {
        (((tier * 2 + sex) * 7 + age) * self.groups + group) * 3 + own
    }
    /// (tier, sex, age, group, own) of a cell id.
    fn dims(&self, id: usize) -> [usize; 5] {
        let own = id % 3;
        let r = id / 3;
        let group = r % self.groups;
        let r = r / self.groups;
        let age = r % 7;
        let r = r / 7;
        [r / 2, r % 2, age, group, own]
    }
}

/// Computes the truth of every indicator over all workers of `pop` in one streaming pass.
pub fn population_truth(pop: &Population) -> PopulationTruth {
    let legal = &pop.config.legal;
    let max_tier = pop.units.iter().filter_map(|u| u.tier).max().unwrap_or(0) as usize;
    // The last tier slot holds units no tier-0 unit reaches.
    let cells = Cells {
        tiers: max_tier + 2,
        groups: pop.config.province_groups.len(),
    };
    let mut acc = vec![[Acc::default(); N_IND]; cells.count()];
    let mut hourly: Vec<f64> = Vec::new();
    let mut hourly_cell: Vec<u32> = Vec::new();
    let low_pay_idx = Indicator::ALL
        .iter()
        .position(|i| *i == Indicator::LowPay)
        .unwrap_or(0);
    let mut workers = 0u64;

    for (ui, unit) in pop.frame.units.iter().enumerate() {
        let truth = &pop.units[ui];
        let facts = pop.unit_facts(ui);
        let tier = truth.tier.map_or(cells.tiers - 1, |t| t as usize);
        let own = OWNERSHIPS
            .iter()
            .position(|o| *o == unit.ownership)
            .unwrap_or(1);
        for w in workers_of(pop, ui) {
            workers += 1;
            let sex = (w.sex == Sex::Female) as usize;
            let age = AgeGroup::ALL
                .iter()
                .position(|a| *a == w.age_group())
                .unwrap_or(0);
            let cell = cells.id(tier, sex, age, truth.group, own);
            let a = &mut acc[cell];
            for (k, ind) in Indicator::ALL.iter().enumerate() {
                match ind {
                    // The threshold is known only after the pass: count the universe now,
                    // the numerator below.
                    Indicator::LowPay
                    | Indicator::GenderPayGapMean
                    | Indicator::GenderPayGapMedian => {}
                    _ => {
                        if let Some((n, d)) = terms(*ind, &w, &facts, legal, f64::NAN) {
                            a[k].num.add(n);
                            a[k].den += d;
                        }
                    }
                }
            }
            if w.is_employee()
                && let Some(h) = w.hourly_earnings()
            {
                a[low_pay_idx].den += 1.0;
                hourly.push(h);
                hourly_cell.push(cell as u32);
            }
        }
    }

    let median = median_unweighted(&mut hourly.clone()).unwrap_or(f64::NAN);
    let threshold = low_pay_threshold(median);
    for (h, c) in hourly.iter().zip(&hourly_cell) {
        if *h < threshold {
            acc[*c as usize][low_pay_idx].num.add(1.0);
        }
    }

    let mut rows = Vec::new();
    for (table, dims) in TABLES {
        table_rows(
            pop,
            &cells,
            &acc,
            &hourly,
            &hourly_cell,
            table,
            dims,
            &mut rows,
        );
    }
    PopulationTruth {
        seed: pop.seed,
        scale: pop.scale,
        config: pop.config.name.clone(),
        workers,
        employees_with_hourly_earnings: hourly.len() as u64,
        median_hourly_earnings: median,
        low_pay_threshold: threshold,
        rows,
    }
}

#[allow(clippy::too_many_arguments)]
fn table_rows(
    pop: &Population,
    cells: &Cells,
    acc: &[[Acc; N_IND]],
    hourly: &[f64],
    hourly_cell: &[u32],
    table: &'static str,
    dims: &[Dim],
    rows: &mut Vec<TruthRow>,
) {
    let all = [Dim::Tier, Dim::Sex, Dim::Age, Dim::Group, Dim::Ownership];
    // Table key of a full cell: its values on the table's dimensions, `usize::MAX` elsewhere.
    let key = |id: usize| -> [usize; 5] {
        let d = cells.dims(id);
        let mut k = [usize::MAX; 5];
        for (i, dim) in all.iter().enumerate() {
            if dims.contains(dim) {
                k[i] = d[i];
            }
        }
        k
    };
    let mut sums: BTreeMap<[usize; 5], [Acc; N_IND]> = BTreeMap::new();
    // (key without sex) × sex accumulators for the gaps.
    let mut by_sex: BTreeMap<[usize; 5], [Acc; 2]> = BTreeMap::new();
    let mean_idx = Indicator::ALL
        .iter()
        .position(|i| *i == Indicator::MeanHourlyEarnings)
        .unwrap_or(0);
    for (id, a) in acc.iter().enumerate() {
        if a.iter().all(|x| x.den == 0.0) {
            continue;
        }
        let e = sums.entry(key(id)).or_insert([Acc::default(); N_IND]);
        for k in 0..N_IND {
            e[k].num.add(a[k].num.value());
            e[k].den += a[k].den;
        }
        let mut ks = key(id);
        ks[1] = usize::MAX;
        let sex = cells.dims(id)[1];
        let s = by_sex.entry(ks).or_insert([Acc::default(); 2]);
        s[sex].num.add(a[mean_idx].num.value());
        s[sex].den += a[mean_idx].den;
    }
    let mut medians: BTreeMap<[usize; 5], [Vec<f64>; 2]> = BTreeMap::new();
    if !dims.contains(&Dim::Sex) {
        for (h, c) in hourly.iter().zip(hourly_cell) {
            let mut ks = key(*c as usize);
            ks[1] = usize::MAX;
            let sex = cells.dims(*c as usize)[1];
            medians.entry(ks).or_default()[sex].push(*h);
        }
    }

    let label = |k: &[usize; 5]| -> [String; 5] {
        let tier = match k[0] {
            usize::MAX => "all".to_string(),
            t if t == cells.tiers - 1 => "none".to_string(),
            t => t.to_string(),
        };
        let sex = match k[1] {
            usize::MAX => "all",
            0 => Sex::Male.label(),
            _ => Sex::Female.label(),
        };
        let age = if k[2] == usize::MAX {
            "all"
        } else {
            AgeGroup::ALL[k[2]].label()
        };
        let group = if k[3] == usize::MAX {
            "all".to_string()
        } else {
            pop.config.province_groups[k[3]].id.clone()
        };
        let own = if k[4] == usize::MAX {
            "all"
        } else {
            OWNERSHIPS[k[4]].code()
        };
        [
            tier,
            sex.to_string(),
            age.to_string(),
            group,
            own.to_string(),
        ]
    };
    let push = |rows: &mut Vec<TruthRow>,
                ind: Indicator,
                l: &[String; 5],
                num: f64,
                den: Option<f64>,
                value: f64| {
        rows.push(TruthRow {
            indicator: ind.code(),
            table,
            tier: l[0].clone(),
            sex: l[1].clone(),
            age_group: l[2].clone(),
            province_group: l[3].clone(),
            ownership: l[4].clone(),
            numerator: num,
            denominator: den,
            value,
        });
    };

    for (k, a) in &sums {
        let l = label(k);
        for (i, ind) in Indicator::ALL.iter().enumerate() {
            let num = a[i].num.value();
            let den = a[i].den;
            match ind.kind() {
                Kind::Level => push(rows, *ind, &l, num, None, num),
                Kind::Mean | Kind::Proportion => {
                    if den > 0.0 {
                        push(rows, *ind, &l, num, Some(den), num / den);
                    }
                }
                Kind::Gap => {
                    if dims.contains(&Dim::Sex) {
                        continue;
                    }
                    let (m, f) = if *ind == Indicator::GenderPayGapMean {
                        let s = by_sex.get(k).copied().unwrap_or_default();
                        if s[0].den == 0.0 || s[1].den == 0.0 {
                            continue;
                        }
                        (s[0].num.value() / s[0].den, s[1].num.value() / s[1].den)
                    } else {
                        let Some(v) = medians.get_mut(k) else {
                            continue;
                        };
                        let (Some(m), Some(f)) =
                            (median_unweighted(&mut v[0]), median_unweighted(&mut v[1]))
                        else {
                            continue;
                        };
                        (m, f)
                    };
                    push(rows, *ind, &l, m - f, Some(m), gender_pay_gap(m, f));
                }
            }
        }
    }
}
