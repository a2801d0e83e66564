//! Link tracing (indirect sampling, METHODOLOGY §1.3 stages 2–4, §2.8, §2.9): from the
//! supplier rosters of the responding units of tier t to the selected units of tier t+1.
//!
//! Steps, each recorded so weighting can use the stored probabilities and never recompute
//! them:
//!
//! 1. every roster row is matched to the frame by tax code ([`LinkageIndex`]); rows that
//!    give no unit, name the respondent itself, name a unit of tier ≤ t, or repeat a supplier
//!    the same respondent already listed are reported as unmatched, with the reason;
//! 2. the accepted rows are the links (j, i); with link subsampling each is kept
//!    independently with p_{j,i} = min(1, k / listed_j), u_{j,i} = 1 when kept;
//! 3. the reached set is the suppliers with at least one kept link; take-all or a
//!    subsample (SRSWOR or PPS systematic) with conditional probabilities π_{i|s};
//! 4. for every reached unit, L_i = the number of distinct buyers in the whole tier-t
//!    population: the union of the respondents that listed it, its own customer roster
//!    matched to the frame (buyers of tier t), and the register links of tier-t buyers, with
//!    the method that produced it (`link_count_method`, §2.9).
//!
//! Tier membership comes from the frame's tiers; respondents count as tier t whatever the
//! register says, since they were sampled as tier t.

use std::collections::HashMap;

use crate::frame::{Frame, UnitIdx};
use crate::sampling::design::{PpsSize, TraceMode};
use crate::sampling::error::SamplingError;
use crate::sampling::linkage::{LinkageIndex, MatchKind, NoMatch, reported_key};
use crate::sampling::pps::{draw_pps_systematic, pps_inclusion_probabilities};
use crate::sampling::srswor::srswor;
use crate::sampling::uniform::{derive_seed, rng_from_seed, uniform};

/// One row of an enterprise's supplier roster (`suppliers` in the enterprise questionnaire),
/// as plain data so sampling does not depend on the questionnaire module.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportedSupplier {
    /// Row number in the roster (1-based), for the unmatched report.
    pub row: u32,
    /// `sup_tax_code` as typed.
    pub tax_code: Option<String>,
    /// `sup_name`.
    pub name: String,
    /// `sup_purchase_value` (million VND), the default PPS size.
    pub purchase_value: Option<f64>,
}

/// The supplier roster of one responding unit.
#[derive(Clone, Debug, PartialEq)]
pub struct SupplierRoster {
    pub respondent_id: String,
    pub rows: Vec<ReportedSupplier>,
}

/// What a reached unit said about its own buyers: the customer roster's tax codes and the
/// self-reported number of buyers in the previous tier (`n_customers_electronics`).
#[derive(Clone, Debug, PartialEq)]
pub struct CustomerReport {
    pub unit_id: String,
    pub customer_tax_codes: Vec<Option<String>>,
    pub self_reported_links: Option<u32>,
}

/// Everything a trace needs.
pub struct TraceRequest<'a> {
    pub frame: &'a Frame,
    pub index: &'a LinkageIndex,
    /// Frame tier of every unit.
    pub tiers: &'a [Option<u32>],
    pub from_tier: u32,
    pub rosters: &'a [SupplierRoster],
    pub customers: &'a [CustomerReport],
    pub mode: &'a TraceMode,
    /// The design seed; the trace uses `derive_seed(seed, "trace-tier-<t>")`.
    pub seed: u64,
}

/// A link from a respondent to a matched supplier.
#[derive(Clone, Debug, PartialEq)]
pub struct TracedLink {
    pub buyer: UnitIdx,
    pub supplier: UnitIdx,
    pub row: u32,
    pub match_kind: MatchKind,
    /// Suppliers the buyer listed (accepted rows): the denominator of p.
    pub listed: u32,
    /// p_{j,i}, fixed at selection time.
    pub p: f64,
    /// u_{j,i}: the link was kept.
    pub retained: bool,
}

