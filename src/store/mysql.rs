//! MySQL and MariaDB: there is no `UPDATE … RETURNING`, so reserve is one transaction of
//! `SELECT … FOR UPDATE SKIP LOCKED` (MySQL ≥ 8.0.1, MariaDB ≥ 10.6; plain `FOR UPDATE`
//! before, exactly as Laravel's `getLockForPopping`) and one `UPDATE … WHERE id IN (…)`.
//! `IN` lists are padded to a power of two so the prepared-statement cache keeps a few
//! shapes. `attempts` is `tinyint unsigned`: it saturates at 255 instead of overflowing
//! (spec §13.5); the worker fails a job that reaches it.

use std::collections::HashSet;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{ConnectOptions, MySql, QueryBuilder, Row};

use super::{BatchPrune, BatchRow, FailedJobRow, NewBatch};
use super::{
    CompleteReport, Completion, CompletionPlan, Dialect, NewJob, QueueSize, ReservedJob, Result, Store, exception_text,
    failed_at_string, padded_len, parse_cache_int, release_attempts, release_delay,
};
use crate::batches::{self, BatchEvents, BatchState};

pub struct MySqlStore {
    pool: MySqlPool,
    skip_locked: bool,
}

/// Laravel's rule (spec §4.1): SKIP LOCKED on MySQL ≥ 8.0.1 and MariaDB ≥ 10.6.0; the
/// MariaDB version string may carry a `5.5.5-` replication prefix.
pub fn supports_skip_locked(version: &str) -> bool {
    let is_mariadb = version.to_ascii_lowercase().contains("mariadb");
    let version = version.strip_prefix("5.5.5-").unwrap_or(version);
    let numbers: Vec<u32> =
        version.split(|c: char| !c.is_ascii_digit()).take(3).map(|n| n.parse().unwrap_or(0)).collect();
    let v = (
        numbers.first().copied().unwrap_or(0),
        numbers.get(1).copied().unwrap_or(0),
        numbers.get(2).copied().unwrap_or(0),
    );
    if is_mariadb { v >= (10, 6, 0) } else { v >= (8, 0, 1) }
}

impl MySqlStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options =
            MySqlConnectOptions::from_str(url)?.charset("utf8mb4").log_statements(tracing::log::LevelFilter::Trace);
        let pool = MySqlPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(super::ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        let version: String = sqlx::query_scalar("SELECT VERSION()").fetch_one(&pool).await?;
        Ok(MySqlStore { pool, skip_locked: supports_skip_locked(&version) })
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }
}

/// `(?, ?, …)` for `n` padded ids.
fn push_ids(qb: &mut QueryBuilder<MySql>, ids: &[i64]) {
    let n = padded_len(ids.len());
    let mut sep = qb.separated(", ");
    for i in 0..n {
        sep.push_bind(ids[i.min(ids.len() - 1)]);
    }
    qb.push(")");
}

#[async_trait]
impl Store for MySqlStore {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn max_attempts_value(&self) -> i64 {
        255
    }

