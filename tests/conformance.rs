//! THE conformance suite: every behaviour of the queue protocol, run against PostgreSQL,
//! MySQL/MariaDB and SQLite. Each `async fn` below is one rule; the `conformance!` macro
//! instantiates it once per dialect (`postgres::name`, `mysql::name`, `sqlite::name`), on a
//! fresh migrated database. A database that cannot be reached fails the test.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{TestDb, payload};
use cv_worker::handlers::{HandlerOutcome, Registry};
use cv_worker::protocol::exception::JobError;
use cv_worker::protocol::policy::WorkerDefaults;
use cv_worker::store::{Completion, Dialect, NewJob, Outcome};
use cv_worker::worker::{self, WorkReport, WorkerOptions, unix_now};
use serde_json::json;
use tokio_util::sync::CancellationToken;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Mysql).await } )* }
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Sqlite).await } )* }
    };
}

conformance!(
    reserve_is_fifo_and_counts_attempts,
    reserve_never_exceeds_the_limit,
    delayed_jobs_wait_until_available,
    reclaims_after_retry_after,
    delete_removes_the_row,
    release_reinserts_with_attempts_and_same_bytes,
    fail_writes_a_laravel_failed_jobs_row,
    completion_of_a_reclaimed_job_is_not_written_twice,
    concurrent_workers_never_get_the_same_row,
    queue_priority_is_strict,
    tries_then_failed_jobs,
    backoff_delays_the_release,
    retry_until_overrides_tries,
    max_exceptions_fails_early,
    timeout_aborts_and_releases_then_fails,
    fail_on_timeout_fails_at_once,
    panics_are_exceptions,
    unknown_class_fails_with_no_handler,
    malformed_payloads_fail_readably_and_work_goes_on,
    handler_release_and_fail_and_quiet_delete,
    max_jobs_stops_claiming,
    drains_many_jobs_with_batched_completion,
    max_exceptions_counter_lives_in_the_cache_table,
    batch_counters_stay_exact_under_two_workers,
    batch_is_cancelled_on_first_failure_and_the_rest_skipped,
    batch_retry_brings_the_counters_back,
    batch_cancel_list_and_prune,
    failed_jobs_list_show_forget_flush_prune,
    failed_retry_requeues_once_with_attempts_reset,
);

const CLASS: &str = "App\\Jobs\\Probe";

fn job(queue: &str, payload: String, available_at: i64) -> NewJob {
    NewJob { queue: queue.into(), payload, available_at }
}

fn options(queues: &[&str]) -> WorkerOptions {
    WorkerOptions {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: 4,
        sleep: Duration::from_millis(50),
        stop_when_empty: true,
        defaults: WorkerDefaults { tries: 1, backoff: vec![0], timeout: 60 },
        cache_prefix: "laravel-cache-".into(),
        ..WorkerOptions::default()
    }
}

async fn work(db: &TestDb, registry: Registry, options: WorkerOptions) -> WorkReport {
    tokio::time::timeout(
        Duration::from_secs(60),
        worker::run(db.store.clone(), Arc::new(registry), options, CancellationToken::new()),
    )
    .await
    .expect("worker finished in time")
    .expect("worker ran")
}

/// A registry whose handler for CLASS counts its calls and runs `f`.
fn counting<F>(calls: Arc<AtomicUsize>, f: F) -> Registry
where
    F: Fn(usize) -> Result<HandlerOutcome, JobError> + Send + Sync + 'static,
{
    let f = Arc::new(f);
    let mut r = Registry::new();
    r.register_fn(CLASS, move |_ctx| {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        let f = f.clone();
        async move { f(n) }
    });
    r
}

async fn reserve_is_fifo_and_counts_attempts(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let jobs: Vec<NewJob> = (0..3).map(|i| job("default", payload(CLASS, json!({"n": i})), now)).collect();
    db.store.push(&jobs, now).await.unwrap();
    let got = db.store.reserve("default", 2, now, 90).await.unwrap();
    assert_eq!(got.len(), 2);
    assert!(got[0].id < got[1].id, "FIFO by id");
    assert!(got[0].payload.contains("\"n\":0") && got[1].payload.contains("\"n\":1"));
    assert!(got.iter().all(|j| j.attempts == 1 && j.reserved_at == now && j.queue == "default"));
    assert_eq!(db.query_i64("SELECT attempts FROM jobs ORDER BY id").await, vec![1, 1, 0]);
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM jobs WHERE reserved_at IS NOT NULL").await, vec![2]);
    let other_queue = db.store.reserve("other", 10, now, 90).await.unwrap();
    assert!(other_queue.is_empty());
}

async fn reserve_never_exceeds_the_limit(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let jobs: Vec<NewJob> = (0..10).map(|_| job("default", payload(CLASS, json!({})), now)).collect();
    db.store.push(&jobs, now).await.unwrap();
    assert_eq!(db.store.reserve("default", 3, now, 90).await.unwrap().len(), 3);
    assert_eq!(db.store.reserve("default", 100, now, 90).await.unwrap().len(), 7);
    assert!(db.store.reserve("default", 100, now, 90).await.unwrap().is_empty());
}

