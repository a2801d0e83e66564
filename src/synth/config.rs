//! The generator's parameters as a JSON document (`vn_electronics.json` is the default; see
//! `docs/synth.md` for every field). Loading parses and then checks the whole document, so a
//! bad file is rejected with the JSON path of the first problem before anything is generated.

use serde::{Deserialize, Deserializer};

use super::Error;
use crate::frame::Ownership;

/// The embedded default: Viet Nam electronics, `vietnam-electronics.md` §7.
pub const DEFAULT_CONFIG_JSON: &str = include_str!("vn_electronics.json");

/// A complete synthetic-population configuration (counts at scale 1.0; money in thousand VND).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SynthConfig {
    pub name: String,
    pub description: String,
    /// Year of the reference period (birth years are derived from it).
    pub reference_year: u16,
    /// Enterprise strata: tier × ownership with their lognormal employment (§7.1).
    pub strata: Vec<Stratum>,
    /// Workforce classes (the columns of §7.3 and §7.5).
    pub classes: Vec<WorkforceClass>,
    /// Worker-level parameters shared by every class.
    pub workers: WorkerParams,
    pub minimum_wage: MinimumWage,
    pub legal: LegalParams,
    /// Province groups with provinces, districts and minimum-wage regions (§7.2, §5.1).
    pub province_groups: Vec<ProvinceGroup>,
    /// Tiers whose firms get province groups tilted by size, so that both the firm shares and
    /// the employment shares of §7.2 are met in expectation.
    pub size_tilt_tiers: Vec<u8>,
    pub links: LinkParams,
    /// Targets of the calibration checks (unscaled; counts are multiplied by the scale).
    pub calibration: CalibrationTargets,
}

/// One row of §7.1: firms of one tier and ownership.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stratum {
    pub tier: u8,
    #[serde(deserialize_with = "ownership")]
    pub ownership: Ownership,
    /// Number of firms at scale 1.0.
    pub firms: f64,
    /// e^μ of the employment lognormal.
    pub median_employees: f64,
    pub sigma: f64,
    pub min_employees: u64,
    pub max_employees: u64,
    /// Id of the workforce class whose parameters the firm's workers follow.
    pub class: String,
    /// Activity codes (VSIC 2018) with relative weights.
    pub vsic: Vec<Weighted>,
    /// Share of the stratum's firms that are household businesses (hộ kinh doanh).
    #[serde(default)]
    pub household_business_share: f64,
    /// Share of household businesses that hold a business registration.
    #[serde(default)]
    pub household_registered_share: f64,
}

/// A code with a relative weight.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weighted {
    pub code: String,
    pub weight: f64,
}

/// Worker parameters of one class (a column of §7.3 and §7.5). Rates are firm-level means:
/// each firm draws its own rate from Beta(mean·c, (1 − mean)·c), c = `workers.concentration`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkforceClass {
    pub id: String,
    pub label: String,
    /// Mean female share of firms; firms draw from a Beta with this mean and sd.
    pub female_share: f64,
    pub female_share_sd: f64,
    pub age_18_24: f64,
    pub age_25_34: f64,
    pub age_35_plus: f64,
    /// Multiplier on the province group's migrant rate.
    pub migrant_factor: f64,
    /// Median of the lognormal gross monthly income (thousand VND).
    pub income_median: f64,
    pub income_sigma: f64,
    /// Normal distribution of usual weekly hours; only its shape is used, the share above 48 h
    /// comes from `over_48h`.
    pub hours_mean: f64,
    pub hours_sd: f64,
    pub separation_rate: f64,
    pub written_contract: f64,
    pub social_insurance: f64,
    pub over_48h: f64,
    pub below_minimum_wage: f64,
    /// Added to `below_minimum_wage` for women (§7.5 "Women").
    pub below_minimum_wage_women_add: f64,
    pub union_member: f64,
    pub injury_12m: f64,
    /// Probability that a firm of this class has a collective labour agreement in force.
    pub cba_rate: f64,
    /// Mean share of workers with at least one forced-labour involuntariness item.
    pub forced_labour_involuntary: f64,
    /// Shares of workers aged 15–17 and 12–14.
    pub minor_15_17: f64,
    pub child_12_14: f64,
    /// Share of workers paid by piece rate (the rest are time-based monthly).
    pub piece_rate_share: f64,
}

/// An age band with its share of the "35+" group.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeBand {
    pub min: u8,
    pub max: u8,
    pub share: f64,
}

