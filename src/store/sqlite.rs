//! SQLite: the embedded default. SQLite has no row locks; Laravel relies on the database
//! lock. We take it up front with `BEGIN IMMEDIATE` (spec §10 item 4), run in WAL mode with a
//! busy timeout, and use `RETURNING` (SQLite ≥ 3.35, bundled) so reserve is one statement.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, QueryBuilder, Row, Sqlite};

use super::{
    CompleteReport, Completion, CompletionPlan, Dialect, NewJob, QueueSize, ReservedJob, Result, Store, exception_text,
    failed_at_string, padded_len, parse_cache_int, release_delay,
};

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
                    .push_bind(c.job.attempts)
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
        tx.commit().await?;
        Ok(plan.report(batch, &deleted))
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
               COALESCE(SUM(reserved_at IS NOT NULL), 0) AS reserved \
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
        })
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
}
