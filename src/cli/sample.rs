//! `chainsurvey sample draw|trace|workers`: the sampling steps of a survey round, each
//! writing a CSV with every probability, seed and method so the weights can be built and
//! the step replayed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::cli::frame::FrameSource;
use crate::frame::Frame;
use crate::sampling::{
    CustomerReport, Design, LinkageIndex, ReportedSupplier, RosterWorker, Sex, SupplierRoster,
    TraceRequest, WorkerSource, draw_sample, select_workers, trace_links,
};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Draw the frame-stage sample of a design; writes one row per selected unit.
    Draw {
        #[command(flatten)]
        source: FrameSource,
        /// Sampling design JSON (docs/design-format.md).
        #[arg(long)]
        design: PathBuf,
        /// Output CSV.
        #[arg(long)]
        out: PathBuf,
    },
    /// Trace reported supplier links from tier t respondents to tier t+1; writes one row
    /// per link with p, π_{i|s} and L_i.
    Trace {
        #[command(flatten)]
        source: FrameSource,
        #[arg(long)]
        design: PathBuf,
        /// The tier of the respondents.
        #[arg(long, default_value_t = 0)]
        from_tier: u32,
        /// Supplier rosters: respondent_id, row, sup_tax_code, sup_name, sup_purchase_value.
        #[arg(long)]
        suppliers: PathBuf,
        /// Customer rosters of reached units: unit_id, cus_tax_code, n_customers_electronics.
        #[arg(long)]
        customers: Option<PathBuf>,
        /// Output CSV (one row per link).
        #[arg(long)]
        out: PathBuf,
        /// Output CSV of roster rows that gave no link, with the reason.
        #[arg(long)]
        unmatched: Option<PathBuf>,
    },
    /// Select workers by sex within interviewed units; writes one row per selected worker.
    Workers {
        /// Units CSV of the frame (for the counts by sex).
        #[arg(long)]
        units: PathBuf,
        /// CSV with an `id` column: the interviewed units.
        #[arg(long)]
        interviewed: PathBuf,
        #[arg(long)]
        design: PathBuf,
        /// Worker rosters (unit_id, worker_id, sex); counts from the frame otherwise.
        #[arg(long)]
        roster: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Draw {
            source,
            design,
            out,
        } => draw(&source, &design, &out),
        Command::Trace {
            source,
            design,
            from_tier,
            suppliers,
            customers,
            out,
            unmatched,
        } => trace(
            &source,
            &design,
            from_tier,
            &suppliers,
            customers.as_deref(),
            &out,
            unmatched.as_deref(),
        ),
        Command::Workers {
            units,
            interviewed,
            design,
            roster,
            out,
        } => workers(&units, &interviewed, &design, roster.as_deref(), &out),
    }
}

fn read_design(path: &Path) -> anyhow::Result<Design> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Design::parse(&text).with_context(|| format!("in {}", path.display()))
}

fn load_frame(source: &FrameSource, design: &Design) -> anyhow::Result<Frame> {
    let needs_tier = design.population.iter().any(|(c, _)| c == "tier")
        || design.strata.iter().any(|c| c == "tier");
    let rule = source.tier0_rule()?;
    if rule.is_some() || needs_tier {
        Ok(source.load_with_rule(rule)?.0)
    } else {
        match source.load(crate::frame::DEFAULT_MAX_ERRORS) {
            Ok(frame) => Ok(frame),
            Err(err) => bail!("{err}"),
        }
    }
}

fn csv_writer(path: &Path) -> anyhow::Result<csv::Writer<std::fs::File>> {
    csv::Writer::from_path(path).with_context(|| format!("creating {}", path.display()))
}

