//! Laravel's restart and pause signals, read from the `cache` table (spec §6.4).
//!
//! * `php artisan queue:restart` (and `cv-worker restart`) writes
//!   `<prefix>illuminate:queue:restart` = the current time. A worker remembers the value it
//!   saw at start and stops (drains, exits 0, systemd starts it again) once the value differs,
//!   including when the key disappears after having existed (`cache:clear`).
//! * `php artisan queue:pause <connection>:<queue>` writes
//!   `<prefix>illuminate:queue:paused:<connection>:<queue>` (`b:1;`); `queue:resume` deletes
//!   it. A paused queue is skipped until then. Laravel 13's `queue:pause --all` writes
//!   `<prefix>illuminate:queues:paused`, which pauses every queue.
//!
//! The keys are read at most once per [`INTERVAL`], not once per job: a busy worker costs the
//! database one small query per queue per second, and a restart is seen within a second.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::{WorkerOptions, unix_now};
use crate::store::Store;

/// How often the cache keys are read.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// "Forever" in Laravel's cache: now + 315,360,000 s (ten years).
pub const FOREVER: i64 = 315_360_000;

/// The restart key, with the app's cache prefix.
pub fn restart_key(cache_prefix: &str) -> String {
    format!("{cache_prefix}illuminate:queue:restart")
}

/// The pause key of one queue, with the app's cache prefix.
pub fn pause_key(cache_prefix: &str, connection: &str, queue: &str) -> String {
    format!("{cache_prefix}illuminate:queue:paused:{connection}:{queue}")
}

/// Writes the restart signal as `queue:restart` does: `i:<now>;`, forever.
pub async fn broadcast_restart(store: &dyn Store, cache_prefix: &str, now: i64) -> crate::store::Result<()> {
    store.cache_put(&restart_key(cache_prefix), &format!("i:{now};"), now + FOREVER).await
}

/// PHP truthiness of a serialized cache value (`b:1;` is true; `b:0;`, `i:0;`, `N;`, `""`,
/// `"0"`, `[]` are false).
pub fn php_truthy(value: &str) -> bool {
    !matches!(value, "b:0;" | "i:0;" | "d:0;" | "N;" | "s:0:\"\";" | "s:1:\"0\";" | "a:0:{}")
}

/// Remembers the restart value seen at start and the paused queues.
pub(crate) struct Watch {
    restart_key: String,
    pause_keys: Vec<(String, String)>,
    all_paused_key: String,
    /// The value seen at start (`None` inside: the key was absent); `None` until read once.
    restart_at_start: Option<Option<String>>,
    paused: HashSet<String>,
    checked: Option<Instant>,
    failing: bool,
}

impl Watch {
    pub fn new(options: &WorkerOptions) -> Self {
        let prefix = &options.cache_prefix;
        Watch {
            restart_key: restart_key(prefix),
            pause_keys: options
                .queues
                .iter()
                .map(|q| (q.clone(), pause_key(prefix, &options.connection_name, q)))
                .collect(),
            all_paused_key: format!("{prefix}illuminate:queues:paused"),
            restart_at_start: None,
            paused: HashSet::new(),
            checked: None,
            failing: false,
        }
    }

    /// Follows a new queue list (SIGHUP): pause keys of the new queues, read again at once.
    pub fn retarget(&mut self, options: &WorkerOptions) {
        let prefix = &options.cache_prefix;
        self.pause_keys =
            options.queues.iter().map(|q| (q.clone(), pause_key(prefix, &options.connection_name, q))).collect();
        self.paused.retain(|q| options.queues.contains(q));
        self.checked = None;
    }

    pub fn is_paused(&self, queue: &str) -> bool {
        self.paused.contains(queue)
    }

    /// Reads the keys if [`INTERVAL`] has passed since the last read; true when a restart was
    /// signalled. A database error keeps the previous state (the fetcher reports outages).
    pub async fn restart_signalled(&mut self, store: &dyn Store) -> bool {
        if self.checked.is_some_and(|at| at.elapsed() < INTERVAL) {
            return false;
        }
        self.checked = Some(Instant::now());
        match self.read(store).await {
            Ok(restart) => {
                self.failing = false;
                restart
            }
            Err(e) => {
                if !self.failing {
                    tracing::warn!(error = %e, "cannot read the queue restart/pause keys; retrying");
                    self.failing = true;
                }
                false
            }
        }
    }

    async fn read(&mut self, store: &dyn Store) -> crate::store::Result<bool> {
        let now = unix_now();
        let current = store.cache_get(&self.restart_key, now).await?;
        let restart = match &self.restart_at_start {
            None => {
                self.restart_at_start = Some(current);
                false
            }
            Some(at_start) => *at_start != current,
        };
        let all = store.cache_get(&self.all_paused_key, now).await?.is_some_and(|v| php_truthy(&v));
        let mut paused = HashSet::new();
        for (queue, key) in &self.pause_keys {
            if all || store.cache_get(key, now).await?.is_some_and(|v| php_truthy(&v)) {
                paused.insert(queue.clone());
            }
        }
        for queue in paused.difference(&self.paused) {
            tracing::info!(queue = %queue, "queue paused (queue:pause); not claiming from it");
        }
        for queue in self.paused.difference(&paused) {
            tracing::info!(queue = %queue, "queue resumed");
        }
        self.paused = paused;
        Ok(restart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_laravel() {
        assert_eq!(restart_key("laravel_cache"), "laravel_cacheilluminate:queue:restart");
        assert_eq!(pause_key("p-", "database", "high"), "p-illuminate:queue:paused:database:high");
    }

    #[test]
    fn truthiness() {
        assert!(php_truthy("b:1;"));
        assert!(php_truthy("i:1795756066;"));
        assert!(!php_truthy("b:0;"));
        assert!(!php_truthy("N;"));
    }
}
