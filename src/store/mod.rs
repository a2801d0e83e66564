//! The sled database: typed trees, codecs, group-commit durability, journal, backup.
//!
//! Architecture invariant: this is the only module that imports `sled`.
