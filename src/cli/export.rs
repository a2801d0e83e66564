//! `chainsurvey export`: the HTTP export's files written into a directory, for a data
//! directory no server is running on.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use crate::export::{Error, Filter, open_for_export, write_files};

/// `chainsurvey export --data DIR --questionnaire ID --out DIR [--status …] [--from DATE]
/// [--to DATE]`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The data directory (as given to `serve --data`). The server must be stopped (a
    /// running server exports over HTTP).
    #[arg(long, default_value = "chainsurvey-data")]
    pub data: PathBuf,
    /// The questionnaire id.
    #[arg(long)]
    pub questionnaire: String,
    /// Output directory (created if needed): `<level>.csv` per level, `codebook.json`,
    /// `codebook.csv`.
    #[arg(long)]
    pub out: PathBuf,
    /// Only interviews in these statuses, comma-separated (completed, approved, rejected,
    /// resubmitted), as the HTTP `status` parameter.
    #[arg(long)]
    pub status: Option<String>,
    /// Only interviews whose latest revision arrived on or after this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Only interviews whose latest revision arrived on or before this day (YYYY-MM-DD,
    /// UTC).
    #[arg(long)]
    pub to: Option<String>,
}

/// Runs the export; exit code 0, or 2 with a message on stderr.
pub fn run(args: Args) -> anyhow::Result<i32> {
    match export(&args) {
        Ok(()) => Ok(0),
        Err(err) => {
            eprintln!("chainsurvey export: {err}");
            Ok(2)
        }
    }
}

fn export(args: &Args) -> Result<(), Error> {
    let filter = Filter::parse(
        args.status.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
    )?;
    let view = open_for_export(&args.data)?;
    let written = write_files(&view, &args.questionnaire, &filter, &args.out)?;
    for file in written {
        println!("{}\t{}", args.out.join(&file.name).display(), file.rows);
    }
    Ok(())
}
