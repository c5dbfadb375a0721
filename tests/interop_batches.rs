//! Batches and failed jobs across the PHP/Rust boundary, on each database, with the real
//! Laravel 8.83 app in `tests/laravel`: `Bus::batch()` dispatched by PHP and worked by
//! cv-worker reads back correctly through `Bus::findBatch()`; cv-worker's failures are listed
//! and retried by artisan (`queue:failed`, `queue:retry all`, `queue:retry-batch`); cv-worker
//! retries rows written by Laravel's own worker; a batch created by `cv-worker enqueue --batch`
//! is read by `Bus::findBatch()` and completed by Laravel's worker. PHP is required: a missing
//! PHP fails these tests.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::TestDb;
use cv_worker::handlers::{HandlerOutcome, Registry};
use cv_worker::protocol::exception::JobError;
use cv_worker::store::{DatabaseUrl, Dialect};
use cv_worker::worker::{self, WorkReport, WorkerOptions};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

macro_rules! per_dialect {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Mysql).await } )* }
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Sqlite).await } )* }
    };
}

per_dialect!(
    laravel_batch_worked_by_cv_worker_reads_back_in_php_and_retry_batch_completes_it,
    batch_cancelled_by_cv_worker_is_cancelled_for_php_and_queue_retry_all_completes_it,
    cv_worker_failed_retry_requeues_rows_written_by_laravels_worker,
    cv_worker_enqueue_batch_is_read_by_find_batch_and_run_by_laravel,
);

const NOOP: &str = "App\\Jobs\\NoopJob";
const FAILING: &str = "App\\Jobs\\FailingJob";

fn artisan_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/laravel/artisan")
}

