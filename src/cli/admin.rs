//! `chainsurvey backup | restore | recover`: data-directory operations.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::store::Store;

/// `chainsurvey backup --data DIR --to DIR2`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[arg(long, default_value = "chainsurvey-data")]
    pub data: PathBuf,
    /// A new or empty directory.
    #[arg(long)]
    pub to: PathBuf,
}

/// `chainsurvey restore --from BACKUP --data DIR`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A directory written by `backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// A new or empty data directory.
    #[arg(long)]
    pub data: PathBuf,
}

/// `chainsurvey recover --data DIR`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    #[arg(long, default_value = "chainsurvey-data")]
    pub data: PathBuf,
}

pub fn backup(args: BackupArgs) -> anyhow::Result<i32> {
    let store =
        Store::open(&args.data).with_context(|| format!("opening {}", args.data.display()))?;
    crate::store::backup(&store, &args.to)
        .with_context(|| format!("backing up to {}", args.to.display()))?;
    store.close()?;
    println!("backup written to {}", args.to.display());
    Ok(0)
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<i32> {
    crate::store::restore(&args.from, &args.data).with_context(|| {
        format!(
            "restoring {} into {}",
            args.from.display(),
            args.data.display()
        )
    })?;
    println!(
        "restored {} into {}",
        args.from.display(),
        args.data.display()
    );
    Ok(0)
}

pub fn recover(args: RecoverArgs) -> anyhow::Result<i32> {
    let report = crate::store::recover(&args.data)
        .with_context(|| format!("recovering {}", args.data.display()))?;
    if let Some(moved) = &report.moved_to {
        println!("moved the old database to {}", moved.display());
    }
    println!(
        "rebuilt the database from {} journal lines",
        report.journal_lines
    );
    Ok(0)
}
