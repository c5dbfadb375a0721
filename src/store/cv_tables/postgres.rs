//! `CvTables` on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{CvRow, CvTables, CvVersionRow, GeneratedFile, NewCv, UserRow};
use crate::store::postgres::PgStore;
use crate::store::{Result, failed_at_string};

const CV_COLUMNS: &str = "id, user_id, title, data::text AS data, template, \
    to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at, \
    to_char(updated_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated_at";

fn cv_row(row: &PgRow) -> Result<CvRow> {
    Ok(CvRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        title: row.try_get("title")?,
        data: row.try_get("data")?,
        template: row.try_get("template")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn version_row(row: &PgRow) -> Result<CvVersionRow> {
    Ok(CvVersionRow {
        id: row.try_get("id")?,
        cv_id: row.try_get("cv_id")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
        snapshot_json: row.try_get("snapshot_json")?,
    })
}

const VERSION_COLUMNS: &str = "id, cv_id, reason, snapshot_json::text AS snapshot_json, \
    to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at";

#[async_trait]
impl CvTables for PgStore {
    async fn user(&self, id: i64) -> Result<Option<UserRow>> {
        let row: Option<(i64, String, String)> = sqlx::query_as("SELECT id, name, email FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(id, name, email)| UserRow { id, name, email }))
    }

    async fn cv(&self, id: i64) -> Result<Option<CvRow>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {CV_COLUMNS} FROM cvs WHERE id = $1 AND deleted_at IS NULL"));
        sqlx::query(sql).bind(id).fetch_optional(self.pool()).await?.as_ref().map(cv_row).transpose()
    }

    async fn cv_version(&self, cv_id: i64, version_id: i64) -> Result<Option<CvVersionRow>> {
        let sql =
            sqlx::AssertSqlSafe(format!("SELECT {VERSION_COLUMNS} FROM cv_versions WHERE id = $1 AND cv_id = $2"));
        sqlx::query(sql)
            .bind(version_id)
            .bind(cv_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(version_row)
            .transpose()
    }

    async fn user_cvs_page(&self, user_id: i64, after: i64, limit: i64) -> Result<Vec<CvRow>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {CV_COLUMNS} FROM cvs WHERE user_id = $1 AND id > $2 AND deleted_at IS NULL ORDER BY id LIMIT $3"
        ));
        sqlx::query(sql)
            .bind(user_id)
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(cv_row)
            .collect()
    }

    async fn versions_of(&self, cv_ids: &[i64]) -> Result<Vec<CvVersionRow>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {VERSION_COLUMNS} FROM cv_versions WHERE cv_id = ANY($1) ORDER BY cv_id, id"
        ));
        sqlx::query(sql).bind(cv_ids).fetch_all(self.pool()).await?.iter().map(version_row).collect()
    }

    async fn upsert_generated_file(&self, f: &GeneratedFile, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO generated_files (job_uuid, user_id, cv_id, cv_version_id, kind, path, bytes, sha256, pages, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamp) \
             ON CONFLICT (job_uuid) DO UPDATE SET user_id = EXCLUDED.user_id, cv_id = EXCLUDED.cv_id, \
             cv_version_id = EXCLUDED.cv_version_id, kind = EXCLUDED.kind, path = EXCLUDED.path, bytes = EXCLUDED.bytes, \
             sha256 = EXCLUDED.sha256, pages = EXCLUDED.pages, created_at = EXCLUDED.created_at",
        )
        .bind(&f.job_uuid)
        .bind(f.user_id)
        .bind(f.cv_id)
        .bind(f.cv_version_id)
        .bind(&f.kind)
        .bind(&f.path)
        .bind(f.bytes)
        .bind(&f.sha256)
        .bind(f.pages)
        .bind(failed_at_string(now))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn generated_file(&self, job_uuid: &str) -> Result<Option<GeneratedFile>> {
        let row = sqlx::query(
            "SELECT job_uuid, user_id, cv_id, cv_version_id, kind, path, bytes, sha256, pages FROM generated_files WHERE job_uuid = $1",
        )
        .bind(job_uuid)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| -> Result<GeneratedFile> {
            Ok(GeneratedFile {
                job_uuid: r.try_get("job_uuid")?,
                user_id: r.try_get("user_id")?,
                cv_id: r.try_get("cv_id")?,
                cv_version_id: r.try_get("cv_version_id")?,
                kind: r.try_get("kind")?,
                path: r.try_get("path")?,
                bytes: r.try_get("bytes")?,
                sha256: r.try_get("sha256")?,
                pages: r.try_get("pages")?,
            })
        })
        .transpose()
    }

    async fn ensure_user(&self, name: &str, email: &str, now: i64) -> Result<i64> {
        let at = failed_at_string(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (name, email, password, created_at, updated_at) VALUES ($1, $2, '!', $3::timestamp, $3::timestamp) \
             ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        )
        .bind(name)
        .bind(email)
        .bind(at)
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }

    async fn insert_cv(&self, cv: &NewCv, now: i64) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO cvs (user_id, title, data, template, created_at, updated_at) \
             VALUES ($1, $2, $3::json, $4, $5::timestamp, $5::timestamp) RETURNING id",
        )
        .bind(cv.user_id)
        .bind(&cv.title)
        .bind(&cv.data)
        .bind(&cv.template)
        .bind(failed_at_string(now))
        .fetch_one(self.pool())
        .await?;
        Ok(id)
    }
}
