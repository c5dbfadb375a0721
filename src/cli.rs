//! The command line: `cv-worker [global flags] <migrate|work|enqueue|demo|bench>`.
//!
//! Names and flags follow artisan's (`--queue=high,default`, `--tries`, `--backoff`,
//! `--timeout`, `--sleep`, `--max-jobs`, `--max-time`, `--stop-when-empty`, `--once`) so
//! operators can move a `queue:work` line over as it is.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::enqueue::{self, Dispatch};
use crate::protocol::policy::WorkerDefaults;
use crate::store::{self, DatabaseUrl, Dialect, Store};
use crate::worker::{self, WorkerOptions, unix_now};

/// The embedded default: a SQLite file in the current directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://cv-worker.sqlite";

#[derive(Debug, Parser)]
#[command(name = "cv-worker", version, about = "A Laravel-compatible database-queue worker that renders CVs")]
pub struct Cli {
    /// postgres://…, mysql://… or sqlite://path. Default: sqlite://cv-worker.sqlite (created and migrated).
    #[arg(long, env = "CV_WORKER_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// The Laravel queue connection name, written to failed_jobs.connection.
    #[arg(long, env = "CV_WORKER_CONNECTION_NAME", default_value = "database", global = true)]
    pub connection_name: String,
    /// Seconds after which a reserved job may be reclaimed (Laravel's retry_after).
    #[arg(long, env = "CV_WORKER_RETRY_AFTER", default_value_t = 90, global = true)]
    pub retry_after: i64,
    /// Laravel's cache prefix (CACHE_PREFIX), for the max-exceptions counters.
    #[arg(long, env = "CV_WORKER_CACHE_PREFIX", default_value = "laravel-cache-", global = true)]
    pub cache_prefix: String,
    /// Where the CV jobs write their files (PDFs under cvs/, exports under exports/).
    #[arg(long, env = "CV_WORKER_STORAGE_ROOT", default_value = "storage", global = true)]
    pub storage_root: std::path::PathBuf,
    /// TOML configuration file (default: /etc/cv-worker/config.toml when it exists); flags and
    /// CV_WORKER_* variables override it.
    #[arg(long, env = "CV_WORKER_CONFIG", global = true)]
    pub config: Option<std::path::PathBuf>,
    /// A Laravel .env to take DB_*, QUEUE_CONNECTION and CACHE_PREFIX from (over the file).
    #[arg(long, env = "CV_WORKER_ENV_FILE", global = true)]
    pub env_file: Option<std::path::PathBuf>,
    /// Log filter, e.g. info or info,cv_worker=debug (RUST_LOG wins; SIGHUP re-reads it).
    #[arg(long, env = "CV_WORKER_LOG_LEVEL", global = true)]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Seed sample CVs, dispatch the CV jobs, work them and show what happened (start here).
    Demo,
    /// Render a CV document (JSON Resume) to PDF, without a database.
    Render(RenderArgs),
    /// Create the tables that are missing (Laravel's and the CV Builder's); never alters existing ones.
    Migrate,
    /// Work the queues, like `php artisan queue:work`.
    Work(WorkArgs),
    /// Signal every worker to finish its jobs and exit, like `php artisan queue:restart`
    /// (writes `<cache prefix>illuminate:queue:restart`; systemd starts them again).
    Restart,
    /// Configuration: `config check` validates it and prints the effective settings.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Dispatch a job with a Laravel-valid payload.
    Enqueue(EnqueueArgs),
    /// Measure throughput on no-op jobs, side by side with Laravel's `queue:work`.
    Bench(BenchArgs),
    /// Failed jobs: list, show, retry, forget, flush, prune (artisan's queue:failed, queue:retry, …).
    Failed(crate::failed::cli::FailedArgs),
    /// Job batches: list, show, cancel, retry, prune (Bus::findBatch, queue:retry-batch, queue:prune-batches).
    Batches(crate::batches::cli::BatchesArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the layered configuration (file < .env < CV_WORKER_* < flags) and print the
    /// effective settings, the database password masked; exit 2 on an invalid file.
    Check,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// No-op jobs drained by cv-worker.
    #[arg(long, default_value_t = 20_000)]
    pub jobs: usize,
    /// Jobs in flight at once.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// No-op jobs drained by Laravel's `php artisan queue:work` for the baseline (0 = none).
    #[arg(long, default_value_t = 1_000)]
    pub laravel_jobs: usize,
    /// The Laravel app to run `artisan` from (default: tests/laravel of this repository).
    #[arg(long)]
    pub laravel_app: Option<std::path::PathBuf>,
    /// The PHP binary.
    #[arg(long, default_value = "php")]
    pub php: String,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The CV document, a JSON Resume file.
    pub file: std::path::PathBuf,
    /// classic or modern.
    #[arg(long, default_value = "classic")]
    pub template: String,
    /// Output file (default: the input with a .pdf extension).
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct WorkArgs {
    /// Queues in priority order, comma-separated.
    #[arg(long, default_value = "default", value_delimiter = ',')]
    pub queue: Vec<String>,
    /// Jobs run at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Attempts when the payload's maxTries is null (0 = unlimited).
    #[arg(long, default_value_t = 1)]
    pub tries: i64,
    /// Seconds before retrying after an exception, or a comma list indexed by attempt.
    #[arg(long, default_value = "0", value_delimiter = ',')]
    pub backoff: Vec<i64>,
    /// Seconds a job may run when the payload's timeout is null (0 = none).
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Seconds to sleep when no job is available (fractions allowed).
    #[arg(long, default_value_t = 3.0)]
    pub sleep: f64,
    /// Stop after this many jobs (0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub max_jobs: u64,
    /// Stop after this many seconds (0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub max_time: u64,
    /// Serve the admin HTTP API, /metrics and health checks on this address (off when unset).
    #[arg(long, env = "CV_WORKER_ADMIN_LISTEN")]
    pub admin_listen: Option<std::net::SocketAddr>,
    /// The admin API's bearer token (required unless --admin-listen is a loopback address).
    #[arg(long, env = "CV_WORKER_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Exit when the queues are empty.
    #[arg(long)]
    pub stop_when_empty: bool,
    /// Work a single job, then exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds in-flight jobs may still run after SIGTERM/SIGINT/SIGQUIT or a queue:restart;
    /// the unfinished are then released back to the queue with their attempts unchanged.
    #[arg(long, env = "CV_WORKER_SHUTDOWN_GRACE", default_value_t = 30.0)]
    pub shutdown_grace: f64,
}

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    /// The job class, e.g. 'App\Jobs\GenerateCvPdf'.
    #[arg(required_unless_present = "batch_file")]
    pub class: Option<String>,
    /// Dispatch the --count jobs as one Laravel batch with this name (`Bus::batch()`); prints
    /// the batch as JSON.
    #[arg(long)]
    pub batch: Option<String>,
    /// The batch lets its jobs fail without being cancelled (`->allowFailures()`).
    #[arg(long)]
    pub allow_failures: bool,
    /// Dispatch a batch from a JSON file: a list of {"class", "data", "queue"?} objects
    /// (batch name: --batch, default empty).
    #[arg(long, conflicts_with = "class")]
    pub batch_file: Option<std::path::PathBuf>,
    /// The command's properties as a JSON object.
    #[arg(long, default_value = "{}")]
    pub data: String,
    #[arg(long, default_value = "default")]
    pub queue: String,
    /// Seconds before the job becomes available.
    #[arg(long, default_value_t = 0)]
    pub delay: i64,
    /// The payload's maxTries.
    #[arg(long)]
    pub tries: Option<i64>,
    /// The payload's timeout in seconds.
    #[arg(long)]
    pub timeout: Option<i64>,
    /// The payload's backoff, e.g. 10,60.
    #[arg(long)]
    pub backoff: Option<String>,
    /// How many copies to dispatch.
    #[arg(long, default_value_t = 1)]
    pub count: usize,
}

/// Bad configuration: reported in one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Resolves the database URL; the embedded default is migrated on first use.
pub async fn open_store(cli: &Cli, max_connections: u32) -> anyhow::Result<Arc<dyn Store>> {
    let raw = cli.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL);
    let url = DatabaseUrl::from_str(raw).map_err(|e| ConfigError(e.to_string()))?;
    let store = store::connect(&url, max_connections)
        .await
        .map_err(|e| ConfigError(format!("cannot connect to {}: {e}", store::redact_url(raw))))?;
    if cli.database_url.is_none() && url.dialect == Dialect::Sqlite {
        store.migrate().await.context("migrating the embedded SQLite database")?;
    }
    Ok(store)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.retry_after < 1 {
        return Err(ConfigError("--retry-after must be at least 1 second".into()).into());
    }
    match &cli.command {
        Command::Demo => {
            let store = open_store(&cli, 4).await?;
            let raw = cli.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL);
            crate::demo::run(store, &cli.storage_root, &store::redact_url(raw)).await?;
        }
        Command::Render(args) => render(args)?,
        Command::Migrate => {
            let store = open_store(&cli, 2).await?;
            store.migrate().await.context("migrating")?;
            println!("migrated ({})", store.dialect());
        }
        Command::Work(args) => {
            let options = worker_options(&cli, args)?;
            if let Some(addr) = args.admin_listen {
                crate::admin::check_listen(addr, args.admin_token.as_deref())
                    .map_err(|e| ConfigError(e.to_string()))?;
            }
            let shutdown = CancellationToken::new();
            let abort = CancellationToken::new();
            spawn_signal_handler(shutdown.clone(), abort.clone())?;
            // SIGHUP: queues, concurrency and log level, re-read as at start.
            let (live_tx, live_rx) = tokio::sync::watch::channel(crate::config::LiveSettings::of(&cli, &options));
            crate::config::spawn_sighup_reloader(live_tx).context("cannot listen for SIGHUP")?;
            let pool = (options.concurrency as u32 / 4).clamp(2, 16) + 2;
            let store = match &cli.database_url {
                // The embedded default: created and migrated, never "unreachable".
                None => open_store(&cli, pool).await?,
                // A database server that is down (or not created yet) is waited for.
                Some(raw) => {
                    let url = DatabaseUrl::from_str(raw).map_err(|e| ConfigError(e.to_string()))?;
                    match worker::connect_with_retry(&url, pool, &shutdown).await {
                        Ok(Some(store)) => store,
                        Ok(None) => {
                            tracing::info!("stopped before the database was reachable");
                            return Ok(());
                        }
                        Err(e) => {
                            let message = format!("cannot connect to {}: {e}", store::redact_url(raw));
                            return Err(ConfigError(message).into());
                        }
                    }
                }
            };
            if let Err(e) = cv_jobs::pdf::warm_up() {
                tracing::error!(error = %e, "cannot load the PDF fonts; CV jobs will fail");
            }
            let registry = Arc::new(crate::handlers::builtin(store.clone(), cli.storage_root.clone()));
            let admin = match args.admin_listen {
                Some(addr) => Some(
                    crate::admin::start(addr, args.admin_token.as_deref(), store.clone(), &options.queues)
                        .await
                        .map_err(|e| ConfigError(e.to_string()))?,
                ),
                None => None,
            };
            let report = worker::run_service(store, registry, options, shutdown, abort, Some(live_rx)).await?;
            if let Some(admin) = admin {
                admin.stop().await;
            }
            tracing::info!(?report, "done");
        }
        Command::Restart => {
            let store = open_store(&cli, 2).await?;
            worker::watch::broadcast_restart(&*store, &cli.cache_prefix, unix_now())
                .await
                .context("writing the queue restart signal to the cache table")?;
            println!("Broadcasting queue restart signal.");
        }
        Command::Config(ConfigCommand::Check) => print!("{}", crate::config::check(&cli)?),
        Command::Enqueue(args) => {
            if let Some(file) = &args.batch_file {
                let dispatches = crate::batches::cli::read_batch_file(file, &args.queue)?;
                let store = open_store(&cli, 2).await?;
                let name = args.batch.as_deref().unwrap_or_default();
                return crate::batches::cli::enqueue(&*store, name, &args.queue, args.allow_failures, dispatches).await;
            }
            let properties = match serde_json::from_str(&args.data) {
                Ok(serde_json::Value::Object(map)) => map,
                Ok(_) => return Err(ConfigError("--data must be a JSON object".into()).into()),
                Err(e) => return Err(ConfigError(format!("--data is not valid JSON: {e}")).into()),
            };
            let class = args.class.clone().unwrap_or_default();
            if class.trim().is_empty() {
                return Err(ConfigError("the job class must not be empty".into()).into());
            }
            let dispatch = Dispatch {
                class,
                properties,
                queue: args.queue.clone(),
                delay: args.delay,
                max_tries: args.tries,
                timeout: args.timeout,
                backoff: args.backoff.clone(),
                ..Dispatch::default()
            };
            let store = open_store(&cli, 2).await?;
            if let Some(name) = &args.batch {
                let dispatches = vec![dispatch; args.count];
                return crate::batches::cli::enqueue(&*store, name, &args.queue, args.allow_failures, dispatches).await;
            }
            let now = unix_now();
            let (jobs, uuids): (Vec<_>, Vec<_>) = (0..args.count).map(|_| enqueue::new_job(&dispatch, now)).unzip();
            store.push(&jobs, now).await.context("inserting the jobs")?;
            for uuid in uuids {
                println!("{uuid}");
            }
        }
        Command::Bench(args) => {
            let raw = cli.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL);
            let url = DatabaseUrl::from_str(raw).map_err(|e| ConfigError(e.to_string()))?;
            let store = open_store(&cli, 16).await?;
            let options = crate::bench::BenchOptions {
                jobs: args.jobs,
                concurrency: args.concurrency.max(1),
                laravel_jobs: args.laravel_jobs,
                laravel_app: args.laravel_app.clone(),
                php: args.php.clone(),
            };
            crate::bench::run(store, &url, &options).await?;
        }
        Command::Failed(args) => {
            let store = open_store(&cli, 2).await?;
            crate::failed::cli::run(&*store, args, unix_now()).await?;
        }
        Command::Batches(args) => {
            let store = open_store(&cli, 2).await?;
            crate::batches::cli::run(&*store, args, unix_now()).await?;
        }
    }
    Ok(())
}

