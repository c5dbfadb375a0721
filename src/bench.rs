//! `cv-worker bench`: throughput side by side with Laravel's own worker.
//!
//! On the database given by `--database-url` it inserts N no-op `App\Jobs\NoopJob` payloads
//! (the same bytes a Laravel app's `dispatch()` would store for an empty job), drains them
//! with cv-worker and reports jobs/s; then, when a Laravel app is available (the one under
//! `tests/laravel`, or `--laravel-app`), inserts M of the same payloads and drains them with
//! `php artisan queue:work --stop-when-empty --sleep=0` and reports the ratio.
//! It is a benchmark, not a test: nothing asserts a speed, but every job is checked done.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Map;
use tokio_util::sync::CancellationToken;

use crate::enqueue::{self, Dispatch};
use crate::handlers::{HandlerOutcome, Registry};
use crate::store::{DatabaseUrl, Dialect, NewJob, Store};
use crate::worker::{self, WorkerOptions, unix_now};

pub const NOOP_CLASS: &str = "App\\Jobs\\NoopJob";
const QUEUE: &str = "bench";

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub jobs: usize,
    pub concurrency: usize,
    pub laravel_jobs: usize,
    pub laravel_app: Option<PathBuf>,
    pub php: String,
}

#[derive(Debug, Clone)]
pub struct Throughput {
    pub jobs: usize,
    pub elapsed: Duration,
}

impl Throughput {
    pub fn per_second(&self) -> f64 {
        self.jobs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

async fn fill(store: &dyn Store, n: usize) -> anyhow::Result<()> {
    store.clear_queue(QUEUE).await?;
    let dispatch =
        Dispatch { class: NOOP_CLASS.into(), properties: Map::new(), queue: QUEUE.into(), ..Dispatch::default() };
    let now = unix_now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5000) {
        let jobs: Vec<NewJob> = chunk.iter().map(|_| enqueue::new_job(&dispatch, now).0).collect();
        store.push(&jobs, now).await.context("inserting benchmark jobs")?;
    }
    Ok(())
}

async fn remaining(store: &dyn Store) -> anyhow::Result<i64> {
    let size = store.queue_size(QUEUE, unix_now() + 1).await?;
    Ok(size.pending + size.delayed + size.reserved)
}

/// Drains `n` no-op jobs with cv-worker.
pub async fn cv_worker(store: Arc<dyn Store>, n: usize, concurrency: usize) -> anyhow::Result<Throughput> {
    fill(&*store, n).await?;
    let mut registry = Registry::new();
    registry.register_fn(NOOP_CLASS, |_| async { Ok(HandlerOutcome::Done) });
    let options = WorkerOptions {
        queues: vec![QUEUE.into()],
        concurrency,
        sleep: Duration::from_millis(10),
        stop_when_empty: true,
        ..WorkerOptions::default()
    };
    let started = Instant::now();
    let report = worker::run(store.clone(), Arc::new(registry), options, CancellationToken::new()).await?;
    let elapsed = started.elapsed();
    if report.processed != n as u64 || remaining(&*store).await? != 0 {
        bail!("cv-worker processed {} of {n} jobs", report.processed);
    }
    Ok(Throughput { jobs: n, elapsed })
}

/// The environment that points the Laravel app at `url`.
pub fn laravel_env(url: &DatabaseUrl) -> Vec<(String, String)> {
    match url.dialect {
        Dialect::Sqlite => {
            let path = url.url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path);
            let absolute = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
            vec![("DB_CONNECTION".into(), "sqlite".into()), ("DB_DATABASE".into(), absolute.display().to_string())]
        }
        _ => vec![("DATABASE_URL".into(), url.url.clone())],
    }
}

/// Drains `n` no-op jobs with `php artisan queue:work` (one worker, Laravel's defaults).
pub async fn laravel(
    store: Arc<dyn Store>,
    url: &DatabaseUrl,
    n: usize,
    app: &Path,
    php: &str,
) -> anyhow::Result<Throughput> {
    fill(&*store, n).await?;
    let artisan = app.join("artisan");
    let started = Instant::now();
    let output = tokio::process::Command::new(php)
        .arg(&artisan)
        .args(["queue:work", "database", "--queue=bench", "--stop-when-empty", "--sleep=0", "--tries=1"])
        .envs(laravel_env(url))
        .env("LOG_CHANNEL", "null")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .await
        .with_context(|| format!("running {php} {}", artisan.display()))?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        bail!("php artisan queue:work failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let left = remaining(&*store).await?;
    if left != 0 {
        bail!("Laravel left {left} of {n} jobs");
    }
    Ok(Throughput { jobs: n, elapsed })
}

/// The default Laravel app: `tests/laravel` of this repository, when it is there.
pub fn default_laravel_app() -> Option<PathBuf> {
    let candidates = [PathBuf::from("tests/laravel"), PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/laravel")];
    candidates.into_iter().find(|p| p.join("artisan").exists())
}

pub async fn run(store: Arc<dyn Store>, url: &DatabaseUrl, options: &BenchOptions) -> anyhow::Result<()> {
    store.migrate().await.context("migrating")?;
    // Warm up connections and statement caches.
    cv_worker(store.clone(), options.concurrency.min(500), options.concurrency).await?;
    let ours = cv_worker(store.clone(), options.jobs, options.concurrency).await?;
    println!(
        "{}: cv-worker drained {} no-op jobs in {:.3} s = {:.0} jobs/s (concurrency {})",
        url.dialect,
        ours.jobs,
        ours.elapsed.as_secs_f64(),
        ours.per_second(),
        options.concurrency
    );
    let app = options.laravel_app.clone().or_else(default_laravel_app);
    match (app, options.laravel_jobs) {
        (_, 0) => {}
        (None, _) => println!("{}: no Laravel app found (--laravel-app); baseline skipped", url.dialect),
        (Some(app), n) => {
            let theirs = laravel(store.clone(), url, n, &app, &options.php).await?;
            println!(
                "{}: Laravel queue:work drained {} no-op jobs in {:.3} s = {:.0} jobs/s (one worker)",
                url.dialect,
                theirs.jobs,
                theirs.elapsed.as_secs_f64(),
                theirs.per_second()
            );
            println!("{}: ratio cv-worker / Laravel = {:.0}x", url.dialect, ours.per_second() / theirs.per_second());
        }
    }
    Ok(())
}
