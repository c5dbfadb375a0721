//! Interop with a real Laravel (8.83 from Debian's packages, the app in `tests/laravel`), on
//! each database: Laravel dispatches and cv-worker works; cv-worker fails and Laravel's
//! `queue:failed` / `queue:retry` accept the rows; cv-worker enqueues and Laravel's own
//! `queue:work` runs the job. PHP is required: a missing PHP fails these tests.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestDb;
use cv_worker::handlers::{HandlerOutcome, Registry};
use cv_worker::store::{DatabaseUrl, Dialect};
use cv_worker::worker::{self, WorkReport, WorkerOptions};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

macro_rules! per_dialect {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Mysql).await } )* }
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Sqlite).await } )* }
    };
}

per_dialect!(
    laravel_dispatches_and_cv_worker_works_them,
    cv_worker_failures_are_listed_and_retried_by_laravel,
    cv_worker_enqueue_is_run_by_laravels_worker,
    migrate_adds_only_what_a_laravel_app_lacks,
);

fn artisan_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/laravel/artisan")
}

/// `php artisan …` pointed at the test database.
fn artisan(db: &TestDb, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let url = DatabaseUrl::from_str(&db.url).unwrap();
    let out = Command::new("php")
        .arg(artisan_path())
        .args(args)
        .envs(cv_worker::bench::laravel_env(&url))
        .env("LOG_CHANNEL", "null")
        .envs(extra_env.iter().copied())
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

fn json(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let line =
        text.lines().rev().find(|l| l.trim_start().starts_with('{')).unwrap_or_else(|| panic!("no JSON in {text}"));
    serde_json::from_str(line).unwrap()
}

/// A database with Laravel's own migrations, then cv-worker's (which add only the CV tables).
async fn laravel_db(d: Dialect) -> TestDb {
    let db = TestDb::empty(d).await;
    artisan(&db, &["migrate", "--force"], &[]);
    db.store.migrate().await.expect("cv-worker migrate on a Laravel database");
    db
}

async fn work(db: &TestDb, registry: Registry, queues: &[&str]) -> WorkReport {
    let options = WorkerOptions {
        queues: queues.iter().map(|q| q.to_string()).collect(),
        concurrency: 4,
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

/// A `GenerateCvPdf` (SerializesModels: the CV arrives as a ModelIdentifier) and a batched
/// job dispatched by Laravel are read correctly by cv-worker's handlers.
async fn laravel_dispatches_and_cv_worker_works_them(d: Dialect) {
    let db = laravel_db(d).await;
    let seeded = json(&artisan(&db, &["interop:seed-cv", "--versions=1"], &[]));
    let cv_id = seeded["cv_id"].as_i64().unwrap();
    let version_id = seeded["version_ids"][0].as_i64().unwrap();
    let cv_id_s = cv_id.to_string();
    let version_s = version_id.to_string();
    let dispatched = json(&artisan(
        &db,
        &[
            "interop:dispatch",
            "generate-cv",
            "--cv",
            &cv_id_s,
            "--cv-version",
            &version_s,
            "--template",
            "modern",
            "--queue",
            "pdf",
        ],
        &[],
    ));
    let batch = json(&artisan(&db, &["interop:batch", "--count=3", "--queue=pdf", "--name=interop"], &[]));

    let seen = Arc::new(Mutex::new(Vec::<Value>::new()));
    let mut registry = Registry::new();
    let s = seen.clone();
    registry.register_fn("App\\Jobs\\GenerateCvPdf", move |job| {
        let s = s.clone();
        async move {
            let model = job.command.model("cv").expect("a ModelIdentifier for cv");
            s.lock().unwrap().push(serde_json::json!({
                "uuid": job.uuid, "model": model.class, "id": model.id.as_i64(),
                "version": job.command.get_i64("versionId"), "template": job.command.get_str("template"),
                "attempts": job.attempts, "queue": job.queue,
            }));
            Ok(HandlerOutcome::Done)
        }
    });
    let s = seen.clone();
    registry.register_fn("App\\Jobs\\NoopJob", move |job| {
        let s = s.clone();
        async move {
            s.lock().unwrap().push(serde_json::json!({"uuid": job.uuid, "batch": job.batch_id}));
            Ok(HandlerOutcome::Done)
        }
    });
    let report = work(&db, registry, &["pdf"]).await;
    assert_eq!((report.processed, report.failed), (4, 0));
    let seen = seen.lock().unwrap().clone();
    let pdf = seen.iter().find(|v| v["uuid"] == dispatched["uuids"][0]).expect("the GenerateCvPdf job ran");
    assert_eq!(pdf["model"], "App\\Models\\Cv");
    assert_eq!(pdf["id"], cv_id);
    assert_eq!(pdf["version"], version_id);
    assert_eq!(pdf["template"], "modern");
    assert_eq!(pdf["attempts"], 1);
    let batched: Vec<&Value> = seen.iter().filter(|v| v.get("batch").is_some()).collect();
    assert_eq!(batched.len(), 3);
    assert!(
        batched.iter().all(|v| v["batch"] == batch["id"]),
        "batch id read from the serialized command: {batched:?}"
    );
    assert_eq!(db.count("jobs").await, 0);
}

/// cv-worker's failed_jobs rows are what `queue:failed` lists and `queue:retry` re-queues,
/// and the re-queued job is worked again by cv-worker.
async fn cv_worker_failures_are_listed_and_retried_by_laravel(d: Dialect) {
    let db = laravel_db(d).await;
    let dispatched = json(&artisan(&db, &["interop:dispatch", "failing", "--count=2"], &[]));
    let uuids: Vec<String> =
        dispatched["uuids"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_string()).collect();
    // No handler registered: cv-worker fails both with "no handler".
    let report = work(&db, Registry::new(), &["default"]).await;
    assert_eq!(report.failed, 2);

    let listed = String::from_utf8(artisan(&db, &["queue:failed"], &[]).stdout).unwrap();
    for uuid in &uuids {
        let row =
            listed.lines().find(|l| l.contains(uuid.as_str())).unwrap_or_else(|| panic!("{uuid} not in:\n{listed}"));
        assert!(row.contains("database") && row.contains("default") && row.contains("App\\Jobs\\FailingJob"), "{row}");
    }

    artisan(&db, &["queue:retry", &uuids[0]], &[]);
    assert_eq!(db.count("failed_jobs").await, 1);
    artisan(&db, &["queue:retry", "all"], &[]);
    assert_eq!(db.count("failed_jobs").await, 0);
    assert_eq!(db.query_i64("SELECT attempts FROM jobs").await, vec![0, 0], "queue:retry resets attempts");

    let mut registry = Registry::new();
    registry.register_fn("App\\Jobs\\FailingJob", |_| async { Ok(HandlerOutcome::Done) });
    let report = work(&db, registry, &["default"]).await;
    assert_eq!((report.processed, report.failed), (2, 0));
    assert_eq!(db.count("jobs").await, 0);
}

/// `cv-worker enqueue` writes payloads Laravel's own worker runs, with the properties given.
async fn cv_worker_enqueue_is_run_by_laravels_worker(d: Dialect) {
    let db = laravel_db(d).await;
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("runs.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .args(["--database-url", &db.url, "enqueue", "App\\Jobs\\RecordRun", "--queue", "rec"])
        .args(["--data", r#"{"marker": "from-rust", "extra": {"name": "Zoë Дмитрий", "n": 3}}"#])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let uuid = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let record_s = record.display().to_string();
    artisan(&db, &["queue:work", "--queue=rec", "--stop-when-empty", "--sleep=0"], &[("RECORD_RUN_FILE", &record_s)]);
    assert_eq!(db.count("jobs").await, 0);
    assert_eq!(db.count("failed_jobs").await, 0, "Laravel's worker ran the job without failing it");
    let run: Value = serde_json::from_str(std::fs::read_to_string(&record).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(run["class"], "App\\Jobs\\RecordRun");
    assert_eq!(run["uuid"], uuid.as_str());
    assert_eq!(run["marker"], "from-rust");
    assert_eq!(run["props"]["extra"]["name"], "Zoë Дмитрий");
    assert_eq!(run["props"]["extra"]["n"], 3);

    // A cv-worker failure of a cv-worker-enqueued job is accepted by queue:retry too.
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .args([
            "--database-url",
            &db.url,
            "enqueue",
            "App\\Jobs\\RecordRun",
            "--queue",
            "rec",
            "--data",
            r#"{"marker": "retried"}"#,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    work(&db, Registry::new(), &["rec"]).await;
    assert_eq!(db.count("failed_jobs").await, 1);
    artisan(&db, &["queue:retry", "all"], &[]);
    artisan(&db, &["queue:work", "--queue=rec", "--stop-when-empty", "--sleep=0"], &[("RECORD_RUN_FILE", &record_s)]);
    let runs = std::fs::read_to_string(&record).unwrap();
    assert!(runs.lines().any(|l| l.contains("\"marker\":\"retried\"")), "{runs}");
}

/// On a database where Laravel created its tables (and the CV app its own), cv-worker's
/// migrate adds only what is missing and leaves Laravel's columns alone.
async fn migrate_adds_only_what_a_laravel_app_lacks(d: Dialect) {
    let db = TestDb::empty(d).await;
    artisan(&db, &["migrate", "--force"], &[]);
    artisan(&db, &["migrate", "--path=database/migrations_app", "--force"], &[]);
    let before = json(&artisan(&db, &["interop:seed-cv"], &[]));
    db.store.migrate().await.expect("migrate over an app-created schema");
    db.store.migrate().await.expect("migrate is idempotent");
    assert_eq!(db.count("cvs").await, 1, "existing rows untouched");
    assert_eq!(db.count("generated_files").await, 0, "generated_files was added");
    // Laravel still migrates/reads its own tables: a dispatch and a seed work as before.
    let after = json(&artisan(&db, &["interop:seed-cv"], &[]));
    assert_eq!(after["cv_id"].as_i64().unwrap(), before["cv_id"].as_i64().unwrap() + 1);
    artisan(&db, &["interop:dispatch", "noop"], &[]);
    artisan(&db, &["queue:work", "--stop-when-empty", "--sleep=0"], &[]);
    assert_eq!(db.count("jobs").await, 0);
}
