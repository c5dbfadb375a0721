//! The store: every SQL statement cv-worker runs lives below this module.
//!
//! One [`Store`] trait, one implementation per dialect (`postgres`, `mysql`, `sqlite`),
//! in the manner of River's `riverdriver`: the worker, the CLI and the admin API call the
//! trait and never branch on the database. Each implementation reproduces Laravel's
//! database-queue semantics (`../shared/spec/laravel-queue.md` §4) with the fewest round
//! trips the dialect allows:
//!
//! * **reserve** claims up to `limit` rows of one queue in one transaction, with the same
//!   WHERE as Laravel (`reserved_at is null and available_at <= now`, or the `retry_after`
//!   reclaim branch), FIFO by id, `FOR UPDATE SKIP LOCKED` where the server supports it
//!   (plain `FOR UPDATE` where it does not, nothing on SQLite, which locks the database).
//! * **complete** writes a batch of outcomes (delete, release, fail) in one transaction:
//!   one DELETE for all of them, one multi-row INSERT for the releases and one for the
//!   failures. The DELETE is ownership-checked (`id` *and* the `reserved_at` we wrote), so a
//!   job whose reservation expired and was reclaimed by another worker is neither deleted
//!   twice nor re-inserted twice (spec §10 item 7).
//!
//! Times are Unix seconds from the daemon's clock, passed in by the caller (`now`), as
//! Laravel's are from PHP's `time()`; this also lets the conformance suite move time.

pub mod cv_tables;
pub mod mysql;
pub mod postgres;
pub mod sqlite;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;

pub use crate::batches::{BatchPrune, BatchRow, NewBatch};
pub use crate::failed::FailedJobRow;

/// The SQL dialect behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
            Dialect::Sqlite => "sqlite",
        })
    }
}

/// A row of `jobs` that this worker has reserved.
#[derive(Debug, Clone)]
pub struct ReservedJob {
    pub id: i64,
    /// The queue the job was popped from (a release re-inserts it there).
    pub queue: String,
    /// The raw payload string, never re-encoded.
    pub payload: Arc<str>,
    /// The post-increment attempts value, as Laravel's `attempts()` sees it (1 on the first run).
    pub attempts: i64,
    /// The `reserved_at` we wrote; completion is conditional on it still being ours.
    pub reserved_at: i64,
}

/// What to do with a reserved job once it has run.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Success (or a quiet delete): remove the row.
    Delete,
    /// Delete and re-insert with `available_at = now + delay`, attempts carried.
    Release { delay: i64 },
    /// Delete and record in `failed_jobs`.
    Fail { exception: String },
    /// Not finished (shutdown grace ran out): delete and re-insert available now with the
    /// attempts it had before this reservation, so the interrupted run does not count.
    Abandon,
}

/// A finished job and what to write for it.
#[derive(Debug, Clone)]
pub struct Completion {
    pub job: ReservedJob,
    /// `payload.uuid`, or a fresh UUID when the payload had none (failed_jobs.uuid is unique and required).
    pub uuid: String,
    pub outcome: Outcome,
    /// The Laravel batch the job belongs to (`Command::batch_id`): its `job_batches` counters
    /// are updated in the same transaction (see [`crate::batches`]).
    pub batch_id: Option<String>,
}

/// What [`Store::complete`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CompleteReport {
    pub deleted: usize,
    pub released: usize,
    pub failed: usize,
    /// Completions skipped because the row was no longer ours (reclaimed after `retry_after`).
    pub lost: usize,
    /// Batches whose `pending_jobs` reached 0 in this transaction (`finished_at` set).
    pub batches_finished: usize,
}

/// A job to insert (enqueue, retry).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub queue: String,
    pub payload: String,
    pub available_at: i64,
}

/// Counts of one queue, as `queue:monitor` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSize {
    pub pending: i64,
    pub delayed: i64,
    pub reserved: i64,
    /// `available_at` of the oldest pending job (the admin API shows its age); `None` when
    /// nothing is pending.
    pub oldest_pending_available_at: Option<i64>,
}

