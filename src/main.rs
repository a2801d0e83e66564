//! The `chainsurvey` binary: a thin shell over [`chainsurvey::cli`].

use clap::Parser;

fn main() {
    let cli = chainsurvey::cli::Cli::parse();
    match chainsurvey::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    }
}