async fn delayed_jobs_wait_until_available(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({})), now + 30)], now).await.unwrap();
    assert!(db.store.reserve("default", 1, now, 90).await.unwrap().is_empty());
    assert!(db.store.reserve("default", 1, now + 29, 90).await.unwrap().is_empty());
    assert_eq!(db.store.reserve("default", 1, now + 30, 90).await.unwrap().len(), 1);
    let size = db.store.queue_size("default", now + 30).await.unwrap();
    assert_eq!((size.pending, size.delayed, size.reserved), (0, 0, 1));
}

async fn reclaims_after_retry_after(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({})), now)], now).await.unwrap();
    let first = db.store.reserve("default", 1, now, 90).await.unwrap();
    assert_eq!(first[0].attempts, 1);
    assert!(
        db.store.reserve("default", 1, now + 89, 90).await.unwrap().is_empty(),
        "still reserved before retry_after"
    );
    let again = db.store.reserve("default", 1, now + 90, 90).await.unwrap();
    assert_eq!(again.len(), 1, "reserved_at <= now - retry_after is reclaimed");
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].reserved_at, now + 90);
}

async fn delete_removes_the_row(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({})), now)], now).await.unwrap();
    let j = db.store.reserve("default", 1, now, 90).await.unwrap().remove(0);
    let report = db
        .store
        .complete(&[Completion { job: j, uuid: "u".into(), outcome: Outcome::Delete, batch_id: None }], "database", now)
        .await
        .unwrap();
    assert_eq!(report.deleted, 1);
    assert_eq!(db.count("jobs").await, 0);
    assert_eq!(db.count("failed_jobs").await, 0);
}

async fn release_reinserts_with_attempts_and_same_bytes(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    // Unicode, escaped slashes and NUL escapes must survive byte for byte.
    let raw = payload(CLASS, json!({"title": "Zoë \\/ \u{0000} Дмитрий"}));
    db.store.push(&[job("pdf", raw.clone(), now)], now).await.unwrap();
    let j = db.store.reserve("pdf", 1, now, 90).await.unwrap().remove(0);
    let old_id = j.id;
    let report = db
        .store
        .complete(
            &[Completion { job: j, uuid: "u".into(), outcome: Outcome::Release { delay: 10 }, batch_id: None }],
            "database",
            now + 1,
        )
        .await
        .unwrap();
    assert_eq!(report.released, 1);
    assert_eq!(db.query_i64("SELECT attempts FROM jobs").await, vec![1]);
    assert_eq!(db.query_i64("SELECT available_at FROM jobs").await, vec![now + 11]);
    assert_eq!(db.query_i64("SELECT created_at FROM jobs").await, vec![now + 1]);
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM jobs WHERE reserved_at IS NULL").await, vec![1]);
    assert!(db.query_i64("SELECT id FROM jobs").await[0] > old_id, "a release gets a new id");
    assert_eq!(db.query_strings("SELECT queue FROM jobs").await, vec!["pdf".to_string()]);
    assert_eq!(db.query_strings("SELECT payload FROM jobs").await, vec![raw]);
    let again = db.store.reserve("pdf", 1, now + 11, 90).await.unwrap();
    assert_eq!(again[0].attempts, 2);
}

async fn fail_writes_a_laravel_failed_jobs_row(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let raw = payload(CLASS, json!({"uuid": "7b1c1e4e-0000-4000-8000-00000000abcd"}));
    db.store.push(&[job("exports", raw.clone(), now)], now).await.unwrap();
    let j = db.store.reserve("exports", 1, now, 90).await.unwrap().remove(0);
    let exception = "RuntimeException: boom in src/x.rs:1\nStack trace:\n#0 {main}".to_string();
    let c = Completion {
        job: j,
        uuid: "7b1c1e4e-0000-4000-8000-00000000abcd".into(),
        outcome: Outcome::Fail { exception: exception.clone() },
        batch_id: None,
    };
    assert_eq!(db.store.complete(&[c], "database", now).await.unwrap().failed, 1);
    assert_eq!(db.count("jobs").await, 0);
    assert_eq!(
        db.query_strings("SELECT uuid FROM failed_jobs").await,
        vec!["7b1c1e4e-0000-4000-8000-00000000abcd".to_string()]
    );
    assert_eq!(db.query_strings("SELECT connection FROM failed_jobs").await, vec!["database".to_string()]);
    assert_eq!(db.query_strings("SELECT queue FROM failed_jobs").await, vec!["exports".to_string()]);
    assert_eq!(db.query_strings("SELECT payload FROM failed_jobs").await, vec![raw]);
    assert_eq!(db.query_strings("SELECT exception FROM failed_jobs").await, vec![exception]);
    let failed_at = match d {
        Dialect::Sqlite => db.query_strings("SELECT failed_at FROM failed_jobs").await,
        Dialect::Postgres => {
            db.query_strings("SELECT to_char(failed_at, 'YYYY-MM-DD HH24:MI:SS') FROM failed_jobs").await
        }
        Dialect::Mysql => db.query_strings("SELECT DATE_FORMAT(failed_at, '%Y-%m-%d %H:%i:%s') FROM failed_jobs").await,
    };
    assert_eq!(failed_at, vec![cv_worker::store::failed_at_string(now)]);
}

