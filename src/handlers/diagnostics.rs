//! Diagnostic jobs that ship with cv-worker, for operators' smoke tests and drills:
//!
//! * `CvWorker\Jobs\Ping` does nothing and succeeds: is the worker alive and working this
//!   queue? Also the no-op job of `cv-worker bench`.
//! * `CvWorker\Jobs\Sleep` sleeps `seconds` (default 1, at most 3600): a job that is
//!   reliably in flight, to rehearse deploys, graceful shutdown and crash recovery.

use std::time::Duration;

use super::{HandlerOutcome, JobContext, Registry};
use crate::protocol::exception::JobError;

pub const PING: &str = "CvWorker\\Jobs\\Ping";
pub const SLEEP: &str = "CvWorker\\Jobs\\Sleep";

pub fn register(registry: &mut Registry) {
    registry.register_fn(PING, |_job: JobContext| async { Ok(HandlerOutcome::Done) });
    registry.register_fn(SLEEP, |job: JobContext| async move {
        let seconds = match job.command.get("seconds") {
            None => 1.0,
            Some(v) => v
                .as_f64()
                .filter(|s| (0.0..=3600.0).contains(s))
                .ok_or_else(|| JobError::runtime("seconds must be a number from 0 to 3600"))?,
        };
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        Ok(HandlerOutcome::Done)
    });
}