/// `cv-worker render`: JSON Resume file → PDF, the way the GenerateCvPdf job renders it.
fn render(args: &RenderArgs) -> anyhow::Result<()> {
    let template: cv_jobs::pdf::Template = args.template.parse().map_err(|e| ConfigError(format!("{e}")))?;
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let document = cv_jobs::document::CvDocument::from_json_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a valid CV document: {e}", args.file.display()))?;
    let started = std::time::Instant::now();
    let pdf = cv_jobs::pdf::render(&document, template)?;
    let elapsed = started.elapsed();
    let output = args.output.clone().unwrap_or_else(|| args.file.with_extension("pdf"));
    std::fs::write(&output, &pdf.bytes).with_context(|| format!("writing {}", output.display()))?;
    println!(
        "{}: {} page{}, {} bytes, {:.1} ms ({template})",
        output.display(),
        pdf.pages,
        if pdf.pages == 1 { "" } else { "s" },
        pdf.bytes.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}

pub(crate) fn worker_options(cli: &Cli, args: &WorkArgs) -> anyhow::Result<WorkerOptions> {
    if args.concurrency == 0 {
        bail!(ConfigError("--concurrency must be at least 1".into()));
    }
    if !(args.sleep.is_finite() && args.sleep >= 0.0) {
        bail!(ConfigError("--sleep must be a non-negative number of seconds".into()));
    }
    let queues: Vec<String> = args.queue.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect();
    if queues.is_empty() {
        bail!(ConfigError("--queue must name at least one queue".into()));
    }
    if args.backoff.iter().any(|b| *b < 0) {
        bail!(ConfigError("--backoff must be non-negative".into()));
    }
    if !(args.shutdown_grace.is_finite() && args.shutdown_grace >= 0.0) {
        bail!(ConfigError("--shutdown-grace must be a non-negative number of seconds".into()));
    }
    Ok(WorkerOptions {
        connection_name: cli.connection_name.clone(),
        queues,
        concurrency: if args.once { 1 } else { args.concurrency },
        defaults: WorkerDefaults { tries: args.tries, backoff: args.backoff.clone(), timeout: args.timeout },
        retry_after: cli.retry_after,
        sleep: Duration::from_secs_f64(args.sleep),
        max_jobs: if args.once { 1 } else { args.max_jobs },
        max_time: (args.max_time > 0).then(|| Duration::from_secs(args.max_time)),
        stop_when_empty: args.stop_when_empty || args.once,
        cache_prefix: cli.cache_prefix.clone(),
        shutdown_grace: Duration::from_secs_f64(args.shutdown_grace),
        ..WorkerOptions::default()
    })
}

/// SIGTERM / SIGINT / SIGQUIT: stop claiming, let in-flight jobs finish within the grace
/// period, release the rest, exit 0. A second signal interrupts the in-flight jobs at once
/// (they are released, never lost). SIGQUIT is a stop request, not a crash.
fn spawn_signal_handler(shutdown: CancellationToken, abort: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| signal(kind).with_context(|| format!("cannot listen for {name}"));
    let mut term = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut int = listen(SignalKind::interrupt(), "SIGINT")?;
    let mut quit = listen(SignalKind::quit(), "SIGQUIT")?;
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                Some(()) = term.recv() => "SIGTERM",
                Some(()) = int.recv() => "SIGINT",
                Some(()) = quit.recv() => "SIGQUIT",
                else => return,
            };
            if shutdown.is_cancelled() {
                tracing::warn!(signal = name, "second stop signal: releasing in-flight jobs and exiting now");
                abort.cancel();
                return;
            }
            tracing::info!(signal = name, "stopping: no new jobs; finishing in-flight jobs");
            shutdown.cancel();
        }
    });
    Ok(())
}