async fn completion_of_a_reclaimed_job_is_not_written_twice(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({})), now)], now).await.unwrap();
    let mine = db.store.reserve("default", 1, now, 90).await.unwrap().remove(0);
    // Our reservation expires; another worker reclaims the row.
    let theirs = db.store.reserve("default", 1, now + 100, 90).await.unwrap().remove(0);
    let late = db
        .store
        .complete(
            &[Completion { job: mine, uuid: "u".into(), outcome: Outcome::Release { delay: 0 }, batch_id: None }],
            "database",
            now + 101,
        )
        .await
        .unwrap();
    assert_eq!(late.lost, 1);
    assert_eq!(db.count("jobs").await, 1, "no duplicate row from the stale release");
    let done = db
        .store
        .complete(
            &[Completion { job: theirs, uuid: "u".into(), outcome: Outcome::Delete, batch_id: None }],
            "database",
            now + 102,
        )
        .await
        .unwrap();
    assert_eq!(done.deleted, 1);
    assert_eq!(db.count("jobs").await, 0);
}

async fn concurrent_workers_never_get_the_same_row(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let total = 400;
    let jobs: Vec<NewJob> = (0..total).map(|_| job("default", payload(CLASS, json!({})), now)).collect();
    db.store.push(&jobs, now).await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..4 {
        let store = db.another_store().await;
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                match store.reserve("default", 7, now, 90).await {
                    Ok(got) if got.is_empty() => break,
                    Ok(got) => mine.extend(got.into_iter().map(|j| j.id)),
                    Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(5)).await,
                    Err(e) => panic!("reserve failed: {e}"),
                }
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n, "a row was handed to two workers");
    assert_eq!(n, total);
    assert_eq!(db.query_i64("SELECT MAX(attempts) FROM jobs").await, vec![1]);
}

async fn queue_priority_is_strict(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({"q": "default"})), now)], now).await.unwrap();
    db.store.push(&[job("high", payload(CLASS, json!({"q": "high"})), now)], now).await.unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut r = Registry::new();
    let seen = order.clone();
    r.register_fn(CLASS, move |ctx| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(ctx.queue.clone());
            Ok(HandlerOutcome::Done)
        }
    });
    let report = work(&db, r, WorkerOptions { concurrency: 1, ..options(&["high", "default"]) }).await;
    assert_eq!(report.processed, 2);
    assert_eq!(*order.lock().unwrap(), vec!["high".to_string(), "default".to_string()]);
}

async fn tries_then_failed_jobs(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({"maxTries": 3})), now)], now).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let r = counting(calls.clone(), |n| Err(JobError::runtime(format!("boom {n}"))));
    let report = work(&db, r, options(&["default"])).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!((report.released, report.failed), (2, 1));
    assert_eq!(db.count("jobs").await, 0);
    let exception = db.query_strings("SELECT exception FROM failed_jobs").await.remove(0);
    assert!(exception.starts_with("RuntimeException: boom 3 in "), "{exception}");
    assert!(exception.contains("\nStack trace:\n#0 "), "{exception}");
}

async fn backoff_delays_the_release(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store
        .push(&[job("default", payload(CLASS, json!({"maxTries": 3, "backoff": "40,90"})), now)], now)
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let r = counting(calls.clone(), |_| Err(JobError::runtime("later")));
    let report = work(&db, r, options(&["default"])).await;
    assert_eq!(report.released, 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the released job is not available yet");
    let available = db.query_i64("SELECT available_at FROM jobs").await[0];
    assert!((now + 40..=now + 42).contains(&available), "available_at {available}, now {now}");
    assert_eq!(db.query_i64("SELECT attempts FROM jobs").await, vec![1]);
    // Second failure uses the second value.
    let j = db.store.reserve("default", 1, available, 90).await.unwrap().remove(0);
    assert_eq!(j.attempts, 2);
    let p = cv_worker::protocol::payload::Payload::parse(&j.payload).unwrap();
    assert_eq!(cv_worker::protocol::policy::backoff_delay(&p, j.attempts, &WorkerDefaults::default()), 90);
}

async fn retry_until_overrides_tries(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    // Expired retryUntil: failed before running, with Laravel's message.
    db.store
        .push(&[job("default", payload(CLASS, json!({"maxTries": 5, "retryUntil": now - 1})), now)], now)
        .await
        .unwrap();
    // Future retryUntil with maxTries 1: an exception releases instead of failing.
    db.store
        .push(
            &[job("later", payload(CLASS, json!({"maxTries": 1, "retryUntil": now + 3600, "backoff": "600"})), now)],
            now,
        )
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let r = counting(calls.clone(), |_| Err(JobError::runtime("nope")));
    let report = work(&db, r, options(&["default", "later"])).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "only the job within retryUntil ran");
    assert_eq!((report.failed, report.released), (1, 1));
    let exception = db.query_strings("SELECT exception FROM failed_jobs").await.remove(0);
    assert!(
        exception.starts_with(
            "Illuminate\\Queue\\MaxAttemptsExceededException: App\\Jobs\\Probe has been attempted too many times."
        ),
        "{exception}"
    );
    assert_eq!(db.query_strings("SELECT queue FROM jobs").await, vec!["later".to_string()]);
}

async fn max_exceptions_fails_early(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store
        .push(&[job("default", payload(CLASS, json!({"maxTries": 10, "maxExceptions": 2})), now)], now)
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let r = counting(calls.clone(), |_| Err(JobError::runtime("again")));
    let report = work(&db, r, options(&["default"])).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!((report.released, report.failed), (1, 1));
    assert_eq!(db.count("cache").await, 0, "the counter is forgotten when the job fails");
}