fn draw(source: &FrameSource, design_path: &Path, out: &Path) -> anyhow::Result<i32> {
    let design = read_design(design_path)?;
    let frame = load_frame(source, &design)?;
    let sample = draw_sample(&frame, &design)?;
    let frame_digest = frame.digest();
    let mut writer = csv_writer(out)?;
    writer.write_record([
        "id",
        "tax_code",
        "stratum",
        "pi",
        "design_weight",
        "take_all",
        "method",
        "allocation",
        "seed",
        "stratum_seed",
        "random_start",
        "prn",
        "stratum_population",
        "stratum_n",
        "tier",
        "chainsurvey_version",
        "frame_digest",
    ])?;
    for selected in &sample.units {
        let unit = &frame.units[selected.unit];
        let stratum = &sample.strata[selected.stratum];
        writer.write_record([
            unit.id.clone(),
            unit.tax_code.clone().unwrap_or_default(),
            stratum.key.clone(),
            format!("{:?}", selected.pi),
            format!("{:?}", 1.0 / selected.pi),
            u8::from(selected.take_all).to_string(),
            sample.method.name().to_string(),
            sample.allocation.clone(),
            sample.seed.to_string(),
            stratum.seed.to_string(),
            stratum
                .random_start
                .map(|u| format!("{u:?}"))
                .unwrap_or_default(),
            selected.prn.map(|u| format!("{u:?}")).unwrap_or_default(),
            stratum.population.to_string(),
            stratum.n.to_string(),
            frame
                .attributes()
                .get("tier", selected.unit)
                .unwrap_or_default()
                .to_string(),
            sample.crate_version.to_string(),
            frame_digest.clone(),
        ])?;
    }
    writer.flush()?;
    println!(
        "{}: {} units selected of n = {} ({} with {} allocation, seed {})",
        out.display(),
        sample.units.len(),
        sample.n_total,
        sample.method.name(),
        sample.allocation,
        sample.seed
    );
    println!("stratum                      N_h    n_h  selected");
    for stratum in &sample.strata {
        println!(
            "{:<26} {:>6} {:>6} {:>9}{}",
            stratum.key,
            stratum.population,
            stratum.n,
            stratum.selected,
            if stratum.take_all { "  take-all" } else { "" }
        );
    }
    Ok(0)
}

/// A CSV's header and its records with their line numbers.
type CsvRows = (Vec<String>, Vec<(u64, csv::StringRecord)>);

/// Reads a CSV into header-indexed rows; `required` columns must be present.
fn read_rows(path: &Path, required: &[&str]) -> anyhow::Result<CsvRows> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("reading the header of {}", path.display()))?
        .iter()
        .map(String::from)
        .collect();
    for column in required {
        if !header.iter().any(|h| h == column) {
            bail!("{}:1: missing required column `{column}`", path.display());
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("reading {}", path.display()))?;
        let line = record.position().map_or(0, csv::Position::line);
        rows.push((line, record));
    }
    Ok((header, rows))
}

fn field<'a>(header: &[String], record: &'a csv::StringRecord, column: &str) -> Option<&'a str> {
    let pos = header.iter().position(|h| h == column)?;
    record.get(pos).filter(|v| !v.is_empty())
}

fn parse_number<T: std::str::FromStr>(
    path: &Path,
    line: u64,
    column: &str,
    text: Option<&str>,
) -> anyhow::Result<Option<T>> {
    match text {
        None => Ok(None),
        Some(text) => match text.parse::<T>() {
            Ok(value) => Ok(Some(value)),
            Err(_) => bail!(
                "{}:{line}: column `{column}`: `{text}` is not a number",
                path.display()
            ),
        },
    }
}

