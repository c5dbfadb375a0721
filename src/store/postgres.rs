//! PostgreSQL: reserve is ONE statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
//! LOCKED LIMIT n) RETURNING …`), completion binds arrays and `UNNEST`s them, so every
//! statement has one fixed text whatever the batch size.

use std::collections::HashSet;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Row};

use super::{BatchPrune, BatchRow, FailedJobRow, NewBatch};
use super::{
    CompleteReport, Completion, CompletionPlan, Dialect, NewJob, QueueSize, ReservedJob, Result, Store, exception_text,
    failed_at_string, parse_cache_int, release_attempts, release_delay,
};
use crate::batches::{self, BatchEvents, BatchState};

pub struct PgStore {
    pool: PgPool,
    /// `FOR UPDATE SKIP LOCKED` on 9.5+, `FOR UPDATE` before (spec §4.1).
    reserve_sql: &'static str,
}

const RESERVE_SKIP_LOCKED: &str = r#"
UPDATE jobs SET reserved_at = $1, attempts = LEAST(attempts + 1, 32767)
WHERE id IN (
    SELECT id FROM jobs
    WHERE queue = $2 AND ((reserved_at IS NULL AND available_at <= $1) OR reserved_at <= $3)
    ORDER BY id ASC LIMIT $4
    FOR UPDATE SKIP LOCKED)
RETURNING id, queue, payload, attempts"#;

const RESERVE_FOR_UPDATE: &str = r#"
UPDATE jobs SET reserved_at = $1, attempts = LEAST(attempts + 1, 32767)
WHERE id IN (
    SELECT id FROM jobs
    WHERE queue = $2 AND ((reserved_at IS NULL AND available_at <= $1) OR reserved_at <= $3)
    ORDER BY id ASC LIMIT $4
    FOR UPDATE)