async fn max_exceptions_counter_lives_in_the_cache_table(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let key = "laravel-cache-job-exceptions:abc";
    assert_eq!(db.store.cache_increment(key, now + 86_400, now).await.unwrap(), 1);
    assert_eq!(db.store.cache_increment(key, now + 86_400, now).await.unwrap(), 2);
    assert_eq!(db.store.cache_get(key, now).await.unwrap().as_deref(), Some("i:2;"));
    assert_eq!(db.query_i64("SELECT expiration FROM cache").await, vec![now + 86_400]);
    // Expired counters start again.
    assert_eq!(db.store.cache_get(key, now + 86_400).await.unwrap(), None);
    assert_eq!(db.store.cache_increment(key, now + 200_000, now + 86_400).await.unwrap(), 1);
    db.store.cache_forget(key).await.unwrap();
    assert_eq!(db.count("cache").await, 0);
}

async fn timeout_aborts_and_releases_then_fails(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({"maxTries": 2, "timeout": 1})), now)], now).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut r = Registry::new();
    let c = calls.clone();
    r.register_fn(CLASS, move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(HandlerOutcome::Done)
        }
    });
    let started = std::time::Instant::now();
    let report = work(&db, r, options(&["default"])).await;
    assert!(started.elapsed() < Duration::from_secs(10), "the handler was aborted, not awaited");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!((report.released, report.failed), (1, 1));
    let exception = db.query_strings("SELECT exception FROM failed_jobs").await.remove(0);
    assert!(
        exception.starts_with("Illuminate\\Queue\\TimeoutExceededException: App\\Jobs\\Probe has timed out."),
        "{exception}"
    );
}

async fn fail_on_timeout_fails_at_once(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store
        .push(&[job("default", payload(CLASS, json!({"maxTries": 5, "timeout": 1, "failOnTimeout": true})), now)], now)
        .await
        .unwrap();
    let mut r = Registry::new();
    r.register_fn(CLASS, |_| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(HandlerOutcome::Done)
    });
    let report = work(&db, r, options(&["default"])).await;
    assert_eq!((report.released, report.failed), (0, 1));
}

async fn panics_are_exceptions(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store.push(&[job("default", payload(CLASS, json!({})), now)], now).await.unwrap();
    db.store.push(&[job("default", payload("App\\Jobs\\Fine", json!({})), now)], now).await.unwrap();
    let mut r = Registry::new();
    r.register_fn(CLASS, |_| async {
        let v: Vec<u8> = Vec::new();
        let i = v.len() + 3;
        if i > 0 {
            panic!("index {i} out of range");
        }
        Ok(HandlerOutcome::Done)
    });
    r.register_fn("App\\Jobs\\Fine", |_| async { Ok(HandlerOutcome::Done) });
    let report = work(&db, r, options(&["default"])).await;
    assert_eq!((report.processed, report.failed), (1, 1));
    let exception = db.query_strings("SELECT exception FROM failed_jobs").await.remove(0);
    assert!(
        exception.starts_with("CvWorker\\Exceptions\\HandlerPanicException: handler panicked: index 3 out of range"),
        "{exception}"
    );
}

async fn unknown_class_fails_with_no_handler(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    db.store
        .push(&[job("default", payload("App\\Mail\\WelcomeMail", json!({"maxTries": 3})), now)], now)
        .await
        .unwrap();
    let report = work(&db, Registry::new(), options(&["default"])).await;
    assert_eq!(report.failed, 1);
    let exception = db.query_strings("SELECT exception FROM failed_jobs").await.remove(0);
    assert!(
        exception.starts_with(
            "CvWorker\\Exceptions\\NoHandlerException: no handler for App\\Mail\\WelcomeMail in cv-worker"
        ),
        "{exception}"
    );
}