fn trace(
    source: &FrameSource,
    design_path: &Path,
    from_tier: u32,
    suppliers_path: &Path,
    customers_path: Option<&Path>,
    out: &Path,
    unmatched_path: Option<&Path>,
) -> anyhow::Result<i32> {
    let design = read_design(design_path)?;
    let (frame, tiers) = source.load_with_tiers()?;
    let (header, rows) = read_rows(suppliers_path, &["respondent_id", "sup_tax_code"])?;
    let mut rosters: Vec<SupplierRoster> = Vec::new();
    let mut roster_of: BTreeMap<String, usize> = BTreeMap::new();
    for (line, record) in &rows {
        let respondent = field(&header, record, "respondent_id")
            .with_context(|| format!("{}:{line}: empty respondent_id", suppliers_path.display()))?;
        let pos = *roster_of.entry(respondent.to_string()).or_insert_with(|| {
            rosters.push(SupplierRoster {
                respondent_id: respondent.to_string(),
                rows: Vec::new(),
            });
            rosters.len() - 1
        });
        let row_number =
            match parse_number::<u32>(suppliers_path, *line, "row", field(&header, record, "row"))?
            {
                Some(row) => row,
                None => rosters[pos].rows.len() as u32 + 1,
            };
        rosters[pos].rows.push(ReportedSupplier {
            row: row_number,
            tax_code: field(&header, record, "sup_tax_code").map(String::from),
            name: field(&header, record, "sup_name")
                .unwrap_or_default()
                .to_string(),
            purchase_value: parse_number(
                suppliers_path,
                *line,
                "sup_purchase_value",
                field(&header, record, "sup_purchase_value"),
            )?,
        });
    }
    let mut customers: Vec<CustomerReport> = Vec::new();
    if let Some(path) = customers_path {
        let (header, rows) = read_rows(path, &["unit_id"])?;
        let mut report_of: BTreeMap<String, usize> = BTreeMap::new();
        for (line, record) in &rows {
            let unit_id = field(&header, record, "unit_id")
                .with_context(|| format!("{}:{line}: empty unit_id", path.display()))?;
            let pos = *report_of.entry(unit_id.to_string()).or_insert_with(|| {
                customers.push(CustomerReport {
                    unit_id: unit_id.to_string(),
                    customer_tax_codes: Vec::new(),
                    self_reported_links: None,
                });
                customers.len() - 1
            });
            if let Some(code) = field(&header, record, "cus_tax_code") {
                customers[pos]
                    .customer_tax_codes
                    .push(Some(code.to_string()));
            }
            if let Some(count) = parse_number::<u32>(
                path,
                *line,
                "n_customers_electronics",
                field(&header, record, "n_customers_electronics"),
            )? {
                customers[pos].self_reported_links = Some(count);
            }
        }
    }
    let index = LinkageIndex::build(&frame);
    let mode = design.trace_mode(from_tier);
    let result = trace_links(&TraceRequest {
        frame: &frame,
        index: &index,
        tiers: tiers.as_slice(),
        from_tier,
        rosters: &rosters,
        customers: &customers,
        mode: &mode,
        seed: design.seed,
    })?;
    let mut writer = csv_writer(out)?;
    writer.write_record([
        "buyer_id",
        "supplier_id",
        "supplier_tax_code",
        "roster_row",
        "match",
        "listed",
        "p",
        "retained",
        "reached",
        "pi_given_s",
        "selected",
        "l",
        "l_linked",
        "l_self_reported",
        "link_count_method",
        "from_tier",
        "method",
        "seed",
    ])?;
    for link in &result.links {
        let reached = result.reached_unit(link.supplier);
        let supplier = &frame.units[link.supplier];
        writer.write_record([
            frame.units[link.buyer].id.clone(),
            supplier.id.clone(),
            supplier.tax_code.clone().unwrap_or_default(),
            link.row.to_string(),
            link.match_kind.name().to_string(),
            link.listed.to_string(),
            format!("{:?}", link.p),
            u8::from(link.retained).to_string(),
            u8::from(reached.is_some()).to_string(),
            reached
                .map(|r| format!("{:?}", r.pi_given_s))
                .unwrap_or_default(),
            u8::from(reached.is_some_and(|r| r.selected)).to_string(),
            reached.map(|r| r.l.to_string()).unwrap_or_default(),
            reached.map(|r| r.l_linked.to_string()).unwrap_or_default(),
            reached
                .and_then(|r| r.l_self_reported)
                .map(|v| v.to_string())
                .unwrap_or_default(),
            reached
                .map(|r| r.link_count_method.name().to_string())
                .unwrap_or_default(),
            result.from_tier.to_string(),
            result.method.clone(),
            result.seed.to_string(),
        ])?;
    }
    writer.flush()?;
    if let Some(path) = unmatched_path {
        let mut writer = csv_writer(path)?;
        writer.write_record(["respondent_id", "row", "sup_tax_code", "sup_name", "reason"])?;
        for row in &result.unmatched {
            writer.write_record([
                frame.units[row.respondent].id.clone(),
                row.row.to_string(),
                row.tax_code.clone().unwrap_or_default(),
                row.name.clone(),
                row.reason.to_string(),
            ])?;
        }
        writer.flush()?;
    }
    let selected = result.reached.iter().filter(|r| r.selected).count();
    println!(
        "tier {} → {}: {} respondents, {} links, {} reached, {} selected, {} roster rows unmatched ({})",
        from_tier,
        from_tier + 1,
        rosters.len(),
        result.links.len(),
        result.reached.len(),
        selected,
        result.unmatched.len(),
        result.method
    );
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for row in &result.unmatched {
        let key = match row.reason {
            crate::sampling::UnmatchedReason::EarlierTier(_) => {
                "already in an earlier tier".to_string()
            }
            crate::sampling::UnmatchedReason::Duplicate { .. } => "duplicate row".to_string(),
            ref other => other.to_string(),
        };
        *by_reason.entry(key).or_default() += 1;
    }
    for (reason, count) in by_reason {
        println!("  unmatched: {count} × {reason}");
    }
    Ok(0)
}

