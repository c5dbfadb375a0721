//! Prometheus metrics. The worker records through the `metrics` facade (names below); the
//! admin server installs the Prometheus recorder once per process and renders it at
//! `/metrics`, after setting the queue-depth gauges from the database.
//!
//! * `cv_worker_jobs_processed_total{queue,class}` — jobs deleted after success
//! * `cv_worker_jobs_failed_total{queue,class}` — jobs written to `failed_jobs`
//! * `cv_worker_jobs_released_total{queue,class}` — jobs released back onto their queue
//! * `cv_worker_job_duration_seconds{queue,class}` — run time, a histogram
//! * `cv_worker_queue_depth{queue,state}` — pending / delayed / reserved rows
//! * `cv_worker_queue_oldest_pending_age_seconds{queue}`
//! * `cv_worker_reserve_duration_seconds{queue}` — `reserve` round-trip time, a histogram
//! * `cv_worker_batch_progress_percent{batch,name}`, `cv_worker_batch_pending_jobs{batch,name}` —
//!   unfinished batches among the newest 100

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AdminState;
use super::error::ApiError;

pub const JOBS_PROCESSED: &str = "cv_worker_jobs_processed_total";
pub const JOBS_FAILED: &str = "cv_worker_jobs_failed_total";
pub const JOBS_RELEASED: &str = "cv_worker_jobs_released_total";
pub const JOB_DURATION: &str = "cv_worker_job_duration_seconds";
pub const QUEUE_DEPTH: &str = "cv_worker_queue_depth";
pub const QUEUE_OLDEST_AGE: &str = "cv_worker_queue_oldest_pending_age_seconds";
pub const RESERVE_DURATION: &str = "cv_worker_reserve_duration_seconds";
pub const BATCH_PROGRESS: &str = "cv_worker_batch_progress_percent";
pub const BATCH_PENDING: &str = "cv_worker_batch_pending_jobs";

/// Newest batches looked at for the batch gauges.
const BATCHES_SHOWN: i64 = 100;
/// Gauges not set for this long (finished batches, vanished queues) are dropped.
const GAUGE_IDLE: std::time::Duration = std::time::Duration::from_secs(600);

const RESERVE_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];
const DURATION_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];

/// Installs the process-wide Prometheus recorder (once; later calls return the same handle).
/// `None` when another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .idle_timeout(metrics_util::MetricKindMask::GAUGE, Some(GAUGE_IDLE))
                .set_buckets_for_metric(Matcher::Full(JOB_DURATION.to_string()), &DURATION_BUCKETS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full(RESERVE_DURATION.to_string()), &RESERVE_BUCKETS))
                .map_err(|e| tracing::warn!(error = %e, "metrics: bad histogram buckets"))
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    ENABLED.store(true, std::sync::atomic::Ordering::Relaxed);
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: cannot install the Prometheus recorder");
                    None
                }
            }
        })
        .clone()
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<AdminState>) -> Response {
    let Some(handle) = state.metrics.clone() else {
        return ApiError::not_found("metrics are not enabled").into_response();
    };
    match super::routes::queue_views(&state).await {
        Ok(queues) => {
            for q in queues {
                for (kind, value) in [("pending", q.pending), ("delayed", q.delayed), ("reserved", q.reserved)] {
                    ::metrics::gauge!(QUEUE_DEPTH, "queue" => q.name.clone(), "state" => kind).set(value as f64);
                }
                ::metrics::gauge!(QUEUE_OLDEST_AGE, "queue" => q.name.clone())
                    .set(q.oldest_pending_age_seconds.unwrap_or(0) as f64);
            }
        }
        // Still serve the worker's counters; the depth gauges keep their last values.
        Err(e) => tracing::warn!(status = %e.status, "metrics: cannot read queue depths"),
    }
    // Unfinished batches among the newest ones; a finished batch's gauges are no longer set
    // and the recorder drops them after GAUGE_IDLE.
    match crate::batches::list(&*state.store, BATCHES_SHOWN, None).await {
        Ok(batches) => {
            for b in batches.iter().filter(|b| !b.finished() && !b.cancelled()) {
                let labels = [("batch", b.id.clone()), ("name", b.name.clone())];
                ::metrics::gauge!(BATCH_PROGRESS, &labels).set(b.progress as f64);
                ::metrics::gauge!(BATCH_PENDING, &labels).set(b.pending_jobs as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read batches"),
    }
    (StatusCode::OK, [(CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()).into_response()
}

/// Set once the recorder is installed: until then the worker skips reading class names.
static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a Prometheus recorder is installed in this process.
pub fn enabled() -> bool {
    ENABLED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Records a job's decided outcome (called by the executor before the completer writes it;
/// a job interrupted by shutdown is not counted). The class label is the payload's
/// `displayName`, as Horizon shows it.
pub(crate) fn record_outcome(job: &crate::store::ReservedJob, outcome: &crate::store::Outcome, seconds: f64) {
    use crate::store::Outcome;
    if !enabled() {
        return;
    }
    let kind = match outcome {
        Outcome::Delete => JobOutcome::Processed,
        Outcome::Release { .. } => JobOutcome::Released,
        Outcome::Fail { .. } => JobOutcome::Failed,
        #[allow(unreachable_patterns)]
        _ => return,
    };
    record_job(&job.queue, &crate::protocol::payload::Payload::sniff_name(&job.payload), kind, seconds);
}

/// Records one `reserve` round trip (called by the worker's fetcher).
pub(crate) fn record_reserve(queue: &str, seconds: f64) {
    if enabled() {
        ::metrics::histogram!(RESERVE_DURATION, "queue" => queue.to_string()).record(seconds);
    }
}

/// Records one job's outcome.
pub fn record_job(queue: &str, class: &str, outcome: JobOutcome, seconds: f64) {
    let labels = [("queue", queue.to_string()), ("class", class.to_string())];
    let name = match outcome {
        JobOutcome::Processed => JOBS_PROCESSED,
        JobOutcome::Failed => JOBS_FAILED,
        JobOutcome::Released => JOBS_RELEASED,
    };
    ::metrics::counter!(name, &labels).increment(1);
    ::metrics::histogram!(JOB_DURATION, &labels).record(seconds);
}

/// What became of a job, for [`record_job`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Processed,
    Failed,
    Released,
}
