//! `job_batches`: Laravel's job batches (`Bus::batch()`), as the worker, the CLI and the admin
//! API see them (spec `laravel-queue.md` §8).
//!
//! * **Counters** (`apply`): the worker records every batched job's success or failure in the
//!   same transaction that deletes the job row ([`crate::store::Store::complete`]), with one
//!   locked read of the affected batch rows and one UPDATE per batch row, computing the new
//!   values from the locked row exactly as Laravel's `DatabaseBatchRepository` does: success
//!   decrements `pending_jobs` and removes the job's uuid from `failed_job_ids`; failure
//!   increments `failed_jobs` and appends the uuid (once); `finished_at` is set when pending
//!   reaches zero; the first failure of a batch without `allowFailures` cancels it
//!   (`cancelled_at` = `finished_at` = now).
//! * **Cancellation**: before running a batched job the executor reads the batch; a job of a
//!   cancelled batch is deleted without running and counted as a success, as Laravel's
//!   `SkipIfBatchCancelled` middleware does (§8.5).
//! * **Callbacks**: `then` / `catch` / `finally` / `progress` are PHP closures serialized into
//!   `options`; cv-worker cannot run them. When a batch event would fire them, cv-worker logs
//!   one warning per event saying so (`then`/`finally` never run for batches worked by
//!   cv-worker; run them from PHP, e.g. by polling `Bus::findBatch()`).
//! * **Views** ([`BatchView`]): `Batch::toArray()`'s shape, for the CLI and the admin API.

use serde::Serialize;

use crate::protocol::php::{self, ArrayKey, PhpValue};
use crate::store::{self, NewJob, Store, StoreError};

/// A `job_batches` row as stored (timestamps are Unix seconds; `options` raw, base64 on PG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub id: String,
    pub name: String,
    pub total_jobs: i64,
    pub pending_jobs: i64,
    pub failed_jobs: i64,
    /// The raw JSON array text.
    pub failed_job_ids: String,
    pub options: Option<String>,
    pub cancelled_at: Option<i64>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Which rows `queue:prune-batches` deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchPrune {
    /// `finished_at is not null and finished_at < before`.
    Finished,
    /// `finished_at is null and created_at < before` (`--unfinished`).
    Unfinished,
    /// `cancelled_at is not null and created_at < before` (`--cancelled`).
    Cancelled,
}

/// A batch to create (`Bus::batch()->dispatch()`); `options` is the PHP-serialized options array
/// (the PostgreSQL store base64-encodes it, as Laravel does).
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub id: String,
    pub name: String,
    pub options: String,
}

/// Errors of the batch functions.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Unable to find a batch with ID [{0}].")]
    NotFound(String),
    #[error("The given batch does not contain any failed jobs.")]
    NoFailedJobs,
    #[error("a batch needs at least one job")]
    Empty,
}

// ---------------------------------------------------------------------------------------------
// options

/// What cv-worker reads from `options`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOptions {
    /// `Arr::get($options, 'allowFailures', false) === true`.
    pub allow_failures: bool,
    /// Callback lists that are present and non-empty: `then`, `catch`, `finally`, `progress`.
    pub callbacks: Vec<&'static str>,
    /// The unserialized options (an array), `None` when empty or unreadable.
    pub value: Option<PhpValue>,
}

const CALLBACK_KINDS: [&str; 4] = ["then", "catch", "finally", "progress"];

/// Decodes `options`: base64 first when it has neither `:` nor `;` (PostgreSQL), then PHP
/// `unserialize()`. Unreadable options read as no options (and are logged).
pub fn parse_options(raw: Option<&str>) -> BatchOptions {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return BatchOptions::default();
    };
    let bytes: Vec<u8> = if raw.contains(':') || raw.contains(';') {
        raw.as_bytes().to_vec()
    } else {
        use base64::Engine as _;
        match base64::engine::general_purpose::STANDARD.decode(raw.trim()) {
            Ok(b) => b,
            Err(_) => raw.as_bytes().to_vec(),
        }
    };
    let value = match php::unserialize(&bytes) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "job_batches.options is not PHP serialization; treating it as empty");
            return BatchOptions::default();
        }
    };
    let allow_failures = value.property("allowFailures").and_then(PhpValue::as_bool) == Some(true);
    let callbacks = CALLBACK_KINDS
        .into_iter()
        .filter(|k| value.property(k).and_then(PhpValue::as_array).is_some_and(|a| !a.is_empty()))
        .collect();
    BatchOptions { allow_failures, callbacks, value: Some(value) }
}