/// Worker-level parameters common to all classes (documented in `docs/synth.md`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerParams {
    pub concentration: f64,
    pub age_35_plus_split: Vec<AgeBand>,
    pub hours_at_normal_share: f64,
    pub hours_min: f64,
    pub hours_max: f64,
    pub other_job_rate: f64,
    pub other_job_hours_min: f64,
    pub other_job_hours_max: f64,
    pub agency_hired_rate: f64,
    pub night_work_rate: f64,
    pub below_minimum_wage_floor: f64,
    pub basic_above_minimum_max: f64,
    pub basic_share_of_income: [f64; 2],
    pub overtime_premium: f64,
    /// Multiplier on women's gross income (§7.3 gives none; GSO Q1 2025 salaried women earn
    /// 8.9 / 9.8 = 0.91 of men's [S74]).
    pub women_income_factor: f64,
    pub paid_on_time_rate: f64,
    /// Share of workers with a written contract who hold a copy.
    pub contract_copy_rate: f64,
    /// Share of workers not forced into overtime who say they can refuse it.
    pub can_refuse_overtime_rate: f64,
    pub contract_mix_written: ContractMixWritten,
    pub contract_mix_unwritten: ContractMixUnwritten,
    pub social_insurance_without_contract: f64,
    pub health_insurance_given_si: f64,
    pub health_insurance_without_si: f64,
    pub unemployment_insurance_given_si: f64,
    pub unemployment_insurance_without_si: f64,
    pub paid_leave_given_si: f64,
    pub paid_leave_without_si: f64,
    pub dont_know_rate: f64,
    pub injury_days_lost_share: f64,
    pub ppe_rate: f64,
    pub coercion_given_involuntary: f64,
    pub coercion_without_involuntary: f64,
    pub hazardous_work_rate_minors: f64,
    pub contributing_family_share: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractMixWritten {
    pub indefinite: f64,
    pub definite_12_36: f64,
    pub definite_under_12: f64,
    pub women_under_12_add: f64,
    pub indefinite_after_months: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractMixUnwritten {
    pub verbal: f64,
    pub none: f64,
    pub other: f64,
}

/// Regional minimum wages (Regions I–IV).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinimumWage {
    pub decree: String,
    pub effective: String,
    /// Monthly amounts, thousand VND.
    pub monthly: [f64; 4],
    /// Hourly amounts, VND.
    pub hourly_vnd: [f64; 4],
}

/// Legal thresholds used by the indicators (§4.5).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalParams {
    pub normal_weekly_hours: f64,
    /// Usual weekly hours from which an employee counts as working full normal hours for the
    /// minimum-wage comparison (40 matches the METHODOLOGY §4.6 oracle).
    pub full_time_min_hours: f64,
    pub overtime_monthly_cap: f64,
    pub excessive_hours: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvinceGroup {
    pub id: String,
    pub name: String,
    /// Groups in the same cluster count as "adjacent" for link locality.
    pub cluster: String,
    /// Share of firms of each tier (index = tier) located in the group.
    pub firm_share: Vec<f64>,
    /// Target share of employment (used by the size tilt).
    pub employment_share: f64,
    /// Share of workers from another province (before the class factor).
    pub migrant_rate: f64,
    pub provinces: Vec<Province>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Province {
    /// GSO code before the 2025 merger.
    pub code: String,
    pub name: String,
    /// Code and name after Resolution 202/2025 (uncertain codes: see §6.2 of the data note).
    pub code_2025: String,
    pub name_2025: String,
    pub weight: f64,
    pub districts: Vec<District>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct District {
    pub name: String,
    /// Minimum-wage region 1–4 (Decree 74/2024 appendix).
    pub mw_region: u8,
    pub weight: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkParams {
    pub transitions: Vec<Transition>,
    pub cross_tier: Vec<CrossTier>,
    pub locality: Locality,
}

/// Links from buyers of one tier to suppliers of the next (§7.4).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub buyer_tier: u8,
    pub supplier_tier: u8,
    /// Number of suppliers each buyer names: negative binomial by buyer ownership.
    pub out_degree: Vec<OutDegree>,
    /// Probability that a link goes to an FDI supplier, by buyer ownership.
    pub supplier_fdi_probability: Vec<OwnershipProbability>,
    /// Target distribution of the suppliers' number of buyers L in this transition.
    pub multiplicity: Vec<MultiplicityBin>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutDegree {
    #[serde(deserialize_with = "ownerships")]
    pub buyer_ownership: Vec<Ownership>,
    pub mean: f64,
    pub dispersion: f64,
    pub min: u64,
    pub max: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnershipProbability {
    #[serde(deserialize_with = "ownerships")]
    pub buyer_ownership: Vec<Ownership>,
    pub probability: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiplicityBin {
    pub min: u32,
    pub max: u32,
    pub share: f64,
}

/// Extra direct links from a share of lower-tier firms to a tier-0 (or other) buyer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossTier {
    pub supplier_tier: u8,
    pub buyer_tier: u8,
    pub share: f64,
}

/// Where a link's supplier is: same group, another group of the same cluster, anywhere.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locality {
    pub same_group: f64,
    pub same_cluster: f64,
    pub anywhere: f64,
}

/// Calibration targets of §7 ("Calibration checks"), at scale 1.0.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationTargets {
    pub total_employment: [f64; 2],
    pub female_share: [f64; 2],
    pub fdi_share_of_firms: [f64; 2],
    pub fdi_share_of_employment_min: f64,
    pub top100_fdi_min: u32,
    pub over_48h_share: [f64; 2],
    pub vietnamese_t1_share_per_fdi_lead: [f64; 2],
    pub size_class_tolerance: f64,
    pub size_class_firm_shares: SizeClassShares,
    pub large_employment_share: f64,
    pub multiplicity_tolerance: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeClassShares {
    pub micro: f64,
    pub small: f64,
    pub medium: f64,
    pub large: f64,
    pub large_300: f64,
}

fn ownership<'de, D: Deserializer<'de>>(d: D) -> Result<Ownership, D::Error> {
    let s = String::deserialize(d)?;
    Ownership::from_code(&s).ok_or_else(|| {
        serde::de::Error::custom(format!("unknown ownership {s:?}: expected FDI, DOM or SOE"))
    })
}

fn ownerships<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Ownership>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    v.iter()
        .map(|s| {
            Ownership::from_code(s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown ownership {s:?}: expected FDI, DOM or SOE"
                ))
            })
        })
        .collect()
}

