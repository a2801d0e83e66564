//! `chainsurvey frame import|show`: load a business-register frame from CSV, check it,
//! compute tiers, and summarise it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args as ClapArgs, Subcommand};

use crate::frame::{
    DEFAULT_MAX_ERRORS, Frame, FrameError, Tier0Rule, Tiers, compute_tiers, read_frame, summarize,
    write_links_csv, write_units_csv,
};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a units CSV (and links CSV), compute tiers, and optionally write the normalised
    /// frame (province_2025 filled, tax codes normalised, a `tier` column) to a directory.
    /// Exit 1 with every error (file:line: column: reason) when the files are bad.
    Import {
        #[command(flatten)]
        source: FrameSource,
        /// Directory to write units.csv and links.csv into.
        #[arg(long)]
        out: Option<PathBuf>,
        /// How many errors to list before only counting them.
        #[arg(long, default_value_t = DEFAULT_MAX_ERRORS)]
        max_errors: usize,
    },
    /// Print counts by tier × ownership × size class, link statistics and the L
    /// distribution.
    Show {
        #[command(flatten)]
        source: FrameSource,
    },
    /// Generate the synthetic supply-chain population (frame CSVs, truth, calibration).
    Synth(crate::cli::synth::Args),
}

/// Where a frame comes from and how tier 0 is chosen; shared by `frame` and `sample`.
#[derive(Debug, Clone, ClapArgs)]
pub struct FrameSource {
    /// Units CSV (docs/frame-format.md).
    #[arg(long)]
    pub units: PathBuf,
    /// Links CSV (buyer_id, supplier_id, link_weight).
    #[arg(long)]
    pub links: Option<PathBuf>,
    /// Tier 0 = units whose VSIC code starts with one of these prefixes (e.g. 26,2732).
    #[arg(long, value_delimiter = ',', conflicts_with = "tier0_ids")]
    pub tier0_vsic: Vec<String>,
    /// Tier 0 = the unit ids listed in this file (one per line).
    #[arg(long)]
    pub tier0_ids: Option<PathBuf>,
}

impl FrameSource {
    /// Reads the frame; import errors come back as the full positioned list.
    pub fn load(&self, max_errors: usize) -> Result<Frame, FrameError> {
        read_frame(&self.units, self.links.as_deref(), max_errors)
    }

    /// The tier-0 rule from the flags, if any.
    pub fn tier0_rule(&self) -> anyhow::Result<Option<Tier0Rule>> {
        if let Some(path) = &self.tier0_ids {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading tier-0 ids from {}", path.display()))?;
            let ids: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from)
                .collect();
            return Ok(Some(Tier0Rule::Ids(ids)));
        }
        if !self.tier0_vsic.is_empty() {
            return Ok(Some(Tier0Rule::VsicPrefixes(self.tier0_vsic.clone())));
        }
        Ok(None)
    }

    /// Loads the frame and its tiers (from the rule flags, or else from a `tier` column),
    /// and stores the tiers as the `tier` attribute.
    pub fn load_with_tiers(&self) -> anyhow::Result<(Frame, Tiers)> {
        self.load_with_rule(self.tier0_rule()?)
    }

    /// [`FrameSource::load_with_tiers`] with the rule already read (the ids file may be a
    /// pipe that can be read only once).
    pub fn load_with_rule(&self, rule: Option<Tier0Rule>) -> anyhow::Result<(Frame, Tiers)> {
        let mut frame = match self.load(DEFAULT_MAX_ERRORS) {
            Ok(frame) => frame,
            Err(err) => bail!("{err}"),
        };
        let tiers = match rule {
            Some(rule) => compute_tiers(&frame, &rule)?,
            None => bail!(
                "give the tier-0 rule (--tier0-vsic 26 or --tier0-ids FILE) so tiers can be computed"
            ),
        };
        let labels: Vec<String> = (0..frame.units.len()).map(|u| tiers.label(u)).collect();
        frame
            .set_attribute("tier", labels)
            .map_err(|len| anyhow::anyhow!("tier column has {len} values"))?;
        Ok((frame, tiers))
    }
}

pub fn run(cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Import {
            source,
            out,
            max_errors,
        } => import(&source, out.as_deref(), max_errors),
        Command::Synth(args) => crate::cli::synth::run(args),
        Command::Show { source } => {
            let (frame, tiers) = source.load_with_tiers()?;
            print!("{}", summarize(&frame, &tiers));
            Ok(0)
        }
    }
}

fn import(source: &FrameSource, out: Option<&Path>, max_errors: usize) -> anyhow::Result<i32> {
    let mut frame = match source.load(max_errors) {
        Ok(frame) => frame,
        Err(FrameError::Import(errors)) => {
            eprint!("{errors}");
            eprintln!("{} error(s); nothing was imported", errors.total);
            return Ok(1);
        }
        Err(other) => return Err(other.into()),
    };
    println!(
        "{}: {} units, {} links",
        source.units.display(),
        frame.units.len(),
        frame.links.len()
    );
    if let Some(rule) = source.tier0_rule()? {
        let tiers = compute_tiers(&frame, &rule)?;
        let (counts, out_of_scope) = tiers.counts();
        for (tier, count) in counts.iter().enumerate() {
            println!("tier {tier}: {count} units");
        }
        println!("out of scope (no link path to tier 0): {out_of_scope} units");
        let labels: Vec<String> = (0..frame.units.len()).map(|u| tiers.label(u)).collect();
        frame
            .set_attribute("tier", labels)
            .map_err(|len| anyhow::anyhow!("tier column has {len} values"))?;
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let units_path = dir.join("units.csv");
        let mut units_file = std::fs::File::create(&units_path)
            .with_context(|| format!("creating {}", units_path.display()))?;
        write_units_csv(&frame, &mut units_file)?;
        let links_path = dir.join("links.csv");
        let mut links_file = std::fs::File::create(&links_path)
            .with_context(|| format!("creating {}", links_path.display()))?;
        write_links_csv(&frame, &mut links_file)?;
        println!(
            "wrote {} and {}",
            units_path.display(),
            links_path.display()
        );
    }
    Ok(0)
}