/// The options array PHP's `serialize()` writes for `Bus::batch()` with these settings.
pub fn serialize_options(queue: Option<&str>, allow_failures: bool) -> String {
    let mut items = Vec::new();
    if let Some(q) = queue {
        items.push((ArrayKey::String(b"queue".to_vec()), PhpValue::String(q.as_bytes().to_vec())));
    }
    if allow_failures {
        items.push((ArrayKey::String(b"allowFailures".to_vec()), PhpValue::Bool(true)));
    }
    String::from_utf8_lossy(&php::serialize(&PhpValue::Array(items))).into_owned()
}

/// A PHP value as `json_encode` prints it: objects show their public properties only (so
/// closures print as `{}`), lists as arrays, other arrays as objects.
fn php_json(v: &PhpValue) -> serde_json::Value {
    use serde_json::{Map, Value};
    match v {
        // Closures (Laravel\SerializableClosure\…, Illuminate\Queue\SerializableClosure) keep
        // their state in non-public properties, whatever names `__serialize` wrote.
        PhpValue::Object { class, .. } if class.ends_with("SerializableClosure") || class == "Closure" => {
            Value::Object(Map::new())
        }
        PhpValue::Object { properties, .. } => Value::Object(
            properties
                .iter()
                .filter(|p| p.visibility == php::Visibility::Public)
                .map(|p| (p.name.clone(), php_json(&p.value)))
                .collect::<Map<_, _>>(),
        ),
        PhpValue::Custom { .. } | PhpValue::Reference(_) => Value::Object(Map::new()),
        PhpValue::Array(items) => {
            if items.iter().enumerate().all(|(i, (k, _))| *k == ArrayKey::Int(i as i64)) {
                Value::Array(items.iter().map(|(_, v)| php_json(v)).collect())
            } else {
                Value::Object(
                    items
                        .iter()
                        .map(|(k, v)| {
                            let key = match k {
                                ArrayKey::Int(i) => i.to_string(),
                                ArrayKey::String(s) => String::from_utf8_lossy(s).into_owned(),
                            };
                            (key, php_json(v))
                        })
                        .collect(),
                )
            }
        }
        other => other.to_json(),
    }
}

// ---------------------------------------------------------------------------------------------
// counters (used by the stores inside the completion transaction)

/// A batch row locked for update, and what the completions of one transaction do to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BatchState {
    pub id: String,
    pub pending_jobs: i64,
    pub failed_jobs: i64,
    pub failed_job_ids: Vec<String>,
    pub cancelled_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub options: BatchOptions,
}

impl BatchState {
    pub fn from_locked(
        id: String,
        pending_jobs: i64,
        failed_jobs: i64,
        failed_job_ids: &str,
        options: Option<&str>,
        cancelled_at: Option<i64>,
        finished_at: Option<i64>,
    ) -> BatchState {
        BatchState {
            id,
            pending_jobs,
            failed_jobs,
            failed_job_ids: parse_ids(failed_job_ids),
            cancelled_at,
            finished_at,
            options: parse_options(options),
        }
    }

    /// `failed_job_ids` as Laravel writes it: `json_encode(array_values(...))`.
    pub fn failed_job_ids_json(&self) -> String {
        serde_json::to_string(&self.failed_job_ids).unwrap_or_else(|_| "[]".into())
    }
}

/// `json_decode($batch->failed_job_ids, true)`, tolerating garbage as an empty list.
pub(crate) fn parse_ids(json: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect(),
        Ok(serde_json::Value::Object(map)) => {
            map.into_iter().filter_map(|(_, v)| v.as_str().map(String::from)).collect()
        }
        _ => Vec::new(),
    }
}

/// A batched job's result, as the batch counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect<'a> {
    /// `recordSuccessfulJob(uuid)`.
    Success(&'a str),
    /// `recordFailedJob(uuid)`.
    Failure(&'a str),
}

/// What happened to a batch in one transaction (for the callback warnings and the report).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BatchEvents {
    pub id: String,
    /// `pending_jobs` reached 0: `finished_at` set (`then` callbacks).
    pub finished: bool,
    /// The first failure without `allowFailures`.
    pub cancelled: bool,
    /// `failed_jobs` became 1 (`catch` callbacks).
    pub first_failure: bool,
    /// `pending_jobs - failed_jobs` became 0 (`finally` callbacks).
    pub all_ran: bool,
    pub callbacks: Vec<&'static str>,
}