RETURNING id, queue, payload, attempts"#;

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?.log_statements(tracing::log::LevelFilter::Trace);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(super::ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        let version: i32 =
            sqlx::query_scalar("SELECT current_setting('server_version_num')::int").fetch_one(&pool).await?;
        let reserve_sql = if version >= 90500 { RESERVE_SKIP_LOCKED } else { RESERVE_FOR_UPDATE };
        Ok(PgStore { pool, reserve_sql })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn max_attempts_value(&self) -> i64 {
        i16::MAX as i64
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    async fn reserve(&self, queue: &str, limit: usize, now: i64, retry_after: i64) -> Result<Vec<ReservedJob>> {
        let rows = sqlx::query(self.reserve_sql)
            .bind(now as i32)
            .bind(queue)
            .bind((now - retry_after) as i32)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        let mut jobs = rows
            .into_iter()
            .map(|row| -> Result<ReservedJob> {
                Ok(ReservedJob {
                    id: row.try_get("id")?,
                    queue: row.try_get("queue")?,
                    payload: row.try_get::<String, _>("payload")?.into(),
                    attempts: row.try_get::<i16, _>("attempts")? as i64,
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
        let (ids, reserved): (Vec<i64>, Vec<i32>) = plan.keys.iter().map(|&(id, r)| (id, r as i32)).unzip();
        let mut tx = self.pool.begin().await?;
        let deleted: HashSet<i64> = sqlx::query_scalar(
            "DELETE FROM jobs j USING UNNEST($1::bigint[], $2::int[]) AS t(id, reserved_at) \
             WHERE j.id = t.id AND j.reserved_at = t.reserved_at RETURNING j.id",
        )
        .bind(&ids)
        .bind(&reserved)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();

        let releases: Vec<&Completion> =
            plan.releases.iter().copied().filter(|c| deleted.contains(&c.job.id)).collect();
        if !releases.is_empty() {
            let queues: Vec<&str> = releases.iter().map(|c| c.job.queue.as_str()).collect();
            let attempts: Vec<i16> = releases.iter().map(|c| release_attempts(c).min(i16::MAX as i64) as i16).collect();
            let available: Vec<i32> = releases.iter().map(|c| (now + release_delay(&c.outcome)) as i32).collect();
            let payloads: Vec<&str> = releases.iter().map(|c| &*c.job.payload).collect();
            sqlx::query(
                "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) \
                 SELECT q, a, NULL, av, $5, p FROM UNNEST($1::varchar[], $2::smallint[], $3::int[], $4::text[]) \
                 WITH ORDINALITY AS t(q, a, av, p, n) ORDER BY n",
            )
            .bind(&queues)
            .bind(&attempts)
            .bind(&available)
            .bind(&payloads)
            .bind(now as i32)
            .execute(&mut *tx)
            .await?;
        }

        let failures: Vec<&Completion> =
            plan.failures.iter().copied().filter(|c| deleted.contains(&c.job.id)).collect();
        if !failures.is_empty() {
            let uuids: Vec<&str> = failures.iter().map(|c| c.uuid.as_str()).collect();
            let queues: Vec<&str> = failures.iter().map(|c| c.job.queue.as_str()).collect();
            let payloads: Vec<&str> = failures.iter().map(|c| &*c.job.payload).collect();
            let exceptions: Vec<&str> = failures.iter().map(|c| exception_text(&c.outcome)).collect();
            sqlx::query(
                "INSERT INTO failed_jobs (uuid, connection, queue, payload, exception, failed_at) \
                 SELECT u, $5, q, p, e, $6::timestamp FROM UNNEST($1::varchar[], $2::text[], $3::text[], $4::text[]) \
                 WITH ORDINALITY AS t(u, q, p, e, n) ORDER BY n \
                 ON CONFLICT (uuid) DO UPDATE SET connection = EXCLUDED.connection, queue = EXCLUDED.queue, \
                 payload = EXCLUDED.payload, exception = EXCLUDED.exception, failed_at = EXCLUDED.failed_at",
            )
            .bind(&uuids)
            .bind(&queues)
            .bind(&payloads)
            .bind(&exceptions)
            .bind(connection)
            .bind(failed_at_string(now))
            .execute(&mut *tx)
            .await?;
        }
        let batch_events = record_batches(&mut tx, batch, &deleted, now).await?;
        tx.commit().await?;
        crate::batches::log_events(&batch_events);
        let mut report = plan.report(batch, &deleted);
        report.batches_finished = batch_events.iter().filter(|e| e.finished).count();
        Ok(report)
    }

    async fn push(&self, jobs: &[NewJob], now: i64) -> Result<()> {
        if jobs.is_empty() {
            return Ok(());
        }
        let queues: Vec<&str> = jobs.iter().map(|j| j.queue.as_str()).collect();
        let available: Vec<i32> = jobs.iter().map(|j| j.available_at as i32).collect();
        let payloads: Vec<&str> = jobs.iter().map(|j| j.payload.as_str()).collect();
        sqlx::query(
            "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) \
             SELECT q, 0, NULL, av, $4, p FROM UNNEST($1::varchar[], $2::int[], $3::text[]) \
             WITH ORDINALITY AS t(q, av, p, n) ORDER BY n",
        )
        .bind(&queues)
        .bind(&available)
        .bind(&payloads)
        .bind(now as i32)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn clear_queue(&self, queue: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM jobs WHERE queue = $1").bind(queue).execute(&self.pool).await?.rows_affected())
    }

    async fn queue_size(&self, queue: &str, now: i64) -> Result<QueueSize> {
        let row = sqlx::query(
            "SELECT \
               COUNT(*) FILTER (WHERE reserved_at IS NULL AND available_at <= $2) AS pending, \
               COUNT(*) FILTER (WHERE reserved_at IS NULL AND available_at > $2) AS delayed, \
               COUNT(*) FILTER (WHERE reserved_at IS NOT NULL) AS reserved, \
               MIN(available_at) FILTER (WHERE reserved_at IS NULL AND available_at <= $2) AS oldest \
             FROM jobs WHERE queue = $1",
        )
        .bind(queue)
        .bind(now as i32)
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueSize {
            pending: row.try_get("pending")?,
            delayed: row.try_get("delayed")?,
            reserved: row.try_get("reserved")?,
            oldest_pending_available_at: row.try_get::<Option<i32>, _>("oldest")?.map(i64::from),
        })
    }

    async fn queue_names(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT DISTINCT queue FROM jobs ORDER BY queue").fetch_all(&self.pool).await?)
    }

    async fn cache_get(&self, key: &str, now: i64) -> Result<Option<String>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM cache WHERE key = $1 AND expiration > $2")
            .bind(key)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value.map(decode_cache_value))
    }

    async fn cache_increment(&self, key: &str, expiration: i64, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let current: Option<(String, i64)> =
            sqlx::query_as("SELECT value, expiration::bigint FROM cache WHERE key = $1 FOR UPDATE")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        let (next, expiration) = match current {
            Some((value, exp)) if exp > now => (parse_cache_int(&decode_cache_value(value)) + 1, exp),
            _ => (1, expiration),
        };
        sqlx::query(
            "INSERT INTO cache (key, value, expiration) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expiration = EXCLUDED.expiration",
        )
        .bind(key)
        .bind(format!("i:{next};"))
        .bind(expiration as i32)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    async fn cache_forget(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM cache WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    async fn cache_put(&self, key: &str, value: &str, expiration: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO cache (key, value, expiration) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expiration = EXCLUDED.expiration",
        )
        .bind(key)
        .bind(value)
        .bind(expiration.clamp(0, i32::MAX as i64) as i32)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn batch_find(&self, id: &str) -> Result<Option<BatchRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{BATCH_SELECT} WHERE id = $1 LIMIT 1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(batch_row).transpose()
    }

    async fn batch_list(&self, limit: i64, before: Option<&str>) -> Result<Vec<BatchRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{BATCH_SELECT} WHERE ($2::varchar IS NULL OR id < $2) ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_row).collect()
    }

    async fn batch_cancel(&self, id: &str, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE job_batches SET cancelled_at = $2, finished_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now as i32)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn batch_prune(&self, which: BatchPrune, before: i64) -> Result<u64> {
        let sql = match which {
            BatchPrune::Finished => {
                "DELETE FROM job_batches WHERE ctid IN (SELECT ctid FROM job_batches \
                 WHERE finished_at IS NOT NULL AND finished_at < $1 LIMIT 1000)"
            }
            BatchPrune::Unfinished => {
                "DELETE FROM job_batches WHERE ctid IN (SELECT ctid FROM job_batches \
                 WHERE finished_at IS NULL AND created_at < $1 LIMIT 1000)"
            }
            BatchPrune::Cancelled => {
                "DELETE FROM job_batches WHERE ctid IN (SELECT ctid FROM job_batches \
                 WHERE cancelled_at IS NOT NULL AND created_at < $1 LIMIT 1000)"
            }
        };
        let mut total = 0;
        loop {
            let n = sqlx::query(sql).bind(before as i32).execute(&self.pool).await?.rows_affected();
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }

    async fn batch_create(&self, batch: &NewBatch, jobs: &[NewJob], now: i64) -> Result<()> {
        use base64::Engine as _;
        let options = base64::engine::general_purpose::STANDARD.encode(batch.options.as_bytes());
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO job_batches (id, name, total_jobs, pending_jobs, failed_jobs, failed_job_ids, options, \
             created_at, cancelled_at, finished_at) VALUES ($1, $2, $3, $3, 0, '[]', $4, $5, NULL, NULL)",
        )
        .bind(&batch.id)
        .bind(&batch.name)
        .bind(jobs.len() as i32)
        .bind(options)
        .bind(now as i32)
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
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{FAILED_SELECT} WHERE uuid = $1 LIMIT 1")))
            .bind(uuid)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(failed_row).transpose()
    }

    async fn failed_forget(&self, uuid: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM failed_jobs WHERE uuid = $1").bind(uuid).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn failed_flush(&self, before: Option<&str>) -> Result<u64> {
        let done = match before {
            None => sqlx::query("DELETE FROM failed_jobs").execute(&self.pool).await?,
            Some(b) => {
                sqlx::query("DELETE FROM failed_jobs WHERE failed_at <= $1::timestamp")
                    .bind(b)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(done.rows_affected())
    }

    async fn failed_prune(&self, before: &str) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = sqlx::query(
                "DELETE FROM failed_jobs WHERE ctid IN (SELECT ctid FROM failed_jobs \
                 WHERE failed_at < $1::timestamp LIMIT 1000)",
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
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let uuids: Vec<&str> = jobs.iter().map(|(u, _)| u.as_str()).collect();
        let mut tx = self.pool.begin().await?;
        let gone: HashSet<String> =
            sqlx::query_scalar("DELETE FROM failed_jobs WHERE uuid = ANY($1::varchar[]) RETURNING uuid")
                .bind(&uuids)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        let mut requeued = Vec::new();
        let mut insert = Vec::new();
        for (uuid, job) in jobs {
            if gone.contains(uuid) && !requeued.contains(uuid) {
                requeued.push(uuid.clone());
                insert.push(job.clone());
            }
        }
        insert_jobs(&mut tx, &insert, now).await?;
        tx.commit().await?;
        Ok(requeued)
    }
}

const BATCH_SELECT: &str = "SELECT id, name, total_jobs::bigint AS total_jobs, pending_jobs::bigint AS pending_jobs, \
    failed_jobs::bigint AS failed_jobs, failed_job_ids, options, cancelled_at::bigint AS cancelled_at, \
    created_at::bigint AS created_at, finished_at::bigint AS finished_at FROM job_batches";

const FAILED_SELECT: &str = "SELECT id, uuid, connection, queue, payload, exception, \
    to_char(failed_at, 'YYYY-MM-DD HH24:MI:SS') AS failed_at FROM failed_jobs";

fn batch_row(row: &sqlx::postgres::PgRow) -> Result<BatchRow> {
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

fn failed_row(row: &sqlx::postgres::PgRow) -> Result<FailedJobRow> {
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
async fn insert_jobs(conn: &mut sqlx::PgConnection, jobs: &[NewJob], now: i64) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let queues: Vec<&str> = jobs.iter().map(|j| j.queue.as_str()).collect();
    let available: Vec<i32> = jobs.iter().map(|j| j.available_at as i32).collect();
    let payloads: Vec<&str> = jobs.iter().map(|j| j.payload.as_str()).collect();
    sqlx::query(
        "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) \
         SELECT q, 0, NULL, av, $4, p FROM UNNEST($1::varchar[], $2::int[], $3::text[]) \
         WITH ORDINALITY AS t(q, av, p, n) ORDER BY n",
    )
    .bind(&queues)
    .bind(&available)
    .bind(&payloads)
    .bind(now as i32)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The batch counters of one completion transaction: one locked read of the affected
/// `job_batches` rows (in id order), one UPDATE per row (see `crate::batches`).
async fn record_batches(
    conn: &mut sqlx::PgConnection,
    batch: &[Completion],
    deleted: &HashSet<i64>,
    now: i64,
) -> Result<Vec<BatchEvents>> {
    let effects = batches::effects(batch, deleted);
    if effects.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = effects.keys().copied().collect();
    let rows = sqlx::query(
        "SELECT id, pending_jobs::bigint AS pending_jobs, failed_jobs::bigint AS failed_jobs, failed_job_ids, options, \
         cancelled_at::bigint AS cancelled_at, finished_at::bigint AS finished_at \
         FROM job_batches WHERE id = ANY($1::varchar[]) ORDER BY id FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
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
            "UPDATE job_batches SET pending_jobs = $2, failed_jobs = $3, failed_job_ids = $4, cancelled_at = $5, \
             finished_at = $6 WHERE id = $1",
        )
        .bind(&state.id)
        .bind(state.pending_jobs as i32)
        .bind(state.failed_jobs as i32)
        .bind(state.failed_job_ids_json())
        .bind(state.cancelled_at.map(|t| t as i32))
        .bind(state.finished_at.map(|t| t as i32))
        .execute(&mut *conn)
        .await?;
    }
    Ok(events)
}

/// On PostgreSQL Laravel base64-encodes cache values that contain NUL bytes; a value with
/// neither `:` nor `;` is base64 (spec §9.1). Counters and flags never are, but be exact.
fn decode_cache_value(value: String) -> String {
    if value.contains(':') || value.contains(';') {
        return value;
    }
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(value.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or(value)
}
