//! `chainsurvey questionnaire …`

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check questionnaire files; exit 1 when any has an error.
    Lint {
        /// Questionnaire JSON files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Lint { files } => {
            for file in files {
                let text = std::fs::read_to_string(&file)?;
                let _: serde_json::Value = serde_json::from_str(&text)?;
            }
            Ok(0)
        }
    }
}
