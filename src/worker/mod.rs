//! The worker runtime: our own small runtime on tokio (see DESIGN.md for why not apalis).
//!
//! Three parts, connected by a semaphore and a channel:
//!
//! * the **fetcher** (this module's [`run`]) waits for free slots, then claims up to that many
//!   jobs in one `reserve` round trip per queue, in priority order. It never claims more than
//!   it can start at once, so no job sits reserved while its `retry_after` runs out.
//! * an **executor** task per job ([`executor`]) parses the payload, applies Laravel's attempt
//!   policy, runs the handler under its timeout with panics caught, and turns the result into
//!   an [`Outcome`](crate::store::Outcome).
//! * the **completer** ([`completer`]) takes whatever outcomes have queued up while it was
//!   writing the previous batch and writes them in one transaction. A job's slot is freed
//!   only when its outcome is durable, which gives backpressure and means an empty
//!   in-flight set implies nothing is left unwritten.
//!
//! When there is nothing to do the fetcher sleeps `--sleep` seconds (no busy polling), and a
//! shutdown token stops claiming at once and lets in-flight jobs finish within
//! `shutdown_grace`; then (or at once on the `abort` token) the unfinished handlers are
//! dropped and their jobs released back to the queue with attempts unchanged
//! ([`Outcome::Abandon`](crate::store::Outcome::Abandon)). The loop also watches Laravel's
//! restart and pause keys ([`watch`]) and speaks systemd's notify protocol (`notify`).

mod completer;
mod executor;
mod notify;
pub mod watch;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::handlers::Registry;
use crate::protocol::policy::WorkerDefaults;
use crate::store::{CompleteReport, Store};

/// How long the fetcher may wait for more free slots when there is a backlog.
const COALESCE: Duration = Duration::from_millis(2);

