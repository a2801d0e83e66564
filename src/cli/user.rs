//! `chainsurvey user …`: manage accounts while the server is stopped (the database is
//! locked by a running server; use `POST /api/v1/users` then).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::server::credentials::hash_password;
use crate::store::{Role, Store};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a user and print a one-time token.
    Add {
        /// User name (a-z, 0-9, '.', '_', '-').
        name: String,
        /// admin, designer, manager, supervisor, enumerator or researcher.
        #[arg(long)]
        role: String,
        /// For an enumerator: their supervisor.
        #[arg(long)]
        supervisor: Option<String>,
        /// Also set a password, read from this environment variable (never from the
        /// command line, where other users of the machine could see it).
        #[arg(long, value_name = "ENV_VAR")]
        password_env: Option<String>,
        #[arg(long, default_value = "chainsurvey-data")]
        data: PathBuf,
    },
    /// List users.
    List {
        #[arg(long, default_value = "chainsurvey-data")]
        data: PathBuf,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Add {
            name,
            role,
            supervisor,
            password_env,
            data,
        } => {
            let role: Role = role.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let password_hash = match password_env {
                Some(var) => {
                    let password = std::env::var(&var)
                        .with_context(|| format!("reading the password from ${var}"))?;
                    Some(hash_password(&password).map_err(|e| anyhow::anyhow!(e))?)
                }
                None => None,
            };
            let store =
                Store::open(&data).with_context(|| format!("opening {}", data.display()))?;
            let token = store
                .add_user(&name, role, password_hash, supervisor.as_deref(), "cli")?
                .wait_blocking()?;
            store.close()?;
            println!("created {role} {name}");
            println!("token (shown once): {token}");
            Ok(0)
        }
        Command::List { data } => {
            let store =
                Store::open(&data).with_context(|| format!("opening {}", data.display()))?;
            for user in store.users()? {
                println!(
                    "{}\t{}\t{}",
                    user.name,
                    user.role,
                    user.supervisor.as_deref().unwrap_or("-")
                );
            }
            store.close()?;
            Ok(0)
        }
    }
}
