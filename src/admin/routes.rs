//! The `/api` handlers. Each one validates its input, calls the same library function the
//! CLI calls ([`crate::batches`], [`crate::failed`], the [`Store`](crate::store::Store)) and
//! shapes the answer; no rule about batches or failed jobs is implemented here.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::AdminState;
use super::error::ApiError;
use crate::batches::{self, BatchView};
use crate::failed::{self, FailedJobSummary, RetryResult, Selection};
use crate::worker::unix_now;

/// Page size when `limit` is not given, and the largest accepted.
const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;
/// The most ids `POST /api/failed-jobs/retry` accepts at once.
const MAX_RETRY_IDS: usize = 1000;
/// Batch rows read per round trip while filtering by status.
const SCAN_PAGE: i64 = 200;
/// Round trips one page of a filtered listing may take before it returns what it has.
const MAX_SCANS: usize = 50;

type ApiResult<T> = Result<T, ApiError>;

/// Batch ids are UUIDs, failed-job ids are the payload's uuid: accept 1–64 characters of
/// `[A-Za-z0-9_-]`, reject anything else before it reaches the database.
fn valid_id(kind: &str, id: &str) -> ApiResult<()> {
    if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("invalid {kind} id")))
    }
}

fn valid_queue(queue: &str) -> ApiResult<()> {
    if queue.is_empty() || queue.len() > 255 || queue.chars().any(char::is_control) {
        return Err(ApiError::bad_request("invalid queue name"));
    }
    Ok(())
}

fn limit(requested: Option<usize>) -> ApiResult<usize> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!("limit must be between 1 and {MAX_LIMIT}"))),
    }
}

/// Cursors are opaque to clients: `base64url("<kind>:<position>")`.
fn encode_cursor(kind: char, position: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

fn decode_cursor(kind: char, cursor: &str) -> ApiResult<String> {
    let invalid = || ApiError::bad_request("invalid cursor");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let position = text.strip_prefix(kind).and_then(|t| t.strip_prefix(':')).ok_or_else(invalid)?;
    Ok(position.to_string())
}

/// A page of a listing.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// batches

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    Pending,
    Finished,
    Cancelled,
    Failed,
}