fn workers(
    units_path: &Path,
    interviewed_path: &Path,
    design_path: &Path,
    roster_path: Option<&Path>,
    out: &Path,
) -> anyhow::Result<i32> {
    let design = read_design(design_path)?;
    let Some(spec) = design.workers else {
        bail!(
            "{}: the design has no `workers` section",
            design_path.display()
        );
    };
    let frame = match crate::frame::read_frame(units_path, None, crate::frame::DEFAULT_MAX_ERRORS) {
        Ok(frame) => frame,
        Err(err) => bail!("{err}"),
    };
    let (header, rows) = read_rows(interviewed_path, &["id"])?;
    let mut rosters: BTreeMap<String, Vec<RosterWorker>> = BTreeMap::new();
    if let Some(path) = roster_path {
        let (roster_header, roster_rows) = read_rows(path, &["unit_id", "worker_id", "sex"])?;
        for (line, record) in &roster_rows {
            let unit_id = field(&roster_header, record, "unit_id").unwrap_or_default();
            let worker_id = field(&roster_header, record, "worker_id").unwrap_or_default();
            let sex_text = field(&roster_header, record, "sex").unwrap_or_default();
            let Some(sex) = Sex::parse(sex_text) else {
                bail!(
                    "{}:{line}: column `sex`: `{sex_text}` is not 1/2 (male/female)",
                    path.display()
                );
            };
            rosters
                .entry(unit_id.to_string())
                .or_default()
                .push(RosterWorker {
                    worker_id: worker_id.to_string(),
                    sex,
                });
        }
    }
    let mut writer = csv_writer(out)?;
    writer.write_record([
        "unit_id",
        "sex",
        "population_m",
        "take_m",
        "take_all",
        "line",
        "worker_id",
        "seed",
        "unit_seed",
        "method",
    ])?;
    let mut n_workers = 0;
    for (line, record) in &rows {
        let Some(id) = field(&header, record, "id") else {
            bail!("{}:{line}: empty id", interviewed_path.display());
        };
        let source = match rosters.get(id) {
            Some(roster) => WorkerSource::Roster(roster),
            None => {
                let Some(idx) = frame.index_of(id) else {
                    bail!(
                        "{}:{line}: unit `{id}` is not in the frame",
                        interviewed_path.display()
                    );
                };
                let unit = &frame.units[idx];
                WorkerSource::Counts {
                    male: unit.employees_male,
                    female: unit.employees_female,
                }
            }
        };
        for take in select_workers(id, source, spec.per_sex, design.seed)? {
            for worker in &take.selected {
                n_workers += 1;
                writer.write_record([
                    take.unit_id.clone(),
                    take.sex.code().to_string(),
                    take.population.to_string(),
                    take.take.to_string(),
                    u8::from(take.take_all).to_string(),
                    worker.line.to_string(),
                    worker.worker_id.clone().unwrap_or_default(),
                    design.seed.to_string(),
                    take.seed.to_string(),
                    "srswor".to_string(),
                ])?;
            }
        }
    }
    writer.flush()?;
    println!(
        "{}: {n_workers} workers selected in {} units",
        out.display(),
        rows.len()
    );
    Ok(0)
}
