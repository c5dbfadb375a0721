//! PostgreSQL: reserve is ONE statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
//! LOCKED LIMIT n) RETURNING …`), completion binds arrays and `UNNEST`s them, so every
//! statement has one fixed text whatever the batch size.

use std::collections::HashSet;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Row};

use super::{
    CompleteReport, Completion, CompletionPlan, Dialect, NewJob, QueueSize, ReservedJob, Result, Store, exception_text,
    failed_at_string, parse_cache_int, release_delay,
};

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
        let pool = PgPoolOptions::new().max_connections(max_connections).connect_with(options).await?;
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
            let attempts: Vec<i16> = releases.iter().map(|c| c.job.attempts.min(i16::MAX as i64) as i16).collect();
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
        tx.commit().await?;
        Ok(plan.report(batch, &deleted))
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
               COUNT(*) FILTER (WHERE reserved_at IS NOT NULL) AS reserved \
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
        })
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
