//! The admin HTTP API against a real database on each dialect: every route, auth failures and
//! bad input. Requests go through the router with `tower::ServiceExt::oneshot` (no socket),
//! except `work_serves_the_admin_api_on_a_real_listener`, which binds 127.0.0.1:0.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{TestDb, payload};
use cv_worker::admin::{self, AdminState};
use cv_worker::handlers::{HandlerOutcome, Registry};
use cv_worker::protocol::exception::JobError;
use cv_worker::protocol::policy::WorkerDefaults;
use cv_worker::store::{Completion, Dialect, NewJob, Outcome};
use cv_worker::worker::{self, WorkerOptions, unix_now};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

macro_rules! per_dialect {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Mysql).await } )* }
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Sqlite).await } )* }
    };
}

per_dialect!(
    health_and_readiness,
    api_requires_the_bearer_token,
    batches_list_filters_and_pages,
    batch_show_cancel_and_retry,
    failed_jobs_list_show_retry_and_delete,
    failed_jobs_bulk_retry_and_bad_bodies,
    queues_report_depths_and_oldest_age,
    metrics_count_the_jobs_worked,
    unknown_routes_and_methods_are_json_errors,
);

const TOKEN: &str = "s3cret-admin-token";
const CLASS: &str = "App\\Jobs\\Probe";

