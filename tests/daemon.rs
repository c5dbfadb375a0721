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

per_dialect!(
    sigkill_mid_job_is_reclaimed_after_retry_after,
    enqueue_then_work_once,
    sigterm_finishes_in_flight_jobs_and_releases_the_rest_after_the_grace,
    second_signal_releases_in_flight_jobs_at_once,
    artisan_queue_restart_makes_the_daemon_exit_cleanly,
    paused_queues_are_skipped_and_cv_worker_restart_stops_the_daemon,
    systemd_notify_ready_status_watchdog_stopping,
    reserve_failures_are_logged_once_per_outage_and_the_worker_resumes,
    sighup_reloads_concurrency_and_log_level_without_dropping_jobs,
);

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

/// Enqueues `count` Sleep jobs of `seconds`; returns their uuids.
fn enqueue_sleepers(url: &str, seconds: f64, count: usize) -> Vec<String> {
    let mut c = cv_worker(url);
    c.args(["enqueue", "CvWorker\\Jobs\\Sleep", "--tries", "3", "--count", &count.to_string()])
        .args(["--data", &format!(r#"{{"seconds": {seconds}}}"#)]);
    String::from_utf8(run(c).stdout).unwrap().lines().map(str::to_string).collect()
}

async fn wait_reserved(db: &TestDb, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.query_i64("SELECT COUNT(*) FROM jobs WHERE reserved_at IS NOT NULL").await[0] < n {
        assert!(Instant::now() < deadline, "the worker never reserved {n} jobs");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Reserved rows are handed to their handlers right away.
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Waits for the child with a deadline; returns (exit status, stderr, seconds taken).
async fn wait_exit(child: Child, within: Duration) -> (std::process::ExitStatus, String, f64) {
    let started = Instant::now();
    let out = tokio::time::timeout(within, tokio::task::spawn_blocking(move || child.wait_with_output()))
        .await
        .expect("cv-worker exited in time")
        .unwrap()
        .unwrap();
    (out.status, String::from_utf8_lossy(&out.stderr).into_owned(), started.elapsed().as_secs_f64())
}

/// The uuids and attempts of the rows left in `jobs`, none of them reserved.
async fn released_rows(db: &TestDb) -> Vec<(String, i64)> {
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM jobs WHERE reserved_at IS NOT NULL").await, vec![0]);
    let payloads = db.query_strings("SELECT payload FROM jobs ORDER BY id").await;
    let attempts = db.query_i64("SELECT attempts FROM jobs ORDER BY id").await;
    let uuids = payloads
        .iter()
        .map(|p| serde_json::from_str::<serde_json::Value>(p).unwrap()["uuid"].as_str().unwrap().to_string());
    uuids.zip(attempts).collect()
}

/// SIGTERM with jobs in flight: the short ones finish, the long ones are released after the
/// grace with attempts unchanged (available now), nothing is lost or run twice, exit 0.
async fn sigterm_finishes_in_flight_jobs_and_releases_the_rest_after_the_grace(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let short = enqueue_sleepers(&db.url, 1.0, 2);
    let long = enqueue_sleepers(&db.url, 120.0, 2);
    let mut waiting = cv_worker(&db.url);
    waiting.args(["enqueue", "CvWorker\\Jobs\\Ping", "--count", "3"]);
    run(waiting);
    let mut w = cv_worker(&db.url)
        .args(["work", "--concurrency", "4", "--sleep", "0.1", "--shutdown-grace", "3"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    wait_reserved(&db, 4).await;
    kill(&mut w, "TERM");
    let (status, log, took) = wait_exit(w, Duration::from_secs(15)).await;
    assert!(status.success(), "{log}");
    assert!(took < 3.0 + 2.0, "exited {took:.1}s after SIGTERM, grace 3s: {log}");
    for uuid in &short {
        let runs = log.lines().filter(|l| l.contains(uuid.as_str()) && l.contains("processed")).count();
        assert_eq!(runs, 1, "{uuid} ran once: {log}");
    }
    assert!(log.contains("shutdown grace is over"), "{log}");
    assert_eq!(db.count("failed_jobs").await, 0, "{log}");
    let rows = released_rows(&db).await;
    assert_eq!(rows.len(), 5, "2 long jobs released + 3 pings never claimed: {rows:?}\n{log}");
    for uuid in &long {
        assert!(rows.contains(&(uuid.clone(), 0)), "{uuid} released with attempts 0: {rows:?}");
    }
    assert!(rows.iter().all(|(_, attempts)| *attempts == 0), "{rows:?}");
    let now = cv_worker::worker::unix_now();
    assert_eq!(db.query_i64(&format!("SELECT COUNT(*) FROM jobs WHERE available_at <= {now}")).await, vec![5]);
}

/// A second stop signal (SIGQUIT here, after SIGTERM) does not wait for the grace period:
/// the in-flight jobs are released at once, unchanged, and the worker exits 0.
async fn second_signal_releases_in_flight_jobs_at_once(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let long = enqueue_sleepers(&db.url, 120.0, 3);
    let mut w = cv_worker(&db.url)
        .args(["work", "--concurrency", "3", "--sleep", "0.1", "--shutdown-grace", "60"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    wait_reserved(&db, 3).await;
    kill(&mut w, "TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    kill(&mut w, "QUIT");
    let (status, log, took) = wait_exit(w, Duration::from_secs(15)).await;
    assert!(status.success(), "{log}");
    assert!(took < 5.0, "exited {took:.1}s after the second signal: {log}");
    assert_eq!(db.count("failed_jobs").await, 0, "{log}");
    let mut rows = released_rows(&db).await;
    rows.sort();
    let mut expected: Vec<_> = long.iter().map(|u| (u.clone(), 0)).collect();
    expected.sort();
    assert_eq!(rows, expected, "{log}");
}

/// `php artisan queue:restart` from the Laravel test app (default CACHE_PREFIX
/// `laravel_cache`, the same `--cache-prefix` for cv-worker): the daemon finishes the job in
/// flight and exits 0.
async fn artisan_queue_restart_makes_the_daemon_exit_cleanly(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let sleeper = enqueue_sleepers(&db.url, 2.0, 1);
    let w = cv_worker(&db.url)
        .args(["--cache-prefix", "laravel_cache", "work", "--sleep", "0.1"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    wait_reserved(&db, 1).await;
    let url = <cv_worker::store::DatabaseUrl as std::str::FromStr>::from_str(&db.url).unwrap();
    let artisan = Command::new("php")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/laravel/artisan"))
        .arg("queue:restart")
        .envs(cv_worker::bench::laravel_env(&url))
        .env("LOG_CHANNEL", "null")
        .env("CACHE_PREFIX", "laravel_cache")
        .output()
        .expect("PHP is required for the Laravel interop tests");
    assert!(artisan.status.success(), "{}", String::from_utf8_lossy(&artisan.stderr));
    let written = db.store.cache_get("laravel_cacheilluminate:queue:restart", cv_worker::worker::unix_now()).await;
    assert!(written.unwrap().is_some_and(|v| v.starts_with("i:")), "artisan wrote the restart key");
    let (status, log, took) = wait_exit(w, Duration::from_secs(15)).await;
    assert!(status.success(), "{log}");
    assert!(took < 6.0, "exited {took:.1}s after queue:restart: {log}");
    assert!(log.contains("queue restart signal received"), "{log}");
    assert!(
        log.lines().any(|l| l.contains(&sleeper[0]) && l.contains("processed")),
        "the job in flight finished: {log}"
    );
    assert_eq!(db.count("jobs").await, 0, "{log}");
}

/// A queue with a truthy `illuminate:queue:paused:<connection>:<queue>` key is skipped until
/// the key goes (`queue:resume`); `cv-worker restart` writes the restart key as artisan does
/// and the daemon exits 0.
async fn paused_queues_are_skipped_and_cv_worker_restart_stops_the_daemon(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let now = cv_worker::worker::unix_now();
    let pause = "p_illuminate:queue:paused:database:default";
    db.store.cache_put(pause, "b:1;", now + 3600).await.unwrap();
    let mut enqueue = cv_worker(&db.url);
    enqueue.args(["enqueue", "CvWorker\\Jobs\\Ping", "--queue", "default"]);
    run(enqueue);
    let mut enqueue = cv_worker(&db.url);
    enqueue.args(["enqueue", "CvWorker\\Jobs\\Ping", "--queue", "high"]);
    run(enqueue);
    let w = cv_worker(&db.url)
        .args(["--cache-prefix", "p_", "work", "--queue", "high,default", "--sleep", "0.1"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.count("jobs").await > 1 {
        assert!(Instant::now() < deadline, "the high job was never worked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(db.query_strings("SELECT queue FROM jobs").await, vec!["default".to_string()], "paused queue skipped");

    db.store.cache_forget(pause).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.count("jobs").await > 0 {
        assert!(Instant::now() < deadline, "the resumed queue was never worked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut restart = cv_worker(&db.url);
    restart.args(["--cache-prefix", "p_", "restart"]);
    run(restart);
    let key = if d == Dialect::Mysql { "`key`" } else { "key" };
    let value = db.query_strings(&format!("SELECT value FROM cache WHERE {key} = 'p_illuminate:queue:restart'")).await;
    let expiration =
        db.query_i64(&format!("SELECT expiration FROM cache WHERE {key} = 'p_illuminate:queue:restart'")).await;
    let written: i64 = value[0].strip_prefix("i:").and_then(|v| v.strip_suffix(';')).unwrap().parse().unwrap();
    assert!(written >= now, "{value:?}");
    assert_eq!(expiration, vec![written + 315_360_000]);
    let (status, log, took) = wait_exit(w, Duration::from_secs(15)).await;
    assert!(status.success(), "{log}");
    assert!(took < 5.0, "{log}");
    assert!(log.contains("queue paused") && log.contains("queue resumed"), "{log}");
    assert!(log.contains("queue restart signal received"), "{log}");
}

/// Under systemd (`NOTIFY_SOCKET`, `WATCHDOG_USEC`): READY=1 once the first reserve worked,
/// STATUS= lines with jobs/s and in-flight, WATCHDOG=1 at half the interval from the loop
/// (also while idle), STOPPING=1 on SIGTERM.
async fn systemd_notify_ready_status_watchdog_stopping(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let mut pings = cv_worker(&db.url);
    pings.args(["enqueue", "CvWorker\\Jobs\\Ping", "--count", "3"]);
    run(pings);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut w = cv_worker(&db.url)
        .args(["work", "--sleep", "1"])
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "400000")
        .env_remove("WATCHDOG_PID")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let read = |socket: &std::os::unix::net::UnixDatagram, until: Instant, messages: &mut Vec<String>| {
        let mut buf = [0u8; 4096];
        while Instant::now() < until {
            if let Ok(n) = socket.recv(&mut buf) {
                messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    };
    let mut messages = Vec::new();
    read(&socket, Instant::now() + Duration::from_millis(3500), &mut messages);
    kill(&mut w, "TERM");
    read(&socket, Instant::now() + Duration::from_millis(1000), &mut messages);
    let (status, log, _) = wait_exit(w, Duration::from_secs(10)).await;
    assert!(status.success(), "{log}");

    assert!(messages.first().is_some_and(|m| m.contains("READY=1\n")), "{messages:?}");
    assert_eq!(messages.iter().filter(|m| m.contains("READY=1")).count(), 1, "{messages:?}");
    let pings = messages.iter().filter(|m| m.contains("WATCHDOG=1")).count();
    assert!(pings >= 5, "a ping every 0.2 s for 3.5 s, idle included: {pings} in {messages:?}");
    let statuses: Vec<&String> = messages.iter().filter(|m| m.contains("STATUS=") && m.contains("jobs/s")).collect();
    assert!(statuses.iter().any(|m| m.contains("in flight")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("3 done")), "the status counts the 3 pings: {messages:?}");
    assert!(messages.last().is_some_and(|m| m.contains("STOPPING=1")), "{messages:?}");
    assert_eq!(db.count("jobs").await, 0, "{log}");
}

/// With stderr on the journal (`JOURNAL_STREAM` = stderr's device:inode, as systemd sets it)
/// every log line is a JSON object, and a job's line carries uuid, class, queue, attempt and
/// duration.
#[test]
fn logs_are_json_lines_under_the_journal() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .current_dir(dir.path())
        .env_remove("CV_WORKER_DATABASE_URL")
        .args(["enqueue", "CvWorker\\Jobs\\Ping"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let uuid = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let log_path = dir.path().join("journal.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let meta = log_file.metadata().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .current_dir(dir.path())
        .env_remove("CV_WORKER_DATABASE_URL")
        .env_remove("CV_WORKER_LOG_FORMAT")
        .env("RUST_LOG", "info")
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .args(["work", "--once"])
        .stderr(Stdio::from(log_file))
        .status()
        .unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(status.success(), "{log}");
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let job = lines
        .iter()
        .find(|l| l["fields"]["message"] == "processed")
        .unwrap_or_else(|| panic!("no processed line: {log}"));
    assert_eq!(job["span"]["uuid"], uuid.as_str(), "{job}");
    assert_eq!(job["span"]["class"], "CvWorker\\Jobs\\Ping", "{job}");
    assert_eq!(job["span"]["queue"], "default", "{job}");
    assert_eq!(job["span"]["attempt"], 1, "{job}");
    assert!(job["fields"]["duration_ms"].is_number(), "{job}");
    assert_eq!(job["level"], "INFO", "{job}");
}

/// `config check`: defaults < TOML file < Laravel .env < CV_WORKER_* < flags, the password
/// masked; an unknown key is an error (exit 2, one line naming it).
#[test]
fn config_check_shows_the_layers_and_rejects_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("config.toml");
    std::fs::write(
        &toml,
        "database_url = \"sqlite://from-file.sqlite\"\ncache_prefix = \"file_\"\nretry_after = 120\n\
         connection_name = \"file-conn\"\n[work]\nqueue = [\"high\", \"default\"]\nconcurrency = 7\nshutdown_grace = 12.5\n",
    )
    .unwrap();
    let dotenv = dir.path().join(".env");
    std::fs::write(
        &dotenv,
        "DB_CONNECTION=pgsql\nDB_HOST=db.internal\nDB_DATABASE=app\nDB_USERNAME=app\nDB_PASSWORD=hunter2\n\
         CACHE_PREFIX=env_file_\n",
    )
    .unwrap();
    let check = |envs: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cv-worker"));
        for var in [
            "CV_WORKER_DATABASE_URL",
            "CV_WORKER_CACHE_PREFIX",
            "CV_WORKER_CONNECTION_NAME",
            "CV_WORKER_RETRY_AFTER",
            "CV_WORKER_SHUTDOWN_GRACE",
            "CV_WORKER_CONFIG",
            "CV_WORKER_ENV_FILE",
        ] {
            c.env_remove(var);
        }
        c.arg("--config").arg(&toml).args(args).args(["config", "check"]).envs(envs.iter().copied()).output().unwrap()
    };

    let out = check(&[], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("database_url = \"sqlite://from-file.sqlite\""), "{text}");
    assert!(text.contains("cache_prefix = \"file_\""), "{text}");
    assert!(text.contains("retry_after = 120"), "{text}");
    assert!(text.contains("queue = [\"high\", \"default\"]"), "{text}");
    assert!(text.contains("concurrency = 7"), "{text}");
    assert!(text.contains("shutdown_grace = 12.5"), "{text}");

    // The .env is over the file; CV_WORKER_* over the .env; flags over everything.
    let env_file = dotenv.to_str().unwrap();
    let out = check(&[("CV_WORKER_RETRY_AFTER", "60")], &["--env-file", env_file, "--connection-name", "flag-conn"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("database_url = \"postgres://app:***@db.internal:5432/app\""), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("cache_prefix = \"env_file_\""), "{text}");
    assert!(text.contains("retry_after = 60"), "{text}");
    assert!(text.contains("connection_name = \"flag-conn\""), "{text}");
    let out = check(&[("CV_WORKER_CACHE_PREFIX", "var_")], &["--env-file", env_file, "--cache-prefix", "flag_"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("cache_prefix = \"flag_\""));

    std::fs::write(&toml, "[work]\nconcurency = 3\n").unwrap();
    let out = check(&[], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("concurency") && err.contains("config.toml"), "{err}");
    std::fs::write(&toml, "[work]\nconcurrency = 0\n").unwrap();
    let out = check(&[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--concurrency must be at least 1"));
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

/// The jobs table goes away for 3.5 s under a running worker (renamed, then renamed back):
/// every poll fails meanwhile, but the failure is logged once when it starts and once when
/// it ends (retries back off: 0.5 s doubling), STATUS= says so, and the worker resumes by
/// itself and works what was enqueued.
async fn reserve_failures_are_logged_once_per_outage_and_the_worker_resumes(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut w = cv_worker(&db.url)
        .args(["work", "--sleep", "0.1"])
        .env("NOTIFY_SOCKET", &path)
        .env_remove("WATCHDOG_USEC")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let mut buf = [0u8; 4096];
    let mut messages = Vec::new();
    let mut read_for = |socket: &std::os::unix::net::UnixDatagram, d: Duration| {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if let Ok(n) = socket.recv(&mut buf) {
                messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    };
    read_for(&socket, Duration::from_millis(1000));
    db.query_i64("ALTER TABLE jobs RENAME TO jobs_away").await;
    read_for(&socket, Duration::from_millis(3500));
    db.query_i64("ALTER TABLE jobs_away RENAME TO jobs").await;
    let mut enqueue = cv_worker(&db.url);
    enqueue.args(["enqueue", "CvWorker\\Jobs\\Ping"]);
    let uuid = String::from_utf8(run(enqueue).stdout).unwrap().trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.count("jobs").await > 0 {
        assert!(Instant::now() < deadline, "the worker never resumed");
        read_for(&socket, Duration::from_millis(100));
    }
    kill(&mut w, "TERM");
    let (status, log, _) = wait_exit(w, Duration::from_secs(10)).await;
    assert!(status.success(), "{log}");
    assert_eq!(log.lines().filter(|l| l.contains("cannot reserve jobs")).count(), 1, "{log}");
    assert_eq!(log.lines().filter(|l| l.contains("database reachable again")).count(), 1, "{log}");
    assert!(log.lines().any(|l| l.contains(&uuid) && l.contains("processed")), "{log}");
    assert!(messages.iter().any(|m| m.contains("STATUS=database unreachable")), "{messages:?}");
    assert_eq!(messages.iter().filter(|m| m.contains("READY=1")).count(), 1, "{messages:?}");
}

/// SIGHUP re-reads the configuration file: concurrency 1 → 4 takes effect on the running
/// daemon (several jobs reserved at once afterwards, never before), so does the log level;
/// no job is dropped or run twice.
async fn sighup_reloads_concurrency_and_log_level_without_dropping_jobs(d: Dialect) {
    let db = TestDb::migrated(d).await;
    let uuids = enqueue_sleepers(&db.url, 1.0, 10);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "log_level = \"info\"\n[work]\nconcurrency = 1\n").unwrap();
    let mut w = cv_worker(&db.url)
        .arg("--config")
        .arg(&config)
        .args(["work", "--sleep", "0.1"])
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let reserved = "SELECT COUNT(*) FROM jobs WHERE reserved_at IS NOT NULL";
    wait_reserved(&db, 1).await;
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert!(db.query_i64(reserved).await[0] <= 1, "concurrency 1 before the reload");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(&config, "log_level = \"info,cv_worker=debug\"\n[work]\nconcurrency = 4\n").unwrap();
    kill(&mut w, "HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.query_i64(reserved).await[0] < 2 {
        assert!(Instant::now() < deadline, "never 2 jobs reserved at once after SIGHUP");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.count("jobs").await > 0 {
        assert!(Instant::now() < deadline, "jobs left after the reload");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    kill(&mut w, "TERM");
    let (status, log, _) = wait_exit(w, Duration::from_secs(10)).await;
    assert!(status.success(), "{log}");
    assert_eq!(db.count("failed_jobs").await, 0, "{log}");
    for uuid in &uuids {
        let runs = log.lines().filter(|l| l.contains(uuid.as_str()) && l.contains("processed")).count();
        assert_eq!(runs, 1, "{uuid} ran once: {log}");
    }
    let reloaded = log.find("SIGHUP: configuration reloaded").unwrap_or_else(|| panic!("{log}"));
    assert!(log.contains("concurrency changed"), "{log}");
    let first_debug = log.find(" DEBUG ").unwrap_or_else(|| panic!("the debug level took effect: {log}"));
    assert!(first_debug > reloaded, "no debug lines before the reload: {log}");
}

/// The PostgreSQL server of the tests (`CV_WORKER_TEST_PG`).
fn pg_server_url() -> String {
    std::env::var("CV_WORKER_TEST_PG").unwrap_or_else(|_| common::PG_DEFAULT.into())
}

/// `pg_ctlcluster --skip-systemctl-redirect <version> main <action>` on the local cluster.
fn pg_ctlcluster(action: &str) -> std::process::ExitStatus {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("a local PostgreSQL cluster (/etc/postgresql) is required for this test")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max()
        .expect("a PostgreSQL version under /etc/postgresql");
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .stdout(Stdio::null())
        .status()
        .expect("pg_ctlcluster")
}

/// Other tests share the server: whatever happens, PostgreSQL is running when this drops.
struct PgRunningGuard;

impl Drop for PgRunningGuard {
    fn drop(&mut self) {
        if !pg_ctlcluster("status").success() {
            pg_ctlcluster("start");
        }
    }
}

/// PostgreSQL restarted (`pg_ctlcluster … restart`) while a daemon works a few hundred jobs:
/// the daemon reports the outage once (not once per poll), recovers by itself, and every
/// job completes; nothing fails, exit 0 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_every_job_completes() {
    let db = TestDb::migrated(Dialect::Postgres).await;
    let uuids = enqueue_sleepers(&db.url, 0.2, 300);
    let mut w = cv_worker(&db.url)
        .args(["--retry-after", "15", "work", "--concurrency", "8", "--sleep", "0.1", "--shutdown-grace", "10"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.count("jobs").await > 260 {
        assert!(Instant::now() < deadline, "the worker never got going");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left_before = db.count("jobs").await;
    {
        let _guard = PgRunningGuard;
        let restarted = tokio::task::spawn_blocking(|| pg_ctlcluster("restart")).await.unwrap();
        assert!(restarted.success(), "pg_ctlcluster restart failed");
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    while db.count("jobs").await > 0 {
        if Instant::now() >= deadline {
            kill(&mut w, "KILL");
            let (_, log, _) = wait_exit(w, Duration::from_secs(10)).await;
            panic!("jobs left 90 s after the restart: {log}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    kill(&mut w, "TERM");
    let (status, log, _) = wait_exit(w, Duration::from_secs(20)).await;
    assert!(status.success(), "{log}");
    assert!(left_before > 0, "the restart happened under load");
    assert_eq!(db.count("failed_jobs").await, 0, "{log}");
    for uuid in &uuids {
        assert!(log.lines().any(|l| l.contains(uuid.as_str()) && l.contains("processed")), "{uuid} never ran: {log}");
    }
    // Once per state change, not once per poll.
    for line in log.lines().filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("again")) {
        eprintln!("{line}");
    }
    let outages = log.lines().filter(|l| l.contains("cannot reserve jobs")).count();
    let recoveries = log.lines().filter(|l| l.contains("database reachable again")).count();
    assert!(outages <= 3, "{outages} outage lines: {log}");
    assert_eq!(outages, recoveries, "{log}");
    let write_failures = log.lines().filter(|l| l.contains("cannot write job completions")).count();
    assert!(write_failures <= 3, "{log}");
    assert_eq!(write_failures, log.lines().filter(|l| l.contains("job completions written again")).count(), "{log}");
}

/// `work` against a server with nothing listening does not exit: it reports not-ready
/// (STATUS=, no READY=1), logs the outage once while it retries, and stops cleanly (exit 0)
/// on SIGTERM.
#[test]
fn work_keeps_retrying_an_unreachable_database_and_reports_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut w = cv_worker("postgres://root@127.0.0.1:1/nothing_listens")
        .args(["work", "--sleep", "0.1"])
        .env("NOTIFY_SOCKET", &path)
        .env_remove("WATCHDOG_USEC")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    let mut messages = Vec::new();
    let until = Instant::now() + Duration::from_secs(4);
    let mut buf = [0u8; 4096];
    while Instant::now() < until {
        if let Ok(n) = socket.recv(&mut buf) {
            messages.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    assert!(w.try_wait().unwrap().is_none(), "the worker exited instead of retrying");
    kill(&mut w, "TERM");
    let started = Instant::now();
    let out = w.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(started.elapsed() < Duration::from_secs(3), "SIGTERM during the retries: {log}");
    assert_eq!(log.lines().filter(|l| l.contains("cannot connect to the database")).count(), 1, "{log}");
    assert!(messages.iter().all(|m| !m.contains("READY=1")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("STATUS=database unreachable")), "{messages:?}");
}

/// `work` started before its database exists waits for it and then works by itself: the
/// database is created (and migrated) 2 s later, a job is enqueued, the worker runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_started_before_its_database_exists_resumes_by_itself() {
    use sqlx::Connection;
    let server = pg_server_url();
    let name = format!("cvw_{}", uuid::Uuid::new_v4().simple());
    let url = common::with_database(&server, &name);
    let w = cv_worker(&url)
        .args(["work", "--sleep", "0.1", "--max-jobs", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut admin = sqlx::PgConnection::connect(&server).await.expect("PostgreSQL is required for this test");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await.unwrap();
    let mut migrate = cv_worker(&url);
    migrate.arg("migrate");
    run(migrate);
    let mut enqueue = cv_worker(&url);
    enqueue.args(["enqueue", "CvWorker\\Jobs\\Ping"]);
    let uuid = String::from_utf8(run(enqueue).stdout).unwrap().trim().to_string();
    let (status, log, _) = wait_exit(w, Duration::from_secs(40)).await;
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin)
        .await;
    assert!(status.success(), "{log}");
    assert_eq!(log.lines().filter(|l| l.contains("cannot connect to the database")).count(), 1, "{log}");
    assert!(log.contains("database reachable again"), "{log}");
    assert!(log.lines().any(|l| l.contains(&uuid) && l.contains("processed")), "{log}");
}

/// `work` on a database without the queue tables waits for them (READY=1 is not sent before),
/// says so once, and starts by itself once `cv-worker migrate` has run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_waits_for_the_schema_before_starting() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.sqlite").display());
    let worker = cv_worker(&url)
        .args(["work", "--sleep", "0.1", "--max-jobs", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the worker");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut migrate = cv_worker(&url);
    migrate.arg("migrate");
    run(migrate);
    let mut ping = cv_worker(&url);
    ping.args(["enqueue", "CvWorker\\Jobs\\Ping"]);
    run(ping);
    let out =
        tokio::time::timeout(Duration::from_secs(30), tokio::task::spawn_blocking(move || worker.wait_with_output()))
            .await
            .expect("the worker finished")
            .unwrap()
            .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(log.matches("not migrated").count(), 1, "logged once: {log}");
    assert!(log.contains("processed"), "{log}");
}
