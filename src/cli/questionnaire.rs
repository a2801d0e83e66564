//! `chainsurvey questionnaire …`: lint, show, diff and validate questionnaire files.
//!
//! Exit codes: 0 = fine (warnings allowed), 1 = the files have errors (lint errors, breaking
//! changes, invalid submission), 2 = an input file could not be read or is not a questionnaire
//! (or answers) at all, with a message naming the file and the place.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};

use crate::questionnaire::{
    Diagnostic, Questionnaire, compile, diff, has_errors, lint, outline, parse_answers_bytes,
    validate,
};

/// Output format of the commands that report findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per finding for people.
    Text,
    /// One JSON document for machines.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check questionnaire files; exit 1 when any has an error.
    Lint {
        /// Questionnaire JSON files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a readable outline of a questionnaire.
    Show {
        /// Questionnaire JSON file.
        file: PathBuf,
        /// Language of the labels (defaults to the questionnaire's first language).
        #[arg(long)]
        lang: Option<String>,
    },
    /// Compare two versions; exit 1 when a change is breaking.
    Diff {
        /// The old version.
        old: PathBuf,
        /// The new version.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Validate a submission's answers against a questionnaire; exit 1 on errors.
    Validate {
        /// Questionnaire JSON file.
        definition: PathBuf,
        /// Answers JSON file (the submission's `answers` object).
        answers: PathBuf,
        /// Language of rule messages (defaults to the questionnaire's first language).
        #[arg(long)]
        lang: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Lint { files, format } => run_lint(&files, format),
        Command::Show { file, lang } => run_show(&file, lang.as_deref()),
        Command::Diff { old, new, format } => run_diff(&old, &new, format),
        Command::Validate {
            definition,
            answers,
            lang,
            format,
        } => run_validate(&definition, &answers, lang.as_deref(), format),
    }
}

/// Why a file cannot be used at all (exit code 2).
enum Unusable {
    Read(std::io::Error),
    Invalid(Vec<Diagnostic>),
}

fn read_questionnaire(path: &Path) -> Result<Questionnaire, Unusable> {
    let bytes = std::fs::read(path).map_err(Unusable::Read)?;
    Questionnaire::parse_bytes(&bytes).map_err(Unusable::Invalid)
}

/// Prints why a file is unusable to stderr and returns exit code 2.
fn report_unusable(path: &Path, problem: Unusable) -> i32 {
    match problem {
        Unusable::Read(error) => eprintln!("{}: cannot read the file: {error}", path.display()),
        Unusable::Invalid(diagnostics) => {
            for d in diagnostics {
                eprintln!("{}: {d}", path.display());
            }
        }
    }
    2
}

fn run_lint(files: &[PathBuf], format: Format) -> anyhow::Result<i32> {
    let mut worst = 0;
    let mut json_files = Vec::new();
    for file in files {
        let (diagnostics, unusable) = match read_questionnaire(file) {
            Ok(q) => (lint(&q), false),
            Err(Unusable::Invalid(diagnostics)) => (diagnostics, true),
            Err(Unusable::Read(error)) => {
                if format == Format::Json {
                    json_files.push(serde_json::json!({
                        "file": file.display().to_string(),
                        "readable": false,
                        "error": error.to_string(),
                        "diagnostics": [],
                    }));
                } else {
                    eprintln!("{}: cannot read the file: {error}", file.display());
                }
                worst = 2;
                continue;
            }
        };
        let code = if unusable {
            2
        } else if has_errors(&diagnostics) {
            1
        } else {
            0
        };
        worst = worst.max(code);
        match format {
            Format::Text => {
                for d in &diagnostics {
                    println!("{}: {d}", file.display());
                }
                let errors = diagnostics.iter().filter(|d| d.is_error()).count();
                let warnings = diagnostics.len() - errors;
                println!(
                    "{}: {errors} error(s), {warnings} warning(s)",
                    file.display()
                );
            }
            Format::Json => json_files.push(serde_json::json!({
                "file": file.display().to_string(),
                "readable": !unusable,
                "errors": diagnostics.iter().filter(|d| d.is_error()).count(),
                "diagnostics": diagnostics,
            })),
        }
    }
    if format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "files": json_files }))?
        );
    }
    Ok(worst)
}

fn run_show(file: &Path, lang: Option<&str>) -> anyhow::Result<i32> {
    let questionnaire = match read_questionnaire(file) {
        Ok(q) => q,
        Err(problem) => return Ok(report_unusable(file, problem)),
    };
    let lang = lang.unwrap_or(questionnaire.default_language()).to_string();
    if !questionnaire.languages.contains(&lang) {
        eprintln!(
            "{}: language `{lang}` is not declared (declared: {}); showing the default \
             language where a text is missing",
            file.display(),
            questionnaire.languages.join(", ")
        );
    }
    print!("{}", outline(&questionnaire, &lang));
    Ok(0)
}

fn run_diff(old_path: &Path, new_path: &Path, format: Format) -> anyhow::Result<i32> {
    let old = match read_questionnaire(old_path) {
        Ok(q) => q,
        Err(problem) => return Ok(report_unusable(old_path, problem)),
    };
    let new = match read_questionnaire(new_path) {
        Ok(q) => q,
        Err(problem) => return Ok(report_unusable(new_path, problem)),
    };
    let report = diff(&old, &new);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => {
            for change in &report.changes {
                let verdict = match change.compatibility {
                    crate::questionnaire::Compatibility::Compatible => "compatible",
                    crate::questionnaire::Compatibility::Breaking => "BREAKING",
                };
                println!("{verdict}[{}] {}", change.code, change.message);
            }
            let verdict = if report.is_breaking() {
                "breaking"
            } else {
                "compatible"
            };
            println!(
                "{} → {}: {} change(s), verdict: {verdict}",
                old_path.display(),
                new_path.display(),
                report.changes.len()
            );
        }
    }
    Ok(if report.is_breaking() { 1 } else { 0 })
}

fn run_validate(
    definition: &Path,
    answers_path: &Path,
    lang: Option<&str>,
    format: Format,
) -> anyhow::Result<i32> {
    let questionnaire = match read_questionnaire(definition) {
        Ok(q) => q,
        Err(problem) => return Ok(report_unusable(definition, problem)),
    };
    let compiled = match compile(&questionnaire) {
        Ok(c) => c,
        Err(diagnostics) => {
            eprintln!(
                "{}: the questionnaire has lint errors; fix them before validating answers:",
                definition.display()
            );
            return Ok(report_unusable(definition, Unusable::Invalid(diagnostics)));
        }
    };
    let bytes = match std::fs::read(answers_path) {
        Ok(bytes) => bytes,
        Err(error) => return Ok(report_unusable(answers_path, Unusable::Read(error))),
    };
    let answers = match parse_answers_bytes(&bytes) {
        Ok(value) => value,
        Err(d) => return Ok(report_unusable(answers_path, Unusable::Invalid(vec![d]))),
    };
    let lang = lang.unwrap_or(questionnaire.default_language());
    let report = validate(&compiled, &answers, lang);
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json())
                .context("cannot render the report as JSON")?
        ),
        Format::Text => {
            for d in &report.findings {
                println!("{}: {d}", answers_path.display());
            }
            let errors = report.findings.iter().filter(|d| d.is_error()).count();
            println!(
                "{}: {errors} error(s), {} warning(s)",
                answers_path.display(),
                report.findings.len() - errors
            );
        }
    }
    Ok(if report.has_errors() { 1 } else { 0 })
}