/// Errors from the store. Everything is a database error in the end, but the worker needs to
/// know which are worth retrying.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid database URL: {0}")]
    Url(String),
}

impl StoreError {
    /// Deadlocks, serialization failures and SQLite's busy/locked: retry the transaction.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => {
                let code = e.code();
                matches!(
                    code.as_deref(),
                    Some("40001")
                        | Some("40P01")
                        | Some("1213")
                        | Some("1205")
                        | Some("5")
                        | Some("6")
                        | Some("517")
                        | Some("261")
                        | Some("262")
                )
            }
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => true,
            _ => false,
        }
    }
}

impl StoreError {
    /// A conflict between transactions (deadlock, serialization failure, lock timeout, SQLite
    /// busy): retry at once. Unlike [`StoreError::is_retryable`], a broken or refused
    /// connection is not a conflict but an outage, retried with backoff.
    pub fn is_conflict(&self) -> bool {
        self.is_retryable() && !matches!(self, StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)))
    }
}

/// How long a query waits for a pooled connection (sqlx retries a refused connection
/// meanwhile) before failing with `PoolTimedOut`: short enough that the worker loop reports
/// an outage and keeps feeding systemd's watchdog (`WatchdogSec=30`), long enough to ride
/// out a database restart and pool contention under load.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database operations cv-worker needs, one implementation per dialect.
#[async_trait]
pub trait Store: cv_tables::CvTables + Send + Sync + 'static {
    fn dialect(&self) -> Dialect;

    /// The largest value `jobs.attempts` can hold (MySQL `tinyint unsigned`: 255,
    /// PostgreSQL `smallint`: 32767). A job reserved at this value is failed instead of run.
    fn max_attempts_value(&self) -> i64;

    /// Creates the Laravel and CV Builder tables that are missing; never alters existing ones.
    async fn migrate(&self) -> Result<()>;

    /// Claims up to `limit` available jobs of `queue` (FIFO by id) in one transaction.
    async fn reserve(&self, queue: &str, limit: usize, now: i64, retry_after: i64) -> Result<Vec<ReservedJob>>;

    /// Writes a batch of outcomes in one transaction. `connection` is the Laravel connection
    /// name for `failed_jobs.connection`.
    async fn complete(&self, batch: &[Completion], connection: &str, now: i64) -> Result<CompleteReport>;

    /// Inserts jobs as Laravel's push/bulk does (`attempts` 0, `reserved_at` NULL, `created_at` now).
    async fn push(&self, jobs: &[NewJob], now: i64) -> Result<()>;

    /// Deletes every job of a queue, reserved or not (`queue:clear`); returns how many.
    async fn clear_queue(&self, queue: &str) -> Result<u64>;

    /// Per queue pending / delayed / reserved counts.
    async fn queue_size(&self, queue: &str, now: i64) -> Result<QueueSize>;

    /// The distinct queue names that have rows in `jobs`, sorted.
    async fn queue_names(&self) -> Result<Vec<String>>;

    /// Reads a cache value (`key` already prefixed); expired rows read as missing.
    async fn cache_get(&self, key: &str, now: i64) -> Result<Option<String>>;

    /// Increments an integer cache counter (PHP-serialized `i:N;`), creating it with
    /// `expiration` when missing or expired; returns the new value. Used for `maxExceptions`.
    async fn cache_increment(&self, key: &str, expiration: i64, now: i64) -> Result<i64>;

    /// Deletes a cache key.
    async fn cache_forget(&self, key: &str) -> Result<()>;

    /// Writes a cache value (`key` already prefixed; `value` PHP-serialized) with an absolute
    /// `expiration` (Unix seconds), as Laravel's database cache `put`/`forever` do (upsert).
    async fn cache_put(&self, key: &str, value: &str, expiration: i64) -> Result<()>;

    // --- job_batches (spec §8; the logic is in `crate::batches`) ---

    /// `select * from job_batches where id = ? limit 1`.
    async fn batch_find(&self, id: &str) -> Result<Option<BatchRow>>;

    /// Newest first (by id), at most `limit`, optionally only ids `< before`.
    async fn batch_list(&self, limit: i64, before: Option<&str>) -> Result<Vec<BatchRow>>;

    /// `cancelled_at` = `finished_at` = `now`; false when there is no such batch.
    async fn batch_cancel(&self, id: &str, now: i64) -> Result<bool>;

    /// Deletes, in chunks of 1000 until none are left, the batches `which` selects with a time
    /// `< before`; returns how many.
    async fn batch_prune(&self, which: BatchPrune, before: i64) -> Result<u64>;

    /// Inserts the batch row and its jobs in one transaction (`total_jobs` = `pending_jobs` =
    /// `jobs.len()`).
    async fn batch_create(&self, batch: &NewBatch, jobs: &[NewJob], now: i64) -> Result<()>;

    // --- failed_jobs (spec §7; the logic is in `crate::failed`) ---

    /// Every row, newest first (`order by id desc`).
    async fn failed_list(&self) -> Result<Vec<FailedJobRow>>;

    /// The row with this uuid.
    async fn failed_find(&self, uuid: &str) -> Result<Option<FailedJobRow>>;

    /// Deletes the row with this uuid; false when there was none.
    async fn failed_forget(&self, uuid: &str) -> Result<bool>;

    /// Deletes every row, or those with `failed_at <= before` (`YYYY-MM-DD HH:MM:SS`).
    async fn failed_flush(&self, before: Option<&str>) -> Result<u64>;

    /// Deletes rows with `failed_at < before`, in chunks of 1000.
    async fn failed_prune(&self, before: &str) -> Result<u64>;

    /// In one transaction: deletes each failed row by uuid and, only if it was there, inserts
    /// its job (attempts 0). Returns the uuids that were re-queued.
    async fn failed_requeue(&self, jobs: &[(String, NewJob)], now: i64) -> Result<Vec<String>>;
}