async fn malformed_payloads_fail_readably_and_work_goes_on(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let huge = format!(
        r#"{{"uuid":"huge-1","displayName":"App\\Jobs\\Huge","data":{{"commandName":"App\\Jobs\\Huge","command":"O:13:\"App\\Jobs\\Huge\":1:{{s:4:\"blob\";s:{}:\"{}\";}}"}}}}"#,
        10 * 1024 * 1024,
        "x".repeat(10 * 1024 * 1024)
    );
    let corpus: Vec<(&str, String, &str)> = vec![
        ("json", "{\"uuid\": \"bad-json\", nope".to_string(), "payload is not valid JSON"),
        ("array", "[1,2,3]".to_string(), "payload must be a JSON object, got an array"),
        (
            "truncated",
            r#"{"uuid":"trunc-1","displayName":"App\\Jobs\\Probe","data":{"commandName":"App\\Jobs\\Probe","command":"O:14:\"App\\Jobs\\Probe\":1:{s:2:\"cv\";i:4"}}"#.to_string(),
            "data.command is not valid PHP serialization",
        ),
        ("types", r#"{"uuid":"types-1","displayName":"App\\Jobs\\Probe","maxTries":"lots","data":{}}"#.to_string(), "payload field `maxTries` must be an integer or null"),
        ("no-uuid", r#"{"displayName":"App\\Jobs\\Nobody","data":{"commandName":"App\\Jobs\\Nobody","command":{}}}"#.to_string(), "no handler for App\\Jobs\\Nobody"),
        ("no-class", r#"{"uuid":"noclass-1","data":{}}"#.to_string(), "payload has no job class"),
        ("encrypted", r#"{"uuid":"enc-1","displayName":"App\\Jobs\\Probe","data":{"commandName":"App\\Jobs\\Probe","command":"eyJpdiI6IkFBQUEifQ=="}}"#.to_string(), "encrypted"),
        ("huge", huge, "no handler for App\\Jobs\\Huge"),
    ];
    let jobs: Vec<NewJob> = corpus.iter().map(|(_, p, _)| job("default", p.clone(), now)).collect();
    db.store.push(&jobs, now).await.unwrap();
    db.store.push(&[job("default", payload(CLASS, json!({})), now)], now).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let r = counting(calls.clone(), |_| Ok(HandlerOutcome::Done));
    let report = work(&db, r, options(&["default"])).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the good job after the corpus still ran");
    assert_eq!((report.processed, report.failed), (1, corpus.len() as u64));
    assert_eq!(db.count("jobs").await, 0);
    let exceptions = db.query_strings("SELECT exception FROM failed_jobs ORDER BY id").await;
    let payloads = db.query_strings("SELECT payload FROM failed_jobs ORDER BY id").await;
    let uuids = db.query_strings("SELECT uuid FROM failed_jobs ORDER BY id").await;
    assert_eq!(exceptions.len(), corpus.len());
    for (name, raw, expected) in &corpus {
        let i =
            payloads.iter().position(|p| p == raw).unwrap_or_else(|| panic!("{name}: raw payload kept in failed_jobs"));
        assert!(exceptions[i].contains(expected), "{name}: {}", exceptions[i].lines().next().unwrap_or_default());
        assert!(!uuids[i].is_empty(), "{name}: a uuid is always written");
    }
    assert!(uuids.contains(&"trunc-1".to_string()), "the payload's own uuid is used when present");
}

async fn handler_release_and_fail_and_quiet_delete(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    for action in ["release", "fail", "quiet"] {
        db.store.push(&[job(action, payload(CLASS, json!({"maxTries": 5})), now)], now).await.unwrap();
    }
    let mut r = Registry::new();
    r.register_fn(CLASS, |ctx| async move {
        Ok(match ctx.queue.as_str() {
            "release" => HandlerOutcome::Release { delay: 120 },
            "fail" => HandlerOutcome::Fail(JobError::new(cv_worker::protocol::exception::MANUALLY_FAILED, "")),
            _ => HandlerOutcome::DeleteQuietly,
        })
    });
    let report = work(&db, r, options(&["release", "fail", "quiet"])).await;
    assert_eq!((report.processed, report.released, report.failed), (1, 1, 1));
    assert_eq!(db.query_strings("SELECT queue FROM jobs").await, vec!["release".to_string()]);
    assert!(db.query_i64("SELECT available_at FROM jobs").await[0] >= now + 120);
    assert_eq!(db.query_strings("SELECT queue FROM failed_jobs").await, vec!["fail".to_string()]);
}

async fn max_jobs_stops_claiming(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let jobs: Vec<NewJob> = (0..10).map(|_| job("default", payload(CLASS, json!({})), now)).collect();
    db.store.push(&jobs, now).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let r = counting(calls.clone(), |_| Ok(HandlerOutcome::Done));
    let report = work(&db, r, WorkerOptions { max_jobs: 3, stop_when_empty: false, ..options(&["default"]) }).await;
    assert_eq!(report.processed, 3);
    assert_eq!(db.count("jobs").await, 7);
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM jobs WHERE reserved_at IS NOT NULL").await,
        vec![0],
        "nothing claimed beyond max-jobs"
    );
}

async fn drains_many_jobs_with_batched_completion(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let total = 3000;
    let jobs: Vec<NewJob> =
        (0..total).map(|i| job("default", payload(CLASS, json!({"maxTries": 2, "i": i})), now)).collect();
    db.store.push(&jobs, now).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    // Every 100th job fails once, then succeeds on its retry.
    let mut r = Registry::new();
    let c = calls.clone();
    r.register_fn(CLASS, move |ctx| {
        c.fetch_add(1, Ordering::SeqCst);
        async move {
            let i = ctx.payload.uuid.as_deref().map(|u| u.as_bytes()[0] as usize).unwrap_or(0);
            if ctx.attempts == 1 && ctx.id % 100 == 0 {
                return Err(JobError::runtime(format!("flaky {i}")));
            }
            Ok(HandlerOutcome::Done)
        }
    });
    let report = work(&db, r, WorkerOptions { concurrency: 32, ..options(&["default"]) }).await;
    assert_eq!(report.processed, total as u64);
    assert_eq!(report.failed, 0);
    assert_eq!(report.released as usize, calls.load(Ordering::SeqCst) - total);
    assert!(report.released >= 20, "some jobs were retried: {}", report.released);
    assert_eq!(db.count("jobs").await, 0);
    assert_eq!(db.count("failed_jobs").await, 0);
}

// --- batches and failed jobs (issue 3) ---

/// `n` dispatches of CLASS; those whose index is in `failing` carry `fail: true`.
fn batch_dispatches(n: usize, failing: impl Fn(usize) -> bool) -> Vec<cv_worker::enqueue::Dispatch> {
    (0..n)
        .map(|i| {
            let serde_json::Value::Object(properties) = json!({"i": i, "fail": failing(i)}) else { unreachable!() };
            cv_worker::enqueue::Dispatch {
                class: CLASS.into(),
                properties,
                queue: "default".into(),
                ..Default::default()
            }
        })
        .collect()
}

/// CLASS fails (an exception; tries 1 → failed) when its `fail` property is true and
/// `failing_on` is set; every run is counted.
fn batch_registry(calls: Arc<AtomicUsize>, failing_on: Arc<std::sync::atomic::AtomicBool>) -> Registry {
    let mut r = Registry::new();
    r.register_fn(CLASS, move |ctx| {
        calls.fetch_add(1, Ordering::SeqCst);
        let fail = failing_on.load(Ordering::SeqCst) && ctx.command.get("fail").and_then(|v| v.as_bool()) == Some(true);
        async move { if fail { Err(JobError::runtime("batch member failed")) } else { Ok(HandlerOutcome::Done) } }
    });
    r
}

async fn batch_counters_stay_exact_under_two_workers(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let total = 1000;
    let fails = |i: usize| i % 27 == 13; // 37 of 1000
    let mut dispatches = batch_dispatches(total, fails);
    let (batch, uuids) =
        cv_worker::batches::create(&*db.store, "import", None, true, &mut dispatches, now).await.unwrap();
    assert_eq!((batch.total_jobs, batch.pending_jobs, batch.failed_jobs), (1000, 1000, 0));
    let failing: std::collections::BTreeSet<String> =
        uuids.iter().enumerate().filter(|(i, _)| fails(*i)).map(|(_, u)| u.clone()).collect();
    assert_eq!(failing.len(), 37);

    let calls = Arc::new(AtomicUsize::new(0));
    let failing_on = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let run_two = |stores: [Arc<dyn cv_worker::store::Store>; 2]| {
        let calls = calls.clone();
        let failing_on = failing_on.clone();
        async move {
            let mut handles = Vec::new();
            for store in stores {
                let registry = Arc::new(batch_registry(calls.clone(), failing_on.clone()));
                let options = WorkerOptions { concurrency: 8, ..options(&["default"]) };
                handles.push(tokio::spawn(async move {
                    tokio::time::timeout(
                        Duration::from_secs(120),
                        worker::run(store, registry, options, CancellationToken::new()),
                    )
                    .await
                    .expect("worker finished in time")
                    .expect("worker ran")
                }));
            }
            let mut reports = Vec::new();
            for h in handles {
                reports.push(h.await.unwrap());
            }
            reports
        }
    };
    let reports = run_two([db.another_store().await, db.another_store().await]).await;
    assert_eq!(reports.iter().map(|r| r.processed).sum::<u64>(), 963);
    assert_eq!(reports.iter().map(|r| r.failed).sum::<u64>(), 37);
    assert!(reports.iter().all(|r| r.processed > 0), "both workers took part: {reports:?}");
    let b = cv_worker::batches::find(&*db.store, &batch.id).await.unwrap().unwrap();
    assert_eq!((b.total_jobs, b.pending_jobs, b.failed_jobs, b.processed_jobs), (1000, 37, 37, 963));
    assert_eq!(b.progress, 96);
    let ids: std::collections::BTreeSet<String> = b.failed_job_ids.iter().cloned().collect();
    assert_eq!(ids.len(), b.failed_job_ids.len(), "failed_job_ids has no duplicates");
    assert_eq!(ids, failing);
    assert!(b.cancelled_at.is_none() && b.finished_at.is_none(), "allowFailures: not cancelled, not finished");
    assert_eq!(db.count("jobs").await, 0);
    assert_eq!(db.count("failed_jobs").await, 37);
    assert_eq!(reports.iter().map(|r| r.batches_finished).sum::<u64>(), 0);

    // Retry the 37 (they succeed now): pending reaches 0 once, finished_at is set exactly once.
    failing_on.store(false, Ordering::SeqCst);
    let retried = cv_worker::batches::retry(&*db.store, &batch.id, unix_now()).await.unwrap();
    assert_eq!(retried.iter().filter(|r| r.retried).count(), 37);
    let reports = run_two([db.another_store().await, db.another_store().await]).await;
    assert_eq!(reports.iter().map(|r| r.processed).sum::<u64>(), 37);
    assert_eq!(reports.iter().map(|r| r.batches_finished).sum::<u64>(), 1, "finished exactly once");
    let b = cv_worker::batches::find(&*db.store, &batch.id).await.unwrap().unwrap();
    assert_eq!((b.pending_jobs, b.failed_jobs, b.progress), (0, 37, 100));
    assert!(b.failed_job_ids.is_empty());
    assert!(b.finished_at.is_some() && b.cancelled_at.is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 1037);
    assert_eq!(db.count("failed_jobs").await, 0);
}

async fn batch_is_cancelled_on_first_failure_and_the_rest_skipped(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let mut dispatches = batch_dispatches(20, |i| i == 0);
    let (batch, uuids) = cv_worker::batches::create(&*db.store, "", None, false, &mut dispatches, now).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let registry = batch_registry(calls.clone(), Arc::new(std::sync::atomic::AtomicBool::new(true)));
    // One slot: the failure is committed before the next job is reserved.
    let report = work(&db, registry, WorkerOptions { concurrency: 1, ..options(&["default"]) }).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "only the first job ran");
    assert_eq!((report.processed, report.failed), (19, 1));
    assert_eq!(db.count("jobs").await, 0, "the remaining jobs were deleted without running");
    let b = cv_worker::batches::find(&*db.store, &batch.id).await.unwrap().unwrap();
    // Skipped jobs count as successes (SkipIfBatchCancelled); the failed one stays pending.
    assert_eq!((b.pending_jobs, b.failed_jobs), (1, 1));
    assert_eq!(b.failed_job_ids, vec![uuids[0].clone()]);
    assert!(b.cancelled() && b.finished());
    assert_eq!(b.cancelled_at, b.finished_at);
    assert_eq!(db.count("failed_jobs").await, 1);
}

async fn batch_retry_brings_the_counters_back(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let mut dispatches = batch_dispatches(3, |i| i == 1);
    let (batch, uuids) = cv_worker::batches::create(&*db.store, "r", None, true, &mut dispatches, now).await.unwrap();
    let failing_on = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let calls = Arc::new(AtomicUsize::new(0));
    work(&db, batch_registry(calls.clone(), failing_on.clone()), options(&["default"])).await;
    let b = cv_worker::batches::find(&*db.store, &batch.id).await.unwrap().unwrap();
    assert_eq!((b.pending_jobs, b.failed_jobs, b.progress), (1, 1, 67));
    assert_eq!(b.failed_job_ids, vec![uuids[1].clone()]);
    assert!(!b.finished());

    // queue:retry-batch: the failed job goes back with attempts 0 and its payload bytes.
    let stored: Vec<String> = db.query_strings("SELECT payload FROM failed_jobs").await;
    let retried = cv_worker::batches::retry(&*db.store, &batch.id, unix_now()).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert!(retried[0].retried);
    assert_eq!(db.query_strings("SELECT payload FROM jobs").await, stored);
    assert_eq!(db.query_i64("SELECT attempts FROM jobs").await, vec![0]);
    assert_eq!(db.count("failed_jobs").await, 0);
    // Laravel leaves the batch row alone until the retried job completes.
    let b = cv_worker::batches::find(&*db.store, &batch.id).await.unwrap().unwrap();
    assert_eq!((b.pending_jobs, b.failed_jobs), (1, 1));

    failing_on.store(false, Ordering::SeqCst);
    let report = work(&db, batch_registry(calls.clone(), failing_on), options(&["default"])).await;
    assert_eq!((report.processed, report.batches_finished), (1, 1));
    let b = cv_worker::batches::find(&*db.store, &batch.id).await.unwrap().unwrap();
    // pending 0, the uuid leaves failed_job_ids, failed_jobs keeps counting failure events.
    assert_eq!((b.pending_jobs, b.failed_jobs, b.processed_jobs, b.progress), (0, 1, 3, 100));
    assert!(b.failed_job_ids.is_empty());
    assert!(b.finished() && !b.cancelled());
    // Nothing left to retry.
    let e = cv_worker::batches::retry(&*db.store, &batch.id, unix_now()).await.unwrap_err();
    assert_eq!(e.to_string(), "The given batch does not contain any failed jobs.");
    let e = cv_worker::batches::retry(&*db.store, "nope", unix_now()).await.unwrap_err();
    assert_eq!(e.to_string(), "Unable to find a batch with ID [nope].");
}

async fn batch_cancel_list_and_prune(d: Dialect) {
    use cv_worker::batches::{self, BatchPrune};
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let day = 86_400;
    let s = &*db.store;
    let (old_cancelled, _) =
        batches::create(s, "a", Some("q"), false, &mut batch_dispatches(2, |_| false), now - 3 * day).await.unwrap();
    let (old_open, _) =
        batches::create(s, "b", None, false, &mut batch_dispatches(1, |_| false), now - 3 * day).await.unwrap();
    let (fresh, _) = batches::create(s, "c", None, false, &mut batch_dispatches(1, |_| false), now).await.unwrap();
    assert_eq!(fresh.options, json!([]));
    let cancelled = batches::cancel(s, &old_cancelled.id, now - 2 * day).await.unwrap();
    assert!(cancelled.cancelled() && cancelled.finished());
    assert_eq!(cancelled.options, json!({"queue": "q"}));
    assert!(matches!(batches::cancel(s, "missing", now).await, Err(batches::BatchError::NotFound(_))));

    // Newest first; ids are time-ordered.
    let listed: Vec<String> = batches::list(s, 50, None).await.unwrap().into_iter().map(|b| b.name).collect();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0], "c");
    assert_eq!(batches::list(s, 1, None).await.unwrap().len(), 1);

    // The cancelled batch's jobs are deleted without running.
    let calls = Arc::new(AtomicUsize::new(0));
    let report = work(&db, batch_registry(calls.clone(), Arc::new(false.into())), options(&["default"])).await;
    assert_eq!(report.processed, 4);
    assert_eq!(calls.load(Ordering::SeqCst), 2, "only the two non-cancelled batches ran");

    // prune: finished (incl. cancelled) older than 24 h; --unfinished; --cancelled.
    assert_eq!(batches::prune(s, BatchPrune::Cancelled, 24, now).await.unwrap(), 1);
    assert!(batches::find(s, &old_cancelled.id).await.unwrap().is_none());
    assert_eq!(batches::prune(s, BatchPrune::Unfinished, 24, now).await.unwrap(), 0, "b finished when its job ran");
    assert_eq!(batches::prune(s, BatchPrune::Finished, 24, now).await.unwrap(), 0, "finished just now");
    assert_eq!(batches::prune(s, BatchPrune::Finished, 0, unix_now() + 1).await.unwrap(), 2);
    assert!(batches::find(s, &old_open.id).await.unwrap().is_none());
}