/// Applies the effects in order, as consecutive `recordSuccessfulJob` / `recordFailedJob`
/// calls on the locked row would.
pub(crate) fn apply(state: &mut BatchState, effects: &[Effect<'_>], now: i64) -> BatchEvents {
    let mut events =
        BatchEvents { id: state.id.clone(), callbacks: state.options.callbacks.clone(), ..Default::default() };
    for effect in effects {
        match *effect {
            Effect::Success(uuid) => {
                state.pending_jobs -= 1;
                state.failed_job_ids.retain(|u| u != uuid);
                if state.pending_jobs == 0 {
                    state.finished_at = Some(now);
                    events.finished = true;
                }
            }
            Effect::Failure(uuid) => {
                state.failed_jobs += 1;
                if !state.failed_job_ids.iter().any(|u| u == uuid) {
                    state.failed_job_ids.push(uuid.to_string());
                }
                if state.failed_jobs == 1 {
                    events.first_failure = true;
                    if !state.options.allow_failures {
                        state.cancelled_at = Some(now);
                        state.finished_at = Some(now);
                        events.cancelled = true;
                    }
                }
            }
        }
        if state.pending_jobs - state.failed_jobs == 0 {
            events.all_ran = true;
        }
    }
    events
}

/// Groups the batched completions whose rows were deleted by batch id (sorted, so batch rows
/// are always locked in the same order).
pub(crate) fn effects<'a>(
    batch: &'a [store::Completion],
    deleted: &std::collections::HashSet<i64>,
) -> std::collections::BTreeMap<&'a str, Vec<Effect<'a>>> {
    let mut by_batch: std::collections::BTreeMap<&str, Vec<Effect<'_>>> = Default::default();
    for c in batch {
        let Some(batch_id) = c.batch_id.as_deref() else { continue };
        if !deleted.contains(&c.job.id) {
            continue;
        }
        let effect = match c.outcome {
            store::Outcome::Delete => Effect::Success(&c.uuid),
            store::Outcome::Fail { .. } => Effect::Failure(&c.uuid),
            store::Outcome::Release { .. } | store::Outcome::Abandon => continue,
        };
        by_batch.entry(batch_id).or_default().push(effect);
    }
    by_batch
}

