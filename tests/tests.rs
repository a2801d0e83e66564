//! The one integration-test binary (one binary links the crate once).

mod cli;
mod server;
