//! `CvTables` on MySQL / MariaDB (ids are `bigint unsigned`: cast to signed in SQL).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, QueryBuilder};

use super::{CvRow, CvTables, CvVersionRow, GeneratedFile, NewCv, UserRow};
use crate::store::mysql::MySqlStore;
use crate::store::{Result, failed_at_string};

const CV_COLUMNS: &str = "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, title, \
    CAST(data AS CHAR) AS data, template, \
    DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') AS created_at, \
    DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%sZ') AS updated_at";

fn cv_row(row: &MySqlRow) -> Result<CvRow> {
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

fn version_row(row: &MySqlRow) -> Result<CvVersionRow> {
    Ok(CvVersionRow {
        id: row.try_get("id")?,
        cv_id: row.try_get("cv_id")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
        snapshot_json: row.try_get("snapshot_json")?,
    })
}

const VERSION_COLUMNS: &str = "CAST(id AS SIGNED) AS id, CAST(cv_id AS SIGNED) AS cv_id, reason, \
    CAST(snapshot_json AS CHAR) AS snapshot_json, DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%sZ') AS created_at";

#[async_trait]
impl CvTables for MySqlStore {
    async fn user(&self, id: i64) -> Result<Option<UserRow>> {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT CAST(id AS SIGNED), name, email FROM users WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(id, name, email)| UserRow { id, name, email }))
    }

    async fn cv(&self, id: i64) -> Result<Option<CvRow>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {CV_COLUMNS} FROM cvs WHERE id = ? AND deleted_at IS NULL"));
        sqlx::query(sql).bind(id).fetch_optional(self.pool()).await?.as_ref().map(cv_row).transpose()
    }

    async fn cv_version(&self, cv_id: i64, version_id: i64) -> Result<Option<CvVersionRow>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {VERSION_COLUMNS} FROM cv_versions WHERE id = ? AND cv_id = ?"));
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
            "SELECT {CV_COLUMNS} FROM cvs WHERE user_id = ? AND id > ? AND deleted_at IS NULL ORDER BY id LIMIT ?"
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
        if cv_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<MySql>::new(format!("SELECT {VERSION_COLUMNS} FROM cv_versions WHERE cv_id IN ("));
        let mut ids = qb.separated(", ");
        for id in cv_ids {
            ids.push_bind(*id);
        }
        qb.push(") ORDER BY cv_id, id");
        qb.build().persistent(false).fetch_all(self.pool()).await?.iter().map(version_row).collect()
    }

    async fn upsert_generated_file(&self, f: &GeneratedFile, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO generated_files (job_uuid, user_id, cv_id, cv_version_id, kind, path, bytes, sha256, pages, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE user_id = VALUES(user_id), cv_id = VALUES(cv_id), \
             cv_version_id = VALUES(cv_version_id), kind = VALUES(kind), path = VALUES(path), bytes = VALUES(bytes), \
             sha256 = VALUES(sha256), pages = VALUES(pages), created_at = VALUES(created_at)",
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
            "SELECT job_uuid, CAST(user_id AS SIGNED) AS user_id, CAST(cv_id AS SIGNED) AS cv_id, CAST(cv_version_id AS SIGNED) AS cv_version_id, \
             kind, path, bytes, sha256, pages FROM generated_files WHERE job_uuid = ?",
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
        sqlx::query(
            "INSERT INTO users (name, email, password, created_at, updated_at) VALUES (?, ?, '!', ?, ?) \
             ON DUPLICATE KEY UPDATE name = VALUES(name)",
        )
        .bind(name)
        .bind(email)
        .bind(&at)
        .bind(&at)
        .execute(self.pool())
        .await?;
        let id: i64 = sqlx::query_scalar("SELECT CAST(id AS SIGNED) FROM users WHERE email = ?")
            .bind(email)
            .fetch_one(self.pool())
            .await?;
        Ok(id)
    }

    async fn insert_cv(&self, cv: &NewCv, now: i64) -> Result<i64> {
        let at = failed_at_string(now);
        let done = sqlx::query(
            "INSERT INTO cvs (user_id, title, data, template, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(cv.user_id)
        .bind(&cv.title)
        .bind(&cv.data)
        .bind(&cv.template)
        .bind(&at)
        .bind(&at)
        .execute(self.pool())
        .await?;
        Ok(done.last_insert_id() as i64)
    }
}
