//! The CV domain of cv-worker: the CV document model, the PDF renderer and the exporters.
//!
//! This crate knows nothing about queues, databases or Laravel; the engine's handlers
//! (`cv-worker/src/handlers`) adapt it to jobs.

pub mod document;
pub mod pdf;
