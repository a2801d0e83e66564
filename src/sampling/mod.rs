//! Sample allocation, selection methods, link tracing (indirect sampling) and within-unit
//! worker selection. Every random procedure takes a seeded `ChaCha20Rng`.
//!
//! Architecture invariant: sampling is synchronous and pure; it knows nothing about sled,
//! HTTP or questionnaires.