/// Is the schema there? The database answers and the queue tables exist (`jobs`,
/// `job_batches`, `failed_jobs`, `cache`). Used by `/readyz` and before the worker tells
/// systemd it is ready.
pub async fn check_schema(store: &dyn Store) -> Result<()> {
    store.queue_names().await?;
    store.batch_list(1, None).await?;
    store.failed_find("cv-worker-schema-check").await?;
    store.cache_get("cv-worker-schema-check", 0).await?;
    Ok(())
}

/// Where the database is, parsed from `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub dialect: Dialect,
    pub url: String,
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        let dialect = match scheme {
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            "sqlite" => Dialect::Sqlite,
            _ => {
                return Err(StoreError::Url(format!(
                    "{}: expected postgres://, mysql:// or sqlite://",
                    redact_url(url)
                )));
            }
        };
        let url = if scheme == "mariadb" { url.replacen("mariadb", "mysql", 1) } else { url.to_string() };
        Ok(DatabaseUrl { dialect, url })
    }
}

/// The URL with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

/// Connects to the database named by `url` with a pool of `max_connections`.
pub async fn connect(url: &DatabaseUrl, max_connections: u32) -> Result<Arc<dyn Store>> {
    Ok(match url.dialect {
        Dialect::Postgres => Arc::new(postgres::PgStore::connect(&url.url, max_connections).await?),
        Dialect::Mysql => Arc::new(mysql::MySqlStore::connect(&url.url, max_connections).await?),
        Dialect::Sqlite => Arc::new(sqlite::SqliteStore::connect(&url.url, max_connections).await?),
    })
}