/// Fails one job of `queue` at time `at`; returns its uuid.
async fn fail_one(db: &TestDb, queue: &str, class: &str, at: i64) -> String {
    let raw = payload(class, json!({}));
    let uuid = serde_json::from_str::<serde_json::Value>(&raw).unwrap()["uuid"].as_str().unwrap().to_string();
    db.store.push(&[job(queue, raw, at)], at).await.unwrap();
    let j = db.store.reserve(queue, 1, at, 90).await.unwrap().remove(0);
    let c = Completion {
        job: j,
        uuid: uuid.clone(),
        outcome: Outcome::Fail { exception: "RuntimeException: boom".into() },
        batch_id: None,
    };
    assert_eq!(db.store.complete(&[c], "database", at).await.unwrap().failed, 1);
    uuid
}

async fn failed_jobs_list_show_forget_flush_prune(d: Dialect) {
    use cv_worker::failed;
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let s = &*db.store;
    let old = fail_one(&db, "a", "App\\Jobs\\Old", now - 48 * 3600).await;
    let mid = fail_one(&db, "b", "App\\Jobs\\Mid", now - 2 * 3600).await;
    let new = fail_one(&db, "a", CLASS, now).await;

    let list = failed::list(s).await.unwrap();
    assert_eq!(list.iter().map(|f| f.id.clone()).collect::<Vec<_>>(), vec![new.clone(), mid.clone(), old.clone()]);
    assert_eq!(list[0].class, CLASS);
    assert_eq!((list[1].connection.as_str(), list[1].queue.as_str()), ("database", "b"));
    assert_eq!(list[0].failed_at, cv_worker::store::failed_at_string(now));
    let shown = failed::show(s, &mid).await.unwrap().unwrap();
    assert_eq!(shown.exception, "RuntimeException: boom");
    assert!(shown.payload.contains("App\\\\Jobs\\\\Mid"));
    assert!(failed::show(s, "nope").await.unwrap().is_none());

    // queue:prune-failed --hours=24: strictly older.
    assert_eq!(failed::prune(s, 24, now).await.unwrap(), 1);
    assert!(failed::show(s, &old).await.unwrap().is_none());
    // queue:flush --hours=2: failed_at <= now - 2h (inclusive).
    assert_eq!(failed::flush(s, Some(2), now).await.unwrap(), 1);
    assert!(failed::show(s, &mid).await.unwrap().is_none());
    // queue:forget.
    assert!(failed::forget(s, &new).await.unwrap());
    assert!(!failed::forget(s, &new).await.unwrap());
    fail_one(&db, "a", CLASS, now).await;
    fail_one(&db, "b", CLASS, now).await;
    assert_eq!(failed::flush(s, None, now).await.unwrap(), 2);
    assert_eq!(db.count("failed_jobs").await, 0);
}