fn app(db: &TestDb) -> Router {
    let mut state = AdminState::new(db.store.clone(), Some(TOKEN), &["default".to_string()]);
    if let Some(handle) = admin::metrics::install() {
        state = state.with_metrics(handle);
    }
    admin::router(state)
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Errors are `{"error": "..."}`.
    fn error(&self) -> String {
        let v = self.json();
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
        v["error"].as_str().unwrap_or_else(|| panic!("no error: {v}")).to_string()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Reply { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

/// An authorized request with an optional JSON body.
async fn call(app: &Router, method: Method, uri: &str, body: Option<Value>) -> Reply {
    let mut b = Request::builder().method(method).uri(uri).header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    let body = match body {
        Some(v) => {
            b = b.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    send(app, b.body(body).expect("request")).await
}

async fn get(app: &Router, uri: &str) -> Reply {
    call(app, Method::GET, uri, None).await
}

async fn post(app: &Router, uri: &str, body: Value) -> Reply {
    call(app, Method::POST, uri, Some(body)).await
}

/// Pushes `n` jobs onto `queue`, reserves them and records them as failed; returns their uuids
/// (oldest first).
async fn failed_jobs(db: &TestDb, queue: &str, n: usize) -> Vec<String> {
    let now = unix_now();
    let jobs: Vec<NewJob> = (0..n)
        .map(|i| NewJob { queue: queue.into(), payload: payload(CLASS, json!({"n": i})), available_at: now })
        .collect();
    db.store.push(&jobs, now).await.expect("push");
    let reserved = db.store.reserve(queue, n, now, 90).await.expect("reserve");
    assert_eq!(reserved.len(), n);
    let completions: Vec<Completion> = reserved
        .into_iter()
        .map(|job| {
            let v: Value = serde_json::from_str(&job.payload).expect("payload");
            let uuid = v["uuid"].as_str().expect("uuid").to_string();
            Completion {
                job,
                uuid,
                outcome: Outcome::Fail { exception: "RuntimeException: boom".into() },
                batch_id: None,
            }
        })
        .collect();
    let uuids = completions.iter().map(|c| c.uuid.clone()).collect();
    db.store.complete(&completions, "database", now).await.expect("complete");
    uuids
}

/// A batch of `n` jobs on `queue`; the first `fail` of them are worked and fail, the next
/// `succeed` succeed. Returns the batch id and the job uuids.
async fn batch(db: &TestDb, name: &str, queue: &str, n: usize, fail: usize, succeed: usize) -> (String, Vec<String>) {
    let now = unix_now();
    let mut dispatches: Vec<_> = (0..n)
        .map(|_| cv_worker::enqueue::Dispatch { class: CLASS.into(), queue: queue.into(), ..Default::default() })
        .collect();
    let (view, uuids) =
        cv_worker::batches::create(&*db.store, name, Some(queue), true, &mut dispatches, now).await.expect("batch");
    let reserved = db.store.reserve(queue, fail + succeed, now, 90).await.expect("reserve");
    let completions: Vec<Completion> = reserved
        .into_iter()
        .enumerate()
        .map(|(i, job)| {
            let v: Value = serde_json::from_str(&job.payload).expect("payload");
            let uuid = v["uuid"].as_str().expect("uuid").to_string();
            let outcome =
                if i < fail { Outcome::Fail { exception: "RuntimeException: boom".into() } } else { Outcome::Delete };
            Completion { job, uuid, outcome, batch_id: Some(view.id.clone()) }
        })
        .collect();
    db.store.complete(&completions, "database", now).await.expect("complete");
    (view.id, uuids)
}

// ---------------------------------------------------------------------------------------------

async fn health_and_readiness(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    let unauthenticated = |uri: &str| Request::get(uri).body(Body::empty()).expect("request");
    let r = send(&app, unauthenticated("/healthz")).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!({"status": "ok"})));
    let r = send(&app, unauthenticated("/readyz")).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!({"status": "ready"})));

    // Reachable but not migrated: not ready, and the answer says what to do.
    let empty = TestDb::empty(d).await;
    let r = send(&self::app(&empty), unauthenticated("/readyz")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.error().contains("migrate"), "{}", r.text);
}

async fn api_requires_the_bearer_token(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    for uri in ["/api/batches", "/api/failed-jobs", "/api/queues", "/api/openapi.json"] {
        let r = send(&app, Request::get(uri).body(Body::empty()).expect("request")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(r.headers.get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()), Some("Bearer"));
        assert!(!r.text.contains(TOKEN));
        r.error();
        for bad in ["Bearer wrong", "Bearer ", "Basic czNjcmV0", TOKEN, "Bearer s3cret-admin-toke"] {
            let req = Request::get(uri).header(header::AUTHORIZATION, bad).body(Body::empty()).expect("request");
            assert_eq!(send(&app, req).await.status, StatusCode::UNAUTHORIZED, "{uri} {bad}");
        }
        assert_eq!(get(&app, uri).await.status, StatusCode::OK, "{uri}");
    }
    // Mutations too.
    let req = Request::post("/api/failed-jobs/retry")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"all":true}"#))
        .expect("request");
    assert_eq!(send(&app, req).await.status, StatusCode::UNAUTHORIZED);
    let req = Request::delete("/api/failed-jobs/abc").body(Body::empty()).expect("request");
    assert_eq!(send(&app, req).await.status, StatusCode::UNAUTHORIZED);

    // The OpenAPI document is served (behind the token) and is the one in docs/.
    let r = get(&app, "/api/openapi.json").await;
    assert_eq!(r.json(), serde_json::from_str::<Value>(admin::OPENAPI_JSON).expect("openapi.json is JSON"));

    // No token: only loopback addresses.
    let any: std::net::SocketAddr = "0.0.0.0:9090".parse().expect("addr");
    let err = admin::check_listen(any, None).expect_err("refused").to_string();
    assert!(err.contains("CV_WORKER_ADMIN_TOKEN"), "{err}");
    assert!(admin::check_listen(any, Some("")).is_err());
    assert!(admin::check_listen(any, Some(TOKEN)).is_ok());
    assert!(admin::check_listen("127.0.0.1:9090".parse().expect("addr"), None).is_ok());
    assert!(admin::check_listen("[::1]:9090".parse().expect("addr"), None).is_ok());

    // Without a token on loopback the API is open.
    let open = admin::router(AdminState::new(db.store.clone(), None, &[]));
    let r = send(&open, Request::get("/api/queues").body(Body::empty()).expect("request")).await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn batches_list_filters_and_pages(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    let (finished, _) = batch(&db, "finished", "default", 2, 0, 2).await;
    let (failing, _) = batch(&db, "failing", "default", 3, 1, 0).await;
    let (cancelled, _) = batch(&db, "cancelled", "other", 2, 0, 0).await;
    cv_worker::batches::cancel(&*db.store, &cancelled, unix_now()).await.expect("cancel");
    let (pending, _) = batch(&db, "pending", "third", 2, 0, 0).await;

    let r = get(&app, "/api/batches").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    let ids: Vec<&str> = v["data"].as_array().expect("data").iter().map(|b| b["id"].as_str().expect("id")).collect();
    assert_eq!(ids, vec![pending.as_str(), cancelled.as_str(), failing.as_str(), finished.as_str()], "newest first");
    assert_eq!(v["next_cursor"], Value::Null);
    // Laravel's toArray() keys.
    let first = &v["data"][3];
    for key in [
        "id",
        "name",
        "totalJobs",
        "pendingJobs",
        "processedJobs",
        "progress",
        "failedJobs",
        "options",
        "createdAt",
        "cancelledAt",
        "finishedAt",
    ] {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
    assert_eq!((first["progress"].as_i64(), first["finishedAt"].is_string()), (Some(100), true));

    // Paging with an opaque cursor.
    let r = get(&app, "/api/batches?limit=3").await.json();
    assert_eq!(r["data"].as_array().map(Vec::len), Some(3));
    let cursor = r["next_cursor"].as_str().expect("cursor").to_string();
    let r = get(&app, &format!("/api/batches?limit=3&cursor={cursor}")).await.json();
    assert_eq!(r["data"][0]["id"], json!(finished));
    assert_eq!(r["next_cursor"], Value::Null);

    // Status filters.
    let names = |v: Value| -> Vec<String> {
        v["data"].as_array().expect("data").iter().map(|b| b["name"].as_str().expect("name").to_string()).collect()
    };
    assert_eq!(names(get(&app, "/api/batches?status=pending").await.json()), vec!["pending", "failing"]);
    assert_eq!(names(get(&app, "/api/batches?status=finished").await.json()), vec!["finished"]);
    assert_eq!(names(get(&app, "/api/batches?status=cancelled").await.json()), vec!["cancelled"]);
    assert_eq!(names(get(&app, "/api/batches?status=failed").await.json()), vec!["failing"]);
    let r = get(&app, "/api/batches?status=pending&limit=1").await.json();
    assert_eq!(names(r.clone()), vec!["pending"]);
    let cursor = r["next_cursor"].as_str().expect("cursor").to_string();
    let r = get(&app, &format!("/api/batches?status=pending&limit=1&cursor={cursor}")).await.json();
    assert_eq!(names(r.clone()), vec!["failing"]);
    assert_eq!(r["next_cursor"], Value::Null);

    // Bad input.
    for uri in [
        "/api/batches?status=running",
        "/api/batches?cursor=!!!",
        "/api/batches?cursor=Zjox", // a failed-jobs cursor
        "/api/batches?limit=0",
        "/api/batches?limit=1000",
        "/api/batches?limit=x",
        "/api/batches?sort=asc",
    ] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        r.error();
    }
}

async fn batch_show_cancel_and_retry(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    let (id, uuids) = batch(&db, "import", "default", 3, 1, 1).await;

    let r = get(&app, &format!("/api/batches/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(
        (v["name"].as_str(), v["totalJobs"].as_i64(), v["pendingJobs"].as_i64()),
        (Some("import"), Some(3), Some(2))
    );
    assert_eq!((v["failedJobs"].as_i64(), v["progress"].as_i64()), (Some(1), Some(33)));
    assert_eq!(v["failedJobIds"], json!([uuids[0]]));
    assert_eq!(v["options"], json!({"queue": "default", "allowFailures": true}));

    // Retry: the failed job goes back to its queue.
    let r = post(&app, &format!("/api/batches/{id}/retry"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["results"], json!([{"id": uuids[0], "retried": true}]));
    assert_eq!(db.count("failed_jobs").await, 0);
    // The batch row still lists the id (Laravel leaves it until the job succeeds), but the
    // failed row is gone: retrying again re-queues nothing.
    let r = post(&app, &format!("/api/batches/{id}/retry"), json!({})).await;
    assert_eq!(r.json()["results"], json!([{"id": uuids[0], "retried": false}]));

    // Cancel.
    let r = post(&app, &format!("/api/batches/{id}/cancel"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert!(v["cancelledAt"].is_string() && v["finishedAt"].is_string(), "{v}");
    let r = get(&app, "/api/batches?status=cancelled").await.json();
    assert_eq!(r["data"][0]["id"], json!(id));

    // A batch without failed jobs: 409, as queue:retry-batch refuses.
    let (clean, _) = batch(&db, "clean", "default", 1, 0, 0).await;
    let r = post(&app, &format!("/api/batches/{clean}/retry"), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error(), "The given batch does not contain any failed jobs.");

    // Unknown and malformed ids.
    let missing = "9f0e0b5c-0000-4000-8000-000000000000";
    for (method, uri) in [
        (Method::GET, format!("/api/batches/{missing}")),
        (Method::POST, format!("/api/batches/{missing}/cancel")),
        (Method::POST, format!("/api/batches/{missing}/retry")),
    ] {
        let r = call(&app, method, &uri, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.error(), format!("Unable to find a batch with ID [{missing}]."));
    }
    for uri in ["/api/batches/bad%20id", "/api/batches/x'%20or%201=1", &format!("/api/batches/{}", "a".repeat(65))] {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(r.error(), "invalid batch id");
    }
    let r = post(&app, "/api/batches/bad%20id/cancel", json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn failed_jobs_list_show_retry_and_delete(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    let a = failed_jobs(&db, "alpha", 3).await;
    let b = failed_jobs(&db, "beta", 1).await;

    let r = get(&app, "/api/failed-jobs").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    let ids: Vec<&str> = v["data"].as_array().expect("data").iter().map(|f| f["id"].as_str().expect("id")).collect();
    assert_eq!(ids, vec![b[0].as_str(), a[2].as_str(), a[1].as_str(), a[0].as_str()], "newest first");
    assert_eq!(v["data"][0]["class"], json!(CLASS));
    assert_eq!(v["data"][0]["queue"], json!("beta"));
    assert_eq!(v["data"][0]["connection"], json!("database"));

    // Queue filter and cursor.
    let r = get(&app, "/api/failed-jobs?queue=alpha&limit=2").await.json();
    assert_eq!(r["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(r["data"][0]["id"], json!(a[2]));
    let cursor = r["next_cursor"].as_str().expect("cursor").to_string();
    let r = get(&app, &format!("/api/failed-jobs?queue=alpha&limit=2&cursor={cursor}")).await.json();
    assert_eq!(r["data"].as_array().map(Vec::len), Some(1));
    assert_eq!((r["data"][0]["id"].as_str(), &r["next_cursor"]), (Some(a[0].as_str()), &Value::Null));
    assert_eq!(get(&app, "/api/failed-jobs?queue=nothing").await.json(), json!({"data": [], "next_cursor": null}));
    for uri in
        ["/api/failed-jobs?cursor=nope", "/api/failed-jobs?limit=-1", "/api/failed-jobs?queue=", "/api/failed-jobs?q=1"]
    {
        let r = get(&app, uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        r.error();
    }

    // Show: the payload decoded, the exception as stored.
    let r = get(&app, &format!("/api/failed-jobs/{}", a[1])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(
        (v["uuid"].as_str(), v["queue"].as_str(), v["class"].as_str()),
        (Some(a[1].as_str()), Some("alpha"), Some(CLASS))
    );
    assert_eq!(v["payload"]["uuid"], json!(a[1]));
    assert_eq!(v["payload"]["n"], json!(1));
    assert!(v["exception"].as_str().expect("exception").starts_with("RuntimeException: boom"));
    assert!(v["failed_at"].is_string() && v["id"].is_i64());

    // Retry one: back on its queue with attempts 0, the failed row gone.
    let r = post(&app, &format!("/api/failed-jobs/{}/retry", a[1]), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({"id": a[1], "retried": true}));
    assert_eq!(db.query_i64("SELECT attempts FROM jobs WHERE queue = 'alpha'").await, vec![0]);
    let r = post(&app, &format!("/api/failed-jobs/{}/retry", a[1]), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error(), format!("Unable to find failed job with ID [{}].", a[1]));
    let r = get(&app, &format!("/api/failed-jobs/{}", a[1])).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.error();

    // Delete.
    let r = call(&app, Method::DELETE, &format!("/api/failed-jobs/{}", a[0]), None).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::NO_CONTENT, ""));
    let r = call(&app, Method::DELETE, &format!("/api/failed-jobs/{}", a[0]), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error(), "No failed job matches the given ID.");
    assert_eq!(db.count("failed_jobs").await, 2);

    // Malformed ids never reach the database.
    for (method, uri) in [
        (Method::GET, "/api/failed-jobs/a%20b"),
        (Method::POST, "/api/failed-jobs/%27--/retry"),
        (Method::DELETE, "/api/failed-jobs/a;b"),
    ] {
        let r = call(&app, method, uri, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        assert_eq!(r.error(), "invalid failed job id");
    }
}

async fn failed_jobs_bulk_retry_and_bad_bodies(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    let a = failed_jobs(&db, "alpha", 2).await;
    let b = failed_jobs(&db, "beta", 2).await;

    // By uuids (an unknown one is reported, not an error).
    let r = post(&app, "/api/failed-jobs/retry", json!({"uuids": [b[0], "no-such-job"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["results"], json!([{"id": b[0], "retried": true}, {"id": "no-such-job", "retried": false}]));
    // By queue.
    let r = post(&app, "/api/failed-jobs/retry", json!({"queue": "alpha"})).await;
    assert_eq!(r.json()["results"], json!([{"id": a[1], "retried": true}, {"id": a[0], "retried": true}]));
    let r = post(&app, "/api/failed-jobs/retry", json!({"queue": "alpha"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error(), "Unable to find failed jobs for queue [alpha].");
    // All.
    let r = post(&app, "/api/failed-jobs/retry", json!({"all": true})).await;
    assert_eq!(r.json()["results"], json!([{"id": b[1], "retried": true}]));
    assert_eq!(db.count("failed_jobs").await, 0);
    assert_eq!(db.count("jobs").await, 4);
    let r = post(&app, "/api/failed-jobs/retry", json!({"all": true})).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, json!({"results": []})));

    // Bodies that are not one of the three forms.
    for body in [
        json!({}),
        json!({"all": false}),
        json!({"all": true, "queue": "alpha"}),
        json!({"uuids": []}),
        json!({"uuids": vec!["x"; 1001]}),
    ] {
        let r = post(&app, "/api/failed-jobs/retry", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        r.error();
    }
    for body in
        [json!({"all": true, "force": true}), json!({"all": "yes"}), json!({"all": true, "uuids": null}), json!([1])]
    {
        let r = post(&app, "/api/failed-jobs/retry", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        r.error();
    }
    for body in [json!({"uuids": ["bad id"]}), json!({"queue": ""})] {
        let r = post(&app, "/api/failed-jobs/retry", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        r.error();
    }
    let auth = format!("Bearer {TOKEN}");
    let raw = |content_type: Option<&str>, body: String| {
        let mut b = Request::post("/api/failed-jobs/retry").header(header::AUTHORIZATION, auth.as_str());
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(body)).expect("request")
    };
    let r = send(&app, raw(Some("application/json"), "{not json".into())).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    r.error();
    let r = send(&app, raw(None, r#"{"all":true}"#.into())).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    r.error();
    let huge = format!(r#"{{"uuids":["{}"]}}"#, "a".repeat(admin::BODY_LIMIT + 1));
    let r = send(&app, raw(Some("application/json"), huge)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    r.error();
}

async fn queues_report_depths_and_oldest_age(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    let now = unix_now();
    let job = |queue: &str, available_at: i64| NewJob {
        queue: queue.into(),
        payload: payload(CLASS, json!({})),
        available_at,
    };
    db.store
        .push(
            &[
                job("pdf", now - 120),
                job("pdf", now - 5),
                job("pdf", now + 600),
                job("exports", now),
                job("exports", now),
            ],
            now,
        )
        .await
        .expect("push");
    assert_eq!(db.store.reserve("exports", 1, now, 90).await.expect("reserve").len(), 1);

    let r = get(&app, "/api/queues").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let data = r.json()["data"].clone();
    let queues = data.as_array().expect("data");
    let names: Vec<&str> = queues.iter().map(|q| q["name"].as_str().expect("name")).collect();
    assert_eq!(names, vec!["default", "exports", "pdf"], "the worker's queues first, then the others");
    assert_eq!(
        queues[0],
        json!({"name": "default", "pending": 0, "delayed": 0, "reserved": 0, "oldest_pending_age_seconds": null})
    );
    assert_eq!((queues[1]["pending"].as_i64(), queues[1]["reserved"].as_i64()), (Some(1), Some(1)));
    let pdf = &queues[2];
    assert_eq!(
        (pdf["pending"].as_i64(), pdf["delayed"].as_i64(), pdf["reserved"].as_i64()),
        (Some(2), Some(1), Some(0))
    );
    let age = pdf["oldest_pending_age_seconds"].as_i64().expect("age");
    assert!((120..130).contains(&age), "{age}");
}

async fn metrics_count_the_jobs_worked(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    // A queue of its own: the recorder is process-wide.
    let queue = format!("m{}", uuid::Uuid::new_v4().simple());
    let now = unix_now();
    let jobs: Vec<NewJob> = (0..5)
        .map(|i| NewJob { queue: queue.clone(), payload: payload(CLASS, json!({"n": i})), available_at: now })
        .collect();
    db.store.push(&jobs, now).await.expect("push");
    let mut registry = Registry::new();
    registry.register_fn(CLASS, |ctx| async move {
        if ctx.payload.uuid.is_some() && ctx.id % 2 == 0 {
            Err(JobError::new("RuntimeException", "even"))
        } else {
            Ok(HandlerOutcome::Done)
        }
    });
    let options = WorkerOptions {
        queues: vec![queue.clone()],
        concurrency: 2,
        sleep: Duration::from_millis(20),
        stop_when_empty: true,
        defaults: WorkerDefaults { tries: 1, backoff: vec![0], timeout: 60 },
        ..WorkerOptions::default()
    };
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        worker::run(db.store.clone(), Arc::new(registry), options, CancellationToken::new()),
    )
    .await
    .expect("in time")
    .expect("worker ran");
    assert_eq!(report.processed + report.failed, 5);
    // A batch in progress (1 of 4 done), for the batch gauges.
    let (batch_id, _) = batch(&db, "metrics", &format!("{queue}b"), 4, 0, 1).await;
    // One more pending job, for the depth gauge.
    db.store
        .push(&[NewJob { queue: queue.clone(), payload: payload(CLASS, json!({})), available_at: now }], now)
        .await
        .expect("push");

    let r = send(&app, Request::get("/metrics").body(Body::empty()).expect("request")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_TYPE].to_str().expect("ct").starts_with("text/plain"));
    let samples = parse_prometheus(&r.text);
    // An independent Prometheus text-format parser reads the same counters.
    let scrape =
        prometheus_parse::Scrape::parse(r.text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format");
    let processed = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "cv_worker_jobs_processed_total"
                && s.labels.get("queue").map(|v| v.to_string()).as_deref() == Some(queue.as_str())
        })
        .expect("a processed counter for the queue");
    assert!(
        matches!(processed.value, prometheus_parse::Value::Counter(v) if v == report.processed as f64),
        "{:?}",
        processed.value
    );
    let class = CLASS.replace('\\', "\\\\");
    let value = |name: &str, labels: &str| -> f64 {
        let key = format!("{name}{{{labels}}}");
        samples.iter().find(|(k, _)| k == &key).map(|(_, v)| *v).unwrap_or_else(|| panic!("no {key} in\n{}", r.text))
    };
    let ours = format!("queue=\"{queue}\",class=\"{class}\"");
    assert_eq!(value("cv_worker_jobs_processed_total", &ours), report.processed as f64);
    assert_eq!(value("cv_worker_jobs_failed_total", &ours), report.failed as f64);
    assert_eq!(value("cv_worker_job_duration_seconds_count", &ours), 5.0);
    assert_eq!(value("cv_worker_job_duration_seconds_bucket", &format!("{ours},le=\"+Inf\"")), 5.0);
    assert_eq!(value("cv_worker_queue_depth", &format!("queue=\"{queue}\",state=\"pending\"")), 1.0);
    assert_eq!(value("cv_worker_queue_depth", &format!("queue=\"{queue}\",state=\"reserved\"")), 0.0);
    assert!(value("cv_worker_reserve_duration_seconds_count", &format!("queue=\"{queue}\"")) >= 1.0);
    let batch_labels = format!("batch=\"{batch_id}\",name=\"metrics\"");
    assert_eq!(value("cv_worker_batch_progress_percent", &batch_labels), 25.0);
    assert_eq!(value("cv_worker_batch_pending_jobs", &batch_labels), 3.0);
}

/// A strict reader of the Prometheus text format (0.0.4): `# HELP`/`# TYPE` lines, then
/// `name{labels} value` samples; anything else fails the test.
fn parse_prometheus(text: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let kind = parts.next().unwrap_or_default();
            assert!(kind == "HELP" || kind == "TYPE", "bad comment: {line}");
            if kind == "TYPE" {
                let t = parts.nth(1).unwrap_or_default();
                assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&t), "bad type: {line}");
            }
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("bad sample: {line}"));
        let name_end = key.find('{').unwrap_or(key.len());
        let name = &key[..name_end];
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if name_end < key.len() {
            assert!(key.ends_with('}'), "bad labels: {line}");
        }
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        out.push((key.to_string(), value));
    }
    out
}

async fn unknown_routes_and_methods_are_json_errors(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let app = app(&db);
    let r = get(&app, "/api/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.error();
    let r = get(&app, "/nothing").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    r.error();
    let r = call(&app, Method::DELETE, "/api/batches", None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    r.error();
    let r = get(&app, "/api/failed-jobs/retry").await;
    // The bulk-retry path is POST only (it is not read as a failed job named `retry`).
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    r.error();
}

/// `cv-worker work --admin-listen` uses `admin::start`: a real socket, a real HTTP/1.1 exchange.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_serves_the_admin_api_on_a_real_listener() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = TestDb::migrated(Dialect::Sqlite).await;
    let refused = admin::start("0.0.0.0:0".parse().expect("addr"), None, db.store.clone(), &[]).await;
    assert!(matches!(refused, Err(admin::AdminError::NoToken(_))));

    let running = admin::start("127.0.0.1:0".parse().expect("addr"), Some(TOKEN), db.store.clone(), &[])
        .await
        .expect("listening");
    let request = |path: &str, token: Option<&str>| {
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n")
    };
    let addr = running.addr;
    let exchange = move |text: String| async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(text.as_bytes()).await.expect("write");
        let mut out = String::new();
        stream.read_to_string(&mut out).await.expect("read");
        out
    };
    let out = exchange(request("/healthz", None)).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let out = exchange(request("/api/queues", None)).await;
    assert!(out.starts_with("HTTP/1.1 401"), "{out}");
    let out = exchange(request("/api/queues", Some(TOKEN))).await;
    assert!(out.starts_with("HTTP/1.1 200") && out.ends_with(r#"{"data":[]}"#), "{out}");
    let out = exchange(request("/metrics", None)).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    running.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "stopped");
}

/// Every operation in docs/openapi.json is routed (no "no such route", no 405), and every
/// documented status code is one the handler can give for it in the simplest call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_routed_operations() {
    let db = TestDb::migrated(Dialect::Sqlite).await;
    let app = app(&db);
    let doc: Value = serde_json::from_str(admin::OPENAPI_JSON).expect("JSON");
    assert_eq!(doc["openapi"], json!("3.0.3"));
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let uri = path.replace("{id}", "9f0e0b5c-0000-4000-8000-000000000000").replace("{uuid}", "no-such-job");
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            let method: Method = method.to_uppercase().parse().expect("method");
            let body = (method == Method::POST).then(|| json!({"all": true}));
            let r = call(&app, method.clone(), &uri, body).await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
            assert!(!r.text.contains("no such route"), "{method} {uri}");
            let documented = op["responses"].as_object().expect("responses");
            assert!(
                documented.contains_key(r.status.as_str()),
                "{method} {uri} gave undocumented {}: {}",
                r.status,
                r.text
            );
        }
    }
    assert_eq!(operations, 14);
}

/// The dashboard is static: served without the token (it holds no data), with a strict CSP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_is_served_with_a_strict_policy() {
    let db = TestDb::migrated(Dialect::Sqlite).await;
    let app = app(&db);
    for (uri, ct) in [("/", "text/html"), ("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")] {
        let r = send(&app, Request::get(uri).body(Body::empty()).expect("request")).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}");
        assert!(r.headers[header::CONTENT_TYPE].to_str().expect("ct").starts_with(ct), "{uri}");
        let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{csp}");
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!r.text.contains(TOKEN));
    }
    let r = send(&app, Request::get("/").body(Body::empty()).expect("request")).await;
    assert!(r.text.contains(r#"<script src="/dashboard.js">"#));
    let js = send(&app, Request::get("/dashboard.js").body(Body::empty()).expect("request")).await.text;
    assert!(js.contains("sessionStorage") && !js.contains("innerHTML"), "values are written as text only");
}

/// The binary: `work --admin-listen` refuses a public address without a token (exit 2, a
/// message saying what to do) and serves on loopback while the worker runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_admin_listen_flag() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("w.sqlite").display());
    let worker = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cv-worker"));
        c.env_remove("CV_WORKER_ADMIN_TOKEN").env_remove("CV_WORKER_ADMIN_LISTEN");
        c.args(["--database-url", url.as_str(), "--storage-root"]).arg(dir.path().join("storage")).arg("work");
        c.args(args);
        c
    };
    let out = worker(&["--admin-listen", "0.0.0.0:0", "--stop-when-empty"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CV_WORKER_ADMIN_TOKEN"));

    let migrate = std::process::Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .args(["--database-url", url.as_str(), "migrate"])
        .output()
        .expect("migrate");
    assert!(migrate.status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = worker(&["--admin-listen", &listen, "--max-time", "20", "--sleep", "0.1"])
        .env("CV_WORKER_ADMIN_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut answer = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(&listen).await {
            let req = format!(
                "GET /api/queues HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
            );
            s.write_all(req.as_bytes()).await.expect("write");
            s.read_to_string(&mut answer).await.expect("read");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}\n{log}");
    assert!(answer.contains(r#""name":"default""#), "{answer}");
    assert!(!log.contains(TOKEN), "the token is never logged");
}