/// `php artisan …` pointed at the test database; must succeed.
fn artisan(db: &TestDb, args: &[&str]) -> Output {
    let url = DatabaseUrl::from_str(&db.url).unwrap();
    let out = Command::new("php")
        .arg(artisan_path())
        .args(args)
        .envs(cv_worker::bench::laravel_env(&url))
        .env("LOG_CHANNEL", "null")
        .output()
        .expect("PHP is required for the Laravel interop tests (scripts/install-test-deps installs it)");
    assert!(
        out.status.success(),
        "php artisan {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `cv-worker` binary on the test database; must succeed.
fn cv_worker_cli(db: &TestDb, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .arg("--database-url")
        .arg(&db.url)
        .args(args)
        .env_remove("CV_WORKER_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run cv-worker");
    assert!(
        out.status.success(),
        "cv-worker {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The last JSON line of stdout (`null` included).
fn json_of(out: &Output) -> Value {
    let text = stdout(out);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{') || l.trim_start().starts_with('[') || l.trim() == "null")
        .unwrap_or_else(|| panic!("no JSON in {text}"));
    serde_json::from_str(line).unwrap()
}

/// `Bus::findBatch($id)->toArray()` plus failedJobIds, from PHP.
fn find_batch(db: &TestDb, id: &str) -> Value {
    json_of(&artisan(db, &["interop:find-batch", id, "--with-ids"]))
}

fn set(v: &Value) -> BTreeSet<String> {
    v.as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect()
}

/// A database with Laravel's own migrations, then cv-worker's.
async fn laravel_db(d: Dialect) -> TestDb {
    let db = TestDb::empty(d).await;
    artisan(&db, &["migrate", "--force"]);
    db.store.migrate().await.expect("cv-worker migrate on a Laravel database");
    db
}

/// NoopJob succeeds; FailingJob throws (tries 1: failed) while `failing` is set, else succeeds.
fn registry(failing: Arc<AtomicBool>, runs: Arc<AtomicUsize>) -> Registry {
    let mut r = Registry::new();
    let n = runs.clone();
    r.register_fn(NOOP, move |_| {
        n.fetch_add(1, Ordering::SeqCst);
        async { Ok(HandlerOutcome::Done) }
    });
    r.register_fn(FAILING, move |_| {
        runs.fetch_add(1, Ordering::SeqCst);
        let fail = failing.load(Ordering::SeqCst);
        async move { if fail { Err(JobError::runtime("boom")) } else { Ok(HandlerOutcome::Done) } }
    });
    r
}

async fn work(db: &TestDb, registry: Registry, queues: &[&str], concurrency: usize) -> WorkReport {
    let options = WorkerOptions {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency,
        sleep: Duration::from_millis(50),
        stop_when_empty: true,
        ..WorkerOptions::default()
    };
    tokio::time::timeout(
        Duration::from_secs(60),
        worker::run(db.store.clone(), Arc::new(registry), options, CancellationToken::new()),
    )
    .await
    .expect("worker finished in time")
    .expect("worker ran")
}

/// PHP's toArray and cv-worker's BatchView agree, key for key.
async fn assert_same_view(db: &TestDb, php: &Value) {
    let id = php["id"].as_str().unwrap();
    let ours = cv_worker::batches::find(&*db.store, id).await.unwrap().expect("cv-worker finds the batch");
    let ours = serde_json::to_value(ours.with_failed_job_ids()).unwrap();
    let mut php = php.clone();
    let mut ours_cmp = ours.clone();
    // Order of failed ids is the order of failure events; compare as sets.
    let (a, b) = (set(&php["failedJobIds"]), set(&ours_cmp["failedJobIds"]));
    assert_eq!(a, b);
    php.as_object_mut().unwrap().remove("failedJobIds");
    ours_cmp.as_object_mut().unwrap().remove("failedJobIds");
    assert_eq!(ours_cmp, php, "cv-worker's BatchView equals Laravel's Batch::toArray()");
}

async fn laravel_batch_worked_by_cv_worker_reads_back_in_php_and_retry_batch_completes_it(d: Dialect) {
    let db = laravel_db(d).await;
    let batch = json_of(&artisan(
        &db,
        &["interop:batch", "--count=6", "--fail=2", "--allow-failures", "--queue=bq", "--name=mixed", "--callbacks"],
    ));
    let id = batch["id"].as_str().unwrap().to_string();
    let failing = Arc::new(AtomicBool::new(true));
    let runs = Arc::new(AtomicUsize::new(0));
    let report = work(&db, registry(failing.clone(), runs.clone()), &["bq"], 4).await;
    assert_eq!((report.processed, report.failed), (4, 2));

    let php = find_batch(&db, &id);
    assert_eq!(php["totalJobs"], 6);
    assert_eq!(php["pendingJobs"], 2);
    assert_eq!(php["processedJobs"], 4);
    assert_eq!(php["progress"], 67);
    assert_eq!(php["failedJobs"], 2);
    assert_eq!(php["finishedAt"], Value::Null);
    assert_eq!(php["cancelledAt"], Value::Null);
    assert_eq!(set(&php["failedJobIds"]), set(&batch["failing_uuids"]));
    assert_eq!(php["options"]["allowFailures"], true);
    assert_eq!(php["options"]["then"], json!([{}]), "closures print as {{}}");
    assert_same_view(&db, &php).await;
    // cv-worker sees the PHP callbacks it cannot run (and logs that they will not run).
    let raw = db.query_strings("SELECT options FROM job_batches").await;
    let options = cv_worker::batches::parse_options(raw.first().map(String::as_str));
    assert!(options.allow_failures);
    assert_eq!(options.callbacks, vec!["then", "catch", "finally"]);

    // Laravel's queue:failed lists cv-worker's failures.
    let listed = stdout(&artisan(&db, &["queue:failed"]));
    for uuid in set(&batch["failing_uuids"]) {
        assert!(listed.contains(&uuid), "{uuid} in\n{listed}");
    }
    assert!(listed.contains("App\\Jobs\\FailingJob"), "{listed}");

    // queue:retry-batch re-queues them; cv-worker completes them and the batch finishes.
    let retried = stdout(&artisan(&db, &["queue:retry-batch", &id]));
    assert_eq!(retried.matches("has been pushed back onto the queue").count(), 2, "{retried}");
    failing.store(false, Ordering::SeqCst);
    let report = work(&db, registry(failing, runs.clone()), &["bq"], 4).await;
    assert_eq!((report.processed, report.failed, report.batches_finished), (2, 0, 1));
    let php = find_batch(&db, &id);
    assert_eq!(php["pendingJobs"], 0);
    assert_eq!(php["failedJobs"], 2, "Laravel never decrements failed_jobs");
    assert_eq!(php["progress"], 100);
    assert_eq!(php["failedJobIds"], json!([]));
    assert_ne!(php["finishedAt"], Value::Null);
    assert_same_view(&db, &php).await;
    assert_eq!(db.count("failed_jobs").await, 0);
    assert_eq!(runs.load(Ordering::SeqCst), 8);
}

async fn batch_cancelled_by_cv_worker_is_cancelled_for_php_and_queue_retry_all_completes_it(d: Dialect) {
    let db = laravel_db(d).await;
    // Jobs 1-2 NoopJob, 3-4 FailingJob; no allowFailures.
    let batch = json_of(&artisan(&db, &["interop:batch", "--count=4", "--fail=2", "--queue=bq"]));
    let id = batch["id"].as_str().unwrap().to_string();
    let uuids: Vec<String> =
        batch["uuids"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect();
    let runs = Arc::new(AtomicUsize::new(0));
    // One slot, FIFO: job 3 fails and cancels the batch before job 4 is reserved.
    let report = work(&db, registry(Arc::new(AtomicBool::new(true)), runs.clone()), &["bq"], 1).await;
    assert_eq!(runs.load(Ordering::SeqCst), 3, "job 4 was not run");
    assert_eq!((report.processed, report.failed), (3, 1));
    assert_eq!(db.count("jobs").await, 0);

    let php = find_batch(&db, &id);
    assert_ne!(php["cancelledAt"], Value::Null);
    assert_eq!(php["cancelledAt"], php["finishedAt"]);
    assert_eq!(php["failedJobs"], 1);
    assert_eq!(php["pendingJobs"], 1, "the skipped job counted as a success");
    assert_eq!(php["failedJobIds"], json!([uuids[2].clone()]));
    assert_same_view(&db, &php).await;
    let listed = stdout(&artisan(&db, &["queue:failed"]));
    assert!(listed.contains(&uuids[2]), "{listed}");

    // Laravel's queue:retry all; cv-worker takes the job, sees the batch cancelled, and
    // deletes it as a success without running it (SkipIfBatchCancelled).
    let retried = stdout(&artisan(&db, &["queue:retry", "all"]));
    assert!(retried.contains(&uuids[2]), "{retried}");
    let report = work(&db, registry(Arc::new(AtomicBool::new(true)), runs.clone()), &["bq"], 1).await;
    assert_eq!((report.processed, report.failed), (1, 0));
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let php = find_batch(&db, &id);
    assert_eq!(php["pendingJobs"], 0);
    assert_eq!(php["failedJobIds"], json!([]));
    assert_ne!(php["cancelledAt"], Value::Null);
    assert_eq!(db.count("failed_jobs").await, 0);
}

async fn cv_worker_failed_retry_requeues_rows_written_by_laravels_worker(d: Dialect) {
    let db = laravel_db(d).await;
    let dispatched = json_of(&artisan(&db, &["interop:dispatch", "failing", "--count=2", "--queue=lq"]));
    artisan(&db, &["queue:work", "--queue=lq", "--stop-when-empty", "--sleep=0", "--tries=1"]);
    assert_eq!(db.count("failed_jobs").await, 2, "Laravel's worker failed both");

    // cv-worker reads Laravel's rows.
    let listed = json_of(&cv_worker_cli(&db, &["failed", "list", "--json"]));
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["class"] == FAILING && r["connection"] == "database" && r["queue"] == "lq"));
    assert_eq!(
        rows.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect::<BTreeSet<_>>(),
        set(&dispatched["uuids"])
    );
    let first = rows[0]["id"].as_str().unwrap();
    let shown = json_of(&cv_worker_cli(&db, &["failed", "show", first, "--json"]));
    assert!(shown["exception"].as_str().unwrap().contains("boom"), "{shown}");
    assert_eq!(shown["failed_at"].as_str().unwrap().len(), 19, "{shown}");
    let stored_payloads = db.query_strings("SELECT payload FROM failed_jobs ORDER BY id").await;

    // cv-worker failed retry all: back on lq with attempts 0 and the same payload bytes.
    let out = stdout(&cv_worker_cli(&db, &["failed", "retry", "all"]));
    assert_eq!(out.matches("has been pushed back onto the queue!").count(), 2, "{out}");
    assert_eq!(db.count("failed_jobs").await, 0);
    assert_eq!(db.query_i64("SELECT attempts FROM jobs").await, vec![0, 0]);
    let mut requeued = db.query_strings("SELECT payload FROM jobs").await;
    let mut stored = stored_payloads.clone();
    requeued.sort();
    stored.sort();
    assert_eq!(requeued, stored);

    // cv-worker completes them (its FailingJob handler succeeds).
    let runs = Arc::new(AtomicUsize::new(0));
    let report = work(&db, registry(Arc::new(AtomicBool::new(false)), runs.clone()), &["lq"], 2).await;
    assert_eq!((report.processed, report.failed), (2, 0));
    assert_eq!(db.count("jobs").await, 0);

    // And the other commands on Laravel-written rows: fail them again with PHP, then forget / flush.
    artisan(&db, &["interop:dispatch", "failing", "--count=2", "--queue=lq"]);
    artisan(&db, &["queue:work", "--queue=lq", "--stop-when-empty", "--sleep=0", "--tries=1"]);
    let listed = json_of(&cv_worker_cli(&db, &["failed", "list", "--json"]));
    let one = listed[0]["id"].as_str().unwrap().to_string();
    let out = stdout(&cv_worker_cli(&db, &["failed", "forget", &one]));
    assert!(out.contains("Failed job deleted successfully!"), "{out}");
    let out = stdout(&cv_worker_cli(&db, &["failed", "prune", "--hours", "1"]));
    assert!(out.contains("0 entries deleted!"), "{out}");
    let out = stdout(&cv_worker_cli(&db, &["failed", "flush"]));
    assert!(out.contains("All failed jobs deleted successfully!"), "{out}");
    assert_eq!(db.count("failed_jobs").await, 0);
    assert!(stdout(&artisan(&db, &["queue:failed"])).contains("No failed jobs"));
}

async fn cv_worker_enqueue_batch_is_read_by_find_batch_and_run_by_laravel(d: Dialect) {
    let db = laravel_db(d).await;
    let made = json_of(&cv_worker_cli(
        &db,
        &["enqueue", NOOP, "--count", "3", "--batch", "made-in-rust", "--allow-failures", "--queue", "rq"],
    ));
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(made["jobUuids"].as_array().unwrap().len(), 3);

    let php = find_batch(&db, &id);
    assert_eq!(php["id"], id.as_str());
    assert_eq!(php["name"], "made-in-rust");
    assert_eq!(
        (php["totalJobs"].clone(), php["pendingJobs"].clone(), php["failedJobs"].clone()),
        (json!(3), json!(3), json!(0))
    );
    assert_eq!(php["options"], json!({"queue": "rq", "allowFailures": true}));
    assert_eq!(php["finishedAt"], Value::Null);
    assert_same_view(&db, &php).await;
    let mut printed = made.clone();
    printed.as_object_mut().unwrap().remove("jobUuids");
    let mut php_cmp = php.clone();
    php_cmp.as_object_mut().unwrap().remove("failedJobIds");
    assert_eq!(printed, php_cmp, "what `enqueue --batch` printed is what PHP reads");

    // Laravel's own worker runs the jobs: the batchId in the command ties them to the batch.
    artisan(&db, &["queue:work", "--queue=rq", "--stop-when-empty", "--sleep=0", "--tries=1"]);
    assert_eq!(db.count("failed_jobs").await, 0);
    let php = find_batch(&db, &id);
    assert_eq!(php["pendingJobs"], 0, "{php}");
    assert_eq!(php["progress"], 100);
    assert_ne!(php["finishedAt"], Value::Null);

    // A batch from --batch-file, mixed classes, read by PHP; cv-worker works it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("batch.json");
    std::fs::write(&file, json!([{"class": NOOP, "data": {}}, {"class": FAILING}]).to_string()).unwrap();
    let made = json_of(&cv_worker_cli(
        &db,
        &["enqueue", "--batch-file", file.to_str().unwrap(), "--batch", "from-file", "--queue", "rq"],
    ));
    let id = made["id"].as_str().unwrap().to_string();
    let runs = Arc::new(AtomicUsize::new(0));
    work(&db, registry(Arc::new(AtomicBool::new(true)), runs), &["rq"], 1).await;
    let php = find_batch(&db, &id);
    assert_eq!(
        (php["totalJobs"].clone(), php["pendingJobs"].clone(), php["failedJobs"].clone()),
        (json!(2), json!(1), json!(1))
    );
    assert_ne!(php["cancelledAt"], Value::Null, "no allowFailures: cancelled");
    assert_same_view(&db, &php).await;
    // cv-worker batches show agrees.
    let shown = json_of(&cv_worker_cli(&db, &["batches", "show", &id, "--json"]));
    assert_eq!(set(&shown["failedJobIds"]), set(&php["failedJobIds"]));
}
