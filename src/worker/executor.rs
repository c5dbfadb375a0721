//! Runs one reserved job and decides its outcome, following `queue:work` (spec §6.2–§6.3):
//! pre-run attempts check, handler under a timeout with panics caught, then the tries /
//! maxExceptions / failOnTimeout rules and backoff. Bad data never escapes as a crash: an
//! unreadable payload, an unknown class or a broken command ends in `failed_jobs` with a
//! readable exception.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use tokio::sync::oneshot;
use tracing::Instrument;

use super::completer::Pending;
use super::{Shared, unix_now};
use crate::handlers::{HandlerOutcome, JobContext};
use crate::protocol::command::Command;
use crate::protocol::exception::{self, JobError};
use crate::protocol::payload::Payload;
use crate::protocol::policy::{self, AfterException};
use crate::store::{Completion, Outcome, ReservedJob};

/// Runs `job` and waits until its outcome is written.
pub(crate) async fn execute(job: ReservedJob, shared: &Shared) {
    let started = Instant::now();
    let span = tracing::info_span!("job", id = job.id, uuid = tracing::field::Empty, class = tracing::field::Empty,
        queue = %job.queue, attempt = job.attempts);
    let mut batch_id = None;
    // `abort` (shutdown grace over, or a second signal) drops the handler mid-run; the job
    // goes back to the queue as it was before this reservation.
    let decided = tokio::select! {
        decided = decide(&job, shared, &span, &mut batch_id).instrument(span.clone()) => Some(decided),
        _ = shared.abort.cancelled() => None,
    };
    let (uuid, outcome) = match decided {
        Some(decided) => decided,
        None => (Payload::sniff_uuid(&job.payload).unwrap_or_else(new_uuid), Outcome::Abandon),
    };
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    crate::admin::metrics::record_outcome(&job, &outcome, elapsed_ms / 1000.0);
    span.in_scope(|| match &outcome {
        Outcome::Delete => tracing::info!(duration_ms = elapsed_ms, "processed"),
        Outcome::Abandon => tracing::warn!(duration_ms = elapsed_ms, "interrupted by shutdown; released unchanged"),
        Outcome::Release { delay } => tracing::warn!(duration_ms = elapsed_ms, delay, "released"),
        Outcome::Fail { exception } => {
            let first_line = exception.lines().next().unwrap_or_default();
            tracing::error!(duration_ms = elapsed_ms, exception = first_line, "failed")
        }
    });
    let (ack, acked) = oneshot::channel();
    let pending = Pending { completion: Completion { job, uuid, outcome, batch_id }, ack };
    if shared.completions.send(pending).await.is_ok() {
        // The slot is freed only once the outcome is durable.
        let _ = acked.await;
    }
}

