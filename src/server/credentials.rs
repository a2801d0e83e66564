//! Password hashing with argon2 (for human logins only).
//!
//! Hashing costs tens of milliseconds by design; callers on the async runtime run these in
//! `spawn_blocking`. API tokens are not hashed here: they are random and checked with
//! SHA-256 in the store, because argon2 on every request would be a self-inflicted DoS.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// The minimum password length accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Hashes a password into a PHC string (salt generated from the OS).
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD_LEN} characters"
        ));
    }
    let hash: Result<PasswordHash, _> = Argon2::default().hash_password(password.as_bytes());
    hash.map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash the password: {err}"))
}

/// True when `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    // The `str` verifier parses the PHC string itself; a malformed hash simply fails.
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}
