//! Demo data for `chainsurvey serve --demo`: accounts and a handful of assignments on a new
//! data directory, so someone trying the server can log in to the web client at once.
//!
//! The demo runs after the first-start step (user `admin`, shipped DW-SCS questionnaires
//! published) and adds a supervisor, two enumerators in the supervisor's team, and one
//! `dwscs-enterprise` assignment for each of a few enterprises drawn from a small synthetic
//! population (`synth::generate`, fixed seed), split between the two enumerators. Every
//! account gets a random password and a token, returned once to be printed.
//!
//! It deliberately does not run a full survey round (frame upload, design, tracing): that is
//! `chainsurvey demo` and the `/api/v1/surveys` endpoints. It refuses a database that holds
//! anything but the first-start data, and recognises its own earlier run, so a restart with
//! `--demo` changes nothing.

use rand::{RngExt as _, SeedableRng as _};

use crate::server::credentials::hash_password;
use crate::store::{NewAssignment, Role, Store, Target};

/// The supervisor account of the demo.
pub const DEMO_SUPERVISOR: &str = "supervisor";
/// The two enumerator accounts of the demo, both in [`DEMO_SUPERVISOR`]'s team.
pub const DEMO_ENUMERATORS: [&str; 2] = ["enumerator1", "enumerator2"];
/// The questionnaire the demo assignments use (published on first start).
pub const DEMO_QUESTIONNAIRE: &str = "dwscs-enterprise";
/// Seed and scale of the synthetic population the demo enterprises are drawn from
/// (scale 0.02 ≈ 60 enterprises).
const DEMO_SEED: u64 = 20_261_122;
const DEMO_SCALE: f64 = 0.02;
/// Enterprises drawn, split between the enumerators.
const DEMO_ASSIGNMENTS: usize = 6;

/// Why the demo could not be seeded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The database holds more than the first-start data and is not an earlier demo.
    #[error(
        "the data directory already holds data ({what}); `--demo` only seeds a new, empty data directory"
    )]
    NotEmpty { what: String },
    /// The first-start step did not publish the questionnaire the assignments need.
    #[error("questionnaire {0} is not published; the demo needs the shipped DW-SCS questionnaires")]
    MissingQuestionnaire(&'static str),
    /// The synthetic population could not be generated.
    #[error("synthetic population: {0}")]
    Synth(String),
    /// Password hashing failed.
    #[error("password hashing: {0}")]
    Password(String),
    /// A store operation failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// One demo account with its one-time secrets.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub name: String,
    pub role: Role,
    /// For `POST /api/v1/login` (the web client's login form).
    pub password: String,
    /// A bearer token for scripts and `curl`.
    pub token: String,
}

/// What [`seed_demo`] did: the accounts (print them: their secrets are not stored) and the
/// number of assignments made.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    pub accounts: Vec<DemoAccount>,
    pub assignments: usize,
}

/// True when the database holds nothing at all (no account): the only state in which
/// `--demo` may start seeding.
pub fn is_empty(store: &Store) -> Result<bool, SeedError> {
    Ok(store.users()?.is_empty())
}

/// True when the database holds an earlier run of this demo (its three accounts, in one
/// team), so a restart with `--demo` changes nothing.
pub fn is_seeded(store: &Store) -> Result<bool, SeedError> {
    let users = store.users()?;
    let has = |name: &str, role: Role, supervisor: Option<&str>| {
        users
            .iter()
            .any(|u| u.name == name && u.role == role && u.supervisor.as_deref() == supervisor)
    };
    Ok(has(DEMO_SUPERVISOR, Role::Supervisor, None)
        && DEMO_ENUMERATORS
            .iter()
            .all(|name| has(name, Role::Enumerator, Some(DEMO_SUPERVISOR))))
}

/// Seeds the demo accounts and assignments into a database that holds only the
/// first-start data (user `admin`, the published questionnaires); anything else is
/// refused with [`SeedError::NotEmpty`] and changes nothing.
pub fn seed_demo(store: &Store) -> Result<DemoSeed, SeedError> {
    let users = store.users()?;
    if let Some(other) = users.iter().find(|u| u.name != "admin") {
        return Err(SeedError::NotEmpty {
            what: format!("user {}", other.name),
        });
    }
    if !store
        .list_assignments(None, None, 1, &|_| true)?
        .0
        .is_empty()
    {
        return Err(SeedError::NotEmpty {
            what: "assignments".into(),
        });
    }
    if store.latest_published(DEMO_QUESTIONNAIRE)?.is_none() {
        return Err(SeedError::MissingQuestionnaire(DEMO_QUESTIONNAIRE));
    }

    // Passwords must not be guessable from the source: seed from the OS (two v4 UUIDs are
    // 244 random bits), not from `DEMO_SEED`.
    let mut seed = [0u8; 32];
    seed[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    seed[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let mut rng = rand::rngs::ChaCha20Rng::from_seed(seed);
    let mut accounts = Vec::new();
    let mut create = |name: &str, role: Role, supervisor: Option<&str>| {
        let password = random_password(&mut rng);
        let hash = hash_password(&password).map_err(SeedError::Password)?;
        let token = store
            .add_user(name, role, Some(hash), supervisor, "demo")?
            .wait_blocking()?;
        accounts.push(DemoAccount {
            name: name.to_owned(),
            role,
            password,
            token,
        });
        Ok::<(), SeedError>(())
    };
    create(DEMO_SUPERVISOR, Role::Supervisor, None)?;
    for name in DEMO_ENUMERATORS {
        create(name, Role::Enumerator, Some(DEMO_SUPERVISOR))?;
    }

    let items = demo_assignments()?;
    let assignments = items.len();
    store.create_assignments(items, "demo")?.wait_blocking()?;
    Ok(DemoSeed {
        accounts,
        assignments,
    })
}

/// A few enterprises of a small synthetic population, in a fixed order, as assignments
/// alternating between the two demo enumerators.
fn demo_assignments() -> Result<Vec<NewAssignment>, SeedError> {
    let config = crate::synth::SynthConfig::vn_electronics();
    let population = crate::synth::generate(&config, DEMO_SCALE, DEMO_SEED)
        .map_err(|err| SeedError::Synth(err.to_string()))?;
    // Enterprises with employees, largest first: the interviews worth trying in a demo.
    let mut units: Vec<&crate::frame::Unit> = population
        .frame
        .units
        .iter()
        .filter(|u| !u.household_business && u.employees() > 0)
        .collect();
    units.sort_by(|a, b| b.employees().cmp(&a.employees()).then(a.id.cmp(&b.id)));
    Ok(units
        .iter()
        .take(DEMO_ASSIGNMENTS)
        .enumerate()
        .map(|(i, unit)| NewAssignment {
            questionnaire: DEMO_QUESTIONNAIRE.to_owned(),
            allowed_versions: None,
            enumerator: DEMO_ENUMERATORS[i % DEMO_ENUMERATORS.len()].to_owned(),
            target: Target {
                unit_id: unit.id.clone(),
                tier: None,
                province: Some(unit.province.clone()),
            },
            preload: None,
            preload_protected: false,
            quantity: None,
        })
        .collect())
}

/// Sixteen characters from an alphabet without look-alikes (no 0/O, 1/l/I): about 90 bits.
fn random_password(rng: &mut rand::rngs::ChaCha20Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
