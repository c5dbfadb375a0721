//! systemd's notify protocol (`Type=notify`), spoken from the fetcher loop itself:
//!
//! * `READY=1` once the store is connected and the first reserve round trip succeeded, so
//!   `systemctl start` returns only when the worker can really claim jobs;
//! * `STATUS=` every [`STATUS_INTERVAL`]: jobs per second and jobs in flight (shown by
//!   `systemctl status`);
//! * `WATCHDOG=1` every half `WATCHDOG_USEC` when `WatchdogSec=` is set. The pings come from
//!   the loop that claims jobs, not from a side task, so a wedged loop (a hung database call,
//!   a deadlock) stops them and systemd restarts the service;
//! * `STOPPING=1` when the worker stops claiming (signal, `queue:restart`, limits).
//!
//! Without `NOTIFY_SOCKET` (not under systemd) all of this costs nothing.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sd_notify::NotifyState;

use super::Stats;

/// How often `STATUS=` is sent.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(2);

pub(crate) struct Notifier {
    enabled: bool,
    /// Half the watchdog interval, when systemd asked for pings.
    ping_every: Option<Duration>,
    ready: bool,
    last_ping: Instant,
    last_status: Instant,
    last_done: u64,
    failing: bool,
    /// Shown in STATUS= while it lasts (the database is unreachable…).
    problem: Option<&'static str>,
}

impl Notifier {
    pub fn from_env() -> Self {
        let notifier = Self::from_env_quiet();
        if let Some(every) = notifier.ping_every {
            tracing::info!(ping_every_ms = every.as_millis() as u64, "systemd watchdog enabled");
        }
        notifier
    }

    /// [`Notifier::from_env`] without the log line (the connect phase before the worker).
    pub fn from_env_quiet() -> Self {
        let enabled = std::env::var_os("NOTIFY_SOCKET").is_some();
        let ping_every =
            sd_notify::watchdog_enabled().filter(|_| enabled).map(|d| (d / 2).max(Duration::from_millis(10)));
        Notifier {
            enabled,
            ping_every,
            ready: false,
            last_ping: Instant::now(),
            last_status: Instant::now(),
            last_done: 0,
            failing: false,
            problem: None,
        }
    }

    /// The longest the loop may wait before calling [`Notifier::tick`] again.
    pub fn max_wait(&self) -> Duration {
        self.ping_every.map_or(Duration::MAX, |every| every.min(STATUS_INTERVAL))
    }

    /// `READY=1` (once).
    pub fn ready(&mut self, stats: &Stats, in_flight: usize) {
        if self.ready || !self.enabled {
            return;
        }
        self.ready = true;
        let status = self.status_line(stats, in_flight);
        self.send(&[NotifyState::Ready, NotifyState::Status(&status)]);
        self.last_ping = Instant::now();
    }

    /// Watchdog ping and status line when they are due.
    pub fn tick(&mut self, stats: &Stats, in_flight: usize) {
        if !self.enabled {
            return;
        }
        if self.ping_every.is_some_and(|every| self.last_ping.elapsed() >= every) {
            self.last_ping = Instant::now();
            self.send(&[NotifyState::Watchdog]);
        }
        if self.last_status.elapsed() >= STATUS_INTERVAL {
            let status = self.status_line(stats, in_flight);
            self.send(&[NotifyState::Status(&status)]);
        }
    }

    /// Sets or clears the problem shown in STATUS=; sends a status line at once on a change.
    pub fn set_problem(&mut self, problem: Option<&'static str>, stats: &Stats, in_flight: usize) {
        if self.problem == problem {
            return;
        }
        self.problem = problem;
        if self.enabled {
            let status = self.status_line(stats, in_flight);
            self.send(&[NotifyState::Status(&status)]);
        }
    }

    /// `STOPPING=1`.
    pub fn stopping(&mut self, in_flight: usize) {
        if !self.enabled {
            return;
        }
        let status = format!("stopping: {in_flight} in flight");
        self.send(&[NotifyState::Stopping, NotifyState::Status(&status)]);
    }

    fn status_line(&mut self, stats: &Stats, in_flight: usize) -> String {
        let done = stats.processed.load(Ordering::Relaxed)
            + stats.released.load(Ordering::Relaxed)
            + stats.failed.load(Ordering::Relaxed);
        let seconds = self.last_status.elapsed().as_secs_f64().max(0.001);
        let rate = done.saturating_sub(self.last_done) as f64 / seconds;
        self.last_done = done;
        self.last_status = Instant::now();
        match self.problem {
            Some(problem) => format!("{problem}; {in_flight} in flight, {done} done"),
            None => format!("{rate:.1} jobs/s, {in_flight} in flight, {done} done"),
        }
    }

    fn send(&mut self, states: &[NotifyState<'_>]) {
        match sd_notify::notify(states) {
            Ok(()) => self.failing = false,
            Err(e) => {
                if !self.failing {
                    tracing::warn!(error = %e, "cannot notify systemd (NOTIFY_SOCKET)");
                    self.failing = true;
                }
            }
        }
    }
}