impl BatchStatus {
    /// In the terms of `BatchView`'s own predicates (`finished()`, `cancelled()`, `has_failures()`).
    fn matches(self, b: &BatchView) -> bool {
        match self {
            BatchStatus::Pending => !b.finished() && !b.cancelled(),
            BatchStatus::Finished => b.finished() && !b.cancelled(),
            BatchStatus::Cancelled => b.cancelled(),
            BatchStatus::Failed => b.has_failures(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchListQuery {
    status: Option<BatchStatus>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/batches`: newest first, `toArray()` shape.
pub async fn list_batches(
    State(state): State<AdminState>,
    query: Result<Query<BatchListQuery>, QueryRejection>,
) -> ApiResult<Json<Page<BatchView>>> {
    let Query(query) = query?;
    let limit = limit(query.limit)?;
    let mut before = match &query.cursor {
        Some(c) => {
            let id = decode_cursor('b', c)?;
            valid_id("batch", &id).map_err(|_| ApiError::bad_request("invalid cursor"))?;
            Some(id)
        }
        None => None,
    };
    let store = &*state.store;
    let mut data: Vec<BatchView> = Vec::new();
    for _ in 0..MAX_SCANS {
        let rows = batches::list(store, SCAN_PAGE, before.as_deref()).await?;
        let exhausted = (rows.len() as i64) < SCAN_PAGE;
        for b in rows {
            before = Some(b.id.clone());
            if query.status.is_none_or(|s| s.matches(&b)) {
                if data.len() == limit {
                    // One more match exists: the page is full and there is a next one.
                    let last = data.last().map(|b| encode_cursor('b', &b.id));
                    return Ok(Json(Page { data, next_cursor: last }));
                }
                data.push(b);
            }
        }
        if exhausted {
            return Ok(Json(Page { data, next_cursor: None }));
        }
    }
    // Scanned enough for one request: continue from the last row read.
    let next_cursor = before.map(|id| encode_cursor('b', &id));
    Ok(Json(Page { data, next_cursor }))
}

/// `GET /api/batches/{id}`: `toArray()` plus `failedJobIds`.
pub async fn show_batch(
    State(state): State<AdminState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    valid_id("batch", &id)?;
    match batches::find(&*state.store, &id).await? {
        Some(b) => Ok(Json(b.with_failed_job_ids()).into_response()),
        None => Err(batches::BatchError::NotFound(id).into()),
    }
}

/// `POST /api/batches/{id}/cancel`.
pub async fn cancel_batch(
    State(state): State<AdminState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    valid_id("batch", &id)?;
    let b = batches::cancel(&*state.store, &id, unix_now()).await?;
    tracing::info!(batch = %id, "admin API: batch cancelled");
    Ok(Json(b.with_failed_job_ids()).into_response())
}

#[derive(Debug, Serialize)]
pub struct RetryResponse {
    pub results: Vec<RetryResult>,
}

/// `POST /api/batches/{id}/retry`: `queue:retry-batch`.
pub async fn retry_batch(
    State(state): State<AdminState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<RetryResponse>> {
    let Path(id) = id?;
    valid_id("batch", &id)?;
    let results = batches::retry(&*state.store, &id, unix_now()).await?;
    tracing::info!(batch = %id, jobs = results.len(), "admin API: batch retried");
    Ok(Json(RetryResponse { results }))
}

// ---------------------------------------------------------------------------------------------
// failed jobs

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailedListQuery {
    queue: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/failed-jobs`: `queue:failed`'s rows, newest first.
pub async fn list_failed(
    State(state): State<AdminState>,
    query: Result<Query<FailedListQuery>, QueryRejection>,
) -> ApiResult<Json<Page<FailedJobSummary>>> {
    let Query(query) = query?;
    let limit = limit(query.limit)?;
    if let Some(q) = &query.queue {
        valid_queue(q)?;
    }
    let before: Option<i64> = match &query.cursor {
        Some(c) => Some(decode_cursor('f', c)?.parse().map_err(|_| ApiError::bad_request("invalid cursor"))?),
        None => None,
    };
    // The store lists every row newest first (`order by id desc`), as `queue:failed` does;
    // the cursor is the `failed_jobs.id` of the last row of the previous page.
    let rows = state.store.failed_list().await?;
    let mut selected = rows
        .iter()
        .filter(|r| before.is_none_or(|b| r.id < b))
        .filter(|r| query.queue.as_ref().is_none_or(|q| &r.queue == q));
    let page: Vec<_> = selected.by_ref().take(limit).collect();
    let next_cursor = match (selected.next(), page.last()) {
        (Some(_), Some(last)) => Some(encode_cursor('f', &last.id.to_string())),
        _ => None,
    };
    Ok(Json(Page { data: page.into_iter().map(FailedJobSummary::from).collect(), next_cursor }))
}

/// One failed job with its payload decoded.
#[derive(Debug, Serialize)]
pub struct FailedJobDetail {
    pub id: i64,
    pub uuid: String,
    pub connection: String,
    pub queue: String,
    pub class: String,
    pub failed_at: String,
    /// The payload JSON, decoded (a string when it is not JSON).
    pub payload: serde_json::Value,
    pub exception: String,
}

/// `GET /api/failed-jobs/{uuid}`.
pub async fn show_failed(
    State(state): State<AdminState>,
    uuid: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<FailedJobDetail>> {
    let Path(uuid) = uuid?;
    valid_id("failed job", &uuid)?;
    let Some(row) = failed::show(&*state.store, &uuid).await? else {
        return Err(ApiError::not_found(format!("No failed job matches the given ID [{uuid}].")));
    };
    let payload = serde_json::from_str(&row.payload).unwrap_or_else(|_| serde_json::Value::String(row.payload.clone()));
    Ok(Json(FailedJobDetail {
        id: row.id,
        class: failed::class_name(&row.payload),
        uuid: row.uuid,
        connection: row.connection,
        queue: row.queue,
        failed_at: row.failed_at,
        payload,
        exception: row.exception,
    }))
}

/// `POST /api/failed-jobs/{uuid}/retry`: `queue:retry <uuid>`.
pub async fn retry_failed(
    State(state): State<AdminState>,
    uuid: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<RetryResult>> {
    let Path(uuid) = uuid?;
    valid_id("failed job", &uuid)?;
    let results = failed::retry(&*state.store, std::slice::from_ref(&uuid), unix_now()).await?;
    match results.into_iter().next() {
        Some(r) if r.retried => {
            tracing::info!(uuid = %uuid, "admin API: failed job retried");
            Ok(Json(r))
        }
        _ => Err(ApiError::not_found(format!("Unable to find failed job with ID [{uuid}]."))),
    }
}

/// The body of `POST /api/failed-jobs/retry`: exactly one of the three.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    #[serde(default, deserialize_with = "present")]
    all: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    queue: Option<String>,
    #[serde(default, deserialize_with = "present")]
    uuids: Option<Vec<String>>,
}

/// A field that may be absent but not `null`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl RetryRequest {
    fn selection(self) -> ApiResult<Selection> {
        match (self.all, self.queue, self.uuids) {
            (Some(true), None, None) => Ok(Selection::All),
            (None, Some(q), None) => {
                valid_queue(&q)?;
                Ok(Selection::Queue(q))
            }
            (None, None, Some(ids)) => {
                if ids.is_empty() || ids.len() > MAX_RETRY_IDS {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("uuids must list 1 to {MAX_RETRY_IDS} ids"),
                    ));
                }
                for id in &ids {
                    valid_id("failed job", id)?;
                }
                Ok(Selection::Ids(ids))
            }
            _ => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"expected exactly one of {"all": true}, {"queue": "..."} or {"uuids": [...]}"#,
            )),
        }
    }
}

/// `POST /api/failed-jobs/retry`: `queue:retry all | --queue=q | ids`.
pub async fn retry_many(
    State(state): State<AdminState>,
    body: Result<Json<RetryRequest>, JsonRejection>,
) -> ApiResult<Json<RetryResponse>> {
    let Json(body) = body?;
    let selection = body.selection()?;
    let store = &*state.store;
    let uuids = failed::resolve(store, &selection).await?;
    if let Selection::Queue(q) = &selection
        && uuids.is_empty()
    {
        return Err(ApiError::not_found(format!("Unable to find failed jobs for queue [{q}].")));
    }
    let results = failed::retry(store, &uuids, unix_now()).await?;
    tracing::info!(jobs = results.iter().filter(|r| r.retried).count(), "admin API: failed jobs retried");
    Ok(Json(RetryResponse { results }))
}

/// `DELETE /api/failed-jobs/{uuid}`: `queue:forget`.
pub async fn forget_failed(
    State(state): State<AdminState>,
    uuid: Result<Path<String>, PathRejection>,
) -> ApiResult<StatusCode> {
    let Path(uuid) = uuid?;
    valid_id("failed job", &uuid)?;
    if failed::forget(&*state.store, &uuid).await? {
        tracing::info!(uuid = %uuid, "admin API: failed job deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("No failed job matches the given ID."))
    }
}

// ---------------------------------------------------------------------------------------------
// queues

/// One queue, as `queue:monitor` shows it.
#[derive(Debug, Serialize)]
pub struct QueueView {
    pub name: String,
    pub pending: i64,
    pub delayed: i64,
    pub reserved: i64,
    /// Seconds the oldest pending job has been available; `null` when none is pending.
    pub oldest_pending_age_seconds: Option<i64>,
}

/// The queues the worker was started on, then every other queue that has rows.
pub(crate) async fn queue_views(state: &AdminState) -> ApiResult<Vec<QueueView>> {
    let mut names: Vec<String> = state.queues.iter().cloned().collect();
    for q in state.store.queue_names().await? {
        if !names.contains(&q) {
            names.push(q);
        }
    }
    let now = unix_now();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let size = state.store.queue_size(&name, now).await?;
        out.push(QueueView {
            name,
            pending: size.pending,
            delayed: size.delayed,
            reserved: size.reserved,
            oldest_pending_age_seconds: size.oldest_pending_available_at.map(|t| (now - t).max(0)),
        });
    }
    Ok(out)
}

/// `GET /api/queues`.
pub async fn list_queues(State(state): State<AdminState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(serde_json::json!({ "data": queue_views(&state).await? })))
}

// ---------------------------------------------------------------------------------------------
// health

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and the queue tables exist ([`crate::store::check_schema`]).
pub async fn readyz(State(state): State<AdminState>) -> Response {
    let store = &*state.store;
    match crate::store::check_schema(store).await {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readyz: database not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database unreachable or not migrated (run cv-worker migrate)",
            )
            .into_response()
        }
    }
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// Known paths, wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
}
