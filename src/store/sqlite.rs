//! SQLite: the embedded default. SQLite has no row locks; Laravel relies on the database
//! lock. We take it up front with `BEGIN IMMEDIATE` (spec §10 item 4), run in WAL mode with a
//! busy timeout, and use `RETURNING` (SQLite ≥ 3.35, bundled) so reserve is one statement.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, QueryBuilder, Row, Sqlite};

use super::{BatchPrune, BatchRow, FailedJobRow, NewBatch};
use super::{
    CompleteReport, Completion, CompletionPlan, Dialect, NewJob, QueueSize, ReservedJob, Result, Store, exception_text,
    failed_at_string, padded_len, parse_cache_int, release_attempts, release_delay,
};
use crate::batches::{self, BatchEvents, BatchState};

pub struct SqliteStore {
    pool: SqlitePool,
}

/// SQLite's default limit on bound variables is 32766; 6 per row keeps us far below it.
const INSERT_CHUNK: usize = 1000;

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .log_statements(tracing::log::LevelFilter::Trace);
        let pool = SqlitePoolOptions::new().max_connections(max_connections.clamp(1, 8)).connect_with(options).await?;
        Ok(SqliteStore { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn push_keys(qb: &mut QueryBuilder<Sqlite>, keys: &[(i64, i64)]) {
    let n = padded_len(keys.len());
    qb.push("(id, reserved_at) IN (VALUES ");
    for i in 0..n {
        let (id, reserved_at) = keys[i.min(keys.len() - 1)];
        if i > 0 {
            qb.push(", ");
        }
        qb.push("(").push_bind(id).push(", ").push_bind(reserved_at).push(")");
    }
    qb.push(")");
}

#[async_trait]
impl Store for SqliteStore {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn max_attempts_value(&self) -> i64 {
        i64::MAX
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/sqlite").run(&self.pool).await?;
        Ok(())
    }

    async fn reserve(&self, queue: &str, limit: usize, now: i64, retry_after: i64) -> Result<Vec<ReservedJob>> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query(
            "UPDATE jobs SET reserved_at = ?1, attempts = attempts + 1 WHERE id IN (\
               SELECT id FROM jobs WHERE queue = ?2 AND \
               ((reserved_at IS NULL AND available_at <= ?1) OR reserved_at <= ?3) \
               ORDER BY id ASC LIMIT ?4) \
             RETURNING id, queue, payload, attempts",
        )
        .bind(now)
        .bind(queue)
        .bind(now - retry_after)
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut jobs = rows
            .into_iter()
            .map(|row| -> Result<ReservedJob> {
                Ok(ReservedJob {
                    id: row.try_get("id")?,
                    queue: row.try_get("queue")?,
                    payload: row.try_get::<String, _>("payload")?.into(),
                    attempts: row.try_get("attempts")?,
                    reserved_at: now,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    async fn complete(&self, batch: &[Completion], connection: &str, now: i64) -> Result<CompleteReport> {
        if batch.is_empty() {
            return Ok(CompleteReport::default());
        }
        let plan = CompletionPlan::new(batch);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut deleted = HashSet::new();
        for keys in plan.keys.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM jobs WHERE ");
            push_keys(&mut qb, keys);
            qb.push(" RETURNING id");
            for row in qb.build().fetch_all(&mut *tx).await? {
                deleted.insert(row.try_get::<i64, _>(0)?);
            }
        }

        let releases: Vec<&Completion> =
            plan.releases.iter().copied().filter(|c| deleted.contains(&c.job.id)).collect();
        for chunk in releases.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) ",
            );
            qb.push_values(chunk, |mut b, c| {
                b.push_bind(&c.job.queue)
                    .push_bind(release_attempts(c))
                    .push("NULL")
                    .push_bind(now + release_delay(&c.outcome))
                    .push_bind(now)
                    .push_bind(&*c.job.payload);
            });
            qb.build().persistent(false).execute(&mut *tx).await?;
        }

        let failures: Vec<&Completion> =
            plan.failures.iter().copied().filter(|c| deleted.contains(&c.job.id)).collect();
        let failed_at = failed_at_string(now);
        for chunk in failures.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO failed_jobs (uuid, connection, queue, payload, exception, failed_at) ",
            );
            qb.push_values(chunk, |mut b, c| {
                b.push_bind(&c.uuid)
                    .push_bind(connection)
                    .push_bind(&c.job.queue)
                    .push_bind(&*c.job.payload)
                    .push_bind(exception_text(&c.outcome))
                    .push_bind(&failed_at);
            });
            qb.push(
                " ON CONFLICT (uuid) DO UPDATE SET connection = excluded.connection, queue = excluded.queue, \
                 payload = excluded.payload, exception = excluded.exception, failed_at = excluded.failed_at",
            );
            qb.build().persistent(false).execute(&mut *tx).await?;
        }
        let batch_events = record_batches(&mut tx, batch, &deleted, now).await?;
        tx.commit().await?;
        crate::batches::log_events(&batch_events);
        let mut report = plan.report(batch, &deleted);
        report.batches_finished = batch_events.iter().filter(|e| e.finished).count();
        Ok(report)
    }

    async fn push(&self, jobs: &[NewJob], now: i64) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in jobs.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) ",
            );
            qb.push_values(chunk, |mut b, j| {
                b.push_bind(&j.queue)
                    .push("0")
                    .push("NULL")
                    .push_bind(j.available_at)
                    .push_bind(now)
                    .push_bind(&j.payload);
            });
            qb.build().persistent(false).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn clear_queue(&self, queue: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM jobs WHERE queue = ?").bind(queue).execute(&self.pool).await?.rows_affected())
    }

    async fn queue_size(&self, queue: &str, now: i64) -> Result<QueueSize> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(reserved_at IS NULL AND available_at <= ?2), 0) AS pending, \
               COALESCE(SUM(reserved_at IS NULL AND available_at > ?2), 0) AS delayed, \
               COALESCE(SUM(reserved_at IS NOT NULL), 0) AS reserved, \
               MIN(CASE WHEN reserved_at IS NULL AND available_at <= ?2 THEN available_at END) AS oldest \
             FROM jobs WHERE queue = ?1",
        )
        .bind(queue)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueSize {
            pending: row.try_get("pending")?,
            delayed: row.try_get("delayed")?,
            reserved: row.try_get("reserved")?,
            oldest_pending_available_at: row.try_get::<Option<i64>, _>("oldest")?,
        })
    }

    async fn queue_names(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT queue FROM jobs ORDER BY queue").fetch_all(&self.pool).await?)
    }

    async fn cache_get(&self, key: &str, now: i64) -> Result<Option<String>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM cache WHERE key = ? AND expiration > ?")
            .bind(key)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    async fn cache_increment(&self, key: &str, expiration: i64, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let current: Option<(String, i64)> = sqlx::query_as("SELECT value, expiration FROM cache WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        let (next, expiration) = match current {
            Some((value, exp)) if exp > now => (parse_cache_int(&value) + 1, exp),
            _ => (1, expiration),
        };
        sqlx::query(
            "INSERT INTO cache (key, value, expiration) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, expiration = excluded.expiration",
        )
        .bind(key)
        .bind(format!("i:{next};"))
        .bind(expiration)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    async fn cache_forget(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM cache WHERE key = ?").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    async fn cache_put(&self, key: &str, value: &str, expiration: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO cache (key, value, expiration) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, expiration = excluded.expiration",
        )
        .bind(key)
        .bind(value)
        .bind(expiration)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn batch_find(&self, id: &str) -> Result<Option<BatchRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{BATCH_SELECT} WHERE id = ?1 LIMIT 1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(batch_row).transpose()
    }

    async fn batch_list(&self, limit: i64, before: Option<&str>) -> Result<Vec<BatchRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{BATCH_SELECT} WHERE (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?1"
        )))
        .bind(limit)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_row).collect()
    }

    async fn batch_cancel(&self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE job_batches SET cancelled_at = ?2, finished_at = ?2 WHERE id = ?1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn batch_prune(&self, which: BatchPrune, before: i64) -> Result<u64> {
        let sql = match which {
            BatchPrune::Finished => {
                "DELETE FROM job_batches WHERE rowid IN (SELECT rowid FROM job_batches \
                 WHERE finished_at IS NOT NULL AND finished_at < ? LIMIT 1000)"
            }
            BatchPrune::Unfinished => {
                "DELETE FROM job_batches WHERE rowid IN (SELECT rowid FROM job_batches \
                 WHERE finished_at IS NULL AND created_at < ? LIMIT 1000)"
            }
            BatchPrune::Cancelled => {
                "DELETE FROM job_batches WHERE rowid IN (SELECT rowid FROM job_batches \
                 WHERE cancelled_at IS NOT NULL AND created_at < ? LIMIT 1000)"
            }
        };
        let mut total = 0;
        loop {
            let n = sqlx::query(sql).bind(before).execute(&self.pool).await?.rows_affected();
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    async fn batch_create(&self, batch: &NewBatch, jobs: &[NewJob], now: i64) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO job_batches (id, name, total_jobs, pending_jobs, failed_jobs, failed_job_ids, options, \
             created_at, cancelled_at, finished_at) VALUES (?1, ?2, ?3, ?3, 0, '[]', ?4, ?5, NULL, NULL)",
        )
        .bind(&batch.id)
        .bind(&batch.name)
        .bind(jobs.len() as i64)
        .bind(&batch.options)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_jobs(&mut tx, jobs, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn failed_list(&self) -> Result<Vec<FailedJobRow>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("{FAILED_SELECT} ORDER BY id DESC"))).fetch_all(&self.pool).await?;
        rows.iter().map(failed_row).collect()
    }

    async fn failed_find(&self, uuid: &str) -> Result<Option<FailedJobRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{FAILED_SELECT} WHERE uuid = ? LIMIT 1")))
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(failed_row).transpose()
    }

    async fn failed_forget(&self, uuid: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM failed_jobs WHERE uuid = ?").bind(uuid).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn failed_flush(&self, before: Option<&str>) -> Result<u64> {
        let done = match before {
            None => sqlx::query("DELETE FROM failed_jobs").execute(&self.pool).await?,
            Some(b) => sqlx::query("DELETE FROM failed_jobs WHERE failed_at <= ?").bind(b).execute(&self.pool).await?,
        };
        Ok(done.rows_affected())
    }

    async fn failed_prune(&self, before: &str) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = sqlx::query(
                "DELETE FROM failed_jobs WHERE rowid IN (SELECT rowid FROM failed_jobs WHERE failed_at < ? LIMIT 1000)",
            )
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected();
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    async fn failed_requeue(&self, jobs: &[(String, NewJob)], now: i64) -> Result<Vec<String>> {
        let mut requeued: Vec<String> = Vec::new();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for chunk in jobs.chunks(500) {
            let mut qb = QueryBuilder::<Sqlite>::new("DELETE FROM failed_jobs WHERE uuid IN (");
            let mut sep = qb.separated(", ");
            for (uuid, _) in chunk {
                sep.push_bind(uuid);
            }
            qb.push(") RETURNING uuid");
            let found: HashSet<String> = qb
                .build()
                .persistent(false)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<std::result::Result<_, _>>()?;
            let mut insert = Vec::new();
            for (uuid, job) in chunk {
                if found.contains(uuid) && !requeued.contains(uuid) {
                    requeued.push(uuid.clone());
                    insert.push(job.clone());
                }
            }
            insert_jobs(&mut tx, &insert, now).await?;
        }
        tx.commit().await?;
        Ok(requeued)
    }
}

