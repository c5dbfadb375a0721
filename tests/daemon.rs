//! End-to-end tests of the real `cv-worker` binary: the CLI contract (flags, exit codes,
//! the embedded default) and crash recovery with SIGKILL, on each database.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use cv_worker::store::Dialect;

fn cv_worker(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cv-worker"));
    c.arg("--database-url").arg(url).env_remove("CV_WORKER_DATABASE_URL").env("RUST_LOG", "info");
    c
}

fn run(mut c: Command) -> Output {
    let out = c.output().expect("run cv-worker");
    assert!(out.status.success(), "cv-worker failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn kill(child: &mut Child, signal: &str) {
    let status = Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
}

macro_rules! per_dialect {
    ($($name:ident),* $(,)?) => {
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Postgres).await } )* }
        mod mysql { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Mysql).await } )* }
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(cv_worker::store::Dialect::Sqlite).await } )* }
    };
}

per_dialect!(sigkill_mid_job_is_reclaimed_after_retry_after, enqueue_then_work_once);

/// A worker is SIGKILLed while a job runs; after `retry_after` another worker reclaims the
/// job (attempt 2) and completes it; the jobs that were waiting are worked too. Nothing lost.
async fn sigkill_mid_job_is_reclaimed_after_retry_after(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let mut enqueue = cv_worker(&db.url);
    enqueue.args(["enqueue", "CvWorker\\Jobs\\Sleep", "--data", r#"{"seconds": 1.5}"#, "--tries", "3"]);
    let sleeper = String::from_utf8(run(enqueue).stdout).unwrap().trim().to_string();
    let mut pings = cv_worker(&db.url);
    pings.args(["enqueue", "CvWorker\\Jobs\\Ping", "--count", "5"]);
    run(pings);

    // Worker A takes the sleeper (concurrency 1, so the pings wait behind it) and dies.
    let mut a = cv_worker(&db.url)
        .args(["--retry-after", "3", "work", "--concurrency", "1", "--sleep", "0.1"])
        .stderr(Stdio::null())
        .spawn()
        .expect("start worker A");
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.query_i64("SELECT COUNT(*) FROM jobs WHERE reserved_at IS NOT NULL").await[0] == 0 {
        assert!(Instant::now() < deadline, "worker A never reserved the job");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill(&mut a, "KILL");
    a.wait().unwrap();
    assert_eq!(db.count("jobs").await, 6, "the killed worker completed nothing");
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM jobs WHERE reserved_at IS NOT NULL").await,
        vec![1],
        "the sleeper is stuck reserved"
    );

    // Worker B: reclaims the sleeper after retry_after and completes everything.
    let b = cv_worker(&db.url)
        .args(["--retry-after", "3", "work", "--concurrency", "4", "--sleep", "0.2", "--max-jobs", "6"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start worker B");
    let out = tokio::task::spawn_blocking(move || b.wait_with_output()).await.unwrap().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(db.count("jobs").await, 0, "{log}");
    assert_eq!(db.count("failed_jobs").await, 0, "{log}");
    let reclaimed =
        log.lines().find(|l| l.contains(&sleeper) && l.contains("processed")).unwrap_or_else(|| panic!("{log}"));
    assert!(reclaimed.contains("attempt=2"), "the sleeper ran again as attempt 2: {reclaimed}");
}

/// `enqueue` writes a Laravel-shaped row; `work --once` runs exactly one job.
async fn enqueue_then_work_once(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let mut enqueue = cv_worker(&db.url);
    enqueue.args(["enqueue", "CvWorker\\Jobs\\Ping", "--queue", "pings", "--count", "2"]);
    let uuids = String::from_utf8(run(enqueue).stdout).unwrap();
    assert_eq!(uuids.lines().count(), 2);
    let payloads = db.query_strings("SELECT payload FROM jobs ORDER BY id").await;
    let first: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
    assert_eq!(first["uuid"], uuids.lines().next().unwrap());
    assert_eq!(first["job"], "Illuminate\\Queue\\CallQueuedHandler@call");
    assert_eq!(first["data"]["commandName"], "CvWorker\\Jobs\\Ping");
    assert!(first["data"]["command"].as_str().unwrap().starts_with("O:18:\"CvWorker\\Jobs\\Ping\":0:{}"));
    let mut once = cv_worker(&db.url);
    once.args(["work", "--queue", "pings", "--once"]);
    run(once);
    assert_eq!(db.count("jobs").await, 1);
}

#[test]
fn bad_configuration_exits_non_zero_with_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .args(["--database-url", "redis://user:hunter2@localhost/0", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("expected postgres://, mysql:// or sqlite://"), "{err}");
    assert!(!err.contains("hunter2"), "secrets never printed: {err}");

    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .args(["--database-url", "postgres://root@127.0.0.1:1/none", "migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to postgres://root@127.0.0.1:1/none"));

    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .args(["--database-url", "sqlite::memory:", "enqueue", "X", "--data", "[1]"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data must be a JSON object"));
}

#[test]
fn the_embedded_default_is_a_migrated_sqlite_file_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .current_dir(dir.path())
        .env_remove("CV_WORKER_DATABASE_URL")
        .args(["enqueue", "CvWorker\\Jobs\\Ping"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("cv-worker.sqlite").exists());
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .current_dir(dir.path())
        .env_remove("CV_WORKER_DATABASE_URL")
        .args(["work", "--stop-when-empty"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("processed"));
}
