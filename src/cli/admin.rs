//! `chainsurvey backup | restore | recover | compact-journal`: data-directory operations.

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
    /// After the backup is written and verified, free the journal lines it holds (see
    /// `compact-journal`).
    #[arg(long)]
    pub compact_journal: bool,
}

/// `chainsurvey compact-journal --data DIR [--backup BACKUP]`.
#[derive(Debug, Args)]
pub struct CompactArgs {
    #[arg(long, default_value = "chainsurvey-data")]
    pub data: PathBuf,
    /// The backup that holds the history to free; default: the last backup taken of DIR.
    #[arg(long)]
    pub backup: Option<PathBuf>,
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

/// `chainsurvey recover --data DIR [--backup BACKUP]`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    #[arg(long, default_value = "chainsurvey-data")]
    pub data: PathBuf,
    /// Start from this backup's database (default: the whole journal, or after a
    /// compaction the backup named in DIR/journal-floor.json).
    #[arg(long)]
    pub backup: Option<PathBuf>,
}

pub fn backup(args: BackupArgs) -> anyhow::Result<i32> {
    let store =
        Store::open(&args.data).with_context(|| format!("opening {}", args.data.display()))?;
    let report = crate::store::backup(&store, &args.to)
        .with_context(|| format!("backing up to {}", args.to.display()))?;
    println!(
        "backup written to {} (journal transaction {}, byte {}, event {})",
        args.to.display(),
        report.point.tx,
        report.point.journal_end,
        report.point.seq
    );
    if args.compact_journal {
        let report = store.compact_journal(Some(&args.to))?;
        print_compaction(report.freed_bytes, report.floor, &report.backup);
    }
    store.close()?;
    Ok(0)
}

pub fn compact_journal(args: CompactArgs) -> anyhow::Result<i32> {
    let store =
        Store::open(&args.data).with_context(|| format!("opening {}", args.data.display()))?;
    let report = store
        .compact_journal(args.backup.as_deref())
        .with_context(|| format!("compacting the journal of {}", args.data.display()))?;
    print_compaction(report.freed_bytes, report.floor, &report.backup);
    store.close()?;
    Ok(0)
}

fn print_compaction(freed_bytes: u64, floor: u64, backup: &std::path::Path) {
    println!(
        "journal compacted: {freed_bytes} bytes freed; history before byte {floor} is held by \
         the backup {} (keep it: `recover` needs it)",
        backup.display()
    );
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
    let report = match &args.backup {
        Some(backup) => Store::recover_from_backup(&args.data, backup),
        None => crate::store::recover(&args.data),
    }
    .with_context(|| format!("recovering {}", args.data.display()))?;
    if let Some(base) = &report.base {
        println!("started from the database of the backup {}", base.display());
    }
    if let Some(moved) = &report.moved_to {
        println!("moved the old database to {}", moved.display());
    }
    println!(
        "rebuilt the database from {} journal lines",
        report.journal_lines
    );
    Ok(0)
}