const BATCH_SELECT: &str = "SELECT id, name, total_jobs, pending_jobs, failed_jobs, failed_job_ids, options, \
    cancelled_at, created_at, finished_at FROM job_batches";

const FAILED_SELECT: &str =
    "SELECT id, uuid, connection, queue, payload, exception, CAST(failed_at AS TEXT) AS failed_at FROM failed_jobs";

fn batch_row(row: &sqlx::sqlite::SqliteRow) -> Result<BatchRow> {
    Ok(BatchRow {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        total_jobs: row.try_get("total_jobs")?,
        pending_jobs: row.try_get("pending_jobs")?,
        failed_jobs: row.try_get("failed_jobs")?,
        failed_job_ids: row.try_get("failed_job_ids")?,
        options: row.try_get("options")?,
        cancelled_at: row.try_get("cancelled_at")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn failed_row(row: &sqlx::sqlite::SqliteRow) -> Result<FailedJobRow> {
    Ok(FailedJobRow {
        id: row.try_get("id")?,
        uuid: row.try_get("uuid")?,
        connection: row.try_get("connection")?,
        queue: row.try_get("queue")?,
        payload: row.try_get("payload")?,
        exception: row.try_get("exception")?,
        failed_at: row.try_get::<Option<String>, _>("failed_at")?.unwrap_or_default(),
    })
}

/// Laravel's bulk push, inside a transaction.
async fn insert_jobs(conn: &mut sqlx::SqliteConnection, jobs: &[NewJob], now: i64) -> Result<()> {
    for chunk in jobs.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) ",
        );
        qb.push_values(chunk, |mut b, j| {
            b.push_bind(&j.queue).push("0").push("NULL").push_bind(j.available_at).push_bind(now).push_bind(&j.payload);
        });
        qb.build().persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The batch counters of one completion transaction. The IMMEDIATE transaction already holds
/// the database lock: one read of the affected `job_batches` rows, one UPDATE per row.
async fn record_batches(
    conn: &mut sqlx::SqliteConnection,
    batch: &[Completion],
    deleted: &HashSet<i64>,
    now: i64,
) -> Result<Vec<BatchEvents>> {
    let effects = batches::effects(batch, deleted);
    if effects.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT id, pending_jobs, failed_jobs, failed_job_ids, options, cancelled_at, finished_at \
         FROM job_batches WHERE id IN (",
    );
    let mut sep = qb.separated(", ");
    for id in effects.keys() {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY id");
    let rows = qb.build().persistent(effects.len() == 1).fetch_all(&mut *conn).await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let Some(effects) = effects.get(id.as_str()) else { continue };
        let mut state = BatchState::from_locked(
            id,
            row.try_get("pending_jobs")?,
            row.try_get("failed_jobs")?,
            &row.try_get::<String, _>("failed_job_ids")?,
            row.try_get::<Option<String>, _>("options")?.as_deref(),
            row.try_get("cancelled_at")?,
            row.try_get("finished_at")?,
        );
        events.push(batches::apply(&mut state, effects, now));
        sqlx::query(
            "UPDATE job_batches SET pending_jobs = ?2, failed_jobs = ?3, failed_job_ids = ?4, cancelled_at = ?5, \
             finished_at = ?6 WHERE id = ?1",
        )
        .bind(&state.id)
        .bind(state.pending_jobs)
        .bind(state.failed_jobs)
        .bind(state.failed_job_ids_json())
        .bind(state.cancelled_at)
        .bind(state.finished_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(events)
}