    async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/mysql").run(&self.pool).await?;
        Ok(())
    }

    async fn reserve(&self, queue: &str, limit: usize, now: i64, retry_after: i64) -> Result<Vec<ReservedJob>> {
        let select: &'static str = if self.skip_locked {
            "SELECT id, queue, payload, attempts FROM jobs WHERE queue = ? AND \
             ((reserved_at IS NULL AND available_at <= ?) OR reserved_at <= ?) \
             ORDER BY id ASC LIMIT ? FOR UPDATE SKIP LOCKED"
        } else {
            "SELECT id, queue, payload, attempts FROM jobs WHERE queue = ? AND \
             ((reserved_at IS NULL AND available_at <= ?) OR reserved_at <= ?) \
             ORDER BY id ASC LIMIT ? FOR UPDATE"
        };
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(select)
            .bind(queue)
            .bind(now)
            .bind(now - retry_after)
            .bind(limit as u64)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let jobs = rows
            .into_iter()
            .map(|row| -> Result<ReservedJob> {
                let attempts: u8 = row.try_get("attempts")?;
                Ok(ReservedJob {
                    id: row.try_get::<u64, _>("id")? as i64,
                    queue: row.try_get("queue")?,
                    payload: row.try_get::<String, _>("payload")?.into(),
                    attempts: (attempts as i64 + 1).min(255),
                    reserved_at: now,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        let mut qb = QueryBuilder::<MySql>::new("UPDATE jobs SET reserved_at = ");
        qb.push_bind(now).push(", attempts = LEAST(attempts + 1, 255) WHERE id IN (");
        push_ids(&mut qb, &ids);
        qb.build().execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(jobs)
    }

    async fn complete(&self, batch: &[Completion], connection: &str, now: i64) -> Result<CompleteReport> {
        if batch.is_empty() {
            return Ok(CompleteReport::default());
        }
        let plan = CompletionPlan::new(batch);
        let ids: Vec<i64> = plan.keys.iter().map(|&(id, _)| id).collect();
        let mut tx = self.pool.begin().await?;
        // Lock the rows that are still ours, then delete exactly those.
        let mut qb = QueryBuilder::<MySql>::new("SELECT id, reserved_at FROM jobs WHERE id IN (");
        push_ids(&mut qb, &ids);
        qb.push(" FOR UPDATE");
        let owned: HashSet<(i64, i64)> = plan.keys.iter().copied().collect();
        let mut deleted = HashSet::new();
        for row in qb.build().fetch_all(&mut *tx).await? {
            let id = row.try_get::<u64, _>("id")? as i64;
            let reserved_at = row.try_get::<Option<u32>, _>("reserved_at")?.map(i64::from);
            if reserved_at.is_some_and(|r| owned.contains(&(id, r))) {
                deleted.insert(id);
            }
        }
        if !deleted.is_empty() {
            let ids: Vec<i64> = deleted.iter().copied().collect();
            let mut qb = QueryBuilder::<MySql>::new("DELETE FROM jobs WHERE id IN (");
            push_ids(&mut qb, &ids);
            qb.build().execute(&mut *tx).await?;
        }

        let releases: Vec<&Completion> =
            plan.releases.iter().copied().filter(|c| deleted.contains(&c.job.id)).collect();
        if !releases.is_empty() {
            let mut qb = QueryBuilder::<MySql>::new(
                "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) ",
            );
            qb.push_values(&releases, |mut b, c| {
                b.push_bind(&c.job.queue)
                    .push_bind(release_attempts(c).min(255))
                    .push("NULL")
                    .push_bind(now + release_delay(&c.outcome))
                    .push_bind(now)
                    .push_bind(&*c.job.payload);
            });
            qb.build().persistent(false).execute(&mut *tx).await?;
        }

        let failures: Vec<&Completion> =
            plan.failures.iter().copied().filter(|c| deleted.contains(&c.job.id)).collect();
        if !failures.is_empty() {
            let failed_at = failed_at_string(now);
            let mut qb = QueryBuilder::<MySql>::new(
                "INSERT INTO failed_jobs (uuid, connection, queue, payload, exception, failed_at) ",
            );
            qb.push_values(&failures, |mut b, c| {
                b.push_bind(&c.uuid)
                    .push_bind(connection)
                    .push_bind(&c.job.queue)
                    .push_bind(&*c.job.payload)
                    .push_bind(exception_text(&c.outcome))
                    .push_bind(&failed_at);
            });
            qb.push(
                " ON DUPLICATE KEY UPDATE connection = VALUES(connection), queue = VALUES(queue), \
                 payload = VALUES(payload), exception = VALUES(exception), failed_at = VALUES(failed_at)",
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
        for chunk in jobs.chunks(500) {
            let mut qb = QueryBuilder::<MySql>::new(
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
            qb.build().persistent(false).execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn clear_queue(&self, queue: &str) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM jobs WHERE queue = ?").bind(queue).execute(&self.pool).await?.rows_affected())
    }

    async fn queue_size(&self, queue: &str, now: i64) -> Result<QueueSize> {
        let row = sqlx::query(
            "SELECT \
               CAST(COALESCE(SUM(reserved_at IS NULL AND available_at <= ?), 0) AS SIGNED) AS pending, \
               CAST(COALESCE(SUM(reserved_at IS NULL AND available_at > ?), 0) AS SIGNED) AS `delayed`, \
               CAST(COALESCE(SUM(reserved_at IS NOT NULL), 0) AS SIGNED) AS reserved, \
               CAST(MIN(CASE WHEN reserved_at IS NULL AND available_at <= ? THEN available_at END) AS SIGNED) AS oldest \
             FROM jobs WHERE queue = ?",
        )
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(queue)
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
        let value: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM cache WHERE `key` = ? AND expiration > ?")
            .bind(key)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    async fn cache_increment(&self, key: &str, expiration: i64, now: i64) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let current: Option<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT value, CAST(expiration AS SIGNED) FROM cache WHERE `key` = ? FOR UPDATE")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        let (next, expiration) = match current {
            Some((value, exp)) if exp > now => (parse_cache_int(&String::from_utf8_lossy(&value)) + 1, exp),
            _ => (1, expiration),
        };
        sqlx::query(
            "INSERT INTO cache (`key`, value, expiration) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE value = VALUES(value), expiration = VALUES(expiration)",
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
        sqlx::query("DELETE FROM cache WHERE `key` = ?").bind(key).execute(&self.pool).await?;
        Ok(())
    }

    async fn cache_put(&self, key: &str, value: &str, expiration: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO cache (`key`, value, expiration) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE value = VALUES(value), expiration = VALUES(expiration)",
        )
        .bind(key)
        .bind(value)
        .bind(expiration)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn batch_find(&self, id: &str) -> Result<Option<BatchRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{BATCH_SELECT} WHERE id = ? LIMIT 1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(batch_row).transpose()
    }

    async fn batch_list(&self, limit: i64, before: Option<&str>) -> Result<Vec<BatchRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{BATCH_SELECT} WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?"
        )))
        .bind(before)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_row).collect()
    }

    async fn batch_cancel(&self, id: &str, now: i64) -> Result<bool> {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM job_batches WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        if found.is_none() {
            return Ok(false);
        }
        // MySQL reports 0 affected rows when nothing changed; existence was checked above.
        sqlx::query("UPDATE job_batches SET cancelled_at = ?, finished_at = ? WHERE id = ?")
            .bind(now)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    async fn batch_prune(&self, which: BatchPrune, before: i64) -> Result<u64> {
        let sql = match which {
            BatchPrune::Finished => {
                "DELETE FROM job_batches WHERE finished_at IS NOT NULL AND finished_at < ? LIMIT 1000"
            }
            BatchPrune::Unfinished => "DELETE FROM job_batches WHERE finished_at IS NULL AND created_at < ? LIMIT 1000",
            BatchPrune::Cancelled => {
                "DELETE FROM job_batches WHERE cancelled_at IS NOT NULL AND created_at < ? LIMIT 1000"
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
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO job_batches (id, name, total_jobs, pending_jobs, failed_jobs, failed_job_ids, options, \
             created_at, cancelled_at, finished_at) VALUES (?, ?, ?, ?, 0, '[]', ?, ?, NULL, NULL)",
        )
        .bind(&batch.id)
        .bind(&batch.name)
        .bind(jobs.len() as i64)
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
            let n = sqlx::query("DELETE FROM failed_jobs WHERE failed_at < ? LIMIT 1000")
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
        let mut tx = self.pool.begin().await?;
        for chunk in jobs.chunks(500) {
            let mut qb = QueryBuilder::<MySql>::new("SELECT uuid FROM failed_jobs WHERE uuid IN (");
            let mut sep = qb.separated(", ");
            for (uuid, _) in chunk {
                sep.push_bind(uuid);
            }
            qb.push(") FOR UPDATE");
            let rows = qb.build().persistent(false).fetch_all(&mut *tx).await?;
            let mut found = HashSet::new();
            for row in &rows {
                found.insert(text(row, "uuid")?.unwrap_or_default());
            }
            if found.is_empty() {
                continue;
            }
            let mut qb = QueryBuilder::<MySql>::new("DELETE FROM failed_jobs WHERE uuid IN (");
            let mut sep = qb.separated(", ");
            for uuid in &found {
                sep.push_bind(uuid);
            }
            qb.push(")");
            qb.build().persistent(false).execute(&mut *tx).await?;
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

const BATCH_SELECT: &str = "SELECT id, name, CAST(total_jobs AS SIGNED) AS total_jobs, \
    CAST(pending_jobs AS SIGNED) AS pending_jobs, CAST(failed_jobs AS SIGNED) AS failed_jobs, failed_job_ids, options, \
    CAST(cancelled_at AS SIGNED) AS cancelled_at, CAST(created_at AS SIGNED) AS created_at, \
    CAST(finished_at AS SIGNED) AS finished_at FROM job_batches";

const FAILED_SELECT: &str = "SELECT CAST(id AS SIGNED) AS id, uuid, connection, queue, payload, exception, \
    DATE_FORMAT(failed_at, '%Y-%m-%d %H:%i:%s') AS failed_at FROM failed_jobs";

/// MySQL may hand TEXT back as bytes (binary collations, app-created tables): read either.
fn text(row: &sqlx::mysql::MySqlRow, column: &str) -> Result<Option<String>> {
    match row.try_get::<Option<String>, _>(column) {
        Ok(v) => Ok(v),
        Err(_) => Ok(row.try_get::<Option<Vec<u8>>, _>(column)?.map(|b| String::from_utf8_lossy(&b).into_owned())),
    }
}

fn batch_row(row: &sqlx::mysql::MySqlRow) -> Result<BatchRow> {
    Ok(BatchRow {
        id: text(row, "id")?.unwrap_or_default(),
        name: text(row, "name")?.unwrap_or_default(),
        total_jobs: row.try_get("total_jobs")?,
        pending_jobs: row.try_get("pending_jobs")?,
        failed_jobs: row.try_get("failed_jobs")?,
        failed_job_ids: text(row, "failed_job_ids")?.unwrap_or_default(),
        options: text(row, "options")?,
        cancelled_at: row.try_get("cancelled_at")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn failed_row(row: &sqlx::mysql::MySqlRow) -> Result<FailedJobRow> {
    Ok(FailedJobRow {
        id: row.try_get("id")?,
        uuid: text(row, "uuid")?.unwrap_or_default(),
        connection: text(row, "connection")?.unwrap_or_default(),
        queue: text(row, "queue")?.unwrap_or_default(),
        payload: text(row, "payload")?.unwrap_or_default(),
        exception: text(row, "exception")?.unwrap_or_default(),
        failed_at: text(row, "failed_at")?.unwrap_or_default(),
    })
}

/// Laravel's bulk push, inside a transaction.
async fn insert_jobs(conn: &mut sqlx::MySqlConnection, jobs: &[NewJob], now: i64) -> Result<()> {
    for chunk in jobs.chunks(500) {
        let mut qb = QueryBuilder::<MySql>::new(
            "INSERT INTO jobs (queue, attempts, reserved_at, available_at, created_at, payload) ",
        );
        qb.push_values(chunk, |mut b, j| {
            b.push_bind(&j.queue).push("0").push("NULL").push_bind(j.available_at).push_bind(now).push_bind(&j.payload);
        });
        qb.build().persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The batch counters of one completion transaction: one locked read of the affected
/// `job_batches` rows (in id order), one UPDATE per row (see `crate::batches`).
async fn record_batches(
    conn: &mut sqlx::MySqlConnection,
    batch: &[Completion],
    deleted: &HashSet<i64>,
    now: i64,
) -> Result<Vec<BatchEvents>> {
    let effects = batches::effects(batch, deleted);
    if effects.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<MySql>::new(
        "SELECT id, CAST(pending_jobs AS SIGNED) AS pending_jobs, CAST(failed_jobs AS SIGNED) AS failed_jobs, \
         failed_job_ids, options, CAST(cancelled_at AS SIGNED) AS cancelled_at, \
         CAST(finished_at AS SIGNED) AS finished_at FROM job_batches WHERE id IN (",
    );
    let mut sep = qb.separated(", ");
    for id in effects.keys() {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY id FOR UPDATE");
    let rows = qb.build().persistent(effects.len() == 1).fetch_all(&mut *conn).await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let id = text(&row, "id")?.unwrap_or_default();
        let Some(effects) = effects.get(id.as_str()) else { continue };
        let mut state = BatchState::from_locked(
            id,
            row.try_get("pending_jobs")?,
            row.try_get("failed_jobs")?,
            &text(&row, "failed_job_ids")?.unwrap_or_default(),
            text(&row, "options")?.as_deref(),
            row.try_get("cancelled_at")?,
            row.try_get("finished_at")?,
        );
        events.push(batches::apply(&mut state, effects, now));
        sqlx::query(
            "UPDATE job_batches SET pending_jobs = ?, failed_jobs = ?, failed_job_ids = ?, cancelled_at = ?, \
             finished_at = ? WHERE id = ?",
        )
        .bind(state.pending_jobs)
        .bind(state.failed_jobs)
        .bind(state.failed_job_ids_json())
        .bind(state.cancelled_at)
        .bind(state.finished_at)
        .bind(&state.id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::supports_skip_locked;

    #[test]
    fn skip_locked_follows_laravels_version_rules() {
        assert!(supports_skip_locked("8.0.1"));
        assert!(supports_skip_locked("8.4.2-log"));
        assert!(!supports_skip_locked("8.0.0"));
        assert!(!supports_skip_locked("5.7.44"));
        assert!(supports_skip_locked("10.11.19-MariaDB-0+deb12u1"));
        assert!(supports_skip_locked("5.5.5-10.6.0-MariaDB"));
        assert!(!supports_skip_locked("10.5.9-MariaDB"));
        assert!(!supports_skip_locked("5.5.5-10.4.1-MariaDB-log"));
    }
}