/// Logs, once per batch event, the PHP callbacks that cv-worker will not run. Called after commit.
pub(crate) fn log_events(events: &[BatchEvents]) {
    for e in events {
        if e.cancelled {
            tracing::info!(batch = %e.id, "batch cancelled after its first failed job (no allowFailures)");
        }
        if e.finished {
            tracing::info!(batch = %e.id, "batch finished");
        }
        let has = |k: &str| e.callbacks.contains(&k);
        let mut skipped = Vec::new();
        if e.finished && has("then") {
            skipped.push("then");
        }
        if e.first_failure && has("catch") {
            skipped.push("catch");
        }
        if e.all_ran && has("finally") {
            skipped.push("finally");
        }
        if !skipped.is_empty() {
            tracing::warn!(
                batch = %e.id,
                callbacks = %skipped.join(","),
                "batch callbacks are PHP closures and will not run (cv-worker cannot execute PHP)"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// views

/// `Batch::toArray()` (what `Bus::findBatch($id)` JSON-encodes to).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    pub id: String,
    pub name: String,
    pub total_jobs: i64,
    pub pending_jobs: i64,
    pub processed_jobs: i64,
    pub progress: i64,
    pub failed_jobs: i64,
    pub options: serde_json::Value,
    pub created_at: String,
    pub cancelled_at: Option<String>,
    pub finished_at: Option<String>,
    /// Not in `toArray()`; serialized only by [`BatchView::with_failed_job_ids`] users.
    #[serde(skip)]
    pub failed_job_ids: Vec<String>,
}

/// A timestamp as Carbon's JSON form: `2026-11-27T05:07:30.000000Z`.
pub fn iso8601(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl From<&BatchRow> for BatchView {
    fn from(row: &BatchRow) -> BatchView {
        let processed = row.total_jobs - row.pending_jobs;
        let progress =
            if row.total_jobs > 0 { (processed as f64 / row.total_jobs as f64 * 100.0).round() as i64 } else { 0 };
        let options = parse_options(row.options.as_deref())
            .value
            .map(|v| php_json(&v))
            .unwrap_or_else(|| serde_json::Value::Array(Vec::new()));
        BatchView {
            id: row.id.clone(),
            name: row.name.clone(),
            total_jobs: row.total_jobs,
            pending_jobs: row.pending_jobs,
            processed_jobs: processed,
            progress,
            failed_jobs: row.failed_jobs,
            options,
            // Carbon::createFromTimestamp, falsy (0/NULL) cancelled/finished stay null.
            created_at: iso8601(row.created_at),
            cancelled_at: row.cancelled_at.filter(|t| *t != 0).map(iso8601),
            finished_at: row.finished_at.filter(|t| *t != 0).map(iso8601),
            failed_job_ids: parse_ids(&row.failed_job_ids),
        }
    }
}

impl BatchView {
    pub fn finished(&self) -> bool {
        self.finished_at.is_some()
    }

    pub fn cancelled(&self) -> bool {
        self.cancelled_at.is_some()
    }

    pub fn has_failures(&self) -> bool {
        self.failed_jobs > 0
    }

    /// `toArray()` plus `failedJobIds` (as `interop:find-batch --with-ids` prints it), keys in
    /// Laravel's order.
    pub fn with_failed_job_ids(&self) -> WithExtra<'_, &[String]> {
        WithExtra { batch: self, key: "failedJobIds", extra: &self.failed_job_ids }
    }
}

/// A [`BatchView`] followed by one more key.
#[derive(Debug)]
pub struct WithExtra<'a, T> {
    pub batch: &'a BatchView,
    pub key: &'static str,
    pub extra: T,
}

impl<T: Serialize> Serialize for WithExtra<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let b = self.batch;
        let mut map = serializer.serialize_map(Some(12))?;
        map.serialize_entry("id", &b.id)?;
        map.serialize_entry("name", &b.name)?;
        map.serialize_entry("totalJobs", &b.total_jobs)?;
        map.serialize_entry("pendingJobs", &b.pending_jobs)?;
        map.serialize_entry("processedJobs", &b.processed_jobs)?;
        map.serialize_entry("progress", &b.progress)?;
        map.serialize_entry("failedJobs", &b.failed_jobs)?;
        map.serialize_entry("options", &b.options)?;
        map.serialize_entry("createdAt", &b.created_at)?;
        map.serialize_entry("cancelledAt", &b.cancelled_at)?;
        map.serialize_entry("finishedAt", &b.finished_at)?;
        map.serialize_entry(self.key, &self.extra)?;
        map.end()
    }
}

// ---------------------------------------------------------------------------------------------
// library functions (CLI, admin API)

/// `Bus::findBatch($id)`.
pub async fn find(store: &dyn Store, id: &str) -> Result<Option<BatchView>, BatchError> {
    Ok(store.batch_find(id).await?.as_ref().map(BatchView::from))
}

/// `BatchRepository::get($limit, $before)`: newest first (by id, which is time-ordered).
pub async fn list(store: &dyn Store, limit: i64, before: Option<&str>) -> Result<Vec<BatchView>, BatchError> {
    Ok(store.batch_list(limit, before).await?.iter().map(BatchView::from).collect())
}

/// `$batch->cancel()`: `cancelled_at` = `finished_at` = now. Remaining jobs are then deleted
/// without running when a worker reaches them.
pub async fn cancel(store: &dyn Store, id: &str, now: i64) -> Result<BatchView, BatchError> {
    if !store.batch_cancel(id, now).await? {
        return Err(BatchError::NotFound(id.to_string()));
    }
    find(store, id).await?.ok_or_else(|| BatchError::NotFound(id.to_string()))
}