/// How L_i was obtained (§2.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkCountMethod {
    /// The unit's own customer roster matched to the frame (plus the other sources).
    RecordLinkage,
    /// The register's links (plus the respondents that listed it); no customer roster.
    RegisterLinks,
    /// The unit's self-reported count (at least the number of respondents that listed it).
    SelfReported,
    /// Only the respondents that listed it are known: a lower bound.
    ReportersOnly,
}

impl LinkCountMethod {
    pub fn name(self) -> &'static str {
        match self {
            LinkCountMethod::RecordLinkage => "record_linkage",
            LinkCountMethod::RegisterLinks => "register_links",
            LinkCountMethod::SelfReported => "self_reported",
            LinkCountMethod::ReportersOnly => "reporters_only",
        }
    }
}

/// A unit of tier t+1 reached through at least one kept link.
#[derive(Clone, Debug, PartialEq)]
pub struct ReachedUnit {
    pub unit: UnitIdx,
    pub frame_tier: Option<u32>,
    /// Respondents whose kept link reached it.
    pub n_reporting: u32,
    /// Sum of the reported purchase values over those links.
    pub purchase_value: f64,
    /// π_{i|s}, the conditional probability of the unit subsample (1 when not subsampled).
    pub pi_given_s: f64,
    pub selected: bool,
    /// L_i used for weighting.
    pub l: u32,
    /// Distinct tier-t buyers found by linkage (customer roster, register, reporters).
    pub l_linked: u32,
    pub l_self_reported: Option<u32>,
    pub link_count_method: LinkCountMethod,
    /// Customer-roster codes that did not match a frame unit.
    pub unmatched_customer_codes: u32,
}

/// Why a supplier row did not become a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnmatchedReason {
    NoTaxCode,
    InvalidTaxCode,
    NotInFrame,
    /// The supplier is the respondent itself.
    SelfReference,
    /// The supplier belongs to tier ≤ t (it is not a tier t+1 unit).
    EarlierTier(u32),
    /// The respondent already listed this supplier on `first_row`.
    Duplicate {
        first_row: u32,
    },
}

impl std::fmt::Display for UnmatchedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnmatchedReason::NoTaxCode => f.write_str("no tax code reported"),
            UnmatchedReason::InvalidTaxCode => {
                f.write_str("not a Vietnamese tax code (foreign or mistyped)")
            }
            UnmatchedReason::NotInFrame => f.write_str("tax code not in the frame"),
            UnmatchedReason::SelfReference => f.write_str("the respondent itself"),
            UnmatchedReason::EarlierTier(t) => write!(f, "already in tier {t}"),
            UnmatchedReason::Duplicate { first_row } => {
                write!(f, "same supplier as row {first_row}")
            }
        }
    }
}

/// A roster row that did not give a link.
#[derive(Clone, Debug, PartialEq)]
pub struct UnmatchedSupplier {
    pub respondent: UnitIdx,
    pub row: u32,
    pub tax_code: Option<String>,
    pub name: String,
    pub reason: UnmatchedReason,
}

/// The result of [`trace_links`].
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub from_tier: u32,
    /// The seed the trace's generator used.
    pub seed: u64,
    /// `take_all`, `subsample_links(k=3)`, …
    pub method: String,
    pub links: Vec<TracedLink>,
    /// Reached units in frame order.
    pub reached: Vec<ReachedUnit>,
    pub unmatched: Vec<UnmatchedSupplier>,
}

impl Trace {
    /// The reached-unit record of `unit`, if it was reached.
    pub fn reached_unit(&self, unit: UnitIdx) -> Option<&ReachedUnit> {
        self.reached
            .binary_search_by_key(&unit, |r| r.unit)
            .ok()
            .map(|pos| &self.reached[pos])
    }
}

/// The method name recorded for a trace mode.
pub fn trace_mode_name(mode: &TraceMode) -> String {
    match mode {
        TraceMode::TakeAll => "take_all".into(),
        TraceMode::SubsampleUnitsSrswor { n } => format!("subsample_units_srswor(n={n})"),
        TraceMode::SubsampleUnitsPps { n, size } => match size {
            PpsSize::PurchaseValue => format!("subsample_units_pps(n={n},size=purchase_value)"),
            PpsSize::Column(c) => format!("subsample_units_pps(n={n},size={c})"),
        },
        TraceMode::SubsampleLinks { k } => format!("subsample_links(k={k})"),
    }
}

