//! `chainsurvey serve`: the default command.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::server::seed;
use crate::server::{AppState, Config, Engine, QuestionnaireEngine};
use crate::store::{Role, Store};

/// Arguments of `chainsurvey serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (sled database and journal).
    #[arg(long, default_value = "chainsurvey-data")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The survey's offset from UTC: `today()` in questionnaire rules is the local date there.
    #[arg(long, default_value = "+07:00", allow_hyphen_values = true)]
    pub utc_offset: crate::server::UtcOffset,
    /// On a new data directory, also create demo accounts (a supervisor and two
    /// enumerators, passwords printed once) and a few assignments; on a restart of a demo
    /// directory, change nothing. Refuses any other non-empty data directory.
    #[arg(long)]
    pub demo: bool,
}

impl ServeArgs {
    /// What `chainsurvey` with no subcommand runs.
    pub fn defaults() -> ServeArgs {
        ServeArgs {
            data: PathBuf::from("chainsurvey-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            utc_offset: crate::server::UtcOffset::VIET_NAM,
            demo: false,
        }
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<i32> {
    // Logs go to stderr; stdout carries the listening line and the first-start token.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .try_init();
    // Opening (journal redo, fsync) and the first-start account are blocking work: done
    // before the async runtime starts.
    let store = Store::open(&args.data)
        .with_context(|| format!("opening data directory {}", args.data.display()))?;
    if args.demo {
        demo_start(&store, &args.data)?;
    } else {
        first_start(&store, &args.data)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args, store))
}

async fn serve(args: ServeArgs, store: Store) -> anyhow::Result<i32> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    // Tests and scripts read this line to find the port when listening on :0.
    println!(
        "chainsurvey listening on http://{addr}/ (data in {})",
        args.data.display()
    );
    let state = AppState {
        store,
        engine: Arc::new(QuestionnaireEngine::with_local_time(
            args.utc_offset,
            crate::store::now_ms,
        )),
        config: Arc::new(Config::standard()),
    };
    crate::server::serve(listener, state, crate::server::shutdown_signal())
        .await
        .context("serving")?;
    println!("chainsurvey stopped cleanly");
    Ok(0)
}

/// `--demo`: seed a new data directory (after the first-start step), accept an earlier demo
/// run as it is, refuse anything else before changing it.
fn demo_start(store: &Store, data: &Path) -> anyhow::Result<()> {
    if !seed::is_empty(store)? {
        if seed::is_seeded(store)? {
            println!(
                "demo data already in {} (the passwords were printed at its first start)",
                data.display()
            );
            return Ok(());
        }
        anyhow::bail!(
            "{} already holds data that is not a chainsurvey demo; `--demo` only seeds a new, \
             empty data directory (use another --data, or start without --demo)",
            data.display()
        );
    }
    first_start(store, data)?;
    let seeded = seed::seed_demo(store).context("seeding the demo data")?;
    println!(
        "demo: {} assignments of {} for {}",
        seeded.assignments,
        seed::DEMO_QUESTIONNAIRE,
        seed::DEMO_ENUMERATORS.join(" and ")
    );
    for account in &seeded.accounts {
        println!(
            "demo account {} ({}): password {} token {}",
            account.name,
            account.role.as_str(),
            account.password,
            account.token
        );
    }
    println!("open the web client and log in with an enumerator's name and password");
    Ok(())
}

/// The DW-SCS questionnaires shipped in the binary and published on first start.
const SHIPPED: [(&str, &str); 3] = [
    (
        "questionnaires/enterprise.json",
        include_str!("../../questionnaires/enterprise.json"),
    ),
    (
        "questionnaires/worker.json",
        include_str!("../../questionnaires/worker.json"),
    ),
    (
        "questionnaires/household_unit.json",
        include_str!("../../questionnaires/household_unit.json"),
    ),
];

/// On an empty database: create an `admin` account and print its token once, and publish
/// the shipped DW-SCS questionnaires (each linted first, like any upload).
fn first_start(store: &Store, data: &Path) -> anyhow::Result<()> {
    if !store.users()?.is_empty() {
        return Ok(());
    }
    let token = store
        .add_user("admin", Role::Admin, None, None, "chainsurvey")?
        .wait_blocking()?;
    println!("first start in {}: created user `admin`", data.display());
    let engine = QuestionnaireEngine::new();
    for (name, text) in SHIPPED {
        let definition: serde_json::Value =
            serde_json::from_str(text).with_context(|| format!("parsing {name}"))?;
        match engine.lint(&definition) {
            Ok(linted) => {
                store
                    .put_draft(&linted.id, &linted.version, &definition, "chainsurvey")?
                    .wait_blocking()?;
                let published = store.publish(&linted.id, "chainsurvey")?.wait_blocking()?;
                println!("published {} version {}", published.id, published.version);
            }
            Err(_) => eprintln!("warning: {name} does not lint clean; not published"),
        }
    }
    println!("admin token (shown once, keep it): {token}");
    Ok(())
}