/// `queue:retry-batch`: `queue:retry` for every uuid in the batch's `failed_job_ids`. The batch
/// row itself is not changed (Laravel does not change it either): a retried job that succeeds
/// decrements `pending_jobs` and leaves `failed_job_ids`; `failed_jobs` keeps counting events.
pub async fn retry(store: &dyn Store, id: &str, now: i64) -> Result<Vec<crate::failed::RetryResult>, BatchError> {
    let batch = find(store, id).await?.ok_or_else(|| BatchError::NotFound(id.to_string()))?;
    if batch.failed_job_ids.is_empty() {
        return Err(BatchError::NoFailedJobs);
    }
    crate::failed::retry(store, &batch.failed_job_ids, now).await.map_err(|e| match e {
        crate::failed::FailedError::Store(s) => BatchError::Store(s),
    })
}

/// `queue:prune-batches`: deletes in chunks of 1000 until none are left; returns how many.
pub async fn prune(store: &dyn Store, which: BatchPrune, hours: i64, now: i64) -> Result<u64, BatchError> {
    Ok(store.batch_prune(which, now - hours * 3600).await?)
}

/// `Str::orderedUuid()`: a version-4 UUID whose first 48 bits are the time in units of
/// 100 µs (Ramsey's timestamp-first COMB), so ids sort by creation time.
pub fn ordered_uuid() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() / 100)
        .unwrap_or_default() as u64;
    let mut bytes = *uuid::Uuid::new_v4().as_bytes();
    bytes[..6].copy_from_slice(&micros.to_be_bytes()[2..]);
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// Creates a batch and its jobs in one transaction, as `Bus::batch($jobs)->dispatch()` does:
/// the row with `total_jobs` = `pending_jobs` = number of jobs, every job carrying the batch id
/// (in `data.batchId` and as the command's `batchId` property). Returns the batch.
pub async fn create(
    store: &dyn Store,
    name: &str,
    queue: Option<&str>,
    allow_failures: bool,
    dispatches: &mut [crate::enqueue::Dispatch],
    now: i64,
) -> Result<(BatchView, Vec<String>), BatchError> {
    if dispatches.is_empty() {
        return Err(BatchError::Empty);
    }
    let id = ordered_uuid();
    let mut jobs: Vec<NewJob> = Vec::with_capacity(dispatches.len());
    let mut uuids = Vec::with_capacity(dispatches.len());
    for d in dispatches.iter_mut() {
        d.batch_id = Some(id.clone());
        let (job, uuid) = crate::enqueue::new_job(d, now);
        jobs.push(job);
        uuids.push(uuid);
    }
    let batch = NewBatch { id: id.clone(), name: name.to_string(), options: serialize_options(queue, allow_failures) };
    store.batch_create(&batch, &jobs, now).await?;
    let view = find(store, &id).await?.ok_or(BatchError::NotFound(id))?;
    Ok((view, uuids))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(pending: i64, allow: bool) -> BatchState {
        BatchState {
            id: "b".into(),
            pending_jobs: pending,
            failed_jobs: 0,
            failed_job_ids: vec![],
            cancelled_at: None,
            finished_at: None,
            options: BatchOptions { allow_failures: allow, ..Default::default() },
        }
    }

    #[test]
    fn success_and_failure_follow_laravel() {
        let mut s = state(3, true);
        let e = apply(&mut s, &[Effect::Failure("a"), Effect::Failure("a"), Effect::Success("b")], 100);
        assert_eq!((s.pending_jobs, s.failed_jobs), (2, 2));
        assert_eq!(s.failed_job_ids, vec!["a".to_string()]);
        assert!(e.first_failure && !e.cancelled && !e.finished);
        let e = apply(&mut s, &[Effect::Success("a"), Effect::Success("c")], 101);
        assert_eq!((s.pending_jobs, s.failed_jobs, s.finished_at), (0, 2, Some(101)));
        assert!(s.failed_job_ids.is_empty());
        assert!(e.finished && !e.first_failure);
        assert_eq!(s.failed_job_ids_json(), "[]");
    }

    #[test]
    fn first_failure_cancels_without_allow_failures() {
        let mut s = state(2, false);
        let e = apply(&mut s, &[Effect::Failure("x")], 7);
        assert!(e.cancelled);
        assert_eq!((s.cancelled_at, s.finished_at), (Some(7), Some(7)));
        let e = apply(&mut s, &[Effect::Failure("y")], 8);
        assert!(!e.cancelled);
        assert_eq!(s.cancelled_at, Some(7));
    }

    #[test]
    fn options_decode_plain_and_base64() {
        let raw = serialize_options(Some("imports"), true);
        assert_eq!(raw, r#"a:2:{s:5:"queue";s:7:"imports";s:13:"allowFailures";b:1;}"#);
        assert!(parse_options(Some(&raw)).allow_failures);
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
        let o = parse_options(Some(&b64));
        assert!(o.allow_failures);
        let closure = r#"a:2:{s:13:"allowFailures";b:0;s:4:"then";a:1:{i:0;O:47:"Laravel\SerializableClosure\SerializableClosure":1:{s:12:"serializable";N;}}}"#;
        let o = parse_options(Some(closure));
        assert!(!o.allow_failures);
        assert_eq!(o.callbacks, vec!["then"]);
        assert_eq!(php_json(o.value.as_ref().unwrap()), serde_json::json!({"allowFailures": false, "then": [{}]}));
        assert_eq!(parse_options(Some("a:0:{}")).value.map(|v| php_json(&v)), Some(serde_json::json!([])));
    }

    #[test]
    fn view_matches_to_array() {
        let row = BatchRow {
            id: "i".into(),
            name: "n".into(),
            total_jobs: 8,
            pending_jobs: 7,
            failed_jobs: 0,
            failed_job_ids: "[]".into(),
            options: Some("a:0:{}".into()),
            cancelled_at: None,
            created_at: 1_795_756_050,
            finished_at: None,
        };
        let v = serde_json::to_value(BatchView::from(&row)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"id":"i","name":"n","totalJobs":8,"pendingJobs":7,"processedJobs":1,"progress":13,
                "failedJobs":0,"options":[],"createdAt":"2026-11-27T05:07:30.000000Z","cancelledAt":null,"finishedAt":null})
        );
    }

    #[test]
    fn ordered_uuids_sort_by_time() {
        let a = ordered_uuid();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = ordered_uuid();
        assert!(a < b, "{a} {b}");
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 4);
    }
}