const NONE: u32 = u32::MAX;

/// Traces links from tier `from_tier` respondents to tier `from_tier + 1`.
pub fn trace_links(req: &TraceRequest) -> Result<Trace, SamplingError> {
    let frame = req.frame;
    let n_units = frame.units.len();
    if req.tiers.len() != n_units {
        return Err(SamplingError::BadParameter {
            name: "tiers".into(),
            value: req.tiers.len().to_string(),
            reason: format!("needs one tier per frame unit ({n_units})"),
        });
    }
    let seed = derive_seed(req.seed, &format!("trace-tier-{}", req.from_tier));
    let mut rng = rng_from_seed(seed);
    // Everything the trace needs to know about a unit sits in one record, so a roster row
    // costs one cache miss for its supplier's state, not one per array.
    let mut state: Vec<UnitState> = req
        .tiers
        .iter()
        .map(|tier| UnitState {
            tier: tier.unwrap_or(NONE),
            seen_by: NONE,
            first_row: 0,
            n_listed: 0,
            reached: NONE,
            n_reporting: 0,
            stamp: NONE,
            respondent: false,
            purchase: 0.0,
        })
        .collect();
    let mut respondents = Vec::with_capacity(req.rosters.len());
    for roster in req.rosters {
        let idx = frame
            .index_of(&roster.respondent_id)
            .ok_or_else(|| SamplingError::UnknownUnit(roster.respondent_id.clone()))?;
        if state[idx].respondent {
            return Err(SamplingError::BadParameter {
                name: "rosters".into(),
                value: roster.respondent_id.clone(),
                reason: "two supplier rosters for the same respondent".into(),
            });
        }
        state[idx].respondent = true;
        respondents.push(idx);
    }

    // Steps 1 and 2, roster by roster: keys, one batched lookup, then the row checks
    // (`seen_by` dedupes within a respondent in O(1)), then p and u for the roster's links,
    // and the reached marks and totals while the suppliers' states are still in cache.
    let n_rows: usize = req.rosters.iter().map(|r| r.rows.len()).sum();
    let mut links = Vec::with_capacity(n_rows);
    let mut unmatched = Vec::new();
    let mut keys: Vec<Option<u64>> = Vec::new();
    let mut key_results: Vec<Result<u64, NoMatch>> = Vec::new();
    let mut found: Vec<Option<UnitIdx>> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    for (roster_pos, (roster, &buyer)) in req.rosters.iter().zip(&respondents).enumerate() {
        let first_link = links.len();
        key_results.clear();
        key_results.extend(
            roster
                .rows
                .iter()
                .map(|row| reported_key(row.tax_code.as_deref())),
        );
        keys.clear();
        keys.extend(key_results.iter().map(|k| k.ok()));
        req.index.lookup_keys(&keys, &mut found);
        // Touch the matched units' states before using them: the loads are independent, so
        // their cache misses overlap instead of stalling the row loop one by one.
        let touched = found
            .iter()
            .flatten()
            .fold(0u32, |acc, &u| acc ^ state[u].seen_by);
        std::hint::black_box(touched);
        values.clear();
        for ((row, key), exact) in roster.rows.iter().zip(&key_results).zip(&found) {
            let matched = match key {
                Err(why) => Err(*why),
                Ok(key) => req.index.resolve(*key, *exact),
            };
            let reason = match matched {
                Err(NoMatch::Missing) => Some(UnmatchedReason::NoTaxCode),
                Err(NoMatch::Invalid) => Some(UnmatchedReason::InvalidTaxCode),
                Err(NoMatch::NotInFrame) => Some(UnmatchedReason::NotInFrame),
                Ok((supplier, kind)) => {
                    let unit = &mut state[supplier];
                    if supplier == buyer {
                        Some(UnmatchedReason::SelfReference)
                    } else if unit.tier != NONE && unit.tier <= req.from_tier {
                        Some(UnmatchedReason::EarlierTier(unit.tier))
                    } else if unit.seen_by == roster_pos as u32 {
                        Some(UnmatchedReason::Duplicate {
                            first_row: unit.first_row,
                        })
                    } else {
                        unit.seen_by = roster_pos as u32;
                        unit.first_row = row.row;
                        unit.n_listed += 1;
                        links.push(TracedLink {
                            buyer,
                            supplier,
                            row: row.row,
                            match_kind: kind,
                            listed: 0,
                            p: 1.0,
                            retained: true,
                        });
                        values.push(row.purchase_value.unwrap_or(0.0));
                        None
                    }
                }
            };
            if let Some(reason) = reason {
                unmatched.push(UnmatchedSupplier {
                    respondent: buyer,
                    row: row.row,
                    tax_code: row.tax_code.clone(),
                    name: row.name.clone(),
                    reason,
                });
            }
        }
        let listed = (links.len() - first_link) as u32;
        let p = match req.mode {
            TraceMode::SubsampleLinks { k } => (k / f64::from(listed.max(1))).min(1.0),
            _ => 1.0,
        };
        for (link, value) in links[first_link..].iter_mut().zip(&values) {
            link.listed = listed;
            link.p = p;
            if p < 1.0 {
                link.retained = uniform(&mut rng) < p;
            }
            if link.retained {
                let unit = &mut state[link.supplier];
                unit.reached = 0;
                unit.n_reporting += 1;
                unit.purchase += value;
            }
        }
    }

    // Step 3: reached units in frame order (one scan of the marks), then the subsample.
    let mut reached_units: Vec<UnitIdx> = Vec::new();
    for (unit, st) in state.iter_mut().enumerate() {
        if st.reached == 0 {
            st.reached = reached_units.len() as u32;
            reached_units.push(unit);
        }
    }
    let purchase_value: Vec<f64> = reached_units.iter().map(|&u| state[u].purchase).collect();
    let (pi_given_s, selected) = subsample_reached(req, &reached_units, &purchase_value, &mut rng)?;

    // Step 4: L_i. Reporters are every accepted link (kept or not: all are links of the
    // population), grouped by supplier with a counting sort.
    let mut reporter_offsets = vec![0usize; reached_units.len() + 1];
    for (pos, &unit) in reached_units.iter().enumerate() {
        reporter_offsets[pos + 1] = reporter_offsets[pos] + state[unit].n_listed as usize;
    }
    let mut fill = reporter_offsets.clone();
    let mut reporters = vec![0usize; reporter_offsets[reached_units.len()]];
    for link in &links {
        let pos = state[link.supplier].reached;
        if pos != NONE {
            reporters[fill[pos as usize]] = link.buyer;
            fill[pos as usize] += 1;
        }
    }
    drop(fill);
    let mut customer_of: HashMap<UnitIdx, &CustomerReport> = HashMap::new();
    for report in req.customers {
        let idx = frame
            .index_of(&report.unit_id)
            .ok_or_else(|| SamplingError::UnknownUnit(report.unit_id.clone()))?;
        customer_of.insert(idx, report);
    }
    let mut reached = Vec::with_capacity(reached_units.len());
    for (pos, &unit) in reached_units.iter().enumerate() {
        let stamp = pos as u32;
        let mut count = 0u32;
        // Counts b once per reached unit, and only when b belongs to tier t.
        let mut add = |b: UnitIdx, state: &mut [UnitState], must_be_in_tier: bool| {
            let st = &mut state[b];
            let in_tier = st.respondent || st.tier == req.from_tier;
            if st.stamp != stamp && (in_tier || !must_be_in_tier) {
                st.stamp = stamp;
                count += 1;
            }
        };
        for &b in &reporters[reporter_offsets[pos]..reporter_offsets[pos + 1]] {
            add(b, &mut state, false);
        }
        let register_buyers = req.index.buyers.neighbours(unit);
        for &b in register_buyers {
            add(b, &mut state, true);
        }
        let report = customer_of.get(&unit);
        let mut unmatched_customer_codes = 0;
        let has_roster = report.is_some_and(|r| !r.customer_tax_codes.is_empty());
        if let Some(report) = report {
            for code in &report.customer_tax_codes {
                match req.index.match_tax_code(code.as_deref()) {
                    Ok((b, _)) => add(b, &mut state, true),
                    Err(_) => unmatched_customer_codes += 1,
                }
            }
        }
        let l_self_reported = report.and_then(|r| r.self_reported_links);
        let (l, method) = if has_roster {
            (count, LinkCountMethod::RecordLinkage)
        } else if !register_buyers.is_empty() {
            (count, LinkCountMethod::RegisterLinks)
        } else if let Some(reported) = l_self_reported {
            (reported.max(count), LinkCountMethod::SelfReported)
        } else {
            (count, LinkCountMethod::ReportersOnly)
        };
        reached.push(ReachedUnit {
            unit,
            frame_tier: req.tiers[unit],
            n_reporting: state[unit].n_reporting,
            purchase_value: purchase_value[pos],
            pi_given_s: pi_given_s[pos],
            selected: selected[pos],
            l,
            l_linked: count,
            l_self_reported,
            link_count_method: method,
            unmatched_customer_codes,
        });
    }
    Ok(Trace {
        from_tier: req.from_tier,
        seed,
        method: trace_mode_name(req.mode),
        links,
        reached,
        unmatched,
    })
}

