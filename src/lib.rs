//! cv-worker: a Laravel-compatible database-queue worker.
//!
//! Data flows one way: a row in `jobs` → [`store`] (dialect SQL: reserve a batch of rows) →
//! [`protocol`] (parse the payload and PHP command, decide attempts/backoff/timeout) →
//! [`worker`] (run the handler under a timeout, catch panics) → [`handlers`] (class name →
//! code) → the worker's completer (delete / release / fail in batches) → [`store`].

pub mod admin;
pub mod batches;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod enqueue;
pub mod failed;
pub mod handlers;
pub mod logging;
pub mod protocol;
pub mod store;
pub mod worker;