/// `cv-worker batches …`: artisan's batch commands and `Bus::findBatch()`.
pub mod cli {
    use clap::{Args, Subcommand};

    use super::{BatchPrune, BatchView};
    use crate::failed::cli::{print_json, print_table};
    use crate::store::Store;

    #[derive(Debug, Args)]
    pub struct BatchesArgs {
        /// Print JSON instead of a table (for scripts).
        #[arg(long, global = true)]
        pub json: bool,
        #[command(subcommand)]
        pub command: BatchesCommand,
    }

    #[derive(Debug, Subcommand)]
    pub enum BatchesCommand {
        /// List batches, newest first.
        List {
            #[arg(long, default_value_t = 50)]
            limit: i64,
            /// Only batches whose id sorts before this one (paging).
            #[arg(long)]
            before: Option<String>,
        },
        /// Show one batch (`Bus::findBatch($id)->toArray()` plus failedJobIds).
        Show { id: String },
        /// Cancel a batch: its remaining jobs are deleted without running.
        Cancel { id: String },
        /// Retry the batch's failed jobs (`queue:retry-batch`).
        Retry { id: String },
        /// Delete old batch records (`queue:prune-batches`).
        Prune {
            /// Finished batches older than this many hours.
            #[arg(long, default_value_t = 24)]
            hours: i64,
            /// Also unfinished batches created this many hours ago.
            #[arg(long)]
            unfinished: Option<i64>,
            /// Also cancelled batches created this many hours ago.
            #[arg(long)]
            cancelled: Option<i64>,
        },
    }

    fn row(b: &BatchView) -> Vec<String> {
        let status = if b.cancelled() {
            "cancelled"
        } else if b.finished() {
            "finished"
        } else {
            "pending"
        };
        vec![
            b.id.clone(),
            b.name.clone(),
            format!("{}/{}", b.processed_jobs, b.total_jobs),
            format!("{}%", b.progress),
            b.pending_jobs.to_string(),
            b.failed_jobs.to_string(),
            status.to_string(),
            b.created_at.clone(),
            b.finished_at.clone().unwrap_or_default(),
        ]
    }

    const HEADERS: [&str; 9] =
        ["ID", "Name", "Processed", "Progress", "Pending", "Failed", "Status", "Created At", "Finished At"];

    fn print_one(b: &BatchView, json: bool) -> anyhow::Result<()> {
        if json {
            return print_json(&b.with_failed_job_ids());
        }
        print_table(&HEADERS, &[row(b)]);
        if !b.failed_job_ids.is_empty() {
            println!("Failed job ids: {}", b.failed_job_ids.join(", "));
        }
        Ok(())
    }