/// While the database is unreachable: the first retry after this long, doubling…
pub const OUTAGE_BACKOFF_MIN: Duration = Duration::from_millis(500);
/// …up to this.
pub const OUTAGE_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Connects for `cv-worker work`. An unreachable database (refused, down, not created yet)
/// is not fatal: the attempt is retried with capped backoff ([`OUTAGE_BACKOFF_MIN`] doubling
/// to [`OUTAGE_BACKOFF_MAX`]), logged once when the outage starts and once when it ends, and
/// shown in systemd's STATUS= (READY=1 waits for the first successful reserve). Returns
/// `Ok(None)` when `shutdown` comes first; only an invalid URL is an error.
pub async fn connect_with_retry(
    url: &crate::store::DatabaseUrl,
    max_connections: u32,
    shutdown: &CancellationToken,
) -> crate::store::Result<Option<Arc<dyn Store>>> {
    let mut notifier = notify::Notifier::from_env_quiet();
    let stats = Stats::default();
    let mut backoff = OUTAGE_BACKOFF_MIN;
    let mut down_since: Option<Instant> = None;
    loop {
        // A refused connection is retried inside the pool until its acquire timeout: bound
        // each attempt so the outage is reported early and the watchdog is fed.
        let limit = backoff.max(Duration::from_secs(2));
        let attempt = tokio::select! {
            r = tokio::time::timeout(limit, crate::store::connect(url, max_connections)) => r,
            _ = shutdown.cancelled() => return Ok(None),
        };
        let error = match attempt {
            Ok(Ok(store)) => {
                if let Some(since) = down_since {
                    tracing::info!(down_s = since.elapsed().as_secs_f64(), "database reachable again");
                }
                return Ok(Some(store));
            }
            Ok(Err(
                e @ (crate::store::StoreError::Url(_)
                | crate::store::StoreError::Database(sqlx::Error::Configuration(_))),
            )) => {
                return Err(e);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timed out connecting".to_string(),
        };
        if down_since.is_none() {
            tracing::error!(error = %error, "cannot connect to the database; retrying until it is reachable");
            down_since = Some(Instant::now());
            notifier.set_problem(Some("database unreachable, retrying"), &stats, 0);
        } else {
            tracing::debug!(error = %error, retry_in_ms = backoff.as_millis() as u64, "still cannot connect");
        }
        nap(backoff, shutdown, &mut notifier, &stats, 0).await;
        if shutdown.is_cancelled() {
            return Ok(None);
        }
        backoff = (backoff * 2).min(OUTAGE_BACKOFF_MAX);
    }
}

/// Sleeps `duration` (or until `shutdown`) in steps short enough to keep the watchdog fed.
async fn nap(
    duration: Duration,
    shutdown: &CancellationToken,
    notifier: &mut notify::Notifier,
    stats: &Stats,
    in_flight: usize,
) {
    let wake = Instant::now() + duration;
    loop {
        let left = wake.saturating_duration_since(Instant::now());
        if left.is_zero() || shutdown.is_cancelled() {
            return;
        }
        sleep_or_shutdown(left.min(notifier.max_wait()), shutdown).await;
        notifier.tick(stats, in_flight);
    }
}

/// The daemon's clock: Unix seconds, as PHP's `time()`.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `cv-worker work`'s options, named after `queue:work`'s.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The Laravel queue connection name written to `failed_jobs.connection`.
    pub connection_name: String,
    /// Queues in strict priority order.
    pub queues: Vec<String>,
    /// Jobs run at once (tokio tasks).
    pub concurrency: usize,
    pub defaults: WorkerDefaults,
    /// Seconds after which a reservation may be reclaimed by any worker.
    pub retry_after: i64,
    /// Idle sleep when no queue had a job.
    pub sleep: Duration,
    /// Stop after this many jobs (0: no limit).
    pub max_jobs: u64,
    /// Stop claiming after this long.
    pub max_time: Option<Duration>,
    /// Exit when no queue has an available job and nothing is in flight.
    pub stop_when_empty: bool,
    /// Laravel's cache prefix (`laravel-cache-`), prepended to cache keys.
    pub cache_prefix: String,
    /// The most outcomes written in one completion transaction.
    pub completion_batch: usize,
    /// After a stop (signal, restart, limits): how long in-flight jobs may still run before
    /// they are interrupted and released back to the queue with their attempts unchanged.
    pub shutdown_grace: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            connection_name: "database".into(),
            queues: vec!["default".into()],
            concurrency: 16,
            defaults: WorkerDefaults::default(),
            retry_after: 90,
            sleep: Duration::from_secs(3),
            max_jobs: 0,
            max_time: None,
            stop_when_empty: false,
            cache_prefix: "laravel-cache-".into(),
            completion_batch: 1000,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Counters of what a worker did.
#[derive(Debug, Default)]
pub struct Stats {
    pub processed: AtomicU64,
    pub released: AtomicU64,
    pub failed: AtomicU64,
    /// Outcomes not written because the reservation had been reclaimed by another worker.
    pub lost: AtomicU64,
    /// Batches this worker finished (set `finished_at` on).
    pub batches_finished: AtomicU64,
}

impl Stats {
    fn record(&self, r: &CompleteReport) {
        self.processed.fetch_add(r.deleted as u64, Ordering::Relaxed);
        self.released.fetch_add(r.released as u64, Ordering::Relaxed);
        self.failed.fetch_add(r.failed as u64, Ordering::Relaxed);
        self.lost.fetch_add(r.lost as u64, Ordering::Relaxed);
        self.batches_finished.fetch_add(r.batches_finished as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> WorkReport {
        WorkReport {
            processed: self.processed.load(Ordering::Relaxed),
            released: self.released.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            batches_finished: self.batches_finished.load(Ordering::Relaxed),
        }
    }
}

/// What a run of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WorkReport {
    /// Jobs deleted after success (including quiet deletes).
    pub processed: u64,
    pub released: u64,
    pub failed: u64,
    pub lost: u64,
    /// Batches whose last pending job this worker completed (`finished_at` set).
    pub batches_finished: u64,
}

/// What every executor shares.
pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub registry: Arc<Registry>,
    pub options: WorkerOptions,
    pub completions: mpsc::Sender<completer::Pending>,
    /// Interrupts running handlers: their jobs are released with attempts unchanged.
    pub abort: CancellationToken,
}

/// Works the queues until a stop condition or `shutdown`; returns what was done.
pub async fn run(
    store: Arc<dyn Store>,
    registry: Arc<Registry>,
    options: WorkerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<WorkReport> {
    run_with_abort(store, registry, options, shutdown, CancellationToken::new()).await
}

/// [`run`], plus `abort`: once cancelled (a second signal), in-flight jobs are interrupted at
/// once instead of after `shutdown_grace`, and released back to the queue unchanged.
pub async fn run_with_abort(
    store: Arc<dyn Store>,
    registry: Arc<Registry>,
    options: WorkerOptions,
    shutdown: CancellationToken,
    abort: CancellationToken,
) -> anyhow::Result<WorkReport> {
    run_service(store, registry, options, shutdown, abort, None).await
}

/// [`run_with_abort`], plus live settings (SIGHUP): when `live` changes, the queue list and
/// the concurrency change between two claims. Jobs in flight are not touched; with a lower
/// concurrency, no new job starts until fewer than the new limit run.
pub async fn run_service(
    store: Arc<dyn Store>,
    registry: Arc<Registry>,
    mut options: WorkerOptions,
    shutdown: CancellationToken,
    abort: CancellationToken,
    mut live: Option<tokio::sync::watch::Receiver<crate::config::LiveSettings>>,
) -> anyhow::Result<WorkReport> {
    anyhow::ensure!(options.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(!options.queues.is_empty(), "--queue must name at least one queue");
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let (tx, rx) = mpsc::channel(options.concurrency.max(options.completion_batch));
    let completer = tokio::spawn(completer::run(
        store.clone(),
        rx,
        options.connection_name.clone(),
        options.completion_batch,
        stats.clone(),
    ));
    let shared = Arc::new(Shared {
        store: store.clone(),
        registry,
        options: options.clone(),
        completions: tx,
        abort: abort.clone(),
    });
    let slots = Arc::new(Semaphore::new(options.concurrency));
    let mut in_flight = JoinSet::new();
    let mut claimed: u64 = 0;
    // Since when reserving has been failing (an outage), and the next retry's delay.
    let mut database_down: Option<Instant> = None;
    let mut outage_backoff = OUTAGE_BACKOFF_MIN;
    // The last reserve filled every slot it asked for: there is more waiting.
    let mut backlog = false;
    // queue:restart / queue:pause (read at start, then at most once a second).
    let mut watch = watch::Watch::new(&options);
    watch.restart_signalled(&*store).await;
    // systemd: READY=1, STATUS=, WATCHDOG=1 (from this loop), STOPPING=1.
    let mut notifier = notify::Notifier::from_env();
    // READY=1 waits for the schema (and then for the first successful reserve).
    wait_for_schema(&*store, &shutdown, &mut notifier, &stats).await;

    tracing::info!(queues = %options.queues.join(","), concurrency = options.concurrency, "worker started");
    loop {
        while let Some(done) = in_flight.try_join_next() {
            if let Err(e) = done {
                tracing::error!(error = %e, "job task ended abnormally");
            }
        }
        notifier.tick(&stats, in_flight.len());
        if let Some(rx) = live.as_mut()
            && rx.has_changed().unwrap_or(false)
        {
            let new = rx.borrow_and_update().clone();
            apply_live(&mut options, &new, &slots, &mut watch);
        }
        if shutdown.is_cancelled() || options.max_time.is_some_and(|max| started.elapsed() >= max) {
            break;
        }
        // During an outage the reserve below is the probe; the keys wait for the database.
        if database_down.is_none() && watch.restart_signalled(&*store).await {
            tracing::info!("queue restart signal received (queue:restart); finishing in-flight jobs and exiting");
            break;
        }
        let remaining = if options.max_jobs > 0 { options.max_jobs - claimed } else { u64::MAX };
        if remaining == 0 {
            break;
        }

        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => permit?,
            _ = shutdown.cancelled() => break,
            // All slots busy: look at the restart key (and ping the watchdog) meanwhile.
            _ = tokio::time::sleep(watch::INTERVAL.min(notifier.max_wait())) => continue,
        };
        // Let tasks whose completions were just acknowledged free their slots too, so one
        // round trip claims for all of them. With a backlog, wait a moment for half the
        // slots: fewer, fuller round trips.
        tokio::task::yield_now().await;
        if backlog && slots.available_permits() + 1 < options.concurrency / 2 {
            let _ = tokio::time::timeout(COALESCE, slots.acquire_many(options.concurrency as u32 / 2 - 1)).await;
        }
        let want = remaining.min(options.concurrency as u64) as usize;
        let mut permits = vec![first];
        while permits.len() < want {
            match slots.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }

        let now = unix_now();
        let mut jobs = Vec::with_capacity(permits.len());
        let mut fetch_error = None;
        for queue in options.queues.iter().filter(|q| !watch.is_paused(q)) {
            let need = permits.len() - jobs.len();
            if need == 0 {
                break;
            }
            let reserve_started = Instant::now();
            let reserved = store.reserve(queue, need, now, options.retry_after).await;
            crate::admin::metrics::record_reserve(queue, reserve_started.elapsed().as_secs_f64());
            match reserved {
                Ok(mut got) => jobs.append(&mut got),
                Err(e) => {
                    fetch_error = Some(e);
                    break;
                }
            }
        }
        if fetch_error.is_none() {
            // The store is connected and a reserve round trip worked: ready (once).
            notifier.ready(&stats, in_flight.len());
        }
        if let Some(e) = fetch_error {
            if e.is_conflict() && jobs.is_empty() {
                // Deadlocks and lock timeouts are part of life on MySQL without SKIP LOCKED
                // (spec §13.1): not an outage and not a job failure. Try again shortly.
                tracing::debug!(error = %e, "reserve hit a transient conflict; retrying");
                drop(permits);
                sleep_or_shutdown(Duration::from_millis(5 + (now as u64 % 20)), &shutdown).await;
                continue;
            }
            // An outage (refused, restarted, broken connection) or another database error:
            // logged once when it starts and once when it ends, not once per retry.
            if database_down.is_none() {
                tracing::error!(error = %e, "cannot reserve jobs (database unavailable); retrying with backoff");
                database_down = Some(Instant::now());
                notifier.set_problem(Some("database unreachable, retrying"), &stats, in_flight.len());
            } else {
                tracing::debug!(error = %e, retry_in_ms = outage_backoff.as_millis() as u64, "reserve still failing");
            }
            if jobs.is_empty() {
                drop(permits);
                nap(outage_backoff, &shutdown, &mut notifier, &stats, in_flight.len()).await;
                outage_backoff = (outage_backoff * 2).min(OUTAGE_BACKOFF_MAX);
                continue;
            }
            // Jobs claimed from earlier queues before the error still run.
        } else if let Some(since) = database_down.take() {
            tracing::info!(down_s = since.elapsed().as_secs_f64(), "database reachable again; reserving");
            outage_backoff = OUTAGE_BACKOFF_MIN;
            notifier.set_problem(None, &stats, in_flight.len());
        }

        if jobs.is_empty() {
            backlog = false;
            drop(permits);
            if options.stop_when_empty {
                // In-flight jobs may still release work back to the queue: wait for them,
                // then look again; stop only when nothing is left anywhere.
                let finished = tokio::select! {
                    done = in_flight.join_next() => done.is_some(),
                    // The loop's top sees the stop and drains with the grace period.
                    _ = shutdown.cancelled() => true,
                };
                if finished {
                    continue;
                }
                break;
            }
            // Idle: sleep --sleep, in steps short enough for the watchdog.
            nap(options.sleep, &shutdown, &mut notifier, &stats, in_flight.len()).await;
            continue;
        }

        tracing::debug!(wanted = permits.len(), claimed = jobs.len(), "reserved");
        backlog = jobs.len() == permits.len();
        claimed += jobs.len() as u64;
        let mut permits = permits.into_iter();
        for job in jobs {
            let permit = match permits.next() {
                Some(p) => p,
                None => slots.clone().acquire_owned().await?,
            };
            let shared = shared.clone();
            in_flight.spawn(async move {
                executor::execute(job, &shared).await;
                drop(permit);
            });
        }
    }

    // Stop claiming; let in-flight jobs finish within the grace period (each is also bounded
    // by its timeout), then interrupt the rest: they are released back to the queue.
    notifier.stopping(in_flight.len());
    if !in_flight.is_empty() {
        tracing::info!(
            in_flight = in_flight.len(),
            grace_s = options.shutdown_grace.as_secs_f64(),
            "stopped claiming; waiting for in-flight jobs"
        );
    }
    let grace = tokio::time::sleep(options.shutdown_grace);
    tokio::pin!(grace);
    loop {
        let done = tokio::select! {
            done = in_flight.join_next() => done,
            _ = &mut grace, if !abort.is_cancelled() => {
                tracing::warn!(in_flight = in_flight.len(), "shutdown grace is over; releasing unfinished jobs");
                abort.cancel();
                continue;
            }
            _ = abort.cancelled(), if !abort.is_cancelled() => continue,
            // Draining is progress too: keep the watchdog fed.
            _ = tokio::time::sleep(notifier.max_wait().min(Duration::from_secs(3600))) => {
                notifier.tick(&stats, in_flight.len());
                continue;
            }
        };
        match done {
            Some(Err(e)) => tracing::error!(error = %e, "job task ended abnormally"),
            Some(Ok(())) => {}
            None => break,
        }
    }
    drop(shared);
    completer.await?;
    let report = stats.snapshot();
    tracing::info!(
        processed = report.processed,
        released = report.released,
        failed = report.failed,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "worker stopped"
    );
    Ok(report)
}

/// Applies reloaded queues and concurrency to the running loop.
fn apply_live(
    options: &mut WorkerOptions,
    new: &crate::config::LiveSettings,
    slots: &Arc<Semaphore>,
    watch: &mut watch::Watch,
) {
    if new.concurrency > 0 && new.concurrency != options.concurrency {
        let old = options.concurrency;
        if new.concurrency > old {
            slots.add_permits(new.concurrency - old);
        } else {
            // Free slots go at once; slots held by running jobs go as those jobs finish.
            let owed = old - new.concurrency;
            let forgotten = slots.forget_permits(owed);
            if forgotten < owed {
                let slots = slots.clone();
                tokio::spawn(async move {
                    if let Ok(permits) = slots.acquire_many_owned((owed - forgotten) as u32).await {
                        permits.forget();
                    }
                });
            }
        }
        tracing::info!(from = old, to = new.concurrency, "concurrency changed");
        options.concurrency = new.concurrency;
    }
    if !new.queues.is_empty() && new.queues != options.queues {
        tracing::info!(from = %options.queues.join(","), to = %new.queues.join(","), "queues changed");
        options.queues = new.queues.clone();
        watch.retarget(options);
    }
}

/// Waits until [`crate::store::check_schema`] passes (tables missing: run `cv-worker migrate`),
/// logging once, reporting it in systemd's STATUS= and keeping the watchdog fed.
async fn wait_for_schema(
    store: &dyn Store,
    shutdown: &CancellationToken,
    notifier: &mut notify::Notifier,
    stats: &Stats,
) {
    let mut logged = false;
    while !shutdown.is_cancelled() {
        match crate::store::check_schema(store).await {
            Ok(()) => {
                if logged {
                    tracing::info!("database schema present; starting");
                    notifier.set_problem(None, stats, 0);
                }
                return;
            }
            Err(e) => {
                if !logged {
                    tracing::error!(error = %e, "database unreachable or not migrated (run `cv-worker migrate`); waiting");
                    notifier.set_problem(Some("database unreachable or not migrated, waiting"), stats, 0);
                    logged = true;
                }
                notifier.tick(stats, 0);
                sleep_or_shutdown(Duration::from_secs(1).min(notifier.max_wait()), shutdown).await;
            }
        }
    }
}

async fn sleep_or_shutdown(duration: Duration, shutdown: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {},
        _ = shutdown.cancelled() => {},
    }
}
