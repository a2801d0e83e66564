//! The one integration-test binary (one binary links the crate once).

mod cli;
mod examples;
mod expressions;
mod questionnaire;
mod server;
