//! The questionnaire format: model, expression language, linter, submission validator and
//! version diff.
//!
//! Architecture invariant: this module knows nothing about storage, HTTP, sampling or
//! weighting. It turns JSON text into checked types and checked types into findings.
