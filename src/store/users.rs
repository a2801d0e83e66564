//! Users, roles, teams and bearer tokens.
//!
//! A token is `cs1.<id>.<secret>`: 64 random bits of id (the lookup key) and 256 random bits
//! of secret from the operating system's generator. Only SHA-256 of the secret is stored,
//! and the comparison runs in constant time, so neither the database nor response timing
//! gives a token away. Passwords are hashed with argon2 by the caller (it is slow and must
//! run off the async runtime); the store only keeps the PHC string.

use std::fmt;
use std::str::FromStr;

use rand::TryRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::tree::TreeId;
use crate::store::{Durable, Error, Store};

/// What a user may do. See `docs/api.md` for the role × endpoint table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Designer,
    Manager,
    Supervisor,
    Enumerator,
    Researcher,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Designer,
        Role::Manager,
        Role::Supervisor,
        Role::Enumerator,
        Role::Researcher,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Designer => "designer",
            Role::Manager => "manager",
            Role::Supervisor => "supervisor",
            Role::Enumerator => "enumerator",
            Role::Researcher => "researcher",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}; expected one of admin, designer, manager, supervisor, enumerator, researcher")
            })
    }
}

/// A user account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// argon2 PHC string; `None` for token-only accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// For an enumerator: the supervisor whose team they are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<String>,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenRecord {
    user: String,
    secret_sha256: String,
    created_at_ms: i64,
}

/// Checks a user name: 1–64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn parse_user_name(name: &str) -> Result<&str, String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "invalid user name {name:?}: use 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
        ))
    }
}

fn random_hex(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    rand::rngs::SysRng.try_fill_bytes(&mut buf).map_err(|err| {
        Error::Invalid(format!(
            "the operating system's random generator failed: {err}"
        ))
    })?;
    Ok(hex(&buf))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn new_token(tx: &mut crate::store::Tx<'_>, user: &str) -> Result<String, Error> {
    let id = random_hex(8)?;
    let secret = random_hex(32)?;
    let record = TokenRecord {
        user: user.to_owned(),
        secret_sha256: sha256_hex(&secret),
        created_at_ms: tx.now_ms(),
    };
    tx.put(TreeId::Tokens, id.clone(), &record);
    Ok(format!("cs1.{id}.{secret}"))
}

impl Store {
    /// Creates a user and issues a first token (returned once, never stored in clear).
    /// `supervisor`, for an enumerator, must name an existing supervisor.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: Option<String>,
        supervisor: Option<&str>,
        actor: &str,
    ) -> Result<Durable<String>, Error> {
        let name = parse_user_name(name).map_err(Error::Invalid)?.to_owned();
        self.write(|tx| {
            if tx.contains(TreeId::Users, &name)? {
                return Err(Error::Conflict(format!("user {name} already exists")));
            }
            if let Some(sup) = supervisor {
                check_supervisor(tx, role, sup)?;
            }
            let user = User {
                name: name.clone(),
                role,
                password_hash,
                supervisor: supervisor.map(str::to_owned),
                created_at_ms: tx.now_ms(),
            };
            tx.put(TreeId::Users, name.clone(), &user);
            tx.event(
                actor,
                "user.created",
                &name,
                &[],
                serde_json::json!({"name": name, "role": role, "supervisor": supervisor}),
            );
            new_token(tx, &name)
        })
    }

    /// Sets a password hash (from argon2) for an existing user.
    pub fn set_password_hash(
        &self,
        name: &str,
        password_hash: String,
    ) -> Result<Durable<()>, Error> {
        self.write(|tx| {
            let mut user: User = tx
                .get(TreeId::Users, name)?
                .ok_or_else(|| Error::NotFound {
                    what: "user",
                    id: name.to_owned(),
                })?;
            user.password_hash = Some(password_hash);
            tx.put(TreeId::Users, name.to_owned(), &user);
            Ok(())
        })
    }

    /// Issues a new token for an existing user (after a password login, or by an admin).
    pub fn issue_token(&self, name: &str) -> Result<Durable<String>, Error> {
        self.write(|tx| {
            if !tx.contains(TreeId::Users, name)? {
                return Err(Error::NotFound {
                    what: "user",
                    id: name.to_owned(),
                });
            }
            new_token(tx, name)
        })
    }

    /// Puts an enumerator in a supervisor's team (or out of any team with `None`).
    pub fn set_supervisor(
        &self,
        enumerator: &str,
        supervisor: Option<&str>,
        actor: &str,
    ) -> Result<Durable<User>, Error> {
        self.write(|tx| {
            let mut user: User =
                tx.get(TreeId::Users, enumerator)?
                    .ok_or_else(|| Error::NotFound {
                        what: "user",
                        id: enumerator.to_owned(),
                    })?;
            if let Some(sup) = supervisor {
                check_supervisor(tx, user.role, sup)?;
            }
            user.supervisor = supervisor.map(str::to_owned);
            tx.put(TreeId::Users, enumerator.to_owned(), &user);
            let audience: Vec<&str> = supervisor.into_iter().chain([enumerator]).collect();
            tx.event(
                actor,
                "user.team_changed",
                enumerator,
                &audience,
                serde_json::json!({"name": enumerator, "supervisor": supervisor}),
            );
            Ok(user)
        })
    }

    /// The user a bearer token belongs to, or `None` for an unknown or malformed token.
    pub fn authenticate(&self, token: &str) -> Result<Option<User>, Error> {
        let mut parts = token.split('.');
        let (Some("cs1"), Some(id), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let Some(record) = self.get::<TokenRecord>(TreeId::Tokens, id)? else {
            return Ok(None);
        };
        if !constant_time_eq(
            sha256_hex(secret).as_bytes(),
            record.secret_sha256.as_bytes(),
        ) {
            return Ok(None);
        }
        self.user(&record.user)
    }

    /// A user by name.
    pub fn user(&self, name: &str) -> Result<Option<User>, Error> {
        self.get(TreeId::Users, name)
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, Error> {
        let mut out = Vec::new();
        for entry in self.tree(TreeId::Users).iter() {
            let (key, value) = entry?;
            out.push(crate::store::codec::decode(TreeId::Users, &key, &value)?);
        }
        Ok(out)
    }
}

fn check_supervisor(tx: &crate::store::Tx<'_>, role: Role, supervisor: &str) -> Result<(), Error> {
    if role != Role::Enumerator {
        return Err(Error::Invalid(format!(
            "only enumerators belong to a team; this user is a {role}"
        )));
    }
    match tx.get::<User>(TreeId::Users, supervisor)? {
        Some(user) if user.role == Role::Supervisor => Ok(()),
        Some(user) => Err(Error::Invalid(format!(
            "{supervisor} is a {}, not a supervisor",
            user.role
        ))),
        None => Err(Error::Invalid(format!(
            "supervisor {supervisor} does not exist"
        ))),
    }
}