impl SynthConfig {
    /// The embedded Viet Nam electronics default.
    pub fn vn_electronics() -> SynthConfig {
        // The embedded file is checked by a unit test; a failure here is a build defect.
        match SynthConfig::from_json(DEFAULT_CONFIG_JSON) {
            Ok(c) => c,
            Err(e) => panic!("embedded vn_electronics.json is invalid: {e}"),
        }
    }

    /// Parses and checks a configuration document.
    pub fn from_json(text: &str) -> Result<SynthConfig, Error> {
        let config: SynthConfig = serde_json::from_str(text).map_err(|e| Error::ConfigParse {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    /// Index of the class named `id`.
    pub fn class_index(&self, id: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.id == id)
    }

    /// Highest tier of any stratum.
    pub fn max_tier(&self) -> u8 {
        self.strata.iter().map(|s| s.tier).max().unwrap_or(0)
    }

    /// Checks every cross-field rule; the error names the JSON path.
    pub fn check(&self) -> Result<(), Error> {
        let bad = |path: String, reason: String| Err(Error::ConfigInvalid { path, reason });
        if self.strata.is_empty() {
            return bad("strata".into(), "at least one stratum is needed".into());
        }
        if !self.strata.iter().any(|s| s.tier == 0) {
            return bad("strata".into(), "no tier-0 stratum".into());
        }
        let max_tier = self.max_tier();
        for t in 0..=max_tier {
            if !self.strata.iter().any(|s| s.tier == t) {
                return bad("strata".into(), format!("tier {t} has no stratum"));
            }
        }
        for (i, s) in self.strata.iter().enumerate() {
            let p = |f: &str| format!("strata[{i}].{f}");
            if !(s.firms.is_finite() && s.firms >= 0.0) {
                return bad(p("firms"), format!("must be ≥ 0, got {}", s.firms));
            }
            if !(s.median_employees.is_finite() && s.median_employees > 0.0) {
                return bad(p("median_employees"), "must be > 0".into());
            }
            if !(s.sigma.is_finite() && s.sigma > 0.0) {
                return bad(p("sigma"), "must be > 0".into());
            }
            if s.min_employees < 1 || s.min_employees > s.max_employees {
                return bad(
                    p("min_employees"),
                    format!(
                        "need 1 ≤ min ≤ max, got [{}, {}]",
                        s.min_employees, s.max_employees
                    ),
                );
            }
            if self.class_index(&s.class).is_none() {
                return bad(p("class"), format!("unknown class {:?}", s.class));
            }
            check_weights(
                &s.vsic.iter().map(|v| v.weight).collect::<Vec<_>>(),
                &p("vsic"),
            )?;
            for (j, v) in s.vsic.iter().enumerate() {
                if v.code.len() < 4
                    || v.code.len() > 5
                    || !v.code.bytes().all(|b| b.is_ascii_digit())
                {
                    return bad(
                        format!("strata[{i}].vsic[{j}].code"),
                        format!("VSIC code must be 4–5 digits, got {:?}", v.code),
                    );
                }
            }
            check_prob(s.household_business_share, &p("household_business_share"))?;
            check_prob(
                s.household_registered_share,
                &p("household_registered_share"),
            )?;
        }
        for (i, c) in self.classes.iter().enumerate() {
            let p = |f: &str| format!("classes[{i}].{f}");
            for (name, v) in [
                ("female_share", c.female_share),
                ("age_18_24", c.age_18_24),
                ("age_25_34", c.age_25_34),
                ("age_35_plus", c.age_35_plus),
                ("separation_rate", c.separation_rate),
                ("written_contract", c.written_contract),
                ("social_insurance", c.social_insurance),
                ("over_48h", c.over_48h),
                ("below_minimum_wage", c.below_minimum_wage),
                ("union_member", c.union_member),
                ("injury_12m", c.injury_12m),
                ("cba_rate", c.cba_rate),
                ("forced_labour_involuntary", c.forced_labour_involuntary),
                ("minor_15_17", c.minor_15_17),
                ("child_12_14", c.child_12_14),
                ("piece_rate_share", c.piece_rate_share),
            ] {
                check_prob(v, &p(name))?;
            }
            check_prob(
                c.below_minimum_wage + c.below_minimum_wage_women_add,
                &p("below_minimum_wage_women_add"),
            )?;
            let ages = c.age_18_24 + c.age_25_34 + c.age_35_plus;
            if (ages - 1.0).abs() > 1e-6 {
                return bad(p("age_18_24"), format!("age shares sum to {ages}, not 1"));
            }
            let var = c.female_share * (1.0 - c.female_share);
            if !(c.female_share_sd > 0.0 && c.female_share_sd * c.female_share_sd < var) {
                return bad(
                    p("female_share_sd"),
                    format!("must be in (0, √(m(1−m))) = (0, {:.3})", var.sqrt()),
                );
            }
            for (name, v) in [
                ("migrant_factor", c.migrant_factor),
                ("income_median", c.income_median),
                ("income_sigma", c.income_sigma),
                ("hours_mean", c.hours_mean),
                ("hours_sd", c.hours_sd),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    return bad(p(name), format!("must be > 0, got {v}"));
                }
            }
            if c.minor_15_17 + c.child_12_14 >= 1.0 {
                return bad(p("minor_15_17"), "minor shares must sum to < 1".into());
            }
        }
        let w = &self.workers;
        if !(w.concentration.is_finite() && w.concentration > 0.0) {
            return bad("workers.concentration".into(), "must be > 0".into());
        }
        check_weights(
            &w.age_35_plus_split
                .iter()
                .map(|b| b.share)
                .collect::<Vec<_>>(),
            "workers.age_35_plus_split",
        )?;
        for (j, b) in w.age_35_plus_split.iter().enumerate() {
            if b.min < 35 || b.min > b.max {
                return bad(
                    format!("workers.age_35_plus_split[{j}]"),
                    "bands must lie in 35+ with min ≤ max".into(),
                );
            }
        }
        if !(w.hours_min > 0.0
            && w.hours_min < self.legal.normal_weekly_hours
            && self.legal.normal_weekly_hours < w.hours_max)
        {
            return bad(
                "workers.hours_min".into(),
                "need 0 < hours_min < normal_weekly_hours < hours_max".into(),
            );
        }
        if !(w.other_job_hours_min >= 0.0 && w.other_job_hours_min <= w.other_job_hours_max) {
            return bad(
                "workers.other_job_hours_min".into(),
                "need 0 ≤ min ≤ max".into(),
            );
        }
        if !(w.basic_share_of_income[0] > 0.0
            && w.basic_share_of_income[0] <= w.basic_share_of_income[1]
            && w.basic_share_of_income[1] <= 1.0)
        {
            return bad(
                "workers.basic_share_of_income".into(),
                "need 0 < lo ≤ hi ≤ 1".into(),
            );
        }
        if !(w.women_income_factor.is_finite() && w.women_income_factor > 0.0) {
            return bad("workers.women_income_factor".into(), "must be > 0".into());
        }
        if !(w.below_minimum_wage_floor > 0.0 && w.below_minimum_wage_floor < 1.0) {
            return bad(
                "workers.below_minimum_wage_floor".into(),
                "must be in (0, 1)".into(),
            );
        }
        for (name, v) in [
            ("hours_at_normal_share", w.hours_at_normal_share),
            ("other_job_rate", w.other_job_rate),
            ("agency_hired_rate", w.agency_hired_rate),
            ("night_work_rate", w.night_work_rate),
            ("paid_on_time_rate", w.paid_on_time_rate),
            ("contract_copy_rate", w.contract_copy_rate),
            ("can_refuse_overtime_rate", w.can_refuse_overtime_rate),
            (
                "social_insurance_without_contract",
                w.social_insurance_without_contract,
            ),
            ("health_insurance_given_si", w.health_insurance_given_si),
            ("health_insurance_without_si", w.health_insurance_without_si),
            (
                "unemployment_insurance_given_si",
                w.unemployment_insurance_given_si,
            ),
            (
                "unemployment_insurance_without_si",
                w.unemployment_insurance_without_si,
            ),
            ("paid_leave_given_si", w.paid_leave_given_si),
            ("paid_leave_without_si", w.paid_leave_without_si),
            ("dont_know_rate", w.dont_know_rate),
            ("injury_days_lost_share", w.injury_days_lost_share),
            ("ppe_rate", w.ppe_rate),
            ("coercion_given_involuntary", w.coercion_given_involuntary),
            (
                "coercion_without_involuntary",
                w.coercion_without_involuntary,
            ),
            ("hazardous_work_rate_minors", w.hazardous_work_rate_minors),
            ("contributing_family_share", w.contributing_family_share),
        ] {
            check_prob(v, &format!("workers.{name}"))?;
        }
        let cw = &w.contract_mix_written;
        check_weights(
            &[cw.indefinite, cw.definite_12_36, cw.definite_under_12],
            "workers.contract_mix_written",
        )?;
        check_prob(
            cw.women_under_12_add,
            "workers.contract_mix_written.women_under_12_add",
        )?;
        let cu = &w.contract_mix_unwritten;
        check_weights(
            &[cu.verbal, cu.none, cu.other],
            "workers.contract_mix_unwritten",
        )?;
        for r in 0..4 {
            if !(self.minimum_wage.monthly[r] > 0.0 && self.minimum_wage.hourly_vnd[r] > 0.0) {
                return bad(format!("minimum_wage.monthly[{r}]"), "must be > 0".into());
            }
        }
        if self.province_groups.is_empty() {
            return bad(
                "province_groups".into(),
                "at least one group is needed".into(),
            );
        }
        for t in 0..=max_tier as usize {
            let shares: Vec<f64> = self
                .province_groups
                .iter()
                .map(|g| g.firm_share.get(t).copied().unwrap_or(-1.0))
                .collect();
            if shares.iter().any(|s| *s < 0.0) {
                return bad(
                    "province_groups[].firm_share".into(),
                    format!("every group needs a share for tier {t}"),
                );
            }
            check_weights(&shares, &format!("province_groups[].firm_share[{t}]"))?;
        }
        check_weights(
            &self
                .province_groups
                .iter()
                .map(|g| g.employment_share)
                .collect::<Vec<_>>(),
            "province_groups[].employment_share",
        )?;
        for (i, g) in self.province_groups.iter().enumerate() {
            check_prob(
                g.migrant_rate,
                &format!("province_groups[{i}].migrant_rate"),
            )?;
            if g.provinces.is_empty() {
                return bad(
                    format!("province_groups[{i}].provinces"),
                    "at least one province".into(),
                );
            }
            check_weights(
                &g.provinces.iter().map(|p| p.weight).collect::<Vec<_>>(),
                &format!("province_groups[{i}].provinces"),
            )?;
            for (j, p) in g.provinces.iter().enumerate() {
                let path = format!("province_groups[{i}].provinces[{j}]");
                if p.code.len() != 2 || !p.code.bytes().all(|b| b.is_ascii_digit()) {
                    return bad(
                        format!("{path}.code"),
                        format!("province code must be 2 digits, got {:?}", p.code),
                    );
                }
                if p.districts.is_empty() {
                    return bad(format!("{path}.districts"), "at least one district".into());
                }
                check_weights(
                    &p.districts.iter().map(|d| d.weight).collect::<Vec<_>>(),
                    &format!("{path}.districts"),
                )?;
                for (k, d) in p.districts.iter().enumerate() {
                    if !(1..=4).contains(&d.mw_region) {
                        return bad(
                            format!("{path}.districts[{k}].mw_region"),
                            format!("must be 1–4, got {}", d.mw_region),
                        );
                    }
                }
            }
        }
        for t in &self.size_tilt_tiers {
            if *t > max_tier {
                return bad("size_tilt_tiers".into(), format!("tier {t} does not exist"));
            }
        }
        for (i, tr) in self.links.transitions.iter().enumerate() {
            let p = |f: &str| format!("links.transitions[{i}].{f}");
            if tr.buyer_tier > max_tier
                || tr.supplier_tier > max_tier
                || tr.buyer_tier == tr.supplier_tier
            {
                return bad(p("buyer_tier"), "tiers must exist and differ".into());
            }
            for own in [Ownership::Fdi, Ownership::Domestic, Ownership::State] {
                let has_buyers = self
                    .strata
                    .iter()
                    .any(|s| s.tier == tr.buyer_tier && s.ownership == own);
                if has_buyers
                    && !tr
                        .out_degree
                        .iter()
                        .any(|o| o.buyer_ownership.contains(&own))
                {
                    return bad(
                        p("out_degree"),
                        format!("no entry for buyer ownership {}", own.code()),
                    );
                }
                if has_buyers
                    && !tr
                        .supplier_fdi_probability
                        .iter()
                        .any(|o| o.buyer_ownership.contains(&own))
                {
                    return bad(
                        p("supplier_fdi_probability"),
                        format!("no entry for buyer ownership {}", own.code()),
                    );
                }
            }
            for (j, o) in tr.out_degree.iter().enumerate() {
                if !(o.mean > 0.0 && o.dispersion > 0.0 && o.min <= o.max) {
                    return bad(
                        format!("links.transitions[{i}].out_degree[{j}]"),
                        "need mean > 0, dispersion > 0, min ≤ max".into(),
                    );
                }
            }
            for (j, o) in tr.supplier_fdi_probability.iter().enumerate() {
                check_prob(
                    o.probability,
                    &format!("links.transitions[{i}].supplier_fdi_probability[{j}].probability"),
                )?;
            }
            check_weights(
                &tr.multiplicity.iter().map(|b| b.share).collect::<Vec<_>>(),
                &p("multiplicity"),
            )?;
            for (j, b) in tr.multiplicity.iter().enumerate() {
                if b.min < 1 || b.min > b.max {
                    return bad(
                        format!("links.transitions[{i}].multiplicity[{j}]"),
                        "need 1 ≤ min ≤ max".into(),
                    );
                }
            }
        }
        for (i, c) in self.links.cross_tier.iter().enumerate() {
            if c.supplier_tier > max_tier
                || c.buyer_tier > max_tier
                || c.buyer_tier >= c.supplier_tier
            {
                return bad(
                    format!("links.cross_tier[{i}]"),
                    "need existing tiers with buyer_tier < supplier_tier".into(),
                );
            }
            check_prob(c.share, &format!("links.cross_tier[{i}].share"))?;
        }
        let l = &self.links.locality;
        check_weights(
            &[l.same_group, l.same_cluster, l.anywhere],
            "links.locality",
        )?;
        Ok(())
    }
}

fn check_prob(v: f64, path: &str) -> Result<(), Error> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::ConfigInvalid {
            path: path.to_string(),
            reason: format!("must be a probability in [0, 1], got {v}"),
        })
    }
}

/// Weights must be finite, non-negative, with a positive sum; shares that should sum to one
/// are normalised by the generator, so only gross errors are rejected here.
fn check_weights(w: &[f64], path: &str) -> Result<(), Error> {
    if w.is_empty() {
        return Err(Error::ConfigInvalid {
            path: path.to_string(),
            reason: "empty list".into(),
        });
    }
    if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
        return Err(Error::ConfigInvalid {
            path: path.to_string(),
            reason: "weights must be finite and ≥ 0".into(),
        });
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(Error::ConfigInvalid {
            path: path.to_string(),
            reason: "weights sum to 0".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_loads_and_checks() {
        let c = SynthConfig::from_json(DEFAULT_CONFIG_JSON).expect("default config");
        assert_eq!(c.strata.len(), 11);
        let firms: f64 = c.strata.iter().map(|s| s.firms).sum();
        assert_eq!(firms, 2810.0);
        assert_eq!(c.province_groups.len(), 8);
    }
}
