//! The CV Builder app's tables (`users`, `cvs`, `cv_versions`) and cv-worker's own
//! `generated_files`, as the CV job handlers need them (`../shared/spec/cv-jobs.md`).
//!
//! A second trait beside [`Store`](super::Store), implemented by the same dialect stores,
//! so the queue protocol and the app's data stay separate concepts. Timestamps come back as
//! ISO 8601 strings (`2026-11-27T10:00:00Z`); JSON columns as their text.

mod mysql;
mod postgres;
mod sqlite;

use async_trait::async_trait;

use super::Result;

/// A `cvs` row (soft-deleted rows are never returned).
#[derive(Debug, Clone, PartialEq)]
pub struct CvRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub title: String,
    /// `cvs.data`: the JSON Resume document, as stored.
    pub data: String,
    pub template: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

/// A `cv_versions` row.
#[derive(Debug, Clone, PartialEq)]
pub struct CvVersionRow {
    pub id: i64,
    pub cv_id: i64,
    pub reason: Option<String>,
    pub created_at: Option<String>,
    pub snapshot_json: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// A `generated_files` row to upsert (keyed by `job_uuid`: a job that runs twice overwrites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub job_uuid: String,
    pub user_id: Option<i64>,
    pub cv_id: Option<i64>,
    pub cv_version_id: Option<i64>,
    /// `cv_pdf`, `export_json`, `export_csv`, `export_zip`.
    pub kind: String,
    /// Relative to the storage root.
    pub path: String,
    pub bytes: i64,
    pub sha256: String,
    pub pages: Option<i32>,
}

/// A new CV, for seeding (`cv-worker demo`).
#[derive(Debug, Clone)]
pub struct NewCv {
    pub user_id: i64,
    pub title: String,
    pub data: String,
    pub template: String,
}

#[async_trait]
pub trait CvTables: Send + Sync {
    async fn user(&self, id: i64) -> Result<Option<UserRow>>;
    /// A CV that is not soft-deleted.
    async fn cv(&self, id: i64) -> Result<Option<CvRow>>;
    /// A version of a CV.
    async fn cv_version(&self, cv_id: i64, version_id: i64) -> Result<Option<CvVersionRow>>;
    /// Up to `limit` of a user's CVs (not soft-deleted) with `id > after`, by id: keyset
    /// pages, so an export streams in bounded memory.
    async fn user_cvs_page(&self, user_id: i64, after: i64, limit: i64) -> Result<Vec<CvRow>>;
    /// The versions of these CVs, by cv id then id.
    async fn versions_of(&self, cv_ids: &[i64]) -> Result<Vec<CvVersionRow>>;
    async fn upsert_generated_file(&self, file: &GeneratedFile, now: i64) -> Result<()>;
    async fn generated_file(&self, job_uuid: &str) -> Result<Option<GeneratedFile>>;
    /// Inserts a user (by email: an existing one is reused); returns its id.
    async fn ensure_user(&self, name: &str, email: &str, now: i64) -> Result<i64>;
    async fn insert_cv(&self, cv: &NewCv, now: i64) -> Result<i64>;
}

/// `(?, ?, …)`-free helper: the ids as a JSON array, for dialects that take arrays as JSON.
pub(crate) fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}