async fn failed_retry_requeues_once_with_attempts_reset(d: Dialect) {
    use cv_worker::failed::{self, Selection};
    let db = TestDb::migrated(d).await;
    let now = unix_now();
    let s = &*db.store;
    let a = fail_one(&db, "qa", CLASS, now).await;
    let b = fail_one(&db, "qb", CLASS, now).await;
    let c = fail_one(&db, "qb", CLASS, now).await;
    let stored = failed::show(s, &b).await.unwrap().unwrap().payload;

    let ids = failed::resolve(s, &Selection::Queue("qb".into())).await.unwrap();
    assert_eq!(ids, vec![c.clone(), b.clone()]);
    let done = failed::retry(s, &ids, now).await.unwrap();
    assert!(done.iter().all(|r| r.retried));
    assert_eq!(db.query_i64("SELECT attempts FROM jobs").await, vec![0, 0]);
    assert_eq!(db.query_i64("SELECT available_at FROM jobs WHERE queue = 'qb'").await, vec![now, now]);
    assert!(db.query_strings("SELECT payload FROM jobs").await.contains(&stored), "payload bytes kept");
    assert_eq!(failed::list(s).await.unwrap().len(), 1);
    // Retrying again finds nothing: queued once.
    let again = failed::retry(s, &[b.clone(), "nope".into()], now).await.unwrap();
    assert!(again.iter().all(|r| !r.retried));
    assert_eq!(db.count("jobs").await, 2);

    // Numeric ids: looked up as failed_jobs.id when no uuid matches (`--range`).
    let id = db.query_i64("SELECT id FROM failed_jobs").await[0];
    let ids = failed::resolve(s, &Selection::Ids(failed::expand_ranges(&[format!("{id}-{id}")]))).await.unwrap();
    assert_eq!(ids, vec![a.clone()]);
    assert_eq!(failed::resolve(s, &Selection::All).await.unwrap(), vec![a.clone()]);
    failed::retry(s, &ids, now).await.unwrap();
    assert_eq!(db.count("failed_jobs").await, 0);

    // A payload with an `attempts` key gets it reset, nothing else changes.
    assert_eq!(failed::reset_attempts(r#"{"attempts":4,"x":"\/"}"#), r#"{"attempts":0,"x":"\/"}"#);
    // The requeued jobs run.
    let calls = Arc::new(AtomicUsize::new(0));
    let r = counting(calls.clone(), |_| Ok(HandlerOutcome::Done));
    let report = work(&db, r, options(&["qa", "qb"])).await;
    assert_eq!(report.processed, 3);
}
