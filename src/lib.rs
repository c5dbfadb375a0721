//! cv-worker: a Laravel-compatible database-queue worker.
pub mod protocol;