/// The trace's working record of one frame unit.
#[derive(Clone, Copy)]
struct UnitState {
    /// Frame tier, `NONE` when out of scope.
    tier: u32,
    /// The roster number that last listed this unit (dedup within a respondent).
    seen_by: u32,
    first_row: u32,
    /// Accepted links to this unit (kept or not): its number of reporters.
    n_listed: u32,
    /// `NONE`, then 0 once reached, then the position among reached units.
    reached: u32,
    /// Kept links that reached it.
    n_reporting: u32,
    /// The reached unit whose L_i last counted this unit as a buyer.
    stamp: u32,
    respondent: bool,
    /// Reported purchase values over kept links.
    purchase: f64,
}

/// Step 3's subsample of the reached set: (π_{i|s}, selected) per reached unit.
fn subsample_reached(
    req: &TraceRequest,
    reached: &[UnitIdx],
    purchase_value: &[f64],
    rng: &mut rand::rngs::ChaCha20Rng,
) -> Result<(Vec<f64>, Vec<bool>), SamplingError> {
    let count = reached.len();
    match req.mode {
        TraceMode::TakeAll | TraceMode::SubsampleLinks { .. } => {
            Ok((vec![1.0; count], vec![true; count]))
        }
        TraceMode::SubsampleUnitsSrswor { n } => {
            let n = (*n as usize).min(count);
            let pi = if count == 0 {
                0.0
            } else {
                n as f64 / count as f64
            };
            let mut selected = vec![false; count];
            for pos in srswor(count, n, rng)? {
                selected[pos] = true;
            }
            Ok((vec![pi; count], selected))
        }
        TraceMode::SubsampleUnitsPps { n, size } => {
            let sizes: Vec<f64> = match size {
                PpsSize::PurchaseValue => purchase_value.to_vec(),
                PpsSize::Column(column) => {
                    crate::sampling::strata::numeric_column(req.frame, reached, column)?
                }
            };
            // Every reached unit needs π_{i|s} > 0 (§2.8.1), so a zero or missing size is an
            // error here, not an exclusion.
            for (&unit, &size) in reached.iter().zip(&sizes) {
                if !(size.is_finite() && size > 0.0) {
                    return Err(SamplingError::BadSize {
                        unit: req.frame.units[unit].id.clone(),
                        size,
                    });
                }
            }
            let n = (*n).min(count as u64);
            let pi = pps_inclusion_probabilities(&sizes, n)?;
            let mut selected = vec![false; count];
            let (positions, _) = draw_pps_systematic(&pi, rng)?;
            for pos in positions {
                selected[pos] = true;
            }
            Ok((pi, selected))
        }
    }
}