/// Everything between reservation and outcome. `batch_id` is set as soon as it is known, so
/// that failures before the handler runs are counted on the batch too.
async fn decide(
    job: &ReservedJob,
    shared: &Shared,
    span: &tracing::Span,
    batch_id: &mut Option<String>,
) -> (String, Outcome) {
    let payload = match Payload::parse(&job.payload) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            let uuid = Payload::sniff_uuid(&job.payload).unwrap_or_else(new_uuid);
            span.record("uuid", uuid.as_str());
            let name = Payload::sniff_name(&job.payload);
            return (uuid, fail(JobError::new(exception::INVALID_PAYLOAD, e.to_string()), &name, job));
        }
    };
    let uuid = payload.uuid.clone().unwrap_or_else(new_uuid);
    span.record("uuid", uuid.as_str());
    span.record("class", payload.class.as_str());
    let options = &shared.options;
    let now = unix_now();
    let decoded = Command::decode(&payload);
    *batch_id = match &decoded {
        Ok(c) => c.batch_id(&payload),
        Err(_) => payload.batch_id.clone(),
    };

    if !policy::may_run(&payload, job.attempts, now, &options.defaults, shared.store.max_attempts_value()) {
        return (uuid, fail(JobError::max_attempts(&payload.display_name), &payload.display_name, job));
    }
    let command = match decoded {
        Ok(c) => Arc::new(c),
        Err(e) => {
            return (uuid, fail(JobError::new(exception::INVALID_PAYLOAD, e.to_string()), &payload.display_name, job));
        }
    };
    // SkipIfBatchCancelled (spec §8.5): a job of a cancelled batch is not run; it counts as a
    // success and its row is deleted. If the batch cannot be read, the job runs.
    if let Some(id) = batch_id.as_deref() {
        match shared.store.batch_find(id).await {
            // PHP's `$batch->cancelled()`: a truthy cancelled_at.
            Ok(Some(batch)) if batch.cancelled_at.is_some_and(|t| t != 0) => {
                tracing::info!(batch = id, "batch is cancelled; deleting the job without running it");
                return (uuid, Outcome::Delete);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, batch = id, "cannot read the job's batch; running the job"),
        }
    }
    let Some(handler) = shared.registry.get(&payload.class) else {
        let e = JobError::new(exception::NO_HANDLER, format!("no handler for {} in cv-worker", payload.class));
        return (uuid, fail(e, &payload.display_name, job));
    };

    let context = JobContext {
        id: job.id,
        uuid: uuid.clone(),
        queue: job.queue.clone(),
        attempts: job.attempts,
        batch_id: command.batch_id(&payload),
        payload: payload.clone(),
        command,
    };
    let run = AssertUnwindSafe(handler.handle(context)).catch_unwind();
    let result = match policy::timeout(&payload, &options.defaults) {
        Some(limit) => tokio::time::timeout(limit, run).await.map_err(|_| ()),
        None => Ok(run.await),
    };
    let (error, timed_out) = match result {
        Ok(Ok(Ok(HandlerOutcome::Done | HandlerOutcome::DeleteQuietly))) => return (uuid, Outcome::Delete),
        Ok(Ok(Ok(HandlerOutcome::Release { delay }))) => return (uuid, Outcome::Release { delay }),
        Ok(Ok(Ok(HandlerOutcome::Fail(e)))) => return (uuid, fail(e, &payload.display_name, job)),
        Ok(Ok(Err(e))) => (e, false),
        Ok(Err(panic)) => {
            (JobError::new(exception::HANDLER_PANIC, format!("handler panicked: {}", panic_message(&panic))), false)
        }
        Err(()) => (JobError::timed_out(&payload.display_name), true),
    };
    let outcome = after_exception(error, timed_out, &payload, &uuid, job, shared).await;
    (uuid, outcome)
}

/// Laravel's `handleJobException` / timeout handling: tries, then maxExceptions, then
/// failOnTimeout; otherwise release with backoff.
async fn after_exception(
    error: JobError,
    timed_out: bool,
    payload: &Payload,
    uuid: &str,
    job: &ReservedJob,
    shared: &Shared,
) -> Outcome {
    let options = &shared.options;
    let now = unix_now();
    let delay = match policy::after_exception(payload, job.attempts, now, &options.defaults) {
        AfterException::Fail => return fail(error, &payload.display_name, job),
        AfterException::Release { delay } => delay,
    };
    if let (Some(max), Some(real_uuid)) = (payload.max_exceptions, payload.uuid.as_deref()) {
        let key = format!("{}{}", options.cache_prefix, policy::exceptions_key(real_uuid));
        match shared.store.cache_increment(&key, now + 86_400, now).await {
            Ok(count) if max <= count => {
                if let Err(e) = shared.store.cache_forget(&key).await {
                    tracing::warn!(error = %e, "could not clear the max-exceptions counter");
                }
                return fail(error, &payload.display_name, job);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, uuid, "could not count the exception for maxExceptions"),
        }
    }
    if timed_out && payload.fail_on_timeout {
        return fail(error, &payload.display_name, job);
    }
    tracing::warn!(error = %error, "job raised an exception; releasing");
    Outcome::Release { delay }
}

fn fail(error: JobError, display_name: &str, job: &ReservedJob) -> Outcome {
    let frame = format!("cv-worker: {display_name} (job {}, queue {}, attempt {})", job.id, job.queue, job.attempts);
    Outcome::Fail { exception: error.to_failed_job_text(&frame) }
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}
