//! Logging through `tracing`: human output on stderr (colours only on a terminal), JSON lines
//! under systemd's journal (or with `CV_WORKER_LOG_FORMAT=json`); level from `RUST_LOG`, else
//! `log_level` (config file, `CV_WORKER_LOG_LEVEL`, `--log-level`), else `info`. SIGHUP
//! re-reads `log_level` and swaps the filter in place ([`set_level`]).

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, fmt, reload};

/// `cv-worker work`'s default filter when neither `RUST_LOG` nor `log_level` says otherwise.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// The live filter, swapped by [`set_level`] (SIGHUP).
static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// Installs the subscriber. `RUST_LOG` wins over `default_filter` (the configured
/// `log_level`, or the command's default).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    let installed = if json_wanted() {
        // One JSON object per line; a job's span fields (uuid, class, queue, attempt) ride
        // along in "span", so the journal can be filtered by them.
        registry
            .with(fmt::layer().json().with_current_span(true).with_span_list(false).with_writer(std::io::stderr))
            .try_init()
    } else {
        registry.with(fmt::layer().with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr)).try_init()
    };
    if installed.is_ok() {
        let _ = FILTER.set(handle);
    }
}

/// Replaces the log filter of the running process (SIGHUP re-reads `log_level`). `RUST_LOG`,
/// when set, stays in force: the environment of a running process does not change.
/// Returns the filter now in force.
pub fn set_level(directives: &str) -> Result<String, String> {
    if let Ok(env) = std::env::var(EnvFilter::DEFAULT_ENV)
        && !env.trim().is_empty()
    {
        return Ok(format!("{env} (RUST_LOG)"));
    }
    let filter = EnvFilter::try_new(directives).map_err(|e| format!("invalid log_level {directives:?}: {e}"))?;
    let handle = FILTER.get().ok_or("logging is not initialised")?;
    handle.reload(filter).map_err(|e| e.to_string())?;
    Ok(directives.to_string())
}

/// JSON when `CV_WORKER_LOG_FORMAT=json`, text when `=text`; otherwise JSON exactly when
/// stderr is the systemd journal (`JOURNAL_STREAM` names stderr's `device:inode`).
fn json_wanted() -> bool {
    match std::env::var("CV_WORKER_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => stderr_is_journal(),
    }
}

fn stderr_is_journal() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(stream) = std::env::var("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = stream.split_once(':') else { return false };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else { return false };
    let Ok(meta) = std::fs::File::from(fd).metadata() else { return false };
    dev.parse::<u64>().is_ok_and(|d| d == meta.dev()) && ino.parse::<u64>().is_ok_and(|i| i == meta.ino())
}