    /// One entry of `cv-worker enqueue --batch-file`.
    #[derive(Debug, serde::Deserialize)]
    struct FileJob {
        class: String,
        #[serde(default)]
        data: serde_json::Map<String, serde_json::Value>,
        queue: Option<String>,
    }

    /// Reads a `--batch-file`: a JSON list of `{"class", "data", "queue"?}`.
    pub fn read_batch_file(path: &std::path::Path, queue: &str) -> anyhow::Result<Vec<crate::enqueue::Dispatch>> {
        use anyhow::Context as _;
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let jobs: Vec<FileJob> = serde_json::from_str(&text).map_err(|e| {
            crate::cli::ConfigError(format!(
                "{}: expected a JSON list of {{\"class\", \"data\", \"queue\"?}} objects: {e}",
                path.display()
            ))
        })?;
        if jobs.is_empty() || jobs.iter().any(|j| j.class.trim().is_empty()) {
            return Err(crate::cli::ConfigError(format!(
                "{}: the batch needs at least one job, and every job a class",
                path.display()
            ))
            .into());
        }
        Ok(jobs
            .into_iter()
            .map(|j| crate::enqueue::Dispatch {
                class: j.class,
                properties: j.data,
                queue: j.queue.filter(|q| !q.is_empty()).unwrap_or_else(|| queue.to_string()),
                ..Default::default()
            })
            .collect())
    }

    /// `cv-worker enqueue --batch`: creates the batch and prints it (`toArray()` plus `jobUuids`).
    pub async fn enqueue(
        store: &dyn Store,
        name: &str,
        queue: &str,
        allow_failures: bool,
        mut dispatches: Vec<crate::enqueue::Dispatch>,
    ) -> anyhow::Result<()> {
        let now = crate::worker::unix_now();
        let (batch, uuids) = super::create(store, name, Some(queue), allow_failures, &mut dispatches, now).await?;
        print_json(&super::WithExtra { batch: &batch, key: "jobUuids", extra: &uuids })
    }

    pub async fn run(store: &dyn Store, args: &BatchesArgs, now: i64) -> anyhow::Result<()> {
        let json = args.json;
        match &args.command {
            BatchesCommand::List { limit, before } => {
                let list = super::list(store, *limit, before.as_deref()).await?;
                if json {
                    return print_json(&list);
                }
                if list.is_empty() {
                    println!("No batches.");
                    return Ok(());
                }
                print_table(&HEADERS, &list.iter().map(row).collect::<Vec<_>>());
            }
            BatchesCommand::Show { id } => match super::find(store, id).await? {
                Some(b) => print_one(&b, json)?,
                None => anyhow::bail!("Unable to find a batch with ID [{id}]."),
            },
            BatchesCommand::Cancel { id } => {
                let b = super::cancel(store, id, now).await?;
                if !json {
                    println!("Batch [{id}] cancelled.");
                }
                print_one(&b, json)?;
            }
            BatchesCommand::Retry { id } => {
                let results = super::retry(store, id, now).await?;
                if json {
                    return print_json(&results);
                }
                for r in &results {
                    if r.retried {
                        println!("The failed job [{}] has been pushed back onto the queue!", r.id);
                    } else {
                        eprintln!("Unable to find failed job with ID [{}].", r.id);
                    }
                }
            }
            BatchesCommand::Prune { hours, unfinished, cancelled } => {
                let finished = super::prune(store, BatchPrune::Finished, *hours, now).await?;
                let unfinished = match unfinished {
                    Some(h) => Some(super::prune(store, BatchPrune::Unfinished, *h, now).await?),
                    None => None,
                };
                let cancelled = match cancelled {
                    Some(h) => Some(super::prune(store, BatchPrune::Cancelled, *h, now).await?),
                    None => None,
                };
                if json {
                    return print_json(
                        &serde_json::json!({"deleted": finished, "unfinished": unfinished, "cancelled": cancelled}),
                    );
                }
                println!("{finished} entries deleted!");
                if let Some(n) = unfinished {
                    println!("{n} unfinished entries deleted!");
                }
                if let Some(n) = cancelled {
                    println!("{n} cancelled entries deleted!");
                }
            }
        }
        Ok(())
    }
}