/// `failed_jobs.failed_at` as Laravel writes it: `YYYY-MM-DD HH:MM:SS` in UTC (the default app timezone).
pub fn failed_at_string(now: i64) -> String {
    chrono::DateTime::from_timestamp(now, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Splits completions into what each statement needs. Shared by the dialects so the rules
/// (which rows to delete, which to re-insert, which to record as failed) live in one place.
pub(crate) struct CompletionPlan<'a> {
    /// `(id, reserved_at)` of every completion: all of them delete their row first.
    pub keys: Vec<(i64, i64)>,
    pub releases: Vec<&'a Completion>,
    pub failures: Vec<&'a Completion>,
}

impl<'a> CompletionPlan<'a> {
    pub fn new(batch: &'a [Completion]) -> Self {
        let keys = batch.iter().map(|c| (c.job.id, c.job.reserved_at)).collect();
        let releases =
            batch.iter().filter(|c| matches!(c.outcome, Outcome::Release { .. } | Outcome::Abandon)).collect();
        let failures = batch.iter().filter(|c| matches!(c.outcome, Outcome::Fail { .. })).collect();
        CompletionPlan { keys, releases, failures }
    }

    /// The report once the DELETE has told us which ids were still ours.
    pub fn report(&self, batch: &[Completion], deleted: &std::collections::HashSet<i64>) -> CompleteReport {
        let mut report = CompleteReport::default();
        for c in batch {
            if !deleted.contains(&c.job.id) {
                report.lost += 1;
                continue;
            }
            match c.outcome {
                Outcome::Delete => report.deleted += 1,
                Outcome::Release { .. } | Outcome::Abandon => report.released += 1,
                Outcome::Fail { .. } => report.failed += 1,
            }
        }
        report
    }
}

/// Pads a list to the next power of two by repeating its last element, so that statements
/// with `IN (…)` lists take only a handful of distinct shapes (the prepared-statement cache
/// stays small). Duplicates in an IN list change nothing.
pub(crate) fn padded_len(n: usize) -> usize {
    n.max(1).next_power_of_two()
}

pub(crate) fn release_delay(outcome: &Outcome) -> i64 {
    match outcome {
        Outcome::Release { delay } => (*delay).max(0),
        _ => 0,
    }
}

/// The `attempts` a released row is re-inserted with: carried as is, except for an abandoned
/// job, whose interrupted run is not counted.
pub(crate) fn release_attempts(c: &Completion) -> i64 {
    match c.outcome {
        Outcome::Abandon => (c.job.attempts - 1).max(0),
        _ => c.job.attempts,
    }
}

pub(crate) fn exception_text(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Fail { exception } => exception,
        _ => "",
    }
}

/// The PHP-serialized integer stored in a cache counter (`i:3;`); anything else reads as 0.
pub(crate) fn parse_cache_int(value: &str) -> i64 {
    value.strip_prefix("i:").and_then(|v| v.strip_suffix(';')).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_per_dialect() {
        assert_eq!(DatabaseUrl::from_str("postgres://root@127.0.0.1/test").unwrap().dialect, Dialect::Postgres);
        assert_eq!(
            DatabaseUrl::from_str("postgresql://u@/db?host=/var/run/postgresql").unwrap().dialect,
            Dialect::Postgres
        );
        let m = DatabaseUrl::from_str("mariadb://root@localhost/test?socket=/run/mysqld/mysqld.sock").unwrap();
        assert_eq!(m.dialect, Dialect::Mysql);
        assert!(m.url.starts_with("mysql://"));
        assert_eq!(DatabaseUrl::from_str("sqlite://cv.sqlite").unwrap().dialect, Dialect::Sqlite);
        let err = DatabaseUrl::from_str("redis://u:secret@h/0").unwrap_err().to_string();
        assert!(err.contains("expected postgres://"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn failed_at_matches_laravel_format() {
        assert_eq!(failed_at_string(1_795_756_029), "2026-11-27 05:07:09");
    }

    #[test]
    fn cache_ints() {
        assert_eq!(parse_cache_int("i:3;"), 3);
        assert_eq!(parse_cache_int("garbage"), 0);
    }

    #[test]
    fn padding_is_a_power_of_two() {
        assert_eq!(padded_len(0), 1);
        assert_eq!(padded_len(3), 4);
        assert_eq!(padded_len(64), 64);
        assert_eq!(padded_len(65), 128);
    }
}
