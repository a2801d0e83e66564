//! Tests of the collection server and its store, with real parts: sled in a temp
//! directory, a server on 127.0.0.1:0, HTTP over real sockets, and the real binary killed
//! with SIGKILL.

mod api;
mod backup;
mod crash;
mod demo_start;
mod durability;
mod export;
mod export_log;
mod harness;
mod http;
mod sampling;
mod submission_rules;
